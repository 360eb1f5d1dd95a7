/* cmds.h - emgap-apply's subcommands, one function each; main.c dispatches.
 * Each takes the arguments after the subcommand name (argv[0] is the
 * subcommand) and returns an exit code (common/err.h). */
#ifndef EMG_APPLY_CMDS_H
#define EMG_APPLY_CMDS_H

/* cmd_run.c: verify, plan and apply; revert. */
int emg_apply_cmd_run(int argc, char **argv);
int emg_apply_cmd_revert(int argc, char **argv);

/* cmd_admin.c: the EEMS cmdlets' equivalents. */
int emg_apply_cmd_status(int argc, char **argv);
int emg_apply_cmd_get_server(int argc, char **argv);
int emg_apply_cmd_block(int argc, char **argv);
int emg_apply_cmd_unblock(int argc, char **argv);
int emg_apply_cmd_set_server(int argc, char **argv);
int emg_apply_cmd_set_org(int argc, char **argv);
int emg_apply_cmd_check_source(int argc, char **argv);
int emg_apply_cmd_audit(int argc, char **argv);
int emg_apply_cmd_service(int argc, char **argv);

#endif
