/*
 * peak: this machine's single-precision matrix-multiply rate (OpenBLAS
 * sgemm on square matrices), the yardstick the benchmarks hold the
 * normal-equation phase against.
 */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include <cblas.h>

#include "rec.h"
#include "util/clock.h"
#include "util/jsonout.h"
#include "util/xalloc.h"

/* the best of `reps` runs of an n x n x n sgemm on `threads` BLAS threads */
static double sgemm_rate(int n, int threads, int reps)
{
	float *a = xmalloc(sizeof(float) * (size_t)n * n), *b = xmalloc(sizeof(float) * (size_t)n * n);
	float *c = xmalloc(sizeof(float) * (size_t)n * n);
	double best = 0;

	for (size_t i = 0; i < (size_t)n * n; i++) {
		a[i] = (float)((i * 2654435761u) % 1000) / 1000.0f;
		b[i] = (float)((i * 40503u) % 1000) / 1000.0f;
	}
	openblas_set_num_threads(threads);
	cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, n, n, n, 1, a, n, b, n, 0, c, n);
	for (int r = 0; r < reps; r++) {
		double t = clock_s();
		cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, n, n, n, 1, a, n, b, n, 0, c, n);
		t = clock_s() - t;
		double rate = 2.0 * n * n * (double)n / t * 1e-9;
		if (rate > best)
			best = rate;
	}
	free(a);
	free(b);
	free(c);
	return best;
}

int cmd_peak(int argc, char **argv)
{
	static const struct option longs[] = {
		{ "threads", 1, NULL, 't' }, { "size", 1, NULL, 's' }, { "json", 0, NULL, 'j' },
		{ NULL, 0, NULL, 0 },
	};
	long threads = sysconf(_SC_NPROCESSORS_ONLN), size = 3072;
	int json = 0, c;

	while ((c = getopt_long(argc, argv, "", longs, NULL)) != -1) {
		if (c == 't') {
			if (rec_int("peak", "--threads", optarg, 1, 256, &threads)) return 2;
		} else if (c == 's') {
			if (rec_int("peak", "--size", optarg, 64, 16384, &size)) return 2;
		} else if (c == 'j') {
			json = 1;
		} else {
			return rec_bad_usage("peak", "unknown option");
		}
	}
	if (optind != argc)
		return rec_bad_usage("peak", "peak takes no arguments");
	double one = sgemm_rate((int)size, 1, 3);
	double all = threads > 1 ? sgemm_rate((int)size, (int)threads, 3) : one;
	if (json) {
		json_t *j = json_pack("{s:i, s:f, s:i, s:f}", "size", (int)size, "gflops_1_thread", one,
				      "threads", (int)threads, "gflops", all);
		jsonout_print(j);
	} else {
		printf("sgemm %ldx%ld: %.1f GFLOP/s on 1 thread, %.1f GFLOP/s on %ld\n", size, size,
		       one, all, threads);
	}
	return 0;
}
