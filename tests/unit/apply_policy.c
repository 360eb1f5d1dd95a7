/* apply_policy.c - per-action decisions, as EEMS makes them. */
#include <stdio.h>
#include <string.h>

#include "apply/policy.h"
#include "check.h"

static emg_applies ap2019 = {"Exchange2019", "15.2.0.0", "15.2.1118.15"};

static void decide(const emg_policy_in *in, emg_action_type t, const char *subid, size_t napplies,
		   int in_place, emg_decision *d)
{
	emg_action a;
	emg_mitigation m;

	memset(&a, 0, sizeof a);
	memset(&m, 0, sizeof m);
	a.subid = (char *)subid;
	a.type = t;
	a.type_name = t == EMG_ACTION_UNSUPPORTED ? (char *)"RegistryValue" : (char *)"IISUrlRewrite";
	m.id = (char *)"M1";
	m.applies = &ap2019;
	m.applies_count = napplies;
	m.actions = &a;
	m.action_count = 1;
	emg_policy_decide(in, &m, &a, in_place, d);
}

int main(void)
{
	check_ctx c = {0};
	emg_server_settings ss;
	emg_policy_in in;
	emg_decision d;
	emg_err err;

	memset(&ss, 0, sizeof ss);
	ss.enabled = 1;
	memset(&in, 0, sizeof in);
	in.product = "Exchange2019";
	in.build = "15.2.1118.7";
	in.org_enabled = 1;
	in.server_enabled = 1;
	in.settings = &ss;

	decide(&in, EMG_ACTION_URL_REWRITE, "M1.1", 1, 0, &d);
	CHECK(&c, d.verdict == EMG_DO_APPLY, "in range: apply");
	decide(&in, EMG_ACTION_URL_REWRITE, "M1.1", 0, 0, &d);
	CHECK(&c, d.verdict == EMG_DO_APPLY, "no Applies: applies everywhere");
	decide(&in, EMG_ACTION_UNSUPPORTED, "M1.1", 1, 0, &d);
	CHECK(&c, d.verdict == EMG_DO_SKIP && d.status == EMG_ST_UNSUPPORTED && strstr(d.reason, "RegistryValue"),
	      "unknown type: Unsupported, named");

	in.product = "Exchange2016";
	decide(&in, EMG_ACTION_URL_REWRITE, "M1.1", 1, 0, &d);
	CHECK(&c, d.verdict == EMG_DO_SKIP && d.status == EMG_ST_NOT_APPLICABLE, "other product: NotApplicable");
	in.product = "Exchange2019";

	in.build = "15.1.2507.6";
	decide(&in, EMG_ACTION_URL_REWRITE, "M1.1", 1, 0, &d);
	CHECK(&c, d.status == EMG_ST_NOT_APPLICABLE && strstr(d.reason, "below"), "below min: NotApplicable");
	in.build = "15.2.1118.15";
	decide(&in, EMG_ACTION_URL_REWRITE, "M1.1", 1, 0, &d);
	CHECK(&c, d.verdict == EMG_DO_APPLY, "max is inclusive");
	in.build = "15.2.1118.20";
	decide(&in, EMG_ACTION_URL_REWRITE, "M1.1", 1, 1, &d);
	CHECK(&c, d.verdict == EMG_DO_SKIP && d.status == EMG_ST_OBSOLETE && strstr(d.reason, "still in place"),
	      "above max, in place, no auto revert: Obsolete, kept");
	in.auto_revert_obsolete = 1;
	decide(&in, EMG_ACTION_URL_REWRITE, "M1.1", 1, 1, &d);
	CHECK(&c, d.verdict == EMG_DO_REVERT && d.status == EMG_ST_OBSOLETE, "above max with auto revert: revert");
	decide(&in, EMG_ACTION_URL_REWRITE, "M1.1", 1, 0, &d);
	CHECK(&c, d.verdict == EMG_DO_SKIP && d.status == EMG_ST_OBSOLETE, "above max, not in place: nothing to revert");
	in.auto_revert_obsolete = 0;
	in.build = "15.2.1118.7";

	in.org_enabled = 0;
	decide(&in, EMG_ACTION_URL_REWRITE, "M1.1", 1, 0, &d);
	CHECK(&c, d.verdict == EMG_DO_SKIP && d.status == EMG_ST_BLOCKED && strstr(d.reason, "organisation"),
	      "org disabled: Blocked");
	in.org_enabled = 1;
	in.server_enabled = 0;
	decide(&in, EMG_ACTION_URL_REWRITE, "M1.1", 1, 0, &d);
	CHECK(&c, d.verdict == EMG_DO_SKIP && strstr(d.reason, "server"), "server disabled: Blocked");
	in.server_enabled = 1;
	in.build = "15.2.2000.1";
	in.org_enabled = 0;
	decide(&in, EMG_ACTION_URL_REWRITE, "M1.1", 1, 0, &d);
	CHECK(&c, d.status == EMG_ST_OBSOLETE, "obsolete wins over disabled (still checked)");
	in.org_enabled = 1;
	in.build = "15.2.1118.7";

	emg_server_settings_block(&ss, "M1", &err);
	decide(&in, EMG_ACTION_URL_REWRITE, "M1.1", 1, 1, &d);
	CHECK(&c, d.verdict == EMG_DO_SKIP && d.status == EMG_ST_BLOCKED && strstr(d.reason, "M1"),
	      "blocked id: Blocked (blocking does not remove)");
	CHECK(&c, strcmp(d.reason, "MitigationsBlocked contains M1; still in place: use revert to remove") == 0,
	      "blocked and in place: the reason says it stays and how to remove it");
	decide(&in, EMG_ACTION_URL_REWRITE, "M1.1", 1, 0, &d);
	CHECK(&c, d.status == EMG_ST_BLOCKED && strcmp(d.reason, "MitigationsBlocked contains M1") == 0,
	      "blocked, not in place: no such note");
	in.server_enabled = 0;
	decide(&in, EMG_ACTION_URL_REWRITE, "M1.1", 1, 1, &d);
	CHECK(&c, d.verdict == EMG_DO_SKIP && d.status == EMG_ST_BLOCKED && strstr(d.reason, "this server; still in place"),
	      "server disabled, in place: kept, and the reason says so");
	in.server_enabled = 1;
	emg_server_settings_unblock(&ss, "M1");
	emg_server_settings_block(&ss, "M1.2", &err);
	decide(&in, EMG_ACTION_URL_REWRITE, "M1.1", 1, 0, &d);
	CHECK(&c, d.verdict == EMG_DO_APPLY, "sub-id block leaves siblings");
	decide(&in, EMG_ACTION_URL_REWRITE, "M1.2", 1, 0, &d);
	CHECK(&c, d.status == EMG_ST_BLOCKED, "blocked sub-id: Blocked");
	emg_server_settings_free(&ss);

	{
		emg_applies badap = {"Exchange2019", "15.2.x", ""};
		emg_action a;
		emg_mitigation m;
		memset(&a, 0, sizeof a);
		memset(&m, 0, sizeof m);
		a.subid = (char *)"M9.1";
		a.type = EMG_ACTION_SERVICE;
		m.id = (char *)"M9";
		m.applies = &badap;
		m.applies_count = 1;
		emg_policy_decide(&in, &m, &a, 0, &d);
		CHECK(&c, d.verdict == EMG_DO_SKIP && d.status == EMG_ST_FAILED && strstr(d.reason, "malformed"),
		      "malformed build range: Failed, not guessed");
	}
	return c.failed ? 1 : 0;
}
