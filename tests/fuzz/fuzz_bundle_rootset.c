/* fuzz_bundle_rootset.c - root sets (root key rotation, carried inside
 * bundles): any bytes, no crash. A set that parses has 1..threshold..count
 * distinct keys within the limit; and no set is ever accepted as the
 * successor of the current one without signatures (a rotation that needs
 * none would hand the organisation's roots to whoever writes a bundle). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "bundle/rotation.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_set(const emg_root_set *s)
{
	size_t i, j;

	if (s->count < 1 || s->count > EMG_TRUST_ROOTS_MAX || s->threshold < 1 ||
	    s->threshold > s->count)
		__builtin_trap();
	for (i = 0; i < s->count; i++)
		for (j = i + 1; j < s->count; j++)
			if (memcmp(s->keys[i].keynum, s->keys[j].keynum, EMG_KEYNUM_LEN) == 0)
				__builtin_trap(); /* one key must not count twice */
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	emg_root_set *cur, *next;
	emg_text text;
	emg_err err;

	/* Each set holds 32 keys: keep them off the stack. */
	cur = calloc(1, sizeof *cur);
	next = calloc(1, sizeof *next);
	if (cur == NULL || next == NULL)
		goto out;
	if (emg_root_set_parse("fuzz.roots", (const char *)data, size, next, &err) == EMG_OK)
		check_set(next);
	else if (err.code != EMG_ECONFIG)
		__builtin_trap();
	/* The current set: version 1, one key, threshold 1. */
	cur->version = 1;
	cur->threshold = 1;
	cur->count = 1;
	text.name = "fuzz.roots";
	text.data = (const char *)data;
	text.len = size;
	if (emg_root_set_next(cur, &text, NULL, 0, next, &err) == EMG_OK)
		__builtin_trap();
out:
	free(cur);
	free(next);
	return 0;
}
