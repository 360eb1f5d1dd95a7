/* events.h - the applier's events: syslog (the Windows event log in a
 * Windows build) and a plain log file <state>/emgap.log.
 *
 * Event ids as EEMS uses them: 1005 a mitigation action was applied or
 * reverted, 1006 a run finished successfully, 1008 an error. Logging is best
 * effort: a failure to write the log never changes what a run does, but it
 * is reported to the caller so it can warn once. */
#ifndef EMG_APPLY_EVENTS_H
#define EMG_APPLY_EVENTS_H

#include <limits.h>

#include "err.h"

#define EMG_EVENT_CHANGED 1005
#define EMG_EVENT_OK 1006
#define EMG_EVENT_ERROR 1008

typedef struct emg_events {
	char log_path[PATH_MAX];      /* "" = no log file */
	unsigned long long max_bytes; /* rotate when larger (0 = never) */
	unsigned long long keep;      /* rotated files kept */
	int use_syslog;               /* also to the system log (emg_event_system) */
	int failed;                   /* a log write failed (warn once) */
} emg_events;

/* Sets up events for a state dir; nothing is opened until the first event. */
void emg_events_init(emg_events *ev, const char *state_dir, int use_syslog,
		     unsigned long long max_bytes, unsigned long long keep);
/* Emits one event. Returns EMG_OK or EMG_EIO when the log file could not
 * be written (syslog failures cannot be seen). */
int emg_event(emg_events *ev, int id, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* The system half of an event (when use_syslog is set), chosen at compile
 * time: syslog(3) with ident "emgap" in events.c, or, in a Windows build
 * (make windows), the Windows event log with source "emgap" through
 * ReportEventA in win/events_win.c (1008 as an error, the others as
 * information). msg is one line. Failures cannot be seen and are ignored:
 * the log file is the record that always exists. */
void emg_event_system(int id, const char *msg);

#endif
