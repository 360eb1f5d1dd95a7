/* pki.c - the vendor signer's certificate checks, done with OpenSSL at a
 * fixed time after xmlsec has verified the signature.
 *
 * xmlsec 1.2.37 treats a missing CRL as a pass, compares CRL expiry with
 * the real clock and has no EKU option (DESIGN.md §8), so the chain is
 * built again here with every CRL required (CRL_CHECK_ALL), the time
 * pinned, the EKU OIDs read from the extension, the subject rule applied,
 * and every chain certificate looked up in the disallowed CTL. */
#include <string.h>

#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "bundle/ctl.h"
#include "bundle/feed_internal.h"
#include "fileio.h"

#define MAX_ANCHOR_BYTES (1024 * 1024)
#define MAX_ANCHORS 64
#define MAX_CHAIN 8

int emg_pki_load_pem_certs(const char *path, STACK_OF(X509) **out, emg_err *err)
{
	uint8_t *buf = NULL;
	size_t len = 0;
	STACK_OF(X509) *sk;
	BIO *bio;
	X509 *x;
	int rc;

	*out = NULL;
	rc = emg_read_file(path, MAX_ANCHOR_BYTES, EMG_ECONFIG, &buf, &len, err);
	if (rc != EMG_OK)
		return rc;
	sk = sk_X509_new_null();
	bio = BIO_new_mem_buf(buf, (int)len);
	if (sk == NULL || bio == NULL) {
		rc = emg_fail(err, EMG_EIO, "out of memory");
		goto out;
	}
	while ((x = PEM_read_bio_X509(bio, NULL, NULL, NULL)) != NULL) {
		if (sk_X509_num(sk) >= MAX_ANCHORS || sk_X509_push(sk, x) <= 0) {
			X509_free(x);
			rc = emg_fail(err, EMG_ECONFIG, "%s: more than %d certificates", path, MAX_ANCHORS);
			goto out;
		}
	}
	ERR_clear_error(); /* the end of the PEM stream reads as an error */
	if (sk_X509_num(sk) == 0)
		rc = emg_fail(err, EMG_ECONFIG, "%s: no PEM certificate found", path);
out:
	BIO_free(bio);
	free(buf);
	if (rc != EMG_OK)
		sk_X509_pop_free(sk, X509_free);
	else
		*out = sk;
	return rc;
}

/* CRLs come as fetched from the distribution points (DER) or as PEM. */
static X509_CRL *parse_crl(const emg_blob *b)
{
	const unsigned char *p = b->data;
	X509_CRL *crl;
	BIO *bio;

	if (b->len > 0 && b->len < (size_t)1 << 30) {
		crl = d2i_X509_CRL(NULL, &p, (long)b->len);
		if (crl != NULL)
			return crl;
	}
	bio = BIO_new_mem_buf(b->data, (int)(b->len < (size_t)1 << 30 ? b->len : 0));
	if (bio == NULL)
		return NULL;
	crl = PEM_read_bio_X509_CRL(bio, NULL, NULL, NULL);
	BIO_free(bio);
	ERR_clear_error();
	return crl;
}

static int load_crls(const emg_pki_snapshot *pki, STACK_OF(X509_CRL) **out, emg_err *err)
{
	STACK_OF(X509_CRL) *sk = sk_X509_CRL_new_null();
	size_t i;

	*out = NULL;
	if (sk == NULL)
		return emg_fail(err, EMG_EIO, "out of memory");
	for (i = 0; pki != NULL && i < pki->crl_count; i++) {
		X509_CRL *crl = parse_crl(&pki->crls[i]);

		if (crl == NULL || sk_X509_CRL_push(sk, crl) <= 0) {
			X509_CRL_free(crl);
			sk_X509_CRL_pop_free(sk, X509_CRL_free);
			return emg_fail(err, EMG_ECONFIG, "%s: not a CRL (DER or PEM)",
					pki->crls[i].name != NULL ? pki->crls[i].name : "CRL");
		}
	}
	*out = sk;
	return EMG_OK;
}

/* Whether the CRL being checked is current at the policy's CRL time. */
static int crl_current_at(X509_STORE_CTX *ctx, time_t when)
{
	X509_CRL *crl = X509_STORE_CTX_get0_current_crl(ctx);
	const ASN1_TIME *next;

	if (crl == NULL || X509_cmp_time(X509_CRL_get0_lastUpdate(crl), &when) > 0)
		return 0;
	next = X509_CRL_get0_nextUpdate(crl);
	return next == NULL || X509_cmp_time(next, &when) > 0;
}

/* The policy rides along as the store context's application data. A
 * missing CRL is let through only when the policy says so; with a CRL time
 * set, a CRL's own dates are judged at that time (OpenSSL judges them at the
 * verification time, like the certificates). */
static int verify_cb(int ok, X509_STORE_CTX *ctx)
{
	const emg_vendor_policy *p = X509_STORE_CTX_get_app_data(ctx);

	if (ok || p == NULL)
		return ok;
	switch (X509_STORE_CTX_get_error(ctx)) {
	case X509_V_ERR_UNABLE_TO_GET_CRL:
		return p->allow_missing_crl;
	case X509_V_ERR_CRL_HAS_EXPIRED:
	case X509_V_ERR_CRL_NOT_YET_VALID:
		return p->crl_time != 0 && crl_current_at(ctx, p->crl_time);
	default:
		return ok;
	}
}

/* Which verification failures mean "no longer (or not yet) good" rather
 * than "never trusted". */
static int code_for(int verr)
{
	switch (verr) {
	case X509_V_ERR_CERT_REVOKED:
	case X509_V_ERR_CERT_HAS_EXPIRED:
	case X509_V_ERR_CERT_NOT_YET_VALID:
	case X509_V_ERR_CRL_HAS_EXPIRED:
	case X509_V_ERR_CRL_NOT_YET_VALID:
		return EMG_EFRESH;
	default:
		return EMG_EVERIFY;
	}
}

static void name_of(const X509_NAME *name, char *out, size_t cap)
{
	BIO *bio = BIO_new(BIO_s_mem());
	int n;

	out[0] = '\0';
	if (bio == NULL)
		return;
	if (X509_NAME_print_ex(bio, name, 0, XN_FLAG_RFC2253 & ~ASN1_STRFLGS_ESC_MSB) >= 0) {
		n = BIO_read(bio, out, (int)cap - 1);
		out[n > 0 ? n : 0] = '\0';
	}
	BIO_free(bio);
}

static int check_eku(X509 *signer, const emg_vendor_policy *policy, emg_err *err)
{
	EXTENDED_KEY_USAGE *eku;
	size_t i;
	int j, found = 0;

	if (policy->eku_count == 0)
		return EMG_OK;
	eku = X509_get_ext_d2i(signer, NID_ext_key_usage, NULL, NULL);
	if (eku == NULL)
		return emg_fail(err, EMG_EVERIFY, "feed signer certificate has no extended key usage; %s required",
				policy->eku_oids[0]);
	for (j = 0; j < sk_ASN1_OBJECT_num(eku) && !found; j++) {
		char oid[128];

		if (OBJ_obj2txt(oid, sizeof oid, sk_ASN1_OBJECT_value(eku, j), 1) <= 0)
			continue;
		for (i = 0; i < policy->eku_count && !found; i++)
			if (strcmp(oid, policy->eku_oids[i]) == 0)
				found = 1;
	}
	EXTENDED_KEY_USAGE_free(eku);
	if (!found)
		return emg_fail(err, EMG_EVERIFY,
				"feed signer certificate lacks the required extended key usage %s%s",
				policy->eku_oids[0], policy->eku_count > 1 ? " (or another allowed one)" : "");
	return EMG_OK;
}

/* Refuses the chain when a certificate in it is on a disallowed CTL. */
static int check_ctls(STACK_OF(X509) *chain, const emg_pki_snapshot *pki, emg_err *err)
{
	size_t i;
	int j, rc = EMG_OK;

	for (i = 0; pki != NULL && i < pki->ctl_count && rc == EMG_OK; i++) {
		const emg_blob *b = &pki->ctls[i];
		const char *name = b->name != NULL ? b->name : "CTL";
		emg_ctl *ctl;

		rc = emg_ctl_parse(b->data, b->len, name, &ctl, err);
		if (rc != EMG_OK)
			break;
		for (j = 0; ctl->kind == EMG_CTL_DISALLOWED && j < sk_X509_num(chain) && rc == EMG_OK; j++) {
			unsigned char md[EVP_MAX_MD_SIZE];
			unsigned int mdlen = 0;
			char subject[512];

			if (X509_digest(sk_X509_value(chain, j), EVP_sha1(), md, &mdlen) != 1) {
				rc = emg_fail(err, EMG_EIO, "cannot hash a certificate");
			} else if (emg_ctl_lists(ctl, md, mdlen)) {
				name_of(X509_get_subject_name(sk_X509_value(chain, j)), subject, sizeof subject);
				rc = emg_fail(err, EMG_EVERIFY, "certificate '%s' in the feed signer's chain is on the disallowed list %s",
					      subject, name);
			}
		}
		emg_ctl_free(ctl);
	}
	return rc;
}

static void fill_report(X509 *signer, STACK_OF(X509) *chain, emg_feed_report *r)
{
	int i;

	memset(r, 0, sizeof *r);
	name_of(X509_get_subject_name(signer), r->signer_subject, sizeof r->signer_subject);
	name_of(X509_get_issuer_name(signer), r->signer_issuer, sizeof r->signer_issuer);
	for (i = 0; i < sk_X509_num(chain) && i < MAX_CHAIN; i++)
		name_of(X509_get_subject_name(sk_X509_value(chain, i)), r->chain[i], sizeof r->chain[i]);
	r->chain_len = (size_t)i;
}

/* With a CRL time set, OpenSSL has judged the CRLs' dates at the
 * verification time only where that failed (verify_cb); a CRL that passed
 * there must be current at the CRL time too. Every CRL issued by a
 * certificate of the chain is held to it. */
static int check_crl_time(STACK_OF(X509) *chain, STACK_OF(X509_CRL) *crls, time_t when, emg_err *err)
{
	char issuer[512];
	int i, j;

	for (i = 0; i < sk_X509_num(chain); i++) {
		const X509_NAME *subject = X509_get_subject_name(sk_X509_value(chain, i));

		for (j = 0; j < sk_X509_CRL_num(crls); j++) {
			X509_CRL *crl = sk_X509_CRL_value(crls, j);
			const ASN1_TIME *next = X509_CRL_get0_nextUpdate(crl);

			if (X509_NAME_cmp(X509_CRL_get_issuer(crl), subject) != 0)
				continue;
			if (X509_cmp_time(X509_CRL_get0_lastUpdate(crl), &when) > 0 ||
			    (next != NULL && X509_cmp_time(next, &when) <= 0)) {
				name_of(subject, issuer, sizeof issuer);
				return emg_fail(err, EMG_EFRESH,
						"feed signer certificate chain: the CRL of %s is not current at the CRL time (CRL has expired or is not yet valid)",
						issuer);
			}
		}
	}
	return EMG_OK;
}

/* Builds and verifies the chain; on success *chain is the built chain. */
static int verify_chain(X509 *signer, STACK_OF(X509) *untrusted, const emg_vendor_policy *policy,
			const emg_pki_snapshot *pki, time_t at, STACK_OF(X509) **chain, emg_err *err)
{
	STACK_OF(X509) *anchors = NULL;
	STACK_OF(X509_CRL) *crls = NULL;
	X509_STORE *store = NULL;
	X509_STORE_CTX *ctx = NULL;
	X509_VERIFY_PARAM *param;
	char subject[512];
	int i, rc, verr;

	*chain = NULL;
	rc = emg_pki_load_pem_certs(policy->anchors_pem, &anchors, err);
	if (rc == EMG_OK)
		rc = load_crls(pki, &crls, err);
	if (rc != EMG_OK)
		goto out;
	store = X509_STORE_new();
	ctx = X509_STORE_CTX_new();
	if (store == NULL || ctx == NULL) {
		rc = emg_fail(err, EMG_EIO, "out of memory");
		goto out;
	}
	for (i = 0; i < sk_X509_num(anchors); i++)
		if (X509_STORE_add_cert(store, sk_X509_value(anchors, i)) != 1) {
			rc = emg_fail(err, EMG_EIO, "cannot load the anchors");
			goto out;
		}
	if (X509_STORE_CTX_init(ctx, store, signer, untrusted) != 1) {
		rc = emg_fail(err, EMG_EIO, "cannot set up certificate verification");
		goto out;
	}
	X509_STORE_CTX_set0_crls(ctx, crls);
	X509_STORE_CTX_set_app_data(ctx, (void *)policy);
	X509_STORE_CTX_set_verify_cb(ctx, verify_cb);
	param = X509_STORE_CTX_get0_param(ctx);
	X509_VERIFY_PARAM_set_time(param, at);
	X509_VERIFY_PARAM_set_depth(param, MAX_CHAIN - 2);
	/* Not X509_V_FLAG_X509_STRICT: long-lived vendor roots predate some
	 * of its profile rules, and refusing the real chain helps nobody. */
	X509_VERIFY_PARAM_set_flags(param, X509_V_FLAG_CRL_CHECK | X509_V_FLAG_CRL_CHECK_ALL);
	if (X509_verify_cert(ctx) != 1) {
		verr = X509_STORE_CTX_get_error(ctx);
		name_of(X509_get_subject_name(X509_STORE_CTX_get_current_cert(ctx) != NULL
						      ? X509_STORE_CTX_get_current_cert(ctx)
						      : signer),
			subject, sizeof subject);
		rc = emg_fail(err, code_for(verr), "feed signer certificate chain: %s: %s%s", subject,
			      X509_verify_cert_error_string(verr),
			      verr == X509_V_ERR_UNABLE_TO_GET_CRL ? " (no CRL for it in the snapshot)" : "");
		goto out;
	}
	*chain = X509_STORE_CTX_get1_chain(ctx);
	if (*chain == NULL)
		rc = emg_fail(err, EMG_EIO, "out of memory");
	else if (policy->crl_time != 0)
		rc = check_crl_time(*chain, crls, policy->crl_time, err);
out:
	X509_STORE_CTX_free(ctx);
	X509_STORE_free(store);
	sk_X509_CRL_pop_free(crls, X509_CRL_free);
	sk_X509_pop_free(anchors, X509_free);
	return rc;
}

int emg_pki_check(X509 *signer, STACK_OF(X509) *untrusted, const emg_vendor_policy *policy,
		  const emg_pki_snapshot *pki, time_t at, emg_feed_report *report, emg_err *err)
{
	STACK_OF(X509) *chain = NULL;
	char subject[512];
	int rc;

	rc = verify_chain(signer, untrusted, policy, pki, at, &chain, err);
	if (rc == EMG_OK)
		rc = check_eku(signer, policy, err);
	if (rc == EMG_OK && policy->subject != NULL && policy->subject[0] != '\0') {
		name_of(X509_get_subject_name(signer), subject, sizeof subject);
		if (strstr(subject, policy->subject) == NULL)
			rc = emg_fail(err, EMG_EVERIFY, "feed signer '%s' does not match the subject rule '%s'",
				      subject, policy->subject);
	}
	if (rc == EMG_OK)
		rc = check_ctls(chain, pki, err);
	if (rc == EMG_OK && report != NULL)
		fill_report(signer, chain, report);
	sk_X509_pop_free(chain, X509_free);
	return rc;
}
