/* cmd_admin.c - admin subcommands (placeholder until that work lands). */
#include <stdio.h>

#include "apply/cmds.h"
#include "err.h"

static int not_yet(const char *name)
{
	fprintf(stderr, "emgap-apply: %s is not built yet\n", name);
	return EMG_EUSAGE;
}

int emg_apply_cmd_status(int argc, char **argv)
{
	(void)argc;
	return not_yet(argv[0]);
}

int emg_apply_cmd_get_server(int argc, char **argv)
{
	(void)argc;
	return not_yet(argv[0]);
}

int emg_apply_cmd_block(int argc, char **argv)
{
	(void)argc;
	return not_yet(argv[0]);
}

int emg_apply_cmd_unblock(int argc, char **argv)
{
	(void)argc;
	return not_yet(argv[0]);
}

int emg_apply_cmd_set_server(int argc, char **argv)
{
	(void)argc;
	return not_yet(argv[0]);
}

int emg_apply_cmd_set_org(int argc, char **argv)
{
	(void)argc;
	return not_yet(argv[0]);
}

int emg_apply_cmd_check_source(int argc, char **argv)
{
	(void)argc;
	return not_yet(argv[0]);
}

int emg_apply_cmd_audit(int argc, char **argv)
{
	(void)argc;
	return not_yet(argv[0]);
}

int emg_apply_cmd_service(int argc, char **argv)
{
	(void)argc;
	return not_yet(argv[0]);
}
