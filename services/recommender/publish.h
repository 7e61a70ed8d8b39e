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
 * and the channel publish and fold-in announce on, so that readers learn
 * at once what moved (a message can be missed: readers look again now
 * and then too):
 *   pk:rec:announce            "published VERSION": VERSION is all written
 *                              "current VERSION": and pk:rec:current names it
 *                              "lists VERSION ID...": fold-in replaced these
 *                              users' lists of VERSION
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
#define PUBLISH_CHANNEL "pk:rec:announce"
/* users named in one "lists" message at most (fold-in's batches are smaller) */
#define PUBLISH_NEWS_USERS 1024

/* "pk:rec:VERSION:user:ID" and friends into out */
void publish_user_key(char *out, size_t size, const char *version, uint32_t user);
void publish_similar_key(char *out, size_t size, const char *version, uint32_t item);
/* "pk:rec:VERSION:model" into out: the stored model file */
void publish_model_key(char *out, size_t size, const char *version);
/* "pk:rec:VERSION:meta" into out */
void publish_meta_key(char *out, size_t size, const char *version);

/* "published VERSION", or "current VERSION" when pk:rec:current names it, into out */
void publish_news_version(char *out, size_t size, const char *version, int current);
/* "lists VERSION ID..." for n users (at most PUBLISH_NEWS_USERS), appended to b */
void publish_news_lists(struct buf *b, const char *version, const uint32_t *users, size_t n);

/* a message of PUBLISH_CHANNEL, parsed */
struct publish_news {
	enum { NEWS_PUBLISHED, NEWS_CURRENT, NEWS_LISTS } kind;
	char version[13];
	uint32_t users[PUBLISH_NEWS_USERS];	/* NEWS_LISTS */
	size_t nusers;
};

/* 0 with `n` filled, or -1 for a message that is none of the three */
int publish_news_parse(const char *msg, size_t len, struct publish_news *n);

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
