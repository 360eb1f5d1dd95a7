/* check.c - `check`: can this host reach every endpoint the mirror needs?
 * Prints the answer as Test-MitigationServiceConnectivity does, or as
 * JSON for machines. */
#include "mirror/fetch.h"

#include <string.h>

#include "mirror/chain.h"

typedef struct probe_out {
	FILE *f;
	int json;
	int count; /* endpoints printed so far */
} probe_out;

/* A JSON string: quotes, backslashes and control characters escaped. */
static void json_str(FILE *f, const char *s)
{
	fputc('"', f);
	for (; *s != '\0'; s++) {
		unsigned char c = (unsigned char)*s;

		if (c == '"' || c == '\\')
			fprintf(f, "\\%c", c);
		else if (c < 0x20)
			fprintf(f, "\\u%04x", c);
		else
			fputc(c, f);
	}
	fputc('"', f);
}

static void report(emg_mirror_ctx *ctx, probe_out *po, const char *what, const char *url,
		   const emg_http_res *res, int ok, const emg_err *e)
{
	char msg[EMG_ERR_MSG_MAX + 2048];
	const char *why = e->msg;
	size_t n = strlen(url);

	/* The reason without the URL the message names anyway. */
	if (strncmp(why, url, n) == 0 && why[n] == ':' && why[n + 1] == ' ')
		why += n + 2;
	if (ok)
		snprintf(msg, sizeof msg, "The %s endpoint is accessible from this computer.", what);
	else
		snprintf(msg, sizeof msg, "The %s endpoint %s is not accessible from this computer: %s",
			 what, url, why);
	if (po->json) {
		fputs(po->count ? ",\n    {\"endpoint\": " : "\n    {\"endpoint\": ", po->f);
		json_str(po->f, url);
		fputs(", \"kind\": ", po->f);
		json_str(po->f, what);
		fprintf(po->f, ", \"result\": \"%s\", \"reason\": \"%s\", \"status\": %ld, \"message\": ",
			ok ? "Success" : "Failed", ok ? "" : emg_http_why_name(res->why), res->status);
		json_str(po->f, msg);
		fputc('}', po->f);
	} else {
		fprintf(po->f, "Endpoint: %s\nResult: %s.\nMessage: %s\n\n", url, ok ? "Success" : "Failed", msg);
	}
	po->count++;
	if (ok)
		emg_mlog_event(ctx->log, EMG_EVENT_FETCHED, "check: %s endpoint %s is accessible", what, url);
	else
		emg_mlog_event(ctx->log, EMG_EVENT_ERROR, "check: %s endpoint %s: %s", what, url, e->msg);
}

static int probe(emg_mirror_ctx *ctx, probe_out *po, const char *what, const char *url,
		 uint64_t max, emg_urls *cdps)
{
	emg_http_res res;
	emg_err e;
	int rc;

	emg_err_clear(&e);
	rc = emg_http_get(&ctx->http, url, max, NULL, NULL, &res, &e);
	/* The feed names its own chain: its CRL endpoints are worth probing. */
	if (rc == EMG_OK && cdps != NULL && ctx->conf->anchors != NULL)
		(void)emg_feed_cdp_urls(res.body, res.len, ctx->conf->anchors, cdps, NULL);
	report(ctx, po, what, url, &res, rc == EMG_OK, &e);
	emg_http_res_free(&res);
	return rc;
}

int emg_mirror_check(emg_mirror_ctx *ctx, FILE *out, int json)
{
	const emg_mirror_conf *c = ctx->conf;
	probe_out po = {out, json, 0};
	emg_urls cdps = {NULL, 0};
	int failed = 0;
	size_t i;
	emg_err e;

	if (json)
		fputs("{\n  \"endpoints\": [", out);
	if (probe(ctx, &po, "Mitigation Service", c->feed_url, c->max_feed_bytes, &cdps) != EMG_OK)
		failed++;
	/* Anchors that cannot be read are fetch's problem; here they only
	 * mean fewer CRL endpoints to try. */
	if (c->anchors != NULL && emg_pem_cdp_urls(c->anchors, &cdps, &e) != EMG_OK)
		emg_mlog_event(ctx->log, EMG_EVENT_ERROR, "check: %s", e.msg);
	for (i = 0; i < cdps.n; i++)
		if (probe(ctx, &po, "CRL distribution point", cdps.v[i], c->max_crl_bytes, NULL) != EMG_OK)
			failed++;
	for (i = 0; i < c->ctl_count; i++)
		if (probe(ctx, &po, "certificate trust list", c->ctl_url[i], c->max_ctl_bytes, NULL) != EMG_OK)
			failed++;
	if (json)
		fprintf(out, "\n  ],\n  \"result\": \"%s\"\n}\n", failed ? "Failed" : "Success");
	emg_urls_free(&cdps);
	return failed ? EMG_EIO : EMG_OK;
}
