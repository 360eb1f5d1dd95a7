/* audit.c - the hash-chained audit log (see audit.h for the format). */
#include "apply/audit.h"
#include "apply/report.h"
#include "apply/state.h"
#include "fileio.h"
#include "sysio.h"
#include "timefmt.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <pwd.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define HASH_HEX 64
#define AUDIT_FIELDS 7

static const char zero_hash[HASH_HEX + 1] =
	"0000000000000000000000000000000000000000000000000000000000000000";

void emg_audit_user(char *out, size_t outlen)
{
	struct passwd pw, *res = NULL;
	char buf[1024];
	char name[256];
	const char *sudo = getenv("SUDO_USER");
	uid_t uid = getuid();

	if (getpwuid_r(uid, &pw, buf, sizeof buf, &res) == 0 && res != NULL)
		snprintf(name, sizeof name, "%s", res->pw_name);
	else
		snprintf(name, sizeof name, "uid %lu", (unsigned long)uid);
	/* SUDO_USER is only meaningful when sudo made us root; anyone else
	 * could set it to blame somebody. */
	if (uid == 0 && sudo != NULL && sudo[0] != '\0')
		snprintf(out, outlen, "%s (sudo: %.200s)", name, sudo);
	else
		snprintf(out, outlen, "%s", name);
}

static void escape_field(emg_sbuf *b, const char *s)
{
	const unsigned char *p = (const unsigned char *)(s ? s : "");

	for (; *p != '\0'; p++) {
		switch (*p) {
		case '\\': emg_sbuf_puts(b, "\\\\"); break;
		case '\t': emg_sbuf_puts(b, "\\t"); break;
		case '\n': emg_sbuf_puts(b, "\\n"); break;
		case '\r': emg_sbuf_puts(b, "\\r"); break;
		default:
			if (*p < 0x20 || *p == 0x7F)
				emg_sbuf_printf(b, "\\x%02x", *p);
			else
				emg_sbuf_putn(b, (const char *)p, 1);
		}
	}
}

/* out = hex SHA-256(prev LF body). */
static void chain_hash(const char *prev, const char *body, size_t body_len, char out[HASH_HEX + 1])
{
	crypto_hash_sha256_state st;
	unsigned char h[crypto_hash_sha256_BYTES];

	crypto_hash_sha256_init(&st);
	crypto_hash_sha256_update(&st, (const unsigned char *)prev, HASH_HEX);
	crypto_hash_sha256_update(&st, (const unsigned char *)"\n", 1);
	crypto_hash_sha256_update(&st, (const unsigned char *)body, body_len);
	crypto_hash_sha256_final(&st, h);
	sodium_bin2hex(out, HASH_HEX + 1, h, sizeof h);
}

static int is_hash(const char *s, size_t n)
{
	size_t i;

	if (n != HASH_HEX)
		return 0;
	for (i = 0; i < n; i++)
		if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
			return 0;
	return 1;
}

static int parse_u64(const char *s, size_t n, uint64_t *out)
{
	uint64_t v = 0;
	size_t i;

	if (n == 0 || n > 19 || (n > 1 && s[0] == '0'))
		return -1;
	for (i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -1;
		v = v * 10 + (uint64_t)(s[i] - '0');
	}
	*out = v;
	return 0;
}

/* One parsed line: its number, where its hash starts, and the hash. */
typedef struct audit_line {
	uint64_t seq;
	size_t body_len;   /* bytes before the last TAB */
	char hash[HASH_HEX + 1];
} audit_line;

/* Splits a line (without its LF) into the seven fields and checks their
 * syntax. On failure writes why into why. */
static int parse_line(const char *s, size_t n, audit_line *out, char *why, size_t whylen)
{
	const char *f[AUDIT_FIELDS];
	size_t flen[AUDIT_FIELDS];
	size_t i, k = 0, start = 0;
	char t[EMG_TIME_LEN];
	time_t when;

	if (n > EMG_AUDIT_LINE_MAX) {
		snprintf(why, whylen, "longer than %d bytes", EMG_AUDIT_LINE_MAX);
		return -1;
	}
	for (i = 0; i <= n; i++) {
		if (i < n && s[i] != '\t')
			continue;
		if (k == AUDIT_FIELDS) {
			snprintf(why, whylen, "more than %d fields", AUDIT_FIELDS);
			return -1;
		}
		f[k] = s + start;
		flen[k++] = i - start;
		start = i + 1;
	}
	if (k != AUDIT_FIELDS) {
		snprintf(why, whylen, "%zu fields, expected %d", k, AUDIT_FIELDS);
		return -1;
	}
	if (parse_u64(f[0], flen[0], &out->seq) != 0) {
		snprintf(why, whylen, "entry number is not a number");
		return -1;
	}
	if (flen[1] != EMG_TIME_LEN - 1) {
		snprintf(why, whylen, "time is not UTC RFC 3339");
		return -1;
	}
	memcpy(t, f[1], flen[1]);
	t[flen[1]] = '\0';
	if (emg_time_parse(t, &when) != 0) {
		snprintf(why, whylen, "time is not UTC RFC 3339");
		return -1;
	}
	if (!is_hash(f[6], flen[6])) {
		snprintf(why, whylen, "hash is not 64 lower-case hex digits");
		return -1;
	}
	memcpy(out->hash, f[6], HASH_HEX);
	out->hash[HASH_HEX] = '\0';
	out->body_len = (size_t)(f[6] - s) - 1;
	return 0;
}

typedef struct audit_head {
	int present;
	uint64_t seq;
	char hash[HASH_HEX + 1];
} audit_head;

static int read_head(const char *path, audit_head *h, emg_err *err)
{
	uint8_t *buf = NULL;
	size_t len = 0;
	const char *sp;
	int rc;

	h->present = 0;
	h->seq = 0;
	memcpy(h->hash, zero_hash, sizeof h->hash);
	if (access(path, F_OK) != 0 && errno == ENOENT)
		return EMG_OK;
	rc = emg_read_file(path, 256, EMG_EVERIFY, &buf, &len, err);
	if (rc != EMG_OK)
		return rc;
	sp = memchr(buf, ' ', len);
	if (sp == NULL || len < 2 || buf[len - 1] != '\n' ||
	    parse_u64((const char *)buf, (size_t)(sp - (const char *)buf), &h->seq) != 0 ||
	    !is_hash(sp + 1, (size_t)((const char *)buf + len - 1 - (sp + 1)))) {
		free(buf);
		return emg_fail(err, EMG_EVERIFY, "%s: malformed (expected 'SEQ SHA256')", path);
	}
	memcpy(h->hash, sp + 1, HASH_HEX);
	h->hash[HASH_HEX] = '\0';
	h->present = 1;
	free(buf);
	return EMG_OK;
}

static void join_path(char *out, size_t outlen, const char *dir, const char *name)
{
	snprintf(out, outlen, "%s/%s", dir, name);
}

/* ---- Append --------------------------------------------------------- */

typedef struct audit_tail {
	uint64_t seq;              /* 0 when the log is empty */
	char hash[HASH_HEX + 1];
	char prev_check[HASH_HEX + 1]; /* H(head hash, body): for the lag case */
	off_t keep;                /* bytes of complete lines */
} audit_tail;

/* Reads the last complete line of the open log. A partial last line (an
 * append cut short by a crash) is noted in keep so it can be dropped. */
static int read_tail(int fd, const char *path, const audit_head *head, audit_tail *t, emg_err *err)
{
	char buf[EMG_AUDIT_LINE_MAX + 2];
	struct stat st;
	off_t from;
	ssize_t got;
	size_t n, end, start;
	audit_line line;
	char why[128];

	t->seq = 0;
	memcpy(t->hash, zero_hash, sizeof t->hash);
	t->prev_check[0] = '\0';
	t->keep = 0;
	if (fstat(fd, &st) != 0)
		return emg_fail(err, EMG_EIO, "%s: %s", path, strerror(errno));
	if (st.st_size == 0)
		return EMG_OK;
	from = st.st_size > (off_t)sizeof buf - 1 ? st.st_size - ((off_t)sizeof buf - 1) : 0;
	got = pread(fd, buf, sizeof buf - 1, from);
	if (got < 0)
		return emg_fail(err, EMG_EIO, "%s: %s", path, strerror(errno));
	n = (size_t)got;
	end = n;
	while (end > 0 && buf[end - 1] != '\n')
		end--;
	if (end == 0) {
		if (from == 0)
			return EMG_OK; /* only a partial first line: nothing complete */
		return emg_fail(err, EMG_EVERIFY, "%s: last line is longer than %d bytes",
				path, EMG_AUDIT_LINE_MAX);
	}
	t->keep = from + (off_t)end;
	start = end - 1;
	while (start > 0 && buf[start - 1] != '\n')
		start--;
	if (start == 0 && from != 0)
		return emg_fail(err, EMG_EVERIFY, "%s: last line is longer than %d bytes",
				path, EMG_AUDIT_LINE_MAX);
	if (parse_line(buf + start, end - 1 - start, &line, why, sizeof why) != 0)
		return emg_fail(err, EMG_EVERIFY, "%s: last line is malformed (%s)", path, why);
	t->seq = line.seq;
	memcpy(t->hash, line.hash, sizeof t->hash);
	chain_hash(head->hash, buf + start, line.body_len, t->prev_check);
	return EMG_OK;
}

/* The log and its head must agree before anything is added. */
static int check_tail(const char *path, const audit_head *h, const audit_tail *t, emg_err *err)
{
	if (t->seq == h->seq && strcmp(t->hash, h->hash) == 0)
		return EMG_OK;
	/* One entry ahead and chained to the head: an append interrupted
	 * before the head was rewritten. */
	if (t->seq == h->seq + 1 && strcmp(t->prev_check, t->hash) == 0)
		return EMG_OK;
	return emg_fail(err, EMG_EVERIFY,
			"%s ends at entry %" PRIu64 " but %s records entry %" PRIu64
			": the log was cut or edited; run 'emgap-apply audit --verify' "
			"(to start a new chain after investigating, move both files aside)",
			path, t->seq, EMG_AUDIT_HEAD, h->seq);
}

static void build_line(emg_sbuf *b, uint64_t seq, time_t now, const emg_audit_entry *e,
		       const char *prev, char hash[HASH_HEX + 1])
{
	char t[EMG_TIME_LEN];
	const char *fields[4];
	int i;

	fields[0] = e->user;
	fields[1] = e->command;
	fields[2] = e->before;
	fields[3] = e->after;
	emg_time_format(now, t);
	emg_sbuf_printf(b, "%" PRIu64 "\t%s", seq, t);
	for (i = 0; i < 4; i++) {
		emg_sbuf_putn(b, "\t", 1);
		escape_field(b, fields[i]);
	}
	if (b->oom)
		return;
	chain_hash(prev, b->p, b->len, hash);
	emg_sbuf_printf(b, "\t%s\n", hash);
}

static int check_entry(const emg_audit_entry *e, emg_err *err)
{
	const char *f[4];
	int i;

	f[0] = e->user;
	f[1] = e->command;
	f[2] = e->before;
	f[3] = e->after;
	for (i = 0; i < 4; i++)
		if (f[i] != NULL && strlen(f[i]) > EMG_AUDIT_FIELD_MAX)
			return emg_fail(err, EMG_EUSAGE, "audit entry field longer than %d bytes",
					EMG_AUDIT_FIELD_MAX);
	return EMG_OK;
}

static int append_line(int fd, const char *path, const audit_tail *t, const emg_sbuf *line, emg_err *err)
{
	/* Drop the partial line an interrupted append left: the head proves
	 * the chain up to the last complete one. */
	struct stat st;

	if (fstat(fd, &st) != 0)
		return emg_fail(err, EMG_EIO, "%s: %s", path, strerror(errno));
	if (st.st_size > t->keep && ftruncate(fd, t->keep) != 0)
		return emg_fail(err, EMG_EIO, "%s: %s", path, strerror(errno));
	if (emg_write_all(fd, line->p, line->len) != 0 || emg_fsync(fd) != 0)
		return emg_fail(err, EMG_EIO, "%s: %s", path, strerror(errno));
	return EMG_OK;
}

static int write_head(const char *state_dir, uint64_t seq, const char *hash, emg_err *err)
{
	char path[PATH_MAX], text[128];
	int n;

	join_path(path, sizeof path, state_dir, EMG_AUDIT_HEAD);
	n = snprintf(text, sizeof text, "%" PRIu64 " %s\n", seq, hash);
	return emg_write_file_atomic(path, text, (size_t)n, 0644, err);
}

int emg_audit_append(const char *state_dir, const emg_audit_entry *e, time_t now,
		     uint64_t *out_seq, char *out_hash, emg_err *err)
{
	char log_path[PATH_MAX], head_path[PATH_MAX], hash[HASH_HEX + 1];
	audit_head head;
	audit_tail tail;
	emg_sbuf line;
	int fd, rc, created;

	if (sodium_init() < 0)
		return emg_fail(err, EMG_EIO, "libsodium could not start");
	rc = check_entry(e, err);
	if (rc != EMG_OK)
		return rc;
	join_path(log_path, sizeof log_path, state_dir, EMG_AUDIT_LOG);
	join_path(head_path, sizeof head_path, state_dir, EMG_AUDIT_HEAD);
	rc = read_head(head_path, &head, err);
	if (rc != EMG_OK)
		return rc;
	created = access(log_path, F_OK) != 0;
	fd = open(log_path, O_RDWR | O_APPEND | O_CREAT | O_CLOEXEC, 0644);
	if (fd < 0)
		return emg_fail(err, EMG_EIO, "%s: %s", log_path, strerror(errno));
	rc = read_tail(fd, log_path, &head, &tail, err);
	if (rc == EMG_OK)
		rc = check_tail(log_path, &head, &tail, err);
	if (rc != EMG_OK) {
		close(fd);
		return rc;
	}
	emg_sbuf_init(&line);
	build_line(&line, tail.seq + 1, now, e, tail.hash, hash);
	rc = emg_sbuf_status(&line, err);
	if (rc == EMG_OK)
		rc = append_line(fd, log_path, &tail, &line, err);
	emg_sbuf_free(&line);
	if (close(fd) != 0 && rc == EMG_OK)
		rc = emg_fail(err, EMG_EIO, "%s: %s", log_path, strerror(errno));
	if (rc == EMG_OK && created)
		rc = emg_fsync_dir(state_dir, err);
	if (rc == EMG_OK)
		rc = write_head(state_dir, tail.seq + 1, hash, err);
	if (rc != EMG_OK)
		return rc;
	if (out_seq != NULL)
		*out_seq = tail.seq + 1;
	if (out_hash != NULL)
		memcpy(out_hash, hash, sizeof hash);
	return EMG_OK;
}

/* ---- Verify --------------------------------------------------------- */

static int bad(emg_audit_result *res, emg_err *err, const char *path, uint64_t lineno,
	       const char *what)
{
	res->bad_line = lineno;
	snprintf(res->problem, sizeof res->problem, "line %" PRIu64 ": %s", lineno, what);
	return emg_fail(err, EMG_EVERIFY, "%s: line %" PRIu64 ": %s", path, lineno, what);
}

static int verify_lines(const char *path, const char *data, size_t len, char prev[HASH_HEX + 1],
			const char *head_hash, char lag_check[HASH_HEX + 1],
			emg_audit_result *res, emg_err *err)
{
	size_t pos = 0;
	uint64_t lineno = 0;
	char why[256], h[HASH_HEX + 1];

	while (pos < len) {
		const char *s = data + pos;
		const char *nl = memchr(s, '\n', len - pos);
		size_t n;
		audit_line line;

		lineno++;
		if (nl == NULL)
			return bad(res, err, path, lineno, "incomplete (no line end): an interrupted write or a cut");
		n = (size_t)(nl - s);
		if (parse_line(s, n, &line, why, sizeof why) != 0)
			return bad(res, err, path, lineno, why);
		if (line.seq != lineno) {
			snprintf(why, sizeof why, "entry number %" PRIu64 ", expected %" PRIu64
				 ": a line before it was %s", line.seq, lineno,
				 line.seq > lineno ? "deleted" : "inserted");
			return bad(res, err, path, lineno, why);
		}
		chain_hash(prev, s, line.body_len, h);
		if (strcmp(h, line.hash) != 0)
			return bad(res, err, path, lineno,
				   "hash does not match: this line was edited, or the one before it replaced");
		chain_hash(head_hash, s, line.body_len, lag_check);
		memcpy(prev, h, sizeof h);
		res->entries = lineno;
		pos += n + 1;
	}
	return EMG_OK;
}

int emg_audit_verify(const char *state_dir, emg_audit_result *res, emg_err *err)
{
	char log_path[PATH_MAX], head_path[PATH_MAX], why[256];
	char prev[HASH_HEX + 1], lag_check[HASH_HEX + 1];
	audit_head head;
	uint8_t *data = NULL;
	size_t len = 0;
	int rc;

	memset(res, 0, sizeof *res);
	if (sodium_init() < 0)
		return emg_fail(err, EMG_EIO, "libsodium could not start");
	join_path(log_path, sizeof log_path, state_dir, EMG_AUDIT_LOG);
	join_path(head_path, sizeof head_path, state_dir, EMG_AUDIT_HEAD);
	rc = read_head(head_path, &head, err);
	if (rc != EMG_OK)
		return rc;
	if (access(log_path, F_OK) != 0 && errno == ENOENT) {
		if (!head.present)
			return EMG_OK;
		return bad(res, err, log_path, 1, "the log is missing but audit.head records entries");
	}
	rc = emg_read_file(log_path, EMG_AUDIT_MAX_BYTES, EMG_EIO, &data, &len, err);
	if (rc != EMG_OK)
		return rc;
	memcpy(prev, zero_hash, sizeof prev);
	lag_check[0] = '\0';
	rc = verify_lines(log_path, (const char *)data, len, prev, head.hash, lag_check, res, err);
	free(data);
	if (rc != EMG_OK)
		return rc;
	if (!head.present) {
		if (res->entries == 0)
			return EMG_OK;
		return bad(res, err, log_path, res->entries, "audit.head is missing");
	}
	if (res->entries == head.seq && strcmp(prev, head.hash) == 0)
		return EMG_OK;
	if (res->entries == head.seq + 1 && strcmp(lag_check, prev) == 0)
		return EMG_OK; /* interrupted append; the next one completes it */
	if (res->entries < head.seq)
		snprintf(why, sizeof why, "the log ends at entry %" PRIu64 " but audit.head records %"
			 PRIu64 ": lines were deleted from the end", res->entries, head.seq);
	else
		snprintf(why, sizeof why, "the log ends at entry %" PRIu64 " which does not match "
			 "audit.head (entry %" PRIu64 ")", res->entries, head.seq);
	return bad(res, err, log_path, res->entries + (res->entries < head.seq), why);
}

/* ---- For commands ----------------------------------------------------- */

/* "block M1 M2": the subcommand and its arguments, --config left out. */
static void command_text(int argc, char **argv, emg_sbuf *b)
{
	int i;

	emg_sbuf_puts(b, argv[0]);
	for (i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--config") == 0 && i + 1 < argc) {
			i++;
			continue;
		}
		emg_sbuf_putn(b, " ", 1);
		emg_sbuf_puts(b, argv[i]);
	}
	if (!b->oom && b->len > EMG_AUDIT_FIELD_MAX) {
		b->len = EMG_AUDIT_FIELD_MAX - 3;
		memcpy(b->p + b->len, "...", 4);
		b->len += 3;
	}
}

int emg_audit_command(const char *state_dir, int argc, char **argv,
		    const char *before, const char *after, emg_err *err)
{
	emg_audit_entry e;
	emg_sbuf cmd;
	char user[300];
	int rc;

	emg_audit_user(user, sizeof user);
	emg_sbuf_init(&cmd);
	command_text(argc, argv, &cmd);
	rc = emg_sbuf_status(&cmd, err);
	if (rc == EMG_OK) {
		e.user = user;
		e.command = cmd.p;
		e.before = before;
		e.after = after;
		rc = emg_audit_append(state_dir, &e, time(NULL), NULL, NULL, err);
	}
	emg_sbuf_free(&cmd);
	if (rc != EMG_OK)
		emg_err_prefix(err, "audit log: ");
	return rc;
}

int emg_audit_command_locked(const char *state_dir, int argc, char **argv,
			   const char *before, const char *after, emg_err *err)
{
	emg_lock lk;
	int rc = emg_state_lock(state_dir, &lk, err);

	if (rc != EMG_OK)
		return rc;
	rc = emg_audit_command(state_dir, argc, argv, before, after, err);
	emg_state_unlock(&lk);
	return rc;
}

