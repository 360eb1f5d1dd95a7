/* keys_text.h - line and base64 helpers shared inside keys/ (not an API
 * for other parts). */
#ifndef EMG_KEYS_TEXT_H
#define EMG_KEYS_TEXT_H

#include <stddef.h>
#include <stdint.h>

#include "err.h"

/* Walks a text buffer line by line; lineno is the line last returned. */
typedef struct emg_cursor {
	const char *p;
	const char *end;
	int lineno;
} emg_cursor;

void emg_cursor_init(emg_cursor *c, const char *text, size_t len);
/* Next line without its "\n" (nor a "\r" before it); 0 at the end. */
int emg_cursor_next(emg_cursor *c, const char **line, size_t *len);
/* Fails (EMG_ECONFIG) on any non-blank line left; what names the last part. */
int emg_cursor_rest_blank(emg_cursor *c, const char *what, emg_err *err);
int emg_starts_with(const char *s, size_t n, const char *prefix);
/* Exactly want bytes of padded standard base64, or EMG_ECONFIG naming what. */
int emg_b64_decode(const char *s, size_t n, uint8_t *bin, size_t want, const char *what,
		   emg_err *err);
/* sodium_init(), once per process; EMG_EIO if libsodium cannot start. */
int emg_crypto_init(emg_err *err);

#endif
