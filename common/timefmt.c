/* timefmt.c - strict UTC timestamps. */
#include "timefmt.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int digits(const char *s, size_t n, int *out)
{
	int v = 0;
	size_t i;

	for (i = 0; i < n; i++) {
		if (!isdigit((unsigned char)s[i]))
			return -1;
		v = v * 10 + (s[i] - '0');
	}
	*out = v;
	return 0;
}

int emg_time_parse(const char *s, time_t *out)
{
	struct tm tm;
	int y, mo, d, h = 0, mi = 0, se = 0;
	size_t n = strlen(s);
	time_t t;

	if (s[0] == '@') {
		char *end = NULL;
		long long v;
		if (!isdigit((unsigned char)s[1]))
			return -1;
		v = strtoll(s + 1, &end, 10);
		if (*end != '\0' || v < 0)
			return -1;
		*out = (time_t)v;
		return 0;
	}
	if (n != 10 && n != 20)
		return -1;
	if (digits(s, 4, &y) || s[4] != '-' || digits(s + 5, 2, &mo) || s[7] != '-' ||
	    digits(s + 8, 2, &d))
		return -1;
	if (n == 20 && (s[10] != 'T' || digits(s + 11, 2, &h) || s[13] != ':' ||
			digits(s + 14, 2, &mi) || s[16] != ':' || digits(s + 17, 2, &se) ||
			s[19] != 'Z'))
		return -1;
	if (y < 1970 || mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 || se > 60)
		return -1;
	memset(&tm, 0, sizeof tm);
	tm.tm_year = y - 1900;
	tm.tm_mon = mo - 1;
	tm.tm_mday = d;
	tm.tm_hour = h;
	tm.tm_min = mi;
	tm.tm_sec = se;
	t = timegm(&tm);
	/* timegm normalises 31 February into March: refuse such dates. */
	if (t == (time_t)-1 || tm.tm_mday != d || tm.tm_mon != mo - 1)
		return -1;
	*out = t;
	return 0;
}

void emg_time_format(time_t t, char out[EMG_TIME_LEN])
{
	struct tm tm;

	if (gmtime_r(&t, &tm) == NULL) {
		snprintf(out, EMG_TIME_LEN, "invalid");
		return;
	}
	strftime(out, EMG_TIME_LEN, "%Y-%m-%dT%H:%M:%SZ", &tm);
}
