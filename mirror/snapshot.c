/* snapshot.c - a verified pass on disk: written under a temporary name,
 * synced, renamed, and only then named by `current`. */
#include "mirror/snapshot.h"

#include <dirent.h>
#include <errno.h>
#include <ftw.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fileio.h"
#include "sysio.h"
#include "timefmt.h"

int emg_mirror_join(char *out, size_t outlen, const char *a, const char *b, emg_err *err)
{
	if ((size_t)snprintf(out, outlen, "%s/%s", a, b) >= outlen)
		return emg_fail(err, EMG_ECONFIG, "%s/%s: path too long", a, b);
	return EMG_OK;
}

void emg_mirror_sha256_hex(const uint8_t *data, size_t len, char out[65])
{
	unsigned char md[32];
	unsigned int mdlen = 0;
	size_t i;

	EVP_Digest(data, len, md, &mdlen, EVP_sha256(), NULL);
	for (i = 0; i < 32; i++)
		snprintf(out + 2 * i, 3, "%02x", md[i]);
}

static int rm_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	return remove(path);
}

int emg_mirror_rmtree(const char *path, emg_err *err)
{
	if (access(path, F_OK) != 0)
		return EMG_OK;
	if (nftw(path, rm_entry, 16, FTW_DEPTH | FTW_PHYS) != 0)
		return emg_fail(err, EMG_EIO, "%s: cannot remove: %s", path, strerror(errno));
	return EMG_OK;
}

static void digest_item(EVP_MD_CTX *md, const char *dir, const emg_mirror_item *it)
{
	uint64_t n = it->len;

	EVP_DigestUpdate(md, dir, strlen(dir) + 1);
	EVP_DigestUpdate(md, it->name, strlen(it->name) + 1);
	EVP_DigestUpdate(md, &n, sizeof n);
	EVP_DigestUpdate(md, it->data, it->len);
}

/* SHA-256 over every name, size and content: equal digests mean the
 * snapshot (and so a bundle made from it) would not change. */
static int snapshot_digest(const emg_mirror_pki *p, char out[65], emg_err *err)
{
	EVP_MD_CTX *md = EVP_MD_CTX_new();
	unsigned char h[32];
	unsigned int hl = 0;
	size_t i;

	if (md == NULL || EVP_DigestInit_ex(md, EVP_sha256(), NULL) != 1) {
		EVP_MD_CTX_free(md);
		return emg_fail(err, EMG_EIO, "out of memory");
	}
	digest_item(md, "", &p->feed);
	for (i = 0; i < p->ncrl; i++)
		digest_item(md, "crl", &p->crl[i]);
	for (i = 0; i < p->nctl; i++)
		digest_item(md, "ctl", &p->ctl[i]);
	EVP_DigestFinal_ex(md, h, &hl);
	EVP_MD_CTX_free(md);
	for (i = 0; i < 32; i++)
		snprintf(out + 2 * i, 3, "%02x", h[i]);
	return EMG_OK;
}

static int write_items(const char *dir, const emg_mirror_item *its, size_t n, emg_err *err)
{
	char path[PATH_MAX];
	size_t i;
	int rc;

	if (mkdir(dir, 0750) != 0)
		return emg_fail(err, EMG_EIO, "%s: %s", dir, strerror(errno));
	for (i = 0; i < n; i++) {
		if ((rc = emg_mirror_join(path, sizeof path, dir, its[i].name, err)) != EMG_OK ||
		    (rc = emg_write_file_new(path, its[i].data, its[i].len, 0640, err)) != EMG_OK)
			return rc;
	}
	return emg_fsync_dir(dir, err);
}

static int write_snapshot(const emg_mirror_ctx *ctx, const emg_mirror_pki *p, const char *tmp,
			  const char *digest, emg_err *err)
{
	char path[PATH_MAX], info[4096], when[EMG_TIME_LEN];
	emg_mirror_item feed = p->feed;
	int rc, n;

	snprintf(feed.name, sizeof feed.name, "%s", EMG_SNAPSHOT_FEED);
	if ((rc = write_items(tmp, &feed, 1, err)) != EMG_OK)
		return rc;
	emg_time_format(ctx->now, when);
	n = snprintf(info, sizeof info, "digest %s\nsource %s\nfetched %s\n", digest,
		     ctx->conf->feed_url, when);
	if ((rc = emg_mirror_join(path, sizeof path, tmp, "info", err)) != EMG_OK ||
	    (rc = emg_write_file_new(path, info, (size_t)n, 0640, err)) != EMG_OK ||
	    (rc = emg_mirror_join(path, sizeof path, tmp, "pki", err)) != EMG_OK)
		return rc;
	if (mkdir(path, 0750) != 0)
		return emg_fail(err, EMG_EIO, "%s: %s", path, strerror(errno));
	if ((rc = emg_mirror_join(path, sizeof path, tmp, "pki/crl", err)) != EMG_OK ||
	    (rc = write_items(path, p->crl, p->ncrl, err)) != EMG_OK ||
	    (rc = emg_mirror_join(path, sizeof path, tmp, "pki/ctl", err)) != EMG_OK ||
	    (rc = write_items(path, p->ctl, p->nctl, err)) != EMG_OK ||
	    (rc = emg_mirror_join(path, sizeof path, tmp, "pki", err)) != EMG_OK ||
	    (rc = emg_fsync_dir(path, err)) != EMG_OK)
		return rc;
	return emg_fsync_dir(tmp, err);
}

/* Removes every snapshot but keep (and interrupted temporary ones). */
static void prune_snapshots(const char *snaps, const char *keep)
{
	char path[PATH_MAX];
	struct dirent *de;
	DIR *d = opendir(snaps);

	if (d == NULL)
		return;
	while ((de = readdir(d)) != NULL) {
		if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0 ||
		    strcmp(de->d_name, keep) == 0)
			continue;
		if ((size_t)snprintf(path, sizeof path, "%s/%s", snaps, de->d_name) < sizeof path)
			(void)emg_mirror_rmtree(path, NULL);
	}
	closedir(d);
}

/* The snapshot becomes visible in one step: it is built under a
 * temporary name, fsynced, renamed into place, and only then does the
 * `current` pointer (replaced atomically) name it. */
int emg_mirror_stage(const emg_mirror_ctx *ctx, const emg_mirror_pki *p, emg_snapshot *snap,
		     emg_err *err)
{
	const char *staging = ctx->conf->staging;
	char snaps[PATH_MAX], cur[PATH_MAX], tmp[PATH_MAX], name[128], old[256];
	char when[EMG_TIME_LEN], line[160];
	int rc, missing;

	if ((rc = snapshot_digest(p, snap->digest, err)) != EMG_OK ||
	    (rc = emg_mirror_join(snaps, sizeof snaps, staging, "snapshots", err)) != EMG_OK ||
	    (rc = emg_mirror_join(cur, sizeof cur, staging, "current", err)) != EMG_OK ||
	    (rc = emg_mkdir_p(snaps, 0750, err)) != EMG_OK ||
	    (rc = emg_mirror_read_small(cur, old, sizeof old, &missing, err)) != EMG_OK)
		return rc;
	old[strcspn(old, "\n")] = '\0';
	if (!missing && strlen(old) > 17 && strncmp(old + strlen(old) - 16, snap->digest, 16) == 0 &&
	    snprintf(snap->dir, sizeof snap->dir, "%s/%s", snaps, old) < (int)sizeof snap->dir &&
	    access(snap->dir, R_OK) == 0) {
		snap->reused = 1;
		return EMG_OK;
	}
	emg_time_format(ctx->now, when);
	snprintf(name, sizeof name, "%.4s%.2s%.2sT%.2s%.2s%.2sZ-%.16s", when, when + 5, when + 8,
		 when + 11, when + 14, when + 17, snap->digest);
	snprintf(tmp, sizeof tmp, "%s/" EMG_TMP_PREFIX "%ld", snaps, (long)getpid());
	(void)emg_mirror_rmtree(tmp, NULL);
	rc = write_snapshot(ctx, p, tmp, snap->digest, err);
	if (rc == EMG_OK && (rc = emg_mirror_join(snap->dir, sizeof snap->dir, snaps, name, err)) == EMG_OK) {
		(void)emg_mirror_rmtree(snap->dir, NULL); /* same second, same content */
		if (emg_rename(tmp, snap->dir) != 0)
			rc = emg_fail(err, EMG_EIO, "%s: %s", snap->dir, strerror(errno));
	}
	if (rc == EMG_OK)
		rc = emg_fsync_dir(snaps, err);
	if (rc != EMG_OK) {
		(void)emg_mirror_rmtree(tmp, NULL);
		return rc;
	}
	snprintf(line, sizeof line, "%s\n", name);
	if ((rc = emg_write_file_atomic(cur, line, strlen(line), 0640, err)) != EMG_OK)
		return rc;
	prune_snapshots(snaps, name);
	return EMG_OK;
}
