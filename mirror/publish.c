/* publish.c - `run`: a bundle from the staged snapshot, signed when a key is
 * configured, published atomically into the drop directory. */
#include "mirror/fetch.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <sodium.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bundle/bundle.h"
#include "fileio.h"
#include "sysio.h"
#include "timefmt.h"

#define BUNDLE_PREFIX "emgap-"
#define BUNDLE_SUFFIX ".bundle"
#define MAX_PASSPHRASE 1024

/* What the last published bundle held. */
typedef struct published {
	char digest[65];
	unsigned long long sequence;
	time_t expires;
	int present;
} published;

static int state_path(const emg_mirror_ctx *ctx, const char *name, char *out, size_t outlen,
		      emg_err *err)
{
	if ((size_t)snprintf(out, outlen, "%s/%s", ctx->conf->staging, name) >= outlen)
		return emg_fail(err, EMG_ECONFIG, "%s: path too long", ctx->conf->staging);
	return EMG_OK;
}

static int parse_u64(const char *s, unsigned long long *out)
{
	char *end;

	if (*s < '0' || *s > '9')
		return -1;
	errno = 0;
	*out = strtoull(s, &end, 10);
	return errno != 0 || (*end != '\0' && *end != '\n') ? -1 : 0;
}

static int read_published(const emg_mirror_ctx *ctx, published *pub, emg_err *err)
{
	char path[PATH_MAX], buf[1024], when[64];
	char *line, *save = NULL;
	int missing, rc;

	memset(pub, 0, sizeof *pub);
	if ((rc = state_path(ctx, "published", path, sizeof path, err)) != EMG_OK ||
	    (rc = emg_mirror_read_small(path, buf, sizeof buf, &missing, err)) != EMG_OK || missing)
		return rc;
	for (line = strtok_r(buf, "\n", &save); line != NULL; line = strtok_r(NULL, "\n", &save)) {
		if (strncmp(line, "digest ", 7) == 0 && strlen(line + 7) == 64)
			memcpy(pub->digest, line + 7, 65);
		else if (strncmp(line, "sequence ", 9) == 0 && parse_u64(line + 9, &pub->sequence) == 0)
			continue;
		else if (strncmp(line, "expires ", 8) == 0 && strlen(line + 8) < sizeof when &&
			 emg_time_parse(line + 8, &pub->expires) == 0)
			continue;
	}
	pub->present = pub->digest[0] != '\0' && pub->expires != 0;
	return EMG_OK;
}

/* The sequence number of "emgap-<N>.bundle", or 0. */
static unsigned long long bundle_seq(const char *name)
{
	size_t n = strlen(name), p = strlen(BUNDLE_PREFIX), s = strlen(BUNDLE_SUFFIX);
	char digits[32];
	unsigned long long v;

	if (n <= p + s || n - p - s >= sizeof digits || strncmp(name, BUNDLE_PREFIX, p) != 0 ||
	    strcmp(name + n - s, BUNDLE_SUFFIX) != 0)
		return 0;
	memcpy(digits, name + p, n - p - s);
	digits[n - p - s] = '\0';
	return parse_u64(digits, &v) == 0 ? v : 0;
}

/* Highest sequence in the drop directory. Taken together with the state
 * file, so a crash between publishing and recording never reuses one. */
static unsigned long long drop_max_seq(const char *drop)
{
	unsigned long long max = 0, v;
	struct dirent *de;
	DIR *d = opendir(drop);

	if (d == NULL)
		return 0;
	while ((de = readdir(d)) != NULL)
		if ((v = bundle_seq(de->d_name)) > max)
			max = v;
	closedir(d);
	return max;
}

static int next_sequence(const emg_mirror_ctx *ctx, unsigned long long *seq, emg_err *err)
{
	char path[PATH_MAX], buf[64];
	unsigned long long last = 0, dmax;
	int missing, rc;

	if ((rc = state_path(ctx, "sequence", path, sizeof path, err)) != EMG_OK ||
	    (rc = emg_mirror_read_small(path, buf, sizeof buf, &missing, err)) != EMG_OK)
		return rc;
	if (!missing && parse_u64(buf, &last) != 0)
		return emg_fail(err, EMG_ECONFIG, "%s: not a sequence number", path);
	dmax = drop_max_seq(ctx->conf->drop);
	if (dmax > last)
		last = dmax;
	if (last == ~0ULL)
		return emg_fail(err, EMG_ECONFIG, "%s: sequence exhausted", path);
	*seq = last + 1;
	return EMG_OK;
}

static int read_passphrase(const char *path, char *out, size_t outlen, emg_err *err)
{
	uint8_t *buf;
	size_t len;
	int rc;

	rc = emg_read_file(path, outlen - 1, EMG_ECONFIG, &buf, &len, err);
	if (rc != EMG_OK)
		return emg_err_prefix(err, "passphrase file");
	while (len > 0 && (buf[len - 1] == '\n' || buf[len - 1] == '\r'))
		len--;
	memcpy(out, buf, len);
	out[len] = '\0';
	sodium_memzero(buf, len);
	free(buf);
	return EMG_OK;
}

static int sign(const emg_mirror_ctx *ctx, const char *bundle, emg_err *err)
{
	const emg_mirror_conf *c = ctx->conf;
	char pass[MAX_PASSPHRASE];
	int rc = EMG_OK;

	pass[0] = '\0';
	if (c->passphrase_file != NULL)
		rc = read_passphrase(c->passphrase_file, pass, sizeof pass, err);
	if (rc == EMG_OK)
		rc = emg_bundle_sign(bundle, c->secret, c->passphrase_file ? pass : NULL, c->cert, err);
	sodium_memzero(pass, sizeof pass);
	if (rc != EMG_OK)
		return emg_err_prefix(err, "signing %s", bundle);
	return EMG_OK;
}

/* Copies src into dst through emg_atomic: a temporary name in the drop
 * directory, fsync, rename, fsync of the directory. A reader of the drop
 * directory sees a whole bundle or none. */
static int publish_copy(const char *src, const char *dst, emg_err *err)
{
	uint8_t buf[65536];
	emg_atomic a;
	ssize_t n;
	int fd, rc;

	fd = open(src, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return emg_fail(err, EMG_EIO, "%s: %s", src, strerror(errno));
	rc = emg_atomic_open(&a, dst, 0644, err);
	while (rc == EMG_OK && (n = read(fd, buf, sizeof buf)) != 0) {
		if (n < 0) {
			if (errno == EINTR)
				continue;
			rc = emg_fail(err, EMG_EIO, "%s: %s", src, strerror(errno));
			break;
		}
		rc = emg_atomic_write(&a, buf, (size_t)n, err);
	}
	close(fd);
	if (rc != EMG_OK) {
		emg_atomic_abort(&a);
		return rc;
	}
	return emg_atomic_commit(&a, err);
}

/* Keeps the newest `keep` bundles; `latest` always names one of them. */
static void retain(const emg_mirror_ctx *ctx, unsigned long long newest)
{
	unsigned long long keep = ctx->conf->retention, v;
	char path[PATH_MAX];
	struct dirent *de;
	DIR *d = opendir(ctx->conf->drop);

	if (d == NULL)
		return;
	while ((de = readdir(d)) != NULL) {
		v = bundle_seq(de->d_name);
		if (v == 0 || v + keep > newest)
			continue;
		if ((size_t)snprintf(path, sizeof path, "%s/%s", ctx->conf->drop, de->d_name) < sizeof path &&
		    emg_unlink(path) == 0)
			emg_mlog_event(ctx->log, EMG_EVENT_PUBLISHED, "retention: removed %s", de->d_name);
	}
	closedir(d);
}

static int record(const emg_mirror_ctx *ctx, const emg_snapshot *snap, unsigned long long seq,
		  time_t expires, const char *name, emg_err *err)
{
	char path[PATH_MAX], text[512], when[EMG_TIME_LEN];
	int rc, n;

	n = snprintf(text, sizeof text, "%llu\n", seq);
	if ((rc = state_path(ctx, "sequence", path, sizeof path, err)) != EMG_OK ||
	    (rc = emg_write_file_atomic(path, text, (size_t)n, 0640, err)) != EMG_OK)
		return rc;
	emg_time_format(expires, when);
	n = snprintf(text, sizeof text, "digest %s\nsequence %llu\nexpires %s\nbundle %s\n",
		     snap->digest, seq, when, name);
	if ((rc = state_path(ctx, "published", path, sizeof path, err)) != EMG_OK ||
	    (rc = emg_write_file_atomic(path, text, (size_t)n, 0640, err)) != EMG_OK)
		return rc;
	n = snprintf(text, sizeof text, "%s\n", name);
	if ((size_t)snprintf(path, sizeof path, "%s/latest", ctx->conf->drop) >= sizeof path)
		return emg_fail(err, EMG_ECONFIG, "%s: path too long", ctx->conf->drop);
	return emg_write_file_atomic(path, text, (size_t)n, 0644, err);
}

/* Bundle made in the staging directory (create, then sign, may rewrite it
 * several times), then copied into the drop directory in one step. */
static int build_and_publish(emg_mirror_ctx *ctx, const emg_snapshot *snap, emg_err *err)
{
	const emg_mirror_conf *c = ctx->conf;
	char work[PATH_MAX], feed[PATH_MAX], pki[PATH_MAX], dst[PATH_MAX], name[64];
	emg_bundle_create_opts o;
	unsigned long long seq = 0;
	int rc;

	if ((rc = next_sequence(ctx, &seq, err)) != EMG_OK)
		return rc;
	snprintf(name, sizeof name, BUNDLE_PREFIX "%llu" BUNDLE_SUFFIX, seq);
	if ((size_t)snprintf(work, sizeof work, "%s/%s", c->staging, name) >= sizeof work ||
	    (size_t)snprintf(feed, sizeof feed, "%s/" EMG_SNAPSHOT_FEED, snap->dir) >= sizeof feed ||
	    (size_t)snprintf(pki, sizeof pki, "%s/pki", snap->dir) >= sizeof pki ||
	    (size_t)snprintf(dst, sizeof dst, "%s/%s", c->drop, name) >= sizeof dst)
		return emg_fail(err, EMG_ECONFIG, "%s: path too long", c->staging);
	memset(&o, 0, sizeof o);
	o.feed_path = feed;
	o.pki_dir = pki;
	o.sequence = seq;
	o.created = ctx->now;
	o.expires = ctx->now + (time_t)c->expires_after;
	o.source = c->feed_url;
	o.fetched = ctx->now;
	o.out_path = work;
	(void)emg_unlink(work);
	rc = emg_bundle_create(&o, err);
	if (rc != EMG_OK)
		emg_err_prefix(err, "creating %s", name);
	if (rc == EMG_OK && c->secret != NULL)
		rc = sign(ctx, work, err);
	if (rc == EMG_OK && (rc = emg_mkdir_p(c->drop, 0755, err)) == EMG_OK)
		rc = publish_copy(work, dst, err);
	(void)emg_unlink(work);
	if (rc == EMG_OK)
		rc = record(ctx, snap, seq, o.expires, name, err);
	if (rc != EMG_OK)
		return rc;
	emg_mlog_event(ctx->log, EMG_EVENT_PUBLISHED, "published %s (sequence %llu, %s)", dst, seq,
		       c->secret != NULL ? "signed" : "unsigned: sign it at the signing station");
	if (ctx->out != NULL)
		fprintf(ctx->out, "published %s\n", dst);
	retain(ctx, seq);
	return EMG_OK;
}

int emg_mirror_run(emg_mirror_ctx *ctx, emg_err *err)
{
	const emg_mirror_conf *c = ctx->conf;
	emg_snapshot snap;
	published pub;
	int rc;

	if ((rc = emg_mirror_fetch(ctx, &snap, err)) != EMG_OK ||
	    (rc = read_published(ctx, &pub, err)) != EMG_OK)
		return rc;
	/* Same feed and PKI as the last bundle: publish again only when that
	 * bundle has used up half its lifetime, so the inside never runs dry. */
	if (pub.present && strcmp(pub.digest, snap.digest) == 0 &&
	    ctx->now < pub.expires - (time_t)(c->expires_after / 2)) {
		emg_mlog_event(ctx->log, EMG_EVENT_FETCHED,
			       "nothing new: feed and PKI unchanged since bundle sequence %llu", pub.sequence);
		if (ctx->out != NULL)
			fprintf(ctx->out, "nothing new since sequence %llu\n", pub.sequence);
		return EMG_OK;
	}
	return build_and_publish(ctx, &snap, err);
}
