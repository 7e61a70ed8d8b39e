/*
 * datagen: MovieLens-shaped synthetic datasets from a seed (`pancake data
 * gen`), written in the ML-latest CSV layout that dataset_read() reads.
 */
#ifndef PANCAKE_DATAGEN_H
#define PANCAKE_DATAGEN_H

#include <stdint.h>
#include "util/buf.h"

/*
 * The model: every user and item has a latent vector of `rank` factors and
 * a bias; a rating is mu + b_u + b_i + <p_u, q_i> + noise, rounded to a half
 * star and clamped to 0.5..5 (mean about 3.5, sd about 1). Item popularity
 * follows a power law, user activity a lognormal long tail (at least 20
 * ratings a user when ratings >= 20 * users); no (user, item) twice; every
 * user and every item rated at least once when ratings allow it; 1..3
 * genres an item, correlated with its factors. The output depends only on
 * the counts, rank, noise and seed: not on `threads`.
 */
struct datagen_opts {
	uint64_t seed;
	uint32_t users, items;
	uint64_t ratings;
	int rank;               /* latent factors, 1..DATAGEN_RANK_MAX (default 8) */
	double noise;           /* sd of the per-rating noise in stars (default 0.5) */
	int threads;            /* generating threads; 0: one per CPU, at most 8 */
	const char *shape;      /* borrowed; recorded in dataset.txt (NULL: "custom") */
};

#define DATAGEN_RANK_MAX 64

/* seed 1, rank 8, noise 0.5, no counts */
void datagen_opts_init(struct datagen_opts *o);

/*
 * Sets users, items, ratings and shape from a name: "ml-100k", "ml-1m",
 * "ml-10m", "ml-20m", "ml-25m". Returns 0, or -1 with the known names in `err`.
 */
int datagen_shape(struct datagen_opts *o, const char *name, struct buf *err);

/*
 * Writes DIR/movies.csv, DIR/ratings.csv and DIR/dataset.txt (the
 * parameters), creating DIR if needed; each file appears under its name
 * only once complete. `progress` (may be NULL) is called from the calling
 * thread as ratings are written, and once with done == total. Returns 0, or
 * -1 with `err` filled (bad options, cannot write).
 */
int datagen_write(const struct datagen_opts *o, const char *dir,
		  void (*progress)(uint64_t done, uint64_t total, void *ctx), void *ctx,
		  struct buf *err);

#endif
