/* service.c - the daemon loop (see service.h). */
#include "apply/service.h"

#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <sodium.h>
#include <string.h>
#include <time.h>

unsigned long long emg_service_next_delay(const emg_service_schedule *s)
{
	unsigned long long j = 0;

	if (s->jitter > 0) {
		/* randombytes_uniform draws without modulo bias; the jitter
		 * needs no secrecy, only spread. */
		uint32_t bound = s->jitter >= UINT32_MAX ? UINT32_MAX : (uint32_t)s->jitter + 1;
		j = randombytes_uniform(bound);
	}
	return (s->interval ? s->interval : 1) + j;
}

static double now_mono(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Waits until deadline (monotonic seconds) or a signal. Returns the signal
 * number, or 0 when the deadline passed. */
static int wait_until(const sigset_t *set, double deadline)
{
	for (;;) {
		double left = deadline - now_mono();
		struct timespec ts;
		int sig;

		if (left <= 0)
			return 0;
		/* Sleep in slices of at most a day: far deadlines stay exact
		 * without overflowing timespec on any platform. */
		if (left > 86400)
			left = 86400;
		ts.tv_sec = (time_t)left;
		ts.tv_nsec = (long)((left - (double)ts.tv_sec) * 1e9);
		sig = sigtimedwait(set, NULL, &ts);
		if (sig > 0)
			return sig;
		if (errno != EAGAIN && errno != EINTR)
			return 0;
	}
}

/* Takes any signals still pending so restoring the mask cannot deliver a
 * SIGHUP whose default action would kill the process. */
static void drain(const sigset_t *set)
{
	struct timespec zero = {0, 0};

	while (sigtimedwait(set, NULL, &zero) > 0)
		;
}

int emg_service_loop(const emg_service_hooks *h, emg_err *err)
{
	sigset_t set, old;
	emg_service_schedule s;
	unsigned long long runs = 0;
	double deadline;
	int stop = 0, e;

	if (sodium_init() < 0)
		return emg_fail(err, EMG_EIO, "libsodium could not start");
	sigemptyset(&set);
	sigaddset(&set, SIGHUP);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	/* Threads started later (libcurl's resolver) inherit the mask, so
	 * every one of these signals waits for sigtimedwait below. */
	e = pthread_sigmask(SIG_BLOCK, &set, &old);
	if (e != 0)
		return emg_fail(err, EMG_EIO, "blocking signals: %s", strerror(e));
	h->schedule(h->ctx, &s);
	deadline = now_mono() + (double)s.first_delay;
	while (!stop) {
		int sig = wait_until(&set, deadline);
		if (sig == SIGTERM || sig == SIGINT) {
			stop = 1;
		} else if (sig == SIGHUP) {
			h->reload(h->ctx);
			h->schedule(h->ctx, &s);
		} else {
			h->run(h->ctx);
			runs++;
			if (h->max_runs != 0 && runs >= h->max_runs)
				stop = 1;
			/* The next check counts from the end of this one, so a
			 * slow check never makes two run back to back. */
			deadline = now_mono() + (double)emg_service_next_delay(&s);
		}
	}
	drain(&set);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	return EMG_OK;
}
