/* ctl.c - reading Windows certificate trust lists (see ctl.h).
 *
 * The CTL body has no OpenSSL type of its own, so it is described here
 * with OpenSSL's ASN.1 templates and decoded by OpenSSL:
 *
 *   CertificateTrustList ::= SEQUENCE {
 *     version          INTEGER OPTIONAL,
 *     subjectUsage     SEQUENCE OF OBJECT IDENTIFIER,
 *     listIdentifier   OCTET STRING OPTIONAL,
 *     sequenceNumber   INTEGER OPTIONAL,
 *     ctlThisUpdate    Time,
 *     ctlNextUpdate    Time OPTIONAL,
 *     subjectAlgorithm AlgorithmIdentifier,
 *     trustedSubjects  SEQUENCE OF TrustedSubject OPTIONAL,
 *     ctlExtensions    [0] EXPLICIT Extensions OPTIONAL }
 *   TrustedSubject ::= SEQUENCE {
 *     subjectIdentifier OCTET STRING,
 *     subjectAttributes SET OF Attribute OPTIONAL } */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <archive.h>
#include <archive_entry.h>
#include <openssl/asn1t.h>
#include <openssl/bn.h>
#include <openssl/err.h>
#include <openssl/pkcs7.h>
#include <openssl/x509.h>

#include "bundle/ctl.h"

#define CTL_CONTENT_OID "1.3.6.1.4.1.311.10.1"

typedef struct EMG_CTL_SUBJECT {
	ASN1_OCTET_STRING *id;
	STACK_OF(X509_ATTRIBUTE) *attrs;
} EMG_CTL_SUBJECT;

typedef struct EMG_CTL_BODY {
	ASN1_INTEGER *version;
	STACK_OF(ASN1_OBJECT) *usage;
	ASN1_OCTET_STRING *list_id;
	ASN1_INTEGER *sequence;
	ASN1_TIME *this_update;
	ASN1_TIME *next_update;
	X509_ALGOR *algorithm;
	STACK_OF(EMG_CTL_SUBJECT) *subjects;
	STACK_OF(X509_EXTENSION) *extensions;
} EMG_CTL_BODY;

ASN1_SEQUENCE(EMG_CTL_SUBJECT) = {
	ASN1_SIMPLE(EMG_CTL_SUBJECT, id, ASN1_OCTET_STRING),
	ASN1_SET_OF_OPT(EMG_CTL_SUBJECT, attrs, X509_ATTRIBUTE),
	/* cppcheck-suppress unknownMacro ; cppcheck cannot expand OpenSSL templates */
} static_ASN1_SEQUENCE_END(EMG_CTL_SUBJECT)

ASN1_SEQUENCE(EMG_CTL_BODY) = {
	ASN1_OPT(EMG_CTL_BODY, version, ASN1_INTEGER),
	ASN1_SEQUENCE_OF(EMG_CTL_BODY, usage, ASN1_OBJECT),
	ASN1_OPT(EMG_CTL_BODY, list_id, ASN1_OCTET_STRING),
	ASN1_OPT(EMG_CTL_BODY, sequence, ASN1_INTEGER),
	ASN1_SIMPLE(EMG_CTL_BODY, this_update, ASN1_TIME),
	ASN1_OPT(EMG_CTL_BODY, next_update, ASN1_TIME),
	ASN1_SIMPLE(EMG_CTL_BODY, algorithm, X509_ALGOR),
	ASN1_SEQUENCE_OF_OPT(EMG_CTL_BODY, subjects, EMG_CTL_SUBJECT),
	ASN1_EXP_SEQUENCE_OF_OPT(EMG_CTL_BODY, extensions, X509_EXTENSION, 0),
	/* cppcheck-suppress unknownMacro ; cppcheck cannot expand OpenSSL templates */
} static_ASN1_SEQUENCE_END(EMG_CTL_BODY)

/* The subjects stack is handled through OpenSSL's untyped stack calls, so
 * STACK_OF(EMG_CTL_SUBJECT) needs no DEFINE_STACK_OF. */
static int subject_count(const STACK_OF(EMG_CTL_SUBJECT) *sk)
{
	return sk != NULL ? OPENSSL_sk_num((const OPENSSL_STACK *)sk) : 0;
}

static const EMG_CTL_SUBJECT *subject_at(const STACK_OF(EMG_CTL_SUBJECT) *sk, int i)
{
	return OPENSSL_sk_value((const OPENSSL_STACK *)sk, i);
}

/* ---- .cab ------------------------------------------------------------ */

static int ends_with(const char *s, const char *suffix)
{
	size_t n = strlen(s), m = strlen(suffix);

	return n >= m && strcasecmp(s + n - m, suffix) == 0;
}

/* The first *.stl member of a cabinet, read into memory (bounded). */
static int cab_member(const uint8_t *data, size_t len, const char *name, uint8_t **out,
		      size_t *out_len, emg_err *err)
{
	struct archive *a = archive_read_new();
	struct archive_entry *e;
	uint8_t *buf = NULL;
	int r, rc = EMG_OK, found = 0;

	*out = NULL;
	if (a == NULL)
		return emg_fail(err, EMG_EIO, "out of memory");
	archive_read_support_format_cab(a);
	if (archive_read_open_memory(a, data, len) != ARCHIVE_OK) {
		rc = emg_fail(err, EMG_ECONFIG, "%s: not a readable cabinet: %s", name, archive_error_string(a));
		goto out;
	}
	while (!found && (r = archive_read_next_header(a, &e)) == ARCHIVE_OK) {
		const char *path = archive_entry_pathname(e);
		la_int64_t size = archive_entry_size(e);
		la_ssize_t got;

		if (path == NULL || !ends_with(path, ".stl"))
			continue;
		if (size <= 0 || (uint64_t)size > EMG_CTL_MAX_BYTES) {
			rc = emg_fail(err, EMG_ECONFIG, "%s: member %s has a bad size", name, path);
			goto out;
		}
		buf = malloc((size_t)size);
		if (buf == NULL) {
			rc = emg_fail(err, EMG_EIO, "out of memory");
			goto out;
		}
		got = archive_read_data(a, buf, (size_t)size);
		if (got != (la_ssize_t)size) {
			rc = emg_fail(err, EMG_ECONFIG, "%s: cannot read member %s: %s", name, path,
				      got < 0 ? archive_error_string(a) : "short read");
			goto out;
		}
		*out_len = (size_t)size;
		found = 1;
	}
	if (!found)
		rc = emg_fail(err, EMG_ECONFIG, "%s: cabinet holds no .stl file", name);
out:
	archive_read_free(a);
	if (rc != EMG_OK)
		free(buf);
	else
		*out = buf;
	return rc;
}

/* ---- PKCS#7 ---------------------------------------------------------- */

/* Windows puts the CTL straight into the content's [0] (a SEQUENCE);
 * CMS tools wrap it in an OCTET STRING. Accept both. */
static int ctl_content(PKCS7 *p7, const unsigned char **der, long *len)
{
	PKCS7 *inner;
	ASN1_TYPE *t;
	char oid[64];

	if (!PKCS7_type_is_signed(p7) || p7->d.sign == NULL || p7->d.sign->contents == NULL)
		return -1;
	inner = p7->d.sign->contents;
	if (OBJ_obj2txt(oid, sizeof oid, inner->type, 1) <= 0 || strcmp(oid, CTL_CONTENT_OID) != 0)
		return -1;
	t = inner->d.other;
	if (t == NULL)
		return -1;
	if (t->type == V_ASN1_SEQUENCE) {
		*der = t->value.sequence->data;
		*len = t->value.sequence->length;
	} else if (t->type == V_ASN1_OCTET_STRING) {
		*der = t->value.octet_string->data;
		*len = t->value.octet_string->length;
	} else {
		return -1;
	}
	return 0;
}

static time_t to_time(const ASN1_TIME *t)
{
	struct tm tm;

	if (t == NULL || ASN1_TIME_to_tm(t, &tm) != 1)
		return 0;
	return timegm(&tm);
}

static void int_hex(const ASN1_INTEGER *i, char *out, size_t cap)
{
	BIGNUM *bn = i != NULL ? ASN1_INTEGER_to_BN(i, NULL) : NULL;
	char *hex = bn != NULL ? BN_bn2hex(bn) : NULL;

	snprintf(out, cap, "%s", hex != NULL ? hex : "");
	OPENSSL_free(hex);
	BN_free(bn);
}

static int fill(const EMG_CTL_BODY *b, const char *name, emg_ctl *ctl, emg_err *err)
{
	int i, n = subject_count(b->subjects);

	if (sk_ASN1_OBJECT_num(b->usage) < 1)
		return emg_fail(err, EMG_ECONFIG, "%s: CTL has no subject usage", name);
	OBJ_obj2txt(ctl->usage, sizeof ctl->usage, sk_ASN1_OBJECT_value(b->usage, 0), 1);
	for (i = 0; i < sk_ASN1_OBJECT_num(b->usage); i++) {
		char oid[80];

		OBJ_obj2txt(oid, sizeof oid, sk_ASN1_OBJECT_value(b->usage, i), 1);
		if (strcmp(oid, EMG_CTL_USAGE_DISALLOWED) == 0)
			ctl->kind = EMG_CTL_DISALLOWED;
		else if (strcmp(oid, EMG_CTL_USAGE_AUTHROOT) == 0 && ctl->kind == EMG_CTL_OTHER)
			ctl->kind = EMG_CTL_AUTHROOT;
	}
	int_hex(b->sequence, ctl->sequence, sizeof ctl->sequence);
	ctl->this_update = to_time(b->this_update);
	ctl->next_update = to_time(b->next_update);
	OBJ_obj2txt(ctl->algorithm, sizeof ctl->algorithm, b->algorithm->algorithm, 1);
	if (n < 0)
		n = 0;
	if (n > (int)EMG_CTL_MAX_SUBJECTS)
		return emg_fail(err, EMG_ECONFIG, "%s: CTL lists more than %u subjects", name,
				(unsigned)EMG_CTL_MAX_SUBJECTS);
	ctl->subjects = calloc((size_t)n + 1, sizeof *ctl->subjects);
	if (ctl->subjects == NULL)
		return emg_fail(err, EMG_EIO, "out of memory");
	for (i = 0; i < n; i++) {
		const ASN1_OCTET_STRING *id = subject_at(b->subjects, i)->id;

		if (id->length <= 0 || id->length > EMG_CTL_ID_MAX)
			return emg_fail(err, EMG_ECONFIG, "%s: CTL entry %d has a bad identifier", name, i + 1);
		memcpy(ctl->subjects[i].id, id->data, (size_t)id->length);
		ctl->subjects[i].len = (size_t)id->length;
	}
	ctl->count = (size_t)n;
	return EMG_OK;
}

static int parse_stl(const uint8_t *data, size_t len, const char *name, emg_ctl *ctl, emg_err *err)
{
	const unsigned char *p = data, *der;
	EMG_CTL_BODY *body;
	PKCS7 *p7;
	long dlen;
	int rc;

	p7 = d2i_PKCS7(NULL, &p, (long)len);
	if (p7 == NULL) {
		ERR_clear_error();
		return emg_fail(err, EMG_ECONFIG, "%s: not a DER PKCS#7 CTL", name);
	}
	if (ctl_content(p7, &der, &dlen) != 0) {
		PKCS7_free(p7);
		return emg_fail(err, EMG_ECONFIG, "%s: not a signed CTL (content type %s)", name,
				CTL_CONTENT_OID);
	}
	body = (EMG_CTL_BODY *)ASN1_item_d2i(NULL, &der, dlen, ASN1_ITEM_rptr(EMG_CTL_BODY));
	if (body == NULL) {
		ERR_clear_error();
		rc = emg_fail(err, EMG_ECONFIG, "%s: malformed CTL body", name);
	} else {
		rc = fill(body, name, ctl, err);
		ASN1_item_free((ASN1_VALUE *)body, ASN1_ITEM_rptr(EMG_CTL_BODY));
	}
	PKCS7_free(p7);
	return rc;
}

int emg_ctl_parse(const uint8_t *data, size_t len, const char *name, emg_ctl **out, emg_err *err)
{
	uint8_t *stl = NULL;
	size_t stl_len = 0;
	emg_ctl *ctl;
	int rc;

	*out = NULL;
	if (len > EMG_CTL_MAX_BYTES)
		return emg_fail(err, EMG_ECONFIG, "%s: CTL is over %u bytes", name,
				(unsigned)EMG_CTL_MAX_BYTES);
	ctl = calloc(1, sizeof *ctl);
	if (ctl == NULL)
		return emg_fail(err, EMG_EIO, "out of memory");
	if (len >= 4 && memcmp(data, "MSCF", 4) == 0) {
		rc = cab_member(data, len, name, &stl, &stl_len, err);
		if (rc == EMG_OK)
			rc = parse_stl(stl, stl_len, name, ctl, err);
		free(stl);
	} else {
		rc = parse_stl(data, len, name, ctl, err);
	}
	if (rc != EMG_OK) {
		emg_ctl_free(ctl);
		return rc;
	}
	*out = ctl;
	return EMG_OK;
}

void emg_ctl_free(emg_ctl *ctl)
{
	if (ctl == NULL)
		return;
	free(ctl->subjects);
	free(ctl);
}

int emg_ctl_lists(const emg_ctl *ctl, const uint8_t *id, size_t len)
{
	size_t i;

	for (i = 0; i < ctl->count; i++)
		if (ctl->subjects[i].len == len && memcmp(ctl->subjects[i].id, id, len) == 0)
			return 1;
	return 0;
}
