/* iisdoc.c - an IIS config file as element byte offsets plus the
 * attributes libxml2 decoded.
 *
 * libxml2 decides whether the file is well-formed and what the attribute
 * values are; a small scanner over the original bytes finds where each
 * element's tags are. The scanner need not understand everything libxml2
 * does, only tags, comments, CDATA, processing instructions and quoted
 * attribute values, because its result is checked against libxml2's: the
 * same elements, with the same names, in the same order.
 *
 * libxml2 runs as a SAX parser without building a tree: an
 * applicationHost.config can hold hundreds of thousands of elements, and
 * allocating and freeing a node for each costs more than the parse. */
#include "apply/iisdoc.h"
#include "apply/iisconf.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <libxml/parser.h>
#include <sodium.h>

typedef struct scan {
	const uint8_t *b;
	size_t len;
	size_t pos;
	int stack[EMG_IIS_MAX_DEPTH];
	int depth;
	size_t cap;
	iis_el *els;
	size_t nels;
	char why[160]; /* what the scanner did not like */
	size_t why_off;
} scan;

static int is_blank(uint8_t c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

static int scan_fail(scan *s, size_t off, const char *why)
{
	snprintf(s->why, sizeof s->why, "%s", why);
	s->why_off = off;
	return -1;
}

/* Moves past the terminator that closes a construct starting at pos. */
static int skip_to(scan *s, size_t from, const char *term, const char *what)
{
	size_t tl = strlen(term);
	const uint8_t *p = memmem(s->b + from, s->len - from, term, tl);

	if (p == NULL)
		return scan_fail(s, s->pos, what);
	s->pos = (size_t)(p - s->b) + tl;
	return 0;
}

static size_t scan_name(const scan *s, size_t p)
{
	while (p < s->len && !is_blank(s->b[p]) && s->b[p] != '/' && s->b[p] != '>' &&
	       s->b[p] != '=' && s->b[p] != '<')
		p++;
	return p;
}

static size_t skip_blank(const scan *s, size_t p)
{
	while (p < s->len && is_blank(s->b[p]))
		p++;
	return p;
}

/* Past the attributes of a start tag: returns the offset of '>' or of "/>",
 * or len when the tag does not end. */
static size_t scan_attrs(const scan *s, size_t p, int *empty)
{
	for (;;) {
		size_t q;
		p = skip_blank(s, p);
		if (p >= s->len)
			return s->len;
		if (s->b[p] == '>') {
			*empty = 0;
			return p;
		}
		if (s->b[p] == '/' && p + 1 < s->len && s->b[p + 1] == '>') {
			*empty = 1;
			return p;
		}
		q = scan_name(s, p);
		if (q == p)
			return s->len;
		p = skip_blank(s, q);
		if (p >= s->len || s->b[p] != '=')
			return s->len;
		p = skip_blank(s, p + 1);
		if (p >= s->len || (s->b[p] != '"' && s->b[p] != '\''))
			return s->len;
		q = p + 1;
		while (q < s->len && s->b[q] != s->b[p])
			q++;
		if (q >= s->len)
			return s->len;
		p = q + 1;
	}
}

static int push_el(scan *s, size_t start, size_t noff, size_t nlen)
{
	iis_el *e;

	if (s->depth >= EMG_IIS_MAX_DEPTH)
		return scan_fail(s, start, "elements nested too deeply");
	if (s->nels == s->cap) {
		size_t ncap = s->cap ? s->cap * 2 : 256;
		iis_el *n = realloc(s->els, ncap * sizeof *n);
		if (n == NULL)
			return scan_fail(s, start, "out of memory");
		s->els = n;
		s->cap = ncap;
	}
	e = &s->els[s->nels];
	memset(e, 0, sizeof *e);
	e->start = start;
	e->name_off = noff;
	e->name_len = nlen;
	e->parent = s->depth > 0 ? s->stack[s->depth - 1] : -1;
	e->after = (int)s->nels + 1;
	if (e->parent < 0 && s->nels > 0)
		return scan_fail(s, start, "more than one root element");
	s->nels++;
	return 0;
}

static int scan_start_tag(scan *s)
{
	size_t start = s->pos, noff = s->pos + 1;
	size_t nend = scan_name(s, noff), gt;
	int empty = 0;
	iis_el *e;

	if (nend == noff)
		return scan_fail(s, start, "bad tag");
	gt = scan_attrs(s, nend, &empty);
	if (gt >= s->len)
		return scan_fail(s, start, "start tag does not end");
	if (push_el(s, start, noff, nend - noff) != 0)
		return -1;
	e = &s->els[s->nels - 1];
	e->empty = empty;
	e->stag_end = gt + (empty ? 2 : 1);
	s->pos = e->stag_end;
	if (empty) {
		e->etag_start = e->end = e->stag_end;
		return 0;
	}
	s->stack[s->depth++] = (int)(s->nels - 1);
	return 0;
}

static int scan_end_tag(scan *s)
{
	size_t noff = s->pos + 2, nend = scan_name(s, noff), gt = skip_blank(s, nend);
	iis_el *e;

	if (gt >= s->len || s->b[gt] != '>' || s->depth == 0)
		return scan_fail(s, s->pos, "bad end tag");
	e = &s->els[s->stack[s->depth - 1]];
	if (nend - noff != e->name_len || memcmp(s->b + noff, s->b + e->name_off, e->name_len) != 0)
		return scan_fail(s, s->pos, "end tag does not match");
	e->etag_start = s->pos;
	e->end = gt + 1;
	e->after = (int)s->nels;
	s->depth--;
	s->pos = gt + 1;
	return 0;
}

static int scan_markup(scan *s)
{
	const uint8_t *p = s->b + s->pos;
	size_t left = s->len - s->pos;

	if (left >= 2 && p[1] == '?')
		return skip_to(s, s->pos + 2, "?>", "processing instruction does not end");
	if (left >= 4 && memcmp(p, "<!--", 4) == 0)
		return skip_to(s, s->pos + 4, "-->", "comment does not end");
	if (left >= 9 && memcmp(p, "<![CDATA[", 9) == 0)
		return skip_to(s, s->pos + 9, "]]>", "CDATA section does not end");
	if (left >= 2 && p[1] == '!')
		return scan_fail(s, s->pos, "DOCTYPE or other declaration not allowed");
	if (left >= 2 && p[1] == '/')
		return scan_end_tag(s);
	return scan_start_tag(s);
}

static int scan_all(scan *s)
{
	if (s->len >= 3 && memcmp(s->b, "\xEF\xBB\xBF", 3) == 0)
		s->pos = 3;
	while (s->pos < s->len) {
		const uint8_t *lt = memchr(s->b + s->pos, '<', s->len - s->pos);
		if (lt == NULL)
			break;
		s->pos = (size_t)(lt - s->b);
		if (scan_markup(s) != 0)
			return -1;
	}
	if (s->depth != 0)
		return scan_fail(s, s->len, "element not closed");
	if (s->nels == 0)
		return scan_fail(s, 0, "no root element");
	return 0;
}

unsigned long emg_iisdoc_line(const iis_doc *d, size_t off)
{
	unsigned long line = 1;
	const uint8_t *p = d->buf, *end = d->buf + (off < d->len ? off : d->len);

	while ((p = memchr(p, '\n', (size_t)(end - p))) != NULL) {
		line++;
		p++;
	}
	return line;
}

/* The first error is the one that explains the problem; later ones are
 * usually consequences ("premature end of data"). libxml2 2.9 keeps only
 * the last in the context, so the first is caught here, through the
 * context's own structured-error hook (no process-wide handler). */
typedef struct first_error {
	int set;
	int line;
	char msg[300];
} first_error;

static void keep_first_error(void *user, xmlErrorPtr e)
{
	xmlParserCtxtPtr ctxt = user;
	first_error *fe = ctxt != NULL ? ctxt->_private : NULL;
	size_t l;

	if (fe == NULL || fe->set || e == NULL || e->level < XML_ERR_ERROR)
		return;
	fe->set = 1;
	fe->line = e->line;
	snprintf(fe->msg, sizeof fe->msg, "%s", e->message != NULL ? e->message : "not well-formed XML");
	l = strlen(fe->msg);
	while (l > 0 && (fe->msg[l - 1] == '\n' || fe->msg[l - 1] == ' '))
		fe->msg[--l] = '\0';
}

xmlDocPtr emg_iis_xml_read(const char *buf, size_t len, const char *name, int *line, char *msg,
			   size_t msglen)
{
	xmlParserCtxtPtr ctxt = xmlNewParserCtxt();
	/* No XML_PARSE_NOENT, DTDLOAD, DTDATTR or HUGE: nothing is loaded or
	 * substituted, and libxml2 keeps its own limits. */
	int opts = XML_PARSE_NONET | XML_PARSE_NOERROR | XML_PARSE_NOWARNING | XML_PARSE_COMPACT |
		   XML_PARSE_NOBLANKS;
	first_error fe;
	xmlDocPtr doc;

	*line = 0;
	snprintf(msg, msglen, "not well-formed XML");
	if (ctxt == NULL || ctxt->sax == NULL) {
		xmlFreeParserCtxt(ctxt);
		snprintf(msg, msglen, "out of memory");
		return NULL;
	}
	memset(&fe, 0, sizeof fe);
	ctxt->_private = &fe;
	ctxt->sax->serror = keep_first_error;
	doc = xmlCtxtReadMemory(ctxt, buf, (int)len, name, NULL, opts);
	if (doc != NULL && !ctxt->wellFormed) {
		xmlFreeDoc(doc);
		doc = NULL;
	}
	if (doc == NULL && fe.set) {
		*line = fe.line;
		snprintf(msg, msglen, "%s", fe.msg);
	}
	ctxt->_private = NULL;
	xmlFreeParserCtxt(ctxt);
	return doc;
}

/* Appends n bytes and a NUL. With entity substitution off, libxml2 hands
 * SAX an attribute value with each '&' written as "&#38;" (it expects to
 * decode values again when building a tree); undo exactly that when
 * unescape is set. */
static void arena_add(iis_doc *d, const char *s, size_t n, int unescape)
{
	size_t i;

	if (d->arena_len + n + 1 > d->arena_cap) {
		size_t ncap = (d->arena_len + n + 1) * 2 + 4096;
		char *na = realloc(d->arena, ncap);
		if (na == NULL) {
			d->sax_bad = 2;
			return;
		}
		d->arena = na;
		d->arena_cap = ncap;
	}
	if (!unescape || memchr(s, '&', n) == NULL) {
		memcpy(d->arena + d->arena_len, s, n);
		d->arena_len += n;
	} else {
		for (i = 0; i < n; i++) {
			d->arena[d->arena_len++] = s[i];
			if (s[i] == '&' && n - i >= 5 && memcmp(s + i, "&#38;", 5) == 0)
				i += 4;
		}
	}
	d->arena[d->arena_len++] = '\0';
}

/* SAX2 start of an element: check it is the scanner's next one and keep
 * its attributes, as libxml2 decoded them. */
static void sax_start(void *ctx, const xmlChar *localname, const xmlChar *prefix, const xmlChar *uri,
		      int nb_ns, const xmlChar **ns, int nb_attrs, int nb_defaulted, const xmlChar **attrs)
{
	iis_doc *d = ctx;
	iis_el *e;
	size_t pl = prefix != NULL ? strlen((const char *)prefix) : 0, ll = strlen((const char *)localname);
	int i;

	(void)uri;
	(void)nb_ns;
	(void)ns;
	(void)nb_defaulted;
	if (d->sax_bad)
		return;
	e = d->sax_i < d->nels ? &d->els[d->sax_i] : NULL;
	if (e == NULL || e->name_len != (pl ? pl + 1 : 0) + ll ||
	    (pl && (memcmp(d->buf + e->name_off, prefix, pl) != 0 || d->buf[e->name_off + pl] != ':')) ||
	    memcmp(d->buf + e->name_off + (pl ? pl + 1 : 0), localname, ll) != 0) {
		d->sax_bad = 1;
		return;
	}
	d->sax_i++;
	e->attr_off = d->arena_len;
	e->nattr = 0;
	for (i = 0; i < nb_attrs; i++) {
		const xmlChar *const *a = attrs + 5 * i;
		if (a[1] != NULL) { /* prefix:name, written as one string */
			arena_add(d, (const char *)a[1], strlen((const char *)a[1]), 0);
			if (d->sax_bad)
				return;
			d->arena[d->arena_len - 1] = ':';
		}
		arena_add(d, (const char *)a[0], strlen((const char *)a[0]), 0);
		arena_add(d, (const char *)a[3], (size_t)(a[4] - a[3]), 1);
		e->nattr++;
	}
}

/* Same as keep_first_error, for the SAX parse, whose user data is the doc. */
static void doc_error(void *user, xmlErrorPtr e)
{
	iis_doc *d = user;
	size_t l;

	if (d == NULL || d->err_set || e == NULL || e->level < XML_ERR_ERROR)
		return;
	d->err_set = 1;
	d->err_line = e->line;
	snprintf(d->err_msg, sizeof d->err_msg, "%s", e->message != NULL ? e->message : "not well-formed XML");
	l = strlen(d->err_msg);
	while (l > 0 && (d->err_msg[l - 1] == '\n' || d->err_msg[l - 1] == ' '))
		d->err_msg[--l] = '\0';
}

/* libxml2 over the whole file. With no DOCTYPE (the scanner refuses one)
 * there is nothing to load or substitute; libxml2 keeps its own limits. */
static int sax_parse(iis_doc *d, emg_err *err)
{
	xmlSAXHandler sax;
	int rc;

	memset(&sax, 0, sizeof sax);
	sax.initialized = XML_SAX2_MAGIC;
	sax.startElementNs = sax_start;
	sax.serror = doc_error;
	rc = xmlSAXUserParseMemory(&sax, d, (const char *)d->buf, (int)d->len);
	if (rc != 0 || d->err_set)
		return emg_fail(err, EMG_ECONFIG, "%s:%d: malformed XML: %s", d->name, d->err_line,
				d->err_set ? d->err_msg : "not well-formed");
	if (d->sax_bad == 2)
		return emg_fail(err, EMG_EIO, "%s: out of memory", d->name);
	if (d->sax_bad || d->sax_i != d->nels)
		return emg_fail(err, EMG_ECONFIG, "%s: the XML parser and the scanner disagree about "
				"the elements; refusing to edit", d->name);
	return EMG_OK;
}

/* The encoding named in the XML declaration, if any, must be UTF-8. */
static int check_encoding(const iis_doc *d, emg_err *err)
{
	size_t p = (d->len >= 3 && memcmp(d->buf, "\xEF\xBB\xBF", 3) == 0) ? 3 : 0;
	const uint8_t *end, *enc;
	char val[64];
	size_t i = 0;

	if (d->len - p < 5 || memcmp(d->buf + p, "<?xml", 5) != 0)
		return EMG_OK;
	end = memmem(d->buf + p, d->len - p, "?>", 2);
	enc = end != NULL ? memmem(d->buf + p, (size_t)(end - d->buf) - p, "encoding", 8) : NULL;
	if (enc == NULL)
		return EMG_OK;
	enc += 8;
	while (enc < end && (is_blank(*enc) || *enc == '='))
		enc++;
	if (enc < end && (*enc == '"' || *enc == '\''))
		enc++;
	while (enc < end && *enc != '"' && *enc != '\'' && i + 1 < sizeof val)
		val[i++] = (char)*enc++;
	val[i] = '\0';
	if (strcasecmp(val, "utf-8") != 0 && strcasecmp(val, "utf8") != 0 && strcasecmp(val, "us-ascii") != 0)
		return emg_fail(err, EMG_ECONFIG, "%s:1: encoding %s is not supported (UTF-8 only)", d->name, val);
	return EMG_OK;
}

static void detect_eol(iis_doc *d)
{
	const uint8_t *nl = memchr(d->buf, '\n', d->len);

	d->eol = (nl != NULL && nl > d->buf && nl[-1] == '\r') ? "\r\n" : "\n";
	/* A file without line breaks gets CRLF, as Windows tools write. */
	if (nl == NULL)
		d->eol = "\r\n";
}

int emg_iisdoc_open(iis_doc *d, const uint8_t *buf, size_t len, const char *name, emg_err *err)
{
	scan s;
	int rc;

	memset(d, 0, sizeof *d);
	d->buf = buf;
	d->len = len;
	d->name = name;
	if (len > EMG_IIS_MAX_BYTES)
		return emg_fail(err, EMG_ECONFIG, "%s: larger than the limit of %zu bytes", name,
				EMG_IIS_MAX_BYTES);
	if (len >= 2 && ((buf[0] == 0xFF && buf[1] == 0xFE) || (buf[0] == 0xFE && buf[1] == 0xFF)))
		return emg_fail(err, EMG_ECONFIG, "%s:1: UTF-16 is not supported (UTF-8 only)", name);
	memset(&s, 0, sizeof s);
	s.b = buf;
	s.len = len;
	if (scan_all(&s) != 0) {
		unsigned long line = emg_iisdoc_line(d, s.why_off);
		free(s.els);
		if (strcmp(s.why, "out of memory") == 0)
			return emg_fail(err, EMG_EIO, "%s: out of memory", name);
		/* Outside a DOCTYPE, libxml2 can say better what is wrong (it
		 * stops at the first element, as the scanner kept none). */
		if (strncmp(s.why, "DOCTYPE", 7) != 0) {
			rc = sax_parse(d, err);
			if (rc == EMG_ECONFIG && d->err_set) {
				emg_iisdoc_close(d);
				return rc;
			}
		}
		emg_iisdoc_close(d);
		return emg_fail(err, EMG_ECONFIG, "%s:%lu: %s", name, line, s.why);
	}
	d->els = s.els;
	d->nels = s.nels;
	rc = check_encoding(d, err);
	if (rc == EMG_OK)
		rc = sax_parse(d, err);
	if (rc == EMG_OK && !emg_iisdoc_is(d, 0, "configuration"))
		rc = emg_fail(err, EMG_ECONFIG, "%s:%lu: root element is <%.*s>, not <configuration>",
			      name, emg_iisdoc_line(d, d->els[0].start), (int)d->els[0].name_len,
			      (const char *)buf + d->els[0].name_off);
	if (rc != EMG_OK) {
		emg_iisdoc_close(d);
		return rc;
	}
	detect_eol(d);
	return EMG_OK;
}

void emg_iisdoc_close(iis_doc *d)
{
	free(d->els);
	free(d->arena);
	d->els = NULL;
	d->arena = NULL;
	d->nels = 0;
	d->arena_len = d->arena_cap = 0;
}

int emg_iisdoc_is(const iis_doc *d, int idx, const char *lname)
{
	const iis_el *e = &d->els[idx];
	const uint8_t *colon = memchr(d->buf + e->name_off, ':', e->name_len);
	size_t off = colon != NULL ? (size_t)(colon - d->buf) + 1 : e->name_off;
	size_t l = e->name_off + e->name_len - off, nl = strlen(lname);

	return l == nl && memcmp(d->buf + off, lname, nl) == 0;
}

int emg_iisdoc_next(const iis_doc *d, int parent, int after)
{
	int j = after < 0 ? parent + 1 : d->els[after].after;

	if (j < 0 || (size_t)j >= d->nels || d->els[j].parent != parent)
		return -1;
	return j;
}

int emg_iisdoc_child(const iis_doc *d, int parent, const char *lname, int *count)
{
	int j, first = -1;

	*count = 0;
	if (parent < 0)
		return -1;
	for (j = emg_iisdoc_next(d, parent, -1); j >= 0; j = emg_iisdoc_next(d, parent, j)) {
		if (!emg_iisdoc_is(d, j, lname))
			continue;
		if (first < 0)
			first = j;
		(*count)++;
	}
	return first;
}

const char *emg_iisdoc_attr(const iis_doc *d, int idx, const char *aname)
{
	const char *p = d->arena + d->els[idx].attr_off;
	size_t i;

	for (i = 0; i < d->els[idx].nattr; i++) {
		const char *v = p + strlen(p) + 1;
		if (strcmp(p, aname) == 0)
			return v;
		p = v + strlen(v) + 1;
	}
	return NULL;
}

static int blank_bytes(const iis_doc *d, size_t from, size_t to)
{
	for (; from < to; from++)
		if (!is_blank(d->buf[from]))
			return 0;
	return 1;
}

int emg_iisdoc_is_bare(const iis_doc *d, int idx)
{
	const iis_el *e = &d->els[idx];

	return emg_iisdoc_next(d, idx, -1) < 0 && blank_bytes(d, e->stag_end, e->etag_start);
}

int emg_iisdoc_only_child(const iis_doc *d, int idx, int child)
{
	const iis_el *e = &d->els[idx], *c = &d->els[child];

	return emg_iisdoc_next(d, idx, -1) == child && emg_iisdoc_next(d, idx, child) < 0 &&
	       blank_bytes(d, e->stag_end, c->start) && blank_bytes(d, c->end, e->etag_start);
}

xmlDocPtr emg_iisdoc_subtree(const iis_doc *d, int idx)
{
	char msg[80];
	int line;

	return emg_iis_xml_read((const char *)d->buf + d->els[idx].start,
				d->els[idx].end - d->els[idx].start, d->name, &line, msg, sizeof msg);
}

int emg_iisdoc_own_line(const iis_doc *d, size_t off, const char **ind, size_t *ind_len)
{
	size_t p = off;

	while (p > 0 && (d->buf[p - 1] == ' ' || d->buf[p - 1] == '\t'))
		p--;
	if (p > 0 && d->buf[p - 1] != '\n')
		return 0;
	*ind = (const char *)d->buf + p;
	*ind_len = off - p;
	return 1;
}

size_t emg_iisdoc_line_cut(const iis_doc *d, size_t off)
{
	const char *ind;
	size_t ind_len, p;

	if (!emg_iisdoc_own_line(d, off, &ind, &ind_len))
		return off;
	p = off - ind_len;
	if (p > 0 && d->buf[p - 1] == '\n') {
		p--;
		if (p > 0 && d->buf[p - 1] == '\r')
			p--;
	}
	return p;
}

void emg_iisdoc_indent_of(const iis_doc *d, int idx, iis_sb *sb)
{
	const char *ind;
	size_t ind_len;

	if (emg_iisdoc_own_line(d, d->els[idx].start, &ind, &ind_len)) {
		emg_sb_add(sb, ind, ind_len);
		return;
	}
	if (d->els[idx].parent < 0)
		return;
	emg_iisdoc_indent_of(d, d->els[idx].parent, sb);
	emg_iisdoc_unit(d, d->els[idx].parent, sb);
}

/* The step from element p to its child c, when both start their lines and
 * c's indentation extends p's. */
static int step_between(const iis_doc *d, int p, int c, const char **u, size_t *ulen)
{
	const char *pi, *ci;
	size_t pl, cl;

	if (!emg_iisdoc_own_line(d, d->els[p].start, &pi, &pl) ||
	    !emg_iisdoc_own_line(d, d->els[c].start, &ci, &cl))
		return 0;
	if (cl <= pl || memcmp(pi, ci, pl) != 0)
		return 0;
	*u = ci + pl;
	*ulen = cl - pl;
	return 1;
}

static int first_child_index(const iis_doc *d, int idx)
{
	if ((size_t)idx + 1 < d->nels && d->els[idx + 1].parent == idx)
		return idx + 1;
	return -1;
}

void emg_iisdoc_unit(const iis_doc *d, int idx, iis_sb *sb)
{
	const char *u;
	size_t ulen, i;
	int p, c;

	/* Nearest first: idx and its first child, then up the ancestors. */
	c = first_child_index(d, idx);
	if (c >= 0 && step_between(d, idx, c, &u, &ulen)) {
		emg_sb_add(sb, u, ulen);
		return;
	}
	for (c = idx, p = d->els[idx].parent; p >= 0; c = p, p = d->els[p].parent) {
		if (step_between(d, p, c, &u, &ulen)) {
			emg_sb_add(sb, u, ulen);
			return;
		}
	}
	/* Then anywhere in the file, looking at a bounded number of pairs. */
	for (i = 1; i < d->nels && i < 4096; i++) {
		if (step_between(d, d->els[i].parent, (int)i, &u, &ulen)) {
			emg_sb_add(sb, u, ulen);
			return;
		}
	}
	emg_sb_str(sb, "    ");
}

void emg_sb_add(iis_sb *sb, const void *p, size_t n)
{
	if (sb->oom)
		return;
	if (sb->len + n + 1 > sb->cap) {
		size_t ncap = (sb->len + n + 1) * 2 + 64;
		char *np = realloc(sb->p, ncap);
		if (np == NULL) {
			sb->oom = 1;
			return;
		}
		sb->p = np;
		sb->cap = ncap;
	}
	if (n > 0)
		memcpy(sb->p + sb->len, p, n);
	sb->len += n;
	sb->p[sb->len] = '\0';
}

void emg_sb_str(iis_sb *sb, const char *s)
{
	emg_sb_add(sb, s, strlen(s));
}

void emg_sb_free(iis_sb *sb)
{
	free(sb->p);
	memset(sb, 0, sizeof *sb);
}

void emg_sb_esc(iis_sb *sb, const char *s, int attr)
{
	for (; *s; s++) {
		switch (*s) {
		case '&': emg_sb_str(sb, "&amp;"); break;
		case '<': emg_sb_str(sb, "&lt;"); break;
		case '>': emg_sb_str(sb, "&gt;"); break;
		case '"': emg_sb_str(sb, attr ? "&quot;" : "\""); break;
		/* Line breaks and tabs in attribute values would be normalised to
		 * spaces by the next reader; character references keep them. */
		case '\r': emg_sb_str(sb, "&#xD;"); break;
		case '\n': emg_sb_str(sb, attr ? "&#xA;" : "\n"); break;
		case '\t': emg_sb_str(sb, attr ? "&#x9;" : "\t"); break;
		default: emg_sb_add(sb, s, 1); break;
		}
	}
}

int emg_edits_add(iis_edits *e, size_t from, size_t to, const char *text, size_t text_len)
{
	iis_edit *ed;

	if (e->n == e->cap) {
		size_t ncap = e->cap ? e->cap * 2 : 8;
		iis_edit *nv = realloc(e->v, ncap * sizeof *nv);
		if (nv == NULL)
			return -1;
		e->v = nv;
		e->cap = ncap;
	}
	ed = &e->v[e->n];
	ed->text = malloc(text_len + 1);
	if (ed->text == NULL)
		return -1;
	if (text_len > 0)
		memcpy(ed->text, text, text_len);
	ed->text[text_len] = '\0';
	ed->text_len = text_len;
	ed->from = from;
	ed->to = to;
	e->n++;
	return 0;
}

void emg_edits_free(iis_edits *e)
{
	size_t i;

	for (i = 0; i < e->n; i++)
		free(e->v[i].text);
	free(e->v);
	memset(e, 0, sizeof *e);
}

/* Stable order by start offset (few edits: insertion sort). */
static void sort_edits(iis_edits *e)
{
	size_t i, j;

	for (i = 1; i < e->n; i++) {
		iis_edit t = e->v[i];
		for (j = i; j > 0 && e->v[j - 1].from > t.from; j--)
			e->v[j] = e->v[j - 1];
		e->v[j] = t;
	}
}

int emg_edits_apply(const iis_doc *d, iis_edits *e, uint8_t **out, size_t *outlen, emg_err *err)
{
	iis_sb sb = { 0 };
	size_t i, pos = 0;

	*out = NULL;
	*outlen = 0;
	sort_edits(e);
	for (i = 0; i < e->n; i++) {
		if (e->v[i].from < pos || e->v[i].to < e->v[i].from || e->v[i].to > d->len) {
			emg_sb_free(&sb);
			return emg_fail(err, EMG_EAPPLY, "%s: internal error: overlapping edits", d->name);
		}
		emg_sb_add(&sb, d->buf + pos, e->v[i].from - pos);
		emg_sb_add(&sb, e->v[i].text, e->v[i].text_len);
		pos = e->v[i].to;
	}
	emg_sb_add(&sb, d->buf + pos, d->len - pos);
	if (sb.oom) {
		emg_sb_free(&sb);
		return emg_fail(err, EMG_EIO, "%s: out of memory", d->name);
	}
	*out = (uint8_t *)sb.p;
	*outlen = sb.len;
	return EMG_OK;
}

char *emg_iis_b64(const void *p, size_t n)
{
	size_t cap = sodium_base64_ENCODED_LEN(n, sodium_base64_VARIANT_ORIGINAL);
	char *s = malloc(cap);

	if (s == NULL)
		return NULL;
	sodium_bin2base64(s, cap, p, n, sodium_base64_VARIANT_ORIGINAL);
	return s;
}

int emg_iis_unb64(const char *s, size_t slen, char **out, size_t *outlen)
{
	size_t cap = slen / 4 * 3 + 3;
	char *b = malloc(cap + 1);

	*out = NULL;
	*outlen = 0;
	if (b == NULL)
		return -1;
	if (sodium_base642bin((unsigned char *)b, cap, s, slen, NULL, outlen, NULL,
			      sodium_base64_VARIANT_ORIGINAL) != 0) {
		free(b);
		return -1;
	}
	b[*outlen] = '\0';
	*out = b;
	return 0;
}
