/* fuzz_bundle_feed_verify.c - the vendor feed verifier's front end
 * (emg_feed_verify) with a fixed policy (the fixture's anchors, code-signing
 * EKU, missing CRLs allowed) and an empty CRL/CTL snapshot, at the fixture
 * time. Any bytes: an exit-code class, never a crash or leak; OK only with
 * a parsed feed and a signer chain that ends at the anchor. */
#include <stdint.h>
#include <string.h>

#include "bundle/feed.h"
#include "tests/fuzz/fixture.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char *const ekus[] = {"1.3.6.1.5.5.7.3.3"};
	const emg_fuzz_fixture *fx = emg_fuzz_fixture_get();
	emg_vendor_policy policy;
	emg_pki_snapshot pki;
	emg_feed_report report;
	emg_feed *feed = NULL;
	emg_err err;
	int rc;

	memset(&policy, 0, sizeof policy);
	memset(&pki, 0, sizeof pki);
	policy.anchors_pem = fx->anchors;
	policy.eku_oids = (const char **)ekus;
	policy.eku_count = 1;
	policy.allow_missing_crl = 1;
	rc = emg_feed_verify(data, size, &policy, &pki, EMG_FUZZ_AT, &report, &feed, &err);
	switch (rc) {
	case EMG_OK:
		if (feed == NULL || report.chain_len < 1 || report.chain_len > 8)
			__builtin_trap();
		break;
	case EMG_ECONFIG:
	case EMG_EVERIFY:
	case EMG_EFRESH:
	case EMG_EIO:
		if (feed != NULL || err.code != rc)
			__builtin_trap();
		break;
	default:
		__builtin_trap();
	}
	emg_feed_free(feed);
	return 0;
}
