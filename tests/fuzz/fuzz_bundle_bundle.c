/* fuzz_bundle_bundle.c - the bundle reader, whole archive bytes in (plain
 * or compressed tar, or anything else). Each input is written to a private
 * file under /tmp (mkstemp) and verified against the fixture trust
 * directory at the fixture time, with a state directory but without
 * accepting (nothing is recorded). Any bytes: an exit-code class, never a
 * crash or leak; a verdict of OK means the bundle carried a feed and at
 * least one valid signer (the fixture's threshold). */
#include <stdint.h>

#include "bundle/bundle.h"
#include "sysio.h"
#include "tests/fuzz/fixture.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_verdict(int rc, const emg_bundle_info *info, emg_feed *feed, const emg_err *err)
{
	switch (rc) {
	case EMG_OK:
		if (feed == NULL || info->valid_signers < 1)
			__builtin_trap();
		break;
	case EMG_ECONFIG:
	case EMG_EVERIFY:
	case EMG_EFRESH:
	case EMG_EIO:
		if (feed != NULL || err->code != rc || err->msg[0] == '\0')
			__builtin_trap();
		break;
	default:
		__builtin_trap();
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const emg_fuzz_fixture *fx = emg_fuzz_fixture_get();
	char path[] = "/tmp/emgap-fuzz-bundle-XXXXXX";
	emg_trust *trust = NULL;
	emg_bundle_info info;
	emg_feed *feed = NULL;
	emg_err err;
	int fd, rc;

	/* Loading the trust directory each time keeps the target free of
	 * long-lived heap state; it is three small files. */
	if (emg_trust_load(fx->dir, &trust, &err) != EMG_OK)
		abort();
	fd = mkstemp(path);
	if (fd < 0)
		abort();
	rc = emg_write_all(fd, data, size);
	close(fd);
	if (rc == 0) {
		rc = emg_bundle_verify(path, trust, fx->state, 0, EMG_FUZZ_AT, &info, &feed, &err);
		check_verdict(rc, &info, feed, &err);
		emg_feed_free(feed);
	}
	unlink(path);
	emg_trust_free(trust);
	return 0;
}
