/* run_args.h - the arguments of `emgap-apply run`, read the same way by the
 * engine (cmd_run.c) and the front program (apply/front/main.c). */
#ifndef EMG_APPLY_RUN_ARGS_H
#define EMG_APPLY_RUN_ARGS_H

typedef struct emg_run_args {
	const char *config; /* EMG_APPLY_CONFIG_DEFAULT unless --config */
	const char *bundle; /* --bundle FILE, or NULL */
	int dry_run;
	int quiet;
	int help;
	const char *bad; /* the first argument not understood, or NULL */
} emg_run_args;

/* argv[0] is "run". Returns 0, or -1 with a->bad set. */
int emg_run_args_parse(int argc, char **argv, emg_run_args *a);

#endif
