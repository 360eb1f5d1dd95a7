/* apply_iispool.c - autoStart/startMode of application pools in the sample
 * applicationHost.config: set, read back, idempotent, restored exactly. */
#include "check.h"

#include "apply/iisconf.h"
#include "err.h"
#include "fileio.h"

#include <stdint.h>

#include <libxml/parser.h>

static int load_apphost(uint8_t **buf, size_t *len)
{
	const char *src = getenv("EMGAP_SRC");
	char path[1024];
	emg_err err;

	snprintf(path, sizeof path, "%s/samples/exchange2019/Windows/System32/inetsrv/config/applicationHost.config",
		 src != NULL && src[0] != '\0' ? src : ".");
	return emg_read_file(path, EMG_IIS_MAX_BYTES, EMG_ECONFIG, buf, len, &err);
}

static int same_bytes(const uint8_t *a, size_t al, const uint8_t *b, size_t bl)
{
	return a != NULL && b != NULL && al == bl && memcmp(a, b, al) == 0;
}

/* The bytes differ only inside [from, to) of a (a's line holding the pool). */
static int only_line_changed(const uint8_t *a, size_t al, const uint8_t *b, size_t bl, const char *pool)
{
	char needle[128];
	const char *at, *eol;
	size_t from, tail;

	snprintf(needle, sizeof needle, "name=\"%s\"", pool);
	at = strstr((const char *)a, needle);
	if (at == NULL)
		return 0;
	eol = strchr(at, '\n');
	from = (size_t)(at - (const char *)a);
	tail = al - (size_t)(eol - (const char *)a);
	return bl > tail && memcmp(a, b, from) == 0 && memcmp(a + al - tail, b + bl - tail, tail) == 0;
}

/* Disable, check the text, idempotence, restore exactly. */
static void pool_cycle(check_ctx *c, const uint8_t *orig, size_t olen, const char *pool, const char *want_tag,
		       int had_auto, const char *had_auto_val, int had_mode)
{
	uint8_t *out = NULL, *again = NULL, *back = NULL;
	size_t len = 0, alen = 0, blen = 0;
	char *undo = NULL, *undo2 = NULL, name[200];
	emg_iis_pool_cfg prev, cur;
	emg_err err;

	snprintf(name, sizeof name, "%s: disable", pool);
	CHECK(c, emg_iis_apppool_disable(orig, olen, "ah", pool, &out, &len, &prev, &undo, &err) == EMG_OK &&
		 out != NULL && undo != NULL, name);
	if (out == NULL) {
		printf("  %s\n", err.msg);
		return;
	}
	snprintf(name, sizeof name, "%s: previous values reported, absent included", pool);
	CHECK(c, prev.auto_start.present == had_auto && prev.start_mode.present == had_mode &&
		 (!had_auto || strcmp(prev.auto_start.value, had_auto_val) == 0), name);
	snprintf(name, sizeof name, "%s: tag edited in place", pool);
	CHECK(c, strstr((char *)out, want_tag) != NULL && only_line_changed(orig, olen, out, len, pool), name);
	if (strstr((char *)out, want_tag) == NULL) {
		const char *at = strstr((char *)out, pool);
		printf("  got: %.300s\n", at != NULL ? at - 11 : "?");
	}
	snprintf(name, sizeof name, "%s: reads back disabled", pool);
	CHECK(c, emg_iis_apppool_get(out, len, "ah", pool, &cur, &err) == EMG_OK && emg_iis_apppool_is_disabled(&cur),
	      name);
	snprintf(name, sizeof name, "%s: second disable changes nothing", pool);
	CHECK(c, emg_iis_apppool_disable(out, len, "ah", pool, &again, &alen, &prev, &undo2, &err) == EMG_OK &&
		 again == NULL && undo2 == NULL, name);
	snprintf(name, sizeof name, "%s: restore gives back the original bytes", pool);
	CHECK(c, emg_iis_apppool_restore(out, len, "ah", pool, undo, &back, &blen, &err) == EMG_OK &&
		 same_bytes(orig, olen, back, blen), name);
	free(out);
	free(back);
	free(undo);
}

static void test_sample_pools(check_ctx *c)
{
	uint8_t *orig = NULL;
	size_t olen = 0;
	emg_iis_pool_cfg cur;
	emg_err err;

	if (load_apphost(&orig, &olen) != EMG_OK) {
		CHECK(c, 0, "load applicationHost.config");
		return;
	}
	CHECK(c, emg_iis_apppool_get(orig, olen, "ah", "MSExchangeECPAppPool", &cur, &err) == EMG_OK &&
		 cur.auto_start.present && strcmp(cur.auto_start.value, "true") == 0 && !cur.start_mode.present &&
		 !emg_iis_apppool_is_disabled(&cur), "get: ECP pool as in the sample");
	pool_cycle(c, orig, olen, "MSExchangeECPAppPool",
		   "<add name=\"MSExchangeECPAppPool\" autoStart=\"false\" managedRuntimeVersion=\"v4.0\" "
		   "managedPipelineMode=\"Integrated\" CLRConfigFile=\"C:\\Program Files\\Microsoft\\Exchange "
		   "Server\\V15\\bin\\MSExchangeECPAppPool.config\" startMode=\"OnDemand\">",
		   1, "true", 0);
	pool_cycle(c, orig, olen, "MSExchangeOABAppPool",
		   "CLRConfigFile=\"C:\\Program Files\\Microsoft\\Exchange Server\\V15\\bin\\MSExchangeOABAppPool.config\" "
		   "autoStart=\"false\" startMode=\"OnDemand\">", 0, "", 0);
	pool_cycle(c, orig, olen, "MSExchangeOWAAppPool",
		   "<add name=\"MSExchangeOWAAppPool\" autoStart=\"false\" startMode=\"OnDemand\" managedRuntimeVersion",
		   1, "true", 1);
	pool_cycle(c, orig, olen, "DefaultAppPool",
		   "<add name=\"DefaultAppPool\" autoStart=\"false\" startMode=\"OnDemand\" />", 0, "", 0);
	CHECK(c, emg_iis_apppool_get(orig, olen, "ah", "msexchangeecpapppool", &cur, &err) == EMG_OK,
	      "get: pool names compare without case");
	CHECK(c, emg_iis_apppool_get(orig, olen, "ah", "NoSuchPool", &cur, &err) == EMG_ECONFIG &&
		 strstr(err.msg, "NoSuchPool") != NULL && strstr(err.msg, "ah") != NULL,
	      "get: unknown pool refused, named");
	free(orig);
}

static void test_odd_pools(check_ctx *c)
{
	static const char quotes[] =
		"<configuration>\n <system.applicationHost>\n  <applicationPools>\n"
		"   <add\tname='P1'  autoStart = 'tr&#117;e'\n\tstartMode='AlwaysRunning'/>\n"
		"   <add name=\"P2\" autoStart=\"False\" startMode=\"OnDemand\" />\n"
		"  </applicationPools>\n </system.applicationHost>\n</configuration>\n";
	static const char dup[] =
		"<configuration><system.applicationHost><applicationPools><add name=\"P\"/><add name=\"p\"/>"
		"</applicationPools></system.applicationHost></configuration>";
	const uint8_t *q = (const uint8_t *)quotes;
	uint8_t *out = NULL, *back = NULL, *drift = NULL;
	size_t len = 0, blen = 0, dlen;
	char *undo = NULL;
	emg_iis_pool_cfg prev;
	emg_err err;
	char *p;

	CHECK(c, emg_iis_apppool_disable(q, strlen(quotes), "q", "P1", &out, &len, &prev, &undo, &err) == EMG_OK &&
		 out != NULL && strstr((char *)out, "autoStart = 'false'\n\tstartMode='OnDemand'/>") != NULL &&
		 strcmp(prev.auto_start.value, "true") == 0 && strcmp(prev.start_mode.value, "AlwaysRunning") == 0,
	      "single quotes, spaces, entities: values replaced inside their quotes");
	CHECK(c, out != NULL && emg_iis_apppool_restore(out, len, "q", "P1", undo, &back, &blen, &err) == EMG_OK &&
		 same_bytes(q, strlen(quotes), back, blen), "single quotes: raw old text (entity) restored");
	free(back);
	back = NULL;
	/* Drift: someone put autoStart back by hand; restore still converges. */
	if (out != NULL && (p = strstr((char *)out, "'false'")) != NULL) {
		dlen = len;
		drift = malloc(dlen + 1);
		if (drift != NULL) {
			size_t at = (size_t)(p - (char *)out);
			memcpy(drift, out, len);
			memcpy(drift + at, "'TRUE '", 7);
			CHECK(c, emg_iis_apppool_restore(drift, dlen, "q", "P1", undo, &back, &blen, &err) == EMG_OK &&
				 same_bytes(q, strlen(quotes), back, blen), "drifted value: restore still exact");
		}
	}
	free(drift);
	free(back);
	free(out);
	free(undo);
	out = NULL;
	undo = NULL;
	CHECK(c, emg_iis_apppool_disable(q, strlen(quotes), "q", "P2", &out, &len, &prev, &undo, &err) == EMG_OK &&
		 out == NULL && undo == NULL, "already disabled (False, any case): nothing to do");
	CHECK(c, emg_iis_apppool_disable((const uint8_t *)dup, strlen(dup), "d", "P", &out, &len, &prev, &undo, &err) ==
		 EMG_ECONFIG && strstr(err.msg, "twice") != NULL, "pool defined twice refused");
	CHECK(c, emg_iis_apppool_restore(q, strlen(quotes), "q", "P1", "v1;autoStart=maybe;startMode=keep", &out,
					 &len, &err) == EMG_ECONFIG, "malformed undo refused");
	CHECK(c, emg_iis_apppool_restore(q, strlen(quotes), "q", "P1", "v1;autoStart=keep;startMode=keep", &out,
					 &len, &err) == EMG_OK && out == NULL, "keep/keep: nothing to do");
	CHECK(c, emg_iis_apppool_get((const uint8_t *)"<configuration/>", 16, "e", "P", &prev, &err) == EMG_ECONFIG &&
		 strstr(err.msg, "system.applicationHost") != NULL, "no <system.applicationHost>: clear error");
}

int main(void)
{
	check_ctx c = { 0 };

	test_sample_pools(&c);
	test_odd_pools(&c);
	xmlCleanupParser();
	return c.failed ? 1 : 0;
}
