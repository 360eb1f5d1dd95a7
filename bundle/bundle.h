/* bundle.h - the bundle that crosses the air gap (DESIGN.md §5): create,
 * sign, verify (both trust layers, freshness), read members.
 *
 * A bundle is a pax tar: manifest, sig/<keyid>.minisig, keys/<keyid>.cert
 * and .cert.minisig, ocs/GetExchangeMitigations.xml, pki/crl/NAME.crl,
 * pki/ctl/NAME.stl|.cab (docs/bundle-format.md). */
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
	/* Optional (zero/NULL when unused): */
	const char *extra_dir;  /* plain files carried as extra/NAME, never kept in memory */
	const char *rotation;   /* a root set file (rotation.h) for the next root version */
	const char *const *rotation_sigs; /* its signatures by current roots */
	size_t rotation_sig_count;
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
	uint64_t keep_max; /* feed + PKI members held in memory while verifying */
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
	/* SHA-256 of the whole bundle file as stored (lower-case hex, NUL-
	 * terminated): every byte, compressed bytes for a .gz/.zst bundle,
	 * hashed during the verifying pass itself, so a caller need not read
	 * the file again; what sha256sum prints and what --state records as
	 * bundle-sha256. Set only when verification succeeds (all info is). */
	char sha256[65];
	unsigned valid_signers;
	int nothing_new;      /* sequence equal to the last accepted one */
	char signers[16][17]; /* key ids of the valid signers (first 16) */
	uint64_t root_version; /* root set in force after any rotation */
	int rotated;          /* the bundle moved the root set forward */
	int had_previous;     /* state held an accepted sequence ... */
	uint64_t previous_sequence; /* ... this one */
} emg_bundle_info;

/* Verifies both layers at time at; an expired bundle fails (EMG_EFRESH)
 * with or without state_dir. With state_dir, also rollback and
 * fast-forward against the last accepted sequence, root rotations are
 * taken from and (accept) stored there, and, when accept is set, the new
 * sequence is recorded atomically. info (may be NULL) receives the
 * details; *feed (feed may be NULL) the verified, parsed feed. */
int emg_bundle_verify(const char *bundle_path, const emg_trust *trust,
		      const char *state_dir, int accept, time_t at,
		      emg_bundle_info *info, emg_feed **feed, emg_err *err);

/* Records in state_dir the acceptance of a bundle that emg_bundle_verify
 * verified, with the same state_dir and without accept, earlier in this
 * process: from that pass's info, exactly what the pass would have written
 * with accept set. Nothing is read again, so what is accepted is what was
 * verified; the caller holds whatever lock kept state_dir still between
 * the two calls. A bundle that moved the root set forward (info->rotated)
 * can only be accepted in its verifying pass: EMG_EUSAGE. */
int emg_bundle_accept(const char *state_dir, const emg_bundle_info *info, time_t at,
		      emg_err *err);

/* The trust directory's limits (trust.conf [limits], else the defaults). */
const emg_bundle_limits *emg_trust_limits(const emg_trust *t);

/* Verifies like emg_bundle_verify and, only when everything holds, writes
 * the manifest and the payload members under dest_dir (which must be empty
 * or absent). Members are staged in a temporary directory inside dest_dir
 * during the one pass and moved into place at the end. */
int emg_bundle_extract(const char *bundle_path, const emg_trust *trust,
		       const char *state_dir, int accept, time_t at,
		       const char *dest_dir, emg_bundle_info *info, emg_err *err);

#endif
