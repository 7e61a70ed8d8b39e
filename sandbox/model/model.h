/*
 * model: the recommender's model file (a versioned header, the factor
 * matrices and biases, and a SHA-256 over all of it), read and written by
 * the recommender and read by the serving binary.
 */
#ifndef PANCAKE_MODEL_H
#define PANCAKE_MODEL_H

#include <stddef.h>
#include <stdint.h>
#include "util/buf.h"

#define MODEL_MAGIC "PKMODEL\x1a"
#define MODEL_VERSION 1
#define MODEL_HEADER_SIZE 256
/* a model file is never larger than this (ML-25M at rank 256 is ~200 MB) */
#define MODEL_MAX_BYTES ((size_t)4 << 30)

enum model_flags {
	MODEL_IMPLICIT = 1 << 0,	/* trained on implicit feedback (HKV) */
	MODEL_BIASES = 1 << 1,		/* user_bias, item_bias and mean are used */
};

/*
 * A factorisation: score(u, i) = mean + bu[u] + bi[i] + X[u] . Y[i] (the
 * bias terms only with MODEL_BIASES). Users and items are indexed densely;
 * user_ids/item_ids hold the dataset's ids in ascending order, so index
 * and id map both ways. Every array is owned by the model.
 */
struct model {
	uint32_t rank, nusers, nitems, flags;
	float lambda, alpha, mean;
	uint32_t iters;
	uint64_t seed;
	uint64_t trained_at;		/* unix seconds */
	uint64_t dataset_fingerprint;	/* dataset_fingerprint() of the input */
	char dataset[64];		/* the dataset's name */
	char solver[16];		/* "cholesky" or "cg" */
	uint32_t *user_ids, *item_ids;
	float *user_factors;		/* nusers x rank, row-major */
	float *item_factors;		/* nitems x rank, row-major */
	float *user_bias, *item_bias;	/* NULL without MODEL_BIASES */
	char checksum[65];		/* hex SHA-256 of the file, set by save/load */
};

/* zeroes `m`, then allocates the arrays for the sizes and flags in it */
void model_alloc(struct model *m, uint32_t rank, uint32_t nusers, uint32_t nitems,
		 uint32_t flags);
void model_release(struct model *m);

/* serialises `m` into `out` (appended) and sets m->checksum */
void model_encode(struct model *m, struct buf *out);
/*
 * Parses a model file's bytes. Every failure is -1 with `err` saying what
 * is wrong with `name` (the file or registry entry, for the message):
 * not a model file, a newer version, truncated, or a checksum mismatch.
 * `m` is only filled (new, model_release) on success.
 */
int model_decode(struct model *m, const void *data, size_t len, const char *name,
		 struct buf *err);

/* writes atomically (temporary file, fsync, rename); -1 with `err` */
int model_save(struct model *m, const char *path, struct buf *err);
/*
 * Whether model_save could write `path` (its folder exists, is a folder,
 * takes a new file): asked before a long training, so that a bad --out
 * fails at once instead of after the last iteration. 0, or -1 with `err`.
 */
int model_check_writable(const char *path, struct buf *err);
int model_load(struct model *m, const char *path, struct buf *err);

/* the index of `id` in the ascending ids[0..n), or -1 (binary search) */
int64_t model_id_find(const uint32_t *ids, uint32_t n, uint32_t id);
/* dense index of a dataset id, or -1 */
int64_t model_user_index(const struct model *m, uint32_t user);
int64_t model_item_index(const struct model *m, uint32_t item);

/* the first 12 hex digits of the checksum: names a model in Redis keys */
void model_version(const struct model *m, char out[13]);

#endif
