/* trust.h - the loaded trust directory (inside bundle/ only; others use the
 * opaque emg_trust of bundle.h). See docs/bundle-format.md for trust.conf. */
#ifndef EMG_BUNDLE_TRUST_H
#define EMG_BUNDLE_TRUST_H

#include <limits.h>
#include <stddef.h>

#include "bundle/bundle.h"
#include "keys/keys.h"

#define EMG_TRUST_ROOTS_MAX 32
#define EMG_TRUST_EKU_MAX 16
/* Extended key usage required of the feed signer when trust.conf names none. */
#define EMG_TRUST_DEFAULT_EKU "1.3.6.1.5.5.7.3.3"

struct emg_trust {
	char dir[PATH_MAX];
	unsigned threshold;      /* distinct certified signing keys a bundle needs */
	unsigned root_threshold; /* roots that must sign a root rotation */
	char role[32];
	emg_pubkey roots[EMG_TRUST_ROOTS_MAX];
	size_t root_count;
	char anchors[PATH_MAX];
	char *ekus[EMG_TRUST_EKU_MAX];
	size_t eku_count;
	char *subject;
	int allow_missing_crl;
	emg_bundle_limits limits;
};

#endif
