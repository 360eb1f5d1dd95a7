/* cmd_run.c - emgap-apply run and revert. */
#include <stdio.h>
#include <string.h>

#include "apply/cmds.h"
#include "apply/config.h"
#include "apply/engine.h"
#include "apply/run_args.h"
#include "err.h"

static const char run_usage[] =
	"usage: emgap-apply run [--dry-run] [--bundle FILE] [--quiet] [--config FILE]\n";
static const char revert_usage[] =
	"usage: emgap-apply revert [--no-block] [--config FILE] ID...\n";

static int usage_err(const char *usage, const char *what, const char *arg)
{
	fprintf(stderr, "emgap-apply: %s%s%s\n%s", what, arg[0] ? " " : "", arg, usage);
	return EMG_EUSAGE;
}

int emg_apply_cmd_run(int argc, char **argv)
{
	emg_run_args a;
	emg_run_opts opts;
	emg_apply_config cfg;
	emg_err err;
	int rc;

	if (emg_run_args_parse(argc, argv, &a) != 0)
		return usage_err(run_usage, "run: unexpected argument", a.bad);
	if (a.help) {
		fputs(run_usage, stdout);
		return EMG_OK;
	}
	memset(&opts, 0, sizeof opts);
	opts.out = stdout;
	opts.dry_run = a.dry_run;
	opts.quiet = a.quiet;
	opts.bundle = a.bundle;
	emg_err_clear(&err);
	rc = emg_apply_config_load(a.config, &cfg, &err);
	if (rc != EMG_OK) {
		emg_err_print("emgap-apply", &err);
		return rc;
	}
	rc = emg_engine_run(&cfg, &opts, &err);
	emg_apply_config_free(&cfg);
	if (fflush(stdout) != 0 && rc == EMG_OK)
		rc = emg_fail(&err, EMG_EIO, "writing the output failed");
	if (rc != EMG_OK)
		emg_err_print("emgap-apply", &err);
	return rc;
}

int emg_apply_cmd_revert(int argc, char **argv)
{
	const char *config = EMG_APPLY_CONFIG_DEFAULT;
	char *ids[256];
	size_t n = 0;
	emg_apply_config cfg;
	emg_revert_audit audit;
	emg_err err;
	int i, block = 1, rc;

	for (i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--no-block") == 0) {
			block = 0;
		} else if (strcmp(argv[i], "--help") == 0) {
			fputs(revert_usage, stdout);
			return EMG_OK;
		} else if (strcmp(argv[i], "--config") == 0 && i + 1 < argc) {
			config = argv[++i];
		} else if (argv[i][0] == '-') {
			return usage_err(revert_usage, "revert: unknown option", argv[i]);
		} else if (n < sizeof ids / sizeof ids[0]) {
			ids[n++] = argv[i];
		} else {
			return usage_err(revert_usage, "revert: too many ids (at most 256)", "");
		}
	}
	if (n == 0)
		return usage_err(revert_usage, "revert: no id given", "");
	emg_err_clear(&err);
	rc = emg_apply_config_load(config, &cfg, &err);
	if (rc != EMG_OK) {
		emg_err_print("emgap-apply", &err);
		return rc;
	}
	/* Every admin change is audited; a revert changes files and, unless
	 * --no-block, the blocked list. */
	audit.argc = argc;
	audit.argv = argv;
	rc = emg_engine_revert(&cfg, ids, n, block, &audit, stdout, &err);
	emg_apply_config_free(&cfg);
	if (rc != EMG_OK)
		emg_err_print("emgap-apply", &err);
	return rc;
}
