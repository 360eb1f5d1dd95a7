/* apply_audit.c - the hash-chained audit log: appends, and verify catching
 * an edited, inserted or deleted line (middle and end), interrupted
 * appends, and escaping of hostile text. */
#include "check.h"

#include <stdint.h>
#include <sys/stat.h>

#include "apply/audit.h"
#include "fileio.h"

#define T0 ((time_t)1795629600) /* 2026-11-25T18:00:00Z */

static void path_in(char *out, size_t n, const char *dir, const char *name)
{
	snprintf(out, n, "%s/%s", dir, name);
}

static int add(const char *dir, const char *cmd, time_t when)
{
	emg_audit_entry e = {"alice", cmd, "MitigationsBlocked={}", "MitigationsBlocked={M1}"};
	emg_err err;

	emg_err_clear(&err);
	return emg_audit_append(dir, &e, when, NULL, NULL, &err);
}

static int fresh_log(const char *dir, int n)
{
	char cmd[32];
	int i;

	if (emg_mkdir_p(dir, 0700, NULL) != EMG_OK)
		return -1;
	for (i = 1; i <= n; i++) {
		snprintf(cmd, sizeof cmd, "block M%d", i);
		if (add(dir, cmd, T0 + i) != EMG_OK)
			return -1;
	}
	return 0;
}

static char *read_all(const char *path, size_t *len)
{
	uint8_t *buf = NULL;

	if (emg_read_file(path, 1 << 20, EMG_EIO, &buf, len, NULL) != EMG_OK)
		return NULL;
	return (char *)buf;
}

static int write_all(const char *path, const char *data, size_t len)
{
	return emg_write_file_atomic(path, data, len, 0644, NULL);
}

/* Start of line n (1-based) in text, or NULL. */
static char *line_at(char *text, int n)
{
	char *p = text;

	while (--n > 0 && p != NULL) {
		p = strchr(p, '\n');
		if (p != NULL)
			p++;
	}
	return p;
}

static uint64_t verify_bad_line(const char *dir, int *rc_out)
{
	emg_audit_result res;
	emg_err err;

	emg_err_clear(&err);
	*rc_out = emg_audit_verify(dir, &res, &err);
	return res.bad_line;
}

static void test_intact(check_ctx *c, const char *base)
{
	char dir[512], log[600];
	emg_audit_result res;
	emg_err err;
	size_t len;
	char *text;
	int rc, lines = 0;
	uint64_t seq = 0;
	char hash[65];
	emg_audit_entry e = {"bob", "set-server --mitigations-enabled false\n2\tFAKE",
			     "x\\y", "\x1b[2J"};

	snprintf(dir, sizeof dir, "%s/intact", base);
	CHECK(c, emg_mkdir_p(dir, 0700, NULL) == EMG_OK, "audit: state dir made");
	emg_err_clear(&err);
	rc = emg_audit_verify(dir, &res, &err);
	CHECK(c, rc == EMG_OK && res.entries == 0, "audit: no log is an empty intact chain");
	CHECK(c, fresh_log(dir, 3) == 0, "audit: three appends");
	rc = emg_audit_append(dir, &e, T0 + 100, &seq, hash, &err);
	CHECK(c, rc == EMG_OK && seq == 4 && strlen(hash) == 64, "audit: append returns the new head");
	rc = emg_audit_verify(dir, &res, &err);
	CHECK(c, rc == EMG_OK && res.entries == 4 && res.bad_line == 0, "audit: intact chain verifies");
	path_in(log, sizeof log, dir, EMG_AUDIT_LOG);
	text = read_all(log, &len);
	for (size_t i = 0; text != NULL && i < len; i++)
		lines += text[i] == '\n';
	CHECK(c, lines == 4, "audit: newline and tab in a field do not forge lines");
	CHECK(c, text != NULL && strstr(text, "\\n2\\tFAKE") != NULL && strstr(text, "x\\\\y") != NULL &&
			 strstr(text, "\\x1b[2J") != NULL,
	      "audit: fields escaped");
	CHECK(c, text != NULL && strncmp(text, "1\t2026-11-25T18:00:01Z\talice\tblock M1\t", 38) == 0,
	      "audit: line layout");
	free(text);
}

static void test_edit(check_ctx *c, const char *base)
{
	char dir[512], log[600];
	size_t len;
	char *text, *l2;
	int rc;

	snprintf(dir, sizeof dir, "%s/edit", base);
	fresh_log(dir, 4);
	path_in(log, sizeof log, dir, EMG_AUDIT_LOG);
	text = read_all(log, &len);
	l2 = text ? line_at(text, 2) : NULL;
	if (l2 != NULL && (l2 = strstr(l2, "block M2")) != NULL)
		l2[7] = '9'; /* "block M9" */
	write_all(log, text ? text : "", len);
	free(text);
	CHECK(c, verify_bad_line(dir, &rc) == 2 && rc == EMG_EVERIFY, "audit: edited line 2 named");
	CHECK(c, add(dir, "block M5", T0 + 200) == EMG_OK,
	      "audit: append still chains to an intact last line");
}

static void test_delete_middle(check_ctx *c, const char *base)
{
	char dir[512], log[600];
	size_t len;
	char *text, *l2, *l3;
	int rc;

	snprintf(dir, sizeof dir, "%s/delmid", base);
	fresh_log(dir, 4);
	path_in(log, sizeof log, dir, EMG_AUDIT_LOG);
	text = read_all(log, &len);
	l2 = text ? line_at(text, 2) : NULL;
	l3 = text ? line_at(text, 3) : NULL;
	if (l2 != NULL && l3 != NULL) {
		memmove(l2, l3, len - (size_t)(l3 - text) + 1);
		len -= (size_t)(l3 - l2);
	}
	write_all(log, text ? text : "", len);
	free(text);
	CHECK(c, verify_bad_line(dir, &rc) == 2 && rc == EMG_EVERIFY, "audit: deleted line 2 found at line 2");
}

static void test_insert(check_ctx *c, const char *base)
{
	char dir[512], log[600], *text, *out;
	size_t len, ins_at;
	const char *fake = "2\t2026-11-25T18:00:02Z\tmallory\tunblock M1\ta\tb\t"
			   "0000000000000000000000000000000000000000000000000000000000000000\n";
	int rc;

	snprintf(dir, sizeof dir, "%s/insert", base);
	fresh_log(dir, 3);
	path_in(log, sizeof log, dir, EMG_AUDIT_LOG);
	text = read_all(log, &len);
	if (text == NULL)
		return;
	ins_at = (size_t)(line_at(text, 2) - text);
	out = malloc(len + strlen(fake) + 1);
	memcpy(out, text, ins_at);
	memcpy(out + ins_at, fake, strlen(fake));
	memcpy(out + ins_at + strlen(fake), text + ins_at, len - ins_at);
	write_all(log, out, len + strlen(fake));
	free(out);
	free(text);
	CHECK(c, verify_bad_line(dir, &rc) == 2 && rc == EMG_EVERIFY, "audit: inserted line 2 named");
}

static void test_delete_last(check_ctx *c, const char *base)
{
	char dir[512], log[600];
	size_t len;
	char *text, *l3;
	int rc;

	snprintf(dir, sizeof dir, "%s/dellast", base);
	fresh_log(dir, 3);
	path_in(log, sizeof log, dir, EMG_AUDIT_LOG);
	text = read_all(log, &len);
	l3 = text ? line_at(text, 3) : NULL;
	if (l3 != NULL)
		write_all(log, text, (size_t)(l3 - text));
	free(text);
	CHECK(c, verify_bad_line(dir, &rc) == 3 && rc == EMG_EVERIFY, "audit: deleted last line found via head");
	CHECK(c, add(dir, "block M7", T0 + 300) == EMG_EVERIFY, "audit: no append onto a cut log");
}

static void test_interrupted(check_ctx *c, const char *base)
{
	char dir[512], log[600], head[600];
	size_t len, hlen;
	char *old_head, *text;
	int rc;
	FILE *f;

	snprintf(dir, sizeof dir, "%s/interrupted", base);
	fresh_log(dir, 2);
	path_in(head, sizeof head, dir, EMG_AUDIT_HEAD);
	path_in(log, sizeof log, dir, EMG_AUDIT_LOG);
	old_head = read_all(head, &hlen);
	add(dir, "block M3", T0 + 400);
	/* A crash between appending the line and rewriting the head. */
	write_all(head, old_head ? old_head : "", hlen);
	free(old_head);
	CHECK(c, verify_bad_line(dir, &rc) == 0 && rc == EMG_OK, "audit: head one behind is an interrupted append");
	CHECK(c, add(dir, "block M4", T0 + 500) == EMG_OK, "audit: append after an interrupted one");
	/* A crash in the middle of writing a line. */
	f = fopen(log, "a");
	if (f != NULL) {
		fputs("5\t2026-11-25T18:3", f);
		fclose(f);
	}
	CHECK(c, verify_bad_line(dir, &rc) == 5 && rc == EMG_EVERIFY, "audit: torn last line reported");
	CHECK(c, add(dir, "block M5", T0 + 600) == EMG_OK, "audit: append drops a torn line");
	CHECK(c, verify_bad_line(dir, &rc) == 0 && rc == EMG_OK, "audit: chain intact after the repair");
	text = read_all(log, &len);
	CHECK(c, text != NULL && strstr(text, "18:3\t") == NULL && strstr(text, "\n5\t") != NULL,
	      "audit: torn bytes gone, entry 5 complete");
	free(text);
}

int main(void)
{
	check_ctx c = {0};
	const char *base = check_tmpdir();

	test_intact(&c, base);
	test_edit(&c, base);
	test_delete_middle(&c, base);
	test_insert(&c, base);
	test_delete_last(&c, base);
	test_interrupted(&c, base);
	return c.failed ? 1 : 0;
}
