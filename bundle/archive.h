/* archive.h - the tar layer under bundles: a deterministic pax writer and a
 * defensive streaming reader, both on libarchive.
 *
 * The reader refuses anything but plain files with safe relative names,
 * enforces the size, count and compression-ratio limits while it streams,
 * and notices a copy that was cut off (no end-of-archive marker). */
#ifndef EMG_BUNDLE_ARCHIVE_H
#define EMG_BUNDLE_ARCHIVE_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "bundle/bundle.h"
#include "err.h"

typedef struct emg_tar_reader emg_tar_reader;

/* Opens path for reading (tar, or tar compressed with gzip or zstd). */
int emg_tar_open(const char *path, const emg_bundle_limits *lim, emg_tar_reader **out,
		 emg_err *err);
/* Moves to the next member: EMG_OK with *name (valid until the next call)
 * and *size, or EMG_OK with *name NULL at the (checked) end of the archive.
 * Unsafe entries fail with EMG_EVERIFY. */
int emg_tar_next(emg_tar_reader *r, const char **name, uint64_t *size, emg_err *err);
/* The next piece of the current member's data; *len 0 at its end (after
 * checking the member held exactly the size its header announced). */
int emg_tar_read(emg_tar_reader *r, const void **buf, size_t *len, emg_err *err);
/* SHA-256 of every byte of the file as stored (compressed bundles: of the
 * compressed bytes, and of anything after the compressed stream), once
 * emg_tar_next reported the end. */
void emg_tar_file_sha256(const emg_tar_reader *r, uint8_t out[32]);
void emg_tar_close(emg_tar_reader *r);

typedef struct emg_tar_writer emg_tar_writer;

/* Starts writing path atomically: members get mtime, uid/gid 0, mode 0644. */
int emg_tar_create(const char *path, time_t mtime, emg_tar_writer **out, emg_err *err);
/* A member of known size whose data follows in emg_tar_write calls. */
int emg_tar_begin(emg_tar_writer *w, const char *name, uint64_t size, emg_err *err);
int emg_tar_write(emg_tar_writer *w, const void *buf, size_t len, emg_err *err);
int emg_tar_add(emg_tar_writer *w, const char *name, const void *buf, size_t len, emg_err *err);
/* Writes the end of the archive and renames it into place; frees w. */
int emg_tar_commit(emg_tar_writer *w, emg_err *err);
/* Drops the temporary file and frees w (NULL is fine). */
void emg_tar_abort(emg_tar_writer *w);

#endif
