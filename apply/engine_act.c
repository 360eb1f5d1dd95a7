/* engine_act.c - making one action's change, journaled, and undoing it.
 *
 * Every change follows the same three steps so that a crash anywhere
 * leaves something the next run can settle (emg_act_recover):
 *   1. journal_begin: the action is saved with pending = 1, the hashes of
 *      its file before and after, and the undo record it will have ("p.*");
 *   2. the change itself: one atomic file replace and/or one backend call;
 *   3. journal_end: the "p.*" record becomes the action's undo record (or
 *      is dropped when the change did not happen) and pending = 0.
 */
#include "apply/engine_int.h"

#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "apply/state.h"
#include "fileio.h"
#include "sysio.h"

/* ---- run setup ---------------------------------------------------------------- */

int emg_run_open(emg_run *r, const emg_apply_config *cfg, int dry_run, time_t now, FILE *out,
		 emg_err *err)
{
	int rc;

	memset(r, 0, sizeof *r);
	r->cfg = cfg;
	r->dir = cfg->state_dir;
	r->dry_run = dry_run;
	r->now = now;
	r->out = out;
	r->org_enabled = 1;
	r->env.root = cfg->root;
	r->env.exchange_install = NULL;
	emg_events_init(&r->ev, dry_run ? NULL : cfg->state_dir, cfg->log_syslog && !dry_run,
			cfg->log_max_bytes, cfg->log_keep);
	rc = emg_state_load(r->dir, &r->st, err);
	if (rc == EMG_OK)
		rc = emg_server_settings_load(r->dir, &r->ss, err);
	if (rc == EMG_OK)
		rc = emg_org_settings_load(cfg->org_settings, &r->org_enabled, err);
	if (rc == EMG_OK)
		rc = emg_iis_apphost_path(&r->env, r->apphost, sizeof r->apphost, err);
	if (rc == EMG_OK) {
		rc = emg_backend_open(cfg->backend, cfg->root, &r->be, err);
		r->have_be = rc == EMG_OK;
	}
	if (rc != EMG_OK)
		emg_run_close(r);
	return rc;
}

void emg_run_files_free(emg_run *r)
{
	size_t i;

	for (i = 0; i < r->nfiles; i++) {
		if (r->files[i].cur != r->files[i].orig)
			free(r->files[i].cur);
		free(r->files[i].orig);
		free(r->files[i].path);
	}
	free(r->files);
	r->files = NULL;
	r->nfiles = 0;
}

void emg_run_close(emg_run *r)
{
	emg_run_files_free(r);
	if (r->have_be)
		emg_backend_close(&r->be);
	r->have_be = 0;
	emg_state_free(&r->st);
	emg_server_settings_free(&r->ss);
}

int emg_run_save(emg_run *r, emg_err *err)
{
	int rc;

	if (r->dry_run)
		return EMG_OK;
	rc = emg_state_save(r->dir, &r->st, err);
	if (rc != EMG_OK)
		r->fatal = 1;
	return rc;
}

/* ---- the file cache ---------------------------------------------------------- */

static int fc_get(emg_run *r, const char *path, emg_fent **out, emg_err *err)
{
	emg_fent *f, *nf;
	size_t i;
	int rc;

	for (i = 0; i < r->nfiles; i++)
		if (strcmp(r->files[i].path, path) == 0) {
			*out = &r->files[i];
			return EMG_OK;
		}
	nf = realloc(r->files, (r->nfiles + 1) * sizeof *nf);
	if (nf == NULL)
		return emg_fail(err, EMG_EIO, "out of memory");
	r->files = nf;
	f = &r->files[r->nfiles];
	memset(f, 0, sizeof *f);
	f->path = strdup(path);
	if (f->path == NULL)
		return emg_fail(err, EMG_EIO, "out of memory");
	if (access(path, F_OK) != 0 && errno == ENOENT) {
		f->orig_exists = 0;
	} else {
		rc = emg_read_file(path, EMG_IIS_MAX_BYTES, EMG_ECONFIG, &f->orig, &f->orig_len, err);
		if (rc != EMG_OK) {
			free(f->path);
			return rc;
		}
		f->orig_exists = 1;
	}
	f->cur = f->orig;
	f->cur_len = f->orig_len;
	f->cur_exists = f->orig_exists;
	r->nfiles++;
	*out = f;
	return EMG_OK;
}

/* Keeps a copy of a config file as it was before we first changed it:
 * <state>/backup/<sha256>, written once (content-addressed). */
static int backup(emg_run *r, const emg_fent *f, const char *sha, emg_err *err)
{
	char dir[PATH_MAX], path[PATH_MAX + 80];
	int rc;

	if (!f->cur_exists)
		return EMG_OK;
	snprintf(dir, sizeof dir, "%s/backup", r->dir);
	snprintf(path, sizeof path, "%s/%s", dir, sha);
	if (access(path, F_OK) == 0)
		return EMG_OK;
	rc = emg_mkdir_p(dir, 0700, err);
	if (rc == EMG_OK)
		rc = emg_write_file_atomic(path, f->cur, f->cur_len, 0600, err);
	return rc;
}

/* Replaces the file (or deletes it when data is NULL) and the cache entry. */
static int fc_put(emg_run *r, emg_fent *f, const uint8_t *data, size_t len, emg_err *err)
{
	uint8_t *copy = NULL;
	char dir[PATH_MAX];
	int rc;

	if (data != NULL) {
		copy = malloc(len + 1);
		if (copy == NULL)
			return emg_fail(err, EMG_EIO, "out of memory");
		memcpy(copy, data, len);
		copy[len] = '\0';
	}
	if (!r->dry_run) {
		if (data != NULL) {
			rc = emg_write_file_atomic(f->path, data, len, 0644, err);
		} else if (emg_unlink(f->path) != 0 && errno != ENOENT) {
			rc = emg_fail(err, EMG_EIO, "%s: %s", f->path, strerror(errno));
		} else {
			emg_dirname(f->path, dir, sizeof dir);
			rc = emg_fsync_dir(dir, err);
		}
		if (rc != EMG_OK) {
			free(copy);
			return rc;
		}
	}
	if (f->cur != f->orig)
		free(f->cur);
	f->cur = copy;
	f->cur_len = data != NULL ? len : 0;
	f->cur_exists = data != NULL;
	return EMG_OK;
}

static void fc_sha(const emg_fent *f, char out[65])
{
	if (f->cur_exists)
		emg_sha256_hex(f->cur, f->cur_len, out);
	else
		out[0] = '\0';
}

/* ---- journal ---------------------------------------------------------------------- */

static int set_p(emg_state_action *sa, const char *key, const char *val, emg_err *err)
{
	char k[96];

	snprintf(k, sizeof k, "p.%s", key);
	return emg_kv_set(sa, k, val, err);
}

static void drop_p(emg_state_action *sa)
{
	size_t i = 0;

	while (i < sa->undo_count) {
		if (strncmp(sa->undo[i].key, "p.", 2) == 0)
			emg_kv_del(sa, sa->undo[i].key);
		else
			i++;
	}
	sa->pending = 0;
	sa->old_sha[0] = sa->new_sha[0] = '\0';
}

/* Promotes p.KEY to KEY (apply) or drops the whole record (revert). */
static int promote_p(emg_state_action *sa, emg_err *err)
{
	const char *op = emg_kv_get(sa, "p.op");
	int revert = op != NULL && strcmp(op, "revert") == 0;
	size_t i;
	int rc;

	if (revert) {
		emg_kv_clear(sa);
		sa->in_place = 0;
	} else {
		for (i = 0; i < sa->undo_count; i++) {
			const char *k = sa->undo[i].key;
			if (strncmp(k, "p.", 2) != 0 || strcmp(k, "p.op") == 0)
				continue;
			rc = emg_kv_set(sa, k + 2, sa->undo[i].value, err);
			if (rc != EMG_OK)
				return rc;
		}
		sa->in_place = 1;
	}
	drop_p(sa);
	return EMG_OK;
}

static int journal_begin(emg_run *r, emg_state_action *sa, const char *op, const emg_fent *f,
			 const char *new_sha, emg_err *err)
{
	int rc;

	if (r->dry_run)
		return EMG_OK;
	rc = set_p(sa, "op", op, err);
	if (rc == EMG_OK && f != NULL) {
		fc_sha(f, sa->old_sha);
		snprintf(sa->new_sha, sizeof sa->new_sha, "%s", new_sha);
		rc = set_p(sa, "jfile", f->path, err);
		if (rc == EMG_OK)
			rc = backup(r, f, sa->old_sha, err);
	}
	if (rc != EMG_OK) {
		drop_p(sa);
		return rc;
	}
	sa->pending = 1;
	return emg_run_save(r, err);
}

/* done: the change happened. The state is not saved here: until the next
 * save the disk keeps the pending record, and recovery settles it from the
 * files exactly as this would - one fsync'd write fewer per change. */
static int journal_end(emg_run *r, emg_state_action *sa, int done, emg_err *err)
{
	int rc = EMG_OK;

	if (r->dry_run) {
		if (done) {
			const char *op = emg_kv_get(sa, "p.op");
			sa->in_place = !(op != NULL && strcmp(op, "revert") == 0);
		}
		drop_p(sa);
		return EMG_OK;
	}
	if (done)
		rc = promote_p(sa, err);
	else
		drop_p(sa);
	return rc;
}

static void say(emg_run *r, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void say(emg_run *r, const char *fmt, ...)
{
	va_list ap;

	if (r->out == NULL || r->quiet)
		return;
	va_start(ap, fmt);
	vfprintf(r->out, fmt, ap);
	va_end(ap);
	fputc('\n', r->out);
}

/* The order changes were made in: reverting in the opposite order gives
 * back each file's original bytes even when several actions share it. */
static int set_order(emg_run *r, emg_state_action *sa, int pending, emg_err *err)
{
	unsigned long long max = 0, v;
	char num[32];
	size_t i;

	if (sa->in_place && emg_kv_get(sa, "order") != NULL)
		return EMG_OK;
	for (i = 0; i < r->st.count; i++) {
		const char *o = emg_kv_get(&r->st.actions[i], "order");
		if (o != NULL && (v = strtoull(o, NULL, 10)) > max)
			max = v;
	}
	snprintf(num, sizeof num, "%llu", max + 1);
	return pending ? set_p(sa, "order", num, err) : emg_kv_set(sa, "order", num, err);
}

/* ---- IIS URL Rewrite ----------------------------------------------------------- */

static int load_apphost(emg_run *r, emg_fent **ah, emg_err *err)
{
	int rc = fc_get(r, r->apphost, ah, err);

	if (rc == EMG_OK && !(*ah)->cur_exists)
		return emg_fail(err, EMG_ECONFIG, "%s: not found (is [server] root right?)", r->apphost);
	return rc;
}

static int rewrite_target(emg_run *r, const emg_action *a, emg_fent *ah, emg_fent **f,
			  enum emg_iis_file_kind *kind, emg_err *err)
{
	char path[PATH_MAX];
	enum emg_iis_scope scope;
	int exists = 0, rc;

	if (a->scope == EMG_SCOPE_SERVER) {
		*kind = EMG_IIS_APPHOST;
		*f = ah;
		return EMG_OK;
	}
	scope = a->scope == EMG_SCOPE_SITE ? EMG_IIS_SCOPE_SITE : EMG_IIS_SCOPE_VDIR;
	rc = emg_iis_config_path(&r->env, ah->cur, ah->cur_len, ah->path, scope, a->site,
				 a->path, path, sizeof path, &exists, err);
	if (rc != EMG_OK)
		return rc;
	*kind = EMG_IIS_WEBCONFIG;
	return fc_get(r, path, f, err);
}

static int rewrite_apply(emg_run *r, const emg_action *a, emg_state_action *sa, emg_err *err)
{
	emg_fent *ah = NULL, *f = NULL;
	enum emg_iis_file_kind kind;
	const uint8_t *base;
	size_t base_len, fraglen;
	uint8_t *out = NULL;
	size_t outlen = 0;
	char *undo = NULL, *merged = NULL, sha[65];
	int installed = 0, created = 0, rc;

	if (a->value == NULL || a->value[0] == '\0')
		return emg_fail(err, EMG_ECONFIG, "%s: the action has no rules", a->subid);
	fraglen = strlen(a->value);
	if ((rc = load_apphost(r, &ah, err)) != EMG_OK)
		return rc;
	rc = emg_iis_rewrite_module_installed(ah->cur, ah->cur_len, ah->path, &installed, err);
	if (rc != EMG_OK)
		return rc;
	if (!installed)
		return emg_fail(err, EMG_EAPPLY,
				"the IIS URL Rewrite module (RewriteModule) is not in <globalModules> of %s: "
				"a <rewrite> section would make IIS answer HTTP 500.19 for the whole site",
				ah->path);
	if ((rc = rewrite_target(r, a, ah, &f, &kind, err)) != EMG_OK)
		return rc;
	base = f->cur;
	base_len = f->cur_len;
	if (!f->cur_exists) {
		base = emg_iis_webconfig_skeleton(&base_len);
		created = 1;
	}
	/* One call both checks and edits: upsert hands back nothing when the
	 * rules are already there as the feed has them (each call parses the
	 * whole file, and applicationHost.config can be megabytes). */
	rc = emg_iis_rules_upsert(base, base_len, f->path, kind, a->value, fraglen, &out, &outlen, &undo, err);
	if (rc != EMG_OK)
		return rc;
	if (out == NULL) {
		free(undo);
		if (!sa->in_place) {
			/* Already there (put by hand or by an older tool): ours
			 * now, and revert takes the rules out by name. */
			if ((rc = emg_kv_set(sa, "file", f->path, err)) != EMG_OK ||
			    (rc = emg_kv_set(sa, "kind", kind == EMG_IIS_APPHOST ? "apphost" : "webconfig", err)) != EMG_OK ||
			    (rc = emg_kv_set(sa, "frag", a->value, err)) != EMG_OK ||
			    (rc = set_order(r, sa, 0, err)) != EMG_OK)
				return rc;
			sa->in_place = 1;
		}
		return EMG_OK;
	}
	if (sa->in_place) {
		rc = emg_iis_undo_merge(emg_kv_get(sa, "undo"), undo, &merged, err);
		if (rc != EMG_OK)
			goto out;
		say(r, "%s: %s (changed or removed by hand in %s)", sa->subid,
		    r->dry_run ? "would re-apply" : "re-applying", f->path);
		if (emg_kv_get(sa, "created") != NULL && strcmp(emg_kv_get(sa, "created"), "1") == 0)
			created = 1;
	}
	emg_sha256_hex(out, outlen, sha);
	rc = set_p(sa, "file", f->path, err);
	if (rc == EMG_OK)
		rc = set_p(sa, "kind", kind == EMG_IIS_APPHOST ? "apphost" : "webconfig", err);
	if (rc == EMG_OK)
		rc = set_p(sa, "frag", a->value, err);
	if (rc == EMG_OK)
		rc = set_p(sa, "undo", merged != NULL ? merged : (undo != NULL ? undo : ""), err);
	if (rc == EMG_OK)
		rc = set_p(sa, "created", created ? "1" : "0", err);
	if (rc == EMG_OK)
		rc = set_order(r, sa, 1, err);
	if (rc == EMG_OK)
		rc = journal_begin(r, sa, "apply", f, sha, err);
	if (rc == EMG_OK) {
		rc = fc_put(r, f, out, outlen, err);
		if (rc != EMG_OK) {
			emg_err e2;
			journal_end(r, sa, 0, &e2);
		} else {
			rc = journal_end(r, sa, 1, err);
			r->changed++;
			emg_event(&r->ev, EMG_EVENT_CHANGED, "%s applied: URL Rewrite rules in %s", sa->subid, f->path);
		}
	}
out:
	free(out);
	free(undo);
	free(merged);
	return rc;
}

static int rewrite_revert(emg_run *r, emg_state_action *sa, emg_err *err)
{
	const char *file = emg_kv_get(sa, "file"), *kinds = emg_kv_get(sa, "kind");
	const char *undo = emg_kv_get(sa, "undo"), *frag = emg_kv_get(sa, "frag");
	const char *created = emg_kv_get(sa, "created");
	enum emg_iis_file_kind kind;
	const uint8_t *skel;
	size_t skel_len;
	emg_fent *f = NULL;
	uint8_t *out = NULL;
	size_t outlen = 0;
	char sha[65];
	int del = 0, rc;

	if (file == NULL || kinds == NULL || frag == NULL)
		return emg_fail(err, EMG_ECONFIG, "%s: the state has no record of the change", sa->subid);
	kind = strcmp(kinds, "apphost") == 0 ? EMG_IIS_APPHOST : EMG_IIS_WEBCONFIG;
	if ((rc = fc_get(r, file, &f, err)) != EMG_OK)
		return rc;
	if (!f->cur_exists)
		return journal_begin(r, sa, "revert", NULL, "", err) == EMG_OK ? journal_end(r, sa, 1, err) : err->code;
	rc = emg_iis_rules_remove(f->cur, f->cur_len, f->path, kind, undo != NULL && undo[0] ? undo : NULL,
				  frag, strlen(frag), &out, &outlen, err);
	if (rc != EMG_OK)
		return rc;
	skel = emg_iis_webconfig_skeleton(&skel_len);
	/* We created the web.config: when nothing but the empty skeleton is
	 * left, the file goes away again, as it was. */
	if (out != NULL && kind == EMG_IIS_WEBCONFIG && created != NULL && strcmp(created, "1") == 0 &&
	    outlen == skel_len && memcmp(out, skel, skel_len) == 0)
		del = 1;
	if (out == NULL) {
		rc = journal_begin(r, sa, "revert", NULL, "", err);
		return rc == EMG_OK ? journal_end(r, sa, 1, err) : rc;
	}
	if (del)
		sha[0] = '\0';
	else
		emg_sha256_hex(out, outlen, sha);
	rc = journal_begin(r, sa, "revert", f, sha, err);
	if (rc == EMG_OK) {
		rc = fc_put(r, f, del ? NULL : out, outlen, err);
		if (rc != EMG_OK) {
			emg_err e2;
			journal_end(r, sa, 0, &e2);
		} else {
			rc = journal_end(r, sa, 1, err);
		}
	}
	free(out);
	return rc;
}

/* ---- Service ------------------------------------------------------------------ */

static int service_done(const emg_svc_state *cur, const char *start, int running)
{
	return strcmp(cur->start_type, start) == 0 && cur->running == running;
}

static int service_apply(emg_run *r, const emg_action *a, emg_state_action *sa, emg_err *err)
{
	emg_svc_state cur, want;
	const char *svc = a->value;
	char run[2];
	int rc;

	if (svc == NULL || svc[0] == '\0')
		return emg_fail(err, EMG_ECONFIG, "%s: the action names no service", a->subid);
	rc = r->be.ops->service_get(&r->be, svc, &cur, err);
	if (rc != EMG_OK)
		return rc;
	if (service_done(&cur, "Disabled", 0)) {
		if (!sa->in_place) {
			if ((rc = emg_kv_set(sa, "service", svc, err)) != EMG_OK ||
			    (rc = emg_kv_set(sa, "prev.start", cur.start_type, err)) != EMG_OK ||
			    (rc = emg_kv_set(sa, "prev.running", "0", err)) != EMG_OK)
				return rc;
			sa->in_place = 1;
		}
		return EMG_OK;
	}
	if (r->dry_run) {
		say(r, "%s: would stop service %s and set its start type to Disabled", sa->subid, svc);
		sa->in_place = 1;
		r->changed++;
		return EMG_OK;
	}
	rc = set_p(sa, "service", svc, err);
	if (rc == EMG_OK)
		rc = set_order(r, sa, 1, err);
	if (rc == EMG_OK && !sa->in_place) {
		run[0] = cur.running ? '1' : '0';
		run[1] = '\0';
		rc = set_p(sa, "prev.start", cur.start_type, err);
		if (rc == EMG_OK)
			rc = set_p(sa, "prev.running", run, err);
	}
	if (rc == EMG_OK)
		rc = journal_begin(r, sa, "apply", NULL, "", err);
	if (rc != EMG_OK)
		return rc;
	snprintf(want.start_type, sizeof want.start_type, "Disabled");
	want.running = 0;
	rc = r->be.ops->service_set(&r->be, svc, &want, err);
	if (rc != EMG_OK) {
		emg_err e2;
		journal_end(r, sa, 0, &e2);
		return rc;
	}
	r->changed++;
	emg_event(&r->ev, EMG_EVENT_CHANGED, "%s applied: service %s stopped and Disabled (was %s, %s)",
		  sa->subid, svc, cur.start_type, cur.running ? "running" : "stopped");
	return journal_end(r, sa, 1, err);
}

static int service_revert(emg_run *r, emg_state_action *sa, emg_err *err)
{
	const char *svc = emg_kv_get(sa, "service"), *start = emg_kv_get(sa, "prev.start");
	const char *run = emg_kv_get(sa, "prev.running");
	emg_svc_state want;
	int rc;

	if (svc == NULL || start == NULL || run == NULL)
		return emg_fail(err, EMG_ECONFIG, "%s: the state has no record of the service", sa->subid);
	snprintf(want.start_type, sizeof want.start_type, "%s", start);
	want.running = run[0] == '1';
	if (r->dry_run) {
		say(r, "%s: would set service %s back to its recorded state", sa->subid, svc);
		sa->in_place = 0;
		return EMG_OK;
	}
	rc = journal_begin(r, sa, "revert", NULL, "", err);
	if (rc != EMG_OK)
		return rc;
	rc = r->be.ops->service_set(&r->be, svc, &want, err);
	if (rc != EMG_OK) {
		emg_err e2;
		journal_end(r, sa, 0, &e2);
		return rc;
	}
	return journal_end(r, sa, 1, err);
}

/* ---- AppPool ---------------------------------------------------------------------- */

static int pool_apply(emg_run *r, const emg_action *a, emg_state_action *sa, emg_err *err)
{
	const char *pool = a->value;
	emg_iis_pool_cfg cur, prev;
	emg_fent *ah = NULL;
	uint8_t *out = NULL;
	size_t outlen = 0;
	char *undo = NULL, sha[65];
	int running = 0, rc;

	if (pool == NULL || pool[0] == '\0')
		return emg_fail(err, EMG_ECONFIG, "%s: the action names no app pool", a->subid);
	if ((rc = load_apphost(r, &ah, err)) != EMG_OK)
		return rc;
	rc = emg_iis_apppool_get(ah->cur, ah->cur_len, ah->path, pool, &cur, err);
	if (rc == EMG_OK)
		rc = r->be.ops->pool_get(&r->be, pool, &running, err);
	if (rc != EMG_OK)
		return rc;
	if (emg_iis_apppool_is_disabled(&cur) && !running) {
		if (!sa->in_place) {
			if ((rc = emg_kv_set(sa, "pool", pool, err)) != EMG_OK ||
			    (rc = emg_kv_set(sa, "prev.running", "0", err)) != EMG_OK)
				return rc;
			sa->in_place = 1;
		}
		return EMG_OK;
	}
	rc = emg_iis_apppool_disable(ah->cur, ah->cur_len, ah->path, pool, &out, &outlen, &prev, &undo, err);
	if (rc != EMG_OK)
		return rc;
	rc = set_p(sa, "pool", pool, err);
	if (rc == EMG_OK)
		rc = set_order(r, sa, 1, err);
	if (rc == EMG_OK && !sa->in_place) {
		rc = set_p(sa, "prev.running", running ? "1" : "0", err);
		if (rc == EMG_OK && undo != NULL)
			rc = set_p(sa, "undo", undo, err);
		if (rc == EMG_OK)
			rc = set_p(sa, "file", ah->path, err);
	}
	if (out != NULL)
		emg_sha256_hex(out, outlen, sha);
	if (rc == EMG_OK)
		rc = journal_begin(r, sa, "apply", out != NULL ? ah : NULL, out != NULL ? sha : "", err);
	if (rc == EMG_OK && out != NULL)
		rc = fc_put(r, ah, out, outlen, err);
	if (rc == EMG_OK && r->dry_run)
		say(r, "%s: would stop app pool %s", sa->subid, pool);
	else if (rc == EMG_OK)
		rc = r->be.ops->pool_set(&r->be, pool, 0, err);
	if (rc != EMG_OK) {
		emg_err e2;
		/* The file may already be new: journal_end(0) would lie, so the
		 * record stays pending for recovery to settle from the disk. */
		if (!sa->pending)
			journal_end(r, sa, 0, &e2);
		else
			emg_act_recover(r, &e2);
	} else {
		r->changed++;
		emg_event(&r->ev, EMG_EVENT_CHANGED, "%s applied: app pool %s stopped, autoStart=false, startMode=OnDemand",
			  sa->subid, pool);
		rc = journal_end(r, sa, 1, err);
	}
	free(out);
	free(undo);
	return rc;
}

static int pool_revert(emg_run *r, emg_state_action *sa, emg_err *err)
{
	const char *pool = emg_kv_get(sa, "pool"), *undo = emg_kv_get(sa, "undo");
	const char *run = emg_kv_get(sa, "prev.running");
	emg_fent *ah = NULL;
	uint8_t *out = NULL;
	size_t outlen = 0;
	char sha[65];
	int rc;

	if (pool == NULL || run == NULL)
		return emg_fail(err, EMG_ECONFIG, "%s: the state has no record of the app pool", sa->subid);
	if ((rc = load_apphost(r, &ah, err)) != EMG_OK)
		return rc;
	if (undo != NULL && undo[0] != '\0') {
		rc = emg_iis_apppool_restore(ah->cur, ah->cur_len, ah->path, pool, undo, &out, &outlen, err);
		if (rc != EMG_OK)
			return rc;
	}
	if (out != NULL)
		emg_sha256_hex(out, outlen, sha);
	rc = journal_begin(r, sa, "revert", out != NULL ? ah : NULL, out != NULL ? sha : "", err);
	if (rc == EMG_OK && out != NULL)
		rc = fc_put(r, ah, out, outlen, err);
	if (rc == EMG_OK && !r->dry_run)
		rc = r->be.ops->pool_set(&r->be, pool, run[0] == '1', err);
	if (rc != EMG_OK) {
		emg_err e2;
		if (sa->pending)
			emg_act_recover(r, &e2);
	} else {
		rc = journal_end(r, sa, 1, err);
	}
	free(out);
	return rc;
}

/* ---- dispatch ------------------------------------------------------------------ */

int emg_act_apply(emg_run *r, const emg_mitigation *m, const emg_action *a,
		  emg_state_action *sa, emg_err *err)
{
	(void)m;
	switch (a->type) {
	case EMG_ACTION_DO_NOTHING:
		sa->in_place = 1;
		return EMG_OK;
	case EMG_ACTION_URL_REWRITE:
		return rewrite_apply(r, a, sa, err);
	case EMG_ACTION_SERVICE:
		return service_apply(r, a, sa, err);
	case EMG_ACTION_APP_POOL:
		return pool_apply(r, a, sa, err);
	case EMG_ACTION_UNSUPPORTED:
	default:
		return emg_fail(err, EMG_EAPPLY, "%s: unsupported action type", a->subid);
	}
}

int emg_act_revert(emg_run *r, emg_state_action *sa, emg_status final, const char *reason,
		   emg_err *err)
{
	int rc = EMG_OK;

	if (sa->in_place) {
		if (emg_kv_get(sa, "frag") != NULL)
			rc = rewrite_revert(r, sa, err);
		else if (emg_kv_get(sa, "service") != NULL)
			rc = service_revert(r, sa, err);
		else if (emg_kv_get(sa, "pool") != NULL)
			rc = pool_revert(r, sa, err);
		else
			sa->in_place = 0; /* DoNothing, or nothing was ours */
	}
	if (rc != EMG_OK)
		return rc;
	sa->in_place = 0;
	emg_kv_clear(sa);
	rc = emg_state_set_status(sa, final, reason, r->now, err);
	if (rc == EMG_OK) {
		if (!r->dry_run)
			emg_event(&r->ev, EMG_EVENT_CHANGED, "%s reverted", sa->subid);
		rc = emg_run_save(r, err);
	}
	return rc;
}

/* ---- recovery ------------------------------------------------------------------ */

/* 1: the journaled change is on the server, 0: it is not, -1: neither the
 * old nor the new state (changed by someone else since). */
static int settled(emg_run *r, emg_state_action *sa, emg_err *err)
{
	const char *op = emg_kv_get(sa, "p.op"), *file = emg_kv_get(sa, "p.jfile");
	int revert = op != NULL && strcmp(op, "revert") == 0;
	char sha[65];
	int rc;

	if (file != NULL) {
		rc = emg_sha256_file(file, sha, err);
		if (rc != EMG_OK)
			return -2;
		if (strcmp(sha, sa->new_sha) == 0)
			return 1;
		return strcmp(sha, sa->old_sha) == 0 ? 0 : -1;
	}
	if (emg_kv_get(sa, "p.service") != NULL || emg_kv_get(sa, "service") != NULL) {
		const char *svc = emg_kv_get(sa, "p.service") ? emg_kv_get(sa, "p.service") : emg_kv_get(sa, "service");
		const char *ps = emg_kv_get(sa, "prev.start") ? emg_kv_get(sa, "prev.start") : emg_kv_get(sa, "p.prev.start");
		const char *pr = emg_kv_get(sa, "prev.running") ? emg_kv_get(sa, "prev.running") : emg_kv_get(sa, "p.prev.running");
		emg_svc_state cur;
		if (r->be.ops->service_get(&r->be, svc, &cur, err) != EMG_OK)
			return -2;
		if (!revert)
			return service_done(&cur, "Disabled", 0);
		return ps != NULL && pr != NULL && service_done(&cur, ps, pr[0] == '1');
	}
	if (emg_kv_get(sa, "p.pool") != NULL || emg_kv_get(sa, "pool") != NULL) {
		const char *pool = emg_kv_get(sa, "p.pool") ? emg_kv_get(sa, "p.pool") : emg_kv_get(sa, "pool");
		int running = 0;
		const char *pr = emg_kv_get(sa, "prev.running") ? emg_kv_get(sa, "prev.running")
								 : emg_kv_get(sa, "p.prev.running");
		if (r->be.ops->pool_get(&r->be, pool, &running, err) != EMG_OK)
			return -2;
		if (!revert)
			return !running;
		return pr != NULL && running == (pr[0] == '1');
	}
	return 0;
}

/* After a file change, an app pool's runtime half may still be missing. */
static int finish_pool(emg_run *r, emg_state_action *sa, emg_err *err)
{
	const char *op = emg_kv_get(sa, "p.op");
	const char *pool = emg_kv_get(sa, "p.pool") ? emg_kv_get(sa, "p.pool") : emg_kv_get(sa, "pool");
	const char *pr = emg_kv_get(sa, "prev.running");

	if (pool == NULL)
		return EMG_OK;
	if (op != NULL && strcmp(op, "revert") == 0)
		return pr == NULL ? EMG_OK : r->be.ops->pool_set(&r->be, pool, pr[0] == '1', err);
	return r->be.ops->pool_set(&r->be, pool, 0, err);
}

/* A run killed inside an atomic write leaves its temporary file beside
 * the target; only emgap makes such names, and we hold the lock. */
static void clean_tmp(const char *file_or_dir, int is_file)
{
	char dir[PATH_MAX];
	emg_err e;

	if (is_file)
		emg_dirname(file_or_dir, dir, sizeof dir);
	else
		snprintf(dir, sizeof dir, "%s", file_or_dir);
	if (access(dir, F_OK) == 0)
		emg_clean_stale_tmp(dir, &e);
}

int emg_act_recover(emg_run *r, emg_err *err)
{
	char path[PATH_MAX + 16];
	size_t i;
	int rc, any = 0;

	if (r->dry_run)
		return EMG_OK;
	clean_tmp(r->dir, 0);
	snprintf(path, sizeof path, "%s/backup", r->dir);
	clean_tmp(path, 0);
	clean_tmp(r->cfg->root, 0);
	clean_tmp(r->apphost, 1);
	for (i = 0; i < r->st.count; i++) {
		emg_state_action *sa = &r->st.actions[i];
		int s;
		if (!sa->pending)
			continue;
		if (emg_kv_get(sa, "p.jfile") != NULL)
			clean_tmp(emg_kv_get(sa, "p.jfile"), 1);
		any = 1;
		s = settled(r, sa, err);
		if (s == -2)
			return err->code;
		if (s == 1) {
			/* A pool's file half went in: finish its runtime half. */
			if (emg_kv_get(sa, "p.jfile") != NULL && (rc = finish_pool(r, sa, err)) != EMG_OK)
				return rc;
			rc = promote_p(sa, err);
			if (rc != EMG_OK)
				return rc;
			if (sa->in_place)
				emg_state_set_status(sa, EMG_ST_APPLIED, "", r->now, NULL);
			emg_event(&r->ev, EMG_EVENT_CHANGED, "%s: interrupted change completed", sa->subid);
		} else {
			/* Not (or no longer) ours: the plan that follows looks at
			 * the server afresh and re-applies if needed. */
			drop_p(sa);
			emg_event(&r->ev, EMG_EVENT_CHANGED, "%s: interrupted change rolled back", sa->subid);
		}
	}
	return any ? emg_run_save(r, err) : EMG_OK;
}
