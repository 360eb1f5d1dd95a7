/* trust.c - loading the trust directory: trust.conf and roots/NAME.pub. */
#include "bundle/trust.h"

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ini.h"

static const emg_ini_key trust_keys[] = {
	{"org", "threshold", 0},
	{"org", "role", 0},
	{"org", "root_threshold", 0},
	{"vendor", "anchors", 0},
	{"vendor", "eku", 1},
	{"vendor", "subject", 0},
	{"vendor", "allow_missing_crl", 0},
	{"freshness", "max_sequence_step", 0},
	{"limits", "manifest_max", 0},
	{"limits", "member_count_max", 0},
	{"limits", "member_max", 0},
	{"limits", "total_max", 0},
	{"limits", "ratio_max", 0},
	{"limits", "keep_max", 0},
	{NULL, NULL, 0},
};

void emg_bundle_limits_default(emg_bundle_limits *l)
{
	/* In the spirit of go-tuf: generous for real bundles (a feed of a few
	 * KiB, CRLs and CTLs of a few MiB), small enough that hostile input
	 * cannot exhaust the host. */
	l->manifest_max = 1024 * 1024;
	l->member_count_max = 4096;
	l->member_max = 1024ull * 1024 * 1024;
	l->total_max = 4096ull * 1024 * 1024;
	l->ratio_max = 100;
	l->max_sequence_step = 100000;
	l->keep_max = 12ull * 1024 * 1024;
}

void emg_trust_free(emg_trust *t)
{
	size_t i;

	if (t == NULL)
		return;
	for (i = 0; i < t->eku_count; i++)
		free(t->ekus[i]);
	free(t->subject);
	free(t);
}

static int get_u64_pos(const emg_ini *ini, const char *sec, const char *key, uint64_t def,
		       uint64_t *out, emg_err *err)
{
	unsigned long long v;

	if (emg_ini_get_u64(ini, sec, key, def, &v, err) != EMG_OK)
		return err->code;
	if (v == 0)
		return emg_fail(err, EMG_ECONFIG, "%s: [%s] %s must be at least 1", ini->path, sec, key);
	*out = v;
	return EMG_OK;
}

static int load_limits(const emg_ini *ini, emg_bundle_limits *l, emg_err *err)
{
	emg_bundle_limits_default(l);
	if (get_u64_pos(ini, "limits", "manifest_max", l->manifest_max, &l->manifest_max, err) ||
	    get_u64_pos(ini, "limits", "member_count_max", l->member_count_max, &l->member_count_max,
			err) ||
	    get_u64_pos(ini, "limits", "member_max", l->member_max, &l->member_max, err) ||
	    get_u64_pos(ini, "limits", "total_max", l->total_max, &l->total_max, err) ||
	    get_u64_pos(ini, "limits", "ratio_max", l->ratio_max, &l->ratio_max, err) ||
	    get_u64_pos(ini, "limits", "keep_max", l->keep_max, &l->keep_max, err) ||
	    get_u64_pos(ini, "freshness", "max_sequence_step", l->max_sequence_step,
			&l->max_sequence_step, err))
		return err->code;
	return EMG_OK;
}

static int load_org(const emg_ini *ini, emg_trust *t, emg_err *err)
{
	const char *role = emg_ini_get(ini, "org", "role");
	uint64_t m = 0, rm = 0;

	if (emg_ini_get(ini, "org", "threshold") == NULL)
		return emg_fail(err, EMG_ECONFIG, "%s: [org] threshold is missing", ini->path);
	if (get_u64_pos(ini, "org", "threshold", 1, &m, err) != EMG_OK ||
	    get_u64_pos(ini, "org", "root_threshold", 1, &rm, err) != EMG_OK)
		return err->code;
	if (m > 64 || rm > EMG_TRUST_ROOTS_MAX)
		return emg_fail(err, EMG_ECONFIG, "%s: [org] threshold out of range", ini->path);
	t->threshold = (unsigned)m;
	t->root_threshold = (unsigned)rm;
	if (role == NULL)
		role = "bundle";
	if (role[0] == '\0' || strlen(role) >= sizeof t->role)
		return emg_fail(err, EMG_ECONFIG, "%s: [org] role is empty or too long", ini->path);
	snprintf(t->role, sizeof t->role, "%s", role);
	return EMG_OK;
}

static int load_vendor(const emg_ini *ini, emg_trust *t, emg_err *err)
{
	const char *anchors = emg_ini_get(ini, "vendor", "anchors");
	const char *subject = emg_ini_get(ini, "vendor", "subject");
	const char *eku;
	size_t pos = 0;
	int n;

	if (anchors == NULL || anchors[0] == '\0')
		return emg_fail(err, EMG_ECONFIG, "%s: [vendor] anchors is missing", ini->path);
	if (anchors[0] == '/')
		n = snprintf(t->anchors, sizeof t->anchors, "%s", anchors);
	else
		n = snprintf(t->anchors, sizeof t->anchors, "%s/%s", t->dir, anchors);
	if (n < 0 || (size_t)n >= sizeof t->anchors)
		return emg_fail(err, EMG_ECONFIG, "%s: [vendor] anchors: path too long", ini->path);
	while ((eku = emg_ini_next(ini, "vendor", "eku", &pos)) != NULL) {
		if (t->eku_count == EMG_TRUST_EKU_MAX)
			return emg_fail(err, EMG_ECONFIG, "%s: [vendor] more than %d eku", ini->path,
					EMG_TRUST_EKU_MAX);
		if (eku[0] == '\0' || strspn(eku, "0123456789.") != strlen(eku))
			return emg_fail(err, EMG_ECONFIG, "%s: [vendor] eku '%s' is not an OID", ini->path, eku);
		t->ekus[t->eku_count] = strdup(eku);
		if (t->ekus[t->eku_count] == NULL)
			return emg_fail(err, EMG_EIO, "out of memory");
		t->eku_count++;
	}
	if (t->eku_count == 0) {
		/* No eku line means code signing, as EEMS checks: a trust dir
		 * that forgot the line must not accept any certificate the
		 * vendor's CA ever issued. */
		t->ekus[0] = strdup(EMG_TRUST_DEFAULT_EKU);
		if (t->ekus[0] == NULL)
			return emg_fail(err, EMG_EIO, "out of memory");
		t->eku_count = 1;
	}
	if (subject != NULL && subject[0] != '\0') {
		t->subject = strdup(subject);
		if (t->subject == NULL)
			return emg_fail(err, EMG_EIO, "out of memory");
	}
	return emg_ini_get_bool(ini, "vendor", "allow_missing_crl", 0, &t->allow_missing_crl, err);
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Collects roots/NAME.pub, sorted so messages and order never depend on
 * the directory's order. */
static int list_roots(const char *dir, char ***names, size_t *count, emg_err *err)
{
	DIR *d = opendir(dir);
	struct dirent *de;
	char **v = NULL;
	size_t n = 0;

	*names = NULL;
	*count = 0;
	if (d == NULL)
		return emg_fail(err, EMG_ECONFIG, "%s: cannot open the root key directory", dir);
	while ((de = readdir(d)) != NULL) {
		size_t l = strlen(de->d_name);
		char **nv;
		if (de->d_name[0] == '.' || l < 5 || strcmp(de->d_name + l - 4, ".pub") != 0)
			continue;
		if (n == EMG_TRUST_ROOTS_MAX) {
			closedir(d);
			while (n > 0)
				free(v[--n]);
			free(v);
			return emg_fail(err, EMG_ECONFIG, "%s: more than %d root keys", dir,
					EMG_TRUST_ROOTS_MAX);
		}
		nv = realloc(v, (n + 1) * sizeof *v);
		if (nv == NULL || (nv[n] = strdup(de->d_name)) == NULL) {
			closedir(d);
			v = nv ? nv : v;
			while (n > 0)
				free(v[--n]);
			free(v);
			return emg_fail(err, EMG_EIO, "out of memory");
		}
		v = nv;
		n++;
	}
	closedir(d);
	if (n > 0)
		qsort(v, n, sizeof *v, cmp_str);
	*names = v;
	*count = n;
	return EMG_OK;
}

static int load_roots(emg_trust *t, emg_err *err)
{
	char dir[PATH_MAX], path[PATH_MAX];
	char **names;
	size_t n, i, j;
	int rc = EMG_OK;

	snprintf(dir, sizeof dir, "%s/roots", t->dir);
	if (list_roots(dir, &names, &n, err) != EMG_OK)
		return err->code;
	for (i = 0; i < n && rc == EMG_OK; i++) {
		snprintf(path, sizeof path, "%s/%s", dir, names[i]);
		rc = emg_pubkey_load(path, &t->roots[t->root_count], err);
		if (rc != EMG_OK)
			break;
		for (j = 0; j < t->root_count; j++)
			if (memcmp(t->roots[j].keynum, t->roots[t->root_count].keynum, EMG_KEYNUM_LEN) == 0)
				rc = emg_fail(err, EMG_ECONFIG, "%s: the same root key twice", path);
		t->root_count++;
	}
	for (i = 0; i < n; i++)
		free(names[i]);
	free(names);
	if (rc == EMG_OK && t->root_count == 0)
		rc = emg_fail(err, EMG_ECONFIG, "%s: no root public keys (NAME.pub)", dir);
	if (rc == EMG_OK && t->root_threshold > t->root_count)
		rc = emg_fail(err, EMG_ECONFIG, "%s/trust.conf: [org] root_threshold %u exceeds the %zu roots",
			      t->dir, t->root_threshold, t->root_count);
	return rc;
}

int emg_trust_load(const char *dir, emg_trust **out, emg_err *err)
{
	char conf[PATH_MAX];
	emg_trust *t;
	emg_ini ini;
	int rc;

	*out = NULL;
	t = calloc(1, sizeof *t);
	if (t == NULL)
		return emg_fail(err, EMG_EIO, "out of memory");
	if (snprintf(t->dir, sizeof t->dir, "%s", dir) >= (int)sizeof t->dir) {
		free(t);
		return emg_fail(err, EMG_ECONFIG, "%s: path too long", dir);
	}
	snprintf(conf, sizeof conf, "%s/trust.conf", dir);
	rc = emg_ini_load(&ini, conf, err);
	if (rc != EMG_OK) {
		free(t);
		/* A missing trust.conf is a configuration problem, not I/O. */
		if (rc == EMG_EIO && err != NULL)
			err->code = rc = EMG_ECONFIG;
		return rc;
	}
	rc = emg_ini_check(&ini, trust_keys, err);
	if (rc == EMG_OK)
		rc = load_org(&ini, t, err);
	if (rc == EMG_OK)
		rc = load_vendor(&ini, t, err);
	if (rc == EMG_OK)
		rc = load_limits(&ini, &t->limits, err);
	emg_ini_free(&ini);
	if (rc == EMG_OK)
		rc = load_roots(t, err);
	if (rc != EMG_OK) {
		emg_trust_free(t);
		return rc;
	}
	*out = t;
	return EMG_OK;
}
