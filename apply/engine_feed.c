/* engine_feed.c - writing and reading the accepted feed. */
#include "apply/engine_feed.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "apply/report.h"
#include "apply/state.h"
#include "fileio.h"

#define CACHE_MAGIC "emgap-feed 1"
#define CACHE_MAX_BYTES (16u * 1024 * 1024)

static void kv(emg_sbuf *b, const char *key, const char *val)
{
	if (val == NULL)
		return; /* absent and empty differ (site, path, rollback) */
	emg_sbuf_puts(b, key);
	emg_sbuf_putn(b, " ", 1);
	emg_line_escape(b, val);
	emg_sbuf_putn(b, "\n", 1);
}

int emg_feedcache_save(const char *state_dir, const emg_feed *feed, emg_err *err)
{
	emg_sbuf b;
	char path[PATH_MAX];
	size_t i, j;
	int rc;

	emg_sbuf_init(&b);
	emg_sbuf_puts(&b, CACHE_MAGIC "\n");
	kv(&b, "version", feed->version);
	for (i = 0; i < feed->count; i++) {
		const emg_mitigation *m = &feed->items[i];
		kv(&b, "mitigation", m->id);
		kv(&b, "desc", m->desc);
		kv(&b, "rollback", m->rollback);
		for (j = 0; j < m->applies_count; j++) {
			kv(&b, "applies", m->applies[j].product);
			kv(&b, "min", m->applies[j].min);
			kv(&b, "max", m->applies[j].max);
		}
		for (j = 0; j < m->action_count; j++) {
			const emg_action *a = &m->actions[j];
			kv(&b, "action", a->subid);
			emg_sbuf_printf(&b, "kind %d\nscope %d\n", (int)a->type, (int)a->scope);
			kv(&b, "type", a->type_name);
			kv(&b, "adesc", a->desc);
			kv(&b, "site", a->site);
			kv(&b, "path", a->path);
			kv(&b, "value", a->value);
		}
	}
	emg_sbuf_puts(&b, "end\n");
	rc = emg_sbuf_status(&b, err);
	if (rc == EMG_OK) {
		snprintf(path, sizeof path, "%s/feed", state_dir);
		rc = emg_write_file_atomic(path, b.p, b.len, 0600, err);
	}
	emg_sbuf_free(&b);
	return rc;
}

static int grow(void **p, size_t n, size_t size)
{
	void *np = realloc(*p, (n + 1) * size);

	if (np == NULL)
		return -1;
	memset((char *)np + n * size, 0, size);
	*p = np;
	return 0;
}

static int dup_to(char **dst, const char *v)
{
	free(*dst);
	*dst = strdup(v);
	return *dst == NULL ? -1 : 0;
}

static int copy_build(char *dst, size_t n, const char *v)
{
	if (strlen(v) >= n)
		return -1;
	memcpy(dst, v, strlen(v) + 1);
	return 0;
}

static int cache_line(emg_feed *f, const char *key, const char *val)
{
	emg_mitigation *m = f->count ? &f->items[f->count - 1] : NULL;
	emg_action *a = m && m->action_count ? &m->actions[m->action_count - 1] : NULL;
	emg_applies *ap = m && m->applies_count ? &m->applies[m->applies_count - 1] : NULL;

	if (strcmp(key, "version") == 0)
		return dup_to(&f->version, val);
	if (strcmp(key, "mitigation") == 0) {
		if (f->count >= EMG_FEED_MAX_CONFIGS || grow((void **)&f->items, f->count, sizeof *f->items) != 0)
			return -1;
		f->count++;
		return dup_to(&f->items[f->count - 1].id, val);
	}
	if (m == NULL)
		return -1;
	if (strcmp(key, "desc") == 0)
		return dup_to(&m->desc, val);
	if (strcmp(key, "rollback") == 0)
		return dup_to(&m->rollback, val);
	if (strcmp(key, "applies") == 0) {
		if (grow((void **)&m->applies, m->applies_count, sizeof *m->applies) != 0)
			return -1;
		m->applies_count++;
		return copy_build(m->applies[m->applies_count - 1].product, sizeof ap->product, val);
	}
	if (strcmp(key, "min") == 0 || strcmp(key, "max") == 0)
		return ap == NULL ? -1 : copy_build(key[1] == 'i' ? ap->min : ap->max, sizeof ap->min, val);
	if (strcmp(key, "action") == 0) {
		if (m->action_count >= EMG_FEED_MAX_ACTIONS ||
		    grow((void **)&m->actions, m->action_count, sizeof *m->actions) != 0)
			return -1;
		m->action_count++;
		return dup_to(&m->actions[m->action_count - 1].subid, val);
	}
	if (a == NULL)
		return -1;
	if (strcmp(key, "kind") == 0 || strcmp(key, "scope") == 0) {
		char *end;
		long v = strtol(val, &end, 10);
		if (*end != '\0' || v < 0 || v > EMG_ACTION_UNSUPPORTED)
			return -1;
		if (key[0] == 'k')
			a->type = (emg_action_type)v;
		else if (v <= EMG_SCOPE_VDIR)
			a->scope = (emg_scope)v;
		else
			return -1;
		return 0;
	}
	if (strcmp(key, "type") == 0)
		return dup_to(&a->type_name, val);
	if (strcmp(key, "adesc") == 0)
		return dup_to(&a->desc, val);
	if (strcmp(key, "site") == 0)
		return dup_to(&a->site, val);
	if (strcmp(key, "path") == 0)
		return dup_to(&a->path, val);
	if (strcmp(key, "value") == 0)
		return dup_to(&a->value, val);
	return -1;
}

static int parse_cache(emg_feed *f, char *text, const char *path, emg_err *err)
{
	char *line, *next, *sp;
	int lineno = 0, ended = 0;

	for (line = text; *line != '\0'; line = next) {
		lineno++;
		next = strchr(line, '\n');
		if (next == NULL)
			break;
		*next++ = '\0';
		if (lineno == 1) {
			if (strcmp(line, CACHE_MAGIC) != 0)
				break;
			continue;
		}
		if (strcmp(line, "end") == 0) {
			ended = 1;
			break;
		}
		sp = strchr(line, ' ');
		if (sp == NULL)
			break;
		*sp++ = '\0';
		if (emg_line_unescape(sp) != 0 || cache_line(f, line, sp) != 0)
			break;
	}
	if (!ended)
		return emg_fail(err, EMG_ECONFIG, "%s:%d: damaged feed cache (remove it to verify the bundle again)", path, lineno);
	return EMG_OK;
}

int emg_feedcache_load(const char *state_dir, emg_feed **feed, emg_err *err)
{
	char path[PATH_MAX];
	uint8_t *buf = NULL;
	size_t len = 0;
	emg_feed *f;
	int rc;

	*feed = NULL;
	snprintf(path, sizeof path, "%s/feed", state_dir);
	if (access(path, F_OK) != 0 && errno == ENOENT)
		return EMG_OK;
	rc = emg_read_file(path, CACHE_MAX_BYTES, EMG_ECONFIG, &buf, &len, err);
	if (rc != EMG_OK)
		return rc;
	f = calloc(1, sizeof *f);
	if (f == NULL) {
		free(buf);
		return emg_fail(err, EMG_EIO, "out of memory");
	}
	rc = parse_cache(f, (char *)buf, path, err);
	free(buf);
	if (rc != EMG_OK) {
		emg_feed_free(f);
		return rc;
	}
	*feed = f;
	return EMG_OK;
}
