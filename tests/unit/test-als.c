/*
 * test-als: the ALS kernels against a naive double-precision reference on
 * small matrices, CG against Cholesky, recovery of a known low-rank
 * matrix, degenerate inputs (never NaN), determinism, top-k selection,
 * splits and the ranking metrics against hand-computed cases.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "als.h"
#include "eval.h"
#include "tap.h"
#include "model/topk.h"
#include "util/xalloc.h"

static uint64_t rng = 88172645463325252ULL;

static double urand(void)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return (rng >> 11) / 9007199254740992.0;
}

/* solves A x = b (n x n, row-major, doubles) by Gaussian elimination */
static void naive_solve(double *a, double *b, int n)
{
	for (int c = 0; c < n; c++) {
		int piv = c;
		for (int r = c + 1; r < n; r++)
			if (fabs(a[r * n + c]) > fabs(a[piv * n + c]))
				piv = r;
		for (int j = 0; j < n; j++) {
			double t = a[c * n + j]; a[c * n + j] = a[piv * n + j]; a[piv * n + j] = t;
		}
		double t = b[c]; b[c] = b[piv]; b[piv] = t;
		for (int r = c + 1; r < n; r++) {
			double f = a[r * n + c] / a[c * n + c];
			for (int j = c; j < n; j++)
				a[r * n + j] -= f * a[c * n + j];
			b[r] -= f * b[c];
		}
	}
	for (int c = n - 1; c >= 0; c--) {
		for (int j = c + 1; j < n; j++)
			b[c] -= a[c * n + j] * b[j];
		b[c] /= a[c * n + c];
	}
}

static double max_diff(const float *a, const double *b, int n)
{
	double m = 0;
	for (int i = 0; i < n; i++)
		if (fabs(a[i] - b[i]) > m)
			m = fabs(a[i] - b[i]);
	return m;
}

static int all_finite(const float *a, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (!isfinite(a[i]))
			return 0;
	return 1;
}

static void test_csr(void)
{
	struct triple t[] = { { 2, 1, 5 }, { 0, 3, 1 }, { 2, 0, 4 }, { 0, 1, 2 }, { 1, 2, 3 } };
	struct csr a, b;

	csr_build(&a, 4, 4, t, 5);
	is_int(csr_nnz(&a), 5, "csr: five entries");
	is_int(a.ptr[1] - a.ptr[0], 2, "csr: row 0 has two entries");
	ok(a.idx[0] == 1 && a.idx[1] == 3 && a.val[0] == 2 && a.val[1] == 1,
	   "csr: row 0 sorted by column with its values");
	ok(a.idx[3] == 0 && a.idx[4] == 1 && a.val[3] == 4, "csr: row 2 sorted by column");
	is_int(a.ptr[4] - a.ptr[3], 0, "csr: row 3 is empty");
	csr_transpose(&b, &a);
	is_int(b.nrows, 4, "transpose: rows are the columns");
	ok(b.ptr[2] - b.ptr[1] == 2 && b.idx[b.ptr[1]] == 0 && b.idx[b.ptr[1] + 1] == 2 &&
	   b.val[b.ptr[1] + 1] == 5, "transpose: column 1 holds rows 0 and 2 in order");
	csr_release(&a);
	csr_release(&b);
}

/* the exact explicit solve of one row, with and without biases */
static void test_explicit_row(void)
{
	enum { K = 5, NI = 12, N = 7 };
	float y[NI * K], yb[NI], out[K + 1], bias = 0;
	uint32_t cols[N] = { 0, 2, 3, 5, 7, 9, 11 };
	float vals[N] = { 4, 3.5f, 1, 5, 2, 4.5f, 3 };
	struct als_params p;
	float *scratch = xmalloc(sizeof(float) * als_scratch_floats(N, K));

	for (int i = 0; i < NI * K; i++)
		y[i] = (float)(urand() - 0.5);
	for (int i = 0; i < NI; i++)
		yb[i] = (float)(urand() - 0.5);
	als_params_default(&p);
	p.rank = K;
	p.lambda = 0.3f;
	for (int biased = 0; biased <= 1; biased++) {
		int d = K + biased;
		double a[(K + 1) * (K + 1)] = { 0 }, b[K + 1] = { 0 };
		float mean = 3.2f;
		p.biases = biased;
		for (int e = 0; e < N; e++) {
			double z[K + 1], t = vals[e];
			for (int i = 0; i < K; i++)
				z[i] = y[cols[e] * K + i];
			if (biased) {
				z[K] = 1;
				t -= mean + yb[cols[e]];
			}
			for (int i = 0; i < d; i++) {
				b[i] += z[i] * t;
				for (int j = 0; j < d; j++)
					a[i * d + j] += z[i] * z[j];
			}
		}
		for (int i = 0; i < d; i++)
			a[i * d + i] += p.lambda * N;
		naive_solve(a, b, d);
		int fixed = als_solve_row(&p, cols, vals, N, y, biased ? yb : NULL, mean, NULL,
					  out, &bias, scratch);
		is_int(fixed, 0, "explicit row (biases %d): no extra regularisation needed", biased);
		double diff = max_diff(out, b, K);
		if (biased && fabs(bias - b[K]) > diff)
			diff = fabs(bias - b[K]);
		ok(diff < 1e-4, "explicit row (biases %d) matches the naive solve (max diff %.2g)",
		   biased, diff);
	}
	free(scratch);
}

/* implicit: the normal equations over every item (c = 1 where unrated) */
static void test_implicit_row(void)
{
	enum { K = 6, NI = 40, N = 9 };
	float y[NI * K], gram[K * K], chol[K], cg[K];
	uint32_t cols[N] = { 1, 4, 5, 9, 17, 22, 30, 33, 39 };
	float vals[N] = { 1, 3, 2, 5, 1, 1, 4, 2, -1 };
	double a[K * K] = { 0 }, b[K] = { 0 };
	struct als_params p;
	float *scratch = xmalloc(sizeof(float) * als_scratch_floats(N, K));

	for (int i = 0; i < NI * K; i++)
		y[i] = (float)(urand() - 0.5);
	als_params_default(&p);
	p.rank = K;
	p.implicit = 1;
	p.alpha = 2.0f;
	p.lambda = 0.05f;
	int npos = 0;
	for (int it = 0; it < NI; it++) {
		double c = 1, pref = 0;
		for (int e = 0; e < N; e++)
			if (cols[e] == (uint32_t)it) {
				c = 1 + p.alpha * fabs(vals[e]);
				pref = vals[e] > 0;
				npos += vals[e] > 0;
			}
		for (int i = 0; i < K; i++) {
			b[i] += c * pref * y[it * K + i];
			for (int j = 0; j < K; j++)
				a[i * K + j] += c * y[it * K + i] * y[it * K + j];
		}
	}
	for (int i = 0; i < K; i++)
		a[i * K + i] += p.lambda * npos;
	naive_solve(a, b, K);

	als_gram(y, NI, K, gram);
	p.solver = ALS_CHOLESKY;
	als_solve_row(&p, cols, vals, N, y, NULL, 0, gram, chol, NULL, scratch);
	ok(max_diff(chol, b, K) < 1e-4, "implicit row, Cholesky: matches the naive solve "
	   "over all items (max diff %.2g)", max_diff(chol, b, K));
	/* CG from zero with as many steps as dimensions is exact in exact arithmetic */
	p.solver = ALS_CG;
	p.cg_steps = 2 * K;
	memset(cg, 0, sizeof(cg));
	als_solve_row(&p, cols, vals, N, y, NULL, 0, gram, cg, NULL, scratch);
	ok(max_diff(cg, b, K) < 1e-3, "implicit row, CG: agrees with Cholesky (max diff %.2g)",
	   max_diff(cg, b, K));
	/* three warm-started steps from a nearby point get closer than they started */
	double start = 0, end;
	for (int i = 0; i < K; i++) {
		cg[i] = (float)(b[i] + 0.05 * (urand() - 0.5));
		start = fmax(start, fabs(cg[i] - b[i]));
	}
	p.cg_steps = 3;
	als_solve_row(&p, cols, vals, N, y, NULL, 0, gram, cg, NULL, scratch);
	end = max_diff(cg, b, K);
	ok(end < start, "implicit row, CG warm start: 3 steps reduce the error (%.2g -> %.2g)",
	   start, end);
	free(scratch);
}

/* a rank-3 matrix observed at 40% is recovered from its observations */
static void test_low_rank(void)
{
	enum { NU = 120, NI = 80, R = 3 };
	float xu[NU * R], yi[NI * R];
	struct triple *t = xmalloc(sizeof(*t) * NU * NI), *h = xmalloc(sizeof(*t) * NU * NI);
	size_t n = 0, nh = 0;
	struct csr u, ut;
	struct model m;
	struct als_params p;
	struct buf err = BUF_INIT;

	for (int i = 0; i < NU * R; i++)
		xu[i] = (float)(urand() * 1.2);
	for (int i = 0; i < NI * R; i++)
		yi[i] = (float)(urand() * 1.2);
	for (int a = 0; a < NU; a++)
		for (int b = 0; b < NI; b++) {
			float v = 0;
			for (int r = 0; r < R; r++)
				v += xu[a * R + r] * yi[b * R + r];
			if (urand() < 0.4)
				t[n++] = (struct triple){ a, b, v };
			else
				h[nh++] = (struct triple){ a, b, v };
		}
	csr_build(&u, NU, NI, t, n);
	csr_transpose(&ut, &u);
	als_params_default(&p);
	p.rank = R;
	p.lambda = 1e-4f;
	p.iters = 40;
	p.threads = 2;
	model_alloc(&m, R, NU, NI, 0);
	ok(als_train(&m, &u, &ut, &p, NULL, NULL, &err) == 0, "low rank: trains (%s)", err.s);
	double sq = 0, loss, rmse;
	for (size_t e = 0; e < nh; e++) {
		float s = 0;
		for (int r = 0; r < R; r++)
			s += m.user_factors[h[e].row * R + r] * m.item_factors[h[e].col * R + r];
		sq += (s - h[e].val) * (s - h[e].val);
	}
	als_loss(&m, &u, &p, &loss, &rmse);
	ok(rmse < 0.01, "low rank: training RMSE %.5f < 0.01", rmse);
	ok(sqrt(sq / nh) < 0.05, "low rank: held-out RMSE %.5f < 0.05 (ratings span 0..4.3)",
	   sqrt(sq / nh));

	/* determinism: the same seed gives the same bits on 1 and 2 threads */
	struct model m1;
	model_alloc(&m1, R, NU, NI, 0);
	p.threads = 1;
	als_train(&m1, &u, &ut, &p, NULL, NULL, &err);
	ok(!memcmp(m.user_factors, m1.user_factors, sizeof(float) * NU * R) &&
	   !memcmp(m.item_factors, m1.item_factors, sizeof(float) * NI * R),
	   "deterministic: identical factors on 1 and 2 threads");
	p.seed = 7;
	als_train(&m1, &u, &ut, &p, NULL, NULL, &err);
	ok(memcmp(m.user_factors, m1.user_factors, sizeof(float) * NU * R),
	   "another seed starts elsewhere (different factors)");

	/* the loss never rises from one iteration to the next */
	struct model m2;
	double prev = INFINITY;
	int rising = 0;
	model_alloc(&m2, R, NU, NI, 0);
	p.lambda = 0.1f;
	for (int it = 1; it <= 6; it++) {
		p.iters = it;
		als_train(&m2, &u, &ut, &p, NULL, NULL, &err);
		als_loss(&m2, &u, &p, &loss, &rmse);
		rising += loss > prev * (1 + 1e-5);
		prev = loss;
	}
	is_int(rising, 0, "explicit loss is non-increasing over iterations 1..6");
	model_release(&m2);
	model_release(&m1);
	model_release(&m);
	csr_release(&u);
	csr_release(&ut);
	free(t);
	free(h);
	buf_release(&err);
}

static void train_small(const char *what, struct triple *t, size_t n, uint32_t nu, uint32_t ni,
			int implicit, int biases, float lambda, enum als_solver solver)
{
	struct csr u, ut;
	struct model m;
	struct als_params p;
	struct buf err = BUF_INIT;

	csr_build(&u, nu, ni, t, n);
	csr_transpose(&ut, &u);
	als_params_default(&p);
	p.rank = 4;
	p.lambda = lambda;
	p.implicit = implicit;
	p.biases = biases;
	p.solver = solver;
	p.iters = 5;
	model_alloc(&m, 4, nu, ni, biases ? MODEL_BIASES : 0);
	int r = als_train(&m, &u, &ut, &p, NULL, NULL, &err);
	ok(r == 0 && all_finite(m.user_factors, (size_t)nu * 4) &&
	   all_finite(m.item_factors, (size_t)ni * 4) &&
	   (!biases || (all_finite(m.user_bias, nu) && all_finite(m.item_bias, ni) &&
			isfinite(m.mean))),
	   "degenerate: %s trains to finite factors", what);
	model_release(&m);
	csr_release(&u);
	csr_release(&ut);
	buf_release(&err);
}

static void test_degenerate(void)
{
	struct triple one[] = { { 0, 0, 4 } };
	struct triple constant[] = { { 0, 0, 3 }, { 0, 1, 3 }, { 1, 0, 3 }, { 1, 1, 3 },
				     { 2, 1, 3 } };
	struct triple gaps[] = { { 0, 0, 5 }, { 3, 2, 1 }, { 3, 5, 2 } }; /* empty rows, cols */
	struct triple neg[] = { { 0, 0, -2 }, { 0, 1, -1 }, { 1, 1, 4 } };

	train_small("one rating", one, 1, 1, 1, 0, 0, 0.1f, ALS_CHOLESKY);
	train_small("one rating with biases", one, 1, 1, 1, 0, 1, 0.1f, ALS_CHOLESKY);
	train_small("constant ratings", constant, 5, 3, 2, 0, 1, 0.1f, ALS_CHOLESKY);
	train_small("constant ratings, lambda 0", constant, 5, 3, 2, 0, 0, 0, ALS_CHOLESKY);
	train_small("users and items with no ratings", gaps, 3, 6, 7, 0, 1, 0.1f, ALS_CHOLESKY);
	train_small("implicit, lambda 0", constant, 5, 3, 2, 1, 0, 0, ALS_CHOLESKY);
	train_small("implicit CG, empty rows", gaps, 3, 6, 7, 1, 0, 0.1f, ALS_CG);
	train_small("implicit, only negative ratings for a user", neg, 3, 2, 2, 1, 0, 0.1f,
		    ALS_CHOLESKY);

	struct csr u, ut;
	struct model m;
	struct als_params p;
	struct buf err = BUF_INIT;
	csr_build(&u, 2, 2, NULL, 0);
	csr_transpose(&ut, &u);
	als_params_default(&p);
	model_alloc(&m, 10, 2, 2, 0);
	ok(als_train(&m, &u, &ut, &p, NULL, NULL, &err) < 0 && strstr(err.s, "empty"),
	   "an empty training set is refused: %s", err.s);
	buf_reset(&err);
	p.rank = 0;
	ok(als_train(&m, &u, &ut, &p, NULL, NULL, &err) < 0 && strstr(err.s, "rank"),
	   "rank 0 is refused: %s", err.s);
	model_release(&m);
	csr_release(&u);
	csr_release(&ut);
	buf_release(&err);
}

static void test_topk(void)
{
	float s[] = { 0.5f, 2.0f, -1.0f, 2.0f, 7.0f, 0.0f, NAN, 3.0f };
	uint8_t mask[8] = { 0 };
	uint32_t ids[8];
	float best[8];

	int n = topk_select(s, 8, NULL, 4, ids, best);
	ok(n == 4 && ids[0] == 4 && ids[1] == 7 && ids[2] == 1 && ids[3] == 3,
	   "topk: best first, ties to the lower index, NaN skipped (%u %u %u %u)",
	   ids[0], ids[1], ids[2], ids[3]);
	mask[4] = mask[1] = 1;
	n = topk_select(s, 8, mask, 3, ids, best);
	ok(n == 3 && ids[0] == 7 && ids[1] == 3 && ids[2] == 0, "topk: masked targets left out");
	n = topk_select(s, 8, NULL, 20, ids, best);
	is_int(n, 7, "topk: k larger than the row gives every non-NaN target");
	ok(best[6] == -1.0f, "topk: the worst comes last");
}

static void test_metrics(void)
{
	struct rank_metrics m;
	uint32_t ranked[] = { 5, 3, 9, 1 };
	uint32_t rel[] = { 1, 3 };

	rank_metrics(ranked, 4, rel, 2, 3, &m);
	ok(fabs(m.precision - 1.0 / 3) < 1e-12, "precision@3 = 1/3 (%.6f)", m.precision);
	ok(fabs(m.recall - 0.5) < 1e-12, "recall@3 = 1/2 (%.6f)", m.recall);
	double ndcg = (1 / log2(3)) / (1 + 1 / log2(3));
	ok(fabs(m.ndcg - ndcg) < 1e-12, "ndcg@3 = 0.3869 (%.6f)", m.ndcg);
	ok(fabs(m.ap - 0.25) < 1e-12, "map@3 = (1/2)/2 = 0.25 (%.6f)", m.ap);
	rank_metrics(ranked, 4, rel, 2, 4, &m);
	ok(fabs(m.ap - (0.5 + 0.5) / 2) < 1e-12, "map@4 = (1/2 + 2/4)/2 = 0.5 (%.6f)", m.ap);
	ok(fabs(m.recall - 1) < 1e-12, "recall@4 = 1");
	uint32_t perfect[] = { 1, 3, 7 };
	rank_metrics(perfect, 3, rel, 2, 2, &m);
	ok(m.precision == 1 && m.recall == 1 && fabs(m.ndcg - 1) < 1e-12 && fabs(m.ap - 1) < 1e-12,
	   "a perfect ranking scores 1 on every metric");
	rank_metrics(ranked, 4, rel, 0, 3, &m);
	ok(m.precision == 0 && m.ndcg == 0, "no relevant items: zeros, not NaN");
}

static void test_split(void)
{
	struct dataset ds;
	struct split_spec sp;
	struct buf err = BUF_INIT;
	enum { N = 20000 };
	uint8_t *marks = xmalloc(N);

	dataset_init(&ds);
	ds.ratings = xcalloc(N, sizeof(struct rating));
	ds.nratings = N;
	for (size_t e = 0; e < N; e++) {
		ds.ratings[e].user = (uint32_t)(e / 10);
		ds.ratings[e].item = (uint32_t)(e % 10 + (e / 10) % 7);
		ds.ratings[e].ts = (uint32_t)(1000 + (e * 7919) % 10);
		ds.ratings[e].halves = 8;
	}
	ds.max_user = N / 10;
	ds.max_item = 20;
	ok(split_parse(&sp, "random:0.25", &err) == 0 && sp.kind == SPLIT_RANDOM &&
	   sp.frac == 0.25, "split: random:0.25 parses");
	ok(split_parse(&sp, "random:1.5", &err) < 0 && strstr(err.s, "between 0 and 1"),
	   "split: a share of 1.5 is refused: %s", err.s);
	buf_reset(&err);
	ok(split_parse(&sp, "halves", &err) < 0 && strstr(err.s, "random:F"),
	   "split: an unknown kind names the known ones");
	split_parse(&sp, "random:0.25", &err);
	split_mark(&ds, &sp, marks);
	size_t held = 0;
	for (size_t e = 0; e < N; e++)
		held += marks[e];
	ok(held > N * 0.23 && held < N * 0.27, "split: random holds out about 25%% (%zu)", held);
	/* the same pairs in another order are split the same way */
	uint8_t first = marks[123];
	struct rating tmp = ds.ratings[0];
	ds.ratings[0] = ds.ratings[123];
	ds.ratings[123] = tmp;
	split_mark(&ds, &sp, marks);
	ok(marks[0] == first, "split: random depends on the pair, not its position");
	split_parse(&sp, "time:0.2", &err);
	split_mark(&ds, &sp, marks);
	int latest = 1;
	for (uint32_t u = 0; u < N / 10 && latest; u++) {
		uint32_t maxtrain = 0, mintest = UINT32_MAX;
		int held_u = 0;
		for (size_t e = u * 10; e < u * 10 + 10; e++)
			if (marks[e]) {
				held_u++;
				mintest = ds.ratings[e].ts < mintest ? ds.ratings[e].ts : mintest;
			} else if (ds.ratings[e].ts > maxtrain)
				maxtrain = ds.ratings[e].ts;
		latest = held_u == 2 && mintest >= maxtrain;
	}
	ok(latest, "split: time holds out each user's latest 20%% (2 of 10)");
	free(marks);
	dataset_release(&ds);
	buf_release(&err);
}

int main(void)
{
	test_csr();
	test_explicit_row();
	test_implicit_row();
	test_low_rank();
	test_degenerate();
	test_topk();
	test_metrics();
	test_split();
	return tap_done();
}
