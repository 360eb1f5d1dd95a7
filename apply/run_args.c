/* run_args.c - the arguments of `emgap-apply run` (run_args.h). */
#include "apply/run_args.h"

#include <string.h>

#include "apply/config.h"

int emg_run_args_parse(int argc, char **argv, emg_run_args *a)
{
	int i;

	memset(a, 0, sizeof *a);
	a->config = EMG_APPLY_CONFIG_DEFAULT;
	for (i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--dry-run") == 0) {
			a->dry_run = 1;
		} else if (strcmp(argv[i], "--quiet") == 0) {
			a->quiet = 1;
		} else if (strcmp(argv[i], "--help") == 0) {
			a->help = 1;
			return 0;
		} else if (strcmp(argv[i], "--bundle") == 0 && i + 1 < argc) {
			a->bundle = argv[++i];
		} else if (strcmp(argv[i], "--config") == 0 && i + 1 < argc) {
			a->config = argv[++i];
		} else {
			a->bad = argv[i];
			return -1;
		}
	}
	return 0;
}
