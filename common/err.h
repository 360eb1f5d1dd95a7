/* err.h - the one error type and exit-code scheme shared by every emgap tool. */
#ifndef EMG_ERR_H
#define EMG_ERR_H

#include <stddef.h>

/* Exit codes (DESIGN.md §7). A function that fails returns one of these
 * (never EMG_OK) and fills an emg_err with a message for the operator. */
enum emg_code {
	EMG_OK = 0,      /* ok, or nothing to do */
	EMG_EUSAGE = 2,  /* bad command line */
	EMG_ECONFIG = 3, /* bad config file or malformed input file */
	EMG_EVERIFY = 4, /* signature, trust or hash failure */
	EMG_EFRESH = 5,  /* expired, revoked, rollback, fast-forward */
	EMG_EAPPLY = 6,  /* apply failed, changes rolled back */
	EMG_EIO = 7,     /* I/O or network */
	EMG_EBUSY = 8    /* another instance holds the lock */
};

#define EMG_ERR_MSG_MAX 1024

typedef struct emg_err {
	int code;
	char msg[EMG_ERR_MSG_MAX];
} emg_err;

void emg_err_clear(emg_err *err);

/* Records code and message in err (err may be NULL) and returns code, so
 * callers can write: return emg_fail(err, EMG_EIO, "%s: %s", path, ...); */
int emg_fail(emg_err *err, int code, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* Prefixes the existing message with more context ("reading manifest: ..."). */
int emg_err_prefix(emg_err *err, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/* Prints "prog: message" to stderr. */
void emg_err_print(const char *prog, const emg_err *err);

const char *emg_code_name(int code);

#endif
