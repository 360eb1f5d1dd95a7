/* iisedit.c - make bench's driver for the IIS editor alone.
 *
 *   iisedit [--dry-run] apphost|webconfig CONFIG FRAGMENT
 *
 * Inserts the URL Rewrite rules of FRAGMENT (what a feed's <Value> holds)
 * into CONFIG exactly as emgap-apply does (apply/iisconf.h:
 * emg_iis_rules_upsert: parse to locate, splice, parse again to check), and
 * writes the result atomically over CONFIG, or with --dry-run to standard
 * output. Nothing else of a run (bundle, policy, state, backup) is done, so
 * that the bench can set the edit itself against xmlstarlet ed, which also
 * does only that.
 *
 * Exit: 0 written, 1 nothing to change (the rules are already there),
 * 2 usage, otherwise emgap's codes (3 malformed config or fragment, 7 I/O).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "apply/iisconf.h"
#include "err.h"
#include "fileio.h"

static int usage(void)
{
	fprintf(stderr, "usage: iisedit [--dry-run] apphost|webconfig CONFIG FRAGMENT\n");
	return EMG_EUSAGE;
}

/* Reads both files, upserts; *out is NULL when nothing had to change. */
static int edit(const char *config, const char *fragment, enum emg_iis_file_kind kind,
		uint8_t **out, size_t *outlen, emg_err *err)
{
	uint8_t *doc = NULL, *frag = NULL;
	size_t len = 0, fraglen = 0;
	char *undo = NULL;
	int rc;

	rc = emg_read_file(config, EMG_IIS_MAX_BYTES, EMG_ECONFIG, &doc, &len, err);
	if (rc == EMG_OK)
		rc = emg_read_file(fragment, EMG_IIS_MAX_FRAGMENT, EMG_ECONFIG, &frag, &fraglen, err);
	if (rc == EMG_OK)
		rc = emg_iis_rules_upsert(doc, len, config, kind, (const char *)frag, fraglen, out,
					  outlen, &undo, err);
	free(undo);
	free(frag);
	free(doc);
	return rc;
}

static int put(const char *config, int dry_run, const uint8_t *out, size_t outlen, emg_err *err)
{
	if (!dry_run)
		return emg_write_file_atomic(config, out, outlen, 0644, err);
	if (fwrite(out, 1, outlen, stdout) != outlen || fflush(stdout) != 0)
		return emg_fail(err, EMG_EIO, "standard output: write failed");
	return EMG_OK;
}

int main(int argc, char **argv)
{
	enum emg_iis_file_kind kind;
	uint8_t *out = NULL;
	size_t outlen = 0;
	int dry_run = 0, rc;
	emg_err err;

	emg_err_clear(&err);
	if (argc > 1 && strcmp(argv[1], "--dry-run") == 0) {
		dry_run = 1;
		argv++;
		argc--;
	}
	if (argc != 4)
		return usage();
	if (strcmp(argv[1], "apphost") == 0)
		kind = EMG_IIS_APPHOST;
	else if (strcmp(argv[1], "webconfig") == 0)
		kind = EMG_IIS_WEBCONFIG;
	else
		return usage();

	rc = edit(argv[2], argv[3], kind, &out, &outlen, &err);
	if (rc == EMG_OK && out == NULL) {
		fprintf(stderr, "iisedit: %s: the rules are already there\n", argv[2]);
		return 1;
	}
	if (rc == EMG_OK)
		rc = put(argv[2], dry_run, out, outlen, &err);
	free(out);
	if (rc != EMG_OK)
		emg_err_print("iisedit", &err);
	return rc;
}
