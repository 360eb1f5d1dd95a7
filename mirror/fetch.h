/* fetch.h - emgap-mirror's work: check the endpoints, fetch and verify the
 * feed and its PKI into a staged snapshot, and publish bundles from it.
 *
 * Staging directory (mirror.conf [output] staging):
 *   lock                      held while a run works (flock)
 *   cache/feed.xml, feed.meta the last verified feed and its validators
 *   cache/crl/, cache/ctl/    CRLs and CTLs with their validators
 *   snapshots/<name>/         GetExchangeMitigations.xml, pki/crl, pki/ctl, info
 *   current                   names the complete snapshot (replaced atomically)
 *   sequence, published       the last bundle's sequence and what it held
 *   pending                   a publication in flight (publish.c)
 *   .emgap-tmp.*              temporaries, swept by the next run */
#ifndef EMG_MIRROR_FETCH_H
#define EMG_MIRROR_FETCH_H

#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <time.h>

#include "err.h"
#include "mirror/config.h"
#include "mirror/http.h"
#include "mirror/log.h"

#define EMG_SNAPSHOT_FEED "GetExchangeMitigations.xml"

typedef struct emg_mirror_ctx {
	const emg_mirror_conf *conf;
	emg_http_conf http;
	emg_mlog *log;
	const volatile sig_atomic_t *stop;
	time_t now;   /* one clock reading per pass */
	FILE *out;    /* progress lines for the operator; NULL for quiet */
} emg_mirror_ctx;

/* Fills ctx->http from the config. */
void emg_mirror_ctx_init(emg_mirror_ctx *ctx, const emg_mirror_conf *conf, emg_mlog *log,
			 const volatile sig_atomic_t *stop, int progress, FILE *out);

typedef struct emg_snapshot {
	char dir[PATH_MAX];  /* the complete snapshot directory */
	char digest[65];     /* SHA-256 over every file in it */
	int reused;          /* nothing changed: the previous snapshot stands */
} emg_snapshot;

/* Takes the staging lock (EMG_EBUSY when another run holds it); *fd is
 * released with emg_mirror_unlock. */
int emg_mirror_lock(const char *staging, int *fd, emg_err *err);
void emg_mirror_unlock(int fd);

/* `check`: probes the feed, the CRL distribution points of the anchors and
 * the feed's chain, and the CTLs; prints a Result/Message block for each
 * (or one JSON document). Returns EMG_OK when all are reachable,
 * otherwise EMG_EIO. */
int emg_mirror_check(emg_mirror_ctx *ctx, FILE *out, int json);

/* `fetch`: downloads the feed (conditional GET), the chain's CRLs (only
 * those past nextUpdate) and the CTLs, verifies the feed with them at
 * ctx->now and stages a snapshot atomically. Nothing is staged on failure. */
int emg_mirror_fetch(emg_mirror_ctx *ctx, emg_snapshot *snap, emg_err *err);

/* `run`, one pass: fetch, then create, sign and publish a bundle into the
 * drop directory unless nothing changed and the last bundle is fresh. */
int emg_mirror_run(emg_mirror_ctx *ctx, emg_err *err);

/* Helpers shared by fetch.c and publish.c. */
int emg_mirror_read_small(const char *path, char *buf, size_t buflen, int *missing, emg_err *err);
int emg_mirror_rmtree(const char *path, emg_err *err);

#endif
