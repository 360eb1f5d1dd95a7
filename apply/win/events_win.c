/* events_win.c - the system half of emgap's events in a Windows build:
 * the Windows event log (Application), source "emgap", through
 * ReportEventA. Ids as EEMS uses them: 1005 and 1006 as information,
 * 1008 as an error.
 *
 * Built only by "make windows" (mingw-w64), next to backend_win.c; the
 * log file half of every event stays in events.c. Until an administrator
 * registers the source (New-EventLog -LogName Application -Source emgap),
 * Event Viewer shows each event with a note that its description is
 * missing, followed by the message itself: nothing is lost. */
#ifndef _WIN32
/* cppcheck-suppress preprocessorErrorDirective */
#error "events_win.c is for Windows builds (make windows)"
#endif

#define WIN32_LEAN_AND_MEAN
#include <windows.h>

#include "apply/events.h"

#define EMG_EVENT_SOURCE "emgap"

void emg_event_system(int id, const char *msg)
{
	const char *strings[1];
	HANDLE h;
	WORD type = id == EMG_EVENT_ERROR ? EVENTLOG_ERROR_TYPE : EVENTLOG_INFORMATION_TYPE;

	/* Opened per event, as events.c opens syslog per event: a run logs a
	 * handful of events, and no handle outlives the call. */
	h = RegisterEventSourceA(NULL, EMG_EVENT_SOURCE);
	if (h == NULL)
		return;
	strings[0] = msg;
	(void)ReportEventA(h, type, 0, (DWORD)id, NULL, 1, 0, strings, NULL);
	DeregisterEventSource(h);
}
