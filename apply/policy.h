/* policy.h - what to do with one action, as EEMS decides it.
 *
 * Pure: no files, no clock. The engine feeds in the server's facts and
 * settings and the action's state, and gets back a decision. */
#ifndef EMG_APPLY_POLICY_H
#define EMG_APPLY_POLICY_H

#include "apply/state.h"
#include "bundle/feed.h"

typedef struct emg_policy_in {
	const char *product;   /* Exchange2016, Exchange2019, ExchangeSE */
	const char *build;     /* this server's build */
	int org_enabled;       /* organisation MitigationsEnabled */
	int server_enabled;    /* server MitigationsEnabled */
	const emg_server_settings *settings; /* MitigationsBlocked */
	int auto_revert_obsolete;
} emg_policy_in;

typedef enum emg_verdict {
	EMG_DO_APPLY,  /* make sure the action is in place (apply, or re-apply drift) */
	EMG_DO_SKIP,   /* leave the server as it is; record status */
	EMG_DO_REVERT  /* take our change out (obsolete with auto_revert_obsolete) */
} emg_verdict;

typedef struct emg_decision {
	emg_verdict verdict;
	emg_status status;  /* the status to record when not applying */
	char reason[256];
} emg_decision;

/* Decides for action a of mitigation m; in_place says whether our change
 * is on the server now. Order: unsupported type, product, build range
 * (below min: NotApplicable; above max: Obsolete), organisation and server
 * MitigationsEnabled, MitigationsBlocked, then apply. Blocked never
 * reverts: when in_place, the reason adds that the change is still there
 * and that revert removes it. */
void emg_policy_decide(const emg_policy_in *in, const emg_mitigation *m, const emg_action *a,
		       int in_place, emg_decision *d);

#endif
