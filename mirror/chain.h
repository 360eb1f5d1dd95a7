/* chain.h - where the vendor chain's CRLs live: the CRL distribution
 * point URLs of the certificates in the feed's KeyInfo and of the pinned
 * anchors. The mirror fetches them so the applier can check revocation
 * offline. */
#ifndef EMG_MIRROR_CHAIN_H
#define EMG_MIRROR_CHAIN_H

#include <stddef.h>
#include <stdint.h>

#include "err.h"

#define EMG_MAX_CHAIN_CERTS 16
#define EMG_MAX_CDP_URLS 64

/* A list of distinct strings. */
typedef struct emg_urls {
	char **v;
	size_t n;
} emg_urls;

/* Adds s unless it is already there. */
int emg_urls_add(emg_urls *u, const char *s, emg_err *err);
void emg_urls_free(emg_urls *u);

/* Adds the http(s) CRL distribution points of the chains that the
 * ds:X509Certificate elements of the feed build to the anchors (a PEM
 * file). The feed is untrusted here: parsed without network, DTD or
 * entities, and a certificate that does not chain to an anchor (by
 * signature; times and revocation are the verifier's) adds nothing.
 * Fails with EMG_ECONFIG when the XML or a certificate is malformed. */
int emg_feed_cdp_urls(const uint8_t *xml, size_t len, const char *anchors, emg_urls *out,
		      emg_err *err);

/* The same for every certificate in a PEM file (the vendor anchors). */
int emg_pem_cdp_urls(const char *path, emg_urls *out, emg_err *err);

#endif
