/* iisrules.c - URL Rewrite rules in applicationHost.config and web.config:
 * state, insert or replace by name, and exact undo.
 *
 * Every change is a splice into the original bytes (iisdoc.h). What was
 * spliced is written down in an undo record, because "remove the rule" is
 * not enough to give back the original file: the containers created for it
 * and the whitespace around it must go too, and a replaced rule must get
 * its old bytes back. Record grammar (one line):
 *
 *   v1 ( ";g=" COLLECTION "," ANCHOR ( ";i=" NAME | ";r=" NAME "," OLD )* )*
 *   ANCHOR = "none" | "created:" LEVEL | "collapsed:" LEVEL ":" OLD
 *
 * NAME and OLD are base64. LEVEL counts from <configuration> (0) through
 * <system.webServer> (1) and <rewrite> (2) to the collection (3):
 * "created" means that element was added to its parent, "collapsed" that
 * the element was empty and was rewritten whole (OLD is its old text). */
#include "apply/iisconf.h"
#include "apply/iisdoc.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <libxml/parser.h>

#define LEVELS 4

/* ---- the fragment ---------------------------------------------------------- */

typedef struct frule {
	xmlNodePtr node;
	char *name; /* xmlFree */
	int outbound;
} frule;

typedef struct frag {
	xmlDocPtr doc;
	frule r[EMG_IIS_MAX_RULES];
	int n;
} frag;

static void frag_free(frag *f)
{
	int i;

	for (i = 0; i < f->n; i++)
		xmlFree(f->r[i].name);
	if (f->doc != NULL)
		xmlFreeDoc(f->doc);
	memset(f, 0, sizeof *f);
}

/* Rules use no namespaces; refusing them keeps rendering and comparing
 * simple and honest. */
static int frag_check_node(xmlNodePtr n, emg_err *err)
{
	xmlAttrPtr a;
	xmlNodePtr c;

	if (n->ns != NULL && n->ns->prefix != NULL)
		return emg_fail(err, EMG_ECONFIG, "rule fragment:%d: namespaced element <%s:%s>",
				n->line, n->ns->prefix, n->name);
	for (a = n->properties; a != NULL; a = a->next)
		if (a->ns != NULL)
			return emg_fail(err, EMG_ECONFIG, "rule fragment:%d: namespaced attribute %s",
					n->line, a->name);
	for (c = n->children; c != NULL; c = c->next)
		if (c->type == XML_ELEMENT_NODE && frag_check_node(c, err) != EMG_OK)
			return EMG_ECONFIG;
	return EMG_OK;
}

static int frag_add(frag *f, xmlNodePtr n, emg_err *err)
{
	frule *r;
	int i;

	if (strcmp((const char *)n->name, "rule") != 0 && strcmp((const char *)n->name, "outboundRule") != 0)
		return emg_fail(err, EMG_ECONFIG, "rule fragment:%d: <%s> is not <rule> or <outboundRule>",
				n->line, n->name);
	if (f->n >= EMG_IIS_MAX_RULES)
		return emg_fail(err, EMG_ECONFIG, "rule fragment: more than %d rules", EMG_IIS_MAX_RULES);
	if (frag_check_node(n, err) != EMG_OK)
		return EMG_ECONFIG;
	r = &f->r[f->n];
	r->node = n;
	r->outbound = n->name[0] == 'o';
	r->name = (char *)xmlGetNoNsProp(n, (const xmlChar *)"name");
	if (r->name == NULL || r->name[0] == '\0') {
		xmlFree(r->name);
		return emg_fail(err, EMG_ECONFIG, "rule fragment:%d: <%s> without a name", n->line, n->name);
	}
	f->n++;
	for (i = 0; i < f->n - 1; i++)
		if (f->r[i].outbound == r->outbound && strcasecmp(f->r[i].name, r->name) == 0)
			return emg_fail(err, EMG_ECONFIG, "rule fragment: rule \"%s\" given twice", r->name);
	return EMG_OK;
}

static int frag_parse(const char *text, size_t len, frag *f, emg_err *err)
{
	static const char open[] = "<emgap-fragment>", close[] = "</emgap-fragment>";
	iis_sb sb = { 0 };
	xmlNodePtr n;
	int rc = EMG_OK, line = 0;
	char msg[300];

	memset(f, 0, sizeof *f);
	if (text == NULL || len == 0)
		return emg_fail(err, EMG_ECONFIG, "rule fragment: empty");
	if (len > EMG_IIS_MAX_FRAGMENT)
		return emg_fail(err, EMG_ECONFIG, "rule fragment: larger than %zu bytes", EMG_IIS_MAX_FRAGMENT);
	/* Wrapped in one element so libxml2 checks it as a document: whatever
	 * does not close inside the wrapper makes it malformed. */
	emg_sb_str(&sb, open);
	emg_sb_add(&sb, text, len);
	emg_sb_str(&sb, close);
	if (sb.oom)
		return emg_fail(err, EMG_EIO, "rule fragment: out of memory");
	f->doc = emg_iis_xml_read(sb.p, sb.len, "fragment", &line, msg, sizeof msg);
	emg_sb_free(&sb);
	if (f->doc == NULL)
		return emg_fail(err, EMG_ECONFIG, "rule fragment:%d: malformed XML: %s", line, msg);
	for (n = xmlDocGetRootElement(f->doc)->children; n != NULL && rc == EMG_OK; n = n->next) {
		if (n->type == XML_ELEMENT_NODE)
			rc = frag_add(f, n, err);
		else if (n->type == XML_TEXT_NODE && xmlIsBlankNode(n) == 0)
			rc = emg_fail(err, EMG_ECONFIG, "rule fragment:%d: text outside of a rule", n->line);
		else if (n->type != XML_TEXT_NODE && n->type != XML_COMMENT_NODE)
			rc = emg_fail(err, EMG_ECONFIG, "rule fragment:%d: unexpected content", n->line);
	}
	if (rc == EMG_OK && f->n == 0)
		rc = emg_fail(err, EMG_ECONFIG, "rule fragment: no <rule> or <outboundRule>");
	if (rc != EMG_OK)
		frag_free(f);
	return rc;
}

/* ---- comparing -------------------------------------------------------- */

static int significant(const xmlNode *n)
{
	if (n->type == XML_ELEMENT_NODE)
		return 1;
	if (n->type == XML_TEXT_NODE || n->type == XML_CDATA_SECTION_NODE)
		return xmlIsBlankNode((xmlNodePtr)n) == 0;
	return 0;
}

static xmlNodePtr next_sig(xmlNodePtr n)
{
	while (n != NULL && !significant(n))
		n = n->next;
	return n;
}

static void trim(const char *s, size_t *off, size_t *len)
{
	size_t a = 0, b = strlen(s);

	while (a < b && strchr(" \t\r\n", s[a]) != NULL)
		a++;
	while (b > a && strchr(" \t\r\n", s[b - 1]) != NULL)
		b--;
	*off = a;
	*len = b - a;
}

static int same_text(const xmlNode *a, const xmlNode *b)
{
	size_t ao, al, bo, bl;

	trim((const char *)a->content, &ao, &al);
	trim((const char *)b->content, &bo, &bl);
	return al == bl && memcmp(a->content + ao, b->content + bo, al) == 0;
}

static int same_attrs(xmlNodePtr a, xmlNodePtr b)
{
	xmlAttrPtr p;
	int na = 0, nb = 0;

	for (p = a->properties; p != NULL; p = p->next)
		na++;
	for (p = b->properties; p != NULL; p = p->next)
		nb++;
	if (na != nb)
		return 0;
	for (p = a->properties; p != NULL; p = p->next) {
		xmlChar *va = xmlGetNoNsProp(a, p->name), *vb = xmlGetNoNsProp(b, p->name);
		int same = va != NULL && vb != NULL && strcmp((char *)va, (char *)vb) == 0;
		xmlFree(va);
		xmlFree(vb);
		if (!same)
			return 0;
	}
	return 1;
}

/* top: the rule elements themselves, whose names differ by design
 * (<outboundRule> in the feed is <rule> in <outboundRules>). */
static int same_node(xmlNodePtr a, xmlNodePtr b, int top)
{
	xmlNodePtr ca, cb;

	if (!top && strcmp((const char *)a->name, (const char *)b->name) != 0)
		return 0;
	if (!same_attrs(a, b))
		return 0;
	ca = next_sig(a->children);
	cb = next_sig(b->children);
	while (ca != NULL && cb != NULL) {
		if ((ca->type == XML_ELEMENT_NODE) != (cb->type == XML_ELEMENT_NODE))
			return 0;
		if (ca->type == XML_ELEMENT_NODE ? !same_node(ca, cb, 0) : !same_text(ca, cb))
			return 0;
		ca = next_sig(ca->next);
		cb = next_sig(cb->next);
	}
	return ca == NULL && cb == NULL;
}

/* ---- rendering ----------------------------------------------------------- */

typedef struct style {
	const char *eol;
	const char *unit;
} style;

static void render(iis_sb *sb, xmlNodePtr n, const char *name, const char *ind, const style *st)
{
	xmlAttrPtr a;
	xmlNodePtr c;
	int elems = 0, texts = 0;
	iis_sb inner = { 0 };

	emg_sb_str(sb, "<");
	emg_sb_str(sb, name);
	for (a = n->properties; a != NULL; a = a->next) {
		xmlChar *v = xmlGetNoNsProp(n, a->name);
		emg_sb_str(sb, " ");
		emg_sb_str(sb, (const char *)a->name);
		emg_sb_str(sb, "=\"");
		if (v == NULL)
			sb->oom = 1;
		else
			emg_sb_esc(sb, (const char *)v, 1);
		emg_sb_str(sb, "\"");
		xmlFree(v);
	}
	for (c = n->children; c != NULL; c = c->next) {
		elems += c->type == XML_ELEMENT_NODE || c->type == XML_COMMENT_NODE;
		texts += c->type != XML_ELEMENT_NODE && c->type != XML_COMMENT_NODE && significant(c);
	}
	if (elems == 0 && texts == 0) {
		emg_sb_str(sb, " />"); /* as IIS writes empty elements */
		return;
	}
	emg_sb_str(sb, ">");
	if (elems == 0) { /* text only: on one line */
		for (c = n->children; c != NULL; c = c->next)
			if (c->content != NULL)
				emg_sb_esc(sb, (const char *)c->content, 0);
	} else {
		emg_sb_str(&inner, ind);
		emg_sb_str(&inner, st->unit);
		for (c = n->children; c != NULL && !inner.oom; c = c->next) {
			if (!significant(c) && c->type != XML_COMMENT_NODE)
				continue;
			emg_sb_str(sb, st->eol);
			emg_sb_str(sb, inner.p);
			if (c->type == XML_ELEMENT_NODE) {
				render(sb, c, (const char *)c->name, inner.p, st);
			} else if (c->type == XML_COMMENT_NODE) {
				emg_sb_str(sb, "<!--");
				emg_sb_str(sb, (const char *)c->content);
				emg_sb_str(sb, "-->");
			} else {
				size_t o, l;
				char *t;
				trim((const char *)c->content, &o, &l);
				t = strndup((const char *)c->content + o, l);
				if (t == NULL)
					sb->oom = 1;
				else
					emg_sb_esc(sb, t, 0);
				free(t);
			}
		}
		if (inner.oom)
			sb->oom = 1;
		emg_sb_free(&inner);
		emg_sb_str(sb, st->eol);
		emg_sb_str(sb, ind);
	}
	emg_sb_str(sb, "</");
	emg_sb_str(sb, name);
	emg_sb_str(sb, ">");
}

/* ---- locating ------------------------------------------------------------ */

static const char *coll_name(enum emg_iis_file_kind kind, int outbound)
{
	if (outbound)
		return "outboundRules";
	return kind == EMG_IIS_APPHOST ? "globalRules" : "rules";
}

/* chain[0..3]: configuration, system.webServer, rewrite, the collection.
 * *have is how many exist from the top. */
static int find_chain(const iis_doc *d, const char *coll, int chain[LEVELS], int *have,
		      emg_err *err)
{
	const char *names[LEVELS] = { "configuration", "system.webServer", "rewrite", coll };
	int k, count;

	for (k = 0; k < LEVELS; k++)
		chain[k] = -1;
	chain[0] = 0;
	for (k = 1; k < LEVELS; k++) {
		chain[k] = emg_iisdoc_child(d, chain[k - 1], names[k], &count);
		if (count > 1)
			return emg_fail(err, EMG_ECONFIG, "%s:%lu: <%s> appears %d times in <%s>", d->name,
					emg_iisdoc_line(d, d->els[chain[k]].start), names[k], count,
					names[k - 1]);
		if (chain[k] < 0)
			break;
	}
	*have = k;
	return EMG_OK;
}

static int find_rule(const iis_doc *d, int coll, const char *name, int *found, emg_err *err)
{
	int n;

	*found = -1;
	for (n = emg_iisdoc_next(d, coll, -1); n >= 0; n = emg_iisdoc_next(d, coll, n)) {
		const char *v;
		if (!emg_iisdoc_is(d, n, "rule"))
			continue;
		v = emg_iisdoc_attr(d, n, "name");
		if (v == NULL || strcasecmp(v, name) != 0)
			continue;
		if (*found >= 0)
			return emg_fail(err, EMG_ECONFIG, "%s:%lu: rule \"%s\" appears twice in <%.*s>",
					d->name, emg_iisdoc_line(d, d->els[n].start), name,
					(int)d->els[coll].name_len, (const char *)d->buf + d->els[coll].name_off);
		*found = n;
	}
	return EMG_OK;
}

static const iis_el *el_of(const iis_doc *d, int idx)
{
	return &d->els[idx];
}

/* The rule in the file (parsed alone) equals the fragment's. */
static int same_as_file(const iis_doc *d, int idx, xmlNodePtr want)
{
	xmlDocPtr sub = emg_iisdoc_subtree(d, idx);
	int same = sub != NULL && same_node(xmlDocGetRootElement(sub), want, 1);

	if (sub != NULL)
		xmlFreeDoc(sub);
	return same;
}

/* ---- state ------------------------------------------------------------------ */

/* Counts the fragment's rules found equal (*same) and found at all (*found). */
static int count_rules(const iis_doc *d, enum emg_iis_file_kind kind, const frag *f, int *same,
		       int *found, emg_err *err)
{
	int i;

	*same = *found = 0;
	for (i = 0; i < f->n; i++) {
		int chain[LEVELS], r, have;
		if (find_chain(d, coll_name(kind, f->r[i].outbound), chain, &have, err) != EMG_OK)
			return EMG_ECONFIG;
		if (have < LEVELS)
			continue;
		if (find_rule(d, chain[3], f->r[i].name, &r, err) != EMG_OK)
			return EMG_ECONFIG;
		if (r < 0)
			continue;
		(*found)++;
		*same += same_as_file(d, r, f->r[i].node);
	}
	return EMG_OK;
}

int emg_iis_rules_state(const uint8_t *doc, size_t len, const char *name,
			enum emg_iis_file_kind kind, const char *fragtext, size_t fraglen,
			enum emg_iis_rule_state *state, emg_err *err)
{
	iis_doc d;
	frag f;
	int rc, same, found;

	*state = EMG_IIS_RULE_ABSENT;
	rc = frag_parse(fragtext, fraglen, &f, err);
	if (rc != EMG_OK)
		return rc;
	rc = emg_iisdoc_open(&d, doc, len, name, err);
	if (rc == EMG_OK) {
		rc = count_rules(&d, kind, &f, &same, &found, err);
		emg_iisdoc_close(&d);
	}
	if (rc == EMG_OK)
		*state = found == 0 ? EMG_IIS_RULE_ABSENT
			: same == f.n ? EMG_IIS_RULE_SAME : EMG_IIS_RULE_DIFFERENT;
	frag_free(&f);
	return rc;
}

/* ---- upsert ------------------------------------------------------------------ */

typedef struct job {
	const iis_doc *d;
	const frag *f;
	int outbound;
	const char *names[LEVELS];
	style st;
	iis_sb unit;
	iis_edits ed;
	iis_sb anchor;   /* undo record: what happened to the containers */
	iis_sb entries;  /* undo record: the rules replaced */
	int news[EMG_IIS_MAX_RULES];
	int nnew;
	int changed;
} job;

static void rec_b64(iis_sb *sb, const void *p, size_t n)
{
	char *s = emg_iis_b64(p, n);

	if (s == NULL) {
		sb->oom = 1;
		return;
	}
	emg_sb_str(sb, s);
	free(s);
}

/* The new rules, each on its own line at indentation ind. */
static void render_news(job *j, iis_sb *sb, const char *ind)
{
	int i;

	for (i = 0; i < j->nnew; i++) {
		const frule *r = &j->f->r[j->news[i]];
		emg_sb_str(sb, j->st.eol);
		emg_sb_str(sb, ind);
		render(sb, r->node, "rule", ind, &j->st);
	}
}

/* <names[k]> holding the levels below it and finally the new rules; the
 * start tag is already written, ind is the indentation of its line. */
static void render_levels(job *j, iis_sb *sb, int k, const char *ind)
{
	iis_sb in = { 0 };

	emg_sb_str(&in, ind);
	emg_sb_str(&in, j->unit.p);
	if (in.oom) {
		sb->oom = 1;
		return;
	}
	if (k == LEVELS - 1) {
		render_news(j, sb, in.p);
	} else {
		emg_sb_str(sb, j->st.eol);
		emg_sb_str(sb, in.p);
		emg_sb_str(sb, "<");
		emg_sb_str(sb, j->names[k + 1]);
		emg_sb_str(sb, ">");
		render_levels(j, sb, k + 1, in.p);
	}
	emg_sb_free(&in);
	emg_sb_str(sb, j->st.eol);
	emg_sb_str(sb, ind);
	emg_sb_str(sb, "</");
	emg_sb_str(sb, j->names[k]);
	emg_sb_str(sb, ">");
}

static int add_edit(job *j, size_t from, size_t to, const iis_sb *text, emg_err *err)
{
	if (text->oom || emg_edits_add(&j->ed, from, to, text->p, text->len) != 0)
		return emg_fail(err, EMG_EIO, "%s: out of memory", j->d->name);
	j->changed = 1;
	return EMG_OK;
}

/* Replaces the rule in place when it differs, or queues it as new. */
static int upsert_one(job *j, int coll, int i, emg_err *err)
{
	const frule *r = &j->f->r[i];
	const iis_el *e;
	iis_sb text = { 0 }, ind = { 0 };
	int old, rc;

	if (coll < 0) {
		j->news[j->nnew++] = i;
		return EMG_OK;
	}
	if (find_rule(j->d, coll, r->name, &old, err) != EMG_OK)
		return EMG_ECONFIG;
	if (old < 0) {
		j->news[j->nnew++] = i;
		return EMG_OK;
	}
	if (same_as_file(j->d, old, r->node))
		return EMG_OK;
	e = el_of(j->d, old);
	emg_iisdoc_indent_of(j->d, old, &ind);
	if (!ind.oom)
		render(&text, r->node, "rule", ind.p != NULL ? ind.p : "", &j->st);
	emg_sb_str(&j->entries, ";r=");
	rec_b64(&j->entries, r->name, strlen(r->name));
	emg_sb_str(&j->entries, ",");
	rec_b64(&j->entries, j->d->buf + e->start, e->end - e->start);
	text.oom |= ind.oom;
	rc = add_edit(j, e->start, e->end, &text, err);
	emg_sb_free(&text);
	emg_sb_free(&ind);
	return rc;
}

/* Where new rules go in an existing, non-empty collection: after the last
 * <clear/> or <remove/>, else right after the start tag. */
static size_t insert_point(const iis_doc *d, int coll)
{
	size_t pos = el_of(d, coll)->stag_end;
	int c;

	for (c = emg_iisdoc_next(d, coll, -1); c >= 0; c = emg_iisdoc_next(d, coll, c))
		if (emg_iisdoc_is(d, c, "clear") || emg_iisdoc_is(d, c, "remove"))
			pos = el_of(d, c)->end;
	return pos;
}

/* The indentation for children of element n: the first child element's
 * own, else n's plus one unit. */
static void child_indent(job *j, int n, iis_sb *sb)
{
	int c = emg_iisdoc_next(j->d, n, -1);
	const char *ind;
	size_t ind_len;

	if (c >= 0 && emg_iisdoc_own_line(j->d, el_of(j->d, c)->start, &ind, &ind_len)) {
		emg_sb_add(sb, ind, ind_len);
		return;
	}
	emg_iisdoc_indent_of(j->d, n, sb);
	emg_sb_str(sb, j->unit.p);
}

static int blank_char(uint8_t c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

static void anchor_level(job *j, const char *what, int level)
{
	char lv = (char)('0' + level);

	emg_sb_str(&j->anchor, what);
	emg_sb_add(&j->anchor, &lv, 1);
}

/* Element n (level k) holds nothing: rewrite it whole, with the levels
 * below it and the rules inside; the record keeps its old text. */
static int collapse_into(job *j, int n, int k, emg_err *err)
{
	const iis_el *e = el_of(j->d, n);
	iis_sb text = { 0 }, ind = { 0 };
	size_t st_end = e->stag_end;
	const char *saved = j->names[k];
	char qn[256];
	int rc;

	emg_iisdoc_indent_of(j->d, n, &ind);
	if (e->empty) { /* <x ... /> becomes <x ...> */
		st_end -= 2;
		while (st_end > e->start && blank_char(j->d->buf[st_end - 1]))
			st_end--;
	}
	emg_sb_add(&text, j->d->buf + e->start, st_end - e->start);
	if (e->empty)
		emg_sb_str(&text, ">");
	/* The end tag is written with the name as the file spells it. */
	snprintf(qn, sizeof qn, "%.*s", (int)e->name_len, (const char *)j->d->buf + e->name_off);
	j->names[k] = qn;
	render_levels(j, &text, k, ind.p != NULL ? ind.p : "");
	j->names[k] = saved;
	anchor_level(j, "collapsed:", k);
	emg_sb_str(&j->anchor, ":");
	rec_b64(&j->anchor, j->d->buf + e->start, e->end - e->start);
	text.oom |= ind.oom;
	rc = add_edit(j, e->start, e->end, &text, err);
	emg_sb_free(&text);
	emg_sb_free(&ind);
	return rc;
}

/* The collection n exists and holds something: the rules go in at the
 * insert point, each on its own line. */
static int insert_into(job *j, int n, emg_err *err)
{
	iis_sb text = { 0 }, ind = { 0 };
	size_t at = insert_point(j->d, n);
	int rc;

	child_indent(j, n, &ind);
	if (!ind.oom)
		render_news(j, &text, ind.p);
	emg_sb_str(&j->anchor, "none");
	text.oom |= ind.oom;
	rc = add_edit(j, at, at, &text, err);
	emg_sb_free(&text);
	emg_sb_free(&ind);
	return rc;
}

/* Element n (level k) holds other things: level k+1 and below are added
 * after its last content, so that removing them with their line gives
 * the old bytes back. */
static int create_under(job *j, int n, int k, emg_err *err)
{
	const iis_el *e = el_of(j->d, n);
	iis_sb text = { 0 }, ind = { 0 };
	size_t pos = e->etag_start;
	int rc;

	while (pos > e->stag_end && blank_char(j->d->buf[pos - 1]))
		pos--;
	child_indent(j, n, &ind);
	if (!ind.oom) {
		emg_sb_str(&text, j->st.eol);
		emg_sb_str(&text, ind.p);
		emg_sb_str(&text, "<");
		emg_sb_str(&text, j->names[k + 1]);
		emg_sb_str(&text, ">");
		render_levels(j, &text, k + 1, ind.p);
	}
	anchor_level(j, "created:", k + 1);
	text.oom |= ind.oom;
	rc = add_edit(j, pos, pos, &text, err);
	emg_sb_free(&text);
	emg_sb_free(&ind);
	return rc;
}

/* Adds the new rules below the deepest existing level, element n at
 * level k (k < LEVELS). */
static int insert_news(job *j, int n, int k, emg_err *err)
{
	if (emg_iisdoc_is_bare(j->d, n))
		return collapse_into(j, n, k, err);
	if (k == LEVELS - 1)
		return insert_into(j, n, err);
	return create_under(j, n, k, err);
}

static void job_free(job *j)
{
	emg_sb_free(&j->unit);
	emg_sb_free(&j->anchor);
	emg_sb_free(&j->entries);
	emg_edits_free(&j->ed);
}

/* This group's part of the undo record: collection, anchor, entries. */
static void write_record(const job *j, iis_sb *rec)
{
	int i;

	emg_sb_str(rec, ";g=");
	emg_sb_str(rec, j->names[3]);
	emg_sb_str(rec, ",");
	if (j->anchor.len > 0)
		emg_sb_add(rec, j->anchor.p, j->anchor.len);
	else
		emg_sb_str(rec, "none");
	for (i = 0; i < j->nnew; i++) {
		const char *nm = j->f->r[j->news[i]].name;
		emg_sb_str(rec, ";i=");
		rec_b64(rec, nm, strlen(nm));
	}
	if (j->entries.len > 0)
		emg_sb_add(rec, j->entries.p, j->entries.len);
	if (j->anchor.oom || j->entries.oom)
		rec->oom = 1;
}

/* One collection (inbound or outbound) on the current bytes. */
static int upsert_group(const iis_doc *d, enum emg_iis_file_kind kind, const frag *f, int outbound,
			uint8_t **out, size_t *outlen, iis_sb *rec, emg_err *err)
{
	int chain[LEVELS];
	job j;
	int have, i, rc;

	memset(&j, 0, sizeof j);
	j.d = d;
	j.f = f;
	j.outbound = outbound;
	j.names[0] = "configuration";
	j.names[1] = "system.webServer";
	j.names[2] = "rewrite";
	j.names[3] = coll_name(kind, outbound);
	j.st.eol = d->eol;
	*out = NULL;
	*outlen = 0;
	rc = find_chain(d, j.names[3], chain, &have, err);
	if (rc != EMG_OK)
		return rc;
	emg_iisdoc_unit(d, chain[have - 1], &j.unit);
	j.st.unit = j.unit.p;
	for (i = 0; i < f->n && rc == EMG_OK; i++)
		if (f->r[i].outbound == outbound)
			rc = upsert_one(&j, have == LEVELS ? chain[3] : -1, i, err);
	if (rc == EMG_OK && j.nnew > 0)
		rc = insert_news(&j, chain[have - 1], have - 1, err);
	if (rc == EMG_OK && j.changed) {
		if (j.unit.oom)
			rc = emg_fail(err, EMG_EIO, "%s: out of memory", d->name);
		else
			rc = emg_edits_apply(d, &j.ed, out, outlen, err);
		if (rc == EMG_OK)
			write_record(&j, rec);
	}
	job_free(&j);
	return rc;
}

static int has_group(const frag *f, int outbound)
{
	int i;

	for (i = 0; i < f->n; i++)
		if (f->r[i].outbound == outbound)
			return 1;
	return 0;
}

/* Runs upsert_group for both collections, each on the result of the last. */
static int upsert_all(const uint8_t *doc, size_t len, const char *name, enum emg_iis_file_kind kind,
		      const frag *f, uint8_t **out, size_t *outlen, iis_sb *rec, emg_err *err)
{
	uint8_t *cur = NULL;
	size_t cur_len = 0;
	int g, rc = EMG_OK;

	for (g = 0; g < 2 && rc == EMG_OK; g++) {
		iis_doc d;
		uint8_t *next = NULL;
		size_t next_len = 0;
		if (!has_group(f, g))
			continue;
		rc = emg_iisdoc_open(&d, cur != NULL ? cur : doc, cur != NULL ? cur_len : len, name, err);
		if (rc != EMG_OK)
			break;
		rc = upsert_group(&d, kind, f, g, &next, &next_len, rec, err);
		emg_iisdoc_close(&d);
		if (next != NULL) {
			free(cur);
			cur = next;
			cur_len = next_len;
		}
	}
	if (rc != EMG_OK) {
		free(cur);
		return rc;
	}
	*out = cur;
	*outlen = cur_len;
	return EMG_OK;
}

/* The result must parse and hold every rule, equal to the fragment's. */
static int verify_upsert(const uint8_t *buf, size_t len, const char *name, enum emg_iis_file_kind kind,
			 const frag *f, emg_err *err)
{
	iis_doc d;
	int rc, same = 0, found = 0;

	rc = emg_iisdoc_open(&d, buf, len, name, err);
	if (rc != EMG_OK)
		return emg_fail(err, EMG_EAPPLY, "%s: the edited file does not parse (%s); not written",
				name, err != NULL ? err->msg : "");
	rc = count_rules(&d, kind, f, &same, &found, err);
	emg_iisdoc_close(&d);
	if (rc == EMG_OK && same != f->n)
		rc = emg_fail(err, EMG_EAPPLY, "%s: the edited file does not hold the rules as given; "
				  "not written", name);
	return rc;
}

int emg_iis_rules_upsert(const uint8_t *doc, size_t len, const char *name,
			 enum emg_iis_file_kind kind, const char *fragtext, size_t fraglen,
			 uint8_t **out, size_t *outlen, char **undo, emg_err *err)
{
	frag f;
	iis_sb rec = { 0 };
	int rc;

	*out = NULL;
	*outlen = 0;
	*undo = NULL;
	rc = frag_parse(fragtext, fraglen, &f, err);
	if (rc != EMG_OK)
		return rc;
	emg_sb_str(&rec, "v1");
	rc = upsert_all(doc, len, name, kind, &f, out, outlen, &rec, err);
	if (rc == EMG_OK && *out != NULL)
		rc = verify_upsert(*out, *outlen, name, kind, &f, err);
	if (rc == EMG_OK && *out != NULL && rec.oom)
		rc = emg_fail(err, EMG_EIO, "%s: out of memory", name);
	frag_free(&f);
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

/* ---- undo records ------------------------------------------------------------ */

typedef struct uentry {
	char kind;  /* 'i' or 'r' */
	char *name; /* decoded */
	char *old;  /* decoded, for 'r' */
	size_t old_len;
	const char *raw; /* the token, for merging */
} uentry;

typedef struct ugroup {
	char coll[16];
	int level;  /* -1 for none */
	int collapsed;
	char *old;  /* decoded collapsed text */
	size_t old_len;
	const char *raw_anchor;
	uentry e[EMG_IIS_MAX_RULES];
	int n;
} ugroup;

typedef struct urec {
	char *copy; /* the record, cut into tokens */
	ugroup g[2];
	int n;
} urec;

static void urec_free(urec *u)
{
	int i, k;

	for (i = 0; i < u->n; i++) {
		for (k = 0; k < u->g[i].n; k++) {
			free(u->g[i].e[k].name);
			free(u->g[i].e[k].old);
		}
		free(u->g[i].old);
	}
	free(u->copy);
	memset(u, 0, sizeof *u);
}

static int parse_anchor(ugroup *g, const char *a)
{
	g->raw_anchor = a;
	g->level = -1;
	if (strcmp(a, "none") == 0)
		return 0;
	if (strncmp(a, "created:", 8) == 0 && a[8] >= '1' && a[8] <= '3' && a[9] == '\0') {
		g->level = a[8] - '0';
		return 0;
	}
	if (strncmp(a, "collapsed:", 10) == 0 && a[10] >= '0' && a[10] <= '3' && a[11] == ':') {
		g->level = a[10] - '0';
		g->collapsed = 1;
		return emg_iis_unb64(a + 12, strlen(a + 12), &g->old, &g->old_len);
	}
	return -1;
}

static int parse_group(urec *u, char *tok)
{
	char *comma = strchr(tok + 2, ',');
	ugroup *g;

	if (u->n >= 2 || comma == NULL || (size_t)(comma - tok - 2) >= sizeof g->coll)
		return -1;
	g = &u->g[u->n++];
	memcpy(g->coll, tok + 2, (size_t)(comma - tok - 2));
	g->coll[comma - tok - 2] = '\0';
	if (strcmp(g->coll, "rules") != 0 && strcmp(g->coll, "globalRules") != 0 &&
	    strcmp(g->coll, "outboundRules") != 0)
		return -1;
	return parse_anchor(g, comma + 1);
}

static int parse_entry(urec *u, char *tok)
{
	ugroup *g;
	uentry *e;
	char *comma = strchr(tok, ',');
	size_t nlen;

	if (u->n == 0)
		return -1;
	g = &u->g[u->n - 1];
	if (g->n >= EMG_IIS_MAX_RULES)
		return -1;
	e = &g->e[g->n++];
	e->kind = tok[0];
	e->raw = tok;
	if ((tok[0] == 'r') != (comma != NULL))
		return -1;
	nlen = comma != NULL ? (size_t)(comma - tok - 2) : strlen(tok + 2);
	if (emg_iis_unb64(tok + 2, nlen, &e->name, &nlen) != 0 || nlen == 0 || strlen(e->name) != nlen)
		return -1;
	if (comma != NULL)
		return emg_iis_unb64(comma + 1, strlen(comma + 1), &e->old, &e->old_len);
	return 0;
}

static int urec_parse(const char *text, urec *u, emg_err *err)
{
	char *tok, *save = NULL;
	int first = 1, bad = 0;

	memset(u, 0, sizeof *u);
	u->copy = strdup(text);
	if (u->copy == NULL)
		return emg_fail(err, EMG_EIO, "undo record: out of memory");
	/* Tokens must be usable after the split: the copy is kept. */
	for (tok = strtok_r(u->copy, ";", &save); tok != NULL && !bad; tok = strtok_r(NULL, ";", &save)) {
		if (first) {
			bad = strcmp(tok, "v1") != 0;
			first = 0;
		} else if (strncmp(tok, "g=", 2) == 0) {
			bad = parse_group(u, tok) != 0;
		} else if (strncmp(tok, "i=", 2) == 0 || strncmp(tok, "r=", 2) == 0) {
			bad = parse_entry(u, tok) != 0;
		} else {
			bad = 1;
		}
	}
	if (bad || first) {
		urec_free(u);
		return emg_fail(err, EMG_ECONFIG, "undo record for IIS rules is malformed");
	}
	return EMG_OK;
}

/* ---- remove -------------------------------------------------------------------- */

/* Chain elements from level k down hold nothing but the next level, and the
 * collection nothing at all: what the upsert created, now empty again. */
static int chain_empty(const iis_doc *d, const int chain[LEVELS], int k)
{
	for (; k < LEVELS - 1; k++)
		if (!emg_iisdoc_only_child(d, chain[k], chain[k + 1]))
			return 0;
	return emg_iisdoc_is_bare(d, chain[LEVELS - 1]);
}

static int finish_edits(const iis_doc *d, iis_edits *ed, uint8_t **buf, size_t *len, int *changed,
			emg_err *err)
{
	uint8_t *next = NULL;
	size_t next_len = 0;
	int rc;

	if (ed->n == 0)
		return EMG_OK;
	rc = emg_edits_apply(d, ed, &next, &next_len, err);
	emg_edits_free(ed);
	if (rc != EMG_OK)
		return rc;
	free(*buf);
	*buf = next;
	*len = next_len;
	*changed = 1;
	return EMG_OK;
}

/* Takes away the group's rules (or puts replaced ones back). */
static int remove_rules(const iis_doc *d, const ugroup *g, iis_edits *ed, emg_err *err)
{
	int chain[LEVELS], r, have, i;

	if (find_chain(d, g->coll, chain, &have, err) != EMG_OK)
		return EMG_ECONFIG;
	if (have < LEVELS)
		return EMG_OK;
	for (i = 0; i < g->n; i++) {
		const iis_el *e;
		int bad;
		if (find_rule(d, chain[3], g->e[i].name, &r, err) != EMG_OK)
			return EMG_ECONFIG;
		if (r < 0)
			continue;
		e = el_of(d, r);
		if (g->e[i].kind == 'i')
			bad = emg_edits_add(ed, emg_iisdoc_line_cut(d, e->start), e->end, "", 0);
		else
			bad = emg_edits_add(ed, e->start, e->end, g->e[i].old, g->e[i].old_len);
		if (bad)
			return emg_fail(err, EMG_EIO, "%s: out of memory", d->name);
	}
	return EMG_OK;
}

/* Takes away (or restores) the containers the upsert made, if empty. */
static int remove_containers(const iis_doc *d, const ugroup *g, iis_edits *ed, emg_err *err)
{
	int chain[LEVELS], have, bad;
	const iis_el *e;

	if (g->level < 0)
		return EMG_OK;
	if (find_chain(d, g->coll, chain, &have, err) != EMG_OK)
		return EMG_ECONFIG;
	if (have < LEVELS || !chain_empty(d, chain, g->level))
		return EMG_OK;
	e = el_of(d, chain[g->level]);
	if (g->collapsed)
		bad = emg_edits_add(ed, e->start, e->end, g->old, g->old_len);
	else
		bad = emg_edits_add(ed, emg_iisdoc_line_cut(d, e->start), e->end, "", 0);
	return bad ? emg_fail(err, EMG_EIO, "%s: out of memory", d->name) : EMG_OK;
}

typedef int (*doc_step)(const iis_doc *d, const ugroup *g, iis_edits *ed, emg_err *err);

/* Opens the current bytes, runs one step, applies its edits. */
static int run_step(uint8_t **cur, size_t *cur_len, const char *name, const ugroup *g, doc_step step,
		    int *changed, emg_err *err)
{
	iis_doc d;
	iis_edits ed = { 0 };
	int rc;

	rc = emg_iisdoc_open(&d, *cur, *cur_len, name, err);
	if (rc != EMG_OK)
		return rc;
	rc = step(&d, g, &ed, err);
	if (rc == EMG_OK)
		rc = finish_edits(&d, &ed, cur, cur_len, changed, err);
	emg_edits_free(&ed);
	emg_iisdoc_close(&d);
	return rc;
}

/* A record made up from a fragment: remove its rules, keep containers. */
static int urec_from_frag(const frag *f, enum emg_iis_file_kind kind, urec *u, emg_err *err)
{
	int i, g;

	memset(u, 0, sizeof *u);
	for (g = 0; g < 2; g++) {
		ugroup *ug;
		if (!has_group(f, g))
			continue;
		ug = &u->g[u->n++];
		snprintf(ug->coll, sizeof ug->coll, "%s", coll_name(kind, g));
		ug->level = -1;
		for (i = 0; i < f->n; i++) {
			if (f->r[i].outbound != g)
				continue;
			ug->e[ug->n].kind = 'i';
			ug->e[ug->n].name = strdup(f->r[i].name);
			if (ug->e[ug->n++].name == NULL) {
				urec_free(u);
				return emg_fail(err, EMG_EIO, "out of memory");
			}
		}
	}
	return EMG_OK;
}

static int load_record(const char *undo, const char *fragtext, size_t fraglen,
		       enum emg_iis_file_kind kind, urec *u, emg_err *err)
{
	frag f;
	int rc;

	if (undo != NULL)
		return urec_parse(undo, u, err);
	rc = frag_parse(fragtext, fraglen, &f, err);
	if (rc != EMG_OK)
		return rc;
	rc = urec_from_frag(&f, kind, u, err);
	frag_free(&f);
	return rc;
}

int emg_iis_rules_remove(const uint8_t *doc, size_t len, const char *name,
			 enum emg_iis_file_kind kind, const char *undo, const char *fragtext,
			 size_t fraglen, uint8_t **out, size_t *outlen, emg_err *err)
{
	urec u;
	uint8_t *cur;
	size_t cur_len = len;
	int rc, i, changed = 0;
	iis_doc check;

	*out = NULL;
	*outlen = 0;
	rc = load_record(undo, fragtext, fraglen, kind, &u, err);
	if (rc != EMG_OK)
		return rc;
	cur = malloc(len + 1);
	if (cur == NULL) {
		urec_free(&u);
		return emg_fail(err, EMG_EIO, "%s: out of memory", name);
	}
	memcpy(cur, doc, len);
	for (i = u.n - 1; i >= 0 && rc == EMG_OK; i--) {
		if (kind == EMG_IIS_WEBCONFIG && strcmp(u.g[i].coll, "globalRules") == 0)
			rc = emg_fail(err, EMG_ECONFIG, "%s: undo record is for applicationHost.config", name);
		if (rc == EMG_OK)
			rc = run_step(&cur, &cur_len, name, &u.g[i], remove_rules, &changed, err);
		/* A second pass, on the bytes without the rules, to see whether
		 * the containers are empty again. */
		if (rc == EMG_OK && u.g[i].level >= 0)
			rc = run_step(&cur, &cur_len, name, &u.g[i], remove_containers, &changed, err);
	}
	urec_free(&u);
	if (rc == EMG_OK && changed) {
		rc = emg_iisdoc_open(&check, cur, cur_len, name, err);
		if (rc == EMG_OK)
			emg_iisdoc_close(&check);
		else
			rc = emg_fail(err, EMG_EAPPLY, "%s: the edited file does not parse; not written", name);
	}
	if (rc != EMG_OK || !changed) {
		free(cur);
		return rc;
	}
	*out = cur;
	*outlen = cur_len;
	return EMG_OK;
}

/* ---- merge ------------------------------------------------------------------------ */

static ugroup *group_named(urec *u, const char *coll)
{
	int i;

	for (i = 0; i < u->n; i++)
		if (strcmp(u->g[i].coll, coll) == 0)
			return &u->g[i];
	return NULL;
}

static int has_entry(const ugroup *g, const char *name)
{
	int i;

	for (i = 0; g != NULL && i < g->n; i++)
		if (strcasecmp(g->e[i].name, name) == 0)
			return 1;
	return 0;
}

static void write_group(iis_sb *sb, const ugroup *f, const ugroup *l)
{
	const ugroup *base = f != NULL ? f : l;
	const char *anchor;
	int i;

	if (base == NULL)
		return;
	anchor = base->raw_anchor;
	if (l != NULL && f != NULL && l->level >= 0)
		anchor = l->raw_anchor;
	emg_sb_str(sb, ";g=");
	emg_sb_str(sb, base->coll);
	emg_sb_str(sb, ",");
	emg_sb_str(sb, anchor);
	for (i = 0; f != NULL && i < f->n; i++) {
		emg_sb_str(sb, ";");
		emg_sb_str(sb, f->e[i].raw);
	}
	for (i = 0; l != NULL && i < l->n; i++) {
		if (f != NULL && has_entry(f, l->e[i].name))
			continue;
		emg_sb_str(sb, ";");
		emg_sb_str(sb, l->e[i].raw);
	}
}

int emg_iis_undo_merge(const char *first, const char *later, char **out, emg_err *err)
{
	urec f, l;
	iis_sb sb = { 0 };
	int i, rc;

	*out = NULL;
	if (first == NULL || later == NULL) {
		const char *one = first != NULL ? first : later;
		if (one == NULL)
			return EMG_OK;
		*out = strdup(one);
		return *out != NULL ? EMG_OK : emg_fail(err, EMG_EIO, "out of memory");
	}
	rc = urec_parse(first, &f, err);
	if (rc != EMG_OK)
		return rc;
	rc = urec_parse(later, &l, err);
	if (rc != EMG_OK) {
		urec_free(&f);
		return rc;
	}
	emg_sb_str(&sb, "v1");
	for (i = 0; i < f.n; i++)
		write_group(&sb, &f.g[i], group_named(&l, f.g[i].coll));
	for (i = 0; i < l.n; i++)
		if (group_named(&f, l.g[i].coll) == NULL)
			write_group(&sb, NULL, &l.g[i]);
	urec_free(&f);
	urec_free(&l);
	if (sb.oom) {
		emg_sb_free(&sb);
		return emg_fail(err, EMG_EIO, "out of memory");
	}
	*out = sb.p;
	return EMG_OK;
}
