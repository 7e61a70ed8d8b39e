/*
 * als: the training loop and the per-row solves. Each half-iteration
 * solves every row of one side against the other side's fixed factors;
 * rows are independent, so workers take chunks of rows and BLAS runs
 * single-threaded inside each (one thread per core, never more).
 */
#include <math.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <cblas.h>

#include "als.h"
#include "model/topk.h"
#include "util/rand.h"
#include "util/xalloc.h"
#include "util/clock.h"

/* LAPACK from OpenBLAS (Fortran calling convention) */
extern void spotrf_(const char *uplo, const int *n, float *a, const int *lda, int *info);
extern void spotrs_(const char *uplo, const int *n, const int *nrhs, const float *a,
		    const int *lda, float *b, const int *ldb, int *info);

#define CHUNK 32

/* ---- parameters ---- */

void als_params_default(struct als_params *p)
{
	long n = sysconf(_SC_NPROCESSORS_ONLN);

	memset(p, 0, sizeof(*p));
	p->rank = 10;
	p->lambda = 0.1f;
	p->iters = 10;
	p->alpha = 1.0f;
	p->solver = ALS_CHOLESKY;
	p->cg_steps = 3;
	p->threads = n > 0 ? (int)n : 1;
	p->seed = 42;
}

const char *als_params_check(const struct als_params *p)
{
	if (p->rank < 1 || p->rank > 1024)
		return "rank must be between 1 and 1024";
	if (!(p->lambda >= 0) || !isfinite(p->lambda))
		return "lambda must be a finite number >= 0";
	if (p->iters < 1 || p->iters > 10000)
		return "iterations must be between 1 and 10000";
	if (p->implicit && (!(p->alpha > 0) || !isfinite(p->alpha)))
		return "alpha must be a finite number > 0";
	if (p->implicit && p->biases)
		return "biases are for explicit ratings only";
	if (p->cg_steps < 1 || p->cg_steps > 100)
		return "cg steps must be between 1 and 100";
	if (p->threads < 1 || p->threads > 256)
		return "threads must be between 1 and 256";
	return "";
}

/* ---- one row ---- */

size_t als_scratch_floats(uint32_t n, int rank)
{
	size_t d = (size_t)rank + 1;
	/* Z (n x d), targets or weights (n), A and its copy (2 d x d), b, CG (4 d) */
	return (size_t)n * d + n + 2 * d * d + 6 * d + 16;
}

void als_gram(const float *fixed, uint32_t n, int rank, float *g)
{
	cblas_ssyrk(CblasRowMajor, CblasUpper, CblasTrans, rank, (int)n, 1.0f, fixed, rank,
		    0.0f, g, rank);
	for (int i = 0; i < rank; i++)
		for (int j = 0; j < i; j++)
			g[i * rank + j] = g[j * rank + i];
}

/*
 * Solves A x = b for symmetric positive definite A (d x d, the upper
 * triangle in row-major order, which LAPACK sees as the lower one).
 * `a` is overwritten; `save` keeps a copy so a failed factorisation can
 * be retried with a larger diagonal (rank-deficient rows with lambda 0).
 */
static int chol_solve(float *a, float *save, float *b, float *bsave, int d)
{
	int info, one = 1, fixed = 0;
	double trace = 0;

	memcpy(save, a, sizeof(float) * d * d);
	memcpy(bsave, b, sizeof(float) * d);
	for (int i = 0; i < d; i++)
		trace += a[i * d + i];
	for (int attempt = 0; attempt < 4; attempt++) {
		spotrf_("L", &d, a, &d, &info);
		if (info == 0) {
			spotrs_("L", &d, &one, a, &d, b, &d, &info);
			int finite = 1;
			for (int i = 0; i < d && finite; i++)
				finite = isfinite(b[i]);
			if (info == 0 && finite)
				return fixed;
		}
		/* not positive definite (or overflowed): lift the diagonal */
		float eps = (float)((trace / d + 1.0) * pow(10.0, -6 + 2 * attempt));
		memcpy(a, save, sizeof(float) * d * d);
		memcpy(b, bsave, sizeof(float) * d);
		for (int i = 0; i < d; i++)
			a[i * d + i] += eps;
		fixed = 1;
	}
	memset(b, 0, sizeof(float) * d);
	return 1;
}

static float dot(const float *a, const float *b, int n)
{
	float s = 0;
	for (int i = 0; i < n; i++)
		s += a[i] * b[i];
	return s;
}

/* A p for implicit rows: G p + Z^T (Z p) + reg p, without forming A */
static void implicit_apply(const float *gram, const float *z, uint32_t n, int k, float reg,
			   const float *p, float *q, float *tmp)
{
	cblas_ssymv(CblasRowMajor, CblasUpper, k, 1.0f, gram, k, p, 1, 0.0f, q, 1);
	if (n) {
		cblas_sgemv(CblasRowMajor, CblasNoTrans, (int)n, k, 1.0f, z, k, p, 1, 0.0f, tmp, 1);
		cblas_sgemv(CblasRowMajor, CblasTrans, (int)n, k, 1.0f, z, k, tmp, 1, 1.0f, q, 1);
	}
	for (int i = 0; i < k; i++)
		q[i] += reg * p[i];
}

/*
 * Conjugate gradient on the implicit normal equations, warm-started from
 * x (the row's factors from the previous iteration): a few steps get
 * close to the exact solve at a fraction of its cost (Takacs et al.).
 */
static void implicit_cg(const float *gram, const float *z, uint32_t n, int k, float reg,
			const float *b, float *x, int steps, float *w, float *tmp)
{
	/* w holds 3 k floats, tmp n (Z p) */
	float *r = w, *p = w + k, *ap = w + 2 * k;

	implicit_apply(gram, z, n, k, reg, x, ap, tmp);
	for (int i = 0; i < k; i++)
		p[i] = r[i] = b[i] - ap[i];
	float rs = dot(r, r, k);
	for (int s = 0; s < steps && rs > 1e-20f; s++) {
		implicit_apply(gram, z, n, k, reg, p, ap, tmp);
		float pap = dot(p, ap, k);
		if (!(pap > 0))
			break;
		float a = rs / pap;
		for (int i = 0; i < k; i++) {
			x[i] += a * p[i];
			r[i] -= a * ap[i];
		}
		float rs2 = dot(r, r, k);
		for (int i = 0; i < k; i++)
			p[i] = r[i] + rs2 / rs * p[i];
		rs = rs2;
	}
}

/* per-thread timing of the normal-equation phase */
struct ne_clock {
	double seconds, flops, blas;
};

static int solve_row(const struct als_params *p, const uint32_t *cols, const float *vals,
		     uint32_t n, const float *fixed, const float *fixed_bias, float mean,
		     const float *gram, float *out, float *out_bias, float *scratch,
		     struct ne_clock *clk)
{
	int k = p->rank, d = k + (p->biases ? 1 : 0);
	float *z = scratch, *t = z + (size_t)n * (k + 1), *a = t + n;
	float *save = a + (size_t)d * d, *b = save + (size_t)d * d, *bsave = b + d;
	float *cgw = bsave + d;
	double t0 = clk ? clock_s() : 0;
	int fixed_flag;

	if (n == 0) {
		memset(out, 0, sizeof(float) * k);
		if (out_bias)
			*out_bias = 0;
		return 0;
	}
	if (!p->implicit) {
		for (uint32_t e = 0; e < n; e++) {
			float *zr = z + (size_t)e * d;
				memcpy(zr, fixed + (size_t)cols[e] * k, sizeof(float) * k);
			if (p->biases) {
				zr[k] = 1.0f;
				t[e] = vals[e] - mean - fixed_bias[cols[e]];
			} else {
				t[e] = vals[e];
			}
		}
		double t1 = clk ? clock_s() : 0;
		cblas_ssyrk(CblasRowMajor, CblasUpper, CblasTrans, d, (int)n, 1.0f, z, d,
			    0.0f, a, d);
		cblas_sgemv(CblasRowMajor, CblasTrans, (int)n, d, 1.0f, z, d, t, 1, 0.0f, b, 1);
		if (clk)
			clk->blas += clock_s() - t1;
		float reg = p->lambda * (float)n;
		for (int i = 0; i < d; i++)
			a[i * d + i] += reg;
		if (clk) {
			clk->seconds += clock_s() - t0;
			clk->flops += (double)n * d * (d + 1) + 2.0 * n * d;
		}
		fixed_flag = chol_solve(a, save, b, bsave, d);
		memcpy(out, b, sizeof(float) * k);
		if (out_bias)
			*out_bias = p->biases ? b[k] : 0;
		return fixed_flag;
	}

	/* implicit: c = 1 + alpha |r|, preference 1 when r > 0 */
	/*
	 * Z's rows are sqrt(c - 1) y, so Z^T Z is the confidence-weighted part
	 * of A, and b = sum (1 + c1) y = Z^T w with w = (1 + c1) / sqrt(c1)
	 * where r > 0: one gemv on Z (in cache) instead of a second pass over
	 * the scattered rows of y.
	 */
	uint32_t npos = 0;
	for (uint32_t e = 0; e < n; e++) {
		const float *y = fixed + (size_t)cols[e] * k;
		float c1 = p->alpha * fabsf(vals[e]), s = sqrtf(c1);
		float *zr = z + (size_t)e * k;
		for (int i = 0; i < k; i++)
			zr[i] = s * y[i];
		t[e] = vals[e] > 0 && s > 0 ? (1.0f + c1) / s : 0.0f;
		npos += vals[e] > 0;
	}
	cblas_sgemv(CblasRowMajor, CblasTrans, (int)n, k, 1.0f, z, k, t, 1, 0.0f, b, 1);
	float reg = p->lambda * (float)(npos ? npos : 1);
	if (p->solver == ALS_CG) {
		if (clk) {
			clk->seconds += clock_s() - t0;
			clk->flops += 2.0 * n * k;
		}
		implicit_cg(gram, z, n, k, reg, b, out, p->cg_steps, cgw, t);
		for (int i = 0; i < k; i++)
			if (!isfinite(out[i])) {
				memset(out, 0, sizeof(float) * k);
				return 1;
			}
		return 0;
	}
	memcpy(a, gram, sizeof(float) * k * k);
	double t1 = clk ? clock_s() : 0;
	cblas_ssyrk(CblasRowMajor, CblasUpper, CblasTrans, k, (int)n, 1.0f, z, k, 1.0f, a, k);
	if (clk)
		clk->blas += clock_s() - t1;
	for (int i = 0; i < k; i++)
		a[i * k + i] += reg;
	if (clk) {
		clk->seconds += clock_s() - t0;
		clk->flops += (double)n * k * (k + 1) + 2.0 * n * k;
	}
	fixed_flag = chol_solve(a, save, b, bsave, k);
	memcpy(out, b, sizeof(float) * k);
	return fixed_flag;
}

int als_solve_row(const struct als_params *p, const uint32_t *cols, const float *vals,
		  uint32_t n, const float *fixed, const float *fixed_bias, float mean,
		  const float *gram, float *out, float *out_bias, float *scratch)
{
	return solve_row(p, cols, vals, n, fixed, fixed_bias, mean, gram, out, out_bias,
			 scratch, NULL);
}

/* ---- a half-iteration over all rows of one side ---- */

struct half {
	const struct als_params *p;
	const struct csr *rows;
	const float *fixed, *fixed_bias, *gram;
	float *out, *out_bias;
	float mean;
	uint32_t next;			/* next row to take (atomic) */
	uint32_t max_row;
	uint64_t fixed_rows;		/* atomic */
	double ne_seconds, ne_flops, ne_blas;	/* summed under `lock` */
	pthread_mutex_t lock;
};

static void *half_worker(void *arg)
{
	struct half *h = arg;
	int k = h->p->rank;

	topk_flush_denormals();
	float *scratch = xmalloc(als_scratch_floats(h->max_row, k) * sizeof(float));
	struct ne_clock clk = { 0, 0, 0 };
	uint64_t fixed = 0;

	for (;;) {
		uint32_t r0 = __atomic_fetch_add(&h->next, CHUNK, __ATOMIC_RELAXED);
		if (r0 >= h->rows->nrows)
			break;
		uint32_t r1 = r0 + CHUNK < h->rows->nrows ? r0 + CHUNK : h->rows->nrows;
		for (uint32_t r = r0; r < r1; r++) {
			uint64_t a = h->rows->ptr[r];
			uint32_t n = (uint32_t)(h->rows->ptr[r + 1] - a);
			fixed += solve_row(h->p, h->rows->idx + a, h->rows->val + a, n,
					   h->fixed, h->fixed_bias, h->mean, h->gram,
					   h->out + (size_t)r * k,
					   h->out_bias ? h->out_bias + r : NULL, scratch, &clk);
		}
	}
	pthread_mutex_lock(&h->lock);
	h->ne_seconds += clk.seconds;
	h->ne_flops += clk.flops;
	h->ne_blas += clk.blas;
	h->fixed_rows += fixed;
	pthread_mutex_unlock(&h->lock);
	free(scratch);
	return NULL;
}

static void run_workers(int threads, void *(*fn)(void *), void *arg)
{
	pthread_t *tid = xmalloc(sizeof(pthread_t) * (size_t)threads);
	int started = 0;

	for (int i = 1; i < threads; i++)
		if (pthread_create(&tid[i], NULL, fn, arg) == 0)
			started = i;
		else
			break;
	fn(arg);
	for (int i = 1; i <= started; i++)
		pthread_join(tid[i], NULL);
	free(tid);
}

static uint32_t max_row(const struct csr *m)
{
	uint64_t best = 0;
	for (uint32_t r = 0; r < m->nrows; r++)
		if (m->ptr[r + 1] - m->ptr[r] > best)
			best = m->ptr[r + 1] - m->ptr[r];
	return (uint32_t)best;
}

static void half_step(const struct als_params *p, const struct csr *rows, const float *fixed,
		      uint32_t nfixed, const float *fixed_bias, float mean, float *out,
		      float *out_bias, uint32_t maxr, float *gram, struct als_iter *it)
{
	struct half h = {
		.p = p, .rows = rows, .fixed = fixed, .fixed_bias = fixed_bias,
		.out = out, .out_bias = out_bias, .mean = mean, .max_row = maxr,
	};
	int k = p->rank;

	if (p->implicit) {
		double t0 = clock_s();
		als_gram(fixed, nfixed, k, gram);
		it->ne_seconds += clock_s() - t0;
		it->ne_blas_seconds += clock_s() - t0;
		it->ne_flops += (double)nfixed * k * (k + 1);
		h.gram = gram;
	}
	pthread_mutex_init(&h.lock, NULL);
	run_workers(p->threads, half_worker, &h);
	pthread_mutex_destroy(&h.lock);
	it->ne_seconds += h.ne_seconds / p->threads;
	it->ne_blas_seconds += h.ne_blas / p->threads;
	it->ne_flops += h.ne_flops;
	it->fixed += h.fixed_rows;
}

/* ---- the objective ---- */

struct loss_job {
	const struct model *m;
	const struct csr *by_user;
	const struct als_params *p;
	const float *gram;		/* implicit: Y^T Y */
	uint32_t next;
	double loss, sq;
	pthread_mutex_t lock;
};

static void *loss_worker(void *arg)
{
	struct loss_job *j = arg;
	const struct model *m = j->m;

	topk_flush_denormals();
	const struct csr *u = j->by_user;
	int k = (int)m->rank, bias = (m->flags & MODEL_BIASES) != 0;
	double loss = 0, sq = 0;

	for (;;) {
		uint32_t r0 = __atomic_fetch_add(&j->next, 256, __ATOMIC_RELAXED);
		if (r0 >= u->nrows)
			break;
		uint32_t r1 = r0 + 256 < u->nrows ? r0 + 256 : u->nrows;
		for (uint32_t r = r0; r < r1; r++) {
			const float *x = m->user_factors + (size_t)r * k;
			uint32_t n = (uint32_t)(u->ptr[r + 1] - u->ptr[r]), npos = 0;
			for (uint64_t e = u->ptr[r]; e < u->ptr[r + 1]; e++) {
				uint32_t i = u->idx[e];
				float v = u->val[e];
				double s = dot(x, m->item_factors + (size_t)i * k, k);
				if (j->p->implicit) {
					double c = 1.0 + j->p->alpha * fabs(v), pr = v > 0;
					loss += c * (pr - s) * (pr - s) - s * s;
					npos += v > 0;
				} else {
					if (bias)
						s += m->mean + m->user_bias[r] + m->item_bias[i];
					sq += (v - s) * (v - s);
					loss += (v - s) * (v - s);
				}
			}
			if (j->p->implicit) {
				/* every (u, i) pair with c = 1 and p = 0: x^T G x */
				double g = 0;
				for (int a = 0; a < k; a++)
					g += x[a] * dot(j->gram + (size_t)a * k, x, k);
				loss += g + j->p->lambda * npos * dot(x, x, k);
			} else {
				double b2 = bias ? (double)m->user_bias[r] * m->user_bias[r] : 0;
				loss += j->p->lambda * n * (dot(x, x, k) + b2);
			}
		}
	}
	pthread_mutex_lock(&j->lock);
	j->loss += loss;
	j->sq += sq;
	pthread_mutex_unlock(&j->lock);
	return NULL;
}

void als_loss(const struct model *m, const struct csr *by_user, const struct als_params *p,
	      double *loss, double *rmse)
{
	struct loss_job j = { .m = m, .by_user = by_user, .p = p };
	int k = (int)m->rank, bias = (m->flags & MODEL_BIASES) != 0;
	uint64_t nnz = csr_nnz(by_user);
	float *gram = NULL;
	double items = 0;

	if (p->implicit) {
		gram = xmalloc(sizeof(float) * k * k);
		als_gram(m->item_factors, m->nitems, k, gram);
		j.gram = gram;
	}
	pthread_mutex_init(&j.lock, NULL);
	run_workers(p->threads, loss_worker, &j);
	pthread_mutex_destroy(&j.lock);

	/* the items' half of the regulariser: count each item's ratings */
	uint32_t *cnt = xcalloc(m->nitems ? m->nitems : 1, sizeof(uint32_t));
	for (uint64_t e = 0; e < nnz; e++)
		if (!p->implicit || by_user->val[e] > 0)
			cnt[by_user->idx[e]]++;
	for (uint32_t i = 0; i < m->nitems; i++) {
		const float *y = m->item_factors + (size_t)i * k;
		double b2 = bias ? (double)m->item_bias[i] * m->item_bias[i] : 0;
		items += (double)cnt[i] * (dot(y, y, k) + b2);
	}
	free(cnt);
	free(gram);
	j.loss += p->lambda * items;
	*loss = nnz ? j.loss / nnz : 0;
	*rmse = nnz && !p->implicit ? sqrt(j.sq / nnz) : 0;
}

/* ---- training ---- */

static double gauss(uint64_t *s)
{
	double u1 = ((splitmix64(s) >> 11) + 1.0) / 9007199254740993.0;
	double u2 = (splitmix64(s) >> 11) / 9007199254740992.0;
	return sqrt(-2.0 * log(u1)) * cos(2 * M_PI * u2);
}

/* Gaussian rows scaled to unit length, as Spark starts its factors */
static void init_factors(float *f, uint32_t n, int k, uint64_t seed)
{
	uint64_t s = seed;
	for (uint32_t r = 0; r < n; r++) {
		float *x = f + (size_t)r * k;
		double norm = 0;
		for (int i = 0; i < k; i++) {
			x[i] = (float)gauss(&s);
			norm += (double)x[i] * x[i];
		}
		norm = sqrt(norm);
		for (int i = 0; i < k; i++)
			x[i] = norm > 0 ? (float)(x[i] / norm) : 0;
	}
}

int als_train(struct model *m, const struct csr *by_user, const struct csr *by_item,
	      const struct als_params *p, als_iter_fn fn, void *ctx, struct buf *err)
{
	const char *bad = als_params_check(p);
	int k = p->rank;

	if (*bad) {
		buf_addf(err, "cannot train: %s", bad);
		return -1;
	}
	if ((int)m->rank != k || by_user->nrows != m->nusers || by_user->ncols != m->nitems ||
	    by_item->nrows != m->nitems || !!(m->flags & MODEL_BIASES) != !!p->biases) {
		buf_addf(err, "cannot train: the model's shape does not match the ratings");
		return -1;
	}
	if (csr_nnz(by_user) == 0) {
		buf_addf(err, "cannot train: the training set is empty");
		return -1;
	}

	openblas_set_num_threads(1);
	m->lambda = p->lambda;
	m->alpha = p->implicit ? p->alpha : 0;
	m->iters = 0;
	m->seed = p->seed;
	m->flags = (p->implicit ? MODEL_IMPLICIT : 0) | (p->biases ? MODEL_BIASES : 0);
	snprintf(m->solver, sizeof(m->solver), "%s",
		 p->implicit && p->solver == ALS_CG ? "cg" : "cholesky");
	init_factors(m->user_factors, m->nusers, k, p->seed);
	init_factors(m->item_factors, m->nitems, k, p->seed ^ 0x5bd1e995ULL);
	m->mean = 0;
	if (p->biases) {
		double sum = 0;
		for (uint64_t e = 0; e < csr_nnz(by_user); e++)
			sum += by_user->val[e];
		m->mean = (float)(sum / csr_nnz(by_user));
		memset(m->user_bias, 0, sizeof(float) * m->nusers);
		memset(m->item_bias, 0, sizeof(float) * m->nitems);
	}

	uint32_t mu = max_row(by_user), mi = max_row(by_item);
	float *gram = xmalloc(sizeof(float) * k * k);
	int ret = 0;

	for (int iter = 1; iter <= p->iters; iter++) {
		struct als_iter it = { .iter = iter };
		double t0 = clock_s();

		half_step(p, by_user, m->item_factors, m->nitems, m->item_bias, m->mean,
			  m->user_factors, m->user_bias, mu, gram, &it);
		half_step(p, by_item, m->user_factors, m->nusers, m->user_bias, m->mean,
			  m->item_factors, m->item_bias, mi, gram, &it);
		it.seconds = clock_s() - t0;
		m->iters = iter;
		if (fn) {
			als_loss(m, by_user, p, &it.loss, &it.train_rmse);
			if (fn(&it, m, ctx)) {
				ret = 1;
				break;
			}
		}
	}
	free(gram);
	return ret;
}
