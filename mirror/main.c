/* emgap-mirror - fetch, verify, snapshot and publish from the DMZ. */
#include <curl/curl.h>
#include <libxml/parser.h>
#include <signal.h>
#include <sodium.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"
#include "err.h"
#include "mirror/config.h"
#include "mirror/fetch.h"
#include "mirror/log.h"
#include "version.h"

static const char usage[] =
	"usage: emgap-mirror check|fetch|run --config FILE [--watch] [--json] [--quiet]\n"
	"\n"
	"  check  test that the feed, CRL and CTL endpoints are reachable\n"
	"         (--json: one JSON document)\n"
	"  fetch  download and verify the feed, CRLs and CTLs; stage a snapshot\n"
	"  run    fetch, then create, sign and publish a bundle into the drop\n"
	"         directory; --watch repeats hourly until SIGTERM or SIGINT\n"
	"\n"
	"Exit codes: 0 ok or nothing new, 2 usage, 3 config, 4 verification,\n"
	"5 expired/revoked, 7 I/O or network, 8 busy. See emgap-mirror(1).\n";

/* The one static the program has: set by the signal handler only. */
static volatile sig_atomic_t stop_requested;

static void on_signal(int sig)
{
	(void)sig;
	stop_requested = 1;
}

static int install_signals(void)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof sa);
	sa.sa_handler = on_signal;
	sigemptyset(&sa.sa_mask);
	if (sigaction(SIGTERM, &sa, NULL) != 0 || sigaction(SIGINT, &sa, NULL) != 0)
		return -1;
	return 0;
}

typedef struct args {
	const char *cmd;
	const char *config;
	int watch;
	int quiet;
	int json;
} args;

static int parse_args(int argc, char **argv, args *a)
{
	int i;

	memset(a, 0, sizeof *a);
	if (argc < 2)
		return -1;
	a->cmd = argv[1];
	if (strcmp(a->cmd, "check") != 0 && strcmp(a->cmd, "fetch") != 0 && strcmp(a->cmd, "run") != 0) {
		fprintf(stderr, "emgap-mirror: unknown command '%s'\n", a->cmd);
		return -1;
	}
	for (i = 2; i < argc; i++) {
		if (strcmp(argv[i], "--config") == 0 && i + 1 < argc)
			a->config = argv[++i];
		else if (strcmp(argv[i], "--watch") == 0 && strcmp(a->cmd, "run") == 0)
			a->watch = 1;
		else if (strcmp(argv[i], "--json") == 0 && strcmp(a->cmd, "check") == 0)
			a->json = 1;
		else if (strcmp(argv[i], "--quiet") == 0 || strcmp(argv[i], "-q") == 0)
			a->quiet = 1;
		else {
			fprintf(stderr, "emgap-mirror: unexpected argument '%s'\n", argv[i]);
			return -1;
		}
	}
	if (a->config == NULL) {
		fprintf(stderr, "emgap-mirror: --config FILE is required\n");
		return -1;
	}
	return 0;
}

/* One fetch or run pass under the staging lock, with its outcome logged. */
static int one_pass(emg_mirror_ctx *ctx, const char *cmd, emg_err *err)
{
	emg_snapshot snap;
	int lock, rc;

	ctx->now = time(NULL);
	rc = emg_mirror_lock(ctx->conf->staging, &lock, err);
	if (rc == EMG_OK) {
		if (strcmp(cmd, "fetch") == 0) {
			rc = emg_mirror_fetch(ctx, &snap, err);
			if (rc == EMG_OK && ctx->out != NULL)
				fprintf(ctx->out, "%s snapshot %s\n", snap.reused ? "unchanged" : "staged", snap.dir);
		} else {
			rc = emg_mirror_run(ctx, err);
		}
		emg_mirror_unlock(lock);
	}
	if (rc != EMG_OK)
		emg_mlog_event(ctx->log, EMG_EVENT_ERROR, "%s failed: %s", cmd, err->msg);
	return rc;
}

/* Sleeps about one interval (plus up to `jitter` at random, so many
 * mirrors do not poll in step), waking early for a stop request. */
static void nap(const emg_mirror_conf *c, const volatile sig_atomic_t *stop)
{
	unsigned long left = c->interval;

	if (c->jitter > 0)
		left += randombytes_uniform((uint32_t)(c->jitter > 86400 ? 86400 : c->jitter) + 1);
	while (left > 0 && !*stop) {
		sleep(1);
		left--;
	}
}

static int run_watch(emg_mirror_ctx *ctx, emg_err *err)
{
	while (!stop_requested) {
		int rc = one_pass(ctx, "run", err);

		/* A failed pass is logged and the next one tried: a bad download
		 * or an unreachable server may well be gone in an hour. */
		if (rc != EMG_OK)
			emg_err_print("emgap-mirror", err);
		nap(ctx->conf, &stop_requested);
	}
	emg_mlog_event(ctx->log, EMG_EVENT_FETCHED, "stopping on request");
	return EMG_OK;
}

static int dispatch(const args *a, emg_mirror_conf *conf, emg_err *err)
{
	emg_mirror_ctx ctx;
	emg_mlog log;
	int rc;

	if (strcmp(a->cmd, "check") != 0 &&
	    (rc = emg_mirror_conf_require(conf, strcmp(a->cmd, "run") == 0, err)) != EMG_OK)
		return rc;
	if ((rc = emg_mlog_open(&log, conf->log_file, err)) != EMG_OK)
		return rc;
	emg_mirror_ctx_init(&ctx, conf, &log, &stop_requested,
			    !a->quiet && !a->json && isatty(STDERR_FILENO),
			    a->quiet ? NULL : stdout);
	if (strcmp(a->cmd, "check") == 0)
		rc = emg_mirror_check(&ctx, stdout, a->json);
	else if (a->watch)
		rc = run_watch(&ctx, err);
	else
		rc = one_pass(&ctx, a->cmd, err);
	if (rc != EMG_OK && strcmp(a->cmd, "check") == 0)
		emg_fail(err, rc, "one or more endpoints are not accessible");
	emg_mlog_close(&log);
	return rc;
}

int main(int argc, char **argv)
{
	emg_mirror_conf conf;
	emg_err err;
	args a;
	int rc;

	emg_cli_malloc_setup();
	if (argc >= 2 && (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0)) {
		fputs(usage, stdout);
		return EMG_OK;
	}
	if (argc >= 2 && strcmp(argv[1], "--version") == 0) {
		printf("emgap-mirror %s\n", EMG_VERSION);
		return EMG_OK;
	}
	if (parse_args(argc, argv, &a) != 0) {
		fputs(usage, stderr);
		return EMG_EUSAGE;
	}
	emg_err_clear(&err);
	if (sodium_init() < 0 || install_signals() != 0 || curl_global_init(CURL_GLOBAL_DEFAULT) != 0) {
		fprintf(stderr, "emgap-mirror: cannot initialise libsodium, signals or libcurl\n");
		return EMG_EIO;
	}
	rc = emg_mirror_conf_load(&conf, a.config, &err);
	if (rc == EMG_OK)
		rc = dispatch(&a, &conf, &err);
	if (rc != EMG_OK)
		emg_err_print("emgap-mirror", &err);
	emg_mirror_conf_free(&conf);
	curl_global_cleanup();
	xmlCleanupParser();
	return rc;
}
