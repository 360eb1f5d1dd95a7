/* mirror_chain.c - reading the feed's KeyInfo certificates before the feed
 * is verified: hostile XML is refused, and the URL list stays a set. */
#include <string.h>

#include "check.h"
#include "err.h"
#include "mirror/chain.h"

static int cdps(const char *xml, emg_urls *u, emg_err *err)
{
	emg_err_clear(err);
	return emg_feed_cdp_urls((const uint8_t *)xml, strlen(xml), "/nonexistent/anchors.pem", u, err);
}

#define SIG_OPEN "<EOCS><Signature xmlns=\"http://www.w3.org/2000/09/xmldsig#\"><KeyInfo><X509Data>"
#define SIG_CLOSE "</X509Data></KeyInfo></Signature></EOCS>"

static void test_hostile(check_ctx *ctx)
{
	emg_urls u = {NULL, 0};
	emg_err err;
	int rc;

	rc = cdps("<?xml version=\"1.0\"?>\n<!DOCTYPE EOCS [<!ENTITY a \"aaaa\">]>\n<EOCS>&a;</EOCS>", &u, &err);
	CHECK(ctx, rc == EMG_ECONFIG && strstr(err.msg, "DTD") != NULL, "a DTD is refused");
	rc = cdps("<?xml version=\"1.0\"?>\n<!DOCTYPE EOCS SYSTEM \"http://127.0.0.1:1/x.dtd\">\n<EOCS/>", &u, &err);
	CHECK(ctx, rc == EMG_ECONFIG && strstr(err.msg, "DTD") != NULL, "an external DTD is refused, not loaded");
	rc = cdps("<EOCS><Config>", &u, &err);
	CHECK(ctx, rc == EMG_ECONFIG && strstr(err.msg, "well-formed") != NULL, "truncated XML is refused");
	rc = cdps(SIG_OPEN "<X509Certificate>!!!not base64!!!</X509Certificate>" SIG_CLOSE, &u, &err);
	CHECK(ctx, rc == EMG_ECONFIG && strstr(err.msg, "not base64") != NULL, "bad base64 certificate refused");
	rc = cdps(SIG_OPEN "<X509Certificate>aGVsbG8gd29ybGQ=</X509Certificate>" SIG_CLOSE, &u, &err);
	CHECK(ctx, rc == EMG_ECONFIG && strstr(err.msg, "not a DER certificate") != NULL,
	      "base64 that is not a certificate refused");
	rc = cdps("<EOCS><X509Certificate>aGVsbG8=</X509Certificate></EOCS>", &u, &err);
	CHECK(ctx, rc == EMG_OK && u.n == 0, "X509Certificate outside the xmldsig namespace is ignored");
	rc = cdps("<EOCS version=\"1.0.4\"><Config id=\"PING1\"/></EOCS>", &u, &err);
	CHECK(ctx, rc == EMG_OK && u.n == 0, "a feed without certificates gives no URLs");
	emg_urls_free(&u);
}

static void test_urls(check_ctx *ctx)
{
	emg_urls u = {NULL, 0};
	emg_err err;
	char url[64];
	int i, rc = EMG_OK;

	CHECK(ctx, emg_urls_add(&u, "http://a/x.crl", &err) == EMG_OK, "add a URL");
	CHECK(ctx, emg_urls_add(&u, "http://a/x.crl", &err) == EMG_OK && u.n == 1, "a duplicate is added once");
	for (i = 0; i < EMG_MAX_CDP_URLS + 1 && rc == EMG_OK; i++) {
		snprintf(url, sizeof url, "http://a/%d.crl", i);
		rc = emg_urls_add(&u, url, &err);
	}
	CHECK(ctx, rc == EMG_ECONFIG && u.n == EMG_MAX_CDP_URLS, "the list is bounded");
	emg_urls_free(&u);
	CHECK(ctx, u.n == 0 && u.v == NULL, "free empties the list");
}

static void test_anchors(check_ctx *ctx)
{
	emg_urls u = {NULL, 0};
	emg_err err;

	emg_err_clear(&err);
	CHECK(ctx, emg_pem_cdp_urls("/nonexistent/anchors.pem", &u, &err) == EMG_ECONFIG &&
		   strstr(err.msg, "/nonexistent/anchors.pem") != NULL,
	      "missing anchors file named");
	emg_urls_free(&u);
}

int main(void)
{
	check_ctx ctx = {0};

	test_hostile(&ctx);
	test_urls(&ctx);
	test_anchors(&ctx);
	return ctx.failed ? 1 : 0;
}
