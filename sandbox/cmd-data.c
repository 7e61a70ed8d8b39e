/*
 * cmd-data: `pancake data gen|info|list|fetch|load|verify`: make, fetch and
 * inspect MovieLens-shaped datasets, load them into the stack and count them.
 */
#include "cli.h"
#include "core/catalog.h"
#include "core/datagen.h"
#include "core/loadrun.h"
#include "core/dataset.h"
#include "util/clock.h"
#include "util/jsonout.h"
#include "util/xalloc.h"
#include "util/sig.h"

#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define BAR_WIDTH 30
#define TOP_GENRES 8

/* a count with an optional k/M/G (x1000) suffix; -1 when it is not one */
static int parse_count(const char *s, uint64_t *v)
{
	static const struct { char c; uint64_t mul; } suffixes[] = {
		{ 'k', 1000 }, { 'K', 1000 }, { 'm', 1000000 }, { 'M', 1000000 },
		{ 'g', 1000000000 }, { 'G', 1000000000 },
	};
	unsigned long long x;
	char *end;
	size_t i;

	if (!*s || *s == '-')
		return -1;
	errno = 0;
	x = strtoull(s, &end, 10);
	if (errno || end == s)
		return -1;
	if (*end) {
		for (i = 0; i < ARRAY_SIZE(suffixes); i++)
			if (*end == suffixes[i].c && !end[1])
				break;
		if (i == ARRAY_SIZE(suffixes) || x > UINT64_MAX / suffixes[i].mul)
			return -1;
		x *= suffixes[i].mul;
	}
	*v = x;
	return 0;
}

/* ---- data gen ---- */

struct gen_view {
	const struct datagen_opts *o;
	double t0, last;
	int tty, started;
};

static void gen_progress(uint64_t done, uint64_t total, void *ctx)
{
	struct gen_view *v = ctx;
	double t = clock_s(), el = t - v->t0, rate = el > 0 ? done / el : 0;
	char r[16], eta[32] = "";
	int fill, i;

	if (!v->started) {
		/* the options passed datagen_write's checks: say what is coming */
		printf("generating %s: %u users, %u items, %llu ratings, seed %llu, rank %d, noise %g\n",
		       v->o->shape ? v->o->shape : "a custom shape", v->o->users, v->o->items,
		       (unsigned long long)v->o->ratings, (unsigned long long)v->o->seed,
		       v->o->rank, v->o->noise);
		fflush(stdout);
		v->started = 1;
	}
	if (!v->tty || (done < total && t - v->last < 0.1))
		return;
	v->last = t;
	fill = total ? (int)((double)done * BAR_WIDTH / total) : BAR_WIDTH;
	human_count(r, sizeof(r), rate);
	if (done < total && rate > 0)
		human_duration(eta, sizeof(eta), (long long)ceil((total - done) / rate));
	printf("\r\033[K  [");
	for (i = 0; i < BAR_WIDTH; i++)
		putchar(i < fill ? '#' : '.');
	printf("] %3d%%  %s ratings/s%s%s", total ? (int)(done * 100 / total) : 100, r,
	       *eta ? "  ETA " : "", eta);
	if (done >= total)
		printf("\r\033[K");
	fflush(stdout);
}

static int data_gen(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "shape", required_argument, NULL, 'S' },
		{ "users", required_argument, NULL, 'u' },
		{ "items", required_argument, NULL, 'i' },
		{ "ratings", required_argument, NULL, 'r' },
		{ "seed", required_argument, NULL, 's' },
		{ "rank", required_argument, NULL, 'k' },
		{ "noise", required_argument, NULL, 'n' },
		{ "threads", required_argument, NULL, 't' },
		{ "out", required_argument, NULL, 'o' },
		{ NULL, 0, NULL, 0 },
	};
	struct datagen_opts o;
	struct buf err = BUF_INIT;
	struct gen_view v;
	const char *out = NULL;
	char *dir = NULL, *path = NULL, r[16];
	uint64_t x, counts[3] = { 0, 0, 0 };
	int c, have_counts = 0, ret = 1;
	struct stat st;
	double secs;
	char *end;

	datagen_opts_init(&o);
	optind = 1;
	while ((c = getopt_long(argc, argv, "o:", opts, NULL)) != -1) {
		switch (c) {
		case 'S':
			if (datagen_shape(&o, optarg, &err)) {
				cli_print_error(err.s);
				ret = 2;
				goto out;
			}
			break;
		case 'u': case 'i': case 'r':
			if (parse_count(optarg, &x) || !x ||
			    (c != 'r' && x >= UINT32_MAX)) {
				ret = cli_bad_usage("data", "--%s wants a positive count, got '%s'",
						    c == 'u' ? "users" : c == 'i' ? "items" : "ratings", optarg);
				goto out;
			}
			counts[c == 'u' ? 0 : c == 'i' ? 1 : 2] = x;
			have_counts = 1;
			break;
		case 's':
			errno = 0;
			o.seed = strtoull(optarg, &end, 0);
			if (errno || *end || !*optarg || *optarg == '-') {
				ret = cli_bad_usage("data", "--seed wants a number, got '%s'", optarg);
				goto out;
			}
			break;
		case 'k':
			o.rank = (int)strtol(optarg, &end, 10);
			if (*end || o.rank < 1 || o.rank > DATAGEN_RANK_MAX) {
				ret = cli_bad_usage("data", "--rank wants 1..%d, got '%s'", DATAGEN_RANK_MAX, optarg);
				goto out;
			}
			break;
		case 'n':
			o.noise = strtod(optarg, &end);
			if (*end || !(o.noise >= 0 && o.noise <= 5)) {
				ret = cli_bad_usage("data", "--noise wants stars in 0..5, got '%s'", optarg);
				goto out;
			}
			break;
		case 't':
			o.threads = (int)strtol(optarg, &end, 10);
			if (*end || o.threads < 1) {
				ret = cli_bad_usage("data", "--threads wants a positive count, got '%s'", optarg);
				goto out;
			}
			break;
		case 'o':
			out = optarg;
			break;
		default:
			ret = cli_bad_usage("data", "unknown option for 'data gen'");
			goto out;
		}
	}
	if (optind < argc) {
		ret = cli_bad_usage("data", "unexpected argument '%s' for 'data gen'", argv[optind]);
		goto out;
	}
	if (have_counts) {
		/* counts given with a shape override it */
		if (counts[0])
			o.users = (uint32_t)counts[0];
		if (counts[1])
			o.items = (uint32_t)counts[1];
		if (counts[2])
			o.ratings = counts[2];
		if (!o.users || !o.items || !o.ratings) {
			ret = cli_bad_usage("data", "give --users, --items and --ratings together (or a --shape)");
			goto out;
		}
		if (o.shape && (counts[0] || counts[1] || counts[2]))
			o.shape = NULL;
	} else if (!o.shape) {
		datagen_shape(&o, "ml-1m", &err);
	}
	if (out)
		dir = xstrdup(out);
	else {
		char *gen = catalog_generated_dir();

		if (o.shape)
			dir = xstrfmt("%s/%s-s%llu", gen, o.shape, (unsigned long long)o.seed);
		else
			dir = xstrfmt("%s/u%u-i%u-r%llu-s%llu", gen, o.users, o.items,
				      (unsigned long long)o.ratings, (unsigned long long)o.seed);
		free(gen);
	}

	v.o = &o;
	v.t0 = clock_s();
	v.last = 0;
	v.started = 0;
	v.tty = cli_tty();
	if (datagen_write(&o, dir, gen_progress, &v, &err)) {
		if (v.tty)
			printf("\r\033[K");
		cli_print_error(err.s);
		goto out;
	}
	secs = clock_s() - v.t0;
	path = xstrfmt("%s/ratings.csv", dir);
	human_count(r, sizeof(r), o.ratings / (secs > 0 ? secs : 1e-9));
	printf("wrote %llu ratings to %s in %.2f s: %s ratings/s",
	       (unsigned long long)o.ratings, dir, secs, r);
	if (!stat(path, &st))
		printf(", %.0f MB/s", st.st_size / 1e6 / (secs > 0 ? secs : 1e-9));
	printf("\n");
	ret = 0;
out:
	free(dir);
	free(path);
	buf_release(&err);
	return ret;
}

/* the folder of a dataset argument, or a message and NULL */
static char *find_dataset(const char *arg, char **name)
{
	char *dir = catalog_resolve(arg, name);
	char q[QUOTE_BUF];

	if (!dir)
		cli_fail(RC_USAGE, "no dataset %s; give a folder, a fetched dataset "
			 "('pancake data list') or a generated one ('pancake data gen' puts "
			 "them in datasets/generated)", quote(q, arg));
	return dir;
}

/* ---- data info ---- */

static const struct {
	const char *name;
	enum dataset_format fmt;
	const char *files[2];
} formats[] = {
	{ "auto", DS_AUTO, { NULL, NULL } },
	{ "ml-100k", DS_ML100K, { "u.data", "u.item" } },
	{ "dat", DS_ML_DAT, { "ratings.dat", "movies.dat" } },
	{ "csv", DS_ML_CSV, { "ratings.csv", "movies.csv" } },
};

struct info {
	size_t by_halves[11];
	double mean, sd;
	int year_min, year_max;
	uint32_t ts_min, ts_max;
	size_t rated_items;
	size_t genre_movies[GENRE_COUNT];
	int genre_order[GENRE_COUNT];
	double read_secs, bytes;
};

static const size_t *genre_counts_sort;

static int cmp_genre(const void *a, const void *b)
{
	int x = *(const int *)a, y = *(const int *)b;

	if (genre_counts_sort[x] != genre_counts_sort[y])
		return genre_counts_sort[x] > genre_counts_sort[y] ? -1 : 1;
	return x - y;
}

static void summarize(const struct dataset *ds, struct info *in)
{
	uint64_t *seen = xcalloc((size_t)ds->max_item / 64 + 1, sizeof(*seen));
	double sum = 0, sq = 0;
	size_t i;
	int g;

	in->ts_min = UINT32_MAX;
	in->ts_max = 0;
	for (i = 0; i < ds->nratings; i++) {
		const struct rating *r = &ds->ratings[i];

		in->by_halves[r->halves]++;
		sum += r->halves;
		sq += (double)r->halves * r->halves;
		if (r->ts < in->ts_min)
			in->ts_min = r->ts;
		if (r->ts > in->ts_max)
			in->ts_max = r->ts;
		if (!(seen[r->item >> 6] >> (r->item & 63) & 1)) {
			seen[r->item >> 6] |= 1ull << (r->item & 63);
			in->rated_items++;
		}
	}
	if (ds->nratings) {
		double n = (double)ds->nratings, m = sum / n;

		in->mean = m / 2;
		in->sd = sqrt(sq / n - m * m > 0 ? sq / n - m * m : 0) / 2;
	}
	in->year_min = 0;
	in->year_max = 0;
	for (i = 0; i < ds->nmovies; i++) {
		const struct movie *m = &ds->movies[i];

		if (m->year && (!in->year_min || m->year < in->year_min))
			in->year_min = m->year;
		if (m->year > in->year_max)
			in->year_max = m->year;
		for (g = 0; g < GENRE_COUNT; g++)
			if (m->genres >> g & 1)
				in->genre_movies[g]++;
	}
	for (g = 0; g < GENRE_COUNT; g++)
		in->genre_order[g] = g;
	genre_counts_sort = in->genre_movies;
	qsort(in->genre_order, GENRE_COUNT, sizeof(int), cmp_genre);
	free(seen);
}

static void date(char *out, size_t size, uint32_t ts)
{
	time_t t = ts;
	struct tm tm;

	gmtime_r(&t, &tm);
	strftime(out, size, "%Y-%m-%d", &tm);
}

static const char *format_name(enum dataset_format f)
{
	size_t i;

	for (i = 0; i < ARRAY_SIZE(formats); i++)
		if (formats[i].fmt == f)
			return formats[i].name;
	return "?";
}

static void print_report_text(const struct dataset_report *rep)
{
	int p;

	printf("skipped   %zu of %zu lines", rep->skipped, rep->lines_read);
	for (p = 0; p < PROBLEM_COUNT; p++)
		if (rep->by_reason[p])
			printf(", %zu %s", rep->by_reason[p], dataset_problem_name((enum dataset_problem)p));
	printf("\n");
	if (rep->examples.len) {
		const char *s = rep->examples.s;

		while (*s) {
			const char *nl = strchr(s, '\n');
			int n = nl ? (int)(nl - s) : (int)strlen(s);

			printf("          %s%.*s%s\n", cli_color(C_YELLOW), n, s, cli_color(C_RESET));
			s += n + (nl ? 1 : 0);
		}
		if (rep->skipped > 10)
			printf("          (and %zu more)\n", rep->skipped - 10);
	}
}

static void print_text(const char *dir, const struct dataset *ds, const struct info *in,
		       const struct dataset_report *rep, int skip)
{
	char a[16], b[16], r[16];
	size_t maxh = 1, i;
	int h, g, shown;

	printf("dataset   %s (%s) at %s\n", ds->name, format_name(ds->format), dir);
	printf("users     %zu (ids up to %u)\n", ds->nusers, ds->max_user);
	printf("items     %zu rated, %zu movies (ids up to %u)\n", in->rated_items, ds->nmovies,
	       ds->max_item);
	printf("ratings   %zu, mean %.2f, sd %.2f\n", ds->nratings, in->mean, in->sd);
	for (h = 1; h <= 10; h++)
		if (in->by_halves[h] > maxh)
			maxh = in->by_halves[h];
	for (h = 1; h <= 10; h++) {
		int len = (int)((double)in->by_halves[h] * 40 / maxh + 0.5);

		printf("  %d.%d     %5.1f%% %s", h / 2, h % 2 ? 5 : 0,
		       ds->nratings ? 100.0 * in->by_halves[h] / ds->nratings : 0.0, cli_color(C_CYAN));
		for (i = 0; i < (size_t)len; i++)
			putchar('#');
		printf("%s\n", cli_color(C_RESET));
	}
	if (in->year_min)
		printf("years     %d..%d (release)\n", in->year_min, in->year_max);
	if (ds->nratings) {
		date(a, sizeof(a), in->ts_min);
		date(b, sizeof(b), in->ts_max);
		printf("rated     %s..%s\n", a, b);
	}
	printf("genres   ");
	for (g = 0, shown = 0; g < GENRE_COUNT && shown < TOP_GENRES; g++) {
		int k = in->genre_order[g];

		if (!in->genre_movies[k])
			break;
		printf("%s %s %zu", shown ? "," : "", genre_name((enum genre)k), in->genre_movies[k]);
		shown++;
	}
	printf("%s\n", shown ? "" : " none");
	human_count(r, sizeof(r), in->read_secs > 0 ? ds->nratings / in->read_secs : 0);
	printf("read      in %.2f s: %s ratings/s, %.0f MB/s\n", in->read_secs, r,
	       in->read_secs > 0 ? in->bytes / 1e6 / in->read_secs : 0.0);
	if (skip)
		print_report_text(rep);
}

static int print_json(const struct dataset *ds, const struct info *in,
		      const struct dataset_report *rep, int skip)
{
	json_t *o = json_object(), *dist = json_object(), *genres = json_object();
	char key[8];
	int h, g;

	json_object_set_new(o, "name", json_string(ds->name));
	json_object_set_new(o, "format", json_string(format_name(ds->format)));
	json_object_set_new(o, "users", json_integer((json_int_t)ds->nusers));
	json_object_set_new(o, "items_rated", json_integer((json_int_t)in->rated_items));
	json_object_set_new(o, "movies", json_integer((json_int_t)ds->nmovies));
	json_object_set_new(o, "ratings", json_integer((json_int_t)ds->nratings));
	json_object_set_new(o, "max_user", json_integer(ds->max_user));
	json_object_set_new(o, "max_item", json_integer(ds->max_item));
	json_object_set_new(o, "mean", json_real(round(in->mean * 1e4) / 1e4));
	json_object_set_new(o, "sd", json_real(round(in->sd * 1e4) / 1e4));
	for (h = 1; h <= 10; h++) {
		snprintf(key, sizeof(key), "%d.%d", h / 2, h % 2 ? 5 : 0);
		json_object_set_new(dist, key, json_integer((json_int_t)in->by_halves[h]));
	}
	json_object_set_new(o, "distribution", dist);
	json_object_set_new(o, "year_min", json_integer(in->year_min));
	json_object_set_new(o, "year_max", json_integer(in->year_max));
	json_object_set_new(o, "ts_min", json_integer(ds->nratings ? in->ts_min : 0));
	json_object_set_new(o, "ts_max", json_integer(in->ts_max));
	for (g = 0; g < GENRE_COUNT; g++) {
		int k = in->genre_order[g];

		if (in->genre_movies[k])
			json_object_set_new(genres, genre_name((enum genre)k),
					    json_integer((json_int_t)in->genre_movies[k]));
	}
	json_object_set_new(o, "genres", genres);
	json_object_set_new(o, "read_seconds", json_real(round(in->read_secs * 1e4) / 1e4));
	if (skip) {
		json_t *rr = json_object(), *by = json_object(), *ex = json_array();
		const char *s = rep->examples.s;
		int p;

		json_object_set_new(rr, "lines_read", json_integer((json_int_t)rep->lines_read));
		json_object_set_new(rr, "skipped", json_integer((json_int_t)rep->skipped));
		for (p = 0; p < PROBLEM_COUNT; p++)
			json_object_set_new(by, dataset_problem_name((enum dataset_problem)p),
					    json_integer((json_int_t)rep->by_reason[p]));
		json_object_set_new(rr, "by_reason", by);
		while (*s) {
			const char *nl = strchr(s, '\n');
			size_t n = nl ? (size_t)(nl - s) : strlen(s);

			json_array_append_new(ex, json_stringn(s, n));
			s += n + (nl ? 1 : 0);
		}
		json_object_set_new(rr, "examples", ex);
		json_object_set_new(o, "report", rr);
	}
	return jsonout_print(o);
}

static double file_bytes(const char *dir, enum dataset_format fmt)
{
	double total = 0;
	size_t i, k;

	for (i = 0; i < ARRAY_SIZE(formats); i++) {
		if (formats[i].fmt != fmt)
			continue;
		for (k = 0; k < 2; k++) {
			char *p = xstrfmt("%s/%s", dir, formats[i].files[k]);
			struct stat st;

			if (!stat(p, &st))
				total += (double)st.st_size;
			free(p);
		}
	}
	return total;
}

static int data_info(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "json", no_argument, NULL, 'j' },
		{ "on-error", required_argument, NULL, 'e' },
		{ "format", required_argument, NULL, 'f' },
		{ NULL, 0, NULL, 0 },
	};
	enum dataset_on_error mode = DS_ABORT;
	enum dataset_format fmt = DS_AUTO;
	struct dataset ds;
	struct dataset_report rep;
	struct buf err = BUF_INIT;
	struct info in;
	const char *dir;
	char *named_dir = NULL;
	int c, json = 0, ret = 1;
	size_t i;
	double t0;

	dataset_init(&ds);
	dataset_report_init(&rep);
	memset(&in, 0, sizeof(in));
	optind = 1;
	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (c) {
		case 'j':
			json = 1;
			break;
		case 'e':
			if (!strcmp(optarg, "abort")) {
				mode = DS_ABORT;
			} else if (!strcmp(optarg, "skip")) {
				mode = DS_SKIP;
			} else {
				ret = cli_bad_usage("data", "--on-error wants abort or skip, got '%s'", optarg);
				goto out;
			}
			break;
		case 'f':
			for (i = 0; i < ARRAY_SIZE(formats); i++)
				if (!strcmp(optarg, formats[i].name))
					break;
			if (i == ARRAY_SIZE(formats)) {
				ret = cli_bad_usage("data", "--format wants auto, ml-100k, dat or csv, got '%s'",
						    optarg);
				goto out;
			}
			fmt = formats[i].fmt;
			break;
		default:
			ret = cli_bad_option("data", argv);
			goto out;
		}
	}
	if (optind + 1 != argc) {
		ret = cli_bad_usage("data", "'data info' wants one dataset directory");
		goto out;
	}
	/* a fetched or generated dataset's name stands for its folder */
	{
		char *nm = NULL;

		if (!(named_dir = find_dataset(argv[optind], &nm))) {
			ret = RC_USAGE;
			goto out;
		}
		free(nm);
		dir = named_dir;
	}
	t0 = clock_s();
	if (dataset_read(&ds, dir, fmt, mode, &rep, &err)) {
		if (mode == DS_ABORT && strchr(err.s, ':') && rep.lines_read)
			buf_addstr(&err, "; --on-error=skip leaves bad lines out and reports them");
		ret = cli_fail(RC_FAILED, "%s", err.s);
		goto out;
	}
	in.read_secs = clock_s() - t0;
	in.bytes = file_bytes(dir, ds.format);
	summarize(&ds, &in);
	if (json)
		ret = print_json(&ds, &in, &rep, mode == DS_SKIP) ? 1 : 0;
	else {
		print_text(dir, &ds, &in, &rep, mode == DS_SKIP);
		ret = 0;
	}
out:
	dataset_release(&ds);
	dataset_report_release(&rep);
	free(named_dir);
	buf_release(&err);
	return ret;
}

/* ---- list and fetch: the MovieLens catalog ---- */

/* the catalog and the datasets on this machine, as JSON */
static void list_json(const struct catalog_entry *es, int n)
{
	struct catalog_local loc[64];
	json_t *o = json_object(), *cat = json_array(), *gen = json_array();
	int nl = catalog_local_list(loc, 64), i;

	for (i = 0; i < n; i++) {
		json_t *e = json_object();
		char *dir = catalog_present(es[i].name) ? catalog_data_dir(es[i].name) : NULL;

		json_object_set_new(e, "name", json_string(es[i].name));
		json_object_set_new(e, "description", json_string(es[i].description));
		json_object_set_new(e, "fetched", json_boolean(dir != NULL));
		json_object_set_new(e, "dir", dir ? json_string(dir) : json_null());
		json_object_set_new(e, "size", es[i].size ? json_integer(es[i].size) : json_null());
		json_object_set_new(e, "licence", json_string(es[i].licence));
		json_array_append_new(cat, e);
		free(dir);
	}
	for (i = 0; i < nl; i++) {
		json_t *e;

		if (loc[i].fetched)
			continue;
		e = json_object();
		json_object_set_new(e, "name", json_string(loc[i].name));
		json_object_set_new(e, "dir", json_string(loc[i].dir));
		json_array_append_new(gen, e);
	}
	json_object_set_new(o, "catalog", cat);
	json_object_set_new(o, "generated", gen);
	jsonout_print(o);
}

static int data_list(int argc, char **argv)
{
	struct catalog_entry es[32];
	struct buf err = BUF_INIT;
	char q[QUOTE_BUF];
	int n, i, json = 0;

	for (i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--json"))
			json = 1;
		else
			return cli_bad_usage("data", "'data list' takes only --json, not %s",
					     quote(q, argv[i]));
	}
	n = catalog_list(es, 32, &err);
	if (n < 0) {
		cli_fail(RC_FAILED, "%s", err.s);
		buf_release(&err);
		return RC_FAILED;
	}
	if (json) {
		list_json(es, n);
		buf_release(&err);
		return RC_OK;
	}
	printf("%-16s %-8s %s\n", "NAME", "FETCHED", "DESCRIPTION");
	for (i = 0; i < n; i++)
		printf("%-16s %-8s %s\n", es[i].name, catalog_present(es[i].name) ? "yes" : "no",
		       es[i].description);
	printf("\n'pancake data fetch NAME' downloads one; licence: %s\n", n ? es[0].licence : "-");
	{
		struct catalog_local loc[64];
		int nl = catalog_local_list(loc, 64), shown = 0;

		for (i = 0; i < nl; i++) {
			if (loc[i].fetched)
				continue;
			if (!shown++)
				printf("\ngenerated (pancake data gen), by name:\n");
			printf("  %-24s %s\n", loc[i].name, loc[i].dir);
		}
	}
	buf_release(&err);
	return 0;
}

static const char *const fetch_steps[] = {
	[FETCH_DOWNLOAD] = "downloading", [FETCH_VERIFY] = "checking",
	[FETCH_UNPACK] = "unpacking", [FETCH_DONE] = "ready in",
};

static void fetch_progress(enum catalog_step step, int64_t done, int64_t total,
			   const char *text, void *ctx)
{
	double *last = ctx;

	if (step == FETCH_DOWNLOAD && !text) {
		double t = clock_s();
		if (!isatty(1) || t - *last < 0.2)
			return;
		*last = t;
		if (total > 0) {
			int fill = (int)((double)done / (double)total * BAR_WIDTH);
			printf("\r  [%.*s%*s] %5.1f%% %.1f of %.1f MB", fill,
			       "##############################", BAR_WIDTH - fill, "",
			       100.0 * (double)done / (double)total, (double)done / 1e6, (double)total / 1e6);
		} else {
			printf("\r  %.1f MB", (double)done / 1e6);
		}
		fflush(stdout);
		return;
	}
	if (isatty(1))
		printf("\r\033[K");
	printf("  %s %s\n", fetch_steps[step], text ? text : "");
	fflush(stdout);
}

static int data_fetch(int argc, char **argv)
{
	struct catalog_entry e;
	struct buf err = BUF_INIT;
	double last = 0;
	int ret = 1;

	if (argc != 2)
		return cli_bad_usage("data", "'data fetch' wants one dataset name (see 'pancake data list')");
	if (catalog_load(&e, argv[1], &err))
		goto out;
	if (catalog_present(e.name)) {
		char *dir = catalog_data_dir(e.name);
		printf("%s is already fetched in %s\n", e.name, dir);
		free(dir);
		ret = 0;
		goto out;
	}
	printf("%s: %s\n  licence: %s\n", e.name, e.description, e.licence);
	if (catalog_fetch(&e, fetch_progress, &last, &err))
		goto out;
	if (!*e.md5 && !*e.sha256)
		printf("  note: the manifest has no checksum for this archive: it was not verified\n");
	ret = 0;
out:
	if (ret && err.len) {
		if (isatty(1))
			printf("\n");
		cli_print_error(err.s);
	}
	buf_release(&err);
	return ret;
}


/* ---- load and verify: the dataset into the stack ---- */

struct bars {
	pthread_mutex_t lock;
	int n;
	const char *names[LOADRUN_MAX];
	uint64_t done[LOADRUN_MAX], total[LOADRUN_MAX];
	/* the first count a target reported (what a resume skipped) and when:
	 * its rate counts only what this run sends */
	uint64_t base[LOADRUN_MAX];
	double since[LOADRUN_MAX];
	int seen[LOADRUN_MAX];
	double last;
};

static void draw_bars(struct bars *b)
{
	int i;

	printf("\033[%dA", b->n);
	for (i = 0; i < b->n; i++) {
		double f = b->total[i] ? (double)b->done[i] / (double)b->total[i] : 0;
		double el = clock_s() - b->since[i];
		double rate = b->seen[i] && el > 0.2 ? (double)(b->done[i] - b->base[i]) / el : 0;
		char r[16], eta[32] = "-";
		int fill = (int)(f * BAR_WIDTH);

		human_count(r, sizeof(r), rate);
		if (rate > 0 && b->total[i] > b->done[i])
			human_duration(eta, sizeof(eta),
				       (long long)ceil((double)(b->total[i] - b->done[i]) / rate));
		else if (b->total[i] && b->done[i] >= b->total[i])
			snprintf(eta, sizeof(eta), "done");
		printf("\r\033[K  %-14s [%.*s%*s] %5.1f%% %7s/s  ETA %s\n", b->names[i], fill,
		       "##############################", BAR_WIDTH - fill, "", 100 * f, r, eta);
	}
	fflush(stdout);
}

static void load_progress(const char *target, uint64_t done, uint64_t total, void *ctx)
{
	struct bars *b = ctx;
	int i;

	pthread_mutex_lock(&b->lock);
	for (i = 0; i < b->n; i++)
		if (!strcmp(b->names[i], target)) {
			if (!b->seen[i]) {
				b->seen[i] = 1;
				b->base[i] = done;
				b->since[i] = clock_s();
			}
			b->done[i] = done;
			b->total[i] = total;
		}
	if (cli_tty() && clock_s() - b->last > 0.2) {
		b->last = clock_s();
		draw_bars(b);
	}
	pthread_mutex_unlock(&b->lock);
}

static volatile int load_cancel;

static void on_interrupt(int sig)
{
	(void)sig;
	load_cancel = 1;
}

/* the targets named in --into, or every known one when `into` is NULL */
static int pick_targets(const char *into, const struct load_target **out, int *n)
{
	char *copy, *tok, *save = NULL;

	*n = 0;
	if (!into) {
		for (; load_targets[*n]; (*n)++)
			out[*n] = load_targets[*n];
		return 0;
	}
	copy = xstrdup(into);
	for (tok = strtok_r(copy, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
		const struct load_target *t = loadrun_find(tok);
		int i;

		if (!t) {
			struct buf known = BUF_INIT;
			char q[QUOTE_BUF];

			for (i = 0; load_targets[i]; i++)
				buf_addf(&known, "%s%s", i ? ", " : "", load_targets[i]->name);
			cli_fail(RC_USAGE, "no store named %s; known are %s", quote(q, tok), known.s);
			buf_release(&known);
			free(copy);
			return -1;
		}
		for (i = 0; i < *n; i++)
			if (out[i] == t)
				break;
		if (i == *n)
			out[(*n)++] = t;
	}
	free(copy);
	return 0;
}

static void print_skip_report(const struct dataset_report *rep, FILE *out)
{
	size_t k;

	fprintf(out, "skipped %zu bad line(s):", rep->skipped);
	for (k = 0; k < PROBLEM_COUNT; k++)
		if (rep->by_reason[k])
			fprintf(out, " %zu %s", rep->by_reason[k],
				dataset_problem_name((enum dataset_problem)k));
	fprintf(out, "\n%s", rep->examples.s);
	if (rep->examples.len && rep->examples.s[rep->examples.len - 1] != '\n')
		fputc('\n', out);
}

static json_t *report_json(const struct dataset_report *rep)
{
	json_t *o = json_object(), *by = json_object(), *ex = json_array();
	const char *s = rep->examples.s;
	int p;

	json_object_set_new(o, "lines_read", json_integer((json_int_t)rep->lines_read));
	json_object_set_new(o, "skipped", json_integer((json_int_t)rep->skipped));
	for (p = 0; p < PROBLEM_COUNT; p++)
		if (rep->by_reason[p])
			json_object_set_new(by, dataset_problem_name((enum dataset_problem)p),
					    json_integer((json_int_t)rep->by_reason[p]));
	json_object_set_new(o, "by_reason", by);
	while (*s) {
		const char *nl = strchr(s, '\n');
		size_t n = nl ? (size_t)(nl - s) : strlen(s);

		json_array_append_new(ex, json_stringn(s, n));
		s += n + (nl ? 1 : 0);
	}
	json_object_set_new(o, "examples", ex);
	return o;
}

/*
 * A store could not be found (loadrun_prepare): the exit code says why,
 * and nothing was written anywhere.
 */
static int locate_failed(int code, const char *msg, const char *nothing)
{
	int rc = code == LOADRUN_ENOENGINE ? RC_NO_ENGINE : code == LOADRUN_EUSAGE ? RC_USAGE
		 : RC_FAILED;

	cli_fail(rc, "%s", msg);
	if (nothing)
		fprintf(stderr, "%s\n", nothing);
	return rc;
}

/* --endpoint T=HOST:PORT, checked before anything connects */
static int take_endpoint(struct strvec *eps, const char *arg)
{
	struct strvec one = STRVEC_INIT;
	struct buf err = BUF_INIT;
	int ret = 0;

	strvec_push(&one, arg);
	if (loadrun_check_endpoints(&one, &err))
		ret = cli_bad_usage("data", "%s", err.s);
	else
		strvec_push(eps, arg);
	strvec_clear(&one);
	buf_release(&err);
	return ret;
}

/* "2.1 s" words every store's line uses: what was written, and what that meant */
static void print_load_line(const struct loadrun_item *it)
{
	const struct load_result *r = &it->res;
	uint64_t fresh = r->ratings_written - r->ratings_rewritten;

	printf("  %-14s %llu ratings written (%llu new, %llu rewritten in place: nothing "
	       "duplicated), %llu already there and skipped, %llu movies, %.1f s\n",
	       it->t->name, (unsigned long long)r->ratings_written, (unsigned long long)fresh,
	       (unsigned long long)r->ratings_rewritten, (unsigned long long)r->ratings_skipped,
	       (unsigned long long)r->movies_written, r->seconds);
}

static void print_load_json(const char *name, const struct dataset *ds,
			    const struct dataset_report *rep, const struct loadrun_item *items,
			    int n, int interrupted)
{
	json_t *o = json_object(), *arr = json_array();
	int i;

	json_object_set_new(o, "dataset", json_string(name));
	json_object_set_new(o, "ratings", json_integer((json_int_t)ds->nratings));
	json_object_set_new(o, "movies", json_integer((json_int_t)ds->nmovies));
	json_object_set_new(o, "users", json_integer((json_int_t)ds->nusers));
	json_object_set_new(o, "report", report_json(rep));
	for (i = 0; i < n; i++) {
		const struct loadrun_item *it = &items[i];
		json_t *t = json_object();
		double secs = it->res.seconds;

		json_object_set_new(t, "target", json_string(it->t->name));
		json_object_set_new(t, "endpoint", json_sprintf("%s:%d", it->host, it->o.port));
		json_object_set_new(t, "ok", json_boolean(!it->ret));
		json_object_set_new(t, "interrupted", json_boolean(it->ret == LOAD_INTERRUPTED));
		json_object_set_new(t, "ratings_written", json_integer((json_int_t)it->res.ratings_written));
		json_object_set_new(t, "ratings_new", json_integer((json_int_t)(it->res.ratings_written -
								   it->res.ratings_rewritten)));
		json_object_set_new(t, "ratings_rewritten", json_integer((json_int_t)it->res.ratings_rewritten));
		json_object_set_new(t, "ratings_skipped", json_integer((json_int_t)it->res.ratings_skipped));
		json_object_set_new(t, "movies_written", json_integer((json_int_t)it->res.movies_written));
		json_object_set_new(t, "seconds", json_real(round(secs * 1000) / 1000));
		json_object_set_new(t, "ratings_per_second",
				    json_integer(secs > 0 ? (json_int_t)(it->res.ratings_written / secs) : 0));
		json_object_set_new(t, "error", it->ret ? json_string(it->err.s) : json_null());
		json_array_append_new(arr, t);
	}
	json_object_set_new(o, "targets", arr);
	json_object_set_new(o, "interrupted", json_boolean(interrupted));
	jsonout_print(o);
}

static int data_load(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "into", required_argument, NULL, 'i' },
		{ "on-error", required_argument, NULL, 'e' },
		{ "json", no_argument, NULL, 'j' },
		{ "full", no_argument, NULL, 'F' },
		{ "replace", no_argument, NULL, 'R' },
		{ "endpoint", required_argument, NULL, 'E' },
		{ NULL, 0, NULL, 0 },
	};
	const struct load_target *ts[LOADRUN_MAX];
	struct loadrun_item items[LOADRUN_MAX];
	struct strvec eps = STRVEC_INIT;
	enum dataset_on_error mode = DS_ABORT;
	struct dataset_report rep;
	struct dataset ds;
	struct load_opts base;
	struct buf err = BUF_INIT;
	struct bars bars;
	char *dir = NULL, *name = NULL;
	const char *into = NULL;
	int c, n = 0, i, failed, json = 0, full = 0, replace = 0, interrupted = 0, ret = 1, r;
	char q[QUOTE_BUF];
	FILE *info;

	optind = 1;
	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		if (c == 'i') {
			into = optarg;
		} else if (c == 'e' && !strcmp(optarg, "abort")) {
			mode = DS_ABORT;
		} else if (c == 'e' && !strcmp(optarg, "skip")) {
			mode = DS_SKIP;
		} else if (c == 'e') {
			ret = cli_bad_usage("data", "--on-error wants abort or skip, got %s",
					    quote(q, optarg));
			goto done;
		} else if (c == 'j') {
			json = 1;
		} else if (c == 'F') {
			full = 1;
		} else if (c == 'R') {
			replace = 1;
		} else if (c == 'E') {
			if ((ret = take_endpoint(&eps, optarg)))
				goto done;
		} else {
			ret = cli_bad_option("data", argv);
			goto done;
		}
	}
	if (optind + 1 != argc) {
		ret = cli_bad_usage("data", "'data load' wants one dataset name or directory");
		goto done;
	}
	if (pick_targets(into, ts, &n)) {
		ret = RC_USAGE;
		goto done;
	}
	if (!(dir = find_dataset(argv[optind], &name))) {
		ret = RC_USAGE;
		goto done;
	}
	/* with --json, stdout holds only the JSON document */
	info = json ? stderr : stdout;
	dataset_init(&ds);
	dataset_report_init(&rep);
	memset(&base, 0, sizeof(base));
	base.dataset = name;
	base.timeout_ms = 10000;
	base.progress = json ? NULL : load_progress;
	base.ctx = &bars;
	base.cancel = &load_cancel;
	base.full = full;
	base.endpoints = &eps;
	/* the project's own stores, through the engine, before anything is read or written */
	if ((r = loadrun_prepare(items, ts, n, &base, &err))) {
		ret = locate_failed(r, err.s, "nothing was written to any store");
		goto out;
	}
	/* the whole file is checked before anything is written to any store */
	if (dataset_read(&ds, dir, DS_AUTO, mode, &rep, &err)) {
		ret = cli_fail(RC_FAILED, "%s; nothing was written to any store (--on-error=skip "
			       "loads the good lines)", err.s);
		goto out;
	}
	if (rep.skipped)
		print_skip_report(&rep, info);
	/* only once the files passed: a refused file replaces nothing */
	if (replace) {
		for (i = 0; i < n; i++) {
			char detail[320] = "";

			buf_reset(&err);
			if (ts[i]->drop(name, &items[i].o, detail, sizeof(detail), &err)) {
				ret = cli_fail(RC_FAILED, "%s; nothing was loaded: the old '%s' could "
					       "not be removed from %s", err.s, name, ts[i]->name);
				goto out;
			}
			fprintf(info, "  %-14s replaced: %s\n", ts[i]->name, detail);
		}
	}
	fprintf(info, "loading %s: %zu ratings, %zu movies, %zu users into", name, ds.nratings,
		ds.nmovies, ds.nusers);
	for (i = 0; i < n; i++)
		fprintf(info, " %s", ts[i]->name);
	fprintf(info, "\n");
	fflush(info);
	memset(&bars, 0, sizeof(bars));
	pthread_mutex_init(&bars.lock, NULL);
	bars.n = n;
	for (i = 0; i < n; i++) {
		bars.names[i] = ts[i]->name;
		bars.since[i] = clock_s();
		if (!json && cli_tty())
			printf("\n");
	}
	sig_catch(on_interrupt, 0);
	failed = loadrun_all(&ds, items, n);
	signal(SIGINT, SIG_DFL);
	signal(SIGTERM, SIG_DFL);
	if (!json && cli_tty())
		draw_bars(&bars);
	for (i = 0; i < n; i++)
		interrupted |= items[i].ret == LOAD_INTERRUPTED;
	if (json) {
		print_load_json(name, &ds, &rep, items, n, interrupted);
	} else {
		for (i = 0; i < n; i++) {
			const struct loadrun_item *it = &items[i];

			if (it->ret == LOAD_INTERRUPTED)
				printf("  %s%-14s stopped%s %s\n", cli_color(C_YELLOW), it->t->name,
				       cli_color(C_RESET), it->err.s);
			else if (it->ret)
				printf("  %s%-14s FAILED%s %s\n", cli_color(C_RED), it->t->name,
				       cli_color(C_RESET), it->err.s);
			else
				print_load_line(it);
		}
		if (interrupted || load_cancel)
			printf("interrupted: run the same command again to resume\n");
		else if (failed == n)
			printf("%s failed: fix what %s and run the same command again\n",
			       n == 1 ? "the target" : "every target", n == 1 ? "it says" : "they say");
		else if (failed)
			printf("%d of %d target(s) failed; what the others loaded stays: fix the "
			       "failed one and run the same command again (nothing is duplicated)\n",
			       failed, n);
	}
	ret = interrupted || load_cancel ? RC_INTERRUPTED : failed ? RC_FAILED : RC_OK;
	for (i = 0; i < n; i++)
		buf_release(&items[i].err);
	pthread_mutex_destroy(&bars.lock);
out:
	dataset_release(&ds);
	dataset_report_release(&rep);
done:
	strvec_clear(&eps);
	buf_release(&err);
	free(dir);
	free(name);
	return ret;
}

static void count_text(char *out, size_t size, int64_t v)
{
	if (v < 0)
		snprintf(out, size, "-");
	else
		snprintf(out, size, "%lld", (long long)v);
}

static int data_verify(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "into", required_argument, NULL, 'i' },
		{ "json", no_argument, NULL, 'j' },
		{ "endpoint", required_argument, NULL, 'E' },
		{ NULL, 0, NULL, 0 },
	};
	const struct load_target *ts[LOADRUN_MAX];
	struct verify_row rows[LOADRUN_MAX];
	struct loadrun_item items[LOADRUN_MAX];
	struct strvec eps = STRVEC_INIT;
	struct dataset ds;
	struct load_opts base;
	struct buf err = BUF_INIT;
	char *dir = NULL, *name = NULL;
	const char *into = NULL;
	int c, n = 0, i, bad, json = 0, ret = 1, r;

	dataset_init(&ds);
	optind = 1;
	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		if (c == 'i') {
			into = optarg;
		} else if (c == 'j') {
			json = 1;
		} else if (c == 'E') {
			if ((ret = take_endpoint(&eps, optarg)))
				goto out;
		} else {
			ret = cli_bad_option("data", argv);
			goto out;
		}
	}
	if (optind + 1 != argc) {
		ret = cli_bad_usage("data", "'data verify' wants one dataset name or directory");
		goto out;
	}
	ret = RC_USAGE;
	if (pick_targets(into, ts, &n) || !(dir = find_dataset(argv[optind], &name)))
		goto out;
	memset(&base, 0, sizeof(base));
	base.dataset = name;
	base.timeout_ms = 10000;
	base.endpoints = &eps;
	/* the stores are the project's own, or none is asked */
	if ((r = loadrun_prepare(items, ts, n, &base, &err))) {
		ret = locate_failed(r, err.s, NULL);
		goto out;
	}
	if (dataset_read(&ds, dir, DS_AUTO, DS_SKIP, NULL, &err)) {
		ret = cli_fail(RC_FAILED, "%s", err.s);
		goto out;
	}
	for (i = 0; i < n; i++)
		rows[i].t = ts[i];
	bad = loadrun_verify(&ds, rows, n, &base);
	if (json) {
		json_t *arr = json_array();
		for (i = 0; i < n; i++) {
			json_t *o = json_object();
			json_object_set_new(o, "target", json_string(ts[i]->name));
			json_object_set_new(o, "ok", json_boolean(rows[i].ok));
			json_object_set_new(o, "ratings", json_integer(rows[i].have.ratings));
			json_object_set_new(o, "expected_ratings", json_integer(rows[i].want.ratings));
			json_object_set_new(o, "movies", json_integer(rows[i].have.movies));
			json_object_set_new(o, "expected_movies", json_integer(rows[i].want.movies));
			json_object_set_new(o, "users", json_integer(rows[i].have.users));
			json_object_set_new(o, "expected_users", json_integer(rows[i].want.users));
			json_object_set_new(o, "detail", json_string(rows[i].have.detail));
			json_object_set_new(o, "error", rows[i].err.len ? json_string(rows[i].err.s) : json_null());
			json_array_append_new(arr, o);
		}
		jsonout_print(arr);
	} else {
		printf("%-14s %-21s %-21s %-21s %s\n", "TARGET", "RATINGS have/want", "MOVIES have/want",
		       "USERS have/want", "RESULT");
		for (i = 0; i < n; i++) {
			char a[24], b[24], cc[24], d[24], e[24], f[24], col[3][48];
			count_text(a, sizeof(a), rows[i].have.ratings);
			count_text(b, sizeof(b), rows[i].want.ratings);
			count_text(cc, sizeof(cc), rows[i].have.movies);
			count_text(d, sizeof(d), rows[i].want.movies);
			count_text(e, sizeof(e), rows[i].have.users);
			count_text(f, sizeof(f), rows[i].want.users);
			snprintf(col[0], sizeof(col[0]), "%s/%s", a, b);
			snprintf(col[1], sizeof(col[1]), "%s/%s", cc, d);
			snprintf(col[2], sizeof(col[2]), "%s/%s", e, f);
			printf("%-14s %-21s %-21s %-21s %s%s%s %s\n", ts[i]->name, col[0], col[1], col[2],
			       cli_color(rows[i].ok ? C_GREEN : C_RED), rows[i].ok ? "equal" : "DIFFERENT",
			       cli_color(C_RESET), rows[i].err.len ? rows[i].err.s : "");
		}
		for (i = 0; i < n; i++)
			if (!rows[i].ok && !rows[i].err.len && rows[i].have.detail[0])
				printf("  %s: %s\n", ts[i]->name, rows[i].have.detail);
		if (bad)
			printf("%d of %d target(s) differ: 'pancake data load %s' completes a partial "
			       "load (add --full to rewrite every record)\n", bad, n, argv[optind]);
	}
	for (i = 0; i < n; i++)
		buf_release(&rows[i].err);
	ret = bad ? RC_FAILED : RC_OK;
out:
	dataset_release(&ds);
	strvec_clear(&eps);
	buf_release(&err);
	free(dir);
	free(name);
	return ret;
}

/* ---- drop: what loads of a dataset put in the stores ---- */

static int data_drop(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "from", required_argument, NULL, 'f' },
		{ "json", no_argument, NULL, 'j' },
		{ "endpoint", required_argument, NULL, 'E' },
		{ NULL, 0, NULL, 0 },
	};
	const struct load_target *ts[LOADRUN_MAX];
	struct loadrun_item items[LOADRUN_MAX];
	struct strvec eps = STRVEC_INIT;
	char detail[LOADRUN_MAX][320];
	struct load_opts base;
	struct buf err = BUF_INIT;
	char *dir = NULL, *name = NULL, q[QUOTE_BUF];
	const char *from = NULL;
	int c, n = 0, i, failed = 0, json = 0, ret = 1, r;
	json_t *arr = NULL;

	optind = 1;
	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		if (c == 'f') {
			from = optarg;
		} else if (c == 'j') {
			json = 1;
		} else if (c == 'E') {
			if ((ret = take_endpoint(&eps, optarg)))
				goto out;
		} else {
			ret = cli_bad_option("data", argv);
			goto out;
		}
	}
	if (optind + 1 != argc) {
		ret = cli_bad_usage("data", "'data drop' wants one dataset name");
		goto out;
	}
	if (pick_targets(from, ts, &n)) {
		ret = RC_USAGE;
		goto out;
	}
	/* the files are not needed: a name is enough, a folder gives its name */
	dir = catalog_resolve(argv[optind], &name);
	if (!dir) {
		if (strchr(argv[optind], '/') || !*argv[optind]) {
			ret = cli_bad_usage("data", "'data drop' wants a dataset name, not %s",
					    quote(q, argv[optind]));
			goto out;
		}
		name = xstrdup(argv[optind]);
	}
	memset(&base, 0, sizeof(base));
	base.dataset = name;
	base.timeout_ms = 10000;
	base.endpoints = &eps;
	if ((r = loadrun_prepare(items, ts, n, &base, &err))) {
		ret = locate_failed(r, err.s, "nothing was removed from any store");
		goto out;
	}
	if (json)
		arr = json_array();
	for (i = 0; i < n; i++) {
		buf_reset(&err);
		detail[i][0] = '\0';
		r = ts[i]->drop(name, &items[i].o, detail[i], sizeof(detail[i]), &err);
		failed += r != 0;
		if (json) {
			json_t *o = json_object();

			json_object_set_new(o, "target", json_string(ts[i]->name));
			json_object_set_new(o, "ok", json_boolean(!r));
			json_object_set_new(o, "detail", json_string(detail[i]));
			json_object_set_new(o, "error", r ? json_string(err.s) : json_null());
			json_array_append_new(arr, o);
		} else if (r) {
			printf("  %s%-14s FAILED%s %s\n", cli_color(C_RED), ts[i]->name,
			       cli_color(C_RESET), err.s);
		} else {
			printf("  %-14s %s\n", ts[i]->name, detail[i]);
		}
	}
	if (json) {
		jsonout_print(arr);
	} else if (!failed) {
		printf("dataset '%s' is gone from the stores above; 'pancake data load' brings it back\n",
		       name);
	}
	ret = failed ? RC_FAILED : RC_OK;
out:
	strvec_clear(&eps);
	buf_release(&err);
	free(dir);
	free(name);
	return ret;
}

/* ---- the subcommands ---- */

static const struct {
	const char *name;
	int (*fn)(int argc, char **argv);
} data_cmds[] = {
	{ "gen", data_gen },
	{ "info", data_info },
	{ "list", data_list },
	{ "fetch", data_fetch },
	{ "load", data_load },
	{ "verify", data_verify },
	{ "drop", data_drop },
};

int cmd_data(int argc, char **argv)
{
	size_t i;

	if (argc < 2)
		return cli_bad_usage("data", "'data' wants a subcommand: gen, info, list, fetch, "
				     "load, verify or drop");
	for (i = 0; i < ARRAY_SIZE(data_cmds); i++)
		if (!strcmp(argv[1], data_cmds[i].name))
			return data_cmds[i].fn(argc - 1, argv + 1);
	return cli_bad_usage("data", "'%s' is not a 'data' subcommand: use gen, info, list, fetch, "
			     "load, verify or drop", argv[1]);
}
