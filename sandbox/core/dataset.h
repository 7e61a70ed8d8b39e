/*
 * dataset: MovieLens-style ratings and movies in memory, read from any
 * MovieLens layout (100K u.data/u.item, 1M/10M '::' .dat, 20M/25M/latest
 * .csv) with file:line reasons for every line that is refused.
 */
#ifndef PANCAKE_DATASET_H
#define PANCAKE_DATASET_H

#include <stddef.h>
#include <stdint.h>
#include "util/buf.h"

/* MovieLens genres, as bits of movie.genres (order is the bit number) */
enum genre {
	G_ACTION, G_ADVENTURE, G_ANIMATION, G_CHILDREN, G_COMEDY, G_CRIME,
	G_DOCUMENTARY, G_DRAMA, G_FANTASY, G_FILM_NOIR, G_HORROR, G_IMAX,
	G_MUSICAL, G_MYSTERY, G_ROMANCE, G_SCI_FI, G_THRILLER, G_WAR, G_WESTERN,
	G_NONE, /* "(no genres listed)" or "unknown" */
	GENRE_COUNT
};
/* borrowed, static: "Action", ..., "Children", "Film-Noir", "Sci-Fi" */
const char *genre_name(enum genre g);

struct rating {
	uint32_t user, item;
	uint32_t ts;        /* unix seconds */
	uint8_t halves;     /* stars * 2: 1 (0.5) .. 10 (5.0) */
};

struct movie {
	uint32_t id;
	char *title;        /* without the "(year)" suffix; owned by the dataset */
	int16_t year;       /* 0 when unknown */
	uint32_t genres;    /* 1 << enum genre */
};

enum dataset_format {
	DS_AUTO = 0,
	DS_ML100K,          /* u.data (tab), u.item (|, latin-1) */
	DS_ML_DAT,          /* ratings.dat, movies.dat ('::', 1M latin-1, 10M utf-8) */
	DS_ML_CSV,          /* ratings.csv, movies.csv (header, quoted titles) */
};

enum dataset_on_error { DS_ABORT = 0, DS_SKIP = 1 };

/* why a line was refused; counted per reason in a skip report */
enum dataset_problem {
	P_SYNTAX,           /* wrong field count, not a number, unterminated quote */
	P_RANGE,            /* rating outside 0.5..5 or not a half star, bad id */
	P_UNKNOWN_ITEM,     /* a rating for an item that no movie line defines */
	P_DUPLICATE,        /* a second rating of the same (user, item) */
	P_UTF8,             /* invalid UTF-8 in a UTF-8 file */
	P_TRUNCATED,        /* the last line has no newline and is incomplete */
	PROBLEM_COUNT
};
const char *dataset_problem_name(enum dataset_problem p);

struct dataset_report {
	size_t lines_read, skipped;
	size_t by_reason[PROBLEM_COUNT];
	/* the first few messages, "FILE:LINE: reason", newline-separated */
	struct buf examples;
};

struct dataset {
	char *name;
	enum dataset_format format;
	struct rating *ratings;
	size_t nratings, ratings_alloc;
	struct movie *movies;    /* sorted by id */
	size_t nmovies, movies_alloc;
	uint32_t max_user, max_item;
	size_t nusers;           /* distinct users with at least one rating */
};

void dataset_init(struct dataset *ds);
void dataset_release(struct dataset *ds);

/*
 * Reads the dataset in `dir` (format detected from the file names unless
 * given). With DS_ABORT the first bad line fails the whole read: -1, `err`
 * is "FILE:LINE: reason" and `ds` is left empty. With DS_SKIP bad lines are
 * counted in `report` (may be NULL) and left out.
 */
int dataset_read(struct dataset *ds, const char *dir, enum dataset_format fmt,
		 enum dataset_on_error on_error, struct dataset_report *report,
		 struct buf *err);
void dataset_report_init(struct dataset_report *r);
void dataset_report_release(struct dataset_report *r);

/*
 * Rating count and sum per movie, indexed like ds->movies; entry nmovies
 * collects ratings of unknown items (none after a clean read).
 */
struct movie_stats {
	uint32_t *count;
	uint64_t *halves;        /* sum of ratings in half stars */
};
/* fills `st` (release with dataset_movie_stats_release) */
void dataset_movie_stats(const struct dataset *ds, struct movie_stats *st);
void dataset_movie_stats_release(struct movie_stats *st);

/*
 * A 64-bit hash of the ratings (in order) and the movies: equal for the
 * same data read again, different (with overwhelming odds) once anything
 * changed. Loaders keep it beside their resume markers.
 */
uint64_t dataset_fingerprint(const struct dataset *ds);

/* the movie with id `item`, or NULL (binary search) */
const struct movie *dataset_movie(const struct dataset *ds, uint32_t item);

#endif
