/* chain.c - CRL distribution points of the vendor chain. */
#include "mirror/chain.h"

#include <libxml/parser.h>
#include <libxml/tree.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>
#include <sodium.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "sysio.h"

#define DSIG_NS "http://www.w3.org/2000/09/xmldsig#"
#define MAX_CERT_BYTES (64 * 1024)
#define MAX_WALK_NODES 200000

int emg_urls_add(emg_urls *u, const char *s, emg_err *err)
{
	char **nv;
	size_t i;

	for (i = 0; i < u->n; i++)
		if (strcmp(u->v[i], s) == 0)
			return EMG_OK;
	if (u->n >= EMG_MAX_CDP_URLS)
		return emg_fail(err, EMG_ECONFIG, "more than %d CRL distribution points", EMG_MAX_CDP_URLS);
	nv = emg_realloc(u->v, (u->n + 1) * sizeof *nv);
	if (nv == NULL)
		return emg_fail(err, EMG_EIO, "out of memory");
	u->v = nv;
	u->v[u->n] = strdup(s);
	if (u->v[u->n] == NULL)
		return emg_fail(err, EMG_EIO, "out of memory");
	u->n++;
	return EMG_OK;
}

void emg_urls_free(emg_urls *u)
{
	size_t i;

	for (i = 0; i < u->n; i++)
		free(u->v[i]);
	free(u->v);
	u->v = NULL;
	u->n = 0;
}

/* A CDP URL the mirror may fetch: http(s) only (LDAP and file are
 * skipped), printable ASCII, sane length. */
static int fetchable(const unsigned char *s, int len)
{
	int i;

	if (len < 8 || len > 2000)
		return 0;
	for (i = 0; i < len; i++)
		if (s[i] <= ' ' || s[i] >= 0x7f)
			return 0;
	return strncasecmp((const char *)s, "http://", 7) == 0 ||
	       strncasecmp((const char *)s, "https://", 8) == 0;
}

static int add_dist_point(const DIST_POINT *dp, emg_urls *out, emg_err *err)
{
	const GENERAL_NAMES *names;
	int j, rc;

	if (dp->distpoint == NULL || dp->distpoint->type != 0)
		return EMG_OK; /* relative names carry no URL */
	names = dp->distpoint->name.fullname;
	for (j = 0; j < sk_GENERAL_NAME_num(names); j++) {
		const GENERAL_NAME *gn = sk_GENERAL_NAME_value(names, j);
		const unsigned char *s;
		char url[2048];
		int len;

		if (gn->type != GEN_URI)
			continue;
		s = ASN1_STRING_get0_data(gn->d.uniformResourceIdentifier);
		len = ASN1_STRING_length(gn->d.uniformResourceIdentifier);
		if (!fetchable(s, len))
			continue;
		memcpy(url, s, (size_t)len);
		url[len] = '\0';
		if ((rc = emg_urls_add(out, url, err)) != EMG_OK)
			return rc;
	}
	return EMG_OK;
}

static int cert_cdps(X509 *x, emg_urls *out, emg_err *err)
{
	STACK_OF(DIST_POINT) *dps;
	int i, rc = EMG_OK;

	dps = X509_get_ext_d2i(x, NID_crl_distribution_points, NULL, NULL);
	if (dps == NULL)
		return EMG_OK;
	for (i = 0; i < sk_DIST_POINT_num(dps) && rc == EMG_OK; i++)
		rc = add_dist_point(sk_DIST_POINT_value(dps, i), out, err);
	CRL_DIST_POINTS_free(dps);
	return rc;
}

static int add_b64_cert(const char *b64, STACK_OF(X509) *certs, emg_err *err)
{
	unsigned char *der;
	const unsigned char *p;
	size_t der_len = 0;
	X509 *x;

	der = emg_malloc(MAX_CERT_BYTES);
	if (der == NULL)
		return emg_fail(err, EMG_EIO, "out of memory");
	if (sodium_base642bin(der, MAX_CERT_BYTES, b64, strlen(b64), " \t\r\n", &der_len, NULL,
			      sodium_base64_VARIANT_ORIGINAL) != 0) {
		free(der);
		return emg_fail(err, EMG_ECONFIG, "feed: X509Certificate is not base64 (or over %d bytes)",
				MAX_CERT_BYTES);
	}
	p = der;
	x = d2i_X509(NULL, &p, (long)der_len);
	free(der);
	if (x == NULL)
		return emg_fail(err, EMG_ECONFIG, "feed: X509Certificate is not a DER certificate");
	if (!sk_X509_push(certs, x)) {
		X509_free(x);
		return emg_fail(err, EMG_EIO, "out of memory");
	}
	return EMG_OK;
}

static int is_dsig_cert(const xmlNode *n)
{
	return n->type == XML_ELEMENT_NODE && n->ns != NULL &&
	       strcmp((const char *)n->name, "X509Certificate") == 0 &&
	       strcmp((const char *)n->ns->href, DSIG_NS) == 0;
}

/* Depth-first walk (iterative: untrusted depth must not grow the stack)
 * collecting every ds:X509Certificate. */
static int walk(xmlNode *root, STACK_OF(X509) *certs, emg_err *err)
{
	xmlNode *n = root;
	size_t visited = 0;
	int rc;

	while (n != NULL) {
		if (++visited > MAX_WALK_NODES)
			return emg_fail(err, EMG_ECONFIG, "feed: more than %d XML nodes", MAX_WALK_NODES);
		if (is_dsig_cert(n)) {
			xmlChar *text;

			if (sk_X509_num(certs) >= EMG_MAX_CHAIN_CERTS)
				return emg_fail(err, EMG_ECONFIG, "feed: more than %d certificates in KeyInfo",
						EMG_MAX_CHAIN_CERTS);
			text = xmlNodeGetContent(n);
			if (text == NULL)
				return emg_fail(err, EMG_EIO, "out of memory");
			rc = add_b64_cert((const char *)text, certs, err);
			xmlFree(text);
			if (rc != EMG_OK)
				return rc;
		}
		if (n->children != NULL && n->type == XML_ELEMENT_NODE) {
			n = n->children;
			continue;
		}
		while (n != NULL && n->next == NULL && n != root)
			n = n->parent;
		if (n == NULL || n == root)
			break;
		n = n->next;
	}
	return EMG_OK;
}

static int read_certs(const uint8_t *xml, size_t len, STACK_OF(X509) *certs, emg_err *err)
{
	xmlDoc *doc;
	int rc;

	if (len > 64u * 1024 * 1024)
		return emg_fail(err, EMG_ECONFIG, "feed: too large");
	/* No network, no entity substitution, no DTD loading, silent. */
	doc = xmlReadMemory((const char *)xml, (int)len, "feed.xml", NULL,
			    XML_PARSE_NONET | XML_PARSE_NOERROR | XML_PARSE_NOWARNING);
	if (doc == NULL)
		return emg_fail(err, EMG_ECONFIG, "feed: not well-formed XML");
	if (doc->intSubset != NULL || doc->extSubset != NULL) {
		xmlFreeDoc(doc);
		return emg_fail(err, EMG_ECONFIG, "feed: has a DTD, which is not allowed");
	}
	rc = walk(xmlDocGetRootElement(doc), certs, err);
	xmlFreeDoc(doc);
	return rc;
}

/* CDPs of the chain that cert builds to an anchor, signatures checked but
 * not times or revocation (judging those is the feed verifier's job, with
 * the very CRLs fetched here). A certificate that does not chain to an
 * anchor contributes nothing: the unverified feed must not be able to
 * send the mirror to URLs of its choosing. */
static int chained_cdps(X509_STORE *store, X509 *cert, STACK_OF(X509) *untrusted,
			emg_urls *out, emg_err *err)
{
	X509_STORE_CTX *sc = X509_STORE_CTX_new();
	STACK_OF(X509) *chain;
	int i, rc = EMG_OK;

	if (sc == NULL || X509_STORE_CTX_init(sc, store, cert, untrusted) != 1) {
		X509_STORE_CTX_free(sc);
		return emg_fail(err, EMG_EIO, "out of memory");
	}
	X509_STORE_CTX_set_flags(sc, X509_V_FLAG_NO_CHECK_TIME);
	if (X509_verify_cert(sc) == 1) {
		chain = X509_STORE_CTX_get0_chain(sc);
		for (i = 0; i < sk_X509_num(chain) && rc == EMG_OK; i++)
			rc = cert_cdps(sk_X509_value(chain, i), out, err);
	}
	X509_STORE_CTX_free(sc);
	ERR_clear_error();
	return rc;
}

int emg_feed_cdp_urls(const uint8_t *xml, size_t len, const char *anchors, emg_urls *out,
		      emg_err *err)
{
	STACK_OF(X509) *certs = sk_X509_new_null();
	X509_STORE *store = NULL;
	int i, rc;

	if (certs == NULL)
		return emg_fail(err, EMG_EIO, "out of memory");
	rc = read_certs(xml, len, certs, err);
	if (rc == EMG_OK && sk_X509_num(certs) > 0) {
		store = X509_STORE_new();
		if (store == NULL)
			rc = emg_fail(err, EMG_EIO, "out of memory");
		else if (X509_STORE_load_file(store, anchors) != 1)
			rc = emg_fail(err, EMG_ECONFIG, "%s: cannot load the vendor anchors", anchors);
	}
	for (i = 0; rc == EMG_OK && i < sk_X509_num(certs); i++)
		rc = chained_cdps(store, sk_X509_value(certs, i), certs, out, err);
	X509_STORE_free(store);
	sk_X509_pop_free(certs, X509_free);
	ERR_clear_error();
	return rc;
}

int emg_pem_cdp_urls(const char *path, emg_urls *out, emg_err *err)
{
	BIO *b = BIO_new_file(path, "r");
	X509 *x;
	int count = 0, rc = EMG_OK;

	if (b == NULL)
		return emg_fail(err, EMG_ECONFIG, "%s: cannot read the vendor anchors", path);
	while (rc == EMG_OK && (x = PEM_read_bio_X509(b, NULL, NULL, NULL)) != NULL) {
		if (++count > EMG_MAX_CHAIN_CERTS * 4)
			rc = emg_fail(err, EMG_ECONFIG, "%s: too many certificates", path);
		else
			rc = cert_cdps(x, out, err);
		X509_free(x);
	}
	ERR_clear_error();
	BIO_free(b);
	if (rc == EMG_OK && count == 0)
		return emg_fail(err, EMG_ECONFIG, "%s: no PEM certificate in the vendor anchors", path);
	return rc;
}
