/* apply_state.c - the state file round-trips, malformed ones are refused,
 * server/org settings and MitigationsBlocked matching, the lock. */
#include <stdio.h>
#include <string.h>

#include "apply/report.h"
#include "apply/state.h"
#include "check.h"
#include "err.h"
#include "fileio.h"

static int write_text(const char *dir, const char *name, const char *text)
{
	char path[4096];
	emg_err e;

	snprintf(path, sizeof path, "%s/%s", dir, name);
	return emg_write_file_atomic(path, text, strlen(text), 0600, &e);
}

static void roundtrip(check_ctx *c, const char *dir)
{
	emg_state st, back;
	emg_state_action *a;
	emg_err err;

	memset(&st, 0, sizeof st);
	st.have_sequence = 1;
	st.sequence = 18446744073709551615ULL;
	snprintf(st.bundle_sha256, sizeof st.bundle_sha256, "%064d", 7);
	snprintf(st.bundle_path, sizeof st.bundle_path, "/mnt/usb/a b%%c.bundle");
	st.bundle_expires = 4102444800;
	a = emg_state_add(&st, "M1.1", "M1", "IISUrlRewrite", "desc with\nnewline");
	CHECK(c, a != NULL, "action added");
	if (a == NULL)
		return;
	emg_state_set_status(a, EMG_ST_FAILED, "bad %41 file\r\nline 2", 1000, &err);
	a->in_place = 1;
	emg_kv_set(a, "frag", "<rule name=\"x\">\r\n</rule>", &err);
	emg_kv_set(a, "undo", "", &err);
	emg_state_skip_add(&st, st.bundle_sha256);
	emg_state_watch_add(&st, "/srv/root/web config", "1:2:3", &err);
	CHECK(c, emg_state_save(dir, &st, &err) == EMG_OK, "state saved");
	CHECK(c, emg_state_load(dir, &back, &err) == EMG_OK, "state loaded");
	a = emg_state_find(&back, "M1.1");
	CHECK(c, back.sequence == 18446744073709551615ULL && back.have_sequence, "u64 sequence round-trips");
	CHECK(c, strcmp(back.bundle_path, "/mnt/usb/a b%c.bundle") == 0, "bundle path with % and space");
	CHECK(c, back.bundle_expires == 4102444800, "expiry time round-trips");
	CHECK(c, a != NULL && a->status == EMG_ST_FAILED, "status round-trips");
	CHECK(c, a != NULL && strcmp(a->reason, "bad %41 file\r\nline 2") == 0, "reason with CR LF and % round-trips");
	CHECK(c, a != NULL && strcmp(a->desc, "desc with\nnewline") == 0, "description round-trips");
	CHECK(c, a != NULL && a->in_place == 1 && a->when == 1000, "in_place and time");
	CHECK(c, a != NULL && emg_kv_get(a, "frag") && strcmp(emg_kv_get(a, "frag"), "<rule name=\"x\">\r\n</rule>") == 0,
	      "undo values round-trip");
	CHECK(c, a != NULL && emg_kv_get(a, "undo") && emg_kv_get(a, "undo")[0] == '\0', "empty undo value kept");
	CHECK(c, emg_state_skipped(&back, st.bundle_sha256), "skip list round-trips");
	CHECK(c, back.watch_count == 1 && strcmp(back.watch[0].path, "/srv/root/web config") == 0, "watch list round-trips");
	CHECK(c, a != NULL && emg_kv_del(a, "frag") == 1 && emg_kv_get(a, "frag") == NULL, "kv delete");
	emg_state_free(&st);
	emg_state_free(&back);
}

static void malformed(check_ctx *c, const char *dir)
{
	static const char *const bad[] = {
		"not a state file\n",
		"emgap-state 1\nsequence -1\n",
		"emgap-state 1\naction M1.1\nstatus Maybe\nend\n",
		"emgap-state 1\naction M1.1\nreason %zz\nend\n",
		"emgap-state 1\naction M1.1\nid M1\n",
		"emgap-state 1\nbundle-sha256 123\n",
		"emgap-state 1\naction M1.1\nend\naction M1.1\nend\n",
		"emgap-state 1\nsequence 5",
	};
	emg_state st;
	emg_err err;
	size_t i;
	char name[64];

	for (i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		write_text(dir, "state", bad[i]);
		snprintf(name, sizeof name, "malformed state %zu refused (EMG_ECONFIG)", i + 1);
		CHECK(c, emg_state_load(dir, &st, &err) == EMG_ECONFIG && strstr(err.msg, "/state:") != NULL, name);
	}
}

static void settings(check_ctx *c, const char *dir)
{
	emg_server_settings s;
	emg_err err;
	const char *by = NULL;
	char org[4096];
	int en = 0;

	CHECK(c, emg_server_settings_load(dir, &s, &err) == EMG_OK && s.enabled == 1 && s.blocked_count == 0,
	      "missing server.conf: enabled, nothing blocked");
	CHECK(c, emg_server_settings_block(&s, "M1", &err) == EMG_OK, "block M1");
	CHECK(c, emg_server_settings_block(&s, "M2.2", &err) == EMG_OK, "block M2.2");
	CHECK(c, emg_server_settings_block(&s, "M1", &err) == EMG_OK && s.blocked_count == 2, "no duplicates");
	CHECK(c, emg_server_settings_block(&s, "M1;rm", &err) == EMG_EUSAGE, "bad id refused");
	CHECK(c, emg_server_settings_blocks(&s, "M1.3", &by) && strcmp(by, "M1") == 0, "M1 blocks M1.3");
	CHECK(c, emg_server_settings_blocks(&s, "M1", NULL), "M1 blocks M1");
	CHECK(c, !emg_server_settings_blocks(&s, "M10.1", NULL), "M1 does not block M10.1");
	CHECK(c, emg_server_settings_blocks(&s, "M2.2", NULL), "M2.2 blocks M2.2");
	CHECK(c, !emg_server_settings_blocks(&s, "M2.1", NULL), "M2.2 does not block M2.1");
	s.enabled = 0;
	CHECK(c, emg_server_settings_save(dir, &s, &err) == EMG_OK, "server settings saved");
	emg_server_settings_free(&s);
	CHECK(c, emg_server_settings_load(dir, &s, &err) == EMG_OK && s.enabled == 0 && s.blocked_count == 2 &&
		      strcmp(s.blocked[1], "M2.2") == 0,
	      "server settings round-trip");
	CHECK(c, emg_server_settings_unblock(&s, "M1") == 1 && emg_server_settings_unblock(&s, "M9") == 0 &&
		      s.blocked_count == 1,
	      "unblock");
	emg_server_settings_free(&s);
	write_text(dir, "server.conf", "[server]\nmitigations_enabled = perhaps\n");
	CHECK(c, emg_server_settings_load(dir, &s, &err) == EMG_ECONFIG && strstr(err.msg, "server.conf") != NULL,
	      "bad boolean in server.conf refused");
	write_text(dir, "server.conf", "[server]\nmitigations_blocked = M1, ../x\n");
	CHECK(c, emg_server_settings_load(dir, &s, &err) == EMG_ECONFIG, "bad id in server.conf refused");

	snprintf(org, sizeof org, "%s/org.conf", dir);
	CHECK(c, emg_org_settings_load(org, &en, &err) == EMG_OK && en == 1, "missing org file: enabled");
	CHECK(c, emg_org_settings_save(org, 0, &err) == EMG_OK, "org settings saved");
	CHECK(c, emg_org_settings_load(org, &en, &err) == EMG_OK && en == 0, "org disabled read back");
	write_text(dir, "org.conf", "[organization]\nmitigations_enabled = true\nextra = 1\n");
	CHECK(c, emg_org_settings_load(org, &en, &err) == EMG_ECONFIG, "unknown org key refused");
}

static void locking(check_ctx *c, const char *dir)
{
	emg_lock a, b;
	emg_err err;
	char sub[4096];

	snprintf(sub, sizeof sub, "%s/lockdir/state", dir);
	CHECK(c, emg_state_lock(sub, &a, &err) == EMG_OK, "lock taken (dir created)");
	CHECK(c, emg_state_lock(sub, &b, &err) == EMG_EBUSY && strstr(err.msg, "another emgap-apply") != NULL,
	      "second lock: EMG_EBUSY with a clear message");
	emg_state_unlock(&a);
	CHECK(c, emg_state_lock(sub, &b, &err) == EMG_OK, "lock free again after unlock");
	emg_state_unlock(&b);
}

int main(void)
{
	check_ctx c = {0};
	char dir[4096], sha[65];
	emg_state st;
	emg_err err;

	snprintf(dir, sizeof dir, "%s", check_tmpdir());
	CHECK(&c, emg_state_load(dir, &st, &err) == EMG_OK && st.count == 0 && !st.have_sequence,
	      "missing state: empty");
	roundtrip(&c, dir);
	malformed(&c, dir);
	settings(&c, dir);
	locking(&c, dir);
	emg_sha256_hex("abc", 3, sha);
	CHECK(&c, strcmp(sha, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad") == 0,
	      "sha256 of abc");
	CHECK(&c, emg_status_parse("NotApplicable", &(emg_status){0}) == 0 &&
		      strcmp(emg_status_name(EMG_ST_NOT_APPLICABLE), "NotApplicable") == 0,
	      "status names");
	return c.failed ? 1 : 0;
}
