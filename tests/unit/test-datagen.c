/* test-datagen: the generator is deterministic, exact in its counts, MovieLens-shaped, and readable. */
#include "core/datagen.h"
#include "core/dataset.h"
#include "util/buf.h"
#include "util/xalloc.h"
#include "tap.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static char tmpdir[] = "/tmp/pancake-test-datagen-XXXXXX";

static void cleanup(void)
{
	tap_rmtree(tmpdir);
}

static char *slurp(const char *dir, const char *name)
{
	char *path = xstrfmt("%s/%s", dir, name);
	struct buf b = BUF_INIT;

	if (buf_read_file(&b, path, 1u << 30))
		buf_reset(&b);
	free(path);
	return buf_detach(&b, NULL);
}

static int same_file(const char *a, const char *b, const char *name)
{
	char *x = slurp(a, name), *y = slurp(b, name);
	int same = *x && !strcmp(x, y);

	free(x);
	free(y);
	return same;
}

struct progress_log {
	uint64_t last, total;
	int calls, backwards;
};

static void on_progress(uint64_t done, uint64_t total, void *ctx)
{
	struct progress_log *p = ctx;

	if (done < p->last)
		p->backwards = 1;
	p->last = done;
	p->total = total;
	p->calls++;
}

static int gen(const struct datagen_opts *o, const char *name, char **dir, struct buf *err)
{
	*dir = xstrfmt("%s/%s", tmpdir, name);
	buf_reset(err);
	return datagen_write(o, *dir, NULL, NULL, err);
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

static int cmp_size_desc(const void *a, const void *b)
{
	size_t x = *(const size_t *)a, y = *(const size_t *)b;

	return x > y ? -1 : x < y;
}

static void test_determinism(void)
{
	struct datagen_opts o;
	struct buf err = BUF_INIT;
	char *a, *b, *c, *d;
	char *man;

	datagen_opts_init(&o);
	is_int(datagen_shape(&o, "ml-100k", &err), 0, "shape ml-100k");
	o.seed = 7;
	o.threads = 2;
	is_int(gen(&o, "a", &a, &err), 0, "seed 7: written");
	is_str(err.s, "", "seed 7: no error");
	is_int(gen(&o, "b", &b, &err), 0, "seed 7 again: written");
	ok(same_file(a, b, "ratings.csv"), "same seed: ratings.csv byte-identical");
	ok(same_file(a, b, "movies.csv"), "same seed: movies.csv byte-identical");
	o.threads = 1;
	is_int(gen(&o, "c", &c, &err), 0, "one thread: written");
	ok(same_file(a, c, "ratings.csv"), "one thread or two: ratings.csv byte-identical");
	o.threads = 2;
	o.seed = 8;
	is_int(gen(&o, "d", &d, &err), 0, "seed 8: written");
	ok(!same_file(a, d, "ratings.csv"), "different seed: different ratings.csv");
	ok(!same_file(a, d, "movies.csv"), "different seed: different movies.csv");

	man = slurp(a, "dataset.txt");
	ok(strstr(man, "\nseed = 7\n") && strstr(man, "\nshape = ml-100k\n") &&
	   strstr(man, "\nratings = 100000\n") && strstr(man, "\nrank = 8\n"),
	   "dataset.txt records shape, seed, counts and rank");
	free(man);
	{
		char *tmp = xstrfmt("%s/ratings.csv.tmp", a);

		ok(access(tmp, F_OK), "no .tmp file left behind");
		free(tmp);
	}
	free(a);
	free(b);
	free(c);
	free(d);
	buf_release(&err);
}

static void test_shape_100k(void)
{
	struct datagen_opts o;
	struct dataset ds;
	struct dataset_report rep;
	struct buf err = BUF_INIT;
	struct progress_log pl = { 0, 0, 0, 0 };
	char *dir = xstrfmt("%s/shape", tmpdir), *movies;
	uint64_t *pairs;
	size_t i, dups = 0, bad_halves = 0, unknown = 0, top = 0, *per_item, *per_user;
	size_t light_users = 0, backwards = 0, bad_genres = 0, with_comma = 0, no_year = 0;
	double sum = 0, sq = 0, mean, sd;

	datagen_opts_init(&o);
	datagen_shape(&o, "ml-100k", &err);
	o.seed = 42;
	is_int(datagen_write(&o, dir, on_progress, &pl, &err), 0, "100k: written");
	ok(pl.calls >= 2 && pl.last == 100000 && pl.total == 100000 && !pl.backwards,
	   "100k: progress goes forward and ends at the total");

	dataset_init(&ds);
	dataset_report_init(&rep);
	is_int(dataset_read(&ds, dir, DS_AUTO, DS_ABORT, &rep, &err), 0, "100k: reads back");
	is_str(err.s, "", "100k: zero problems");
	is_int(ds.format, DS_ML_CSV, "100k: ML-latest CSV layout");
	is_int(ds.nratings, 100000, "100k: exactly the ratings asked for");
	is_int(ds.nusers, 943, "100k: exactly the users");
	is_int(ds.nmovies, 1682, "100k: exactly the items");
	is_int(ds.max_user, 943, "100k: user ids 1..943");

	pairs = xmalloc(ds.nratings * sizeof(*pairs));
	per_item = xcalloc((size_t)ds.max_item + 1, sizeof(*per_item));
	per_user = xcalloc((size_t)ds.max_user + 1, sizeof(*per_user));
	for (i = 0; i < ds.nratings; i++) {
		const struct rating *r = &ds.ratings[i];

		pairs[i] = (uint64_t)r->user << 32 | r->item;
		if (r->halves < 1 || r->halves > 10)
			bad_halves++;
		if (!dataset_movie(&ds, r->item))
			unknown++;
		sum += r->halves / 2.0;
		sq += (r->halves / 2.0) * (r->halves / 2.0);
		per_item[r->item]++;
		per_user[r->user]++;
		if (i && r->user == ds.ratings[i - 1].user && r->ts < ds.ratings[i - 1].ts)
			backwards++;
	}
	qsort(pairs, ds.nratings, sizeof(*pairs), cmp_u64);
	for (i = 1; i < ds.nratings; i++)
		dups += pairs[i] == pairs[i - 1];
	is_int(dups, 0, "100k: no (user, item) twice");
	is_int(bad_halves, 0, "100k: every rating a half star in 0.5..5");
	is_int(unknown, 0, "100k: every rated item is in movies.csv");
	is_int(backwards, 0, "100k: each user's times increase down the file");
	mean = sum / ds.nratings;
	sd = sqrt(sq / ds.nratings - mean * mean);
	ok(mean > 3.2 && mean < 3.8, "100k: mean rating %.3f in 3.2..3.8", mean);
	ok(sd > 0.8 && sd < 1.3, "100k: rating sd %.3f in 0.8..1.3", sd);

	for (i = 1; i <= ds.max_user; i++)
		light_users += per_user[i] < 20;
	is_int(light_users, 0, "100k: every user rated at least 20");
	qsort(per_item + 1, ds.max_item, sizeof(*per_item), cmp_size_desc);
	ok(per_item[ds.max_item] >= 1, "100k: every item rated at least once");
	for (i = 1; i <= ds.max_item / 10; i++)
		top += per_item[i];
	ok(top * 10 > ds.nratings * 4, "100k: top 10%% of items have %.1f%% (> 40%%) of ratings",
	   100.0 * top / ds.nratings);

	for (i = 0; i < ds.nmovies; i++) {
		const struct movie *m = &ds.movies[i];
		int n = __builtin_popcount(m->genres);

		if (!(m->genres == 1u << G_NONE || (n >= 1 && n <= 3 && !(m->genres >> G_NONE & 1))))
			bad_genres++;
		with_comma += strchr(m->title, ',') != NULL;
		no_year += !m->year;
	}
	is_int(bad_genres, 0, "100k: 1..3 genres an item (or none listed)");
	ok(with_comma > 0, "100k: some titles have commas (%zu)", with_comma);
	ok(no_year < ds.nmovies / 50, "100k: few titles without a year (%zu)", no_year);
	movies = slurp(dir, "movies.csv");
	ok(strstr(movies, ",\"") != NULL, "100k: movies.csv quotes titles that need it");
	free(movies);

	free(pairs);
	free(per_item);
	free(per_user);
	free(dir);
	dataset_release(&ds);
	dataset_report_release(&rep);
	buf_release(&err);
}

static void test_small_shapes(void)
{
	static const struct { uint32_t users, items; uint64_t ratings; const char *what; } cases[] = {
		{ 10, 12, 120, "every pair rated" },
		{ 10, 40, 300, "dense: heavy users" },
		{ 100, 50, 30, "fewer ratings than users" },
		{ 3, 500, 40, "fewer ratings than items" },
		{ 1, 1, 1, "one of each" },
	};
	struct datagen_opts o;
	struct dataset ds;
	struct buf err = BUF_INIT;
	size_t i;

	dataset_init(&ds);
	for (i = 0; i < ARRAY_SIZE(cases); i++) {
		char *dir = xstrfmt("%s/small%zu", tmpdir, i);

		datagen_opts_init(&o);
		o.users = cases[i].users;
		o.items = cases[i].items;
		o.ratings = cases[i].ratings;
		o.seed = 99;
		buf_reset(&err);
		is_int(datagen_write(&o, dir, NULL, NULL, &err), 0, "%s: written", cases[i].what);
		is_int(dataset_read(&ds, dir, DS_AUTO, DS_ABORT, NULL, &err), 0,
		       "%s: reads back with zero problems", cases[i].what);
		is_int(ds.nratings, cases[i].ratings, "%s: exact count", cases[i].what);
		is_int(ds.nmovies, cases[i].items, "%s: every item in movies.csv", cases[i].what);
		if (cases[i].ratings >= cases[i].users)
			is_int(ds.nusers, cases[i].users, "%s: every user rates", cases[i].what);
		free(dir);
	}
	dataset_release(&ds);
	buf_release(&err);
}

static void test_errors(void)
{
	struct datagen_opts o;
	struct buf err = BUF_INIT;
	char *dir = xstrfmt("%s/bad", tmpdir), *file = xstrfmt("%s/file", tmpdir), *under;
	FILE *f;

	datagen_opts_init(&o);
	is_int(datagen_shape(&o, "ml-3m", &err), -1, "unknown shape refused");
	is_str(err.s, "unknown shape 'ml-3m': use ml-100k, ml-1m, ml-10m, ml-20m or ml-25m, "
	       "or give --users, --items and --ratings", "unknown shape: message");
	buf_reset(&err);
	is_int(datagen_write(&o, dir, NULL, NULL, &err), -1, "no counts refused");
	is_str(err.s, "users (0), items (0) and ratings (0) must all be positive: give a shape "
	       "or all three counts", "no counts: message");
	o.users = 2;
	o.items = 3;
	o.ratings = 7;
	buf_reset(&err);
	is_int(datagen_write(&o, dir, NULL, NULL, &err), -1, "too many ratings refused");
	is_str(err.s, "cannot fit 7 ratings in 2 users x 3 items: each user rates an item once, "
	       "so at most 6", "too many ratings: message");
	o.ratings = 6;
	o.rank = 0;
	buf_reset(&err);
	is_int(datagen_write(&o, dir, NULL, NULL, &err), -1, "rank 0 refused");
	is_str(err.s, "rank 0 is outside 1..64", "rank 0: message");
	o.rank = 8;
	o.noise = -1;
	buf_reset(&err);
	is_int(datagen_write(&o, dir, NULL, NULL, &err), -1, "negative noise refused");
	o.noise = 0.5;
	ok(access(dir, F_OK), "nothing created for bad options");

	f = fopen(file, "w");
	if (f)
		fclose(f);
	under = xstrfmt("%s/sub", file);
	buf_reset(&err);
	is_int(datagen_write(&o, under, NULL, NULL, &err), -1, "a file in the way refused");
	ok(strstr(err.s, "cannot create") && strstr(err.s, "Not a directory"),
	   "a file in the way: says so (%s)", err.s);
	free(under);
	free(dir);
	free(file);
	buf_release(&err);
}

int main(void)
{
	if (!mkdtemp(tmpdir))
		die("cannot create a temporary directory");
	atexit(cleanup);
	test_determinism();
	test_shape_100k();
	test_small_shapes();
	test_errors();
	return tap_done();
}
