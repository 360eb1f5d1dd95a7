/* fileio.c - bounded reads and atomic writes. */
#include "fileio.h"
#include "sysio.h"

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

int emg_read_file(const char *path, size_t max, int too_big_code,
		  uint8_t **buf, size_t *len, emg_err *err)
{
	struct stat st;
	uint8_t *data = NULL;
	size_t cap = 0, used = 0;
	int fd;

	*buf = NULL;
	*len = 0;
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return emg_fail(err, EMG_EIO, "%s: %s", path, strerror(errno));
	if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
		close(fd);
		return emg_fail(err, EMG_EIO, "%s: not a regular file", path);
	}
	if ((uintmax_t)st.st_size > max) {
		close(fd);
		return emg_fail(err, too_big_code, "%s: larger than the limit of %zu bytes", path, max);
	}
	/* Read until EOF rather than trusting st_size: the file may grow. */
	cap = (size_t)st.st_size + 1;
	for (;;) {
		ssize_t n;
		if (used + 1 >= cap) {
			size_t ncap = cap * 2 + 4096;
			uint8_t *nd = realloc(data, ncap);
			if (nd == NULL) {
				free(data);
				close(fd);
				return emg_fail(err, EMG_EIO, "%s: out of memory", path);
			}
			data = nd;
			cap = ncap;
		} else if (data == NULL) {
			data = malloc(cap);
			if (data == NULL) {
				close(fd);
				return emg_fail(err, EMG_EIO, "%s: out of memory", path);
			}
		}
		n = read(fd, data + used, cap - used - 1);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			free(data);
			close(fd);
			return emg_fail(err, EMG_EIO, "%s: %s", path, strerror(errno));
		}
		if (n == 0)
			break;
		used += (size_t)n;
		if (used > max) {
			free(data);
			close(fd);
			return emg_fail(err, too_big_code, "%s: larger than the limit of %zu bytes", path, max);
		}
	}
	close(fd);
	data[used] = '\0';
	*buf = data;
	*len = used;
	return EMG_OK;
}

void emg_dirname(const char *path, char *out, size_t outlen)
{
	const char *slash = strrchr(path, '/');

	if (slash == NULL) {
		snprintf(out, outlen, ".");
	} else if (slash == path) {
		snprintf(out, outlen, "/");
	} else {
		size_t n = (size_t)(slash - path);
		if (n >= outlen)
			n = outlen - 1;
		memcpy(out, path, n);
		out[n] = '\0';
	}
}

int emg_fsync_dir(const char *dir, emg_err *err)
{
	int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);

	if (fd < 0)
		return emg_fail(err, EMG_EIO, "%s: %s", dir, strerror(errno));
	if (emg_fsync(fd) != 0) {
		int e = errno;
		close(fd);
		return emg_fail(err, EMG_EIO, "%s: fsync: %s", dir, strerror(e));
	}
	close(fd);
	return EMG_OK;
}

int emg_atomic_open(emg_atomic *a, const char *dst, mode_t mode, emg_err *err)
{
	char dir[PATH_MAX];
	const char *base = strrchr(dst, '/');
	int n;

	a->fd = -1;
	a->tmp[0] = '\0';
	if (snprintf(a->dst, sizeof a->dst, "%s", dst) >= (int)sizeof a->dst)
		return emg_fail(err, EMG_EIO, "%s: path too long", dst);
	emg_dirname(dst, dir, sizeof dir);
	base = base ? base + 1 : dst;
	n = snprintf(a->tmp, sizeof a->tmp, "%s/" EMG_TMP_PREFIX "%s.XXXXXX", dir, base);
	if (n < 0 || n >= (int)sizeof a->tmp)
		return emg_fail(err, EMG_EIO, "%s: path too long", dst);
	if (emg_fault_point("create") != 0) {
		a->tmp[0] = '\0';
		return emg_fail(err, EMG_EIO, "%s: cannot create temporary file: %s", dst, strerror(errno));
	}
	a->fd = mkstemp(a->tmp);
	if (a->fd < 0) {
		int e = errno;
		a->tmp[0] = '\0';
		return emg_fail(err, EMG_EIO, "%s: cannot create temporary file: %s", dst, strerror(e));
	}
	if (fchmod(a->fd, mode) != 0) {
		int e = errno;
		emg_atomic_abort(a);
		return emg_fail(err, EMG_EIO, "%s: chmod: %s", dst, strerror(e));
	}
	return EMG_OK;
}

int emg_atomic_write(emg_atomic *a, const void *buf, size_t len, emg_err *err)
{
	if (a->fd < 0)
		return emg_fail(err, EMG_EIO, "%s: write after close", a->dst);
	if (emg_write_all(a->fd, buf, len) != 0) {
		int e = errno;
		emg_atomic_abort(a);
		return emg_fail(err, EMG_EIO, "%s: write: %s", a->dst, strerror(e));
	}
	return EMG_OK;
}

int emg_atomic_commit(emg_atomic *a, emg_err *err)
{
	char dir[PATH_MAX];
	int e;

	if (a->fd < 0)
		return emg_fail(err, EMG_EIO, "%s: commit after close", a->dst);
	if (emg_fsync(a->fd) != 0) {
		e = errno;
		emg_atomic_abort(a);
		return emg_fail(err, EMG_EIO, "%s: fsync: %s", a->dst, strerror(e));
	}
	if (close(a->fd) != 0) {
		e = errno;
		a->fd = -1;
		emg_atomic_abort(a);
		return emg_fail(err, EMG_EIO, "%s: close: %s", a->dst, strerror(e));
	}
	a->fd = -1;
	if (emg_rename(a->tmp, a->dst) != 0) {
		e = errno;
		emg_atomic_abort(a);
		return emg_fail(err, EMG_EIO, "%s: rename: %s", a->dst, strerror(e));
	}
	a->tmp[0] = '\0';
	emg_dirname(a->dst, dir, sizeof dir);
	return emg_fsync_dir(dir, err);
}

void emg_atomic_abort(emg_atomic *a)
{
	if (a->fd >= 0) {
		close(a->fd);
		a->fd = -1;
	}
	if (a->tmp[0] != '\0') {
		/* Plain unlink: cleanup must not itself be a fault point. */
		unlink(a->tmp);
		a->tmp[0] = '\0';
	}
}

int emg_write_file_atomic(const char *path, const void *data, size_t len,
			  mode_t mode, emg_err *err)
{
	emg_atomic a;
	int rc;

	rc = emg_atomic_open(&a, path, mode, err);
	if (rc != EMG_OK)
		return rc;
	rc = emg_atomic_write(&a, data, len, err);
	if (rc != EMG_OK)
		return rc;
	return emg_atomic_commit(&a, err);
}

int emg_write_file_new(const char *path, const void *data, size_t len,
		       mode_t mode, emg_err *err)
{
	char dir[PATH_MAX];
	int fd, e;

	if (emg_fault_point("create") != 0)
		return emg_fail(err, EMG_EIO, "%s: %s", path, strerror(errno));
	fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, mode);
	if (fd < 0) {
		e = errno;
		if (e == EEXIST)
			return emg_fail(err, EMG_EIO, "%s: already exists; refusing to overwrite it", path);
		return emg_fail(err, EMG_EIO, "%s: %s", path, strerror(e));
	}
	if (fchmod(fd, mode) != 0 || emg_write_all(fd, data, len) != 0 || emg_fsync(fd) != 0) {
		e = errno;
		close(fd);
		unlink(path);
		return emg_fail(err, EMG_EIO, "%s: %s", path, strerror(e));
	}
	if (close(fd) != 0) {
		e = errno;
		unlink(path);
		return emg_fail(err, EMG_EIO, "%s: close: %s", path, strerror(e));
	}
	emg_dirname(path, dir, sizeof dir);
	return emg_fsync_dir(dir, err);
}

int emg_clean_stale_tmp(const char *dir, emg_err *err)
{
	DIR *d = opendir(dir);
	struct dirent *de;
	size_t plen = strlen(EMG_TMP_PREFIX);

	if (d == NULL)
		return emg_fail(err, EMG_EIO, "%s: %s", dir, strerror(errno));
	while ((de = readdir(d)) != NULL) {
		char p[PATH_MAX];
		if (strncmp(de->d_name, EMG_TMP_PREFIX, plen) != 0)
			continue;
		if (snprintf(p, sizeof p, "%s/%s", dir, de->d_name) >= (int)sizeof p)
			continue;
		unlink(p);
	}
	closedir(d);
	return EMG_OK;
}

/* Is name exactly EMG_TMP_PREFIX base "." and six mkstemp characters? */
static int is_tmp_of(const char *name, const char *base)
{
	size_t plen = strlen(EMG_TMP_PREFIX), blen = strlen(base), i;

	if (strncmp(name, EMG_TMP_PREFIX, plen) != 0 || strncmp(name + plen, base, blen) != 0 ||
	    name[plen + blen] != '.' || strlen(name + plen + blen + 1) != 6)
		return 0;
	for (i = plen + blen + 1; name[i] != '\0'; i++)
		if (!isalnum((unsigned char)name[i]))
			return 0;
	return 1;
}

int emg_clean_stale_tmp_for(const char *dst, emg_err *err)
{
	char dir[PATH_MAX], p[PATH_MAX];
	const char *base = strrchr(dst, '/');
	struct dirent *de;
	DIR *d;

	base = base != NULL ? base + 1 : dst;
	emg_dirname(dst, dir, sizeof dir);
	d = opendir(dir);
	if (d == NULL)
		return emg_fail(err, EMG_EIO, "%s: %s", dir, strerror(errno));
	while ((de = readdir(d)) != NULL) {
		if (!is_tmp_of(de->d_name, base))
			continue;
		/* Plain unlink, as in emg_atomic_abort: cleanup is no fault point. */
		if (snprintf(p, sizeof p, "%s/%s", dir, de->d_name) < (int)sizeof p)
			unlink(p);
	}
	closedir(d);
	return EMG_OK;
}

int emg_mkdir_p(const char *dir, mode_t mode, emg_err *err)
{
	char p[PATH_MAX];
	size_t i, n;

	if (snprintf(p, sizeof p, "%s", dir) >= (int)sizeof p)
		return emg_fail(err, EMG_EIO, "%s: path too long", dir);
	n = strlen(p);
	for (i = 1; i <= n; i++) {
		if (p[i] != '/' && p[i] != '\0')
			continue;
		p[i] = '\0';
		if (mkdir(p, mode) != 0 && errno != EEXIST) {
			int e = errno;
			return emg_fail(err, EMG_EIO, "%s: %s", p, strerror(e));
		}
		if (i < n)
			p[i] = '/';
	}
	return EMG_OK;
}
