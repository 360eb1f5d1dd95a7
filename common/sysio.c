/* sysio.c - file-changing system calls with fault points. */
#include "sysio.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#ifdef EMG_FAULT_INJECTION
/*
 * Test builds only. EMG_FAULT="N" makes the Nth fault point fail with EIO;
 * EMG_FAULT="N:exit" ends the process there with _exit(137), as kill -9
 * would. EMG_FAULT_LOG=FILE appends each point's number and name, so a test
 * can learn how many steps a command has and walk them all.
 *
 * The counter is the one piece of process-wide mutable state in emgap, and
 * it exists only in this build: a fault point has no caller context to carry
 * it in, and the walk needs a single count across the whole process.
 */
static unsigned long fault_counter;

int emg_fault_point(const char *what)
{
	const char *spec = getenv("EMG_FAULT");
	const char *logpath = getenv("EMG_FAULT_LOG");
	unsigned long n = 0;
	char *end = NULL;

	fault_counter++;
	if (logpath != NULL && logpath[0] != '\0') {
		FILE *f = fopen(logpath, "a");
		if (f != NULL) {
			fprintf(f, "%lu %s\n", fault_counter, what);
			fclose(f);
		}
	}
	if (spec == NULL || spec[0] == '\0')
		return 0;
	n = strtoul(spec, &end, 10);
	if (n == 0 || n != fault_counter)
		return 0;
	if (end != NULL && strcmp(end, ":exit") == 0)
		_exit(137);
	errno = EIO;
	return -1;
}
#else
int emg_fault_point(const char *what)
{
	(void)what;
	return 0;
}
#endif

int emg_write_all(int fd, const void *buf, size_t len)
{
	const unsigned char *p = buf;

	if (emg_fault_point("write") != 0)
		return -1;
	while (len > 0) {
		ssize_t n = write(fd, p, len);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

int emg_fsync(int fd)
{
	if (emg_fault_point("fsync") != 0)
		return -1;
#ifdef EMG_FAULT_INJECTION
	/* EMG_FAULT_NOSYNC=1 (test builds only): a fault walk stands for a
	 * killed process, not a power cut, and what a killed process wrote
	 * survives without the flush - which is most of a walk's time. The
	 * fault point above still counts. */
	{
		const char *nosync = getenv("EMG_FAULT_NOSYNC");
		if (nosync != NULL && strcmp(nosync, "1") == 0)
			return 0;
	}
#endif
	return fsync(fd);
}

int emg_rename(const char *from, const char *to)
{
	if (emg_fault_point("rename") != 0)
		return -1;
	return rename(from, to);
}

int emg_unlink(const char *path)
{
	if (emg_fault_point("unlink") != 0)
		return -1;
	return unlink(path);
}

void *emg_malloc(size_t n)
{
	if (emg_fault_point("alloc") != 0)
		return NULL;
	return malloc(n == 0 ? 1 : n);
}

void *emg_calloc(size_t n, size_t size)
{
	if (emg_fault_point("alloc") != 0)
		return NULL;
	return calloc(n == 0 ? 1 : n, size == 0 ? 1 : size);
}

void *emg_realloc(void *p, size_t n)
{
	if (emg_fault_point("alloc") != 0)
		return NULL;
	return realloc(p, n == 0 ? 1 : n);
}
