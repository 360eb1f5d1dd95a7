/* fuzz_keys_seckey.c - minisign secret key files: any bytes, no crash, no
 * leak. No passphrase is given, so an encrypted key must be refused before
 * any scrypt work (a hostile file must not buy a 4 GiB key derivation);
 * an unencrypted key that parses must give back a consistent public half. */
#include <stdint.h>

#include "keys/keys.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	emg_seckey sk;
	emg_pubkey pk;
	emg_err err;
	int enc = -1, rc;

	rc = emg_seckey_is_encrypted((const char *)data, size, &enc, &err);
	if (rc == EMG_OK && enc != 0 && enc != 1)
		__builtin_trap();
	rc = emg_seckey_parse((const char *)data, size, NULL, &sk, &err);
	if (rc == EMG_OK) {
		/* Only an unencrypted key can open without a passphrase. */
		if (enc != 0)
			__builtin_trap();
		emg_seckey_public(&sk, &pk);
		emg_seckey_wipe(&sk);
	} else if (rc == EMG_EUSAGE) {
		if (enc != 1)
			__builtin_trap(); /* "needs a passphrase" only for encrypted keys */
	}
	return 0;
}
