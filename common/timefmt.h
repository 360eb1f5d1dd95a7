/* timefmt.h - the one time format emgap reads and writes: UTC RFC 3339. */
#ifndef EMG_TIMEFMT_H
#define EMG_TIMEFMT_H

#include <stddef.h>
#include <time.h>

#define EMG_TIME_LEN 21 /* "2026-11-25T18:00:00Z" and NUL */

/* Accepts "YYYY-MM-DDTHH:MM:SSZ", "YYYY-MM-DD" (midnight UTC) and "@SECONDS".
 * Returns 0, or -1 for anything else (including out-of-range fields). */
int emg_time_parse(const char *s, time_t *out);

/* Writes t as "YYYY-MM-DDTHH:MM:SSZ". */
void emg_time_format(time_t t, char out[EMG_TIME_LEN]);

#endif
