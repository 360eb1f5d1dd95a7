/* cli.c - subcommand dispatch. */
#include "cli.h"

#include <stdio.h>
#include <string.h>

#include "err.h"
#include "version.h"

int emg_cli_dispatch(const char *prog, const char *usage, const emg_cli_cmd *cmds, size_t n,
		     int argc, char **argv)
{
	size_t i;

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
