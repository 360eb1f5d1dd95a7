/* config.c - mirror.conf parsing and checks. */
#include "mirror/config.h"

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "fileio.h"

static const emg_ini_key allowed_keys[] = {
	{"feed", "url", 0},
	{"network", "proxy", 0},
	{"network", "ca_bundle", 0},
	{"network", "connect_timeout", 0},
	{"network", "timeout", 0},
	{"network", "retries", 0},
	{"network", "retry_delay", 0},
	{"network", "max_feed_bytes", 0},
	{"network", "max_crl_bytes", 0},
	{"network", "max_ctl_bytes", 0},
	{"vendor", "anchors", 0},
	{"vendor", "eku", 1},
	{"vendor", "subject", 0},
	{"ctl", "url", 1},
	{"output", "staging", 0},
	{"output", "drop", 0},
	{"output", "retention", 0},
	{"output", "expires_after", 0},
	{"signing", "secret", 0},
	{"signing", "cert", 0},
	{"signing", "passphrase_file", 0},
	{"log", "file", 0},
	{"watch", "interval", 0},
	{"watch", "jitter", 0},
	{NULL, NULL, 0},
};

static const char *const default_ctls[] = {
	EMG_MIRROR_CTL_BASE "authrootstl.cab",
	EMG_MIRROR_CTL_BASE "disallowedcertstl.cab",
};

int emg_parse_duration(const char *s, unsigned long *out)
{
	unsigned long long v = 0, mul = 1;
	const char *p = s;

	if (*p < '0' || *p > '9')
		return -1;
	for (; *p >= '0' && *p <= '9'; p++) {
		v = v * 10 + (unsigned long long)(*p - '0');
		if (v > 100000000ULL) /* over three years in seconds: a typo */
			return -1;
	}
	if (*p != '\0') {
		switch (*p) {
		case 's': mul = 1; break;
		case 'm': mul = 60; break;
		case 'h': mul = 3600; break;
		case 'd': mul = 86400; break;
		default: return -1;
		}
		if (p[1] != '\0')
			return -1;
	}
	v *= mul;
	if (v > 100000000ULL)
		return -1;
	*out = (unsigned long)v;
	return 0;
}

static int line_of(const emg_mirror_conf *c, const char *sec, const char *key)
{
	const emg_ini_entry *e = emg_ini_find(&c->ini, sec, key);

	return e != NULL ? e->line : 0;
}

static int get_duration(emg_mirror_conf *c, const char *sec, const char *key,
			unsigned long def, unsigned long *out, emg_err *err)
{
	const char *v = emg_ini_get(&c->ini, sec, key);

	*out = def;
	if (v == NULL)
		return EMG_OK;
	if (emg_parse_duration(v, out) != 0)
		return emg_fail(err, EMG_ECONFIG,
				"%s:%d: [%s] %s: '%s' is not a duration (such as 30, 30s, 15m, 24h, 7d)",
				c->ini.path, line_of(c, sec, key), sec, key, v);
	return EMG_OK;
}

static int get_bounded(emg_mirror_conf *c, const char *sec, const char *key,
		       unsigned long long def, unsigned long long min, unsigned long long max,
		       unsigned long long *out, emg_err *err)
{
	int rc = emg_ini_get_u64(&c->ini, sec, key, def, out, err);

	if (rc != EMG_OK)
		return rc;
	if (*out < min || *out > max)
		return emg_fail(err, EMG_ECONFIG, "%s:%d: [%s] %s: %llu is outside %llu..%llu",
				c->ini.path, line_of(c, sec, key), sec, key, *out, min, max);
	return EMG_OK;
}

/* Only http and https: the mirror never reads file:// or anything else
 * that a hostile config or certificate could point it at. */
static int url_ok(const char *u)
{
	if (strncasecmp(u, "https://", 8) == 0)
		return u[8] != '\0' && u[8] != '/';
	if (strncasecmp(u, "http://", 7) == 0)
		return u[7] != '\0' && u[7] != '/';
	return 0;
}

static int check_url(const emg_mirror_conf *c, const char *sec, const char *key,
		     const char *u, int line, emg_err *err)
{
	size_t i;

	for (i = 0; u[i] != '\0'; i++)
		if ((unsigned char)u[i] <= ' ' || u[i] == 0x7f)
			return emg_fail(err, EMG_ECONFIG, "%s:%d: [%s] %s: URL contains a space or control character",
					c->ini.path, line, sec, key);
	if (!url_ok(u))
		return emg_fail(err, EMG_ECONFIG, "%s:%d: [%s] %s: '%s' is not an http:// or https:// URL",
				c->ini.path, line, sec, key, u);
	return EMG_OK;
}

/* Returns the value of sec/key as a path: absolute as is, relative to dir. */
static int get_path(emg_mirror_conf *c, const char *dir, const char *sec, const char *key,
		    const char **out, emg_err *err)
{
	const char *v = emg_ini_get(&c->ini, sec, key);
	char buf[PATH_MAX];
	char *p;

	*out = NULL;
	if (v == NULL)
		return EMG_OK;
	if (v[0] == '\0')
		return emg_fail(err, EMG_ECONFIG, "%s:%d: [%s] %s: empty path", c->ini.path,
				line_of(c, sec, key), sec, key);
	if (v[0] == '/' || dir == NULL || strcmp(dir, ".") == 0) {
		*out = v;
		return EMG_OK;
	}
	if ((size_t)snprintf(buf, sizeof buf, "%s/%s", dir, v) >= sizeof buf)
		return emg_fail(err, EMG_ECONFIG, "%s:%d: [%s] %s: path too long", c->ini.path,
				line_of(c, sec, key), sec, key);
	if (c->owned_count >= sizeof c->owned / sizeof c->owned[0])
		return emg_fail(err, EMG_ECONFIG, "%s: too many paths", c->ini.path);
	p = strdup(buf);
	if (p == NULL)
		return emg_fail(err, EMG_EIO, "out of memory");
	c->owned[c->owned_count++] = p;
	*out = p;
	return EMG_OK;
}

static int load_urls(emg_mirror_conf *c, emg_err *err)
{
	const emg_ini_entry *e;
	size_t pos = 0;
	const char *v;
	int rc;

	c->feed_url = emg_ini_get(&c->ini, "feed", "url");
	if (c->feed_url == NULL)
		c->feed_url = EMG_MIRROR_DEFAULT_FEED;
	e = emg_ini_find(&c->ini, "feed", "url");
	rc = check_url(c, "feed", "url", c->feed_url, e ? e->line : 0, err);
	if (rc != EMG_OK)
		return rc;
	while ((v = emg_ini_next(&c->ini, "ctl", "url", &pos)) != NULL) {
		if (c->ctl_count >= EMG_MIRROR_MAX_CTL)
			return emg_fail(err, EMG_ECONFIG, "%s: more than %d [ctl] url entries",
					c->ini.path, EMG_MIRROR_MAX_CTL);
		rc = check_url(c, "ctl", "url", v, c->ini.entries[pos - 1].line, err);
		if (rc != EMG_OK)
			return rc;
		c->ctl_url[c->ctl_count++] = v;
	}
	if (c->ctl_count == 0) {
		c->ctl_url[0] = default_ctls[0];
		c->ctl_url[1] = default_ctls[1];
		c->ctl_count = 2;
	}
	return EMG_OK;
}

static int load_network(emg_mirror_conf *c, const char *dir, emg_err *err)
{
	unsigned long long v;
	int rc;

	c->proxy = emg_ini_get(&c->ini, "network", "proxy");
	if (c->proxy != NULL && (strcmp(c->proxy, "none") == 0 || strcmp(c->proxy, "direct") == 0))
		c->proxy = "";
	else if (c->proxy != NULL) {
		rc = check_url(c, "network", "proxy", c->proxy, line_of(c, "network", "proxy"), err);
		if (rc != EMG_OK)
			return rc;
	}
	if ((rc = get_path(c, dir, "network", "ca_bundle", &c->ca_bundle, err)) != EMG_OK ||
	    (rc = get_duration(c, "network", "connect_timeout", 30, &c->connect_timeout, err)) != EMG_OK ||
	    (rc = get_duration(c, "network", "timeout", 300, &c->timeout, err)) != EMG_OK ||
	    (rc = get_bounded(c, "network", "retries", 3, 0, 10, &v, err)) != EMG_OK)
		return rc;
	c->retries = (unsigned)v;
	if ((rc = get_bounded(c, "network", "retry_delay", 2000, 0, 600000, &v, err)) != EMG_OK)
		return rc;
	c->retry_delay_ms = (unsigned long)v;
	if (c->timeout == 0 || c->connect_timeout == 0)
		return emg_fail(err, EMG_ECONFIG, "%s: [network] timeouts must be above zero", c->ini.path);
	if ((rc = get_bounded(c, "network", "max_feed_bytes", 8u << 20, 1024, 64u << 20, &v, err)) != EMG_OK)
		return rc;
	c->max_feed_bytes = v;
	if ((rc = get_bounded(c, "network", "max_crl_bytes", 64u << 20, 64, 1024u << 20, &v, err)) != EMG_OK)
		return rc;
	c->max_crl_bytes = v;
	if ((rc = get_bounded(c, "network", "max_ctl_bytes", 64u << 20, 64, 1024u << 20, &v, err)) != EMG_OK)
		return rc;
	c->max_ctl_bytes = v;
	return EMG_OK;
}

static int load_vendor(emg_mirror_conf *c, const char *dir, emg_err *err)
{
	size_t pos = 0;
	const char *v;
	int rc;

	if ((rc = get_path(c, dir, "vendor", "anchors", &c->anchors, err)) != EMG_OK)
		return rc;
	c->subject = emg_ini_get(&c->ini, "vendor", "subject");
	while ((v = emg_ini_next(&c->ini, "vendor", "eku", &pos)) != NULL) {
		const char *p;
		int line = c->ini.entries[pos - 1].line;

		if (c->eku_count >= EMG_MIRROR_MAX_EKU)
			return emg_fail(err, EMG_ECONFIG, "%s:%d: more than %d [vendor] eku entries",
					c->ini.path, line, EMG_MIRROR_MAX_EKU);
		for (p = v; *p != '\0'; p++)
			if ((*p < '0' || *p > '9') && *p != '.')
				break;
		if (*v == '\0' || *p != '\0' || strstr(v, "..") != NULL || v[0] == '.')
			return emg_fail(err, EMG_ECONFIG, "%s:%d: [vendor] eku: '%s' is not a dotted OID",
					c->ini.path, line, v);
		c->eku[c->eku_count++] = v;
	}
	/* No eku line means code signing, as EEMS checks, never "any". */
	if (c->eku_count == 0)
		c->eku[c->eku_count++] = "1.3.6.1.5.5.7.3.3";
	return EMG_OK;
}

static int load_output(emg_mirror_conf *c, const char *dir, emg_err *err)
{
	unsigned long long v;
	int rc;

	if ((rc = get_path(c, dir, "output", "staging", &c->staging, err)) != EMG_OK ||
	    (rc = get_path(c, dir, "output", "drop", &c->drop, err)) != EMG_OK ||
	    (rc = get_bounded(c, "output", "retention", 10, 1, 100000, &v, err)) != EMG_OK)
		return rc;
	c->retention = (unsigned)v;
	if ((rc = get_duration(c, "output", "expires_after", 7 * 86400UL, &c->expires_after, err)) != EMG_OK)
		return rc;
	if (c->expires_after < 60)
		return emg_fail(err, EMG_ECONFIG, "%s:%d: [output] expires_after: under a minute",
				c->ini.path, line_of(c, "output", "expires_after"));
	return EMG_OK;
}

static int load_rest(emg_mirror_conf *c, const char *dir, emg_err *err)
{
	int rc;

	if ((rc = get_path(c, dir, "signing", "secret", &c->secret, err)) != EMG_OK ||
	    (rc = get_path(c, dir, "signing", "cert", &c->cert, err)) != EMG_OK ||
	    (rc = get_path(c, dir, "signing", "passphrase_file", &c->passphrase_file, err)) != EMG_OK ||
	    (rc = get_path(c, dir, "log", "file", &c->log_file, err)) != EMG_OK ||
	    (rc = get_duration(c, "watch", "interval", 3600, &c->interval, err)) != EMG_OK ||
	    (rc = get_duration(c, "watch", "jitter", 300, &c->jitter, err)) != EMG_OK)
		return rc;
	if ((c->secret == NULL) != (c->cert == NULL))
		return emg_fail(err, EMG_ECONFIG, "%s:%d: [signing] needs both secret and cert",
				c->ini.path, line_of(c, "signing", c->secret ? "secret" : "cert"));
	if (c->passphrase_file != NULL && c->secret == NULL)
		return emg_fail(err, EMG_ECONFIG, "%s:%d: [signing] passphrase_file without secret",
				c->ini.path, line_of(c, "signing", "passphrase_file"));
	if (c->interval < 60)
		return emg_fail(err, EMG_ECONFIG, "%s:%d: [watch] interval: under a minute",
				c->ini.path, line_of(c, "watch", "interval"));
	return EMG_OK;
}

int emg_mirror_conf_parse(emg_mirror_conf *c, const char *name, const char *dir,
			  const char *text, size_t len, emg_err *err)
{
	int rc;

	memset(c, 0, sizeof *c);
	rc = emg_ini_parse(&c->ini, name, text, len, err);
	if (rc != EMG_OK)
		return rc;
	if ((rc = emg_ini_check(&c->ini, allowed_keys, err)) != EMG_OK ||
	    (rc = load_urls(c, err)) != EMG_OK ||
	    (rc = load_network(c, dir, err)) != EMG_OK ||
	    (rc = load_vendor(c, dir, err)) != EMG_OK ||
	    (rc = load_output(c, dir, err)) != EMG_OK ||
	    (rc = load_rest(c, dir, err)) != EMG_OK)
		return rc;
	return EMG_OK;
}

int emg_mirror_conf_load(emg_mirror_conf *c, const char *path, emg_err *err)
{
	char dir[PATH_MAX];
	uint8_t *buf;
	size_t len;
	int rc;

	memset(c, 0, sizeof *c);
	rc = emg_read_file(path, EMG_INI_MAX_BYTES, EMG_ECONFIG, &buf, &len, err);
	if (rc != EMG_OK) {
		/* Unreadable or too big: either way the config is at fault. */
		if (err != NULL)
			err->code = EMG_ECONFIG;
		return EMG_ECONFIG;
	}
	emg_dirname(path, dir, sizeof dir);
	rc = emg_mirror_conf_parse(c, path, dir, (const char *)buf, len, err);
	free(buf);
	return rc;
}

void emg_mirror_conf_free(emg_mirror_conf *c)
{
	size_t i;

	for (i = 0; i < c->owned_count; i++)
		free(c->owned[i]);
	c->owned_count = 0;
	emg_ini_free(&c->ini);
}

int emg_mirror_conf_require(const emg_mirror_conf *c, int need_drop, emg_err *err)
{
	if (c->anchors == NULL)
		return emg_fail(err, EMG_ECONFIG, "%s: [vendor] anchors is required", c->ini.path);
	if (c->staging == NULL)
		return emg_fail(err, EMG_ECONFIG, "%s: [output] staging is required", c->ini.path);
	if (need_drop && c->drop == NULL)
		return emg_fail(err, EMG_ECONFIG, "%s: [output] drop is required", c->ini.path);
	return EMG_OK;
}
