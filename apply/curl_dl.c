/* curl_dl.c - opening libcurl at run time (see curl_dl.h for why). */
#include "apply/curl_dl.h"

#include <dlfcn.h>
#include <string.h>

/* dlsym returns an object pointer; copying its bytes into the function
 * pointer is the conversion POSIX guarantees to work. */
static int resolve(void *lib, const char *name, void *fnptr, size_t size)
{
	void *p = dlsym(lib, name);

	if (p == NULL || size != sizeof p)
		return -1;
	memcpy(fnptr, &p, sizeof p);
	return 0;
}

int emg_curl_open(emg_curl *c, emg_err *err)
{
	const char *why;

	memset(c, 0, sizeof *c);
	c->lib = dlopen(EMG_CURL_SONAME, RTLD_NOW | RTLD_LOCAL);
	if (c->lib == NULL) {
		why = dlerror();
		return emg_fail(err, EMG_EIO, "cannot load %s for URL sources: %s", EMG_CURL_SONAME,
				why ? why : "unknown error");
	}
	if (resolve(c->lib, "curl_global_init", &c->global_init, sizeof c->global_init) != 0 ||
	    resolve(c->lib, "curl_global_cleanup", &c->global_cleanup, sizeof c->global_cleanup) != 0 ||
	    resolve(c->lib, "curl_easy_init", &c->easy_init, sizeof c->easy_init) != 0 ||
	    resolve(c->lib, "curl_easy_setopt", &c->easy_setopt, sizeof c->easy_setopt) != 0 ||
	    resolve(c->lib, "curl_easy_perform", &c->easy_perform, sizeof c->easy_perform) != 0 ||
	    resolve(c->lib, "curl_easy_cleanup", &c->easy_cleanup, sizeof c->easy_cleanup) != 0 ||
	    resolve(c->lib, "curl_easy_strerror", &c->easy_strerror, sizeof c->easy_strerror) != 0) {
		dlclose(c->lib);
		memset(c, 0, sizeof *c);
		return emg_fail(err, EMG_EIO, "%s lacks a function emgap-apply needs", EMG_CURL_SONAME);
	}
	if (c->global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
		dlclose(c->lib);
		memset(c, 0, sizeof *c);
		return emg_fail(err, EMG_EIO, "cannot initialise %s", EMG_CURL_SONAME);
	}
	return EMG_OK;
}

void emg_curl_close(emg_curl *c)
{
	if (c->lib == NULL)
		return;
	c->global_cleanup();
	dlclose(c->lib);
	memset(c, 0, sizeof *c);
}
