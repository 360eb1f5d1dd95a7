/* fleet.c - per-server status files on the share and the fleet view. */
#include "apply/fleet.h"
#include "fileio.h"
#include "ini.h"
#include "sysio.h"
#include "timefmt.h"

#include <dirent.h>
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

static const emg_ini_key fleet_keys[] = {
	{"server", "name", 0},
	{"server", "product", 0},
	{"server", "build", 0},
	{"server", "mitigations_enabled", 0},
	{"server", "org_mitigations_enabled", 0},
	{"server", "mitigations_applied", 0},
	{"server", "mitigations_blocked", 0},
	{"server", "failed", 0},
	{"server", "last_checked", 0},
	{"server", "interval", 0},
	{"server", "sequence", 0},
	{"server", "result", 0},
	{NULL, NULL, 0},
};

void emg_fleet_status_free(emg_fleet_status *s)
{
	emg_idlist_free(&s->applied);
	emg_idlist_free(&s->blocked);
	emg_idlist_free(&s->failed);
}

int emg_fleet_name_valid(const char *name)
{
	size_t i, n = strlen(name);

	if (n == 0 || n >= sizeof ((emg_fleet_status *)0)->name || name[0] == '.')
		return 0;
	for (i = 0; i < n; i++) {
		char c = name[i];
		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		      c == '-' || c == '_' || c == '.'))
			return 0;
	}
	return 1;
}

/* One line of free text (an error message) fit for an INI value. */
static void one_line(char *dst, size_t dstlen, const char *src)
{
	size_t i;

	snprintf(dst, dstlen, "%s", src ? src : "");
	for (i = 0; dst[i] != '\0'; i++)
		if ((unsigned char)dst[i] < 0x20 || dst[i] == 0x7F)
			dst[i] = ' ';
}

int emg_fleet_from_state(const emg_apply_config *cfg, const emg_state *st,
			 const emg_server_settings *ss, int org_enabled, time_t now,
			 emg_fleet_status *s, emg_err *err)
{
	size_t i;
	int rc = EMG_OK;

	memset(s, 0, sizeof *s);
	if (!emg_fleet_name_valid(cfg->server_name))
		return emg_fail(err, EMG_ECONFIG, "%s: server name '%.100s' cannot name a status file "
				"(letters, digits, '-', '_', '.')", cfg->path, cfg->server_name);
	snprintf(s->name, sizeof s->name, "%s", cfg->server_name);
	snprintf(s->product, sizeof s->product, "%s", cfg->product);
	snprintf(s->build, sizeof s->build, "%s", cfg->build);
	s->enabled = ss->enabled;
	s->org_enabled = org_enabled;
	/* An idle run only touches last-check; fall back to the last full run. */
	s->last_checked = cfg->state_dir[0] ? emg_state_last_checked(cfg->state_dir) : 0;
	if (s->last_checked == 0)
		s->last_checked = st->last_run ? st->last_run : now;
	s->interval = cfg->interval;
	s->sequence = st->have_sequence ? st->sequence : 0;
	if (st->last_error[0] != '\0')
		one_line(s->result, sizeof s->result, st->last_error);
	else
		snprintf(s->result, sizeof s->result, "ok");
	for (i = 0; rc == EMG_OK && i < st->count; i++) {
		const emg_state_action *a = &st->actions[i];
		if (!emg_id_valid(a->subid))
			continue;
		/* What is on the server, whatever the status says: a blocked
		 * or obsolete action stays in place until it is reverted. A
		 * failed one is listed as failed, since the last attempt
		 * leaves it unknown whether the change still holds. */
		if (a->status == EMG_ST_FAILED)
			rc = emg_idlist_add(&s->failed, a->subid, err);
		else if (a->in_place)
			rc = emg_idlist_add(&s->applied, a->subid, err);
	}
	for (i = 0; rc == EMG_OK && i < ss->blocked_count; i++)
		if (emg_id_valid(ss->blocked[i]))
			rc = emg_idlist_add(&s->blocked, ss->blocked[i], err);
	if (rc != EMG_OK)
		emg_fleet_status_free(s);
	return rc;
}

void emg_fleet_render(const emg_fleet_status *s, emg_sbuf *b)
{
	char t[EMG_TIME_LEN];

	emg_time_format(s->last_checked, t);
	emg_sbuf_puts(b, "# emgap server status (written by emgap-apply run; read by get-server --all)\n");
	emg_sbuf_printf(b, "[server]\nname = %s\nproduct = %s\nbuild = %s\n", s->name, s->product, s->build);
	emg_sbuf_printf(b, "mitigations_enabled = %s\n", s->enabled ? "true" : "false");
	emg_sbuf_printf(b, "org_mitigations_enabled = %s\n", s->org_enabled ? "true" : "false");
	emg_sbuf_puts(b, "mitigations_applied = ");
	emg_idlist_join(&s->applied, ",", b);
	emg_sbuf_puts(b, "\nmitigations_blocked = ");
	emg_idlist_join(&s->blocked, ",", b);
	emg_sbuf_puts(b, "\nfailed = ");
	emg_idlist_join(&s->failed, ",", b);
	emg_sbuf_printf(b, "\nlast_checked = %s\n", t);
	if (s->interval > 0)
		emg_sbuf_printf(b, "interval = %llu\n", s->interval);
	emg_sbuf_printf(b, "sequence = %" PRIu64 "\nresult = %s\n", s->sequence, s->result);
}

static int copy_field(const emg_ini *ini, const char *key, char *dst, size_t dstlen,
		      int required, emg_err *err)
{
	const char *v = emg_ini_get(ini, "server", key);

	if (v == NULL) {
		if (required)
			return emg_fail(err, EMG_ECONFIG, "%s: [server] %s is missing", ini->path, key);
		dst[0] = '\0';
		return EMG_OK;
	}
	if (strlen(v) >= dstlen)
		return emg_fail(err, EMG_ECONFIG, "%s:%d: %s is too long", ini->path,
				emg_ini_find(ini, "server", key)->line, key);
	memcpy(dst, v, strlen(v) + 1);
	return EMG_OK;
}

static int list_field(const emg_ini *ini, const char *key, emg_idlist *l, emg_err *err)
{
	const char *v = emg_ini_get(ini, "server", key);
	char what[600];
	int rc;

	if (v == NULL)
		return EMG_OK;
	snprintf(what, sizeof what, "%s:%d: %s", ini->path, emg_ini_find(ini, "server", key)->line, key);
	rc = emg_idlist_parse(l, v, what, err);
	if (rc == EMG_EUSAGE) {
		/* A bad id in a file is a malformed file, not a bad command line. */
		if (err != NULL)
			err->code = EMG_ECONFIG;
		rc = EMG_ECONFIG;
	}
	return rc;
}

static int parse_fields(const emg_ini *ini, emg_fleet_status *s, emg_err *err)
{
	unsigned long long seq = 0;
	const char *t;
	int rc;

	if ((rc = copy_field(ini, "name", s->name, sizeof s->name, 1, err)) != EMG_OK ||
	    (rc = copy_field(ini, "product", s->product, sizeof s->product, 0, err)) != EMG_OK ||
	    (rc = copy_field(ini, "build", s->build, sizeof s->build, 0, err)) != EMG_OK ||
	    (rc = copy_field(ini, "result", s->result, sizeof s->result, 0, err)) != EMG_OK)
		return rc;
	if (!emg_fleet_name_valid(s->name))
		return emg_fail(err, EMG_ECONFIG, "%s: name '%.80s' is not a server name", ini->path, s->name);
	if ((rc = emg_ini_get_bool(ini, "server", "mitigations_enabled", 1, &s->enabled, err)) != EMG_OK ||
	    (rc = emg_ini_get_bool(ini, "server", "org_mitigations_enabled", 1, &s->org_enabled, err)) != EMG_OK ||
	    (rc = emg_ini_get_u64(ini, "server", "sequence", 0, &seq, err)) != EMG_OK ||
	    (rc = emg_ini_get_u64(ini, "server", "interval", 0, &s->interval, err)) != EMG_OK)
		return rc;
	s->sequence = seq;
	if ((rc = list_field(ini, "mitigations_applied", &s->applied, err)) != EMG_OK ||
	    (rc = list_field(ini, "mitigations_blocked", &s->blocked, err)) != EMG_OK ||
	    (rc = list_field(ini, "failed", &s->failed, err)) != EMG_OK)
		return rc;
	t = emg_ini_get(ini, "server", "last_checked");
	if (t != NULL && emg_time_parse(t, &s->last_checked) != 0)
		return emg_fail(err, EMG_ECONFIG, "%s:%d: last_checked '%.40s' is not a UTC time",
				ini->path, emg_ini_find(ini, "server", "last_checked")->line, t);
	return EMG_OK;
}

int emg_fleet_parse(const char *name, const char *text, size_t len,
		    emg_fleet_status *s, emg_err *err)
{
	emg_ini ini;
	int rc;

	memset(s, 0, sizeof *s);
	rc = emg_ini_parse(&ini, name, text, len, err);
	if (rc != EMG_OK)
		return rc;
	rc = emg_ini_check(&ini, fleet_keys, err);
	if (rc == EMG_OK)
		rc = parse_fields(&ini, s, err);
	emg_ini_free(&ini);
	if (rc != EMG_OK)
		emg_fleet_status_free(s);
	return rc;
}

int emg_fleet_write(const char *dir, const emg_fleet_status *s, emg_err *err)
{
	char path[PATH_MAX];
	emg_sbuf b;
	int rc;

	if (!emg_fleet_name_valid(s->name))
		return emg_fail(err, EMG_ECONFIG, "server name '%.80s' cannot name a status file", s->name);
	rc = emg_mkdir_p(dir, 0755, err);
	if (rc != EMG_OK)
		return rc;
	snprintf(path, sizeof path, "%s/%s%s", dir, s->name, EMG_FLEET_SUFFIX);
	emg_sbuf_init(&b);
	emg_fleet_render(s, &b);
	rc = emg_sbuf_status(&b, err);
	if (rc == EMG_OK)
		rc = emg_write_file_atomic(path, b.p, b.len, 0644, err);
	emg_sbuf_free(&b);
	return rc;
}

int emg_fleet_publish(const emg_apply_config *cfg, const emg_state *st,
		      const emg_server_settings *ss, int org_enabled, time_t now,
		      emg_err *err)
{
	emg_fleet_status s;
	int rc;

	if (cfg->org_status_dir[0] == '\0')
		return EMG_OK;
	rc = emg_fleet_from_state(cfg, st, ss, org_enabled, now, &s, err);
	if (rc != EMG_OK)
		return rc;
	rc = emg_fleet_write(cfg->org_status_dir, &s, err);
	emg_fleet_status_free(&s);
	if (rc != EMG_OK)
		emg_err_prefix(err, "writing this server's status to %s: ", cfg->org_status_dir);
	return rc;
}

/* ---- Reading the share ---------------------------------------------- */

static int name_cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static void free_names(char **names, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		free(names[i]);
	free(names);
}

static int is_status_name(const char *n)
{
	size_t len = strlen(n), sl = strlen(EMG_FLEET_SUFFIX);

	return n[0] != '.' && len > sl && strcmp(n + len - sl, EMG_FLEET_SUFFIX) == 0;
}

static int list_names(const char *dir, char ***out, size_t *count, emg_err *err)
{
	DIR *d = opendir(dir);
	struct dirent *de;
	char **names = NULL;
	size_t n = 0;

	*out = NULL;
	*count = 0;
	if (d == NULL)
		return emg_fail(err, EMG_EIO, "%s: %s", dir, strerror(errno));
	while ((de = readdir(d)) != NULL) {
		char **nn;
		if (!is_status_name(de->d_name))
			continue;
		if (n >= EMG_FLEET_MAX_SERVERS) {
			closedir(d);
			free_names(names, n);
			return emg_fail(err, EMG_EIO, "%s: more than %d status files", dir, EMG_FLEET_MAX_SERVERS);
		}
		nn = emg_realloc(names, (n + 1) * sizeof *nn);
		if (nn == NULL || (nn[n] = strdup(de->d_name)) == NULL) {
			closedir(d);
			free_names(nn ? nn : names, n);
			return emg_fail(err, EMG_EIO, "out of memory");
		}
		names = nn;
		n++;
	}
	closedir(d);
	if (n > 0)
		qsort(names, n, sizeof *names, name_cmp);
	*out = names;
	*count = n;
	return EMG_OK;
}

/* Reads one file into s; failures become s->error, never the caller's. */
static void read_one(const char *dir, const char *fname, emg_fleet_status *s)
{
	char path[PATH_MAX];
	struct stat st;
	uint8_t *buf = NULL;
	size_t len = 0, base = strlen(fname) - strlen(EMG_FLEET_SUFFIX);
	emg_err e;

	emg_err_clear(&e);
	snprintf(path, sizeof path, "%s/%s", dir, fname);
	if (lstat(path, &st) != 0 || !S_ISREG(st.st_mode))
		emg_fail(&e, EMG_EIO, "%s: not a regular file", path);
	else if (emg_read_file(path, EMG_FLEET_FILE_MAX, EMG_ECONFIG, &buf, &len, &e) == EMG_OK &&
		 emg_fleet_parse(path, (const char *)buf, len, s, &e) == EMG_OK &&
		 (strlen(s->name) != base || strncmp(s->name, fname, base) != 0)) {
		emg_fail(&e, EMG_ECONFIG, "%s: names server '%s', not the one in its file name", path, s->name);
		emg_fleet_status_free(s);
	}
	free(buf);
	if (e.code == EMG_OK)
		return;
	memset(s, 0, sizeof *s);
	snprintf(s->name, sizeof s->name, "%.*s", (int)(base < sizeof s->name - 1 ? base : sizeof s->name - 1), fname);
	one_line(s->error, sizeof s->error, e.msg);
}

int emg_fleet_read_dir(const char *dir, emg_fleet_status **out, size_t *n, emg_err *err)
{
	char **names = NULL;
	size_t count = 0, i;
	emg_fleet_status *list;
	int rc;

	*out = NULL;
	*n = 0;
	rc = list_names(dir, &names, &count, err);
	if (rc != EMG_OK)
		return rc;
	if (count == 0)
		return EMG_OK;
	list = emg_calloc(count, sizeof *list);
	if (list == NULL) {
		free_names(names, count);
		return emg_fail(err, EMG_EIO, "out of memory");
	}
	for (i = 0; i < count; i++)
		read_one(dir, names[i], &list[i]);
	free_names(names, count);
	*out = list;
	*n = count;
	return EMG_OK;
}

void emg_fleet_list_free(emg_fleet_status *list, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		emg_fleet_status_free(&list[i]);
	free(list);
}

int emg_fleet_stale(const emg_fleet_status *s, time_t now)
{
	unsigned long long iv = s->interval ? s->interval : EMG_FLEET_DEFAULT_INTERVAL;

	if (s->error[0] != '\0')
		return 0;
	/* Never checked, or a clock far behind: both worth a look. */
	if (s->last_checked <= 0)
		return 1;
	if (now <= s->last_checked)
		return 0;
	/* age > 2 * iv, without overflow for any interval a file may hold. */
	return ((unsigned long long)(now - s->last_checked) - 1) / 2 >= iv;
}

void emg_fleet_view(const emg_fleet_status *s, time_t now, emg_server_view *v)
{
	memset(v, 0, sizeof *v);
	v->name = s->name;
	if (s->error[0] != '\0') {
		v->error = s->error;
		return;
	}
	v->enabled = s->enabled;
	v->org_enabled = s->org_enabled;
	v->applied = &s->applied;
	v->blocked = &s->blocked;
	v->build = s->build[0] ? s->build : NULL;
	v->last_checked = s->last_checked;
	v->sequence = s->sequence;
	v->result = s->result[0] ? s->result : NULL;
	v->show_stale = 1;
	v->stale = emg_fleet_stale(s, now);
}
