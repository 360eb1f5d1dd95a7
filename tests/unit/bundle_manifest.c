/* bundle_manifest.c - the manifest parser is strict: one format, nothing
 * else; and what emg_manifest_format writes, emg_manifest_parse reads. */
#include <stdlib.h>
#include <string.h>

#include "bundle/manifest.h"
#include "check.h"

#define H64 "a6b39876d44320ad5a2c5e640b0b6f10c08ba5c733816fd32066d6fb9deaaf27"
#define HEAD                                                                    \
	"emgap-manifest 1\nsequence 42\ncreated 2026-11-25T18:00:00Z\n"         \
	"expires 2026-12-02T18:00:00Z\n"                                        \
	"source https://officeclient.microsoft.com/GetExchangeMitigations\n"    \
	"fetched 2026-11-25T17:59:12Z\n"
#define FEED "file 3952 " H64 " ocs/GetExchangeMitigations.xml\n"
#define CRL "file 445 " H64 " pki/crl/inter.crl\n"

static int parses(const char *text)
{
	emg_manifest m;
	emg_err err;
	int rc;

	emg_err_clear(&err);
	rc = emg_manifest_parse(text, strlen(text), 100, &m, &err);
	if (rc == EMG_OK)
		emg_manifest_free(&m);
	else if (rc != EMG_ECONFIG || err.msg[0] == '\0')
		return -1; /* refused, but not as malformed with a message */
	return rc == EMG_OK;
}

static void good(check_ctx *c)
{
	const char *text = HEAD FEED CRL;
	emg_manifest m;
	emg_err err;
	char *out = NULL;
	size_t len = 0;

	CHECK(c, emg_manifest_parse(text, strlen(text), 100, &m, &err) == EMG_OK, "good manifest parses");
	CHECK(c, m.sequence == 42 && m.count == 2, "sequence and file count");
	CHECK(c, m.files[0].size == 3952 && m.files[0].sha256[0] == 0xa6, "size and digest");
	CHECK(c, strcmp(m.source, "https://officeclient.microsoft.com/GetExchangeMitigations") == 0, "source");
	CHECK(c, m.expires - m.created == 7 * 86400, "times");
	CHECK(c, emg_manifest_find(&m, "pki/crl/inter.crl") == 1, "find by path");
	CHECK(c, emg_manifest_find(&m, "pki/crl/root.crl") == -1, "find a path not listed");
	CHECK(c, emg_manifest_format(&m, &out, &len, &err) == EMG_OK && len == strlen(text) &&
			 memcmp(out, text, len) == 0,
	      "format writes back the same bytes");
	free(out);
	emg_manifest_free(&m);
}

static void refused(check_ctx *c)
{
	static const struct {
		const char *text;
		const char *name;
	} cases[] = {
		{"", "empty"},
		{"emgap-manifest 2\n", "other version"},
		{HEAD, "no files"},
		{HEAD CRL, "feed not listed"},
		{HEAD FEED CRL "extra line\n", "unknown line"},
		{HEAD FEED CRL "\n", "trailing blank line"},
		{HEAD FEED "file 445 " H64 " pki/crl/inter.crl", "no final newline"},
		{HEAD CRL FEED, "files out of order"},
		{HEAD FEED FEED, "duplicate path"},
		{HEAD FEED "file 1 " H64 " /etc/passwd\n", "absolute path"},
		{HEAD FEED "file 1 " H64 " pki/crl/../x.crl\n", "dot-dot path"},
		{HEAD FEED "file 1 " H64 " pki/crl//x.crl\n", "empty component"},
		{HEAD FEED "file 1 " H64 " pki/crl/x.pem\n", "CRL without .crl"},
		{HEAD FEED "file 1 " H64 " sig/0123456789ABCDEF.minisig\n", "signature member as payload"},
		{HEAD FEED "file 1 " H64 " manifest\n", "manifest as payload"},
		{HEAD FEED "file 1 " H64 " other/x\n", "unknown top-level dir"},
		{HEAD FEED "file 01 " H64 " pki/crl/x.crl\n", "leading zero in size"},
		{HEAD FEED "file -1 " H64 " pki/crl/x.crl\n", "negative size"},
		{HEAD FEED "file 1 " "A6B39876D44320AD5A2C5E640B0B6F10C08BA5C733816FD32066D6FB9DEAAF27"
			   " pki/crl/x.crl\n", "upper-case digest"},
		{HEAD FEED "file 1 abc pki/crl/x.crl\n", "short digest"},
		{HEAD FEED "file 1  " H64 " pki/crl/x.crl\n", "double space"},
		{HEAD FEED "file 99999999999999999999 " H64 " pki/crl/x.crl\n", "size overflow"},
		{"emgap-manifest 1\nsequence 42\ncreated 2026-11-25T18:00:00Z\nexpires 2026-12-02T18:00:00Z\n"
		 "fetched 2026-11-25T17:59:12Z\nsource x\n" FEED, "fields reordered"},
		{"emgap-manifest 1\nsequence 42\nsequence 43\n", "repeated key"},
		{"emgap-manifest 1\nsequence 042\n", "sequence with leading zero"},
		{"emgap-manifest 1\nsequence 42\ncreated 2026-11-25\n", "short time form"},
		{"emgap-manifest 1\nsequence 42\ncreated 2026-02-31T00:00:00Z\n", "impossible date"},
		{"emgap-manifest 1\nsequence 42\ncreated 2026-11-25T18:00:00Z\n"
		 "expires 2026-11-25T18:00:00Z\n", "expires not after created"},
		{"emgap-manifest 1\nsequence 42\ncreated 2026-11-25T18:00:00Z\nexpires 2026-12-02T18:00:00Z\n"
		 "source a b\n", "space in source"},
		{"emgap-manifest 1\r\nsequence 42\r\n", "CRLF"},
		{"emgap-manifest 1\nunknown 1\n", "unknown key"},
	};
	char name[160];
	size_t i;

	for (i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		snprintf(name, sizeof name, "refused: %s", cases[i].name);
		CHECK(c, parses(cases[i].text) == 0, name);
	}
	{
		char text[sizeof(HEAD FEED) + 8];
		size_t n = strlen(HEAD FEED);
		emg_manifest m;
		emg_err err;
		memcpy(text, HEAD FEED, n);
		text[20] = '\0';
		CHECK(c, emg_manifest_parse(text, n, 100, &m, &err) == EMG_ECONFIG, "refused: NUL byte");
	}
	{
		const char *text = HEAD FEED CRL;
		emg_manifest m;
		emg_err err;
		CHECK(c, emg_manifest_parse(text, strlen(text), 1, &m, &err) == EMG_ECONFIG &&
				 strstr(err.msg, "more than 1 files") != NULL,
		      "refused: more files than the member limit");
	}
}

static void names(check_ctx *c)
{
	CHECK(c, emg_member_name_safe("pki/crl/a-b_c.1.crl"), "name: ordinary");
	CHECK(c, !emg_member_name_safe("a/../b"), "name: dot-dot");
	CHECK(c, !emg_member_name_safe("./a"), "name: dot");
	CHECK(c, !emg_member_name_safe("/a"), "name: absolute");
	CHECK(c, !emg_member_name_safe("a/"), "name: trailing slash");
	CHECK(c, !emg_member_name_safe("a b"), "name: space");
	CHECK(c, !emg_member_name_safe("a\\b"), "name: backslash");
	CHECK(c, !emg_member_name_safe("C:x"), "name: drive colon");
	CHECK(c, !emg_member_name_safe(""), "name: empty");
	CHECK(c, emg_payload_path_allowed("pki/ctl/authrootstl.cab"), "payload: ctl cab");
	CHECK(c, emg_payload_path_allowed("pki/ctl/disallowedcert.stl"), "payload: stl");
	CHECK(c, emg_payload_path_allowed("extra/notes/readme.txt"), "payload: extra");
	CHECK(c, !emg_payload_path_allowed("pki/crl/sub/x.crl"), "payload: no subdir under crl");
	CHECK(c, !emg_payload_path_allowed("ocs/other.xml"), "payload: only the one feed");
}

int main(void)
{
	check_ctx c = {0};

	good(&c);
	refused(&c);
	names(&c);
	return c.failed ? 1 : 0;
}
