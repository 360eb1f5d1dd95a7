/* service_cmd.c - "emgap-apply service": the hourly check as a daemon.
 *
 * The schedule comes from [schedule] in apply.conf; --first-delay,
 * --interval and --jitter override it (rehearsals, tests). Each check is
 * one emg_engine_run; its outcome goes to stderr (the journal under
 * systemd) and, through the engine, to the events. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>


#include "apply/cmds.h"
#include "apply/config.h"
#include "apply/engine.h"
#include "apply/events.h"
#include "apply/service.h"
#include "err.h"
#include "timefmt.h"

typedef struct service_ctx {
	const char *config_path;
	emg_apply_config cfg;
	/* Overrides from the command line; NULL keeps the config's value. */
	const char *first_delay;
	const char *interval;
	const char *jitter;
} service_ctx;

static void say(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* One time-stamped line on stderr (the journal under systemd). */
static void say(const char *fmt, ...)
{
	char t[EMG_TIME_LEN];
	va_list ap;

	emg_time_format(time(NULL), t);
	fprintf(stderr, "%s emgap-apply service: ", t);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

static void service_run(void *p)
{
	service_ctx *c = p;
	emg_run_opts o;
	emg_err err;
	int rc;

	memset(&o, 0, sizeof o);
	o.out = stdout;
	o.quiet = 1;
	emg_err_clear(&err);
	rc = emg_engine_run(&c->cfg, &o, &err);
	if (rc == EMG_OK)
		say("check finished: ok");
	else
		say("check failed: %s (%s)", err.msg, emg_code_name(rc));
	fflush(stdout);
}

static void service_reload(void *p)
{
	service_ctx *c = p;
	emg_apply_config fresh;
	emg_events ev;
	emg_err err;

	emg_err_clear(&err);
	if (emg_apply_config_load(c->config_path, &fresh, &err) != EMG_OK) {
		/* A broken edit must not stop the checks: keep what works. */
		say("reload failed, keeping the old config: %s", err.msg);
		emg_events_init(&ev, c->cfg.state_dir, c->cfg.log_syslog, c->cfg.log_max_bytes,
				c->cfg.log_keep);
		(void)emg_event(&ev, EMG_EVENT_ERROR, "config reload failed: %s", err.msg);
		return;
	}
	emg_apply_config_free(&c->cfg);
	c->cfg = fresh;
	say("reloaded %s", c->config_path);
}

static unsigned long long pick(const char *override, unsigned long long v)
{
	return override != NULL ? strtoull(override, NULL, 10) : v;
}

static void service_schedule(void *p, emg_service_schedule *s)
{
	const service_ctx *c = p;

	s->first_delay = pick(c->first_delay, c->cfg.first_delay);
	s->interval = pick(c->interval, c->cfg.interval);
	s->jitter = pick(c->jitter, c->cfg.jitter);
}

static int valid_secs(const char *opt, const char *v, emg_err *err)
{
	const char *p = v;

	if (v == NULL)
		return EMG_OK;
	while (*p >= '0' && *p <= '9')
		p++;
	if (*v == '\0' || *p != '\0' || p - v > 9)
		return emg_fail(err, EMG_EUSAGE, "%s takes a number of seconds, not '%.40s'", opt, v);
	return EMG_OK;
}

/* --first-delay S --interval S --jitter S --max-runs N --config FILE */
static int service_args(int argc, char **argv, service_ctx *c, const char **max_runs, emg_err *err)
{
	int i;

	for (i = 1; i < argc; i++) {
		const char **dst = NULL;
		if (strcmp(argv[i], "--config") == 0)
			dst = &c->config_path;
		else if (strcmp(argv[i], "--first-delay") == 0)
			dst = &c->first_delay;
		else if (strcmp(argv[i], "--interval") == 0)
			dst = &c->interval;
		else if (strcmp(argv[i], "--jitter") == 0)
			dst = &c->jitter;
		else if (strcmp(argv[i], "--max-runs") == 0)
			dst = max_runs;
		else
			return emg_fail(err, EMG_EUSAGE, "unknown argument '%.80s'", argv[i]);
		if (i + 1 >= argc)
			return emg_fail(err, EMG_EUSAGE, "%s needs a value", argv[i]);
		*dst = argv[++i];
	}
	if (valid_secs("--first-delay", c->first_delay, err) != EMG_OK ||
	    valid_secs("--interval", c->interval, err) != EMG_OK ||
	    valid_secs("--jitter", c->jitter, err) != EMG_OK ||
	    valid_secs("--max-runs", *max_runs, err) != EMG_OK)
		return EMG_EUSAGE;
	if (c->interval != NULL && strtoull(c->interval, NULL, 10) == 0)
		return emg_fail(err, EMG_EUSAGE, "--interval must be at least 1 second");
	return EMG_OK;
}

int emg_apply_cmd_service(int argc, char **argv)
{
	service_ctx c;
	emg_service_hooks h;
	emg_service_schedule s;
	const char *max_runs = NULL;
	emg_err err;
	int rc;

	if (argc == 2 && (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0)) {
		printf("usage: emgap-apply service [--config FILE] [--first-delay S] [--interval S]\n"
		       "                           [--jitter S] [--max-runs N]\nSee emgap-apply(1).\n");
		return EMG_OK;
	}
	emg_err_clear(&err);
	memset(&c, 0, sizeof c);
	c.config_path = EMG_APPLY_CONFIG_DEFAULT;
	rc = service_args(argc, argv, &c, &max_runs, &err);
	if (rc == EMG_OK)
		rc = emg_apply_config_load(c.config_path, &c.cfg, &err);
	if (rc != EMG_OK) {
		emg_err_print("emgap-apply service", &err);
		return rc;
	}
	memset(&h, 0, sizeof h);
	h.ctx = &c;
	h.run = service_run;
	h.reload = service_reload;
	h.schedule = service_schedule;
	h.max_runs = max_runs ? strtoull(max_runs, NULL, 10) : 0;
	service_schedule(&c, &s);
	fprintf(stderr, "emgap-apply service: started for %s; first check in %llus, then every %llus + up to %llus\n",
		c.cfg.server_name, s.first_delay, s.interval, s.jitter);
	rc = emg_service_loop(&h, &err);
	if (rc != EMG_OK)
		emg_err_print("emgap-apply service", &err);
	else
		fprintf(stderr, "emgap-apply service: stopped\n");
	emg_apply_config_free(&c.cfg);
	return rc;
}
