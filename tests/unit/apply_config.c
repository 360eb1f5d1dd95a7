/* apply_config.c - apply.conf: good files load, every bad one is refused
 * with the right code and a message naming file:line. */
#include <stdio.h>
#include <string.h>

#include "apply/config.h"
#include "check.h"
#include "err.h"
#include "fileio.h"

static const char good[] =
	"# test\n"
	"[server]\nname = EXCH01\nproduct = Exchange2019\nbuild = 15.2.1118.7\nroot = srv\n"
	"[trust]\ndir = /etc/emgap/trust\n"
	"[state]\ndir = st\n"
	"[sources]\npath = /mnt/usb\npath = share\nurl = https://bundles.example/emgap.bundle\n"
	"url = file:///srv/b.bundle\n"
	"[host]\nbackend = sim\n"
	"[policy]\nauto_revert_obsolete = true\n"
	"[org]\nsettings = /mnt/share/org.conf\n";

static int load_text(const char *text, emg_apply_config *cfg, emg_err *err, char *path, size_t n)
{
	emg_err e;

	snprintf(path, n, "%s/apply.conf", check_tmpdir());
	if (emg_write_file_atomic(path, text, strlen(text), 0600, &e) != EMG_OK)
		return -1;
	emg_err_clear(err);
	return emg_apply_config_load(path, cfg, err);
}

/* replace: the good text with one line swapped (from -> to). */
static int load_variant(const char *from, const char *to, emg_err *err)
{
	char text[4096], path[4096];
	const char *at = strstr(good, from);
	emg_apply_config cfg;
	int rc;

	if (at == NULL)
		return -1;
	snprintf(text, sizeof text, "%.*s%s%s", (int)(at - good), good, to, at + strlen(from));
	rc = load_text(text, &cfg, err, path, sizeof path);
	if (rc == EMG_OK)
		emg_apply_config_free(&cfg);
	return rc;
}

int main(void)
{
	check_ctx c = {0};
	emg_apply_config cfg;
	emg_err err;
	char path[4096], want[4200], dir[4096];

	CHECK(&c, load_text(good, &cfg, &err, path, sizeof path) == EMG_OK, "good config loads");
	if (realpath(check_tmpdir(), dir) == NULL)
		snprintf(dir, sizeof dir, "%s", check_tmpdir());
	CHECK(&c, strcmp(cfg.server_name, "EXCH01") == 0, "server name");
	CHECK(&c, strcmp(cfg.product, "Exchange2019") == 0, "product");
	CHECK(&c, strcmp(cfg.build, "15.2.1118.7") == 0, "build");
	snprintf(want, sizeof want, "%s/srv", dir);
	CHECK(&c, strcmp(cfg.root, want) == 0, "relative root taken from the config's directory");
	snprintf(want, sizeof want, "%s/st", dir);
	CHECK(&c, strcmp(cfg.state_dir, want) == 0, "relative state dir resolved");
	CHECK(&c, strcmp(cfg.trust_dir, "/etc/emgap/trust") == 0, "absolute trust dir kept");
	CHECK(&c, cfg.source_path_count == 2 && strcmp(cfg.source_paths[0], "/mnt/usb") == 0,
	      "repeatable source paths, in order");
	CHECK(&c, cfg.source_url_count == 2 && strncmp(cfg.source_urls[1], "file://", 7) == 0,
	      "repeatable source urls");
	CHECK(&c, cfg.auto_revert_obsolete == 1, "auto_revert_obsolete read");
	CHECK(&c, strcmp(cfg.backend, "sim") == 0, "backend");
	CHECK(&c, strcmp(cfg.org_settings, "/mnt/share/org.conf") == 0, "org settings path");
	CHECK(&c, cfg.interval == 3600 && cfg.first_delay == 600, "schedule defaults");
	emg_apply_config_free(&cfg);

	CHECK(&c, load_variant("backend = sim", "backend = sim\nfrobnicate = 1", &err) == EMG_ECONFIG,
	      "unknown key refused");
	CHECK(&c, strstr(err.msg, "apply.conf:") != NULL && strstr(err.msg, "frobnicate") != NULL,
	      "unknown key message names file:line and key");
	CHECK(&c, load_variant("product = Exchange2019", "product = Exchange2013", &err) == EMG_ECONFIG &&
		      strstr(err.msg, "Exchange2013") != NULL,
	      "unknown product refused");
	CHECK(&c, load_variant("build = 15.2.1118.7", "build = 15.2.x", &err) == EMG_ECONFIG &&
		      strstr(err.msg, "build") != NULL,
	      "malformed build refused");
	CHECK(&c, load_variant("root = srv", "root = /", &err) == EMG_ECONFIG &&
		      strstr(err.msg, "allow_root_slash") != NULL,
	      "root = / refused by default");
	CHECK(&c, load_variant("root = srv", "root = /\nallow_root_slash = true", &err) == EMG_OK,
	      "root = / allowed with allow_root_slash");
	CHECK(&c, load_variant("url = file:///srv/b.bundle", "url = http://x/b.bundle", &err) == EMG_ECONFIG &&
		      strstr(err.msg, "http://x/b.bundle") != NULL,
	      "plain http source refused");
	CHECK(&c, load_variant("backend = sim", "backend = docker", &err) == EMG_ECONFIG, "unknown backend refused");
	CHECK(&c, load_variant("name = EXCH01\n", "", &err) == EMG_ECONFIG && strstr(err.msg, "name") != NULL,
	      "missing server name refused");
	CHECK(&c, load_variant("auto_revert_obsolete = true", "auto_revert_obsolete = maybe", &err) == EMG_ECONFIG,
	      "bad boolean refused");
	CHECK(&c, load_variant("[host]", "[hosts]", &err) == EMG_ECONFIG, "unknown section refused");
	snprintf(path, sizeof path, "%s/does-not-exist.conf", check_tmpdir());
	CHECK(&c, emg_apply_config_load(path, &cfg, &err) == EMG_ECONFIG && strstr(err.msg, "does-not-exist.conf") != NULL,
	      "missing file: config error naming it");
	{
		char *argv[] = {"run", "--dry-run", "--config", "/x/y.conf", NULL};
		char *argv2[] = {"run", NULL};
		CHECK(&c, strcmp(emg_apply_config_arg(4, argv), "/x/y.conf") == 0, "--config found");
		CHECK(&c, strcmp(emg_apply_config_arg(1, argv2), EMG_APPLY_CONFIG_DEFAULT) == 0, "default config path");
	}
	return c.failed ? 1 : 0;
}
