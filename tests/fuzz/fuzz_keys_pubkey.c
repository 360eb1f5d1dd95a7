/* fuzz_keys_pubkey.c - minisign public key files (.pub) and the bare base64
 * key line: any bytes, no crash; a key that parses must survive a format
 * and parse round trip unchanged. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "keys/keys.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void round_trip(const emg_pubkey *pk)
{
	emg_pubkey again;
	emg_err err;
	char b64[EMG_PUBKEY_B64_SIZE];
	char *text = NULL;
	size_t len = 0;

	emg_pubkey_to_base64(pk, b64);
	if (emg_pubkey_from_base64(b64, strlen(b64), &again, &err) != EMG_OK ||
	    !emg_pubkey_equal(pk, &again))
		__builtin_trap();
	if (emg_pubkey_format(pk, &text, &len, &err) != EMG_OK)
		return;
	if (emg_pubkey_parse(text, len, &again, &err) != EMG_OK || !emg_pubkey_equal(pk, &again))
		__builtin_trap();
	free(text);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	emg_pubkey pk;
	emg_err err;
	char id[EMG_KEYID_HEX_LEN];

	if (emg_pubkey_parse((const char *)data, size, &pk, &err) == EMG_OK) {
		emg_keyid_hex(pk.keynum, id);
		if (strlen(id) != 16)
			__builtin_trap();
		round_trip(&pk);
	} else if (err.code != EMG_ECONFIG && err.code != EMG_EIO) {
		__builtin_trap(); /* malformed input is a config error, nothing else */
	}
	if (emg_pubkey_from_base64((const char *)data, size, &pk, &err) == EMG_OK)
		round_trip(&pk);
	return 0;
}
