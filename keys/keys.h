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

#endif
