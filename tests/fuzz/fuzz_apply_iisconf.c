/* fuzz_apply_iisconf.c - the IIS config editor. The input is split at its
 * first NUL byte into a config file and a rule fragment (no NUL: all of it
 * is the config and the fragment is the M1 rule). For both file kinds:
 * when the upsert changes the file, the result must pass emg_iis_check, the
 * rules must then read as present and equal, and removing them with the
 * undo record must give back the original bytes exactly. The same holds
 * for disabling and restoring an application pool. Any violation traps. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "apply/iisconf.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char default_rule[] =
	"<rule name=\"EEMS M1.1 PowerShell - inbound\" patternSyntax=\"ECMAScript\" stopProcessing=\"true\">"
	"<match url=\".*\" /><conditions logicalGrouping=\"MatchAll\">"
	"<add input=\"{UrlDecode:{REQUEST_URI}}\" pattern=\"(?=.*autodiscover)(?=.*powershell)\" />"
	"</conditions><action type=\"AbortRequest\" /></rule>";

static void same_bytes(const uint8_t *a, size_t alen, const uint8_t *b, size_t blen)
{
	if (alen != blen || memcmp(a, b, alen) != 0)
		__builtin_trap();
}

static void rules_round_trip(const uint8_t *doc, size_t len, int valid, enum emg_iis_file_kind kind,
			     const char *frag, size_t fraglen)
{
	uint8_t *out = NULL, *back = NULL;
	size_t outlen = 0, backlen = 0;
	char *undo = NULL;
	enum emg_iis_rule_state st;
	emg_err err;

	if (emg_iis_rules_upsert(doc, len, "fuzz.config", kind, frag, fraglen, &out, &outlen, &undo,
				 &err) != EMG_OK)
		return;
	if (!valid)
		__builtin_trap();
	if (out == NULL) {
		/* Nothing to do means the rules are there already, unchanged. */
		if (undo != NULL ||
		    emg_iis_rules_state(doc, len, "fuzz.config", kind, frag, fraglen, &st, &err) != EMG_OK ||
		    st != EMG_IIS_RULE_SAME)
			__builtin_trap();
		return;
	}
	if (undo == NULL || emg_iis_check(out, outlen, "fuzz.out", &err) != EMG_OK)
		__builtin_trap();
	if (emg_iis_rules_state(out, outlen, "fuzz.out", kind, frag, fraglen, &st, &err) != EMG_OK ||
	    st != EMG_IIS_RULE_SAME)
		__builtin_trap();
	if (emg_iis_rules_remove(out, outlen, "fuzz.out", kind, undo, frag, fraglen, &back, &backlen,
				 &err) != EMG_OK ||
	    back == NULL)
		__builtin_trap();
	same_bytes(doc, len, back, backlen);
	free(back);
	free(out);
	free(undo);
}

static void pool_round_trip(const uint8_t *doc, size_t len, int valid)
{
	static const char pool[] = "MSExchangeECPAppPool";
	uint8_t *out = NULL, *back = NULL;
	size_t outlen = 0, backlen = 0;
	char *undo = NULL;
	emg_iis_pool_cfg prev, now;
	emg_err err;

	if (emg_iis_apppool_disable(doc, len, "fuzz.config", pool, &out, &outlen, &prev, &undo, &err) !=
	    EMG_OK)
		return;
	if (!valid)
		__builtin_trap();
	if (out == NULL) {
		if (undo != NULL)
			__builtin_trap();
		return;
	}
	if (undo == NULL || emg_iis_check(out, outlen, "fuzz.out", &err) != EMG_OK ||
	    emg_iis_apppool_get(out, outlen, "fuzz.out", pool, &now, &err) != EMG_OK ||
	    !emg_iis_apppool_is_disabled(&now))
		__builtin_trap();
	if (emg_iis_apppool_restore(out, outlen, "fuzz.out", pool, undo, &back, &backlen, &err) !=
		    EMG_OK ||
	    back == NULL)
		__builtin_trap();
	same_bytes(doc, len, back, backlen);
	free(back);
	free(out);
	free(undo);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const uint8_t *nul = memchr(data, '\0', size);
	const char *frag = default_rule;
	size_t doclen = size, fraglen = sizeof default_rule - 1;
	emg_err err;
	int installed, valid;

	if (nul != NULL) {
		doclen = (size_t)(nul - data);
		frag = (const char *)nul + 1;
		fraglen = size - doclen - 1;
	}
	/* A file emg_iis_check refuses must be refused by every edit too: the
	 * round trips then return at once, and trap if an edit goes through. */
	valid = emg_iis_check(data, doclen, "fuzz.config", &err) == EMG_OK;
	(void)emg_iis_rewrite_module_installed(data, doclen, "fuzz.config", &installed, &err);
	rules_round_trip(data, doclen, valid, EMG_IIS_WEBCONFIG, frag, fraglen);
	rules_round_trip(data, doclen, valid, EMG_IIS_APPHOST, frag, fraglen);
	pool_round_trip(data, doclen, valid);
	return 0;
}
