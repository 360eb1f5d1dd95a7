/* events.c - events to syslog and <state>/emgap.log. A Windows build
 * takes its system log half from win/events_win.c instead. */
#include "apply/events.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#ifndef _WIN32
#include <syslog.h>
#endif

#include "timefmt.h"

void emg_events_init(emg_events *ev, const char *state_dir, int use_syslog,
		     unsigned long long max_bytes, unsigned long long keep)
{
	memset(ev, 0, sizeof *ev);
	if (state_dir != NULL && state_dir[0] != '\0')
		snprintf(ev->log_path, sizeof ev->log_path, "%s/emgap.log", state_dir);
	ev->use_syslog = use_syslog;
	ev->max_bytes = max_bytes;
	ev->keep = keep;
}

/* Shifts emgap.log -> .1 -> .2 ... keeping ev->keep old files. A failed
 * rename only means the log grows a little more. */
static void rotate(const emg_events *ev)
{
	char from[PATH_MAX + 24], to[PATH_MAX + 24];
	struct stat st;
	unsigned long long i;

	if (ev->max_bytes == 0 || stat(ev->log_path, &st) != 0 ||
	    (unsigned long long)st.st_size < ev->max_bytes)
		return;
	if (ev->keep == 0) {
		(void)remove(ev->log_path);
		return;
	}
	for (i = ev->keep; i > 1; i--) {
		snprintf(from, sizeof from, "%s.%llu", ev->log_path, i - 1);
		snprintf(to, sizeof to, "%s.%llu", ev->log_path, i);
		(void)rename(from, to);
	}
	snprintf(to, sizeof to, "%s.1", ev->log_path);
	(void)rename(ev->log_path, to);
}

#ifndef _WIN32
void emg_event_system(int id, const char *msg)
{
	openlog("emgap", LOG_PID, LOG_DAEMON);
	syslog(id == EMG_EVENT_ERROR ? LOG_ERR : LOG_INFO, "event %d: %s", id, msg);
	closelog();
}
#endif

int emg_event(emg_events *ev, int id, const char *fmt, ...)
{
	char msg[2048];
	char *p;
	char ts[EMG_TIME_LEN];
	va_list ap;
	FILE *f;
	int ok;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	/* One event, one line: names from a feed or a file must not be able
	 * to forge further log lines. */
	for (p = msg; *p; p++)
		if ((unsigned char)*p < 0x20 || *p == 0x7f)
			*p = ' ';
	if (ev->use_syslog)
		emg_event_system(id, msg);
	if (ev->log_path[0] == '\0')
		return EMG_OK;
	rotate(ev);
	emg_time_format(time(NULL), ts);
	f = fopen(ev->log_path, "a");
	if (f == NULL) {
		ev->failed = 1;
		return EMG_EIO;
	}
	fprintf(f, "%s %d %s %s\n", ts, id, id == EMG_EVENT_ERROR ? "error" : "info", msg);
	ok = fclose(f) == 0;
	if (!ok)
		ev->failed = 1;
	return ok ? EMG_OK : EMG_EIO;
}
