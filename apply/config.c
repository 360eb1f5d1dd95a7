/* config.c - loading and checking apply.conf. */
#include "apply/config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fileio.h"
#include "ini.h"

static const emg_ini_key allowed_keys[] = {
	{"server", "name", 0},
	{"server", "product", 0},
	{"server", "build", 0},
	{"server", "root", 0},
	{"server", "allow_root_slash", 0},
	{"trust", "dir", 0},
	{"state", "dir", 0},
	{"sources", "path", 1},
	{"sources", "url", 1},
	{"sources", "ca_file", 0},
	{"sources", "timeout", 0},
	{"host", "backend", 0},
	{"policy", "auto_revert_obsolete", 0},
	{"org", "settings", 0},
	{"org", "status_dir", 0},
	{"schedule", "first_delay", 0},
	{"schedule", "interval", 0},
	{"schedule", "jitter", 0},
	{"log", "max_bytes", 0},
	{"log", "keep", 0},
	{"log", "syslog", 0},
	{NULL, NULL, 0},
};

/* Where a key was set, for messages: "file:line" or just "file". */
static void where(const emg_ini *ini, const char *sec, const char *key, char *out, size_t n)
{
	const emg_ini_entry *e = emg_ini_find(ini, sec, key);

	if (e != NULL)
		snprintf(out, n, "%s:%d", ini->path, e->line);
	else
		snprintf(out, n, "%s", ini->path);
}

/* Copies a path value, resolving a relative one against the config's dir. */
static int put_path(const emg_ini *ini, const char *cfgdir, const char *sec, const char *key,
		    const char *val, char *out, size_t n, emg_err *err)
{
	char at[600];
	int w;

	where(ini, sec, key, at, sizeof at);
	if (val[0] == '\0')
		return emg_fail(err, EMG_ECONFIG, "%s: [%s] %s is empty", at, sec, key);
	if (val[0] == '/')
		w = snprintf(out, n, "%s", val);
	else
		w = snprintf(out, n, "%s/%s", cfgdir, val);
	if (w < 0 || (size_t)w >= n)
		return emg_fail(err, EMG_ECONFIG, "%s: [%s] %s is too long", at, sec, key);
	return EMG_OK;
}

static int need(const emg_ini *ini, const char *sec, const char *key, const char **val, emg_err *err)
{
	*val = emg_ini_get(ini, sec, key);
	if (*val == NULL || (*val)[0] == '\0')
		return emg_fail(err, EMG_ECONFIG, "%s: [%s] %s is required", ini->path, sec, key);
	return EMG_OK;
}

static int put_str(const emg_ini *ini, const char *sec, const char *key, const char *val,
		   char *out, size_t n, emg_err *err)
{
	char at[600];

	if (strlen(val) >= n) {
		where(ini, sec, key, at, sizeof at);
		return emg_fail(err, EMG_ECONFIG, "%s: [%s] %s is too long", at, sec, key);
	}
	memcpy(out, val, strlen(val) + 1);
	return EMG_OK;
}

static int valid_build(const char *b)
{
	int dots = 0;
	const char *p;

	if (*b < '0' || *b > '9')
		return 0;
	for (p = b; *p; p++) {
		if (*p == '.') {
			if (p[1] < '0' || p[1] > '9')
				return 0;
			dots++;
		} else if (*p < '0' || *p > '9') {
			return 0;
		}
	}
	return dots >= 1 && dots <= 3;
}

static int load_server(const emg_ini *ini, const char *cfgdir, emg_apply_config *cfg, emg_err *err)
{
	const char *v;
	char at[600];
	int allow_slash = 0;
	int rc;

	if ((rc = need(ini, "server", "name", &v, err)) != EMG_OK ||
	    (rc = put_str(ini, "server", "name", v, cfg->server_name, sizeof cfg->server_name, err)) != EMG_OK)
		return rc;
	if ((rc = need(ini, "server", "product", &v, err)) != EMG_OK)
		return rc;
	if (strcmp(v, "Exchange2016") != 0 && strcmp(v, "Exchange2019") != 0 &&
	    strcmp(v, "ExchangeSE") != 0) {
		where(ini, "server", "product", at, sizeof at);
		return emg_fail(err, EMG_ECONFIG,
				"%s: [server] product '%s' is not Exchange2016, Exchange2019 or ExchangeSE", at, v);
	}
	snprintf(cfg->product, sizeof cfg->product, "%s", v);
	if ((rc = need(ini, "server", "build", &v, err)) != EMG_OK)
		return rc;
	if (!valid_build(v) || strlen(v) >= sizeof cfg->build) {
		where(ini, "server", "build", at, sizeof at);
		return emg_fail(err, EMG_ECONFIG, "%s: [server] build '%s' is not a build number such as 15.2.1118.7", at, v);
	}
	snprintf(cfg->build, sizeof cfg->build, "%s", v);
	if ((rc = emg_ini_get_bool(ini, "server", "allow_root_slash", 0, &allow_slash, err)) != EMG_OK)
		return rc;
	if ((rc = need(ini, "server", "root", &v, err)) != EMG_OK ||
	    (rc = put_path(ini, cfgdir, "server", "root", v, cfg->root, sizeof cfg->root, err)) != EMG_OK)
		return rc;
	/* The root stands for C:\ and every edit lands below it: the real "/"
	 * would let a feed aim at the host's own files, so it is opt-in. */
	if (strspn(cfg->root, "/") == strlen(cfg->root) && !allow_slash) {
		where(ini, "server", "root", at, sizeof at);
		return emg_fail(err, EMG_ECONFIG, "%s: [server] root is '/'; set allow_root_slash = true if that is meant", at);
	}
	return EMG_OK;
}

static int load_sources(const emg_ini *ini, const char *cfgdir, emg_apply_config *cfg, emg_err *err)
{
	const char *v;
	size_t pos = 0;
	char buf[PATH_MAX];
	char at[600];
	int rc;

	while ((v = emg_ini_next(ini, "sources", "path", &pos)) != NULL) {
		if (cfg->source_path_count >= EMG_APPLY_MAX_SOURCES)
			return emg_fail(err, EMG_ECONFIG, "%s: more than %d [sources] path entries", ini->path, EMG_APPLY_MAX_SOURCES);
		if ((rc = put_path(ini, cfgdir, "sources", "path", v, buf, sizeof buf, err)) != EMG_OK)
			return rc;
		if ((cfg->source_paths[cfg->source_path_count] = strdup(buf)) == NULL)
			return emg_fail(err, EMG_EIO, "out of memory");
		cfg->source_path_count++;
	}
	pos = 0;
	while ((v = emg_ini_next(ini, "sources", "url", &pos)) != NULL) {
		if (cfg->source_url_count >= EMG_APPLY_MAX_SOURCES)
			return emg_fail(err, EMG_ECONFIG, "%s: more than %d [sources] url entries", ini->path, EMG_APPLY_MAX_SOURCES);
		/* Plain http would let anyone on the path withhold or swap
		 * bundles; signatures still hold, but freshness would not. */
		if (strncmp(v, "https://", 8) != 0 && strncmp(v, "file://", 7) != 0) {
			where(ini, "sources", "url", at, sizeof at);
			return emg_fail(err, EMG_ECONFIG, "%s: [sources] url '%s' is not https:// or file://", at, v);
		}
		if ((cfg->source_urls[cfg->source_url_count] = strdup(v)) == NULL)
			return emg_fail(err, EMG_EIO, "out of memory");
		cfg->source_url_count++;
	}
	if ((v = emg_ini_get(ini, "sources", "ca_file")) != NULL &&
	    (rc = put_path(ini, cfgdir, "sources", "ca_file", v, cfg->ca_file, sizeof cfg->ca_file, err)) != EMG_OK)
		return rc;
	return emg_ini_get_u64(ini, "sources", "timeout", 30, &cfg->source_timeout, err);
}

static int load_rest(const emg_ini *ini, const char *cfgdir, emg_apply_config *cfg, emg_err *err)
{
	const char *v;
	char at[600];
	int rc;

	if ((rc = need(ini, "trust", "dir", &v, err)) != EMG_OK ||
	    (rc = put_path(ini, cfgdir, "trust", "dir", v, cfg->trust_dir, sizeof cfg->trust_dir, err)) != EMG_OK)
		return rc;
	if ((rc = need(ini, "state", "dir", &v, err)) != EMG_OK ||
	    (rc = put_path(ini, cfgdir, "state", "dir", v, cfg->state_dir, sizeof cfg->state_dir, err)) != EMG_OK)
		return rc;
	v = emg_ini_get(ini, "host", "backend");
	if (v == NULL)
		v = "sim";
	if (strcmp(v, "sim") != 0 && strcmp(v, "windows") != 0) {
		where(ini, "host", "backend", at, sizeof at);
		return emg_fail(err, EMG_ECONFIG, "%s: [host] backend '%s' is not sim or windows", at, v);
	}
	snprintf(cfg->backend, sizeof cfg->backend, "%s", v);
	if ((rc = emg_ini_get_bool(ini, "policy", "auto_revert_obsolete", 0, &cfg->auto_revert_obsolete, err)) != EMG_OK)
		return rc;
	if ((v = emg_ini_get(ini, "org", "settings")) != NULL &&
	    (rc = put_path(ini, cfgdir, "org", "settings", v, cfg->org_settings, sizeof cfg->org_settings, err)) != EMG_OK)
		return rc;
	if ((v = emg_ini_get(ini, "org", "status_dir")) != NULL &&
	    (rc = put_path(ini, cfgdir, "org", "status_dir", v, cfg->org_status_dir, sizeof cfg->org_status_dir, err)) != EMG_OK)
		return rc;
	if ((rc = emg_ini_get_u64(ini, "schedule", "first_delay", 600, &cfg->first_delay, err)) != EMG_OK ||
	    (rc = emg_ini_get_u64(ini, "schedule", "interval", 3600, &cfg->interval, err)) != EMG_OK ||
	    (rc = emg_ini_get_u64(ini, "schedule", "jitter", 300, &cfg->jitter, err)) != EMG_OK ||
	    (rc = emg_ini_get_u64(ini, "log", "max_bytes", 1024 * 1024, &cfg->log_max_bytes, err)) != EMG_OK ||
	    (rc = emg_ini_get_u64(ini, "log", "keep", 5, &cfg->log_keep, err)) != EMG_OK ||
	    (rc = emg_ini_get_bool(ini, "log", "syslog", 1, &cfg->log_syslog, err)) != EMG_OK)
		return rc;
	if (cfg->interval == 0) {
		where(ini, "schedule", "interval", at, sizeof at);
		return emg_fail(err, EMG_ECONFIG, "%s: [schedule] interval must be at least 1 second", at);
	}
	return EMG_OK;
}

int emg_apply_config_load(const char *path, emg_apply_config *cfg, emg_err *err)
{
	emg_ini ini;
	char cfgdir[PATH_MAX];
	int rc;

	memset(cfg, 0, sizeof *cfg);
	memset(&ini, 0, sizeof ini);
	if (snprintf(cfg->path, sizeof cfg->path, "%s", path) >= (int)sizeof cfg->path)
		return emg_fail(err, EMG_ECONFIG, "%s: path too long", path);
	emg_dirname(path, cfgdir, sizeof cfgdir);
	/* Relative paths in the file are taken from the file's directory;
	 * made absolute here so messages and the state name real places. */
	{
		char abs[PATH_MAX];
		if (realpath(cfgdir, abs) != NULL)
			snprintf(cfgdir, sizeof cfgdir, "%s", abs);
	}
	rc = emg_ini_load(&ini, path, err);
	if (rc != EMG_OK)
		return rc;
	rc = emg_ini_check(&ini, allowed_keys, err);
	if (rc == EMG_OK)
		rc = load_server(&ini, cfgdir, cfg, err);
	if (rc == EMG_OK)
		rc = load_sources(&ini, cfgdir, cfg, err);
	if (rc == EMG_OK)
		rc = load_rest(&ini, cfgdir, cfg, err);
	emg_ini_free(&ini);
	if (rc != EMG_OK)
		emg_apply_config_free(cfg);
	return rc;
}

void emg_apply_config_free(emg_apply_config *cfg)
{
	size_t i;

	for (i = 0; i < cfg->source_path_count; i++)
		free(cfg->source_paths[i]);
	for (i = 0; i < cfg->source_url_count; i++)
		free(cfg->source_urls[i]);
	cfg->source_path_count = 0;
	cfg->source_url_count = 0;
}

const char *emg_apply_config_arg(int argc, char **argv)
{
	int i;

	for (i = 1; i + 1 < argc; i++)
		if (strcmp(argv[i], "--config") == 0)
			return argv[i + 1];
	return EMG_APPLY_CONFIG_DEFAULT;
}
