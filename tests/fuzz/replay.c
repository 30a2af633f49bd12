/* SPDX-License-Identifier: MIT */
/*
 * Runs a libFuzzer harness over saved inputs without libFuzzer: each
 * argument is a file, or a directory whose files are all run. Built in
 * the ordinary build directories, so that ctest checks the harness's
 * properties on its seed corpus with gcc and under ASan+UBSan too, not
 * only in build-fuzz/.
 */
#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int run_file(const char *path)
{
	FILE *f = fopen(path, "rb");
	uint8_t *buf = NULL;
	long n;

	if (!f || fseek(f, 0, SEEK_END) || (n = ftell(f)) < 0 ||
	    fseek(f, 0, SEEK_SET) || !(buf = malloc(n ? (size_t)n : 1)) ||
	    fread(buf, 1, (size_t)n, f) != (size_t)n) {
		perror(path);
		free(buf);
		if (f)
			fclose(f);
		return 1;
	}
	fclose(f);
	/* Exactly the input's size, as libFuzzer hands it over. */
	LLVMFuzzerTestOneInput(buf, (size_t)n);
	free(buf);
	return 0;
}

int main(int argc, char **argv)
{
	int ret = 0, runs = 0;

	for (int i = 1; i < argc; i++) {
		struct stat st;
		struct dirent *de;
		DIR *d;

		if (stat(argv[i], &st) || !S_ISDIR(st.st_mode)) {
			ret |= run_file(argv[i]);
			runs++;
			continue;
		}
		d = opendir(argv[i]);
		if (!d) {
			perror(argv[i]);
			return 1;
		}
		while ((de = readdir(d))) {
			char path[4096];

			if (de->d_name[0] == '.')
				continue;
			snprintf(path, sizeof(path), "%s/%s", argv[i], de->d_name);
			ret |= run_file(path);
			runs++;
		}
		closedir(d);
	}
	printf("%d inputs run\n", runs);
	return ret || runs == 0;
}
