/* feed_files.c - reading a directory of CRLs or CTLs into memory blobs. */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

#include "bundle/feed.h"
#include "fileio.h"

static int wanted(const char *name, const char *const *suffixes)
{
	size_t i, n = strlen(name);

	if (name[0] == '.')
		return 0;
	if (suffixes == NULL)
		return 1;
	for (i = 0; suffixes[i] != NULL; i++) {
		size_t m = strlen(suffixes[i]);
		if (n > m && strcasecmp(name + n - m, suffixes[i]) == 0)
			return 1;
	}
	return 0;
}

static int by_name(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The wanted names in dir, sorted; *names is NULL-terminated. */
static int list_names(const char *dir, const char *const *suffixes, char ***names, size_t *count,
		      emg_err *err)
{
	DIR *d = opendir(dir);
	struct dirent *de;
	char **v;
	size_t n = 0;
	int rc = EMG_OK;

	*names = NULL;
	*count = 0;
	if (d == NULL)
		return emg_fail(err, EMG_EIO, "%s: cannot open directory: %m", dir);
	v = calloc(EMG_BLOBS_MAX_FILES + 1, sizeof *v);
	if (v == NULL) {
		closedir(d);
		return emg_fail(err, EMG_EIO, "out of memory");
	}
	while (rc == EMG_OK && (de = readdir(d)) != NULL) {
		if (!wanted(de->d_name, suffixes))
			continue;
		if (n >= EMG_BLOBS_MAX_FILES)
			rc = emg_fail(err, EMG_ECONFIG, "%s: more than %d files", dir, EMG_BLOBS_MAX_FILES);
		else if ((v[n++] = strdup(de->d_name)) == NULL)
			rc = emg_fail(err, EMG_EIO, "out of memory");
	}
	closedir(d);
	if (rc != EMG_OK) {
		while (n > 0)
			free(v[--n]);
		free(v);
		return rc;
	}
	qsort(v, n, sizeof *v, by_name);
	*names = v;
	*count = n;
	return EMG_OK;
}

int emg_blobs_read_dir(const char *dir, const char *const *suffixes, size_t max_each,
		       emg_blob_list *out, emg_err *err)
{
	char **names;
	size_t i, n;
	int rc;

	memset(out, 0, sizeof *out);
	rc = list_names(dir, suffixes, &names, &n, err);
	if (rc != EMG_OK)
		return rc;
	out->items = calloc(n + 1, sizeof *out->items);
	if (out->items == NULL)
		rc = emg_fail(err, EMG_EIO, "out of memory");
	for (i = 0; i < n && rc == EMG_OK; i++) {
		char path[4096];
		struct stat st;
		uint8_t *data = NULL;
		size_t len = 0;

		snprintf(path, sizeof path, "%s/%s", dir, names[i]);
		/* Only plain files: a link could point anywhere. */
		if (lstat(path, &st) != 0 || !S_ISREG(st.st_mode))
			continue;
		rc = emg_read_file(path, max_each, EMG_ECONFIG, &data, &len, err);
		if (rc != EMG_OK)
			break;
		out->items[out->count].name = strdup(path);
		if (out->items[out->count].name == NULL) {
			free(data);
			rc = emg_fail(err, EMG_EIO, "out of memory");
			break;
		}
		out->items[out->count].data = data;
		out->items[out->count].len = len;
		out->count++;
	}
	for (i = 0; i < n; i++)
		free(names[i]);
	free(names);
	if (rc != EMG_OK)
		emg_blobs_free(out);
	return rc;
}

void emg_blobs_free(emg_blob_list *list)
{
	size_t i;

	if (list == NULL)
		return;
	for (i = 0; i < list->count; i++) {
		free((char *)list->items[i].name);
		free((uint8_t *)list->items[i].data);
	}
	free(list->items);
	memset(list, 0, sizeof *list);
}
