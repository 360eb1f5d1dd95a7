/* xmldsig.c - the vendor's XML signature: its shape, checked here, and its
 * cryptography, checked by xmlsec (OpenSSL backend).
 *
 * xmlsec verifies whatever a Signature says it signs. The shape checks pin
 * that down to "the whole document": exactly one Signature, a child of the
 * root; one Reference with URI=""; only the enveloped and c14n transforms.
 * Anything else a signature could point at (an ID, a Manifest, an Object)
 * is how signature wrapping hides unsigned content, so it is refused before
 * xmlsec sees the document. */
#include <string.h>

#include <libxml/tree.h>
#include <openssl/evp.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>
#include <xmlsec/xmlsec.h>
#include <xmlsec/crypto.h>
#include <xmlsec/errors.h>
#include <xmlsec/keysmngr.h>
#include <xmlsec/xmldsig.h>
#include <xmlsec/xmltree.h>
#include <xmlsec/openssl/app.h>
#include <xmlsec/openssl/evp.h>
#include <xmlsec/openssl/x509.h>

#include "bundle/feed_internal.h"

#define MAX_KEYINFO_CERTS 8
#define MAX_CERT_B64 (64 * 1024)

#define ALG_ENVELOPED "http://www.w3.org/2000/09/xmldsig#enveloped-signature"
#define ALG_C14N "http://www.w3.org/TR/2001/REC-xml-c14n-20010315"
#define ALG_EXC_C14N "http://www.w3.org/2001/10/xml-exc-c14n#"
#define ALG_RSA_SHA256 "http://www.w3.org/2001/04/xmldsig-more#rsa-sha256"
#define ALG_SHA256 "http://www.w3.org/2001/04/xmlenc#sha256"

static const char *const allowed_transforms[] = {ALG_ENVELOPED, ALG_C14N, ALG_EXC_C14N, NULL};
static const char *const c14n_algs[] = {ALG_C14N, ALG_EXC_C14N, NULL};

static int is_dsig_el(xmlNodePtr n, const char *name)
{
	return n != NULL && n->type == XML_ELEMENT_NODE && n->ns != NULL &&
	       strcmp((const char *)n->ns->href, EMG_DSIG_NS) == 0 &&
	       strcmp((const char *)n->name, name) == 0;
}

/* Depth-first walk over elements; the tree's depth is already limited. */
static xmlNodePtr next_element(xmlNodePtr n, xmlNodePtr top)
{
	if (n->children != NULL)
		return n->children;
	while (n != top && n->next == NULL)
		n = n->parent;
	return n == top ? NULL : n->next;
}

static size_t count_dsig(xmlNodePtr top, const char *name, xmlNodePtr *first)
{
	xmlNodePtr n;
	size_t k = 0;

	for (n = top; n != NULL; n = next_element(n, top))
		if (is_dsig_el(n, name) && k++ == 0 && first != NULL)
			*first = n;
	return k;
}

static int check_reference(xmlNodePtr ref, emg_err *err)
{
	xmlChar *uri = xmlGetNoNsProp(ref, (const xmlChar *)"URI");
	xmlNodePtr c, t;
	int ok = uri != NULL && uri[0] == '\0';

	xmlFree(uri);
	if (!ok)
		return emg_fail(err, EMG_EVERIFY,
				"feed signature: the Reference must have URI=\"\" (the whole document)");
	for (c = ref->children; c != NULL; c = c->next) {
		if (!is_dsig_el(c, "Transforms"))
			continue;
		for (t = c->children; t != NULL; t = t->next) {
			xmlChar *alg;
			size_t i;

			if (t->type != XML_ELEMENT_NODE)
				continue;
			if (!is_dsig_el(t, "Transform"))
				return emg_fail(err, EMG_EVERIFY, "feed signature: unexpected <%s> in Transforms",
						(const char *)t->name);
			alg = xmlGetNoNsProp(t, (const xmlChar *)"Algorithm");
			for (i = 0, ok = 0; alg != NULL && allowed_transforms[i] != NULL; i++)
				if (strcmp((const char *)alg, allowed_transforms[i]) == 0)
					ok = 1;
			if (!ok) {
				int rc = emg_fail(err, EMG_EVERIFY, "feed signature: transform '%s' is not allowed",
						  alg != NULL ? (const char *)alg : "(none)");
				xmlFree(alg);
				return rc;
			}
			xmlFree(alg);
			if (t->children != NULL && xmlFirstElementChild(t) != NULL)
				return emg_fail(err, EMG_EVERIFY, "feed signature: transform parameters are not allowed");
		}
	}
	return EMG_OK;
}

/* The Algorithm of the single dsig:NAME child of parent must be one of
 * the allowed ones (NULL-terminated); xmlsec would refuse others too, but
 * only with "no key", which misleads the operator. */
static int check_algorithm(xmlNodePtr parent, const char *name, const char *const *allowed,
			   emg_err *err)
{
	xmlNodePtr c, el = NULL;
	xmlChar *alg;
	size_t i;
	int ok = 0;

	for (c = parent->children; c != NULL; c = c->next)
		if (is_dsig_el(c, name)) {
			if (el != NULL)
				return emg_fail(err, EMG_EVERIFY, "feed signature has more than one %s", name);
			el = c;
		}
	if (el == NULL)
		return emg_fail(err, EMG_EVERIFY, "feed signature has no %s", name);
	alg = xmlGetNoNsProp(el, (const xmlChar *)"Algorithm");
	for (i = 0; alg != NULL && allowed[i] != NULL; i++)
		if (strcmp((const char *)alg, allowed[i]) == 0)
			ok = 1;
	if (!ok) {
		int rc = emg_fail(err, EMG_EVERIFY, "feed signature: %s '%s' is not allowed (only %s)", name,
				  alg != NULL ? (const char *)alg : "(none)", allowed[0]);
		xmlFree(alg);
		return rc;
	}
	xmlFree(alg);
	return EMG_OK;
}

static int check_algorithms(xmlNodePtr si, xmlNodePtr ref, emg_err *err)
{
	static const char *const sig_algs[] = {ALG_RSA_SHA256, NULL};
	static const char *const digest_algs[] = {ALG_SHA256, NULL};
	int rc;

	rc = check_algorithm(si, "CanonicalizationMethod", c14n_algs, err);
	if (rc == EMG_OK)
		rc = check_algorithm(si, "SignatureMethod", sig_algs, err);
	if (rc == EMG_OK)
		rc = check_algorithm(ref, "DigestMethod", digest_algs, err);
	return rc;
}

/* The shape checks; on success *sig is the one Signature element. Where
 * the Signature elements are, and whether an ID repeats, the reader noted
 * while it built the tree (feed_xml.c). */
static int check_shape(const emg_feed_doc *fd, xmlNodePtr *sig, emg_err *err)
{
	xmlNodePtr root = xmlDocGetRootElement(fd->doc);
	xmlNodePtr si = NULL, ref = NULL;
	size_t n;
	int rc;

	if (fd->signatures == 0)
		return emg_fail(err, EMG_EVERIFY, "feed XML is not signed (no Signature element)");
	if (fd->signatures > 1)
		return emg_fail(err, EMG_EVERIFY, "feed XML has %zu Signature elements; exactly one is allowed",
				fd->signatures);
	*sig = fd->signature;
	if ((*sig)->parent != root)
		return emg_fail(err, EMG_EVERIFY,
				"feed XML line %ld: the Signature is not a direct child of the root element",
				xmlGetLineNo(*sig));
	if (count_dsig(*sig, "Object", NULL) != 0 || count_dsig(*sig, "Manifest", NULL) != 0)
		return emg_fail(err, EMG_EVERIFY, "feed signature carries an Object or Manifest; refused");
	if (count_dsig(*sig, "SignedInfo", &si) != 1 || si->parent != *sig)
		return emg_fail(err, EMG_EVERIFY, "feed signature: exactly one SignedInfo is required");
	n = count_dsig(si, "Reference", &ref);
	if (n != 1)
		return emg_fail(err, EMG_EVERIFY, "feed signature has %zu References; exactly one is allowed", n);
	if (ref->parent != si)
		return emg_fail(err, EMG_EVERIFY, "feed signature: the Reference is not in SignedInfo");
	rc = check_reference(ref, err);
	if (rc == EMG_OK)
		rc = check_algorithms(si, ref, err);
	/* xmlsec keeps the first of two equal IDs and only logs; refuse them. */
	if (rc == EMG_OK && fd->dup_id_line != 0)
		rc = emg_fail(err, EMG_EVERIFY, "feed XML line %ld: ID '%s' appears twice (signature wrapping?)",
			      fd->dup_id_line, fd->dup_id);
	return rc;
}

/* ---- KeyInfo certificates -------------------------------------------- */

static X509 *decode_cert(const xmlChar *b64)
{
	size_t i, n = 0, len = (size_t)xmlStrlen(b64);
	unsigned char *clean, *der;
	const unsigned char *p;
	X509 *x = NULL;
	int dlen;

	if (len == 0 || len > MAX_CERT_B64)
		return NULL;
	clean = malloc(len + 1);
	der = malloc(len);
	if (clean != NULL && der != NULL) {
		for (i = 0; i < len; i++)
			if (b64[i] != ' ' && b64[i] != '\t' && b64[i] != '\r' && b64[i] != '\n')
				clean[n++] = b64[i];
		clean[n] = '\0';
		dlen = n % 4 == 0 ? EVP_DecodeBlock(der, clean, (int)n) : -1;
		if (dlen > 0) {
			/* EVP_DecodeBlock counts padding as zero bytes; DER
			 * knows its own length, so the slack is harmless. */
			p = der;
			x = d2i_X509(NULL, &p, dlen);
		}
	}
	free(clean);
	free(der);
	return x;
}

/* The certificate that issued none of the others: the signer, in a
 * KeyInfo that carries signer and intermediates. */
static X509 *find_leaf(STACK_OF(X509) *certs)
{
	int i, j;

	for (i = 0; i < sk_X509_num(certs); i++) {
		X509 *c = sk_X509_value(certs, i);
		int issuer = 0;

		for (j = 0; j < sk_X509_num(certs) && !issuer; j++)
			if (j != i && X509_check_issued(c, sk_X509_value(certs, j)) == X509_V_OK)
				issuer = 1;
		if (!issuer)
			return c;
	}
	return NULL;
}

int emg_xmldsig_keyinfo_certs(const emg_feed_doc *fd, STACK_OF(X509) **certs, X509 **leaf,
			      emg_err *err)
{
	xmlNodePtr ki = NULL, n;
	STACK_OF(X509) *sk;

	*certs = NULL;
	*leaf = NULL;
	if (fd->signatures != 1 || count_dsig(fd->signature, "KeyInfo", &ki) != 1)
		return emg_fail(err, EMG_EVERIFY, "feed signature has no single KeyInfo");
	sk = sk_X509_new_null();
	if (sk == NULL)
		return emg_fail(err, EMG_EIO, "out of memory");
	for (n = ki; n != NULL; n = next_element(n, ki)) {
		xmlChar *b64;
		X509 *x;

		if (!is_dsig_el(n, "X509Certificate"))
			continue;
		if (sk_X509_num(sk) >= MAX_KEYINFO_CERTS) {
			sk_X509_pop_free(sk, X509_free);
			return emg_fail(err, EMG_EVERIFY, "feed signature carries more than %d certificates",
					MAX_KEYINFO_CERTS);
		}
		b64 = xmlNodeGetContent(n);
		x = b64 != NULL ? decode_cert(b64) : NULL;
		xmlFree(b64);
		if (x == NULL || sk_X509_push(sk, x) <= 0) {
			X509_free(x);
			sk_X509_pop_free(sk, X509_free);
			return emg_fail(err, EMG_EVERIFY, "feed XML line %ld: unreadable X509Certificate",
					xmlGetLineNo(n));
		}
	}
	*leaf = find_leaf(sk);
	if (*leaf == NULL) {
		sk_X509_pop_free(sk, X509_free);
		return emg_fail(err, EMG_EVERIFY, "feed signature's KeyInfo carries no signer certificate");
	}
	*certs = sk;
	return EMG_OK;
}

/* ---- xmlsec ---------------------------------------------------------- */

/* Only what a vendor feed needs: RSA-SHA256 over SHA-256 digests, c14n,
 * enveloped; keys only from X509Data. */
static int restrict_ctx(xmlSecDSigCtxPtr ctx, time_t at)
{
	ctx->keyInfoReadCtx.certsVerificationTime = at;
	ctx->keyInfoReadCtx.flags |= XMLSEC_KEYINFO_FLAGS_X509DATA_STOP_ON_INVALID_CERT;
	ctx->enabledReferenceUris = xmlSecTransformUriTypeEmpty;
	if (xmlSecPtrListAdd(&ctx->keyInfoReadCtx.enabledKeyData, (xmlSecPtr)xmlSecOpenSSLKeyDataX509Id) < 0)
		return -1;
	if (xmlSecDSigCtxEnableReferenceTransform(ctx, xmlSecTransformEnvelopedId) < 0 ||
	    xmlSecDSigCtxEnableReferenceTransform(ctx, xmlSecTransformInclC14NId) < 0 ||
	    xmlSecDSigCtxEnableReferenceTransform(ctx, xmlSecTransformExclC14NId) < 0 ||
	    xmlSecDSigCtxEnableReferenceTransform(ctx, xmlSecOpenSSLTransformSha256Id) < 0)
		return -1;
	if (xmlSecDSigCtxEnableSignatureTransform(ctx, xmlSecTransformInclC14NId) < 0 ||
	    xmlSecDSigCtxEnableSignatureTransform(ctx, xmlSecTransformExclC14NId) < 0 ||
	    xmlSecDSigCtxEnableSignatureTransform(ctx, xmlSecOpenSSLTransformRsaSha256Id) < 0)
		return -1;
	return 0;
}

static int reference_failed(xmlSecDSigCtxPtr ctx)
{
	xmlSecSize i, n = xmlSecPtrListGetSize(&ctx->signedInfoReferences);

	for (i = 0; i < n; i++) {
		xmlSecDSigReferenceCtxPtr r = xmlSecPtrListGetItem(&ctx->signedInfoReferences, i);

		if (r != NULL && r->status != xmlSecDSigStatusSucceeded)
			return 1;
	}
	return 0;
}

/* xmlsec checks the signature with the key of the KeyInfo's leaf
 * certificate, handed to it directly: it reads no KeyInfo and builds no
 * chain. The chain of that same certificate to the pinned anchors, with
 * CRLs at the chosen time, is emg_pki_check's (OpenSSL), which the caller
 * runs next. This also keeps xmlsec's X509 store, which would load the
 * whole system CA bundle on every verification, out of the way. */
static int run_xmlsec(xmlNodePtr sig, X509 *leaf, time_t at, emg_err *err)
{
	xmlSecDSigCtxPtr ctx = NULL;
	xmlSecKeyDataPtr data = NULL;
	xmlSecKeyPtr key = NULL;
	EVP_PKEY *pk;
	int rc = EMG_OK;

	pk = X509_get_pubkey(leaf);
	if (pk == NULL)
		return emg_fail(err, EMG_EVERIFY, "feed signer certificate has no usable public key");
	data = xmlSecOpenSSLEvpKeyAdopt(pk);
	if (data == NULL) {
		EVP_PKEY_free(pk);
		return emg_fail(err, EMG_EVERIFY, "feed signer's public key is of a kind xmlsec cannot use");
	}
	key = xmlSecKeyCreate();
	if (key == NULL || xmlSecKeySetValue(key, data) < 0) {
		xmlSecKeyDataDestroy(data);
		if (key != NULL)
			xmlSecKeyDestroy(key);
		return emg_fail(err, EMG_EIO, "cannot set up the xmlsec key");
	}
	ctx = xmlSecDSigCtxCreate(NULL);
	if (ctx == NULL || restrict_ctx(ctx, at) < 0) {
		xmlSecKeyDestroy(key);
		rc = emg_fail(err, EMG_EIO, "cannot set up the xmlsec signature context");
		goto out;
	}
	ctx->signKey = key; /* the context owns it from here */
	if (xmlSecDSigCtxVerify(ctx, sig) < 0) {
		rc = emg_fail(err, EMG_EVERIFY,
			      "feed signature cannot be verified with the signer certificate's key, or the Signature is malformed");
		goto out;
	}
	if (ctx->status != xmlSecDSigStatusSucceeded)
		rc = emg_fail(err, EMG_EVERIFY, "feed signature is invalid: %s",
			      reference_failed(ctx) ? "the document does not match the signed digest (altered after signing)"
						    : "the signature value does not match the signer's key");
out:
	if (ctx != NULL)
		xmlSecDSigCtxDestroy(ctx);
	return rc;
}

/* xmlsec and its OpenSSL backend live only for one verification, so a
 * program that verifies once leaves nothing behind for LeakSanitizer. */
static int xmlsec_start(emg_err *err)
{
	if (xmlSecInit() < 0)
		return emg_fail(err, EMG_EIO, "cannot initialise xmlsec");
	xmlSecErrorsDefaultCallbackEnableOutput(0);
	if (xmlSecCheckVersion() != 1 || xmlSecOpenSSLAppInit(NULL) < 0) {
		xmlSecShutdown();
		return emg_fail(err, EMG_EIO, "cannot initialise xmlsec's OpenSSL backend");
	}
	if (xmlSecOpenSSLInit() < 0) {
		xmlSecOpenSSLAppShutdown();
		xmlSecShutdown();
		return emg_fail(err, EMG_EIO, "cannot initialise xmlsec's OpenSSL backend");
	}
	return EMG_OK;
}

static void xmlsec_stop(void)
{
	xmlSecOpenSSLShutdown();
	xmlSecOpenSSLAppShutdown();
	xmlSecShutdown();
}

int emg_xmldsig_verify(const emg_feed_doc *fd, time_t at, STACK_OF(X509) **certs, X509 **signer,
		       emg_err *err)
{
	xmlNodePtr sig = NULL;
	X509 *leaf;
	int rc;

	*certs = NULL;
	*signer = NULL;
	rc = check_shape(fd, &sig, err);
	if (rc != EMG_OK)
		return rc;
	rc = emg_xmldsig_keyinfo_certs(fd, certs, &leaf, err);
	if (rc != EMG_OK)
		return rc;
	rc = xmlsec_start(err);
	if (rc == EMG_OK) {
		rc = run_xmlsec(sig, leaf, at, err);
		xmlsec_stop();
	}
	if (rc == EMG_OK) {
		if (X509_up_ref(leaf) != 1)
			rc = emg_fail(err, EMG_EIO, "out of memory");
		else
			*signer = leaf;
	}
	if (rc != EMG_OK) {
		sk_X509_pop_free(*certs, X509_free);
		*certs = NULL;
	}
	return rc;
}
