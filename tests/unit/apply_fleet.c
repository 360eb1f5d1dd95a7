/* apply_fleet.c - server status files: built from the state, written,
 * read back; a share with three servers, a broken file and a symlink. */
#include "check.h"

#include <unistd.h>

#include "apply/fleet.h"
#include "fileio.h"

#define T0 ((time_t)1795629600) /* 2026-11-25T18:00:00Z */

static emg_state_action act(char *subid, char *id, emg_status s)
{
	emg_state_action a;

	memset(&a, 0, sizeof a);
	a.subid = subid;
	a.id = id;
	a.type = (char *)"IISUrlRewrite";
	a.desc = (char *)"";
	a.reason = (char *)"";
	a.status = s;
	a.in_place = s == EMG_ST_APPLIED;
	return a;
}

static void fake_server(emg_apply_config *cfg, const char *name, const char *dir)
{
	memset(cfg, 0, sizeof *cfg);
	snprintf(cfg->path, sizeof cfg->path, "apply.conf");
	snprintf(cfg->server_name, sizeof cfg->server_name, "%s", name);
	snprintf(cfg->product, sizeof cfg->product, "Exchange2019");
	snprintf(cfg->build, sizeof cfg->build, "15.2.1118.7");
	snprintf(cfg->org_status_dir, sizeof cfg->org_status_dir, "%s", dir);
	cfg->interval = 1800;
}

static int publish(const char *dir, const char *name, int enabled, int org)
{
	emg_state_action acts[6];
	emg_state st;
	emg_server_settings ss;
	emg_apply_config cfg;
	emg_err err;
	char blocked[] = "M2";

	fake_server(&cfg, name, dir);
	acts[0] = act((char *)"M1.2", (char *)"M1", EMG_ST_APPLIED);
	acts[1] = act((char *)"M1.1", (char *)"M1", EMG_ST_APPLIED);
	acts[2] = act((char *)"M3.1", (char *)"M3", EMG_ST_FAILED);
	/* Blocking does not remove: a blocked action still in place is
	 * applied; one reverted (or never applied) is not; a failed one is
	 * listed as failed only, even if an earlier change is recorded. */
	acts[3] = act((char *)"M4.1", (char *)"M4", EMG_ST_BLOCKED);
	acts[3].in_place = 1;
	acts[4] = act((char *)"M5.1", (char *)"M5", EMG_ST_BLOCKED);
	acts[5] = act((char *)"M6.1", (char *)"M6", EMG_ST_FAILED);
	acts[5].in_place = 1;
	memset(&st, 0, sizeof st);
	st.actions = acts;
	st.count = 6;
	st.have_sequence = 1;
	st.sequence = 42;
	st.last_run = T0;
	snprintf(st.last_error, sizeof st.last_error, "M3.1: web.config\nmalformed");
	memset(&ss, 0, sizeof ss);
	ss.enabled = enabled;
	ss.blocked[0] = blocked;
	ss.blocked_count = 1;
	emg_err_clear(&err);
	return emg_fleet_publish(&cfg, &st, &ss, org, T0, &err);
}

static void test_roundtrip(check_ctx *c, const char *share)
{
	char path[700];
	uint8_t *buf = NULL;
	size_t len = 0;
	emg_fleet_status s;
	emg_err err;

	CHECK(c, publish(share, "EXCH01", 1, 1) == EMG_OK, "fleet: publish writes the status file");
	snprintf(path, sizeof path, "%s/EXCH01.status", share);
	emg_err_clear(&err);
	CHECK(c, emg_read_file(path, 65536, EMG_EIO, &buf, &len, &err) == EMG_OK, "fleet: status file exists");
	CHECK(c, buf != NULL && strstr((char *)buf, "mitigations_applied = M1.1,M1.2,M4.1\n") != NULL &&
			 strstr((char *)buf, "failed = M3.1,M6.1\n") != NULL &&
			 strstr((char *)buf, "interval = 1800\n") != NULL &&
			 strstr((char *)buf, "result = M3.1: web.config malformed\n") != NULL,
	      "fleet: applied = in place (blocked too), sorted; failed listed; interval; error on one line");
	CHECK(c, buf != NULL && emg_fleet_parse(path, (char *)buf, len, &s, &err) == EMG_OK,
	      "fleet: status file parses back");
	CHECK(c, strcmp(s.name, "EXCH01") == 0 && s.enabled == 1 && s.org_enabled == 1 &&
			 s.applied.n == 3 && s.blocked.n == 1 && strcmp(s.blocked.v[0], "M2") == 0 &&
			 s.sequence == 42 && s.last_checked == T0 && strcmp(s.build, "15.2.1118.7") == 0 &&
			 s.interval == 1800,
	      "fleet: round trip keeps every field");
	emg_fleet_status_free(&s);
	free(buf);
}

/* Stale: the last check is more than twice the server's interval old. */
static void test_stale(check_ctx *c)
{
	emg_fleet_status s;
	emg_server_view v;

	memset(&s, 0, sizeof s);
	snprintf(s.name, sizeof s.name, "EXCH01");
	s.last_checked = T0;
	s.interval = 1800;
	CHECK(c, !emg_fleet_stale(&s, T0 + 3600), "stale: exactly 2 x interval is not stale");
	CHECK(c, emg_fleet_stale(&s, T0 + 3601), "stale: past 2 x interval is stale");
	CHECK(c, !emg_fleet_stale(&s, T0 - 100), "stale: a check in the future is not stale");
	s.interval = 0;
	CHECK(c, !emg_fleet_stale(&s, T0 + 7200) && emg_fleet_stale(&s, T0 + 7201),
	      "stale: no interval in the file means an hour");
	s.interval = ~0ULL;
	CHECK(c, !emg_fleet_stale(&s, T0 + 86400 * 365), "stale: a huge interval does not overflow");
	s.interval = 1800;
	s.last_checked = 0;
	CHECK(c, emg_fleet_stale(&s, T0), "stale: never checked is stale");
	emg_fleet_view(&s, T0, &v);
	CHECK(c, v.show_stale && v.stale, "stale: the fleet view shows it");
	snprintf(s.error, sizeof s.error, "unreadable");
	CHECK(c, !emg_fleet_stale(&s, T0), "stale: an unreadable file is an error, not stale");
}

static void test_bad_files(check_ctx *c)
{
	emg_fleet_status s;
	emg_err err;
	const char *unknown = "[server]\nname = X\nshell = rm -rf /\n";
	const char *bad_id = "[server]\nname = X\nmitigations_blocked = M1,$(x)\n";
	const char *bad_bool = "[server]\nname = X\nmitigations_enabled = yes please\n";
	const char *bad_name = "[server]\nname = ../etc\n";

	emg_err_clear(&err);
	CHECK(c, emg_fleet_parse("u", unknown, strlen(unknown), &s, &err) == EMG_ECONFIG &&
			 strstr(err.msg, "u:3") != NULL,
	      "fleet: unknown key refused with its line");
	CHECK(c, emg_fleet_parse("i", bad_id, strlen(bad_id), &s, &err) == EMG_ECONFIG &&
			 strstr(err.msg, "mitigations_blocked") != NULL,
	      "fleet: bad id refused as malformed file");
	CHECK(c, emg_fleet_parse("b", bad_bool, strlen(bad_bool), &s, &err) == EMG_ECONFIG,
	      "fleet: bad boolean refused");
	CHECK(c, emg_fleet_parse("n", bad_name, strlen(bad_name), &s, &err) == EMG_ECONFIG,
	      "fleet: path-like name refused");
	CHECK(c, !emg_fleet_name_valid("../x") && !emg_fleet_name_valid(".hidden") &&
			 !emg_fleet_name_valid("") && emg_fleet_name_valid("exch-01.corp"),
	      "fleet: server name rules");
}

static void test_share(check_ctx *c, const char *share)
{
	emg_fleet_status *list = NULL;
	size_t n = 0;
	char path[700], target[700];
	emg_err err;
	const char *liar = "[server]\nname = EXCH09\n";

	publish(share, "EXCH03", 0, 1);
	publish(share, "EXCH02", 1, 0);
	snprintf(path, sizeof path, "%s/EXCH04.status", share);
	emg_write_file_atomic(path, "[server\n", 8, 0644, NULL);
	snprintf(path, sizeof path, "%s/EXCH05.status", share);
	emg_write_file_atomic(path, liar, strlen(liar), 0644, NULL);
	snprintf(path, sizeof path, "%s/EXCH06.status", share);
	snprintf(target, sizeof target, "%s/EXCH01.status", share);
	CHECK(c, symlink(target, path) == 0, "fleet: symlink planted");
	snprintf(path, sizeof path, "%s/notes.txt", share);
	emg_write_file_atomic(path, "x", 1, 0644, NULL);
	emg_err_clear(&err);
	CHECK(c, emg_fleet_read_dir(share, &list, &n, &err) == EMG_OK && n == 6, "fleet: six status files read");
	if (n == 6) {
		CHECK(c, strcmp(list[0].name, "EXCH01") == 0 && strcmp(list[1].name, "EXCH02") == 0 &&
				 strcmp(list[2].name, "EXCH03") == 0,
		      "fleet: sorted by name");
		CHECK(c, list[0].error[0] == '\0' && list[1].error[0] == '\0' && list[2].error[0] == '\0',
		      "fleet: three good servers");
		CHECK(c, list[1].org_enabled == 0 && list[2].enabled == 0 && list[0].enabled == 1,
		      "fleet: each server's own settings");
		CHECK(c, strcmp(list[3].name, "EXCH04") == 0 && strstr(list[3].error, "EXCH04.status") != NULL,
		      "fleet: malformed file is that server's error");
		CHECK(c, strstr(list[4].error, "EXCH09") != NULL, "fleet: file naming another server refused");
		CHECK(c, strstr(list[5].error, "not a regular file") != NULL, "fleet: symlink not followed");
	}
	emg_fleet_list_free(list, n);
	CHECK(c, emg_fleet_read_dir("/nonexistent/emgap", &list, &n, &err) == EMG_EIO, "fleet: missing share is I/O");
}

int main(void)
{
	check_ctx c = {0};
	char share[600];

	snprintf(share, sizeof share, "%s/share/servers", check_tmpdir());
	test_roundtrip(&c, share);
	test_stale(&c);
	test_bad_files(&c);
	test_share(&c, share);
	return c.failed ? 1 : 0;
}
