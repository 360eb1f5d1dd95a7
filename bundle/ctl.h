/* ctl.h - Windows certificate trust lists (authroot.stl, disallowedcert.stl,
 * or the .cab files Windows Update ships them in).
 *
 * A CTL is a PKCS#7 SignedData whose content (type 1.3.6.1.4.1.311.10.1) is
 * a list of certificate identifiers, SHA-1 thumbprints in practice. emgap
 * reads it to refuse vendor anchors Microsoft has disallowed. The CTL's own
 * signature is not checked here: the snapshot that carries it is covered by
 * the organisation's bundle signatures. */
#ifndef EMG_CTL_H
#define EMG_CTL_H

#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "err.h"

#define EMG_CTL_MAX_BYTES (32u * 1024 * 1024) /* .cab or .stl */
#define EMG_CTL_MAX_SUBJECTS 100000
#define EMG_CTL_ID_MAX 64

#define EMG_CTL_USAGE_AUTHROOT "1.3.6.1.4.1.311.10.3.9"
#define EMG_CTL_USAGE_DISALLOWED "1.3.6.1.4.1.311.10.3.30"

typedef enum emg_ctl_kind {
	EMG_CTL_OTHER,
	EMG_CTL_AUTHROOT,  /* subject usage 1.3.6.1.4.1.311.10.3.9 */
	EMG_CTL_DISALLOWED /* subject usage 1.3.6.1.4.1.311.10.3.30 */
} emg_ctl_kind;

typedef struct emg_ctl_subject {
	uint8_t id[EMG_CTL_ID_MAX];
	size_t len; /* 20 for a SHA-1 thumbprint */
} emg_ctl_subject;

typedef struct emg_ctl {
	emg_ctl_kind kind;
	char usage[80];     /* first subject usage OID, dotted */
	char sequence[80];  /* sequence number in hex, "" when absent */
	time_t this_update;
	time_t next_update; /* 0 when absent */
	char algorithm[80]; /* subject algorithm OID (sha1: 1.3.14.3.2.26) */
	emg_ctl_subject *subjects;
	size_t count;
} emg_ctl;

/* Parses a CTL from a .cab (its first .stl member) or a bare .stl (DER
 * PKCS#7). name is used in messages. EMG_ECONFIG on malformed input. */
int emg_ctl_parse(const uint8_t *data, size_t len, const char *name, emg_ctl **out, emg_err *err);
void emg_ctl_free(emg_ctl *ctl);

/* 1 when the CTL lists the identifier (e.g. a 20-byte SHA-1 thumbprint). */
int emg_ctl_lists(const emg_ctl *ctl, const uint8_t *id, size_t len);

#endif
