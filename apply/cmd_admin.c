/* cmd_admin.c - the EEMS cmdlets' equivalents: status (Get-Mitigations),
 * get-server (Get-ExchangeServer | fl Name,Mitigations*), block/unblock
 * and set-server (Set-ExchangeServer -MitigationsBlocked/-Enabled),
 * set-org (Set-OrganizationConfig -MitigationsEnabled), check-source, the
 * audit log, and the daemon. Every change appends an audit entry under
 * the state lock. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>


#include "apply/audit.h"
#include "apply/cmds.h"
#include "apply/config.h"
#include "apply/fleet.h"
#include "apply/report.h"
#include "apply/source.h"
#include "apply/state.h"
#include "bundle/bundle.h"
#include "err.h"
#include "ini.h"
#include "timefmt.h"

#define PROG "emgap-apply"

/* ---- Command lines -------------------------------------------------- */

/* One option of a subcommand: a flag (val NULL) or one taking a value. */
typedef struct admin_opt {
	const char *name;
	const char **val;
	int *flag;
} admin_opt;

typedef struct admin_args {
	const char *config;
	char **pos;      /* positional arguments (ids), pointers into argv */
	size_t npos;
} admin_args;

/* The message leaves out the command: finish() names it. */
static int usage_fail(emg_err *err, const char *what)
{
	return emg_fail(err, EMG_EUSAGE, "%s (see '" PROG " --help')", what);
}

/* Parses argv (argv[0] is the subcommand) against opts. --config FILE is
 * accepted by every command. "--" ends the options. */
static int parse_args(int argc, char **argv, const admin_opt *opts, size_t nopts,
		      int allow_pos, admin_args *a, emg_err *err)
{
	int i, only_pos = 0;
	size_t k;

	a->config = EMG_APPLY_CONFIG_DEFAULT;
	a->npos = 0;
	a->pos = calloc((size_t)argc + 1, sizeof *a->pos);
	if (a->pos == NULL)
		return emg_fail(err, EMG_EIO, "out of memory");
	for (i = 1; i < argc; i++) {
		const char *s = argv[i];
		if (only_pos || s[0] != '-' || s[1] == '\0') {
			if (!allow_pos)
				return usage_fail(err, "takes no ids");
			a->pos[a->npos++] = argv[i];
			continue;
		}
		if (strcmp(s, "--") == 0) {
			only_pos = 1;
			continue;
		}
		if (strcmp(s, "--config") == 0) {
			if (i + 1 >= argc)
				return usage_fail(err, "--config needs a FILE");
			a->config = argv[++i];
			continue;
		}
		for (k = 0; k < nopts; k++)
			if (strcmp(s, opts[k].name) == 0)
				break;
		if (k == nopts) {
			emg_fail(err, EMG_EUSAGE, "unknown option '%.100s' (see '" PROG " --help')", s);
			return EMG_EUSAGE;
		}
		if (opts[k].val != NULL) {
			if (i + 1 >= argc) {
				emg_fail(err, EMG_EUSAGE, "%s needs a value", s);
				return EMG_EUSAGE;
			}
			*opts[k].val = argv[++i];
		} else {
			*opts[k].flag = 1;
		}
	}
	return EMG_OK;
}

static const struct {
	const char *cmd;
	const char *usage;
} usages[] = {
	{"status", "status [--identity ID] [--csv FILE|-] [--json]"},
	{"get-server", "get-server [--json] | get-server --all [--share DIR] [--json]"},
	{"block", "block [--force] ID..."},
	{"unblock", "unblock ID..."},
	{"set-server", "set-server [--mitigations-enabled true|false] [--mitigations-blocked ID,...] [--force]"},
	{"set-org", "set-org --mitigations-enabled true|false"},
	{"check-source", "check-source"},
	{"audit", "audit --verify"},
};

/* "CMD --help" prints that command's usage; returns 1 when it did. */
static int wants_help(int argc, char **argv)
{
	size_t k;
	int i;

	for (i = 1; i < argc; i++)
		if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0)
			break;
	if (i == argc)
		return 0;
	for (k = 0; k < sizeof usages / sizeof usages[0]; k++)
		if (strcmp(usages[k].cmd, argv[0]) == 0)
			printf("usage: " PROG " %s [--config FILE]\nSee emgap-apply(1).\n", usages[k].usage);
	return 1;
}

static int finish(const char *cmd, int rc, const emg_err *err)
{
	if (rc != EMG_OK) {
		char prog[64];
		snprintf(prog, sizeof prog, PROG " %s", cmd);
		emg_err_print(prog, err);
	}
	return rc;
}

/* Only true or false (any case), as the cmdlets' $true/$false print: a
 * typo such as "ture" or "off" must not be read as either. */
static int parse_bool_arg(const char *opt, const char *v, int *out, emg_err *err)
{
	if (strcasecmp(v, "true") == 0)
		*out = 1;
	else if (strcasecmp(v, "false") == 0)
		*out = 0;
	else
		return emg_fail(err, EMG_EUSAGE, "%s takes true or false, not '%.80s'", opt, v);
	return EMG_OK;
}

/* ---- Server settings: describe, check ids --------------------------- */

static void describe_settings(const emg_server_settings *s, emg_sbuf *b)
{
	emg_idlist l = {NULL, 0};
	size_t i;

	/* Sorting for the record needs a copy; on no memory the list is
	 * written as stored. */
	for (i = 0; i < s->blocked_count; i++)
		if (emg_idlist_add(&l, s->blocked[i], NULL) != EMG_OK)
			break;
	emg_sbuf_printf(b, "MitigationsEnabled=%s MitigationsBlocked={", s->enabled ? "True" : "False");
	if (i == s->blocked_count) {
		emg_idlist_join(&l, ", ", b);
	} else {
		for (i = 0; i < s->blocked_count; i++)
			emg_sbuf_printf(b, "%s%s", i ? ", " : "", s->blocked[i]);
	}
	emg_sbuf_puts(b, "}");
	emg_idlist_free(&l);
}

/* 1 when the state knows id as a mitigation id or a sub-id. */
static int state_knows(const emg_state *st, const char *id)
{
	size_t i;

	for (i = 0; i < st->count; i++)
		if (strcmp(st->actions[i].subid, id) == 0 || strcmp(st->actions[i].id, id) == 0)
			return 1;
	return 0;
}

static void known_ids(const emg_state *st, emg_sbuf *b)
{
	emg_idlist l = {NULL, 0};
	size_t i;

	for (i = 0; i < st->count; i++)
		if (emg_id_valid(st->actions[i].id))
			(void)emg_idlist_add(&l, st->actions[i].id, NULL);
	if (l.n == 0)
		emg_sbuf_puts(b, "none yet: no run has accepted a bundle");
	else
		emg_idlist_join(&l, ", ", b);
	emg_idlist_free(&l);
}

/* Each id must be well formed and, unless force, known to the state (the
 * last accepted bundle), so a typo does not silently block nothing. */
static int check_ids(const emg_state *st, char *const *ids, size_t n,
		     int force, int allow_blocked, const emg_server_settings *ss, emg_err *err)
{
	size_t i, j;

	for (i = 0; i < n; i++) {
		emg_sbuf known;
		int blocked = 0;
		if (!emg_id_valid(ids[i]))
			return emg_fail(err, EMG_EUSAGE, "'%.80s' is not a mitigation id (such as M1 or M1.2)",
					ids[i]);
		for (j = 0; allow_blocked && j < ss->blocked_count; j++)
			if (strcmp(ss->blocked[j], ids[i]) == 0)
				blocked = 1;
		if (force || blocked || state_knows(st, ids[i]))
			continue;
		emg_sbuf_init(&known);
		known_ids(st, &known);
		if (allow_blocked)
			emg_fail(err, EMG_EUSAGE, "'%s' is not blocked and not a known mitigation id (known: %s)",
				 ids[i], known.p ? known.p : "?");
		else
			emg_fail(err, EMG_EUSAGE, "unknown mitigation id '%s' (known: %s); "
				 "--force blocks an id before its bundle arrives", ids[i],
				 known.p ? known.p : "?");
		emg_sbuf_free(&known);
		return EMG_EUSAGE;
	}
	return EMG_OK;
}

/* ---- This server's status file on the share ------------------------- */

/* After a settings change the fleet view should not wait an hour for the
 * next run to show it. Called with the lock held. Best effort: a share
 * that is down costs a warning, not the change. */
static void republish(const emg_apply_config *cfg)
{
	emg_server_settings ss;
	emg_state st;
	emg_err e;
	int org = 1, rc;

	if (cfg->org_status_dir[0] == '\0')
		return;
	emg_err_clear(&e);
	memset(&st, 0, sizeof st);
	rc = emg_state_load(cfg->state_dir, &st, &e);
	if (rc == EMG_OK) {
		rc = emg_server_settings_load(cfg->state_dir, &ss, &e);
		if (rc == EMG_OK) {
			rc = emg_org_settings_load(cfg->org_settings, &org, &e);
			if (rc == EMG_OK)
				rc = emg_fleet_publish(cfg, &st, &ss, org, time(NULL), &e);
			emg_server_settings_free(&ss);
		}
		emg_state_free(&st);
	}
	if (rc != EMG_OK)
		fprintf(stderr, PROG ": warning: status file not updated: %s\n", e.msg);
}

/* ---- A locked change to server.conf --------------------------------- */

typedef struct change_req {
	char **block;      /* ids to add */
	size_t nblock;
	char **unblock;    /* ids to remove */
	size_t nunblock;
	int replace_blocked;   /* set-server --mitigations-blocked: block is the new list */
	int set_enabled;       /* -1 leave, 0/1 set */
	int force;
} change_req;

static int apply_change(emg_server_settings *s, const change_req *r, emg_err *err)
{
	size_t i;
	int rc = EMG_OK;

	if (r->set_enabled >= 0)
		s->enabled = r->set_enabled;
	if (r->replace_blocked) {
		while (s->blocked_count > 0)
			(void)emg_server_settings_unblock(s, s->blocked[0]);
	}
	for (i = 0; rc == EMG_OK && i < r->nblock; i++)
		rc = emg_server_settings_block(s, r->block[i], err);
	for (i = 0; rc == EMG_OK && i < r->nunblock; i++) {
		const char *by = NULL;
		(void)emg_server_settings_unblock(s, r->unblock[i]);
		/* Unblocking M1.2 leaves it blocked while M1 is: say so. */
		if (emg_server_settings_blocks(s, r->unblock[i], &by) && by != NULL)
			fprintf(stderr, PROG ": note: %s stays blocked by %s\n", r->unblock[i], by);
	}
	return rc;
}

/* Blocking removes nothing: name what stays on the server and how to
 * take it off, so nobody reads "blocked" as "gone". */
static void note_in_place(const emg_state *st, char *const *ids, size_t n, emg_sbuf *b)
{
	size_t i, k;

	for (k = 0; k < st->count; k++) {
		const emg_state_action *a = &st->actions[k];
		for (i = 0; a->in_place && i < n; i++)
			if (strcmp(a->subid, ids[i]) == 0 || strcmp(a->id, ids[i]) == 0) {
				emg_sbuf_printf(b, PROG ": note: %s stays in place (blocking removes nothing); "
						"'" PROG " revert %s' removes it\n", a->subid, a->subid);
				break;
			}
	}
}

static int change_locked(const emg_apply_config *cfg, int argc, char **argv, const change_req *r,
			 emg_sbuf *after, emg_sbuf *notes, emg_err *err)
{
	emg_server_settings old, cur;
	emg_state st;
	emg_sbuf before;
	int rc;

	memset(&st, 0, sizeof st);
	rc = emg_state_load(cfg->state_dir, &st, err);
	if (rc != EMG_OK)
		return rc;
	rc = check_ids(&st, r->block, r->nblock, r->force, 0, NULL, err);
	if (rc != EMG_OK || (rc = emg_server_settings_load(cfg->state_dir, &old, err)) != EMG_OK) {
		emg_state_free(&st);
		return rc;
	}
	if ((rc = emg_server_settings_load(cfg->state_dir, &cur, err)) != EMG_OK) {
		emg_server_settings_free(&old);
		emg_state_free(&st);
		return rc;
	}
	rc = check_ids(&st, r->unblock, r->nunblock, r->force, 1, &old, err);
	note_in_place(&st, r->block, r->nblock, notes);
	emg_state_free(&st);
	emg_sbuf_init(&before);
	if (rc == EMG_OK)
		rc = apply_change(&cur, r, err);
	describe_settings(&old, &before);
	describe_settings(&cur, after);
	if (rc == EMG_OK)
		rc = emg_sbuf_status(&before, err);
	if (rc == EMG_OK)
		rc = emg_sbuf_status(after, err);
	if (rc == EMG_OK)
		rc = emg_server_settings_save(cfg->state_dir, &cur, err);
	if (rc == EMG_OK) {
		rc = emg_audit_command(cfg->state_dir, argc, argv, before.p, after->p, err);
		/* An unaudited change must not stand: put the old file back. */
		if (rc != EMG_OK) {
			emg_err tmp;
			emg_err_clear(&tmp);
			(void)emg_server_settings_save(cfg->state_dir, &old, &tmp);
		}
	}
	emg_sbuf_free(&before);
	emg_server_settings_free(&old);
	emg_server_settings_free(&cur);
	return rc;
}

static int change_settings(const char *config, int argc, char **argv, const change_req *r, emg_err *err)
{
	emg_apply_config cfg;
	emg_lock lk;
	emg_sbuf after, notes;
	int rc = emg_apply_config_load(config, &cfg, err);

	if (rc != EMG_OK)
		return rc;
	rc = emg_state_lock(cfg.state_dir, &lk, err);
	if (rc != EMG_OK) {
		emg_apply_config_free(&cfg);
		return rc;
	}
	emg_sbuf_init(&after);
	emg_sbuf_init(&notes);
	rc = change_locked(&cfg, argc, argv, r, &after, &notes, err);
	if (rc == EMG_OK)
		republish(&cfg);
	emg_state_unlock(&lk);
	if (rc == EMG_OK)
		printf("%s: %s\n", cfg.server_name, after.p);
	if (rc == EMG_OK && notes.len > 0)
		fputs(notes.p, stderr);
	emg_sbuf_free(&after);
	emg_sbuf_free(&notes);
	emg_apply_config_free(&cfg);
	return rc;
}

/* ---- block / unblock / set-server ----------------------------------- */

static int block_cmd(int argc, char **argv, int block)
{
	int force = 0, rc;
	const admin_opt opts[] = {{"--force", NULL, &force}};
	admin_args a;
	change_req r;
	emg_err err;

	emg_err_clear(&err);
	memset(&r, 0, sizeof r);
	r.set_enabled = -1;
	rc = parse_args(argc, argv, opts, 1, 1, &a, &err);
	if (rc == EMG_OK && a.npos == 0)
		rc = usage_fail(&err, "needs at least one mitigation id");
	if (rc == EMG_OK) {
		r.force = force;
		if (block) {
			r.block = a.pos;
			r.nblock = a.npos;
		} else {
			r.unblock = a.pos;
			r.nunblock = a.npos;
		}
		rc = change_settings(a.config, argc, argv, &r, &err);
	}
	if (rc == EMG_OK && !block)
		printf("the next run applies the unblocked mitigations again\n");
	free(a.pos);
	return finish(argv[0], rc, &err);
}

int emg_apply_cmd_block(int argc, char **argv)
{
	return wants_help(argc, argv) ? EMG_OK : block_cmd(argc, argv, 1);
}

int emg_apply_cmd_unblock(int argc, char **argv)
{
	return wants_help(argc, argv) ? EMG_OK : block_cmd(argc, argv, 0);
}

/* Splits "M1,M2" into r->block (owned by list). */
static int blocked_list(const char *text, emg_idlist *list, change_req *r, emg_err *err)
{
	int rc = emg_idlist_parse(list, text, "--mitigations-blocked", err);

	if (rc != EMG_OK)
		return rc;
	r->replace_blocked = 1;
	r->block = list->v;
	r->nblock = list->n;
	return EMG_OK;
}

static int cmd_set_server_impl(int argc, char **argv)
{
	const char *enabled = NULL, *blocked = NULL;
	int force = 0, rc;
	const admin_opt opts[] = {
		{"--mitigations-enabled", &enabled, NULL},
		{"--mitigations-blocked", &blocked, NULL},
		{"--force", NULL, &force},
	};
	emg_idlist list = {NULL, 0};
	admin_args a;
	change_req r;
	emg_err err;

	emg_err_clear(&err);
	memset(&r, 0, sizeof r);
	r.set_enabled = -1;
	rc = parse_args(argc, argv, opts, 3, 0, &a, &err);
	if (rc == EMG_OK && enabled == NULL && blocked == NULL)
		rc = usage_fail(&err, "needs --mitigations-enabled true|false and/or --mitigations-blocked ID,...");
	if (rc == EMG_OK && enabled != NULL)
		rc = parse_bool_arg("--mitigations-enabled", enabled, &r.set_enabled, &err);
	if (rc == EMG_OK && blocked != NULL)
		rc = blocked_list(blocked, &list, &r, &err);
	r.force = force;
	if (rc == EMG_OK)
		rc = change_settings(a.config, argc, argv, &r, &err);
	emg_idlist_free(&list);
	free(a.pos);
	return finish(argv[0], rc, &err);
}

/* ---- set-org -------------------------------------------------------- */

static int set_org_locked(const emg_apply_config *cfg, int argc, char **argv, int enabled, emg_err *err)
{
	char before[64], after[64];
	int old = 1, rc;

	rc = emg_org_settings_load(cfg->org_settings, &old, err);
	if (rc != EMG_OK)
		return rc;
	snprintf(before, sizeof before, "OrgMitigationsEnabled=%s", old ? "True" : "False");
	snprintf(after, sizeof after, "OrgMitigationsEnabled=%s", enabled ? "True" : "False");
	rc = emg_org_settings_save(cfg->org_settings, enabled, err);
	if (rc != EMG_OK)
		return rc;
	rc = emg_audit_command(cfg->state_dir, argc, argv, before, after, err);
	if (rc != EMG_OK) {
		emg_err tmp;
		emg_err_clear(&tmp);
		(void)emg_org_settings_save(cfg->org_settings, old, &tmp);
		return rc;
	}
	printf("organization: %s (was %s); every server reads it on its next run\n",
	       after, before + strlen("OrgMitigationsEnabled="));
	return EMG_OK;
}

static int cmd_set_org_impl(int argc, char **argv)
{
	const char *enabled = NULL;
	const admin_opt opts[] = {{"--mitigations-enabled", &enabled, NULL}};
	emg_apply_config cfg;
	admin_args a;
	emg_lock lk;
	emg_err err;
	int on = 1, rc;

	emg_err_clear(&err);
	rc = parse_args(argc, argv, opts, 1, 0, &a, &err);
	if (rc == EMG_OK && enabled == NULL)
		rc = usage_fail(&err, "needs --mitigations-enabled true|false");
	if (rc == EMG_OK)
		rc = parse_bool_arg("--mitigations-enabled", enabled, &on, &err);
	if (rc == EMG_OK)
		rc = emg_apply_config_load(a.config, &cfg, &err);
	free(a.pos);
	if (rc != EMG_OK)
		return finish(argv[0], rc, &err);
	if (cfg.org_settings[0] == '\0') {
		rc = emg_fail(&err, EMG_ECONFIG, "%s: no [org] settings file is configured", cfg.path);
	} else if ((rc = emg_state_lock(cfg.state_dir, &lk, &err)) == EMG_OK) {
		rc = set_org_locked(&cfg, argc, argv, on, &err);
		if (rc == EMG_OK)
			republish(&cfg);
		emg_state_unlock(&lk);
	}
	emg_apply_config_free(&cfg);
	return finish(argv[0], rc, &err);
}

/* ---- status ----------------------------------------------------------- */

static int row_cmp(const void *a, const void *b)
{
	return emg_id_cmp(((const emg_status_row *)a)->id, ((const emg_status_row *)b)->id);
}

static int status_rows(const emg_state *st, const char *identity, emg_status_row **out,
		       size_t *n, emg_err *err)
{
	emg_status_row *rows;
	size_t i, k = 0;

	*out = NULL;
	*n = 0;
	if (st->count == 0)
		return EMG_OK;
	rows = calloc(st->count, sizeof *rows);
	if (rows == NULL)
		return emg_fail(err, EMG_EIO, "out of memory");
	for (i = 0; i < st->count; i++) {
		const emg_state_action *a = &st->actions[i];
		if (identity != NULL && strcmp(a->subid, identity) != 0 && strcmp(a->id, identity) != 0)
			continue;
		rows[k].id = a->subid;
		rows[k].type = a->type;
		rows[k].description = a->desc;
		rows[k].status = emg_status_name(a->status);
		rows[k].reason = a->reason;
		k++;
	}
	qsort(rows, k, sizeof *rows, row_cmp);
	*out = rows;
	*n = k;
	return EMG_OK;
}

static int status_render(const emg_state *st, const char *identity, const char *csv, int json,
			 emg_err *err)
{
	emg_status_row *rows = NULL;
	size_t n = 0;
	emg_sbuf b;
	int rc = status_rows(st, identity, &rows, &n, err);

	if (rc != EMG_OK)
		return rc;
	emg_sbuf_init(&b);
	if (csv != NULL) {
		emg_report_csv(&b, rows, n);
		rc = emg_report_emit(&b, csv, err);
		emg_sbuf_free(&b);
	}
	if (rc == EMG_OK && (json || csv == NULL)) {
		if (json)
			emg_report_json(&b, rows, n);
		else
			emg_report_table(&b, rows, n);
		if (!json && st->count == 0)
			emg_sbuf_puts(&b, "(no mitigations recorded: no run has accepted a bundle yet)\n");
		rc = emg_report_emit(&b, NULL, err);
	}
	emg_sbuf_free(&b);
	free(rows);
	return rc;
}

static int cmd_status_impl(int argc, char **argv)
{
	const char *identity = NULL, *csv = NULL;
	int json = 0, rc;
	const admin_opt opts[] = {
		{"--identity", &identity, NULL},
		{"--csv", &csv, NULL},
		{"--json", NULL, &json},
	};
	emg_apply_config cfg;
	emg_state st;
	admin_args a;
	emg_err err;

	emg_err_clear(&err);
	rc = parse_args(argc, argv, opts, 3, 0, &a, &err);
	if (rc == EMG_OK && identity != NULL && !emg_id_valid(identity))
		rc = emg_fail(&err, EMG_EUSAGE, "--identity '%.80s' is not a mitigation id (such as M1 or M1.2)",
			      identity);
	if (rc == EMG_OK)
		rc = emg_apply_config_load(a.config, &cfg, &err);
	free(a.pos);
	if (rc != EMG_OK)
		return finish(argv[0], rc, &err);
	/* Read-only: every state file is replaced atomically, so no lock. */
	memset(&st, 0, sizeof st);
	rc = emg_state_load(cfg.state_dir, &st, &err);
	if (rc == EMG_OK && identity != NULL && !state_knows(&st, identity)) {
		emg_sbuf known;
		emg_sbuf_init(&known);
		known_ids(&st, &known);
		rc = emg_fail(&err, EMG_EUSAGE, "unknown mitigation id '%s' (known: %s)",
			      identity, known.p ? known.p : "?");
		emg_sbuf_free(&known);
	}
	if (rc == EMG_OK)
		rc = status_render(&st, identity, csv, json, &err);
	emg_state_free(&st);
	emg_apply_config_free(&cfg);
	return finish(argv[0], rc, &err);
}

/* ---- get-server ------------------------------------------------------- */

static int print_servers(const emg_fleet_status *list, size_t n, int json, int extras, emg_err *err)
{
	emg_server_view *v = calloc(n ? n : 1, sizeof *v);
	time_t now = time(NULL);
	emg_sbuf b;
	size_t i;
	int rc;

	if (v == NULL)
		return emg_fail(err, EMG_EIO, "out of memory");
	for (i = 0; i < n; i++) {
		emg_fleet_view(&list[i], now, &v[i]);
		if (!extras) {
			/* The four properties admins know from Get-ExchangeServer. */
			v[i].org_enabled = -1;
			v[i].build = NULL;
			v[i].last_checked = 0;
			v[i].result = NULL;
			v[i].show_stale = 0;
		}
	}
	emg_sbuf_init(&b);
	if (json)
		emg_report_server_json(&b, v, n);
	else
		emg_report_server_list(&b, v, n);
	rc = emg_report_emit(&b, NULL, err);
	emg_sbuf_free(&b);
	free(v);
	return rc;
}

static int this_server(const emg_apply_config *cfg, int json, emg_err *err)
{
	emg_server_settings ss;
	emg_fleet_status s;
	emg_state st;
	int org = 1, rc;

	memset(&st, 0, sizeof st);
	rc = emg_state_load(cfg->state_dir, &st, err);
	if (rc != EMG_OK)
		return rc;
	rc = emg_server_settings_load(cfg->state_dir, &ss, err);
	if (rc != EMG_OK) {
		emg_state_free(&st);
		return rc;
	}
	/* The single-server view does not show the organisation's switch, so
	 * a share that is down is worth a warning, not a failure. */
	if (emg_org_settings_load(cfg->org_settings, &org, err) != EMG_OK) {
		fprintf(stderr, PROG " get-server: warning: %s\n", err->msg);
		emg_err_clear(err);
	}
	rc = emg_fleet_from_state(cfg, &st, &ss, org, time(NULL), &s, err);
	if (rc == EMG_OK) {
		rc = print_servers(&s, 1, json, 0, err);
		emg_fleet_status_free(&s);
	}
	emg_server_settings_free(&ss);
	emg_state_free(&st);
	return rc;
}

static int fleet(const char *dir, int json, emg_err *err)
{
	emg_fleet_status *list = NULL;
	size_t n = 0, i, bad = 0;
	int rc = emg_fleet_read_dir(dir, &list, &n, err);

	if (rc != EMG_OK)
		return rc;
	rc = print_servers(list, n, json, 1, err);
	for (i = 0; i < n; i++)
		if (list[i].error[0] != '\0') {
			fprintf(stderr, PROG " get-server: %s\n", list[i].error);
			bad++;
		}
	emg_fleet_list_free(list, n);
	if (rc == EMG_OK && n == 0)
		fprintf(stderr, PROG " get-server: %s holds no server status files yet\n", dir);
	if (rc == EMG_OK && bad > 0)
		rc = emg_fail(err, EMG_ECONFIG, "%zu of %zu status files in %s could not be read", bad, n, dir);
	return rc;
}

static int cmd_get_server_impl(int argc, char **argv)
{
	const char *share = NULL;
	int json = 0, all = 0, rc;
	const admin_opt opts[] = {
		{"--json", NULL, &json},
		{"--all", NULL, &all},
		{"--share", &share, NULL},
	};
	emg_apply_config cfg;
	admin_args a;
	emg_err err;

	emg_err_clear(&err);
	rc = parse_args(argc, argv, opts, 3, 0, &a, &err);
	if (rc == EMG_OK && share != NULL && !all)
		rc = usage_fail(&err, "--share DIR goes with --all");
	free(a.pos);
	if (rc == EMG_OK && all && share != NULL)
		return finish(argv[0], fleet(share, json, &err), &err);
	if (rc == EMG_OK)
		rc = emg_apply_config_load(a.config, &cfg, &err);
	if (rc != EMG_OK)
		return finish(argv[0], rc, &err);
	if (!all)
		rc = this_server(&cfg, json, &err);
	else if (cfg.org_status_dir[0] == '\0')
		rc = emg_fail(&err, EMG_EUSAGE, "--all needs --share DIR or [org] status_dir in %s",
			      cfg.path);
	else
		rc = fleet(cfg.org_status_dir, json, &err);
	emg_apply_config_free(&cfg);
	return finish(argv[0], rc, &err);
}

/* ---- audit ------------------------------------------------------------ */

static int audit_verify(const emg_apply_config *cfg, emg_err *err)
{
	emg_audit_result res;
	emg_lock lk;
	int rc;

	/* Under the lock, so an append between reading the head and the log
	 * cannot look like tampering. */
	rc = emg_state_lock(cfg->state_dir, &lk, err);
	if (rc != EMG_OK)
		return rc;
	rc = emg_audit_verify(cfg->state_dir, &res, err);
	emg_state_unlock(&lk);
	if (rc == EMG_OK)
		printf("audit log intact: %llu entries\n", (unsigned long long)res.entries);
	else if (res.bad_line != 0)
		printf("audit log BROKEN at %s (%llu entries verified before it)\n", res.problem,
		       (unsigned long long)res.entries);
	return rc;
}

static int cmd_audit_impl(int argc, char **argv)
{
	int verify = 0, rc;
	const admin_opt opts[] = {{"--verify", NULL, &verify}};
	emg_apply_config cfg;
	admin_args a;
	emg_err err;

	emg_err_clear(&err);
	rc = parse_args(argc, argv, opts, 1, 0, &a, &err);
	if (rc == EMG_OK && !verify)
		rc = usage_fail(&err, "needs --verify (the log itself is <state dir>/" EMG_AUDIT_LOG ")");
	free(a.pos);
	if (rc == EMG_OK)
		rc = emg_apply_config_load(a.config, &cfg, &err);
	if (rc != EMG_OK)
		return finish(argv[0], rc, &err);
	rc = audit_verify(&cfg, &err);
	emg_apply_config_free(&cfg);
	return finish(argv[0], rc, &err);
}


/* ---- check-source ------------------------------------------------------ */

typedef struct source_report {
	size_t warnings;
} source_report;

static void source_warn(void *ctx, const char *msg)
{
	source_report *r = ctx;

	r->warnings++;
	printf("%s\n", msg);
}

static void print_age(const char *label, long long secs)
{
	const char *unit = "s";
	long long v = secs < 0 ? -secs : secs;

	if (v >= 172800) {
		v /= 86400;
		unit = "d";
	} else if (v >= 7200) {
		v /= 3600;
		unit = "h";
	} else if (v >= 120) {
		v /= 60;
		unit = "min";
	}
	printf("%s %lld%s", label, v, unit);
}

/* Verifies one candidate without accepting it; returns its exit code. */
static int check_candidate(const emg_apply_config *cfg, const emg_trust *trust,
			   const emg_candidate *c, time_t now, emg_bundle_info *info)
{
	char t[EMG_TIME_LEN];
	emg_err e;
	int rc;

	emg_err_clear(&e);
	memset(info, 0, sizeof *info);
	rc = emg_bundle_verify(c->path, trust, cfg->state_dir, 0, now, info, NULL, &e);
	printf("bundle %s", c->origin);
	if (rc != EMG_OK && info->sequence == 0) {
		printf(": does not verify: %s\n", e.msg);
		return rc;
	}
	emg_time_format(info->created, t);
	printf(": sequence %llu, created %s (", (unsigned long long)info->sequence, t);
	print_age("age", (long long)(now - info->created));
	emg_time_format(info->expires, t);
	printf("), expires %s (", t);
	print_age(info->expires >= now ? "in" : "EXPIRED", (long long)(info->expires - now));
	if (rc != EMG_OK)
		printf("): does not verify: %s\n", e.msg);
	else
		printf("): verifies%s\n", info->nothing_new ? ", already applied" : "");
	return rc;
}

static int check_sources_locked(const emg_apply_config *cfg, const emg_trust *trust, emg_err *err)
{
	emg_candidates cands = {NULL, 0};
	source_report rep = {0};
	emg_bundle_info info;
	time_t now = time(NULL);
	size_t i, best = (size_t)-1;
	uint64_t best_seq = 0;
	int rc, worst = EMG_OK;

	rc = emg_sources_collect(cfg, NULL, &cands, source_warn, &rep, err);
	if (rc != EMG_OK)
		return rc;
	for (i = 0; i < cfg->source_path_count; i++)
		printf("source %s: %s\n", cfg->source_paths[i],
		       access(cfg->source_paths[i], R_OK | X_OK) == 0 ? "readable" : "NOT readable");
	for (i = 0; i < cands.n; i++) {
		int r = check_candidate(cfg, trust, &cands.v[i], now, &info);
		if (r == EMG_OK && (best == (size_t)-1 || info.sequence > best_seq)) {
			best = i;
			best_seq = info.sequence;
		} else if (r != EMG_OK && worst == EMG_OK) {
			worst = r;
		}
	}
	if (best != (size_t)-1) {
		printf("newest valid bundle: %s (sequence %llu)\n", cands.v[best].origin,
		       (unsigned long long)best_seq);
		rc = EMG_OK;
	} else if (cands.n == 0) {
		rc = emg_fail(err, EMG_EIO, "no bundle found in any configured source");
	} else {
		rc = emg_fail(err, worst, "none of the %zu bundles found verifies", cands.n);
	}
	if (rc == EMG_OK && rep.warnings > 0)
		fprintf(stderr, PROG " check-source: %zu source(s) could not be read\n", rep.warnings);
	emg_candidates_free(&cands);
	return rc;
}

static int check_sources(const emg_apply_config *cfg, emg_err *err)
{
	emg_trust *trust = NULL;
	emg_lock lk;
	int rc;

	if (cfg->source_path_count + cfg->source_url_count == 0)
		return emg_fail(err, EMG_ECONFIG, "%s: no [sources] configured", cfg->path);
	rc = emg_trust_load(cfg->trust_dir, &trust, err);
	if (rc != EMG_OK)
		return rc;
	/* URL sources are fetched into the state dir: not while a run is. */
	rc = emg_state_lock(cfg->state_dir, &lk, err);
	if (rc == EMG_OK) {
		rc = check_sources_locked(cfg, trust, err);
		emg_state_unlock(&lk);
	}
	emg_trust_free(trust);
	return rc;
}

static int cmd_check_source_impl(int argc, char **argv)
{
	emg_apply_config cfg;
	admin_args a;
	emg_err err;
	int rc;

	emg_err_clear(&err);
	rc = parse_args(argc, argv, NULL, 0, 0, &a, &err);
	free(a.pos);
	if (rc == EMG_OK)
		rc = emg_apply_config_load(a.config, &cfg, &err);
	if (rc != EMG_OK)
		return finish(argv[0], rc, &err);
	rc = check_sources(&cfg, &err);
	emg_apply_config_free(&cfg);
	return finish(argv[0], rc, &err);
}

int emg_apply_cmd_status(int argc, char **argv)
{
	return wants_help(argc, argv) ? EMG_OK : cmd_status_impl(argc, argv);
}

int emg_apply_cmd_get_server(int argc, char **argv)
{
	return wants_help(argc, argv) ? EMG_OK : cmd_get_server_impl(argc, argv);
}

int emg_apply_cmd_set_server(int argc, char **argv)
{
	return wants_help(argc, argv) ? EMG_OK : cmd_set_server_impl(argc, argv);
}

int emg_apply_cmd_set_org(int argc, char **argv)
{
	return wants_help(argc, argv) ? EMG_OK : cmd_set_org_impl(argc, argv);
}

int emg_apply_cmd_check_source(int argc, char **argv)
{
	return wants_help(argc, argv) ? EMG_OK : cmd_check_source_impl(argc, argv);
}

int emg_apply_cmd_audit(int argc, char **argv)
{
	return wants_help(argc, argv) ? EMG_OK : cmd_audit_impl(argc, argv);
}
