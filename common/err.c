/* err.c - error reporting shared by all emgap tools. */
#include "err.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

void emg_err_clear(emg_err *err)
{
	if (err == NULL)
		return;
	err->code = EMG_OK;
	err->msg[0] = '\0';
}

int emg_fail(emg_err *err, int code, const char *fmt, ...)
{
	va_list ap;

	if (err == NULL)
		return code;
	err->code = code;
	va_start(ap, fmt);
	vsnprintf(err->msg, sizeof err->msg, fmt, ap);
	va_end(ap);
	return code;
}

int emg_err_prefix(emg_err *err, const char *fmt, ...)
{
	char prefix[EMG_ERR_MSG_MAX];
	char old[EMG_ERR_MSG_MAX];
	va_list ap;

	if (err == NULL)
		return EMG_OK;
	va_start(ap, fmt);
	vsnprintf(prefix, sizeof prefix, fmt, ap);
	va_end(ap);
	memcpy(old, err->msg, sizeof old);
	snprintf(err->msg, sizeof err->msg, "%s: %s", prefix, old);
	return err->code;
}

void emg_err_print(const char *prog, const emg_err *err)
{
	fprintf(stderr, "%s: %s\n", prog, err->msg[0] ? err->msg : emg_code_name(err->code));
}

const char *emg_code_name(int code)
{
	switch (code) {
	case EMG_OK: return "ok";
	case EMG_EUSAGE: return "usage error";
	case EMG_ECONFIG: return "configuration or input error";
	case EMG_EVERIFY: return "verification failed";
	case EMG_EFRESH: return "freshness check failed";
	case EMG_EAPPLY: return "apply failed";
	case EMG_EIO: return "I/O or network error";
	case EMG_EBUSY: return "busy";
	default: return "unknown error";
	}
}
