/* cli.c - subcommand dispatch. */
#include "cli.h"

#include <stdio.h>
#include <string.h>
#ifdef __GLIBC__
#include <malloc.h>
#endif

#include "err.h"
#include "version.h"

void emg_cli_malloc_setup(void)
{
#ifdef __GLIBC__
	/* No fastbins: a freed block is merged with its free neighbours at
	 * once, while they are still in cache. With fastbins, freeing a large
	 * XML tree (a feed, an applicationHost.config) leaves some 200,000
	 * blocks unmerged, and the next large malloc or free sweeps them all
	 * with a cache miss each: a fifth of a 4 MiB feed verification. The
	 * per-thread cache still serves the common small sizes. A tuning, not
	 * a requirement: if glibc refuses it, nothing else changes. */
	(void)mallopt(M_MXFAST, 0);
#endif
}

int emg_cli_dispatch(const char *prog, const char *usage, const emg_cli_cmd *cmds, size_t n,
		     int argc, char **argv)
{
	size_t i;

	emg_cli_malloc_setup();
	if (argc < 2) {
		fputs(usage, stderr);
		return EMG_EUSAGE;
	}
	if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0) {
		fputs(usage, stdout);
		return EMG_OK;
	}
	if (strcmp(argv[1], "--version") == 0) {
		printf("%s %s\n", prog, EMG_VERSION);
		return EMG_OK;
	}
	for (i = 0; i < n; i++)
		if (strcmp(argv[1], cmds[i].name) == 0)
			return cmds[i].fn(argc - 1, argv + 1);
	fprintf(stderr, "%s: unknown command '%s'\n%s", prog, argv[1], usage);
	return EMG_EUSAGE;
}
