/* manifest.h - the bundle manifest: a strict text file that names every
 * payload member with its size and SHA-256, and the freshness fields the
 * signatures cover. Format (docs/bundle-format.md), LF only:
 *
 *   emgap-manifest 1
 *   sequence 42
 *   created 2026-11-25T18:00:00Z
 *   expires 2026-12-02T18:00:00Z
 *   source https://officeclient.microsoft.com/GetExchangeMitigations
 *   fetched 2026-11-25T17:59:12Z
 *   file 4711 <64 lower-case hex> ocs/GetExchangeMitigations.xml
 *   ...one file line per payload member, sorted by path (bytewise)
 */
#ifndef EMG_BUNDLE_MANIFEST_H
#define EMG_BUNDLE_MANIFEST_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "err.h"

#define EMG_MANIFEST_MAGIC "emgap-manifest 1"
#define EMG_MEMBER_PATH_MAX 200 /* also keeps every name in a ustar header */
#define EMG_SOURCE_MAX 1023

typedef struct emg_manifest_file {
	char *path;
	uint64_t size;
	uint8_t sha256[32];
} emg_manifest_file;

typedef struct emg_manifest {
	uint64_t sequence;
	time_t created;
	time_t expires;
	time_t fetched;
	char *source;
	emg_manifest_file *files;
	size_t count;
} emg_manifest;

/* Parses untrusted manifest text. Refuses anything but the one format:
 * unknown or repeated keys, fields out of order, CR, NUL, unsorted or
 * duplicate paths, unsafe paths, more than max_files lines, trailing data.
 * Fails with EMG_ECONFIG; *out is left empty then. */
int emg_manifest_parse(const char *text, size_t len, size_t max_files, emg_manifest *out,
		       emg_err *err);

/* Serialises m (files must already be sorted; checked). *out is malloc'd. */
int emg_manifest_format(const emg_manifest *m, char **out, size_t *len, emg_err *err);

void emg_manifest_free(emg_manifest *m);

/* The index of path in m->files, or -1 (binary search: paths are sorted). */
long emg_manifest_find(const emg_manifest *m, const char *path);

/* A member name emgap will ever write or accept: relative, components of
 * [A-Za-z0-9._-] not starting with '.', separated by single '/', at most
 * EMG_MEMBER_PATH_MAX bytes. Returns 1 when safe. */
int emg_member_name_safe(const char *name);

/* What a payload path is allowed to be (the feed, pki/crl/NAME.crl,
 * pki/ctl/NAME.stl|.cab, extra/...). Returns 1 when allowed. */
int emg_payload_path_allowed(const char *name);

void emg_hex(const uint8_t *in, size_t n, char *out); /* out: 2n+1 bytes */

#endif
