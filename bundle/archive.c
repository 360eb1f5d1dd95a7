/* archive.c - libarchive underneath bundles, with emgap's limits. */
#include "bundle/archive.h"

#include <archive.h>
#include <archive_entry.h>
#include <errno.h>
#include <fcntl.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bundle/manifest.h"
#include "fileio.h"

/* 64 KiB comes from the heap: a fresh 256 KiB mapping cost a small
 * bundle's verification 65 page faults; large bundles are no slower. */
#define READ_CHUNK (64u * 1024)
/* A tar stream is at most this much larger than its members (headers,
 * padding, pax records) before it counts as endless data. */
#define TAR_OVERHEAD(count) ((count) * 4096u + 1024u * 1024u)
/* Ratios are only judged past this much output: tiny archives compress
 * (tar padding) far better than any sane limit. */
#define RATIO_FLOOR (1024u * 1024u)

struct emg_tar_reader {
	struct archive *a;
	int fd;
	const char *path;
	emg_bundle_limits lim;
	uint8_t *buf;
	EVP_MD_CTX *file_md;
	uint64_t raw_bytes;
	uint64_t trailing_zeros; /* zero bytes at the end of what was read */
	uint64_t members;
	uint64_t total;
	uint64_t want;   /* current member: size announced by its header */
	uint64_t got;
	int in_member;
	int io_errno;
	int ended;
	char name[EMG_MEMBER_PATH_MAX + 1];
};

static void note_zeros(emg_tar_reader *r, const uint8_t *p, size_t n)
{
	size_t i = n;

	while (i > 0 && p[i - 1] == 0)
		i--;
	if (i == 0)
		r->trailing_zeros += n;
	else
		r->trailing_zeros = n - i;
}

/* Reads the next chunk of the file; every raw byte is hashed here, so the
 * whole-file digest costs no second pass. */
static ssize_t raw_read(emg_tar_reader *r)
{
	ssize_t n;

	do
		n = read(r->fd, r->buf, READ_CHUNK);
	while (n < 0 && errno == EINTR);
	if (n < 0) {
		r->io_errno = errno;
		return -1;
	}
	if (n > 0) {
		EVP_DigestUpdate(r->file_md, r->buf, (size_t)n);
		r->raw_bytes += (uint64_t)n;
		note_zeros(r, r->buf, (size_t)n);
	}
	return n;
}

static la_ssize_t read_cb(struct archive *a, void *ctx, const void **out)
{
	emg_tar_reader *r = ctx;
	ssize_t n = raw_read(r);

	if (n < 0) {
		archive_set_error(a, r->io_errno, "read error");
		return -1;
	}
	*out = r->buf;
	return n;
}

int emg_tar_open(const char *path, const emg_bundle_limits *lim, emg_tar_reader **out,
		 emg_err *err)
{
	emg_tar_reader *r;

	*out = NULL;
	r = calloc(1, sizeof *r);
	if (r == NULL)
		return emg_fail(err, EMG_EIO, "out of memory");
	r->fd = -1;
	r->path = path;
	r->lim = *lim;
	r->buf = malloc(READ_CHUNK);
	r->file_md = EVP_MD_CTX_new();
	r->a = archive_read_new();
	if (r->buf == NULL || r->file_md == NULL || r->a == NULL ||
	    EVP_DigestInit_ex(r->file_md, EVP_sha256(), NULL) != 1) {
		emg_tar_close(r);
		return emg_fail(err, EMG_EIO, "out of memory");
	}
	r->fd = open(path, O_RDONLY | O_CLOEXEC);
	if (r->fd < 0) {
		int e = errno;
		emg_tar_close(r);
		return emg_fail(err, EMG_EIO, "%s: %s", path, strerror(e));
	}
	archive_read_support_format_tar(r->a);
	archive_read_support_filter_none(r->a);
	archive_read_support_filter_gzip(r->a);
	archive_read_support_filter_zstd(r->a);
	if (archive_read_open(r->a, r, NULL, read_cb, NULL) != ARCHIVE_OK) {
		emg_fail(err, r->io_errno ? EMG_EIO : EMG_EVERIFY, "%s: not a bundle: %s", path,
			 archive_error_string(r->a));
		emg_tar_close(r);
		return err->code;
	}
	*out = r;
	return EMG_OK;
}

void emg_tar_close(emg_tar_reader *r)
{
	if (r == NULL)
		return;
	if (r->a != NULL)
		archive_read_free(r->a);
	if (r->fd >= 0)
		close(r->fd);
	EVP_MD_CTX_free(r->file_md);
	free(r->buf);
	free(r);
}

void emg_tar_file_sha256(const emg_tar_reader *r, uint8_t out[32])
{
	EVP_MD_CTX *c = EVP_MD_CTX_new();
	unsigned int n = 0;

	memset(out, 0, 32);
	/* Finalise a copy so the reader stays usable. */
	if (c != NULL && EVP_MD_CTX_copy_ex(c, r->file_md) == 1)
		EVP_DigestFinal_ex(c, out, &n);
	EVP_MD_CTX_free(c);
}

static int fail_archive(emg_tar_reader *r, emg_err *err)
{
	if (r->io_errno != 0)
		return emg_fail(err, EMG_EIO, "%s: %s", r->path, strerror(r->io_errno));
	return emg_fail(err, EMG_EVERIFY, "%s: damaged or truncated bundle: %s", r->path,
			archive_error_string(r->a) ? archive_error_string(r->a) : "read error");
}

/* Endless data: the decompressed stream may not outgrow its members, nor
 * the compressed input by more than ratio_max. */
static int check_stream(emg_tar_reader *r, emg_err *err)
{
	uint64_t out = (uint64_t)archive_filter_bytes(r->a, 0);
	uint64_t in = (uint64_t)archive_filter_bytes(r->a, -1);

	if (out > r->lim.total_max + TAR_OVERHEAD(r->members + 1))
		return emg_fail(err, EMG_EVERIFY, "%s: archive larger than the limit of %llu bytes",
				r->path, (unsigned long long)r->lim.total_max);
	if (archive_filter_count(r->a) > 1 && out > RATIO_FLOOR && in > 0 &&
	    out / in > r->lim.ratio_max)
		return emg_fail(err, EMG_EVERIFY,
				"%s: compression ratio above %llu:1 (decompression bomb?)", r->path,
				(unsigned long long)r->lim.ratio_max);
	return EMG_OK;
}

static const char *type_name(struct archive_entry *e)
{
	switch (archive_entry_filetype(e)) {
	case AE_IFLNK: return "a symlink";
	case AE_IFDIR: return "a directory";
	case AE_IFCHR: return "a character device";
	case AE_IFBLK: return "a block device";
	case AE_IFIFO: return "a fifo";
	case AE_IFSOCK: return "a socket";
	default: return "not a regular file";
	}
}

static int has_dotdot(const char *p)
{
	const char *s = p;

	while ((s = strstr(s, "..")) != NULL) {
		if ((s == p || s[-1] == '/') && (s[2] == '\0' || s[2] == '/'))
			return 1;
		s += 2;
	}
	return 0;
}

static int check_entry(emg_tar_reader *r, struct archive_entry *e, emg_err *err)
{
	const char *name = archive_entry_pathname(e);

	if (name == NULL || name[0] == '\0')
		return emg_fail(err, EMG_EVERIFY, "%s: member without a name", r->path);
	if (name[0] == '/')
		return emg_fail(err, EMG_EVERIFY, "%s: member '%s' has an absolute path", r->path, name);
	if (has_dotdot(name))
		return emg_fail(err, EMG_EVERIFY, "%s: member '%s' has a '..' path component", r->path,
				name);
	if (archive_entry_hardlink(e) != NULL)
		return emg_fail(err, EMG_EVERIFY, "%s: member '%s' is a hardlink", r->path, name);
	if (archive_entry_filetype(e) != AE_IFREG)
		return emg_fail(err, EMG_EVERIFY, "%s: member '%s' is %s", r->path, name, type_name(e));
	if (!emg_member_name_safe(name))
		return emg_fail(err, EMG_EVERIFY, "%s: member '%s' has an unsafe name", r->path, name);
	if (archive_entry_sparse_count(e) > 0 || !archive_entry_size_is_set(e) ||
	    archive_entry_size(e) < 0)
		return emg_fail(err, EMG_EVERIFY, "%s: member '%s' has no plain size", r->path, name);
	if ((uint64_t)archive_entry_size(e) > r->lim.member_max)
		return emg_fail(err, EMG_EVERIFY, "%s: member '%s' is larger than the limit of %llu bytes",
				r->path, name, (unsigned long long)r->lim.member_max);
	return EMG_OK;
}

/* After the end-of-archive marker: a plain tar must really end with it.
 * libarchive accepts a tar that simply stops between members, or after
 * one of the two zero blocks, which is exactly what a cut-off copy looks
 * like. So: everything from the marker to the end of the file must be
 * zeros, and at least the two blocks of the marker. Compressed or not,
 * the rest of the file is read, so the whole-file digest covers it all. */
static int check_end(emg_tar_reader *r, emg_err *err)
{
	uint64_t marker = (uint64_t)archive_read_header_position(r->a);
	ssize_t n;

	while ((n = raw_read(r)) > 0)
		;
	if (n < 0)
		return emg_fail(err, EMG_EIO, "%s: %s", r->path, strerror(r->io_errno));
	if (archive_filter_count(r->a) > 1)
		return EMG_OK; /* the decompressor already insists on a complete stream */
	if (r->trailing_zeros < r->raw_bytes - marker && r->raw_bytes >= marker + 1024)
		return emg_fail(err, EMG_EVERIFY, "%s: data after the end-of-archive marker", r->path);
	if (r->raw_bytes < marker + 1024 || r->trailing_zeros < r->raw_bytes - marker)
		return emg_fail(err, EMG_EVERIFY,
				"%s: truncated bundle (no complete end-of-archive marker; %llu bytes)",
				r->path, (unsigned long long)r->raw_bytes);
	return EMG_OK;
}

int emg_tar_next(emg_tar_reader *r, const char **name, uint64_t *size, emg_err *err)
{
	struct archive_entry *e;
	int rc;

	*name = NULL;
	*size = 0;
	if (r->ended)
		return EMG_OK;
	if (r->in_member && r->got != r->want)
		return emg_fail(err, EMG_EVERIFY, "%s: member '%s' not read to its end", r->path, r->name);
	r->in_member = 0;
	rc = archive_read_next_header(r->a, &e);
	if (rc == ARCHIVE_EOF) {
		r->ended = 1;
		return check_end(r, err);
	}
	if (rc != ARCHIVE_OK)
		return fail_archive(r, err);
	if (check_stream(r, err) != EMG_OK || check_entry(r, e, err) != EMG_OK)
		return err->code;
	if (++r->members > r->lim.member_count_max)
		return emg_fail(err, EMG_EVERIFY, "%s: more than %llu members", r->path,
				(unsigned long long)r->lim.member_count_max);
	r->want = (uint64_t)archive_entry_size(e);
	r->got = 0;
	r->total += r->want;
	if (r->total > r->lim.total_max)
		return emg_fail(err, EMG_EVERIFY, "%s: members add up to more than the limit of %llu bytes",
				r->path, (unsigned long long)r->lim.total_max);
	snprintf(r->name, sizeof r->name, "%s", archive_entry_pathname(e));
	r->in_member = 1;
	*name = r->name;
	*size = r->want;
	return EMG_OK;
}

int emg_tar_read(emg_tar_reader *r, const void **buf, size_t *len, emg_err *err)
{
	la_int64_t off;
	int rc;

	*buf = NULL;
	*len = 0;
	if (!r->in_member)
		return emg_fail(err, EMG_EVERIFY, "%s: no member to read", r->path);
	rc = archive_read_data_block(r->a, buf, len, &off);
	if (rc == ARCHIVE_EOF) {
		*len = 0;
		if (r->got != r->want)
			return emg_fail(err, EMG_EVERIFY, "%s: member '%s' is truncated", r->path, r->name);
		return EMG_OK;
	}
	if (rc != ARCHIVE_OK)
		return fail_archive(r, err);
	/* Plain tar data arrives in order; a hole would mean a sparse trick. */
	if (off < 0 || (uint64_t)off != r->got || *len > r->want - r->got)
		return emg_fail(err, EMG_EVERIFY, "%s: member '%s' has inconsistent data", r->path,
				r->name);
	r->got += *len;
	return check_stream(r, err);
}

/* ---- writer ---------------------------------------------------------- */

struct emg_tar_writer {
	struct archive *a;
	emg_atomic out;
	time_t mtime;
	emg_err io_err; /* the real cause when a write callback fails */
};

static la_ssize_t write_cb(struct archive *a, void *ctx, const void *buf, size_t len)
{
	emg_tar_writer *w = ctx;

	if (emg_atomic_write(&w->out, buf, len, &w->io_err) != EMG_OK) {
		archive_set_error(a, EIO, "%s", w->io_err.msg);
		return -1;
	}
	return (la_ssize_t)len;
}

static int fail_writer(emg_tar_writer *w, emg_err *err)
{
	if (w->io_err.code != EMG_OK)
		return emg_fail(err, w->io_err.code, "%s", w->io_err.msg);
	return emg_fail(err, EMG_EIO, "%s: %s", w->out.dst, archive_error_string(w->a));
}

int emg_tar_create(const char *path, time_t mtime, emg_tar_writer **out, emg_err *err)
{
	emg_tar_writer *w;

	*out = NULL;
	w = calloc(1, sizeof *w);
	if (w == NULL)
		return emg_fail(err, EMG_EIO, "out of memory");
	w->out.fd = -1;
	w->mtime = mtime;
	if (emg_atomic_open(&w->out, path, 0644, err) != EMG_OK) {
		free(w);
		return err->code;
	}
	w->a = archive_write_new();
	/* pax (restricted: extended headers only where ustar cannot say it),
	 * no padding after the end marker, so the file ends with the marker. */
	if (w->a == NULL || archive_write_set_format_pax_restricted(w->a) != ARCHIVE_OK ||
	    archive_write_add_filter_none(w->a) != ARCHIVE_OK ||
	    archive_write_set_bytes_in_last_block(w->a, 1) != ARCHIVE_OK ||
	    archive_write_open(w->a, w, NULL, write_cb, NULL) != ARCHIVE_OK) {
		emg_fail(err, EMG_EIO, "%s: cannot start the archive", path);
		emg_tar_abort(w);
		return err->code;
	}
	*out = w;
	return EMG_OK;
}

int emg_tar_begin(emg_tar_writer *w, const char *name, uint64_t size, emg_err *err)
{
	struct archive_entry *e = archive_entry_new();
	int rc;

	if (e == NULL)
		return emg_fail(err, EMG_EIO, "out of memory");
	archive_entry_set_pathname(e, name);
	archive_entry_set_filetype(e, AE_IFREG);
	archive_entry_set_perm(e, 0644);
	archive_entry_set_size(e, (la_int64_t)size);
	archive_entry_set_mtime(e, w->mtime, 0);
	archive_entry_set_uid(e, 0);
	archive_entry_set_gid(e, 0);
	rc = archive_write_header(w->a, e);
	archive_entry_free(e);
	if (rc != ARCHIVE_OK)
		return fail_writer(w, err);
	return EMG_OK;
}

int emg_tar_write(emg_tar_writer *w, const void *buf, size_t len, emg_err *err)
{
	const uint8_t *p = buf;

	while (len > 0) {
		la_ssize_t n = archive_write_data(w->a, p, len);
		if (n <= 0)
			return fail_writer(w, err);
		p += n;
		len -= (size_t)n;
	}
	return EMG_OK;
}

int emg_tar_add(emg_tar_writer *w, const char *name, const void *buf, size_t len, emg_err *err)
{
	if (emg_tar_begin(w, name, len, err) != EMG_OK)
		return err->code;
	return emg_tar_write(w, buf, len, err);
}

int emg_tar_commit(emg_tar_writer *w, emg_err *err)
{
	int rc;

	if (archive_write_close(w->a) != ARCHIVE_OK) {
		fail_writer(w, err);
		emg_tar_abort(w);
		return err->code;
	}
	archive_write_free(w->a);
	w->a = NULL;
	rc = emg_atomic_commit(&w->out, err);
	free(w);
	return rc;
}

void emg_tar_abort(emg_tar_writer *w)
{
	if (w == NULL)
		return;
	if (w->a != NULL) {
		/* free would close and flush into the temporary: drop it after. */
		archive_write_free(w->a);
	}
	emg_atomic_abort(&w->out);
	free(w);
}
