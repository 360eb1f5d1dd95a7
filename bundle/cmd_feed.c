/* cmd_feed.c - emgap-bundle verify-feed: checks a vendor feed offline and
 * prints its signer, chain and mitigations. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "bundle/cmds.h"
#include "bundle/ctl.h"
#include "bundle/feed.h"
#include "err.h"
#include "fileio.h"
#include "timefmt.h"

#define PROG "emgap-bundle verify-feed"
#define MAX_EKUS 8
#define CODE_SIGNING_OID "1.3.6.1.5.5.7.3.3"
#define MAX_CRL_BYTES (16u * 1024 * 1024)

static const char usage[] =
	"usage: emgap-bundle verify-feed --anchors PEM [--crl-dir DIR] [--ctl-dir DIR]\n"
	"           [--at TIME] [--crl-time TIME] [--eku OID]... [--subject TEXT]\n"
	"           [--allow-missing-crl] [--json] FEED.xml\n"
	"\n"
	"Verifies the vendor signature of FEED.xml offline: XMLDSig (enveloped,\n"
	"RSA-SHA256, whole document), the signer's chain to the anchors with a CRL\n"
	"for every certificate, the extended key usage (default code signing,\n"
	CODE_SIGNING_OID "), the subject rule and the disallowed CTL, at TIME\n"
	"(YYYY-MM-DDTHH:MM:SSZ, YYYY-MM-DD or @SECONDS; default now). With\n"
	"--crl-time the CRLs' own dates are judged at that time (the fetch time).\n"
	"Exit codes: 0 valid, 2 usage, 3 malformed, 4 invalid signature or trust,\n"
	"5 revoked or expired, 7 I/O.\n";

typedef struct options {
	const char *anchors;
	const char *crl_dir;
	const char *ctl_dir;
	const char *subject;
	const char *feed;
	const char *ekus[MAX_EKUS];
	size_t eku_count;
	time_t at;
	time_t crl_time;
	int allow_missing_crl;
	int json;
} options;

static int usage_error(const char *msg, const char *arg)
{
	fprintf(stderr, "%s: %s%s%s\n%s", PROG, msg, arg != NULL ? " " : "", arg != NULL ? arg : "",
		usage);
	return EMG_EUSAGE;
}

/* Returns EMG_OK, EMG_EUSAGE, or -1 for --help (already printed). */
static int parse_args(int argc, char **argv, options *o)
{
	int i;

	memset(o, 0, sizeof *o);
	o->at = time(NULL);
	for (i = 1; i < argc; i++) {
		const char *a = argv[i];
		const char *v = i + 1 < argc ? argv[i + 1] : NULL;
		int takes = 1;

		if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
			fputs(usage, stdout);
			return -1;
		} else if (strcmp(a, "--json") == 0) {
			o->json = 1;
			takes = 0;
		} else if (strcmp(a, "--allow-missing-crl") == 0) {
			o->allow_missing_crl = 1;
			takes = 0;
		} else if (a[0] == '-' && a[1] == '-' && v == NULL) {
			return usage_error("option needs a value:", a);
		} else if (strcmp(a, "--anchors") == 0) {
			o->anchors = v;
		} else if (strcmp(a, "--crl-dir") == 0) {
			o->crl_dir = v;
		} else if (strcmp(a, "--ctl-dir") == 0) {
			o->ctl_dir = v;
		} else if (strcmp(a, "--subject") == 0) {
			o->subject = v;
		} else if (strcmp(a, "--at") == 0) {
			if (emg_time_parse(v, &o->at) != 0)
				return usage_error("bad --at time (YYYY-MM-DDTHH:MM:SSZ, YYYY-MM-DD or @SECONDS):", v);
		} else if (strcmp(a, "--crl-time") == 0) {
			if (emg_time_parse(v, &o->crl_time) != 0 || o->crl_time == 0)
				return usage_error("bad --crl-time time:", v);
		} else if (strcmp(a, "--eku") == 0) {
			if (o->eku_count >= MAX_EKUS)
				return usage_error("too many --eku options", NULL);
			o->ekus[o->eku_count++] = v;
		} else if (a[0] == '-' && a[1] != '\0') {
			return usage_error("unknown option", a);
		} else {
			if (o->feed != NULL)
				return usage_error("more than one feed file given:", a);
			o->feed = a;
			takes = 0;
		}
		i += takes;
	}
	if (o->anchors == NULL)
		return usage_error("--anchors is required", NULL);
	if (o->feed == NULL)
		return usage_error("no feed file given", NULL);
	if (o->eku_count == 0)
		o->ekus[o->eku_count++] = CODE_SIGNING_OID;
	return EMG_OK;
}

/* ---- Output ---------------------------------------------------------- */

static void json_str(const char *s)
{
	const unsigned char *p = (const unsigned char *)(s != NULL ? s : "");

	if (s == NULL) {
		fputs("null", stdout);
		return;
	}
	putchar('"');
	for (; *p != '\0'; p++) {
		if (*p == '"' || *p == '\\')
			printf("\\%c", *p);
		else if (*p == '\n')
			fputs("\\n", stdout);
		else if (*p < 0x20 || *p == 0x7f)
			printf("\\u%04x", *p);
		else
			putchar(*p);
	}
	putchar('"');
}

static const char *scope_name(emg_scope s)
{
	return s == EMG_SCOPE_SITE ? "Site" : s == EMG_SCOPE_VDIR ? "VDir" : "Server";
}

static const char *ctl_kind_name(emg_ctl_kind k)
{
	return k == EMG_CTL_DISALLOWED ? "disallowed" : k == EMG_CTL_AUTHROOT ? "authroot" : "other";
}

/* One line per CTL of the snapshot (already checked by the verification,
 * so a parse failure here cannot happen on a verified run). */
static void print_ctls(const emg_blob_list *ctls, int json)
{
	size_t i;

	if (json)
		fputs(",\"ctls\":[", stdout);
	for (i = 0; i < ctls->count; i++) {
		char tu[EMG_TIME_LEN];
		emg_ctl *ctl = NULL;

		if (emg_ctl_parse(ctls->items[i].data, ctls->items[i].len, ctls->items[i].name, &ctl, NULL) != EMG_OK)
			continue;
		emg_time_format(ctl->this_update, tu);
		if (json) {
			fputs(i ? ",{\"file\":" : "{\"file\":", stdout);
			json_str(ctls->items[i].name);
			fputs(",\"kind\":", stdout);
			json_str(ctl_kind_name(ctl->kind));
			fputs(",\"sequence\":", stdout);
			json_str(ctl->sequence);
			fputs(",\"this_update\":", stdout);
			json_str(tu);
			printf(",\"entries\":%zu}", ctl->count);
		} else {
			printf("ctl: %s kind=%s sequence=%s this-update=%s entries=%zu\n", ctls->items[i].name,
			       ctl_kind_name(ctl->kind), ctl->sequence, tu, ctl->count);
		}
		emg_ctl_free(ctl);
	}
	if (json)
		putchar(']');
}

static void print_text(const options *o, const emg_feed_report *r, const emg_feed *f,
		       const emg_blob_list *ctls)
{
	char at[EMG_TIME_LEN];
	size_t i, j;

	emg_time_format(o->at, at);
	printf("feed: %s\nsignature: valid at %s\nsigner: %s\nissuer: %s\nchain:\n", o->feed, at,
	       r->signer_subject, r->signer_issuer);
	for (i = 0; i < r->chain_len; i++)
		printf("  %zu %s\n", i, r->chain[i]);
	print_ctls(ctls, 0);
	printf("version: %s\nmitigations: %zu\n", f->version != NULL ? f->version : "", f->count);
	for (i = 0; i < f->count; i++) {
		const emg_mitigation *m = &f->items[i];

		printf("%s: %s\n", m->id, m->desc != NULL ? m->desc : "");
		if (m->applies_count == 0)
			printf("  applies: every product and build\n");
		for (j = 0; j < m->applies_count; j++)
			printf("  applies: %s %s .. %s\n", m->applies[j].product, m->applies[j].min,
			       m->applies[j].max);
		if (m->rollback != NULL)
			printf("  rollback: %s\n", m->rollback);
		for (j = 0; j < m->action_count; j++) {
			const emg_action *a = &m->actions[j];

			printf("  %s %s%s scope=%s", a->subid, a->type_name,
			       a->type == EMG_ACTION_UNSUPPORTED ? " (unsupported)" : "", scope_name(a->scope));
			if (a->site != NULL)
				printf(" site=\"%s\"", a->site);
			if (a->path != NULL)
				printf(" path=%s", a->path);
			if (a->value != NULL && a->type != EMG_ACTION_URL_REWRITE)
				printf(" value=%s", a->value);
			putchar('\n');
			if (a->type == EMG_ACTION_URL_REWRITE)
				printf("    %s\n", a->value);
		}
	}
	for (i = 0; i < f->warning_count; i++)
		printf("warning: %s\n", f->warnings[i]);
}

static void json_action(const emg_action *a)
{
	fputs("{\"subid\":", stdout);
	json_str(a->subid);
	fputs(",\"type\":", stdout);
	json_str(a->type_name);
	printf(",\"supported\":%s,\"scope\":", a->type == EMG_ACTION_UNSUPPORTED ? "false" : "true");
	json_str(scope_name(a->scope));
	fputs(",\"site\":", stdout);
	json_str(a->site);
	fputs(",\"path\":", stdout);
	json_str(a->path);
	fputs(",\"desc\":", stdout);
	json_str(a->desc);
	fputs(",\"value\":", stdout);
	json_str(a->value);
	putchar('}');
}

static void json_mitigation(const emg_mitigation *m)
{
	size_t j;

	fputs("{\"id\":", stdout);
	json_str(m->id);
	fputs(",\"desc\":", stdout);
	json_str(m->desc);
	fputs(",\"rollback\":", stdout);
	json_str(m->rollback);
	fputs(",\"applies\":[", stdout);
	for (j = 0; j < m->applies_count; j++) {
		printf("%s{\"product\":", j ? "," : "");
		json_str(m->applies[j].product);
		fputs(",\"min\":", stdout);
		json_str(m->applies[j].min);
		fputs(",\"max\":", stdout);
		json_str(m->applies[j].max);
		putchar('}');
	}
	fputs("],\"actions\":[", stdout);
	for (j = 0; j < m->action_count; j++) {
		if (j)
			putchar(',');
		json_action(&m->actions[j]);
	}
	fputs("]}", stdout);
}

static void print_json(const options *o, const emg_feed_report *r, const emg_feed *f,
		       const emg_blob_list *ctls)
{
	char at[EMG_TIME_LEN];
	size_t i;

	emg_time_format(o->at, at);
	fputs("{\"valid\":true,\"feed\":", stdout);
	json_str(o->feed);
	fputs(",\"at\":", stdout);
	json_str(at);
	fputs(",\"signer\":", stdout);
	json_str(r->signer_subject);
	fputs(",\"issuer\":", stdout);
	json_str(r->signer_issuer);
	fputs(",\"chain\":[", stdout);
	for (i = 0; i < r->chain_len; i++) {
		if (i)
			putchar(',');
		json_str(r->chain[i]);
	}
	putchar(']');
	print_ctls(ctls, 1);
	fputs(",\"version\":", stdout);
	json_str(f->version);
	fputs(",\"mitigations\":[", stdout);
	for (i = 0; i < f->count; i++) {
		if (i)
			putchar(',');
		json_mitigation(&f->items[i]);
	}
	fputs("],\"warnings\":[", stdout);
	for (i = 0; i < f->warning_count; i++) {
		if (i)
			putchar(',');
		json_str(f->warnings[i]);
	}
	fputs("]}\n", stdout);
}

static void print_json_error(const options *o, const emg_err *err)
{
	fputs("{\"valid\":false,\"feed\":", stdout);
	json_str(o->feed);
	printf(",\"code\":%d,\"error\":", err->code);
	json_str(err->msg);
	fputs("}\n", stdout);
}

/* ---- The command ----------------------------------------------------- */

static int run(const options *o, emg_err *err)
{
	static const char *const ctl_suffixes[] = {".cab", ".stl", NULL};
	emg_blob_list crls = {0}, ctls = {0};
	emg_vendor_policy policy;
	emg_pki_snapshot pki;
	emg_feed_report report;
	emg_feed *feed = NULL;
	uint8_t *xml = NULL;
	size_t len = 0;
	int rc;

	rc = emg_read_file(o->feed, EMG_FEED_MAX_BYTES, EMG_ECONFIG, &xml, &len, err);
	if (rc == EMG_OK && o->crl_dir != NULL)
		rc = emg_blobs_read_dir(o->crl_dir, NULL, MAX_CRL_BYTES, &crls, err);
	if (rc == EMG_OK && o->ctl_dir != NULL)
		rc = emg_blobs_read_dir(o->ctl_dir, ctl_suffixes, EMG_CTL_MAX_BYTES, &ctls, err);
	if (rc == EMG_OK) {
		memset(&policy, 0, sizeof policy);
		policy.anchors_pem = o->anchors;
		policy.eku_oids = (const char **)o->ekus;
		policy.eku_count = o->eku_count;
		policy.subject = o->subject;
		policy.allow_missing_crl = o->allow_missing_crl;
		policy.crl_time = o->crl_time;
		pki.crls = crls.items;
		pki.crl_count = crls.count;
		pki.ctls = ctls.items;
		pki.ctl_count = ctls.count;
		rc = emg_feed_verify(xml, len, &policy, &pki, o->at, &report, &feed, err);
		if (rc != EMG_OK)
			emg_err_prefix(err, "%s", o->feed);
	}
	if (rc == EMG_OK) {
		if (o->json)
			print_json(o, &report, feed, &ctls);
		else
			print_text(o, &report, feed, &ctls);
		if (fflush(stdout) != 0 || ferror(stdout))
			rc = emg_fail(err, EMG_EIO, "cannot write to standard output");
	}
	emg_feed_free(feed);
	emg_blobs_free(&crls);
	emg_blobs_free(&ctls);
	free(xml);
	return rc;
}

int emg_cmd_verify_feed(int argc, char **argv)
{
	options o;
	emg_err err;
	int rc;

	rc = parse_args(argc, argv, &o);
	if (rc != EMG_OK)
		return rc < 0 ? EMG_OK : rc;
	emg_err_clear(&err);
	rc = run(&o, &err);
	if (rc != EMG_OK) {
		emg_err_print(PROG, &err);
		if (o.json)
			print_json_error(&o, &err);
	}
	return rc;
}
