/* cmds.h - emgap-bundle's subcommands, one function each; main.c dispatches.
 * Each takes the arguments after the subcommand name (argv[0] is the
 * subcommand) and returns an exit code (common/err.h). */
#ifndef EMG_BUNDLE_CMDS_H
#define EMG_BUNDLE_CMDS_H

int emg_cmd_create(int argc, char **argv);
int emg_cmd_sign(int argc, char **argv);
int emg_cmd_verify(int argc, char **argv);
int emg_cmd_inspect(int argc, char **argv);
int emg_cmd_extract(int argc, char **argv);
int emg_cmd_verify_feed(int argc, char **argv);

#endif
