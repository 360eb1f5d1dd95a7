/* fleet.h - each server's status file on the share, and the fleet view.
 *
 * FOR THE ENGINE: at the end of every run (dry runs excepted), call
 *
 *     emg_fleet_publish(cfg, st, settings, org_enabled, now, err);
 *
 * It writes <[org] status_dir>/<server name>.status atomically, and does
 * nothing when status_dir is not configured. A failure is worth an event
 * (1008) but should not change the run's result: the mitigations were
 * applied either way.
 *
 * The status file is strict INI, one [server] section:
 *
 *   name = EXCH01
 *   product = Exchange2019
 *   build = 15.2.1118.7
 *   mitigations_enabled = true          (the server's setting)
 *   org_mitigations_enabled = true
 *   mitigations_applied = M1.1,M1.2     (sub-ids in place on the server)
 *   mitigations_blocked = M2
 *   failed = M3.1                       (sub-ids whose last status is Failed)
 *   last_checked = 2026-11-25T18:00:00Z
 *   interval = 3600                     (seconds between checks, [schedule])
 *   sequence = 42                       (last accepted bundle, 0 = none)
 *   result = ok | the last run's error message
 *
 * Other servers' files are untrusted input to the fleet view: each is read
 * with size and count limits, and a bad one is shown as that server's
 * error without hiding the rest. */
#ifndef EMG_APPLY_FLEET_H
#define EMG_APPLY_FLEET_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "apply/config.h"
#include "apply/report.h"
#include "apply/state.h"
#include "err.h"

#define EMG_FLEET_SUFFIX ".status"
#define EMG_FLEET_FILE_MAX (256u * 1024)
#define EMG_FLEET_MAX_SERVERS 10000

typedef struct emg_fleet_status {
	char name[64];
	char product[32];
	char build[32];
	int enabled;
	int org_enabled;
	emg_idlist applied;
	emg_idlist blocked;
	emg_idlist failed;
	time_t last_checked;
	unsigned long long interval; /* seconds between checks; 0 = unknown */
	uint64_t sequence;
	char result[512];
	char error[512];  /* reader only: why this file could not be used */
} emg_fleet_status;

void emg_fleet_status_free(emg_fleet_status *s);

/* A server name fit for a file name: letters, digits, '-', '_', '.', not
 * starting with '.', 1..63 bytes (NetBIOS and DNS names qualify). */
int emg_fleet_name_valid(const char *name);

/* Fills s from the config, state and settings (what get-server shows). */
int emg_fleet_from_state(const emg_apply_config *cfg, const emg_state *st,
			 const emg_server_settings *ss, int org_enabled, time_t now,
			 emg_fleet_status *s, emg_err *err);

/* Renders s as the status file text (into b). */
void emg_fleet_render(const emg_fleet_status *s, emg_sbuf *b);
/* Parses one status file's text; name is used in messages. EMG_ECONFIG
 * with "name:line: ..." on anything malformed. */
int emg_fleet_parse(const char *name, const char *text, size_t len,
		    emg_fleet_status *s, emg_err *err);

/* Writes <dir>/<s->name>.status atomically (creating dir if missing). */
int emg_fleet_write(const char *dir, const emg_fleet_status *s, emg_err *err);

/* See the top of this file. */
int emg_fleet_publish(const emg_apply_config *cfg, const emg_state *st,
		      const emg_server_settings *ss, int org_enabled, time_t now,
		      emg_err *err);

/* Reads every *.status file in dir, sorted by name. A file that cannot be
 * read or parsed gives an entry with error set (name from the file name).
 * Fails only when dir itself cannot be read (EMG_EIO) or holds more than
 * EMG_FLEET_MAX_SERVERS files. Free with emg_fleet_list_free. */
int emg_fleet_read_dir(const char *dir, emg_fleet_status **out, size_t *n, emg_err *err);
void emg_fleet_list_free(emg_fleet_status *list, size_t n);

/* A server that stopped checking: its last check is more than twice its
 * interval old at now (an hour by default when the file does not say).
 * A file that could not be read is not judged (0). */
#define EMG_FLEET_DEFAULT_INTERVAL 3600ULL
int emg_fleet_stale(const emg_fleet_status *s, time_t now);

/* The view of s for the report printers (pointers into s), with Stale
 * judged at now. */
void emg_fleet_view(const emg_fleet_status *s, time_t now, emg_server_view *v);

#endif
