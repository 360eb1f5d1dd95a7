/* fuzz_keys_cert.c - key certificates: any bytes, no crash. A certificate
 * that parses has a role emgap would write and a validity window that
 * formats back to text that parses to the same certificate. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "keys/keys.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	emg_cert c, again;
	emg_err err;
	char *text = NULL;
	size_t len = 0;

	if (emg_cert_parse((const char *)data, size, &c, &err) != EMG_OK) {
		if (err.code != EMG_ECONFIG && err.code != EMG_EIO)
			__builtin_trap();
		return 0;
	}
	if (memchr(c.role, '\0', sizeof c.role) == NULL)
		__builtin_trap();
	if (emg_cert_format(&c.key, c.role, c.not_before, c.expires, &text, &len, &err) != EMG_OK)
		return 0; /* e.g. not_before == expires may parse but not be written */
	if (emg_cert_parse(text, len, &again, &err) != EMG_OK ||
	    !emg_pubkey_equal(&c.key, &again.key) || strcmp(c.role, again.role) != 0 ||
	    c.not_before != again.not_before || c.expires != again.expires)
		__builtin_trap();
	free(text);
	return 0;
}
