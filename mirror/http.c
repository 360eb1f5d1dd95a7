/* http.c - GET with libcurl: verification on, capped, retried, conditional. */
#include "mirror/http.h"

#include <curl/curl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "sysio.h"
#include "version.h"

typedef struct sink {
	uint8_t *buf;
	size_t len;
	size_t cap;
	uint64_t max;
	int too_big;
	int oom;
} sink;

typedef struct progress {
	const char *url;
	int drawn;
	time_t last;
} progress;

const char *emg_http_why_name(emg_http_why why)
{
	switch (why) {
	case EMG_HTTP_OK: return "ok";
	case EMG_HTTP_DNS: return "DNS";
	case EMG_HTTP_CONNECT: return "connect";
	case EMG_HTTP_TLS_CERT: return "TLS certificate";
	case EMG_HTTP_TLS: return "TLS";
	case EMG_HTTP_PROXY: return "proxy";
	case EMG_HTTP_TIMEOUT: return "timeout";
	case EMG_HTTP_TOO_BIG: return "size limit";
	case EMG_HTTP_STATUS: return "HTTP status";
	default: return "transfer";
	}
}

/* The cap is enforced here, while the body streams in: returning short
 * makes libcurl abort the transfer at once (CURLE_WRITE_ERROR), so an
 * endless or hostile body never costs more than max bytes of memory. */
static size_t on_body(char *data, size_t size, size_t nmemb, void *arg)
{
	sink *s = arg;
	size_t n = size * nmemb;

	if ((uint64_t)s->len + n > s->max) {
		s->too_big = 1;
		return 0;
	}
	if (s->len + n + 1 > s->cap) {
		size_t ncap = s->cap ? s->cap : 16384;
		uint8_t *nb;

		while (ncap < s->len + n + 1)
			ncap *= 2;
		nb = emg_realloc(s->buf, ncap);
		if (nb == NULL) {
			s->oom = 1;
			return 0;
		}
		s->buf = nb;
		s->cap = ncap;
	}
	memcpy(s->buf + s->len, data, n);
	s->len += n;
	s->buf[s->len] = '\0';
	return n;
}

static int on_progress(void *arg, curl_off_t total, curl_off_t now, curl_off_t ut, curl_off_t un)
{
	progress *p = arg;
	time_t t = time(NULL);

	(void)ut;
	(void)un;
	if (now == 0 || (p->drawn && t == p->last && now != total))
		return 0;
	p->last = t;
	p->drawn = 1;
	if (total > 0)
		fprintf(stderr, "\r%.50s  %3d%%  %lld/%lld bytes ", p->url,
			(int)(now * 100 / total), (long long)now, (long long)total);
	else
		fprintf(stderr, "\r%.50s  %lld bytes ", p->url, (long long)now);
	return 0;
}

/* Whether no_proxy (comma-separated hosts or domain suffixes, "*" for
 * all) exempts url's host, the way libcurl reads it. */
static int no_proxy_for(const char *url)
{
	const char *np = getenv("no_proxy");
	const char *h = strstr(url, "://");
	char host[256], entry[256];
	size_t hl = 0, el;

	if (np == NULL)
		np = getenv("NO_PROXY");
	if (np == NULL || h == NULL)
		return 0;
	for (h += 3; *h != '\0' && *h != '/' && *h != ':' && *h != '?' && hl + 1 < sizeof host; h++)
		host[hl++] = *h;
	host[hl] = '\0';
	while (*np != '\0') {
		np += strspn(np, " ,");
		el = strcspn(np, " ,");
		if (el > 0 && el < sizeof entry) {
			memcpy(entry, np, el);
			entry[el] = '\0';
			if (strcmp(entry, "*") == 0)
				return 1;
			if (entry[0] == '.')
				memmove(entry, entry + 1, el--);
			if (strcasecmp(host, entry) == 0 ||
			    (hl > el && host[hl - el - 1] == '.' && strcasecmp(host + hl - el, entry) == 0))
				return 1;
		}
		np += el;
	}
	return 0;
}

/* The proxy libcurl will use for url, as far as messages need to know. */
static const char *proxy_for(const emg_http_conf *conf, const char *url)
{
	const char *p;

	if (conf->proxy != NULL)
		return conf->proxy[0] ? conf->proxy : NULL;
	if (no_proxy_for(url))
		return NULL;
	if (strncasecmp(url, "https:", 6) == 0) {
		if ((p = getenv("https_proxy")) != NULL || (p = getenv("HTTPS_PROXY")) != NULL)
			return p[0] ? p : NULL;
	} else if ((p = getenv("http_proxy")) != NULL) {
		return p[0] ? p : NULL;
	}
	if ((p = getenv("all_proxy")) != NULL || (p = getenv("ALL_PROXY")) != NULL)
		return p[0] ? p : NULL;
	return NULL;
}

static void keep_header(CURL *h, const char *name, char *out, size_t outlen)
{
	struct curl_header *hh = NULL;
	size_t n;

	out[0] = '\0';
	if (curl_easy_header(h, name, 0, CURLH_HEADER, -1, &hh) != CURLHE_OK || hh == NULL)
		return;
	n = strlen(hh->value);
	if (n == 0 || n >= outlen || strpbrk(hh->value, "\r\n") != NULL)
		return; /* absent, or too odd to send back: no conditional GET */
	memcpy(out, hh->value, n + 1);
}

static int add_header(struct curl_slist **list, const char *name, const char *value)
{
	char line[400];
	struct curl_slist *n;

	if (value == NULL || value[0] == '\0')
		return 0;
	if (strpbrk(value, "\r\n") != NULL || strlen(value) > 300)
		return 0; /* never let a cached value inject a header */
	snprintf(line, sizeof line, "%s: %s", name, value);
	n = curl_slist_append(*list, line);
	if (n == NULL)
		return -1;
	*list = n;
	return 0;
}

static int setup(CURL *h, const emg_http_conf *conf, const char *url, uint64_t max,
		 struct curl_slist *hdrs, sink *s, progress *pr, char *errbuf)
{
	int https = strncasecmp(url, "https:", 6) == 0;
	CURLcode c = CURLE_OK;

#define SET(opt, val) do { if (c == CURLE_OK) c = curl_easy_setopt(h, opt, val); } while (0)
	SET(CURLOPT_URL, url);
	SET(CURLOPT_PROTOCOLS_STR, "http,https");
	/* An https feed must not be redirected down to plain http. */
	SET(CURLOPT_REDIR_PROTOCOLS_STR, https ? "https" : "http,https");
	SET(CURLOPT_FOLLOWLOCATION, 1L);
	SET(CURLOPT_MAXREDIRS, 5L);
	SET(CURLOPT_SSL_VERIFYPEER, 1L);
	SET(CURLOPT_SSL_VERIFYHOST, 2L);
	SET(CURLOPT_PROXY_SSL_VERIFYPEER, 1L);
	SET(CURLOPT_PROXY_SSL_VERIFYHOST, 2L);
	if (conf->ca_bundle != NULL) {
		SET(CURLOPT_CAINFO, conf->ca_bundle);
		SET(CURLOPT_PROXY_CAINFO, conf->ca_bundle);
	}
	if (conf->proxy != NULL)
		SET(CURLOPT_PROXY, conf->proxy);
	SET(CURLOPT_CONNECTTIMEOUT, (long)conf->connect_timeout);
	SET(CURLOPT_TIMEOUT, (long)conf->timeout);
	SET(CURLOPT_NOSIGNAL, 1L);
	SET(CURLOPT_USERAGENT, "emgap-mirror/" EMG_VERSION);
	SET(CURLOPT_ACCEPT_ENCODING, "");
	SET(CURLOPT_MAXFILESIZE_LARGE, (curl_off_t)max);
	SET(CURLOPT_HTTPHEADER, hdrs);
	SET(CURLOPT_WRITEFUNCTION, on_body);
	SET(CURLOPT_WRITEDATA, s);
	SET(CURLOPT_ERRORBUFFER, errbuf);
	SET(CURLOPT_NOPROGRESS, conf->progress ? 0L : 1L);
	if (conf->progress) {
		SET(CURLOPT_XFERINFOFUNCTION, on_progress);
		SET(CURLOPT_XFERINFODATA, pr);
	}
#undef SET
	return c == CURLE_OK ? 0 : -1;
}

/* Turns a finished attempt into EMG_OK or an error; *retry says whether
 * another attempt could help (5xx, timeouts, resets; never 4xx or TLS). */
static int judge(CURL *h, CURLcode cc, const emg_http_conf *conf, const char *url,
		 const sink *s, const char *errbuf, int conditional, emg_http_res *res,
		 int *retry, emg_err *err)
{
	const char *px = proxy_for(conf, url);
	const char *detail = errbuf[0] ? errbuf : curl_easy_strerror(cc);
	long connect_code = 0;

	*retry = 0;
	curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &res->status);
	curl_easy_getinfo(h, CURLINFO_HTTP_CONNECTCODE, &connect_code);
	if (s->too_big || cc == CURLE_FILESIZE_EXCEEDED) {
		res->why = EMG_HTTP_TOO_BIG;
		return emg_fail(err, EMG_EIO, "%s: response larger than the limit of %llu bytes; transfer aborted",
				url, (unsigned long long)s->max);
	}
	if (s->oom)
		return emg_fail(err, EMG_EIO, "%s: out of memory", url);
	if (connect_code >= 300) {
		res->why = EMG_HTTP_PROXY;
		return emg_fail(err, EMG_EIO, "%s: proxy %s refused the tunnel with HTTP status %ld",
				url, px ? px : "(environment)", connect_code);
	}
	switch (cc) {
	case CURLE_OK:
		break;
	case CURLE_COULDNT_RESOLVE_HOST:
		res->why = EMG_HTTP_DNS;
		return emg_fail(err, EMG_EIO, "%s: DNS lookup failed (%s)", url, detail);
	case CURLE_COULDNT_RESOLVE_PROXY:
	case CURLE_PROXY:
		res->why = EMG_HTTP_PROXY;
		return emg_fail(err, EMG_EIO, "%s: proxy %s failed (%s)", url, px ? px : "", detail);
	case CURLE_COULDNT_CONNECT:
		*retry = 1;
		if (px != NULL) {
			res->why = EMG_HTTP_PROXY;
			return emg_fail(err, EMG_EIO, "%s: could not connect through proxy %s (%s)", url, px, detail);
		}
		res->why = EMG_HTTP_CONNECT;
		return emg_fail(err, EMG_EIO, "%s: could not connect (%s)", url, detail);
	case CURLE_PEER_FAILED_VERIFICATION:
	case CURLE_SSL_CACERT_BADFILE:
	case CURLE_SSL_CERTPROBLEM:
		res->why = EMG_HTTP_TLS_CERT;
		return emg_fail(err, EMG_EIO, "%s: TLS certificate verification failed (%s)", url, detail);
	case CURLE_SSL_CONNECT_ERROR:
		res->why = EMG_HTTP_TLS;
		return emg_fail(err, EMG_EIO, "%s: TLS handshake failed (%s)", url, detail);
	case CURLE_UNSUPPORTED_PROTOCOL:
		res->why = EMG_HTTP_OTHER;
		return emg_fail(err, EMG_EIO, "%s: refused to follow a redirect to another protocol (%s)",
				url, detail);
	case CURLE_OPERATION_TIMEDOUT:
		*retry = 1;
		res->why = EMG_HTTP_TIMEOUT;
		return emg_fail(err, EMG_EIO, "%s: timed out (%s)", url, detail);
	case CURLE_GOT_NOTHING:
	case CURLE_SEND_ERROR:
	case CURLE_RECV_ERROR:
	case CURLE_PARTIAL_FILE:
		*retry = 1;
		/* fall through */
	default:
		res->why = EMG_HTTP_OTHER;
		return emg_fail(err, EMG_EIO, "%s: transfer failed (%s)", url, detail);
	}
	if (res->status == 304 && conditional) {
		res->not_modified = 1;
		return EMG_OK;
	}
	if (res->status >= 200 && res->status < 300)
		return EMG_OK;
	res->why = EMG_HTTP_STATUS;
	*retry = res->status >= 500;
	if (px != NULL)
		return emg_fail(err, EMG_EIO, "%s: HTTP status %ld (through proxy %s)", url, res->status, px);
	return emg_fail(err, EMG_EIO, "%s: HTTP status %ld", url, res->status);
}

static void backoff(const emg_http_conf *conf, unsigned long ms)
{
	/* Sleep in slices so a stop request is seen promptly. */
	while (ms > 0 && (conf->stop == NULL || !*conf->stop)) {
		unsigned long slice = ms < 200 ? ms : 200;
		struct timespec ts = {(time_t)(slice / 1000), (long)(slice % 1000) * 1000000L};

		nanosleep(&ts, NULL);
		ms -= slice;
	}
}

static int attempt(CURL *h, const emg_http_conf *conf, const char *url, uint64_t max,
		   struct curl_slist *hdrs, int conditional, emg_http_res *res, int *retry,
		   emg_err *err)
{
	char errbuf[CURL_ERROR_SIZE];
	progress pr = {url, 0, 0};
	sink s = {NULL, 0, 0, max, 0, 0};
	CURLcode cc;
	int rc;

	errbuf[0] = '\0';
	*retry = 0;
	if (setup(h, conf, url, max, hdrs, &s, &pr, errbuf) != 0)
		return emg_fail(err, EMG_EIO, "%s: cannot set up the transfer", url);
	cc = curl_easy_perform(h);
	if (pr.drawn)
		fputc('\n', stderr);
	rc = judge(h, cc, conf, url, &s, errbuf, conditional, res, retry, err);
	if (rc != EMG_OK || res->not_modified) {
		free(s.buf);
		return rc;
	}
	if (s.buf == NULL) { /* empty body: still hand back a valid string */
		s.buf = emg_malloc(1);
		if (s.buf == NULL)
			return emg_fail(err, EMG_EIO, "out of memory");
		s.buf[0] = '\0';
	}
	res->body = s.buf;
	res->len = s.len;
	keep_header(h, "ETag", res->etag, sizeof res->etag);
	keep_header(h, "Last-Modified", res->last_modified, sizeof res->last_modified);
	return EMG_OK;
}

int emg_http_get(const emg_http_conf *conf, const char *url, uint64_t max_bytes,
		 const char *etag, const char *last_modified, emg_http_res *res, emg_err *err)
{
	struct curl_slist *hdrs = NULL;
	unsigned long delay = conf->retry_delay_ms;
	int conditional;
	int rc, retry;
	CURL *h;

	memset(res, 0, sizeof *res);
	if (add_header(&hdrs, "If-None-Match", etag) != 0 ||
	    add_header(&hdrs, "If-Modified-Since", last_modified) != 0) {
		curl_slist_free_all(hdrs);
		return emg_fail(err, EMG_EIO, "out of memory");
	}
	conditional = hdrs != NULL;
	h = curl_easy_init();
	if (h == NULL) {
		curl_slist_free_all(hdrs);
		return emg_fail(err, EMG_EIO, "%s: cannot start libcurl", url);
	}
	for (;;) {
		res->attempts++;
		res->why = EMG_HTTP_OK;
		rc = attempt(h, conf, url, max_bytes, hdrs, conditional, res, &retry, err);
		if (rc == EMG_OK || !retry || res->attempts > conf->retries)
			break;
		if (conf->stop != NULL && *conf->stop)
			break;
		backoff(conf, delay);
		delay = delay > 60000 ? 120000 : delay * 2;
		curl_easy_reset(h);
	}
	if (rc != EMG_OK && res->attempts > 1 && err != NULL) {
		char first[EMG_ERR_MSG_MAX];

		memcpy(first, err->msg, sizeof first);
		snprintf(err->msg, sizeof err->msg, "%s (after %u attempts)", first, res->attempts);
	}
	curl_easy_cleanup(h);
	curl_slist_free_all(hdrs);
	return rc;
}

void emg_http_res_free(emg_http_res *res)
{
	free(res->body);
	res->body = NULL;
	res->len = 0;
}
