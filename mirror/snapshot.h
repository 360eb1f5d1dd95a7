/* snapshot.h - inside emgap-mirror: the downloads of one pass in memory,
 * and how they become a staged snapshot on disk. */
#ifndef EMG_MIRROR_SNAPSHOT_H
#define EMG_MIRROR_SNAPSHOT_H

#include "mirror/chain.h"
#include "mirror/fetch.h"

/* One downloaded file. */
typedef struct emg_mirror_item {
	char name[96];   /* file name inside the snapshot */
	const char *url;
	uint8_t *data;
	size_t len;
} emg_mirror_item;

/* The feed and the PKI it is verified with. */
typedef struct emg_mirror_pki {
	emg_mirror_item feed;
	emg_mirror_item crl[EMG_MAX_CDP_URLS];
	size_t ncrl;
	emg_mirror_item ctl[EMG_MIRROR_MAX_CTL];
	size_t nctl;
} emg_mirror_pki;

/* "a/b" into out; EMG_ECONFIG when it does not fit. */
int emg_mirror_join(char *out, size_t outlen, const char *a, const char *b, emg_err *err);

/* Lower-case hex SHA-256 of data. */
void emg_mirror_sha256_hex(const uint8_t *data, size_t len, char out[65]);

/* Stages p as the current snapshot (see fetch.h), or finds that the
 * current one already holds exactly this (snap->reused). */
int emg_mirror_stage(const emg_mirror_ctx *ctx, const emg_mirror_pki *p, emg_snapshot *snap,
		     emg_err *err);

#endif
