/* bundle_archive.c - the tar layer (deterministic writer, defensive
 * streaming reader with limits) and the sequence state file. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/evp.h>

#include "bundle/archive.h"
#include "bundle/bundle.h"
#include "bundle/state.h"
#include "check.h"
#include "fileio.h"

static void path_of(char *out, size_t n, const char *name)
{
	snprintf(out, n, "%s/%s", check_tmpdir(), name);
}

static int write_tar(const char *path, time_t mtime)
{
	emg_tar_writer *w;
	emg_err err;
	static const char big[3000] = {1};

	if (emg_tar_create(path, mtime, &w, &err) != EMG_OK)
		return -1;
	if (emg_tar_add(w, "manifest", "hello\n", 6, &err) != EMG_OK ||
	    emg_tar_begin(w, "extra/big", sizeof big * 2, &err) != EMG_OK ||
	    emg_tar_write(w, big, sizeof big, &err) != EMG_OK ||
	    emg_tar_write(w, big, sizeof big, &err) != EMG_OK) {
		emg_tar_abort(w);
		return -1;
	}
	return emg_tar_commit(w, &err) == EMG_OK ? 0 : -1;
}

static int same_bytes(const char *a, const char *b)
{
	uint8_t *x, *y;
	size_t xl, yl;
	emg_err err;
	int same;

	if (emg_read_file(a, 1 << 20, EMG_EIO, &x, &xl, &err) != EMG_OK)
		return 0;
	if (emg_read_file(b, 1 << 20, EMG_EIO, &y, &yl, &err) != EMG_OK) {
		free(x);
		return 0;
	}
	same = xl == yl && memcmp(x, y, xl) == 0;
	free(x);
	free(y);
	return same;
}

/* Reads every member; returns the member count, or -code on failure.
 * digest (may be NULL) receives the reader's whole-file SHA-256. */
static int read_all_digest(const char *path, const emg_bundle_limits *lim, uint64_t *bytes,
			   uint8_t digest[32], emg_err *err)
{
	emg_tar_reader *r;
	int n = 0;

	*bytes = 0;
	if (emg_tar_open(path, lim, &r, err) != EMG_OK)
		return -err->code;
	for (;;) {
		const char *name;
		uint64_t size;
		const void *buf;
		size_t len;
		if (emg_tar_next(r, &name, &size, err) != EMG_OK) {
			emg_tar_close(r);
			return -err->code;
		}
		if (name == NULL)
			break;
		n++;
		do {
			if (emg_tar_read(r, &buf, &len, err) != EMG_OK) {
				emg_tar_close(r);
				return -err->code;
			}
			*bytes += len;
		} while (len > 0);
	}
	if (digest != NULL)
		emg_tar_file_sha256(r, digest);
	emg_tar_close(r);
	return n;
}

static int read_all(const char *path, const emg_bundle_limits *lim, uint64_t *bytes, emg_err *err)
{
	return read_all_digest(path, lim, bytes, NULL, err);
}

/* 1 if digest is the SHA-256 of the file's bytes, computed apart. */
static int file_digest_is(const char *path, const uint8_t digest[32])
{
	uint8_t *data, want[32];
	size_t len;
	unsigned int n = 0;
	emg_err err;
	int ok;

	if (emg_read_file(path, 64u << 20, EMG_EIO, &data, &len, &err) != EMG_OK)
		return 0;
	ok = EVP_Digest(data, len, want, &n, EVP_sha256(), NULL) == 1 && n == 32 &&
	     memcmp(want, digest, 32) == 0;
	free(data);
	return ok;
}

/* A tar larger than one read of the reader, then zero padding after the
 * end marker (as tar(1) pads to its record size): the whole-file digest
 * must cover every byte, across reads and past the marker. */
static int write_big_tar(const char *path, size_t member, size_t padding)
{
	emg_tar_writer *w;
	emg_err err;
	uint8_t *buf = calloc(1, member > padding ? member : padding);
	size_t i;
	FILE *f;
	int rc = -1;

	if (buf == NULL)
		return -1;
	for (i = 0; i < member; i++)
		buf[i] = (uint8_t)(i * 131u + (i >> 9));
	if (emg_tar_create(path, 1764000000, &w, &err) == EMG_OK) {
		if (emg_tar_add(w, "manifest", "hello\n", 6, &err) == EMG_OK &&
		    emg_tar_add(w, "extra/big", buf, member, &err) == EMG_OK)
			rc = emg_tar_commit(w, &err) == EMG_OK ? 0 : -1;
		else
			emg_tar_abort(w);
	}
	memset(buf, 0, padding);
	if (rc == 0 && padding > 0) {
		f = fopen(path, "ab");
		if (f == NULL || fwrite(buf, 1, padding, f) != padding)
			rc = -1;
		if (f != NULL && fclose(f) != 0)
			rc = -1;
	}
	free(buf);
	return rc;
}

static void digest_tests(check_ctx *c)
{
	char a[512];
	emg_bundle_limits lim;
	uint8_t digest[32];
	uint64_t bytes = 0;
	emg_err err;

	emg_bundle_limits_default(&lim);
	path_of(a, sizeof a, "digest.tar");
	CHECK(c, write_big_tar(a, 300000, 0) == 0 &&
			 read_all_digest(a, &lim, &bytes, digest, &err) == 2 && bytes == 300006 &&
			 file_digest_is(a, digest),
	      "reader: whole-file SHA-256 over several reads");
	path_of(a, sizeof a, "digest-padded.tar");
	CHECK(c, write_big_tar(a, 300000, 10240 * 7) == 0 &&
			 read_all_digest(a, &lim, &bytes, digest, &err) == 2 && file_digest_is(a, digest),
	      "reader: whole-file SHA-256 includes zero padding after the end marker");
}

static void tar_tests(check_ctx *c)
{
	char a[512], b[512], d[512];
	emg_bundle_limits lim;
	uint64_t bytes = 0;
	emg_err err;
	struct stat st;

	path_of(a, sizeof a, "a.tar");
	path_of(b, sizeof b, "b.tar");
	path_of(d, sizeof d, "d.tar");
	CHECK(c, write_tar(a, 1764000000) == 0, "writer: creates a tar");
	CHECK(c, write_tar(b, 1764000000) == 0 && same_bytes(a, b), "writer: deterministic");
	CHECK(c, write_tar(d, 1764000001) == 0 && !same_bytes(a, d), "writer: mtime is the only input beyond content");
	CHECK(c, stat(a, &st) == 0 && st.st_size % 512 == 0 && (st.st_mode & 0777) == 0644,
	      "writer: whole blocks, mode 0644");

	emg_bundle_limits_default(&lim);
	CHECK(c, read_all(a, &lim, &bytes, &err) == 2 && bytes == 6006, "reader: members and bytes");
	lim.member_max = 5000;
	CHECK(c, read_all(a, &lim, &bytes, &err) == -EMG_EVERIFY && strstr(err.msg, "extra/big") != NULL,
	      "reader: member over member_max refused, named");
	emg_bundle_limits_default(&lim);
	lim.member_count_max = 1;
	CHECK(c, read_all(a, &lim, &bytes, &err) == -EMG_EVERIFY && strstr(err.msg, "more than 1 members"),
	      "reader: member count limit");
	emg_bundle_limits_default(&lim);
	lim.total_max = 6000;
	CHECK(c, read_all(a, &lim, &bytes, &err) == -EMG_EVERIFY, "reader: total size limit");
	emg_bundle_limits_default(&lim);
	CHECK(c, truncate(b, st.st_size - 512) == 0 && read_all(b, &lim, &bytes, &err) == -EMG_EVERIFY &&
			 strstr(err.msg, "truncated") != NULL,
	      "reader: half an end marker is a truncated bundle");
	CHECK(c, truncate(b, 512 + 512) == 0 && read_all(b, &lim, &bytes, &err) == -EMG_EVERIFY,
	      "reader: cut after the first member");
	path_of(b, sizeof b, "missing.tar");
	CHECK(c, read_all(b, &lim, &bytes, &err) == -EMG_EIO, "reader: missing file is an I/O error");
}

static void state_tests(check_ctx *c)
{
	char dir[512], file[600];
	emg_seq_state st, back;
	emg_err err;
	FILE *f;

	path_of(dir, sizeof dir, "state");
	CHECK(c, emg_seq_state_load(dir, &back, &err) == EMG_OK && !back.present, "state: none yet");
	memset(&st, 0, sizeof st);
	st.present = 1;
	st.sequence = 18446744073709551615ull;
	st.accepted = 1764093600;
	memset(st.sha256, 'a', 64);
	CHECK(c, emg_seq_state_save(dir, &st, &err) == EMG_OK, "state: saved");
	CHECK(c, emg_seq_state_load(dir, &back, &err) == EMG_OK && back.present &&
			 back.sequence == st.sequence && back.accepted == st.accepted &&
			 strcmp(back.sha256, st.sha256) == 0,
	      "state: round trip (largest sequence)");
	snprintf(file, sizeof file, "%s/sequence", dir);
	f = fopen(file, "w");
	if (f != NULL) {
		fputs("emgap-bundle-state 1\nsequence  7\naccepted 2026-11-25T18:00:00Z\nbundle-sha256 "
		      "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\n",
		      f);
		fclose(f);
	}
	CHECK(c, emg_seq_state_load(dir, &back, &err) == EMG_ECONFIG, "state: extra space refused");
	f = fopen(file, "w");
	if (f != NULL) {
		fputs("emgap-bundle-state 1\nsequence 7\n", f);
		fclose(f);
	}
	CHECK(c, emg_seq_state_load(dir, &back, &err) == EMG_ECONFIG && strstr(err.msg, "sequence") != NULL,
	      "state: truncated file refused");
}

/* emg_bundle_accept: the sequence file from a verifying pass's info; a
 * root rotation cannot be accepted that way. */
static void accept_tests(check_ctx *c)
{
	char dir[512];
	emg_bundle_info info;
	emg_seq_state back;
	emg_err err;

	path_of(dir, sizeof dir, "accept");
	memset(&info, 0, sizeof info);
	info.sequence = 42;
	memset(info.sha256, 'b', 64);
	CHECK(c, emg_bundle_accept(dir, &info, 1764093600, &err) == EMG_OK &&
			 emg_seq_state_load(dir, &back, &err) == EMG_OK && back.present && back.sequence == 42 &&
			 back.accepted == 1764093600 && strcmp(back.sha256, info.sha256) == 0,
	      "accept: sequence, time and file hash recorded");
	info.sequence = 43;
	info.nothing_new = 1;
	CHECK(c, emg_bundle_accept(dir, &info, 1764093700, &err) == EMG_OK &&
			 emg_seq_state_load(dir, &back, &err) == EMG_OK && back.sequence == 42,
	      "accept: nothing new writes nothing");
	info.nothing_new = 0;
	info.rotated = 1;
	emg_err_clear(&err);
	CHECK(c, emg_bundle_accept(dir, &info, 1764093800, &err) == EMG_EUSAGE &&
			 strstr(err.msg, "rotates the root set") != NULL,
	      "accept: a root rotation is refused, with the reason");
	CHECK(c, emg_seq_state_load(dir, &back, &err) == EMG_OK && back.sequence == 42,
	      "accept: the refused rotation changed nothing");
}

int main(void)
{
	check_ctx c = {0};

	tar_tests(&c);
	digest_tests(&c);
	state_tests(&c);
	accept_tests(&c);
	return c.failed ? 1 : 0;
}
