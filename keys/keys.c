/* keys.c - minisign-compatible public keys, secret keys and signatures.
 *
 * Binary layouts (all base64, one line each, after an untrusted comment):
 *   public key  "Ed" keynum[8] pk[32]
 *   secret key  "Ed" kdf[2] "B2" salt[32] opslimit_le[8] memlimit_le[8]
 *               keynum[8] sk[64] chk[32]     (the last 104 bytes XOR-ed
 *               with an scrypt stream when kdf is "Sc"; kdf 0x00 0x00
 *               means unencrypted, as minisign -W writes it)
 *   signature   "ED"|"Ed" keynum[8] sig[64], then the trusted comment line
 *               and the global signature of sig || trusted comment. */
#include "keys.h"
#include "fileio.h"
#include "keys_text.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sodium.h>

#define PUB_BIN_LEN 42
#define SEC_BIN_LEN 158
#define SIG_BIN_LEN 74
#define SEC_OFF_SALT 6
#define SEC_OFF_OPS 38
#define SEC_OFF_MEM 46
#define SEC_OFF_KEYNUM 54
#define SEC_OFF_SK 62
#define SEC_OFF_CHK 126
#define SEC_ENC_LEN (SEC_BIN_LEN - SEC_OFF_KEYNUM) /* keynum, sk, chk */

#define KEYFILE_MAX 4096
#define SIGFILE_MAX 16384

static const char UNTRUSTED_PREFIX[] = "untrusted comment: ";
static const char TRUSTED_PREFIX[] = "trusted comment: ";

int emg_crypto_init(emg_err *err)
{
	if (sodium_init() < 0)
		return emg_fail(err, EMG_EIO, "libsodium cannot be initialised");
	return EMG_OK;
}

void emg_free_secret(void *p, size_t len)
{
	if (p == NULL)
		return;
	sodium_memzero(p, len);
	free(p);
}

static uint64_t le64_load(const uint8_t *p)
{
	uint64_t v = 0;
	int i;

	for (i = 7; i >= 0; i--)
		v = (v << 8) | p[i];
	return v;
}

static void le64_store(uint8_t *p, uint64_t v)
{
	int i;

	for (i = 0; i < 8; i++) {
		p[i] = (uint8_t)v;
		v >>= 8;
	}
}

void emg_keyid_hex(const uint8_t keynum[EMG_KEYNUM_LEN], char out[EMG_KEYID_HEX_LEN])
{
	snprintf(out, EMG_KEYID_HEX_LEN, "%016" PRIX64, le64_load(keynum));
}

void emg_keyid_minisign(const uint8_t keynum[EMG_KEYNUM_LEN], char out[EMG_KEYID_HEX_LEN])
{
	snprintf(out, EMG_KEYID_HEX_LEN, "%" PRIX64, le64_load(keynum));
}

/* ---- text helpers shared with cert.c ---------------------------------- */

void emg_cursor_init(emg_cursor *c, const char *text, size_t len)
{
	c->p = text;
	c->end = text + len;
	c->lineno = 0;
}

int emg_cursor_next(emg_cursor *c, const char **line, size_t *len)
{
	const char *nl;

	if (c->p >= c->end)
		return 0;
	nl = memchr(c->p, '\n', (size_t)(c->end - c->p));
	*line = c->p;
	if (nl == NULL) {
		*len = (size_t)(c->end - c->p);
		c->p = c->end;
	} else {
		*len = (size_t)(nl - c->p);
		c->p = nl + 1;
	}
	/* minisign trims "\r" as well, so files edited on Windows still load. */
	if (*len > 0 && (*line)[*len - 1] == '\r')
		(*len)--;
	c->lineno++;
	return 1;
}

/* Only blank lines may follow the last line a format defines. */
int emg_cursor_rest_blank(emg_cursor *c, const char *what, emg_err *err)
{
	const char *l;
	size_t n;

	while (emg_cursor_next(c, &l, &n)) {
		if (n != 0)
			return emg_fail(err, EMG_ECONFIG, "line %d: unexpected text after the %s",
					c->lineno, what);
	}
	return EMG_OK;
}

int emg_starts_with(const char *s, size_t n, const char *prefix)
{
	size_t pn = strlen(prefix);

	return n >= pn && memcmp(s, prefix, pn) == 0;
}

/* Decodes exactly want bytes of standard, padded base64. */
int emg_b64_decode(const char *s, size_t n, uint8_t *bin, size_t want, const char *what,
		   emg_err *err)
{
	uint8_t buf[256];
	size_t got = 0;
	size_t expect = sodium_base64_ENCODED_LEN(want, sodium_base64_VARIANT_ORIGINAL) - 1;
	int rc = EMG_OK;

	if (n == 0)
		return emg_fail(err, EMG_ECONFIG, "%s is empty", what);
	if (n > 2 * expect || (n * 3) / 4 > sizeof buf)
		return emg_fail(err, EMG_ECONFIG, "%s is too long (%zu characters, expected %zu)",
				what, n, expect);
	if (sodium_base642bin(buf, sizeof buf, s, n, NULL, &got, NULL,
			      sodium_base64_VARIANT_ORIGINAL) != 0)
		rc = emg_fail(err, EMG_ECONFIG, "%s is not valid base64 (truncated or damaged?)", what);
	else if (got != want)
		rc = emg_fail(err, EMG_ECONFIG, "%s decodes to %zu bytes, expected %zu (truncated?)",
			      what, got, want);
	else
		memcpy(bin, buf, want);
	sodium_memzero(buf, sizeof buf);
	return rc;
}

/* "Ed" or a printable rendering of two unexpected algorithm bytes. */
static void alg_name(const uint8_t a[2], char out[16])
{
	if (a[0] >= 0x21 && a[0] < 0x7f && a[1] >= 0x21 && a[1] < 0x7f)
		snprintf(out, 16, "\"%c%c\"", a[0], a[1]);
	else
		snprintf(out, 16, "0x%02x 0x%02x", a[0], a[1]);
}

static int check_comment(const char *text, size_t max, const char *what, emg_err *err)
{
	size_t n = strlen(text);

	if (strpbrk(text, "\r\n") != NULL)
		return emg_fail(err, EMG_EUSAGE, "%s must be a single line", what);
	if (n > max)
		return emg_fail(err, EMG_EUSAGE, "%s is %zu bytes, over the limit of %zu", what, n,
				max);
	return EMG_OK;
}

/* ---- public keys ------------------------------------------------------- */

int emg_pubkey_from_base64(const char *b64, size_t len, emg_pubkey *out, emg_err *err)
{
	uint8_t bin[PUB_BIN_LEN];
	char alg[16];
	int rc;

	rc = emg_b64_decode(b64, len, bin, sizeof bin, "public key", err);
	if (rc != EMG_OK)
		return rc;
	if (memcmp(bin, "Ed", 2) != 0) {
		alg_name(bin, alg);
		return emg_fail(err, EMG_ECONFIG,
				"public key: unsupported signature algorithm %s (expected \"Ed\")", alg);
	}
	memcpy(out->keynum, bin + 2, EMG_KEYNUM_LEN);
	memcpy(out->pk, bin + 2 + EMG_KEYNUM_LEN, sizeof out->pk);
	return EMG_OK;
}

void emg_pubkey_to_base64(const emg_pubkey *pk, char out[EMG_PUBKEY_B64_SIZE])
{
	uint8_t bin[PUB_BIN_LEN];

	memcpy(bin, "Ed", 2);
	memcpy(bin + 2, pk->keynum, EMG_KEYNUM_LEN);
	memcpy(bin + 2 + EMG_KEYNUM_LEN, pk->pk, sizeof pk->pk);
	sodium_bin2base64(out, EMG_PUBKEY_B64_SIZE, bin, sizeof bin, sodium_base64_VARIANT_ORIGINAL);
}

int emg_pubkey_equal(const emg_pubkey *a, const emg_pubkey *b)
{
	return memcmp(a->keynum, b->keynum, EMG_KEYNUM_LEN) == 0 &&
	       memcmp(a->pk, b->pk, sizeof a->pk) == 0;
}

/* The opening every minisign file shares: no NUL byte, line 1 an
 * untrusted comment, line 2 the base64 payload (in *l, *n). kind names the
 * file ("public key") and payload line 2 ("the key") in messages;
 * *comment_len (may be NULL) receives the untrusted comment's length. */
static int minisign_lines(const char *text, size_t len, const char *kind, const char *payload,
			  emg_cursor *c, size_t *comment_len, const char **l, size_t *n, emg_err *err)
{
	if (memchr(text, '\0', len) != NULL)
		return emg_fail(err, EMG_ECONFIG, "%s file contains a NUL byte", kind);
	emg_cursor_init(c, text, len);
	if (!emg_cursor_next(c, l, n) || !emg_starts_with(*l, *n, UNTRUSTED_PREFIX))
		return emg_fail(err, EMG_ECONFIG, "line 1 should start with \"%s\" (not a minisign %s?)",
				UNTRUSTED_PREFIX, kind);
	if (comment_len != NULL)
		*comment_len = *n - (sizeof UNTRUSTED_PREFIX - 1);
	if (!emg_cursor_next(c, l, n))
		return emg_fail(err, EMG_ECONFIG, "line 2 (%s) is missing (truncated file?)", payload);
	return EMG_OK;
}

int emg_pubkey_parse(const char *text, size_t len, emg_pubkey *out, emg_err *err)
{
	emg_cursor c;
	const char *l;
	size_t n;
	int rc;

	rc = minisign_lines(text, len, "public key", "the key", &c, NULL, &l, &n, err);
	if (rc != EMG_OK)
		return rc;
	rc = emg_pubkey_from_base64(l, n, out, err);
	if (rc != EMG_OK)
		return emg_err_prefix(err, "line 2");
	return emg_cursor_rest_blank(&c, "public key", err);
}

int emg_pubkey_load(const char *path, emg_pubkey *out, emg_err *err)
{
	uint8_t *buf = NULL;
	size_t len = 0;
	int rc;

	rc = emg_read_file(path, KEYFILE_MAX, EMG_ECONFIG, &buf, &len, err);
	if (rc != EMG_OK)
		return rc;
	rc = emg_pubkey_parse((const char *)buf, len, out, err);
	free(buf);
	if (rc != EMG_OK)
		return emg_err_prefix(err, "%s", path);
	return EMG_OK;
}

int emg_pubkey_format(const emg_pubkey *pk, char **out, size_t *out_len, emg_err *err)
{
	char id[EMG_KEYID_HEX_LEN];
	char b64[EMG_PUBKEY_B64_SIZE];
	size_t cap = 128;
	int n;

	*out = malloc(cap);
	if (*out == NULL)
		return emg_fail(err, EMG_EIO, "out of memory");
	emg_keyid_minisign(pk->keynum, id);
	emg_pubkey_to_base64(pk, b64);
	n = snprintf(*out, cap, "%sminisign public key %s\n%s\n", UNTRUSTED_PREFIX, id, b64);
	*out_len = (size_t)n;
	return EMG_OK;
}

/* ---- secret keys --------------------------------------------------------- */

int emg_keypair_generate(emg_pubkey *pk, emg_seckey *sk, emg_err *err)
{
	int rc = emg_crypto_init(err);

	if (rc != EMG_OK)
		return rc;
	randombytes_buf(sk->keynum, EMG_KEYNUM_LEN);
	if (crypto_sign_keypair(pk->pk, sk->sk) != 0) {
		emg_seckey_wipe(sk);
		return emg_fail(err, EMG_EIO, "cannot generate a key pair");
	}
	memcpy(pk->keynum, sk->keynum, EMG_KEYNUM_LEN);
	return EMG_OK;
}

void emg_seckey_public(const emg_seckey *sk, emg_pubkey *out)
{
	memcpy(out->keynum, sk->keynum, EMG_KEYNUM_LEN);
	crypto_sign_ed25519_sk_to_pk(out->pk, sk->sk);
}

void emg_seckey_wipe(emg_seckey *sk)
{
	sodium_memzero(sk, sizeof *sk);
}

/* BLAKE2b-256 of sig_alg || keynum || sk: minisign's key checksum. */
static void seckey_chk(const uint8_t *bin, uint8_t chk[32])
{
	crypto_generichash_state hs;

	crypto_generichash_init(&hs, NULL, 0, 32);
	crypto_generichash_update(&hs, bin, 2);
	crypto_generichash_update(&hs, bin + SEC_OFF_KEYNUM, EMG_KEYNUM_LEN);
	crypto_generichash_update(&hs, bin + SEC_OFF_SK, 64);
	crypto_generichash_final(&hs, chk, 32);
	sodium_memzero(&hs, sizeof hs);
}

/* XORs the keynum||sk||chk part of bin with the scrypt stream. */
static int seckey_crypt(uint8_t *bin, const char *passphrase, emg_err *err)
{
	uint8_t stream[SEC_ENC_LEN];
	size_t i;

	if (crypto_pwhash_scryptsalsa208sha256(stream, sizeof stream, passphrase, strlen(passphrase),
					       bin + SEC_OFF_SALT, le64_load(bin + SEC_OFF_OPS),
					       (size_t)le64_load(bin + SEC_OFF_MEM)) != 0) {
		sodium_memzero(stream, sizeof stream);
		return emg_fail(err, EMG_EIO, "key derivation failed (out of memory?)");
	}
	for (i = 0; i < sizeof stream; i++)
		bin[SEC_OFF_KEYNUM + i] ^= stream[i];
	sodium_memzero(stream, sizeof stream);
	return EMG_OK;
}

/* Reads line 2 of a secret key file into bin and checks the algorithms. */
static int seckey_decode(const char *text, size_t len, uint8_t bin[SEC_BIN_LEN], emg_err *err)
{
	emg_cursor c;
	const char *l;
	size_t n;
	char alg[16];
	int rc;

	rc = minisign_lines(text, len, "secret key", "the key", &c, NULL, &l, &n, err);
	if (rc != EMG_OK)
		return rc;
	rc = emg_b64_decode(l, n, bin, SEC_BIN_LEN, "secret key", err);
	if (rc != EMG_OK)
		return emg_err_prefix(err, "line 2");
	rc = emg_cursor_rest_blank(&c, "secret key", err);
	if (rc != EMG_OK)
		return rc;
	if (memcmp(bin, "Ed", 2) != 0) {
		alg_name(bin, alg);
		return emg_fail(err, EMG_ECONFIG,
				"unsupported signature algorithm %s (expected \"Ed\")", alg);
	}
	if (memcmp(bin + 2, "Sc", 2) != 0 && memcmp(bin + 2, "\0\0", 2) != 0) {
		alg_name(bin + 2, alg);
		return emg_fail(err, EMG_ECONFIG,
				"unsupported key derivation function %s (expected \"Sc\" or none)", alg);
	}
	if (memcmp(bin + 4, "B2", 2) != 0) {
		alg_name(bin + 4, alg);
		return emg_fail(err, EMG_ECONFIG,
				"unsupported checksum function %s (expected \"B2\")", alg);
	}
	return EMG_OK;
}

int emg_seckey_is_encrypted(const char *text, size_t len, int *encrypted, emg_err *err)
{
	uint8_t bin[SEC_BIN_LEN];
	int rc = seckey_decode(text, len, bin, err);

	if (rc == EMG_OK)
		*encrypted = memcmp(bin + 2, "Sc", 2) == 0;
	sodium_memzero(bin, sizeof bin);
	return rc;
}

/* The decrypted key must be whole: checksum (when there is one) and the
 * public half that Ed25519 keeps in the secret key must match the seed. */
static int seckey_check(const uint8_t *bin, int encrypted, emg_err *err)
{
	uint8_t chk[32], zero[32] = {0};
	uint8_t pk[32], sk[64];
	int bad_chk, bad_pk;

	seckey_chk(bin, chk);
	bad_chk = sodium_memcmp(chk, bin + SEC_OFF_CHK, 32) != 0;
	/* minisign -W leaves the checksum zero: nothing to compare then. */
	if (!encrypted && sodium_memcmp(bin + SEC_OFF_CHK, zero, 32) == 0)
		bad_chk = 0;
	sodium_memzero(chk, sizeof chk);
	if (bad_chk && encrypted)
		return emg_fail(err, EMG_EVERIFY, "wrong passphrase for this secret key");
	if (bad_chk)
		return emg_fail(err, EMG_ECONFIG, "secret key checksum mismatch (damaged file?)");
	crypto_sign_seed_keypair(pk, sk, bin + SEC_OFF_SK);
	bad_pk = sodium_memcmp(sk, bin + SEC_OFF_SK, 64) != 0;
	sodium_memzero(sk, sizeof sk);
	if (bad_pk)
		return emg_fail(err, EMG_ECONFIG,
				"secret key is inconsistent: its public half does not match (damaged file?)");
	return EMG_OK;
}

int emg_seckey_parse(const char *text, size_t len, const char *passphrase, emg_seckey *out,
		     emg_err *err)
{
	uint8_t bin[SEC_BIN_LEN];
	int encrypted, rc;

	rc = emg_crypto_init(err);
	if (rc != EMG_OK)
		return rc;
	rc = seckey_decode(text, len, bin, err);
	if (rc != EMG_OK)
		goto out;
	encrypted = memcmp(bin + 2, "Sc", 2) == 0;
	if (encrypted) {
		uint64_t ops = le64_load(bin + SEC_OFF_OPS), mem = le64_load(bin + SEC_OFF_MEM);
		if (passphrase == NULL) {
			rc = emg_fail(err, EMG_EUSAGE, "secret key is encrypted: a passphrase is needed");
			goto out;
		}
		/* The file chooses the cost; refuse one that would exhaust the host. */
		if (ops > EMG_KDF_OPSLIMIT_LOAD_MAX || mem > EMG_KDF_MEMLIMIT_LOAD_MAX ||
		    mem > SIZE_MAX) {
			rc = emg_fail(err, EMG_ECONFIG,
				      "scrypt limits too large (opslimit %" PRIu64 ", memlimit %" PRIu64
				      ")", ops, mem);
			goto out;
		}
		rc = seckey_crypt(bin, passphrase, err);
		if (rc != EMG_OK)
			goto out;
	}
	rc = seckey_check(bin, encrypted, err);
	if (rc != EMG_OK)
		goto out;
	memcpy(out->keynum, bin + SEC_OFF_KEYNUM, EMG_KEYNUM_LEN);
	memcpy(out->sk, bin + SEC_OFF_SK, sizeof out->sk);
out:
	sodium_memzero(bin, sizeof bin);
	return rc;
}

int emg_seckey_load(const char *path, const char *passphrase, emg_seckey *out, emg_err *err)
{
	uint8_t *buf = NULL;
	size_t len = 0;
	int rc;

	rc = emg_read_file(path, KEYFILE_MAX, EMG_ECONFIG, &buf, &len, err);
	if (rc != EMG_OK)
		return rc;
	rc = emg_seckey_parse((const char *)buf, len, passphrase, out, err);
	emg_free_secret(buf, len);
	if (rc != EMG_OK)
		return emg_err_prefix(err, "%s", path);
	return EMG_OK;
}

static int seckey_bin(const emg_seckey *sk, const char *passphrase, unsigned long long ops,
		      unsigned long long mem, uint8_t bin[SEC_BIN_LEN], emg_err *err)
{
	memset(bin, 0, SEC_BIN_LEN);
	memcpy(bin, "Ed", 2);
	memcpy(bin + 4, "B2", 2);
	memcpy(bin + SEC_OFF_KEYNUM, sk->keynum, EMG_KEYNUM_LEN);
	memcpy(bin + SEC_OFF_SK, sk->sk, sizeof sk->sk);
	if (passphrase == NULL)
		return EMG_OK; /* kdf 0x00 0x00, salt, limits and checksum zero, as minisign -W */
	if (ops == 0)
		ops = EMG_KDF_OPSLIMIT_DEFAULT;
	if (mem == 0)
		mem = EMG_KDF_MEMLIMIT_DEFAULT;
	if (ops < EMG_KDF_OPSLIMIT_MIN || ops > EMG_KDF_OPSLIMIT_LOAD_MAX ||
	    mem < EMG_KDF_MEMLIMIT_MIN || mem > EMG_KDF_MEMLIMIT_LOAD_MAX)
		return emg_fail(err, EMG_EUSAGE,
				"scrypt limits out of range (opslimit %llu to %llu, memlimit %llu to %llu)",
				EMG_KDF_OPSLIMIT_MIN, EMG_KDF_OPSLIMIT_LOAD_MAX, EMG_KDF_MEMLIMIT_MIN,
				EMG_KDF_MEMLIMIT_LOAD_MAX);
	memcpy(bin + 2, "Sc", 2);
	randombytes_buf(bin + SEC_OFF_SALT, 32);
	le64_store(bin + SEC_OFF_OPS, ops);
	le64_store(bin + SEC_OFF_MEM, mem);
	seckey_chk(bin, bin + SEC_OFF_CHK);
	return seckey_crypt(bin, passphrase, err);
}

int emg_seckey_format(const emg_seckey *sk, const char *passphrase, unsigned long long opslimit,
		      unsigned long long memlimit, const char *comment, char **out,
		      size_t *out_len, emg_err *err)
{
	uint8_t bin[SEC_BIN_LEN];
	char b64[sodium_base64_ENCODED_LEN(SEC_BIN_LEN, sodium_base64_VARIANT_ORIGINAL)];
	size_t cap;
	int rc, n;

	*out = NULL;
	*out_len = 0;
	if (comment == NULL)
		comment = passphrase ? "minisign encrypted secret key" : "minisign unencrypted secret key";
	rc = emg_crypto_init(err);
	if (rc == EMG_OK)
		rc = check_comment(comment, EMG_UNTRUSTED_COMMENT_LEN_MAX, "comment", err);
	if (rc == EMG_OK)
		rc = seckey_bin(sk, passphrase, opslimit, memlimit, bin, err);
	if (rc != EMG_OK) {
		sodium_memzero(bin, sizeof bin);
		return rc;
	}
	sodium_bin2base64(b64, sizeof b64, bin, sizeof bin, sodium_base64_VARIANT_ORIGINAL);
	sodium_memzero(bin, sizeof bin);
	cap = sizeof UNTRUSTED_PREFIX + strlen(comment) + sizeof b64 + 2;
	*out = malloc(cap);
	if (*out == NULL) {
		sodium_memzero(b64, sizeof b64);
		return emg_fail(err, EMG_EIO, "out of memory");
	}
	n = snprintf(*out, cap, "%s%s\n%s\n", UNTRUSTED_PREFIX, comment, b64);
	sodium_memzero(b64, sizeof b64);
	*out_len = (size_t)n;
	return EMG_OK;
}

/* ---- signatures ---------------------------------------------------------- */

int emg_signature_parse(const char *text, size_t len, emg_signature *out, emg_err *err)
{
	uint8_t bin[SIG_BIN_LEN];
	emg_cursor c;
	const char *l;
	size_t n, tlen, clen = 0;
	char alg[16];
	int rc;

	rc = minisign_lines(text, len, "signature", "the signature", &c, &clen, &l, &n, err);
	if (rc != EMG_OK && clen <= EMG_UNTRUSTED_COMMENT_LEN_MAX)
		return rc;
	/* An over-long comment is the finding, even in a truncated file. */
	if (clen > EMG_UNTRUSTED_COMMENT_LEN_MAX)
		return emg_fail(err, EMG_ECONFIG, "line 1: untrusted comment over the limit of %d bytes",
				EMG_UNTRUSTED_COMMENT_LEN_MAX);
	rc = emg_b64_decode(l, n, bin, sizeof bin, "signature", err);
	if (rc != EMG_OK)
		return emg_err_prefix(err, "line 2");
	if (memcmp(bin, "ED", 2) != 0 && memcmp(bin, "Ed", 2) != 0) {
		alg_name(bin, alg);
		return emg_fail(err, EMG_ECONFIG,
				"line 2: unsupported signature algorithm %s (expected \"ED\" or \"Ed\")",
				alg);
	}
	if (!emg_cursor_next(&c, &l, &n))
		return emg_fail(err, EMG_ECONFIG, "line 3 (the trusted comment) is missing (truncated file?)");
	if (!emg_starts_with(l, n, TRUSTED_PREFIX))
		return emg_fail(err, EMG_ECONFIG, "line 3 should start with \"%s\"", TRUSTED_PREFIX);
	tlen = n - (sizeof TRUSTED_PREFIX - 1);
	if (tlen > EMG_TRUSTED_COMMENT_LEN_MAX)
		return emg_fail(err, EMG_ECONFIG,
				"line 3: trusted comment is %zu bytes, over the limit of %d", tlen,
				EMG_TRUSTED_COMMENT_LEN_MAX);
	memcpy(out->trusted_comment, l + sizeof TRUSTED_PREFIX - 1, tlen);
	out->trusted_comment[tlen] = '\0';
	if (!emg_cursor_next(&c, &l, &n))
		return emg_fail(err, EMG_ECONFIG,
				"line 4 (the global signature) is missing (truncated file?)");
	rc = emg_b64_decode(l, n, out->global_sig, sizeof out->global_sig, "global signature", err);
	if (rc != EMG_OK)
		return emg_err_prefix(err, "line 4");
	rc = emg_cursor_rest_blank(&c, "global signature", err);
	if (rc != EMG_OK)
		return rc;
	memcpy(out->alg, bin, 2);
	memcpy(out->keynum, bin + 2, EMG_KEYNUM_LEN);
	memcpy(out->sig, bin + 2 + EMG_KEYNUM_LEN, sizeof out->sig);
	return EMG_OK;
}

void emg_hash(const uint8_t *msg, size_t len, uint8_t out[EMG_HASH_LEN])
{
	crypto_generichash(out, EMG_HASH_LEN, msg, len, NULL, 0);
}

int emg_hash_file(const char *path, uint8_t out[EMG_HASH_LEN], emg_err *err)
{
	crypto_generichash_state hs;
	uint8_t buf[65536];
	struct stat st;
	int fd, rc;

	rc = emg_crypto_init(err);
	if (rc != EMG_OK)
		return rc;
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return emg_fail(err, EMG_EIO, "%s: %s", path, strerror(errno));
	/* A device or fifo could stream forever: only plain files are signed. */
	if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
		close(fd);
		return emg_fail(err, EMG_EIO, "%s: not a regular file", path);
	}
	crypto_generichash_init(&hs, NULL, 0, EMG_HASH_LEN);
	for (;;) {
		ssize_t n = read(fd, buf, sizeof buf);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			int e = errno;
			close(fd);
			return emg_fail(err, EMG_EIO, "%s: %s", path, strerror(e));
		}
		if (n == 0)
			break;
		crypto_generichash_update(&hs, buf, (size_t)n);
	}
	close(fd);
	crypto_generichash_final(&hs, out, EMG_HASH_LEN);
	return EMG_OK;
}

/* The global signature covers sig || trusted comment. */
static uint8_t *global_message(const uint8_t sig[64], const char *trusted, size_t *len)
{
	size_t tlen = strlen(trusted);
	uint8_t *m = malloc(64 + tlen + 1);

	if (m == NULL)
		return NULL;
	memcpy(m, sig, 64);
	memcpy(m + 64, trusted, tlen);
	*len = 64 + tlen;
	return m;
}

int emg_sign_hash(const emg_seckey *sk, const uint8_t hash[EMG_HASH_LEN], const char *untrusted,
		  const char *trusted, char **out, size_t *out_len, emg_err *err)
{
	uint8_t bin[SIG_BIN_LEN], global[64];
	char sig_b64[sodium_base64_ENCODED_LEN(SIG_BIN_LEN, sodium_base64_VARIANT_ORIGINAL)];
	char glob_b64[sodium_base64_ENCODED_LEN(64, sodium_base64_VARIANT_ORIGINAL)];
	char deftc[64];
	emg_pubkey pk;
	uint8_t *gm;
	size_t gm_len = 0, cap;
	int rc;

	*out = NULL;
	*out_len = 0;
	if (untrusted == NULL)
		untrusted = "signature from minisign secret key";
	if (trusted == NULL) {
		snprintf(deftc, sizeof deftc, "timestamp:%lld", (long long)time(NULL));
		trusted = deftc;
	}
	rc = emg_crypto_init(err);
	if (rc == EMG_OK)
		rc = check_comment(untrusted, EMG_UNTRUSTED_COMMENT_LEN_MAX, "untrusted comment", err);
	if (rc == EMG_OK)
		rc = check_comment(trusted, EMG_TRUSTED_COMMENT_LEN_MAX, "trusted comment", err);
	if (rc != EMG_OK)
		return rc;
	memcpy(bin, "ED", 2);
	memcpy(bin + 2, sk->keynum, EMG_KEYNUM_LEN);
	crypto_sign_detached(bin + 2 + EMG_KEYNUM_LEN, NULL, hash, EMG_HASH_LEN, sk->sk);
	gm = global_message(bin + 2 + EMG_KEYNUM_LEN, trusted, &gm_len);
	if (gm == NULL)
		return emg_fail(err, EMG_EIO, "out of memory");
	crypto_sign_detached(global, NULL, gm, gm_len, sk->sk);
	/* As minisign does: never hand out a signature that would not verify. */
	emg_seckey_public(sk, &pk);
	if (crypto_sign_verify_detached(bin + 2 + EMG_KEYNUM_LEN, hash, EMG_HASH_LEN, pk.pk) != 0 ||
	    crypto_sign_verify_detached(global, gm, gm_len, pk.pk) != 0) {
		free(gm);
		return emg_fail(err, EMG_EVERIFY, "the new signature does not verify (damaged key?)");
	}
	free(gm);
	sodium_bin2base64(sig_b64, sizeof sig_b64, bin, sizeof bin, sodium_base64_VARIANT_ORIGINAL);
	sodium_bin2base64(glob_b64, sizeof glob_b64, global, sizeof global,
			  sodium_base64_VARIANT_ORIGINAL);
	cap = sizeof UNTRUSTED_PREFIX + strlen(untrusted) + sizeof sig_b64 + sizeof TRUSTED_PREFIX +
	      strlen(trusted) + sizeof glob_b64 + 8;
	*out = malloc(cap);
	if (*out == NULL)
		return emg_fail(err, EMG_EIO, "out of memory");
	*out_len = (size_t)snprintf(*out, cap, "%s%s\n%s\n%s%s\n%s\n", UNTRUSTED_PREFIX, untrusted,
				    sig_b64, TRUSTED_PREFIX, trusted, glob_b64);
	return EMG_OK;
}

int emg_sign(const emg_seckey *sk, const uint8_t *msg, size_t len, const char *untrusted,
	     const char *trusted, char **out, size_t *out_len, emg_err *err)
{
	uint8_t hash[EMG_HASH_LEN];
	int rc = emg_crypto_init(err);

	if (rc != EMG_OK)
		return rc;
	emg_hash(msg, len, hash);
	return emg_sign_hash(sk, hash, untrusted, trusted, out, out_len, err);
}

static int check_keyid(const emg_pubkey *pk, const emg_signature *sig, const char *sig_name,
		       emg_err *err)
{
	char sid[EMG_KEYID_HEX_LEN], pid[EMG_KEYID_HEX_LEN];

	if (memcmp(sig->keynum, pk->keynum, EMG_KEYNUM_LEN) == 0)
		return EMG_OK;
	/* minisign's exact wording and number format, so both tools agree. */
	emg_keyid_minisign(sig->keynum, sid);
	emg_keyid_minisign(pk->keynum, pid);
	if (sig_name != NULL)
		return emg_fail(err, EMG_EVERIFY,
				"Signature key id in %s is %s but the key id in the public key is %s",
				sig_name, sid, pid);
	return emg_fail(err, EMG_EVERIFY,
			"Signature key id is %s but the key id in the public key is %s", sid, pid);
}

/* m is the hash ("ED") or the whole message ("Ed"). */
static int verify_core(const emg_pubkey *pk, const emg_signature *sig, const uint8_t *m,
		       size_t mlen, const char *sig_name, emg_err *err)
{
	uint8_t *gm;
	size_t gm_len = 0;
	int ok;

	if (check_keyid(pk, sig, sig_name, err) != EMG_OK)
		return EMG_EVERIFY;
	if (crypto_sign_verify_detached(sig->sig, m, mlen, pk->pk) != 0)
		return emg_fail(err, EMG_EVERIFY, "signature verification failed");
	if (memchr(sig->trusted_comment, '\0', sizeof sig->trusted_comment) == NULL)
		return emg_fail(err, EMG_ECONFIG, "trusted comment is not terminated");
	gm = global_message(sig->sig, sig->trusted_comment, &gm_len);
	if (gm == NULL)
		return emg_fail(err, EMG_EIO, "out of memory");
	ok = crypto_sign_verify_detached(sig->global_sig, gm, gm_len, pk->pk) == 0;
	free(gm);
	if (!ok)
		return emg_fail(err, EMG_EVERIFY, "comment signature verification failed");
	return EMG_OK;
}

int emg_signature_verify_hash(const emg_pubkey *pk, const emg_signature *sig,
			      const uint8_t hash[EMG_HASH_LEN], const char *sig_name, emg_err *err)
{
	int rc = emg_crypto_init(err);

	if (rc != EMG_OK)
		return rc;
	if (memcmp(sig->alg, "ED", 2) != 0)
		return emg_fail(err, EMG_EVERIFY,
				"legacy (non-prehashed) signature: it needs the whole message");
	return verify_core(pk, sig, hash, EMG_HASH_LEN, sig_name, err);
}

int emg_signature_verify_named(const emg_pubkey *pk, const emg_signature *sig,
			       const uint8_t *msg, size_t len, const char *sig_name, emg_err *err)
{
	uint8_t hash[EMG_HASH_LEN];
	int rc = emg_crypto_init(err);

	if (rc != EMG_OK)
		return rc;
	if (memcmp(sig->alg, "Ed", 2) == 0)
		return verify_core(pk, sig, msg, len, sig_name, err);
	emg_hash(msg, len, hash);
	return emg_signature_verify_hash(pk, sig, hash, sig_name, err);
}

int emg_signature_verify(const emg_pubkey *pk, const emg_signature *sig, const uint8_t *msg,
			 size_t len, emg_err *err)
{
	return emg_signature_verify_named(pk, sig, msg, len, NULL, err);
}
