/* rotation.c - root sets and their rotation, one version at a time. */
#include "bundle/rotation.h"

#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "fileio.h"

#define ROOT_SET_MAGIC "emgap-root-set 1"

static int parse_number(const char *s, uint64_t *out)
{
	char *end = NULL;

	if (!isdigit((unsigned char)s[0]) || (s[0] == '0' && s[1] != '\0'))
		return -1;
	errno = 0;
	*out = strtoull(s, &end, 10);
	return (errno != 0 || *end != '\0') ? -1 : 0;
}

/* One "key BASE64" line: parsed through the .pub reader of keys/. */
static int parse_key_line(const char *name, int lineno, const char *b64, emg_pubkey *out,
			  emg_err *err)
{
	char pub[256];
	int n = snprintf(pub, sizeof pub, "untrusted comment: root\n%s\n", b64);

	if (n < 0 || (size_t)n >= sizeof pub)
		return emg_fail(err, EMG_ECONFIG, "%s:%d: key line too long", name, lineno);
	if (emg_pubkey_parse(pub, (size_t)n, out, err) != EMG_OK)
		return emg_err_prefix(err, "%s:%d", name, lineno);
	return EMG_OK;
}

static int parse_line(const char *name, int lineno, const char *line, emg_root_set *s,
		      emg_err *err)
{
	uint64_t v;
	size_t i;

	if (lineno == 1)
		return strcmp(line, ROOT_SET_MAGIC) == 0
			       ? EMG_OK
			       : emg_fail(err, EMG_ECONFIG, "%s:1: not an '%s' file", name, ROOT_SET_MAGIC);
	if (lineno == 2) {
		if (strncmp(line, "version ", 8) != 0 || parse_number(line + 8, &s->version) != 0 ||
		    s->version < 2)
			return emg_fail(err, EMG_ECONFIG, "%s:2: expected 'version N' (N >= 2)", name);
		return EMG_OK;
	}
	if (lineno == 3) {
		if (strncmp(line, "threshold ", 10) != 0 || parse_number(line + 10, &v) != 0 || v == 0 ||
		    v > EMG_TRUST_ROOTS_MAX)
			return emg_fail(err, EMG_ECONFIG, "%s:3: expected 'threshold N'", name);
		s->threshold = (unsigned)v;
		return EMG_OK;
	}
	if (strncmp(line, "key ", 4) != 0)
		return emg_fail(err, EMG_ECONFIG, "%s:%d: unknown line", name, lineno);
	if (s->count == EMG_TRUST_ROOTS_MAX)
		return emg_fail(err, EMG_ECONFIG, "%s:%d: more than %d keys", name, lineno,
				EMG_TRUST_ROOTS_MAX);
	if (parse_key_line(name, lineno, line + 4, &s->keys[s->count], err) != EMG_OK)
		return err->code;
	for (i = 0; i < s->count; i++)
		if (memcmp(s->keys[i].keynum, s->keys[s->count].keynum, EMG_KEYNUM_LEN) == 0)
			return emg_fail(err, EMG_ECONFIG, "%s:%d: the same key twice", name, lineno);
	s->count++;
	return EMG_OK;
}

int emg_root_set_parse(const char *name, const char *text, size_t len, emg_root_set *out,
		       emg_err *err)
{
	char line[256];
	size_t pos = 0;
	int lineno = 0;

	memset(out, 0, sizeof *out);
	if (len > EMG_ROOT_SET_MAX || memchr(text, '\0', len) != NULL || memchr(text, '\r', len))
		return emg_fail(err, EMG_ECONFIG, "%s: too large or not LF-only text", name);
	while (pos < len) {
		const char *nl = memchr(text + pos, '\n', len - pos);
		size_t n;
		if (nl == NULL)
			return emg_fail(err, EMG_ECONFIG, "%s: last line has no newline", name);
		n = (size_t)(nl - (text + pos));
		if (n >= sizeof line)
			return emg_fail(err, EMG_ECONFIG, "%s:%d: line too long", name, lineno + 1);
		memcpy(line, text + pos, n);
		line[n] = '\0';
		pos += n + 1;
		if (parse_line(name, ++lineno, line, out, err) != EMG_OK)
			return err->code;
	}
	if (lineno < 4)
		return emg_fail(err, EMG_ECONFIG, "%s: no keys", name);
	if (out->threshold > out->count)
		return emg_fail(err, EMG_ECONFIG, "%s: threshold %u exceeds the %zu keys", name,
				out->threshold, out->count);
	return EMG_OK;
}

void emg_root_set_from_trust(const emg_trust *t, emg_root_set *out)
{
	memset(out, 0, sizeof *out);
	out->version = 1;
	out->threshold = t->root_threshold;
	out->count = t->root_count;
	memcpy(out->keys, t->roots, t->root_count * sizeof t->roots[0]);
}

static long find_key(const emg_root_set *s, const uint8_t keynum[EMG_KEYNUM_LEN])
{
	size_t i;

	for (i = 0; i < s->count; i++)
		if (memcmp(s->keys[i].keynum, keynum, EMG_KEYNUM_LEN) == 0)
			return (long)i;
	return -1;
}

int emg_root_set_next(const emg_root_set *cur, const emg_text *text, const emg_text *sigs,
		      size_t nsigs, emg_root_set *next, emg_err *err)
{
	int counted[EMG_TRUST_ROOTS_MAX] = {0};
	unsigned valid = 0;
	size_t i;

	if (emg_root_set_parse(text->name, text->data, text->len, next, err) != EMG_OK)
		return err->code == EMG_ECONFIG ? emg_fail(err, EMG_EVERIFY, "%s", err->msg) : err->code;
	if (next->version != cur->version + 1)
		return emg_fail(err, EMG_EVERIFY, "%s: root set version %llu does not follow %llu",
				text->name, (unsigned long long)next->version,
				(unsigned long long)cur->version);
	for (i = 0; i < nsigs; i++) {
		emg_signature sig;
		emg_err e;
		long k;

		emg_err_clear(&e);
		if (emg_signature_parse(sigs[i].data, sigs[i].len, &sig, &e) != EMG_OK)
			continue;
		k = find_key(cur, sig.keynum);
		if (k < 0 || counted[k])
			continue;
		if (emg_signature_verify(&cur->keys[k], &sig, (const uint8_t *)text->data, text->len,
					 &e) == EMG_OK) {
			counted[k] = 1;
			valid++;
		}
	}
	if (valid < cur->threshold)
		return emg_fail(err, EMG_EVERIFY,
				"%s: root rotation signed by %u of the %u current roots it needs", text->name,
				valid, cur->threshold);
	return EMG_OK;
}

int emg_root_state_load(const char *state_dir, const emg_trust *t, emg_root_set *out,
			emg_err *err)
{
	char path[PATH_MAX];
	struct stat sb;
	uint8_t *buf;
	size_t len;
	int rc;

	emg_root_set_from_trust(t, out);
	if (state_dir == NULL)
		return EMG_OK;
	snprintf(path, sizeof path, "%s/roots", state_dir);
	if (stat(path, &sb) != 0) {
		if (errno == ENOENT)
			return EMG_OK;
		return emg_fail(err, EMG_EIO, "%s: %s", path, strerror(errno));
	}
	rc = emg_read_file(path, EMG_ROOT_SET_MAX, EMG_ECONFIG, &buf, &len, err);
	if (rc != EMG_OK)
		return rc;
	rc = emg_root_set_parse(path, (const char *)buf, len, out, err);
	free(buf);
	return rc;
}

int emg_root_state_save(const char *state_dir, const char *text, size_t len, emg_err *err)
{
	char path[PATH_MAX];

	if (emg_mkdir_p(state_dir, 0755, err) != EMG_OK)
		return err->code;
	snprintf(path, sizeof path, "%s/roots", state_dir);
	return emg_write_file_atomic(path, text, len, 0644, err);
}
