/*
 * als: alternating least squares on OpenBLAS, for explicit ratings
 * (weighted-lambda regularisation, optional biases) and implicit feedback
 * (Hu-Koren-Volinsky confidences, Cholesky or warm-started CG solves).
 */
#ifndef PANCAKE_ALS_H
#define PANCAKE_ALS_H

#include <stddef.h>
#include <stdint.h>
#include "model/csr.h"
#include "model/model.h"
#include "util/buf.h"

enum als_solver { ALS_CHOLESKY, ALS_CG };

struct als_params {
	int rank;		/* factors per user and item */
	float lambda;		/* weighted: lambda * (ratings of the row) */
	int iters;
	int implicit;		/* Hu-Koren-Volinsky on the ratings as strengths */
	float alpha;		/* implicit: confidence 1 + alpha * |r| */
	int biases;		/* explicit: learn the mean and user/item biases */
	enum als_solver solver;	/* implicit only; explicit is always Cholesky */
	int cg_steps;		/* CG steps per row per half-iteration */
	int threads;		/* workers; BLAS itself runs single-threaded */
	uint64_t seed;
};
/* rank 10, lambda 0.1, 10 iterations, alpha 1, Cholesky, 3 CG steps, all cores */
void als_params_default(struct als_params *p);
/* "" when the parameters are usable, else why not (static string) */
const char *als_params_check(const struct als_params *p);

/* What one iteration did; the normal-equation phase is timed on its own. */
struct als_iter {
	int iter;		/* 1-based */
	double seconds;		/* wall time of the whole iteration */
	double ne_seconds;	/* summed over workers, divided by their count */
	double ne_flops;	/* floating-point operations of that phase */
	double ne_blas_seconds;	/* the part of ne_seconds inside BLAS (syrk, gemv) */
	double loss;		/* the objective ALS minimises (per rating) */
	double train_rmse;	/* explicit only; 0 for implicit */
	uint64_t fixed;		/* rows whose solve needed extra regularisation */
};

/* called after each iteration; non-zero stops training (als_train returns 1) */
typedef int (*als_iter_fn)(const struct als_iter *it, const struct model *m, void *ctx);

/*
 * Trains `m`, whose arrays and ids the caller allocated (model_alloc with
 * the rank and MODEL_BIASES as asked) for by_user (users x items) and
 * by_item (its transpose). Fills factors, biases and parameters. Rows
 * with no ratings get zero factors; every result is finite.
 * Deterministic for a given seed, whatever the thread count.
 * 0, 1 when `fn` stopped it, or -1 with `err`.
 */
int als_train(struct model *m, const struct csr *by_user, const struct csr *by_item,
	      const struct als_params *p, als_iter_fn fn, void *ctx, struct buf *err);

/*
 * One row's exact solve against fixed factors `fixed` (ncols x rank): what
 * an ALS half-step does for that row, and what fold-in does for a user
 * with new ratings. `gram` is fixed^T fixed (rank x rank; implicit only,
 * NULL for explicit); `fixed_bias` is NULL without biases. Writes rank
 * factors to `out` and the bias to *out_bias (biases only). `scratch`
 * holds at least als_scratch_floats(n, rank) floats. Returns 1 when the
 * solve needed extra regularisation to stay finite, else 0.
 */
int als_solve_row(const struct als_params *p, const uint32_t *cols, const float *vals,
		  uint32_t n, const float *fixed, const float *fixed_bias, float mean,
		  const float *gram, float *out, float *out_bias, float *scratch);
size_t als_scratch_floats(uint32_t n, int rank);

/* fixed^T fixed for `n` rows of `rank` floats into g (rank x rank, full) */
void als_gram(const float *fixed, uint32_t n, int rank, float *g);

/* the objective and, for explicit data, the training RMSE of `m` */
void als_loss(const struct model *m, const struct csr *by_user, const struct als_params *p,
	      double *loss, double *rmse);

#endif
