/*
 * fuzz-dataset: the MovieLens CSV reader. The input is written as
 * ratings.csv beside a fixed small movies.csv (or, when the input holds a
 * NUL, the part after it is movies.csv) in a scratch directory under
 * /dev/shm (or $TMPDIR), then read with DS_SKIP and with DS_ABORT; what the
 * two modes say must agree, and what is kept must be valid.
 */
#include "fuzz.h"
/*
 * The reader is compiled in here (FUZZ_LIB_SRC leaves it out) so the
 * checks can use its static UTF-8 validator.
 */
#include "core/dataset.c"

#include <sys/stat.h>

static const char fixed_movies[] =
	"movieId,title,genres\n"
	"1,Toy Story (1995),Adventure|Animation|Children|Comedy|Fantasy\n"
	"2,\"American President, The (1995)\",Comedy|Drama|Romance\n"
	"3,\"The \"\"Quoted\"\" Film (2001)\",Drama|IMAX\n"
	"10,Babylon 5,(no genres listed)\n"
	"4000000000,Big Id (1999),Film-Noir\n";

static char dir[256];

static const char *scratch(void)
{
	const char *base = access("/dev/shm", W_OK) ? getenv("TMPDIR") : "/dev/shm";

	if (!dir[0])
		snprintf(dir, sizeof(dir), "%s/pancake-fuzz-dataset-%d",
			 base && *base ? base : "/tmp", (int)getpid());
	return dir;
}

static void write_file(const char *name, const uint8_t *data, size_t size)
{
	char path[320];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	f = fopen(path, "wb");
	if (!f || fwrite(data, 1, size, f) != size || fclose(f)) {
		perror(path);
		abort();
	}
}

static void remove_files(void)
{
	char path[320];

	snprintf(path, sizeof(path), "%s/ratings.csv", dir);
	unlink(path);
	snprintf(path, sizeof(path), "%s/movies.csv", dir);
	unlink(path);
	rmdir(dir);
}

static int cmp_pair(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

/* what any successful read must hold */
static void check_dataset(const struct dataset *ds)
{
	uint64_t *pairs = xmalloc((ds->nratings + 1) * sizeof(*pairs));
	size_t i, users = 0;

	for (i = 0; i < ds->nmovies; i++) {
		CHECK(ds->movies[i].id >= 1);
		CHECK(!i || ds->movies[i].id > ds->movies[i - 1].id);
		CHECK(ds->movies[i].title);
		CHECK(utf8_invalid_at(ds->movies[i].title,
				      ds->movies[i].title + strlen(ds->movies[i].title)) < 0);
		CHECK(ds->movies[i].genres && !(ds->movies[i].genres >> GENRE_COUNT));
		CHECK(ds->movies[i].year >= 0 && ds->movies[i].year <= 9999);
		CHECK(ds->movies[i].id <= ds->max_item);
		CHECK(dataset_movie(ds, ds->movies[i].id) == &ds->movies[i]);
	}
	for (i = 0; i < ds->nratings; i++) {
		const struct rating *r = &ds->ratings[i];

		CHECK(r->halves >= 1 && r->halves <= 10);
		CHECK(r->user >= 1 && r->user <= ds->max_user);
		CHECK(dataset_movie(ds, r->item));
		pairs[i] = (uint64_t)r->user << 32 | r->item;
	}
	qsort(pairs, ds->nratings, sizeof(*pairs), cmp_pair);
	for (i = 0; i < ds->nratings; i++) {
		CHECK(!i || pairs[i] != pairs[i - 1]);
		if (!i || pairs[i] >> 32 != pairs[i - 1] >> 32)
			users++;
	}
	CHECK(users == ds->nusers);
	free(pairs);
}

static size_t count_lines(const char *s)
{
	size_t n = 0;

	for (; (s = strchr(s, '\n')); s++)
		n++;
	return n;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const uint8_t *nul = memchr(data, 0, size);
	size_t rsize = nul ? (size_t)(nul - data) : size;
	struct dataset skip, abrt;
	struct dataset_report rep, rep2;
	struct buf err = BUF_INIT, err2 = BUF_INIT;
	size_t total = 0, i;
	int r;

	scratch();
	if (mkdir(dir, 0700) && errno != EEXIST) {
		perror(dir);
		abort();
	}
	write_file("ratings.csv", data, rsize);
	if (nul)
		write_file("movies.csv", nul + 1, size - rsize - 1);
	else
		write_file("movies.csv", (const uint8_t *)fixed_movies, sizeof(fixed_movies) - 1);

	dataset_init(&skip);
	dataset_init(&abrt);
	dataset_report_init(&rep);
	dataset_report_init(&rep2);

	r = dataset_read(&skip, dir, DS_AUTO, DS_SKIP, &rep, &err);
	CHECK(r == 0 && !err.len);
	for (i = 0; i < PROBLEM_COUNT; i++)
		total += rep.by_reason[i];
	CHECK(total == rep.skipped);
	CHECK(count_lines(rep.examples.s) == (rep.skipped < 10 ? rep.skipped : 10));
	CHECK(skip.nratings <= rep.lines_read);
	check_dataset(&skip);

	r = dataset_read(&abrt, dir, DS_AUTO, DS_ABORT, &rep2, &err2);
	CHECK(r == 0 || r == -1);
	CHECK(!r == !rep.skipped);
	if (!r) {
		CHECK(!err2.len);
		CHECK(abrt.nratings == skip.nratings && abrt.nmovies == skip.nmovies);
		for (i = 0; i < abrt.nratings; i++) {
			const struct rating *a = &abrt.ratings[i], *b = &skip.ratings[i];

			CHECK(a->user == b->user && a->item == b->item && a->ts == b->ts &&
			      a->halves == b->halves);
		}
	} else {
		CHECK(!abrt.nratings && !abrt.nmovies && !abrt.ratings && !abrt.movies);
		CHECK(!strncmp(err2.s, "ratings.csv:", 12) || !strncmp(err2.s, "movies.csv:", 11));
		/* the first problem is the first that skip mode reports */
		CHECK(!strncmp(rep.examples.s, err2.s, err2.len) && rep.examples.s[err2.len] == '\n');
	}

	dataset_release(&skip);
	dataset_release(&abrt);
	dataset_report_release(&rep);
	dataset_report_release(&rep2);
	buf_release(&err);
	buf_release(&err2);
	remove_files();
	return 0;
}
