/* common_basics.c - the shared helpers: atomic writes, INI, time, errors. */
#include "check.h"
#include "err.h"
#include "fileio.h"
#include "ini.h"
#include "timefmt.h"

#include <dirent.h>
#include <stdint.h>
#include <sys/stat.h>

static int count_tmp(const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *de;
	int n = 0;

	if (d == NULL)
		return -1;
	while ((de = readdir(d)) != NULL)
		if (strncmp(de->d_name, EMG_TMP_PREFIX, strlen(EMG_TMP_PREFIX)) == 0)
			n++;
	closedir(d);
	return n;
}

static void test_atomic(check_ctx *c)
{
	char path[512];
	uint8_t *buf = NULL;
	size_t len = 0;
	emg_err err;
	struct stat st;
	emg_atomic a;

	snprintf(path, sizeof path, "%s/file.txt", check_tmpdir());
	CHECK(c, emg_write_file_atomic(path, "hello\n", 6, 0640, &err) == EMG_OK, "atomic write creates");
	CHECK(c, emg_read_file(path, 100, EMG_ECONFIG, &buf, &len, &err) == EMG_OK && len == 6 &&
		 memcmp(buf, "hello\n", 6) == 0, "read back");
	free(buf);
	CHECK(c, stat(path, &st) == 0 && (st.st_mode & 0777) == 0640, "mode kept");
	CHECK(c, emg_read_file(path, 3, EMG_ECONFIG, &buf, &len, &err) == EMG_ECONFIG &&
		 strstr(err.msg, "limit") != NULL, "size limit names the limit");

	/* An aborted replacement leaves the old file and no temporary. */
	CHECK(c, emg_atomic_open(&a, path, 0640, &err) == EMG_OK, "atomic open");
	CHECK(c, emg_atomic_write(&a, "partial", 7, &err) == EMG_OK, "atomic partial write");
	emg_atomic_abort(&a);
	CHECK(c, emg_read_file(path, 100, EMG_ECONFIG, &buf, &len, &err) == EMG_OK && len == 6,
	      "abort keeps old file");
	free(buf);
	CHECK(c, count_tmp(check_tmpdir()) == 0, "abort leaves no temporary");

	CHECK(c, emg_write_file_new(path, "x", 1, 0600, &err) == EMG_EIO &&
		 strstr(err.msg, "refusing to overwrite") != NULL, "new file never overwrites");
	CHECK(c, emg_read_file("/nonexistent/x", 10, EMG_ECONFIG, &buf, &len, &err) == EMG_EIO &&
		 strstr(err.msg, "/nonexistent/x") != NULL, "missing file names the path");
}

static void test_ini(check_ctx *c)
{
	static const emg_ini_key allowed[] = {
		{"server", "name", 0}, {"server", "enabled", 0}, {"sources", "path", 1}, {NULL, NULL, 0}};
	const char *good = "\xEF\xBB\xBF# comment\n[server]\r\nname = EXCH01\nenabled=False\n"
			   "[sources]\npath = /a\npath = /b\n";
	emg_ini ini;
	emg_err err;
	size_t pos = 0;
	int b = -1;
	unsigned long long u = 0;

	CHECK(c, emg_ini_parse(&ini, "t.conf", good, strlen(good), &err) == EMG_OK, "ini parses");
	CHECK(c, emg_ini_check(&ini, allowed, &err) == EMG_OK, "ini keys allowed");
	CHECK(c, strcmp(emg_ini_get(&ini, "server", "name"), "EXCH01") == 0, "ini value trimmed");
	CHECK(c, emg_ini_get_bool(&ini, "server", "enabled", 1, &b, &err) == EMG_OK && b == 0, "ini bool");
	CHECK(c, strcmp(emg_ini_next(&ini, "sources", "path", &pos), "/a") == 0 &&
		 strcmp(emg_ini_next(&ini, "sources", "path", &pos), "/b") == 0 &&
		 emg_ini_next(&ini, "sources", "path", &pos) == NULL, "ini repeated key");
	CHECK(c, emg_ini_get_u64(&ini, "server", "name", 5, &u, &err) == EMG_ECONFIG &&
		 strstr(err.msg, "t.conf:3") != NULL, "ini bad number names file and line");
	emg_ini_free(&ini);

	CHECK(c, emg_ini_parse(&ini, "bad.conf", "[a]\njunk\n", 9, &err) == EMG_ECONFIG &&
		 strcmp(err.msg, "bad.conf:2: expected 'key = value'") == 0, "ini junk line");
	CHECK(c, emg_ini_parse(&ini, "u.conf", "[server]\nnmae = x\n", 18, &err) == EMG_OK &&
		 emg_ini_check(&ini, allowed, &err) == EMG_ECONFIG &&
		 strstr(err.msg, "u.conf:2: unknown key 'nmae' in [server]") != NULL, "ini unknown key");
	emg_ini_free(&ini);
	CHECK(c, emg_ini_parse(&ini, "d.conf", "[server]\nname=a\nname=b\n", 22, &err) == EMG_OK &&
		 emg_ini_check(&ini, allowed, &err) == EMG_ECONFIG &&
		 strstr(err.msg, "given twice") != NULL, "ini duplicate key");
	emg_ini_free(&ini);
}

static void test_time(check_ctx *c)
{
	time_t t = 0;
	char buf[EMG_TIME_LEN];

	CHECK(c, emg_time_parse("2026-11-25T18:00:00Z", &t) == 0 && t == 1795629600, "time rfc3339");
	emg_time_format(t, buf);
	CHECK(c, strcmp(buf, "2026-11-25T18:00:00Z") == 0, "time round trip");
	CHECK(c, emg_time_parse("2026-11-25", &t) == 0 && t == 1795564800, "time date only");
	CHECK(c, emg_time_parse("2026-02-31", &t) == -1, "time refuses 31 February");
	CHECK(c, emg_time_parse("2026-11-25 18:00", &t) == -1, "time refuses other shapes");
	CHECK(c, emg_time_parse("@1795629600", &t) == 0 && t == 1795629600, "time epoch");
}

int main(void)
{
	check_ctx c = {0};

	test_atomic(&c);
	test_ini(&c);
	test_time(&c);
	return c.failed ? 1 : 0;
}
