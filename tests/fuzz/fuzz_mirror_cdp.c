/* fuzz_mirror_cdp.c - the mirror reads CRL URLs out of a feed it has not
 * verified yet: any bytes, no crash, no leak, and every URL it returns is
 * a bounded http(s) URL from a certificate that chains to the anchors. */
#include <stdint.h>
#include <string.h>

#include "tests/fuzz/fixture.h"
#include "mirror/chain.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const emg_fuzz_fixture *fx = emg_fuzz_fixture_get();
	emg_urls urls = {NULL, 0};
	emg_err err;
	size_t i;

	if (fx == NULL)
		__builtin_trap();
	if (emg_feed_cdp_urls(data, size, fx->anchors, &urls, &err) == EMG_OK) {
		if (urls.n > EMG_MAX_CDP_URLS)
			__builtin_trap();
		for (i = 0; i < urls.n; i++)
			if (strncmp(urls.v[i], "http://", 7) != 0 && strncmp(urls.v[i], "https://", 8) != 0)
				__builtin_trap();
	} else if (err.code != EMG_ECONFIG && err.code != EMG_EIO) {
		__builtin_trap();
	}
	emg_urls_free(&urls);
	return 0;
}
