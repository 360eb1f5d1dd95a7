/* backend.h - the host side of Service and AppPool actions.
 *
 * IIS configuration files are edited by emgap itself (iisconf.h) on every
 * platform; what a file cannot say - a service's start type and whether it
 * runs, whether an app pool's worker process runs - goes through a backend:
 *
 *   sim      a text file under the server root (EMG_SIM_FILE), for tests,
 *            demos and rehearsals on a copy of a real server's config
 *   windows  the Service Control Manager and IIS (apply/win/, mingw-w64)
 *
 * Start types are named as Windows shows them: Automatic, Manual,
 * Disabled, Boot, System.
 */
#ifndef EMG_APPLY_BACKEND_H
#define EMG_APPLY_BACKEND_H

#include "err.h"

/* The sim backend's file, relative to the server root. Lines:
 *   service <TAB> NAME <TAB> START-TYPE <TAB> running|stopped
 *   apppool <TAB> NAME <TAB> running|stopped
 * '#' comments and blank lines are allowed but not kept: the file is
 * rewritten atomically with one line per entry, in the order read. */
#define EMG_SIM_FILE "emgap-sim-host.txt"

typedef struct emg_svc_state {
	char start_type[16]; /* Automatic, Manual, Disabled, Boot, System */
	int running;
} emg_svc_state;

typedef struct emg_backend emg_backend;

typedef struct emg_backend_ops {
	const char *name;
	/* EMG_ECONFIG "service NAME not found" when there is no such service. */
	int (*service_get)(emg_backend *b, const char *svc, emg_svc_state *st, emg_err *err);
	/* Sets the start type, then stops or starts the service. */
	int (*service_set)(emg_backend *b, const char *svc, const emg_svc_state *st, emg_err *err);
	int (*pool_get)(emg_backend *b, const char *pool, int *running, emg_err *err);
	int (*pool_set)(emg_backend *b, const char *pool, int running, emg_err *err);
	void (*close)(emg_backend *b);
} emg_backend_ops;

struct emg_backend {
	const emg_backend_ops *ops;
	char root[4096];
	void *priv;
};

/* Opens backend "sim" (or "windows" where compiled in) for a server root. */
int emg_backend_open(const char *name, const char *root, emg_backend *b, emg_err *err);
void emg_backend_close(emg_backend *b);

/* 0 for a known start type name, -1 otherwise. */
int emg_start_type_valid(const char *name);

int emg_backend_sim_open(const char *root, emg_backend *b, emg_err *err);
/* apply/win/backend_win.c, Windows builds only (make windows). */
int emg_backend_windows_open(const char *root, emg_backend *b, emg_err *err);

#endif
