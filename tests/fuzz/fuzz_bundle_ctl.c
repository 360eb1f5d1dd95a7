/* fuzz_bundle_ctl.c - Windows CTLs (.cab or bare .stl): any bytes, no
 * crash. A CTL that parses lists every subject it holds and no more than
 * the limit; identifiers fit their buffer. */
#include <stdint.h>

#include "bundle/ctl.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	emg_ctl *ctl = NULL;
	emg_err err;
	size_t i;

	if (emg_ctl_parse(data, size, "fuzz.stl", &ctl, &err) != EMG_OK) {
		if (err.code != EMG_ECONFIG && err.code != EMG_EIO)
			__builtin_trap();
		return 0;
	}
	if (ctl->count > EMG_CTL_MAX_SUBJECTS)
		__builtin_trap();
	for (i = 0; i < ctl->count; i++) {
		if (ctl->subjects[i].len > EMG_CTL_ID_MAX)
			__builtin_trap();
		if (!emg_ctl_lists(ctl, ctl->subjects[i].id, ctl->subjects[i].len))
			__builtin_trap();
	}
	emg_ctl_free(ctl);
	return 0;
}
