/* bundle_create.c - emg_bundle_create: a deterministic bundle from a feed,
 * a PKI snapshot directory and optional extras. */
#include "bundle/bundle.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "bundle/archive.h"
#include "bundle/bundle_walk.h"
#include "bundle/manifest.h"
#include "bundle/rotation.h"
#include "fileio.h"
#include "keys/keys.h"
#include "sysio.h"

#define COPY_CHUNK (256u * 1024)

typedef struct source_file {
	char name[EMG_MEMBER_PATH_MAX + 1]; /* member name */
	char path[PATH_MAX];                /* where it is read from */
	uint64_t size;
	uint8_t sha256[32];
} source_file;

typedef struct source_list {
	source_file *v;
	size_t count;
	size_t cap;
} source_list;

/* Streams path through SHA-256; with w, also into the archive (then the
 * digest and size must still match what the manifest says). */
static int hash_file(const char *path, emg_tar_writer *w, uint64_t *size, uint8_t out[32],
		     uint8_t *buf, emg_err *err)
{
	EVP_MD_CTX *md = EVP_MD_CTX_new();
	struct stat st;
	uint64_t total = 0;
	ssize_t n;
	int fd, rc = EMG_OK;

	if (md == NULL || EVP_DigestInit_ex(md, EVP_sha256(), NULL) != 1) {
		EVP_MD_CTX_free(md);
		return emg_fail(err, EMG_EIO, "SHA-256 unavailable");
	}
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0 || fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
		rc = emg_fail(err, EMG_EIO, "%s: %s", path, fd < 0 ? strerror(errno) : "not a regular file");
		goto out;
	}
	while ((n = read(fd, buf, COPY_CHUNK)) != 0) {
		if (n < 0) {
			if (errno == EINTR)
				continue;
			rc = emg_fail(err, EMG_EIO, "%s: %s", path, strerror(errno));
			goto out;
		}
		EVP_DigestUpdate(md, buf, (size_t)n);
		total += (uint64_t)n;
		if (w != NULL && (total > *size || emg_tar_write(w, buf, (size_t)n, err) != EMG_OK)) {
			rc = total > *size ? emg_fail(err, EMG_EIO, "%s: changed while bundling", path)
					   : err->code;
			goto out;
		}
	}
	if (w == NULL) {
		*size = total;
		EVP_DigestFinal_ex(md, out, NULL);
	} else {
		uint8_t again[32];
		EVP_DigestFinal_ex(md, again, NULL);
		if (total != *size || memcmp(again, out, 32) != 0)
			rc = emg_fail(err, EMG_EIO, "%s: changed while bundling", path);
	}
out:
	if (fd >= 0)
		close(fd);
	EVP_MD_CTX_free(md);
	return rc;
}

static int add_source(source_list *l, const char *name, const char *path, emg_err *err)
{
	source_file *f;

	if (!emg_payload_path_allowed(name))
		return emg_fail(err, EMG_ECONFIG, "%s: cannot be carried as '%s' (name not allowed)", path,
				name);
	if (l->count == l->cap) {
		size_t ncap = l->cap ? l->cap * 2 : 16;
		source_file *nv = emg_realloc(l->v, ncap * sizeof *nv);
		if (nv == NULL)
			return emg_fail(err, EMG_EIO, "out of memory");
		l->v = nv;
		l->cap = ncap;
	}
	f = &l->v[l->count];
	memset(f, 0, sizeof *f);
	if (snprintf(f->name, sizeof f->name, "%s", name) >= (int)sizeof f->name ||
	    snprintf(f->path, sizeof f->path, "%s", path) >= (int)sizeof f->path)
		return emg_fail(err, EMG_ECONFIG, "%s: name too long", path);
	l->count++;
	return EMG_OK;
}

/* Adds every file of dir as prefix/NAME. A missing dir is an empty one
 * unless required; subdirectories and hidden files are refused, since a
 * snapshot that holds them is not what the operator thinks it is. */
static int add_dir(source_list *l, const char *dir, const char *prefix, int required,
		   emg_err *err)
{
	DIR *d = opendir(dir);
	struct dirent *de;
	int rc = EMG_OK;

	if (d == NULL) {
		if (errno == ENOENT && !required)
			return EMG_OK;
		return emg_fail(err, EMG_EIO, "%s: %s", dir, strerror(errno));
	}
	while (rc == EMG_OK && (de = readdir(d)) != NULL) {
		char name[EMG_MEMBER_PATH_MAX + 64], path[PATH_MAX];
		if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
			continue;
		snprintf(name, sizeof name, "%s/%s", prefix, de->d_name);
		if (snprintf(path, sizeof path, "%s/%s", dir, de->d_name) >= (int)sizeof path)
			rc = emg_fail(err, EMG_ECONFIG, "%s/%s: path too long", dir, de->d_name);
		else
			rc = add_source(l, name, path, err);
	}
	closedir(d);
	return rc;
}

static int cmp_source(const void *a, const void *b)
{
	return strcmp(((const source_file *)a)->name, ((const source_file *)b)->name);
}

/* The snapshot directory's crl/ and ctl/ (either may be absent). */
static int collect_pki(const char *pki_dir, source_list *l, emg_err *err)
{
	char dir[PATH_MAX];

	snprintf(dir, sizeof dir, "%s/crl", pki_dir);
	if (add_dir(l, dir, "pki/crl", 0, err) != EMG_OK)
		return err->code;
	snprintf(dir, sizeof dir, "%s/ctl", pki_dir);
	return add_dir(l, dir, "pki/ctl", 0, err);
}

static int collect_sources(const emg_bundle_create_opts *o, source_list *l, emg_err *err)
{
	size_t i;

	if (add_source(l, EMG_BUNDLE_FEED_MEMBER, o->feed_path, err) != EMG_OK)
		return err->code;
	/* No snapshot at all is allowed: the verifier's policy decides
	 * whether a feed without CRLs is enough. */
	if (o->pki_dir != NULL && collect_pki(o->pki_dir, l, err) != EMG_OK)
		return err->code;
	if (o->extra_dir != NULL && add_dir(l, o->extra_dir, "extra", 1, err) != EMG_OK)
		return err->code;
	qsort(l->v, l->count, sizeof *l->v, cmp_source);
	for (i = 1; i < l->count; i++)
		if (strcmp(l->v[i - 1].name, l->v[i].name) == 0)
			return emg_fail(err, EMG_ECONFIG, "'%s' would be in the bundle twice", l->v[i].name);
	return EMG_OK;
}

/* The rotation members: rotation/<V>.roots and rotation/<V>.<KEYID>.minisig,
 * checked for form here (their signatures are judged by the verifier,
 * against roots this host may not have). */
static int collect_rotation(const emg_bundle_create_opts *o, emg_kept_list *out, emg_err *err)
{
	emg_root_set set;
	uint8_t *buf;
	size_t len, i;
	char name[96];
	int rc;

	if (o->rotation == NULL)
		return EMG_OK;
	if (o->rotation_sig_count == 0)
		return emg_fail(err, EMG_ECONFIG, "%s: a root rotation needs signatures", o->rotation);
	rc = emg_read_file(o->rotation, EMG_ROOT_SET_MAX, EMG_ECONFIG, &buf, &len, err);
	if (rc != EMG_OK)
		return rc;
	rc = emg_root_set_parse(o->rotation, (const char *)buf, len, &set, err);
	snprintf(name, sizeof name, "rotation/%llu.roots", (unsigned long long)set.version);
	if (rc == EMG_OK)
		rc = emg_kept_add(out, name, buf, len, err);
	free(buf);
	for (i = 0; rc == EMG_OK && i < o->rotation_sig_count; i++) {
		emg_signature sig;
		char id[EMG_KEYID_HEX_LEN];
		rc = emg_read_file(o->rotation_sigs[i], EMG_SIGLAYER_MEMBER_MAX, EMG_ECONFIG, &buf, &len,
				   err);
		if (rc != EMG_OK)
			break;
		rc = emg_signature_parse((const char *)buf, len, &sig, err);
		if (rc == EMG_OK) {
			emg_keyid_hex(sig.keynum, id);
			snprintf(name, sizeof name, "rotation/%llu.%s.minisig",
				 (unsigned long long)set.version, id);
			rc = emg_kept_find(out, name) ? emg_fail(err, EMG_ECONFIG, "%s: a second signature by %s",
								  o->rotation_sigs[i], id)
						      : emg_kept_add(out, name, buf, len, err);
		} else {
			emg_err_prefix(err, "%s", o->rotation_sigs[i]);
		}
		free(buf);
	}
	return rc;
}

static int cmp_kept(const void *a, const void *b)
{
	return strcmp(((const emg_kept *)a)->name, ((const emg_kept *)b)->name);
}

static int build_manifest(const emg_bundle_create_opts *o, const source_list *l, char **text,
			  size_t *len, emg_err *err)
{
	emg_manifest m, check;
	size_t i;
	int rc;

	memset(&m, 0, sizeof m);
	m.sequence = o->sequence;
	m.created = o->created;
	m.expires = o->expires;
	m.fetched = o->fetched;
	m.source = (char *)(o->source ? o->source : "https://officeclient.microsoft.com/GetExchangeMitigations");
	m.count = l->count;
	m.files = calloc(l->count, sizeof *m.files);
	if (m.files == NULL)
		return emg_fail(err, EMG_EIO, "out of memory");
	for (i = 0; i < l->count; i++) {
		m.files[i].path = (char *)l->v[i].name;
		m.files[i].size = l->v[i].size;
		memcpy(m.files[i].sha256, l->v[i].sha256, 32);
	}
	rc = emg_manifest_format(&m, text, len, err);
	free(m.files);
	if (rc != EMG_OK)
		return rc;
	/* What create writes must be what verify reads: prove it now. */
	rc = emg_manifest_parse(*text, *len, SIZE_MAX, &check, err);
	if (rc == EMG_OK)
		emg_manifest_free(&check);
	else {
		free(*text);
		*text = NULL;
	}
	return rc;
}

static int write_bundle(const emg_bundle_create_opts *o, const source_list *l,
			const emg_kept_list *rot, const char *manifest, size_t mlen, uint8_t *buf,
			emg_err *err)
{
	emg_tar_writer *w;
	size_t i;

	if (emg_tar_create(o->out_path, o->created, &w, err) != EMG_OK)
		return err->code;
	if (emg_tar_add(w, "manifest", manifest, mlen, err) != EMG_OK)
		goto fail;
	for (i = 0; i < rot->count; i++)
		if (emg_tar_add(w, rot->v[i].name, rot->v[i].data, rot->v[i].len, err) != EMG_OK)
			goto fail;
	for (i = 0; i < l->count; i++) {
		source_file *f = &l->v[i];
		if (emg_tar_begin(w, f->name, f->size, err) != EMG_OK ||
		    hash_file(f->path, w, &f->size, f->sha256, buf, err) != EMG_OK)
			goto fail;
	}
	return emg_tar_commit(w, err);
fail:
	emg_tar_abort(w);
	return err->code;
}

int emg_bundle_create(const emg_bundle_create_opts *o, emg_err *err)
{
	emg_bundle_limits lim;
	source_list l = {0};
	emg_kept_list rot = {0};
	char *manifest = NULL;
	size_t mlen = 0, i;
	uint8_t *buf = malloc(COPY_CHUNK);
	int rc;

	emg_bundle_limits_default(&lim);
	if (buf == NULL)
		return emg_fail(err, EMG_EIO, "out of memory");
	if (o->feed_path == NULL || o->out_path == NULL)
		rc = emg_fail(err, EMG_EUSAGE, "bundle create needs a feed and an output path");
	else if (o->expires <= o->created)
		rc = emg_fail(err, EMG_EUSAGE, "--expires must be later than the creation time");
	else
		rc = collect_sources(o, &l, err);
	for (i = 0; rc == EMG_OK && i < l.count; i++) {
		rc = hash_file(l.v[i].path, NULL, &l.v[i].size, l.v[i].sha256, buf, err);
		if (rc == EMG_OK && l.v[i].size > lim.member_max)
			rc = emg_fail(err, EMG_ECONFIG, "%s: larger than the member limit", l.v[i].path);
		if (rc == EMG_OK && strcmp(l.v[i].name, EMG_BUNDLE_FEED_MEMBER) == 0 &&
		    l.v[i].size > EMG_FEED_MAX_BYTES)
			rc = emg_fail(err, EMG_ECONFIG, "%s: larger than the feed limit", l.v[i].path);
	}
	if (rc == EMG_OK)
		rc = collect_rotation(o, &rot, err);
	if (rc == EMG_OK && rot.count > 0)
		qsort(rot.v, rot.count, sizeof *rot.v, cmp_kept);
	if (rc == EMG_OK)
		rc = build_manifest(o, &l, &manifest, &mlen, err);
	if (rc == EMG_OK)
		rc = write_bundle(o, &l, &rot, manifest, mlen, buf, err);
	free(manifest);
	free(l.v);
	emg_kept_free(&rot);
	free(buf);
	return rc;
}
