/* engine_diff.h - a unified diff of two in-memory files, for --dry-run.
 * Lines compare as bytes (CR included); 3 lines of context. */
#ifndef EMG_APPLY_ENGINE_DIFF_H
#define EMG_APPLY_ENGINE_DIFF_H

#include <stddef.h>
#include <stdint.h>

#include "apply/report.h"

/* Appends "--- a/NAME\n+++ b/NAME\n@@ ... @@" hunks to out; nothing when
 * the files are equal. NAME is relative (the engine gives the path below
 * the server root, so "patch -p1" applies the diff there); a NAME with a
 * space is followed by a tab, which patch(1) needs to read it whole. An
 * absent file is given as NULL (shown as /dev/null). Returns 0, or -1 on
 * no memory (out->oom is set as well). */
int emg_diff_unified(const char *name, const uint8_t *a, size_t alen, const uint8_t *b,
		     size_t blen, emg_sbuf *out);

#endif
