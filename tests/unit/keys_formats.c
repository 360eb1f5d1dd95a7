/* keys_formats.c - key, secret key and signature files: minisign's own
 * vectors, round trips, and every kind of damaged input. */
#include "check.h"
#include "keys/keys.h"

#include <stdint.h>
#include <sodium.h>

/* Made by minisign 0.11: "minisign -G -W", then "minisign -S -t 'emgap kat'"
 * and "minisign -S -l -t 'emgap kat legacy'" of the text in KAT_MSG. */
#define KAT_MSG "emgap test vector\n"
static const char kat_pub[] =
	"untrusted comment: minisign public key 4C220ED28F7204DC\n"
	"RWTcBHKP0g4iTA0guo2rcKYj0jFXc3n5/2WI4ie2W8DNnPelsyrUfFy0\n";
static const char kat_sec[] =
	"untrusted comment: minisign encrypted secret key\n"
	"RWQAAEIyAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA3ARyj9IOIkw67DHkGajCMG73Pv"
	"l1a+4c6XbDZXPwDWCyisOM4qY1CA0guo2rcKYj0jFXc3n5/2WI4ie2W8DNnPelsyrUfFy0AAAAAAAAAAAAAAAAAAAAAAAAAAA"
	"AAAAAAAAAAAAAAAA=\n";
static const char kat_sig_ED[] =
	"untrusted comment: signature from minisign secret key\n"
	"RUTcBHKP0g4iTKrRG8FnUyONrru7AUwKwBDJwtURkREjW0hb7tN2cpzEKnq9/UnKzCBGyqISo3Z6X5HyV6s7l/gm3ZEiUwZQnAc=\n"
	"trusted comment: emgap kat\n"
	"4JMXixB+2ecX7N+0kIUuYAkF1kDoOSgsSvFhBYqPmJZMQQC56GK+JuipDyqH/sMSCB2MZ+9JulKywjx0zq3wDA==\n";
static const char kat_sig_Ed[] =
	"untrusted comment: signature from minisign secret key\n"
	"RWTcBHKP0g4iTNeoWxzgtnJzPlLr1JXirPtxRhhs3UPlhtGryL7g3auf2iZD0j8ym+DEElD/L0hxY93+ns+AjB03w6uY7SBwKwk=\n"
	"trusted comment: emgap kat legacy\n"
	"EPRm5fsgm9V8ah8xO5ecBFOgIUZnDSY9gUaXyMT/Q/iDKEtGBTY8H00bI27KjUS1aFRA0eXg9ppDayo75WqrCw==\n";

static const uint8_t *M(const char *s)
{
	return (const uint8_t *)s;
}

static int has(const emg_err *e, const char *s)
{
	return strstr(e->msg, s) != NULL;
}

static void test_kat(check_ctx *c)
{
	emg_pubkey pk, derived;
	emg_seckey sk;
	emg_signature sig;
	emg_err err;
	char id[EMG_KEYID_HEX_LEN];
	char *text = NULL;
	size_t len = 0;

	CHECK(c, emg_pubkey_parse(kat_pub, strlen(kat_pub), &pk, &err) == EMG_OK, "kat: minisign public key parses");
	emg_keyid_hex(pk.keynum, id);
	CHECK(c, strcmp(id, "4C220ED28F7204DC") == 0, "kat: key id as minisign prints it");
	CHECK(c, emg_pubkey_format(&pk, &text, &len, &err) == EMG_OK && len == strlen(kat_pub) &&
		 memcmp(text, kat_pub, len) == 0, "kat: public key file rewritten byte for byte");
	free(text);
	CHECK(c, emg_seckey_parse(kat_sec, strlen(kat_sec), NULL, &sk, &err) == EMG_OK,
	      "kat: minisign -W secret key parses without a passphrase");
	emg_seckey_public(&sk, &derived);
	CHECK(c, emg_pubkey_equal(&pk, &derived), "kat: secret key matches its public key");
	CHECK(c, emg_signature_parse(kat_sig_ED, strlen(kat_sig_ED), &sig, &err) == EMG_OK &&
		 memcmp(sig.alg, "ED", 2) == 0 && strcmp(sig.trusted_comment, "emgap kat") == 0,
	      "kat: prehashed signature parses");
	CHECK(c, emg_signature_verify(&pk, &sig, M(KAT_MSG), strlen(KAT_MSG), &err) == EMG_OK,
	      "kat: minisign's ED signature verifies");
	CHECK(c, emg_signature_verify(&pk, &sig, M("emgap test vector"), 17, &err) == EMG_EVERIFY &&
		 has(&err, "signature verification failed"), "kat: other message fails");
	CHECK(c, emg_signature_parse(kat_sig_Ed, strlen(kat_sig_Ed), &sig, &err) == EMG_OK &&
		 memcmp(sig.alg, "Ed", 2) == 0, "kat: legacy signature parses");
	CHECK(c, emg_signature_verify(&pk, &sig, M(KAT_MSG), strlen(KAT_MSG), &err) == EMG_OK,
	      "kat: minisign's legacy Ed signature verifies");
	{
		uint8_t h[EMG_HASH_LEN];
		emg_hash(M(KAT_MSG), strlen(KAT_MSG), h);
		CHECK(c, emg_signature_verify_hash(&pk, &sig, h, NULL, &err) == EMG_EVERIFY &&
			 has(&err, "legacy"), "kat: legacy signature cannot be checked against a hash");
	}
	/* Our ED signature with minisign's key equals minisign's: Ed25519 is
	 * deterministic, so the same key, hash and comment give the same bytes. */
	CHECK(c, emg_sign(&sk, M(KAT_MSG), strlen(KAT_MSG), NULL, "emgap kat", &text, &len, &err) == EMG_OK &&
		 len == strlen(kat_sig_ED) && memcmp(text, kat_sig_ED, len) == 0,
	      "kat: our signature is byte for byte minisign's");
	free(text);
	emg_seckey_wipe(&sk);

	/* minisign 0.11 drops leading zeros in .pub comments; ids stay 16 digits. */
	memcpy(pk.keynum, "\x87\x28\x00\xce\xf9\x55\x2d\x04", 8);
	emg_keyid_hex(pk.keynum, id);
	CHECK(c, strcmp(id, "042D55F9CE002887") == 0, "key id keeps 16 digits");
	emg_keyid_minisign(pk.keynum, id);
	CHECK(c, strcmp(id, "42D55F9CE002887") == 0, "minisign's key id drops leading zeros");
	CHECK(c, emg_pubkey_format(&pk, &text, &len, &err) == EMG_OK &&
		 strncmp(text, "untrusted comment: minisign public key 42D55F9CE002887\n", 55) == 0,
	      "public key comment as minisign 0.11 writes it");
	free(text);
}

static void test_roundtrip(check_ctx *c)
{
	emg_pubkey pk, pk2;
	emg_seckey sk, sk2;
	emg_signature sig;
	emg_err err;
	char *text = NULL, *st = NULL;
	size_t len = 0, slen = 0;
	int enc = -1;

	CHECK(c, emg_keypair_generate(&pk, &sk, &err) == EMG_OK, "generate");
	CHECK(c, emg_seckey_format(&sk, NULL, 0, 0, NULL, &st, &slen, &err) == EMG_OK, "unencrypted secret key written");
	CHECK(c, emg_seckey_is_encrypted(st, slen, &enc, &err) == EMG_OK && enc == 0, "unencrypted detected");
	CHECK(c, emg_seckey_parse(st, slen, NULL, &sk2, &err) == EMG_OK &&
		 memcmp(sk.sk, sk2.sk, 64) == 0 && memcmp(sk.keynum, sk2.keynum, 8) == 0,
	      "unencrypted secret key reads back");
	emg_free_secret(st, slen);

	CHECK(c, emg_seckey_format(&sk, "correct horse", EMG_KDF_OPSLIMIT_MIN, EMG_KDF_MEMLIMIT_MIN,
				   "test key", &st, &slen, &err) == EMG_OK, "encrypted secret key written");
	CHECK(c, strncmp(st, "untrusted comment: test key\n", 28) == 0, "secret key comment kept");
	CHECK(c, emg_seckey_is_encrypted(st, slen, &enc, &err) == EMG_OK && enc == 1, "encrypted detected");
	CHECK(c, emg_seckey_parse(st, slen, "correct horse", &sk2, &err) == EMG_OK &&
		 memcmp(sk.sk, sk2.sk, 64) == 0, "encrypted secret key decrypts");
	CHECK(c, emg_seckey_parse(st, slen, "wrong horse", &sk2, &err) == EMG_EVERIFY &&
		 has(&err, "wrong passphrase"), "wrong passphrase refused");
	CHECK(c, emg_seckey_parse(st, slen, NULL, &sk2, &err) == EMG_EUSAGE &&
		 has(&err, "passphrase is needed"), "encrypted key without passphrase refused");
	emg_free_secret(st, slen);
	CHECK(c, emg_seckey_format(&sk, "x", 1000, EMG_KDF_MEMLIMIT_MIN, NULL, &st, &slen, &err) == EMG_EUSAGE &&
		 st == NULL, "scrypt limits below minisign's minimum refused");

	CHECK(c, emg_sign(&sk, M("payload"), 7, "u c", "t c", &text, &len, &err) == EMG_OK, "sign");
	CHECK(c, emg_signature_parse(text, len, &sig, &err) == EMG_OK, "own signature parses");
	CHECK(c, emg_signature_verify(&pk, &sig, M("payload"), 7, &err) == EMG_OK, "own signature verifies");
	sig.trusted_comment[0] = 'T';
	CHECK(c, emg_signature_verify(&pk, &sig, M("payload"), 7, &err) == EMG_EVERIFY &&
		 has(&err, "comment signature verification failed"), "changed trusted comment fails");
	free(text);

	CHECK(c, emg_keypair_generate(&pk2, &sk2, &err) == EMG_OK, "second key");
	CHECK(c, emg_sign(&sk2, M("payload"), 7, NULL, NULL, &text, &len, &err) == EMG_OK &&
		 emg_signature_parse(text, len, &sig, &err) == EMG_OK, "second key signs");
	{
		char a[EMG_KEYID_HEX_LEN], b[EMG_KEYID_HEX_LEN];
		emg_keyid_minisign(pk2.keynum, a);
		emg_keyid_minisign(pk.keynum, b);
		CHECK(c, emg_signature_verify_named(&pk, &sig, M("payload"), 7, "p.minisig", &err) == EMG_EVERIFY &&
			 has(&err, "Signature key id in p.minisig is") && has(&err, a) &&
			 has(&err, "but the key id in the public key is") && has(&err, b),
		      "key id mismatch names both ids");
	}
	free(text);
	emg_seckey_wipe(&sk);
	emg_seckey_wipe(&sk2);
}

/* Replaces line n (1-based) of text with repl. */
static char *with_line(const char *text, int n, const char *repl)
{
	static char buf[20000];
	const char *p = text;
	size_t used = 0;
	int line = 1;

	while (*p != '\0') {
		const char *nl = strchr(p, '\n');
		size_t len = nl ? (size_t)(nl - p) : strlen(p);
		const char *src = line == n ? repl : p;
		size_t sl = line == n ? strlen(repl) : len;
		memcpy(buf + used, src, sl);
		used += sl;
		buf[used++] = '\n';
		p += len + (nl ? 1 : 0);
		line++;
	}
	buf[used] = '\0';
	return buf;
}

static void test_bad_input(check_ctx *c)
{
	emg_pubkey pk;
	emg_seckey sk;
	emg_signature sig;
	emg_err err;
	char *t;
	static char longc[EMG_TRUSTED_COMMENT_LEN_MAX + 40];
	char *text = NULL;
	size_t len = 0;

	t = with_line(kat_pub, 2, "RWTcBHKP0g4iTA0guo2rcKYj0jFXc3n5/2WI4ie2W8DNnPelsyrUfF");
	CHECK(c, emg_pubkey_parse(t, strlen(t), &pk, &err) == EMG_ECONFIG && has(&err, "line 2") &&
		 has(&err, "base64"), "truncated public key base64");
	t = with_line(kat_pub, 2, "RWTcBHKP0g4iTA0guo2rcKYj0jFXc3n5/2WI4ie2W8DNnPelsyrU");
	CHECK(c, emg_pubkey_parse(t, strlen(t), &pk, &err) == EMG_ECONFIG && has(&err, "decodes to 39 bytes, expected 42"),
	      "public key short by whole groups");
	t = with_line(kat_pub, 2, "RWTcBHKP0g4iTA0guo2rcKYj0jFXc3n5/2WI4ie2W8DNnPelsyrUfF*0");
	CHECK(c, emg_pubkey_parse(t, strlen(t), &pk, &err) == EMG_ECONFIG && has(&err, "not valid base64"),
	      "bad base64 character");
	/* "Ee" instead of "Ed": base64 of 0x45 0x65 ... */
	t = with_line(kat_pub, 2, "RWXcBHKP0g4iTA0guo2rcKYj0jFXc3n5/2WI4ie2W8DNnPelsyrUfFy0");
	CHECK(c, emg_pubkey_parse(t, strlen(t), &pk, &err) == EMG_ECONFIG &&
		 has(&err, "unsupported signature algorithm \"Ee\""), "wrong public key algorithm");
	CHECK(c, emg_pubkey_parse("untrusted comment: x\n", 21, &pk, &err) == EMG_ECONFIG &&
		 has(&err, "missing"), "public key line missing");
	CHECK(c, emg_pubkey_parse("RWTcBHKP0g4iTA0guo2rcKYj0jFXc3n5/2WI4ie2W8DNnPelsyrUfFy0\n", 57, &pk, &err) ==
		 EMG_ECONFIG && has(&err, "untrusted comment"), "public key without comment line");
	snprintf(longc, sizeof longc, "%sextra\n", kat_pub);
	CHECK(c, emg_pubkey_parse(longc, strlen(longc), &pk, &err) == EMG_ECONFIG && has(&err, "unexpected text"),
	      "trailing garbage after key");
	CHECK(c, emg_pubkey_parse("untrusted comment: x\n\0RWT", 25, &pk, &err) == EMG_ECONFIG &&
		 has(&err, "NUL"), "NUL byte refused");

	/* Secret keys: kdf "Xy" and checksum "B3" (bytes 2..5 of line 2). */
	t = with_line(kat_sec, 2,
		      "RWRYeUIyAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA3ARyj9IOIkw67DHkGajCMG73Pv"
		      "l1a+4c6XbDZXPwDWCyisOM4qY1CA0guo2rcKYj0jFXc3n5/2WI4ie2W8DNnPelsyrUfFy0AAAAAAAAAAAAAAAAAAAAAAAAAAA"
		      "AAAAAAAAAAAAAAAA=");
	CHECK(c, emg_seckey_parse(t, strlen(t), NULL, &sk, &err) == EMG_ECONFIG &&
		 has(&err, "unsupported key derivation function \"Xy\""), "wrong kdf algorithm");
	t = with_line(kat_sec, 2,
		      "RWQAAEIzAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA3ARyj9IOIkw67DHkGajCMG73Pv"
		      "l1a+4c6XbDZXPwDWCyisOM4qY1CA0guo2rcKYj0jFXc3n5/2WI4ie2W8DNnPelsyrUfFy0AAAAAAAAAAAAAAAAAAAAAAAAAAA"
		      "AAAAAAAAAAAAAAAA=");
	CHECK(c, emg_seckey_parse(t, strlen(t), NULL, &sk, &err) == EMG_ECONFIG &&
		 has(&err, "unsupported checksum function \"B3\""), "wrong checksum algorithm");
	/* One flipped bit in the stored public half: caught although -W keys have no checksum. */
	t = with_line(kat_sec, 2,
		      "RWQAAEIyAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA3ARyj9IOIkw67DHkGajCMG73Pv"
		      "l1a+4c6XbDZXPwDWCyisOM4qY1CA0guo2rcKYj0jFXc3n5/2WI4ie2W8DNnPelsyrUfFy1AAAAAAAAAAAAAAAAAAAAAAAAAAA"
		      "AAAAAAAAAAAAAAAA=");
	CHECK(c, emg_seckey_parse(t, strlen(t), NULL, &sk, &err) == EMG_ECONFIG && has(&err, "damaged"),
	      "damaged unencrypted secret key refused");

	/* Signatures. */
	t = with_line(kat_sig_ED, 2, "RUTcBHKP0g4iTKrRG8FnUyONrru7AUwKwBDJwtURkREjW0hb7tN2cpzEKnq9/UnKzCBGyqISo3Z6X5HyV6s7l/gm3ZEiUwZQ");
	CHECK(c, emg_signature_parse(t, strlen(t), &sig, &err) == EMG_ECONFIG && has(&err, "line 2") &&
		 has(&err, "decodes to 72 bytes, expected 74"), "truncated signature");
	t = with_line(kat_sig_ED, 2, "RUXcBHKP0g4iTKrRG8FnUyONrru7AUwKwBDJwtURkREjW0hb7tN2cpzEKnq9/UnKzCBGyqISo3Z6X5HyV6s7l/gm3ZEiUwZQnAc=");
	CHECK(c, emg_signature_parse(t, strlen(t), &sig, &err) == EMG_ECONFIG &&
		 has(&err, "unsupported signature algorithm \"EE\""), "wrong signature algorithm");
	t = with_line(kat_sig_ED, 4, "4JMXixB+2ecX7N+0kIUuYAkF1kDoOSgsSvFhBYqPmJZMQQC56GK+JuipDyqH/sMSCB2MZ+9JulKywjx0zq3w");
	CHECK(c, emg_signature_parse(t, strlen(t), &sig, &err) == EMG_ECONFIG && has(&err, "line 4"),
	      "truncated global signature");
	CHECK(c, emg_signature_parse(kat_sig_ED, 156, &sig, &err) == EMG_ECONFIG && has(&err, "line 3"),
	      "truncated file names the missing line");
	t = with_line(kat_sig_ED, 3, "untrusted comment: x");
	CHECK(c, emg_signature_parse(t, strlen(t), &sig, &err) == EMG_ECONFIG &&
		 has(&err, "trusted comment: "), "trusted comment prefix required");

	/* The trusted comment limit: 8173 bytes fit, 8174 do not (minisign's). */
	memset(longc, 'a', sizeof longc);
	memcpy(longc, "trusted comment: ", 17);
	longc[17 + EMG_TRUSTED_COMMENT_LEN_MAX + 1] = '\0';
	t = with_line(kat_sig_ED, 3, longc);
	CHECK(c, emg_signature_parse(t, strlen(t), &sig, &err) == EMG_ECONFIG &&
		 has(&err, "over the limit of 8173"), "trusted comment over the limit refused on parse");
	longc[17 + EMG_TRUSTED_COMMENT_LEN_MAX] = '\0';
	t = with_line(kat_sig_ED, 3, longc);
	CHECK(c, emg_signature_parse(t, strlen(t), &sig, &err) == EMG_OK &&
		 strlen(sig.trusted_comment) == EMG_TRUSTED_COMMENT_LEN_MAX, "trusted comment at the limit parses");

	CHECK(c, emg_seckey_parse(kat_sec, strlen(kat_sec), NULL, &sk, &err) == EMG_OK, "kat key for limits");
	CHECK(c, emg_sign(&sk, M("x"), 1, NULL, longc + 17, &text, &len, &err) == EMG_OK,
	      "sign with a trusted comment at the limit");
	free(text);
	memset(longc, 'b', 17 + EMG_TRUSTED_COMMENT_LEN_MAX + 1);
	longc[EMG_TRUSTED_COMMENT_LEN_MAX + 1] = '\0';
	CHECK(c, emg_sign(&sk, M("x"), 1, NULL, longc, &text, &len, &err) == EMG_EUSAGE && text == NULL &&
		 has(&err, "over the limit"), "sign refuses a trusted comment over the limit");
	CHECK(c, emg_sign(&sk, M("x"), 1, NULL, "two\nlines", &text, &len, &err) == EMG_EUSAGE &&
		 has(&err, "single line"), "sign refuses a multi-line comment");
	emg_seckey_wipe(&sk);
}

int main(void)
{
	check_ctx c = {0};

	if (sodium_init() < 0)
		return 1;
	test_kat(&c);
	test_roundtrip(&c);
	test_bad_input(&c);
	return c.failed ? 1 : 0;
}
