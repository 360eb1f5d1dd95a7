/* source.c - candidate bundles from directories and URLs. */
#include "apply/source.h"
#include "apply/curl_dl.h"

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "apply/state.h"
#include "fileio.h"

static int has_suffix(const char *s, const char *suf)
{
	size_t a = strlen(s), b = strlen(suf);

	return a > b && strcmp(s + a - b, suf) == 0;
}

static int bundle_name(const char *n)
{
	return n[0] != '.' && (has_suffix(n, ".bundle") || has_suffix(n, ".tar") ||
			       has_suffix(n, ".tar.gz") || has_suffix(n, ".tgz") ||
			       has_suffix(n, ".tar.zst"));
}

static int candidates_add(emg_candidates *c, emg_hash_cache *hc, const char *path, const char *origin,
			  emg_err *err)
{
	emg_candidate *nv;
	emg_candidate *e;
	int rc;

	if (c->n >= EMG_SOURCE_MAX_FILES)
		return emg_fail(err, EMG_ECONFIG, "more than %d candidate bundles", EMG_SOURCE_MAX_FILES);
	nv = realloc(c->v, (c->n + 1) * sizeof *nv);
	if (nv == NULL)
		return emg_fail(err, EMG_EIO, "out of memory");
	c->v = nv;
	e = &c->v[c->n];
	memset(e, 0, sizeof *e);
	if (snprintf(e->path, sizeof e->path, "%s", path) >= (int)sizeof e->path)
		return emg_fail(err, EMG_EIO, "%s: path too long", path);
	snprintf(e->origin, sizeof e->origin, "%s", origin);
	rc = emg_hash_cache_sha256(hc, path, e->sha256, err);
	if (rc != EMG_OK)
		return rc;
	if (e->sha256[0] == '\0')
		return emg_fail(err, EMG_EIO, "%s: No such file or directory", path);
	c->n++;
	return EMG_OK;
}

int emg_candidates_add(emg_candidates *c, const char *path, const char *origin, emg_err *err)
{
	return candidates_add(c, NULL, path, origin, err);
}

void emg_candidates_free(emg_candidates *c)
{
	free(c->v);
	c->v = NULL;
	c->n = 0;
}

static void warnf(emg_warn_fn warn, void *ctx, const char *what, const emg_err *e)
{
	char msg[EMG_ERR_MSG_MAX + 256];

	snprintf(msg, sizeof msg, "source %s: %s", what, e->msg);
	if (warn != NULL)
		warn(ctx, msg);
}

static void collect_dir(const char *dir, emg_hash_cache *hc, emg_candidates *out, emg_warn_fn warn,
			void *ctx)
{
	DIR *d = opendir(dir);
	struct dirent *de;
	char path[PATH_MAX];
	struct stat st;
	emg_err e;

	if (d == NULL) {
		emg_fail(&e, EMG_EIO, "%s", strerror(errno));
		warnf(warn, ctx, dir, &e);
		return;
	}
	while ((de = readdir(d)) != NULL) {
		if (!bundle_name(de->d_name))
			continue;
		if (snprintf(path, sizeof path, "%s/%s", dir, de->d_name) >= (int)sizeof path)
			continue;
		/* Links and devices are not bundles; a share may hold anything. */
		if (lstat(path, &st) != 0 || !S_ISREG(st.st_mode))
			continue;
		emg_err_clear(&e);
		if (candidates_add(out, hc, path, path, &e) != EMG_OK) {
			if (e.code == EMG_ECONFIG)
				break; /* too many: the ones found still count */
			warnf(warn, ctx, path, &e);
		}
	}
	closedir(d);
}

typedef struct fetch_buf {
	uint8_t *p;
	size_t len;
	size_t max;
	int too_big;
} fetch_buf;

static size_t on_data(char *data, size_t size, size_t nmemb, void *userp)
{
	fetch_buf *fb = userp;
	size_t n = size * nmemb;
	uint8_t *np;

	if (n > fb->max - fb->len) {
		fb->too_big = 1;
		return 0;
	}
	np = realloc(fb->p, fb->len + n + 1);
	if (np == NULL)
		return 0;
	fb->p = np;
	memcpy(fb->p + fb->len, data, n);
	fb->len += n;
	return n;
}

int emg_source_fetch(const char *url, const char *ca_file, long timeout, size_t max,
		     uint8_t **buf, size_t *len, emg_err *err)
{
	char cerr[CURL_ERROR_SIZE] = "";
	fetch_buf fb = {NULL, 0, max, 0};
	emg_curl cu;
	CURL *c;
	CURLcode cc;
	int rc;

	*buf = NULL;
	*len = 0;
	rc = emg_curl_open(&cu, err);
	if (rc != EMG_OK)
		return emg_err_prefix(err, "%s", url);
	c = cu.easy_init();
	if (c == NULL) {
		emg_curl_close(&cu);
		return emg_fail(err, EMG_EIO, "%s: cannot start libcurl", url);
	}
	cu.easy_setopt(c, CURLOPT_URL, url);
	cu.easy_setopt(c, CURLOPT_PROTOCOLS_STR, "https,file");
	cu.easy_setopt(c, CURLOPT_REDIR_PROTOCOLS_STR, "https");
	cu.easy_setopt(c, CURLOPT_FOLLOWLOCATION, 1L);
	cu.easy_setopt(c, CURLOPT_MAXREDIRS, 3L);
	cu.easy_setopt(c, CURLOPT_FAILONERROR, 1L);
	cu.easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
	cu.easy_setopt(c, CURLOPT_TIMEOUT, timeout > 0 ? timeout : 30L);
	cu.easy_setopt(c, CURLOPT_MAXFILESIZE_LARGE, (curl_off_t)max);
	cu.easy_setopt(c, CURLOPT_ERRORBUFFER, cerr);
	cu.easy_setopt(c, CURLOPT_WRITEFUNCTION, on_data);
	cu.easy_setopt(c, CURLOPT_WRITEDATA, &fb);
	if (ca_file != NULL && ca_file[0] != '\0')
		cu.easy_setopt(c, CURLOPT_CAINFO, ca_file);
	cc = cu.easy_perform(c);
	cu.easy_cleanup(c);
	if (cc != CURLE_OK) {
		free(fb.p);
		if (fb.too_big || cc == CURLE_FILESIZE_EXCEEDED)
			rc = emg_fail(err, EMG_EIO, "%s: larger than the limit of %zu bytes", url, max);
		else
			rc = emg_fail(err, EMG_EIO, "%s: %s", url, cerr[0] ? cerr : cu.easy_strerror(cc));
		emg_curl_close(&cu);
		return rc;
	}
	emg_curl_close(&cu);
	if (fb.p == NULL)
		return emg_fail(err, EMG_EIO, "%s: empty response", url);
	*buf = fb.p;
	*len = fb.len;
	return EMG_OK;
}

/* Keeps the fetched copy under a name derived from the URL, rewriting it
 * only when the content changed (an idle run then writes nothing). */
static void collect_url(const emg_apply_config *cfg, const char *url, emg_candidates *out,
		       emg_warn_fn warn, void *ctx)
{
	char dir[PATH_MAX], path[PATH_MAX + 80], id[65], have[65], got[65];
	uint8_t *buf = NULL;
	size_t len = 0;
	emg_err e;
	int rc;

	emg_err_clear(&e);
	snprintf(dir, sizeof dir, "%s/fetched", cfg->state_dir);
	emg_sha256_hex(url, strlen(url), id);
	id[16] = '\0';
	snprintf(path, sizeof path, "%s/%s.bundle", dir, id);
	rc = emg_source_fetch(url, cfg->ca_file, (long)cfg->source_timeout, EMG_SOURCE_MAX_BYTES, &buf, &len, &e);
	if (rc == EMG_OK)
		rc = emg_mkdir_p(dir, 0700, &e);
	if (rc == EMG_OK)
		rc = emg_sha256_file(path, have, &e);
	if (rc == EMG_OK) {
		emg_sha256_hex(buf, len, got);
		if (strcmp(have, got) != 0)
			rc = emg_write_file_atomic(path, buf, len, 0600, &e);
	}
	free(buf);
	if (rc == EMG_OK)
		rc = emg_candidates_add(out, path, url, &e);
	/* A URL that fails is one source down, not the run. */
	if (rc != EMG_OK)
		warnf(warn, ctx, url, &e);
}

int emg_sources_collect(const emg_apply_config *cfg, emg_hash_cache *hc, emg_candidates *out,
			emg_warn_fn warn, void *ctx, emg_err *err)
{
	size_t i;

	(void)err;
	for (i = 0; i < cfg->source_path_count; i++)
		collect_dir(cfg->source_paths[i], hc, out, warn, ctx);
	for (i = 0; i < cfg->source_url_count; i++)
		collect_url(cfg, cfg->source_urls[i], out, warn, ctx);
	return EMG_OK;
}
