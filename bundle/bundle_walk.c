/* bundle_walk.c - the one streaming pass over a bundle. */
#include "bundle/bundle_walk.h"

#include <ctype.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bundle/archive.h"
#include "sysio.h"

static int keyid_at(const char *s)
{
	size_t i;

	for (i = 0; i < 16; i++)
		if (!(isdigit((unsigned char)s[i]) || (s[i] >= 'A' && s[i] <= 'F')))
			return 0;
	return 1;
}

static int is_exact(const char *s, const char *prefix, int keyid, const char *suffix)
{
	size_t pl = strlen(prefix);

	if (strncmp(s, prefix, pl) != 0)
		return 0;
	s += pl;
	if (keyid) {
		if (strlen(s) < 16 || !keyid_at(s))
			return 0;
		s += 16;
	}
	return strcmp(s, suffix) == 0;
}

/* rotation/<V>.roots or rotation/<V>.<KEYID>.minisig */
static int rotation_name(const char *s)
{
	if (strncmp(s, "rotation/", 9) != 0)
		return 0;
	s += 9;
	if (!isdigit((unsigned char)*s) || *s == '0')
		return 0;
	while (isdigit((unsigned char)*s))
		s++;
	return strcmp(s, ".roots") == 0 || (s[0] == '.' && is_exact(s + 1, "", 1, ".minisig"));
}

int emg_siglayer_name(const char *name)
{
	return is_exact(name, "sig/", 1, ".minisig") || is_exact(name, "keys/", 1, ".cert") ||
	       is_exact(name, "keys/", 1, ".cert.minisig") || rotation_name(name);
}

const emg_kept *emg_kept_find(const emg_kept_list *l, const char *name)
{
	size_t i;

	for (i = 0; i < l->count; i++)
		if (strcmp(l->v[i].name, name) == 0)
			return &l->v[i];
	return NULL;
}

static int kept_reserve(emg_kept_list *l, const char *name, size_t len, emg_kept **out,
			emg_err *err)
{
	emg_kept *k;

	if (l->count == l->cap) {
		size_t ncap = l->cap ? l->cap * 2 : 8;
		emg_kept *nv = emg_realloc(l->v, ncap * sizeof *nv);
		if (nv == NULL)
			return emg_fail(err, EMG_EIO, "out of memory");
		l->v = nv;
		l->cap = ncap;
	}
	k = &l->v[l->count];
	k->name = strdup(name);
	k->data = emg_malloc(len + 1);
	k->len = len;
	if (k->name == NULL || k->data == NULL) {
		free(k->name);
		free(k->data);
		return emg_fail(err, EMG_EIO, "out of memory");
	}
	k->data[len] = '\0';
	l->count++;
	*out = k;
	return EMG_OK;
}

int emg_kept_add(emg_kept_list *l, const char *name, const void *data, size_t len, emg_err *err)
{
	emg_kept *k;

	if (kept_reserve(l, name, len, &k, err) != EMG_OK)
		return err->code;
	if (len > 0)
		memcpy(k->data, data, len);
	return EMG_OK;
}

void emg_kept_free(emg_kept_list *l)
{
	size_t i;

	for (i = 0; i < l->count; i++) {
		free(l->v[i].name);
		free(l->v[i].data);
	}
	free(l->v);
	memset(l, 0, sizeof *l);
}

void emg_walk_free(emg_walk *w)
{
	free(w->manifest_text);
	w->manifest_text = NULL;
	emg_manifest_free(&w->manifest);
	emg_kept_free(&w->sigl);
	emg_kept_free(&w->kept);
}

/* Reads the current member whole into k (its size is already bounded). */
static int slurp(emg_tar_reader *r, emg_kept *k, emg_err *err)
{
	size_t used = 0;

	for (;;) {
		const void *buf;
		size_t n;
		if (emg_tar_read(r, &buf, &n, err) != EMG_OK)
			return err->code;
		if (n == 0)
			break;
		memcpy(k->data + used, buf, n); /* emg_tar_read keeps n within the size */
		used += n;
	}
	return EMG_OK;
}

static int read_manifest(emg_walk *w, emg_tar_reader *r, emg_err *err)
{
	emg_kept_list tmp = {0};
	emg_kept *k;
	const char *name;
	uint64_t size;
	int rc;

	if (emg_tar_next(r, &name, &size, err) != EMG_OK)
		return err->code;
	if (name == NULL)
		return emg_fail(err, EMG_EVERIFY, "%s: empty archive (no manifest)", w->path);
	if (strcmp(name, "manifest") != 0)
		return emg_fail(err, EMG_EVERIFY, "%s: first member is '%s', not 'manifest'", w->path, name);
	if (size > w->lim.manifest_max)
		return emg_fail(err, EMG_EVERIFY, "%s: manifest larger than the limit of %llu bytes",
				w->path, (unsigned long long)w->lim.manifest_max);
	rc = kept_reserve(&tmp, name, (size_t)size, &k, err);
	if (rc == EMG_OK)
		rc = slurp(r, k, err);
	if (rc == EMG_OK) {
		w->manifest_text = (char *)k->data;
		w->manifest_len = k->len;
		k->data = NULL;
		rc = emg_manifest_parse(w->manifest_text, w->manifest_len,
					(size_t)w->lim.member_count_max, &w->manifest, err);
		if (rc != EMG_OK)
			emg_err_prefix(err, "%s", w->path);
	}
	emg_kept_free(&tmp);
	return rc;
}

static int read_siglayer(emg_walk *w, emg_tar_reader *r, const char *name, uint64_t size,
			 emg_err *err)
{
	emg_kept *k;

	if (emg_kept_find(&w->sigl, name) != NULL)
		return emg_fail(err, EMG_EVERIFY, "%s: duplicate member '%s'", w->path, name);
	if (size > EMG_SIGLAYER_MEMBER_MAX)
		return emg_fail(err, EMG_EVERIFY, "%s: member '%s' larger than the limit of %u bytes",
				w->path, name, EMG_SIGLAYER_MEMBER_MAX);
	/* Many small members must not add up to a memory bomb either. */
	if (size > EMG_SIGLAYER_TOTAL_MAX - w->sigl_bytes)
		return emg_fail(err, EMG_EVERIFY, "%s: signature members exceed the limit of %u bytes",
				w->path, EMG_SIGLAYER_TOTAL_MAX);
	w->sigl_bytes += (size_t)size;
	if (kept_reserve(&w->sigl, name, (size_t)size, &k, err) != EMG_OK)
		return err->code;
	return slurp(r, k, err);
}

static int is_kept_payload(const char *name)
{
	return strncmp(name, "extra/", 6) != 0;
}

typedef struct payload {
	EVP_MD *sha256; /* fetched once per walk: no algorithm lookup per member */
	EVP_MD_CTX *md; /* reset for each member */
	uint8_t *seen; /* one flag per manifest file */
	uint64_t kept_total;
} payload;

static int read_payload(emg_walk *w, emg_tar_reader *r, payload *p, const char *name,
			uint64_t size, emg_err *err)
{
	const emg_manifest_file *f;
	emg_kept *k = NULL;
	uint8_t digest[32];
	uint64_t used = 0;
	long i = emg_manifest_find(&w->manifest, name);

	if (i < 0)
		return emg_fail(err, EMG_EVERIFY, "%s: member '%s' is not in the manifest", w->path, name);
	f = &w->manifest.files[i];
	if (p->seen[i])
		return emg_fail(err, EMG_EVERIFY, "%s: duplicate member '%s'", w->path, name);
	p->seen[i] = 1;
	if (size != f->size)
		return emg_fail(err, EMG_EVERIFY, "%s: member '%s' is %llu bytes, the manifest says %llu",
				w->path, name, (unsigned long long)size, (unsigned long long)f->size);
	if (w->keep_payload && is_kept_payload(name)) {
		if (size > w->lim.keep_max - p->kept_total)
			return emg_fail(err, EMG_EVERIFY,
					"%s: feed and PKI members exceed the limit of %llu bytes (at '%s')",
					w->path, (unsigned long long)w->lim.keep_max, name);
		p->kept_total += size;
		if (kept_reserve(&w->kept, name, (size_t)size, &k, err) != EMG_OK)
			return err->code;
	}
	if (w->on_begin && w->on_begin(w, name, size, err) != EMG_OK)
		return err->code;
	if (EVP_DigestInit_ex(p->md, p->sha256, NULL) != 1)
		return emg_fail(err, EMG_EIO, "SHA-256 unavailable");
	for (;;) {
		const void *buf;
		size_t n;
		if (emg_tar_read(r, &buf, &n, err) != EMG_OK)
			return err->code;
		if (n == 0)
			break;
		if (EVP_DigestUpdate(p->md, buf, n) != 1)
			return emg_fail(err, EMG_EIO, "SHA-256 unavailable");
		if (k != NULL)
			memcpy(k->data + used, buf, n);
		used += n;
		if (w->on_data && w->on_data(w, buf, n, err) != EMG_OK)
			return err->code;
	}
	if (EVP_DigestFinal_ex(p->md, digest, NULL) != 1)
		return emg_fail(err, EMG_EIO, "SHA-256 unavailable");
	if (memcmp(digest, f->sha256, 32) != 0)
		return emg_fail(err, EMG_EVERIFY, "%s: member '%s' does not match its SHA-256 in the manifest",
				w->path, name);
	return w->on_end ? w->on_end(w, err) : EMG_OK;
}

static int check_all_seen(emg_walk *w, const payload *p, emg_err *err)
{
	size_t i;

	for (i = 0; i < w->manifest.count; i++)
		if (!p->seen[i])
			return emg_fail(err, EMG_EVERIFY,
					"%s: member '%s' of the manifest is missing (truncated bundle?)",
					w->path, w->manifest.files[i].path);
	return EMG_OK;
}

static int walk_members(emg_walk *w, emg_tar_reader *r, payload *p, emg_err *err)
{
	int sigs_done = 0;

	for (;;) {
		const char *name;
		uint64_t size;

		if (emg_tar_next(r, &name, &size, err) != EMG_OK)
			return err->code;
		if (name != NULL && emg_siglayer_name(name)) {
			if (sigs_done)
				return emg_fail(err, EMG_EVERIFY, "%s: '%s' comes after the payload", w->path,
						name);
			if (read_siglayer(w, r, name, size, err) != EMG_OK)
				return err->code;
			continue;
		}
		if (name != NULL && strcmp(name, "manifest") == 0)
			return emg_fail(err, EMG_EVERIFY, "%s: duplicate member 'manifest'", w->path);
		if (!sigs_done) {
			sigs_done = 1;
			if (w->on_sigs && w->on_sigs(w, err) != EMG_OK)
				return err->code;
		}
		if (name == NULL)
			break;
		if (read_payload(w, r, p, name, size, err) != EMG_OK)
			return err->code;
	}
	if (check_all_seen(w, p, err) != EMG_OK)
		return err->code;
	emg_tar_file_sha256(r, w->file_sha256);
	return EMG_OK;
}

int emg_walk_run(emg_walk *w, emg_err *err)
{
	emg_tar_reader *r = NULL;
	payload p = {0};
	int rc;

	rc = emg_tar_open(w->path, &w->lim, &r, err);
	if (rc != EMG_OK)
		return rc;
	rc = read_manifest(w, r, err);
	if (rc == EMG_OK) {
		p.sha256 = EVP_MD_fetch(NULL, "SHA256", NULL);
		p.md = EVP_MD_CTX_new();
		p.seen = calloc(w->manifest.count, 1);
		if (p.sha256 == NULL)
			rc = emg_fail(err, EMG_EIO, "SHA-256 unavailable");
		else if (p.md == NULL || p.seen == NULL)
			rc = emg_fail(err, EMG_EIO, "out of memory");
	}
	if (rc == EMG_OK)
		rc = walk_members(w, r, &p, err);
	EVP_MD_CTX_free(p.md);
	EVP_MD_free(p.sha256);
	free(p.seen);
	emg_tar_close(r);
	return rc;
}
