/* bundle_rootset.c - root sets: strict parsing, and a rotation needs the
 * next version and a threshold of distinct current roots. */
#include <stdlib.h>
#include <string.h>

#include "bundle/rotation.h"
#include "check.h"
#include "keys/keys.h"

#define NKEYS 4

typedef struct fixture {
	emg_pubkey pk[NKEYS];
	emg_seckey sk[NKEYS];
} fixture;

/* A root set of the given keys as text (static buffer of the caller). */
static void set_text(char *out, size_t cap, unsigned version, unsigned threshold,
		     const fixture *f, const int *which, size_t n)
{
	char b64[EMG_PUBKEY_B64_SIZE];
	size_t i, used;

	used = (size_t)snprintf(out, cap, "emgap-root-set 1\nversion %u\nthreshold %u\n", version,
				threshold);
	for (i = 0; i < n && used < cap; i++) {
		emg_pubkey_to_base64(&f->pk[which[i]], b64);
		used += (size_t)snprintf(out + used, cap - used, "key %s\n", b64);
	}
}

static int sign_text(const fixture *f, int key, const char *text, char **sig, size_t *len)
{
	emg_err err;
	return emg_sign(&f->sk[key], (const uint8_t *)text, strlen(text), NULL, "root set", sig, len,
			&err);
}

static void parse_tests(check_ctx *c, const fixture *f)
{
	static const int two[] = {0, 1}, dup[] = {0, 0};
	char text[2048];
	emg_root_set s;
	emg_err err;

	set_text(text, sizeof text, 2, 2, f, two, 2);
	CHECK(c, emg_root_set_parse("t", text, strlen(text), &s, &err) == EMG_OK && s.version == 2 &&
			 s.threshold == 2 && s.count == 2,
	      "root set parses");
	set_text(text, sizeof text, 2, 3, f, two, 2);
	CHECK(c, emg_root_set_parse("t", text, strlen(text), &s, &err) == EMG_ECONFIG,
	      "threshold above key count refused");
	set_text(text, sizeof text, 2, 1, f, dup, 2);
	CHECK(c, emg_root_set_parse("t", text, strlen(text), &s, &err) == EMG_ECONFIG,
	      "same key twice refused");
	set_text(text, sizeof text, 1, 1, f, two, 2);
	CHECK(c, emg_root_set_parse("t", text, strlen(text), &s, &err) == EMG_ECONFIG,
	      "version 1 (the trust dir's) refused");
	set_text(text, sizeof text, 2, 1, f, two, 2);
	strcat(text, "extra line\n");
	CHECK(c, emg_root_set_parse("t", text, strlen(text), &s, &err) == EMG_ECONFIG,
	      "unknown line refused");
	set_text(text, sizeof text, 2, 1, f, two, 0);
	CHECK(c, emg_root_set_parse("t", text, strlen(text), &s, &err) == EMG_ECONFIG, "no keys refused");
	CHECK(c, emg_root_set_parse("t", "emgap-root-set 1\r\n", 18, &s, &err) == EMG_ECONFIG,
	      "CRLF refused");
}

static void rotation_tests(check_ctx *c, const fixture *f)
{
	static const int cur_keys[] = {0, 1, 2}, new_keys[] = {3};
	char cur_text[2048], next_text[2048], *sig[3] = {NULL, NULL, NULL};
	size_t sig_len[3] = {0, 0, 0};
	emg_root_set cur, next;
	emg_text t, sigs[3];
	emg_err err;
	int i;

	set_text(cur_text, sizeof cur_text, 2, 2, f, cur_keys, 3);
	set_text(next_text, sizeof next_text, 3, 1, f, new_keys, 1);
	if (emg_root_set_parse("cur", cur_text, strlen(cur_text), &cur, &err) != EMG_OK)
		return;
	t.name = "rotation/3.roots";
	t.data = next_text;
	t.len = strlen(next_text);
	for (i = 0; i < 3; i++)
		sign_text(f, i == 2 ? 3 : i, next_text, &sig[i], &sig_len[i]); /* roots 0, 1 and a stranger */
	for (i = 0; i < 3; i++) {
		sigs[i].name = "sig";
		sigs[i].data = sig[i];
		sigs[i].len = sig_len[i];
	}
	CHECK(c, emg_root_set_next(&cur, &t, sigs, 2, &next, &err) == EMG_OK && next.version == 3 &&
			 next.count == 1,
	      "rotation signed by 2 of 3 roots (threshold 2) accepted");
	CHECK(c, emg_root_set_next(&cur, &t, sigs, 1, &next, &err) == EMG_EVERIFY &&
			 strstr(err.msg, "1 of the 2") != NULL,
	      "one root signature is not enough");
	sigs[1] = sigs[0];
	CHECK(c, emg_root_set_next(&cur, &t, sigs, 2, &next, &err) == EMG_EVERIFY,
	      "the same root twice counts once");
	sigs[1].data = sig[2];
	sigs[1].len = sig_len[2];
	CHECK(c, emg_root_set_next(&cur, &t, sigs, 2, &next, &err) == EMG_EVERIFY,
	      "a stranger's signature does not count");
	cur.version = 1;
	sigs[1].data = sig[1];
	sigs[1].len = sig_len[1];
	CHECK(c, emg_root_set_next(&cur, &t, sigs, 2, &next, &err) == EMG_EVERIFY &&
			 strstr(err.msg, "does not follow") != NULL,
	      "a version that skips one is refused");
	for (i = 0; i < 3; i++)
		free(sig[i]);
}

int main(void)
{
	check_ctx c = {0};
	fixture f;
	emg_err err;
	int i, ok = 1;

	for (i = 0; i < NKEYS; i++)
		if (emg_keypair_generate(&f.pk[i], &f.sk[i], &err) != EMG_OK)
			ok = 0;
	CHECK(&c, ok, "test keys generated");
	if (ok) {
		parse_tests(&c, &f);
		rotation_tests(&c, &f);
	}
	for (i = 0; i < NKEYS; i++)
		emg_seckey_wipe(&f.sk[i]);
	return c.failed ? 1 : 0;
}
