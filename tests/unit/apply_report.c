/* apply_report.c - ids and id lists, CSV quoting, JSON escaping, the
 * status table and the Format-List shape of get-server. */
#include "check.h"

#include "apply/report.h"

static void test_ids(check_ctx *c)
{
	emg_idlist l = {NULL, 0};
	emg_sbuf b;
	emg_err err;

	CHECK(c, emg_id_valid("M1") && emg_id_valid("M1.2") && emg_id_valid("PING1") &&
			 emg_id_valid("M1.2.3") && emg_id_valid("CVE-2022_1"),
	      "ids: valid ones accepted");
	CHECK(c, !emg_id_valid("") && !emg_id_valid("1M") && !emg_id_valid("M1.") &&
			 !emg_id_valid("M1..2") && !emg_id_valid("M1.a") && !emg_id_valid("M1;rm") &&
			 !emg_id_valid("M 1") && !emg_id_valid("../M1"),
	      "ids: malformed ones refused");
	CHECK(c, emg_id_cmp("M2", "M10") < 0 && emg_id_cmp("M1", "M1.1") < 0 &&
			 emg_id_cmp("M1.2", "M1.10") < 0 && emg_id_cmp("M01", "M1") == 0,
	      "ids: numeric order");
	emg_err_clear(&err);
	CHECK(c, emg_idlist_parse(&l, " M10, M2,M1.2 ,M1,M2", "test", &err) == EMG_OK, "idlist: parse");
	emg_sbuf_init(&b);
	emg_idlist_join(&l, ",", &b);
	CHECK(c, b.p != NULL && strcmp(b.p, "M1,M1.2,M2,M10") == 0, "idlist: sorted, duplicates dropped");
	emg_sbuf_free(&b);
	CHECK(c, emg_idlist_remove(&l, "M2") == 1 && emg_idlist_remove(&l, "M2") == 0 && l.n == 3,
	      "idlist: remove");
	CHECK(c, emg_idlist_parse(&l, "M1,,M2", "test", &err) == EMG_EUSAGE, "idlist: empty item refused");
	CHECK(c, emg_idlist_parse(&l, "M1,x y", "--mitigations-blocked", &err) == EMG_EUSAGE &&
			 strstr(err.msg, "--mitigations-blocked") != NULL && strstr(err.msg, "'x y'") != NULL,
	      "idlist: bad id named with its field");
	emg_idlist_free(&l);
	CHECK(c, emg_idlist_parse(&l, "", "test", &err) == EMG_OK && l.n == 0, "idlist: empty text is @()");
	emg_idlist_free(&l);
}

static const emg_status_row rows[] = {
	{"M1.1", "IISUrlRewrite", "EEMS M1.1 PowerShell - inbound", "Applied", NULL},
	{"M2.1", "Service", "Disable \"UM\", for now", "Failed", "service MSExchangeUM:\nnot found"},
};

static void test_csv(check_ctx *c)
{
	emg_sbuf b;
	const char *want =
		"Id,Type,Description,Status,Reason\r\n"
		"M1.1,IISUrlRewrite,EEMS M1.1 PowerShell - inbound,Applied,\r\n"
		"M2.1,Service,\"Disable \"\"UM\"\", for now\",Failed,\"service MSExchangeUM:\nnot found\"\r\n";

	emg_sbuf_init(&b);
	emg_report_csv(&b, rows, 2);
	CHECK(c, b.p != NULL && strcmp(b.p, want) == 0, "csv: RFC 4180 quoting and header");
	emg_sbuf_free(&b);
	emg_report_csv(&b, rows, 0);
	CHECK(c, b.p != NULL && strcmp(b.p, "Id,Type,Description,Status,Reason\r\n") == 0,
	      "csv: header even when empty");
	emg_sbuf_free(&b);
}

static void test_json(check_ctx *c)
{
	emg_sbuf b;

	emg_sbuf_init(&b);
	emg_json_str(&b, "a\"b\\c\n\x01\x7f caf\xc3\xa9 \xff\xfe \xed\xa0\x80 \xe2\x82");
	CHECK(c, b.p != NULL &&
			 strcmp(b.p, "\"a\\\"b\\\\c\\n\\u0001\\u007f caf\xc3\xa9 \\ufffd\\ufffd "
				     "\\ufffd\\ufffd\\ufffd \\ufffd\\ufffd\"") == 0,
	      "json: escapes, keeps UTF-8, replaces invalid bytes");
	emg_sbuf_free(&b);
	emg_report_json(&b, rows, 2);
	CHECK(c, b.p != NULL && strstr(b.p, "\"Reason\": null") != NULL &&
			 strstr(b.p, "\"Reason\": \"service MSExchangeUM:\\nnot found\"") != NULL &&
			 b.p[0] == '[' && strstr(b.p, "\n]\n") != NULL,
	      "json: rows with null and escaped reasons");
	emg_sbuf_free(&b);
	emg_report_json(&b, rows, 0);
	CHECK(c, b.p != NULL && strcmp(b.p, "[]\n") == 0, "json: empty array");
	emg_sbuf_free(&b);
}

static const char table_head[] =
	"Id   Type          Status  Description\n"
	"--   ----          ------  -----------\n"
	"M1.1 IISUrlRewrite Applied EEMS M1.1 PowerShell - inbound\n";

static void test_table(check_ctx *c)
{
	emg_status_row evil = {"M3.1", "Service", "line\x1b[2Jone\ntwo", "Applied", NULL};
	emg_sbuf b;

	emg_sbuf_init(&b);
	emg_report_table(&b, rows, 2);
	CHECK(c, b.p != NULL && strncmp(b.p, table_head, strlen(table_head)) == 0,
	      "table: aligned columns");
	CHECK(c, b.p != NULL && strstr(b.p, "(service MSExchangeUM:?not found)") != NULL,
	      "table: Failed shows its reason on one line");
	emg_sbuf_free(&b);
	emg_report_table(&b, &evil, 1);
	CHECK(c, b.p != NULL && strchr(b.p, '\x1b') == NULL && strstr(b.p, "line?[2Jone?two\n") != NULL,
	      "table: control bytes cannot reach the terminal");
	emg_sbuf_free(&b);
}

static void test_format_list(check_ctx *c)
{
	emg_idlist applied = {NULL, 0}, blocked = {NULL, 0};
	emg_server_view v[2];
	emg_sbuf b;
	emg_err err;

	emg_err_clear(&err);
	emg_idlist_parse(&applied, "M1.2,M1.1", "t", &err);
	emg_idlist_parse(&blocked, "M2", "t", &err);
	memset(v, 0, sizeof v);
	v[0].name = "EXCH01";
	v[0].enabled = 1;
	v[0].org_enabled = -1;
	v[0].applied = &applied;
	v[0].blocked = &blocked;
	emg_sbuf_init(&b);
	emg_report_server_list(&b, v, 1);
	CHECK(c, b.p != NULL && strcmp(b.p, "\n"
					    "Name               : EXCH01\n"
					    "MitigationsEnabled : True\n"
					    "MitigationsApplied : {M1.1, M1.2}\n"
					    "MitigationsBlocked : {M2}\n"
					    "\n") == 0,
	      "format-list: the Get-ExchangeServer shape");
	emg_sbuf_free(&b);
	v[1].name = "EXCH02";
	v[1].error = "EXCH02.status:3: bad";
	v[0].org_enabled = 0;
	v[0].build = "15.2.1118.7";
	emg_report_server_list(&b, v, 2);
	CHECK(c, b.p != NULL && strstr(b.p, "OrgMitigationsEnabled : False\n") != NULL &&
			 strstr(b.p, "Name                  : EXCH01\n") != NULL &&
			 strstr(b.p, "\nName  : EXCH02\nError : EXCH02.status:3: bad\n") != NULL,
	      "format-list: width per record, unreadable server shown");
	emg_sbuf_free(&b);
	emg_report_server_json(&b, v, 1);
	CHECK(c, b.p != NULL && strstr(b.p, "\"MitigationsApplied\": [\"M1.1\", \"M1.2\"]") != NULL &&
			 strstr(b.p, "\"MitigationsEnabled\": true") != NULL &&
			 strstr(b.p, "\"OrgMitigationsEnabled\": false") != NULL,
	      "format-list: json");
	emg_sbuf_free(&b);
	/* Every property filled: ten lines, the last the fleet's Stale. */
	v[0].last_checked = 1795629600;
	v[0].sequence = 7;
	v[0].result = "ok";
	v[0].show_stale = 1;
	v[0].stale = 1;
	emg_report_server_list(&b, v, 1);
	CHECK(c, b.p != NULL && strstr(b.p, "LastResult            : ok\nStale                 : True\n\n") != NULL,
	      "format-list: Stale after every other property");
	emg_sbuf_free(&b);
	emg_report_server_json(&b, v, 1);
	CHECK(c, b.p != NULL && strstr(b.p, "\"LastResult\": \"ok\", \"Stale\": true}") != NULL, "format-list: json Stale");
	emg_sbuf_free(&b);
	v[0].stale = 0;
	emg_report_server_json(&b, v, 1);
	CHECK(c, b.p != NULL && strstr(b.p, "\"Stale\": false}") != NULL, "format-list: json Stale false");
	emg_sbuf_free(&b);
	emg_idlist_free(&applied);
	emg_idlist_free(&blocked);
}

int main(void)
{
	check_ctx c = {0};

	test_ids(&c);
	test_csv(&c);
	test_json(&c);
	test_table(&c);
	test_format_list(&c);
	return c.failed ? 1 : 0;
}
