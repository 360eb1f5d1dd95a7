/* log.c - syslog and log-file events. */
#include "mirror/log.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

#include "sysio.h"
#include "timefmt.h"

int emg_mlog_open(emg_mlog *l, const char *path, emg_err *err)
{
	l->fd = -1;
	l->syslog_open = 0;
	if (path != NULL) {
		l->fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0640);
		if (l->fd < 0)
			return emg_fail(err, EMG_EIO, "log file %s: %s", path, strerror(errno));
	}
	openlog("emgap-mirror", LOG_PID, LOG_DAEMON);
	l->syslog_open = 1;
	return EMG_OK;
}

void emg_mlog_event(emg_mlog *l, int event, const char *fmt, ...)
{
	char msg[1536];
	char line[1700];
	char now[EMG_TIME_LEN];
	const char *level = event == EMG_EVENT_ERROR ? "error" : "info";
	va_list ap;
	int n;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	/* One line per event, whatever the message held. */
	for (n = 0; msg[n] != '\0'; n++)
		if (msg[n] == '\n' || msg[n] == '\r')
			msg[n] = ' ';
	if (l->syslog_open)
		syslog(event == EMG_EVENT_ERROR ? LOG_ERR : LOG_INFO, "event %d %s: %s", event, level, msg);
	if (l->fd < 0)
		return;
	emg_time_format(time(NULL), now);
	n = snprintf(line, sizeof line, "%s emgap-mirror[%ld]: event %d %s: %s\n", now,
		     (long)getpid(), event, level, msg);
	if (n > 0 && (size_t)n >= sizeof line) {
		n = (int)sizeof line - 1;
		line[n - 1] = '\n';
	}
	/* O_APPEND and one write per line: concurrent runs never interleave. */
	if (n > 0)
		(void)emg_write_all(l->fd, line, (size_t)n);
}

void emg_mlog_close(emg_mlog *l)
{
	if (l->fd >= 0)
		close(l->fd);
	l->fd = -1;
	if (l->syslog_open)
		closelog();
	l->syslog_open = 0;
}
