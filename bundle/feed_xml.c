/* feed_xml.c - reading untrusted feed bytes into a libxml2 tree.
 *
 * The limits (nodes, depth), the DOCTYPE refusal, and the facts the
 * signature checks need (where the ds:Signature elements are, whether an
 * ID repeats) are all taken while the parser builds the tree, from SAX
 * hooks wrapped around libxml2's own. A feed of 4 MiB is a tree of about
 * 200,000 nodes spread over tens of megabytes; every extra walk over it
 * afterwards costs a cache miss per node, and three such walks were a
 * fifth of a whole verification. */
#include <stdio.h>
#include <string.h>

#include <libxml/SAX2.h>
#include <libxml/hash.h>
#include <libxml/parser.h>
#include <libxml/parserInternals.h>
#include <libxml/tree.h>

#include "bundle/feed_internal.h"

/* State of one parse, reached from the SAX hooks through ctxt->_private. */
typedef struct guard {
	emg_feed_doc *fd;
	size_t nodes;
	int code; /* set when a hook stopped the parser */
	char msg[160];
	xmlHashTablePtr ids; /* ID attribute values seen so far */
	int out_of_memory;
} guard;

static guard *guard_of(void *ctx)
{
	return ((xmlParserCtxtPtr)ctx)->_private;
}

/* Stops the parser; the first reason given is the one reported. */
static void stop(void *ctx, const char *why)
{
	guard *g = guard_of(ctx);

	if (g->code == 0) {
		g->code = EMG_ECONFIG;
		snprintf(g->msg, sizeof g->msg, "%s", why);
	}
	xmlStopParser(ctx);
}

/* Counts one node about to be made; stops the parser past the limit. */
static int count_node(void *ctx)
{
	char why[64];

	if (++guard_of(ctx)->nodes <= EMG_FEED_MAX_NODES)
		return 1;
	snprintf(why, sizeof why, "feed XML has more than %u nodes", (unsigned)EMG_FEED_MAX_NODES);
	stop(ctx, why);
	return 0;
}

/* A feed has no business with a DTD, and refusing it before its internal
 * subset is read keeps entity tricks (XXE, billion laughs) from ever
 * reaching the tree. */
static void on_doctype(void *ctx, const xmlChar *name, const xmlChar *ext_id, const xmlChar *sys_id)
{
	(void)name;
	(void)ext_id;
	(void)sys_id;
	stop(ctx, "feed XML has a DOCTYPE declaration, which is refused");
}

static int is_id_attr(const xmlChar *name)
{
	return xmlStrcasecmp(name, (const xmlChar *)"id") == 0;
}

/* xmlsec keeps the first of two equal IDs and only logs. The verdict is
 * the signature layer's (emg_xmldsig_verify); here the first repeat is
 * only noted, with its line. */
static void note_ids(guard *g, xmlNodePtr el)
{
	xmlAttrPtr a;

	for (a = el->properties; a != NULL; a = a->next) {
		xmlChar *v;

		if (!is_id_attr(a->name))
			continue;
		if (g->ids == NULL && (g->ids = xmlHashCreate(16)) == NULL) {
			g->out_of_memory = 1;
			return;
		}
		v = xmlNodeListGetString(el->doc, a->children, 1);
		if (v == NULL)
			continue;
		if (xmlHashLookup(g->ids, v) != NULL) {
			if (g->fd->dup_id_line == 0) {
				g->fd->dup_id_line = xmlGetLineNo(el);
				snprintf(g->fd->dup_id, sizeof g->fd->dup_id, "%s", (const char *)v);
			}
		} else if (xmlHashAddEntry(g->ids, v, el) != 0) {
			g->out_of_memory = 1;
		}
		xmlFree(v);
	}
}

static void on_start(void *ctx, const xmlChar *localname, const xmlChar *prefix, const xmlChar *uri,
		     int nb_ns, const xmlChar **ns, int nb_attrs, int nb_defaulted, const xmlChar **attrs)
{
	xmlParserCtxtPtr ctxt = ctx;
	guard *g = guard_of(ctx);
	int depth = ctxt->nodeNr;

	if (depth + 1 > EMG_FEED_MAX_DEPTH) {
		char why[64];

		snprintf(why, sizeof why, "feed XML nests deeper than %u elements", (unsigned)EMG_FEED_MAX_DEPTH);
		stop(ctx, why);
		return;
	}
	if (!count_node(ctx))
		return;
	xmlSAX2StartElementNs(ctx, localname, prefix, uri, nb_ns, ns, nb_attrs, nb_defaulted, attrs);
	if (ctxt->nodeNr != depth + 1 || ctxt->node == NULL)
		return; /* libxml2 made no element (out of memory) and says so */
	if (uri != NULL && strcmp((const char *)localname, "Signature") == 0 &&
	    strcmp((const char *)uri, EMG_DSIG_NS) == 0 && g->fd->signatures++ == 0)
		g->fd->signature = ctxt->node;
	if (ctxt->node->properties != NULL)
		note_ids(g, ctxt->node);
}

/* Text, comments, PIs: libxml2 appends to the current node and merges
 * adjacent text, so a node is counted only when the last child changed. */
static xmlNodePtr current_parent(xmlParserCtxtPtr ctxt)
{
	return ctxt->node != NULL ? ctxt->node : (xmlNodePtr)ctxt->myDoc;
}

#define COUNTED(call)                                                   \
	do {                                                            \
		xmlNodePtr parent_ = current_parent(ctx);               \
		xmlNodePtr last_ = parent_ != NULL ? parent_->last : NULL; \
		call;                                                   \
		if (parent_ != NULL && parent_->last != last_)          \
			(void)count_node(ctx);                          \
	} while (0)

static void on_characters(void *ctx, const xmlChar *ch, int len)
{
	COUNTED(xmlSAX2Characters(ctx, ch, len));
}

static void on_comment(void *ctx, const xmlChar *value)
{
	COUNTED(xmlSAX2Comment(ctx, value));
}

static void on_pi(void *ctx, const xmlChar *target, const xmlChar *data)
{
	COUNTED(xmlSAX2ProcessingInstruction(ctx, target, data));
}

/* Without a DTD no entity is declared, so libxml2 already refuses every
 * reference but the predefined ones, which it expands; this is the second
 * lock on the same door. */
static void on_reference(void *ctx, const xmlChar *name)
{
	char why[80];

	(void)name;
	snprintf(why, sizeof why, "feed XML line %d: entity references are not allowed",
		 xmlSAX2GetLineNumber(ctx));
	stop(ctx, why);
}

static void install_hooks(xmlSAXHandlerPtr sax)
{
	sax->internalSubset = on_doctype;
	sax->startElementNs = on_start;
	sax->characters = on_characters;
	sax->ignorableWhitespace = on_characters;
	sax->comment = on_comment;
	sax->processingInstruction = on_pi;
	sax->reference = on_reference;
	sax->cdataBlock = NULL; /* CDATA arrives as characters (XML_PARSE_NOCDATA) */
}

/* libxml2 messages end in a newline; the operator's line should not. */
static int not_well_formed(xmlParserCtxtPtr ctxt, emg_err *err)
{
	const xmlError *e = xmlCtxtGetLastError(ctxt);
	int rc = emg_fail(err, EMG_ECONFIG, "feed XML is not well-formed: line %d: %s", e != NULL ? e->line : 0,
			  e != NULL && e->message != NULL ? e->message : "parse error\n");

	if (err != NULL) {
		size_t l = strlen(err->msg);
		if (l > 0 && err->msg[l - 1] == '\n')
			err->msg[l - 1] = '\0';
	}
	return rc;
}

int emg_feed_xml_read(const uint8_t *xml, size_t len, emg_feed_doc *out, emg_err *err)
{
	xmlParserCtxtPtr ctxt;
	xmlDocPtr doc;
	guard g;
	int rc;

	memset(out, 0, sizeof *out);
	if (len > EMG_FEED_MAX_BYTES)
		return emg_fail(err, EMG_ECONFIG, "feed XML is %zu bytes, over the limit of %u", len,
				(unsigned)EMG_FEED_MAX_BYTES);
	if (len == 0)
		return emg_fail(err, EMG_ECONFIG, "feed XML is empty");
	xmlInitParser();
	ctxt = xmlNewParserCtxt();
	if (ctxt == NULL)
		return emg_fail(err, EMG_EIO, "out of memory creating the XML parser");
	memset(&g, 0, sizeof g);
	g.fd = out;
	install_hooks(ctxt->sax);
	ctxt->_private = &g;
	/* No XML_PARSE_NOENT, DTDLOAD, DTDATTR or HUGE: entities stay
	 * unexpanded, nothing is fetched, libxml2's own limits stay on. */
	doc = xmlCtxtReadMemory(ctxt, (const char *)xml, (int)len, "feed.xml", NULL,
				XML_PARSE_NONET | XML_PARSE_NOERROR | XML_PARSE_NOWARNING | XML_PARSE_NOCDATA | XML_PARSE_COMPACT);
	if (g.code != 0)
		rc = emg_fail(err, g.code, "%s", g.msg);
	else if (g.out_of_memory)
		rc = emg_fail(err, EMG_EIO, "out of memory reading the feed XML");
	else if (doc == NULL || !ctxt->wellFormed)
		rc = not_well_formed(ctxt, err);
	else if (doc->intSubset != NULL || doc->extSubset != NULL)
		rc = emg_fail(err, EMG_ECONFIG, "feed XML has a DOCTYPE declaration, which is refused");
	else if (xmlDocGetRootElement(doc) == NULL)
		rc = emg_fail(err, EMG_ECONFIG, "feed XML has no root element");
	else
		rc = EMG_OK;
	xmlHashFree(g.ids, NULL);
	xmlFreeParserCtxt(ctxt);
	if (rc != EMG_OK) {
		xmlFreeDoc(doc);
		memset(out, 0, sizeof *out);
		return rc;
	}
	out->doc = doc;
	return EMG_OK;
}

void emg_feed_doc_free(emg_feed_doc *fd)
{
	xmlFreeDoc(fd->doc);
	memset(fd, 0, sizeof *fd);
}
