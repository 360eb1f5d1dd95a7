/* iispath.c - from IIS's view of a server (Windows paths, sites, virtual
 * directories) to files under the directory that stands for C:\.
 *
 * Windows paths are case-insensitive; the host's usually are not. Each
 * component is therefore looked up in its directory without regard to case.
 * Nothing may lead out of the root: ".." is refused outright (IIS has no
 * use for it in these places) and so are symbolic links on the way. */
#include "apply/iisconf.h"
#include "apply/iisdoc.h"

#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

#define WINPATH_MAX 2048

int emg_iis_scope_parse(const char *text, enum emg_iis_scope *scope, emg_err *err)
{
	if (text != NULL && strcasecmp(text, "Server") == 0)
		*scope = EMG_IIS_SCOPE_SERVER;
	else if (text != NULL && strcasecmp(text, "Site") == 0)
		*scope = EMG_IIS_SCOPE_SITE;
	else if (text != NULL && strcasecmp(text, "VDir") == 0)
		*scope = EMG_IIS_SCOPE_VDIR;
	else
		return emg_fail(err, EMG_ECONFIG, "scope \"%s\" is not Server, Site or VDir",
				text != NULL ? text : "");
	return EMG_OK;
}

static const char *var_value(const emg_iis_env *env, const char *var, size_t n)
{
	if (n == 11 && strncasecmp(var, "SystemDrive", n) == 0)
		return "C:";
	if ((n == 10 && strncasecmp(var, "SystemRoot", n) == 0) ||
	    (n == 6 && strncasecmp(var, "windir", n) == 0))
		return "C:\\Windows";
	if (n == 19 && strncasecmp(var, "ExchangeInstallPath", n) == 0)
		return env->exchange_install != NULL ? env->exchange_install
						     : EMG_IIS_DEFAULT_EXCHANGE_INSTALL;
	return NULL;
}

static int expand_vars(const emg_iis_env *env, const char *in, char *out, size_t outlen, emg_err *err)
{
	size_t o = 0;
	const char *p = in;

	while (*p != '\0') {
		const char *val, *close;
		size_t vl;
		if (*p != '%') {
			if (o + 1 >= outlen)
				return emg_fail(err, EMG_ECONFIG, "path too long: %s", in);
			out[o++] = *p++;
			continue;
		}
		close = strchr(p + 1, '%');
		if (close == NULL)
			return emg_fail(err, EMG_ECONFIG, "path %s: unmatched %%", in);
		val = var_value(env, p + 1, (size_t)(close - p - 1));
		if (val == NULL)
			return emg_fail(err, EMG_ECONFIG, "path %s: unknown variable %.*s", in,
					(int)(close - p + 1), p);
		vl = strlen(val);
		if (o + vl + 1 >= outlen)
			return emg_fail(err, EMG_ECONFIG, "path too long: %s", in);
		memcpy(out + o, val, vl);
		o += vl;
		p = close + 1;
	}
	out[o] = '\0';
	return EMG_OK;
}

/* The entry of dir called comp, without regard to case; an exact match
 * wins, two inexact ones are ambiguous. *found = 0 when there is none. */
static int find_entry(const char *dir, const char *comp, char *name, size_t namelen, int *found,
		      emg_err *err)
{
	DIR *dh;
	struct dirent *de;
	int hits = 0;

	*found = 0;
	dh = opendir(dir);
	if (dh == NULL)
		return errno == ENOENT || errno == ENOTDIR
			? EMG_OK : emg_fail(err, EMG_EIO, "%s: %s", dir, strerror(errno));
	while ((de = readdir(dh)) != NULL) {
		if (strcmp(de->d_name, comp) == 0) {
			hits = 1;
			snprintf(name, namelen, "%s", de->d_name);
			break;
		}
		if (strcasecmp(de->d_name, comp) == 0) {
			if (hits++ == 0)
				snprintf(name, namelen, "%s", de->d_name);
		}
	}
	closedir(dh);
	if (hits > 1)
		return emg_fail(err, EMG_ECONFIG, "%s: more than one entry is called %s when case is "
				"ignored, as Windows does", dir, comp);
	*found = hits == 1;
	return EMG_OK;
}

static int append_comp(char *out, size_t outlen, const char *comp, emg_err *err)
{
	size_t l = strlen(out);

	if (l + 1 + strlen(comp) + 1 > outlen)
		return emg_fail(err, EMG_ECONFIG, "path too long: %s/%s", out, comp);
	out[l] = '/';
	strcpy(out + l + 1, comp);
	return EMG_OK;
}

/* Appends one component to the host path in out, matching case like
 * Windows while the directories exist. *gone is set once one does not. */
static int add_comp(char *out, size_t outlen, const char *comp, int *gone, const char *winpath,
		    emg_err *err)
{
	char name[NAME_MAX + 1];
	struct stat st;
	int found = 0;

	if (strcmp(comp, "..") == 0)
		return emg_fail(err, EMG_ECONFIG, "path %s: \"..\" is not allowed", winpath);
	if (strchr(comp, ':') != NULL)
		return emg_fail(err, EMG_ECONFIG, "path %s: \":\" inside a component", winpath);
	if (!*gone && find_entry(out, comp, name, sizeof name, &found, err) != EMG_OK)
		return err != NULL ? err->code : EMG_ECONFIG;
	if (append_comp(out, outlen, found ? name : comp, err) != EMG_OK)
		return EMG_ECONFIG;
	if (!found) {
		*gone = 1;
		return EMG_OK;
	}
	if (lstat(out, &st) != 0)
		return emg_fail(err, EMG_EIO, "%s: %s", out, strerror(errno));
	if (S_ISLNK(st.st_mode))
		return emg_fail(err, EMG_ECONFIG, "path %s: %s is a symbolic link; refusing to follow "
				"it out of the server root", winpath, out);
	return EMG_OK;
}

int emg_iis_host_path(const emg_iis_env *env, const char *winpath, char *out, size_t outlen,
		      emg_err *err)
{
	char w[WINPATH_MAX], *comp, *save = NULL;
	int gone = 0, rc;
	size_t rl;

	if (env == NULL || env->root == NULL || env->root[0] == '\0')
		return emg_fail(err, EMG_ECONFIG, "no server root");
	rc = expand_vars(env, winpath, w, sizeof w, err);
	if (rc != EMG_OK)
		return rc;
	if ((w[0] == '\\' || w[0] == '/') && (w[1] == '\\' || w[1] == '/'))
		return emg_fail(err, EMG_ECONFIG, "path %s: network paths are not supported", winpath);
	if (((w[0] | 0x20) >= 'a' && (w[0] | 0x20) <= 'z') && w[1] == ':' && (w[0] | 0x20) != 'c')
		return emg_fail(err, EMG_ECONFIG, "path %s: drive %c: is not under the server root "
				"(only C: is)", winpath, w[0]);
	if ((w[0] | 0x20) != 'c' || w[1] != ':' || (w[2] != '\\' && w[2] != '/'))
		return emg_fail(err, EMG_ECONFIG, "path %s: not an absolute C:\\ path", winpath);
	rl = strlen(env->root);
	while (rl > 1 && env->root[rl - 1] == '/')
		rl--;
	if (rl + 1 > outlen)
		return emg_fail(err, EMG_ECONFIG, "server root too long");
	memcpy(out, env->root, rl);
	out[rl] = '\0';
	for (comp = strtok_r(w + 3, "\\/", &save); comp != NULL; comp = strtok_r(NULL, "\\/", &save)) {
		if (strcmp(comp, ".") == 0)
			continue;
		rc = add_comp(out, outlen, comp, &gone, winpath, err);
		if (rc != EMG_OK)
			return rc;
	}
	return EMG_OK;
}

int emg_iis_apphost_path(const emg_iis_env *env, char *out, size_t outlen, emg_err *err)
{
	return emg_iis_host_path(env, "%SystemRoot%\\System32\\inetsrv\\config\\applicationHost.config",
				 out, outlen, err);
}

int emg_iis_check(const uint8_t *doc, size_t len, const char *name, emg_err *err)
{
	iis_doc d;
	int rc = emg_iisdoc_open(&d, doc, len, name, err);

	if (rc == EMG_OK)
		emg_iisdoc_close(&d);
	return rc;
}

static const uint8_t skeleton[] = "\xEF\xBB\xBF<?xml version=\"1.0\" encoding=\"UTF-8\"?>\r\n"
				  "<configuration>\r\n</configuration>\r\n";

const uint8_t *emg_iis_webconfig_skeleton(size_t *len)
{
	*len = sizeof skeleton - 1;
	return skeleton;
}

/* The single child of parent named lname, or an error naming the file. */
static int one_child(const iis_doc *d, int parent, const char *lname, int *out, emg_err *err)
{
	int count;

	*out = emg_iisdoc_child(d, parent, lname, &count);
	if (count == 0)
		return emg_fail(err, EMG_ECONFIG, "%s: no <%s> in <%.*s>", d->name, lname,
				(int)d->els[parent].name_len, (const char *)d->buf + d->els[parent].name_off);
	if (count > 1)
		return emg_fail(err, EMG_ECONFIG, "%s:%lu: <%s> appears %d times in <%.*s>", d->name,
				emg_iisdoc_line(d, d->els[*out].start), lname, count,
				(int)d->els[parent].name_len, (const char *)d->buf + d->els[parent].name_off);
	return EMG_OK;
}

int emg_iis_rewrite_module_installed(const uint8_t *apphost, size_t len, const char *name,
				     int *installed, emg_err *err)
{
	iis_doc d;
	int sws = -1, gm = -1, n, rc;

	*installed = 0;
	rc = emg_iisdoc_open(&d, apphost, len, name, err);
	if (rc != EMG_OK)
		return rc;
	rc = one_child(&d, 0, "system.webServer", &sws, err);
	if (rc == EMG_OK)
		rc = one_child(&d, sws, "globalModules", &gm, err);
	for (n = rc == EMG_OK ? emg_iisdoc_next(&d, gm, -1) : -1; n >= 0; n = emg_iisdoc_next(&d, gm, n)) {
		const char *v = emg_iisdoc_attr(&d, n, "name");
		if (emg_iisdoc_is(&d, n, "add") && v != NULL && strcasecmp(v, "RewriteModule") == 0)
			*installed = 1;
	}
	emg_iisdoc_close(&d);
	return rc;
}

/* ---- sites and virtual directories ------------------------------------- */

static int find_site(const iis_doc *d, const char *site, int *out, emg_err *err)
{
	int sah = -1, sites = -1, n, rc;

	*out = -1;
	rc = one_child(d, 0, "system.applicationHost", &sah, err);
	if (rc == EMG_OK)
		rc = one_child(d, sah, "sites", &sites, err);
	if (rc != EMG_OK)
		return rc;
	for (n = emg_iisdoc_next(d, sites, -1); n >= 0; n = emg_iisdoc_next(d, sites, n)) {
		const char *v = emg_iisdoc_attr(d, n, "name");
		if (!emg_iisdoc_is(d, n, "site") || v == NULL || strcasecmp(v, site) != 0)
			continue;
		if (*out >= 0)
			return emg_fail(err, EMG_ECONFIG, "%s: two sites are called \"%s\"", d->name, site);
		*out = n;
	}
	if (*out < 0)
		return emg_fail(err, EMG_ECONFIG, "%s: no site called \"%s\" in <sites>", d->name, site);
	return EMG_OK;
}

/* Length of the URL path p without trailing slashes ("/" counts as 0). */
static size_t url_len(const char *p)
{
	size_t l = strlen(p);

	while (l > 0 && p[l - 1] == '/')
		l--;
	return l;
}

/* vpath starts with full (case ignored) on a segment boundary. */
static int url_prefix(const char *full, size_t fl, const char *vpath)
{
	return strncasecmp(full, vpath, fl) == 0 && (vpath[fl] == '\0' || vpath[fl] == '/');
}

typedef struct vdir_hit {
	int found;        /* a vDir matched */
	size_t len;       /* of the matched URL path */
	const char *phys; /* its physicalPath, NULL if it has none */
	char url[512];   /* the matched vDir's URL path, for messages */
} vdir_hit;

static void consider_vdir(const iis_doc *d, const char *app_path, int vd, const char *vpath,
			  vdir_hit *best)
{
	const char *vp = emg_iisdoc_attr(d, vd, "path");
	char full[512];
	size_t fl;

	if (vp == NULL)
		return;
	/* The vDir's URL is the application's path followed by its own. */
	snprintf(full, sizeof full, "%.*s%s", (int)url_len(app_path), app_path, strcmp(vp, "/") == 0 ? "" : vp);
	fl = url_len(full);
	if (!url_prefix(full, fl, vpath) || (best->found && fl <= best->len))
		return;
	best->found = 1;
	best->phys = emg_iisdoc_attr(d, vd, "physicalPath");
	best->len = fl;
	snprintf(best->url, sizeof best->url, "%s", fl == 0 ? "/" : full);
}

static void best_vdir(const iis_doc *d, int site, const char *vpath, vdir_hit *best)
{
	int app, vd;

	for (app = emg_iisdoc_next(d, site, -1); app >= 0; app = emg_iisdoc_next(d, site, app)) {
		const char *ap = emg_iisdoc_attr(d, app, "path");
		if (!emg_iisdoc_is(d, app, "application") || ap == NULL)
			continue;
		for (vd = emg_iisdoc_next(d, app, -1); vd >= 0; vd = emg_iisdoc_next(d, app, vd))
			if (emg_iisdoc_is(d, vd, "virtualDirectory"))
				consider_vdir(d, ap, vd, vpath, best);
	}
}

/* "/owa//x/" -> "/owa/x"; refuses "..", "." and backslashes. */
static int clean_vpath(const char *in, char *out, size_t outlen, emg_err *err)
{
	char tmp[512], *seg, *save = NULL;
	size_t o = 0;

	if (in == NULL || in[0] != '/')
		return emg_fail(err, EMG_ECONFIG, "virtual path \"%s\" does not start with /",
				in != NULL ? in : "");
	if (strlen(in) >= sizeof tmp || strchr(in, '\\') != NULL || strchr(in, '%') != NULL)
		return emg_fail(err, EMG_ECONFIG, "virtual path \"%s\" is not allowed", in);
	strcpy(tmp, in);
	out[0] = '\0';
	for (seg = strtok_r(tmp, "/", &save); seg != NULL; seg = strtok_r(NULL, "/", &save)) {
		if (strcmp(seg, "..") == 0 || strcmp(seg, ".") == 0 || strchr(seg, ':') != NULL)
			return emg_fail(err, EMG_ECONFIG, "virtual path \"%s\": \"%s\" is not allowed", in, seg);
		if (o + 1 + strlen(seg) + 1 > outlen)
			return emg_fail(err, EMG_ECONFIG, "virtual path \"%s\" too long", in);
		out[o++] = '/';
		strcpy(out + o, seg);
		o += strlen(seg);
	}
	if (o == 0 && outlen > 1)
		strcpy(out, "/");
	return EMG_OK;
}

static int site_dir(const emg_iis_env *env, const iis_doc *d, const char *site, const char *vpath,
		    char *out, size_t outlen, emg_err *err)
{
	int sn = -1;
	vdir_hit best;
	char clean[512], win[WINPATH_MAX];
	struct stat st;
	int rc;

	rc = clean_vpath(vpath, clean, sizeof clean, err);
	if (rc == EMG_OK)
		rc = find_site(d, site, &sn, err);
	if (rc != EMG_OK)
		return rc;
	memset(&best, 0, sizeof best);
	best_vdir(d, sn, clean, &best);
	if (best.phys == NULL)
		return emg_fail(err, EMG_ECONFIG, "%s: site \"%s\" has no virtual directory for %s "
				"(or it has no physicalPath)", d->name, site, clean);
	/* What is left of the URL path goes below the vDir's directory. */
	snprintf(win, sizeof win, "%s\\%s", best.phys, clean[best.len] == '/' ? clean + best.len + 1 : "");
	rc = emg_iis_host_path(env, win, out, outlen, err);
	if (rc == EMG_OK && (stat(out, &st) != 0 || !S_ISDIR(st.st_mode)))
		rc = emg_fail(err, EMG_ECONFIG, "%s: site \"%s\" %s: directory %s (from virtual directory "
			      "%s, physicalPath %s) does not exist under the server root", d->name, site,
			      clean, out, best.url, best.phys);
	return rc;
}

int emg_iis_config_path(const emg_iis_env *env, const uint8_t *apphost, size_t apphost_len,
			const char *apphost_name, enum emg_iis_scope scope, const char *site,
			const char *vpath, char *out, size_t outlen, int *exists, emg_err *err)
{
	iis_doc d;
	struct stat st;
	int rc, gone = 0;

	*exists = 0;
	if (scope == EMG_IIS_SCOPE_SERVER) {
		rc = emg_iis_apphost_path(env, out, outlen, err);
		if (rc == EMG_OK)
			*exists = stat(out, &st) == 0 && S_ISREG(st.st_mode);
		return rc;
	}
	if (site == NULL || site[0] == '\0')
		return emg_fail(err, EMG_ECONFIG, "scope %s needs a site", scope == EMG_IIS_SCOPE_SITE ? "Site" : "VDir");
	rc = emg_iisdoc_open(&d, apphost, apphost_len, apphost_name, err);
	if (rc != EMG_OK)
		return rc;
	rc = site_dir(env, &d, site, scope == EMG_IIS_SCOPE_SITE || vpath == NULL ? "/" : vpath, out,
		      outlen, err);
	emg_iisdoc_close(&d);
	if (rc == EMG_OK)
		rc = add_comp(out, outlen, "web.config", &gone, "web.config", err);
	if (rc == EMG_OK)
		*exists = !gone;
	return rc;
}
