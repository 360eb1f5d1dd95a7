/* bundle_sign.c - emg_bundle_sign: add or replace one key's signature. */
#include "bundle/bundle.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "bundle/archive.h"
#include "bundle/bundle_walk.h"
#include "fileio.h"
#include "keys/keys.h"
#include "timefmt.h"

typedef struct sign_ctx {
	const emg_seckey *sk;
	char keyid[EMG_KEYID_HEX_LEN];
	const uint8_t *cert;
	size_t cert_len;
	const uint8_t *cert_sig;
	size_t cert_sig_len;
	emg_tar_writer *w;
} sign_ctx;

static int cmp_kept(const void *a, const void *b)
{
	return strcmp(((const emg_kept *)a)->name, ((const emg_kept *)b)->name);
}

/* The old signature layer without this key's three members. */
static int keep_others(const emg_kept_list *in, const char *keyid, emg_kept_list *out,
		       emg_err *err)
{
	char mine[3][64];
	size_t i;

	snprintf(mine[0], sizeof mine[0], "sig/%s.minisig", keyid);
	snprintf(mine[1], sizeof mine[1], "keys/%s.cert", keyid);
	snprintf(mine[2], sizeof mine[2], "keys/%s.cert.minisig", keyid);
	for (i = 0; i < in->count; i++) {
		const char *n = in->v[i].name;
		if (strcmp(n, mine[0]) == 0 || strcmp(n, mine[1]) == 0 || strcmp(n, mine[2]) == 0)
			continue;
		if (emg_kept_add(out, n, in->v[i].data, in->v[i].len, err) != EMG_OK)
			return err->code;
	}
	return EMG_OK;
}

static int add_mine(sign_ctx *c, const emg_walk *w, emg_kept_list *out, emg_err *err)
{
	char name[64], trusted[128], created[EMG_TIME_LEN];
	char *sig = NULL;
	size_t sig_len = 0;
	int rc;

	emg_time_format(w->manifest.created, created);
	/* No timestamp of the signing moment: signing the same manifest with
	 * the same key gives the same bytes (Ed25519 is deterministic). */
	snprintf(trusted, sizeof trusted, "emgap-manifest sequence:%llu created:%s",
		 (unsigned long long)w->manifest.sequence, created);
	rc = emg_sign(c->sk, (const uint8_t *)w->manifest_text, w->manifest_len, NULL, trusted, &sig,
		      &sig_len, err);
	if (rc != EMG_OK)
		return rc;
	snprintf(name, sizeof name, "sig/%s.minisig", c->keyid);
	rc = emg_kept_add(out, name, sig, sig_len, err);
	free(sig);
	snprintf(name, sizeof name, "keys/%s.cert", c->keyid);
	if (rc == EMG_OK)
		rc = emg_kept_add(out, name, c->cert, c->cert_len, err);
	snprintf(name, sizeof name, "keys/%s.cert.minisig", c->keyid);
	if (rc == EMG_OK)
		rc = emg_kept_add(out, name, c->cert_sig, c->cert_sig_len, err);
	return rc;
}

/* Once the old signature layer is read: write manifest and the new layer. */
static int sign_on_sigs(emg_walk *w, emg_err *err)
{
	sign_ctx *c = w->ctx;
	emg_kept_list layer = {0};
	size_t i;
	int rc;

	rc = keep_others(&w->sigl, c->keyid, &layer, err);
	if (rc == EMG_OK)
		rc = add_mine(c, w, &layer, err);
	if (rc == EMG_OK) {
		qsort(layer.v, layer.count, sizeof *layer.v, cmp_kept);
		rc = emg_tar_create(w->path, w->manifest.created, &c->w, err);
	}
	if (rc == EMG_OK)
		rc = emg_tar_add(c->w, "manifest", w->manifest_text, w->manifest_len, err);
	for (i = 0; rc == EMG_OK && i < layer.count; i++)
		rc = emg_tar_add(c->w, layer.v[i].name, layer.v[i].data, layer.v[i].len, err);
	emg_kept_free(&layer);
	return rc;
}

static int sign_on_begin(emg_walk *w, const char *name, uint64_t size, emg_err *err)
{
	sign_ctx *c = w->ctx;
	return emg_tar_begin(c->w, name, size, err);
}

static int sign_on_data(emg_walk *w, const void *buf, size_t len, emg_err *err)
{
	sign_ctx *c = w->ctx;
	return emg_tar_write(c->w, buf, len, err);
}

/* The certificate must be for this very key, or the bundle would carry a
 * signature nobody can ever count. */
static int check_cert(const sign_ctx *c, const char *cert_path, emg_err *err)
{
	emg_cert cert;
	char cid[EMG_KEYID_HEX_LEN];

	if (emg_cert_parse((const char *)c->cert, c->cert_len, &cert, err) != EMG_OK)
		return emg_err_prefix(err, "%s", cert_path);
	if (memcmp(cert.key.keynum, c->sk->keynum, EMG_KEYNUM_LEN) != 0) {
		emg_keyid_hex(cert.key.keynum, cid);
		return emg_fail(err, EMG_ECONFIG, "%s: certifies key %s, but the secret key is %s",
				cert_path, cid, c->keyid);
	}
	return EMG_OK;
}

static int sign_walk(const char *bundle_path, sign_ctx *c, emg_err *err)
{
	emg_walk w;
	int rc;

	memset(&w, 0, sizeof w);
	w.path = bundle_path;
	emg_bundle_limits_default(&w.lim);
	w.ctx = c;
	w.on_sigs = sign_on_sigs;
	w.on_begin = sign_on_begin;
	w.on_data = sign_on_data;
	rc = emg_walk_run(&w, err);
	if (rc == EMG_OK && c->w != NULL) {
		rc = emg_tar_commit(c->w, err);
		c->w = NULL;
	}
	emg_tar_abort(c->w);
	c->w = NULL;
	emg_walk_free(&w);
	return rc;
}

/* Signing rewrites the whole bundle from its old bytes. Two signers at once
 * would each start from the same old bytes and one signature would be
 * lost, and the temporary file an interrupted sign left may be removed
 * only while no other sign is writing one. So a sign holds an exclusive
 * lock on the bundle file from reading it to renaming the new one over it.
 * The lock belongs to the inode: when a finished signer has renamed a new
 * file over the path in the meantime, the new one is locked instead. On a
 * file system that cannot lock (some network shares) the sign goes on
 * unlocked, as before, with *fd -1 and no sweep of temporaries. */
static int lock_bundle(const char *path, int *fd, emg_err *err)
{
	struct stat held, now;
	int tries, e;

	for (tries = 0; tries < 100; tries++) {
		*fd = open(path, O_RDONLY | O_CLOEXEC);
		if (*fd < 0)
			return emg_fail(err, EMG_EIO, "%s: %s", path, strerror(errno));
		if (flock(*fd, LOCK_EX | LOCK_NB) != 0) {
			e = errno;
			close(*fd);
			*fd = -1;
			if (e == EWOULDBLOCK)
				return emg_fail(err, EMG_EBUSY,
						"%s: another emgap-bundle sign is working on it; try again", path);
			if (e == ENOLCK || e == EBADF || e == EOPNOTSUPP || e == EINVAL)
				return EMG_OK;
			return emg_fail(err, EMG_EIO, "%s: lock: %s", path, strerror(e));
		}
		if (fstat(*fd, &held) == 0 && stat(path, &now) == 0 && held.st_dev == now.st_dev &&
		    held.st_ino == now.st_ino)
			return EMG_OK;
		close(*fd);
		*fd = -1;
	}
	return emg_fail(err, EMG_EBUSY, "%s: keeps being replaced while signing; try again", path);
}

int emg_bundle_sign(const char *bundle_path, const char *secret_key_path,
		    const char *passphrase, const char *cert_path, emg_err *err)
{
	char sig_path[PATH_MAX];
	uint8_t *cert = NULL, *cert_sig = NULL;
	size_t cert_len = 0, cert_sig_len = 0;
	emg_seckey sk;
	sign_ctx c;
	int rc, lock = -1;

	memset(&c, 0, sizeof c);
	memset(&sk, 0, sizeof sk);
	snprintf(sig_path, sizeof sig_path, "%s.minisig", cert_path);
	rc = emg_read_file(cert_path, EMG_SIGLAYER_MEMBER_MAX, EMG_ECONFIG, &cert, &cert_len, err);
	if (rc == EMG_OK)
		rc = emg_read_file(sig_path, EMG_SIGLAYER_MEMBER_MAX, EMG_ECONFIG, &cert_sig,
				   &cert_sig_len, err);
	if (rc == EMG_OK)
		rc = emg_seckey_load(secret_key_path, passphrase, &sk, err);
	if (rc == EMG_OK) {
		emg_keyid_hex(sk.keynum, c.keyid);
		c.sk = &sk;
		c.cert = cert;
		c.cert_len = cert_len;
		c.cert_sig = cert_sig;
		c.cert_sig_len = cert_sig_len;
		rc = check_cert(&c, cert_path, err);
	}
	if (rc == EMG_OK)
		rc = lock_bundle(bundle_path, &lock, err);
	/* Under the lock, temporaries of this bundle are an interrupted sign's. */
	if (rc == EMG_OK && lock >= 0)
		rc = emg_clean_stale_tmp_for(bundle_path, err);
	if (rc == EMG_OK)
		rc = sign_walk(bundle_path, &c, err);
	if (lock >= 0)
		close(lock); /* releases the lock */
	emg_seckey_wipe(&sk);
	free(cert);
	free(cert_sig);
	return rc;
}
