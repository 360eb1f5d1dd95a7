/* config.h - mirror.conf: where the mirror fetches from, how it talks to the
 * network, what it trusts and where it publishes (mirror.conf(5)). */
#ifndef EMG_MIRROR_CONFIG_H
#define EMG_MIRROR_CONFIG_H

#include <stddef.h>
#include <stdint.h>

#include "err.h"
#include "ini.h"

#define EMG_MIRROR_DEFAULT_FEED "https://officeclient.microsoft.com/GetExchangeMitigations"
#define EMG_MIRROR_CTL_BASE "http://ctldl.windowsupdate.com/msdownload/update/v3/static/trustedr/en/"
#define EMG_MIRROR_MAX_CTL 16
#define EMG_MIRROR_MAX_EKU 8

typedef struct emg_mirror_conf {
	emg_ini ini;        /* owns every string not in owned[] */
	char *owned[16];    /* paths resolved against the config's directory */
	size_t owned_count;

	const char *feed_url;
	/* [network] */
	const char *proxy;  /* NULL: the usual environment variables; "" : none */
	const char *ca_bundle;       /* NULL: the system's CA store */
	unsigned long connect_timeout; /* seconds */
	unsigned long timeout;         /* seconds, whole transfer */
	unsigned retries;
	unsigned long retry_delay_ms;  /* first backoff; doubles each retry */
	uint64_t max_feed_bytes;
	uint64_t max_crl_bytes;
	uint64_t max_ctl_bytes;
	/* [vendor] */
	const char *anchors;
	const char *eku[EMG_MIRROR_MAX_EKU];
	size_t eku_count;
	const char *subject;
	/* [ctl] */
	const char *ctl_url[EMG_MIRROR_MAX_CTL];
	size_t ctl_count;
	/* [output] */
	const char *staging;
	const char *drop;
	unsigned retention;
	unsigned long expires_after; /* seconds */
	/* [signing] */
	const char *secret;
	const char *cert;
	const char *passphrase_file;
	/* [log] */
	const char *log_file;
	/* [watch] */
	unsigned long interval; /* seconds */
	unsigned long jitter;   /* seconds, at most this much added at random */
} emg_mirror_conf;

/* Loads and checks path. Unknown keys, malformed values and bad URLs fail
 * with EMG_ECONFIG and "file:line: ..."; relative paths are taken from the
 * config file's directory. Free with emg_mirror_conf_free even on failure. */
int emg_mirror_conf_load(emg_mirror_conf *c, const char *path, emg_err *err);
/* The same from text in memory (name stands for the file in messages; dir
 * is the base for relative paths). */
int emg_mirror_conf_parse(emg_mirror_conf *c, const char *name, const char *dir,
			  const char *text, size_t len, emg_err *err);
void emg_mirror_conf_free(emg_mirror_conf *c);

/* What a command needs: fetch needs [vendor] anchors and [output] staging,
 * run also [output] drop. Fails with EMG_ECONFIG naming the missing key. */
int emg_mirror_conf_require(const emg_mirror_conf *c, int need_drop, emg_err *err);

/* "90", "90s", "15m", "24h", "7d" -> seconds. -1 on anything else. */
int emg_parse_duration(const char *s, unsigned long *out);

#endif
