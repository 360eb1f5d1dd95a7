/* fetch.c - feed, CRLs and CTLs into a verified, atomically staged snapshot. */
#include "mirror/fetch.h"

#include <errno.h>
#include <fcntl.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "bundle/feed.h"
#include "fileio.h"
#include "mirror/chain.h"
#include "mirror/snapshot.h"
#include "sysio.h"
#include "timefmt.h"

#define META_MAX 4096

/* Validators of a cached download. */
typedef struct meta {
	char etag[256];
	char last_modified[64];
} meta;

void emg_mirror_ctx_init(emg_mirror_ctx *ctx, const emg_mirror_conf *conf, emg_mlog *log,
			 const volatile sig_atomic_t *stop, int progress, FILE *out)
{
	memset(ctx, 0, sizeof *ctx);
	ctx->conf = conf;
	ctx->log = log;
	ctx->stop = stop;
	ctx->out = out;
	ctx->now = time(NULL);
	ctx->http.ca_bundle = conf->ca_bundle;
	ctx->http.proxy = conf->proxy;
	ctx->http.connect_timeout = conf->connect_timeout;
	ctx->http.timeout = conf->timeout;
	ctx->http.retries = conf->retries;
	ctx->http.retry_delay_ms = conf->retry_delay_ms;
	ctx->http.progress = progress;
	ctx->http.stop = stop;
}

int emg_mirror_read_small(const char *path, char *buf, size_t buflen, int *missing, emg_err *err)
{
	uint8_t *data;
	size_t len;
	int rc;

	*missing = 0;
	buf[0] = '\0';
	if (access(path, F_OK) != 0 && errno == ENOENT) {
		*missing = 1;
		return EMG_OK;
	}
	rc = emg_read_file(path, buflen - 1, EMG_ECONFIG, &data, &len, err);
	if (rc != EMG_OK)
		return rc;
	memcpy(buf, data, len);
	buf[len] = '\0';
	free(data);
	return EMG_OK;
}

int emg_mirror_lock(const char *staging, int *fd, emg_err *err)
{
	char path[PATH_MAX];
	int rc;

	*fd = -1;
	if ((rc = emg_mkdir_p(staging, 0750, err)) != EMG_OK ||
	    (rc = emg_mirror_join(path, sizeof path, staging, "lock", err)) != EMG_OK)
		return rc;
	*fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0640);
	if (*fd < 0)
		return emg_fail(err, EMG_EIO, "%s: %s", path, strerror(errno));
	if (flock(*fd, LOCK_EX | LOCK_NB) != 0) {
		int e = errno;

		close(*fd);
		*fd = -1;
		if (e == EWOULDBLOCK)
			return emg_fail(err, EMG_EBUSY, "%s: another emgap-mirror is working here", staging);
		return emg_fail(err, EMG_EIO, "%s: %s", path, strerror(e));
	}
	return EMG_OK;
}

void emg_mirror_unlock(int fd)
{
	if (fd >= 0)
		close(fd); /* closing releases the flock */
}

/* ---- cache ----------------------------------------------------------- */

/* Cache files are named by a hash of the URL: stable, and no URL text
 * (untrusted, from a certificate) ever becomes a path. */
static int cache_base(const char *staging, const char *kind, const char *url, char *out,
		      size_t outlen, emg_err *err)
{
	char h[65];

	emg_mirror_sha256_hex((const uint8_t *)url, strlen(url), h);
	h[16] = '\0';
	if ((size_t)snprintf(out, outlen, "%s/cache/%s/%s", staging, kind, h) >= outlen)
		return emg_fail(err, EMG_ECONFIG, "%s: path too long", staging);
	return EMG_OK;
}

static void meta_read(const char *base, meta *m)
{
	char path[PATH_MAX + 8];
	char buf[META_MAX];
	char *line, *save = NULL;
	int missing;

	memset(m, 0, sizeof *m);
	snprintf(path, sizeof path, "%s.meta", base);
	/* A damaged meta file only costs a full download. */
	if (emg_mirror_read_small(path, buf, sizeof buf, &missing, NULL) != EMG_OK || missing)
		return;
	for (line = strtok_r(buf, "\n", &save); line != NULL; line = strtok_r(NULL, "\n", &save)) {
		if (strncmp(line, "etag ", 5) == 0)
			snprintf(m->etag, sizeof m->etag, "%s", line + 5);
		else if (strncmp(line, "last-modified ", 14) == 0)
			snprintf(m->last_modified, sizeof m->last_modified, "%s", line + 14);
	}
}

static int cache_save(const char *base, const char *url, const emg_mirror_item *it, const emg_http_res *r,
		      time_t now, emg_err *err)
{
	char path[PATH_MAX + 8];
	char text[META_MAX];
	char when[EMG_TIME_LEN];
	int rc, n;

	emg_time_format(now, when);
	snprintf(path, sizeof path, "%s.data", base);
	rc = emg_write_file_atomic(path, it->data, it->len, 0640, err);
	if (rc != EMG_OK)
		return rc;
	n = snprintf(text, sizeof text, "url %s\netag %s\nlast-modified %s\nfetched %s\n", url,
		     r->etag, r->last_modified, when);
	if (n < 0 || (size_t)n >= sizeof text)
		n = 0; /* no validators: the next poll downloads in full */
	snprintf(path, sizeof path, "%s.meta", base);
	return emg_write_file_atomic(path, text, (size_t)n, 0640, err);
}

static int cache_load(const char *base, uint64_t max, emg_mirror_item *it, emg_err *err)
{
	char path[PATH_MAX + 8];

	snprintf(path, sizeof path, "%s.data", base);
	return emg_read_file(path, (size_t)max, EMG_EIO, &it->data, &it->len, err);
}

static int cache_has(const char *base)
{
	char path[PATH_MAX + 8];

	snprintf(path, sizeof path, "%s.data", base);
	return access(path, R_OK) == 0;
}

/* GETs url, conditionally when the cache has validators. On 304 the cached
 * copy is loaded; on 200 the body is taken and *fresh set (the caller
 * saves it once it is known good). */
static int get_cached(emg_mirror_ctx *ctx, const char *url, uint64_t max, const char *base,
		      emg_mirror_item *it, emg_http_res *res, int *fresh, emg_err *err)
{
	meta m;
	int rc;

	*fresh = 0;
	memset(&m, 0, sizeof m);
	if (cache_has(base))
		meta_read(base, &m);
	rc = emg_http_get(&ctx->http, url, max, m.etag, m.last_modified, res, err);
	if (rc != EMG_OK)
		return rc;
	if (res->not_modified) {
		rc = cache_load(base, max, it, err);
		if (rc != EMG_OK)
			return emg_err_prefix(err, "%s: 304 Not Modified but the cached copy is unreadable", url);
		emg_mlog_event(ctx->log, EMG_EVENT_FETCHED, "%s: not modified since the last poll", url);
		return EMG_OK;
	}
	emg_mlog_event(ctx->log, EMG_EVENT_FETCHED, "%s: downloaded (%zu bytes, HTTP %ld)", url, res->len,
		       res->status);
	it->data = res->body;
	it->len = res->len;
	res->body = NULL;
	*fresh = 1;
	return EMG_OK;
}

/* ---- CRLs and CTLs ----------------------------------------------------- */

static X509_CRL *parse_crl(const uint8_t *data, size_t len)
{
	const unsigned char *p = data;
	X509_CRL *crl;
	BIO *b;

	if (len > 27 && memcmp(data, "-----BEGIN X509 CRL-----", 24) == 0) {
		b = BIO_new_mem_buf(data, (int)len);
		if (b == NULL)
			return NULL;
		crl = PEM_read_bio_X509_CRL(b, NULL, NULL, NULL);
		BIO_free(b);
		return crl;
	}
	return d2i_X509_CRL(NULL, &p, (long)len);
}

/* A cached CRL is good until its nextUpdate; only then is it fetched again. */
static int crl_current(const emg_mirror_item *it, time_t now)
{
	X509_CRL *crl = parse_crl(it->data, it->len);
	const ASN1_TIME *next;
	int ok = 0;

	if (crl == NULL)
		return 0;
	next = X509_CRL_get0_nextUpdate(crl);
	if (next != NULL && X509_cmp_time(next, &now) > 0)
		ok = 1;
	X509_CRL_free(crl);
	return ok;
}

/* The snapshot's name for a download: the URL's last path segment, cut
 * down to [A-Za-z0-9._-], with ext when it lacks one of the allowed ones,
 * and made unique among names[0..n). */
static void snapshot_name(const char *url, const char *ext, const char *alt_ext,
			  const emg_mirror_item *names, size_t n, char *out, size_t outlen)
{
	const char *s = strrchr(url, '/');
	char base[64];
	size_t i, k = 0, dup;

	s = s != NULL ? s + 1 : url;
	for (; *s != '\0' && *s != '?' && *s != '#' && k + 1 < sizeof base; s++)
		if ((*s >= 'A' && *s <= 'Z') || (*s >= 'a' && *s <= 'z') || (*s >= '0' && *s <= '9') ||
		    *s == '-' || *s == '_' || (*s == '.' && k > 0))
			base[k++] = *s;
	base[k] = '\0';
	if (k == 0)
		snprintf(base, sizeof base, "download");
	k = strlen(base);
	if (!(k > strlen(ext) && strcmp(base + k - strlen(ext), ext) == 0) &&
	    !(alt_ext != NULL && k > strlen(alt_ext) && strcmp(base + k - strlen(alt_ext), alt_ext) == 0))
		snprintf(base + (k > 40 ? 40 : k), sizeof base - (k > 40 ? 40 : k), "%s", ext);
	snprintf(out, outlen, "%s", base);
	for (dup = 1;; dup++) {
		for (i = 0; i < n; i++)
			if (strcmp(names[i].name, out) == 0)
				break;
		if (i == n)
			return;
		snprintf(out, outlen, "%zu-%s", dup, base);
	}
}

static int fetch_crl(emg_mirror_ctx *ctx, const char *url, emg_mirror_item *it, emg_err *err)
{
	const emg_mirror_conf *c = ctx->conf;
	char base[PATH_MAX];
	emg_http_res res;
	X509_CRL *crl;
	int fresh, rc;

	if ((rc = cache_base(c->staging, "crl", url, base, sizeof base, err)) != EMG_OK)
		return rc;
	it->url = url;
	if (cache_has(base) && cache_load(base, c->max_crl_bytes, it, NULL) == EMG_OK) {
		if (crl_current(it, ctx->now)) {
			emg_mlog_event(ctx->log, EMG_EVENT_FETCHED, "%s: cached CRL current until its nextUpdate", url);
			return EMG_OK;
		}
		free(it->data);
		it->data = NULL;
	}
	rc = get_cached(ctx, url, c->max_crl_bytes, base, it, &res, &fresh, err);
	emg_http_res_free(&res);
	if (rc != EMG_OK)
		return emg_err_prefix(err, "CRL of the vendor chain");
	crl = parse_crl(it->data, it->len);
	if (crl == NULL)
		return emg_fail(err, EMG_ECONFIG, "CRL of the vendor chain: %s: not a CRL (DER or PEM)", url);
	X509_CRL_free(crl);
	if (fresh)
		return cache_save(base, url, it, &res, ctx->now, err);
	return EMG_OK;
}

static int fetch_crls(emg_mirror_ctx *ctx, emg_mirror_pki *p, emg_err *err)
{
	emg_urls urls = {NULL, 0};
	size_t i;
	int rc;

	rc = emg_pem_cdp_urls(ctx->conf->anchors, &urls, err);
	if (rc == EMG_OK)
		rc = emg_feed_cdp_urls(p->feed.data, p->feed.len, ctx->conf->anchors, &urls, err);
	for (i = 0; rc == EMG_OK && i < urls.n; i++) {
		emg_mirror_item *it = &p->crl[p->ncrl];

		rc = fetch_crl(ctx, urls.v[i], it, err);
		if (rc == EMG_OK) {
			snapshot_name(urls.v[i], ".crl", NULL, p->crl, p->ncrl, it->name, sizeof it->name);
			it->url = NULL; /* urls.v is freed below */
			p->ncrl++;
		}
	}
	emg_urls_free(&urls);
	return rc;
}

static int fetch_ctls(emg_mirror_ctx *ctx, emg_mirror_pki *p, emg_err *err)
{
	const emg_mirror_conf *c = ctx->conf;
	char base[PATH_MAX];
	size_t i;
	int rc, fresh;

	for (i = 0; i < c->ctl_count; i++) {
		emg_mirror_item *it = &p->ctl[p->nctl];
		emg_http_res res;

		if ((rc = cache_base(c->staging, "ctl", c->ctl_url[i], base, sizeof base, err)) != EMG_OK)
			return rc;
		rc = get_cached(ctx, c->ctl_url[i], c->max_ctl_bytes, base, it, &res, &fresh, err);
		if (rc == EMG_OK && fresh)
			rc = cache_save(base, c->ctl_url[i], it, &res, ctx->now, err);
		emg_http_res_free(&res);
		if (rc != EMG_OK)
			return emg_err_prefix(err, "certificate trust list");
		it->url = c->ctl_url[i];
		snapshot_name(c->ctl_url[i], ".cab", ".stl", p->ctl, p->nctl, it->name, sizeof it->name);
		p->nctl++;
	}
	return EMG_OK;
}

static void pki_set_free(emg_mirror_pki *p)
{
	size_t i;

	free(p->feed.data);
	for (i = 0; i < p->ncrl; i++)
		free(p->crl[i].data);
	for (i = 0; i < p->nctl; i++)
		free(p->ctl[i].data);
	/* An emg_mirror_item filled but not yet counted (a failed step) is freed too. */
	if (p->ncrl < EMG_MAX_CDP_URLS)
		free(p->crl[p->ncrl].data);
	if (p->nctl < EMG_MIRROR_MAX_CTL)
		free(p->ctl[p->nctl].data);
}

/* ---- verification ------------------------------------------------------ */

static int verify_feed(emg_mirror_ctx *ctx, const emg_mirror_pki *p, emg_err *err)
{
	const emg_mirror_conf *c = ctx->conf;
	emg_blob crls[EMG_MAX_CDP_URLS], ctls[EMG_MIRROR_MAX_CTL];
	const char *ekus[EMG_MIRROR_MAX_EKU];
	emg_vendor_policy pol;
	emg_pki_snapshot snap;
	emg_feed_report rep;
	size_t i;
	int rc;

	for (i = 0; i < p->ncrl; i++)
		crls[i] = (emg_blob){p->crl[i].name, p->crl[i].data, p->crl[i].len};
	for (i = 0; i < p->nctl; i++)
		ctls[i] = (emg_blob){p->ctl[i].name, p->ctl[i].data, p->ctl[i].len};
	for (i = 0; i < c->eku_count; i++)
		ekus[i] = c->eku[i];
	memset(&pol, 0, sizeof pol);
	pol.anchors_pem = c->anchors;
	pol.eku_oids = c->eku_count ? ekus : NULL;
	pol.eku_count = c->eku_count;
	pol.subject = c->subject;
	pol.allow_missing_crl = 0;
	snap = (emg_pki_snapshot){crls, p->ncrl, ctls, p->nctl};
	memset(&rep, 0, sizeof rep);
	rc = emg_feed_verify(p->feed.data, p->feed.len, &pol, &snap, ctx->now, &rep, NULL, err);
	if (rc != EMG_OK)
		return emg_err_prefix(err, "feed %s failed verification", c->feed_url);
	emg_mlog_event(ctx->log, EMG_EVENT_FETCHED, "feed %s verified: signer %s, %zu CRLs, %zu CTLs",
		       c->feed_url, rep.signer_subject, p->ncrl, p->nctl);
	return EMG_OK;
}

/* ---- fetch ------------------------------------------------------------- */

static int fetch_feed(emg_mirror_ctx *ctx, emg_mirror_item *feed, emg_http_res *res, int *fresh, emg_err *err)
{
	const emg_mirror_conf *c = ctx->conf;
	char base[PATH_MAX];
	int rc;

	if ((size_t)snprintf(base, sizeof base, "%s/cache/feed", c->staging) >= sizeof base)
		return emg_fail(err, EMG_ECONFIG, "%s: path too long", c->staging);
	rc = get_cached(ctx, c->feed_url, c->max_feed_bytes, base, feed, res, fresh, err);
	if (rc != EMG_OK)
		return emg_err_prefix(err, "feed");
	return EMG_OK;
}

static int make_dirs(const char *staging, emg_err *err)
{
	char p[PATH_MAX];
	int rc;

	if ((rc = emg_mirror_join(p, sizeof p, staging, "cache/crl", err)) != EMG_OK ||
	    (rc = emg_mkdir_p(p, 0750, err)) != EMG_OK ||
	    (rc = emg_mirror_join(p, sizeof p, staging, "cache/ctl", err)) != EMG_OK ||
	    (rc = emg_mkdir_p(p, 0750, err)) != EMG_OK)
		return rc;
	return EMG_OK;
}

/* The staging lock is held: temporaries here are an interrupted run's.
 * Every directory that gets atomic writes is swept (snapshots/ is pruned
 * when a snapshot is staged). */
static void clean_staging(const char *staging)
{
	static const char *const dirs[] = {"", "/cache", "/cache/crl", "/cache/ctl"};
	char p[PATH_MAX];
	size_t i;

	for (i = 0; i < sizeof dirs / sizeof dirs[0]; i++)
		if ((size_t)snprintf(p, sizeof p, "%s%s", staging, dirs[i]) < sizeof p)
			(void)emg_clean_stale_tmp(p, NULL);
}

int emg_mirror_fetch(emg_mirror_ctx *ctx, emg_snapshot *snap, emg_err *err)
{
	const emg_mirror_conf *c = ctx->conf;
	emg_http_res feed_res;
	char base[PATH_MAX];
	emg_mirror_pki *p;
	int rc, fresh = 0;

	memset(snap, 0, sizeof *snap);
	memset(&feed_res, 0, sizeof feed_res);
	if ((rc = make_dirs(c->staging, err)) != EMG_OK)
		return rc;
	clean_staging(c->staging);
	p = emg_calloc(1, sizeof *p);
	if (p == NULL)
		return emg_fail(err, EMG_EIO, "out of memory");
	p->feed.url = c->feed_url;
	rc = fetch_feed(ctx, &p->feed, &feed_res, &fresh, err);
	if (rc == EMG_OK)
		rc = fetch_crls(ctx, p, err);
	if (rc == EMG_OK)
		rc = fetch_ctls(ctx, p, err);
	if (rc == EMG_OK)
		rc = verify_feed(ctx, p, err);
	/* The feed enters the cache only once verified, so a tampered
	 * download is never answered with "304, use what you have". */
	if (rc == EMG_OK && fresh) {
		snprintf(base, sizeof base, "%s/cache/feed", c->staging);
		rc = cache_save(base, c->feed_url, &p->feed, &feed_res, ctx->now, err);
	}
	if (rc == EMG_OK)
		rc = emg_mirror_stage(ctx, p, snap, err);
	if (rc == EMG_OK)
		emg_mlog_event(ctx->log, EMG_EVENT_FETCHED, "snapshot %s %s", snap->dir,
			       snap->reused ? "unchanged" : "staged");
	emg_http_res_free(&feed_res);
	pki_set_free(p);
	free(p);
	return rc;
}
