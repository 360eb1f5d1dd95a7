/* state.c - the state file, server settings, org settings, the lock. */
#include "apply/state.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "apply/report.h"
#include "fileio.h"
#include "ini.h"
#include "timefmt.h"

#define STATE_MAX_BYTES (16u * 1024 * 1024)
#define STATE_MAX_ACTIONS 65536
#define STATE_MAX_UNDO 64
#define STATE_MAGIC "emgap-state 1"

static const char *const status_names[] = {
	"None", "Applied", "Blocked", "NotApplicable", "Failed", "Unsupported", "Obsolete", "Reverted",
};

const char *emg_status_name(emg_status s)
{
	if ((size_t)s >= sizeof status_names / sizeof status_names[0])
		return "None";
	return status_names[s];
}

int emg_status_parse(const char *name, emg_status *out)
{
	size_t i;

	for (i = 0; i < sizeof status_names / sizeof status_names[0]; i++)
		if (strcmp(name, status_names[i]) == 0) {
			*out = (emg_status)i;
			return 0;
		}
	return -1;
}

/* ---- escaping: values are one line; %, CR, LF and controls become %XX ---- */

void emg_line_escape(emg_sbuf *b, const char *s)
{
	static const char hex[] = "0123456789ABCDEF";

	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;
		if (c == '%' || c < 0x20 || c == 0x7f) {
			char e[3] = {'%', hex[c >> 4], hex[c & 15]};
			emg_sbuf_putn(b, e, 3);
		} else {
			emg_sbuf_putn(b, s, 1);
		}
	}
}

static int hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	return -1;
}

int emg_line_unescape(char *s)
{
	char *w;

	/* Most values have no escape at all: nothing to move. */
	s = strchr(s, '%');
	if (s == NULL)
		return 0;
	for (w = s; *s; s++) {
		if (*s == '%') {
			int h = hexval(s[1]), l = h < 0 ? -1 : hexval(s[2]);
			if (h < 0 || l < 0 || (h == 0 && l == 0))
				return -1;
			*w++ = (char)(h * 16 + l);
			s += 2;
		} else {
			*w++ = *s;
		}
	}
	*w = '\0';
	return 0;
}

/* ---- actions -------------------------------------------------------------- */

static void action_free(emg_state_action *a)
{
	free(a->subid);
	free(a->id);
	free(a->type);
	free(a->desc);
	free(a->reason);
	emg_kv_clear(a);
	memset(a, 0, sizeof *a);
}

void emg_state_free(emg_state *st)
{
	size_t i;

	for (i = 0; i < st->count; i++)
		action_free(&st->actions[i]);
	free(st->actions);
	emg_state_watch_clear(st);
	memset(st, 0, sizeof *st);
}

emg_state_action *emg_state_find(emg_state *st, const char *subid)
{
	size_t i;

	for (i = 0; i < st->count; i++)
		if (strcmp(st->actions[i].subid, subid) == 0)
			return &st->actions[i];
	return NULL;
}

static int set_str(char **dst, const char *v)
{
	char *c = strdup(v != NULL ? v : "");

	if (c == NULL)
		return -1;
	free(*dst);
	*dst = c;
	return 0;
}

emg_state_action *emg_state_add(emg_state *st, const char *subid, const char *id,
				const char *type, const char *desc)
{
	emg_state_action *a = emg_state_find(st, subid);
	emg_state_action *na;

	if (a == NULL) {
		if (st->count >= STATE_MAX_ACTIONS)
			return NULL;
		na = realloc(st->actions, (st->count + 1) * sizeof *na);
		if (na == NULL)
			return NULL;
		st->actions = na;
		a = &st->actions[st->count];
		memset(a, 0, sizeof *a);
		if (set_str(&a->subid, subid) != 0 || set_str(&a->reason, "") != 0) {
			action_free(a);
			return NULL;
		}
		st->count++;
	}
	if (set_str(&a->id, id) != 0 || set_str(&a->type, type) != 0 || set_str(&a->desc, desc) != 0)
		return NULL;
	return a;
}

int emg_state_set_status(emg_state_action *a, emg_status s, const char *reason,
			 time_t now, emg_err *err)
{
	if (reason == NULL)
		reason = "";
	if (a->status != s || a->reason == NULL || strcmp(a->reason, reason) != 0)
		a->when = now;
	a->status = s;
	if (set_str(&a->reason, reason) != 0)
		return emg_fail(err, EMG_EIO, "out of memory");
	return EMG_OK;
}

const char *emg_kv_get(const emg_state_action *a, const char *key)
{
	size_t i;

	for (i = 0; i < a->undo_count; i++)
		if (strcmp(a->undo[i].key, key) == 0)
			return a->undo[i].value;
	return NULL;
}

int emg_kv_set(emg_state_action *a, const char *key, const char *value, emg_err *err)
{
	emg_kv *nk;
	size_t i;

	for (i = 0; i < a->undo_count; i++)
		if (strcmp(a->undo[i].key, key) == 0) {
			if (set_str(&a->undo[i].value, value) != 0)
				return emg_fail(err, EMG_EIO, "out of memory");
			return EMG_OK;
		}
	if (a->undo_count >= STATE_MAX_UNDO)
		return emg_fail(err, EMG_EIO, "%s: too many undo entries", a->subid);
	nk = realloc(a->undo, (a->undo_count + 1) * sizeof *nk);
	if (nk == NULL)
		return emg_fail(err, EMG_EIO, "out of memory");
	a->undo = nk;
	nk[a->undo_count].key = strdup(key);
	nk[a->undo_count].value = strdup(value != NULL ? value : "");
	if (nk[a->undo_count].key == NULL || nk[a->undo_count].value == NULL) {
		free(nk[a->undo_count].key);
		free(nk[a->undo_count].value);
		return emg_fail(err, EMG_EIO, "out of memory");
	}
	a->undo_count++;
	return EMG_OK;
}

int emg_kv_del(emg_state_action *a, const char *key)
{
	size_t i;

	for (i = 0; i < a->undo_count; i++)
		if (strcmp(a->undo[i].key, key) == 0) {
			free(a->undo[i].key);
			free(a->undo[i].value);
			memmove(&a->undo[i], &a->undo[i + 1], (a->undo_count - i - 1) * sizeof a->undo[0]);
			a->undo_count--;
			return 1;
		}
	return 0;
}

void emg_kv_clear(emg_state_action *a)
{
	size_t i;

	for (i = 0; i < a->undo_count; i++) {
		free(a->undo[i].key);
		free(a->undo[i].value);
	}
	free(a->undo);
	a->undo = NULL;
	a->undo_count = 0;
}

/* ---- state file ------------------------------------------------------------ */

static void put_line(emg_sbuf *b, const char *key, const char *val)
{
	emg_sbuf_puts(b, key);
	emg_sbuf_putn(b, " ", 1);
	emg_line_escape(b, val != NULL ? val : "");
	emg_sbuf_putn(b, "\n", 1);
}

static void put_time(emg_sbuf *b, const char *key, time_t t)
{
	char ts[EMG_TIME_LEN];

	if (t == 0) {
		put_line(b, key, "");
		return;
	}
	emg_time_format(t, ts);
	put_line(b, key, ts);
}

static void put_action(emg_sbuf *b, const emg_state_action *a)
{
	size_t i;

	put_line(b, "action", a->subid);
	put_line(b, "id", a->id);
	put_line(b, "type", a->type);
	put_line(b, "desc", a->desc);
	put_line(b, "status", emg_status_name(a->status));
	put_line(b, "reason", a->reason);
	put_time(b, "when", a->when);
	put_line(b, "in-place", a->in_place ? "1" : "0");
	put_line(b, "pending", a->pending ? "1" : "0");
	put_line(b, "old-sha", a->old_sha);
	put_line(b, "new-sha", a->new_sha);
	for (i = 0; i < a->undo_count; i++) {
		emg_sbuf_puts(b, "undo ");
		emg_line_escape(b, a->undo[i].key);
		emg_sbuf_putn(b, " ", 1);
		emg_line_escape(b, a->undo[i].value);
		emg_sbuf_putn(b, "\n", 1);
	}
	emg_sbuf_puts(b, "end\n");
}

int emg_state_save(const char *dir, const emg_state *st, emg_err *err)
{
	emg_sbuf b;
	char path[PATH_MAX];
	char num[32];
	size_t i;
	int rc;

	emg_sbuf_init(&b);
	emg_sbuf_puts(&b, STATE_MAGIC "\n");
	if (st->have_sequence) {
		snprintf(num, sizeof num, "%" PRIu64, st->sequence);
		put_line(&b, "sequence", num);
	}
	put_line(&b, "bundle-sha256", st->bundle_sha256);
	put_line(&b, "bundle-path", st->bundle_path);
	put_time(&b, "bundle-expires", st->bundle_expires);
	put_time(&b, "last-run", st->last_run);
	snprintf(num, sizeof num, "%d", st->last_result);
	put_line(&b, "last-result", num);
	put_line(&b, "last-error", st->last_error);
	for (i = 0; i < st->skipped_count; i++)
		put_line(&b, "skip", st->skipped[i]);
	for (i = 0; i < st->watch_count; i++) {
		emg_sbuf_puts(&b, "watch ");
		emg_line_escape(&b, st->watch[i].sig);
		emg_sbuf_putn(&b, " ", 1);
		emg_line_escape(&b, st->watch[i].path);
		emg_sbuf_putn(&b, "\n", 1);
	}
	for (i = 0; i < st->count; i++)
		put_action(&b, &st->actions[i]);
	rc = emg_sbuf_status(&b, err);
	if (rc == EMG_OK) {
		snprintf(path, sizeof path, "%s/state", dir);
		rc = emg_write_file_atomic(path, b.p, b.len, 0600, err);
	}
	emg_sbuf_free(&b);
	return rc;
}

static int bad(const char *path, int line, const char *what, emg_err *err)
{
	return emg_fail(err, EMG_ECONFIG, "%s:%d: %s", path, line, what);
}

static int parse_time_val(const char *v, time_t *out)
{
	if (v[0] == '\0') {
		*out = 0;
		return 0;
	}
	return emg_time_parse(v, out);
}

static int parse_hex64(const char *v, char out[65])
{
	size_t n = strlen(v), i;

	if (n != 0 && n != 64)
		return -1;
	for (i = 0; i < n; i++)
		if (hexval(v[i]) < 0)
			return -1;
	memcpy(out, v, n + 1);
	return 0;
}

/* One "key value" line inside an action block. */
static int action_line(emg_state_action *a, const char *key, char *val, emg_err *err)
{
	char *sp;

	if (strcmp(key, "undo") == 0) {
		sp = strchr(val, ' ');
		if (sp == NULL)
			return -1;
		*sp++ = '\0';
		if (emg_line_unescape(val) != 0 || emg_line_unescape(sp) != 0)
			return -1;
		return emg_kv_set(a, val, sp, err) == EMG_OK ? 0 : -2;
	}
	if (emg_line_unescape(val) != 0)
		return -1;
	if (strcmp(key, "id") == 0)
		return set_str(&a->id, val) == 0 ? 0 : -2;
	if (strcmp(key, "type") == 0)
		return set_str(&a->type, val) == 0 ? 0 : -2;
	if (strcmp(key, "desc") == 0)
		return set_str(&a->desc, val) == 0 ? 0 : -2;
	if (strcmp(key, "reason") == 0)
		return set_str(&a->reason, val) == 0 ? 0 : -2;
	if (strcmp(key, "status") == 0)
		return emg_status_parse(val, &a->status);
	if (strcmp(key, "when") == 0)
		return parse_time_val(val, &a->when);
	if (strcmp(key, "in-place") == 0 || strcmp(key, "pending") == 0) {
		int *dst = key[0] == 'i' ? &a->in_place : &a->pending;
		if (strcmp(val, "0") != 0 && strcmp(val, "1") != 0)
			return -1;
		*dst = val[0] == '1';
		return 0;
	}
	if (strcmp(key, "old-sha") == 0)
		return parse_hex64(val, a->old_sha);
	if (strcmp(key, "new-sha") == 0)
		return parse_hex64(val, a->new_sha);
	return -1;
}

static int top_line(emg_state *st, const char *key, char *val)
{
	char *end = NULL;
	char *sp;

	if (strcmp(key, "watch") == 0) {
		sp = strchr(val, ' ');
		if (sp == NULL)
			return -1;
		*sp++ = '\0';
		if (emg_line_unescape(val) != 0 || emg_line_unescape(sp) != 0 || strlen(val) >= sizeof st->watch[0].sig)
			return -1;
		return emg_state_watch_add(st, sp, val, NULL) == EMG_OK ? 0 : -2;
	}
	if (emg_line_unescape(val) != 0)
		return -1;
	if (strcmp(key, "skip") == 0) {
		char sha[65];
		if (parse_hex64(val, sha) != 0 || sha[0] == '\0')
			return -1;
		emg_state_skip_add(st, sha);
		return 0;
	}
	if (strcmp(key, "sequence") == 0) {
		errno = 0;
		st->sequence = strtoull(val, &end, 10);
		if (errno != 0 || end == val || *end != '\0' || val[0] == '-')
			return -1;
		st->have_sequence = 1;
		return 0;
	}
	if (strcmp(key, "bundle-sha256") == 0)
		return parse_hex64(val, st->bundle_sha256);
	if (strcmp(key, "bundle-path") == 0)
		return snprintf(st->bundle_path, sizeof st->bundle_path, "%s", val) < (int)sizeof st->bundle_path ? 0 : -1;
	if (strcmp(key, "bundle-expires") == 0)
		return parse_time_val(val, &st->bundle_expires);
	if (strcmp(key, "last-run") == 0)
		return parse_time_val(val, &st->last_run);
	if (strcmp(key, "last-result") == 0) {
		long v = strtol(val, &end, 10);
		if (end == val || *end != '\0' || v < 0 || v > 255)
			return -1;
		st->last_result = (int)v;
		return 0;
	}
	if (strcmp(key, "last-error") == 0) {
		snprintf(st->last_error, sizeof st->last_error, "%s", val);
		return 0;
	}
	return -1;
}

static int parse_state(emg_state *st, const char *path, char *text, emg_err *err)
{
	emg_state_action *cur = NULL;
	char *line = text, *next, *sp;
	int lineno = 0, r;

	for (; line != NULL && *line != '\0'; line = next) {
		lineno++;
		next = strchr(line, '\n');
		if (next == NULL)
			return bad(path, lineno, "truncated (no newline at end)", err);
		*next++ = '\0';
		if (lineno == 1) {
			if (strcmp(line, STATE_MAGIC) != 0)
				return bad(path, lineno, "not an emgap state file", err);
			continue;
		}
		if (strcmp(line, "end") == 0) {
			if (cur == NULL)
				return bad(path, lineno, "'end' outside an action", err);
			cur = NULL;
			continue;
		}
		sp = strchr(line, ' ');
		if (sp == NULL)
			return bad(path, lineno, "expected 'key value'", err);
		*sp++ = '\0';
		if (strcmp(line, "action") == 0) {
			if (cur != NULL)
				return bad(path, lineno, "action without 'end'", err);
			if (emg_line_unescape(sp) != 0 || sp[0] == '\0' || emg_state_find(st, sp) != NULL)
				return bad(path, lineno, "bad or duplicate action id", err);
			cur = emg_state_add(st, sp, "", "", "");
			if (cur == NULL)
				return emg_fail(err, EMG_EIO, "out of memory");
			continue;
		}
		r = cur != NULL ? action_line(cur, line, sp, err) : top_line(st, line, sp);
		if (r == -2)
			return err != NULL && err->code ? err->code : emg_fail(err, EMG_EIO, "out of memory");
		if (r != 0)
			return bad(path, lineno, "malformed value", err);
	}
	if (lineno == 0)
		return bad(path, 1, "empty", err);
	if (cur != NULL)
		return bad(path, lineno, "last action has no 'end'", err);
	return EMG_OK;
}

int emg_state_load(const char *dir, emg_state *st, emg_err *err)
{
	char path[PATH_MAX];
	uint8_t *buf = NULL;
	size_t len = 0;
	int rc;

	memset(st, 0, sizeof *st);
	snprintf(path, sizeof path, "%s/state", dir);
	if (access(path, F_OK) != 0 && errno == ENOENT)
		return EMG_OK;
	rc = emg_read_file(path, STATE_MAX_BYTES, EMG_ECONFIG, &buf, &len, err);
	if (rc != EMG_OK)
		return rc;
	if (memchr(buf, '\0', len) != NULL)
		rc = emg_fail(err, EMG_ECONFIG, "%s: contains NUL bytes", path);
	else
		rc = parse_state(st, path, (char *)buf, err);
	free(buf);
	if (rc != EMG_OK)
		emg_state_free(st);
	return rc;
}

/* ---- server settings ---------------------------------------------------- */

static int valid_id(const char *id)
{
	size_t n = strlen(id), i;

	if (n == 0 || n >= 64)
		return 0;
	for (i = 0; i < n; i++) {
		char c = id[i];
		if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
		      c == '.' || c == '-' || c == '_'))
			return 0;
	}
	return 1;
}

void emg_server_settings_free(emg_server_settings *s)
{
	size_t i;

	for (i = 0; i < s->blocked_count; i++)
		free(s->blocked[i]);
	s->blocked_count = 0;
}

int emg_server_settings_block(emg_server_settings *s, const char *id, emg_err *err)
{
	size_t i;

	if (!valid_id(id))
		return emg_fail(err, EMG_EUSAGE, "'%s' is not a mitigation id", id);
	for (i = 0; i < s->blocked_count; i++)
		if (strcmp(s->blocked[i], id) == 0)
			return EMG_OK;
	if (s->blocked_count >= EMG_MAX_BLOCKED)
		return emg_fail(err, EMG_EUSAGE, "more than %d blocked ids", EMG_MAX_BLOCKED);
	if ((s->blocked[s->blocked_count] = strdup(id)) == NULL)
		return emg_fail(err, EMG_EIO, "out of memory");
	s->blocked_count++;
	return EMG_OK;
}

int emg_server_settings_unblock(emg_server_settings *s, const char *id)
{
	size_t i;

	for (i = 0; i < s->blocked_count; i++)
		if (strcmp(s->blocked[i], id) == 0) {
			free(s->blocked[i]);
			memmove(&s->blocked[i], &s->blocked[i + 1], (s->blocked_count - i - 1) * sizeof s->blocked[0]);
			s->blocked_count--;
			return 1;
		}
	return 0;
}

int emg_server_settings_blocks(const emg_server_settings *s, const char *subid, const char **by)
{
	size_t i, n;

	for (i = 0; i < s->blocked_count; i++) {
		const char *b = s->blocked[i];
		n = strlen(b);
		/* "M1" blocks M1 and every M1.N; "M1.2" blocks only that one. */
		if (strncmp(subid, b, n) == 0 && (subid[n] == '\0' || (subid[n] == '.' && strchr(b, '.') == NULL))) {
			if (by != NULL)
				*by = b;
			return 1;
		}
	}
	return 0;
}

static const emg_ini_key server_keys[] = {
	{"server", "mitigations_enabled", 0},
	{"server", "mitigations_blocked", 0},
	{NULL, NULL, 0},
};

static int parse_blocked(emg_server_settings *s, const char *path, const char *list, emg_err *err)
{
	char *copy = strdup(list), *tok, *save = NULL;
	int rc = EMG_OK;

	if (copy == NULL)
		return emg_fail(err, EMG_EIO, "out of memory");
	for (tok = strtok_r(copy, ", \t", &save); tok != NULL && rc == EMG_OK; tok = strtok_r(NULL, ", \t", &save)) {
		rc = emg_server_settings_block(s, tok, err);
		if (rc == EMG_EUSAGE) {
			/* In the file it is a config error, not a usage one. */
			emg_err_prefix(err, "%s: mitigations_blocked: ", path);
			if (err != NULL)
				err->code = EMG_ECONFIG;
			rc = EMG_ECONFIG;
		}
	}
	free(copy);
	return rc;
}

int emg_server_settings_load(const char *dir, emg_server_settings *s, emg_err *err)
{
	char path[PATH_MAX];
	emg_ini ini;
	const char *v;
	int rc;

	memset(s, 0, sizeof *s);
	s->enabled = 1;
	snprintf(path, sizeof path, "%s/server.conf", dir);
	if (access(path, F_OK) != 0 && errno == ENOENT)
		return EMG_OK;
	rc = emg_ini_load(&ini, path, err);
	if (rc != EMG_OK)
		return rc;
	rc = emg_ini_check(&ini, server_keys, err);
	if (rc == EMG_OK)
		rc = emg_ini_get_bool(&ini, "server", "mitigations_enabled", 1, &s->enabled, err);
	if (rc == EMG_OK && (v = emg_ini_get(&ini, "server", "mitigations_blocked")) != NULL)
		rc = parse_blocked(s, path, v, err);
	emg_ini_free(&ini);
	if (rc != EMG_OK)
		emg_server_settings_free(s);
	return rc;
}

int emg_server_settings_save(const char *dir, const emg_server_settings *s, emg_err *err)
{
	char path[PATH_MAX];
	emg_sbuf b;
	size_t i;
	int rc;

	emg_sbuf_init(&b);
	emg_sbuf_printf(&b, "# emgap server settings (emgap-apply set-server / block / unblock)\n"
			    "[server]\nmitigations_enabled = %s\nmitigations_blocked = ",
			s->enabled ? "true" : "false");
	for (i = 0; i < s->blocked_count; i++)
		emg_sbuf_printf(&b, "%s%s", i ? ", " : "", s->blocked[i]);
	emg_sbuf_puts(&b, "\n");
	rc = emg_sbuf_status(&b, err);
	if (rc == EMG_OK) {
		snprintf(path, sizeof path, "%s/server.conf", dir);
		rc = emg_write_file_atomic(path, b.p, b.len, 0600, err);
	}
	emg_sbuf_free(&b);
	return rc;
}

/* ---- org settings --------------------------------------------------------- */

static const emg_ini_key org_keys[] = {
	{"organization", "mitigations_enabled", 0},
	{NULL, NULL, 0},
};

int emg_org_settings_load(const char *path, int *enabled, emg_err *err)
{
	emg_ini ini;
	int rc;

	*enabled = 1;
	if (path == NULL || path[0] == '\0')
		return EMG_OK;
	if (access(path, F_OK) != 0 && errno == ENOENT)
		return EMG_OK;
	rc = emg_ini_load(&ini, path, err);
	if (rc != EMG_OK)
		return rc;
	rc = emg_ini_check(&ini, org_keys, err);
	if (rc == EMG_OK)
		rc = emg_ini_get_bool(&ini, "organization", "mitigations_enabled", 1, enabled, err);
	emg_ini_free(&ini);
	return rc;
}

int emg_org_settings_save(const char *path, int enabled, emg_err *err)
{
	char text[160];
	int n = snprintf(text, sizeof text,
			 "# emgap organisation settings (emgap-apply set-org)\n"
			 "[organization]\nmitigations_enabled = %s\n", enabled ? "true" : "false");

	return emg_write_file_atomic(path, text, (size_t)n, 0644, err);
}

/* ---- lock ------------------------------------------------------------------ */

int emg_state_lock(const char *dir, emg_lock *lk, emg_err *err)
{
	char path[PATH_MAX];
	int rc;

	lk->fd = -1;
	rc = emg_mkdir_p(dir, 0700, err);
	if (rc != EMG_OK)
		return rc;
	snprintf(path, sizeof path, "%s/lock", dir);
	lk->fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	if (lk->fd < 0)
		return emg_fail(err, EMG_EIO, "%s: %s", path, strerror(errno));
	if (flock(lk->fd, LOCK_EX | LOCK_NB) != 0) {
		int e = errno;
		close(lk->fd);
		lk->fd = -1;
		if (e == EWOULDBLOCK)
			return emg_fail(err, EMG_EBUSY, "another emgap-apply is running (%s is locked); try again later", path);
		return emg_fail(err, EMG_EIO, "%s: lock: %s", path, strerror(e));
	}
	return EMG_OK;
}

void emg_state_unlock(emg_lock *lk)
{
	if (lk->fd >= 0) {
		close(lk->fd); /* closing releases the flock */
		lk->fd = -1;
	}
}

/* ---- watch list, skip list, last check ----------------------------------- */

int emg_state_watch_add(emg_state *st, const char *path, const char *sig, emg_err *err)
{
	emg_watch *nw;
	size_t i;

	for (i = 0; i < st->watch_count; i++)
		if (strcmp(st->watch[i].path, path) == 0) {
			snprintf(st->watch[i].sig, sizeof st->watch[i].sig, "%s", sig);
			return EMG_OK;
		}
	if (st->watch_count >= STATE_MAX_ACTIONS)
		return emg_fail(err, EMG_EIO, "too many watched files");
	nw = realloc(st->watch, (st->watch_count + 1) * sizeof *nw);
	if (nw == NULL)
		return emg_fail(err, EMG_EIO, "out of memory");
	st->watch = nw;
	nw[st->watch_count].path = strdup(path);
	if (nw[st->watch_count].path == NULL)
		return emg_fail(err, EMG_EIO, "out of memory");
	snprintf(nw[st->watch_count].sig, sizeof nw[0].sig, "%s", sig);
	st->watch_count++;
	return EMG_OK;
}

void emg_state_watch_clear(emg_state *st)
{
	size_t i;

	for (i = 0; i < st->watch_count; i++)
		free(st->watch[i].path);
	free(st->watch);
	st->watch = NULL;
	st->watch_count = 0;
}

void emg_state_skip_add(emg_state *st, const char *sha)
{
	if (emg_state_skipped(st, sha))
		return;
	if (st->skipped_count == EMG_MAX_SKIPPED) {
		memmove(st->skipped[0], st->skipped[1], (EMG_MAX_SKIPPED - 1) * sizeof st->skipped[0]);
		st->skipped_count--;
	}
	snprintf(st->skipped[st->skipped_count++], 65, "%s", sha);
}

int emg_state_bundle_expired(const emg_state *st, time_t now)
{
	return st->bundle_expires != 0 && now > st->bundle_expires;
}

int emg_state_skipped(const emg_state *st, const char *sha)
{
	size_t i;

	for (i = 0; i < st->skipped_count; i++)
		if (strcmp(st->skipped[i], sha) == 0)
			return 1;
	return 0;
}

int emg_state_mark_checked(const char *dir, time_t now, emg_err *err)
{
	char path[PATH_MAX];
	struct timespec ts[2];
	int fd;

	snprintf(path, sizeof path, "%s/last-check", dir);
	ts[0].tv_sec = ts[1].tv_sec = now;
	ts[0].tv_nsec = ts[1].tv_nsec = 0;
	if (utimensat(AT_FDCWD, path, ts, 0) == 0)
		return EMG_OK;
	fd = open(path, O_WRONLY | O_CREAT | O_CLOEXEC, 0600);
	if (fd < 0)
		return emg_fail(err, EMG_EIO, "%s: %s", path, strerror(errno));
	close(fd);
	if (utimensat(AT_FDCWD, path, ts, 0) != 0)
		return emg_fail(err, EMG_EIO, "%s: %s", path, strerror(errno));
	return EMG_OK;
}

time_t emg_state_last_checked(const char *dir)
{
	char path[PATH_MAX];
	struct stat st;

	snprintf(path, sizeof path, "%s/last-check", dir);
	if (stat(path, &st) != 0)
		return 0;
	return st.st_mtime;
}

void emg_stat_sig(const struct stat *st, char out[128])
{
	snprintf(out, 128, "%llx:%llx:%lld:%lld.%09ld:%lld.%09ld", (unsigned long long)st->st_dev,
		 (unsigned long long)st->st_ino, (long long)st->st_size, (long long)st->st_mtim.tv_sec,
		 st->st_mtim.tv_nsec, (long long)st->st_ctim.tv_sec, st->st_ctim.tv_nsec);
}

void emg_file_sig(const char *path, char out[128])
{
	struct stat st;

	if (stat(path, &st) != 0) {
		snprintf(out, 128, "-");
		return;
	}
	emg_stat_sig(&st, out);
}

/* ---- hashing --------------------------------------------------------------- */

/* OpenSSL's SHA-256 uses the CPU's SHA extensions where there are any:
 * several times libsodium's portable code, on files of megabytes that
 * every run hashes. */
static void hex_digest(const unsigned char *h, unsigned int n, char out[65])
{
	static const char digits[] = "0123456789abcdef";
	unsigned int i;

	for (i = 0; i < n && i < 32; i++) {
		out[2 * i] = digits[h[i] >> 4];
		out[2 * i + 1] = digits[h[i] & 15];
	}
	out[2 * i] = '\0';
}

void emg_sha256_hex(const void *data, size_t len, char out[65])
{
	unsigned char h[EVP_MAX_MD_SIZE];
	unsigned int n = 0;

	/* Cannot fail for SHA-256 short of memory; should it, "" matches no
	 * real hash, so the caller sees "changed" and looks again. */
	if (EVP_Digest(data, len, h, &n, EVP_sha256(), NULL) != 1 || n != 32) {
		out[0] = '\0';
		return;
	}
	hex_digest(h, n, out);
}

int emg_sha256_fd(int fd, const char *name, char out[65], emg_err *err)
{
	unsigned char h[EVP_MAX_MD_SIZE];
	unsigned char buf[65536];
	unsigned int hn = 0;
	EVP_MD_CTX *md;
	ssize_t n;

	out[0] = '\0';
	md = EVP_MD_CTX_new();
	if (md == NULL || EVP_DigestInit_ex(md, EVP_sha256(), NULL) != 1) {
		EVP_MD_CTX_free(md);
		return emg_fail(err, EMG_EIO, "%s: cannot start SHA-256", name);
	}
	while ((n = read(fd, buf, sizeof buf)) != 0) {
		if (n < 0) {
			int e = errno;
			if (e == EINTR)
				continue;
			EVP_MD_CTX_free(md);
			return emg_fail(err, EMG_EIO, "%s: %s", name, strerror(e));
		}
		if (EVP_DigestUpdate(md, buf, (size_t)n) != 1) {
			EVP_MD_CTX_free(md);
			return emg_fail(err, EMG_EIO, "%s: SHA-256 failed", name);
		}
	}
	if (EVP_DigestFinal_ex(md, h, &hn) != 1 || hn != 32) {
		EVP_MD_CTX_free(md);
		return emg_fail(err, EMG_EIO, "%s: SHA-256 failed", name);
	}
	EVP_MD_CTX_free(md);
	hex_digest(h, hn, out);
	return EMG_OK;
}

int emg_sha256_file(const char *path, char out[65], emg_err *err)
{
	int fd, rc;

	out[0] = '\0';
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		if (errno == ENOENT)
			return EMG_OK;
		return emg_fail(err, EMG_EIO, "%s: %s", path, strerror(errno));
	}
	rc = emg_sha256_fd(fd, path, out, err);
	close(fd);
	return rc;
}
