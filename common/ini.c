/* ini.c - strict INI parsing. */
#include "ini.h"
#include "fileio.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

static char *trim(char *s)
{
	char *e;

	while (*s == ' ' || *s == '\t')
		s++;
	e = s + strlen(s);
	while (e > s && (e[-1] == ' ' || e[-1] == '\t' || e[-1] == '\r'))
		*--e = '\0';
	return s;
}

static int add_entry(emg_ini *ini, const char *section, const char *key,
		     const char *value, int line, emg_err *err)
{
	emg_ini_entry *ne;
	emg_ini_entry *e;

	if (ini->count >= EMG_INI_MAX_ENTRIES)
		return emg_fail(err, EMG_ECONFIG, "%s:%d: more than %d entries", ini->path, line,
				EMG_INI_MAX_ENTRIES);
	ne = realloc(ini->entries, (ini->count + 1) * sizeof *ne);
	if (ne == NULL)
		return emg_fail(err, EMG_EIO, "%s: out of memory", ini->path);
	ini->entries = ne;
	e = &ini->entries[ini->count];
	e->section = strdup(section);
	e->key = strdup(key);
	e->value = strdup(value);
	e->line = line;
	if (e->section == NULL || e->key == NULL || e->value == NULL) {
		free(e->section);
		free(e->key);
		free(e->value);
		return emg_fail(err, EMG_EIO, "%s: out of memory", ini->path);
	}
	ini->count++;
	return EMG_OK;
}

static int valid_name(const char *s)
{
	if (*s == '\0')
		return 0;
	for (; *s; s++)
		if (!isalnum((unsigned char)*s) && *s != '_' && *s != '-' && *s != '.')
			return 0;
	return 1;
}

int emg_ini_parse(emg_ini *ini, const char *name, const char *text, size_t len, emg_err *err)
{
	char section[256] = "";
	char line[EMG_INI_MAX_LINE + 2];
	size_t pos = 0;
	int lineno = 0;
	int rc;

	memset(ini, 0, sizeof *ini);
	snprintf(ini->path, sizeof ini->path, "%s", name);
	if (len > EMG_INI_MAX_BYTES)
		return emg_fail(err, EMG_ECONFIG, "%s: larger than %d bytes", name, EMG_INI_MAX_BYTES);
	if (memchr(text, '\0', len) != NULL)
		return emg_fail(err, EMG_ECONFIG, "%s: contains a NUL byte", name);
	/* A UTF-8 byte order mark, as Notepad writes, is allowed. */
	if (len >= 3 && memcmp(text, "\xEF\xBB\xBF", 3) == 0)
		pos = 3;
	while (pos < len) {
		const char *nl = memchr(text + pos, '\n', len - pos);
		size_t n = nl ? (size_t)(nl - (text + pos)) : len - pos;
		char *s, *eq;

		lineno++;
		if (n > EMG_INI_MAX_LINE) {
			rc = emg_fail(err, EMG_ECONFIG, "%s:%d: line longer than %d bytes", name, lineno,
				      EMG_INI_MAX_LINE);
			goto fail;
		}
		memcpy(line, text + pos, n);
		line[n] = '\0';
		pos += n + (nl ? 1 : 0);
		s = trim(line);
		if (*s == '\0' || *s == '#' || *s == ';')
			continue;
		if (*s == '[') {
			char *close = strchr(s, ']');
			if (close == NULL || trim(close + 1)[0] != '\0') {
				rc = emg_fail(err, EMG_ECONFIG, "%s:%d: malformed section header", name, lineno);
				goto fail;
			}
			*close = '\0';
			s = trim(s + 1);
			if (!valid_name(s) || strlen(s) >= sizeof section) {
				rc = emg_fail(err, EMG_ECONFIG, "%s:%d: bad section name '%s'", name, lineno, s);
				goto fail;
			}
			snprintf(section, sizeof section, "%s", s);
			continue;
		}
		eq = strchr(s, '=');
		if (eq == NULL) {
			rc = emg_fail(err, EMG_ECONFIG, "%s:%d: expected 'key = value'", name, lineno);
			goto fail;
		}
		*eq = '\0';
		{
			char *key = trim(s);
			char *value = trim(eq + 1);
			if (!valid_name(key)) {
				rc = emg_fail(err, EMG_ECONFIG, "%s:%d: bad key name '%s'", name, lineno, key);
				goto fail;
			}
			rc = add_entry(ini, section, key, value, lineno, err);
			if (rc != EMG_OK)
				goto fail;
		}
	}
	return EMG_OK;
fail:
	emg_ini_free(ini);
	return rc;
}

int emg_ini_load(emg_ini *ini, const char *path, emg_err *err)
{
	uint8_t *buf;
	size_t len;
	int rc;

	memset(ini, 0, sizeof *ini);
	rc = emg_read_file(path, EMG_INI_MAX_BYTES, EMG_ECONFIG, &buf, &len, err);
	if (rc != EMG_OK) {
		/* A config file that cannot be read is a config problem (3). The
		 * message is already in err: only the code changes (formatting
		 * err->msg into itself would wipe it). */
		if (rc == EMG_EIO && err != NULL)
			err->code = rc = EMG_ECONFIG;
		return rc == EMG_EIO ? EMG_ECONFIG : rc;
	}
	rc = emg_ini_parse(ini, path, (const char *)buf, len, err);
	free(buf);
	return rc;
}

void emg_ini_free(emg_ini *ini)
{
	size_t i;

	for (i = 0; i < ini->count; i++) {
		free(ini->entries[i].section);
		free(ini->entries[i].key);
		free(ini->entries[i].value);
	}
	free(ini->entries);
	ini->entries = NULL;
	ini->count = 0;
}

int emg_ini_check(const emg_ini *ini, const emg_ini_key *allowed, emg_err *err)
{
	size_t i, j;

	for (i = 0; i < ini->count; i++) {
		const emg_ini_entry *e = &ini->entries[i];
		const emg_ini_key *k;
		for (k = allowed; k->key != NULL; k++)
			if (strcmp(k->section, e->section) == 0 && strcmp(k->key, e->key) == 0)
				break;
		if (k->key == NULL) {
			if (e->section[0] == '\0')
				return emg_fail(err, EMG_ECONFIG, "%s:%d: unknown key '%s' outside any section",
						ini->path, e->line, e->key);
			return emg_fail(err, EMG_ECONFIG, "%s:%d: unknown key '%s' in [%s]", ini->path,
					e->line, e->key, e->section);
		}
		if (k->repeatable)
			continue;
		for (j = 0; j < i; j++)
			if (strcmp(ini->entries[j].section, e->section) == 0 &&
			    strcmp(ini->entries[j].key, e->key) == 0)
				return emg_fail(err, EMG_ECONFIG, "%s:%d: '%s' in [%s] given twice (first on line %d)",
						ini->path, e->line, e->key, e->section, ini->entries[j].line);
	}
	return EMG_OK;
}

const emg_ini_entry *emg_ini_find(const emg_ini *ini, const char *section, const char *key)
{
	size_t i = ini->count;

	while (i-- > 0)
		if (strcmp(ini->entries[i].section, section) == 0 && strcmp(ini->entries[i].key, key) == 0)
			return &ini->entries[i];
	return NULL;
}

const char *emg_ini_get(const emg_ini *ini, const char *section, const char *key)
{
	const emg_ini_entry *e = emg_ini_find(ini, section, key);

	return e ? e->value : NULL;
}

const char *emg_ini_next(const emg_ini *ini, const char *section, const char *key, size_t *pos)
{
	while (*pos < ini->count) {
		const emg_ini_entry *e = &ini->entries[(*pos)++];
		if (strcmp(e->section, section) == 0 && strcmp(e->key, key) == 0)
			return e->value;
	}
	return NULL;
}

int emg_parse_bool(const char *s, int *out)
{
	if (strcasecmp(s, "true") == 0 || strcasecmp(s, "yes") == 0 || strcmp(s, "1") == 0) {
		*out = 1;
		return 0;
	}
	if (strcasecmp(s, "false") == 0 || strcasecmp(s, "no") == 0 || strcmp(s, "0") == 0) {
		*out = 0;
		return 0;
	}
	return -1;
}

int emg_ini_get_bool(const emg_ini *ini, const char *section, const char *key,
		     int def, int *out, emg_err *err)
{
	const emg_ini_entry *e = emg_ini_find(ini, section, key);

	*out = def;
	if (e == NULL)
		return EMG_OK;
	if (emg_parse_bool(e->value, out) != 0)
		return emg_fail(err, EMG_ECONFIG, "%s:%d: %s: expected true or false, got '%s'",
				ini->path, e->line, key, e->value);
	return EMG_OK;
}

int emg_ini_get_u64(const emg_ini *ini, const char *section, const char *key,
		    unsigned long long def, unsigned long long *out, emg_err *err)
{
	const emg_ini_entry *e = emg_ini_find(ini, section, key);
	char *end = NULL;

	*out = def;
	if (e == NULL)
		return EMG_OK;
	errno = 0;
	if (e->value[0] < '0' || e->value[0] > '9')
		goto bad;
	*out = strtoull(e->value, &end, 10);
	if (errno != 0 || end == e->value || *end != '\0')
		goto bad;
	return EMG_OK;
bad:
	*out = def;
	return emg_fail(err, EMG_ECONFIG, "%s:%d: %s: expected a non-negative whole number, got '%s'",
			ini->path, e->line, key, e->value);
}
