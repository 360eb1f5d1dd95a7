/* report.h - what emgap-apply shows administrators: the per-action status
 * table (as Get-Mitigations.ps1), CSV (RFC 4180, header row), JSON, and the
 * Format-List shape of Get-ExchangeServer (Name : EXCH01 ...).
 *
 * Everything renders into an emg_sbuf so that a report goes to stdout or,
 * atomically, to a file, from the same bytes. */
#ifndef EMG_APPLY_REPORT_H
#define EMG_APPLY_REPORT_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "err.h"

/* ---- A growable string ---------------------------------------------- */

typedef struct emg_sbuf {
	char *p;     /* NUL-terminated while len > 0 or after any append */
	size_t len;
	size_t cap;
	int oom;     /* an append failed: the contents are incomplete */
} emg_sbuf;

void emg_sbuf_init(emg_sbuf *b);
void emg_sbuf_free(emg_sbuf *b);
void emg_sbuf_putn(emg_sbuf *b, const char *s, size_t n);
void emg_sbuf_puts(emg_sbuf *b, const char *s);
void emg_sbuf_printf(emg_sbuf *b, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
/* EMG_OK, or EMG_EIO "out of memory" when an append failed. */
int emg_sbuf_status(const emg_sbuf *b, emg_err *err);

/* ---- Lists of mitigation ids ---------------------------------------- */

#define EMG_ID_MAX 64        /* longest id or sub-id ("M1", "M1.2") */
#define EMG_IDLIST_MAX 4096  /* most ids in one list */

typedef struct emg_idlist {
	char **v;
	size_t n;
} emg_idlist;

void emg_idlist_free(emg_idlist *l);
/* 1 when id is in the list (exact match). */
int emg_idlist_has(const emg_idlist *l, const char *id);
/* Adds a copy of id unless already present; keeps the list sorted (ids
 * compare by their numeric parts, so M2 < M10 and M1 < M1.1 < M1.2). */
int emg_idlist_add(emg_idlist *l, const char *id, emg_err *err);
/* Removes id; returns 1 if it was there. */
int emg_idlist_remove(emg_idlist *l, const char *id);
/* Parses "M1,M2.1" (spaces around commas allowed, "" is the empty list).
 * Each id must pass emg_id_valid; what names the field in messages.
 * Fails with EMG_EUSAGE. */
int emg_idlist_parse(emg_idlist *l, const char *text, const char *what, emg_err *err);
/* Appends "M1,M2" (sep ",") or "M1, M2" (sep ", ") to b. */
void emg_idlist_join(const emg_idlist *l, const char *sep, emg_sbuf *b);
/* An id as EEMS writes them: a letter, then letters, digits, '-' or '_',
 * optionally ".N" sub-ids, at most EMG_ID_MAX-1 bytes. */
int emg_id_valid(const char *id);
/* strcmp-like order of ids, numeric parts compared as numbers. */
int emg_id_cmp(const char *a, const char *b);

/* ---- Per-action status (status command) ----------------------------- */

typedef struct emg_status_row {
	const char *id;          /* sub-id, "M1.1" */
	const char *type;        /* IISUrlRewrite, Service, AppPool, DoNothing, ... */
	const char *description;
	const char *status;      /* Applied, Blocked, Failed, NotApplicable, ... */
	const char *reason;      /* why Failed (or other detail); may be NULL */
} emg_status_row;

/* A fixed-width table for people. */
void emg_report_table(emg_sbuf *b, const emg_status_row *rows, size_t n);
/* RFC 4180: header "Id,Type,Description,Status,Reason", CRLF line ends,
 * fields with , " CR or LF quoted, quotes doubled. */
void emg_report_csv(emg_sbuf *b, const emg_status_row *rows, size_t n);
/* A JSON array of objects with the same five keys (Reason null if none). */
void emg_report_json(emg_sbuf *b, const emg_status_row *rows, size_t n);

/* Appends s as a JSON string (quotes included); bytes that are not valid
 * UTF-8 become U+FFFD, so the output is always valid JSON. */
void emg_json_str(emg_sbuf *b, const char *s);

/* ---- Server view (get-server, fleet view) --------------------------- */

typedef struct emg_server_view {
	const char *name;
	int enabled;             /* the server's MitigationsEnabled */
	int org_enabled;         /* the organisation's; < 0 when unknown */
	const emg_idlist *applied;
	const emg_idlist *blocked;
	/* Fleet view extras; NULL / 0 leaves the line out. */
	const char *build;
	time_t last_checked;
	uint64_t sequence;
	const char *result;
	int show_stale;          /* print Stale (fleet view) */
	int stale;               /* last check older than 2 x its interval */
	const char *error;       /* the server's status file could not be read */
} emg_server_view;

/* Format-List: property names padded to the longest, " : ", booleans as
 * True/False, lists as {M1.1, M1.2}; one blank line before each record. */
void emg_report_server_list(emg_sbuf *b, const emg_server_view *v, size_t n);
/* A JSON array of server objects (MitigationsApplied etc. as arrays). */
void emg_report_server_json(emg_sbuf *b, const emg_server_view *v, size_t n);

/* Writes b to stdout (path NULL or "-") or atomically to path. */
int emg_report_emit(const emg_sbuf *b, const char *path, emg_err *err);

#endif
