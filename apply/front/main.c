/* emgap-apply - the program operators and schedulers run.
 *
 * It is a small front: an hourly `emgap-apply run` that finds nothing new
 * ends here (apply/idle.h) with only libc and libcrypto loaded, without
 * mapping libxml2, xmlsec, libarchive or anything else that parses
 * untrusted input. Every other command, and every run with something to
 * do, replaces this process with the engine, emgap-apply-engine, found
 * next to this program (in a build tree) or in ../libexec/emgap/ (as
 * installed): the same process, arguments and exit status, as if this
 * program had been the engine all along. */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "apply/config.h"
#include "apply/idle.h"
#include "apply/run_args.h"
#include "err.h"
#include "version.h"

#define ENGINE "emgap-apply-engine"

/* A plain `run` (no --dry-run, --bundle or --help): the only command the
 * front may end itself. */
static int try_idle(int argc, char **argv)
{
	emg_apply_config cfg;
	emg_run_args a;
	emg_err err;
	int idle;

	if (argc < 2 || strcmp(argv[1], "run") != 0 || emg_run_args_parse(argc - 1, argv + 1, &a) != 0 ||
	    a.help || a.dry_run || a.bundle != NULL)
		return 0;
	emg_err_clear(&err);
	if (emg_apply_config_load(a.config, &cfg, &err) != EMG_OK)
		return 0; /* the engine says what is wrong with it */
	idle = emg_idle_run(&cfg, time(NULL), a.quiet ? NULL : stdout);
	emg_apply_config_free(&cfg);
	return idle;
}

/* The engine beside this program (a build tree) or in ../libexec/emgap/
 * (installed), found from this program's own path, never from PATH. */
static int engine_path(char *out, size_t n)
{
	char self[PATH_MAX];
	ssize_t len = readlink("/proc/self/exe", self, sizeof self - 1);
	char *slash;

	if (len <= 0)
		return -1;
	self[len] = '\0';
	slash = strrchr(self, '/');
	if (slash == NULL)
		return -1;
	*slash = '\0';
	if (snprintf(out, n, "%s/../libexec/emgap/%s", self, ENGINE) < (int)n && access(out, X_OK) == 0)
		return 0;
	if (snprintf(out, n, "%s/%s", self, ENGINE) < (int)n && access(out, X_OK) == 0)
		return 0;
	return -1;
}

int main(int argc, char **argv)
{
	char engine[PATH_MAX + 64];

	if (argc == 2 && strcmp(argv[1], "--version") == 0) {
		printf("emgap-apply %s\n", EMG_VERSION);
		return EMG_OK;
	}
	if (try_idle(argc, argv)) {
		if (fflush(stdout) != 0) {
			fprintf(stderr, "emgap-apply: writing the output failed\n");
			return EMG_EIO;
		}
		return EMG_OK;
	}
	if (engine_path(engine, sizeof engine) != 0) {
		fprintf(stderr, "emgap-apply: cannot find %s next to this program or in ../libexec/emgap/\n",
			ENGINE);
		return EMG_EIO;
	}
	fflush(stdout);
	execv(engine, argv);
	fprintf(stderr, "emgap-apply: %s: %s\n", engine, strerror(errno));
	return EMG_EIO;
}
