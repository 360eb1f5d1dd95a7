/* feed.h - the vendor mitigation feed (OCS XML, DESIGN.md §3): its model,
 * the parser, and the offline verification of the vendor signature.
 *
 * The mirror (online) and the applier (offline) use the same code. */
#ifndef EMG_FEED_H
#define EMG_FEED_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "err.h"

/* Limits on untrusted feed XML. */
#define EMG_FEED_MAX_BYTES (8u * 1024 * 1024)
#define EMG_FEED_MAX_DEPTH 64
#define EMG_FEED_MAX_NODES 200000
#define EMG_FEED_MAX_CONFIGS 1024
#define EMG_FEED_MAX_ACTIONS 64 /* per Config */

typedef enum emg_action_type {
	EMG_ACTION_DO_NOTHING,
	EMG_ACTION_URL_REWRITE,
	EMG_ACTION_SERVICE,
	EMG_ACTION_APP_POOL,
	EMG_ACTION_UNSUPPORTED /* unknown type: reported, never guessed at */
} emg_action_type;

typedef enum emg_scope {
	EMG_SCOPE_SERVER,
	EMG_SCOPE_SITE,
	EMG_SCOPE_VDIR
} emg_scope;

typedef struct emg_action {
	char *subid;     /* "<Config id>.<n>", n from 1 in document order */
	emg_action_type type;
	char *type_name; /* the type attribute as written */
	emg_scope scope;
	char *desc;
	char *site;      /* Site/VDir scope: IIS site name */
	char *path;      /* VDir scope: virtual path such as "/owa" */
	/* DoNothing/Service/AppPool: the <Value> text (service or pool name).
	 * IISUrlRewrite: the serialised <rule>/<outboundRule> elements of
	 * <Value>, each a complete element, concatenated. */
	char *value;
} emg_action;

typedef struct emg_applies {
	char product[32]; /* Exchange2016, Exchange2019, ExchangeSE */
	char min[32];     /* build numbers, inclusive, e.g. "15.2.1118.7" */
	char max[32];
} emg_applies;

typedef struct emg_mitigation {
	char *id;
	char *desc;
	char *rollback;  /* may be NULL */
	emg_applies *applies;
	size_t applies_count; /* 0: applies to every product and build */
	emg_action *actions;
	size_t action_count;
} emg_mitigation;

typedef struct emg_feed {
	char *version; /* EOCS version attribute */
	emg_mitigation *items;
	size_t count;
	char **warnings; /* unknown elements/attributes, ignored */
	size_t warning_count;
} emg_feed;

/* Parses feed XML (no DTD, no entities, no network; size, depth and node
 * limits). Fails with EMG_ECONFIG on malformed input. Does not verify. */
int emg_feed_parse(const uint8_t *xml, size_t len, emg_feed **out, emg_err *err);
void emg_feed_free(emg_feed *feed);

/* Compares dotted build numbers ("15.2.1118.7"): <0, 0, >0; -2 on syntax. */
int emg_build_cmp(const char *a, const char *b, int *result);

/* ---- Verification -------------------------------------------------- */

/* A file's bytes in memory (CRL, CTL cab or .stl, PEM or DER). */
typedef struct emg_blob {
	const char *name; /* for messages */
	const uint8_t *data;
	size_t len;
} emg_blob;

/* Files of a directory read into blobs (for --crl-dir / --ctl-dir and the
 * snapshot directories of the mirror). The list owns names and data. */
typedef struct emg_blob_list {
	emg_blob *items;
	size_t count;
} emg_blob_list;

#define EMG_BLOBS_MAX_FILES 256

/* Reads every regular file of dir whose name ends in one of the NULL-
 * terminated suffixes (suffixes NULL: every file; names starting with '.'
 * are skipped), each at most max_each bytes, sorted by name. */
int emg_blobs_read_dir(const char *dir, const char *const *suffixes, size_t max_each,
		       emg_blob_list *out, emg_err *err);
void emg_blobs_free(emg_blob_list *list);

typedef struct emg_vendor_policy {
	const char *anchors_pem;  /* path of the pinned vendor anchors (PEM) */
	const char **eku_oids;    /* signer must carry at least one; NULL = none required */
	size_t eku_count;
	const char *subject;      /* signer subject must contain this (e.g. "CN=..."); may be NULL */
	int allow_missing_crl;    /* policy: 0 = a certificate without a CRL fails */
	time_t crl_time;          /* non-zero: judge CRL thisUpdate/nextUpdate at this
				   * time (e.g. the snapshot's fetch time) instead of
				   * at; certificates are still judged at at */
} emg_vendor_policy;

typedef struct emg_pki_snapshot {
	const emg_blob *crls; /* DER or PEM */
	size_t crl_count;
	const emg_blob *ctls; /* authrootstl.cab / disallowedcertstl.cab or .stl */
	size_t ctl_count;
} emg_pki_snapshot;

typedef struct emg_feed_report {
	char signer_subject[512];
	char signer_issuer[512];
	char chain[8][512]; /* subjects from signer to anchor */
	size_t chain_len;
} emg_feed_report;

/* Verifies the vendor signature over the whole document (xmlsec, enveloped
 * RSA-SHA256, one Signature, Reference URI=""), then the signer's chain to
 * the anchors with every CRL at time at, the EKU and subject rule, and the
 * disallowed CTL; then parses the verified document into *out.
 * Exit-code classes: EMG_ECONFIG malformed, EMG_EVERIFY signature/trust,
 * EMG_EFRESH revoked or expired. report and out may be NULL. */
int emg_feed_verify(const uint8_t *xml, size_t len, const emg_vendor_policy *policy,
		    const emg_pki_snapshot *pki, time_t at, emg_feed_report *report,
		    emg_feed **out, emg_err *err);

#endif
