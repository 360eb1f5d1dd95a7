/* state.h - what a host remembers between bundles (the --state dir):
 *
 *   sequence   the last accepted bundle, strict text:
 *                emgap-bundle-state 1
 *                sequence 42
 *                accepted 2026-11-25T18:00:00Z
 *                bundle-sha256 <64 hex>
 *   roots      the accepted root set after a rotation (rotation.h)
 *
 * Both are replaced atomically (common/fileio.h). */
#ifndef EMG_BUNDLE_STATE_H
#define EMG_BUNDLE_STATE_H

#include <stdint.h>
#include <time.h>

#include "err.h"

typedef struct emg_seq_state {
	int present; /* 0: nothing accepted yet */
	uint64_t sequence;
	time_t accepted;
	char sha256[65];
} emg_seq_state;

/* A missing file is not an error (present = 0); a malformed one is
 * (EMG_ECONFIG), since guessing would open the door to a rollback. */
int emg_seq_state_load(const char *dir, emg_seq_state *st, emg_err *err);
int emg_seq_state_save(const char *dir, const emg_seq_state *st, emg_err *err);

#endif
