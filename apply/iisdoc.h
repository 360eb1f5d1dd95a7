/* iisdoc.h - internal to the apply/iis*.c files: one IIS config file seen
 * twice, by libxml2 (is it well-formed, what are the attribute values) and
 * by a scanner (where are each element's tags in the original bytes, for
 * splicing). The two are built independently and checked against each
 * other element by element, so an edit at an offset is an edit of the
 * element libxml2 says it is. */
#ifndef EMG_APPLY_IISDOC_H
#define EMG_APPLY_IISDOC_H

#include <stddef.h>
#include <stdint.h>

#include <libxml/tree.h>

#include "err.h"

/* One element, offsets into the original bytes. For <x/>, etag_start ==
 * stag_end == end. Elements are numbered in document order; the root is 0. */
typedef struct iis_el {
	size_t start;      /* '<' of the start tag */
	size_t stag_end;   /* just after the start tag's '>' */
	size_t etag_start; /* '<' of the end tag */
	size_t end;        /* just after the end tag's '>' */
	size_t name_off;   /* the qualified name inside the start tag */
	size_t name_len;
	size_t attr_off;   /* decoded attributes in iis_doc.arena */
	size_t nattr;
	int parent;        /* index, -1 for the root */
	int after;         /* index of the first element after this subtree */
	int empty;         /* written as <x/> */
} iis_el;

typedef struct iis_doc {
	const uint8_t *buf;
	size_t len;
	const char *name;
	iis_el *els;
	size_t nels;
	const char *eol; /* "\r\n" or "\n", as the file has it */
	/* Attribute names and values as libxml2 decoded them, "name\0value\0"... */
	char *arena;
	size_t arena_len;
	size_t arena_cap;
	/* Parse-time bookkeeping. */
	size_t sax_i;
	int sax_bad;
	int err_set;
	int err_line;
	char err_msg[300];
} iis_doc;

/* A growing byte string; ->oom is set when an append failed, checked once
 * at the end. */
typedef struct iis_sb {
	char *p;
	size_t len;
	size_t cap;
	int oom;
} iis_sb;

/* One splice: bytes [from, to) of the original become text. */
typedef struct iis_edit {
	size_t from;
	size_t to;
	char *text; /* owned */
	size_t text_len;
} iis_edit;

typedef struct iis_edits {
	iis_edit *v;
	size_t n;
	size_t cap;
} iis_edits;

/* libxml2 on bytes, safely (no network, DTD or entities); on failure NULL
 * with the line and message. Free with xmlFreeDoc. */
xmlDocPtr emg_iis_xml_read(const char *buf, size_t len, const char *name, int *line, char *msg,
			   size_t msglen);

/* Scans the bytes for element offsets, then has libxml2 check the whole
 * file (SAX, no tree: the file may be large) and decode every element's
 * attributes, checking that both saw the same elements. On failure
 * EMG_ECONFIG "name:line: ..." (or EMG_EIO). The root must be
 * <configuration>. */
int emg_iisdoc_open(iis_doc *d, const uint8_t *buf, size_t len, const char *name, emg_err *err);
void emg_iisdoc_close(iis_doc *d);

unsigned long emg_iisdoc_line(const iis_doc *d, size_t off);
/* The element's local name (after any prefix) is lname. */
int emg_iisdoc_is(const iis_doc *d, int idx, const char *lname);
/* The child element of parent after child after (-1: the first), or -1. */
int emg_iisdoc_next(const iis_doc *d, int parent, int after);
/* The first child of parent with local name lname (-1 if none); *count
 * tells how many there are. */
int emg_iisdoc_child(const iis_doc *d, int parent, const char *lname, int *count);
/* The decoded value of an attribute, or NULL. Points into the doc. */
const char *emg_iisdoc_attr(const iis_doc *d, int idx, const char *aname);
/* 1 when the element holds nothing but blanks (no elements, comments,
 * text, CDATA or PIs). */
int emg_iisdoc_is_bare(const iis_doc *d, int idx);
/* 1 when the element holds only the element child, with blanks around it. */
int emg_iisdoc_only_child(const iis_doc *d, int idx, int child);
/* The element's bytes parsed alone into a tree, for comparing; NULL when
 * they do not parse alone. xmlFreeDoc it. */
xmlDocPtr emg_iisdoc_subtree(const iis_doc *d, int idx);

/* The indentation of the line an element starts on, if it starts its line
 * (only blanks before it): *ind and *ind_len point into the buffer; returns 0
 * when something else precedes it on the line. */
int emg_iisdoc_own_line(const iis_doc *d, size_t off, const char **ind, size_t *ind_len);
/* Start of what to delete to take away the element at off together with
 * its line: its line break and indentation when it sits on its own line,
 * else off. */
size_t emg_iisdoc_line_cut(const iis_doc *d, size_t off);
/* The indentation to use for element idx: its own when on its own line,
 * else its parent's plus one unit. Appended to sb. */
void emg_iisdoc_indent_of(const iis_doc *d, int idx, iis_sb *sb);
/* One indentation step, as the file does it (detected near idx). */
void emg_iisdoc_unit(const iis_doc *d, int idx, iis_sb *sb);

void emg_sb_add(iis_sb *sb, const void *p, size_t n);
void emg_sb_str(iis_sb *sb, const char *s);
void emg_sb_free(iis_sb *sb);
/* Appends s escaped for an attribute value in double quotes, or for text. */
void emg_sb_esc(iis_sb *sb, const char *s, int attr);

/* Adds a splice taking ownership of nothing: text is copied. */
int emg_edits_add(iis_edits *e, size_t from, size_t to, const char *text, size_t text_len);
void emg_edits_free(iis_edits *e);
/* Builds the new bytes: every edit applied to the original. Edits must not
 * overlap; insertions at one offset keep the order they were added in. */
int emg_edits_apply(const iis_doc *d, iis_edits *e, uint8_t **out, size_t *outlen, emg_err *err);

/* Base64 helpers for undo records (libsodium, original alphabet). */
char *emg_iis_b64(const void *p, size_t n);
int emg_iis_unb64(const char *s, size_t slen, char **out, size_t *outlen);

#endif
