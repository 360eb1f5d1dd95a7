/* fuzz_mirror_conf.c - mirror.conf from memory: any bytes, no crash, no
 * leak (free is called on failure too, as the contract says). A config
 * that loads keeps its lists inside their bounds. */
#include <stdint.h>

#include "mirror/config.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	emg_mirror_conf c;
	emg_err err;

	if (emg_mirror_conf_parse(&c, "fuzz/mirror.conf", "/nonexistent/emgap-fuzz", (const char *)data,
				  size, &err) == EMG_OK) {
		if (c.ctl_count > EMG_MIRROR_MAX_CTL || c.eku_count > EMG_MIRROR_MAX_EKU ||
		    c.owned_count > sizeof c.owned / sizeof c.owned[0])
			__builtin_trap();
		(void)emg_mirror_conf_require(&c, 1, &err);
	} else if (err.code != EMG_ECONFIG && err.code != EMG_EIO) {
		__builtin_trap();
	}
	emg_mirror_conf_free(&c);
	return 0;
}
