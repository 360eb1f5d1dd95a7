/* fileio.h - reading files with a size limit, and atomic replacement.
 *
 * emg_atomic_* writes a new version of a file next to it under a temporary
 * name, fsyncs it, renames it over the old one and fsyncs the directory, so
 * a reader (or a crash) sees the old file or the new one, never a torn one. */
#ifndef EMG_FILEIO_H
#define EMG_FILEIO_H

#include <limits.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "err.h"

/* Temporary files start with this, so a later run can find and remove the
 * ones an interrupted run left behind (emg_clean_stale_tmp). */
#define EMG_TMP_PREFIX ".emgap-tmp."

/* Reads all of path into a NUL-terminated buffer (the NUL is not counted in
 * *len). Fails with EMG_EIO when it cannot be read, and with too_big_code
 * when it is larger than max bytes. The caller frees *buf. */
int emg_read_file(const char *path, size_t max, int too_big_code,
		  uint8_t **buf, size_t *len, emg_err *err);

typedef struct emg_atomic {
	int fd;
	char tmp[PATH_MAX];
	char dst[PATH_MAX];
} emg_atomic;

/* Starts replacing dst: creates the temporary file with the given mode. */
int emg_atomic_open(emg_atomic *a, const char *dst, mode_t mode, emg_err *err);
int emg_atomic_write(emg_atomic *a, const void *buf, size_t len, emg_err *err);
/* fsync, rename over dst, fsync the directory. On failure the temporary is
 * removed and dst is untouched. Either way a is finished. */
int emg_atomic_commit(emg_atomic *a, emg_err *err);
/* Drops the temporary file; safe to call on a finished emg_atomic. */
void emg_atomic_abort(emg_atomic *a);

/* One-shot atomic replacement of path with data. */
int emg_write_file_atomic(const char *path, const void *data, size_t len,
			  mode_t mode, emg_err *err);

/* Creates path exclusively (fails if it exists), writes and fsyncs it. For
 * files that must never be overwritten silently, such as secret keys. */
int emg_write_file_new(const char *path, const void *data, size_t len,
		       mode_t mode, emg_err *err);

int emg_fsync_dir(const char *dir, emg_err *err);

/* Removes EMG_TMP_PREFIX files in dir that an interrupted run left. */
int emg_clean_stale_tmp(const char *dir, emg_err *err);

/* Removes only the temporaries an interrupted emg_atomic_* replacement of
 * dst left beside it (EMG_TMP_PREFIX, dst's name, six mkstemp characters).
 * For directories other writers share: their temporaries are left alone.
 * The caller must hold whatever lock keeps other writers of dst away. */
int emg_clean_stale_tmp_for(const char *dst, emg_err *err);

/* Creates dir (and parents) with mode if missing. */
int emg_mkdir_p(const char *dir, mode_t mode, emg_err *err);

/* Copies the directory part of path into out ("." when there is none). */
void emg_dirname(const char *path, char *out, size_t outlen);

#endif
