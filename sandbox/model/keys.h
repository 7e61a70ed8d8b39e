/*
 * keys: pancake's Redis layout, in one place: the keys `pancake data load`
 * writes for a dataset, the keys and the channel of a published model, and
 * the messages on that channel.
 */
#ifndef PANCAKE_KEYS_H
#define PANCAKE_KEYS_H

#include <stddef.h>
#include <stdint.h>
#include "util/buf.h"

/*
 * A dataset NAME, as the loader (core/load-redis.c) writes it and serving
 * reads it (with no dataset files):
 *   pk:NAME:meta               hash: fingerprint, ratings, movies, users, loaded_at
 *   pk:NAME:item:ID            hash: count, sum, mean of the item's ratings
 *   pk:NAME:popular            sorted set: item id -> rating count (built
 *                              as pk:NAME:popular:loading, renamed over)
 *   pk:NAME:user:ID:rated      set: the item ids user ID rated
 *
 * A published model: everything of model VERSION (the first 12 hex digits
 * of its checksum) lives under pk:rec:VERSION:, so two models can coexist:
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
 *
 * Every function writes its key into `out` as snprintf does and returns
 * its length (`out` was too small when that is >= size). KEYS_EXTRA bytes
 * beyond the length of the dataset name or version hold any key.
 */
#define KEYS_EXTRA 64

#define KEYS_CURRENT "pk:rec:current"
#define KEYS_VERSIONS "pk:rec:versions"
#define KEYS_CHANNEL "pk:rec:announce"
/* users named in one "lists" message at most (fold-in's batches are smaller) */
#define KEYS_NEWS_USERS 1024

/* a dataset's keys: "pk:NAME:meta", "pk:NAME:item:ID" and so on */
int keys_data_meta(char *out, size_t size, const char *dataset);
int keys_data_item(char *out, size_t size, const char *dataset, uint32_t item);
int keys_data_popular(char *out, size_t size, const char *dataset);
int keys_data_rated(char *out, size_t size, const char *dataset, uint32_t user);

/* which of a dataset's keys a MATCH pattern selects */
enum keys_glob {
	KEYS_GLOB_ALL,		/* pk:NAME:* */
	KEYS_GLOB_ITEMS,	/* pk:NAME:item:* */
	KEYS_GLOB_RATED,	/* pk:NAME:user:*:rated */
};
/* the pattern appended to `out`, glob characters of the name escaped */
void keys_data_glob(struct buf *out, const char *dataset, enum keys_glob which);

/* a published model's keys: "pk:rec:VERSION:user:ID" and so on */
int keys_rec_user(char *out, size_t size, const char *version, uint32_t user);
int keys_rec_similar(char *out, size_t size, const char *version, uint32_t item);
/* the stored model file */
int keys_rec_model(char *out, size_t size, const char *version);
int keys_rec_meta(char *out, size_t size, const char *version);

/* "published VERSION", or "current VERSION" when pk:rec:current names it, into out */
void keys_news_version(char *out, size_t size, const char *version, int current);
/* "lists VERSION ID..." for n users (at most KEYS_NEWS_USERS), appended to b */
void keys_news_lists(struct buf *b, const char *version, const uint32_t *users, size_t n);

/* a message of KEYS_CHANNEL, parsed */
struct keys_news {
	enum { KEYS_NEWS_PUBLISHED, KEYS_NEWS_CURRENT, KEYS_NEWS_LISTS } kind;
	char version[13];
	uint32_t users[KEYS_NEWS_USERS];	/* KEYS_NEWS_LISTS */
	size_t nusers;
};

/* 0 with `n` filled, or -1 for a message that is none of the three */
int keys_news_parse(const char *msg, size_t len, struct keys_news *n);

#endif
