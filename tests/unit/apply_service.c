/* apply_service.c - the daemon loop without a daemon: the jittered delay
 * stays in range, the first check runs after first_delay, SIGHUP reloads
 * and SIGTERM stops (signals raised from inside a check, so they arrive
 * while blocked, as they would during a real one), and nothing is left
 * pending to kill the process afterwards. */
#include "check.h"

#include <signal.h>
#include <time.h>

#include "apply/service.h"

typedef struct counts {
	int runs;
	int reloads;
	int schedules;
	int raise_in_run; /* raise SIGHUP then SIGTERM from the first check */
	emg_service_schedule s;
} counts;

static void on_run(void *ctx)
{
	counts *c = ctx;

	c->runs++;
	if (c->raise_in_run && c->runs == 1) {
		raise(SIGHUP);
		raise(SIGTERM);
	}
}

static void on_reload(void *ctx)
{
	((counts *)ctx)->reloads++;
}

static void on_schedule(void *ctx, emg_service_schedule *s)
{
	counts *c = ctx;

	c->schedules++;
	*s = c->s;
}

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void test_delay(check_ctx *c)
{
	emg_service_schedule s = {600, 3600, 300};
	unsigned long long d, lo = ~0ULL, hi = 0;
	int i;

	for (i = 0; i < 2000; i++) {
		d = emg_service_next_delay(&s);
		if (d < lo)
			lo = d;
		if (d > hi)
			hi = d;
	}
	CHECK(c, lo >= 3600 && hi <= 3900, "delay: interval plus at most jitter");
	CHECK(c, hi - lo > 200, "delay: jitter actually spreads");
	s.jitter = 0;
	CHECK(c, emg_service_next_delay(&s) == 3600, "delay: no jitter, exactly the interval");
	s.interval = 0;
	CHECK(c, emg_service_next_delay(&s) == 1, "delay: never zero");
}

static void test_loop(check_ctx *c)
{
	counts k;
	emg_service_hooks h;
	emg_err err;
	sigset_t pending;
	double t0;
	int rc;

	memset(&k, 0, sizeof k);
	k.s.first_delay = 1;
	k.s.interval = 1;
	memset(&h, 0, sizeof h);
	h.ctx = &k;
	h.run = on_run;
	h.reload = on_reload;
	h.schedule = on_schedule;
	h.max_runs = 1;
	emg_err_clear(&err);
	t0 = now_s();
	rc = emg_service_loop(&h, &err);
	CHECK(c, rc == EMG_OK && k.runs == 1, "loop: max_runs stops it");
	CHECK(c, now_s() - t0 >= 0.9, "loop: first check waits for first_delay");

	memset(&k, 0, sizeof k);
	k.s.first_delay = 0;
	k.s.interval = 3600;
	k.raise_in_run = 1;
	h.max_runs = 0;
	t0 = now_s();
	rc = emg_service_loop(&h, &err);
	CHECK(c, rc == EMG_OK && k.runs == 1, "loop: SIGTERM during a check stops after it");
	CHECK(c, k.reloads == 1 && k.schedules == 2, "loop: SIGHUP reloads and re-reads the schedule");
	CHECK(c, now_s() - t0 < 5, "loop: SIGTERM does not wait for the next check");
	/* Had a SIGHUP or SIGTERM been left pending, restoring the mask would
	 * have delivered it and killed the test here. */
	sigemptyset(&pending);
	sigpending(&pending);
	CHECK(c, !sigismember(&pending, SIGHUP) && !sigismember(&pending, SIGTERM),
	      "loop: nothing left pending after return");
}

int main(void)
{
	check_ctx c = {0};

	test_delay(&c);
	test_loop(&c);
	return c.failed ? 1 : 0;
}
