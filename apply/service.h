/* service.h - emgap-apply as a daemon: the first check after a delay (10
 * minutes by default, as EEMS after a restart), then one every interval
 * plus a random jitter so a fleet does not hit its share at once.
 *
 * SIGHUP reloads (the config), SIGTERM and SIGINT stop cleanly. Signals are
 * blocked and taken with sigtimedwait(2), so no handler and no global flag
 * is needed, and a signal that arrives during a check is acted on when the
 * check has finished: a check is never cut in half. */
#ifndef EMG_APPLY_SERVICE_H
#define EMG_APPLY_SERVICE_H

#include "err.h"

typedef struct emg_service_schedule {
	unsigned long long first_delay; /* seconds before the first check */
	unsigned long long interval;    /* seconds between checks (>= 1) */
	unsigned long long jitter;      /* up to this many seconds added */
} emg_service_schedule;

typedef struct emg_service_hooks {
	void *ctx;
	/* One check. Its result is the hook's to report; the loop goes on. */
	void (*run)(void *ctx);
	/* SIGHUP. On failure the hook keeps its old configuration. */
	void (*reload)(void *ctx);
	/* The schedule, asked again after each reload. */
	void (*schedule)(void *ctx, emg_service_schedule *s);
	/* Stop after this many checks (0 = never); for tests and rehearsals. */
	unsigned long long max_runs;
} emg_service_hooks;

/* Runs until SIGTERM/SIGINT (EMG_OK) or max_runs checks (EMG_OK). Fails
 * only when the signals cannot be set up (EMG_EIO). */
int emg_service_loop(const emg_service_hooks *h, emg_err *err);

/* The delay before the next check: interval + a uniform random 0..jitter. */
unsigned long long emg_service_next_delay(const emg_service_schedule *s);

#endif
