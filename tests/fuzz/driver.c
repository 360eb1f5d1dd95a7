/* driver.c - runs a libFuzzer target over files, without libFuzzer.
 *
 * `make check` links every fuzz target with this driver (gcc, normal and
 * ASan builds) and feeds it the saved corpus, so an input that once crashed
 * a parser stays a regression test. `make fuzz` links the same targets with
 * clang's libFuzzer instead. Each file prints one PASS line (it returned) -
 * a crash is caught by the runner as a non-zero exit. */
#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int run_file(const char *path)
{
	FILE *f = fopen(path, "rb");
	uint8_t *buf = NULL;
	long n;

	if (f == NULL) {
		printf("FAIL %s: cannot open\n", path);
		return 1;
	}
	if (fseek(f, 0, SEEK_END) != 0 || (n = ftell(f)) < 0 || fseek(f, 0, SEEK_SET) != 0) {
		fclose(f);
		printf("FAIL %s: cannot size\n", path);
		return 1;
	}
	buf = malloc((size_t)n + 1);
	if (buf == NULL || fread(buf, 1, (size_t)n, f) != (size_t)n) {
		free(buf);
		fclose(f);
		printf("FAIL %s: cannot read\n", path);
		return 1;
	}
	fclose(f);
	LLVMFuzzerTestOneInput(buf, (size_t)n);
	free(buf);
	return 0;
}

int main(int argc, char **argv)
{
	int i, failed = 0, count = 0;

	for (i = 1; i < argc; i++) {
		struct stat st;
		if (stat(argv[i], &st) != 0)
			continue;
		if (S_ISDIR(st.st_mode)) {
			DIR *d = opendir(argv[i]);
			struct dirent *de;
			if (d == NULL)
				continue;
			while ((de = readdir(d)) != NULL) {
				char p[4096];
				if (de->d_name[0] == '.')
					continue;
				snprintf(p, sizeof p, "%s/%s", argv[i], de->d_name);
				failed += run_file(p);
				count++;
			}
			closedir(d);
		} else {
			failed += run_file(argv[i]);
			count++;
		}
	}
	printf("%s %s: %d inputs\n", failed ? "FAIL" : "PASS", argv[0], count);
	return failed ? 1 : 0;
}
