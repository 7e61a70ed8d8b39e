/*
 * servingrec: one user's recommendations from a serving, with each item's
 * title and genres read from the dataset the variant's model was trained
 * on (its files on this machine: a fetched or generated dataset, as
 * 'pancake data list' shows them), and feedback on one of them.
 */
#ifndef PANCAKE_SERVINGREC_H
#define PANCAKE_SERVINGREC_H

#include <stdint.h>
#include "clients/servingapi.h"
#include "util/buf.h"

/* a movie as the answer shows it */
struct servingrec_movie {
	uint32_t id;
	char *title;             /* owned by the titles */
	int year;                /* 0: unknown */
	char genres[160];        /* "Action|Comedy", "" when none */
};

/*
 * The titles of one dataset, kept between asks (the movies only: the
 * ratings read with them are dropped). Owned by the caller.
 */
struct servingrec_titles {
	char dataset[64];        /* the dataset they are of ("" none read yet) */
	char dir[512];           /* its folder */
	char note[256];          /* why there are none ("" when read) */
	struct servingrec_movie *movies;   /* sorted by id */
	size_t n;
};

void servingrec_titles_init(struct servingrec_titles *t);
void servingrec_titles_release(struct servingrec_titles *t);
/*
 * Makes `t` hold the titles of dataset `name` (read once; kept while the
 * name stays the same). 0, or -1 with t->note saying why there are none
 * (not on this machine, unreadable): the answer is still worth showing.
 */
int servingrec_titles_load(struct servingrec_titles *t, const char *name);
/* the movie `id`, or NULL; borrowed, valid until the titles change */
const struct servingrec_movie *servingrec_movie(const struct servingrec_titles *t, uint32_t id);

/* an answer with what is known of its items */
struct servingrec_answer {
	struct servingapi_recs r;                /* as serving answered */
	const struct servingrec_movie *movies[SERVINGAPI_K_MAX];  /* NULL: no title; borrowed
								      from the titles */
	char dataset[64];                        /* the variant's model's, "" unknown */
};

/*
 * Asks serving at `addr` for `user`'s top `k` (variant NULL or "": its
 * experiment chooses), then which dataset that variant's model was trained
 * on (/metrics), and fills in the titles from `t` (loaded as needed).
 * Blocks for up to about twice `timeout_ms`. 0, or an enum
 * servingapi_error with `r` and `err` (the recommendations failed; a
 * dataset that cannot be read only leaves the titles out, t->note says why).
 */
int servingrec_ask(const char *addr, uint32_t user, int k, const char *variant, int timeout_ms,
		   struct servingrec_titles *t, struct servingrec_answer *out,
		   struct servingapi_result *r, struct buf *err);

#endif
