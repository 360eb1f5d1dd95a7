/* report.c - status table, CSV, JSON and Format-List rendering. */
#include "apply/report.h"
#include "fileio.h"
#include "sysio.h"
#include "timefmt.h"

#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- emg_sbuf ------------------------------------------------------- */

void emg_sbuf_init(emg_sbuf *b)
{
	b->p = NULL;
	b->len = 0;
	b->cap = 0;
	b->oom = 0;
}

void emg_sbuf_free(emg_sbuf *b)
{
	free(b->p);
	emg_sbuf_init(b);
}

static int sbuf_reserve(emg_sbuf *b, size_t extra)
{
	size_t need, ncap;
	char *np;

	if (b->oom)
		return -1;
	if (extra > SIZE_MAX / 2 - b->len - 1) {
		b->oom = 1;
		return -1;
	}
	need = b->len + extra + 1;
	if (need <= b->cap)
		return 0;
	ncap = b->cap ? b->cap : 256;
	while (ncap < need)
		ncap *= 2;
	np = emg_realloc(b->p, ncap);
	if (np == NULL) {
		b->oom = 1;
		return -1;
	}
	b->p = np;
	b->cap = ncap;
	return 0;
}

void emg_sbuf_putn(emg_sbuf *b, const char *s, size_t n)
{
	if (sbuf_reserve(b, n) != 0)
		return;
	memcpy(b->p + b->len, s, n);
	b->len += n;
	b->p[b->len] = '\0';
}

void emg_sbuf_puts(emg_sbuf *b, const char *s)
{
	emg_sbuf_putn(b, s, strlen(s));
}

void emg_sbuf_printf(emg_sbuf *b, const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	if (n < 0) {
		b->oom = 1;
		return;
	}
	if (sbuf_reserve(b, (size_t)n) != 0)
		return;
	va_start(ap, fmt);
	vsnprintf(b->p + b->len, (size_t)n + 1, fmt, ap);
	va_end(ap);
	b->len += (size_t)n;
}

int emg_sbuf_status(const emg_sbuf *b, emg_err *err)
{
	if (b->oom)
		return emg_fail(err, EMG_EIO, "out of memory while rendering");
	return EMG_OK;
}

/* ---- Ids ------------------------------------------------------------ */

int emg_id_valid(const char *id)
{
	const char *p = id;

	if (strlen(id) >= EMG_ID_MAX || !isalpha((unsigned char)*p))
		return 0;
	/* The mitigation id: a letter, then letters, digits, '-' or '_'. */
	while (isalnum((unsigned char)*p) || *p == '-' || *p == '_')
		p++;
	/* Sub-ids: ".N" parts of digits only, none empty. */
	while (*p == '.') {
		p++;
		if (!isdigit((unsigned char)*p))
			return 0;
		while (isdigit((unsigned char)*p))
			p++;
	}
	return *p == '\0';
}

/* Compares runs of digits as numbers and everything else as bytes. */
int emg_id_cmp(const char *a, const char *b)
{
	while (*a != '\0' && *b != '\0') {
		if (isdigit((unsigned char)*a) && isdigit((unsigned char)*b)) {
			const char *ea = a, *eb = b;
			size_t la, lb;
			int c;
			while (*a == '0' && isdigit((unsigned char)a[1]))
				a++;
			while (*b == '0' && isdigit((unsigned char)b[1]))
				b++;
			for (ea = a; isdigit((unsigned char)*ea); ea++)
				;
			for (eb = b; isdigit((unsigned char)*eb); eb++)
				;
			la = (size_t)(ea - a);
			lb = (size_t)(eb - b);
			if (la != lb)
				return la < lb ? -1 : 1;
			c = memcmp(a, b, la);
			if (c != 0)
				return c < 0 ? -1 : 1;
			a = ea;
			b = eb;
			continue;
		}
		if (*a != *b)
			return (unsigned char)*a < (unsigned char)*b ? -1 : 1;
		a++;
		b++;
	}
	if (*a == *b)
		return 0;
	return *a == '\0' ? -1 : 1;
}

void emg_idlist_free(emg_idlist *l)
{
	size_t i;

	for (i = 0; i < l->n; i++)
		free(l->v[i]);
	free(l->v);
	l->v = NULL;
	l->n = 0;
}

int emg_idlist_has(const emg_idlist *l, const char *id)
{
	size_t i;

	for (i = 0; i < l->n; i++)
		if (strcmp(l->v[i], id) == 0)
			return 1;
	return 0;
}

int emg_idlist_add(emg_idlist *l, const char *id, emg_err *err)
{
	char **nv, *copy;
	size_t pos;

	if (emg_idlist_has(l, id))
		return EMG_OK;
	if (l->n >= EMG_IDLIST_MAX)
		return emg_fail(err, EMG_EUSAGE, "more than %d ids in one list", EMG_IDLIST_MAX);
	copy = strdup(id);
	nv = copy ? emg_realloc(l->v, (l->n + 1) * sizeof *nv) : NULL;
	if (nv == NULL) {
		free(copy);
		return emg_fail(err, EMG_EIO, "out of memory");
	}
	l->v = nv;
	for (pos = l->n; pos > 0 && emg_id_cmp(l->v[pos - 1], id) > 0; pos--)
		l->v[pos] = l->v[pos - 1];
	l->v[pos] = copy;
	l->n++;
	return EMG_OK;
}

int emg_idlist_remove(emg_idlist *l, const char *id)
{
	size_t i;

	for (i = 0; i < l->n; i++) {
		if (strcmp(l->v[i], id) == 0) {
			free(l->v[i]);
			memmove(&l->v[i], &l->v[i + 1], (l->n - i - 1) * sizeof l->v[0]);
			l->n--;
			return 1;
		}
	}
	return 0;
}

int emg_idlist_parse(emg_idlist *l, const char *text, const char *what, emg_err *err)
{
	const char *p = text;

	while (*p == ' ' || *p == '\t')
		p++;
	if (*p == '\0')
		return EMG_OK;
	for (;;) {
		char id[EMG_ID_MAX];
		const char *s, *e;
		size_t n;
		int rc;

		while (*p == ' ' || *p == '\t')
			p++;
		s = p;
		while (*p != '\0' && *p != ',')
			p++;
		e = p;
		while (e > s && (e[-1] == ' ' || e[-1] == '\t'))
			e--;
		n = (size_t)(e - s);
		if (n == 0 || n >= sizeof id)
			return emg_fail(err, EMG_EUSAGE, "%s: empty or overlong id in '%.200s'", what, text);
		memcpy(id, s, n);
		id[n] = '\0';
		if (!emg_id_valid(id))
			return emg_fail(err, EMG_EUSAGE, "%s: '%s' is not a mitigation id (such as M1 or M1.2)", what, id);
		rc = emg_idlist_add(l, id, err);
		if (rc != EMG_OK)
			return rc;
		if (*p == '\0')
			return EMG_OK;
		p++;
	}
}

void emg_idlist_join(const emg_idlist *l, const char *sep, emg_sbuf *b)
{
	size_t i;

	for (i = 0; i < l->n; i++) {
		if (i > 0)
			emg_sbuf_puts(b, sep);
		emg_sbuf_puts(b, l->v[i]);
	}
}

/* ---- Text safety ---------------------------------------------------- */

/* Length of the valid UTF-8 sequence at s (1-4), or 0 if invalid. */
static size_t utf8_len(const unsigned char *s)
{
	if (s[0] < 0x80)
		return 1;
	if (s[0] >= 0xC2 && s[0] <= 0xDF)
		return (s[1] & 0xC0) == 0x80 ? 2 : 0;
	if (s[0] >= 0xE0 && s[0] <= 0xEF) {
		if ((s[1] & 0xC0) != 0x80 || (s[2] & 0xC0) != 0x80)
			return 0;
		if (s[0] == 0xE0 && s[1] < 0xA0)
			return 0; /* overlong */
		if (s[0] == 0xED && s[1] >= 0xA0)
			return 0; /* surrogate */
		return 3;
	}
	if (s[0] >= 0xF0 && s[0] <= 0xF4) {
		if ((s[1] & 0xC0) != 0x80 || (s[2] & 0xC0) != 0x80 || (s[3] & 0xC0) != 0x80)
			return 0;
		if (s[0] == 0xF0 && s[1] < 0x90)
			return 0;
		if (s[0] == 0xF4 && s[1] >= 0x90)
			return 0;
		return 4;
	}
	return 0;
}

void emg_json_str(emg_sbuf *b, const char *s)
{
	const unsigned char *p = (const unsigned char *)(s ? s : "");

	emg_sbuf_putn(b, "\"", 1);
	while (*p != '\0') {
		size_t n;
		switch (*p) {
		case '"': emg_sbuf_puts(b, "\\\""); p++; continue;
		case '\\': emg_sbuf_puts(b, "\\\\"); p++; continue;
		case '\n': emg_sbuf_puts(b, "\\n"); p++; continue;
		case '\r': emg_sbuf_puts(b, "\\r"); p++; continue;
		case '\t': emg_sbuf_puts(b, "\\t"); p++; continue;
		default: break;
		}
		if (*p < 0x20 || *p == 0x7F) {
			emg_sbuf_printf(b, "\\u%04x", *p);
			p++;
			continue;
		}
		n = utf8_len(p);
		if (n == 0) {
			emg_sbuf_puts(b, "\\ufffd");
			p++;
			continue;
		}
		emg_sbuf_putn(b, (const char *)p, n);
		p += n;
	}
	emg_sbuf_putn(b, "\"", 1);
}

/* Appends s for a terminal: control bytes (which could move the cursor or
 * forge lines) become '?'; valid UTF-8 passes. */
static void put_plain(emg_sbuf *b, const char *s)
{
	const unsigned char *p = (const unsigned char *)(s ? s : "");

	while (*p != '\0') {
		size_t n = utf8_len(p);
		if (*p < 0x20 || *p == 0x7F || n == 0) {
			emg_sbuf_putn(b, "?", 1);
			p++;
			continue;
		}
		emg_sbuf_putn(b, (const char *)p, n);
		p += n;
	}
}

/* Display width of s: UTF-8 continuation bytes do not count. */
static size_t text_width(const char *s)
{
	size_t w = 0;

	for (; s && *s; s++)
		if (((unsigned char)*s & 0xC0) != 0x80)
			w++;
	return w;
}

static void put_padded(emg_sbuf *b, const char *s, size_t width)
{
	size_t w = text_width(s);

	put_plain(b, s);
	for (; w < width; w++)
		emg_sbuf_putn(b, " ", 1);
}

/* ---- Status table, CSV, JSON ---------------------------------------- */

static const char *const status_cols[] = {"Id", "Type", "Status", "Description", "Reason"};

static const char *row_field(const emg_status_row *r, int col)
{
	const char *v = NULL;

	switch (col) {
	case 0: v = r->id; break;
	case 1: v = r->type; break;
	case 2: v = r->status; break;
	case 3: v = r->description; break;
	default: v = r->reason; break;
	}
	return v ? v : "";
}

void emg_report_table(emg_sbuf *b, const emg_status_row *rows, size_t n)
{
	size_t w[4], i;
	int c;

	for (c = 0; c < 4; c++)
		w[c] = strlen(status_cols[c]);
	for (i = 0; i < n; i++)
		for (c = 0; c < 3; c++)
			if (text_width(row_field(&rows[i], c)) > w[c])
				w[c] = text_width(row_field(&rows[i], c));
	for (c = 0; c < 3; c++) {
		put_padded(b, status_cols[c], w[c] + 1);
	}
	emg_sbuf_puts(b, "Description\n");
	for (c = 0; c < 3; c++) {
		size_t k;
		for (k = 0; k < strlen(status_cols[c]); k++)
			emg_sbuf_putn(b, "-", 1);
		put_padded(b, "", w[c] + 1 - strlen(status_cols[c]));
	}
	emg_sbuf_puts(b, "-----------\n");
	for (i = 0; i < n; i++) {
		const emg_status_row *r = &rows[i];
		for (c = 0; c < 3; c++)
			put_padded(b, row_field(r, c), w[c] + 1);
		put_plain(b, row_field(r, 3));
		if (r->reason != NULL && r->reason[0] != '\0') {
			emg_sbuf_puts(b, " (");
			put_plain(b, r->reason);
			emg_sbuf_puts(b, ")");
		}
		emg_sbuf_puts(b, "\n");
	}
}

static void csv_field(emg_sbuf *b, const char *s)
{
	const char *p;

	if (strpbrk(s, ",\"\r\n") == NULL) {
		emg_sbuf_puts(b, s);
		return;
	}
	emg_sbuf_putn(b, "\"", 1);
	for (p = s; *p != '\0'; p++) {
		if (*p == '"')
			emg_sbuf_putn(b, "\"", 1);
		emg_sbuf_putn(b, p, 1);
	}
	emg_sbuf_putn(b, "\"", 1);
}

void emg_report_csv(emg_sbuf *b, const emg_status_row *rows, size_t n)
{
	size_t i;
	int c;

	/* The header in Get-Mitigations.ps1's column order. */
	emg_sbuf_puts(b, "Id,Type,Description,Status,Reason\r\n");
	for (i = 0; i < n; i++) {
		static const int order[] = {0, 1, 3, 2, 4};
		for (c = 0; c < 5; c++) {
			if (c > 0)
				emg_sbuf_putn(b, ",", 1);
			csv_field(b, row_field(&rows[i], order[c]));
		}
		emg_sbuf_puts(b, "\r\n");
	}
}

void emg_report_json(emg_sbuf *b, const emg_status_row *rows, size_t n)
{
	size_t i;

	emg_sbuf_puts(b, "[");
	for (i = 0; i < n; i++) {
		const emg_status_row *r = &rows[i];
		emg_sbuf_puts(b, i ? ",\n  {" : "\n  {");
		emg_sbuf_puts(b, "\"Id\": ");
		emg_json_str(b, r->id);
		emg_sbuf_puts(b, ", \"Type\": ");
		emg_json_str(b, r->type);
		emg_sbuf_puts(b, ", \"Description\": ");
		emg_json_str(b, r->description);
		emg_sbuf_puts(b, ", \"Status\": ");
		emg_json_str(b, r->status);
		emg_sbuf_puts(b, ", \"Reason\": ");
		if (r->reason != NULL && r->reason[0] != '\0')
			emg_json_str(b, r->reason);
		else
			emg_sbuf_puts(b, "null");
		emg_sbuf_puts(b, "}");
	}
	emg_sbuf_puts(b, n ? "\n]\n" : "]\n");
}

/* ---- Server view ---------------------------------------------------- */

#define SERVER_PROPS 10 /* the most lines one server can have */

typedef struct fl_prop {
	const char *name;
	emg_sbuf value;
} fl_prop;

static void put_list_braced(emg_sbuf *b, const emg_idlist *l)
{
	emg_sbuf_putn(b, "{", 1);
	if (l != NULL)
		emg_idlist_join(l, ", ", b);
	emg_sbuf_putn(b, "}", 1);
}

static size_t server_props(const emg_server_view *v, fl_prop *p)
{
	size_t k = 0, i;

	for (i = 0; i < SERVER_PROPS; i++)
		emg_sbuf_init(&p[i].value);
	p[k].name = "Name";
	emg_sbuf_puts(&p[k++].value, v->name ? v->name : "");
	if (v->error != NULL) {
		p[k].name = "Error";
		emg_sbuf_puts(&p[k++].value, v->error);
		return k;
	}
	p[k].name = "MitigationsEnabled";
	emg_sbuf_puts(&p[k++].value, v->enabled ? "True" : "False");
	p[k].name = "MitigationsApplied";
	put_list_braced(&p[k++].value, v->applied);
	p[k].name = "MitigationsBlocked";
	put_list_braced(&p[k++].value, v->blocked);
	if (v->org_enabled >= 0) {
		p[k].name = "OrgMitigationsEnabled";
		emg_sbuf_puts(&p[k++].value, v->org_enabled ? "True" : "False");
	}
	if (v->build != NULL) {
		p[k].name = "ExchangeBuild";
		emg_sbuf_puts(&p[k++].value, v->build);
	}
	if (v->last_checked != 0) {
		char t[EMG_TIME_LEN];
		emg_time_format(v->last_checked, t);
		p[k].name = "LastChecked";
		emg_sbuf_puts(&p[k++].value, t);
		p[k].name = "BundleSequence";
		emg_sbuf_printf(&p[k++].value, "%llu", (unsigned long long)v->sequence);
	}
	if (v->result != NULL) {
		p[k].name = "LastResult";
		emg_sbuf_puts(&p[k++].value, v->result);
	}
	if (v->show_stale) {
		p[k].name = "Stale";
		emg_sbuf_puts(&p[k++].value, v->stale ? "True" : "False");
	}
	return k;
}

void emg_report_server_list(emg_sbuf *b, const emg_server_view *v, size_t n)
{
	size_t i, k, np, w;
	fl_prop p[SERVER_PROPS];

	for (i = 0; i < n; i++) {
		np = server_props(&v[i], p);
		w = 0;
		for (k = 0; k < np; k++)
			if (strlen(p[k].name) > w)
				w = strlen(p[k].name);
		emg_sbuf_puts(b, "\n");
		for (k = 0; k < np; k++) {
			put_padded(b, p[k].name, w);
			emg_sbuf_puts(b, " : ");
			if (p[k].value.oom)
				b->oom = 1;
			put_plain(b, p[k].value.p);
		emg_sbuf_puts(b, "\n");
		}
		for (k = 0; k < SERVER_PROPS; k++)
			emg_sbuf_free(&p[k].value);
	}
	if (n > 0)
		emg_sbuf_puts(b, "\n");
}

static void json_idlist(emg_sbuf *b, const emg_idlist *l)
{
	size_t i;

	emg_sbuf_puts(b, "[");
	for (i = 0; l != NULL && i < l->n; i++) {
		if (i > 0)
			emg_sbuf_puts(b, ", ");
		emg_json_str(b, l->v[i]);
	}
	emg_sbuf_puts(b, "]");
}

static void json_server(emg_sbuf *b, const emg_server_view *v)
{
	emg_sbuf_puts(b, "{\"Name\": ");
	emg_json_str(b, v->name);
	if (v->error != NULL) {
		emg_sbuf_puts(b, ", \"Error\": ");
		emg_json_str(b, v->error);
		emg_sbuf_puts(b, "}");
		return;
	}
	emg_sbuf_printf(b, ", \"MitigationsEnabled\": %s", v->enabled ? "true" : "false");
	emg_sbuf_puts(b, ", \"MitigationsApplied\": ");
	json_idlist(b, v->applied);
	emg_sbuf_puts(b, ", \"MitigationsBlocked\": ");
	json_idlist(b, v->blocked);
	if (v->org_enabled >= 0)
		emg_sbuf_printf(b, ", \"OrgMitigationsEnabled\": %s", v->org_enabled ? "true" : "false");
	if (v->build != NULL) {
		emg_sbuf_puts(b, ", \"ExchangeBuild\": ");
		emg_json_str(b, v->build);
	}
	if (v->last_checked != 0) {
		char t[EMG_TIME_LEN];
		emg_time_format(v->last_checked, t);
		emg_sbuf_printf(b, ", \"LastChecked\": \"%s\", \"BundleSequence\": %llu", t,
				(unsigned long long)v->sequence);
	}
	if (v->result != NULL) {
		emg_sbuf_puts(b, ", \"LastResult\": ");
		emg_json_str(b, v->result);
	}
	if (v->show_stale)
		emg_sbuf_printf(b, ", \"Stale\": %s", v->stale ? "true" : "false");
	emg_sbuf_puts(b, "}");
}

void emg_report_server_json(emg_sbuf *b, const emg_server_view *v, size_t n)
{
	size_t i;

	emg_sbuf_puts(b, "[");
	for (i = 0; i < n; i++) {
		emg_sbuf_puts(b, i ? ",\n  " : "\n  ");
		json_server(b, &v[i]);
	}
	emg_sbuf_puts(b, n ? "\n]\n" : "]\n");
}

int emg_report_emit(const emg_sbuf *b, const char *path, emg_err *err)
{
	int rc = emg_sbuf_status(b, err);

	if (rc != EMG_OK)
		return rc;
	if (path == NULL || strcmp(path, "-") == 0) {
		if (b->len > 0 && fwrite(b->p, 1, b->len, stdout) != b->len)
			return emg_fail(err, EMG_EIO, "writing to stdout: %s", strerror(errno));
		if (fflush(stdout) != 0)
			return emg_fail(err, EMG_EIO, "writing to stdout: %s", strerror(errno));
		return EMG_OK;
	}
	return emg_write_file_atomic(path, b->len ? b->p : "", b->len, 0644, err);
}
