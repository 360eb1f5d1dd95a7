/* engine.c - a run: choose the bundle, decide per action, apply, record;
 * and revert by id. The per-action changes are in engine_act.c. */
#include "apply/engine.h"

#include <stdlib.h>
#include <string.h>

#include "apply/audit.h"
#include "apply/engine_diff.h"
#include "apply/engine_feed.h"
#include "apply/engine_int.h"
#include "apply/fleet.h"
#include "apply/idle.h"
#include "apply/policy.h"
#include "apply/report.h"
#include "apply/source.h"
#include "bundle/bundle.h"
#include "timefmt.h"

/* The feed a run works from: verified now, or the cached accepted one. */
typedef struct run_feed {
	emg_feed *feed;
	int new_bundle;  /* a newer bundle was accepted in this run */
	int skip_errors; /* candidates that did not verify */
	int last_code;   /* and the last one's code */
	int skips_added; /* hashes newly remembered as rejected or older */
	char last_msg[EMG_ERR_MSG_MAX];
} run_feed;

static void feed_free(run_feed *rf)
{
	if (rf->feed == NULL)
		return;
	emg_feed_free(rf->feed);
	rf->feed = NULL;
}

static void warn_source(void *ctx, const char *msg)
{
	emg_run *r = ctx;

	emg_event(&r->ev, EMG_EVENT_ERROR, "%s", msg);
	if (r->out != NULL)
		fprintf(stderr, "emgap-apply: warning: %s\n", msg);
}

/* Verifies candidate c without accepting it; 1 when it is newer than the
 * accepted bundle: *info and *feed (the caller frees it) are then what this
 * one pass verified. Failures are events, not errors. */
static int probe(emg_run *r, const emg_trust *trust, const emg_candidate *c, emg_bundle_info *info,
		 emg_feed **feed, run_feed *rf)
{
	emg_err e;

	emg_err_clear(&e);
	memset(info, 0, sizeof *info);
	if (emg_bundle_verify(c->path, trust, r->dir, 0, r->now, info, feed, &e) != EMG_OK) {
		emg_event(&r->ev, EMG_EVENT_ERROR, "bundle %s skipped: %s", c->origin, e.msg);
		fprintf(stderr, "emgap-apply: bundle %s skipped: %s\n", c->origin, e.msg);
		rf->skip_errors++;
		rf->last_code = e.code;
		snprintf(rf->last_msg, sizeof rf->last_msg, "%s: %s", c->origin, e.msg);
		/* A file still being copied will hash differently once
		 * complete, so remembering this hash never hides a good bundle. */
		if (!r->dry_run && e.code != EMG_EIO) {
			emg_state_skip_add(&r->st, c->sha256);
			rf->skips_added++;
		}
		return 0;
	}
	/* Our state, not the bundle layer's, says what was applied: a crash
	 * after the bundle layer recorded the sequence and before we did
	 * leaves it "nothing new" there, yet still to be taken here. */
	if (r->st.have_sequence && info->sequence <= r->st.sequence) {
		emg_feed_free(*feed);
		*feed = NULL;
		if (!r->dry_run) {
			emg_state_skip_add(&r->st, c->sha256);
			rf->skips_added++;
		}
		return 0;
	}
	return 1;
}

/* Records in the bundle layer's state that the bundle verified in the pass
 * that gave info is accepted; nothing is read again. A bundle that moved
 * the root set forward is the exception: the bundle layer keeps a new root
 * set only from a pass with accept set, so that one is verified once more
 * (rare: a root rotation), and that pass's feed and info replace the
 * first's. */
static int record_accept(emg_run *r, const emg_trust *trust, const emg_candidate *c,
			 emg_bundle_info *info, emg_feed **feed, emg_err *err)
{
	if (!info->rotated)
		return emg_bundle_accept(r->dir, info, r->now, err);
	emg_feed_free(*feed);
	*feed = NULL;
	return emg_bundle_verify(c->path, trust, r->dir, 1, r->now, info, feed, err);
}

/* Takes the verified candidate c: *feed becomes the run's feed. */
static int accept_bundle(emg_run *r, const emg_trust *trust, const emg_candidate *c,
			 emg_bundle_info *info, emg_feed **feed, run_feed *rf, emg_err *err)
{
	int rc;

	if (!r->dry_run) {
		rc = record_accept(r, trust, c, info, feed, err);
		if (rc == EMG_OK)
			rc = emg_feedcache_save(r->dir, *feed, err);
		if (rc != EMG_OK)
			return rc;
		r->st.have_sequence = 1;
		r->st.sequence = info->sequence;
		snprintf(r->st.bundle_sha256, sizeof r->st.bundle_sha256, "%s", c->sha256);
		snprintf(r->st.bundle_path, sizeof r->st.bundle_path, "%s", c->origin);
		r->st.bundle_expires = info->expires;
		emg_event(&r->ev, EMG_EVENT_OK, "accepted bundle %s (sequence %llu)", c->origin,
			  (unsigned long long)info->sequence);
	}
	if (r->out != NULL && !r->quiet)
		fprintf(r->out, "bundle: %s (sequence %llu)%s\n", c->origin, (unsigned long long)info->sequence,
			r->dry_run ? " [dry run: not accepted]" : "");
	rf->feed = *feed;
	*feed = NULL;
	rf->new_bundle = 1;
	return EMG_OK;
}

/* The candidates of the sources, hashed through the cache in the state
 * dir. A dry run reads the cache but writes nothing. */
static int collect(emg_run *r, emg_candidates *cands, emg_err *err)
{
	emg_hash_cache hc;
	int rc;

	emg_hash_cache_load(&hc, r->dir);
	rc = emg_sources_collect(r->cfg, &hc, cands, warn_source, r, err);
	/* A cache that cannot be written costs the next run some reading,
	 * nothing more: no error. */
	if (rc == EMG_OK && !r->dry_run)
		emg_hash_cache_save(&hc, NULL);
	emg_hash_cache_free(&hc);
	return rc;
}

/* Picks the feed: the newest candidate that verifies if it is newer than
 * the accepted one, else the accepted (cached) feed. Each candidate is
 * verified once: the newest keeps its feed from that pass. */
static int choose_feed(emg_run *r, const char *only, run_feed *rf, emg_err *err)
{
	emg_candidates cands = {NULL, 0};
	emg_trust *trust = NULL;
	emg_bundle_info info, best_info;
	emg_feed *feed, *best_feed = NULL;
	size_t i, best = 0;
	int have_best = 0, rc;

	memset(&best_info, 0, sizeof best_info);
	if (only != NULL)
		rc = emg_candidates_add(&cands, only, only, err);
	else
		rc = collect(r, &cands, err);
	for (i = 0; rc == EMG_OK && i < cands.n; i++) {
		const emg_candidate *c = &cands.v[i];
		/* A bundle named with --bundle is checked again even if an
		 * earlier run skipped it: the operator asked about this one. */
		if (strcmp(c->sha256, r->st.bundle_sha256) == 0 ||
		    (only == NULL && emg_state_skipped(&r->st, c->sha256)))
			continue;
		if (trust == NULL && (rc = emg_trust_load(r->cfg->trust_dir, &trust, err)) != EMG_OK)
			break;
		feed = NULL;
		if (probe(r, trust, c, &info, &feed, rf) && (!have_best || info.sequence > best_info.sequence)) {
			emg_feed_free(best_feed);
			best_feed = feed;
			best_info = info;
			best = i;
			have_best = 1;
		} else {
			emg_feed_free(feed);
		}
	}
	if (rc == EMG_OK && only != NULL && !have_best && rf->skip_errors > 0) {
		/* The one bundle the operator named does not verify: that is
		 * the answer (exit 4 or 5), not "nothing to do". Nothing was
		 * changed. */
		rc = emg_fail(err, rf->last_code ? rf->last_code : EMG_EVERIFY,
			      "%s; nothing was changed", rf->last_msg);
	}
	if (rc == EMG_OK && have_best) {
		rc = accept_bundle(r, trust, &cands.v[best], &best_info, &best_feed, rf, err);
		if (rc != EMG_OK) {
			emg_event(&r->ev, EMG_EVENT_ERROR, "bundle %s: %s", cands.v[best].origin, err->msg);
			rf->skip_errors++;
			rf->last_code = rc;
			snprintf(rf->last_msg, sizeof rf->last_msg, "%s", err->msg);
			rc = EMG_OK;
		}
	}
	emg_feed_free(best_feed);
	emg_trust_free(trust);
	emg_candidates_free(&cands);
	if (rc != EMG_OK || rf->feed != NULL)
		return rc;
	rc = emg_feedcache_load(r->dir, &rf->feed, err);
	if (rc != EMG_OK)
		return rc;
	if (rf->feed == NULL && rf->skip_errors > 0)
		return emg_fail(err, rf->last_code ? rf->last_code : EMG_EVERIFY,
				"no bundle verifies: %s", rf->last_msg);
	if (rf->feed != NULL && emg_state_bundle_expired(&r->st, r->now)) {
		char ts[EMG_TIME_LEN];
		emg_time_format(r->st.bundle_expires, ts);
		feed_free(rf);
		return emg_fail(err, EMG_EFRESH,
				"the accepted bundle expired at %s and no newer one verifies; nothing was changed", ts);
	}
	return EMG_OK;
}

/* ---- the idle fast path ----------------------------------------------------------- */

static void watch_settings(emg_run *r, emg_err *err)
{
	char path[PATH_MAX + 32], sig[128], cfgpath[PATH_MAX];

	/* The next run may start in another directory: a relative --config
	 * stored as typed would not be found there and no run would ever be
	 * idle again. */
	if (realpath(r->cfg->path, cfgpath) == NULL)
		snprintf(cfgpath, sizeof cfgpath, "%s", r->cfg->path);
	emg_file_sig(cfgpath, sig);
	emg_state_watch_add(&r->st, cfgpath, sig, err);
	snprintf(path, sizeof path, "%s/server.conf", r->dir);
	emg_file_sig(path, sig);
	emg_state_watch_add(&r->st, path, sig, err);
	if (r->cfg->org_settings[0] != '\0') {
		emg_file_sig(r->cfg->org_settings, sig);
		emg_state_watch_add(&r->st, r->cfg->org_settings, sig, err);
	}
	/* The cached feed: the front program's idle run does not read it. */
	snprintf(path, sizeof path, "%s/feed", r->dir);
	emg_file_sig(path, sig);
	emg_state_watch_add(&r->st, path, sig, err);
	if (strcmp(r->cfg->backend, "sim") == 0) {
		snprintf(path, sizeof path, "%s/%s", r->cfg->root, EMG_SIM_FILE);
		emg_file_sig(path, sig);
		emg_state_watch_add(&r->st, path, sig, err);
	}
}

/* Records what the next run must find unchanged to skip re-checking. */
static int build_watch(emg_run *r, emg_err *err)
{
	char sig[128];
	size_t i;

	emg_state_watch_clear(&r->st);
	/* The windows backend cannot be watched by a stat: always check. */
	if (strcmp(r->cfg->backend, "sim") != 0)
		return EMG_OK;
	watch_settings(r, err);
	for (i = 0; i < r->nfiles; i++) {
		emg_file_sig(r->files[i].path, sig);
		if (emg_state_watch_add(&r->st, r->files[i].path, sig, err) != EMG_OK)
			return err->code;
	}
	return EMG_OK;
}

/* ---- deciding and applying ------------------------------------------------------ */

/* One line per action: the status it now has or, in a dry run, the plan
 * verb (WouldApply, WouldRevert, WouldFail, NoChange) when one is given:
 * a dry run changes nothing, so it must not claim "Applied". */
static void report_action(emg_run *r, const emg_state_action *sa, const char *verb)
{
	const char *what = verb != NULL ? verb : emg_status_name(sa->status);

	if (r->out == NULL || r->quiet)
		return;
	if (sa->reason[0] != '\0')
		fprintf(r->out, "%-10s %-14s %-13s %s\n", sa->subid, sa->type, what, sa->reason);
	else
		fprintf(r->out, "%-10s %-14s %s\n", sa->subid, sa->type, what);
}

static int do_action(emg_run *r, const emg_policy_in *pin, const emg_mitigation *m,
		     const emg_action *a, emg_err *err)
{
	emg_state_action *sa;
	emg_decision d;
	emg_err e;
	unsigned changed = r->changed;
	const char *verb = NULL;
	int was_in_place, rc = EMG_OK;

	sa = emg_state_add(&r->st, a->subid, m->id, a->type_name ? a->type_name : "", m->desc ? m->desc : "");
	if (sa == NULL)
		return emg_fail(err, EMG_EIO, "out of memory");
	was_in_place = sa->in_place;
	emg_policy_decide(pin, m, a, sa->in_place, &d);
	emg_err_clear(&e);
	if (d.verdict == EMG_DO_SKIP) {
		rc = emg_state_set_status(sa, d.status, d.reason, r->now, err);
	} else if (d.verdict == EMG_DO_REVERT) {
		if (emg_act_revert(r, sa, EMG_ST_OBSOLETE, d.reason, &e) != EMG_OK)
			goto failed;
		verb = "WouldRevert";
	} else if (emg_act_apply(r, m, a, sa, &e) != EMG_OK) {
		goto failed;
	} else {
		rc = emg_state_set_status(sa, EMG_ST_APPLIED, "", r->now, err);
		/* The act_* functions count would-be changes in a dry run too. */
		verb = r->changed > changed || !was_in_place ? "WouldApply" : "NoChange";
	}
	report_action(r, sa, r->dry_run ? verb : NULL);
	return rc;
failed:
	r->failed++;
	if (!r->dry_run)
		emg_event(&r->ev, EMG_EVENT_ERROR, "%s failed: %s", a->subid, e.msg);
	rc = emg_state_set_status(sa, EMG_ST_FAILED, e.msg, r->now, err);
	report_action(r, sa, r->dry_run ? "WouldFail" : NULL);
	return rc;
}

static int apply_feed(emg_run *r, const emg_feed *feed, emg_err *err)
{
	emg_policy_in pin;
	size_t i, j;
	int rc;

	memset(&pin, 0, sizeof pin);
	pin.product = r->cfg->product;
	pin.build = r->cfg->build;
	pin.org_enabled = r->org_enabled;
	pin.server_enabled = r->ss.enabled;
	pin.settings = &r->ss;
	pin.auto_revert_obsolete = r->cfg->auto_revert_obsolete;
	for (i = 0; i < feed->count; i++)
		for (j = 0; j < feed->items[i].action_count; j++) {
			rc = do_action(r, &pin, &feed->items[i], &feed->items[i].actions[j], err);
			if (rc == EMG_OK && r->fatal)
				rc = emg_fail(err, EMG_EIO, "cannot save the state in %s", r->dir);
			if (rc != EMG_OK)
				return rc;
		}
	return EMG_OK;
}

/* A file's name in the diff: its path below the server root, so that
 * "patch -p1" run in the root applies the plan. Every config file the
 * engine edits lies below the root; anything else keeps its full path,
 * without the leading slash that would give "a//...". */
static const char *diff_name(const emg_run *r, const char *path)
{
	size_t n = strlen(r->cfg->root);

	while (n > 1 && r->cfg->root[n - 1] == '/')
		n--;
	if (strncmp(path, r->cfg->root, n) == 0 && path[n] == '/')
		path += n;
	while (*path == '/')
		path++;
	return path;
}

static int print_diffs(emg_run *r, emg_err *err)
{
	emg_sbuf b;
	size_t i;
	int rc;

	emg_sbuf_init(&b);
	for (i = 0; i < r->nfiles; i++) {
		const emg_fent *f = &r->files[i];
		if (f->cur == f->orig && f->cur_exists == f->orig_exists)
			continue;
		emg_diff_unified(diff_name(r, f->path), f->orig_exists ? f->orig : NULL, f->orig_len,
				 f->cur_exists ? f->cur : NULL, f->cur_len, &b);
	}
	rc = emg_sbuf_status(&b, err);
	if (rc == EMG_OK && b.len > 0 && r->out != NULL)
		fwrite(b.p, 1, b.len, r->out);
	emg_sbuf_free(&b);
	return rc;
}

/* This server's status file on the share, for the fleet view. A failure
 * is an event; the run's result stands either way. */
static void publish(emg_run *r)
{
	emg_err e;

	emg_err_clear(&e);
	if (emg_fleet_publish(r->cfg, &r->st, &r->ss, r->org_enabled, r->now, &e) != EMG_OK)
		emg_event(&r->ev, EMG_EVENT_ERROR, "cannot write the status file: %s", e.msg);
}

static int finish(emg_run *r, int rc, emg_err *err)
{
	emg_err e;

	if (r->dry_run)
		return rc;
	emg_err_clear(&e);
	r->st.last_run = r->now;
	r->st.last_result = rc;
	snprintf(r->st.last_error, sizeof r->st.last_error, "%s", rc == EMG_OK ? "" : err->msg);
	if (rc == EMG_OK)
		build_watch(r, &e);
	else
		emg_state_watch_clear(&r->st);
	if (emg_run_save(r, &e) != EMG_OK && rc == EMG_OK) {
		*err = e;
		rc = e.code;
	}
	emg_state_mark_checked(r->dir, r->now, &e);
	publish(r);
	if (rc == EMG_OK)
		emg_event(&r->ev, EMG_EVENT_OK, "run finished: %u change(s), sequence %llu", r->changed,
			  (unsigned long long)r->st.sequence);
	else
		emg_event(&r->ev, EMG_EVENT_ERROR, "run finished with errors: %s", err->msg);
	return rc;
}

int emg_engine_run(const emg_apply_config *cfg, const emg_run_opts *opts, emg_err *err)
{
	emg_run r;
	emg_lock lk;
	run_feed rf;
	time_t now = opts->now ? opts->now : time(NULL);
	int rc;

	memset(&rf, 0, sizeof rf);
	rc = emg_state_lock(cfg->state_dir, &lk, err);
	if (rc != EMG_OK)
		return rc;
	rc = emg_run_open(&r, cfg, opts->dry_run, now, opts->out, err);
	if (rc != EMG_OK) {
		emg_state_unlock(&lk);
		return rc;
	}
	r.quiet = opts->quiet;
	rc = emg_act_recover(&r, err);
	if (rc == EMG_OK)
		rc = choose_feed(&r, opts->bundle, &rf, err);
	if (rc == EMG_OK && rf.feed == NULL) {
		if (r.out != NULL)
			fprintf(r.out, "no bundle found in the configured sources: nothing to do\n");
		if (!r.dry_run)
			emg_state_mark_checked(r.dir, now, err);
		goto out;
	}
	if (rc == EMG_OK && !rf.new_bundle && !r.dry_run && emg_idle_holds(&r.st)) {
		/* Same bundle, same settings, no file touched since: the
		 * outcome cannot differ from the last run's. A bundle skipped
		 * just now must still be remembered, or every hourly run would
		 * verify it again and log the same event 1008. */
		if (rf.skips_added > 0)
			rc = emg_run_save(&r, err);
		emg_idle_finish(r.cfg, &r.st, &r.ss, r.org_enabled, now, &r.ev,
				rc == EMG_OK && !r.quiet ? r.out : NULL);
		goto out;
	}
	if (rc == EMG_OK) {
		if (!r.ss.enabled || !r.org_enabled)
			fprintf(stderr, "emgap-apply: MitigationsEnabled is false for %s: checking only\n",
				r.org_enabled ? "this server" : "the organisation");
		rc = apply_feed(&r, rf.feed, err);
		if (rc == EMG_OK && r.dry_run)
			rc = print_diffs(&r, err);
		if (rc == EMG_OK && r.failed > 0)
			rc = emg_fail(err, EMG_EAPPLY, "%u action(s) failed; the others were applied", r.failed);
	}
	rc = finish(&r, rc, err);
out:
	feed_free(&rf);
	emg_run_close(&r);
	emg_state_unlock(&lk);
	return rc;
}

/* ---- revert by id ----------------------------------------------------------------- */

static int id_matches(const emg_state_action *sa, const char *id)
{
	return strcmp(sa->subid, id) == 0 || strcmp(sa->id, id) == 0;
}

int emg_engine_revert_action(const emg_apply_config *cfg, const char *state_dir,
			     emg_state *st, emg_state_action *a, time_t now, emg_err *err)
{
	emg_run r;
	size_t idx = (size_t)(a - st->actions);
	int rc;

	(void)state_dir;
	rc = emg_run_open(&r, cfg, 0, now, NULL, err);
	if (rc != EMG_OK)
		return rc;
	/* Work on the caller's state so its view stays current. */
	emg_state_free(&r.st);
	r.st = *st;
	rc = emg_act_revert(&r, &r.st.actions[idx], EMG_ST_REVERTED, "reverted by an administrator", err);
	*st = r.st;
	memset(&r.st, 0, sizeof r.st);
	emg_run_close(&r);
	return rc;
}

int emg_engine_recover(const emg_apply_config *cfg, emg_state *st, emg_err *err)
{
	emg_run r;
	int rc;

	rc = emg_run_open(&r, cfg, 0, time(NULL), NULL, err);
	if (rc != EMG_OK)
		return rc;
	emg_state_free(&r.st);
	r.st = *st;
	rc = emg_act_recover(&r, err);
	*st = r.st;
	memset(&r.st, 0, sizeof r.st);
	emg_run_close(&r);
	return rc;
}

static unsigned long long order_of(const emg_state_action *sa)
{
	const char *o = emg_kv_get(sa, "order");

	return o != NULL ? strtoull(o, NULL, 10) : 0;
}

/* The index of the in-place action matching any of ids that was changed
 * last, or -1. */
static long latest_match(const emg_run *r, char *const *ids, size_t n, const unsigned char *done)
{
	unsigned long long best = 0;
	long at = -1;
	size_t i, k;

	for (k = 0; k < r->st.count; k++) {
		const emg_state_action *sa = &r->st.actions[k];
		if (done[k])
			continue;
		for (i = 0; i < n; i++)
			if (id_matches(sa, ids[i]) && (at < 0 || order_of(sa) >= best)) {
				best = order_of(sa);
				at = (long)k;
			}
	}
	return at;
}

static int revert_ids(emg_run *r, char *const *ids, size_t n, int block, emg_err *err)
{
	unsigned char *done;
	size_t i;
	long k;
	int rc = EMG_OK, failed = 0;

	done = calloc(r->st.count + 1, 1);
	if (done == NULL)
		return emg_fail(err, EMG_EIO, "out of memory");
	/* Newest change first, across all ids: reverting the edits of one
	 * file in reverse order gives back its original bytes. */
	while ((k = latest_match(r, ids, n, done)) >= 0) {
		emg_state_action *sa = &r->st.actions[k];
		emg_err e;
		done[k] = 1;
		emg_err_clear(&e);
		if (!sa->in_place) {
			if (r->out != NULL)
				fprintf(r->out, "%s: not applied, nothing to revert\n", sa->subid);
			continue;
		}
		if (emg_act_revert(r, sa, EMG_ST_REVERTED, "reverted by an administrator", &e) == EMG_OK) {
			if (r->out != NULL)
				fprintf(r->out, "%s: reverted\n", sa->subid);
			continue;
		}
		fprintf(stderr, "emgap-apply: %s: %s\n", sa->subid, e.msg);
		emg_event(&r->ev, EMG_EVENT_ERROR, "revert of %s failed: %s", sa->subid, e.msg);
		failed++;
		if (r->fatal) {
			free(done);
			return emg_fail(err, EMG_EIO, "%s", e.msg);
		}
	}
	free(done);
	for (i = 0; block && i < n; i++)
		if ((rc = emg_server_settings_block(&r->ss, ids[i], err)) != EMG_OK)
			return rc;
	if (block && (rc = emg_server_settings_save(r->dir, &r->ss, err)) != EMG_OK)
		return rc;
	if (failed)
		return emg_fail(err, EMG_EAPPLY, "%d action(s) could not be reverted", failed);
	return EMG_OK;
}

int emg_engine_revert(const emg_apply_config *cfg, char *const *ids, size_t n, int block,
		      const emg_revert_audit *audit, FILE *out, emg_err *err)
{
	emg_run r;
	emg_lock lk;
	size_t i, k;
	int rc;

	rc = emg_state_lock(cfg->state_dir, &lk, err);
	if (rc != EMG_OK)
		return rc;
	rc = emg_run_open(&r, cfg, 0, time(NULL), out, err);
	if (rc != EMG_OK) {
		emg_state_unlock(&lk);
		return rc;
	}
	rc = emg_act_recover(&r, err);
	/* Check every id first, so a typo changes nothing. */
	for (i = 0; rc == EMG_OK && i < n; i++) {
		int found = 0;
		for (k = 0; k < r.st.count; k++)
			found |= id_matches(&r.st.actions[k], ids[i]);
		if (!found)
			rc = emg_fail(err, EMG_EUSAGE, "%s: no such mitigation or action in the state", ids[i]);
	}
	if (rc == EMG_OK)
		rc = revert_ids(&r, ids, n, block, err);
	/* The files changed: the next run must look again. */
	emg_state_watch_clear(&r.st);
	if (emg_state_save(r.dir, &r.st, rc == EMG_OK ? err : NULL) != EMG_OK && rc == EMG_OK)
		rc = err->code;
	if (rc == EMG_OK && audit != NULL && audit->argv != NULL)
		rc = emg_audit_command(cfg->state_dir, audit->argc, audit->argv, "in place",
				       block ? "reverted, blocked" : "reverted", err);
	emg_run_close(&r);
	emg_state_unlock(&lk);
	return rc;
}
