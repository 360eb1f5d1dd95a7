/* apply_iispath.c - from scopes, sites and vDirs to files under the sample
 * server root: variables, case as Windows ignores it, longest vDir match,
 * refused escapes, and the URL Rewrite module check. */
#include "check.h"

#include "apply/iisconf.h"
#include "err.h"
#include "fileio.h"

#include <stdint.h>
#include <sys/stat.h>
#include <unistd.h>

#include <libxml/parser.h>

#define V15 "/Program Files/Microsoft/Exchange Server/V15"

typedef struct fixture {
	char root[1024];
	uint8_t *apphost;
	size_t len;
} fixture;

static int setup(fixture *f)
{
	const char *src = getenv("EMGAP_SRC");
	char path[1200];
	emg_err err;
	emg_iis_env env;

	snprintf(f->root, sizeof f->root, "%s/samples/exchange2019", src != NULL && src[0] ? src : ".");
	env.root = f->root;
	env.exchange_install = NULL;
	if (emg_iis_apphost_path(&env, path, sizeof path, &err) != EMG_OK)
		return -1;
	return emg_read_file(path, EMG_IIS_MAX_BYTES, EMG_ECONFIG, &f->apphost, &f->len, &err);
}

/* Resolves and compares with root + want (NULL: expect failure containing
 * the text in want_err). */
static int resolves(const fixture *f, enum emg_iis_scope scope, const char *site, const char *vpath,
		    const char *want, int want_exists, const char *want_err)
{
	emg_iis_env env = { f->root, NULL };
	char out[2048], full[2048];
	int exists = -1, rc;
	emg_err err;

	emg_err_clear(&err);
	rc = emg_iis_config_path(&env, f->apphost, f->len, "applicationHost.config", scope, site, vpath, out,
				 sizeof out, &exists, &err);
	if (want == NULL) {
		if (rc == EMG_ECONFIG && want_err != NULL && strstr(err.msg, want_err) != NULL)
			return 1;
		printf("  rc %d: %s\n", rc, err.msg);
		return 0;
	}
	snprintf(full, sizeof full, "%s%s", f->root, want);
	if (rc == EMG_OK && strcmp(out, full) == 0 && exists == want_exists)
		return 1;
	printf("  rc %d exists %d: %s / %s\n", rc, exists, rc == EMG_OK ? out : err.msg, full);
	return 0;
}

static void test_scopes(check_ctx *c, const fixture *f)
{
	enum emg_iis_scope s;
	emg_err err;

	CHECK(c, emg_iis_scope_parse("Server", &s, &err) == EMG_OK && s == EMG_IIS_SCOPE_SERVER &&
		 emg_iis_scope_parse("site", &s, &err) == EMG_OK && s == EMG_IIS_SCOPE_SITE &&
		 emg_iis_scope_parse("VDIR", &s, &err) == EMG_OK && s == EMG_IIS_SCOPE_VDIR,
	      "scope names, any case");
	CHECK(c, emg_iis_scope_parse("Farm", &s, &err) == EMG_ECONFIG && strstr(err.msg, "Farm") != NULL,
	      "unknown scope refused");
	CHECK(c, resolves(f, EMG_IIS_SCOPE_SERVER, NULL, NULL,
			  "/Windows/System32/inetsrv/config/applicationHost.config", 1, NULL),
	      "Server: applicationHost.config");
	CHECK(c, resolves(f, EMG_IIS_SCOPE_SITE, "Default Web Site", NULL, "/inetpub/wwwroot/web.config", 1, NULL),
	      "Site: %SystemDrive%\\inetpub\\wwwroot");
	CHECK(c, resolves(f, EMG_IIS_SCOPE_SITE, "DEFAULT web site", NULL, "/inetpub/wwwroot/web.config", 1, NULL),
	      "Site: name without regard to case");
	CHECK(c, resolves(f, EMG_IIS_SCOPE_SITE, "Exchange Back End", NULL, V15 "/ClientAccess/web.config", 0, NULL),
	      "Site: back end root, web.config not there yet");
	CHECK(c, resolves(f, EMG_IIS_SCOPE_VDIR, "Default Web Site", "/owa", V15 "/FrontEnd/HttpProxy/owa/web.config",
			  1, NULL), "VDir /owa");
	CHECK(c, resolves(f, EMG_IIS_SCOPE_VDIR, "Default Web Site", "/OWA/", V15 "/FrontEnd/HttpProxy/owa/web.config",
			  1, NULL), "VDir /OWA/: case and trailing slash");
	CHECK(c, resolves(f, EMG_IIS_SCOPE_VDIR, "Default Web Site", "/owa/calendar",
			  V15 "/FrontEnd/HttpProxy/owa/Calendar/web.config", 1, NULL),
	      "VDir /owa/calendar: longest application wins");
	CHECK(c, resolves(f, EMG_IIS_SCOPE_VDIR, "Default Web Site", "/ecp", V15 "/FrontEnd/HttpProxy/ecp/web.config",
			  1, NULL), "VDir /ecp");
	CHECK(c, resolves(f, EMG_IIS_SCOPE_VDIR, "Default Web Site", "/Autodiscover",
			  V15 "/FrontEnd/HttpProxy/autodiscover/web.config", 1, NULL),
	      "VDir /Autodiscover: directory differs in case on disk");
	CHECK(c, resolves(f, EMG_IIS_SCOPE_VDIR, "Exchange Back End", "/ecp", V15 "/ClientAccess/ecp/web.config", 1,
			  NULL), "VDir /ecp on the back end");
	CHECK(c, resolves(f, EMG_IIS_SCOPE_VDIR, "Exchange Back End", "/mapi/emsmdb",
			  V15 "/ClientAccess/mapi/emsmdb/web.config", 1, NULL), "VDir /mapi/emsmdb, two segments");
	CHECK(c, resolves(f, EMG_IIS_SCOPE_VDIR, "Default Web Site", "/", "/inetpub/wwwroot/web.config", 1, NULL),
	      "VDir / is the site root");
	CHECK(c, resolves(f, EMG_IIS_SCOPE_VDIR, "Default Web Site", "/owa2", NULL, 0, "does not exist"),
	      "VDir /owa2: not /owa (segments), no such directory");
	CHECK(c, resolves(f, EMG_IIS_SCOPE_VDIR, "Default Web Site", "/owa/auth", NULL, 0, "does not exist"),
	      "VDir below a vDir without a directory: clear error");
	CHECK(c, resolves(f, EMG_IIS_SCOPE_SITE, "No Such Site", NULL, NULL, 0, "no site called \"No Such Site\""),
	      "unknown site named");
	CHECK(c, resolves(f, EMG_IIS_SCOPE_VDIR, "Default Web Site", "/owa/../ecp", NULL, 0, "\"..\""),
	      "VDir with .. refused");
	CHECK(c, resolves(f, EMG_IIS_SCOPE_VDIR, "Default Web Site", "owa", NULL, 0, "does not start with /"),
	      "VDir without leading / refused");
	CHECK(c, resolves(f, EMG_IIS_SCOPE_SITE, "", NULL, NULL, 0, "needs a site"), "Site scope without a site");
}

static int host(const char *root, const char *exch, const char *win, const char *want, const char *want_err)
{
	emg_iis_env env = { root, exch };
	char out[2048], full[2048];
	emg_err err;
	int rc;

	emg_err_clear(&err);
	rc = emg_iis_host_path(&env, win, out, sizeof out, &err);
	if (want == NULL) {
		if (rc == EMG_ECONFIG && want_err != NULL && strstr(err.msg, want_err) != NULL)
			return 1;
		printf("  rc %d: %s\n", rc, rc == EMG_OK ? out : err.msg);
		return 0;
	}
	snprintf(full, sizeof full, "%s%s", root, want);
	if (rc == EMG_OK && strcmp(out, full) == 0)
		return 1;
	printf("  rc %d: %s\n", rc, rc == EMG_OK ? out : err.msg);
	return 0;
}

static void test_host_paths(check_ctx *c, const fixture *f)
{
	const char *r = f->root;

	CHECK(c, host(r, NULL, "%SystemRoot%\\System32\\inetsrv\\rewrite.dll",
		      "/Windows/System32/inetsrv/rewrite.dll", NULL), "%SystemRoot%, missing file kept as written");
	CHECK(c, host(r, NULL, "%WINDIR%\\system32\\INETSRV\\config", "/Windows/System32/inetsrv/config", NULL),
	      "%windir% and case-insensitive components");
	CHECK(c, host(r, NULL, "%ExchangeInstallPath%FrontEnd\\HttpProxy\\ecp", V15 "/FrontEnd/HttpProxy/ecp", NULL),
	      "%ExchangeInstallPath% default");
	CHECK(c, host(r, NULL, "c:/program files\\MICROSOFT//exchange server\\v15\\.\\frontend",
		      V15 "/FrontEnd", NULL), "c:/ forward slashes, doubled separators, '.'");
	CHECK(c, host(r, NULL, "D:\\Exchange", NULL, "drive D:"), "other drive refused");
	CHECK(c, host(r, NULL, "\\\\fileserver\\share\\x", NULL, "network"), "UNC path refused");
	CHECK(c, host(r, NULL, "inetpub\\wwwroot", NULL, "not an absolute"), "relative path refused");
	CHECK(c, host(r, NULL, "C:\\inetpub\\..\\..\\etc", NULL, "\"..\""), ".. refused");
	CHECK(c, host(r, NULL, "%TEMP%\\x", NULL, "unknown variable %TEMP%"), "unknown variable refused");
	CHECK(c, host(r, NULL, "%SystemDrive\\x", NULL, "unmatched"), "unmatched % refused");
	CHECK(c, host(r, NULL, "C:\\inetpub\\wwwroot\\web.config:stream", NULL, "\":\""),
	      "alternate data stream refused");
}

/* A hand-made tree in TEST_TMP for what the sample cannot show. */
static void test_tmp_tree(check_ctx *c)
{
	char root[1024], p[1200], outside[1200];
	static const char apphost[] =
		"<configuration><system.applicationHost><sites>"
		"<site name=\"S\" id=\"3\"><application path=\"/\">"
		"<virtualDirectory path=\"/nophys\" />"
		"<virtualDirectory path=\"/\" physicalPath=\"%ExchangeInstallPath%Web\" />"
		"<virtualDirectory path=\"/link\" physicalPath=\"C:\\link\" />"
		"<virtualDirectory path=\"/twice\" physicalPath=\"C:\\data\" />"
		"</application><application path=\"/App/\"><virtualDirectory path=\"/\" physicalPath=\"C:\\Exchange\" />"
		"<virtualDirectory path=\"/Sub\" physicalPath=\"C:\\Other\\Place\" /></application>"
		"</site></sites></system.applicationHost></configuration>";
	fixture f;
	emg_err err;

	snprintf(root, sizeof root, "%s/root", check_tmpdir());
	snprintf(p, sizeof p, "%s/Exchange/Web", root);
	emg_mkdir_p(p, 0755, &err);
	snprintf(p, sizeof p, "%s/Data", root);
	emg_mkdir_p(p, 0755, &err);
	snprintf(p, sizeof p, "%s/DATA", root);
	emg_mkdir_p(p, 0755, &err);
	snprintf(p, sizeof p, "%s/Other/Place/Deep", root);
	emg_mkdir_p(p, 0755, &err);
	snprintf(outside, sizeof outside, "%s/outside", check_tmpdir());
	emg_mkdir_p(outside, 0755, &err);
	snprintf(p, sizeof p, "%s/link", root);
	CHECK(c, symlink(outside, p) == 0, "tmp tree: symlink made");
	CHECK(c, host(root, "C:\\Exchange\\", "%ExchangeInstallPath%Web", "/Exchange/Web", NULL),
	      "%ExchangeInstallPath% from the caller");
	CHECK(c, host(root, NULL, "C:\\data", NULL, "more than one entry"), "two entries differing only in case refused");
	CHECK(c, host(root, NULL, "C:\\Data", "/Data", NULL), "exact match wins over case twins");
	CHECK(c, host(root, NULL, "C:\\link\\x", NULL, "symbolic link"), "symbolic link on the way refused");
	snprintf(f.root, sizeof f.root, "%s", root);
	f.apphost = (uint8_t *)apphost;
	f.len = strlen(apphost);
	{
		emg_iis_env env = { root, "C:\\Exchange\\" };
		char out[2048], want[2048];
		int exists = -1;
		snprintf(want, sizeof want, "%s/Exchange/Web/web.config", root);
		CHECK(c, emg_iis_config_path(&env, f.apphost, f.len, "ah", EMG_IIS_SCOPE_SITE, "s", NULL, out,
					     sizeof out, &exists, &err) == EMG_OK && strcmp(out, want) == 0 && exists == 0,
		      "site root through %ExchangeInstallPath%");
	}
	CHECK(c, resolves(&f, EMG_IIS_SCOPE_VDIR, "S", "/app/sub/deep", "/Other/Place/Deep/web.config", 0, NULL),
	      "vDir inside an application (app path with trailing /), rest of the path below it");
	CHECK(c, resolves(&f, EMG_IIS_SCOPE_VDIR, "S", "/APP", "/Exchange/web.config", 0, NULL),
	      "application root vDir");
	CHECK(c, resolves(&f, EMG_IIS_SCOPE_VDIR, "S", "/nophys", NULL, 0, "no virtual directory"),
	      "vDir without physicalPath: clear error");
	CHECK(c, resolves(&f, EMG_IIS_SCOPE_VDIR, "S", "/link", NULL, 0, "symbolic link"),
	      "vDir through a symbolic link refused");
}

static void test_module(check_ctx *c, const fixture *f)
{
	uint8_t *copy;
	char *at;
	int inst = -1;
	emg_err err;

	CHECK(c, emg_iis_rewrite_module_installed(f->apphost, f->len, "ah", &inst, &err) == EMG_OK && inst == 1,
	      "RewriteModule found in the sample");
	copy = malloc(f->len + 1);
	if (copy == NULL)
		return;
	memcpy(copy, f->apphost, f->len);
	copy[f->len] = '\0';
	/* The same server without the module: rename its entry. */
	at = strstr((char *)copy, "<add name=\"RewriteModule\" image=");
	if (at != NULL)
		memcpy(at + 11, "RewriteModulX", 13);
	CHECK(c, at != NULL && emg_iis_rewrite_module_installed(copy, f->len, "ah", &inst, &err) == EMG_OK && inst == 0,
	      "RewriteModule absent detected");
	free(copy);
	CHECK(c, emg_iis_rewrite_module_installed((const uint8_t *)"<configuration/>", 16, "ah", &inst, &err) ==
		 EMG_ECONFIG && strstr(err.msg, "system.webServer") != NULL, "no <system.webServer>: clear error");
	CHECK(c, emg_iis_check((const uint8_t *)"<configuration>", 15, "broken.config", &err) == EMG_ECONFIG &&
		 strstr(err.msg, "broken.config:1:") != NULL, "check: malformed file named with line");
}

int main(void)
{
	check_ctx c = { 0 };
	fixture f = { .apphost = NULL };

	if (setup(&f) != EMG_OK) {
		CHECK(&c, 0, "sample applicationHost.config loads");
		return 1;
	}
	test_scopes(&c, &f);
	test_host_paths(&c, &f);
	test_tmp_tree(&c);
	test_module(&c, &f);
	free(f.apphost);
	xmlCleanupParser();
	return c.failed ? 1 : 0;
}
