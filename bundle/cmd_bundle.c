/* cmd_bundle.c - bundle subcommands (placeholder until the bundle work lands). */
#include <stdio.h>

#include "bundle/cmds.h"
#include "err.h"

static int not_yet(const char *name)
{
	fprintf(stderr, "emgap-bundle: %s is not built yet\n", name);
	return EMG_EUSAGE;
}

int emg_cmd_create(int argc, char **argv) { (void)argc; return not_yet(argv[0]); }
int emg_cmd_sign(int argc, char **argv) { (void)argc; return not_yet(argv[0]); }
int emg_cmd_verify(int argc, char **argv) { (void)argc; return not_yet(argv[0]); }
int emg_cmd_inspect(int argc, char **argv) { (void)argc; return not_yet(argv[0]); }
int emg_cmd_extract(int argc, char **argv) { (void)argc; return not_yet(argv[0]); }
