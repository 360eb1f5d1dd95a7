/* main.c - emgap-keys: organisation keys, signatures and key certificates
 * in minisign's formats. See emgap-keys(1). */
#include "keys.h"
#include "err.h"
#include "fileio.h"
#include "timefmt.h"
#include "version.h"

#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sodium.h>

#define PROG "emgap-keys"
#define SIGFILE_MAX 16384
#define CERTFILE_MAX 4096
#define LEGACY_MSG_MAX (1024UL * 1024 * 1024) /* minisign's limit without prehashing */
#define ROOTS_MAX 16

static const char usage_text[] =
	"usage: " PROG " COMMAND [OPTIONS]\n"
	"\n"
	"  generate --public FILE --secret FILE [--no-passphrase] [--comment TEXT]\n"
	"           [--passphrase-file F] [--kdf-opslimit N] [--kdf-memlimit N]\n"
	"  sign     --secret FILE [--trusted-comment TEXT] [--untrusted-comment TEXT]\n"
	"           [--passphrase-file F] FILE...          writes FILE.minisig\n"
	"  verify   --public FILE [--signature SIG] [--quiet] [--json] FILE\n"
	"  certify  --root-secret FILE --key PUB --expires DATE [--not-before DATE]\n"
	"           [--role ROLE] [--passphrase-file F] -o CERT   writes CERT, CERT.minisig\n"
	"  verify-cert --root PUB [--root PUB]... [--at TIME] [--role ROLE]\n"
	"           [--signature SIG] [--json] CERT\n"
	"\n"
	"  --help, --version\n"
	"\n"
	"Times: 2026-11-25T18:00:00Z, 2026-11-25 (midnight UTC) or @SECONDS.\n"
	"Exit: 0 ok, 2 usage, 3 malformed input, 4 verification failed,\n"
	"      5 certificate expired or not yet valid, 7 I/O. See emgap-keys(1).\n";

static int usage_error(emg_err *err, const char *what)
{
	return emg_fail(err, EMG_EUSAGE, "%s (see '" PROG " --help')", what);
}

/* getopt_long over a subcommand's arguments; messages name the subcommand. */
static int next_opt(int argc, char **argv, const char *shortopts, const struct option *longopts)
{
	return getopt_long(argc, argv, shortopts, longopts, NULL);
}

static int parse_u64(const char *s, unsigned long long *out)
{
	char *end = NULL;

	if (s[0] < '0' || s[0] > '9')
		return -1;
	errno = 0;
	*out = strtoull(s, &end, 10);
	return (errno != 0 || *end != '\0') ? -1 : 0;
}

static int parse_time_opt(const char *opt, const char *s, time_t *out, emg_err *err)
{
	if (emg_time_parse(s, out) != 0)
		return emg_fail(err, EMG_EUSAGE,
				"%s: not a time: '%s' (use 2026-11-25T18:00:00Z, 2026-11-25 or @SECONDS)",
				opt, s);
	return EMG_OK;
}

static int check_comment_opt(const char *opt, const char *s, size_t max, emg_err *err)
{
	if (s == NULL)
		return EMG_OK;
	if (strpbrk(s, "\r\n") != NULL)
		return emg_fail(err, EMG_EUSAGE, "%s must be a single line", opt);
	if (strlen(s) > max)
		return emg_fail(err, EMG_EUSAGE, "%s is %zu bytes, over the limit of %zu", opt,
				strlen(s), max);
	return EMG_OK;
}

static int refuse_existing(const char *path, emg_err *err)
{
	struct stat st;

	if (lstat(path, &st) == 0)
		return emg_fail(err, EMG_EIO, "%s: already exists; refusing to overwrite it", path);
	if (errno != ENOENT)
		return emg_fail(err, EMG_EIO, "%s: %s", path, strerror(errno));
	return EMG_OK;
}

static const char *base_name(const char *path)
{
	const char *s = strrchr(path, '/');

	return s ? s + 1 : path;
}

/* A JSON string: quotes, backslashes and every byte outside printable
 * ASCII escaped, so untrusted comments cannot break the document. */
static void json_str(FILE *f, const char *s)
{
	const unsigned char *p;

	fputc('"', f);
	for (p = (const unsigned char *)s; *p != '\0'; p++) {
		if (*p == '"' || *p == '\\')
			fprintf(f, "\\%c", *p);
		else if (*p < 0x20 || *p >= 0x7f)
			fprintf(f, "\\u%04x", *p);
		else
			fputc(*p, f);
	}
	fputc('"', f);
}

static void json_field(FILE *f, const char *name, const char *value, int last)
{
	fprintf(f, "\"%s\":", name);
	json_str(f, value);
	fputs(last ? "}\n" : ",", f);
}

/* The one failure document of --json: the same message as on stderr. */
static void json_failure(const char *status, int rc, const emg_err *err)
{
	printf("{\"valid\":false,\"exit\":%d,", rc);
	if (status != NULL)
		json_field(stdout, "status", status, 0);
	json_field(stdout, "error", err->msg, 1);
}

/* ---- generate ------------------------------------------------------------ */

typedef struct gen_opts {
	const char *pub, *sec, *comment, *passfile;
	int no_pass;
	unsigned long long ops, mem;
} gen_opts;

static int gen_parse(int argc, char **argv, gen_opts *o, emg_err *err)
{
	static const struct option lo[] = {
		{"public", required_argument, NULL, 'p'}, {"secret", required_argument, NULL, 's'},
		{"no-passphrase", no_argument, NULL, 'W'}, {"comment", required_argument, NULL, 'c'},
		{"passphrase-file", required_argument, NULL, 'P'},
		{"kdf-opslimit", required_argument, NULL, 'O'},
		{"kdf-memlimit", required_argument, NULL, 'M'}, {NULL, 0, NULL, 0}};
	int c;

	memset(o, 0, sizeof *o);
	while ((c = next_opt(argc, argv, "p:s:Wc:P:O:M:", lo)) != -1) {
		switch (c) {
		case 'p': o->pub = optarg; break;
		case 's': o->sec = optarg; break;
		case 'W': o->no_pass = 1; break;
		case 'c': o->comment = optarg; break;
		case 'P': o->passfile = optarg; break;
		case 'O':
			if (parse_u64(optarg, &o->ops) != 0)
				return usage_error(err, "--kdf-opslimit needs a number");
			break;
		case 'M':
			if (parse_u64(optarg, &o->mem) != 0)
				return usage_error(err, "--kdf-memlimit needs a number");
			break;
		default: return usage_error(err, "generate: bad option");
		}
	}
	if (optind != argc)
		return usage_error(err, "generate takes no file arguments");
	if (o->pub == NULL || o->sec == NULL)
		return usage_error(err, "generate needs --public FILE and --secret FILE");
	if (o->no_pass && o->passfile != NULL)
		return usage_error(err, "--no-passphrase and --passphrase-file exclude each other");
	if (strcmp(o->pub, o->sec) == 0)
		return usage_error(err, "--public and --secret name the same file");
	return check_comment_opt("--comment", o->comment, EMG_UNTRUSTED_COMMENT_LEN_MAX, err);
}

/* Writes the secret key (exclusively, 0600) and then the public key; a
 * failure on the second removes the first so no half pair is left. */
static int gen_write(const gen_opts *o, const char *sec_text, size_t sec_len,
		     const char *pub_text, size_t pub_len, emg_err *err)
{
	int rc = emg_write_file_new(o->sec, sec_text, sec_len, 0600, err);

	if (rc != EMG_OK)
		return rc;
	rc = emg_write_file_new(o->pub, pub_text, pub_len, 0644, err);
	if (rc != EMG_OK)
		unlink(o->sec);
	return rc;
}

static int cmd_generate(int argc, char **argv, emg_err *err)
{
	char pass[EMG_PASSPHRASE_MAX + 1];
	char *sec_text = NULL, *pub_text = NULL;
	size_t sec_len = 0, pub_len = 0;
	char id[EMG_KEYID_HEX_LEN];
	gen_opts o;
	emg_pubkey pk;
	emg_seckey sk;
	int rc;

	memset(pass, 0, sizeof pass);
	memset(&sk, 0, sizeof sk);
	if ((rc = gen_parse(argc, argv, &o, err)) != EMG_OK)
		return rc;
	/* Refuse before asking for a passphrase, not after. */
	if ((rc = refuse_existing(o.sec, err)) != EMG_OK || (rc = refuse_existing(o.pub, err)) != EMG_OK)
		return rc;
	if (!o.no_pass) {
		rc = emg_passphrase_get(o.passfile, "Passphrase for the new key: ", 1, pass, err);
		if (rc == EMG_OK && pass[0] == '\0')
			rc = emg_fail(err, EMG_EUSAGE,
				      "empty passphrase; use --no-passphrase for an unencrypted key");
	}
	if (rc == EMG_OK)
		rc = emg_keypair_generate(&pk, &sk, err);
	if (rc == EMG_OK)
		rc = emg_seckey_format(&sk, o.no_pass ? NULL : pass, o.ops, o.mem, o.comment,
				       &sec_text, &sec_len, err);
	sodium_memzero(pass, sizeof pass);
	emg_seckey_wipe(&sk);
	if (rc == EMG_OK)
		rc = emg_pubkey_format(&pk, &pub_text, &pub_len, err);
	if (rc == EMG_OK)
		rc = gen_write(&o, sec_text, sec_len, pub_text, pub_len, err);
	emg_free_secret(sec_text, sec_len);
	free(pub_text);
	if (rc != EMG_OK)
		return rc;
	emg_keyid_hex(pk.keynum, id);
	printf("The secret key was saved as %s - keep it secret!\n"
	       "The public key was saved as %s (key id %s).\n", o.sec, o.pub, id);
	return EMG_OK;
}

/* ---- sign ---------------------------------------------------------------- */

static int sign_one(const emg_seckey *sk, const char *file, const char *untrusted,
		    const char *trusted, emg_err *err)
{
	uint8_t hash[EMG_HASH_LEN];
	char tc[EMG_TRUSTED_COMMENT_LEN_MAX + 1];
	char sigpath[PATH_MAX];
	char *text = NULL;
	size_t len = 0;
	int rc;

	if (snprintf(sigpath, sizeof sigpath, "%s.minisig", file) >= (int)sizeof sigpath)
		return emg_fail(err, EMG_EIO, "%s: path too long", file);
	if (trusted == NULL) {
		/* minisign's default, so minisign -V shows the same kind of line. */
		snprintf(tc, sizeof tc, "timestamp:%lld\tfile:%s\thashed", (long long)time(NULL),
			 base_name(file));
		trusted = tc;
	}
	if ((rc = emg_hash_file(file, hash, err)) != EMG_OK)
		return rc;
	if ((rc = emg_sign_hash(sk, hash, untrusted, trusted, &text, &len, err)) != EMG_OK)
		return emg_err_prefix(err, "%s", file);
	rc = emg_write_file_atomic(sigpath, text, len, 0644, err);
	free(text);
	return rc;
}

static int cmd_sign(int argc, char **argv, emg_err *err)
{
	static const struct option lo[] = {
		{"secret", required_argument, NULL, 's'},
		{"trusted-comment", required_argument, NULL, 't'},
		{"untrusted-comment", required_argument, NULL, 'c'},
		{"passphrase-file", required_argument, NULL, 'P'}, {NULL, 0, NULL, 0}};
	const char *sec = NULL, *tc = NULL, *uc = NULL, *passfile = NULL;
	emg_seckey sk;
	int c, i, rc;

	while ((c = next_opt(argc, argv, "s:t:c:P:", lo)) != -1) {
		switch (c) {
		case 's': sec = optarg; break;
		case 't': tc = optarg; break;
		case 'c': uc = optarg; break;
		case 'P': passfile = optarg; break;
		default: return usage_error(err, "sign: bad option");
		}
	}
	if (sec == NULL || optind >= argc)
		return usage_error(err, "sign needs --secret FILE and at least one FILE");
	/* Check the comments before the passphrase is asked for. */
	if ((rc = check_comment_opt("--trusted-comment", tc, EMG_TRUSTED_COMMENT_LEN_MAX, err)) != EMG_OK ||
	    (rc = check_comment_opt("--untrusted-comment", uc, EMG_UNTRUSTED_COMMENT_LEN_MAX, err)) != EMG_OK)
		return rc;
	if ((rc = emg_seckey_open(sec, passfile, &sk, err)) != EMG_OK)
		return rc;
	for (i = optind; i < argc && rc == EMG_OK; i++)
		rc = sign_one(&sk, argv[i], uc, tc, err);
	emg_seckey_wipe(&sk);
	return rc;
}

/* ---- verify -------------------------------------------------------------- */

static int load_signature(const char *path, emg_signature *sig, emg_err *err)
{
	uint8_t *buf = NULL;
	size_t len = 0;
	int rc;

	rc = emg_read_file(path, SIGFILE_MAX, EMG_ECONFIG, &buf, &len, err);
	if (rc != EMG_OK)
		return rc;
	rc = emg_signature_parse((const char *)buf, len, sig, err);
	free(buf);
	if (rc != EMG_OK)
		return emg_err_prefix(err, "%s", path);
	return EMG_OK;
}

/* "ED" signatures are checked against a streamed hash; legacy "Ed" ones
 * need the whole file, within minisign's 1 GiB limit. */
static int verify_file(const emg_pubkey *pk, const emg_signature *sig, const char *file,
		       const char *sigpath, emg_err *err)
{
	uint8_t hash[EMG_HASH_LEN];
	uint8_t *msg = NULL;
	size_t len = 0;
	int rc;

	if (memcmp(sig->alg, "ED", 2) == 0) {
		if ((rc = emg_hash_file(file, hash, err)) != EMG_OK)
			return rc;
		rc = emg_signature_verify_hash(pk, sig, hash, sigpath, err);
	} else {
		if ((rc = emg_read_file(file, LEGACY_MSG_MAX, EMG_ECONFIG, &msg, &len, err)) != EMG_OK)
			return rc;
		rc = emg_signature_verify_named(pk, sig, msg, len, sigpath, err);
		free(msg);
	}
	if (rc != EMG_OK)
		return emg_err_prefix(err, "%s", file);
	return EMG_OK;
}

static void verify_json(const char *file, const char *sigpath, const emg_signature *sig)
{
	char id[EMG_KEYID_HEX_LEN], alg[3] = {(char)sig->alg[0], (char)sig->alg[1], '\0'};

	emg_keyid_hex(sig->keynum, id);
	fputs("{\"valid\":true,", stdout);
	json_field(stdout, "file", file, 0);
	json_field(stdout, "signature", sigpath, 0);
	json_field(stdout, "key_id", id, 0);
	json_field(stdout, "algorithm", alg, 0);
	json_field(stdout, "trusted_comment", sig->trusted_comment, 1);
}

static int cmd_verify(int argc, char **argv, emg_err *err)
{
	static const struct option lo[] = {
		{"public", required_argument, NULL, 'p'}, {"signature", required_argument, NULL, 'x'},
		{"quiet", no_argument, NULL, 'q'}, {"json", no_argument, NULL, 'j'},
		{NULL, 0, NULL, 0}};
	const char *pub = NULL, *sigpath = NULL;
	char defsig[PATH_MAX];
	emg_signature *sig;
	emg_pubkey pk;
	int c, quiet = 0, json = 0, rc;

	while ((c = next_opt(argc, argv, "p:x:qj", lo)) != -1) {
		switch (c) {
		case 'p': pub = optarg; break;
		case 'x': sigpath = optarg; break;
		case 'q': quiet = 1; break;
		case 'j': json = 1; break;
		default: return usage_error(err, "verify: bad option");
		}
	}
	if (pub == NULL || optind + 1 != argc)
		return usage_error(err, "verify needs --public FILE and exactly one FILE");
	if (sigpath == NULL) {
		if (snprintf(defsig, sizeof defsig, "%s.minisig", argv[optind]) >= (int)sizeof defsig)
			return emg_fail(err, EMG_EIO, "%s: path too long", argv[optind]);
		sigpath = defsig;
	}
	sig = malloc(sizeof *sig); /* 8 KiB of comment: keep it off the stack */
	if (sig == NULL)
		return emg_fail(err, EMG_EIO, "out of memory");
	rc = emg_pubkey_load(pub, &pk, err);
	if (rc == EMG_OK)
		rc = load_signature(sigpath, sig, err);
	if (rc == EMG_OK)
		rc = verify_file(&pk, sig, argv[optind], sigpath, err);
	if (json && rc == EMG_OK)
		verify_json(argv[optind], sigpath, sig);
	else if (json)
		json_failure(NULL, rc, err);
	else if (rc == EMG_OK && !quiet)
		printf("Signature and comment signature verified\nTrusted comment: %s\n",
		       sig->trusted_comment);
	free(sig);
	return rc;
}

/* ---- certify ------------------------------------------------------------- */

typedef struct cert_opts {
	const char *root_sec, *key, *out, *role, *passfile;
	time_t not_before, expires;
	int have_expires;
} cert_opts;

static int certify_parse(int argc, char **argv, cert_opts *o, emg_err *err)
{
	static const struct option lo[] = {
		{"root-secret", required_argument, NULL, 's'}, {"key", required_argument, NULL, 'k'},
		{"expires", required_argument, NULL, 'e'}, {"not-before", required_argument, NULL, 'n'},
		{"role", required_argument, NULL, 'r'}, {"output", required_argument, NULL, 'o'},
		{"passphrase-file", required_argument, NULL, 'P'}, {NULL, 0, NULL, 0}};
	int c, rc;

	memset(o, 0, sizeof *o);
	o->role = "bundle";
	o->not_before = time(NULL);
	while ((c = next_opt(argc, argv, "s:k:e:n:r:o:P:", lo)) != -1) {
		switch (c) {
		case 's': o->root_sec = optarg; break;
		case 'k': o->key = optarg; break;
		case 'e':
			if ((rc = parse_time_opt("--expires", optarg, &o->expires, err)) != EMG_OK)
				return rc;
			o->have_expires = 1;
			break;
		case 'n':
			if ((rc = parse_time_opt("--not-before", optarg, &o->not_before, err)) != EMG_OK)
				return rc;
			break;
		case 'r': o->role = optarg; break;
		case 'o': o->out = optarg; break;
		case 'P': o->passfile = optarg; break;
		default: return usage_error(err, "certify: bad option");
		}
	}
	if (optind != argc)
		return usage_error(err, "certify takes no file arguments besides its options");
	if (o->root_sec == NULL || o->key == NULL || !o->have_expires || o->out == NULL)
		return usage_error(err, "certify needs --root-secret, --key, --expires and -o");
	if (o->expires <= o->not_before)
		return usage_error(err, "--expires must be after --not-before");
	return EMG_OK;
}

static int cmd_certify(int argc, char **argv, emg_err *err)
{
	char sigpath[PATH_MAX], tc[512], id[EMG_KEYID_HEX_LEN], nb[EMG_TIME_LEN], ex[EMG_TIME_LEN];
	char *cert = NULL, *sig = NULL;
	size_t cert_len = 0, sig_len = 0;
	cert_opts o;
	emg_pubkey key;
	emg_seckey root;
	int rc;

	if ((rc = certify_parse(argc, argv, &o, err)) != EMG_OK)
		return rc;
	if (snprintf(sigpath, sizeof sigpath, "%s.minisig", o.out) >= (int)sizeof sigpath)
		return emg_fail(err, EMG_EIO, "%s: path too long", o.out);
	if ((rc = emg_pubkey_load(o.key, &key, err)) != EMG_OK)
		return rc;
	if ((rc = emg_cert_format(&key, o.role, o.not_before, o.expires, &cert, &cert_len, err)) != EMG_OK)
		return rc;
	if ((rc = emg_seckey_open(o.root_sec, o.passfile, &root, err)) != EMG_OK) {
		free(cert);
		return rc;
	}
	emg_keyid_hex(key.keynum, id);
	snprintf(tc, sizeof tc, "timestamp:%lld\tfile:%s\tkey:%s\trole:%s\thashed",
		 (long long)time(NULL), base_name(o.out), id, o.role);
	rc = emg_sign(&root, (const uint8_t *)cert, cert_len, NULL, tc, &sig, &sig_len, err);
	emg_seckey_wipe(&root);
	/* Certificate first: a signature never points at a missing file. */
	if (rc == EMG_OK)
		rc = emg_write_file_atomic(o.out, cert, cert_len, 0644, err);
	if (rc == EMG_OK)
		rc = emg_write_file_atomic(sigpath, sig, sig_len, 0644, err);
	free(cert);
	free(sig);
	if (rc != EMG_OK)
		return rc;
	emg_time_format(o.not_before, nb);
	emg_time_format(o.expires, ex);
	printf("Certified key %s for role %s from %s until %s: %s and %s\n", id, o.role, nb, ex, o.out,
	       sigpath);
	if (o.expires <= time(NULL))
		fprintf(stderr, PROG ": warning: this certificate has already expired\n");
	return EMG_OK;
}

/* ---- verify-cert --------------------------------------------------------- */

typedef struct vc_opts {
	const char *roots[ROOTS_MAX];
	size_t nroots;
	const char *role, *sigpath;
	time_t at;
	int json;
} vc_opts;

static int vc_parse(int argc, char **argv, vc_opts *o, emg_err *err)
{
	static const struct option lo[] = {
		{"root", required_argument, NULL, 'p'}, {"at", required_argument, NULL, 'a'},
		{"role", required_argument, NULL, 'r'}, {"signature", required_argument, NULL, 'x'},
		{"json", no_argument, NULL, 'j'}, {NULL, 0, NULL, 0}};
	int c, rc;

	memset(o, 0, sizeof *o);
	o->role = "bundle";
	o->at = time(NULL);
	while ((c = next_opt(argc, argv, "p:a:r:x:j", lo)) != -1) {
		switch (c) {
		case 'p':
			if (o->nroots == ROOTS_MAX)
				return usage_error(err, "too many --root keys");
			o->roots[o->nroots++] = optarg;
			break;
		case 'a':
			if ((rc = parse_time_opt("--at", optarg, &o->at, err)) != EMG_OK)
				return rc;
			break;
		case 'r': o->role = optarg; break;
		case 'x': o->sigpath = optarg; break;
		case 'j': o->json = 1; break;
		default: return usage_error(err, "verify-cert: bad option");
		}
	}
	if (o->nroots == 0 || optind + 1 != argc)
		return usage_error(err, "verify-cert needs at least one --root PUB and one CERT");
	return EMG_OK;
}

static void vc_print(const vc_opts *o, const char *cert_path, const emg_cert *c, const char *rid)
{
	char id[EMG_KEYID_HEX_LEN], nb[EMG_TIME_LEN], ex[EMG_TIME_LEN];

	emg_keyid_hex(c->key.keynum, id);
	emg_time_format(c->not_before, nb);
	emg_time_format(c->expires, ex);
	if (!o->json) {
		printf("Certificate valid: key %s, role %s, not-before %s, expires %s, certified by root %s\n",
		       id, c->role, nb, ex, rid);
		return;
	}
	fputs("{\"valid\":true,", stdout);
	json_field(stdout, "certificate", cert_path, 0);
	json_field(stdout, "key_id", id, 0);
	json_field(stdout, "role", c->role, 0);
	json_field(stdout, "not_before", nb, 0);
	json_field(stdout, "expires", ex, 0);
	json_field(stdout, "root_key_id", rid, 1);
}

static int vc_check(const vc_opts *o, const emg_pubkey *roots, const char *cert_path,
		    const char *sigpath, emg_err *err)
{
	emg_roots set = {roots, o->nroots};
	enum emg_signer_status st = EMG_SIGNER_MALFORMED;
	uint8_t *cert = NULL, *sig = NULL;
	size_t cert_len = 0, sig_len = 0;
	char rid[EMG_KEYID_HEX_LEN];
	emg_cert c;
	int rc, io = 1;

	rc = emg_read_file(cert_path, CERTFILE_MAX, EMG_ECONFIG, &cert, &cert_len, err);
	if (rc == EMG_OK)
		rc = emg_read_file(sigpath, SIGFILE_MAX, EMG_ECONFIG, &sig, &sig_len, err);
	if (rc == EMG_OK) {
		io = 0;
		rc = emg_cert_verify(&set, (const char *)cert, cert_len, (const char *)sig, sig_len,
				     o->role, o->at, &c, &st, rid, err);
		if (rc != EMG_OK)
			emg_err_prefix(err, "%s", cert_path);
	}
	free(cert);
	free(sig);
	if (rc == EMG_OK)
		vc_print(o, cert_path, &c, rid);
	else if (o->json)
		json_failure(io ? NULL : emg_signer_status_name(st), rc, err);
	return rc;
}

static int cmd_verify_cert(int argc, char **argv, emg_err *err)
{
	emg_pubkey roots[ROOTS_MAX];
	char defsig[PATH_MAX];
	vc_opts o;
	size_t i;
	int rc;

	if ((rc = vc_parse(argc, argv, &o, err)) != EMG_OK)
		return rc;
	for (i = 0; i < o.nroots; i++)
		if ((rc = emg_pubkey_load(o.roots[i], &roots[i], err)) != EMG_OK)
			return rc;
	if (o.sigpath == NULL) {
		if (snprintf(defsig, sizeof defsig, "%s.minisig", argv[optind]) >= (int)sizeof defsig)
			return emg_fail(err, EMG_EIO, "%s: path too long", argv[optind]);
		o.sigpath = defsig;
	}
	return vc_check(&o, roots, argv[optind], o.sigpath, err);
}

/* ---- dispatch ------------------------------------------------------------ */

static const struct {
	const char *name;
	int (*fn)(int argc, char **argv, emg_err *err);
} commands[] = {
	{"generate", cmd_generate}, {"sign", cmd_sign}, {"verify", cmd_verify},
	{"certify", cmd_certify}, {"verify-cert", cmd_verify_cert},
};

int main(int argc, char **argv)
{
	char name[64];
	emg_err err;
	size_t i;
	int rc;

	emg_err_clear(&err);
	if (argc < 2) {
		fputs(usage_text, stderr);
		return EMG_EUSAGE;
	}
	if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0 ||
	    strcmp(argv[1], "help") == 0) {
		fputs(usage_text, stdout);
		return EMG_OK;
	}
	if (strcmp(argv[1], "--version") == 0) {
		printf(PROG " %s\n", EMG_VERSION);
		return EMG_OK;
	}
	if (sodium_init() < 0) {
		fprintf(stderr, PROG ": libsodium cannot be initialised\n");
		return EMG_EIO;
	}
	for (i = 0; i < sizeof commands / sizeof commands[0]; i++) {
		if (strcmp(argv[1], commands[i].name) != 0)
			continue;
		/* getopt's own messages then read "emgap-keys sign: ...". */
		snprintf(name, sizeof name, PROG " %s", commands[i].name);
		argv[1] = name;
		rc = commands[i].fn(argc - 1, argv + 1, &err);
		if (rc != EMG_OK)
			emg_err_print(PROG, &err);
		return rc;
	}
	fprintf(stderr, PROG ": unknown command '%s' (see '" PROG " --help')\n", argv[1]);
	return EMG_EUSAGE;
}
