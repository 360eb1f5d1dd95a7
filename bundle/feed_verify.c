/* feed_verify.c - emg_feed_verify: the vendor trust layer end to end.
 *
 * Order matters: the bytes are read once into one tree; the signature is
 * checked on that tree; and the model is built from that same tree, so
 * nothing but what was verified is ever read. */
#include <string.h>

#include <openssl/x509.h>

#include "bundle/feed.h"
#include "bundle/feed_internal.h"

/* After xmlsec refused the document: if the signer's certificate is
 * expired or revoked at time at, say so (EMG_EFRESH) rather than blaming the
 * signature; if its chain fails otherwise, name the failing link; when the
 * chain is fine, xmlsec's verdict (a bad signature) stands. */
static int diagnose(const emg_feed_doc *fd, const emg_vendor_policy *policy, const emg_pki_snapshot *pki,
		    time_t at, int rc, emg_err *err)
{
	STACK_OF(X509) *certs = NULL;
	X509 *leaf = NULL;
	emg_err why;

	emg_err_clear(&why);
	if (emg_xmldsig_keyinfo_certs(fd, &certs, &leaf, &why) != EMG_OK)
		return rc;
	switch (emg_pki_check(leaf, certs, policy, pki, at, NULL, &why)) {
	case EMG_OK:
		break;
	case EMG_EFRESH:
		rc = emg_fail(err, EMG_EFRESH, "%s", why.msg);
		break;
	default:
		rc = emg_fail(err, EMG_EVERIFY, "%s", why.msg);
		break;
	}
	sk_X509_pop_free(certs, X509_free);
	return rc;
}

int emg_feed_verify(const uint8_t *xml, size_t len, const emg_vendor_policy *policy,
		    const emg_pki_snapshot *pki, time_t at, emg_feed_report *report,
		    emg_feed **out, emg_err *err)
{
	STACK_OF(X509) *certs = NULL;
	X509 *signer = NULL;
	emg_feed_doc fd;
	int rc;

	if (out != NULL)
		*out = NULL;
	if (report != NULL)
		memset(report, 0, sizeof *report);
	if (policy == NULL || policy->anchors_pem == NULL)
		return emg_fail(err, EMG_ECONFIG, "no vendor trust anchors configured");
	rc = emg_feed_xml_read(xml, len, &fd, err);
	if (rc != EMG_OK)
		return rc;
	rc = emg_xmldsig_verify(&fd, at, &certs, &signer, err);
	if (rc == EMG_EVERIFY)
		rc = diagnose(&fd, policy, pki, at, rc, err);
	if (rc == EMG_OK)
		rc = emg_pki_check(signer, certs, policy, pki, at, report, err);
	if (rc == EMG_OK && out != NULL)
		rc = emg_feed_from_doc(fd.doc, out, err);
	X509_free(signer);
	sk_X509_pop_free(certs, X509_free);
	emg_feed_doc_free(&fd);
	return rc;
}
