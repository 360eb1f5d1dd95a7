/* audit.h - the append-only, hash-chained log of every admin change.
 *
 * <state dir>/audit.log holds one line per admin command:
 *
 *   SEQ TAB TIME TAB USER TAB COMMAND TAB BEFORE TAB AFTER TAB HASH LF
 *
 * SEQ counts from 1; TIME is UTC RFC 3339; text fields escape backslash,
 * tab, CR and LF as \\ \t \r \n and other control bytes as \xHH. HASH is
 * the hex SHA-256 of the previous entry's HASH (64 zeros for the first),
 * a LF, and this line up to (not including) its last TAB. So an edited
 * line fails its own hash, and an inserted or deleted line breaks the
 * link to the next one.
 *
 * Deleting the last lines leaves a valid shorter chain, so the newest SEQ
 * and HASH are also kept in <state dir>/audit.head (written atomically
 * after each append). A log one entry ahead of its head is an append that
 * was interrupted between the two writes; it is completed, not reported.
 *
 * The chain proves integrity against edits made without recomputing every
 * later hash; someone who can rewrite the state dir can recompute them all.
 * Copying audit.head off the machine from time to time (it holds nothing
 * secret) closes that gap.
 *
 * Callers hold the state lock: appends are not safe against each other. */
#ifndef EMG_APPLY_AUDIT_H
#define EMG_APPLY_AUDIT_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "err.h"

#define EMG_AUDIT_LOG "audit.log"
#define EMG_AUDIT_HEAD "audit.head"
#define EMG_AUDIT_FIELD_MAX 2048           /* bytes per field, before escaping */
#define EMG_AUDIT_LINE_MAX 16384           /* bytes per line, escaped */
#define EMG_AUDIT_MAX_BYTES (256u << 20)   /* audit --verify reads at most this */

/* Who is acting: the login name of the real uid, with the sudo caller
 * when run through sudo ("root (sudo: alice)"). */
void emg_audit_user(char *out, size_t outlen);

typedef struct emg_audit_entry {
	const char *user;    /* emg_audit_user() */
	const char *command; /* "block M1 M2.1" */
	const char *before;  /* "MitigationsBlocked={M3}" */
	const char *after;   /* "MitigationsBlocked={M1, M2.1, M3}" */
} emg_audit_entry;

/* Appends one entry at time now. Refuses (EMG_EVERIFY) when the log's
 * last line does not match audit.head: the log was cut or edited, and
 * appending would hide that. out_seq/out_hash (may be NULL; out_hash
 * holds 65 bytes) receive the new head. */
int emg_audit_append(const char *state_dir, const emg_audit_entry *e, time_t now,
		     uint64_t *out_seq, char *out_hash, emg_err *err);

typedef struct emg_audit_result {
	uint64_t entries;     /* lines that verified */
	uint64_t bad_line;    /* first bad line number (1-based), 0 if none */
	char problem[512];    /* what is wrong, "" if the chain holds */
} emg_audit_result;

/* Checks the whole chain and the head. Returns EMG_OK with res->bad_line
 * == 0 when intact; EMG_EVERIFY with res filled and err naming the line
 * when not; EMG_EIO when the log cannot be read. A missing log with no
 * head is an empty, intact chain. */
int emg_audit_verify(const char *state_dir, emg_audit_result *res, emg_err *err);

/* ---- For commands ----------------------------------------------------- */

/* Appends an entry for a command line: who (emg_audit_user), now, argv
 * (argv[0] the subcommand; "--config FILE" left out), before and after.
 * The caller holds the state lock. */
int emg_audit_command(const char *state_dir, int argc, char **argv,
		      const char *before, const char *after, emg_err *err);
/* The same for a caller that does not hold the lock (such as revert after
 * emg_engine_revert returned): takes it, appends, releases it. */
int emg_audit_command_locked(const char *state_dir, int argc, char **argv,
			     const char *before, const char *after, emg_err *err);

#endif
