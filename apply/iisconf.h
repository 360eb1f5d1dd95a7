/* iisconf.h - IIS configuration files: finding them, and minimal edits.
 *
 * IIS keeps its configuration in applicationHost.config and in web.config
 * files in the sites' and virtual directories' physical paths. emgap edits
 * them as bytes: libxml2 parses the file only to check it and to find the
 * element to change; the change is spliced into the original bytes, so the
 * rest of the file (BOM, CRLF, quoting, attribute order, comments,
 * whitespace inside tags) stays byte-identical. The result is parsed again
 * and checked before it is handed back. See docs/iis-editing.md.
 *
 * Conventions for every function here:
 *  - doc/len are the bytes of one config file as read from disk (BOM and
 *    all); "name" is the file's name for messages (usually its path).
 *  - Edits never change their input. They return a new malloc'd buffer in
 *    *out and *outlen, or *out == NULL when nothing needed to change. The
 *    caller writes *out with emg_write_file_atomic and frees it.
 *  - Undo records (char *, malloc'd, caller frees) are single-line
 *    printable ASCII (no spaces, '=' ';' ',' ':' and base64), fit to be
 *    stored as an INI value in the state directory. They let a revert put
 *    back exactly the bytes that were there before.
 *  - Malformed XML, a DOCTYPE, a non-UTF-8 encoding, a file over
 *    EMG_IIS_MAX_BYTES or nested deeper than EMG_IIS_MAX_DEPTH fails with
 *    EMG_ECONFIG and a message "NAME:LINE: what". A missing site, vDir,
 *    pool or section that must exist fails with EMG_ECONFIG too. Out of
 *    memory is EMG_EIO. An edit whose result does not parse again or does
 *    not read back as intended (never expected; a safety net) fails with
 *    EMG_EAPPLY and hands back nothing. Nothing here writes files.
 */
#ifndef EMG_APPLY_IISCONF_H
#define EMG_APPLY_IISCONF_H

#include <stddef.h>
#include <stdint.h>

#include "err.h"

#define EMG_IIS_MAX_BYTES ((size_t)64 << 20) /* one config file */
#define EMG_IIS_MAX_DEPTH 128                /* element nesting */
#define EMG_IIS_MAX_FRAGMENT ((size_t)1 << 20) /* the rules of one action */
#define EMG_IIS_MAX_RULES 64                 /* rules in one fragment */

/* The Exchange setup's value of %ExchangeInstallPath%, used when the
 * caller does not know better. */
#define EMG_IIS_DEFAULT_EXCHANGE_INSTALL "C:\\Program Files\\Microsoft\\Exchange Server\\V15\\"

/* ---- where the files are ------------------------------------------------ */

enum emg_iis_scope {
	EMG_IIS_SCOPE_SERVER, /* applicationHost.config, rewrite/globalRules */
	EMG_IIS_SCOPE_SITE,   /* web.config in the site's root physical path */
	EMG_IIS_SCOPE_VDIR    /* web.config in the vDir's physical path */
};

/* "Server", "Site", "VDir" (any case) -> scope; else EMG_ECONFIG. */
int emg_iis_scope_parse(const char *text, enum emg_iis_scope *scope, emg_err *err);

/* The host side of one Windows server. */
typedef struct emg_iis_env {
	const char *root;             /* host directory standing for C:\ */
	const char *exchange_install; /* %ExchangeInstallPath% in Windows form,
				       * or NULL for EMG_IIS_DEFAULT_EXCHANGE_INSTALL */
} emg_iis_env;

/* Maps a Windows path to a host path under env->root: expands
 * %SystemDrive% (C:), %SystemRoot% and %windir% (C:\Windows) and
 * %ExchangeInstallPath% (any case); "C:\" (or "C:/") becomes the root;
 * backslashes become slashes; each existing component is matched without
 * regard to case as Windows does (an exact match wins; two entries that
 * differ only in case are an error). Refuses with EMG_ECONFIG: other
 * drives, UNC and relative paths, unknown %VARS%, ".." components, and
 * symbolic links on the way (so the result never escapes the root).
 * Components that do not exist are kept as written. */
int emg_iis_host_path(const emg_iis_env *env, const char *winpath, char *out, size_t outlen,
		      emg_err *err);

/* The host path of C:\Windows\System32\inetsrv\config\applicationHost.config. */
int emg_iis_apphost_path(const emg_iis_env *env, char *out, size_t outlen, emg_err *err);

/* Finds the config file an IIS URL Rewrite action edits.
 *  SERVER: applicationHost.config itself (site and vpath unused, may be NULL).
 *  SITE:   web.config in the physical path of the root vDir "/" of the
 *          root application "/" of the site called site.
 *  VDIR:   web.config for URL path vpath ("/owa", "/ecp/", "/OWA/x"):
 *          the vDir whose application path + vDir path is the longest
 *          prefix of vpath, compared without regard to case on whole
 *          segments; the rest of vpath becomes subdirectories of its
 *          physical path. vpath "/" is the same as SITE.
 * apphost/apphost_len are the bytes of applicationHost.config (for the
 * <sites> section). Site names compare without regard to case. *exists
 * tells whether the web.config is there now (see emg_iis_webconfig_skeleton).
 * The physical directory itself must exist. Unknown site or vDir, a
 * vDir without physicalPath, or a path escape: EMG_ECONFIG naming them. */
int emg_iis_config_path(const emg_iis_env *env, const uint8_t *apphost, size_t apphost_len,
			const char *apphost_name, enum emg_iis_scope scope, const char *site,
			const char *vpath, char *out, size_t outlen, int *exists, emg_err *err);

/* *installed = 1 when <globalModules> of the top-level <system.webServer>
 * in applicationHost.config has <add name="RewriteModule">, else 0. Without
 * the module a <rewrite> section makes IIS answer 500.19 for the site. */
int emg_iis_rewrite_module_installed(const uint8_t *apphost, size_t len, const char *name,
				     int *installed, emg_err *err);

/* Checks that doc is a config file emgap can edit (well-formed, limits,
 * root element <configuration>). */
int emg_iis_check(const uint8_t *doc, size_t len, const char *name, emg_err *err);

/* The bytes of a new, empty web.config (UTF-8 BOM, CRLF, <configuration>).
 * When the web.config does not exist, upsert into these bytes and create
 * the file; on revert, when emg_iis_rules_remove gives back exactly these
 * bytes, delete the file instead of writing it. */
const uint8_t *emg_iis_webconfig_skeleton(size_t *len);

/* ---- URL Rewrite rules --------------------------------------------------- */

/* Which file a rule goes into: applicationHost.config keeps server rules in
 * system.webServer/rewrite/globalRules, a web.config in .../rewrite/rules.
 * <outboundRule> goes to .../rewrite/outboundRules in both. Only the
 * top-level <system.webServer> is used, never one inside <location>. */
enum emg_iis_file_kind {
	EMG_IIS_APPHOST,  /* scope Server */
	EMG_IIS_WEBCONFIG /* scope Site and VDir */
};

/* The fragment (frag/fraglen, the content of the feed's <Value>) is one or
 * more <rule> and/or <outboundRule> elements in IIS URL Rewrite schema, each
 * with a unique non-empty name attribute; comments and whitespace between
 * them are ignored. At most EMG_IIS_MAX_FRAGMENT bytes and EMG_IIS_MAX_RULES
 * rules. Rule names match without regard to case, as IIS compares
 * collection keys. Two rules in the file with the same name: EMG_ECONFIG.
 * A fragment that is not such a list: EMG_ECONFIG ("rule fragment: ..."). */

enum emg_iis_rule_state {
	EMG_IIS_RULE_ABSENT,   /* none of the fragment's rules is in the file */
	EMG_IIS_RULE_SAME,     /* all are, each equal to the fragment's */
	EMG_IIS_RULE_DIFFERENT /* some are missing or differ (drift) */
};

/* "Equal" compares the XML, not the bytes: element names, the set of
 * attributes and their values, child elements in order and non-blank text;
 * comments, whitespace, quoting and attribute order do not count. */
int emg_iis_rules_state(const uint8_t *doc, size_t len, const char *name,
			enum emg_iis_file_kind kind, const char *frag, size_t fraglen,
			enum emg_iis_rule_state *state, emg_err *err);

/* Inserts each rule of the fragment, or replaces a rule of the same name
 * whose content differs (in place). New rules go first in the collection
 * (after any <clear/> or <remove/>), so that no existing rule with
 * stopProcessing can skip the mitigation. Missing <system.webServer>,
 * <rewrite>, <rules> are created; an empty container (<rules />,
 * <rules></rules>) is expanded. Indentation follows the neighbours, line
 * endings the file. When every rule is already there and equal: *out =
 * NULL and *undo = NULL (nothing to do). Otherwise *undo records what was
 * inserted, what was replaced (its old bytes) and which containers were
 * created or expanded (their old bytes). */
int emg_iis_rules_upsert(const uint8_t *doc, size_t len, const char *name,
			 enum emg_iis_file_kind kind, const char *frag, size_t fraglen,
			 uint8_t **out, size_t *outlen, char **undo, emg_err *err);

/* Undoes an upsert: rules it inserted are removed (with the line they sit
 * on), rules it replaced get their old bytes back, and containers it
 * created or expanded go back to what they were if they are empty again.
 * Reverting upserts on one file in reverse order gives back the original
 * bytes exactly. Rules already gone (removed by hand) are skipped. With
 * undo == NULL, the rules named in frag are removed and the containers
 * left in place. *out == NULL when there was nothing to remove. */
int emg_iis_rules_remove(const uint8_t *doc, size_t len, const char *name,
			 enum emg_iis_file_kind kind, const char *undo, const char *frag,
			 size_t fraglen, uint8_t **out, size_t *outlen, emg_err *err);

/* For a re-apply after drift (state DIFFERENT, rule changed or removed by
 * hand): combines the record of the first upsert with the one of the
 * re-apply, so that a revert still restores what was there before the
 * first apply. A rule in first keeps its entry from first; containers come
 * from later when later created any, else from first. Either may be NULL. */
int emg_iis_undo_merge(const char *first, const char *later, char **out, emg_err *err);

/* ---- application pools --------------------------------------------------- */

/* One attribute as found: absent, or present with its decoded value. */
typedef struct emg_iis_attr {
	int present;
	char value[64];
} emg_iis_attr;

typedef struct emg_iis_pool_cfg {
	emg_iis_attr auto_start; /* autoStart */
	emg_iis_attr start_mode; /* startMode */
} emg_iis_pool_cfg;

/* Reads the pool's <add name="POOL"> under
 * configuration/system.applicationHost/applicationPools (name without regard
 * to case). Unknown pool: EMG_ECONFIG. */
int emg_iis_apppool_get(const uint8_t *apphost, size_t len, const char *name, const char *pool,
			emg_iis_pool_cfg *cur, emg_err *err);

/* 1 when the pool is already autoStart="false" (any case) and
 * startMode="OnDemand". */
int emg_iis_apppool_is_disabled(const emg_iis_pool_cfg *cfg);

/* Sets autoStart="false" and startMode="OnDemand" on the pool: an existing
 * attribute keeps its place and quotes and gets the new value; a missing
 * one is added at the end of the tag. *prev gets the values before; *undo
 * the exact old text. *out == NULL (and *undo == NULL) when both already
 * had those values. */
int emg_iis_apppool_disable(const uint8_t *apphost, size_t len, const char *name, const char *pool,
			    uint8_t **out, size_t *outlen, emg_iis_pool_cfg *prev, char **undo,
			    emg_err *err);

/* Puts back what the undo record of emg_iis_apppool_disable says: the old
 * value text, or no attribute at all. *out == NULL when the file already
 * has those values. */
int emg_iis_apppool_restore(const uint8_t *apphost, size_t len, const char *name,
			    const char *pool, const char *undo, uint8_t **out, size_t *outlen,
			    emg_err *err);

#endif
