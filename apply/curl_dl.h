/* curl_dl.h - libcurl, opened only when a URL source is fetched.
 *
 * emgap-apply runs every hour and usually finds nothing new; libcurl and
 * its thirty-odd dependencies are most of the dynamic loader's work at
 * start-up, yet only servers with https:// or file:// sources need them.
 * So emgap-apply is not linked against libcurl and opens it for a fetch. */
#ifndef EMG_APPLY_CURL_DL_H
#define EMG_APPLY_CURL_DL_H

#include <curl/curl.h>

#include "err.h"

#define EMG_CURL_SONAME "libcurl.so.4"

typedef struct emg_curl {
	void *lib;
	CURLcode (*global_init)(long flags);
	void (*global_cleanup)(void);
	CURL *(*easy_init)(void);
	CURLcode (*easy_setopt)(CURL *c, CURLoption opt, ...);
	CURLcode (*easy_perform)(CURL *c);
	void (*easy_cleanup)(CURL *c);
	const char *(*easy_strerror)(CURLcode cc);
} emg_curl;

/* Opens libcurl and initialises it; EMG_EIO naming the library when it is
 * missing or lacks a function. Close with emg_curl_close. */
int emg_curl_open(emg_curl *c, emg_err *err);
void emg_curl_close(emg_curl *c);

#endif
