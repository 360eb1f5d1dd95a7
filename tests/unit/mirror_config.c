/* mirror_config.c - mirror.conf parsing: defaults, every key, relative
 * paths, and the errors an operator sees (file:line, exit code 3). */
#include <string.h>

#include "check.h"
#include "err.h"
#include "mirror/config.h"

static int parse(emg_mirror_conf *c, const char *text, emg_err *err)
{
	emg_err_clear(err);
	return emg_mirror_conf_parse(c, "m.conf", "/etc/emgap", text, strlen(text), err);
}

static void test_defaults(check_ctx *ctx)
{
	emg_mirror_conf c;
	emg_err err;
	int rc = parse(&c, "# nothing set\n", &err);

	CHECK(ctx, rc == EMG_OK, "empty config parses");
	CHECK(ctx, strcmp(c.feed_url, EMG_MIRROR_DEFAULT_FEED) == 0, "default feed is the OCS endpoint");
	CHECK(ctx, c.ctl_count == 2 && strstr(c.ctl_url[0], "ctldl.windowsupdate.com") != NULL &&
		   strstr(c.ctl_url[0], "authrootstl.cab") != NULL &&
		   strstr(c.ctl_url[1], "disallowedcertstl.cab") != NULL,
	      "default CTLs are authroot and disallowedcert");
	CHECK(ctx, c.proxy == NULL, "no proxy set: the environment decides");
	CHECK(ctx, c.retention == 10 && c.expires_after == 7 * 86400UL && c.interval == 3600,
	      "default retention, expiry and interval");
	CHECK(ctx, emg_mirror_conf_require(&c, 0, &err) == EMG_ECONFIG && strstr(err.msg, "anchors") != NULL,
	      "fetch needs [vendor] anchors");
	emg_mirror_conf_free(&c);
}

static void test_full(check_ctx *ctx)
{
	static const char text[] =
		"[feed]\nurl = https://feed.example/x\n"
		"[network]\nproxy = http://proxy.example:3128\nca_bundle = ca.pem\n"
		"timeout = 2m\nconnect_timeout = 10\nretries = 5\nretry_delay = 250\nmax_feed_bytes = 2048\n"
		"[vendor]\nanchors = /trust/anchors.pem\neku = 1.3.6.1.5.5.7.3.3\neku = 1.2.3\n"
		"subject = CN=Vendor\n"
		"[ctl]\nurl = http://ctl.example/a.cab\n"
		"[output]\nstaging = st\ndrop = /srv/drop\nretention = 3\nexpires_after = 2d\n"
		"[signing]\nsecret = k.key\ncert = k.cert\npassphrase_file = pass\n"
		"[log]\nfile = /var/log/m.log\n[watch]\ninterval = 1h\njitter = 0\n";
	emg_mirror_conf c;
	emg_err err;
	int rc = parse(&c, text, &err);

	CHECK(ctx, rc == EMG_OK, "a full config parses");
	if (rc != EMG_OK) {
		printf("# %s\n", err.msg);
		emg_mirror_conf_free(&c);
		return;
	}
	CHECK(ctx, strcmp(c.proxy, "http://proxy.example:3128") == 0, "proxy kept");
	CHECK(ctx, strcmp(c.ca_bundle, "/etc/emgap/ca.pem") == 0, "relative path taken from the config's directory");
	CHECK(ctx, strcmp(c.anchors, "/trust/anchors.pem") == 0, "absolute path kept");
	CHECK(ctx, c.timeout == 120 && c.connect_timeout == 10, "durations with and without units");
	CHECK(ctx, c.retries == 5 && c.retry_delay_ms == 250 && c.max_feed_bytes == 2048, "numbers");
	CHECK(ctx, c.eku_count == 2 && strcmp(c.eku[1], "1.2.3") == 0, "eku repeats");
	CHECK(ctx, c.ctl_count == 1, "a [ctl] url replaces the defaults");
	CHECK(ctx, strcmp(c.staging, "/etc/emgap/st") == 0 && c.retention == 3 && c.expires_after == 172800,
	      "output section");
	CHECK(ctx, strcmp(c.passphrase_file, "/etc/emgap/pass") == 0, "passphrase file");
	CHECK(ctx, emg_mirror_conf_require(&c, 1, &err) == EMG_OK, "run has what it needs");
	emg_mirror_conf_free(&c);
}

/* Each bad config fails with exit code 3 and a message holding want. */
static void bad(check_ctx *ctx, const char *text, const char *want, const char *name)
{
	emg_mirror_conf c;
	emg_err err;
	int rc = parse(&c, text, &err);

	CHECK(ctx, rc == EMG_ECONFIG && strstr(err.msg, want) != NULL, name);
	if (rc != EMG_ECONFIG || strstr(err.msg, want) == NULL)
		printf("# got %d: %s\n", rc, err.msg);
	emg_mirror_conf_free(&c);
}

static void test_errors(check_ctx *ctx)
{
	bad(ctx, "[feed]\nurl = https://a/\n[network]\nproxxy = x\n", "m.conf:4: unknown key 'proxxy' in [network]",
	    "unknown key refused with file:line");
	bad(ctx, "[feed]\nurl = file:///etc/passwd\n", "m.conf:2: [feed] url: 'file:///etc/passwd' is not an http",
	    "file:// feed URL refused");
	bad(ctx, "[ctl]\nurl = ftp://x/a.cab\n", "m.conf:2: [ctl] url", "ftp CTL URL refused");
	bad(ctx, "[feed]\nurl = https://a/b c\n", "URL contains a space", "URL with a space refused");
	bad(ctx, "[network]\ntimeout = 5x\n", "m.conf:2: [network] timeout: '5x' is not a duration",
	    "bad duration refused");
	bad(ctx, "[network]\nretries = 99\n", "retries: 99 is outside 0..10", "retries bounded");
	bad(ctx, "[network]\nmax_feed_bytes = 10\n", "max_feed_bytes", "tiny size cap refused");
	bad(ctx, "[vendor]\neku = 1.3.x\n", "m.conf:2: [vendor] eku: '1.3.x' is not a dotted OID", "bad OID refused");
	bad(ctx, "[signing]\nsecret = k\n", "[signing] needs both secret and cert", "secret without cert refused");
	bad(ctx, "[output]\nexpires_after = 10s\n", "expires_after: under a minute", "tiny expiry refused");
	bad(ctx, "[feed]\nurl = https://a/\nurl = https://b/\n", "given twice", "repeated single key refused");
	bad(ctx, "[output]\nstaging =\n", "empty path", "empty path refused");
}

static void test_durations(check_ctx *ctx)
{
	unsigned long v = 0;

	CHECK(ctx, emg_parse_duration("90", &v) == 0 && v == 90, "plain seconds");
	CHECK(ctx, emg_parse_duration("15m", &v) == 0 && v == 900, "minutes");
	CHECK(ctx, emg_parse_duration("7d", &v) == 0 && v == 604800, "days");
	CHECK(ctx, emg_parse_duration("", &v) != 0, "empty refused");
	CHECK(ctx, emg_parse_duration("1hh", &v) != 0, "trailing junk refused");
	CHECK(ctx, emg_parse_duration("-5", &v) != 0, "negative refused");
	CHECK(ctx, emg_parse_duration("99999999999", &v) != 0, "absurd value refused");
}

/* The shipped sample must stay valid as options change. */
static void test_sample(check_ctx *ctx)
{
	const char *src = getenv("EMGAP_SRC");
	char path[4096];
	emg_mirror_conf c;
	emg_err err;
	int rc;

	snprintf(path, sizeof path, "%s/samples/mirror.conf", src ? src : ".");
	rc = emg_mirror_conf_load(&c, path, &err);
	CHECK(ctx, rc == EMG_OK, "samples/mirror.conf parses");
	if (rc != EMG_OK)
		printf("# %s\n", err.msg);
	else
		CHECK(ctx, emg_mirror_conf_require(&c, 1, &err) == EMG_OK && c.ctl_count == 2 &&
			   c.retention == 24 && c.eku_count == 1,
		      "samples/mirror.conf has what run needs");
	emg_mirror_conf_free(&c);
}

int main(void)
{
	check_ctx ctx = {0};

	test_sample(&ctx);
	test_defaults(&ctx);
	test_full(&ctx);
	test_errors(&ctx);
	test_durations(&ctx);
	return ctx.failed ? 1 : 0;
}
