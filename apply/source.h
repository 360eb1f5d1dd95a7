/* source.h - where bundles come from: directories (a USB mount, a file
 * share) and https:// or file:// URLs on an internal server (libcurl).
 *
 * In a directory, every regular file named *.bundle, *.tar, *.tar.gz,
 * *.tgz or *.tar.zst is a candidate (names starting with '.' are not:
 * copy tools use them for partial files). A URL is fetched into
 * <state>/fetched/ and the copy is the candidate. A source that cannot be
 * read is reported through warn and does not stop the others. */
#ifndef EMG_APPLY_SOURCE_H
#define EMG_APPLY_SOURCE_H

#include <limits.h>
#include <stddef.h>
#include <stdint.h>

#include "apply/config.h"
#include "apply/hashcache.h"
#include "err.h"

#define EMG_SOURCE_MAX_BYTES ((size_t)256 << 20) /* one fetched bundle */
#define EMG_SOURCE_MAX_FILES 1024                 /* candidates in all */

typedef struct emg_candidate {
	char path[PATH_MAX]; /* the file to verify */
	char origin[PATH_MAX]; /* the directory entry or the URL, for messages */
	char sha256[65];
} emg_candidate;

typedef struct emg_candidates {
	emg_candidate *v;
	size_t n;
} emg_candidates;

typedef void (*emg_warn_fn)(void *ctx, const char *msg);

/* Collects the candidates of every source, the directories' hashed through
 * hc (NULL: every file is hashed). Fails only when nothing can be done at
 * all (out of memory); unreadable sources go to warn. */
int emg_sources_collect(const emg_apply_config *cfg, emg_hash_cache *hc, emg_candidates *out,
			emg_warn_fn warn, void *ctx, emg_err *err);
/* Adds one file (for --bundle). */
int emg_candidates_add(emg_candidates *c, const char *path, const char *origin, emg_err *err);
void emg_candidates_free(emg_candidates *c);

/* Fetches url (https:// or file:// only, redirects only to https) into
 * memory, at most max bytes. ca_file "" means the system store. The caller
 * has called curl_global_init. EMG_EIO on any failure. */
int emg_source_fetch(const char *url, const char *ca_file, long timeout, size_t max,
		     uint8_t **buf, size_t *len, emg_err *err);

#endif
