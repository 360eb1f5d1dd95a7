/* feed.c - reading the vendor mitigation feed (DESIGN.md §3,
 * docs/feed-format.md) into plain C structs.
 *
 * The XML is untrusted until its signature is verified, and even then it is
 * only as good as the vendor's tooling, so the reader is strict about what it
 * relies on (ids, action types, scopes, build numbers) and lenient about what
 * it does not (unknown elements and attributes are reported and skipped). */
#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libxml/parser.h>
#include <libxml/tree.h>

#include "bundle/feed.h"
#include "bundle/feed_internal.h"

#define MAX_WARNINGS 256
#define MAX_TEXT 65536 /* desc, rollback, value text */

/* ---- Building the model ---------------------------------------------- */

/* State while reading one document. */
typedef struct reader {
	emg_feed *feed;
	emg_err *err;
} reader;

/* Records a warning; running out of memory or room only loses warnings. */
static void warn(reader *r, xmlNodePtr n, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static void warn(reader *r, xmlNodePtr n, const char *fmt, ...)
{
	char msg[512];
	char line[600];
	char **w;
	va_list ap;

	if (r->feed->warning_count >= MAX_WARNINGS)
		return;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	snprintf(line, sizeof line, "line %ld: %s", n != NULL ? xmlGetLineNo(n) : 0L, msg);
	w = realloc(r->feed->warnings, (r->feed->warning_count + 1) * sizeof *w);
	if (w == NULL)
		return;
	r->feed->warnings = w;
	w[r->feed->warning_count] = strdup(line);
	if (w[r->feed->warning_count] != NULL)
		r->feed->warning_count++;
}

static int is_named(xmlNodePtr n, const char *name)
{
	return n->type == XML_ELEMENT_NODE && n->ns == NULL &&
	       strcmp((const char *)n->name, name) == 0;
}

static int is_dsig(xmlNodePtr n)
{
	return n->ns != NULL && n->ns->href != NULL &&
	       strcmp((const char *)n->ns->href, EMG_DSIG_NS) == 0;
}

/* An attribute's value as a fresh string; NULL and *rc set on failure,
 * NULL and *rc EMG_OK when absent. */
static char *attr(reader *r, xmlNodePtr n, const char *name, int *rc)
{
	xmlChar *v = xmlGetNoNsProp(n, (const xmlChar *)name);
	char *s;

	*rc = EMG_OK;
	if (v == NULL)
		return NULL;
	if (xmlStrlen(v) > MAX_TEXT) {
		xmlFree(v);
		*rc = emg_fail(r->err, EMG_ECONFIG, "feed XML line %ld: attribute %s is too long",
			       xmlGetLineNo(n), name);
		return NULL;
	}
	s = strdup((const char *)v);
	xmlFree(v);
	if (s == NULL)
		*rc = emg_fail(r->err, EMG_EIO, "out of memory");
	return s;
}

/* Warns about every attribute of n not in the NULL-terminated known list. */
static void warn_unknown_attrs(reader *r, xmlNodePtr n, const char *const *known)
{
	xmlAttrPtr a;

	for (a = n->properties; a != NULL; a = a->next) {
		size_t i;
		int ok = 0;

		for (i = 0; known[i] != NULL && a->ns == NULL; i++)
			if (strcmp((const char *)a->name, known[i]) == 0)
				ok = 1;
		if (!ok)
			warn(r, n, "unknown attribute %s on <%s> ignored", (const char *)a->name,
			     (const char *)n->name);
	}
}

/* Non-whitespace text directly inside an element that holds elements. */
static void warn_stray(reader *r, xmlNodePtr parent, xmlNodePtr c)
{
	if (c->type == XML_ELEMENT_NODE) {
		if (!is_dsig(c))
			warn(r, c, "unknown element <%s> in <%s> ignored", (const char *)c->name,
			     (const char *)parent->name);
	} else if (c->type == XML_TEXT_NODE || c->type == XML_CDATA_SECTION_NODE) {
		const xmlChar *p = c->content;

		while (p != NULL && *p != '\0' && isspace(*p))
			p++;
		if (p != NULL && *p != '\0')
			warn(r, c, "text in <%s> ignored", (const char *)parent->name);
	}
}

/* The trimmed text content of n. */
static int text_of(reader *r, xmlNodePtr n, char **out)
{
	xmlChar *t = xmlNodeGetContent(n);
	size_t b, e;

	*out = NULL;
	if (t == NULL)
		return emg_fail(r->err, EMG_EIO, "out of memory");
	e = (size_t)xmlStrlen(t);
	if (e > MAX_TEXT) {
		xmlFree(t);
		return emg_fail(r->err, EMG_ECONFIG, "feed XML line %ld: <%s> text is too long",
				xmlGetLineNo(n), (const char *)n->name);
	}
	for (b = 0; b < e && isspace(t[b]); b++)
		;
	while (e > b && isspace(t[e - 1]))
		e--;
	*out = strndup((const char *)t + b, e - b);
	xmlFree(t);
	return *out != NULL ? EMG_OK : emg_fail(r->err, EMG_EIO, "out of memory");
}

/* Config ids become sub-id prefixes, state keys and file names in reports:
 * keep them to a plain alphabet. */
static int valid_id(const char *id)
{
	size_t i, n = strlen(id);

	if (n == 0 || n > 64)
		return 0;
	for (i = 0; i < n; i++)
		if (!isalnum((unsigned char)id[i]) && id[i] != '-' && id[i] != '_' && id[i] != '.')
			return 0;
	return 1;
}

/* Service and app-pool names: printable, no quotes or path separators. */
static int valid_name(const char *s)
{
	size_t i, n = strlen(s);

	if (n == 0 || n > 256)
		return 0;
	for (i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];
		if (c < 0x20 || c == 0x7f || c == '"' || c == '\'' || c == '<' || c == '>' ||
		    c == '&' || c == '/' || c == '\\')
			return 0;
	}
	return 1;
}

static const struct {
	const char *name;
	emg_action_type type;
} action_types[] = {
	{"DoNothing", EMG_ACTION_DO_NOTHING},
	{"IISUrlRewrite", EMG_ACTION_URL_REWRITE},
	{"Service", EMG_ACTION_SERVICE},
	{"AppPool", EMG_ACTION_APP_POOL},
};

static emg_action_type action_type_of(const char *name)
{
	size_t i;

	for (i = 0; i < sizeof action_types / sizeof action_types[0]; i++)
		if (strcmp(name, action_types[i].name) == 0)
			return action_types[i].type;
	return EMG_ACTION_UNSUPPORTED;
}

/* The <rule>/<outboundRule> children of a URL-rewrite <Value>, each
 * serialised as written (libxml2's serialisation of the parsed element). */
static int rewrite_rules(reader *r, xmlNodePtr value, char **out)
{
	xmlBufferPtr buf = xmlBufferCreate();
	xmlNodePtr c;
	size_t rules = 0;
	int rc = EMG_OK;

	*out = NULL;
	if (buf == NULL)
		return emg_fail(r->err, EMG_EIO, "out of memory");
	for (c = value->children; c != NULL && rc == EMG_OK; c = c->next) {
		if (is_named(c, "rule") || is_named(c, "outboundRule")) {
			if (xmlNodeDump(buf, value->doc, c, 0, 0) < 0)
				rc = emg_fail(r->err, EMG_EIO, "out of memory serialising a rule");
			rules++;
		} else {
			warn_stray(r, value, c);
		}
	}
	if (rc == EMG_OK && rules == 0)
		rc = emg_fail(r->err, EMG_ECONFIG,
			      "feed XML line %ld: IISUrlRewrite <Value> holds no <rule> or <outboundRule>",
			      xmlGetLineNo(value));
	if (rc == EMG_OK) {
		*out = strdup((const char *)xmlBufferContent(buf));
		if (*out == NULL)
			rc = emg_fail(r->err, EMG_EIO, "out of memory");
	}
	xmlBufferFree(buf);
	return rc;
}

static int read_scope(reader *r, xmlNodePtr n, emg_action *a)
{
	int rc;
	char *s = attr(r, n, "scope", &rc);

	if (rc != EMG_OK)
		return rc;
	if (s == NULL || strcmp(s, "Server") == 0)
		a->scope = EMG_SCOPE_SERVER;
	else if (strcmp(s, "Site") == 0)
		a->scope = EMG_SCOPE_SITE;
	else if (strcmp(s, "VDir") == 0)
		a->scope = EMG_SCOPE_VDIR;
	else
		rc = emg_fail(r->err, EMG_ECONFIG, "feed XML line %ld: action %s: unknown scope '%s'",
			      xmlGetLineNo(n), a->subid, s);
	free(s);
	return rc;
}

/* Reads <Value> and checks what the action type needs from it. */
static int read_value(reader *r, xmlNodePtr n, emg_action *a)
{
	xmlNodePtr c, value = NULL;
	int rc;

	for (c = n->children; c != NULL; c = c->next) {
		if (is_named(c, "Value")) {
			if (value != NULL)
				return emg_fail(r->err, EMG_ECONFIG,
						"feed XML line %ld: action %s has more than one <Value>",
						xmlGetLineNo(c), a->subid);
			value = c;
		} else {
			warn_stray(r, n, c);
		}
	}
	if (value == NULL) {
		if (a->type == EMG_ACTION_UNSUPPORTED || a->type == EMG_ACTION_DO_NOTHING)
			return EMG_OK;
		return emg_fail(r->err, EMG_ECONFIG, "feed XML line %ld: action %s has no <Value>",
				xmlGetLineNo(n), a->subid);
	}
	if (a->type == EMG_ACTION_URL_REWRITE)
		return rewrite_rules(r, value, &a->value);
	for (c = value->children; c != NULL; c = c->next)
		if (c->type == XML_ELEMENT_NODE && a->type != EMG_ACTION_UNSUPPORTED)
			return emg_fail(r->err, EMG_ECONFIG,
					"feed XML line %ld: action %s: <Value> of a %s action holds an element",
					xmlGetLineNo(c), a->subid, a->type_name);
	if (a->type == EMG_ACTION_UNSUPPORTED)
		return EMG_OK; /* kept out of the model: nothing will use it */
	rc = text_of(r, value, &a->value);
	if (rc != EMG_OK)
		return rc;
	if ((a->type == EMG_ACTION_SERVICE || a->type == EMG_ACTION_APP_POOL) &&
	    !valid_name(a->value))
		return emg_fail(r->err, EMG_ECONFIG, "feed XML line %ld: action %s: bad %s name '%s'",
				xmlGetLineNo(value), a->subid,
				a->type == EMG_ACTION_SERVICE ? "service" : "app pool", a->value);
	return EMG_OK;
}

static int read_action(reader *r, xmlNodePtr n, const char *cid, size_t idx, emg_action *a)
{
	static const char *const known[] = {"type", "scope", "desc", "site", "path", NULL};
	char subid[96];
	int rc;

	snprintf(subid, sizeof subid, "%s.%zu", cid, idx);
	a->subid = strdup(subid);
	if (a->subid == NULL)
		return emg_fail(r->err, EMG_EIO, "out of memory");
	a->type_name = attr(r, n, "type", &rc);
	if (rc != EMG_OK)
		return rc;
	if (a->type_name == NULL || a->type_name[0] == '\0')
		return emg_fail(r->err, EMG_ECONFIG, "feed XML line %ld: action %s has no type",
				xmlGetLineNo(n), subid);
	a->type = action_type_of(a->type_name);
	if (a->type == EMG_ACTION_UNSUPPORTED)
		warn(r, n, "action %s: type '%s' is not supported", subid, a->type_name);
	warn_unknown_attrs(r, n, known);
	if ((a->desc = attr(r, n, "desc", &rc)), rc != EMG_OK)
		return rc;
	if ((a->site = attr(r, n, "site", &rc)), rc != EMG_OK)
		return rc;
	if ((a->path = attr(r, n, "path", &rc)), rc != EMG_OK)
		return rc;
	if ((rc = read_scope(r, n, a)) != EMG_OK)
		return rc;
	if (a->type == EMG_ACTION_URL_REWRITE && a->scope != EMG_SCOPE_SERVER &&
	    (a->site == NULL || a->site[0] == '\0'))
		return emg_fail(r->err, EMG_ECONFIG, "feed XML line %ld: action %s: %s scope needs a site",
				xmlGetLineNo(n), subid, a->scope == EMG_SCOPE_SITE ? "Site" : "VDir");
	if (a->type == EMG_ACTION_URL_REWRITE && a->scope == EMG_SCOPE_VDIR &&
	    (a->path == NULL || a->path[0] != '/'))
		return emg_fail(r->err, EMG_ECONFIG,
				"feed XML line %ld: action %s: VDir scope needs a path starting with /",
				xmlGetLineNo(n), subid);
	return read_value(r, n, a);
}

static int read_action_list(reader *r, xmlNodePtr list, emg_mitigation *m)
{
	xmlNodePtr c;
	int rc;

	for (c = list->children; c != NULL; c = c->next) {
		if (!is_named(c, "Action")) {
			warn_stray(r, list, c);
			continue;
		}
		if (m->action_count >= EMG_FEED_MAX_ACTIONS)
			return emg_fail(r->err, EMG_ECONFIG, "feed XML: mitigation %s has more than %u actions",
					m->id, (unsigned)EMG_FEED_MAX_ACTIONS);
		if (m->actions == NULL) {
			m->actions = calloc(EMG_FEED_MAX_ACTIONS, sizeof *m->actions);
			if (m->actions == NULL)
				return emg_fail(r->err, EMG_EIO, "out of memory");
		}
		m->action_count++;
		rc = read_action(r, c, m->id, m->action_count, &m->actions[m->action_count - 1]);
		if (rc != EMG_OK)
			return rc;
	}
	return EMG_OK;
}

static int copy_field(reader *r, xmlNodePtr n, const char *name, char *dst, size_t cap)
{
	int rc;
	char *v = attr(r, n, name, &rc);

	if (rc != EMG_OK)
		return rc;
	if (v == NULL || strlen(v) >= cap) {
		rc = emg_fail(r->err, EMG_ECONFIG, "feed XML line %ld: <Applies> %s is %s",
			      xmlGetLineNo(n), name, v == NULL ? "missing" : "too long");
		free(v);
		return rc;
	}
	memcpy(dst, v, strlen(v) + 1);
	free(v);
	return EMG_OK;
}

static int read_applies(reader *r, xmlNodePtr n, emg_mitigation *m)
{
	static const char *const known[] = {"product", "min", "max", NULL};
	emg_applies *ap, *a;
	int cmp, rc;

	warn_unknown_attrs(r, n, known);
	if (m->applies_count >= 16)
		return emg_fail(r->err, EMG_ECONFIG, "feed XML: mitigation %s has too many <Applies>", m->id);
	ap = realloc(m->applies, (m->applies_count + 1) * sizeof *ap);
	if (ap == NULL)
		return emg_fail(r->err, EMG_EIO, "out of memory");
	m->applies = ap;
	a = &ap[m->applies_count];
	memset(a, 0, sizeof *a);
	if ((rc = copy_field(r, n, "product", a->product, sizeof a->product)) != EMG_OK ||
	    (rc = copy_field(r, n, "min", a->min, sizeof a->min)) != EMG_OK ||
	    (rc = copy_field(r, n, "max", a->max, sizeof a->max)) != EMG_OK)
		return rc;
	if (strcmp(a->product, "Exchange2016") != 0 && strcmp(a->product, "Exchange2019") != 0 &&
	    strcmp(a->product, "ExchangeSE") != 0)
		return emg_fail(r->err, EMG_ECONFIG, "feed XML line %ld: mitigation %s: unknown product '%s'",
				xmlGetLineNo(n), m->id, a->product);
	if (emg_build_cmp(a->min, a->max, &cmp) != 0)
		return emg_fail(r->err, EMG_ECONFIG,
				"feed XML line %ld: mitigation %s: bad build number in <Applies> ('%s', '%s')",
				xmlGetLineNo(n), m->id, a->min, a->max);
	if (cmp > 0)
		return emg_fail(r->err, EMG_ECONFIG, "feed XML line %ld: mitigation %s: min %s is above max %s",
				xmlGetLineNo(n), m->id, a->min, a->max);
	m->applies_count++;
	return EMG_OK;
}

static int read_config(reader *r, xmlNodePtr n, emg_mitigation *m)
{
	static const char *const known[] = {"id", "desc", NULL};
	xmlNodePtr c;
	int rc, lists = 0;

	m->id = attr(r, n, "id", &rc);
	if (rc != EMG_OK)
		return rc;
	if (m->id == NULL || !valid_id(m->id))
		return emg_fail(r->err, EMG_ECONFIG,
				"feed XML line %ld: <Config> id '%s' is missing or not [A-Za-z0-9._-]{1,64}",
				xmlGetLineNo(n), m->id != NULL ? m->id : "");
	if ((m->desc = attr(r, n, "desc", &rc)), rc != EMG_OK)
		return rc;
	warn_unknown_attrs(r, n, known);
	for (c = n->children; c != NULL; c = c->next) {
		if (is_named(c, "ActionList")) {
			if (lists++ > 0)
				return emg_fail(r->err, EMG_ECONFIG,
						"feed XML line %ld: mitigation %s has more than one <ActionList>",
						xmlGetLineNo(c), m->id);
			rc = read_action_list(r, c, m);
		} else if (is_named(c, "Applies")) {
			rc = read_applies(r, c, m);
		} else if (is_named(c, "Rollback")) {
			free(m->rollback);
			rc = text_of(r, c, &m->rollback);
		} else {
			warn_stray(r, n, c);
			rc = EMG_OK;
		}
		if (rc != EMG_OK)
			return rc;
	}
	if (m->action_count == 0)
		return emg_fail(r->err, EMG_ECONFIG, "feed XML line %ld: mitigation %s has no actions",
				xmlGetLineNo(n), m->id);
	return EMG_OK;
}

static int read_root(reader *r, xmlNodePtr root)
{
	static const char *const known[] = {"version", NULL};
	emg_feed *f = r->feed;
	xmlNodePtr c;
	size_t i;
	int rc;

	if (!is_named(root, "EOCS"))
		return emg_fail(r->err, EMG_ECONFIG, "feed XML: root element is <%s>, not <EOCS>",
				(const char *)root->name);
	if ((f->version = attr(r, root, "version", &rc)), rc != EMG_OK)
		return rc;
	warn_unknown_attrs(r, root, known);
	for (c = root->children; c != NULL; c = c->next) {
		if (!is_named(c, "Config")) {
			warn_stray(r, root, c);
			continue;
		}
		if (f->count >= EMG_FEED_MAX_CONFIGS)
			return emg_fail(r->err, EMG_ECONFIG, "feed XML has more than %u <Config>",
					(unsigned)EMG_FEED_MAX_CONFIGS);
		if (f->items == NULL) {
			f->items = calloc(EMG_FEED_MAX_CONFIGS, sizeof *f->items);
			if (f->items == NULL)
				return emg_fail(r->err, EMG_EIO, "out of memory");
		}
		f->count++;
		if ((rc = read_config(r, c, &f->items[f->count - 1])) != EMG_OK)
			return rc;
		for (i = 0; i + 1 < f->count; i++)
			if (strcmp(f->items[i].id, f->items[f->count - 1].id) == 0)
				return emg_fail(r->err, EMG_ECONFIG, "feed XML line %ld: mitigation id %s appears twice",
						xmlGetLineNo(c), f->items[i].id);
	}
	return EMG_OK;
}

int emg_feed_from_doc(xmlDocPtr doc, emg_feed **out, emg_err *err)
{
	reader r;
	int rc;

	*out = NULL;
	r.err = err;
	r.feed = calloc(1, sizeof *r.feed);
	if (r.feed == NULL)
		return emg_fail(err, EMG_EIO, "out of memory");
	rc = read_root(&r, xmlDocGetRootElement(doc));
	if (rc != EMG_OK) {
		emg_feed_free(r.feed);
		return rc;
	}
	*out = r.feed;
	return EMG_OK;
}

int emg_feed_parse(const uint8_t *xml, size_t len, emg_feed **out, emg_err *err)
{
	emg_feed_doc fd;
	int rc;

	*out = NULL;
	rc = emg_feed_xml_read(xml, len, &fd, err);
	if (rc != EMG_OK)
		return rc;
	rc = emg_feed_from_doc(fd.doc, out, err);
	emg_feed_doc_free(&fd);
	return rc;
}

static void free_action(emg_action *a)
{
	free(a->subid);
	free(a->type_name);
	free(a->desc);
	free(a->site);
	free(a->path);
	free(a->value);
}

void emg_feed_free(emg_feed *feed)
{
	size_t i, j;

	if (feed == NULL)
		return;
	for (i = 0; i < feed->count; i++) {
		emg_mitigation *m = &feed->items[i];
		for (j = 0; j < m->action_count; j++)
			free_action(&m->actions[j]);
		free(m->actions);
		free(m->applies);
		free(m->id);
		free(m->desc);
		free(m->rollback);
	}
	free(feed->items);
	for (i = 0; i < feed->warning_count; i++)
		free(feed->warnings[i]);
	free(feed->warnings);
	free(feed->version);
	free(feed);
}

/* ---- Build numbers --------------------------------------------------- */

/* "15.2.1118.7" -> {15, 2, 1118, 7}: one to four parts, digits only. */
static int parse_build(const char *s, unsigned long v[4])
{
	size_t n = 0;

	memset(v, 0, 4 * sizeof v[0]);
	if (s == NULL || *s == '\0')
		return -1;
	for (;;) {
		size_t digits = 0;
		unsigned long x = 0;

		while (isdigit((unsigned char)*s)) {
			if (++digits > 9)
				return -1;
			x = x * 10 + (unsigned long)(*s++ - '0');
		}
		if (digits == 0 || n == 4)
			return -1;
		v[n++] = x;
		if (*s == '\0')
			return 0;
		if (*s++ != '.')
			return -1;
	}
}

int emg_build_cmp(const char *a, const char *b, int *result)
{
	unsigned long x[4], y[4];
	size_t i;

	if (parse_build(a, x) != 0 || parse_build(b, y) != 0)
		return -2;
	*result = 0;
	for (i = 0; i < 4 && *result == 0; i++)
		*result = x[i] < y[i] ? -1 : x[i] > y[i] ? 1 : 0;
	return 0;
}
