/* idle.c - the hourly run that finds nothing to do (idle.h). */
#include "apply/idle.h"

#include <string.h>
#include <unistd.h>

#include "apply/fleet.h"
#include "apply/source.h"

int emg_idle_holds(const emg_state *st)
{
	char sig[128];
	size_t i;

	if (st->watch_count == 0 || st->last_result != EMG_OK)
		return 0;
	for (i = 0; i < st->count; i++)
		if (st->actions[i].pending)
			return 0;
	for (i = 0; i < st->watch_count; i++) {
		emg_file_sig(st->watch[i].path, sig);
		if (strcmp(sig, st->watch[i].sig) != 0)
			return 0;
	}
	return 1;
}

static void note_warning(void *ctx, const char *msg)
{
	(void)msg;
	*(int *)ctx = 1;
}

/* 1 when no source offers anything the engine would verify: every file is
 * the accepted bundle or one remembered as passed over. URL sources are
 * fetched every run, so they always need the engine, and so does a source
 * that cannot be read (the engine reports it). */
static int sources_quiet(const emg_apply_config *cfg, const emg_state *st, emg_hash_cache *hc)
{
	emg_candidates cands = {NULL, 0};
	int warned = 0, quiet;
	emg_err e;
	size_t i;

	if (cfg->source_url_count > 0)
		return 0;
	emg_err_clear(&e);
	if (emg_sources_collect(cfg, hc, &cands, note_warning, &warned, &e) != EMG_OK)
		return 0;
	quiet = !warned;
	for (i = 0; i < cands.n && quiet; i++)
		if (strcmp(cands.v[i].sha256, st->bundle_sha256) != 0 &&
		    !emg_state_skipped(st, cands.v[i].sha256))
			quiet = 0;
	emg_candidates_free(&cands);
	return quiet;
}

void emg_idle_finish(const emg_apply_config *cfg, const emg_state *st, const emg_server_settings *ss,
		     int org_enabled, time_t now, emg_events *ev, FILE *out)
{
	emg_err e;

	emg_err_clear(&e);
	emg_state_mark_checked(cfg->state_dir, now, NULL);
	if (emg_fleet_publish(cfg, st, ss, org_enabled, now, &e) != EMG_OK)
		emg_event(ev, EMG_EVENT_ERROR, "cannot write the status file: %s", e.msg);
	if (out != NULL)
		fprintf(out, "no change since the last run (sequence %llu)\n", (unsigned long long)st->sequence);
}

int emg_idle_run(const emg_apply_config *cfg, time_t now, FILE *out)
{
	char feed[PATH_MAX + 8];
	emg_server_settings ss;
	emg_hash_cache hc;
	emg_state st;
	emg_lock lk;
	emg_err e;
	int idle = 0, org_enabled = 1;

	emg_err_clear(&e);
	if (emg_state_lock(cfg->state_dir, &lk, &e) != EMG_OK)
		return 0;
	memset(&st, 0, sizeof st);
	memset(&ss, 0, sizeof ss);
	snprintf(feed, sizeof feed, "%s/feed", cfg->state_dir);
	/* Everything the engine would load first must load, or the engine
	 * must say why not. */
	if (emg_state_load(cfg->state_dir, &st, &e) == EMG_OK &&
	    emg_server_settings_load(cfg->state_dir, &ss, &e) == EMG_OK &&
	    emg_org_settings_load(cfg->org_settings, &org_enabled, &e) == EMG_OK &&
	    st.bundle_sha256[0] != '\0' && access(feed, F_OK) == 0 &&
	    !emg_state_bundle_expired(&st, now) && emg_idle_holds(&st)) {
		emg_hash_cache_load(&hc, cfg->state_dir);
		/* No bundle byte is read here: a file the cache does not know
		 * under its present signature is the engine's to hash. */
		hc.lookup_only = 1;
		idle = sources_quiet(cfg, &st, &hc);
		/* A file gone from the sources leaves the cache, as the
		 * engine would drop it. */
		if (idle)
			(void)emg_hash_cache_save(&hc, NULL);
		emg_hash_cache_free(&hc);
	}
	if (idle) {
		emg_events ev;

		emg_events_init(&ev, cfg->state_dir, cfg->log_syslog, cfg->log_max_bytes, cfg->log_keep);
		emg_idle_finish(cfg, &st, &ss, org_enabled, now, &ev, out);
	}
	emg_server_settings_free(&ss);
	emg_state_free(&st);
	emg_state_unlock(&lk);
	return idle;
}
