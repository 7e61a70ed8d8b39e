/*
 * eval: train/test splits of a dataset, the dense training set ALS works
 * on, rating metrics (RMSE, MAE), ranking metrics at k (precision, recall,
 * NDCG, MAP) and the mean-plus-biases baseline they are compared with.
 */
#ifndef PANCAKE_EVAL_H
#define PANCAKE_EVAL_H

#include <stdint.h>
#include "als.h"
#include "core/dataset.h"
#include "model/model.h"

enum split_kind { SPLIT_NONE, SPLIT_RANDOM, SPLIT_TIME };

struct split_spec {
	enum split_kind kind;
	double frac;		/* share of ratings held out, 0 < frac < 1 */
	uint64_t seed;		/* random splits only */
};

/* "none", "random:F" or "time:F" (F a fraction, e.g. 0.2); -1 with `err` */
int split_parse(struct split_spec *s, const char *arg, struct buf *err);
/*
 * marks[e] = 1 for each rating of ds held out for testing. random: a hash
 * of (seed, user, item) against frac, so the split does not depend on the
 * order of the file; time: the latest frac of each user's ratings (a user
 * with a single rating keeps it for training).
 */
void split_mark(const struct dataset *ds, const struct split_spec *s, uint8_t *marks);

/*
 * The ratings in dense form: users and items that have any rating, by
 * ascending id; `train` by user and its transpose, `test` by user. Star
 * ratings are floats (halves / 2).
 */
struct train_set {
	uint32_t nusers, nitems;
	uint32_t *user_ids, *item_ids;	/* dense index -> dataset id */
	struct csr train, train_t, test;
	uint64_t ntest;
};
/* new (train_set_release); marks may be NULL (everything trains) */
void train_set_build(struct train_set *ts, const struct dataset *ds, const uint8_t *marks);
/* the dense index of a dataset id, or -1 */
int64_t train_set_user(const struct train_set *ts, uint32_t id);
int64_t train_set_item(const struct train_set *ts, uint32_t id);
void train_set_release(struct train_set *ts);

struct rank_metrics {
	double precision, recall, ndcg, ap;
};
/*
 * The metrics of one ranked list (ranked[0] best) against the relevant
 * items rel[0..nrel) (ascending), at cut-off k: precision = hits / k,
 * recall = hits / nrel, NDCG with binary gains and log2 discounts, AP
 * normalised by min(k, nrel). All zero when nrel is 0.
 */
void rank_metrics(const uint32_t *ranked, int n, const uint32_t *rel, int nrel, int k,
		  struct rank_metrics *out);

struct eval_result {
	double rmse, mae;
	uint64_t predicted;	/* test ratings scored */
	uint64_t cold;		/* test ratings of a user or item with no training ratings */
	int k;
	double precision, recall, ndcg, map;
	uint64_t users;		/* users the ranking metrics average over */
};

/* RMSE and MAE of `m` on ts->test (cold pairs counted, not scored) */
void eval_ratings(const struct model *m, const struct train_set *ts, struct eval_result *r);
/*
 * Ranking metrics at k over users with a relevant test item (explicit:
 * rated >= relevant_min; implicit: any), their training items left out of
 * the ranking. At most max_users users (0: all), picked by a hash of seed.
 */
void eval_ranking(const struct model *m, const struct train_set *ts, int k,
		  float relevant_min, uint32_t max_users, uint64_t seed, int threads,
		  struct eval_result *r);

/*
 * The baseline: mean + user bias + item bias, fitted by a few damped
 * alternating passes (Koren's regularised averages), as a rank-1 model
 * with zero factors (new, model_release).
 */
void eval_baseline(struct model *b, const struct train_set *ts);

#endif
