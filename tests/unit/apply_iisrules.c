/* apply_iisrules.c - URL Rewrite rules spliced into the sample server's
 * real config files and into hand-made edge cases: insert, idempotence,
 * replace, exact revert, containers, line endings, BOM, malformed input. */
#include "check.h"

#include "apply/iisconf.h"
#include "err.h"
#include "fileio.h"

#include <stdint.h>
#include <time.h>

#include <libxml/parser.h>
#include <libxml/xpath.h>

#define V15 "Program Files/Microsoft/Exchange Server/V15/"

static const char m1[] =
	"<rule name=\"EEMS M1.1 PowerShell - inbound\" patternSyntax=\"ECMAScript\" stopProcessing=\"true\">\n"
	"  <match url=\".*\"/>\n"
	"  <conditions logicalGrouping=\"MatchAll\" trackAllCaptures=\"false\">\n"
	"    <add input=\"{UrlDecode:{REQUEST_URI}}\" pattern=\"(?=.*autodiscover)(?=.*powershell)\"/>\n"
	"  </conditions>\n"
	"  <action type=\"AbortRequest\"/>\n"
	"</rule>\n";

static const char m1_changed[] =
	"<rule name=\"eems m1.1 powershell - INBOUND\" patternSyntax=\"ECMAScript\" stopProcessing=\"true\">"
	"<match url=\".*\"/><conditions logicalGrouping=\"MatchAll\" trackAllCaptures=\"false\">"
	"<add input=\"{UrlDecode:{REQUEST_URI}}\" pattern=\"(?=.*autodiscover)(?=.*powershell)(?=.*x)\"/>"
	"</conditions><action type=\"AbortRequest\"/></rule>";

/* Same rule as m1, other formatting, other attribute order and quotes. */
static const char m1_reformatted[] =
	"  <!-- same rule -->\n<rule stopProcessing='true' patternSyntax='ECMAScript' "
	"name='EEMS M1.1 PowerShell - inbound'><match   url='.*' /><conditions trackAllCaptures='false' "
	"logicalGrouping='MatchAll'><add pattern='(?=.*autodiscover)(?=.*powershell)' "
	"input='{UrlDecode:{REQUEST_URI}}'></add></conditions><action type='AbortRequest'></action></rule>";

static const char cookies[] =
	"<rule name=\"X-AnonResource-Backend Abort - inbound\" stopProcessing=\"true\">\n"
	"  <match url=\".*\"/>\n"
	"  <conditions><add input=\"{HTTP_COOKIE}\" pattern=\"(.*)X-AnonResource-Backend(.*)\"/></conditions>\n"
	"  <action type=\"AbortRequest\"/>\n"
	"</rule>\n"
	"<rule name=\"X-BEResource Abort - inbound\" stopProcessing=\"true\">\n"
	"  <match url=\".*\"/>\n"
	"  <conditions><add input=\"{HTTP_COOKIE}\" pattern=\"(.*)X-BEResource=(.+)/(.+)~(.+)\"/></conditions>\n"
	"  <action type=\"AbortRequest\"/>\n"
	"</rule>\n";

static const char outbound[] =
	"<outboundRule name=\"EEMS strip X-FEServer - outbound\">\n"
	"  <match serverVariable=\"RESPONSE_X_FEServer\" pattern=\".+\"/>\n"
	"  <action type=\"Rewrite\" value=\"\"/>\n"
	"</outboundRule>\n";

static const char mixed[] =
	"<rule name=\"EEMS mixed - inbound\" stopProcessing=\"true\"><match url=\"a&amp;b&lt;c&gt;&quot;d'\"/>"
	"<action type=\"AbortRequest\"/></rule>"
	"<outboundRule name=\"EEMS mixed - outbound\"><match serverVariable=\"RESPONSE_Server\" "
	"pattern=\".+\"/><action type=\"Rewrite\" value=\"\"/></outboundRule>";

static const char *src_dir(void)
{
	const char *s = getenv("EMGAP_SRC");
	return s != NULL && s[0] != '\0' ? s : ".";
}

static int load(const char *rel, uint8_t **buf, size_t *len)
{
	char path[1024];
	emg_err err;

	snprintf(path, sizeof path, "%s/samples/exchange2019/%s", src_dir(), rel);
	return emg_read_file(path, EMG_IIS_MAX_BYTES, EMG_ECONFIG, buf, len, &err);
}

/* b is a with one run of bytes added somewhere, nothing else changed. */
static int pure_insertion(const uint8_t *a, size_t al, const uint8_t *b, size_t bl)
{
	size_t p = 0, s = 0;

	if (bl <= al)
		return 0;
	while (p < al && a[p] == b[p])
		p++;
	while (s < al - p && a[al - 1 - s] == b[bl - 1 - s])
		s++;
	return p + s == al;
}

static int same_bytes(const uint8_t *a, size_t al, const uint8_t *b, size_t bl)
{
	return a != NULL && b != NULL && al == bl && memcmp(a, b, al) == 0;
}

static size_t count(const uint8_t *b, size_t len, const char *needle)
{
	size_t n = 0, nl = strlen(needle);
	const uint8_t *p = b, *end = b + len;

	while ((p = memmem(p, (size_t)(end - p), needle, nl)) != NULL) {
		n++;
		p += nl;
	}
	return n;
}

/* Every line break is CRLF. */
static int all_crlf(const uint8_t *b, size_t len)
{
	return count(b, len, "\n") == count(b, len, "\r\n");
}

/* How many nodes the XPath (local names, so default namespaces do not
 * matter) finds in the bytes, parsed independently of the code under test. */
static int xpath_count(const uint8_t *b, size_t len, const char *expr)
{
	xmlDocPtr doc = xmlReadMemory((const char *)b, (int)len, "t", NULL, XML_PARSE_NONET | XML_PARSE_NOERROR);
	xmlXPathContextPtr ctx;
	xmlXPathObjectPtr res;
	int n = -1;

	if (doc == NULL)
		return -1;
	ctx = xmlXPathNewContext(doc);
	res = ctx != NULL ? xmlXPathEvalExpression((const xmlChar *)expr, ctx) : NULL;
	if (res != NULL && res->nodesetval != NULL)
		n = res->nodesetval->nodeNr;
	else if (res != NULL)
		n = 0;
	xmlXPathFreeObject(res);
	xmlXPathFreeContext(ctx);
	xmlFreeDoc(doc);
	return n;
}

#define LN(x) "*[local-name()='" x "']"
#define RULES_XP "/" LN("configuration") "/" LN("system.webServer") "/" LN("rewrite") "/" LN("rules") \
	"/" LN("rule") "[@name='EEMS M1.1 PowerShell - inbound']"
#define GLOBAL_XP "/configuration/system.webServer/rewrite/globalRules/rule"

/* The whole cycle on one file: absent, insert, same, idempotent, revert. */
static void cycle(check_ctx *c, const char *rel, enum emg_iis_file_kind kind, const char *frag,
		  const char *xp, int want_pure)
{
	uint8_t *orig = NULL, *out = NULL, *out2 = NULL, *back = NULL;
	size_t olen = 0, len = 0, len2 = 0, blen = 0;
	char *undo = NULL, *undo2 = NULL, name[300];
	enum emg_iis_rule_state st = EMG_IIS_RULE_SAME;
	emg_err err;
	int bom;

	emg_err_clear(&err);
	if (load(rel, &orig, &olen) != EMG_OK) {
		CHECK(c, 0, rel);
		return;
	}
	bom = olen >= 3 && memcmp(orig, "\xEF\xBB\xBF", 3) == 0;
	snprintf(name, sizeof name, "%s: state absent", rel);
	CHECK(c, emg_iis_rules_state(orig, olen, rel, kind, frag, strlen(frag), &st, &err) == EMG_OK &&
		 st == EMG_IIS_RULE_ABSENT, name);
	snprintf(name, sizeof name, "%s: upsert", rel);
	CHECK(c, emg_iis_rules_upsert(orig, olen, rel, kind, frag, strlen(frag), &out, &len, &undo, &err) ==
		 EMG_OK && out != NULL && undo != NULL, name);
	if (out == NULL) {
		printf("  error: %s\n", err.msg);
		free(orig);
		return;
	}
	snprintf(name, sizeof name, "%s: rule where expected (XPath)", rel);
	CHECK(c, xpath_count(out, len, xp) >= 1, name);
	snprintf(name, sizeof name, "%s: state same after upsert", rel);
	CHECK(c, emg_iis_rules_state(out, len, rel, kind, frag, strlen(frag), &st, &err) == EMG_OK &&
		 st == EMG_IIS_RULE_SAME, name);
	snprintf(name, sizeof name, "%s: BOM and line endings kept", rel);
	CHECK(c, (bom == (memcmp(out, "\xEF\xBB\xBF", 3) == 0)) && all_crlf(orig, olen) == all_crlf(out, len) &&
		 (count(orig, olen, "\r") > 0 || count(out, len, "\r") == 0), name);
	if (want_pure) {
		snprintf(name, sizeof name, "%s: only an insertion, rest byte-identical", rel);
		CHECK(c, pure_insertion(orig, olen, out, len), name);
	}
	snprintf(name, sizeof name, "%s: second upsert changes nothing", rel);
	CHECK(c, emg_iis_rules_upsert(out, len, rel, kind, frag, strlen(frag), &out2, &len2, &undo2, &err) ==
		 EMG_OK && out2 == NULL && undo2 == NULL, name);
	snprintf(name, sizeof name, "%s: revert gives back the original bytes", rel);
	CHECK(c, emg_iis_rules_remove(out, len, rel, kind, undo, NULL, 0, &back, &blen, &err) == EMG_OK &&
		 same_bytes(orig, olen, back, blen), name);
	free(back);
	back = NULL;
	snprintf(name, sizeof name, "%s: remove by fragment takes the rules away", rel);
	CHECK(c, emg_iis_rules_remove(out, len, rel, kind, NULL, frag, strlen(frag), &back, &blen, &err) ==
		 EMG_OK && back != NULL && xpath_count(back, blen, xp) == 0 &&
		 emg_iis_rules_state(back, blen, rel, kind, frag, strlen(frag), &st, &err) == EMG_OK &&
		 st == EMG_IIS_RULE_ABSENT, name);
	free(back);
	free(out);
	free(undo);
	free(orig);
}

static void test_samples(check_ctx *c)
{
	static const char *const webconfigs[] = {
		"inetpub/wwwroot/web.config",
		V15 "FrontEnd/HttpProxy/owa/web.config",
		V15 "FrontEnd/HttpProxy/owa/Calendar/web.config",
		V15 "FrontEnd/HttpProxy/ecp/web.config",
		V15 "FrontEnd/HttpProxy/EWS/web.config",
		V15 "FrontEnd/HttpProxy/autodiscover/web.config",
		V15 "FrontEnd/HttpProxy/PowerShell/web.config",
		V15 "FrontEnd/HttpProxy/mapi/web.config",
		V15 "FrontEnd/HttpProxy/rpc/web.config",
		V15 "ClientAccess/Owa/web.config",
		V15 "ClientAccess/ecp/web.config",
		V15 "ClientAccess/PowerShell-Proxy/web.config",
	};
	/* Files whose insertion only adds bytes; the others expand an empty
	 * element and so rewrite it whole. */
	static const int pure[] = { 1, 1, 1, 1, 0, 0, 1, 0, 1, 1, 1, 1 };
	size_t i;

	for (i = 0; i < sizeof webconfigs / sizeof webconfigs[0]; i++)
		cycle(c, webconfigs[i], EMG_IIS_WEBCONFIG, m1, RULES_XP, pure[i]);
	cycle(c, "Windows/System32/inetsrv/config/applicationHost.config", EMG_IIS_APPHOST, cookies,
	      GLOBAL_XP "[@name='X-BEResource Abort - inbound']", 1);
	cycle(c, V15 "FrontEnd/HttpProxy/ecp/web.config", EMG_IIS_WEBCONFIG, outbound,
	      "/configuration/system.webServer/rewrite/outboundRules/rule[@name='EEMS strip X-FEServer - outbound']", 1);
	cycle(c, V15 "FrontEnd/HttpProxy/owa/web.config", EMG_IIS_WEBCONFIG, mixed,
	      "/configuration/system.webServer/rewrite/outboundRules/rule[@name='EEMS mixed - outbound']", 1);
}

/* Looks at what the sample edits look like, not only that they work. */
static void test_shapes(check_ctx *c)
{
	uint8_t *orig = NULL, *out = NULL;
	size_t olen = 0, len = 0;
	char *undo = NULL;
	const char *p, *clear, *old, *neu;
	emg_err err;

	/* ecp: new rule after <clear />, before the admin's rule and comment,
	 * at the neighbours' indentation. */
	if (load(V15 "FrontEnd/HttpProxy/ecp/web.config", &orig, &olen) == EMG_OK &&
	    emg_iis_rules_upsert(orig, olen, "ecp", EMG_IIS_WEBCONFIG, m1, strlen(m1), &out, &len, &undo,
				 &err) == EMG_OK && out != NULL) {
		clear = strstr((char *)out, "<clear />");
		neu = strstr((char *)out, "EEMS M1.1");
		old = strstr((char *)out, "Block external ECP");
		CHECK(c, clear != NULL && neu != NULL && old != NULL && clear < neu && neu < old,
		      "ecp: new rule goes after <clear/> and before existing rules");
		CHECK(c, strstr((char *)out, "<clear />\r\n                <rule name=\"EEMS M1.1 PowerShell - inbound\" "
				"patternSyntax=\"ECMAScript\" stopProcessing=\"true\">\r\n"
				"                    <match url=\".*\" />\r\n"
				"                    <conditions logicalGrouping=\"MatchAll\" trackAllCaptures=\"false\">\r\n"
				"                        <add input=\"{UrlDecode:{REQUEST_URI}}\" "
				"pattern=\"(?=.*autodiscover)(?=.*powershell)\" />\r\n"
				"                    </conditions>\r\n"
				"                    <action type=\"AbortRequest\" />\r\n"
				"                </rule>\r\n                <!--") != NULL,
		      "ecp: rendered as IIS writes it, indented like its neighbours, CRLF");
		CHECK(c, strncmp(undo, "v1;g=rules,none;i=", 18) == 0 && strchr(undo, ' ') == NULL &&
			 strchr(undo, '\n') == NULL, "ecp: undo record is one printable line");
	} else {
		CHECK(c, 0, "ecp: upsert");
	}
	free(orig);
	free(out);
	free(undo);
	orig = out = NULL;
	undo = NULL;

	/* autodiscover: <rules /> becomes <rules>...</rules>. */
	if (load(V15 "FrontEnd/HttpProxy/autodiscover/web.config", &orig, &olen) == EMG_OK &&
	    emg_iis_rules_upsert(orig, olen, "ad", EMG_IIS_WEBCONFIG, m1, strlen(m1), &out, &len, &undo,
				 &err) == EMG_OK && out != NULL) {
		p = strstr((char *)out, "    <rewrite>\r\n      <rules>\r\n        <rule name=\"EEMS M1.1");
		CHECK(c, p != NULL && strstr(p, "        </rule>\r\n      </rules>\r\n    </rewrite>") != NULL &&
			 strstr((char *)out, "<rules />") == NULL, "autodiscover: <rules /> expanded in place");
		CHECK(c, strstr(undo, "collapsed:3:") != NULL, "autodiscover: undo remembers the empty element");
	} else {
		CHECK(c, 0, "autodiscover: upsert");
	}
	free(orig);
	free(out);
	free(undo);
	orig = out = NULL;
	undo = NULL;

	/* PowerShell: no <system.webServer>; created at the end, two spaces. */
	if (load(V15 "FrontEnd/HttpProxy/PowerShell/web.config", &orig, &olen) == EMG_OK &&
	    emg_iis_rules_upsert(orig, olen, "ps", EMG_IIS_WEBCONFIG, m1, strlen(m1), &out, &len, &undo,
				 &err) == EMG_OK && out != NULL) {
		CHECK(c, strstr((char *)out, "  </runtime>\r\n  <system.webServer>\r\n    <rewrite>\r\n      <rules>\r\n"
				"        <rule name=\"EEMS M1.1") != NULL &&
			 strstr((char *)out, "      </rules>\r\n    </rewrite>\r\n  </system.webServer>\r\n</configuration>") != NULL,
		      "PowerShell: <system.webServer><rewrite><rules> created with the file's indentation");
		CHECK(c, strstr(undo, "created:1") != NULL, "PowerShell: undo remembers the created section");
	} else {
		CHECK(c, 0, "PowerShell: upsert");
	}
	free(orig);
	free(out);
	free(undo);
	orig = out = NULL;
	undo = NULL;

	/* EWS: tabs, <rules></rules>. */
	if (load(V15 "FrontEnd/HttpProxy/EWS/web.config", &orig, &olen) == EMG_OK &&
	    emg_iis_rules_upsert(orig, olen, "ews", EMG_IIS_WEBCONFIG, m1, strlen(m1), &out, &len, &undo,
				 &err) == EMG_OK && out != NULL) {
		CHECK(c, strstr((char *)out, "\t\t\t<rules>\r\n\t\t\t\t<rule name=\"EEMS M1.1") != NULL &&
			 strstr((char *)out, "\t\t\t\t\t<match url=\".*\" />\r\n") != NULL &&
			 strstr((char *)out, "\t\t\t\t</rule>\r\n\t\t\t</rules>\r\n\t\t</rewrite>") != NULL,
		      "EWS: tab indentation followed");
		CHECK(c, strstr((char *)out, "<requestLimits   maxAllowedContentLength = '157286400'") != NULL &&
			 strstr((char *)out, "<?xml version='1.0' encoding='utf-8'?>") != NULL,
		      "EWS: single quotes and odd spacing elsewhere untouched");
	} else {
		CHECK(c, 0, "EWS: upsert");
	}
	free(orig);
	free(out);
	free(undo);
	orig = out = NULL;
	undo = NULL;

	/* applicationHost.config: global rules in the top-level section only. */
	if (load("Windows/System32/inetsrv/config/applicationHost.config", &orig, &olen) == EMG_OK &&
	    emg_iis_rules_upsert(orig, olen, "ah", EMG_IIS_APPHOST, m1, strlen(m1), &out, &len, &undo,
				 &err) == EMG_OK && out != NULL) {
		CHECK(c, xpath_count(out, len, "/configuration/system.webServer/rewrite/globalRules/rule") == 1 &&
			 xpath_count(out, len, "//location//rewrite/rules/rule") == 1 &&
			 xpath_count(out, len, "//location//globalRules") == 0,
		      "applicationHost: globalRules in the top-level system.webServer, <location> untouched");
		CHECK(c, strstr((char *)out, "        <applicationInitialization />\r\n"
				"        <rewrite>\r\n            <globalRules>\r\n"
				"                <rule name=\"EEMS M1.1") != NULL,
		      "applicationHost: appended after the last section, four-space steps");
	} else {
		CHECK(c, 0, "applicationHost: upsert");
	}
	free(orig);
	free(out);
	free(undo);
}

/* Drift: a changed rule is replaced by name; reverting the replacement
 * gives back the changed rule; the merged record gives back the original. */
static void test_replace(check_ctx *c)
{
	uint8_t *orig = NULL, *a = NULL, *b = NULL, *r = NULL, *x = NULL;
	size_t olen = 0, al = 0, bl = 0, rl = 0, xl = 0;
	char *ua = NULL, *ub = NULL, *um = NULL;
	enum emg_iis_rule_state st = EMG_IIS_RULE_ABSENT;
	emg_err err;
	const char *rel = V15 "FrontEnd/HttpProxy/owa/web.config";

	if (load(rel, &orig, &olen) != EMG_OK ||
	    emg_iis_rules_upsert(orig, olen, rel, EMG_IIS_WEBCONFIG, m1_changed, strlen(m1_changed), &a, &al,
				 &ua, &err) != EMG_OK || a == NULL) {
		CHECK(c, 0, "replace: setup");
		free(orig);
		return;
	}
	CHECK(c, emg_iis_rules_state(a, al, rel, EMG_IIS_WEBCONFIG, m1, strlen(m1), &st, &err) == EMG_OK &&
		 st == EMG_IIS_RULE_DIFFERENT, "replace: a rule with the same name (other case) differs");
	CHECK(c, emg_iis_rules_upsert(a, al, rel, EMG_IIS_WEBCONFIG, m1, strlen(m1), &b, &bl, &ub, &err) ==
		 EMG_OK && b != NULL && count(b, bl, "<rule ") == 1 &&
		 emg_iis_rules_state(b, bl, rel, EMG_IIS_WEBCONFIG, m1, strlen(m1), &st, &err) == EMG_OK &&
		 st == EMG_IIS_RULE_SAME, "replace: replaced by name, one rule left, now the same");
	CHECK(c, b != NULL && emg_iis_rules_state(b, bl, rel, EMG_IIS_WEBCONFIG, m1_reformatted,
						    strlen(m1_reformatted), &st, &err) == EMG_OK &&
		 st == EMG_IIS_RULE_SAME, "replace: comparison ignores formatting, quotes, attribute order");
	CHECK(c, ub != NULL && strstr(ub, ";r=") != NULL, "replace: undo keeps the old rule");
	CHECK(c, emg_iis_rules_remove(b, bl, rel, EMG_IIS_WEBCONFIG, ub, NULL, 0, &r, &rl, &err) == EMG_OK &&
		 same_bytes(a, al, r, rl), "replace: revert puts the old rule back exactly");
	CHECK(c, emg_iis_undo_merge(ua, ub, &um, &err) == EMG_OK && um != NULL &&
		 emg_iis_rules_remove(b, bl, rel, EMG_IIS_WEBCONFIG, um, NULL, 0, &x, &xl, &err) == EMG_OK &&
		 same_bytes(orig, olen, x, xl), "replace: merged record reverts to the original file");
	free(orig);
	free(a);
	free(b);
	free(r);
	free(x);
	free(ua);
	free(ub);
	free(um);
}

/* Manual removal then re-apply; two actions on one file reverted in
 * either order. */
static void test_two_actions(check_ctx *c)
{
	uint8_t *orig = NULL, *a = NULL, *b = NULL, *r1 = NULL, *r2 = NULL, *gone = NULL, *again = NULL;
	size_t olen = 0, al = 0, bl = 0, l1 = 0, l2 = 0, gl = 0, agl = 0;
	char *ua = NULL, *ub = NULL, *ug = NULL;
	emg_err err;
	const char *rel = V15 "FrontEnd/HttpProxy/PowerShell/web.config";

	if (load(rel, &orig, &olen) != EMG_OK ||
	    emg_iis_rules_upsert(orig, olen, rel, EMG_IIS_WEBCONFIG, m1, strlen(m1), &a, &al, &ua, &err) != EMG_OK ||
	    emg_iis_rules_upsert(a, al, rel, EMG_IIS_WEBCONFIG, cookies, strlen(cookies), &b, &bl, &ub, &err) !=
		    EMG_OK || b == NULL) {
		CHECK(c, 0, "two actions: setup");
		goto out;
	}
	CHECK(c, count(b, bl, "<rule ") == 3 && count(b, bl, "<rewrite>") == 1, "two actions: one section, three rules");
	CHECK(c, emg_iis_rules_remove(b, bl, rel, EMG_IIS_WEBCONFIG, ub, NULL, 0, &r1, &l1, &err) == EMG_OK &&
		 same_bytes(a, al, r1, l1) &&
		 emg_iis_rules_remove(r1, l1, rel, EMG_IIS_WEBCONFIG, ua, NULL, 0, &r2, &l2, &err) == EMG_OK &&
		 same_bytes(orig, olen, r2, l2), "two actions: reverted last-first gives back each version");
	free(r1);
	free(r2);
	r1 = r2 = NULL;
	CHECK(c, emg_iis_rules_remove(b, bl, rel, EMG_IIS_WEBCONFIG, ua, NULL, 0, &r1, &l1, &err) == EMG_OK &&
		 r1 != NULL && count(r1, l1, "<rule ") == 2 && count(r1, l1, "<rewrite>") == 1 &&
		 emg_iis_rules_remove(r1, l1, rel, EMG_IIS_WEBCONFIG, ub, NULL, 0, &r2, &l2, &err) == EMG_OK &&
		 r2 != NULL && count(r2, l2, "<rule ") == 0 && emg_iis_check(r2, l2, rel, &err) == EMG_OK,
	      "two actions: first-first keeps the shared section while it holds rules, file stays valid");
	/* By hand: the rule is deleted; the state says absent; a re-apply
	 * restores it. */
	CHECK(c, emg_iis_rules_remove(a, al, rel, EMG_IIS_WEBCONFIG, NULL, m1, strlen(m1), &gone, &gl, &err) ==
		 EMG_OK && gone != NULL &&
		 emg_iis_rules_upsert(gone, gl, rel, EMG_IIS_WEBCONFIG, m1, strlen(m1), &again, &agl, &ug, &err) ==
		 EMG_OK && same_bytes(a, al, again, agl), "manual removal: re-apply puts the same bytes back");
out:
	free(orig);
	free(a);
	free(b);
	free(r1);
	free(r2);
	free(gone);
	free(again);
	free(ua);
	free(ub);
	free(ug);
}

/* One upsert and revert on a hand-made document; returns 1 when both work,
 * the revert is exact, and the result holds needle (when given). */
static int roundtrip(const char *doc, enum emg_iis_file_kind kind, const char *frag, const char *needle)
{
	uint8_t *out = NULL, *back = NULL;
	size_t len = 0, blen = 0;
	char *undo = NULL;
	emg_err err;
	int ok;

	ok = emg_iis_rules_upsert((const uint8_t *)doc, strlen(doc), "case", kind, frag, strlen(frag), &out, &len,
				  &undo, &err) == EMG_OK && out != NULL;
	if (!ok)
		printf("  roundtrip: %s\n", err.msg);
	ok = ok && (needle == NULL || strstr((char *)out, needle) != NULL);
	if (ok && needle != NULL && strstr((char *)out, needle) == NULL)
		printf("  got: %s\n", (char *)out);
	ok = ok && emg_iis_rules_remove(out, len, "case", kind, undo, NULL, 0, &back, &blen, &err) == EMG_OK &&
	     same_bytes((const uint8_t *)doc, strlen(doc), back, blen);
	free(out);
	free(back);
	free(undo);
	return ok;
}

static void test_edge_cases(check_ctx *c)
{
	static const char lf_doc[] =
		"<?xml version=\"1.0\"?>\n<configuration>\n  <system.webServer>\n    <rewrite>\n"
		"      <rules>\n        <rule name=\"old\"><match url=\"x\"/></rule>\n      </rules>\n"
		"    </rewrite>\n  </system.webServer>\n</configuration>\n";
	static const char tricky[] =
		"<configuration>\r\n"
		"  <!-- <system.webServer><rewrite><rules> in a comment -->\r\n"
		"  <appSettings>\r\n"
		"    <add key=\"a\" value=\"x/>y>z&lt;/rules&gt;\" />\r\n"
		"    <add key='b' value='x\"y -->' />\r\n"
		"  </appSettings>\r\n"
		"  <script><![CDATA[ </system.webServer> <rules> ]]></script>\r\n"
		"  <?custom data <rules> ?>\r\n"
		"  <system.webServer\r\n     >\r\n"
		"    <handlers   />\r\n"
		"  </system.webServer   >\r\n"
		"</configuration>\r\n";
	const char *sk;
	size_t sklen;
	char skel[256];

	CHECK(c, roundtrip(lf_doc, EMG_IIS_WEBCONFIG, m1,
			   "      <rules>\n        <rule name=\"EEMS M1.1 PowerShell - inbound\"") &&
		 roundtrip(lf_doc, EMG_IIS_WEBCONFIG, m1, "          <match url=\".*\" />\n"),
	      "LF file: LF kept, two-space steps");
	CHECK(c, roundtrip(tricky, EMG_IIS_WEBCONFIG, m1,
			   "    <handlers   />\r\n    <rewrite>\r\n      <rules>\r\n        <rule name=\"EEMS"),
	      "comments, CDATA, PIs, '>' in values, whitespace inside tags: not fooled");
	CHECK(c, roundtrip("<configuration/>", EMG_IIS_WEBCONFIG, m1,
			   "<configuration>\r\n    <system.webServer>\r\n        <rewrite>"),
	      "<configuration/> on one line: expanded, CRLF");
	CHECK(c, roundtrip("<configuration>\n<system.webServer></system.webServer>\n</configuration>",
			   EMG_IIS_WEBCONFIG, m1, NULL), "<system.webServer></system.webServer> expanded");
	CHECK(c, roundtrip("<configuration>\r\n  <system.webServer>\r\n    <rewrite>\r\n      <rules>\r\n"
			   "        <!-- none yet -->\r\n      </rules>\r\n    </rewrite>\r\n"
			   "  </system.webServer>\r\n</configuration>\r\n", EMG_IIS_WEBCONFIG, m1,
			   "      <rules>\r\n        <rule name=\"EEMS M1.1 PowerShell - inbound\""),
	      "collection holding only a comment: comment kept");
	CHECK(c, roundtrip("<configuration><system.webServer><rewrite><rules><rule name=\"a\"/></rules>"
			   "</rewrite></system.webServer></configuration>", EMG_IIS_WEBCONFIG, m1, NULL),
	      "everything on one line");
	CHECK(c, roundtrip("<configuration>\n\t<system.webServer>\n\t\t<rewrite>\n\t\t\t<outboundRules>\n"
			   "\t\t\t\t<preConditions />\n\t\t\t</outboundRules>\n\t\t</rewrite>\n"
			   "\t</system.webServer>\n</configuration>\n", EMG_IIS_WEBCONFIG, mixed,
			   "\t\t\t<outboundRules>\n\t\t\t\t<rule name=\"EEMS mixed - outbound\">"),
	      "outboundRule goes to outboundRules as <rule>, inbound to a new <rules>");
	CHECK(c, roundtrip("<configuration>\n  <system.webServer>\n    <rewrite>\n      <rules>\n        <clear/>\n"
			   "        <remove name=\"x\"/>\n        <rule name=\"z\"/>\n      </rules>\n    </rewrite>\n"
			   "  </system.webServer>\n</configuration>\n", EMG_IIS_WEBCONFIG, m1,
			   "<remove name=\"x\"/>\n        <rule name=\"EEMS M1.1"),
	      "new rules go after <clear/> and <remove/>");
	CHECK(c, roundtrip("<configuration>\n    <system.webServer>\n    </system.webServer>\n</configuration>\n",
			   EMG_IIS_APPHOST, cookies, "<globalRules>"), "apphost kind uses globalRules");
	CHECK(c, roundtrip("<configuration xmlns=\"urn:x\">\n <system.webServer />\n</configuration>\n",
			   EMG_IIS_WEBCONFIG, mixed, "a&amp;b&lt;c&gt;&quot;d'"),
	      "attribute values escaped; default namespace kept");
	CHECK(c, roundtrip("<configuration xmlns:xdt=\"http://schemas.microsoft.com/XML-Document-Transform\">\r\n"
			   "  <system.webServer xdt:Transform=\"Insert\">\r\n    <handlers />\r\n"
			   "  </system.webServer>\r\n</configuration>\r\n", EMG_IIS_WEBCONFIG, m1,
			   "    <handlers />\r\n    <rewrite>"), "prefixed attributes (config transforms) kept");
	{
		static const char amp[] = "<rule name=\"EEMS A &amp; B &#38; &#x3C;C&gt;\"><match url=\".*\"/></rule>";
		static const char doc[] = "<configuration>\r\n</configuration>\r\n";
		uint8_t *o1 = NULL, *o2 = NULL;
		size_t l1 = 0, l2 = 0;
		char *u1 = NULL, *u2 = NULL;
		emg_err err;
		CHECK(c, emg_iis_rules_upsert((const uint8_t *)doc, strlen(doc), "amp", EMG_IIS_WEBCONFIG, amp,
					      strlen(amp), &o1, &l1, &u1, &err) == EMG_OK && o1 != NULL &&
			 strstr((char *)o1, "name=\"EEMS A &amp; B &amp; &lt;C&gt;\"") != NULL &&
			 emg_iis_rules_upsert(o1, l1, "amp", EMG_IIS_WEBCONFIG, amp, strlen(amp), &o2, &l2, &u2,
					      &err) == EMG_OK && o2 == NULL,
		      "names with entities and character references: found again by name");
		free(o1);
		free(o2);
		free(u1);
		free(u2);
	}
	sk = (const char *)emg_iis_webconfig_skeleton(&sklen);
	snprintf(skel, sizeof skel, "%.*s", (int)sklen, sk);
	CHECK(c, sklen < sizeof skel && roundtrip(skel, EMG_IIS_WEBCONFIG, m1, "\xEF\xBB\xBF<?xml") &&
		 emg_iis_check((const uint8_t *)sk, sklen, "skeleton", NULL) == EMG_OK,
	      "skeleton web.config: upsert and revert back to it");
}

static int fails_with(const char *doc, size_t len, const char *frag, int code, const char *text)
{
	uint8_t *out = NULL;
	size_t olen = 0;
	char *undo = NULL;
	emg_err err;
	int rc;

	emg_err_clear(&err);
	rc = emg_iis_rules_upsert((const uint8_t *)doc, len, "bad.config", EMG_IIS_WEBCONFIG, frag,
				  frag != NULL ? strlen(frag) : 0, &out, &olen, &undo, &err);
	if (rc != code || out != NULL || undo != NULL || strstr(err.msg, text) == NULL) {
		printf("  rc %d msg '%s'\n", rc, err.msg);
		free(out);
		free(undo);
		return 0;
	}
	return 1;
}

#define S(x) x, strlen(x)

static void test_bad_input(check_ctx *c)
{
	static const char good[] = "<configuration>\n</configuration>\n";
	char deep[8192];
	size_t i, o = 0;
	uint8_t *big;

	CHECK(c, fails_with(S("<configuration>\n  <system.webServer>\n    <rewrite>\n</configuration>\n"), m1,
			    EMG_ECONFIG, "bad.config:4:"), "malformed: error names file and line");
	CHECK(c, fails_with(S("<configuration>\n<a>\n<b attr=\"1\" attr=\"2\"/>\n</a>\n</configuration>"), m1,
			    EMG_ECONFIG, "bad.config:3:"), "duplicate attribute: refused with line");
	CHECK(c, fails_with(S("<?xml version=\"1.0\"?>\n<!DOCTYPE configuration [<!ENTITY x \"y\">]>\n"
			      "<configuration>&x;</configuration>"), m1, EMG_ECONFIG, "DOCTYPE"),
	      "DOCTYPE and entities refused");
	CHECK(c, fails_with(S("<configuration>&ext;</configuration>"), m1, EMG_ECONFIG, "bad.config:1:"),
	      "undeclared entity refused");
	CHECK(c, fails_with("\xFF\xFE<\0c\0", 6, m1, EMG_ECONFIG, "UTF-16"), "UTF-16 refused");
	CHECK(c, fails_with(S("<?xml version=\"1.0\" encoding=\"iso-8859-1\"?><configuration/>"), m1, EMG_ECONFIG,
			    "iso-8859-1"), "non-UTF-8 encoding refused");
	CHECK(c, fails_with(S("<settings/>"), m1, EMG_ECONFIG, "not <configuration>"), "other root refused");
	CHECK(c, fails_with(S("<configuration/><x/>"), m1, EMG_ECONFIG, "bad.config"), "two roots refused");
	CHECK(c, fails_with(S("<configuration>\n<system.webServer/>\n<system.webServer/>\n</configuration>"), m1,
			    EMG_ECONFIG, "appears 2 times"), "duplicate section refused");
	CHECK(c, fails_with(S("<configuration><system.webServer><rewrite><rules><rule name=\"EEMS M1.1 PowerShell - inbound\"/>"
			      "\n<rule name=\"eems m1.1 powershell - inbound\"/></rules></rewrite></system.webServer>"
			      "</configuration>"), m1, EMG_ECONFIG, "appears twice"),
	      "duplicate rule names in the file refused");
	for (i = 0; i < 200; i++)
		o += (size_t)snprintf(deep + o, sizeof deep - o, "%s", i == 0 ? "<configuration>" : "<a>");
	for (i = 1; i < 200; i++)
		o += (size_t)snprintf(deep + o, sizeof deep - o, "</a>");
	o += (size_t)snprintf(deep + o, sizeof deep - o, "</configuration>");
	CHECK(c, fails_with(deep, o, m1, EMG_ECONFIG, "nested too deeply"), "depth limit");
	big = malloc(EMG_IIS_MAX_BYTES + 1);
	CHECK(c, big != NULL && fails_with((const char *)big, EMG_IIS_MAX_BYTES + 1, m1, EMG_ECONFIG, "limit"),
	      "size limit");
	free(big);

	CHECK(c, fails_with(S(good), "", EMG_ECONFIG, "empty"), "fragment: empty refused");
	CHECK(c, fails_with(S(good), "<rule name=\"a\">", EMG_ECONFIG, "rule fragment"), "fragment: malformed refused");
	CHECK(c, fails_with(S(good), "<rule/>", EMG_ECONFIG, "without a name"), "fragment: nameless rule refused");
	CHECK(c, fails_with(S(good), "<rule name=\"a\"/><rule name=\"A\"/>", EMG_ECONFIG, "given twice"),
	      "fragment: duplicate names refused");
	CHECK(c, fails_with(S(good), "<rules><rule name=\"a\"/></rules>", EMG_ECONFIG, "not <rule>"),
	      "fragment: other elements refused");
	CHECK(c, fails_with(S(good), "text<rule name=\"a\"/>", EMG_ECONFIG, "text outside"),
	      "fragment: stray text refused");
	CHECK(c, fails_with(S(good), "<rule name=\"a\" x:y=\"1\" xmlns:x=\"urn:x\"/>", EMG_ECONFIG, "namespaced"),
	      "fragment: namespaces refused");
	CHECK(c, fails_with(S(good), "</emgap-fragment><rule name=\"a\"/><emgap-fragment>", EMG_ECONFIG,
			    "rule fragment"), "fragment: cannot break out of its wrapper");
}

static void test_bad_undo(check_ctx *c)
{
	static const char doc[] = "<configuration/>";
	uint8_t *out = NULL;
	size_t len = 0;
	emg_err err;
	char *m = NULL;

	CHECK(c, emg_iis_rules_remove((const uint8_t *)doc, strlen(doc), "d", EMG_IIS_WEBCONFIG, "v2;g=rules,none",
				      NULL, 0, &out, &len, &err) == EMG_ECONFIG && out == NULL,
	      "undo: unknown version refused");
	CHECK(c, emg_iis_rules_remove((const uint8_t *)doc, strlen(doc), "d", EMG_IIS_WEBCONFIG,
				      "v1;g=rules,created:7;i=YQ==", NULL, 0, &out, &len, &err) == EMG_ECONFIG,
	      "undo: bad anchor refused");
	CHECK(c, emg_iis_rules_remove((const uint8_t *)doc, strlen(doc), "d", EMG_IIS_WEBCONFIG,
				      "v1;g=rules,none;i=!!", NULL, 0, &out, &len, &err) == EMG_ECONFIG,
	      "undo: bad base64 refused");
	CHECK(c, emg_iis_rules_remove((const uint8_t *)doc, strlen(doc), "d", EMG_IIS_WEBCONFIG,
				      "v1;g=rules,none;i=YQ==", NULL, 0, &out, &len, &err) == EMG_OK && out == NULL,
	      "undo: nothing to remove is not an error");
	CHECK(c, emg_iis_undo_merge(NULL, "v1", &m, &err) == EMG_OK && m != NULL && strcmp(m, "v1") == 0,
	      "undo merge: one side missing");
	free(m);
}

/* A 5 MB applicationHost.config: the sample with many more pools. */
static void test_big(check_ctx *c)
{
	uint8_t *orig = NULL, *out = NULL, *back = NULL;
	size_t olen = 0, len = 0, blen = 0, cap, o;
	char *big, *undo = NULL;
	const char *at;
	emg_err err;
	struct timespec t0, t1;
	double secs;
	int i;

	if (load("Windows/System32/inetsrv/config/applicationHost.config", &orig, &olen) != EMG_OK) {
		CHECK(c, 0, "big: load");
		return;
	}
	at = strstr((char *)orig, "            <applicationPoolDefaults");
	cap = olen + (6u << 20);
	big = malloc(cap);
	if (at == NULL || big == NULL) {
		CHECK(c, 0, "big: setup");
		free(orig);
		free(big);
		return;
	}
	o = (size_t)(at - (char *)orig);
	memcpy(big, orig, o);
	for (i = 0; o < 5u << 20; i++)
		o += (size_t)snprintf(big + o, cap - o,
				      "            <add name=\"Pool%06d\" managedRuntimeVersion=\"v4.0\">\r\n"
				      "                <processModel identityType=\"ApplicationPoolIdentity\" />\r\n"
				      "            </add>\r\n", i);
	memcpy(big + o, at, olen - (size_t)(at - (char *)orig));
	o += olen - (size_t)(at - (char *)orig);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	CHECK(c, emg_iis_rules_upsert((uint8_t *)big, o, "big", EMG_IIS_APPHOST, cookies, strlen(cookies), &out,
				      &len, &undo, &err) == EMG_OK && out != NULL &&
		 pure_insertion((uint8_t *)big, o, out, len), "big: 5 MB applicationHost.config, rule inserted");
	CHECK(c, out != NULL && emg_iis_rules_remove(out, len, "big", EMG_IIS_APPHOST, undo, NULL, 0, &back, &blen,
						     &err) == EMG_OK && same_bytes((uint8_t *)big, o, back, blen),
	      "big: reverted exactly");
	clock_gettime(CLOCK_MONOTONIC, &t1);
	secs = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
	printf("  5 MB insert + revert: %.3f s\n", secs);
	CHECK(c, secs < 20.0, "big: no runaway cost");
	free(orig);
	free(big);
	free(out);
	free(back);
	free(undo);
}

/* Damaged files: cut short anywhere, or with markup characters sprayed
 * in. Every outcome must be a clean refusal (EMG_ECONFIG) or an edit that
 * reverts to exactly the damaged input: never a crash, never a torn edit. */
static int mutant_ok(const uint8_t *doc, size_t len, const char *frag)
{
	uint8_t *out = NULL, *back = NULL;
	size_t olen = 0, blen = 0;
	char *undo = NULL;
	emg_err err;
	int rc, ok;

	rc = emg_iis_rules_upsert(doc, len, "mutant", EMG_IIS_WEBCONFIG, frag, strlen(frag), &out, &olen, &undo, &err);
	if (rc == EMG_ECONFIG)
		return out == NULL && undo == NULL && strstr(err.msg, "mutant") != NULL;
	if (rc != EMG_OK)
		return 0;
	if (out == NULL)
		return 1;
	ok = emg_iis_check(out, olen, "mutant", &err) == EMG_OK &&
	     emg_iis_rules_remove(out, olen, "mutant", EMG_IIS_WEBCONFIG, undo, NULL, 0, &back, &blen, &err) == EMG_OK &&
	     same_bytes(doc, len, back, blen);
	free(out);
	free(back);
	free(undo);
	return ok;
}

static void test_mutations(check_ctx *c)
{
	static const char *const files[] = {
		"Program Files/Microsoft/Exchange Server/V15/FrontEnd/HttpProxy/ecp/web.config",
		"Program Files/Microsoft/Exchange Server/V15/FrontEnd/HttpProxy/EWS/web.config",
	};
	static const char spray[] = "<>/'\"=! \r\n&;-[]?:x";
	uint32_t seed = 12345;
	size_t f, cut, bad_cut = 0, bad_spray = 0, k;
	int round;

	for (f = 0; f < 2; f++) {
		uint8_t *orig = NULL, *m;
		size_t olen = 0;
		if (load(files[f], &orig, &olen) != EMG_OK)
			continue;
		for (cut = 0; cut < olen; cut += 3)
			bad_cut += !mutant_ok(orig, cut, m1);
		m = malloc(olen);
		for (round = 0; m != NULL && round < 300; round++) {
			memcpy(m, orig, olen);
			for (k = 0; k < 3; k++) {
				seed = seed * 1103515245u + 12345u;
				m[(seed >> 8) % olen] = (uint8_t)spray[(seed >> 4) % (sizeof spray - 1)];
			}
			bad_spray += !mutant_ok(m, olen, m1);
		}
		free(m);
		free(orig);
	}
	CHECK(c, bad_cut == 0, "cut-short files: refused cleanly or edited and reverted exactly");
	CHECK(c, bad_spray == 0, "files with stray markup: refused cleanly or edited and reverted exactly");
}

int main(void)
{
	check_ctx c = { 0 };

	test_samples(&c);
	test_shapes(&c);
	test_replace(&c);
	test_two_actions(&c);
	test_edge_cases(&c);
	test_bad_input(&c);
	test_bad_undo(&c);
	test_mutations(&c);
	test_big(&c);
	xmlCleanupParser();
	return c.failed ? 1 : 0;
}
