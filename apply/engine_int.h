/* engine_int.h - what engine.c and engine_act.c share (not an API). */
#ifndef EMG_APPLY_ENGINE_INT_H
#define EMG_APPLY_ENGINE_INT_H

#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <time.h>

#include "apply/backend.h"
#include "apply/config.h"
#include "apply/events.h"
#include "apply/iisconf.h"
#include "apply/state.h"
#include "bundle/feed.h"
#include "err.h"

/* One config file as read (orig) and as it is now (cur). A dry run only
 * changes cur, so the diff at the end shows every change to the file. */
typedef struct emg_fent {
	char *path;
	uint8_t *orig;
	size_t orig_len;
	int orig_exists;
	uint8_t *cur;
	size_t cur_len;
	int cur_exists;
} emg_fent;

typedef struct emg_run {
	const emg_apply_config *cfg;
	const char *dir;       /* state dir */
	int dry_run;
	int quiet;
	time_t now;
	FILE *out;
	emg_state st;
	emg_server_settings ss;
	int org_enabled;
	emg_events ev;
	emg_backend be;
	int have_be;
	emg_fent *files;
	size_t nfiles;
	emg_iis_env env;
	char apphost[PATH_MAX];
	unsigned changed, failed;
	int fatal;             /* a state save failed: stop the run */
} emg_run;

/* engine_act.c */
int emg_run_open(emg_run *r, const emg_apply_config *cfg, int dry_run, time_t now, FILE *out,
		 emg_err *err);
void emg_run_close(emg_run *r);
int emg_run_save(emg_run *r, emg_err *err);
void emg_run_files_free(emg_run *r);
int emg_act_apply(emg_run *r, const emg_mitigation *m, const emg_action *a,
		  emg_state_action *sa, emg_err *err);
int emg_act_revert(emg_run *r, emg_state_action *sa, emg_status final, const char *reason,
		   emg_err *err);
int emg_act_recover(emg_run *r, emg_err *err);

#endif
