/*
 * topk: the best k targets for many queries at once (users against items
 * for recommendations, items against items for similar items), scored in
 * blocks with sgemm and selected with a small heap per row.
 */
#ifndef PANCAKE_TOPK_H
#define PANCAKE_TOPK_H

#include <stdint.h>
#include "model/csr.h"
#include "model/model.h"

struct topk_query {
	const float *q;			/* nq x rank */
	uint32_t nq;
	const float *qbias;		/* per query, may be NULL */
	const float *t;			/* nt x rank */
	uint32_t nt;
	const float *tbias;		/* per target, may be NULL */
	int rank;
	float offset;			/* added to every score (the mean) */
	const struct csr *exclude;	/* per query: targets left out; may be NULL */
	int exclude_self;		/* query q never gets target q */
	const uint8_t *only;		/* NULL, or score query q only if only[q] */
};

/*
 * Called once per scored query with its top n (<= k) targets, best first.
 * Calls are serialised (one at a time) but come from worker threads.
 * Non-zero stops the run (topk_run returns it).
 */
typedef int (*topk_fn)(uint32_t query, const uint32_t *targets, const float *scores, int n,
		       void *ctx);

int topk_run(const struct topk_query *q, int k, int threads, topk_fn fn, void *ctx);

/*
 * The top n of one row of scores (targets in `mask` with mask[t] set are
 * skipped; mask may be NULL): used by fold-in for a single user. Returns
 * how many were found, best first.
 */
int topk_select(const float *scores, uint32_t nt, const uint8_t *mask, int k,
		uint32_t *targets, float *best);

/* the item factors scaled to unit length (new, free()), for cosine similarity */
float *topk_unit_items(const struct model *m);

/*
 * Flushes denormal floats to zero in the calling thread (x86; else
 * nothing): every thread that scores or solves calls it first.
 */
void topk_flush_denormals(void);

#endif
