/* backend.c - backend selection and the sim backend. */
#include "apply/backend.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "apply/report.h"
#include "fileio.h"

#define SIM_MAX_BYTES (1024 * 1024)
#define SIM_MAX_ENTRIES 4096

static const char *const start_types[] = {"Automatic", "Manual", "Disabled", "Boot", "System"};

int emg_start_type_valid(const char *name)
{
	size_t i;

	for (i = 0; i < sizeof start_types / sizeof start_types[0]; i++)
		if (strcmp(name, start_types[i]) == 0)
			return 0;
	return -1;
}

/* ---- sim: the whole file is read, changed in memory, written back ---- */

typedef struct sim_entry {
	int is_pool;
	char name[256];
	char start_type[16];
	int running;
} sim_entry;

typedef struct sim_host {
	sim_entry *v;
	size_t n;
} sim_host;

static void sim_path(const emg_backend *b, char *out, size_t n)
{
	snprintf(out, n, "%s/%s", b->root, EMG_SIM_FILE);
}

static int sim_bad(const char *path, int line, const char *what, emg_err *err)
{
	return emg_fail(err, EMG_ECONFIG, "%s:%d: %s", path, line, what);
}

static int parse_running(const char *s, int *out)
{
	if (strcmp(s, "running") == 0)
		*out = 1;
	else if (strcmp(s, "stopped") == 0)
		*out = 0;
	else
		return -1;
	return 0;
}

static int sim_line(sim_host *h, char *line, const char *path, int lineno, emg_err *err)
{
	char *f[4];
	size_t nf = 0;
	char *p = line, *tab;
	sim_entry *e, *nv;

	while (nf < 4) {
		f[nf++] = p;
		tab = strchr(p, '\t');
		if (tab == NULL)
			break;
		*tab = '\0';
		p = tab + 1;
	}
	if (h->n >= SIM_MAX_ENTRIES)
		return sim_bad(path, lineno, "too many entries", err);
	nv = realloc(h->v, (h->n + 1) * sizeof *nv);
	if (nv == NULL)
		return emg_fail(err, EMG_EIO, "out of memory");
	h->v = nv;
	e = &h->v[h->n];
	memset(e, 0, sizeof *e);
	if (strcmp(f[0], "service") == 0 && nf == 4) {
		if (emg_start_type_valid(f[2]) != 0)
			return sim_bad(path, lineno, "unknown start type", err);
		snprintf(e->start_type, sizeof e->start_type, "%s", f[2]);
		if (parse_running(f[3], &e->running) != 0)
			return sim_bad(path, lineno, "expected running or stopped", err);
	} else if (strcmp(f[0], "apppool") == 0 && nf == 3) {
		e->is_pool = 1;
		if (parse_running(f[2], &e->running) != 0)
			return sim_bad(path, lineno, "expected running or stopped", err);
	} else {
		return sim_bad(path, lineno, "expected 'service NAME START running|stopped' or 'apppool NAME running|stopped' (tab-separated)", err);
	}
	if (f[1][0] == '\0' || strlen(f[1]) >= sizeof e->name)
		return sim_bad(path, lineno, "bad name", err);
	memcpy(e->name, f[1], strlen(f[1]) + 1);
	h->n++;
	return EMG_OK;
}

static int sim_load(const emg_backend *b, sim_host *h, emg_err *err)
{
	char path[4200];
	uint8_t *buf = NULL;
	size_t len = 0;
	char *line, *next;
	int lineno = 0, rc = EMG_OK;

	memset(h, 0, sizeof *h);
	sim_path(b, path, sizeof path);
	if (access(path, F_OK) != 0 && errno == ENOENT)
		return EMG_OK; /* a host with no services known */
	rc = emg_read_file(path, SIM_MAX_BYTES, EMG_ECONFIG, &buf, &len, err);
	if (rc != EMG_OK)
		return rc;
	for (line = (char *)buf; rc == EMG_OK && line != NULL && *line != '\0'; line = next) {
		lineno++;
		next = strchr(line, '\n');
		if (next != NULL)
			*next++ = '\0';
		if (line[0] == '\0' || line[0] == '#')
			continue;
		rc = sim_line(h, line, path, lineno, err);
	}
	free(buf);
	if (rc != EMG_OK) {
		free(h->v);
		h->v = NULL;
	}
	return rc;
}

static int sim_save(const emg_backend *b, const sim_host *h, emg_err *err)
{
	char path[4200];
	emg_sbuf s;
	size_t i;
	int rc;

	emg_sbuf_init(&s);
	for (i = 0; i < h->n; i++) {
		const sim_entry *e = &h->v[i];
		if (e->is_pool)
			emg_sbuf_printf(&s, "apppool\t%s\t%s\n", e->name, e->running ? "running" : "stopped");
		else
			emg_sbuf_printf(&s, "service\t%s\t%s\t%s\n", e->name, e->start_type,
					e->running ? "running" : "stopped");
	}
	rc = emg_sbuf_status(&s, err);
	if (rc == EMG_OK) {
		sim_path(b, path, sizeof path);
		rc = emg_write_file_atomic(path, s.p, s.len, 0644, err);
	}
	emg_sbuf_free(&s);
	return rc;
}

/* Service names compare without regard to case, as the SCM does. */
static sim_entry *sim_find(sim_host *h, int is_pool, const char *name)
{
	size_t i;

	for (i = 0; i < h->n; i++)
		if (h->v[i].is_pool == is_pool && strcasecmp(h->v[i].name, name) == 0)
			return &h->v[i];
	return NULL;
}

static int sim_get(emg_backend *b, int is_pool, const char *name, sim_entry *out, emg_err *err)
{
	sim_host h;
	sim_entry *e;
	int rc = sim_load(b, &h, err);

	if (rc != EMG_OK)
		return rc;
	e = sim_find(&h, is_pool, name);
	if (e == NULL)
		rc = emg_fail(err, EMG_ECONFIG, "%s %s not found on this server", is_pool ? "app pool" : "service", name);
	else
		*out = *e;
	free(h.v);
	return rc;
}

static int sim_set(emg_backend *b, int is_pool, const char *name, const char *start, int running,
		   emg_err *err)
{
	sim_host h;
	sim_entry *e;
	int rc = sim_load(b, &h, err);

	if (rc != EMG_OK)
		return rc;
	e = sim_find(&h, is_pool, name);
	if (e == NULL) {
		rc = emg_fail(err, EMG_ECONFIG, "%s %s not found on this server", is_pool ? "app pool" : "service", name);
	} else {
		if (start != NULL)
			snprintf(e->start_type, sizeof e->start_type, "%s", start);
		e->running = running;
		rc = sim_save(b, &h, err);
	}
	free(h.v);
	return rc;
}

static int sim_service_get(emg_backend *b, const char *svc, emg_svc_state *st, emg_err *err)
{
	sim_entry e;
	int rc = sim_get(b, 0, svc, &e, err);

	if (rc == EMG_OK) {
		snprintf(st->start_type, sizeof st->start_type, "%s", e.start_type);
		st->running = e.running;
	}
	return rc;
}

static int sim_service_set(emg_backend *b, const char *svc, const emg_svc_state *st, emg_err *err)
{
	if (emg_start_type_valid(st->start_type) != 0)
		return emg_fail(err, EMG_ECONFIG, "service %s: unknown start type '%s'", svc, st->start_type);
	/* A Disabled service cannot be started, as on Windows. */
	if (st->running && strcmp(st->start_type, "Disabled") == 0)
		return emg_fail(err, EMG_EAPPLY, "service %s: cannot start a Disabled service", svc);
	return sim_set(b, 0, svc, st->start_type, st->running, err);
}

static int sim_pool_get(emg_backend *b, const char *pool, int *running, emg_err *err)
{
	sim_entry e;
	int rc = sim_get(b, 1, pool, &e, err);

	if (rc == EMG_OK)
		*running = e.running;
	return rc;
}

static int sim_pool_set(emg_backend *b, const char *pool, int running, emg_err *err)
{
	return sim_set(b, 1, pool, NULL, running, err);
}

static void sim_close(emg_backend *b)
{
	(void)b;
}

static const emg_backend_ops sim_ops = {
	"sim", sim_service_get, sim_service_set, sim_pool_get, sim_pool_set, sim_close,
};

int emg_backend_sim_open(const char *root, emg_backend *b, emg_err *err)
{
	memset(b, 0, sizeof *b);
	if (snprintf(b->root, sizeof b->root, "%s", root) >= (int)sizeof b->root)
		return emg_fail(err, EMG_ECONFIG, "%s: path too long", root);
	b->ops = &sim_ops;
	return EMG_OK;
}

int emg_backend_open(const char *name, const char *root, emg_backend *b, emg_err *err)
{
	if (strcmp(name, "sim") == 0)
		return emg_backend_sim_open(root, b, err);
#ifdef _WIN32
	if (strcmp(name, "windows") == 0)
		return emg_backend_windows_open(root, b, err);
#endif
	return emg_fail(err, EMG_ECONFIG,
			"host backend '%s' is not available in this build (it runs on Windows only)", name);
}

void emg_backend_close(emg_backend *b)
{
	if (b->ops != NULL && b->ops->close != NULL)
		b->ops->close(b);
	b->ops = NULL;
}
