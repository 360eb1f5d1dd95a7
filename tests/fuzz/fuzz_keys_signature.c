/* fuzz_keys_signature.c - minisign signature files (.minisig): any bytes,
 * no crash; a signature that parses must name "ED" or "Ed", carry a
 * NUL-terminated trusted comment, and never verify against a key that did
 * not make it. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "keys/keys.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	/* A key nobody holds the secret of (all-zero points are not valid
	 * Ed25519 keys for a real signer either). */
	static const emg_pubkey nobody = {{0}, {0}};
	static const uint8_t msg[] = "emgap fuzz message";
	emg_signature *sig;
	emg_err err;
	int rc;

	/* The struct is large (trusted comment up to 8 KiB): keep it off the
	 * stack so the fuzzer's stack limit does not decide. */
	sig = malloc(sizeof *sig);
	if (sig == NULL)
		return 0;
	rc = emg_signature_parse((const char *)data, size, sig, &err);
	if (rc == EMG_OK) {
		if (!(sig->alg[0] == 'E' && (sig->alg[1] == 'D' || sig->alg[1] == 'd')))
			__builtin_trap();
		if (memchr(sig->trusted_comment, '\0', sizeof sig->trusted_comment) == NULL)
			__builtin_trap();
		if (emg_signature_verify(&nobody, sig, msg, sizeof msg - 1, &err) == EMG_OK)
			__builtin_trap();
	} else if (err.code != EMG_ECONFIG && err.code != EMG_EIO) {
		__builtin_trap();
	}
	free(sig);
	return 0;
}
