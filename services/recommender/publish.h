/*
 * publish: the Redis layout of a published model and the writes that fill
 * it. Everything of model VERSION (the first 12 hex digits of its
 * checksum) lives under pk:rec:VERSION:, so two models can coexist:
 *   pk:rec:VERSION:user:ID     sorted set: item id -> score, the top N
 *   pk:rec:VERSION:similar:ID  sorted set: item id -> cosine of the factors
 *   pk:rec:VERSION:meta        hash: dataset, kind, rank, users, items, top, at
 *   pk:rec:VERSION:model       string: the model file (what serving loads)
 *   pk:rec:versions            sorted set: VERSION -> unix time published
 *   pk:rec:current             string: the VERSION readers should use
 */
#ifndef PANCAKE_PUBLISH_H
#define PANCAKE_PUBLISH_H

#include <stddef.h>
#include <stdint.h>
#include "als.h"
#include "clients/redis.h"
#include "core/dataset.h"
#include "core/model.h"

#define PUBLISH_CURRENT "pk:rec:current"
#define PUBLISH_VERSIONS "pk:rec:versions"

/* "pk:rec:VERSION:user:ID" and friends into out */
void publish_user_key(char *out, size_t size, const char *version, uint32_t user);
void publish_similar_key(char *out, size_t size, const char *version, uint32_t item);
/* "pk:rec:VERSION:model" into out: the stored model file */
void publish_model_key(char *out, size_t size, const char *version);

/*
 * Queues the replacement of one list, atomically for readers (MULTI, DEL,
 * ZADD, EXEC): `items` are dataset ids, best first. n 0 leaves the key
 * deleted. 0 or a negative enum redis_status with `err`.
 */
int publish_list(struct redis_conn *c, const char *key, const uint32_t *items,
		 const float *scores, int n, struct buf *err);

/*
 * What each of the model's users has rated in `ds`, by model index (rows:
 * users, columns: items), for leaving those items out. Ratings of users
 * or items the model does not know are counted in *unknown and left out.
 * New (csr_release).
 */
void publish_rated(const struct model *m, const struct dataset *ds, struct csr *out,
		   uint64_t *unknown);

/* the item factors scaled to unit length (new, free()), for cosine similarity */
float *publish_unit_items(const struct model *m);

#endif
