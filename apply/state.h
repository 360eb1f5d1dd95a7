/* state.h - the applier's state directory: what was applied, what was
 * there before, per-action status, the server settings, and the lock.
 *
 * Layout of the state dir (created 0700):
 *   lock          flock(2) target; whoever holds it may change anything below
 *   state         the run state (emg_state), replaced atomically
 *   server.conf   server settings (MitigationsEnabled, MitigationsBlocked), INI,
 *                 replaced atomically; changed by admin commands under the lock
 *   backup/       copies of every config file as it was before our first change
 *   emgap.log     event log (events.h)
 *   hashcache     the SHA-256 of source files by stat signature (source.h)
 *   (the bundle layer keeps its own accepted-sequence file here as well)
 *
 * Crash safety: every change is journaled in the state file itself. Before a
 * file or host change the action is saved with pending = 1 and the hashes of
 * the file before and after; after the change it is saved with pending = 0.
 * emg_state_recover() (run at the start of every locked command, via
 * emg_engine_recover in engine.h) settles pending actions from what is
 * actually on disk, so state and files always agree after it.
 *
 * Every function that reads or writes these files must be called with the
 * lock held (emg_state_lock), except the read-only views (status,
 * get-server) which may read without it: every file is replaced atomically.
 */
#ifndef EMG_APPLY_STATE_H
#define EMG_APPLY_STATE_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "err.h"

/* Per-action status, as Get-Mitigations shows it. */
typedef enum emg_status {
	EMG_ST_NONE = 0,        /* never evaluated */
	EMG_ST_APPLIED,
	EMG_ST_BLOCKED,
	EMG_ST_NOT_APPLICABLE,
	EMG_ST_FAILED,
	EMG_ST_UNSUPPORTED,
	EMG_ST_OBSOLETE,
	EMG_ST_REVERTED
} emg_status;

/* "Applied", "Blocked", "NotApplicable", "Failed", "Unsupported",
 * "Obsolete", "Reverted" ("None" for EMG_ST_NONE). */
const char *emg_status_name(emg_status s);
/* Returns 0 and sets *out, or -1 for an unknown name. */
int emg_status_parse(const char *name, emg_status *out);

/* One name = value pair of an action's undo record. */
typedef struct emg_kv {
	char *key;
	char *value;
} emg_kv;

/* One action (sub-id) as last evaluated. The undo record says exactly what
 * our change replaced, so revert can restore it; it is owned by the engine
 * (keys "file", "kind", "frag", "undo", "created", "service", "pool",
 * "prev.start", "prev.running", "order"; "p.*" while pending). Admin code
 * should only read id/subid/type/desc/status/reason/when/in_place.
 * MitigationsApplied lists the actions with in_place set: an action can
 * be in place and Blocked (blocking does not remove) or Obsolete. */
typedef struct emg_state_action {
	char *subid;        /* "M1.1" */
	char *id;           /* "M1" */
	char *type;         /* action type as written in the feed */
	char *desc;         /* mitigation description (may be "") */
	emg_status status;
	char *reason;       /* why Failed/Blocked/NotApplicable/...; may be "" */
	time_t when;        /* when status last changed */
	int in_place;       /* 1 when our change is on the server (files/host) */
	int pending;        /* journal: a change was started and not yet settled */
	char old_sha[65];   /* pending: the target file's SHA-256 before ("" none) */
	char new_sha[65];   /* pending: ... and after the change */
	emg_kv *undo;
	size_t undo_count;
} emg_state_action;

/* A file the last full run looked at, and its stat signature then. When
 * every watched file, the bundle and the settings are unchanged, a run has
 * nothing to re-check (the idle fast path). */
typedef struct emg_watch {
	char *path;
	char sig[128];
} emg_watch;

#define EMG_MAX_SKIPPED 64

typedef struct emg_state {
	int have_sequence;
	uint64_t sequence;         /* last accepted bundle sequence */
	char bundle_sha256[65];    /* of the last accepted bundle file, "" none */
	char bundle_path[4096];    /* where it was found */
	time_t bundle_expires;
	time_t last_run;           /* start of the last run that finished */
	int last_result;           /* its exit code */
	char last_error[512];      /* its error message, "" when none */
	emg_state_action *actions;
	size_t count;
	emg_watch *watch;          /* engine-owned: the idle fast path */
	size_t watch_count;
	char skipped[EMG_MAX_SKIPPED][65]; /* SHA-256 of bundles rejected or older */
	size_t skipped_count;
} emg_state;

/* Loads <dir>/state; a missing file gives an empty state. EMG_ECONFIG on a
 * malformed file (naming file:line), EMG_EIO when unreadable. */
int emg_state_load(const char *dir, emg_state *st, emg_err *err);
/* Replaces <dir>/state atomically. */
int emg_state_save(const char *dir, const emg_state *st, emg_err *err);
void emg_state_free(emg_state *st);

/* The action with this sub-id, or NULL. */
emg_state_action *emg_state_find(emg_state *st, const char *subid);
/* Finds or appends the action (id, type, desc copied); NULL on no memory. */
emg_state_action *emg_state_add(emg_state *st, const char *subid, const char *id,
				const char *type, const char *desc);
/* Sets status and reason (reason may be NULL) and stamps when = now if the
 * status changed. Returns EMG_OK or EMG_EIO on no memory. */
int emg_state_set_status(emg_state_action *a, emg_status s, const char *reason,
			 time_t now, emg_err *err);

/* Undo record access. Get returns NULL when absent. Set copies. */
const char *emg_kv_get(const emg_state_action *a, const char *key);
int emg_kv_set(emg_state_action *a, const char *key, const char *value, emg_err *err);
void emg_kv_clear(emg_state_action *a);
/* Removes key; 1 when it was there. */
int emg_kv_del(emg_state_action *a, const char *key);

/* ---- Server settings (<dir>/server.conf) ------------------------------ */

#define EMG_MAX_BLOCKED 256

typedef struct emg_server_settings {
	int enabled;              /* MitigationsEnabled, default true */
	char *blocked[EMG_MAX_BLOCKED]; /* MitigationsBlocked: ids or sub-ids */
	size_t blocked_count;
} emg_server_settings;

/* A missing file gives the defaults (enabled, nothing blocked). */
int emg_server_settings_load(const char *dir, emg_server_settings *s, emg_err *err);
int emg_server_settings_save(const char *dir, const emg_server_settings *s, emg_err *err);
void emg_server_settings_free(emg_server_settings *s);
/* Adds/removes an id (no duplicates; unblocking an absent id is EMG_OK).
 * Ids are checked: letters, digits, '.', '-', '_' only (EMG_EUSAGE). */
int emg_server_settings_block(emg_server_settings *s, const char *id, emg_err *err);
int emg_server_settings_unblock(emg_server_settings *s, const char *id);
/* 1 when subid ("M1.2") or its mitigation id ("M1") is blocked, and the
 * entry that matched in *by (may be NULL). */
int emg_server_settings_blocks(const emg_server_settings *s, const char *subid,
			       const char **by);

/* ---- Organisation settings (the file on the share) --------------------- */

/* The org file is INI: "[organization]\nmitigations_enabled = true|false".
 * A missing file means enabled (the organisation never set anything);
 * an unreadable or malformed one is an error, so a run never guesses. */
int emg_org_settings_load(const char *path, int *enabled, emg_err *err);
int emg_org_settings_save(const char *path, int enabled, emg_err *err);

/* ---- Lock ---------------------------------------------------------------- */

typedef struct emg_lock {
	int fd;
} emg_lock;

/* Creates the state dir if needed and takes an exclusive non-blocking
 * flock on <dir>/lock. EMG_EBUSY with a clear message when another process
 * holds it. */
int emg_state_lock(const char *dir, emg_lock *lk, emg_err *err);
void emg_state_unlock(emg_lock *lk);

/* Replaces the watch list; paths copied. */
int emg_state_watch_add(emg_state *st, const char *path, const char *sig, emg_err *err);
void emg_state_watch_clear(emg_state *st);
/* Remembers a rejected or older bundle (oldest forgotten first). */
void emg_state_skip_add(emg_state *st, const char *sha);
int emg_state_skipped(const emg_state *st, const char *sha);
/* 1 when the accepted bundle has an expiry and now is past it. */
int emg_state_bundle_expired(const emg_state *st, time_t now);

/* Every run, even an idle one that writes nothing else, marks the time it
 * checked: the mtime of <dir>/last-check (cheap: no rewrite, no fsync). */
int emg_state_mark_checked(const char *dir, time_t now, emg_err *err);
/* 0 when never checked. */
time_t emg_state_last_checked(const char *dir);

/* ---- Helpers ------------------------------------------------------------- */

/* The one-line escaping of the state files (%, CR, LF and control bytes
 * as %XX), for other files of the state dir. Unescape works in place and
 * returns -1 on a bad or NUL escape. */
struct emg_sbuf;
void emg_line_escape(struct emg_sbuf *b, const char *s);
int emg_line_unescape(char *s);

/* A stat signature "dev:ino:size:mtime.ns:ctime.ns" or "-" (absent). */
void emg_file_sig(const char *path, char out[128]);
/* The same signature of a stat(2) result. */
struct stat;
void emg_stat_sig(const struct stat *st, char out[128]);

/* SHA-256 of a file as 64 lower-case hex digits; "" (and EMG_OK) when the
 * file does not exist. */
int emg_sha256_file(const char *path, char out[65], emg_err *err);
/* The same of what is left to read from fd; name is for messages. */
int emg_sha256_fd(int fd, const char *name, char out[65], emg_err *err);
void emg_sha256_hex(const void *data, size_t len, char out[65]);

#endif
