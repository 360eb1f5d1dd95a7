/* fuzz_common_ini.c - the INI parser must take any bytes without crashing,
 * and anything it accepts must answer lookups. */
#include <stdint.h>
#include <string.h>

#include "ini.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const emg_ini_key allowed[] = {{"server", "name", 0}, {"sources", "path", 1}, {NULL, NULL, 0}};
	emg_ini ini;
	emg_err err;
	size_t pos = 0;
	int b;

	if (emg_ini_parse(&ini, "fuzz.conf", (const char *)data, size, &err) != EMG_OK)
		return 0;
	(void)emg_ini_check(&ini, allowed, &err);
	(void)emg_ini_get(&ini, "server", "name");
	while (emg_ini_next(&ini, "sources", "path", &pos) != NULL)
		;
	(void)emg_ini_get_bool(&ini, "server", "name", 0, &b, &err);
	emg_ini_free(&ini);
	return 0;
}
