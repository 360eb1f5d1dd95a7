/* check.h - the unit-test harness: each CHECK prints one PASS or FAIL line,
 * which tests/run.sh counts. Header-only so each test is one file. */
#ifndef EMG_CHECK_H
#define EMG_CHECK_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct check_ctx {
	int failed;
} check_ctx;

#define CHECK(ctx, cond, name)                                                         \
	do {                                                                           \
		if (cond) {                                                            \
			printf("PASS %s\n", (name));                                   \
		} else {                                                               \
			printf("FAIL %s: %s (%s:%d)\n", (name), #cond, __FILE__, __LINE__); \
			(ctx)->failed++;                                               \
		}                                                                      \
		fflush(stdout);                                                        \
	} while (0)

/* Directory for scratch files: the runner's per-test TEST_TMP, which it
 * removes afterwards. Run by hand without one, a test would litter the
 * current directory, so it stops instead. */
static inline const char *check_tmpdir(void)
{
	const char *t = getenv("TEST_TMP");

	if (t == NULL || t[0] == '\0') {
		fprintf(stderr, "TEST_TMP is not set: run this test through tests/run.sh, or set TEST_TMP "
				"to an empty scratch directory\n");
		exit(2);
	}
	return t;
}

#endif
