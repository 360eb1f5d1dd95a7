/* bundle_verify.c - both trust layers, freshness, and extraction. */
#include "bundle/bundle.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "bundle/bundle_walk.h"
#include "bundle/rotation.h"
#include "bundle/state.h"
#include "bundle/trust.h"
#include "fileio.h"
#include "keys/keys.h"
#include "sysio.h"
#include "timefmt.h"

#define SIGNERS_MAX 64

/* Where extracted members go while the pass is still running. */
typedef struct stage {
	const char *dest;
	char dir[PATH_MAX];
	int fd;
	char path[PATH_MAX];
} stage;

typedef struct verify_ctx {
	const emg_trust *trust;
	time_t at;
	emg_seq_state seq;
	emg_root_set roots;
	const emg_kept *rotated_text; /* last root set applied from this bundle */
	emg_bundle_info *info;
	stage *stage; /* extraction only */
} verify_ctx;

const emg_bundle_limits *emg_trust_limits(const emg_trust *t)
{
	return &t->limits;
}

/* ---- root rotation ---------------------------------------------------- */

static int rotation_version(const char *name, uint64_t *v)
{
	char *end = NULL;

	if (strncmp(name, "rotation/", 9) != 0)
		return -1;
	errno = 0;
	*v = strtoull(name + 9, &end, 10);
	return (errno == 0 && end != NULL && strcmp(end, ".roots") == 0) ? 0 : -1;
}

static int collect_rotation_sigs(const emg_walk *w, uint64_t version, emg_text *sigs,
				 size_t *n)
{
	char prefix[48];
	size_t i, pl;

	snprintf(prefix, sizeof prefix, "rotation/%llu.", (unsigned long long)version);
	pl = strlen(prefix);
	*n = 0;
	for (i = 0; i < w->sigl.count && *n < EMG_TRUST_ROOTS_MAX * 2; i++) {
		const emg_kept *k = &w->sigl.v[i];
		size_t l = strlen(k->name);
		if (strncmp(k->name, prefix, pl) == 0 && l > 8 && strcmp(k->name + l - 8, ".minisig") == 0) {
			sigs[*n].name = k->name;
			sigs[*n].data = (const char *)k->data;
			sigs[*n].len = k->len;
			(*n)++;
		}
	}
	return 0;
}

/* Applies rotation/<V>.roots for V = current+1, +2, ... in order; a root
 * set further ahead than that is a skipped version and refused. */
static int apply_rotations(verify_ctx *c, const emg_walk *w, emg_err *err)
{
	size_t i;

	for (;;) {
		char name[48];
		emg_text text, sigs[EMG_TRUST_ROOTS_MAX * 2];
		emg_root_set next;
		const emg_kept *k;
		size_t n;

		snprintf(name, sizeof name, "rotation/%llu.roots", (unsigned long long)c->roots.version + 1);
		k = emg_kept_find(&w->sigl, name);
		if (k == NULL)
			break;
		text.name = k->name;
		text.data = (const char *)k->data;
		text.len = k->len;
		collect_rotation_sigs(w, c->roots.version + 1, sigs, &n);
		if (emg_root_set_next(&c->roots, &text, sigs, n, &next, err) != EMG_OK)
			return emg_err_prefix(err, "%s", w->path);
		c->roots = next;
		c->rotated_text = k;
	}
	for (i = 0; i < w->sigl.count; i++) {
		uint64_t v;
		if (rotation_version(w->sigl.v[i].name, &v) == 0 && v > c->roots.version)
			return emg_fail(err, EMG_EVERIFY,
					"%s: root rotation to version %llu skips version %llu", w->path,
					(unsigned long long)v, (unsigned long long)c->roots.version + 1);
	}
	return EMG_OK;
}

/* ---- organisation signatures ----------------------------------------- */

static int find_pair(const emg_walk *w, const char *keyid, const char *suffix, const emg_kept **k)
{
	char name[64];

	snprintf(name, sizeof name, "keys/%s%s", keyid, suffix);
	*k = emg_kept_find(&w->sigl, name);
	return *k != NULL;
}

/* Every keys/ member must belong to a sig/ member, and the other way round. */
static int build_signers(const emg_walk *w, emg_signer_input *in, size_t *n, emg_err *err)
{
	size_t i;

	*n = 0;
	for (i = 0; i < w->sigl.count; i++) {
		const char *name = w->sigl.v[i].name;
		char keyid[EMG_KEYID_HEX_LEN];
		const emg_kept *cert, *cert_sig;

		if (strncmp(name, "keys/", 5) == 0) {
			char sig[64];
			snprintf(sig, sizeof sig, "sig/%.16s.minisig", name + 5);
			if (emg_kept_find(&w->sigl, sig) == NULL)
				return emg_fail(err, EMG_EVERIFY, "%s: '%s' belongs to no signature", w->path,
						name);
			continue;
		}
		if (strncmp(name, "sig/", 4) != 0)
			continue;
		memcpy(keyid, name + 4, 16);
		keyid[16] = '\0';
		if (!find_pair(w, keyid, ".cert", &cert) || !find_pair(w, keyid, ".cert.minisig", &cert_sig))
			return emg_fail(err, EMG_EVERIFY, "%s: '%s' comes without keys/%s.cert and .cert.minisig",
					w->path, name, keyid);
		if (*n == SIGNERS_MAX)
			return emg_fail(err, EMG_EVERIFY, "%s: more than %d signatures", w->path, SIGNERS_MAX);
		in[*n].cert = (const char *)cert->data;
		in[*n].cert_len = cert->len;
		in[*n].cert_sig = (const char *)cert_sig->data;
		in[*n].cert_sig_len = cert_sig->len;
		in[*n].sig = (const char *)w->sigl.v[i].data;
		in[*n].sig_len = w->sigl.v[i].len;
		in[*n].label = name;
		(*n)++;
	}
	return EMG_OK;
}

static int check_signatures(verify_ctx *c, const emg_walk *w, emg_err *err)
{
	emg_signer_input in[SIGNERS_MAX];
	emg_signer_result res[SIGNERS_MAX];
	emg_roots roots;
	unsigned valid = 0;
	size_t n, i, j = 0;

	if (build_signers(w, in, &n, err) != EMG_OK)
		return err->code;
	if (n == 0)
		return emg_fail(err, EMG_EVERIFY, "%s: the bundle is not signed (needs %u signatures)",
				w->path, c->trust->threshold);
	roots.keys = c->roots.keys;
	roots.count = c->roots.count;
	if (emg_threshold_verify(&roots, in, n, (const uint8_t *)w->manifest_text, w->manifest_len,
				 c->trust->role, c->at, c->trust->threshold, res, &valid,
				 err) != EMG_OK)
		return emg_err_prefix(err, "%s", w->path);
	c->info->valid_signers = valid;
	for (i = 0; i < n && j < 16; i++)
		if (res[i].status == EMG_SIGNER_VALID)
			memcpy(c->info->signers[j++], res[i].keyid, EMG_KEYID_HEX_LEN);
	return EMG_OK;
}

/* ---- freshness -------------------------------------------------------- */

static int check_freshness(verify_ctx *c, const emg_walk *w, emg_err *err)
{
	const emg_manifest *m = &w->manifest;
	char t1[EMG_TIME_LEN], t2[EMG_TIME_LEN];
	uint64_t step = c->trust->limits.max_sequence_step;

	if (m->expires <= c->at) {
		emg_time_format(m->expires, t1);
		emg_time_format(c->at, t2);
		return emg_fail(err, EMG_EFRESH, "%s: bundle expired at %s (it is %s)", w->path, t1, t2);
	}
	if (!c->seq.present)
		return EMG_OK;
	c->info->had_previous = 1;
	c->info->previous_sequence = c->seq.sequence;
	if (m->sequence < c->seq.sequence)
		return emg_fail(err, EMG_EFRESH,
				"%s: rollback: sequence %llu is lower than %llu, the last accepted", w->path,
				(unsigned long long)m->sequence, (unsigned long long)c->seq.sequence);
	if (m->sequence == c->seq.sequence)
		c->info->nothing_new = 1;
	else if (m->sequence - c->seq.sequence > step)
		return emg_fail(err, EMG_EFRESH,
				"%s: fast-forward: sequence %llu is more than %llu ahead of %llu, the last accepted",
				w->path, (unsigned long long)m->sequence, (unsigned long long)step,
				(unsigned long long)c->seq.sequence);
	return EMG_OK;
}

static int verify_on_sigs(emg_walk *w, emg_err *err)
{
	verify_ctx *c = w->ctx;

	if (apply_rotations(c, w, err) != EMG_OK || check_signatures(c, w, err) != EMG_OK)
		return err->code;
	return check_freshness(c, w, err);
}

/* ---- vendor layer ----------------------------------------------------- */

static int check_feed(const verify_ctx *c, const emg_walk *w, emg_feed **feed, emg_err *err)
{
	const emg_trust *t = c->trust;
	const emg_kept *xml = emg_kept_find(&w->kept, EMG_BUNDLE_FEED_MEMBER);
	emg_blob *blobs;
	emg_vendor_policy pol;
	emg_pki_snapshot snap;
	size_t i, ncrl = 0, nctl = 0;
	int rc;

	if (xml == NULL)
		return emg_fail(err, EMG_EVERIFY, "%s: no %s", w->path, EMG_BUNDLE_FEED_MEMBER);
	blobs = calloc(w->kept.count + 1, sizeof *blobs);
	if (blobs == NULL)
		return emg_fail(err, EMG_EIO, "out of memory");
	/* CRLs first, then CTLs, each group in manifest (sorted) order. */
	for (i = 0; i < w->kept.count; i++)
		if (strncmp(w->kept.v[i].name, "pki/crl/", 8) == 0) {
			blobs[ncrl].name = w->kept.v[i].name;
			blobs[ncrl].data = w->kept.v[i].data;
			blobs[ncrl++].len = w->kept.v[i].len;
		}
	for (i = 0; i < w->kept.count; i++)
		if (strncmp(w->kept.v[i].name, "pki/ctl/", 8) == 0) {
			blobs[ncrl + nctl].name = w->kept.v[i].name;
			blobs[ncrl + nctl].data = w->kept.v[i].data;
			blobs[ncrl + nctl++].len = w->kept.v[i].len;
		}
	memset(&pol, 0, sizeof pol);
	pol.anchors_pem = t->anchors;
	pol.eku_oids = (const char **)t->ekus;
	pol.eku_count = t->eku_count;
	pol.subject = t->subject;
	pol.allow_missing_crl = t->allow_missing_crl;
	snap.crls = blobs;
	snap.crl_count = ncrl;
	snap.ctls = blobs + ncrl;
	snap.ctl_count = nctl;
	rc = emg_feed_verify(xml->data, xml->len, &pol, &snap, c->at, NULL, feed, err);
	if (rc != EMG_OK)
		emg_err_prefix(err, "%s: %s", w->path, EMG_BUNDLE_FEED_MEMBER);
	free(blobs);
	return rc;
}

/* ---- acceptance ------------------------------------------------------- */

/* The sequence file's part of acceptance. */
static int save_sequence(const char *state_dir, const emg_bundle_info *info, time_t at, emg_err *err)
{
	emg_seq_state st;

	if (info->nothing_new)
		return EMG_OK;
	memset(&st, 0, sizeof st);
	st.present = 1;
	st.sequence = info->sequence;
	st.accepted = at;
	snprintf(st.sha256, sizeof st.sha256, "%s", info->sha256);
	return emg_seq_state_save(state_dir, &st, err);
}

/* After fill_info: a new root set first, then the sequence. */
static int accept_bundle(const verify_ctx *c, const char *state_dir, emg_err *err)
{
	if (c->rotated_text != NULL &&
	    emg_root_state_save(state_dir, (const char *)c->rotated_text->data, c->rotated_text->len,
				err) != EMG_OK)
		return err->code;
	return save_sequence(state_dir, c->info, c->at, err);
}

int emg_bundle_accept(const char *state_dir, const emg_bundle_info *info, time_t at,
		      emg_err *err)
{
	if (info->rotated)
		return emg_fail(err, EMG_EUSAGE,
				"a bundle that rotates the root set is accepted only in its verifying pass");
	return save_sequence(state_dir, info, at, err);
}

static void fill_info(emg_bundle_info *info, const verify_ctx *c, const emg_walk *w)
{
	info->sequence = w->manifest.sequence;
	info->created = w->manifest.created;
	info->expires = w->manifest.expires;
	info->fetched = w->manifest.fetched;
	snprintf(info->source, sizeof info->source, "%s", w->manifest.source);
	emg_hex(w->file_sha256, 32, info->sha256);
	info->root_version = c->roots.version;
	info->rotated = c->rotated_text != NULL;
}

/* ---- extraction hooks ------------------------------------------------- */

static int stage_open(stage *s, const char *name, emg_err *err)
{
	char dir[PATH_MAX];

	if (snprintf(s->path, sizeof s->path, "%s/%s", s->dir, name) >= (int)sizeof s->path)
		return emg_fail(err, EMG_EIO, "%s/%s: path too long", s->dir, name);
	emg_dirname(s->path, dir, sizeof dir);
	if (emg_mkdir_p(dir, 0755, err) != EMG_OK)
		return err->code;
	/* Names are checked already; O_EXCL|O_NOFOLLOW still guards the write. */
	s->fd = open(s->path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0644);
	if (s->fd < 0)
		return emg_fail(err, EMG_EIO, "%s: %s", s->path, strerror(errno));
	return EMG_OK;
}

static int stage_write(stage *s, const void *buf, size_t len, emg_err *err)
{
	if (emg_write_all(s->fd, buf, len) != 0)
		return emg_fail(err, EMG_EIO, "%s: %s", s->path, strerror(errno));
	return EMG_OK;
}

static int stage_close(stage *s, emg_err *err)
{
	int rc = EMG_OK;

	if (s->fd < 0)
		return EMG_OK;
	if (emg_fsync(s->fd) != 0)
		rc = emg_fail(err, EMG_EIO, "%s: %s", s->path, strerror(errno));
	close(s->fd);
	s->fd = -1;
	return rc;
}

static int x_begin(emg_walk *w, const char *name, uint64_t size, emg_err *err)
{
	verify_ctx *c = w->ctx;
	(void)size;
	return stage_open(c->stage, name, err);
}

static int x_data(emg_walk *w, const void *buf, size_t len, emg_err *err)
{
	verify_ctx *c = w->ctx;
	return stage_write(c->stage, buf, len, err);
}

static int x_end(emg_walk *w, emg_err *err)
{
	verify_ctx *c = w->ctx;
	return stage_close(c->stage, err);
}

/* ---- the pass --------------------------------------------------------- */

static int publish(const char *staged, const char *dest, emg_err *err);

static int verify_pass(const char *bundle_path, const emg_trust *trust, const char *state_dir,
		       int accept, time_t at, stage *stg, emg_bundle_info *info, emg_feed **feed,
		       emg_err *err)
{
	emg_bundle_info scratch;
	verify_ctx c;
	emg_walk w;
	int rc;

	if (info == NULL)
		info = &scratch; /* the caller only wants the verdict */
	memset(&c, 0, sizeof c);
	memset(&w, 0, sizeof w);
	memset(info, 0, sizeof *info);
	if (feed != NULL)
		*feed = NULL;
	c.trust = trust;
	c.at = at;
	c.info = info;
	c.stage = stg;
	if (state_dir != NULL && (emg_seq_state_load(state_dir, &c.seq, err) != EMG_OK ||
				  emg_root_state_load(state_dir, trust, &c.roots, err) != EMG_OK))
		return err->code;
	if (state_dir == NULL)
		emg_root_set_from_trust(trust, &c.roots);
	w.path = bundle_path;
	w.lim = trust->limits;
	w.keep_payload = 1;
	w.ctx = &c;
	w.on_sigs = verify_on_sigs;
	if (stg != NULL) {
		w.on_begin = x_begin;
		w.on_data = x_data;
		w.on_end = x_end;
	}
	rc = emg_walk_run(&w, err);
	if (rc == EMG_OK)
		rc = check_feed(&c, &w, feed, err);
	if (rc == EMG_OK && stg != NULL) {
		/* The manifest goes along, so the extracted tree can be checked. */
		rc = stage_open(stg, "manifest", err);
		if (rc == EMG_OK)
			rc = stage_write(stg, w.manifest_text, w.manifest_len, err);
		if (rc == EMG_OK)
			rc = stage_close(stg, err);
		/* The state moves only once the files are where they belong. */
		if (rc == EMG_OK)
			rc = publish(stg->dir, stg->dest, err);
	}
	if (rc == EMG_OK) {
		fill_info(info, &c, &w);
		if (state_dir != NULL && accept)
			rc = accept_bundle(&c, state_dir, err);
	}
	if (rc != EMG_OK && feed != NULL && *feed != NULL) {
		emg_feed_free(*feed);
		*feed = NULL;
	}
	emg_walk_free(&w);
	return rc;
}

int emg_bundle_verify(const char *bundle_path, const emg_trust *trust, const char *state_dir,
		      int accept, time_t at, emg_bundle_info *info, emg_feed **feed, emg_err *err)
{
	return verify_pass(bundle_path, trust, state_dir, accept, at, NULL, info, feed, err);
}

/* ---- extraction ------------------------------------------------------- */

static int remove_tree(const char *path)
{
	struct stat st;
	DIR *d;
	struct dirent *de;

	if (lstat(path, &st) != 0)
		return -1;
	if (!S_ISDIR(st.st_mode))
		return unlink(path);
	d = opendir(path);
	if (d == NULL)
		return -1;
	while ((de = readdir(d)) != NULL) {
		char sub[PATH_MAX];
		if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
			continue;
		if (snprintf(sub, sizeof sub, "%s/%s", path, de->d_name) < (int)sizeof sub)
			remove_tree(sub);
	}
	closedir(d);
	return rmdir(path);
}

static int dir_is_empty(const char *dir, emg_err *err)
{
	DIR *d = opendir(dir);
	struct dirent *de;
	int empty = 1;

	if (d == NULL)
		return emg_fail(err, EMG_EIO, "%s: %s", dir, strerror(errno));
	while ((de = readdir(d)) != NULL)
		if (strcmp(de->d_name, ".") != 0 && strcmp(de->d_name, "..") != 0)
			empty = 0;
	closedir(d);
	return empty ? EMG_OK : emg_fail(err, EMG_EIO, "%s: not empty (extract wants an empty directory)", dir);
}

/* Moves the staged top-level entries into dest. */
static int publish(const char *staged, const char *dest, emg_err *err)
{
	DIR *d = opendir(staged);
	struct dirent *de;
	int rc = EMG_OK;

	if (d == NULL)
		return emg_fail(err, EMG_EIO, "%s: %s", staged, strerror(errno));
	while (rc == EMG_OK && (de = readdir(d)) != NULL) {
		char from[PATH_MAX], to[PATH_MAX];
		if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
			continue;
		snprintf(from, sizeof from, "%s/%s", staged, de->d_name);
		snprintf(to, sizeof to, "%s/%s", dest, de->d_name);
		if (emg_rename(from, to) != 0)
			rc = emg_fail(err, EMG_EIO, "%s: %s", to, strerror(errno));
	}
	closedir(d);
	return rc == EMG_OK ? emg_fsync_dir(dest, err) : rc;
}

int emg_bundle_extract(const char *bundle_path, const emg_trust *trust, const char *state_dir,
		       int accept, time_t at, const char *dest_dir, emg_bundle_info *info,
		       emg_err *err)
{
	stage stg;
	int rc;

	memset(&stg, 0, sizeof stg);
	stg.fd = -1;
	if (emg_mkdir_p(dest_dir, 0755, err) != EMG_OK || dir_is_empty(dest_dir, err) != EMG_OK)
		return err->code;
	if (snprintf(stg.dir, sizeof stg.dir, "%s/" EMG_TMP_PREFIX "extract.XXXXXX", dest_dir) >=
		    (int)sizeof stg.dir ||
	    mkdtemp(stg.dir) == NULL)
		return emg_fail(err, EMG_EIO, "%s: cannot create a staging directory", dest_dir);
	stg.dest = dest_dir;
	rc = verify_pass(bundle_path, trust, state_dir, accept, at, &stg, info, NULL, err);
	if (stg.fd >= 0)
		close(stg.fd);
	remove_tree(stg.dir);
	return rc;
}
