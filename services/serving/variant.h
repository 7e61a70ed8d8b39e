/*
 * variant: one model the server can answer with: its factors in memory
 * (for users Redis has no list for), what each user rated (left out of
 * in-memory answers), the popular items (for users with no history) and
 * the Redis namespace its published lists live under.
 */
#ifndef PANCAKE_VARIANT_H
#define PANCAKE_VARIANT_H

#include <stdint.h>
#include "model/csr.h"
#include "core/dataset.h"
#include "model/model.h"
#include "util/buf.h"
#include "clients/redis.h"

#define VARIANT_POPULAR 100

struct variant {
	char name[32];		/* the arm's name ("a", "production", ...) */
	char rev[64];		/* what it was loaded from: a registry REV or a file */
	char commit[41];	/* the registry commit, the redis version, "" for a file */
	char version[13];	/* the model's version: pk:rec:VERSION:* in Redis */
	struct model m;
	struct csr rated;	/* what each model user rated, by model index */
	float *unit;		/* item factors at unit length, for /similar */
	float *item_t;		/* item factors transposed (rank x items): scoring
				   one user is then `rank` contiguous axpys */
	uint32_t popular[VARIANT_POPULAR];	/* item ids, most rated first */
	float popular_score[VARIANT_POPULAR];	/* their rating counts */
	int npopular;
};

/*
 * Loads `rev` (a model file; "redis:current" or "redis:VERSION", the model
 * file 'recommender publish' stored in Redis; else a registry REV)
 * as variant `name`, with the ratings of `ds` (the model's dataset). -1
 * with `err` naming what failed.
 */
int variant_load(struct variant *v, const char *name, const char *rev, const char *registry,
		 const struct dataset *ds, struct buf *err);
void variant_release(struct variant *v);

/* where "redis:current" and "redis:VERSION" revisions are read (NULL: nowhere) */
void variant_redis(const struct redis_addrs *a);
/*
 * What `rev` names now, to notice that it moved: the registry commit, the
 * version for "redis:current"/"redis:VERSION", "" for a file. 0 or -1.
 */
int variant_resolve(const char *rev, const char *registry, char commit[41], struct buf *err);

/*
 * Top k for a user the model knows, scored in memory, their rated items
 * (from the dataset, when loaded with one) and the `nalso` item ids of
 * `also` left out: the number found, or -1 when the model does not know
 * the user. Thread-safe (per-thread scratch).
 */
int variant_recommend(const struct variant *v, uint32_t user, int k, const uint32_t *also,
		      size_t nalso, uint32_t *ids, float *scores);
/* 1 when the variant knows what its users rated (it was loaded with the dataset) */
int variant_knows_rated(const struct variant *v);
/* the k items most similar to `item` (cosine of factors), or -1 if unknown */
int variant_similar(const struct variant *v, uint32_t item, int k, uint32_t *ids, float *scores);
/* the k most rated items */
int variant_popular(const struct variant *v, int k, uint32_t *ids, float *scores);

/* frees the calling thread's scratch for scoring: call it as a thread that scored ends */
void variant_thread_release(void);

#endif
