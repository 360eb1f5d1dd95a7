/* apply_source.c - the hash cache of directory sources: an entry whose stat
 * signature matches gives the hash without reading the file, a changed
 * file is read again, entries for files no longer seen are dropped, and a
 * cache that is unsorted, too long or malformed is ignored. */
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "apply/config.h"
#include "apply/report.h"
#include "apply/source.h"
#include "apply/state.h"
#include "check.h"
#include "err.h"
#include "fileio.h"

#define FAKE_A "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
#define FAKE_B "bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb"

static char src[4096], state[4096], fa[4200], fb[4200], cache[4200];

static void entry(emg_sbuf *b, const char *sha, const char *path)
{
	char sig[128];

	emg_file_sig(path, sig);
	emg_sbuf_printf(b, "%s %s ", sha, sig);
	emg_line_escape(b, path);
	emg_sbuf_puts(b, "\n");
}

static void put_cache(const emg_sbuf *b)
{
	emg_err e;

	emg_write_file_atomic(cache, b->p, b->len, 0600, &e);
}

/* Collects src through the cache (or without one: hc NULL); the hashes
 * found for a and for b. */
static void collect(emg_hash_cache *hc, char a[65], char b[65])
{
	emg_apply_config cfg;
	emg_candidates cands = {NULL, 0};
	emg_err e;
	size_t i;

	memset(&cfg, 0, sizeof cfg);
	cfg.source_paths[0] = src;
	cfg.source_path_count = 1;
	snprintf(cfg.state_dir, sizeof cfg.state_dir, "%s", state);
	a[0] = b[0] = '\0';
	emg_sources_collect(&cfg, hc, &cands, NULL, NULL, &e);
	for (i = 0; i < cands.n; i++) {
		if (strcmp(cands.v[i].path, fa) == 0)
			memcpy(a, cands.v[i].sha256, 65);
		if (strcmp(cands.v[i].path, fb) == 0)
			memcpy(b, cands.v[i].sha256, 65);
	}
	emg_candidates_free(&cands);
}

static void through(const emg_sbuf *b, char a[65], char bb[65], int save)
{
	emg_hash_cache hc;
	emg_err e;

	put_cache(b);
	emg_hash_cache_load(&hc, state);
	collect(&hc, a, bb);
	if (save)
		emg_hash_cache_save(&hc, &e);
	emg_hash_cache_free(&hc);
}

int main(void)
{
	check_ctx c = {0};
	char real_a[65], real_b[65], a[65], b[65];
	uint8_t *text = NULL;
	size_t len = 0;
	struct timespec future[2];
	emg_sbuf s;
	emg_err e;
	int i;

	snprintf(src, sizeof src, "%s/src", check_tmpdir());
	snprintf(state, sizeof state, "%s/state", check_tmpdir());
	snprintf(fa, sizeof fa, "%s/a.bundle", src);
	snprintf(fb, sizeof fb, "%s/b c%%2.bundle", src); /* a space and a % to escape */
	snprintf(cache, sizeof cache, "%s/hashcache", state);
	emg_mkdir_p(src, 0700, &e);
	emg_mkdir_p(state, 0700, &e);
	emg_write_file_atomic(fa, "first", 5, 0600, &e);
	emg_write_file_atomic(fb, "second", 6, 0600, &e);

	collect(NULL, real_a, real_b);
	emg_sha256_file(fa, a, &e);
	CHECK(&c, strcmp(real_a, a) == 0 && real_b[0] != '\0', "without a cache every file is read");

	/* Matching signatures: the recorded hashes, not the files'. */
	emg_sbuf_init(&s);
	emg_sbuf_puts(&s, "emgap-hashcache 1\n");
	entry(&s, FAKE_A, fa);
	entry(&s, FAKE_B, fb);
	emg_sbuf_printf(&s, "%s 1:2:3:4.000000000:5.000000000 %s/zz-gone.bundle\n", FAKE_A, src);
	through(&s, a, b, 1);
	CHECK(&c, strcmp(a, FAKE_A) == 0 && strcmp(b, FAKE_B) == 0, "matching signature: the cached hash");
	CHECK(&c, emg_read_file(cache, 1 << 20, EMG_EIO, &text, &len, &e) == EMG_OK, "the cache is saved");
	CHECK(&c, text != NULL && strstr((char *)text, "b c%252.bundle") != NULL, "a path with space and % is escaped");
	CHECK(&c, text != NULL && strstr((char *)text, "zz-gone") == NULL, "the entry of a file no longer seen is dropped");
	CHECK(&c, text != NULL && strstr((char *)text, FAKE_A) != NULL, "the entries seen are kept");
	free(text);
	text = NULL;

	/* A changed file (another size: another signature) is read again; its
	 * entry goes, and is not replaced while its times are this recent (an
	 * mtime ahead of the clock: however slow the machine, never settled). */
	emg_write_file_atomic(fa, "first, longer", 13, 0600, &e);
	future[0].tv_sec = future[1].tv_sec = time(NULL) + 3600;
	future[0].tv_nsec = future[1].tv_nsec = 0;
	utimensat(AT_FDCWD, fa, future, 0);
	emg_sha256_file(fa, real_a, &e);
	through(&s, a, b, 1);
	CHECK(&c, strcmp(a, real_a) == 0 && strcmp(b, FAKE_B) == 0, "a changed file is hashed again");
	emg_read_file(cache, 1 << 20, EMG_EIO, &text, &len, &e);
	CHECK(&c, text != NULL && strstr((char *)text, "a.bundle") == NULL, "a file with recent times is not recorded");
	free(text);
	text = NULL;
	emg_sbuf_free(&s);

	/* Ignored caches: every file read. */
	emg_sbuf_init(&s);
	emg_sbuf_puts(&s, "emgap-hashcache 1\n");
	entry(&s, FAKE_B, fb);
	entry(&s, FAKE_A, fa); /* out of order */
	through(&s, a, b, 0);
	CHECK(&c, strcmp(a, real_a) == 0 && strcmp(b, real_b) == 0, "an unsorted cache is ignored");
	emg_sbuf_free(&s);

	emg_sbuf_init(&s);
	emg_sbuf_puts(&s, "emgap-hashcache 1\n");
	entry(&s, FAKE_A, fa);
	entry(&s, FAKE_A, fa);
	through(&s, a, b, 0);
	CHECK(&c, strcmp(a, real_a) == 0, "a cache with a path twice is ignored");
	emg_sbuf_free(&s);

	emg_sbuf_init(&s);
	emg_sbuf_puts(&s, "emgap-hashcache 1\n");
	for (i = 0; i < EMG_SOURCE_MAX_FILES; i++)
		emg_sbuf_printf(&s, "%s 1:2:3:4.000000000:5.000000000 %s/.%05d\n", FAKE_B, src, i);
	entry(&s, FAKE_A, fa);
	through(&s, a, b, 0);
	CHECK(&c, strcmp(a, real_a) == 0, "a cache of more than EMG_SOURCE_MAX_FILES entries is ignored");
	emg_sbuf_free(&s);

	emg_sbuf_init(&s);
	emg_sbuf_puts(&s, "emgap-hashcache 1\n");
	entry(&s, "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA", fa);
	through(&s, a, b, 0);
	CHECK(&c, strcmp(a, real_a) == 0, "a hash that is not lower-case hex is refused");
	emg_sbuf_free(&s);

	emg_sbuf_init(&s);
	emg_sbuf_puts(&s, "emgap-hashcache 2\n");
	entry(&s, FAKE_A, fa);
	through(&s, a, b, 1);
	CHECK(&c, strcmp(a, real_a) == 0, "another format version is ignored");
	emg_read_file(cache, 1 << 20, EMG_EIO, &text, &len, &e);
	CHECK(&c, text != NULL && strncmp((char *)text, "emgap-hashcache 1\n", 18) == 0, "an ignored cache is rewritten");
	free(text);
	emg_sbuf_free(&s);
	return c.failed ? 1 : 0;
}
