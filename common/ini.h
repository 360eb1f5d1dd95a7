/* ini.h - a strict INI reader for emgap's config files.
 *
 * Format: "[section]" lines, "key = value" lines, comments starting with
 * '#' or ';', blank lines. Keys may repeat (for lists such as sources).
 * Anything else is an error that names the file and line. */
#ifndef EMG_INI_H
#define EMG_INI_H

#include <stddef.h>

#include "err.h"

#define EMG_INI_MAX_BYTES (1024 * 1024)
#define EMG_INI_MAX_LINE 4096
#define EMG_INI_MAX_ENTRIES 4096

typedef struct emg_ini_entry {
	char *section; /* "" before the first [section] */
	char *key;
	char *value;
	int line;
} emg_ini_entry;

typedef struct emg_ini {
	char path[512];
	emg_ini_entry *entries;
	size_t count;
} emg_ini;

/* One allowed key: section and key name. */
typedef struct emg_ini_key {
	const char *section;
	const char *key;
	int repeatable;
} emg_ini_key;

int emg_ini_load(emg_ini *ini, const char *path, emg_err *err);
/* name is used in error messages in place of a path. */
int emg_ini_parse(emg_ini *ini, const char *name, const char *text, size_t len, emg_err *err);
void emg_ini_free(emg_ini *ini);

/* Fails (EMG_ECONFIG, "file:line: ...") on a key not in allowed or a
 * non-repeatable key given twice. allowed ends with a {NULL, NULL, 0}. */
int emg_ini_check(const emg_ini *ini, const emg_ini_key *allowed, emg_err *err);

/* The last value of section/key, or NULL. */
const char *emg_ini_get(const emg_ini *ini, const char *section, const char *key);
/* The entry of section/key, or NULL (for line numbers in messages). */
const emg_ini_entry *emg_ini_find(const emg_ini *ini, const char *section, const char *key);

/* Iterates over every value of a repeatable key: start with *pos = 0. */
const char *emg_ini_next(const emg_ini *ini, const char *section, const char *key, size_t *pos);

/* Typed getters: a missing key gives the default; a malformed value fails
 * with EMG_ECONFIG naming the file, line and key. */
int emg_ini_get_bool(const emg_ini *ini, const char *section, const char *key,
		     int def, int *out, emg_err *err);
int emg_ini_get_u64(const emg_ini *ini, const char *section, const char *key,
		    unsigned long long def, unsigned long long *out, emg_err *err);

/* Parses "true"/"false" (any case, as PowerShell's $true/$false print). */
int emg_parse_bool(const char *s, int *out);

#endif
