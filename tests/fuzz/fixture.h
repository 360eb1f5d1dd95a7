/* fixture.h - the trust directory the verification fuzz targets check
 * against: made once per process in a mkdtemp directory under /tmp from
 * fixture_data.h (the root public key and vendor anchors that signed the
 * gen-* seeds), removed at exit. Header-only, for tests/fuzz targets.
 *
 * libFuzzer calls the target millions of times; making the directory once
 * keeps every run cheap, so the one piece of process state lives here. */
#ifndef EMG_FUZZ_FIXTURE_H
#define EMG_FUZZ_FIXTURE_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fixture_data.h"

#define EMG_FUZZ_PATH_MAX 256

typedef struct emg_fuzz_fixture {
	char dir[EMG_FUZZ_PATH_MAX];     /* the trust directory */
	char anchors[EMG_FUZZ_PATH_MAX]; /* dir/anchors.pem */
	char state[EMG_FUZZ_PATH_MAX];   /* dir/state: empty, never written (accept = 0) */
} emg_fuzz_fixture;

static emg_fuzz_fixture *emg_fuzz_fixture_ptr(void)
{
	static emg_fuzz_fixture fx;
	return &fx;
}

static int emg_fuzz_put(const char *dir, const char *name, const char *text)
{
	char path[EMG_FUZZ_PATH_MAX * 2];
	FILE *f;
	int ok;

	snprintf(path, sizeof path, "%s/%s", dir, name);
	f = fopen(path, "w");
	if (f == NULL)
		return -1;
	ok = fputs(text, f) >= 0;
	return (fclose(f) == 0 && ok) ? 0 : -1;
}

static void emg_fuzz_fixture_remove(void)
{
	const emg_fuzz_fixture *fx = emg_fuzz_fixture_ptr();
	static const char *const names[] = {"roots/root.pub", "roots", "state", "anchors.pem",
					    "trust.conf", NULL};
	char path[EMG_FUZZ_PATH_MAX * 2];
	size_t i;

	if (fx->dir[0] == '\0')
		return;
	for (i = 0; names[i] != NULL; i++) {
		snprintf(path, sizeof path, "%s/%s", fx->dir, names[i]);
		if (unlink(path) != 0)
			(void)rmdir(path);
	}
	(void)rmdir(fx->dir);
}

/* The fixture, made on first use; NULL when /tmp refuses (then the target
 * has nothing to check against and must abort: a fuzz run that silently
 * checks nothing would look like a clean one). */
static const emg_fuzz_fixture *emg_fuzz_fixture_get(void)
{
	emg_fuzz_fixture *fx = emg_fuzz_fixture_ptr();
	char sub[EMG_FUZZ_PATH_MAX * 2];

	if (fx->dir[0] != '\0')
		return fx;
	snprintf(fx->dir, sizeof fx->dir, "/tmp/emgap-fuzz-trust.XXXXXX");
	if (mkdtemp(fx->dir) == NULL)
		abort();
	atexit(emg_fuzz_fixture_remove);
	snprintf(sub, sizeof sub, "%s/roots", fx->dir);
	if (mkdir(sub, 0700) != 0)
		abort();
	snprintf(fx->state, sizeof fx->state, "%s/state", fx->dir);
	if (mkdir(fx->state, 0700) != 0)
		abort();
	snprintf(fx->anchors, sizeof fx->anchors, "%s/anchors.pem", fx->dir);
	if (emg_fuzz_put(fx->dir, "roots/root.pub", emg_fuzz_root_pub) != 0 ||
	    emg_fuzz_put(fx->dir, "anchors.pem", emg_fuzz_anchors_pem) != 0 ||
	    emg_fuzz_put(fx->dir, "trust.conf",
			 "[org]\nthreshold = 1\n[vendor]\nanchors = anchors.pem\n"
			 "eku = 1.3.6.1.5.5.7.3.3\nallow_missing_crl = false\n") != 0)
		abort();
	return fx;
}

#endif
