/* sysio.h - the system calls that change files, each with a fault point.
 *
 * Every write, fsync, rename and unlink emgap does to persistent state goes
 * through these, so the fault-injection build (EMG_FAULT_INJECTION, test
 * builds only) can make the Nth one fail or kill the process there, and the
 * tests can prove that no interruption leaves a torn file behind. */
#ifndef EMG_SYSIO_H
#define EMG_SYSIO_H

#include <stddef.h>
#include <sys/types.h>

/* In the fault-injection build, EMG_FAULT_NOSYNC=1 makes emg_fsync count
 * its fault point but skip the flush (fast walks; see sysio.c). */

/* Returns 0 to go on, -1 (errno = EIO) when the injected fault fires.
 * "what" names the operation for the fault log. Always 0 in normal builds. */
int emg_fault_point(const char *what);

/* write(2) until len bytes are written; -1 with errno on failure. */
int emg_write_all(int fd, const void *buf, size_t len);
int emg_fsync(int fd);
int emg_rename(const char *from, const char *to);
int emg_unlink(const char *path);

/* Allocation with a fault point; same contract as malloc/calloc/realloc. */
void *emg_malloc(size_t n);
void *emg_calloc(size_t n, size_t size);
void *emg_realloc(void *p, size_t n);

#endif
