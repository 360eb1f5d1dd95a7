/* fuzz_bundle_manifest.c - the bundle manifest parser: any bytes, no
 * crash. A manifest that parses has only safe, sorted, unique paths, and
 * formats back to exactly the bytes it was parsed from (the format has one
 * spelling for everything, so anything else means the parser let through
 * something the signer never wrote). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "bundle/manifest.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_files(const emg_manifest *m)
{
	size_t i;

	for (i = 0; i < m->count; i++) {
		if (!emg_member_name_safe(m->files[i].path))
			__builtin_trap();
		if (i > 0 && strcmp(m->files[i - 1].path, m->files[i].path) >= 0)
			__builtin_trap();
		if (emg_manifest_find(m, m->files[i].path) != (long)i)
			__builtin_trap();
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	emg_manifest m;
	emg_err err;
	char *text = NULL;
	size_t len = 0;

	memset(&m, 0, sizeof m);
	if (emg_manifest_parse((const char *)data, size, 64, &m, &err) != EMG_OK) {
		if (m.files != NULL || m.source != NULL || err.code != EMG_ECONFIG)
			__builtin_trap();
		return 0;
	}
	if (m.count > 64)
		__builtin_trap();
	check_files(&m);
	if (emg_manifest_format(&m, &text, &len, &err) != EMG_OK)
		__builtin_trap();
	if (len != size || memcmp(text, data, size) != 0)
		__builtin_trap();
	free(text);
	emg_manifest_free(&m);
	return 0;
}
