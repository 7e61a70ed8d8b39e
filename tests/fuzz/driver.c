/*
 * driver: a main() for compilers without libFuzzer. Runs
 * LLVMFuzzerTestOneInput once on every file named, or on every file in a
 * directory named, so a target doubles as a regression runner over its corpus.
 */
#include "fuzz.h"

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

/* fuzz inputs are small; a corpus file past this is a mistake */
#define DRIVER_FILE_MAX (16u << 20)

static int run_file(const char *path)
{
	FILE *f = fopen(path, "rb");
	unsigned char *data;
	long n;

	if (!f) {
		fprintf(stderr, "driver: cannot open '%s': %s\n", path, strerror(errno));
		return -1;
	}
	if (fseek(f, 0, SEEK_END) || (n = ftell(f)) < 0 || (unsigned long)n > DRIVER_FILE_MAX ||
	    fseek(f, 0, SEEK_SET)) {
		fprintf(stderr, "driver: cannot size '%s' (at most %u bytes)\n", path, DRIVER_FILE_MAX);
		fclose(f);
		return -1;
	}
	/* an exact-size copy, so a read past the end is caught by ASan */
	data = malloc(n ? (size_t)n : 1);
	if (!data || fread(data, 1, (size_t)n, f) != (size_t)n) {
		fprintf(stderr, "driver: cannot read '%s'\n", path);
		free(data);
		fclose(f);
		return -1;
	}
	fclose(f);
	LLVMFuzzerTestOneInput(data, (size_t)n);
	free(data);
	return 0;
}

static int cmp_names(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* every regular file in `dir`, in name order; returns the count or -1 */
static int run_dir(const char *dir)
{
	struct dirent **ents = NULL;
	int n, i, done = 0, bad = 0;

	n = scandir(dir, &ents, NULL, NULL);
	if (n < 0) {
		fprintf(stderr, "driver: cannot list '%s': %s\n", dir, strerror(errno));
		return -1;
	}
	qsort(ents, (size_t)n, sizeof(*ents), cmp_names);
	for (i = 0; i < n; i++) {
		char path[4096];
		struct stat st;

		snprintf(path, sizeof(path), "%s/%s", dir, ents[i]->d_name);
		if (ents[i]->d_name[0] != '.' && !stat(path, &st) && S_ISREG(st.st_mode)) {
			if (run_file(path))
				bad = 1;
			else
				done++;
		}
		free(ents[i]);
	}
	free(ents);
	return bad ? -1 : done;
}

int main(int argc, char **argv)
{
	int i, total = 0;

	if (argc < 2) {
		fprintf(stderr, "usage: %s FILE-OR-DIR...\n", argv[0]);
		return 2;
	}
	for (i = 1; i < argc; i++) {
		struct stat st;
		int n;

		if (stat(argv[i], &st)) {
			fprintf(stderr, "driver: cannot stat '%s': %s\n", argv[i], strerror(errno));
			return 1;
		}
		n = S_ISDIR(st.st_mode) ? run_dir(argv[i]) : run_file(argv[i]) ? -1 : 1;
		if (n < 0)
			return 1;
		total += n;
	}
	printf("%s: %d inputs ran clean\n", argv[0], total);
	return 0;
}
