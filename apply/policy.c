/* policy.c - per-action decisions. */
#include "apply/policy.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

static void set(emg_decision *d, emg_verdict v, emg_status s, const char *reason)
{
	d->verdict = v;
	d->status = s;
	snprintf(d->reason, sizeof d->reason, "%s", reason);
}

/* As in EEMS, blocking (or switching mitigations off) stops applying but
 * removes nothing: an action already in place stays there until an
 * administrator reverts it, and the reason says so. */
static void blocked(emg_decision *d, int in_place, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static void blocked(emg_decision *d, int in_place, const char *fmt, ...)
{
	va_list ap;
	size_t n;

	set(d, EMG_DO_SKIP, EMG_ST_BLOCKED, "");
	va_start(ap, fmt);
	vsnprintf(d->reason, sizeof d->reason, fmt, ap);
	va_end(ap);
	n = strlen(d->reason);
	if (in_place)
		snprintf(d->reason + n, sizeof d->reason - n, "; still in place: use revert to remove");
}

/* Applicability by product and build. Returns 1 when the action applies;
 * otherwise fills d. */
static int applies(const emg_policy_in *in, const emg_mitigation *m, int in_place, emg_decision *d)
{
	const emg_applies *ap = NULL;
	size_t i;
	int c;

	if (m->applies_count == 0)
		return 1;
	for (i = 0; i < m->applies_count; i++)
		if (strcmp(m->applies[i].product, in->product) == 0)
			ap = &m->applies[i];
	if (ap == NULL) {
		set(d, EMG_DO_SKIP, EMG_ST_NOT_APPLICABLE, "");
		snprintf(d->reason, sizeof d->reason, "not for %s", in->product);
		return 0;
	}
	if (ap->min[0] != '\0') {
		if (emg_build_cmp(in->build, ap->min, &c) != 0) {
			set(d, EMG_DO_SKIP, EMG_ST_FAILED, "");
			snprintf(d->reason, sizeof d->reason, "malformed build range in the feed (min %.40s)", ap->min);
			return 0;
		}
		if (c < 0) {
			set(d, EMG_DO_SKIP, EMG_ST_NOT_APPLICABLE, "");
			snprintf(d->reason, sizeof d->reason, "build %s is below the minimum %s", in->build, ap->min);
			return 0;
		}
	}
	if (ap->max[0] != '\0') {
		if (emg_build_cmp(in->build, ap->max, &c) != 0) {
			set(d, EMG_DO_SKIP, EMG_ST_FAILED, "");
			snprintf(d->reason, sizeof d->reason, "malformed build range in the feed (max %.40s)", ap->max);
			return 0;
		}
		if (c > 0) {
			/* The update fixed what the mitigation worked around. */
			set(d, in->auto_revert_obsolete && in_place ? EMG_DO_REVERT : EMG_DO_SKIP,
			    EMG_ST_OBSOLETE, "");
			snprintf(d->reason, sizeof d->reason, "build %s is above the maximum %s%s", in->build,
				 ap->max, in_place && !in->auto_revert_obsolete ? " (still in place; auto_revert_obsolete is false)" : "");
			return 0;
		}
	}
	return 1;
}

void emg_policy_decide(const emg_policy_in *in, const emg_mitigation *m, const emg_action *a,
		       int in_place, emg_decision *d)
{
	const char *by = NULL;

	set(d, EMG_DO_APPLY, EMG_ST_APPLIED, "");
	if (a->type == EMG_ACTION_UNSUPPORTED) {
		set(d, EMG_DO_SKIP, EMG_ST_UNSUPPORTED, "");
		snprintf(d->reason, sizeof d->reason, "action type '%.100s' is not supported", a->type_name ? a->type_name : "");
		return;
	}
	if (!applies(in, m, in_place, d))
		return;
	if (!in->org_enabled)
		blocked(d, in_place, "MitigationsEnabled is false for the organisation");
	else if (!in->server_enabled)
		blocked(d, in_place, "MitigationsEnabled is false for this server");
	else if (in->settings != NULL && emg_server_settings_blocks(in->settings, a->subid, &by))
		blocked(d, in_place, "MitigationsBlocked contains %.100s", by);
}
