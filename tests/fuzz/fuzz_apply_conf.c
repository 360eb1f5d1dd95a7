/* fuzz_apply_conf.c - apply.conf: any bytes, no crash, no leak. The loader
 * reads a file, so each input is written to a private temporary file under
 * /tmp (mkstemp) and removed again. A config that loads keeps its source
 * lists inside their bounds and names a known product and backend. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "apply/config.h"
#include "sysio.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_cfg(const emg_apply_config *cfg)
{
	if (cfg->source_path_count > EMG_APPLY_MAX_SOURCES ||
	    cfg->source_url_count > EMG_APPLY_MAX_SOURCES)
		__builtin_trap();
	if (strcmp(cfg->product, "Exchange2016") != 0 && strcmp(cfg->product, "Exchange2019") != 0 &&
	    strcmp(cfg->product, "ExchangeSE") != 0)
		__builtin_trap();
	if (strcmp(cfg->backend, "sim") != 0 && strcmp(cfg->backend, "windows") != 0)
		__builtin_trap();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char path[] = "/tmp/emgap-fuzz-apply-XXXXXX";
	emg_apply_config *cfg;
	emg_err err;
	int fd, rc;

	fd = mkstemp(path);
	if (fd < 0)
		return 0;
	rc = emg_write_all(fd, data, size);
	close(fd);
	/* emg_apply_config is a few pages of paths: keep it off the stack. */
	cfg = calloc(1, sizeof *cfg);
	if (rc == 0 && cfg != NULL) {
		if (emg_apply_config_load(path, cfg, &err) == EMG_OK) {
			check_cfg(cfg);
			emg_apply_config_free(cfg);
		} else if (err.code != EMG_ECONFIG && err.code != EMG_EIO) {
			__builtin_trap();
		}
	}
	free(cfg);
	unlink(path);
	return 0;
}
