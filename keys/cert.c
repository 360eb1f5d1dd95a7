/* cert.c - key certificates and the m-of-n threshold check.
 *
 * A certificate is signed text (the root's .minisig beside it), so it is
 * parsed strictly: the six lines in their fixed order, nothing else. */
#include "keys.h"
#include "keys_text.h"
#include "timefmt.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#define CERT_MAX 4096
#define CERT_MAGIC "emgap-key-certificate: 1"

/* Returns the value after "name: " on the next line, or fails. */
static int cert_field(emg_cursor *c, const char *name, const char **val, size_t *vlen,
		      emg_err *err)
{
	const char *l;
	size_t n, pn = strlen(name);

	if (!emg_cursor_next(c, &l, &n))
		return emg_fail(err, EMG_ECONFIG, "line %d: \"%s:\" is missing (truncated?)",
				c->lineno + 1, name);
	if (n < pn + 2 || memcmp(l, name, pn) != 0 || l[pn] != ':' || l[pn + 1] != ' ')
		return emg_fail(err, EMG_ECONFIG, "line %d: expected \"%s: \"", c->lineno, name);
	*val = l + pn + 2;
	*vlen = n - pn - 2;
	return EMG_OK;
}

static int role_ok(const char *r, size_t n)
{
	size_t i;

	if (n == 0 || n >= sizeof(((emg_cert *)0)->role))
		return 0;
	for (i = 0; i < n; i++) {
		char ch = r[i];
		if (!((ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9') || ch == '-' || ch == '_'))
			return 0;
	}
	return 1;
}

static int cert_time(emg_cursor *c, const char *name, time_t *out, emg_err *err)
{
	char buf[EMG_TIME_LEN];
	const char *v;
	size_t n;
	int rc = cert_field(c, name, &v, &n, err);

	if (rc != EMG_OK)
		return rc;
	/* Only the full form: "@N" and bare dates are for command lines. */
	if (n != EMG_TIME_LEN - 1)
		return emg_fail(err, EMG_ECONFIG, "line %d: %s: not a time like 2026-11-25T00:00:00Z",
				c->lineno, name);
	memcpy(buf, v, n);
	buf[n] = '\0';
	if (emg_time_parse(buf, out) != 0)
		return emg_fail(err, EMG_ECONFIG, "line %d: %s: not a valid time: %s", c->lineno,
				name, buf);
	return EMG_OK;
}

int emg_cert_parse(const char *text, size_t len, emg_cert *out, emg_err *err)
{
	emg_cursor c;
	const char *l, *v;
	size_t n;
	char id[EMG_KEYID_HEX_LEN];
	int rc;

	if (len > CERT_MAX)
		return emg_fail(err, EMG_ECONFIG, "certificate larger than %d bytes", CERT_MAX);
	if (memchr(text, '\0', len) != NULL)
		return emg_fail(err, EMG_ECONFIG, "certificate contains a NUL byte");
	memset(out, 0, sizeof *out);
	emg_cursor_init(&c, text, len);
	if (!emg_cursor_next(&c, &l, &n) || n != strlen(CERT_MAGIC) || memcmp(l, CERT_MAGIC, n) != 0)
		return emg_fail(err, EMG_ECONFIG, "line 1: expected \"%s\" (not an emgap key certificate?)",
				CERT_MAGIC);
	if ((rc = cert_field(&c, "key", &v, &n, err)) != EMG_OK)
		return rc;
	if ((rc = emg_pubkey_from_base64(v, n, &out->key, err)) != EMG_OK)
		return emg_err_prefix(err, "line 2");
	if ((rc = cert_field(&c, "key-id", &v, &n, err)) != EMG_OK)
		return rc;
	emg_keyid_hex(out->key.keynum, id);
	if (n != EMG_KEYID_HEX_LEN - 1 || memcmp(v, id, n) != 0)
		return emg_fail(err, EMG_ECONFIG, "line 3: key-id %.*s does not match the key (%s)",
				(int)(n > 32 ? 32 : n), v, id);
	if ((rc = cert_field(&c, "role", &v, &n, err)) != EMG_OK)
		return rc;
	if (!role_ok(v, n))
		return emg_fail(err, EMG_ECONFIG, "line 4: role must be 1 to 31 of a-z 0-9 - _");
	memcpy(out->role, v, n);
	out->role[n] = '\0';
	if ((rc = cert_time(&c, "not-before", &out->not_before, err)) != EMG_OK ||
	    (rc = cert_time(&c, "expires", &out->expires, err)) != EMG_OK)
		return rc;
	if (out->expires <= out->not_before)
		return emg_fail(err, EMG_ECONFIG, "line 6: expires is not after not-before");
	return emg_cursor_rest_blank(&c, "certificate", err);
}

int emg_cert_format(const emg_pubkey *key, const char *role, time_t not_before, time_t expires,
		    char **out, size_t *out_len, emg_err *err)
{
	char b64[EMG_PUBKEY_B64_SIZE], id[EMG_KEYID_HEX_LEN];
	char nb[EMG_TIME_LEN], ex[EMG_TIME_LEN];
	size_t cap = 256;

	*out = NULL;
	*out_len = 0;
	if (!role_ok(role, strlen(role)))
		return emg_fail(err, EMG_EUSAGE, "role must be 1 to 31 of a-z 0-9 - _");
	if (expires <= not_before)
		return emg_fail(err, EMG_EUSAGE, "expires must be after not-before");
	*out = malloc(cap);
	if (*out == NULL)
		return emg_fail(err, EMG_EIO, "out of memory");
	emg_pubkey_to_base64(key, b64);
	emg_keyid_hex(key->keynum, id);
	emg_time_format(not_before, nb);
	emg_time_format(expires, ex);
	*out_len = (size_t)snprintf(*out, cap,
				    CERT_MAGIC "\nkey: %s\nkey-id: %s\nrole: %s\nnot-before: %s\nexpires: %s\n",
				    b64, id, role, nb, ex);
	return EMG_OK;
}

static int set_status(enum emg_signer_status *st, enum emg_signer_status v, int rc)
{
	if (st != NULL)
		*st = v;
	return rc;
}

int emg_cert_verify(const emg_roots *roots, const char *cert, size_t cert_len,
		    const char *cert_sig, size_t cert_sig_len, const char *role, time_t at,
		    emg_cert *out, enum emg_signer_status *status,
		    char root_keyid[EMG_KEYID_HEX_LEN], emg_err *err)
{
	emg_signature sig;
	emg_cert c;
	char id[EMG_KEYID_HEX_LEN], t1[EMG_TIME_LEN];
	const emg_pubkey *root = NULL;
	size_t i;
	int rc;

	if ((rc = emg_cert_parse(cert, cert_len, &c, err)) != EMG_OK)
		return set_status(status, EMG_SIGNER_MALFORMED, emg_err_prefix(err, "certificate"));
	if (out != NULL)
		*out = c;
	if ((rc = emg_signature_parse(cert_sig, cert_sig_len, &sig, err)) != EMG_OK)
		return set_status(status, EMG_SIGNER_MALFORMED,
				  emg_err_prefix(err, "certificate signature"));
	emg_keyid_hex(sig.keynum, id);
	if (root_keyid != NULL)
		memcpy(root_keyid, id, EMG_KEYID_HEX_LEN);
	/* Every trusted root with this key number gets its chance: key numbers
	 * are not secret, so two roots could share one. */
	rc = EMG_EVERIFY;
	for (i = 0; roots != NULL && i < roots->count && rc != EMG_OK; i++) {
		if (memcmp(roots->keys[i].keynum, sig.keynum, EMG_KEYNUM_LEN) != 0)
			continue;
		root = &roots->keys[i];
		rc = emg_signature_verify(root, &sig, (const uint8_t *)cert, cert_len, err);
	}
	if (root == NULL)
		return set_status(status, EMG_SIGNER_UNKNOWN_ROOT,
				  emg_fail(err, EMG_EVERIFY,
					   "certificate signed by key %s, which is not a trusted root", id));
	if (rc != EMG_OK)
		return set_status(status, EMG_SIGNER_BAD_CERT_SIG,
				  emg_err_prefix(err, "certificate signature by root %s", id));
	emg_keyid_hex(c.key.keynum, id);
	if (role != NULL && strcmp(c.role, role) != 0)
		return set_status(status, EMG_SIGNER_WRONG_ROLE,
				  emg_fail(err, EMG_EVERIFY,
					   "certificate of key %s is for role \"%s\", not \"%s\"", id,
					   c.role, role));
	if (at < c.not_before) {
		emg_time_format(c.not_before, t1);
		return set_status(status, EMG_SIGNER_NOT_YET_VALID,
				  emg_fail(err, EMG_EFRESH,
					   "certificate of key %s is not valid before %s", id, t1));
	}
	if (at >= c.expires) {
		emg_time_format(c.expires, t1);
		return set_status(status, EMG_SIGNER_EXPIRED,
				  emg_fail(err, EMG_EFRESH, "certificate of key %s expired at %s",
					   id, t1));
	}
	return set_status(status, EMG_SIGNER_VALID, EMG_OK);
}

const char *emg_signer_status_name(enum emg_signer_status s)
{
	switch (s) {
	case EMG_SIGNER_VALID: return "valid";
	case EMG_SIGNER_MALFORMED: return "malformed";
	case EMG_SIGNER_UNKNOWN_ROOT: return "unknown root";
	case EMG_SIGNER_BAD_CERT_SIG: return "bad certificate signature";
	case EMG_SIGNER_WRONG_ROLE: return "wrong role";
	case EMG_SIGNER_NOT_YET_VALID: return "not yet valid";
	case EMG_SIGNER_EXPIRED: return "expired";
	case EMG_SIGNER_KEY_MISMATCH: return "key mismatch";
	case EMG_SIGNER_BAD_SIG: return "bad signature";
	case EMG_SIGNER_DUPLICATE: return "duplicate";
	}
	return "unknown";
}

/* One signer: certificate first (who may sign), then the signature. */
static void check_signer(const emg_roots *roots, const emg_signer_input *in, const uint8_t *msg,
			 size_t len, const char *role, time_t at, emg_signer_result *r,
			 emg_cert *cert)
{
	emg_signature sig;
	emg_err e;
	int rc;

	emg_err_clear(&e);
	rc = emg_cert_verify(roots, in->cert, in->cert_len, in->cert_sig, in->cert_sig_len, role,
			     at, cert, &r->status, NULL, &e);
	/* Once it parsed, name the certificate's key even when it is refused. */
	if (r->status != EMG_SIGNER_MALFORMED) {
		emg_keyid_hex(cert->key.keynum, r->keyid);
		r->not_before = cert->not_before;
		r->expires = cert->expires;
	}
	if (rc != EMG_OK) {
		snprintf(r->why, sizeof r->why, "%s", e.msg);
		return;
	}
	if (emg_signature_parse(in->sig, in->sig_len, &sig, &e) != EMG_OK) {
		r->status = EMG_SIGNER_MALFORMED;
		snprintf(r->why, sizeof r->why, "signature: %s", e.msg);
		return;
	}
	if (emg_signature_verify_named(&cert->key, &sig, msg, len, in->label, &e) != EMG_OK) {
		/* The key id check comes first, so a mismatch has minisign's message. */
		r->status = memcmp(sig.keynum, cert->key.keynum, EMG_KEYNUM_LEN) != 0 ?
				    EMG_SIGNER_KEY_MISMATCH : EMG_SIGNER_BAD_SIG;
		snprintf(r->why, sizeof r->why, "%s", e.msg);
		return;
	}
	r->status = EMG_SIGNER_VALID;
	r->why[0] = '\0';
}

/* Appends "label: why" to the summary, as far as it fits. */
static void add_reason(char *buf, size_t cap, const emg_signer_input *in, size_t i,
		       const emg_signer_result *r)
{
	size_t used = strlen(buf);
	char label[64];

	if (used + 4 >= cap)
		return;
	if (in->label == NULL)
		snprintf(label, sizeof label, "signer %zu", i + 1);
	snprintf(buf + used, cap - used, "%s%s: %s", used ? "; " : "",
		 in->label ? in->label : label, r->why[0] ? r->why : emg_signer_status_name(r->status));
}

int emg_threshold_verify(const emg_roots *roots, const emg_signer_input *signers, size_t n,
			 const uint8_t *msg, size_t len, const char *role, time_t at,
			 unsigned m, emg_signer_result *results, unsigned *valid, emg_err *err)
{
	emg_pubkey *seen;
	char reasons[EMG_ERR_MSG_MAX];
	unsigned count = 0;
	size_t i, j;

	if (valid != NULL)
		*valid = 0;
	if (m == 0)
		return emg_fail(err, EMG_ECONFIG, "threshold must be at least 1");
	if (n > EMG_THRESHOLD_SIGNERS_MAX)
		return emg_fail(err, EMG_ECONFIG, "%zu signatures, more than the limit of %d", n,
				EMG_THRESHOLD_SIGNERS_MAX);
	seen = calloc(n ? n : 1, sizeof *seen);
	if (seen == NULL)
		return emg_fail(err, EMG_EIO, "out of memory");
	reasons[0] = '\0';
	for (i = 0; i < n; i++) {
		emg_signer_result r;
		emg_cert cert;
		memset(&r, 0, sizeof r);
		check_signer(roots, &signers[i], msg, len, role, at, &r, &cert);
		if (r.status == EMG_SIGNER_VALID) {
			/* Distinct keys, not distinct files: one key counts once. The
			 * Ed25519 key decides, not the key number, which no signature
			 * covers: one key certified under two numbers is still one. */
			for (j = 0; j < count; j++)
				if (sodium_memcmp(seen[j].pk, cert.key.pk, sizeof cert.key.pk) == 0)
					break;
			if (j < count) {
				r.status = EMG_SIGNER_DUPLICATE;
				snprintf(r.why, sizeof r.why, "key %s already counted", r.keyid);
			} else {
				seen[count++] = cert.key;
			}
		}
		if (r.status != EMG_SIGNER_VALID)
			add_reason(reasons, sizeof reasons, &signers[i], i, &r);
		if (results != NULL)
			results[i] = r;
	}
	free(seen);
	if (valid != NULL)
		*valid = count;
	if (count >= m)
		return EMG_OK;
	return emg_fail(err, EMG_EVERIFY, "%u of %u required signing keys valid (%zu signature%s)%s%s",
			count, m, n, n == 1 ? "" : "s", reasons[0] ? ": " : "", reasons);
}
