/* keys.h - organisation keys: minisign-compatible key and signature files,
 * key certificates, and the threshold check the bundle layer relies on.
 *
 * Formats follow minisign byte for byte (Ed25519, "ED" = BLAKE2b-512
 * prehashed, legacy "Ed" accepted on verify; trusted comment covered by a
 * global signature; secret keys scrypt-encrypted or unencrypted). */
#ifndef EMG_KEYS_H
#define EMG_KEYS_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "err.h"

#define EMG_KEYNUM_LEN 8
#define EMG_KEYID_HEX_LEN 17            /* 16 upper-case hex digits and NUL */
#define EMG_TRUSTED_COMMENT_MAX 8192    /* minisign's limit on the comment */

typedef struct emg_pubkey {
	uint8_t keynum[EMG_KEYNUM_LEN];
	uint8_t pk[32];
} emg_pubkey;

/* Holds secret material: always release with emg_seckey_wipe(). */
typedef struct emg_seckey {
	uint8_t keynum[EMG_KEYNUM_LEN];
	uint8_t sk[64];
} emg_seckey;

typedef struct emg_signature {
	uint8_t alg[2];                 /* "ED" (prehashed) or "Ed" (legacy) */
	uint8_t keynum[EMG_KEYNUM_LEN];
	uint8_t sig[64];
	char trusted_comment[EMG_TRUSTED_COMMENT_MAX + 1];
	uint8_t global_sig[64];
} emg_signature;

/* Key id as minisign prints it: 16 upper-case hex digits of the
 * little-endian key number. */
void emg_keyid_hex(const uint8_t keynum[EMG_KEYNUM_LEN], char out[EMG_KEYID_HEX_LEN]);

/* Parse the text of a .pub / .minisig file (from memory; untrusted input).
 * Malformed input fails with EMG_ECONFIG and a message saying what is wrong. */
int emg_pubkey_parse(const char *text, size_t len, emg_pubkey *out, emg_err *err);
int emg_pubkey_load(const char *path, emg_pubkey *out, emg_err *err);
int emg_signature_parse(const char *text, size_t len, emg_signature *out, emg_err *err);

/* EMG_OK when sig is a valid signature of msg by pk (both the signature and
 * the global signature over the trusted comment); EMG_EVERIFY otherwise,
 * with minisign's wording for a key id mismatch (both ids). */
int emg_signature_verify(const emg_pubkey *pk, const emg_signature *sig,
			 const uint8_t *msg, size_t len, emg_err *err);

/* Loads a secret key file; passphrase is NULL for an unencrypted key. */
int emg_seckey_load(const char *path, const char *passphrase, emg_seckey *out, emg_err *err);
void emg_seckey_wipe(emg_seckey *sk);

/* Signs msg ("ED", prehashed) and returns the complete .minisig file text
 * (malloc'd, NUL-terminated) in *out. untrusted may be NULL (default). */
int emg_sign(const emg_seckey *sk, const uint8_t *msg, size_t len,
	     const char *untrusted, const char *trusted, char **out, size_t *out_len,
	     emg_err *err);

/* ---- Key certificates ------------------------------------------------
 * A small text file naming a signing key, its role and validity window,
 * signed by a root key (the signature is a .minisig beside it):
 *
 *   emgap-key-certificate: 1
 *   key: RWQ...            (the base64 line of the signing key's .pub)
 *   key-id: 0123456789ABCDEF
 *   role: bundle
 *   not-before: 2026-11-25T00:00:00Z
 *   expires: 2027-11-25T00:00:00Z
 */
typedef struct emg_cert {
	emg_pubkey key;
	char role[32];
	time_t not_before;
	time_t expires;
} emg_cert;

int emg_cert_parse(const char *text, size_t len, emg_cert *out, emg_err *err);

/* Root public keys trusted on this host. */
typedef struct emg_roots {
	const emg_pubkey *keys;
	size_t count;
} emg_roots;

/* One signer's material, as carried in a bundle: its certificate, the
 * root's signature of the certificate, and its signature of the message. */
typedef struct emg_signer_input {
	const char *cert;
	size_t cert_len;
	const char *cert_sig;
	size_t cert_sig_len;
	const char *sig;
	size_t sig_len;
	const char *label; /* for messages, e.g. "sig/0123456789ABCDEF.minisig" */
} emg_signer_input;

enum emg_signer_status {
	EMG_SIGNER_VALID = 0,
	EMG_SIGNER_MALFORMED,     /* a file does not parse */
	EMG_SIGNER_UNKNOWN_ROOT,  /* certificate not signed by a trusted root */
	EMG_SIGNER_BAD_CERT_SIG,  /* certificate signature does not verify */
	EMG_SIGNER_WRONG_ROLE,
	EMG_SIGNER_NOT_YET_VALID,
	EMG_SIGNER_EXPIRED,
	EMG_SIGNER_KEY_MISMATCH,  /* signature made by another key than the cert's */
	EMG_SIGNER_BAD_SIG,       /* signature of the message does not verify */
	EMG_SIGNER_DUPLICATE      /* same key already counted */
};

typedef struct emg_signer_result {
	enum emg_signer_status status;
	char keyid[EMG_KEYID_HEX_LEN];
	time_t not_before;
	time_t expires;
	char why[256];
} emg_signer_result;

/* "Do these signatures over msg come from at least m distinct signing keys,
 * each certified by a trusted root for role and valid at time at?"
 * results (n entries, may be NULL) receives each signer's verdict.
 * Returns EMG_OK when at least m distinct keys are valid, otherwise
 * EMG_EVERIFY with a message that says how many were valid and why the
 * others were not. */
int emg_threshold_verify(const emg_roots *roots, const emg_signer_input *signers, size_t n,
			 const uint8_t *msg, size_t len, const char *role, time_t at,
			 unsigned m, emg_signer_result *results, unsigned *valid, emg_err *err);

const char *emg_signer_status_name(enum emg_signer_status s);

/* ---- Additions (emgap-keys) -------------------------------------------
 * Everything below is additive: the declarations above are the contract. */

/* minisign's line limits: "untrusted comment: " + text + "\n" must fit in
 * 1023 bytes, "trusted comment: " + text + "\n" in 8191. */
#define EMG_UNTRUSTED_COMMENT_LEN_MAX 1003
#define EMG_TRUSTED_COMMENT_LEN_MAX 8173
#define EMG_PASSPHRASE_MAX 1024
#define EMG_HASH_LEN 64                 /* BLAKE2b-512, the "ED" prehash */
#define EMG_THRESHOLD_SIGNERS_MAX 256

/* The scrypt costs minisign writes by default (about 1 s and 1 GiB), and
 * the most a key file may ask for before we refuse to even try. */
#define EMG_KDF_OPSLIMIT_DEFAULT 33554432ULL
#define EMG_KDF_MEMLIMIT_DEFAULT 1073741824ULL
#define EMG_KDF_OPSLIMIT_MIN 32768ULL
#define EMG_KDF_MEMLIMIT_MIN 16777216ULL
#define EMG_KDF_OPSLIMIT_LOAD_MAX (4 * EMG_KDF_OPSLIMIT_DEFAULT)
#define EMG_KDF_MEMLIMIT_LOAD_MAX (4 * EMG_KDF_MEMLIMIT_DEFAULT)

/* The key id as minisign 0.11 writes it in a .pub comment and in its key
 * id mismatch message: upper-case hex without leading zeros ("%" PRIX64).
 * emgap uses it only there, for byte-for-byte output; everywhere else
 * (file names, certificates, messages) it is emg_keyid_hex's 16 digits. */
void emg_keyid_minisign(const uint8_t keynum[EMG_KEYNUM_LEN], char out[EMG_KEYID_HEX_LEN]);

/* Public keys as the one base64 line (minisign -P, the cert's key: line). */
int emg_pubkey_from_base64(const char *b64, size_t len, emg_pubkey *out, emg_err *err);
/* out must hold 57 bytes (56 base64 characters and NUL). */
#define EMG_PUBKEY_B64_SIZE 57
void emg_pubkey_to_base64(const emg_pubkey *pk, char out[EMG_PUBKEY_B64_SIZE]);
/* The .pub file text, byte for byte as minisign 0.11 writes it (its key
 * id without leading zeros, see emg_keyid_minisign; malloc'd, NUL-terminated). */
int emg_pubkey_format(const emg_pubkey *pk, char **out, size_t *out_len, emg_err *err);
int emg_pubkey_equal(const emg_pubkey *a, const emg_pubkey *b);

/* A new key pair with a random key number. */
int emg_keypair_generate(emg_pubkey *pk, emg_seckey *sk, emg_err *err);
/* The public half of a secret key. */
void emg_seckey_public(const emg_seckey *sk, emg_pubkey *out);

/* Secret key files from memory. *encrypted tells whether parsing needs a
 * passphrase ("Sc") or not (minisign -W: kdf bytes 0x00 0x00). */
int emg_seckey_is_encrypted(const char *text, size_t len, int *encrypted, emg_err *err);
/* Wrong passphrase: EMG_EVERIFY. Encrypted key with passphrase NULL:
 * EMG_EUSAGE. A passphrase given for an unencrypted key is ignored. */
int emg_seckey_parse(const char *text, size_t len, const char *passphrase,
		     emg_seckey *out, emg_err *err);
/* The secret key file text. passphrase NULL writes an unencrypted key
 * exactly as minisign -G -W does. opslimit/memlimit 0 mean minisign's
 * defaults; other values are recorded in the file (minisign honours them).
 * comment NULL gives minisign's default. *out holds secret material when
 * unencrypted: release it with emg_free_secret(). */
int emg_seckey_format(const emg_seckey *sk, const char *passphrase,
		      unsigned long long opslimit, unsigned long long memlimit,
		      const char *comment, char **out, size_t *out_len, emg_err *err);
void emg_free_secret(void *p, size_t len);

/* Reads a secret key file, asking for its passphrase only when it is
 * encrypted: from passphrase_file if not NULL, else on /dev/tty. */
int emg_seckey_open(const char *path, const char *passphrase_file, emg_seckey *out,
		    emg_err *err);

/* Passphrase from the first line of file (not NULL), or typed on /dev/tty
 * with echo off (twice when confirm is set). No terminal: EMG_EUSAGE. */
int emg_passphrase_get(const char *file, const char *prompt, int confirm,
		       char out[EMG_PASSPHRASE_MAX + 1], emg_err *err);

/* Prehashed signing and verification, for files too big to hold.
 * For emg_sign and emg_sign_hash, trusted NULL means "timestamp:<now>";
 * both refuse comments over the limits above or on several lines
 * (EMG_EUSAGE), and check the new signature before returning it. */
int emg_hash_file(const char *path, uint8_t out[EMG_HASH_LEN], emg_err *err);
void emg_hash(const uint8_t *msg, size_t len, uint8_t out[EMG_HASH_LEN]);
int emg_sign_hash(const emg_seckey *sk, const uint8_t hash[EMG_HASH_LEN],
		  const char *untrusted, const char *trusted, char **out, size_t *out_len,
		  emg_err *err);
/* As emg_signature_verify; sig_name (may be NULL) names the signature file
 * in minisign's key id message. A legacy "Ed" signature cannot be checked
 * against a hash: emg_signature_verify_hash fails on it. */
int emg_signature_verify_named(const emg_pubkey *pk, const emg_signature *sig,
			       const uint8_t *msg, size_t len, const char *sig_name,
			       emg_err *err);
int emg_signature_verify_hash(const emg_pubkey *pk, const emg_signature *sig,
			      const uint8_t hash[EMG_HASH_LEN], const char *sig_name,
			      emg_err *err);

/* Certificate text for key (malloc'd, NUL-terminated). role: 1 to 31 of
 * a-z 0-9 - _ ; not_before must be before expires. */
int emg_cert_format(const emg_pubkey *key, const char *role, time_t not_before,
		    time_t expires, char **out, size_t *out_len, emg_err *err);

/* One certificate and its root signature, checked at time at for role.
 * Returns EMG_OK, EMG_ECONFIG (malformed), EMG_EVERIFY (unknown root, bad
 * signature, wrong role) or EMG_EFRESH (not yet valid, expired); *status
 * (may be NULL) gets the verdict, *out (may be NULL) the certificate as
 * soon as it parses (trust it only on EMG_OK) and root_keyid (may be NULL)
 * the id of the key that signed it. */
int emg_cert_verify(const emg_roots *roots, const char *cert, size_t cert_len,
		    const char *cert_sig, size_t cert_sig_len, const char *role, time_t at,
		    emg_cert *out, enum emg_signer_status *status,
		    char root_keyid[EMG_KEYID_HEX_LEN], emg_err *err);

#endif
