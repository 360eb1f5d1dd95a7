/* bundle.h - the bundle that crosses the air gap (DESIGN.md §5): create,
 * sign, verify (both trust layers, freshness), read members.
 *
 * A bundle is a pax tar: manifest, sig/<keyid>.minisig, keys/<keyid>.cert
 * and .cert.minisig, ocs/GetExchangeMitigations.xml, pki/crl/*.crl,
 * pki/ctl/*.stl|*.cab. */
#ifndef EMG_BUNDLE_H
#define EMG_BUNDLE_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "err.h"
#include "feed.h"

#define EMG_BUNDLE_FEED_MEMBER "ocs/GetExchangeMitigations.xml"

typedef struct emg_bundle_create_opts {
	const char *feed_path;  /* vendor XML, copied byte for byte */
	const char *pki_dir;    /* holds crl/ and ctl/ (files taken as found) */
	uint64_t sequence;
	time_t created;         /* fixed by the caller so output is deterministic */
	time_t expires;
	const char *source;     /* URL the feed came from */
	time_t fetched;
	const char *out_path;   /* written atomically */
} emg_bundle_create_opts;

int emg_bundle_create(const emg_bundle_create_opts *opts, emg_err *err);

/* Adds (or replaces) this key's signature of the manifest and its
 * certificate; rewrites the bundle atomically. */
int emg_bundle_sign(const char *bundle_path, const char *secret_key_path,
		    const char *passphrase, const char *cert_path, emg_err *err);

/* Limits on untrusted bundles (defaults in emg_bundle_limits_default). */
typedef struct emg_bundle_limits {
	uint64_t manifest_max;
	uint64_t member_count_max;
	uint64_t member_max;
	uint64_t total_max;
	uint64_t ratio_max; /* uncompressed / compressed */
	uint64_t max_sequence_step; /* fast-forward limit */
} emg_bundle_limits;

void emg_bundle_limits_default(emg_bundle_limits *l);

typedef struct emg_trust emg_trust; /* loaded trust directory (opaque) */
int emg_trust_load(const char *dir, emg_trust **out, emg_err *err);
void emg_trust_free(emg_trust *t);

typedef struct emg_bundle_info {
	uint64_t sequence;
	time_t created;
	time_t expires;
	time_t fetched;
	char source[1024];
	char sha256[65];      /* of the whole bundle file */
	unsigned valid_signers;
	int nothing_new;      /* sequence equal to the last accepted one */
} emg_bundle_info;

/* Verifies both layers at time at. With state_dir, also freshness (expired,
 * rollback, fast-forward) and, when accept is set, records the sequence
 * atomically. *feed (may be NULL) receives the verified, parsed feed. */
int emg_bundle_verify(const char *bundle_path, const emg_trust *trust,
		      const char *state_dir, int accept, time_t at,
		      emg_bundle_info *info, emg_feed **feed, emg_err *err);

#endif
