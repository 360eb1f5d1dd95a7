/* apply_backend.c - the sim host backend: services and app pools. */
#include <stdio.h>
#include <string.h>

#include "apply/backend.h"
#include "check.h"
#include "err.h"
#include "fileio.h"

static int put(const char *root, const char *text)
{
	char path[4096];
	emg_err e;

	snprintf(path, sizeof path, "%s/%s", root, EMG_SIM_FILE);
	return emg_write_file_atomic(path, text, strlen(text), 0644, &e);
}

int main(void)
{
	check_ctx c = {0};
	const char *root = check_tmpdir();
	emg_backend b;
	emg_svc_state s;
	emg_err err;
	int running = -1;

	CHECK(&c, emg_backend_open("windows", root, &b, &err) == EMG_ECONFIG && strstr(err.msg, "windows"),
	      "windows backend refused off Windows");
	CHECK(&c, emg_backend_open("sim", root, &b, &err) == EMG_OK, "sim backend opens");
	CHECK(&c, b.ops->service_get(&b, "MSExchangeUM", &s, &err) == EMG_ECONFIG && strstr(err.msg, "not found"),
	      "no state file: service not found");
	put(root, "# sim\nservice\tMSExchangeUM\tAutomatic\trunning\n\napppool\tMSExchangeECPAppPool\trunning\n");
	CHECK(&c, b.ops->service_get(&b, "msexchangeum", &s, &err) == EMG_OK && strcmp(s.start_type, "Automatic") == 0 &&
		      s.running == 1,
	      "service read (name without regard to case)");
	strcpy(s.start_type, "Disabled");
	s.running = 1;
	CHECK(&c, b.ops->service_set(&b, "MSExchangeUM", &s, &err) == EMG_EAPPLY, "a Disabled service cannot run");
	s.running = 0;
	CHECK(&c, b.ops->service_set(&b, "MSExchangeUM", &s, &err) == EMG_OK, "service stopped and disabled");
	memset(&s, 0, sizeof s);
	CHECK(&c, b.ops->service_get(&b, "MSExchangeUM", &s, &err) == EMG_OK && strcmp(s.start_type, "Disabled") == 0 &&
		      s.running == 0,
	      "service change persisted");
	strcpy(s.start_type, "Sometimes");
	CHECK(&c, b.ops->service_set(&b, "MSExchangeUM", &s, &err) == EMG_ECONFIG, "unknown start type refused");
	CHECK(&c, b.ops->pool_get(&b, "MSExchangeECPAppPool", &running, &err) == EMG_OK && running == 1, "pool read");
	CHECK(&c, b.ops->pool_set(&b, "MSExchangeECPAppPool", 0, &err) == EMG_OK &&
		      b.ops->pool_get(&b, "MSExchangeECPAppPool", &running, &err) == EMG_OK && running == 0,
	      "pool stopped");
	CHECK(&c, b.ops->pool_get(&b, "MSExchangeUM", &running, &err) == EMG_ECONFIG, "a service is not a pool");
	CHECK(&c, b.ops->pool_set(&b, "NoSuchPool", 0, &err) == EMG_ECONFIG, "unknown pool");
	put(root, "service\tX\tAutomatic\n");
	CHECK(&c, b.ops->service_get(&b, "X", &s, &err) == EMG_ECONFIG && strstr(err.msg, ":1:"),
	      "malformed sim file refused with file:line");
	put(root, "service\tX\tAutomatic\tmaybe\n");
	CHECK(&c, b.ops->service_get(&b, "X", &s, &err) == EMG_ECONFIG, "bad running state refused");
	CHECK(&c, emg_start_type_valid("Manual") == 0 && emg_start_type_valid("manual") != 0, "start type names");
	emg_backend_close(&b);
	return c.failed ? 1 : 0;
}
