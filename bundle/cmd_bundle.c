/* cmd_bundle.c - emgap-bundle create, sign, verify, inspect, extract. */
#include <errno.h>
#include <sodium.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "bundle/bundle.h"
#include "bundle/bundle_walk.h"
#include "bundle/cmds.h"
#include "bundle/manifest.h"
#include "err.h"
#include "fileio.h"
#include "keys/keys.h"
#include "timefmt.h"

#define PROG "emgap-bundle"
#define MAX_ROT_SIGS 32

/* ---- argument parsing ------------------------------------------------
 * "--name VALUE" and "--name=VALUE"; no global state (getopt has some). */

typedef struct opt {
	const char *name;   /* "--feed" */
	int takes_value;
	const char **value; /* last value, or "1" for a flag */
	const char **list;  /* repeatable: every value */
	size_t *list_count;
	size_t list_max;
} opt;

static int usage_fail(const char *cmd, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static int usage_fail(const char *cmd, const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, PROG " %s: ", cmd);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, "\n(see " PROG " --help)\n");
	return EMG_EUSAGE;
}

static int take(const opt *o, const char *cmd, const char *v)
{
	if (o->list != NULL) {
		if (*o->list_count == o->list_max)
			return usage_fail(cmd, "%s given too often", o->name);
		o->list[(*o->list_count)++] = v;
	}
	if (o->value != NULL)
		*o->value = v;
	return EMG_OK;
}

/* Fills the options; the one positional argument (if any) in *pos. */
static int parse_args(int argc, char **argv, const opt *opts, const char **pos)
{
	const char *cmd = argv[0];
	int i;

	*pos = NULL;
	for (i = 1; i < argc; i++) {
		const char *a = argv[i];
		const opt *o;
		size_t nl;
		if (strcmp(a, "--") == 0) {
			/* Everything after "--" is the positional argument. */
			if (i + 2 < argc || (i + 1 < argc && *pos != NULL))
				return usage_fail(cmd, "%s", "more than one BUNDLE given");
			if (i + 1 < argc)
				*pos = argv[i + 1];
			break;
		}
		if (a[0] != '-' || a[1] == '\0') {
			if (*pos != NULL)
				return usage_fail(cmd, "unexpected argument '%s'", a);
			*pos = a;
			continue;
		}
		for (o = opts; o->name != NULL; o++) {
			nl = strlen(o->name);
			if (strncmp(a, o->name, nl) == 0 && (a[nl] == '\0' || (a[nl] == '=' && o->takes_value)))
				break;
		}
		if (o->name == NULL)
			return usage_fail(cmd, "unknown option '%s'", a);
		if (!o->takes_value) {
			*o->value = "1";
		} else if (a[nl] == '=') {
			if (take(o, cmd, a + nl + 1) != EMG_OK)
				return EMG_EUSAGE;
		} else {
			if (++i >= argc)
				return usage_fail(cmd, "%s needs a value", o->name);
			if (take(o, cmd, argv[i]) != EMG_OK)
				return EMG_EUSAGE;
		}
	}
	return EMG_OK;
}

static int fail(const emg_err *err)
{
	emg_err_print(PROG, err);
	return err->code;
}

static int parse_time_arg(const char *cmd, const char *opt_name, const char *s, time_t *out)
{
	if (emg_time_parse(s, out) != 0)
		return usage_fail(cmd, "bad time for %s (YYYY-MM-DD, YYYY-MM-DDTHH:MM:SSZ or @SECONDS)",
				  opt_name);
	return EMG_OK;
}

/* --expires: a time, or "+N" days/hours after created ("+7d", "+12h"). */
static int parse_expires(const char *s, time_t created, time_t *out)
{
	char *end = NULL;
	unsigned long long n;

	if (s[0] != '+')
		return emg_time_parse(s, out);
	errno = 0;
	n = strtoull(s + 1, &end, 10);
	if (errno != 0 || end == s + 1 || n > 100000 || (strcmp(end, "d") != 0 && strcmp(end, "h") != 0))
		return -1;
	*out = created + (time_t)(n * (*end == 'd' ? 86400u : 3600u));
	return 0;
}

static int parse_u64_arg(const char *s, uint64_t *out)
{
	char *end = NULL;

	if (s[0] < '0' || s[0] > '9')
		return -1;
	errno = 0;
	*out = strtoull(s, &end, 10);
	return (errno != 0 || *end != '\0') ? -1 : 0;
}

/* ---- JSON output ------------------------------------------------------ */

static void json_str(FILE *f, const char *s)
{
	const unsigned char *p = (const unsigned char *)s;

	fputc('"', f);
	for (; *p != '\0'; p++) {
		if (*p == '"' || *p == '\\')
			fprintf(f, "\\%c", *p);
		else if (*p < 0x20 || *p == 0x7f)
			fprintf(f, "\\u%04x", *p);
		else
			fputc(*p, f);
	}
	fputc('"', f);
}

static void json_time(FILE *f, const char *key, time_t t, int comma)
{
	char buf[EMG_TIME_LEN];

	emg_time_format(t, buf);
	fprintf(f, "\"%s\":\"%s\"%s", key, buf, comma ? "," : "");
}

static int json_error(int json, const emg_err *err)
{
	if (json) {
		printf("{\"ok\":false,\"code\":%d,\"error\":", err->code);
		json_str(stdout, err->msg);
		printf("}\n");
	}
	return fail(err);
}

/* ---- create ----------------------------------------------------------- */

int emg_cmd_create(int argc, char **argv)
{
	const char *feed = NULL, *pki = NULL, *seq = NULL, *expires = NULL, *out = NULL;
	const char *created = NULL, *fetched = NULL, *source = NULL, *extra = NULL, *rot = NULL;
	const char *rot_sigs[MAX_ROT_SIGS];
	size_t rot_sig_count = 0;
	const char *pos;
	const opt opts[] = {
		{"--feed", 1, &feed, NULL, NULL, 0},
		{"--pki", 1, &pki, NULL, NULL, 0},
		{"--sequence", 1, &seq, NULL, NULL, 0},
		{"--expires", 1, &expires, NULL, NULL, 0},
		{"--output", 1, &out, NULL, NULL, 0},
		{"-o", 1, &out, NULL, NULL, 0},
		{"--created", 1, &created, NULL, NULL, 0},
		{"--fetched", 1, &fetched, NULL, NULL, 0},
		{"--source", 1, &source, NULL, NULL, 0},
		{"--extra", 1, &extra, NULL, NULL, 0},
		{"--root-rotation", 1, &rot, NULL, NULL, 0},
		{"--root-rotation-sig", 1, NULL, rot_sigs, &rot_sig_count, MAX_ROT_SIGS},
		{NULL, 0, NULL, NULL, NULL, 0},
	};
	emg_bundle_create_opts o;
	emg_err err;

	emg_err_clear(&err);
	if (parse_args(argc, argv, opts, &pos) != EMG_OK)
		return EMG_EUSAGE;
	if (pos != NULL)
		return usage_fail(argv[0], "unexpected argument '%s'", pos);
	if (feed == NULL || pki == NULL || seq == NULL || expires == NULL || out == NULL)
		return usage_fail(argv[0], "%s", "--feed, --pki, --sequence, --expires and -o are required");
	if ((rot == NULL) != (rot_sig_count == 0))
		return usage_fail(argv[0], "%s", "--root-rotation and --root-rotation-sig go together");
	memset(&o, 0, sizeof o);
	o.feed_path = feed;
	o.pki_dir = pki;
	o.out_path = out;
	o.source = source;
	o.extra_dir = extra;
	o.rotation = rot;
	o.rotation_sigs = rot_sigs;
	o.rotation_sig_count = rot_sig_count;
	if (parse_u64_arg(seq, &o.sequence) != 0)
		return usage_fail(argv[0], "bad --sequence '%s'", seq);
	o.created = time(NULL);
	if (created != NULL && parse_time_arg(argv[0], "--created", created, &o.created) != EMG_OK)
		return EMG_EUSAGE;
	o.fetched = o.created;
	if (fetched != NULL && parse_time_arg(argv[0], "--fetched", fetched, &o.fetched) != EMG_OK)
		return EMG_EUSAGE;
	if (parse_expires(expires, o.created, &o.expires) != 0)
		return usage_fail(argv[0], "bad --expires '%s' (a time, or +Nd / +Nh)", expires);
	if (emg_bundle_create(&o, &err) != EMG_OK)
		return fail(&err);
	return EMG_OK;
}

/* ---- sign ------------------------------------------------------------- */

/* The passphrase, only when the key is encrypted (NULL otherwise). */
static int get_passphrase(const char *key_path, const char *pass_file, int no_pass,
			  char buf[EMG_PASSPHRASE_MAX + 1], const char **out, emg_err *err)
{
	uint8_t *text;
	size_t len;
	int enc = 0, rc;

	*out = NULL;
	if (no_pass)
		return EMG_OK;
	rc = emg_read_file(key_path, 64 * 1024, EMG_ECONFIG, &text, &len, err);
	if (rc != EMG_OK)
		return rc;
	rc = emg_seckey_is_encrypted((const char *)text, len, &enc, err);
	sodium_memzero(text, len);
	free(text);
	if (rc != EMG_OK)
		return emg_err_prefix(err, "%s", key_path);
	if (!enc)
		return EMG_OK;
	rc = emg_passphrase_get(pass_file, "Passphrase: ", 0, buf, err);
	if (rc == EMG_OK)
		*out = buf;
	return rc;
}

int emg_cmd_sign(int argc, char **argv)
{
	const char *secret = NULL, *cert = NULL, *pass_file = NULL, *no_pass = NULL, *pass;
	const char *bundle;
	const opt opts[] = {
		{"--secret", 1, &secret, NULL, NULL, 0},
		{"--cert", 1, &cert, NULL, NULL, 0},
		{"--passphrase-file", 1, &pass_file, NULL, NULL, 0},
		{"--no-passphrase", 0, &no_pass, NULL, NULL, 0},
		{NULL, 0, NULL, NULL, NULL, 0},
	};
	char buf[EMG_PASSPHRASE_MAX + 1];
	emg_err err;
	int rc;

	emg_err_clear(&err);
	if (parse_args(argc, argv, opts, &bundle) != EMG_OK)
		return EMG_EUSAGE;
	if (secret == NULL || cert == NULL || bundle == NULL)
		return usage_fail(argv[0], "%s", "--secret, --cert and BUNDLE are required");
	if (pass_file != NULL && no_pass != NULL)
		return usage_fail(argv[0], "%s", "--passphrase-file and --no-passphrase exclude each other");
	rc = get_passphrase(secret, pass_file, no_pass != NULL, buf, &pass, &err);
	if (rc == EMG_OK)
		rc = emg_bundle_sign(bundle, secret, pass, cert, &err);
	sodium_memzero(buf, sizeof buf);
	return rc == EMG_OK ? EMG_OK : fail(&err);
}

/* ---- verify / extract ------------------------------------------------- */

static void print_info(const char *bundle, const emg_bundle_info *info, const emg_trust *t,
		       int json, const char *dest)
{
	char exp[EMG_TIME_LEN];
	unsigned i;

	(void)t;
	emg_time_format(info->expires, exp);
	if (json) {
		printf("{\"ok\":true,\"bundle\":");
		json_str(stdout, bundle);
		printf(",\"sequence\":%llu,\"nothing_new\":%s,", (unsigned long long)info->sequence,
		       info->nothing_new ? "true" : "false");
		if (info->had_previous)
			printf("\"previous_sequence\":%llu,", (unsigned long long)info->previous_sequence);
		json_time(stdout, "created", info->created, 1);
		json_time(stdout, "expires", info->expires, 1);
		json_time(stdout, "fetched", info->fetched, 1);
		printf("\"source\":");
		json_str(stdout, info->source);
		printf(",\"sha256\":\"%s\",\"root_version\":%llu,\"rotated\":%s,\"signers\":[",
		       info->sha256, (unsigned long long)info->root_version, info->rotated ? "true" : "false");
		for (i = 0; i < info->valid_signers && i < 16; i++)
			printf("%s\"%s\"", i ? "," : "", info->signers[i]);
		printf("]");
		if (dest != NULL) {
			printf(",\"extracted_to\":");
			json_str(stdout, dest);
		}
		printf("}\n");
		return;
	}
	printf("%s: verified: sequence %llu, %u valid signer%s (", bundle,
	       (unsigned long long)info->sequence, info->valid_signers,
	       info->valid_signers == 1 ? "" : "s");
	for (i = 0; i < info->valid_signers && i < 16; i++)
		printf("%s%s", i ? " " : "", info->signers[i]);
	printf("), expires %s\n", exp);
	if (info->rotated)
		printf("%s: root set rotated to version %llu\n", bundle,
		       (unsigned long long)info->root_version);
	if (info->nothing_new)
		printf("%s: nothing new: sequence %llu was already accepted\n", bundle,
		       (unsigned long long)info->sequence);
	if (dest != NULL)
		printf("%s: extracted to %s\n", bundle, dest);
}

static int verify_or_extract(int argc, char **argv, int extract)
{
	const char *trust_dir = NULL, *state = NULL, *at_s = NULL, *json = NULL, *dest = NULL;
	const char *bundle;
	opt opts[] = {
		{"--trust", 1, &trust_dir, NULL, NULL, 0},
		{"--state", 1, &state, NULL, NULL, 0},
		{"--at", 1, &at_s, NULL, NULL, 0},
		{"--json", 0, &json, NULL, NULL, 0},
		{"-C", 1, &dest, NULL, NULL, 0},
		{NULL, 0, NULL, NULL, NULL, 0},
	};
	emg_bundle_info info;
	emg_trust *t = NULL;
	emg_err err;
	time_t at = time(NULL);
	int rc;

	emg_err_clear(&err);
	if (!extract)
		opts[4].name = NULL; /* -C is extract's alone */
	if (parse_args(argc, argv, opts, &bundle) != EMG_OK)
		return EMG_EUSAGE;
	if (trust_dir == NULL || bundle == NULL || (extract && dest == NULL))
		return usage_fail(argv[0], "%s",
				  extract ? "--trust, -C and BUNDLE are required" : "--trust and BUNDLE are required");
	if (at_s != NULL && parse_time_arg(argv[0], "--at", at_s, &at) != EMG_OK)
		return EMG_EUSAGE;
	rc = emg_trust_load(trust_dir, &t, &err);
	if (rc == EMG_OK)
		rc = extract ? emg_bundle_extract(bundle, t, state, 1, at, dest, &info, &err)
			     : emg_bundle_verify(bundle, t, state, 1, at, &info, NULL, &err);
	if (rc == EMG_OK)
		print_info(bundle, &info, t, json != NULL, dest);
	emg_trust_free(t);
	return rc == EMG_OK ? EMG_OK : json_error(json != NULL, &err);
}

int emg_cmd_verify(int argc, char **argv)
{
	return verify_or_extract(argc, argv, 0);
}

int emg_cmd_extract(int argc, char **argv)
{
	return verify_or_extract(argc, argv, 1);
}

/* ---- inspect ---------------------------------------------------------- */

typedef struct signer_view {
	char name[80];
	char sig_keyid[EMG_KEYID_HEX_LEN];
	int sig_ok;
	int cert_ok;
	emg_cert cert;
	char cert_keyid[EMG_KEYID_HEX_LEN];
	char note[256];
} signer_view;

static void view_signer(const emg_walk *w, const emg_kept *sig, signer_view *v)
{
	emg_signature s;
	emg_err e;
	const emg_kept *cert;
	char name[64];

	memset(v, 0, sizeof *v);
	snprintf(v->name, sizeof v->name, "%s", sig->name);
	emg_err_clear(&e);
	if (emg_signature_parse((const char *)sig->data, sig->len, &s, &e) == EMG_OK) {
		v->sig_ok = 1;
		emg_keyid_hex(s.keynum, v->sig_keyid);
	} else {
		snprintf(v->note, sizeof v->note, "%s", e.msg);
	}
	snprintf(name, sizeof name, "keys/%.16s.cert", sig->name + 4);
	cert = emg_kept_find(&w->sigl, name);
	if (cert == NULL) {
		snprintf(v->note, sizeof v->note, "no %s", name);
		return;
	}
	if (emg_cert_parse((const char *)cert->data, cert->len, &v->cert, &e) == EMG_OK) {
		v->cert_ok = 1;
		emg_keyid_hex(v->cert.key.keynum, v->cert_keyid);
	} else {
		snprintf(v->note, sizeof v->note, "%s: %s", name, e.msg);
	}
}

static void print_feed_summary(const emg_walk *w, int json)
{
	const emg_kept *xml = emg_kept_find(&w->kept, EMG_BUNDLE_FEED_MEMBER);
	emg_feed *feed = NULL;
	emg_err e;
	size_t i;

	emg_err_clear(&e);
	if (xml == NULL || emg_feed_parse(xml->data, xml->len, &feed, &e) != EMG_OK) {
		if (json) {
			printf("\"feed\":{\"error\":");
			json_str(stdout, xml ? e.msg : "missing");
			printf("}");
		} else {
			printf("feed: cannot be read: %s\n", xml ? e.msg : "missing");
		}
		return;
	}
	if (json) {
		printf("\"feed\":{\"version\":");
		json_str(stdout, feed->version ? feed->version : "");
		printf(",\"mitigations\":[");
		for (i = 0; i < feed->count; i++) {
			printf("%s{\"id\":", i ? "," : "");
			json_str(stdout, feed->items[i].id ? feed->items[i].id : "");
			printf(",\"actions\":%zu}", feed->items[i].action_count);
		}
		printf("]}");
	} else {
		printf("feed: EOCS version %s, %zu mitigation%s (not verified):", feed->version ? feed->version : "?",
		       feed->count, feed->count == 1 ? "" : "s");
		for (i = 0; i < feed->count; i++)
			printf(" %s", feed->items[i].id ? feed->items[i].id : "?");
		printf("\n");
	}
	emg_feed_free(feed);
}

static void print_signers(const emg_walk *w, int json)
{
	size_t i, n = 0;

	if (json)
		printf("\"signers\":[");
	else
		printf("signers (not verified; inspect trusts nothing):\n");
	for (i = 0; i < w->sigl.count; i++) {
		char nb[EMG_TIME_LEN] = "", ex[EMG_TIME_LEN] = "";
		signer_view v;
		if (strncmp(w->sigl.v[i].name, "sig/", 4) != 0)
			continue;
		view_signer(w, &w->sigl.v[i], &v);
		if (v.cert_ok) {
			emg_time_format(v.cert.not_before, nb);
			emg_time_format(v.cert.expires, ex);
		}
		if (json) {
			printf("%s{\"member\":", n++ ? "," : "");
			json_str(stdout, v.name);
			printf(",\"keyid\":\"%s\",\"cert_keyid\":\"%s\",\"role\":", v.sig_keyid, v.cert_keyid);
			json_str(stdout, v.cert_ok ? v.cert.role : "");
			printf(",\"not_before\":\"%s\",\"expires\":\"%s\",\"problem\":", nb, ex);
			json_str(stdout, v.note);
			printf("}");
		} else {
			n++;
			printf("  %s  key %s", v.name, v.sig_ok ? v.sig_keyid : "?");
			if (v.cert_ok)
				printf("  cert: key %s, role %s, valid %s .. %s", v.cert_keyid, v.cert.role, nb, ex);
			if (v.note[0] != '\0')
				printf("  (%s)", v.note);
			printf("\n");
		}
	}
	if (json)
		printf("],");
	else if (n == 0)
		printf("  none\n");
}

static void print_manifest(const emg_walk *w, const char *bundle, int json)
{
	const emg_manifest *m = &w->manifest;
	char hex[65], t[EMG_TIME_LEN];
	size_t i;

	if (json) {
		emg_hex(w->file_sha256, 32, hex);
		printf("{\"bundle\":");
		json_str(stdout, bundle);
		printf(",\"sha256\":\"%s\",\"sequence\":%llu,", hex, (unsigned long long)m->sequence);
		json_time(stdout, "created", m->created, 1);
		json_time(stdout, "expires", m->expires, 1);
		json_time(stdout, "fetched", m->fetched, 1);
		printf("\"expired\":%s,\"source\":", m->expires <= time(NULL) ? "true" : "false");
		json_str(stdout, m->source);
		printf(",\"files\":[");
		for (i = 0; i < m->count; i++) {
			emg_hex(m->files[i].sha256, 32, hex);
			printf("%s{\"path\":", i ? "," : "");
			json_str(stdout, m->files[i].path);
			printf(",\"size\":%llu,\"sha256\":\"%s\"}", (unsigned long long)m->files[i].size, hex);
		}
		printf("],");
		return;
	}
	emg_hex(w->file_sha256, 32, hex);
	printf("bundle: %s\nsha256: %s\nsequence: %llu\n", bundle, hex, (unsigned long long)m->sequence);
	emg_time_format(m->created, t);
	printf("created: %s\n", t);
	emg_time_format(m->expires, t);
	printf("expires: %s%s\n", t, m->expires <= time(NULL) ? " (expired)" : "");
	emg_time_format(m->fetched, t);
	printf("source: %s\nfetched: %s\nfiles:\n", m->source, t);
	for (i = 0; i < m->count; i++) {
		emg_hex(m->files[i].sha256, 32, hex);
		printf("  %12llu %s %s\n", (unsigned long long)m->files[i].size, hex, m->files[i].path);
	}
}

static void print_rotations(const emg_walk *w, int json)
{
	size_t i, n = 0;

	if (json)
		printf("\"rotation\":[");
	for (i = 0; i < w->sigl.count; i++) {
		const char *name = w->sigl.v[i].name;
		if (strncmp(name, "rotation/", 9) != 0)
			continue;
		if (json) {
			printf("%s", n ? "," : "");
			json_str(stdout, name);
		} else {
			printf("%s%s", n ? " " : "root rotation: ", name);
		}
		n++;
	}
	if (json)
		printf("],");
	else if (n > 0)
		printf("\n");
}

int emg_cmd_inspect(int argc, char **argv)
{
	const char *json = NULL, *bundle;
	const opt opts[] = {
		{"--json", 0, &json, NULL, NULL, 0},
		{NULL, 0, NULL, NULL, NULL, 0},
	};
	emg_walk w;
	emg_err err;
	int rc;

	emg_err_clear(&err);
	if (parse_args(argc, argv, opts, &bundle) != EMG_OK)
		return EMG_EUSAGE;
	if (bundle == NULL)
		return usage_fail(argv[0], "%s", "BUNDLE is required");
	memset(&w, 0, sizeof w);
	w.path = bundle;
	emg_bundle_limits_default(&w.lim);
	w.keep_payload = 1;
	/* The container rules still hold (limits, names, hashes): inspecting
	 * must be as safe on hostile input as verifying. */
	rc = emg_walk_run(&w, &err);
	if (rc == EMG_OK) {
		print_manifest(&w, bundle, json != NULL);
		print_signers(&w, json != NULL);
		print_rotations(&w, json != NULL);
		print_feed_summary(&w, json != NULL);
		if (json != NULL)
			printf("}\n");
	}
	emg_walk_free(&w);
	return rc == EMG_OK ? EMG_OK : json_error(json != NULL, &err);
}
