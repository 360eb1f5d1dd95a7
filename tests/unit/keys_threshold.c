/* keys_threshold.c - key certificates and emg_threshold_verify: m distinct
 * signing keys, each certified by a trusted root for the role, valid at T. */
#include "check.h"
#include "keys/keys.h"

#include <sodium.h>

#define T0 1795600000 /* 2026-11-25 */
#define DAY 86400

typedef struct party {
	emg_pubkey pk;
	emg_seckey sk;
} party;

/* One signer's three files, owned by the test. */
typedef struct signer_files {
	char *cert, *cert_sig, *sig;
	size_t cert_len, cert_sig_len, sig_len;
} signer_files;

static const char MSG[] = "manifest v1\nsequence: 7\n";

static int make_party(party *p)
{
	emg_err err;

	return emg_keypair_generate(&p->pk, &p->sk, &err) == EMG_OK;
}

/* root certifies key for role over [nb, ex); key signs msg. */
static int make_signer(const party *root, const party *key, const char *role, time_t nb, time_t ex,
		       const char *msg, signer_files *f)
{
	emg_err err;

	memset(f, 0, sizeof *f);
	return emg_cert_format(&key->pk, role, nb, ex, &f->cert, &f->cert_len, &err) == EMG_OK &&
	       emg_sign(&root->sk, (const uint8_t *)f->cert, f->cert_len, NULL, "cert", &f->cert_sig,
			&f->cert_sig_len, &err) == EMG_OK &&
	       emg_sign(&key->sk, (const uint8_t *)msg, strlen(msg), NULL, "bundle", &f->sig, &f->sig_len,
			&err) == EMG_OK;
}

static void free_signer(signer_files *f)
{
	free(f->cert);
	free(f->cert_sig);
	free(f->sig);
}

static emg_signer_input as_input(const signer_files *f, const char *label)
{
	emg_signer_input in = {f->cert, f->cert_len, f->cert_sig, f->cert_sig_len, f->sig, f->sig_len,
			       label};
	return in;
}

/* Runs the check over k signers with threshold m; returns rc. */
static int run(const emg_roots *roots, const emg_signer_input *in, size_t k, unsigned m,
	       emg_signer_result *res, unsigned *valid, emg_err *err)
{
	return emg_threshold_verify(roots, in, k, (const uint8_t *)MSG, strlen(MSG), "bundle",
				    T0 + DAY, m, res, valid, err);
}

static void test_cert_text(check_ctx *c, const party *a)
{
	emg_cert cert;
	emg_err err;
	char *t = NULL, id[EMG_KEYID_HEX_LEN], b64[EMG_PUBKEY_B64_SIZE], want[512];
	size_t len = 0;

	emg_keyid_hex(a->pk.keynum, id);
	emg_pubkey_to_base64(&a->pk, b64);
	snprintf(want, sizeof want,
		 "emgap-key-certificate: 1\nkey: %s\nkey-id: %s\nrole: bundle\n"
		 "not-before: 2026-11-25T00:00:00Z\nexpires: 2027-11-25T00:00:00Z\n", b64, id);
	CHECK(c, emg_cert_format(&a->pk, "bundle", 1795564800, 1795564800 + 365 * DAY, &t, &len, &err) == EMG_OK &&
		 strcmp(t, want) == 0, "certificate text as documented");
	CHECK(c, emg_cert_parse(t, len, &cert, &err) == EMG_OK && emg_pubkey_equal(&cert.key, &a->pk) &&
		 strcmp(cert.role, "bundle") == 0 && cert.not_before == 1795564800,
	      "certificate parses back");
	free(t);
	t = strdup(want);
	t[strlen(t) - 3] = '1'; /* ...:01Z: still valid */
	CHECK(c, emg_cert_parse(t, strlen(t), &cert, &err) == EMG_OK, "edited time still parses");
	memcpy(strstr(t, "key-id: ") + 8, "0000", 4);
	CHECK(c, emg_cert_parse(t, strlen(t), &cert, &err) == EMG_ECONFIG &&
		 strstr(err.msg, "does not match the key") != NULL, "key-id must match the key");
	free(t);
	snprintf(want + strlen(want), sizeof want - strlen(want), "extra: 1\n");
	CHECK(c, emg_cert_parse(want, strlen(want), &cert, &err) == EMG_ECONFIG &&
		 strstr(err.msg, "unexpected text") != NULL, "unknown line refused");
	CHECK(c, emg_cert_parse("emgap-key-certificate: 2\n", 25, &cert, &err) == EMG_ECONFIG &&
		 strstr(err.msg, "line 1") != NULL, "unknown version refused");
	CHECK(c, emg_cert_format(&a->pk, "Bundle!", 0, 10, &t, &len, &err) == EMG_EUSAGE,
	      "bad role refused");
	CHECK(c, emg_cert_format(&a->pk, "bundle", 10, 10, &t, &len, &err) == EMG_EUSAGE,
	      "empty window refused");
}

static void test_threshold(check_ctx *c, party *p)
{
	/* p[0], p[1]: roots; p[2..5]: signing keys; p[6]: an untrusted root. */
	emg_pubkey root_keys[2] = {p[0].pk, p[1].pk};
	emg_roots roots = {root_keys, 2};
	signer_files f[12];
	emg_signer_input in[12];
	emg_signer_result res[12];
	unsigned valid = 99;
	emg_err err;
	int ok = 1, i;

	ok &= make_signer(&p[0], &p[2], "bundle", T0, T0 + 30 * DAY, MSG, &f[0]);
	ok &= make_signer(&p[1], &p[3], "bundle", T0, T0 + 30 * DAY, MSG, &f[1]);
	ok &= make_signer(&p[0], &p[4], "bundle", T0 - 30 * DAY, T0, MSG, &f[2]);      /* expired */
	ok &= make_signer(&p[0], &p[5], "bundle", T0 + 2 * DAY, T0 + 9 * DAY, MSG, &f[3]); /* not yet */
	ok &= make_signer(&p[0], &p[5], "root", T0, T0 + 9 * DAY, MSG, &f[4]);       /* wrong role */
	ok &= make_signer(&p[6], &p[5], "bundle", T0, T0 + 9 * DAY, MSG, &f[5]);     /* unknown root */
	ok &= make_signer(&p[0], &p[5], "bundle", T0, T0 + 9 * DAY, "other message", &f[6]); /* bad sig */
	ok &= make_signer(&p[0], &p[2], "bundle", T0, T0 + 30 * DAY, MSG, &f[7]);    /* same key as f[0] */
	ok &= make_signer(&p[1], &p[2], "bundle", T0, T0 + 30 * DAY, MSG, &f[8]);    /* same key, other root */
	ok &= make_signer(&p[0], &p[5], "bundle", T0, T0 + 9 * DAY, MSG, &f[9]);
	ok &= make_signer(&p[0], &p[4], "bundle", T0, T0 + DAY, MSG, &f[10]);         /* expires at T */
	ok &= make_signer(&p[0], &p[4], "bundle", T0 + DAY, T0 + 2 * DAY, MSG, &f[11]); /* starts at T */
	CHECK(c, ok, "signer material made");
	if (!ok)
		return;
	for (i = 0; i < 12; i++)
		in[i] = as_input(&f[i], NULL);
	in[0].label = "sig/A.minisig";

	CHECK(c, run(&roots, in, 2, 2, res, &valid, &err) == EMG_OK && valid == 2 &&
		 res[0].status == EMG_SIGNER_VALID && res[1].status == EMG_SIGNER_VALID,
	      "2 of 2 keys from two roots");
	CHECK(c, run(&roots, in, 2, 3, res, &valid, &err) == EMG_EVERIFY && valid == 2 &&
		 strstr(err.msg, "2 of 3 required") != NULL, "3 required, 2 valid: refused with counts");

	/* Each failure kind, alone with threshold 1. */
	{
		static const struct {
			int idx;
			enum emg_signer_status want;
			const char *text;
		} cases[] = {
			{2, EMG_SIGNER_EXPIRED, "expired at"},
			{3, EMG_SIGNER_NOT_YET_VALID, "not valid before"},
			{4, EMG_SIGNER_WRONG_ROLE, "role \"root\""},
			{5, EMG_SIGNER_UNKNOWN_ROOT, "not a trusted root"},
			{6, EMG_SIGNER_BAD_SIG, "signature verification failed"},
			{10, EMG_SIGNER_EXPIRED, "expired at"},
		};
		size_t k;
		for (k = 0; k < sizeof cases / sizeof cases[0]; k++) {
			char name[96];
			int rc = run(&roots, &in[cases[k].idx], 1, 1, res, &valid, &err);
			snprintf(name, sizeof name, "refused: %s", emg_signer_status_name(cases[k].want));
			CHECK(c, rc == EMG_EVERIFY && valid == 0 && res[0].status == cases[k].want &&
				 strstr(res[0].why, cases[k].text) != NULL && strstr(err.msg, cases[k].text) != NULL &&
				 strstr(err.msg, "0 of 1 required") != NULL, name);
		}
	}
	CHECK(c, run(&roots, &in[11], 1, 1, res, &valid, &err) == EMG_OK, "valid from not-before exactly");
	CHECK(c, res[0].not_before == T0 + DAY && res[0].expires == T0 + 2 * DAY, "result carries the window");

	/* Duplicates: the same key through two files (and two roots) counts once. */
	{
		emg_signer_input dup[3] = {in[0], in[7], in[8]};
		CHECK(c, run(&roots, dup, 3, 2, res, &valid, &err) == EMG_EVERIFY && valid == 1 &&
			 res[1].status == EMG_SIGNER_DUPLICATE && res[2].status == EMG_SIGNER_DUPLICATE &&
			 strstr(err.msg, "already counted") != NULL, "duplicate signatures from one key counted once");
		dup[2] = in[1];
		CHECK(c, run(&roots, dup, 3, 2, res, &valid, &err) == EMG_OK && valid == 2,
		      "duplicate does not hide a second key");
	}
	/* The same Ed25519 key certified under a second key number is one key. */
	{
		party alias = p[2];
		signer_files af;
		emg_signer_input two[2];
		alias.pk.keynum[0] ^= 0x5a;
		alias.sk.keynum[0] ^= 0x5a;
		CHECK(c, make_signer(&p[1], &alias, "bundle", T0, T0 + 30 * DAY, MSG, &af), "alias material made");
		two[0] = in[0];
		two[1] = as_input(&af, NULL);
		CHECK(c, run(&roots, &two[1], 1, 1, res, &valid, &err) == EMG_OK, "alias alone is valid");
		CHECK(c, run(&roots, two, 2, 2, res, &valid, &err) == EMG_EVERIFY && valid == 1 &&
			 res[1].status == EMG_SIGNER_DUPLICATE, "one Ed25519 key under two key numbers counts once");
		free_signer(&af);
		emg_seckey_wipe(&alias.sk);
	}
	/* An invalid copy first does not stop a valid one of the same key counting. */
	{
		emg_signer_input two[2] = {in[3], in[9]};
		CHECK(c, run(&roots, two, 2, 1, res, &valid, &err) == EMG_OK && valid == 1 &&
			 res[0].status == EMG_SIGNER_NOT_YET_VALID && res[1].status == EMG_SIGNER_VALID,
		      "valid signature after an invalid one of the same key counts");
	}
	/* Key mismatch: key 3's certificate with key 2's signature. */
	{
		emg_signer_input mix = in[1];
		char a[EMG_KEYID_HEX_LEN], b[EMG_KEYID_HEX_LEN];
		mix.sig = in[0].sig;
		mix.sig_len = in[0].sig_len;
		mix.label = "sig/X.minisig";
		emg_keyid_minisign(p[2].pk.keynum, a);
		emg_keyid_minisign(p[3].pk.keynum, b);
		CHECK(c, run(&roots, &mix, 1, 1, res, &valid, &err) == EMG_EVERIFY &&
			 res[0].status == EMG_SIGNER_KEY_MISMATCH && strstr(res[0].why, "sig/X.minisig") != NULL &&
			 strstr(res[0].why, a) != NULL && strstr(res[0].why, b) != NULL,
		      "signature by another key than the certificate's");
	}
	/* Tampered certificate: role edited after the root signed it. */
	{
		emg_signer_input bad = in[0];
		char *t = strdup(f[0].cert);
		memcpy(strstr(t, "role: bundle"), "role: bundlf", 12);
		bad.cert = t;
		CHECK(c, emg_threshold_verify(&roots, &bad, 1, (const uint8_t *)MSG, strlen(MSG), "bundlf",
					      T0 + DAY, 1, res, &valid, &err) == EMG_EVERIFY &&
			 res[0].status == EMG_SIGNER_BAD_CERT_SIG, "edited certificate refused");
		free(t);
	}
	/* Malformed input: a truncated signature file. */
	{
		emg_signer_input bad = in[0];
		bad.sig_len = 60;
		CHECK(c, run(&roots, &bad, 1, 1, res, &valid, &err) == EMG_EVERIFY &&
			 res[0].status == EMG_SIGNER_MALFORMED && strstr(res[0].why, "signature") != NULL,
		      "malformed signature reported");
		bad = in[0];
		bad.cert_len = 30;
		CHECK(c, run(&roots, &bad, 1, 1, res, &valid, &err) == EMG_EVERIFY &&
			 res[0].status == EMG_SIGNER_MALFORMED, "malformed certificate reported");
	}
	CHECK(c, run(&roots, in, 2, 0, NULL, NULL, &err) == EMG_ECONFIG, "threshold 0 refused");
	CHECK(c, run(&roots, in, 0, 1, NULL, &valid, &err) == EMG_EVERIFY && valid == 0,
	      "no signatures: refused");
	{
		emg_roots none = {NULL, 0};
		CHECK(c, run(&none, in, 2, 1, res, &valid, &err) == EMG_EVERIFY &&
			 res[0].status == EMG_SIGNER_UNKNOWN_ROOT, "no trusted roots: nothing valid");
	}
	/* A decoy root sharing the real root's key number does not hide it. */
	{
		emg_pubkey two[2] = {p[6].pk, p[0].pk};
		emg_roots shared = {two, 2};
		memcpy(two[0].keynum, p[0].pk.keynum, EMG_KEYNUM_LEN);
		CHECK(c, run(&shared, in, 1, 1, res, &valid, &err) == EMG_OK,
		      "roots sharing a key number: each is tried");
		shared.count = 1;
		CHECK(c, run(&shared, in, 1, 1, res, &valid, &err) == EMG_EVERIFY &&
			 res[0].status == EMG_SIGNER_BAD_CERT_SIG, "decoy alone: bad certificate signature");
	}
	/* emg_cert_verify on its own, with the exit codes emgap-keys uses. */
	{
		enum emg_signer_status st;
		char rid[EMG_KEYID_HEX_LEN], want[EMG_KEYID_HEX_LEN];
		emg_cert cert;
		emg_keyid_hex(p[0].pk.keynum, want);
		CHECK(c, emg_cert_verify(&roots, f[0].cert, f[0].cert_len, f[0].cert_sig, f[0].cert_sig_len,
					 "bundle", T0, &cert, &st, rid, &err) == EMG_OK &&
			 st == EMG_SIGNER_VALID && strcmp(rid, want) == 0, "cert verify names its root");
		CHECK(c, emg_cert_verify(&roots, f[2].cert, f[2].cert_len, f[2].cert_sig, f[2].cert_sig_len,
					 "bundle", T0, &cert, &st, rid, &err) == EMG_EFRESH &&
			 st == EMG_SIGNER_EXPIRED, "expired certificate is a freshness failure");
	}
	for (i = 0; i < 12; i++)
		free_signer(&f[i]);
}

int main(void)
{
	check_ctx c = {0};
	party p[7];
	int i, ok = 1;

	if (sodium_init() < 0)
		return 1;
	for (i = 0; i < 7; i++)
		ok &= make_party(&p[i]);
	CHECK(&c, ok, "keys generated");
	test_cert_text(&c, &p[2]);
	test_threshold(&c, p);
	for (i = 0; i < 7; i++)
		emg_seckey_wipe(&p[i].sk);
	return c.failed ? 1 : 0;
}
