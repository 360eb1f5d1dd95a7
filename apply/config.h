/* config.h - apply.conf, the applier's configuration (apply.conf(5)).
 *
 * Strict INI (common/ini.h): unknown sections or keys are refused and every
 * error names the file and line. Sections and keys:
 *
 *   [server]  name, product (Exchange2016|Exchange2019|ExchangeSE), build,
 *             root (the directory standing for C:\), allow_root_slash
 *   [trust]   dir
 *   [state]   dir
 *   [sources] path = DIR (repeatable), url = https://...|file://... (repeatable),
 *             ca_file = PEM bundle for https sources, timeout = seconds
 *   [host]    backend = sim|windows
 *   [policy]  auto_revert_obsolete = true|false
 *   [org]     settings = FILE (the organisation's settings file on a share),
 *             status_dir = DIR (where each run writes this server's status)
 *   [schedule] first_delay, interval, jitter (seconds; for "service")
 *   [log]     max_bytes, keep (rotation of <state>/emgap.log), syslog = true|false
 *
 * Paths are kept as written; relative paths are taken relative to the
 * directory of the config file, so a test tree can carry its own config.
 */
#ifndef EMG_APPLY_CONFIG_H
#define EMG_APPLY_CONFIG_H

#include <limits.h>
#include <stddef.h>

#include "err.h"

#define EMG_APPLY_CONFIG_DEFAULT "/etc/emgap/apply.conf"
#define EMG_APPLY_MAX_SOURCES 64

typedef struct emg_apply_config {
	char path[PATH_MAX];        /* the config file that was loaded */
	char server_name[256];
	char product[32];           /* Exchange2016, Exchange2019, ExchangeSE */
	char build[32];             /* dotted build, e.g. 15.2.1118.7 */
	char root[PATH_MAX];        /* server root, standing for C:\ */
	char trust_dir[PATH_MAX];
	char state_dir[PATH_MAX];
	char *source_paths[EMG_APPLY_MAX_SOURCES]; /* directories, in config order */
	size_t source_path_count;
	char *source_urls[EMG_APPLY_MAX_SOURCES];  /* https:// or file:// URLs */
	size_t source_url_count;
	char ca_file[PATH_MAX];     /* "" = the system CA store */
	unsigned long long source_timeout; /* seconds, per URL */
	char backend[16];           /* "sim" or "windows" */
	int auto_revert_obsolete;   /* default false */
	char org_settings[PATH_MAX];  /* "" when not configured */
	char org_status_dir[PATH_MAX]; /* "" when not configured */
	unsigned long long first_delay; /* seconds, default 600 */
	unsigned long long interval;    /* seconds, default 3600 */
	unsigned long long jitter;      /* seconds, default 300 */
	unsigned long long log_max_bytes; /* default 1 MiB */
	unsigned long long log_keep;      /* rotated files kept, default 5 */
	int log_syslog;                   /* default true */
} emg_apply_config;

/* Loads and checks path into cfg (EMG_ECONFIG with "file:line: ..." on
 * anything wrong, also when unreadable). On success the caller frees
 * with emg_apply_config_free; on failure nothing is left to free. */
int emg_apply_config_load(const char *path, emg_apply_config *cfg, emg_err *err);
void emg_apply_config_free(emg_apply_config *cfg);

/* Finds "--config FILE" in argv (any position); returns the default when
 * absent. Does not modify argv. */
const char *emg_apply_config_arg(int argc, char **argv);

#endif
