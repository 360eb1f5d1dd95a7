/* rotation.h - root key rotation.
 *
 * A root set is a strict text file, signed by a threshold of the set
 * before it (each signature a minisign file by one root key):
 *
 *   emgap-root-set 1
 *   version 2
 *   threshold 2
 *   key RWQ...   (the base64 line of a root's .pub), one line per root
 *
 * The roots in the trust directory are version 1 (threshold from
 * [org] root_threshold). A bundle carries rotation/<V>.roots and
 * rotation/<V>.<KEYID>.minisig; versions are applied one at a time, in
 * order, and the last accepted set is kept as <state>/roots. */
#ifndef EMG_BUNDLE_ROTATION_H
#define EMG_BUNDLE_ROTATION_H

#include <stddef.h>
#include <stdint.h>

#include "bundle/trust.h"
#include "err.h"
#include "keys/keys.h"

#define EMG_ROOT_SET_MAX 16384

typedef struct emg_root_set {
	uint64_t version;
	unsigned threshold;
	emg_pubkey keys[EMG_TRUST_ROOTS_MAX];
	size_t count;
} emg_root_set;

typedef struct emg_text {
	const char *name;
	const char *data;
	size_t len;
} emg_text;

int emg_root_set_parse(const char *name, const char *text, size_t len, emg_root_set *out,
		       emg_err *err);

/* The trust directory's roots as version 1. */
void emg_root_set_from_trust(const emg_trust *t, emg_root_set *out);

/* Accepts text as the successor of cur: version cur->version + 1 and at
 * least cur->threshold valid signatures by distinct keys of cur.
 * EMG_EVERIFY otherwise. */
int emg_root_set_next(const emg_root_set *cur, const emg_text *text, const emg_text *sigs,
		      size_t nsigs, emg_root_set *next, emg_err *err);

/* The accepted set from state_dir/roots, or the trust dir's (version 1)
 * when there is none. */
int emg_root_state_load(const char *state_dir, const emg_trust *t, emg_root_set *out,
			emg_err *err);
int emg_root_state_save(const char *state_dir, const char *text, size_t len, emg_err *err);

#endif
