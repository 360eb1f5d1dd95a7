/* bundle_feed_parse.c - the feed parser on the samples and on hostile or
 * malformed XML; build-number comparison; CTL input checks. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bundle/ctl.h"
#include "bundle/feed.h"
#include "fileio.h"
#include "tests/unit/check.h"

#define HEAD "<?xml version=\"1.0\"?>\n<EOCS version=\"1.0.4\">\n"
#define M1_START "<rule name=\"EEMS M1.1 PowerShell - inbound\" "
#define PING_ACTIONS "<ActionList><Action type=\"DoNothing\"><Value>DoNothing</Value></Action></ActionList>"

/* Parses s; returns the code and leaves the message in err. */
static int parse_str(const char *s, emg_feed **f, emg_err *err)
{
	emg_err_clear(err);
	return emg_feed_parse((const uint8_t *)s, strlen(s), f, err);
}

/* Expects s to be refused with EMG_ECONFIG and a message containing want. */
static void refused(check_ctx *c, const char *name, const char *s, const char *want)
{
	emg_feed *f = NULL;
	emg_err err;
	int rc = parse_str(s, &f, &err);
	char n[200];

	snprintf(n, sizeof n, "%s: refused with exit 3", name);
	CHECK(c, rc == EMG_ECONFIG && f == NULL, n);
	snprintf(n, sizeof n, "%s: message names the problem", name);
	CHECK(c, strstr(err.msg, want) != NULL, n);
	if (strstr(err.msg, want) == NULL)
		printf("  message was: %s\n", err.msg);
	emg_feed_free(f);
}

/* s may be refused for other reasons, but not for want. */
static void not_refused_for(check_ctx *c, const char *name, const char *s, const char *want)
{
	emg_feed *f = NULL;
	emg_err err;
	char n[200];

	emg_err_clear(&err);
	(void)parse_str(s, &f, &err);
	snprintf(n, sizeof n, "%s: not refused for '%s'", name, want);
	CHECK(c, strstr(err.msg, want) == NULL, n);
	if (strstr(err.msg, want) != NULL)
		printf("  message was: %s\n", err.msg);
	emg_feed_free(f);
}

static char *repeat(const char *head, const char *unit, size_t n, const char *tail)
{
	size_t hl = strlen(head), ul = strlen(unit), tl = strlen(tail), i;
	char *s = malloc(hl + ul * n + tl + 1);
	char *p = s;

	if (s == NULL)
		return NULL;
	memcpy(p, head, hl);
	p += hl;
	for (i = 0; i < n; i++, p += ul)
		memcpy(p, unit, ul);
	memcpy(p, tail, tl + 1);
	return s;
}

/* <EOCS> holding n nested <a> elements, well-formed. */
static char *nested(size_t n)
{
	char *s = malloc(16 + 7 * n);
	char *p = s;
	size_t i;

	if (s == NULL)
		return NULL;
	p += sprintf(p, "<EOCS>");
	for (i = 0; i < n; i++)
		p += sprintf(p, "<a>");
	for (i = 0; i < n; i++)
		p += sprintf(p, "</a>");
	sprintf(p, "</EOCS>");
	return s;
}

static const emg_mitigation *find(const emg_feed *f, const char *id)
{
	size_t i;

	for (i = 0; i < f->count; i++)
		if (strcmp(f->items[i].id, id) == 0)
			return &f->items[i];
	return NULL;
}

static void test_samples(check_ctx *c)
{
	const char *src = getenv("EMGAP_SRC");
	char path[4096];
	uint8_t *buf = NULL;
	size_t len = 0;
	emg_feed *f = NULL;
	const emg_mitigation *m;
	emg_err err;

	snprintf(path, sizeof path, "%s/samples/feeds/mitigations.xml", src != NULL ? src : ".");
	CHECK(c, emg_read_file(path, EMG_FEED_MAX_BYTES, EMG_ECONFIG, &buf, &len, &err) == EMG_OK,
	      "sample mitigations.xml is readable");
	if (buf == NULL)
		return;
	CHECK(c, emg_feed_parse(buf, len, &f, &err) == EMG_OK, "sample mitigations.xml parses");
	free(buf);
	if (f == NULL)
		return;
	CHECK(c, f->count == 5 && f->warning_count == 0, "sample: five mitigations, no warnings");
	CHECK(c, f->version != NULL && strcmp(f->version, "1.0.4") == 0, "sample: EOCS version");
	m = find(f, "PING1");
	CHECK(c, m != NULL && m->action_count == 1 && m->applies_count == 0 &&
			 m->actions[0].type == EMG_ACTION_DO_NOTHING &&
			 strcmp(m->actions[0].subid, "PING1.1") == 0 &&
			 strcmp(m->actions[0].value, "DoNothing") == 0,
	      "sample: PING1 is one DoNothing action PING1.1 for every build");
	m = find(f, "M1");
	CHECK(c, m != NULL && m->action_count == 1 && m->actions[0].type == EMG_ACTION_URL_REWRITE &&
			 m->actions[0].scope == EMG_SCOPE_SITE &&
			 strcmp(m->actions[0].site, "Default Web Site") == 0,
	      "sample: M1 is a Site-scope URL rewrite on Default Web Site");
	CHECK(c, m != NULL && strncmp(m->actions[0].value, M1_START, strlen(M1_START)) == 0 &&
			 strstr(m->actions[0].value, "input=\"{UrlDecode:{REQUEST_URI}}\"") != NULL &&
			 strstr(m->actions[0].value, "pattern=\"(?=.*autodiscover)(?=.*powershell)\"") != NULL &&
			 strstr(m->actions[0].value, "<action type=\"AbortRequest\"/>") != NULL &&
			 strstr(m->actions[0].value, "</rule>") != NULL,
	      "sample: M1.1 value is the serialised rule element");
	CHECK(c, m != NULL && m->applies_count == 2 && strcmp(m->applies[1].product, "Exchange2019") == 0 &&
			 strcmp(m->applies[1].max, "15.2.1118.15") == 0 && m->rollback != NULL,
	      "sample: M1 applicability and rollback");
	m = find(f, "BEC2021");
	CHECK(c, m != NULL && m->action_count == 2 && strcmp(m->actions[1].subid, "BEC2021.2") == 0 &&
			 m->actions[1].scope == EMG_SCOPE_SERVER &&
			 strstr(m->actions[1].value, "X-BEResource Abort - inbound") != NULL &&
			 strstr(m->actions[0].value, "{HTTP_COOKIE}") != NULL,
	      "sample: backend-cookie rules are two Server-scope actions in order");
	m = find(f, "UM1");
	CHECK(c, m != NULL && m->action_count == 2 && m->actions[1].type == EMG_ACTION_SERVICE &&
			 strcmp(m->actions[0].value, "MSExchangeUM") == 0 &&
			 strcmp(m->actions[1].value, "MSExchangeUMCR") == 0,
	      "sample: UM1 stops MSExchangeUM and MSExchangeUMCR");
	m = find(f, "AP1");
	CHECK(c, m != NULL && m->action_count == 2 && m->actions[0].type == EMG_ACTION_APP_POOL &&
			 strcmp(m->actions[1].value, "MSExchangeOABAppPool") == 0,
	      "sample: AP1 stops the ECP and OAB app pools");
	emg_feed_free(f);
}

static void test_lenient(check_ctx *c)
{
	emg_feed *f = NULL;
	emg_err err;
	int rc;

	rc = parse_str(HEAD "<Config id=\"X1\" color=\"red\"><Extra>hi</Extra>"
			    "<ActionList><Action type=\"Reboot\" scope=\"Server\"><Value>now</Value></Action>"
			    "<Action type=\"Service\" flavour=\"x\"><Value> MSExchangeUM </Value></Action></ActionList>"
			    "</Config><Future/></EOCS>",
		       &f, &err);
	CHECK(c, rc == EMG_OK && f != NULL, "unknown elements, attributes and types still parse");
	if (f == NULL)
		return;
	CHECK(c, f->items[0].actions[0].type == EMG_ACTION_UNSUPPORTED &&
			 strcmp(f->items[0].actions[0].type_name, "Reboot") == 0,
	      "unknown action type kept as Unsupported with its name");
	CHECK(c, strcmp(f->items[0].actions[1].subid, "X1.2") == 0 &&
			 strcmp(f->items[0].actions[1].value, "MSExchangeUM") == 0,
	      "sub-ids count every action; values are trimmed");
	CHECK(c, f->warning_count == 5, "one warning each: color, Extra, Reboot, flavour, Future");
	CHECK(c, f->warning_count > 0 && strstr(f->warnings[0], "color") != NULL &&
			 strstr(f->warnings[0], "line 3") != NULL,
	      "warnings name the line and the attribute");
	emg_feed_free(f);

	rc = parse_str(HEAD "<Config id=\"E\" desc=\"a &amp; b &#x41;\">" PING_ACTIONS "</Config></EOCS>", &f, &err);
	CHECK(c, rc == EMG_OK && f != NULL && strcmp(f->items[0].desc, "a & b A") == 0,
	      "predefined entities and character references are fine");
	emg_feed_free(f);

	rc = parse_str(HEAD "<Config id=\"V\"><ActionList><Action type=\"IISUrlRewrite\" scope=\"VDir\" "
			    "site=\"Default Web Site\" path=\"/owa\"><Value><rule name=\"a\"/><outboundRule name=\"b\"/>"
			    "</Value></Action></ActionList></Config></EOCS>",
		       &f, &err);
	CHECK(c, rc == EMG_OK && f != NULL && f->items[0].actions[0].scope == EMG_SCOPE_VDIR &&
			 strcmp(f->items[0].actions[0].path, "/owa") == 0 &&
			 strcmp(f->items[0].actions[0].value, "<rule name=\"a\"/><outboundRule name=\"b\"/>") == 0,
	      "VDir rewrite: rule and outboundRule serialised in order");
	emg_feed_free(f);
}

static void test_refused(check_ctx *c)
{
	char *s;

	refused(c, "XXE", "<?xml version=\"1.0\"?>\n<!DOCTYPE EOCS [<!ENTITY x SYSTEM \"file:///etc/passwd\">]>\n"
			  "<EOCS><Config id=\"&x;\">" PING_ACTIONS "</Config></EOCS>", "DOCTYPE");
	refused(c, "billion laughs",
		"<?xml version=\"1.0\"?>\n<!DOCTYPE lolz [<!ENTITY lol \"lol\">"
		"<!ENTITY lol2 \"&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;\">"
		"<!ENTITY lol3 \"&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;\">"
		"<!ENTITY lol4 \"&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;\">]>\n"
		"<EOCS><Config id=\"B\" desc=\"&lol4;\">" PING_ACTIONS "</Config></EOCS>", "DOCTYPE");
	refused(c, "external DTD", "<?xml version=\"1.0\"?>\n<!DOCTYPE EOCS SYSTEM \"http://127.0.0.1:1/x.dtd\">\n<EOCS/>",
		"DOCTYPE");
	refused(c, "undeclared entity", HEAD "<Config id=\"U\" desc=\"&nope;\">" PING_ACTIONS "</Config></EOCS>",
		"not well-formed");
	refused(c, "truncated XML", HEAD "<Config id=\"T\">", "not well-formed");
	refused(c, "empty input", "", "empty");
	refused(c, "wrong root", "<?xml version=\"1.0\"?><Feed/>", "not <EOCS>");
	refused(c, "duplicate mitigation id",
		HEAD "<Config id=\"D\">" PING_ACTIONS "</Config><Config id=\"D\">" PING_ACTIONS "</Config></EOCS>",
		"appears twice");
	refused(c, "bad mitigation id", HEAD "<Config id=\"a b\">" PING_ACTIONS "</Config></EOCS>", "id 'a b'");
	refused(c, "missing type", HEAD "<Config id=\"N\"><ActionList><Action/></ActionList></Config></EOCS>",
		"N.1 has no type");
	refused(c, "no actions", HEAD "<Config id=\"N\"/></EOCS>", "has no actions");
	refused(c, "unknown scope",
		HEAD "<Config id=\"S\"><ActionList><Action type=\"DoNothing\" scope=\"Planet\"/></ActionList></Config></EOCS>",
		"unknown scope 'Planet'");
	refused(c, "Site scope without site",
		HEAD "<Config id=\"S\"><ActionList><Action type=\"IISUrlRewrite\" scope=\"Site\"><Value><rule name=\"r\"/>"
		     "</Value></Action></ActionList></Config></EOCS>",
		"Site scope needs a site");
	refused(c, "rewrite without rules",
		HEAD "<Config id=\"R\"><ActionList><Action type=\"IISUrlRewrite\"><Value>text</Value></Action>"
		     "</ActionList></Config></EOCS>",
		"holds no <rule>");
	refused(c, "service with a bad name",
		HEAD "<Config id=\"S\"><ActionList><Action type=\"Service\"><Value>a\\b</Value></Action>"
		     "</ActionList></Config></EOCS>",
		"bad service name");
	refused(c, "service without value",
		HEAD "<Config id=\"S\"><ActionList><Action type=\"Service\"/></ActionList></Config></EOCS>",
		"has no <Value>");
	refused(c, "bad build number",
		HEAD "<Config id=\"A\"><Applies product=\"Exchange2019\" min=\"15.2.x\" max=\"15.2.1\"/>" PING_ACTIONS
		     "</Config></EOCS>",
		"bad build number");
	refused(c, "min above max",
		HEAD "<Config id=\"A\"><Applies product=\"Exchange2019\" min=\"15.2.986.5\" max=\"15.2.986.4\"/>" PING_ACTIONS
		     "</Config></EOCS>",
		"is above max");
	refused(c, "unknown product",
		HEAD "<Config id=\"A\"><Applies product=\"Exchange2013\" min=\"15.0.0.0\" max=\"15.0.1.0\"/>" PING_ACTIONS
		     "</Config></EOCS>",
		"unknown product");

	s = nested(EMG_FEED_MAX_DEPTH);
	refused(c, "too deep", s, "deeper");
	free(s);
	s = repeat("<EOCS>", "<a/>", EMG_FEED_MAX_NODES, "</EOCS>");
	refused(c, "too many nodes", s, "nodes");
	free(s);
	/* Text nodes and comments count as nodes too... */
	s = repeat("<EOCS>", "x<a/>", EMG_FEED_MAX_NODES / 2, "</EOCS>");
	refused(c, "too many nodes, half of them text", s, "nodes");
	free(s);
	s = repeat("<EOCS>", "<!--c-->", EMG_FEED_MAX_NODES, "</EOCS>");
	refused(c, "too many comment nodes", s, "nodes");
	free(s);
	s = repeat("<EOCS>", "<?pi x?>", EMG_FEED_MAX_NODES, "</EOCS>");
	refused(c, "too many processing instructions", s, "nodes");
	free(s);
	/* ...but only once each, and the limits themselves are allowed. */
	s = repeat("<EOCS>", "<a/>", EMG_FEED_MAX_NODES - 1, "</EOCS>");
	not_refused_for(c, "exactly the node limit", s, "nodes");
	free(s);
	s = nested(EMG_FEED_MAX_DEPTH - 1);
	not_refused_for(c, "exactly the depth limit", s, "deeper");
	free(s);
	s = repeat("<EOCS>", "a&amp;&#98;<![CDATA[c]]>", EMG_FEED_MAX_NODES, "</EOCS>");
	not_refused_for(c, "one text node the parser delivers in many pieces", s, "nodes");
	free(s);
	s = repeat(HEAD "<Config id=\"C\"><ActionList>", "<Action type=\"DoNothing\"/>", EMG_FEED_MAX_ACTIONS + 1,
		   "</ActionList></Config></EOCS>");
	refused(c, "too many actions", s, "more than 64 actions");
	free(s);
	s = repeat("<!--", "x", EMG_FEED_MAX_BYTES, "-->");
	refused(c, "oversize input", s, "over the limit");
	free(s);
}

static void test_build_cmp(check_ctx *c)
{
	int r = 99;

	CHECK(c, emg_build_cmp("15.2.1118.7", "15.2.1118.15", &r) == 0 && r < 0, "build 1118.7 < 1118.15");
	CHECK(c, emg_build_cmp("15.2.986.5", "15.2.986.5", &r) == 0 && r == 0, "equal builds");
	CHECK(c, emg_build_cmp("15.2.2562.17", "15.2.1748.10", &r) == 0 && r > 0, "SE RTM above CU15");
	CHECK(c, emg_build_cmp("15.2", "15.2.0.0", &r) == 0 && r == 0, "missing parts count as 0");
	CHECK(c, emg_build_cmp("15.2..1", "15.2.0.1", &r) == -2, "empty part is a syntax error");
	CHECK(c, emg_build_cmp("15.2.0.0.1", "15.2", &r) == -2, "five parts is a syntax error");
	CHECK(c, emg_build_cmp("15.2.1 ", "15.2", &r) == -2, "trailing space is a syntax error");
	CHECK(c, emg_build_cmp("1234567890.0", "1", &r) == -2, "ten-digit part is a syntax error");
}

static void test_ctl_input(check_ctx *c)
{
	static const uint8_t junk[] = "not a CTL at all";
	static const uint8_t cab[] = "MSCF\0\0\0\0 truncated cabinet";
	emg_ctl *ctl = NULL;
	emg_err err;

	emg_err_clear(&err);
	CHECK(c, emg_ctl_parse(junk, sizeof junk - 1, "junk.stl", &ctl, &err) == EMG_ECONFIG && ctl == NULL &&
			 strstr(err.msg, "junk.stl") != NULL,
	      "CTL: junk is refused, naming the file");
	CHECK(c, emg_ctl_parse(cab, sizeof cab - 1, "bad.cab", &ctl, &err) == EMG_ECONFIG && ctl == NULL &&
			 strstr(err.msg, "bad.cab") != NULL,
	      "CTL: a broken cabinet is refused, naming the file");
}

int main(void)
{
	check_ctx c = {0};

	test_samples(&c);
	test_lenient(&c);
	test_refused(&c);
	test_build_cmp(&c);
	test_ctl_input(&c);
	return c.failed ? 1 : 0;
}
