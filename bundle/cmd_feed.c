/* cmd_feed.c - emgap-bundle verify-feed (placeholder until the feed work lands). */
#include <stdio.h>

#include "bundle/cmds.h"
#include "err.h"

int emg_cmd_verify_feed(int argc, char **argv)
{
	(void)argc;
	(void)argv;
	fprintf(stderr, "emgap-bundle: verify-feed is not built yet\n");
	return EMG_EUSAGE;
}
