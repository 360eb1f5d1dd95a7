/* bundle_feed_lib.c - the library calls the mirror and the applier use:
 * emg_feed_verify (report, model, repeated calls in one process, policy
 * knobs) and the CTL reader, on a PKI and feeds made by tests/lib/pki.sh
 * with the real openssl, xmlsec1 and gcab. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/pkcs7.h>
#include <openssl/x509.h>

#include "bundle/ctl.h"
#include "bundle/feed.h"
#include "fileio.h"
#include "tests/unit/check.h"

typedef struct fixture {
	char dir[2048];
	uint8_t *good, *noeku, *crl_root, *crl_inter, *cab, *stl;
	size_t good_len, noeku_len, crl_root_len, crl_inter_len, cab_len, stl_len;
	char anchors[2100];
} fixture;

/* Builds the PKI, signs the combined sample, makes a disallowed CTL. */
static int make_fixture(fixture *fx)
{
	const char *src = getenv("EMGAP_SRC");
	char cmd[8192];
	char path[2200];
	emg_err err;

	if (src == NULL)
		return -1;
	snprintf(fx->dir, sizeof fx->dir, "%s/pki", check_tmpdir());
	snprintf(fx->anchors, sizeof fx->anchors, "%s/anchors.pem", fx->dir);
	snprintf(cmd, sizeof cmd,
		 "set -e; . '%s/tests/lib/pki.sh'; pki_make '%s' >/dev/null 2>&1; "
		 "pki_sign_feed '%s' signer '%s/samples/feeds/mitigations.xml' '%s/good.xml'; "
		 "pki_sign_feed '%s' noeku '%s/samples/feeds/ping1.xml' '%s/noeku.xml'; "
		 "PKI_CTL_SEQ=1234 pki_make_ctl '%s' disallowed '%s/dis.cab' '%s/inter.pem' '%s/signer.pem'; "
		 "pki_make_ctl '%s' authroot '%s/auth.stl' '%s/root.pem'",
		 src, fx->dir, fx->dir, src, fx->dir, fx->dir, src, fx->dir, fx->dir, fx->dir, fx->dir,
		 fx->dir, fx->dir, fx->dir, fx->dir);
	if (system(cmd) != 0)
		return -1;
#define LOAD(name, buf, len)                                                                     \
	do {                                                                                     \
		snprintf(path, sizeof path, "%s/%s", fx->dir, name);                             \
		if (emg_read_file(path, 1 << 24, EMG_ECONFIG, &fx->buf, &fx->len, &err) != EMG_OK) \
			return -1;                                                               \
	} while (0)
	LOAD("good.xml", good, good_len);
	LOAD("noeku.xml", noeku, noeku_len);
	LOAD("crl/root.crl", crl_root, crl_root_len);
	LOAD("crl/inter.crl", crl_inter, crl_inter_len);
	LOAD("dis.cab", cab, cab_len);
	LOAD("auth.stl", stl, stl_len);
#undef LOAD
	return 0;
}

static void free_fixture(fixture *fx)
{
	free(fx->good);
	free(fx->noeku);
	free(fx->crl_root);
	free(fx->crl_inter);
	free(fx->cab);
	free(fx->stl);
}

static void test_verify(check_ctx *c, const fixture *fx)
{
	static const char *const eku[] = {"1.3.6.1.5.5.7.3.3"};
	emg_blob crls[2];
	emg_pki_snapshot pki = {crls, 2, NULL, 0};
	emg_vendor_policy pol = {fx->anchors, (const char **)eku, 1, "CN=emgap Test Feed Signer", 0, 0};
	emg_feed_report rep;
	emg_feed *f = NULL;
	emg_err err;
	int rc, i;

	crls[0] = (emg_blob){"root.crl", fx->crl_root, fx->crl_root_len};
	crls[1] = (emg_blob){"inter.crl", fx->crl_inter, fx->crl_inter_len};

	rc = emg_feed_verify(fx->good, fx->good_len, &pol, &pki, time(NULL), &rep, &f, &err);
	CHECK(c, rc == EMG_OK && f != NULL, "verify: signed sample is valid");
	CHECK(c, strstr(rep.signer_subject, "CN=emgap Test Feed Signer") != NULL &&
			 strstr(rep.signer_issuer, "CN=emgap Test Code Signing CA") != NULL,
	      "verify: report names signer and issuer");
	CHECK(c, rep.chain_len == 3 && strstr(rep.chain[2], "CN=emgap Test Root CA") != NULL,
	      "verify: report chain runs signer, intermediate, anchor");
	CHECK(c, f != NULL && f->count == 5 && strcmp(f->items[1].actions[0].subid, "M1.1") == 0,
	      "verify: the model comes from the verified document");
	emg_feed_free(f);

	/* xmlsec is set up and torn down per call: a long-running mirror
	 * verifies many times in one process. */
	for (i = 0, rc = EMG_OK; i < 3 && rc == EMG_OK; i++)
		rc = emg_feed_verify(fx->good, fx->good_len, &pol, &pki, time(NULL), NULL, NULL, &err);
	CHECK(c, rc == EMG_OK, "verify: repeated calls in one process, report and model optional");

	pol.allow_missing_crl = 0;
	rc = emg_feed_verify(fx->good, fx->good_len, &pol, NULL, time(NULL), NULL, NULL, &err);
	CHECK(c, rc == EMG_EVERIFY && strstr(err.msg, "unable to get certificate CRL") != NULL,
	      "verify: no CRLs fails by default");
	pol.allow_missing_crl = 1;
	rc = emg_feed_verify(fx->good, fx->good_len, &pol, NULL, time(NULL), NULL, NULL, &err);
	CHECK(c, rc == EMG_OK, "verify: no CRLs passes when the policy allows it");
	pol.allow_missing_crl = 0;

	rc = emg_feed_verify(fx->good, fx->good_len, &pol, &pki, time(NULL) + 40L * 365 * 86400, NULL, NULL, &err);
	CHECK(c, rc == EMG_EFRESH, "verify: forty years on, everything has expired (exit 5)");

	/* The CRLs are good for 30 days from now: 60 days on they have
	 * expired, unless they are judged at their fetch time. */
	rc = emg_feed_verify(fx->good, fx->good_len, &pol, &pki, time(NULL) + 60L * 86400, NULL, NULL, &err);
	CHECK(c, rc == EMG_EFRESH && strstr(err.msg, "CRL has expired") != NULL,
	      "verify: 60 days on, the CRLs have expired (exit 5)");
	pol.crl_time = time(NULL);
	rc = emg_feed_verify(fx->good, fx->good_len, &pol, &pki, time(NULL) + 60L * 86400, NULL, NULL, &err);
	CHECK(c, rc == EMG_OK, "verify: 60 days on, CRLs judged at their fetch time pass");
	pol.crl_time = time(NULL) + 45L * 86400;
	rc = emg_feed_verify(fx->good, fx->good_len, &pol, &pki, time(NULL), NULL, NULL, &err);
	CHECK(c, rc == EMG_EFRESH && strstr(err.msg, "CRL has expired") != NULL,
	      "verify: a CRL time past nextUpdate still fails");
	pol.crl_time = 0;

	pol.subject = NULL;
	rc = emg_feed_verify(fx->noeku, fx->noeku_len, &pol, &pki, time(NULL), NULL, NULL, &err);
	CHECK(c, rc == EMG_EVERIFY && strstr(err.msg, "extended key usage") != NULL,
	      "verify: signer without the EKU is refused");
	pol.eku_count = 0;
	rc = emg_feed_verify(fx->noeku, fx->noeku_len, &pol, &pki, time(NULL), NULL, NULL, &err);
	CHECK(c, rc == EMG_OK, "verify: with no EKU required the same signer passes");
	pol.eku_count = 1;

	pki.ctls = &(emg_blob){"dis.cab", fx->cab, fx->cab_len};
	pki.ctl_count = 1;
	rc = emg_feed_verify(fx->good, fx->good_len, &pol, &pki, time(NULL), NULL, NULL, &err);
	CHECK(c, rc == EMG_EVERIFY && strstr(err.msg, "disallowed") != NULL,
	      "verify: a chain certificate on the disallowed CTL is refused");

	pol.anchors_pem = "/nonexistent/anchors.pem";
	rc = emg_feed_verify(fx->good, fx->good_len, &pol, NULL, time(NULL), NULL, NULL, &err);
	CHECK(c, rc == EMG_EIO && strstr(err.msg, "/nonexistent/anchors.pem") != NULL,
	      "verify: unreadable anchors file is an I/O error naming it");
}

static int thumbprint(const char *path, unsigned char md[EVP_MAX_MD_SIZE], unsigned *len)
{
	FILE *fp = fopen(path, "r");
	X509 *x = fp != NULL ? PEM_read_X509(fp, NULL, NULL, NULL) : NULL;
	int ok = x != NULL && X509_digest(x, EVP_sha1(), md, len) == 1;

	if (fp != NULL)
		fclose(fp);
	X509_free(x);
	return ok ? 0 : -1;
}

static void test_ctl(check_ctx *c, const fixture *fx)
{
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned mdlen = 0;
	char path[2200];
	emg_ctl *ctl = NULL;
	emg_err err;
	time_t now = time(NULL);

	CHECK(c, emg_ctl_parse(fx->cab, fx->cab_len, "dis.cab", &ctl, &err) == EMG_OK && ctl != NULL,
	      "ctl: gcab-packed disallowed CTL parses");
	if (ctl == NULL)
		return;
	CHECK(c, ctl->kind == EMG_CTL_DISALLOWED && strcmp(ctl->usage, EMG_CTL_USAGE_DISALLOWED) == 0,
	      "ctl: kind from the subject usage OID");
	CHECK(c, strcmp(ctl->sequence, "04D2") == 0, "ctl: sequence number 1234 (hex 04D2)");
	CHECK(c, ctl->this_update > now - 3600 && ctl->this_update <= now &&
			 ctl->next_update > now + 29L * 86400,
	      "ctl: this update and next update");
	CHECK(c, strcmp(ctl->algorithm, "1.3.14.3.2.26") == 0 && ctl->count == 2,
	      "ctl: SHA-1 subject algorithm, two entries");
	snprintf(path, sizeof path, "%s/signer.pem", fx->dir);
	CHECK(c, thumbprint(path, md, &mdlen) == 0 && emg_ctl_lists(ctl, md, mdlen),
	      "ctl: lists the signer's SHA-1 thumbprint");
	snprintf(path, sizeof path, "%s/root.pem", fx->dir);
	CHECK(c, thumbprint(path, md, &mdlen) == 0 && !emg_ctl_lists(ctl, md, mdlen),
	      "ctl: does not list the root");
	emg_ctl_free(ctl);

	/* A truncated cabinet must fail cleanly, naming the file. */
	CHECK(c, emg_ctl_parse(fx->cab, fx->cab_len / 2, "half.cab", &ctl, &err) == EMG_ECONFIG &&
			 strstr(err.msg, "half.cab") != NULL,
	      "ctl: truncated cabinet refused");
}

/* Re-encodes a CMS-style CTL (body inside an OCTET STRING) the way Windows
 * lays out authroot.stl: the body SEQUENCE straight in the content's [0].
 * The signature no longer matches, which the reader does not check. */
static int windows_form(const uint8_t *in, size_t len, unsigned char **out, int *out_len)
{
	const unsigned char *p = in;
	PKCS7 *p7 = d2i_PKCS7(NULL, &p, (long)len);
	ASN1_TYPE *t;
	ASN1_STRING *seq;
	int ok = 0;

	*out = NULL;
	if (p7 == NULL || !PKCS7_type_is_signed(p7))
		goto out;
	t = p7->d.sign->contents->d.other;
	if (t == NULL || t->type != V_ASN1_OCTET_STRING)
		goto out;
	seq = ASN1_STRING_type_new(V_ASN1_SEQUENCE);
	if (seq == NULL || ASN1_STRING_set(seq, t->value.octet_string->data, t->value.octet_string->length) != 1) {
		ASN1_STRING_free(seq);
		goto out;
	}
	ASN1_TYPE_set(t, V_ASN1_SEQUENCE, seq);
	*out_len = i2d_PKCS7(p7, out);
	ok = *out_len > 0;
out:
	PKCS7_free(p7);
	return ok ? 0 : -1;
}

static void test_ctl_windows_form(check_ctx *c, const fixture *fx)
{
	unsigned char *der = NULL;
	int len = 0;
	emg_ctl *ctl = NULL;
	emg_err err;

	CHECK(c, windows_form(fx->stl, fx->stl_len, &der, &len) == 0, "ctl: Windows-layout CTL built");
	if (der == NULL)
		return;
	CHECK(c, emg_ctl_parse(der, (size_t)len, "authroot.stl", &ctl, &err) == EMG_OK && ctl != NULL &&
			 ctl->kind == EMG_CTL_AUTHROOT && ctl->count == 1 && strcmp(ctl->sequence, "01") == 0,
	      "ctl: Windows layout (body directly in [0]) parses like the CMS layout");
	emg_ctl_free(ctl);
	ctl = NULL;
	CHECK(c, emg_ctl_parse(fx->stl, fx->stl_len, "authroot.stl", &ctl, &err) == EMG_OK && ctl != NULL &&
			 ctl->kind == EMG_CTL_AUTHROOT && ctl->count == 1,
	      "ctl: bare CMS-layout .stl parses");
	emg_ctl_free(ctl);
	OPENSSL_free(der);
}

int main(void)
{
	check_ctx c = {0};
	fixture fx;

	memset(&fx, 0, sizeof fx);
	if (make_fixture(&fx) != 0) {
		printf("FAIL fixture: cannot build the test PKI with tests/lib/pki.sh\n");
		free_fixture(&fx);
		return 1;
	}
	test_verify(&c, &fx);
	test_ctl(&c, &fx);
	test_ctl_windows_form(&c, &fx);
	free_fixture(&fx);
	return c.failed ? 1 : 0;
}
