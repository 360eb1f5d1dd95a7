/* hashcache.c - the SHA-256 of source files by stat signature, so that an
 * idle run reads no bundle (what a stale entry can and cannot do:
 * hashcache.h). */
#include "apply/hashcache.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "apply/report.h"
#include "apply/source.h"
#include "apply/state.h"
#include "fileio.h"

#define HASH_CACHE_MAGIC "emgap-hashcache 1"
/* One line: hash, signature, escaped path (each byte at most three). */
#define HASH_CACHE_MAX_BYTES ((size_t)EMG_SOURCE_MAX_FILES * (200 + 3 * PATH_MAX))
/* A file's times must lie this far before the moment its hashing starts
 * for the hash to be kept, so that any later change shows in them: two
 * seconds where times are kept in whole milliseconds or coarser (FAT keeps
 * mtime in two seconds), a tenth of a second (many clock ticks) where they
 * are kept in finer steps. */
#define SETTLE_COARSE_NS 2000000000L
#define SETTLE_FINE_NS 100000000L


static int entry_cmp(const void *a, const void *b)
{
	return strcmp(((const emg_hash_entry *)a)->path, ((const emg_hash_entry *)b)->path);
}

static int entry_ptr_cmp(const void *a, const void *b)
{
	return entry_cmp(*(const emg_hash_entry *const *)a, *(const emg_hash_entry *const *)b);
}

static void entries_free(emg_hash_cache *hc)
{
	size_t i;

	for (i = 0; i < hc->n; i++)
		free(hc->v[i].path);
	free(hc->v);
	hc->v = NULL;
	hc->n = hc->sorted = 0;
}

static int is_hex64(const char *s)
{
	size_t i;

	for (i = 0; i < 64; i++)
		if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
			return 0;
	return 1;
}

/* "<sha256> <signature> <escaped path>"; 0, or -1 when malformed. */
static int parse_entry(char *line, emg_hash_entry *e)
{
	char *sig, *path;
	size_t n;

	if (strlen(line) < 64 + 3 || !is_hex64(line) || line[64] != ' ')
		return -1;
	sig = line + 65;
	path = strchr(sig, ' ');
	if (path == NULL)
		return -1;
	*path++ = '\0';
	n = strlen(sig);
	if (n == 0 || n >= sizeof e->sig || strspn(sig, "0123456789abcdef:.-") != n)
		return -1;
	if (emg_line_unescape(path) != 0 || path[0] == '\0')
		return -1;
	e->path = strdup(path);
	if (e->path == NULL)
		return -1;
	memcpy(e->sha256, line, 64);
	e->sha256[64] = '\0';
	memcpy(e->sig, sig, n + 1);
	e->used = 0;
	return 0;
}

static int parse_cache(emg_hash_cache *hc, char *text)
{
	char *line = text, *next;

	next = strchr(line, '\n');
	if (next == NULL)
		return -1;
	*next++ = '\0';
	if (strcmp(line, HASH_CACHE_MAGIC) != 0)
		return -1;
	for (line = next; *line != '\0'; line = next) {
		next = strchr(line, '\n');
		if (next == NULL || hc->n >= EMG_SOURCE_MAX_FILES)
			return -1;
		*next++ = '\0';
		if (hc->n % 64 == 0) {
			emg_hash_entry *nv = realloc(hc->v, (hc->n + 64) * sizeof *nv);
			if (nv == NULL)
				return -1;
			hc->v = nv;
		}
		if (parse_entry(line, &hc->v[hc->n]) != 0)
			return -1;
		hc->n++;
		/* Sorted and unique, as written: lookups are a binary search. */
		if (hc->n > 1 && strcmp(hc->v[hc->n - 2].path, hc->v[hc->n - 1].path) >= 0)
			return -1;
	}
	return 0;
}

void emg_hash_cache_load(emg_hash_cache *hc, const char *state_dir)
{
	uint8_t *buf = NULL;
	size_t len = 0;
	emg_err e;

	memset(hc, 0, sizeof *hc);
	snprintf(hc->path, sizeof hc->path, "%s/hashcache", state_dir);
	emg_err_clear(&e);
	if (emg_read_file(hc->path, HASH_CACHE_MAX_BYTES, EMG_ECONFIG, &buf, &len, &e) != EMG_OK)
		return; /* none yet, or unreadable: an empty cache */
	hc->text = malloc(len + 1);
	if (hc->text != NULL) {
		memcpy(hc->text, buf, len);
		hc->text_len = len;
	}
	if (memchr(buf, '\0', len) == NULL && parse_cache(hc, (char *)buf) == 0)
		hc->sorted = hc->n;
	else
		entries_free(hc); /* malformed: ignored, and the save rewrites it */
	free(buf);
}

void emg_hash_cache_free(emg_hash_cache *hc)
{
	entries_free(hc);
	free(hc->text);
	hc->text = NULL;
	hc->text_len = 0;
}

static emg_hash_entry *cache_find(emg_hash_cache *hc, const char *path)
{
	emg_hash_entry key, *e;
	size_t i;

	memset(&key, 0, sizeof key);
	key.path = (char *)path;
	e = hc->sorted > 0 ? bsearch(&key, hc->v, hc->sorted, sizeof *hc->v, entry_cmp) : NULL;
	for (i = hc->sorted; e == NULL && i < hc->n; i++)
		if (strcmp(hc->v[i].path, path) == 0)
			e = &hc->v[i];
	return e;
}

/* Remembers path's hash; out of memory it is simply not remembered. */
static void cache_put(emg_hash_cache *hc, const char *path, const char *sig, const char *sha)
{
	emg_hash_entry *e = cache_find(hc, path), *nv;

	if (e == NULL) {
		nv = realloc(hc->v, (hc->n + 1) * sizeof *nv);
		if (nv == NULL)
			return;
		hc->v = nv;
		e = &hc->v[hc->n];
		e->path = strdup(path);
		if (e->path == NULL)
			return;
		hc->n++;
	}
	snprintf(e->sig, sizeof e->sig, "%s", sig);
	snprintf(e->sha256, sizeof e->sha256, "%s", sha);
	e->used = 1;
}

int emg_hash_cache_save(emg_hash_cache *hc, emg_err *err)
{
	emg_hash_entry **use;
	emg_sbuf b;
	size_t i, k = 0;
	int rc;

	use = calloc(hc->n + 1, sizeof *use);
	if (use == NULL)
		return emg_fail(err, EMG_EIO, "out of memory");
	for (i = 0; i < hc->n; i++)
		if (hc->v[i].used && k < EMG_SOURCE_MAX_FILES)
			use[k++] = &hc->v[i];
	qsort(use, k, sizeof *use, entry_ptr_cmp);
	emg_sbuf_init(&b);
	emg_sbuf_puts(&b, HASH_CACHE_MAGIC "\n");
	for (i = 0; i < k; i++) {
		emg_sbuf_printf(&b, "%s %s ", use[i]->sha256, use[i]->sig);
		emg_line_escape(&b, use[i]->path);
		emg_sbuf_putn(&b, "\n", 1);
	}
	free(use);
	rc = emg_sbuf_status(&b, err);
	/* An idle run finds what it found last time: it writes nothing. */
	if (rc == EMG_OK && (hc->text != NULL || k > 0) &&
	    (hc->text == NULL || b.len != hc->text_len || memcmp(b.p, hc->text, b.len) != 0))
		rc = emg_write_file_atomic(hc->path, b.p, b.len, 0600, err);
	emg_sbuf_free(&b);
	return rc;
}

static int ts_before(const struct timespec *a, const struct timespec *b)
{
	return a->tv_sec < b->tv_sec || (a->tv_sec == b->tv_sec && a->tv_nsec < b->tv_nsec);
}

/* 1 when st's mtime and ctime lie far enough before now (see above). */
static int settled(const struct stat *st, const struct timespec *now)
{
	long margin = st->st_mtim.tv_nsec % 1000000 == 0 && st->st_ctim.tv_nsec % 1000000 == 0
			      ? SETTLE_COARSE_NS
			      : SETTLE_FINE_NS;
	struct timespec lim = *now;

	lim.tv_sec -= margin / 1000000000L;
	lim.tv_nsec -= margin % 1000000000L;
	if (lim.tv_nsec < 0) {
		lim.tv_nsec += 1000000000L;
		lim.tv_sec--;
	}
	return ts_before(&st->st_mtim, &lim) && ts_before(&st->st_ctim, &lim);
}

/* The SHA-256 of a candidate file, from the cache when its signature is
 * the one recorded with the hash, else read and (once settled) recorded.
 * "" when the file does not exist. */
int emg_hash_cache_sha256(emg_hash_cache *hc, const char *path, char out[65], emg_err *err)
{
	struct stat before, after;
	struct timespec now;
	char sig[128], sig2[128];
	emg_hash_entry *e;
	int fd, rc;

	if (hc == NULL)
		return emg_sha256_file(path, out, err);
	e = cache_find(hc, path);
	if (e != NULL && stat(path, &before) == 0) {
		emg_stat_sig(&before, sig);
		if (strcmp(sig, e->sig) == 0) {
			memcpy(out, e->sha256, sizeof e->sha256);
			e->used = 1;
			return EMG_OK;
		}
	}
	out[0] = '\0';
	if (hc->lookup_only)
		return emg_fail(err, EMG_EIO, "%s: not in the hash cache under its present signature", path);
	/* Taken before reading: a change after it gets later times. */
	if (clock_gettime(CLOCK_REALTIME, &now) != 0)
		now.tv_sec = now.tv_nsec = 0; /* then nothing has settled */
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		if (errno == ENOENT)
			return EMG_OK;
		return emg_fail(err, EMG_EIO, "%s: %s", path, strerror(errno));
	}
	if (fstat(fd, &before) != 0) {
		rc = emg_fail(err, EMG_EIO, "%s: %s", path, strerror(errno));
		close(fd);
		return rc;
	}
	rc = emg_sha256_fd(fd, path, out, err);
	if (rc == EMG_OK && fstat(fd, &after) == 0) {
		emg_stat_sig(&before, sig);
		emg_stat_sig(&after, sig2);
		/* Changed while being read, or too recently: not recorded,
		 * so the next run reads it again. */
		if (strcmp(sig, sig2) == 0 && settled(&after, &now))
			cache_put(hc, path, sig2, out);
	}
	close(fd);
	return rc;
}
