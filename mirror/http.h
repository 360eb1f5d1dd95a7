/* http.h - the mirror's HTTP client: libcurl with TLS verification always
 * on, timeouts, bounded retries with backoff, a size cap enforced while
 * the body streams in, and conditional GET from a cached ETag or
 * Last-Modified. */
#ifndef EMG_MIRROR_HTTP_H
#define EMG_MIRROR_HTTP_H

#include <signal.h>
#include <stddef.h>
#include <stdint.h>

#include "err.h"

typedef struct emg_http_conf {
	const char *ca_bundle;         /* NULL: the system CA store */
	const char *proxy;             /* NULL: environment; "": never a proxy */
	unsigned long connect_timeout; /* seconds */
	unsigned long timeout;         /* seconds, whole transfer */
	unsigned retries;              /* extra attempts on 5xx, timeouts, resets */
	unsigned long retry_delay_ms;  /* first backoff, doubled each time */
	int progress;                  /* draw a progress bar on stderr */
	const volatile sig_atomic_t *stop; /* set: no further retries */
} emg_http_conf;

/* Why a transfer failed, for messages and for `check`. */
typedef enum emg_http_why {
	EMG_HTTP_OK = 0,
	EMG_HTTP_DNS,
	EMG_HTTP_CONNECT,
	EMG_HTTP_TLS_CERT,
	EMG_HTTP_TLS,
	EMG_HTTP_PROXY,
	EMG_HTTP_TIMEOUT,
	EMG_HTTP_TOO_BIG,
	EMG_HTTP_STATUS,
	EMG_HTTP_OTHER
} emg_http_why;

typedef struct emg_http_res {
	long status;        /* final HTTP status (0: none) */
	int not_modified;   /* 304 to a conditional request: body is empty */
	uint8_t *body;      /* malloc'd, NUL-terminated (not counted in len) */
	size_t len;
	char etag[256];     /* validators of the response, "" when absent */
	char last_modified[64];
	unsigned attempts;
	emg_http_why why;   /* when emg_http_get failed */
} emg_http_res;

/* GETs url into res. etag and last_modified (either may be NULL or "")
 * make the request conditional. Fails with EMG_EIO and a message naming
 * the URL and the reason (DNS, connect, TLS certificate, proxy, timeout,
 * size, HTTP status); res->why says which. Free res with emg_http_res_free
 * either way. */
int emg_http_get(const emg_http_conf *conf, const char *url, uint64_t max_bytes,
		 const char *etag, const char *last_modified, emg_http_res *res, emg_err *err);
void emg_http_res_free(emg_http_res *res);

const char *emg_http_why_name(emg_http_why why);

#endif
