/* iispool.c - an application pool's autoStart and startMode in
 * applicationHost.config, set and put back exactly.
 *
 * The attributes are edited inside the pool's start tag, where libxml2
 * gives no offsets: the tag is scanned here, after the document as a whole
 * was checked (iisdoc.h), so the scan only has to find names and quoted
 * values. Undo record (one line):
 *
 *   v1;autoStart=STATE;startMode=STATE    STATE = keep | absent | v:BASE64
 *
 * "keep": left alone; "absent": was not there, was added; "v:": had this
 * raw value text (between its quotes, entities as written). */
#include "apply/iisconf.h"
#include "apply/iisdoc.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define NATTR 2

static const char *const attr_names[NATTR] = { "autoStart", "startMode" };
static const char *const attr_wanted[NATTR] = { "false", "OnDemand" };

/* One attribute in the tag: [start, end) is from its name to after its
 * closing quote; prev_end is where the token before it ends. */
typedef struct rawattr {
	int found;
	size_t prev_end;
	size_t start;
	size_t val_off;
	size_t val_len;
	size_t end;
	char quote;
} rawattr;

static int blank(uint8_t c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

/* Finds aname in the start tag of e. *last_end is where a new attribute
 * goes: after the last attribute, or after the name. */
static void scan_tag(const iis_doc *d, const iis_el *e, const char *aname, rawattr *ra, size_t *last_end)
{
	const uint8_t *b = d->buf;
	size_t p = e->name_off + e->name_len, alen = strlen(aname);

	memset(ra, 0, sizeof *ra);
	*last_end = p;
	for (;;) {
		size_t ns, ne, q;
		while (p < e->stag_end && blank(b[p]))
			p++;
		if (p >= e->stag_end || b[p] == '>' || b[p] == '/')
			return;
		ns = p;
		while (p < e->stag_end && !blank(b[p]) && b[p] != '=')
			p++;
		ne = p;
		while (p < e->stag_end && b[p] != '"' && b[p] != '\'')
			p++;
		if (p >= e->stag_end)
			return;
		q = p + 1;
		while (q < e->stag_end && b[q] != b[p])
			q++;
		if (ne - ns == alen && memcmp(b + ns, aname, alen) == 0) {
			ra->found = 1;
			ra->prev_end = *last_end;
			ra->start = ns;
			ra->val_off = p + 1;
			ra->val_len = q - p - 1;
			ra->end = q + 1;
			ra->quote = (char)b[p];
		}
		*last_end = q + 1;
		p = q + 1;
	}
}

static int find_pool(const iis_doc *d, const char *pool, int *out, emg_err *err)
{
	static const char *const path[] = { "configuration", "system.applicationHost", "applicationPools" };
	int n = 0, c, i, count;

	*out = -1;
	for (i = 1; i < 3; i++) {
		int next = emg_iisdoc_child(d, n, path[i], &count);
		if (count != 1)
			return emg_fail(err, EMG_ECONFIG, "%s: %s <%s> in <%s>", d->name,
					count == 0 ? "no" : "more than one", path[i], path[i - 1]);
		n = next;
	}
	for (c = emg_iisdoc_next(d, n, -1); c >= 0; c = emg_iisdoc_next(d, n, c)) {
		const char *v = emg_iisdoc_attr(d, c, "name");
		if (!emg_iisdoc_is(d, c, "add") || v == NULL || strcasecmp(v, pool) != 0)
			continue;
		if (*out >= 0)
			return emg_fail(err, EMG_ECONFIG, "%s:%lu: application pool \"%s\" is defined twice",
					d->name, emg_iisdoc_line(d, d->els[c].start), pool);
		*out = c;
	}
	if (*out < 0)
		return emg_fail(err, EMG_ECONFIG, "%s: no application pool \"%s\" in <applicationPools>",
				d->name, pool);
	return EMG_OK;
}

static void read_attr(const iis_doc *d, int n, const char *aname, emg_iis_attr *a)
{
	const char *v = emg_iisdoc_attr(d, n, aname);

	memset(a, 0, sizeof *a);
	if (v == NULL)
		return;
	a->present = 1;
	snprintf(a->value, sizeof a->value, "%s", v);
}

static void read_cfg(const iis_doc *d, int n, emg_iis_pool_cfg *cfg)
{
	read_attr(d, n, attr_names[0], &cfg->auto_start);
	read_attr(d, n, attr_names[1], &cfg->start_mode);
}

static const emg_iis_attr *cfg_attr(const emg_iis_pool_cfg *cfg, int i)
{
	return i == 0 ? &cfg->auto_start : &cfg->start_mode;
}

static int attr_is_wanted(const emg_iis_attr *a, int i)
{
	if (!a->present)
		return 0;
	/* IIS reads booleans in any case; enumeration names are exact. */
	return i == 0 ? strcasecmp(a->value, attr_wanted[0]) == 0 : strcmp(a->value, attr_wanted[1]) == 0;
}

int emg_iis_apppool_is_disabled(const emg_iis_pool_cfg *cfg)
{
	return attr_is_wanted(&cfg->auto_start, 0) && attr_is_wanted(&cfg->start_mode, 1);
}

int emg_iis_apppool_get(const uint8_t *apphost, size_t len, const char *name, const char *pool,
			emg_iis_pool_cfg *cur, emg_err *err)
{
	iis_doc d;
	int n = -1;
	int rc;

	memset(cur, 0, sizeof *cur);
	rc = emg_iisdoc_open(&d, apphost, len, name, err);
	if (rc != EMG_OK)
		return rc;
	rc = find_pool(&d, pool, &n, err);
	if (rc == EMG_OK)
		read_cfg(&d, n, cur);
	emg_iisdoc_close(&d);
	return rc;
}

static int add_attr_text(iis_edits *ed, size_t at, const char *aname, const char *val, size_t vlen)
{
	iis_sb sb = { 0 };
	char q = memchr(val, '"', vlen) != NULL ? '\'' : '"';
	int rc;

	emg_sb_str(&sb, " ");
	emg_sb_str(&sb, aname);
	emg_sb_str(&sb, "=");
	emg_sb_add(&sb, &q, 1);
	emg_sb_add(&sb, val, vlen);
	emg_sb_add(&sb, &q, 1);
	rc = sb.oom ? -1 : emg_edits_add(ed, at, at, sb.p, sb.len);
	emg_sb_free(&sb);
	return rc;
}

/* Plans the edits that set the wanted values, and writes the record. */
static int plan_disable(const iis_doc *d, const iis_el *e, const emg_iis_pool_cfg *prev,
			iis_edits *ed, iis_sb *rec)
{
	int i;

	emg_sb_str(rec, "v1");
	for (i = 0; i < NATTR; i++) {
		rawattr ra;
		size_t last_end;
		const emg_iis_attr *a = cfg_attr(prev, i);
		int bad = 0;

		emg_sb_str(rec, ";");
		emg_sb_str(rec, attr_names[i]);
		if (attr_is_wanted(a, i)) {
			emg_sb_str(rec, "=keep");
			continue;
		}
		scan_tag(d, e, attr_names[i], &ra, &last_end);
		if (ra.found) {
			char *b64 = emg_iis_b64(d->buf + ra.val_off, ra.val_len);
			emg_sb_str(rec, "=v:");
			if (b64 == NULL)
				rec->oom = 1;
			else
				emg_sb_str(rec, b64);
			free(b64);
			bad = emg_edits_add(ed, ra.val_off, ra.val_off + ra.val_len, attr_wanted[i],
					    strlen(attr_wanted[i]));
		} else {
			emg_sb_str(rec, "=absent");
			bad = add_attr_text(ed, last_end, attr_names[i], attr_wanted[i],
					    strlen(attr_wanted[i]));
		}
		if (bad)
			return -1;
	}
	return rec->oom ? -1 : 0;
}

/* The edited file must parse and show the values wanted (or, with
 * want == NULL, merely parse). */
static int verify_pool(const uint8_t *buf, size_t len, const char *name, const char *pool, int want,
		       emg_err *err)
{
	emg_iis_pool_cfg cfg;
	int rc = emg_iis_apppool_get(buf, len, name, pool, &cfg, err);

	if (rc != EMG_OK)
		return emg_fail(err, EMG_EAPPLY, "%s: the edited file does not check out (%s); not written",
				name, err != NULL ? err->msg : "");
	if (want && !emg_iis_apppool_is_disabled(&cfg))
		return emg_fail(err, EMG_EAPPLY, "%s: the edited pool does not read back; not written", name);
	return EMG_OK;
}

int emg_iis_apppool_disable(const uint8_t *apphost, size_t len, const char *name, const char *pool,
			    uint8_t **out, size_t *outlen, emg_iis_pool_cfg *prev, char **undo,
			    emg_err *err)
{
	iis_doc d;
	iis_edits ed = { 0 };
	iis_sb rec = { 0 };
	int n = -1;
	int rc;

	*out = NULL;
	*outlen = 0;
	*undo = NULL;
	memset(prev, 0, sizeof *prev);
	rc = emg_iisdoc_open(&d, apphost, len, name, err);
	if (rc != EMG_OK)
		return rc;
	rc = find_pool(&d, pool, &n, err);
	if (rc == EMG_OK) {
		read_cfg(&d, n, prev);
		if (!emg_iis_apppool_is_disabled(prev)) {
			if (plan_disable(&d, &d.els[n], prev, &ed, &rec) != 0)
				rc = emg_fail(err, EMG_EIO, "%s: out of memory", name);
			else
				rc = emg_edits_apply(&d, &ed, out, outlen, err);
		}
	}
	emg_edits_free(&ed);
	emg_iisdoc_close(&d);
	if (rc == EMG_OK && *out != NULL)
		rc = verify_pool(*out, *outlen, name, pool, 1, err);
	if (rc != EMG_OK || *out == NULL) {
		free(*out);
		*out = NULL;
		*outlen = 0;
		emg_sb_free(&rec);
		return rc;
	}
	*undo = rec.p;
	return EMG_OK;
}

/* ---- restore ---------------------------------------------------------------- */

typedef struct pstate {
	int kind; /* 'k'eep, 'a'bsent, 'v'alue */
	char *val;
	size_t val_len;
} pstate;

static int parse_pool_undo(const char *undo, pstate st[NATTR])
{
	char *copy, *tok, *save = NULL;
	int i = -1, bad = 0;

	memset(st, 0, NATTR * sizeof st[0]);
	if (undo == NULL || (copy = strdup(undo)) == NULL)
		return -1;
	for (tok = strtok_r(copy, ";", &save); tok != NULL && !bad; tok = strtok_r(NULL, ";", &save), i++) {
		size_t nl;
		const char *v;
		if (i < 0) {
			bad = strcmp(tok, "v1") != 0;
			continue;
		}
		if (i >= NATTR) {
			bad = 1;
			break;
		}
		nl = strlen(attr_names[i]);
		if (strncmp(tok, attr_names[i], nl) != 0 || tok[nl] != '=') {
			bad = 1;
			break;
		}
		v = tok + nl + 1;
		if (strcmp(v, "keep") == 0)
			st[i].kind = 'k';
		else if (strcmp(v, "absent") == 0)
			st[i].kind = 'a';
		else if (strncmp(v, "v:", 2) == 0 && emg_iis_unb64(v + 2, strlen(v + 2), &st[i].val,
								   &st[i].val_len) == 0)
			st[i].kind = 'v';
		else
			bad = 1;
	}
	free(copy);
	if (bad || i != NATTR) {
		for (i = 0; i < NATTR; i++)
			free(st[i].val);
		return -1;
	}
	return 0;
}

static int plan_restore(const iis_doc *d, const iis_el *e, const pstate st[NATTR], iis_edits *ed)
{
	int i;

	for (i = 0; i < NATTR; i++) {
		rawattr ra;
		size_t last_end;
		int bad = 0;

		if (st[i].kind == 'k')
			continue;
		scan_tag(d, e, attr_names[i], &ra, &last_end);
		if (st[i].kind == 'a' && ra.found) {
			bad = emg_edits_add(ed, ra.prev_end, ra.end, "", 0);
		} else if (st[i].kind == 'v' && ra.found) {
			if (memchr(st[i].val, ra.quote, st[i].val_len) != NULL)
				return -2;
			if (ra.val_len != st[i].val_len ||
			    memcmp(d->buf + ra.val_off, st[i].val, ra.val_len) != 0)
				bad = emg_edits_add(ed, ra.val_off, ra.val_off + ra.val_len, st[i].val,
						    st[i].val_len);
		} else if (st[i].kind == 'v') {
			bad = add_attr_text(ed, last_end, attr_names[i], st[i].val, st[i].val_len);
		}
		if (bad)
			return -1;
	}
	return 0;
}

int emg_iis_apppool_restore(const uint8_t *apphost, size_t len, const char *name,
			    const char *pool, const char *undo, uint8_t **out, size_t *outlen,
			    emg_err *err)
{
	iis_doc d;
	iis_edits ed = { 0 };
	pstate st[NATTR];
	int n = -1;
	int rc, i;

	*out = NULL;
	*outlen = 0;
	if (parse_pool_undo(undo, st) != 0)
		return emg_fail(err, EMG_ECONFIG, "undo record for application pool \"%s\" is malformed", pool);
	rc = emg_iisdoc_open(&d, apphost, len, name, err);
	if (rc == EMG_OK)
		rc = find_pool(&d, pool, &n, err);
	if (rc == EMG_OK) {
		int p = plan_restore(&d, &d.els[n], st, &ed);
		if (p == -2)
			rc = emg_fail(err, EMG_EAPPLY, "%s: pool \"%s\": the old value no longer fits the "
					  "attribute's quotes", name, pool);
		else if (p != 0)
			rc = emg_fail(err, EMG_EIO, "%s: out of memory", name);
		else if (ed.n > 0)
			rc = emg_edits_apply(&d, &ed, out, outlen, err);
	}
	emg_iisdoc_close(&d);
	emg_edits_free(&ed);
	for (i = 0; i < NATTR; i++)
		free(st[i].val);
	if (rc == EMG_OK && *out != NULL)
		rc = verify_pool(*out, *outlen, name, pool, 0, err);
	if (rc != EMG_OK) {
		free(*out);
		*out = NULL;
		*outlen = 0;
	}
	return rc;
}
