/* cli.h - the command dispatch shared by the programs with subcommands. */
#ifndef EMG_CLI_H
#define EMG_CLI_H

#include <stddef.h>

typedef struct emg_cli_cmd {
	const char *name;
	int (*fn)(int argc, char **argv); /* argv[0] is the subcommand */
} emg_cli_cmd;

/* Tunes malloc for programs that build and free large XML trees; the
 * first thing main does (emg_cli_dispatch calls it). */
void emg_cli_malloc_setup(void);

/* Answers --help/-h (usage on stdout, 0) and --version, runs the named
 * subcommand, or prints the usage on stderr and returns EMG_EUSAGE. */
int emg_cli_dispatch(const char *prog, const char *usage, const emg_cli_cmd *cmds, size_t n,
		     int argc, char **argv);

#endif
