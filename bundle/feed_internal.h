/* feed_internal.h - pieces of the feed layer shared between its files
 * (feed.c, feed_verify.c, xmldsig.c, pki.c); not for other parts. */
#ifndef EMG_FEED_INTERNAL_H
#define EMG_FEED_INTERNAL_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include <libxml/tree.h>
#include <openssl/x509.h>

#include "bundle/feed.h"

#define EMG_DSIG_NS "http://www.w3.org/2000/09/xmldsig#"

/* A parsed feed and what the parser saw while building it, so that the
 * signature checks need no walk of their own over the whole tree. */
typedef struct emg_feed_doc {
	xmlDocPtr doc;
	size_t signatures;    /* ds:Signature elements anywhere */
	xmlNodePtr signature; /* the first of them, NULL if none */
	long dup_id_line;     /* line of the first repeated ID attribute; 0: none */
	char dup_id[128];     /* its value (cut to fit) */
} emg_feed_doc;

/* Parses untrusted feed bytes into a libxml2 tree: no network, no DTD
 * loading, no entity substitution, any DOCTYPE refused before its content
 * is read, size/depth/node limits. EMG_ECONFIG on anything malformed.
 * On success the caller frees out with emg_feed_doc_free. */
int emg_feed_xml_read(const uint8_t *xml, size_t len, emg_feed_doc *out, emg_err *err);
void emg_feed_doc_free(emg_feed_doc *fd);

/* Builds the model from an already-read (and, if wanted, verified) tree.
 * Elements in the XMLDSig namespace are skipped without a warning. */
int emg_feed_from_doc(xmlDocPtr doc, emg_feed **out, emg_err *err);

/* Checks the signature's shape (one Signature, a child of the root, one
 * Reference with URI="", only enveloped/c14n transforms, no duplicate ID
 * attributes), then verifies it with xmlsec using the key of the KeyInfo's
 * leaf certificate. It does not judge that certificate: the caller must
 * check its chain to the anchors (emg_pki_check) before trusting anything.
 * On success *certs holds every certificate of the KeyInfo and *signer
 * the leaf (an extra reference); the caller frees both. EMG_ECONFIG
 * malformed, EMG_EVERIFY bad signature. */
int emg_xmldsig_verify(const emg_feed_doc *fd, time_t at, STACK_OF(X509) **certs, X509 **signer,
		       emg_err *err);

/* Reads every certificate of the KeyInfo's X509Data (no verification), for
 * telling an expired or revoked signer from a bad signature after xmlsec
 * refused the document. Returns the leaf (a certificate that issued none of
 * the others) in *leaf. */
int emg_xmldsig_keyinfo_certs(const emg_feed_doc *fd, STACK_OF(X509) **certs, X509 **leaf,
			      emg_err *err);

/* The OpenSSL half of the vendor checks: chain from signer through
 * untrusted to the anchors at time at, every CRL (CRL_CHECK_ALL), EKU,
 * subject rule, disallowed CTL. Fills report when not NULL.
 * EMG_EVERIFY trust, EMG_EFRESH revoked/expired, EMG_ECONFIG bad input. */
int emg_pki_check(X509 *signer, STACK_OF(X509) *untrusted, const emg_vendor_policy *policy,
		  const emg_pki_snapshot *pki, time_t at, emg_feed_report *report,
		  emg_err *err);

/* Loads every certificate of a PEM file (at least one). */
int emg_pki_load_pem_certs(const char *path, STACK_OF(X509) **out, emg_err *err);

#endif
