/* idle.h - the hourly run that finds nothing to do.
 *
 * Most runs find the bundle they already took and nothing changed since.
 * emg_idle_holds is the test both the engine (engine.c) and the front
 * program (apply/front/main.c) apply: the last run succeeded, left no
 * action half done (the journal is empty), and every file it depended on
 * (the configs, the settings, the cached feed, the sim host file and each
 * IIS file it manages: the watch list) has the stat signature it had then.
 *
 * emg_idle_run is the front program's whole run when it holds: with only
 * libc and libcrypto loaded, and reading no bundle (only the hash cache
 * and stat), it checks that no source offers a bundle that is neither the
 * accepted one nor one already passed over, that the
 * accepted one has not expired and that nothing changed; then it does what
 * the engine's idle path does (touch last-check, publish the fleet status,
 * say "no change"). Anything else it leaves to the engine. */
#ifndef EMG_APPLY_IDLE_H
#define EMG_APPLY_IDLE_H

#include <stdio.h>
#include <time.h>

#include "apply/config.h"
#include "apply/events.h"
#include "apply/state.h"

/* 1 when the state says the last run's outcome still stands. */
int emg_idle_holds(const emg_state *st);

/* What an idle run does, the engine's and the front's alike: touch
 * last-check, publish the fleet status (a failure is an event on ev, not
 * an error) and, when out is not NULL, say "no change". */
void emg_idle_finish(const emg_apply_config *cfg, const emg_state *st, const emg_server_settings *ss,
		     int org_enabled, time_t now, emg_events *ev, FILE *out);

/* 1: the run was idle and is done; 0: the engine must run (something is
 * new or changed, or something could not be read: the engine reports
 * it). out NULL: quiet. Never fails the run itself. */
int emg_idle_run(const emg_apply_config *cfg, time_t now, FILE *out);

#endif
