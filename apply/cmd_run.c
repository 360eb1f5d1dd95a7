/* cmd_run.c - emgap-apply run / revert (placeholder until the engine lands). */
#include <stdio.h>

#include "apply/cmds.h"
#include "err.h"

int emg_apply_cmd_run(int argc, char **argv)
{
	(void)argc;
	fprintf(stderr, "emgap-apply: %s is not built yet\n", argv[0]);
	return EMG_EUSAGE;
}

int emg_apply_cmd_revert(int argc, char **argv)
{
	(void)argc;
	fprintf(stderr, "emgap-apply: %s is not built yet\n", argv[0]);
	return EMG_EUSAGE;
}
