/* state.c - the last accepted sequence, read strictly, written atomically. */
#include "bundle/state.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "fileio.h"
#include "timefmt.h"

#define STATE_MAGIC "emgap-bundle-state 1"
#define STATE_MAX 4096

static int format_state(const emg_seq_state *st, char *text, size_t cap)
{
	char when[EMG_TIME_LEN];

	emg_time_format(st->accepted, when);
	return snprintf(text, cap, STATE_MAGIC "\nsequence %llu\naccepted %s\nbundle-sha256 %s\n",
			(unsigned long long)st->sequence, when, st->sha256);
}

static int parse_state(const char *path, const char *text, emg_seq_state *st, emg_err *err)
{
	char again[256];
	char seq[32], when[32], hex[80];
	char canon[EMG_TIME_LEN];
	char *end = NULL;
	int consumed = 0;

	/* sscanf is lax about spaces; the exact spelling is checked below by
	 * writing the state again and comparing. */
	if (sscanf(text, STATE_MAGIC "\nsequence %31[0-9]\naccepted %31[0-9TZ:-]\nbundle-sha256 %79[0-9a-f]\n%n",
		   seq, when, hex, &consumed) != 3 ||
	    text[consumed] != '\0')
		return emg_fail(err, EMG_ECONFIG, "%s: malformed state file", path);
	errno = 0;
	st->sequence = strtoull(seq, &end, 10);
	if (errno != 0 || *end != '\0')
		return emg_fail(err, EMG_ECONFIG, "%s: bad sequence", path);
	if (emg_time_parse(when, &st->accepted) != 0)
		return emg_fail(err, EMG_ECONFIG, "%s: bad accepted time", path);
	emg_time_format(st->accepted, canon);
	if (strlen(hex) != 64 || strcmp(canon, when) != 0)
		return emg_fail(err, EMG_ECONFIG, "%s: malformed state file", path);
	memcpy(st->sha256, hex, 65);
	format_state(st, again, sizeof again);
	if (strcmp(again, text) != 0)
		return emg_fail(err, EMG_ECONFIG, "%s: malformed state file", path);
	st->present = 1;
	return EMG_OK;
}

int emg_seq_state_load(const char *dir, emg_seq_state *st, emg_err *err)
{
	char path[PATH_MAX];
	struct stat sb;
	uint8_t *buf;
	size_t len;
	int rc;

	memset(st, 0, sizeof *st);
	snprintf(path, sizeof path, "%s/sequence", dir);
	if (stat(path, &sb) != 0) {
		if (errno == ENOENT)
			return EMG_OK;
		return emg_fail(err, EMG_EIO, "%s: %s", path, strerror(errno));
	}
	rc = emg_read_file(path, STATE_MAX, EMG_ECONFIG, &buf, &len, err);
	if (rc != EMG_OK)
		return rc;
	if (strlen((char *)buf) != len)
		rc = emg_fail(err, EMG_ECONFIG, "%s: contains a NUL byte", path);
	else
		rc = parse_state(path, (char *)buf, st, err);
	free(buf);
	return rc;
}

int emg_seq_state_save(const char *dir, const emg_seq_state *st, emg_err *err)
{
	char path[PATH_MAX], text[256];
	int n;

	if (emg_mkdir_p(dir, 0755, err) != EMG_OK)
		return err->code;
	snprintf(path, sizeof path, "%s/sequence", dir);
	n = format_state(st, text, sizeof text);
	if (n < 0 || (size_t)n >= sizeof text)
		return emg_fail(err, EMG_EIO, "%s: state too long", path);
	return emg_write_file_atomic(path, text, (size_t)n, 0644, err);
}
