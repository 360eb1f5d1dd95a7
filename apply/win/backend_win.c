/* backend_win.c - the windows host backend: services through the Service
 * Control Manager, app pools through IIS's appcmd.exe.
 *
 * Built only by "make windows" (mingw-w64); the rest of emgap-apply is the
 * same on every platform. Every handle is closed on every path. */
#ifndef _WIN32
/* cppcheck-suppress preprocessorErrorDirective */
#error "backend_win.c is for Windows builds (make windows)"
#endif

#define WIN32_LEAN_AND_MEAN
#include <windows.h>

#include <stdio.h>
#include <string.h>

#include "apply/backend.h"
#include "err.h"

/* How long a stop may take before we call it failed (ms). */
#define STOP_WAIT_MS 30000
#define POLL_MS 250
#define APPCMD_OUT_MAX 4096

static int win_fail(emg_err *err, int code, const char *what, const char *name)
{
	DWORD e = GetLastError();
	char msg[256] = "";

	FormatMessageA(FORMAT_MESSAGE_FROM_SYSTEM | FORMAT_MESSAGE_IGNORE_INSERTS, NULL, e, 0, msg,
		       sizeof msg, NULL);
	msg[strcspn(msg, "\r\n")] = '\0';
	if (e == ERROR_SERVICE_DOES_NOT_EXIST)
		code = EMG_ECONFIG;
	return emg_fail(err, code, "%s %s: %s (error %lu)", what, name, msg, (unsigned long)e);
}

static const char *start_name(DWORD t)
{
	switch (t) {
	case SERVICE_AUTO_START:
		return "Automatic";
	case SERVICE_DEMAND_START:
		return "Manual";
	case SERVICE_DISABLED:
		return "Disabled";
	case SERVICE_BOOT_START:
		return "Boot";
	case SERVICE_SYSTEM_START:
		return "System";
	default:
		return NULL;
	}
}

static int start_code(const char *name, DWORD *out)
{
	static const struct {
		const char *n;
		DWORD t;
	} map[] = {{"Automatic", SERVICE_AUTO_START}, {"Manual", SERVICE_DEMAND_START},
		   {"Disabled", SERVICE_DISABLED},    {"Boot", SERVICE_BOOT_START},
		   {"System", SERVICE_SYSTEM_START}};
	size_t i;

	for (i = 0; i < sizeof map / sizeof map[0]; i++)
		if (strcmp(name, map[i].n) == 0) {
			*out = map[i].t;
			return 0;
		}
	return -1;
}

static int open_service(const char *svc, DWORD access, SC_HANDLE *scm, SC_HANDLE *h, emg_err *err)
{
	*scm = OpenSCManagerA(NULL, NULL, SC_MANAGER_CONNECT);
	if (*scm == NULL)
		return win_fail(err, EMG_EIO, "Service Control Manager for", svc);
	*h = OpenServiceA(*scm, svc, access);
	if (*h == NULL) {
		int rc = win_fail(err, EMG_EAPPLY, "service", svc);
		CloseServiceHandle(*scm);
		return rc;
	}
	return EMG_OK;
}

static int query(SC_HANDLE h, const char *svc, emg_svc_state *st, emg_err *err)
{
	union {
		QUERY_SERVICE_CONFIGA cfg;
		BYTE raw[8192];
	} buf;
	SERVICE_STATUS ss;
	DWORD need = 0;
	const char *name;

	if (!QueryServiceConfigA(h, &buf.cfg, sizeof buf, &need))
		return win_fail(err, EMG_EIO, "query service", svc);
	name = start_name(buf.cfg.dwStartType);
	if (name == NULL)
		return emg_fail(err, EMG_EAPPLY, "service %s: unknown start type %lu", svc,
				(unsigned long)buf.cfg.dwStartType);
	snprintf(st->start_type, sizeof st->start_type, "%s", name);
	if (!QueryServiceStatus(h, &ss))
		return win_fail(err, EMG_EIO, "query service status", svc);
	st->running = ss.dwCurrentState != SERVICE_STOPPED;
	return EMG_OK;
}

static int win_service_get(emg_backend *b, const char *svc, emg_svc_state *st, emg_err *err)
{
	SC_HANDLE scm, h;
	int rc;

	(void)b;
	rc = open_service(svc, SERVICE_QUERY_CONFIG | SERVICE_QUERY_STATUS, &scm, &h, err);
	if (rc != EMG_OK)
		return rc;
	rc = query(h, svc, st, err);
	CloseServiceHandle(h);
	CloseServiceHandle(scm);
	return rc;
}

/* Stops the service and waits until the SCM reports it stopped. */
static int stop_and_wait(SC_HANDLE h, const char *svc, emg_err *err)
{
	SERVICE_STATUS ss;
	DWORD waited = 0;

	if (!ControlService(h, SERVICE_CONTROL_STOP, &ss)) {
		DWORD e = GetLastError();
		if (e != ERROR_SERVICE_NOT_ACTIVE)
			return win_fail(err, EMG_EAPPLY, "stop service", svc);
		return EMG_OK;
	}
	while (ss.dwCurrentState != SERVICE_STOPPED) {
		if (waited >= STOP_WAIT_MS)
			return emg_fail(err, EMG_EAPPLY, "service %s did not stop within %u s", svc,
					STOP_WAIT_MS / 1000);
		Sleep(POLL_MS);
		waited += POLL_MS;
		if (!QueryServiceStatus(h, &ss))
			return win_fail(err, EMG_EIO, "query service status", svc);
	}
	return EMG_OK;
}

static int win_service_set(emg_backend *b, const char *svc, const emg_svc_state *st, emg_err *err)
{
	SC_HANDLE scm, h;
	DWORD type;
	int rc;

	(void)b;
	if (start_code(st->start_type, &type) != 0)
		return emg_fail(err, EMG_ECONFIG, "service %s: unknown start type '%s'", svc, st->start_type);
	rc = open_service(svc, SERVICE_CHANGE_CONFIG | SERVICE_QUERY_STATUS | SERVICE_STOP | SERVICE_START,
			  &scm, &h, err);
	if (rc != EMG_OK)
		return rc;
	/* Start type first: a stopped service must not be restarted by a
	 * recovery action or a dependent service in between. */
	if (!ChangeServiceConfigA(h, SERVICE_NO_CHANGE, type, SERVICE_NO_CHANGE, NULL, NULL, NULL, NULL,
				  NULL, NULL, NULL))
		rc = win_fail(err, EMG_EAPPLY, "change start type of service", svc);
	else if (!st->running)
		rc = stop_and_wait(h, svc, err);
	else if (!StartServiceA(h, 0, NULL) && GetLastError() != ERROR_SERVICE_ALREADY_RUNNING)
		rc = win_fail(err, EMG_EAPPLY, "start service", svc);
	CloseServiceHandle(h);
	CloseServiceHandle(scm);
	return rc;
}

/* App pools: appcmd.exe, run without a shell; the pool name is checked so
 * it cannot carry quotes or switches into the command line. */
static int pool_name_ok(const char *pool)
{
	const char *p;

	if (pool[0] == '\0' || pool[0] == '-' || pool[0] == '/' || strlen(pool) > 200)
		return 0;
	for (p = pool; *p; p++)
		if (*p == '"' || *p == '\\' || (unsigned char)*p < 0x20)
			return 0;
	return 1;
}

static int appcmd(const char *args, char *out, size_t outlen, DWORD *exit_code, emg_err *err)
{
	char exe[MAX_PATH], cmd[1024];
	SECURITY_ATTRIBUTES sa = {sizeof sa, NULL, TRUE};
	HANDLE rd = NULL, wr = NULL;
	STARTUPINFOA si;
	PROCESS_INFORMATION pi;
	DWORD n = 0, got = 0;
	UINT len;

	len = GetSystemDirectoryA(exe, sizeof exe);
	if (len == 0 || len > sizeof exe - 32)
		return emg_fail(err, EMG_EIO, "cannot find the system directory");
	strcat(exe, "\\inetsrv\\appcmd.exe");
	snprintf(cmd, sizeof cmd, "\"%s\" %s", exe, args);
	if (!CreatePipe(&rd, &wr, &sa, 0))
		return win_fail(err, EMG_EIO, "create pipe for", "appcmd");
	SetHandleInformation(rd, HANDLE_FLAG_INHERIT, 0);
	memset(&si, 0, sizeof si);
	si.cb = sizeof si;
	si.dwFlags = STARTF_USESTDHANDLES;
	si.hStdOutput = wr;
	si.hStdError = wr;
	if (!CreateProcessA(exe, cmd, NULL, NULL, TRUE, CREATE_NO_WINDOW, NULL, NULL, &si, &pi)) {
		CloseHandle(rd);
		CloseHandle(wr);
		return win_fail(err, EMG_EIO, "run", exe);
	}
	CloseHandle(wr);
	while (got + 1 < outlen && ReadFile(rd, out + got, (DWORD)(outlen - 1 - got), &n, NULL) && n > 0)
		got += n;
	out[got] = '\0';
	CloseHandle(rd);
	WaitForSingleObject(pi.hProcess, 60000);
	if (!GetExitCodeProcess(pi.hProcess, exit_code))
		*exit_code = 1;
	CloseHandle(pi.hProcess);
	CloseHandle(pi.hThread);
	return EMG_OK;
}

static int win_pool_get(emg_backend *b, const char *pool, int *running, emg_err *err)
{
	char args[512], out[APPCMD_OUT_MAX];
	DWORD code = 0;
	int rc;

	(void)b;
	if (!pool_name_ok(pool))
		return emg_fail(err, EMG_ECONFIG, "app pool name '%s' is not acceptable", pool);
	snprintf(args, sizeof args, "list apppool \"%s\" /text:state", pool);
	rc = appcmd(args, out, sizeof out, &code, err);
	if (rc != EMG_OK)
		return rc;
	if (code != 0 || out[0] == '\0')
		return emg_fail(err, EMG_ECONFIG, "app pool %s not found on this server", pool);
	*running = strncmp(out, "Stopped", 7) != 0;
	return EMG_OK;
}

static int win_pool_set(emg_backend *b, const char *pool, int running, emg_err *err)
{
	char args[512], out[APPCMD_OUT_MAX];
	DWORD code = 0;
	int rc, now = 0;

	rc = win_pool_get(b, pool, &now, err);
	if (rc != EMG_OK || now == running)
		return rc;
	snprintf(args, sizeof args, "%s apppool /apppool.name:\"%s\"", running ? "start" : "stop", pool);
	rc = appcmd(args, out, sizeof out, &code, err);
	if (rc == EMG_OK && code != 0)
		rc = emg_fail(err, EMG_EAPPLY, "appcmd %s apppool %s failed: %.200s", running ? "start" : "stop",
			      pool, out);
	return rc;
}

static void win_close(emg_backend *b)
{
	(void)b;
}

static const emg_backend_ops win_ops = {
	"windows", win_service_get, win_service_set, win_pool_get, win_pool_set, win_close,
};

int emg_backend_windows_open(const char *root, emg_backend *b, emg_err *err)
{
	memset(b, 0, sizeof *b);
	if (snprintf(b->root, sizeof b->root, "%s", root) >= (int)sizeof b->root)
		return emg_fail(err, EMG_ECONFIG, "%s: path too long", root);
	b->ops = &win_ops;
	return EMG_OK;
}
