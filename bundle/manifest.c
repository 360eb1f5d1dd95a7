/* manifest.c - strict parsing and writing of the bundle manifest. */
#include "bundle/manifest.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bundle/bundle.h"
#include "sysio.h"
#include "timefmt.h"

void emg_hex(const uint8_t *in, size_t n, char *out)
{
	static const char digits[] = "0123456789abcdef";
	size_t i;

	for (i = 0; i < n; i++) {
		out[2 * i] = digits[in[i] >> 4];
		out[2 * i + 1] = digits[in[i] & 15];
	}
	out[2 * n] = '\0';
}

static int unhex_digit(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	return -1; /* upper case is refused: one spelling only */
}

int emg_member_name_safe(const char *name)
{
	size_t len = strlen(name), i;
	int at_start = 1;

	if (len == 0 || len > EMG_MEMBER_PATH_MAX)
		return 0;
	for (i = 0; i < len; i++) {
		char c = name[i];
		if (c == '/') {
			/* Empty components ("a//b", leading or trailing '/'). */
			if (at_start)
				return 0;
			at_start = 1;
			continue;
		}
		/* A component may not start with '.': rules out ".", ".." and
		 * hidden files in one test. */
		if (at_start && c == '.')
			return 0;
		if (!(isalnum((unsigned char)c) || c == '.' || c == '_' || c == '-'))
			return 0;
		at_start = 0;
	}
	return !at_start;
}

static int has_suffix(const char *s, const char *suffix)
{
	size_t a = strlen(s), b = strlen(suffix);
	return a > b && strcmp(s + a - b, suffix) == 0;
}

int emg_payload_path_allowed(const char *name)
{
	if (!emg_member_name_safe(name))
		return 0;
	if (strcmp(name, EMG_BUNDLE_FEED_MEMBER) == 0)
		return 1;
	if (strncmp(name, "pki/crl/", 8) == 0)
		return strchr(name + 8, '/') == NULL && has_suffix(name + 8, ".crl");
	if (strncmp(name, "pki/ctl/", 8) == 0)
		return strchr(name + 8, '/') == NULL &&
		       (has_suffix(name + 8, ".stl") || has_suffix(name + 8, ".cab"));
	if (strncmp(name, "extra/", 6) == 0)
		return name[6] != '\0';
	return 0;
}

void emg_manifest_free(emg_manifest *m)
{
	size_t i;

	if (m == NULL)
		return;
	for (i = 0; i < m->count; i++)
		free(m->files[i].path);
	free(m->files);
	free(m->source);
	memset(m, 0, sizeof *m);
}

long emg_manifest_find(const emg_manifest *m, const char *path)
{
	size_t lo = 0, hi = m->count;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		int c = strcmp(path, m->files[mid].path);
		if (c == 0)
			return (long)mid;
		if (c < 0)
			hi = mid;
		else
			lo = mid + 1;
	}
	return -1;
}

static int parse_u64(const char *s, uint64_t *out)
{
	char *end = NULL;
	unsigned long long v;

	/* Digits only, no sign, no leading zeros (one spelling per number). */
	if (!isdigit((unsigned char)s[0]) || (s[0] == '0' && s[1] != '\0'))
		return -1;
	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno != 0 || *end != '\0')
		return -1;
	*out = v;
	return 0;
}

/* Cursor over the manifest text: hands out one line at a time. */
typedef struct cursor {
	const char *text;
	size_t len;
	size_t pos;
	int lineno;
	char line[EMG_MEMBER_PATH_MAX + EMG_SOURCE_MAX + 128];
} cursor;

/* 1 with the next line in c->line, 0 at the end, -1 on a bad line. */
static int next_line(cursor *c, emg_err *err)
{
	const char *nl;
	size_t n;

	if (c->pos >= c->len)
		return 0;
	c->lineno++;
	nl = memchr(c->text + c->pos, '\n', c->len - c->pos);
	if (nl == NULL)
		return emg_fail(err, EMG_ECONFIG, "manifest:%d: last line has no newline", c->lineno),
		       -1;
	n = (size_t)(nl - (c->text + c->pos));
	if (n >= sizeof c->line)
		return emg_fail(err, EMG_ECONFIG, "manifest:%d: line too long", c->lineno), -1;
	memcpy(c->line, c->text + c->pos, n);
	c->line[n] = '\0';
	c->pos += n + 1;
	return 1;
}

/* Reads the line "KEY VALUE" and returns VALUE (inside c->line). */
static const char *expect_field(cursor *c, const char *key, emg_err *err)
{
	size_t kl = strlen(key);
	int r = next_line(c, err);

	if (r < 0)
		return NULL;
	if (r == 0) {
		emg_fail(err, EMG_ECONFIG, "manifest: ends before the '%s' line", key);
		return NULL;
	}
	if (strncmp(c->line, key, kl) != 0 || c->line[kl] != ' ' || c->line[kl + 1] == '\0') {
		emg_fail(err, EMG_ECONFIG, "manifest:%d: expected '%s VALUE'", c->lineno, key);
		return NULL;
	}
	return c->line + kl + 1;
}

static int expect_time(cursor *c, const char *key, time_t *out, emg_err *err)
{
	const char *v = expect_field(c, key, err);
	char canon[EMG_TIME_LEN];

	if (v == NULL)
		return err->code;
	/* Only the full form: the signed text has one spelling per time. */
	if (strlen(v) != EMG_TIME_LEN - 1 || emg_time_parse(v, out) != 0)
		return emg_fail(err, EMG_ECONFIG, "manifest:%d: %s: bad time '%s'", c->lineno, key, v);
	emg_time_format(*out, canon);
	if (strcmp(canon, v) != 0)
		return emg_fail(err, EMG_ECONFIG, "manifest:%d: %s: bad time '%s'", c->lineno, key, v);
	return EMG_OK;
}

static int parse_header(cursor *c, emg_manifest *m, emg_err *err)
{
	const char *v;
	size_t i;
	int r = next_line(c, err);

	if (r < 0)
		return err->code;
	if (r == 0 || strcmp(c->line, EMG_MANIFEST_MAGIC) != 0)
		return emg_fail(err, EMG_ECONFIG, "manifest:1: not an '%s' manifest", EMG_MANIFEST_MAGIC);
	v = expect_field(c, "sequence", err);
	if (v == NULL)
		return err->code;
	if (parse_u64(v, &m->sequence) != 0)
		return emg_fail(err, EMG_ECONFIG, "manifest:%d: bad sequence '%s'", c->lineno, v);
	if (expect_time(c, "created", &m->created, err) != EMG_OK ||
	    expect_time(c, "expires", &m->expires, err) != EMG_OK)
		return err->code;
	if (m->expires <= m->created)
		return emg_fail(err, EMG_ECONFIG, "manifest: expires is not after created");
	v = expect_field(c, "source", err);
	if (v == NULL)
		return err->code;
	for (i = 0; v[i] != '\0'; i++)
		if ((unsigned char)v[i] <= 0x20 || (unsigned char)v[i] >= 0x7f)
			return emg_fail(err, EMG_ECONFIG, "manifest:%d: source has a space or control character",
					c->lineno);
	if (i > EMG_SOURCE_MAX)
		return emg_fail(err, EMG_ECONFIG, "manifest:%d: source too long", c->lineno);
	m->source = strdup(v);
	if (m->source == NULL)
		return emg_fail(err, EMG_EIO, "out of memory");
	return expect_time(c, "fetched", &m->fetched, err);
}

/* "file SIZE SHA256 PATH" */
static int parse_file_line(cursor *c, emg_manifest_file *f, emg_err *err)
{
	char *s = c->line, *size_s, *hash_s, *path;
	size_t i;

	if (strncmp(s, "file ", 5) != 0)
		return emg_fail(err, EMG_ECONFIG, "manifest:%d: unknown line (expected 'file ...')",
				c->lineno);
	size_s = s + 5;
	hash_s = strchr(size_s, ' ');
	if (hash_s == NULL)
		return emg_fail(err, EMG_ECONFIG, "manifest:%d: expected 'file SIZE SHA256 PATH'", c->lineno);
	*hash_s++ = '\0';
	path = strchr(hash_s, ' ');
	if (path == NULL)
		return emg_fail(err, EMG_ECONFIG, "manifest:%d: expected 'file SIZE SHA256 PATH'", c->lineno);
	*path++ = '\0';
	if (parse_u64(size_s, &f->size) != 0)
		return emg_fail(err, EMG_ECONFIG, "manifest:%d: bad size '%s'", c->lineno, size_s);
	if (strlen(hash_s) != 64)
		return emg_fail(err, EMG_ECONFIG, "manifest:%d: bad SHA-256 '%s'", c->lineno, hash_s);
	for (i = 0; i < 32; i++) {
		int hi = unhex_digit(hash_s[2 * i]), lo = unhex_digit(hash_s[2 * i + 1]);
		if (hi < 0 || lo < 0)
			return emg_fail(err, EMG_ECONFIG, "manifest:%d: bad SHA-256 '%s'", c->lineno, hash_s);
		f->sha256[i] = (uint8_t)(hi << 4 | lo);
	}
	if (!emg_payload_path_allowed(path))
		return emg_fail(err, EMG_ECONFIG, "manifest:%d: path '%s' is unsafe or not allowed here",
				c->lineno, path);
	f->path = strdup(path);
	if (f->path == NULL)
		return emg_fail(err, EMG_EIO, "out of memory");
	return EMG_OK;
}

static int parse_files(cursor *c, size_t max_files, emg_manifest *m, emg_err *err)
{
	size_t cap = 0;
	int r;

	while ((r = next_line(c, err)) > 0) {
		emg_manifest_file *f;

		if (m->count >= max_files)
			return emg_fail(err, EMG_ECONFIG, "manifest: more than %zu files", max_files);
		if (m->count == cap) {
			size_t ncap = cap ? cap * 2 : 16;
			emg_manifest_file *nf = emg_realloc(m->files, ncap * sizeof *nf);
			if (nf == NULL)
				return emg_fail(err, EMG_EIO, "out of memory");
			m->files = nf;
			cap = ncap;
		}
		f = &m->files[m->count];
		memset(f, 0, sizeof *f);
		if (parse_file_line(c, f, err) != EMG_OK)
			return err->code;
		m->count++;
		if (m->count > 1 && strcmp(m->files[m->count - 2].path, f->path) >= 0)
			return emg_fail(err, EMG_ECONFIG, "manifest:%d: '%s' is a duplicate or out of order",
					c->lineno, f->path);
	}
	return r < 0 ? err->code : EMG_OK;
}

int emg_manifest_parse(const char *text, size_t len, size_t max_files, emg_manifest *out,
		       emg_err *err)
{
	cursor *c;
	int rc;

	memset(out, 0, sizeof *out);
	if (memchr(text, '\0', len) != NULL)
		return emg_fail(err, EMG_ECONFIG, "manifest: contains a NUL byte");
	if (memchr(text, '\r', len) != NULL)
		return emg_fail(err, EMG_ECONFIG, "manifest: contains a carriage return (LF only)");
	c = calloc(1, sizeof *c);
	if (c == NULL)
		return emg_fail(err, EMG_EIO, "out of memory");
	c->text = text;
	c->len = len;
	rc = parse_header(c, out, err);
	if (rc == EMG_OK)
		rc = parse_files(c, max_files, out, err);
	if (rc == EMG_OK && out->count == 0)
		rc = emg_fail(err, EMG_ECONFIG, "manifest: lists no files");
	if (rc == EMG_OK && emg_manifest_find(out, EMG_BUNDLE_FEED_MEMBER) < 0)
		rc = emg_fail(err, EMG_ECONFIG, "manifest: does not list %s", EMG_BUNDLE_FEED_MEMBER);
	free(c);
	if (rc != EMG_OK)
		emg_manifest_free(out);
	return rc;
}

int emg_manifest_format(const emg_manifest *m, char **out, size_t *len, emg_err *err)
{
	char created[EMG_TIME_LEN], expires[EMG_TIME_LEN], fetched[EMG_TIME_LEN], hex[65];
	size_t cap, i;
	char *buf;
	int n;

	*out = NULL;
	*len = 0;
	cap = 256 + strlen(m->source) + m->count * (EMG_MEMBER_PATH_MAX + 100);
	buf = malloc(cap);
	if (buf == NULL)
		return emg_fail(err, EMG_EIO, "out of memory");
	emg_time_format(m->created, created);
	emg_time_format(m->expires, expires);
	emg_time_format(m->fetched, fetched);
	n = snprintf(buf, cap, "%s\nsequence %llu\ncreated %s\nexpires %s\nsource %s\nfetched %s\n",
		     EMG_MANIFEST_MAGIC, (unsigned long long)m->sequence, created, expires, m->source,
		     fetched);
	for (i = 0; i < m->count && n > 0 && (size_t)n < cap; i++) {
		if (!emg_payload_path_allowed(m->files[i].path) ||
		    (i > 0 && strcmp(m->files[i - 1].path, m->files[i].path) >= 0)) {
			free(buf);
			return emg_fail(err, EMG_ECONFIG, "manifest: path '%s' unsafe, duplicate or unsorted",
					m->files[i].path);
		}
		emg_hex(m->files[i].sha256, 32, hex);
		n += snprintf(buf + n, cap - (size_t)n, "file %llu %s %s\n",
			      (unsigned long long)m->files[i].size, hex, m->files[i].path);
	}
	if (n < 0 || (size_t)n >= cap) {
		free(buf);
		return emg_fail(err, EMG_EIO, "manifest: formatting failed");
	}
	*out = buf;
	*len = (size_t)n;
	return EMG_OK;
}
