/* engine.h - plan, apply and revert mitigations on this server.
 *
 * The engine ties the pieces together: sources (source.h) give candidate
 * bundles, the bundle layer verifies them, policy (policy.h) decides per
 * action, and the IIS editor (iisconf.h) and the host backend (backend.h)
 * make the changes, each journaled in the state (state.h).
 *
 * Every entry point here takes the state-dir lock itself and fails with
 * EMG_EBUSY when another emgap-apply holds it, and settles any journal a
 * crashed run left (emg_state_recover) before doing anything else.
 */
#ifndef EMG_APPLY_ENGINE_H
#define EMG_APPLY_ENGINE_H

#include <stdio.h>
#include <time.h>

#include "apply/config.h"
#include "apply/state.h"
#include "err.h"
#include "bundle/feed.h"

typedef struct emg_run_opts {
	int dry_run;         /* print the plan and diffs, change nothing */
	const char *bundle;  /* use this bundle instead of the sources (NULL) */
	time_t now;          /* 0 = time(NULL); fixed by tests */
	FILE *out;           /* plan / summary output (stdout) */
	int quiet;           /* no per-action lines on out */
} emg_run_opts;

/* One run: pick the newest bundle that verifies, decide and apply every
 * action, record the state. Returns EMG_OK when every action ended in a
 * settled status (Failed actions make it EMG_EAPPLY, after the others were
 * still applied), or the error that stopped the run (verification 4,
 * freshness 5, I/O 7, busy 8, config 3). */
int emg_engine_run(const emg_apply_config *cfg, const emg_run_opts *opts, emg_err *err);

/* Reverts every applied action of each id (a mitigation id "M1" or a
 * sub-id "M1.2"): the rule is removed from its file, the service or app
 * pool restored to its recorded state; the action becomes Reverted. With
 * block set, the ids are also added to MitigationsBlocked (server.conf) so
 * the next run does not apply them again. An id the state does not know is
 * EMG_EUSAGE. Other ids still proceed when one fails (EMG_EAPPLY). */
typedef struct emg_revert_audit {
	int argc;    /* the admin's command line, for the audit entry */
	char **argv; /* argv[0] the subcommand; NULL: no entry */
} emg_revert_audit;

/* audit (may be NULL) is appended to the audit log under the same lock, once
 * the revert succeeded, so no other command can come between the change and
 * its record. */
int emg_engine_revert(const emg_apply_config *cfg, char *const *ids, size_t n,
		      int block, const emg_revert_audit *audit, FILE *out, emg_err *err);

/* Reverts one action whose state record is a (lock held by the caller,
 * journal settled, st saved by the callee after each step). For admin code
 * that already holds the lock. */
int emg_engine_revert_action(const emg_apply_config *cfg, const char *state_dir,
			     emg_state *st, emg_state_action *a, time_t now, emg_err *err);

/* Settles pending journal entries from what is on disk (lock held). */
int emg_engine_recover(const emg_apply_config *cfg, emg_state *st, emg_err *err);

#endif
