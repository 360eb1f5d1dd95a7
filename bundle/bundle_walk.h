/* bundle_walk.h - one streaming pass over a bundle (inside bundle/ only).
 *
 * The walk enforces the container rules every command shares: manifest
 * first, then the signature layer (keys/, rotation/, sig/), then the
 * payload, each payload member listed in the manifest exactly once with
 * its size and SHA-256. Hooks let create/sign/verify/extract act at the
 * right moment without a second pass. */
#ifndef EMG_BUNDLE_WALK_H
#define EMG_BUNDLE_WALK_H

#include <stddef.h>
#include <stdint.h>

#include "bundle/bundle.h"
#include "bundle/manifest.h"

#define EMG_SIGLAYER_MEMBER_MAX (64u * 1024) /* one key, cert, root set or signature */
#define EMG_SIGLAYER_TOTAL_MAX (2u * 1024 * 1024) /* all of them together */

typedef struct emg_kept {
	char *name;
	uint8_t *data; /* NUL-terminated for convenience; len excludes it */
	size_t len;
} emg_kept;

typedef struct emg_kept_list {
	emg_kept *v;
	size_t count;
	size_t cap;
} emg_kept_list;

typedef struct emg_walk emg_walk;
struct emg_walk {
	const char *path;
	emg_bundle_limits lim;
	int keep_payload; /* keep the feed and PKI members (within lim.keep_max) */
	void *ctx;
	/* Called once the manifest and the signature layer are read, before
	 * any payload byte: the place to check signatures and freshness. */
	int (*on_sigs)(emg_walk *w, emg_err *err);
	int (*on_begin)(emg_walk *w, const char *name, uint64_t size, emg_err *err);
	int (*on_data)(emg_walk *w, const void *buf, size_t len, emg_err *err);
	int (*on_end)(emg_walk *w, emg_err *err); /* after the member's hash matched */

	/* Results. */
	char *manifest_text;
	size_t manifest_len;
	emg_manifest manifest;
	emg_kept_list sigl; /* signature layer, in archive order */
	size_t sigl_bytes;
	emg_kept_list kept; /* payload kept in memory */
	uint8_t file_sha256[32];
};

/* Runs the walk; on failure err says which member and why. The results
 * stay in w until emg_walk_free either way. */
int emg_walk_run(emg_walk *w, emg_err *err);
void emg_walk_free(emg_walk *w);

const emg_kept *emg_kept_find(const emg_kept_list *l, const char *name);
int emg_kept_add(emg_kept_list *l, const char *name, const void *data, size_t len,
		 emg_err *err);
void emg_kept_free(emg_kept_list *l);

/* What a signature-layer member may be called; 1 if name is one. */
int emg_siglayer_name(const char *name);

#endif
