/* apply_engine.c - the engine's library-free parts: the unified diff
 * (checked against patch(1) applying it) and the accepted-feed cache
 * (round trip of a real sample feed parsed by the feed parser). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "apply/engine_diff.h"
#include "apply/engine_feed.h"
#include "bundle/feed.h"
#include "check.h"
#include "err.h"
#include "fileio.h"

static int write_file(const char *path, const char *text)
{
	emg_err e;

	return emg_write_file_atomic(path, text, strlen(text), 0644, &e);
}

/* The diff of a -> b, applied by patch(1) to a copy of a, must give b. */
static int diff_applies(const char *name, const char *a, const char *b)
{
	char pa[4096], pd[4096], cmd[12288];
	emg_sbuf s;
	uint8_t *got = NULL;
	size_t len = 0;
	emg_err e;
	int ok;

	snprintf(pa, sizeof pa, "%s/%s.txt", check_tmpdir(), name);
	snprintf(pd, sizeof pd, "%s/%s.diff", check_tmpdir(), name);
	emg_sbuf_init(&s);
	if (emg_diff_unified(name, (const uint8_t *)a, strlen(a), (const uint8_t *)b, strlen(b), &s) != 0)
		return 0;
	write_file(pa, a);
	if (emg_write_file_atomic(pd, s.p ? s.p : "", s.len, 0644, &e) != EMG_OK) {
		emg_sbuf_free(&s);
		return 0;
	}
	emg_sbuf_free(&s);
	snprintf(cmd, sizeof cmd, "patch -s --binary '%s' '%s' >/dev/null 2>&1", pa, pd);
	if (system(cmd) != 0)
		return 0;
	if (emg_read_file(pa, 1 << 20, EMG_EIO, &got, &len, &e) != EMG_OK)
		return 0;
	ok = len == strlen(b) && memcmp(got, b, len) == 0;
	free(got);
	return ok;
}

static void diffs(check_ctx *c)
{
	emg_sbuf s;
	char big_a[20000], big_b[20000];
	size_t i, n = 0, m = 0;
	const char *a = "one\r\ntwo\r\nthree\r\nfour\r\nfive\r\nsix\r\nseven\r\neight\r\n";

	emg_sbuf_init(&s);
	CHECK(c, emg_diff_unified("x", (const uint8_t *)a, strlen(a), (const uint8_t *)a, strlen(a), &s) == 0 &&
		      s.len == 0,
	      "equal files: no diff");
	CHECK(c, emg_diff_unified("web.config", (const uint8_t *)"a\nb\nc\n", 6, (const uint8_t *)"a\nX\nc\n", 6, &s) == 0 &&
		      s.p != NULL &&
		      strcmp(s.p, "--- a/web.config\n+++ b/web.config\n@@ -1,3 +1,3 @@\n a\n-b\n+X\n c\n") == 0,
	      "one changed line: exact unified diff");
	emg_sbuf_free(&s);
	CHECK(c, diff_applies("insert", a, "one\r\ntwo\r\nthree\r\nNEW\r\nfour\r\nfive\r\nsix\r\nseven\r\neight\r\n"),
	      "CRLF insert: patch reproduces the new file");
	CHECK(c, diff_applies("delete", a, "one\r\ntwo\r\nfour\r\nfive\r\nsix\r\nseven\r\neight\r\n"),
	      "delete: patch reproduces the new file");
	CHECK(c, diff_applies("twohunks", a, "ONE\r\ntwo\r\nthree\r\nfour\r\nfive\r\nsix\r\nseven\r\nEIGHT\r\n"),
	      "changes far apart: patch reproduces the new file");
	CHECK(c, diff_applies("noeol", "a\nb", "a\nb\nc"), "no newline at end: patch reproduces");
	for (i = 0; i < 1500; i++) {
		n += (size_t)snprintf(big_a + n, sizeof big_a - n, "line %zu\n", i);
		m += (size_t)snprintf(big_b + m, sizeof big_b - m, i % 100 == 7 ? "changed %zu\n" : "line %zu\n", i);
	}
	CHECK(c, diff_applies("many", big_a, big_b), "15 scattered changes in 1500 lines: patch reproduces");
	emg_sbuf_init(&s);
	CHECK(c, emg_diff_unified("new", NULL, 0, (const uint8_t *)"x\n", 2, &s) == 0 && s.p &&
		      strstr(s.p, "--- /dev/null\n+++ b/new\n@@ -0,0 +1,1 @@\n+x\n") != NULL,
	      "created file: diff from /dev/null");
	emg_sbuf_free(&s);
	/* patch(1) reads a name up to the first space unless a tab ends it. */
	emg_sbuf_init(&s);
	CHECK(c, emg_diff_unified("Program Files/x/web.config", (const uint8_t *)"a\n", 2, (const uint8_t *)"b\n", 2, &s) == 0 &&
		      s.p && strncmp(s.p, "--- a/Program Files/x/web.config\t\n+++ b/Program Files/x/web.config\t\n", 68) == 0,
	      "a name with a space ends with a tab");
	emg_sbuf_free(&s);
}

static int same_feed(const emg_feed *a, const emg_feed *b)
{
	size_t i, j;

	if (a->count != b->count)
		return 0;
	for (i = 0; i < a->count; i++) {
		const emg_mitigation *x = &a->items[i], *y = &b->items[i];
		if (strcmp(x->id, y->id) != 0 || x->action_count != y->action_count ||
		    x->applies_count != y->applies_count || (x->rollback == NULL) != (y->rollback == NULL))
			return 0;
		for (j = 0; j < x->applies_count; j++)
			if (strcmp(x->applies[j].max, y->applies[j].max) != 0 ||
			    strcmp(x->applies[j].product, y->applies[j].product) != 0)
				return 0;
		for (j = 0; j < x->action_count; j++) {
			const emg_action *p = &x->actions[j], *q = &y->actions[j];
			if (strcmp(p->subid, q->subid) != 0 || p->type != q->type || p->scope != q->scope ||
			    strcmp(p->value ? p->value : "", q->value ? q->value : "") != 0 ||
			    (p->site == NULL) != (q->site == NULL) || (p->path == NULL) != (q->path == NULL))
				return 0;
		}
	}
	return 1;
}

static void feedcache(check_ctx *c)
{
	char path[4096];
	uint8_t *xml = NULL;
	size_t len = 0;
	emg_feed *feed = NULL, *back = NULL;
	emg_err err;

	snprintf(path, sizeof path, "%s/samples/feeds/mitigations.xml", getenv("EMGAP_SRC") ? getenv("EMGAP_SRC") : ".");
	CHECK(c, emg_read_file(path, 1 << 22, EMG_EIO, &xml, &len, &err) == EMG_OK, "sample feed read");
	CHECK(c, xml != NULL && emg_feed_parse(xml, len, &feed, &err) == EMG_OK && feed->count > 0, "sample feed parsed");
	free(xml);
	if (feed == NULL)
		return;
	CHECK(c, emg_feedcache_load(check_tmpdir(), &back, &err) == EMG_OK && back == NULL, "no cache: NULL");
	CHECK(c, emg_feedcache_save(check_tmpdir(), feed, &err) == EMG_OK, "cache saved");
	CHECK(c, emg_feedcache_load(check_tmpdir(), &back, &err) == EMG_OK && back != NULL, "cache loaded");
	CHECK(c, back != NULL && same_feed(feed, back), "cache round-trips every mitigation and action");
	emg_feed_free(back);
	snprintf(path, sizeof path, "%s/feed", check_tmpdir());
	write_file(path, "emgap-feed 1\nmitigation M1\naction M1.1\nkind 99\nend\n");
	CHECK(c, emg_feedcache_load(check_tmpdir(), &back, &err) == EMG_ECONFIG && back == NULL,
	      "damaged cache refused");
	write_file(path, "emgap-feed 1\nmitigation M1\n");
	CHECK(c, emg_feedcache_load(check_tmpdir(), &back, &err) == EMG_ECONFIG, "truncated cache refused");
	emg_feed_free(feed);
}

int main(void)
{
	check_ctx c = {0};

	diffs(&c);
	feedcache(&c);
	return c.failed ? 1 : 0;
}
