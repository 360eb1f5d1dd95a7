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

/* What a published bundle held: the `published` record (the last bundle)
 * or the `pending` one (a publication in flight, see finish_pending). */
typedef struct published {
	char digest[65];
	unsigned long long sequence;
	time_t expires;
	char bundle[64];
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

static int read_record(const emg_mirror_ctx *ctx, const char *name, published *pub, int *missing,
		       emg_err *err)
{
	char path[PATH_MAX], buf[1024], when[64];
	char *line, *save = NULL;
	int rc;

	memset(pub, 0, sizeof *pub);
	if ((rc = state_path(ctx, name, path, sizeof path, err)) != EMG_OK ||
	    (rc = emg_mirror_read_small(path, buf, sizeof buf, missing, err)) != EMG_OK || *missing)
		return rc;
	for (line = strtok_r(buf, "\n", &save); line != NULL; line = strtok_r(NULL, "\n", &save)) {
		if (strncmp(line, "digest ", 7) == 0 && strlen(line + 7) == 64)
			memcpy(pub->digest, line + 7, 65);
		else if (strncmp(line, "sequence ", 9) == 0 && parse_u64(line + 9, &pub->sequence) == 0)
			continue;
		else if (strncmp(line, "expires ", 8) == 0 && strlen(line + 8) < sizeof when &&
			 emg_time_parse(line + 8, &pub->expires) == 0)
			continue;
		else if (strncmp(line, "bundle ", 7) == 0 && strlen(line + 7) < sizeof pub->bundle)
			snprintf(pub->bundle, sizeof pub->bundle, "%s", line + 7);
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

/* Writes the `published` (or `pending`) record for p. */
static int write_record(const emg_mirror_ctx *ctx, const char *name, const published *p,
			emg_err *err)
{
	char path[PATH_MAX], text[512], when[EMG_TIME_LEN];
	int rc, n;

	emg_time_format(p->expires, when);
	n = snprintf(text, sizeof text, "digest %s\nsequence %llu\nexpires %s\nbundle %s\n",
		     p->digest, p->sequence, when, p->bundle);
	if ((rc = state_path(ctx, name, path, sizeof path, err)) != EMG_OK)
		return rc;
	return emg_write_file_atomic(path, text, (size_t)n, 0640, err);
}

static int drop_pending(const emg_mirror_ctx *ctx, emg_err *err)
{
	char path[PATH_MAX];
	int rc;

	if ((rc = state_path(ctx, "pending", path, sizeof path, err)) != EMG_OK)
		return rc;
	if (emg_unlink(path) != 0 && errno != ENOENT)
		return emg_fail(err, EMG_EIO, "%s: %s", path, strerror(errno));
	return EMG_OK;
}

/* The bundle p names is in the drop directory: record it, point `latest`
 * at it, and only then drop the pending record. Each step may be redone. */
static int record(const emg_mirror_ctx *ctx, const published *p, emg_err *err)
{
	char path[PATH_MAX], text[512];
	int rc, n;

	n = snprintf(text, sizeof text, "%llu\n", p->sequence);
	if ((rc = state_path(ctx, "sequence", path, sizeof path, err)) != EMG_OK ||
	    (rc = emg_write_file_atomic(path, text, (size_t)n, 0640, err)) != EMG_OK ||
	    (rc = write_record(ctx, "published", p, err)) != EMG_OK)
		return rc;
	n = snprintf(text, sizeof text, "%s\n", p->bundle);
	if ((size_t)snprintf(path, sizeof path, "%s/latest", ctx->conf->drop) >= sizeof path)
		return emg_fail(err, EMG_ECONFIG, "%s: path too long", ctx->conf->drop);
	if ((rc = emg_write_file_atomic(path, text, (size_t)n, 0644, err)) != EMG_OK)
		return rc;
	return drop_pending(ctx, err);
}

/*
 * `pending` in the staging directory names the publication in flight: it
 * is written before the bundle is copied into the drop directory and
 * removed once `latest` names the bundle. A run that was interrupted in
 * between (a crash, a full disk) leaves it behind, and the next run first
 * finishes that publication: it records the bundle if it reached the drop
 * directory, and forgets it if not (the sequence number was then never
 * seen, and is used again). Without it, a bundle that reached the drop
 * directory unrecorded was published a second time under the next
 * sequence, and one recorded but not yet named by `latest` never was.
 * Runs hold the staging lock, so no other run is publishing meanwhile.
 */
static int finish_pending(const emg_mirror_ctx *ctx, emg_err *err)
{
	char path[PATH_MAX], dst[PATH_MAX], latest[PATH_MAX];
	published p;
	int missing, rc;

	if ((rc = read_record(ctx, "pending", &p, &missing, err)) != EMG_OK || missing)
		return rc;
	(void)state_path(ctx, "pending", path, sizeof path, err);
	if (!p.present || bundle_seq(p.bundle) == 0 || bundle_seq(p.bundle) != p.sequence)
		return emg_fail(err, EMG_ECONFIG,
				"%s: damaged record of an interrupted publication; check %s and remove it",
				path, ctx->conf->drop);
	if ((size_t)snprintf(dst, sizeof dst, "%s/%s", ctx->conf->drop, p.bundle) >= sizeof dst ||
	    (size_t)snprintf(latest, sizeof latest, "%s/latest", ctx->conf->drop) >= sizeof latest)
		return emg_fail(err, EMG_ECONFIG, "%s: path too long", ctx->conf->drop);
	/* The interrupted run's temporaries: only this mirror writes these
	 * two names, and it holds the lock. */
	(void)emg_clean_stale_tmp_for(dst, NULL);
	(void)emg_clean_stale_tmp_for(latest, NULL);
	if (access(dst, F_OK) != 0) {
		emg_mlog_event(ctx->log, EMG_EVENT_FETCHED,
			       "interrupted publication of %s never reached the drop directory", p.bundle);
		return drop_pending(ctx, err);
	}
	if ((rc = record(ctx, &p, err)) != EMG_OK)
		return rc;
	emg_mlog_event(ctx->log, EMG_EVENT_PUBLISHED, "finished the interrupted publication of %s", dst);
	retain(ctx, p.sequence);
	return EMG_OK;
}

/* Bundle made in the staging directory (create, then sign, may rewrite it
 * several times), then copied into the drop directory in one step. */
static int build_and_publish(emg_mirror_ctx *ctx, const emg_snapshot *snap, emg_err *err)
{
	const emg_mirror_conf *c = ctx->conf;
	char work[PATH_MAX], feed[PATH_MAX], pki[PATH_MAX], dst[PATH_MAX];
	char *name;
	emg_bundle_create_opts o;
	published p;
	unsigned long long seq = 0;
	int rc;

	if ((rc = next_sequence(ctx, &seq, err)) != EMG_OK)
		return rc;
	memset(&p, 0, sizeof p);
	name = p.bundle;
	snprintf(name, sizeof p.bundle, BUNDLE_PREFIX "%llu" BUNDLE_SUFFIX, seq);
	/* The work copy has a temporary's name: the next run sweeps it away
	 * if this one is interrupted before removing it. */
	if ((size_t)snprintf(work, sizeof work, "%s/" EMG_TMP_PREFIX "work.%s", c->staging, name) >=
		    sizeof work ||
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
	memcpy(p.digest, snap->digest, sizeof p.digest);
	p.sequence = seq;
	p.expires = o.expires;
	p.present = 1;
	if (rc == EMG_OK)
		rc = emg_mkdir_p(c->drop, 0755, err);
	if (rc == EMG_OK)
		rc = write_record(ctx, "pending", &p, err);
	if (rc == EMG_OK)
		rc = publish_copy(work, dst, err);
	(void)emg_unlink(work);
	/* On failure `pending` stays: the next run sees whether the bundle
	 * reached the drop directory (a failed fsync after the rename). */
	if (rc == EMG_OK)
		rc = record(ctx, &p, err);
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
	int rc, missing;

	if ((rc = finish_pending(ctx, err)) != EMG_OK ||
	    (rc = emg_mirror_fetch(ctx, &snap, err)) != EMG_OK ||
	    (rc = read_record(ctx, "published", &pub, &missing, err)) != EMG_OK)
		return rc;
	/* Same feed and PKI as the last bundle: publish again only when that
	 * bundle has used up half its lifetime, so the inside never runs dry. */
	if (pub.present && strcmp(pub.digest, snap.digest) == 0 &&
	    ctx->now < pub.expires - (time_t)(c->expires_after / 2)) {
		emg_mlog_event(ctx->log, EMG_EVENT_FETCHED,
			       "nothing new: feed and PKI unchanged since bundle sequence %llu", pub.sequence);
		if (ctx->out != NULL)
			fprintf(ctx->out, "nothing new since sequence %llu\n", pub.sequence);
		/* Finishes a retention an interrupted run did not get to. */
		retain(ctx, pub.sequence);
		return EMG_OK;
	}
	return build_and_publish(ctx, &snap, err);
}
