/*
 * split: writes the train and test halves of a split as CSV, the same
 * split 'train' makes for the same seed, for other tools to train on.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/config.h"
#include "eval.h"
#include "rec.h"
#include "util/xalloc.h"

static int write_half(const char *dir, const char *file, const struct dataset *ds,
		      const uint8_t *marks, int want)
{
	char *path = xstrfmt("%s/%s", dir, file);
	FILE *f = fopen(path, "w");
	size_t n = 0;

	if (!f) {
		error("cannot write '%s': %s", path, strerror(errno));
		free(path);
		return -1;
	}
	for (size_t e = 0; e < ds->nratings; e++) {
		const struct rating *r = &ds->ratings[e];
		if (marks[e] != want)
			continue;
		fprintf(f, "%u,%u,%g\n", r->user, r->item, r->halves * 0.5);
		n++;
	}
	if (fclose(f)) {
		error("cannot write '%s': %s", path, strerror(errno));
		free(path);
		return -1;
	}
	fprintf(stderr, "%s: %zu ratings\n", path, n);
	free(path);
	return 0;
}

int cmd_split(int argc, char **argv)
{
	static const struct option longs[] = {
		{ "out", 1, NULL, 'o' }, { "split", 1, NULL, 's' }, { "seed", 1, NULL, 'S' },
		{ NULL, 0, NULL, 0 },
	};
	struct split_spec sp;
	struct buf err = BUF_INIT;
	struct dataset ds;
	const char *out = NULL, *split = "random:0.2";
	char *name = NULL;
	long seed = 42;
	uint8_t *marks;
	int c, ret = 1;

	while ((c = getopt_long(argc, argv, "", longs, NULL)) != -1) {
		if (c == 'o')
			out = optarg;
		else if (c == 's')
			split = optarg;
		else if (c == 'S') {
			if (rec_int("split", "--seed", optarg, 0, 0x7fffffffL, &seed))
				return 2;
		} else
			return rec_bad_usage("split", "unknown option");
	}
	if (optind + 1 != argc || !out)
		return rec_bad_usage("split", "split wants one dataset and --out DIR");
	if (split_parse(&sp, split, &err) || sp.kind == SPLIT_NONE) {
		rec_bad_usage("split", "%s", err.len ? err.s : "split none has nothing to hold out");
		buf_release(&err);
		return 2;
	}
	sp.seed = (uint64_t)seed;
	if (config_mkdirs(out) < 0) {
		error("cannot create '%s': %s", out, strerror(errno));
		return 1;
	}
	if (rec_read_dataset(argv[optind], DS_ABORT, &ds, &name))
		return 1;
	marks = xmalloc(ds.nratings ? ds.nratings : 1);
	split_mark(&ds, &sp, marks);
	if (!write_half(out, "train.csv", &ds, marks, 0) &&
	    !write_half(out, "test.csv", &ds, marks, 1))
		ret = 0;
	free(marks);
	dataset_release(&ds);
	free(name);
	return ret;
}
