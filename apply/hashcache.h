/* hashcache.h - the SHA-256 of source files, remembered between runs
 * (<state>/hashcache; format in docs/formats.md). */
#ifndef EMG_APPLY_HASHCACHE_H
#define EMG_APPLY_HASHCACHE_H

#include <limits.h>
#include <stddef.h>
#include <stdint.h>

#include "err.h"

/* The SHA-256 of each directory candidate, kept in <state>/hashcache under
 * the file's stat signature (device, inode, size, mtime and ctime in
 * nanoseconds, emg_stat_sig), so that an hourly run with nothing new on
 * its sources reads no bundle. A file whose signature changed is hashed
 * again; so is one changed just before it was hashed (within two seconds
 * where the file system keeps coarse times, a tenth of a second where it
 * keeps fine ones), since a change within the same timestamp tick would
 * not show in its signature.
 *
 * Only what a run does before verifying rests on the cache: whether a
 * file is the accepted bundle or one remembered as rejected or older. A
 * stale entry (someone who may write to the share replaces a file and
 * puts back its size, times and inode) can therefore at most make a run
 * pass over that file, as deleting it would; whatever is accepted is
 * still verified in full from its bytes. A missing, unreadable or
 * malformed cache is an empty one: never an error. URL sources do not use
 * it (their bytes are fetched every time anyway). */
typedef struct emg_hash_entry {
	char *path;
	char sig[128];
	char sha256[65];
	int used; /* looked up by this run: saved; the others are dropped */
} emg_hash_entry;

typedef struct emg_hash_cache {
	char path[PATH_MAX];  /* <state>/hashcache */
	emg_hash_entry *v;    /* v[0..sorted) as read, sorted by path; then new ones */
	size_t n, sorted;
	uint8_t *text;        /* the file as read: a save that changes nothing writes nothing */
	size_t text_len;
	int lookup_only;      /* set by the caller: never read a file (a miss is EMG_EIO) */
} emg_hash_cache;

/* Never fails: a cache that cannot be read or parsed is empty. */
void emg_hash_cache_load(emg_hash_cache *hc, const char *state_dir);
/* Replaces the file atomically with the entries looked up since the load
 * (at most EMG_SOURCE_MAX_FILES), unless that is what it holds already. */
int emg_hash_cache_save(emg_hash_cache *hc, emg_err *err);
void emg_hash_cache_free(emg_hash_cache *hc);

/* The SHA-256 of the file at path (64 lower-case hex digits; "" when it
 * does not exist), from the cache when its stat signature is the one
 * recorded with the hash, else read and, once settled, recorded. hc NULL:
 * always read. */
int emg_hash_cache_sha256(emg_hash_cache *hc, const char *path, char out[65], emg_err *err);

#endif
