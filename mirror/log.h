/* log.h - the mirror's event log: every fetch and failure goes to syslog
 * (ident "emgap-mirror") and, when configured, to a log file, with the
 * event ids EEMS uses (DESIGN.md §6). */
#ifndef EMG_MIRROR_LOG_H
#define EMG_MIRROR_LOG_H

#include "err.h"

enum {
	EMG_EVENT_FETCHED = 1005,   /* a fetch or check succeeded, or nothing changed */
	EMG_EVENT_PUBLISHED = 1006, /* a bundle was published */
	EMG_EVENT_ERROR = 1008      /* anything that failed */
};

typedef struct emg_mlog {
	int fd;          /* log file, -1 when none */
	int syslog_open;
} emg_mlog;

/* Opens the log file (appending, created 0640) when path is not NULL,
 * and syslog. */
int emg_mlog_open(emg_mlog *l, const char *path, emg_err *err);
/* One line: "TIME emgap-mirror[PID]: event ID LEVEL: message". Logging
 * failures are not fatal: the operation's own result matters more. */
void emg_mlog_event(emg_mlog *l, int event, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
void emg_mlog_close(emg_mlog *l);

#endif
