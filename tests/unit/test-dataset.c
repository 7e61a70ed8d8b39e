/* test-dataset: the MovieLens readers on small files of every layout, and every kind of bad line. */
#include "core/dataset.h"
#include "util/buf.h"
#include "util/xalloc.h"
#include "tap.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static char tmpdir[] = "/tmp/pancake-test-dataset-XXXXXX";
static int ncase;

/* a fresh directory for one case (borrowed until the next call) */
static const char *case_dir(void)
{
	static char path[256];

	snprintf(path, sizeof(path), "%s/case%d", tmpdir, ++ncase);
	if (mkdir(path, 0700))
		die("cannot create '%s'", path);
	return path;
}

static void put(const char *dir, const char *name, const char *text)
{
	char *path = xstrfmt("%s/%s", dir, name);
	FILE *f = fopen(path, "wb");

	if (!f || fwrite(text, 1, strlen(text), f) != strlen(text) || fclose(f))
		die("cannot write '%s'", path);
	free(path);
}

static void cleanup(void)
{
	tap_rmtree(tmpdir);
}

static const char csv_movies[] =
	"movieId,title,genres\n"
	"1,Toy Story (1995),Adventure|Animation|Children|Comedy|Fantasy\n"
	"2,\"American President, The (1995)\",Comedy|Drama|Romance\n"
	"3,\"The \"\"Quoted\"\" Film, Part 2 (2001)\",Drama|IMAX\n"
	"10,Babylon 5,(no genres listed)\n"
	"11,Trailing Spaces (1999)  ,Film-Noir|Sci-Fi\n";

static const char dat_movies[] =
	"1::Toy Story (1995)::Animation|Children's|Comedy\n"
	"2::Jumanji (1995)::Adventure|Children's|Fantasy\n"
	"10::GoldenEye (1995)::Action|Adventure|Thriller\n";

/* 19 flags: unknown Action Adventure Animation Children's Comedy Crime Documentary Drama ... */
static const char item_movies[] =
	"1|Toy Story (1995)|01-Jan-1995||http://us.imdb.com/M/title-exact?Toy%20Story%20(1995)|0|0|0|1|1|1|0|0|0|0|0|0|0|0|0|0|0|0|0\n"
	"2|GoldenEye (1995)|01-Jan-1995||http://x|0|1|1|0|0|0|0|0|0|0|0|0|0|0|0|0|1|0|0\n"
	"10|Mis\xe9rables, Les (1995)|01-Jan-1995||http://x|0|0|0|0|0|0|0|0|1|0|0|0|0|0|0|0|0|1|0\n";

static uint32_t bits(int a, int b, int c)
{
	return (a >= 0 ? 1u << a : 0) | (b >= 0 ? 1u << b : 0) | (c >= 0 ? 1u << c : 0);
}

static void check_movie(const struct dataset *ds, uint32_t id, const char *title, int year,
			uint32_t genres)
{
	const struct movie *m = dataset_movie(ds, id);

	if (!ok(m != NULL, "movie %u exists", id))
		return;
	is_str(m->title, title, "movie %u title", id);
	is_int(m->year, year, "movie %u year", id);
	is_int(m->genres, genres, "movie %u genres", id);
}

static int read_dir(const char *dir, enum dataset_on_error mode, struct dataset *ds,
		    struct dataset_report *rep, struct buf *err)
{
	buf_reset(err);
	dataset_report_release(rep);
	return dataset_read(ds, dir, DS_AUTO, mode, rep, err);
}

/* ---- good files of every layout ---- */

static void test_csv(void)
{
	const char *dir = case_dir();
	struct dataset ds;
	struct dataset_report rep;
	struct buf err = BUF_INIT;
	int r;

	put(dir, "movies.csv", csv_movies);
	put(dir, "ratings.csv",
	    "userId,movieId,rating,timestamp\n"
	    "1,1,4.0,964982703\n"
	    "1,3,4.5,964981247\n"
	    "1,10,0.5,964982224\n"
	    "2,2,3,1445714835\n"
	    "2,1,5.0,1445714836\n"
	    "2,11,4.50,1445714837\n"
	    "3,10,2.5,0\n");
	dataset_init(&ds);
	dataset_report_init(&rep);
	r = read_dir(dir, DS_ABORT, &ds, &rep, &err);
	is_int(r, 0, "csv: read");
	is_str(err.s, "", "csv: no error");
	is_int(ds.format, DS_ML_CSV, "csv: format detected");
	is_int(ds.nratings, 7, "csv: ratings");
	is_int(ds.nmovies, 5, "csv: movies");
	is_int(ds.nusers, 3, "csv: users");
	is_int(ds.max_user, 3, "csv: max user");
	is_int(ds.max_item, 11, "csv: max item");
	is_int(rep.lines_read, 12, "csv: lines read (5 movies, 7 ratings)");
	is_int(rep.skipped, 0, "csv: nothing skipped");
	ok(ds.name && !strncmp(ds.name, "case", 4), "csv: name is the directory's");
	check_movie(&ds, 1, "Toy Story", 1995,
		    bits(G_ADVENTURE, G_ANIMATION, G_CHILDREN) | bits(G_COMEDY, G_FANTASY, -1));
	check_movie(&ds, 2, "American President, The", 1995, bits(G_COMEDY, G_DRAMA, G_ROMANCE));
	check_movie(&ds, 3, "The \"Quoted\" Film, Part 2", 2001, bits(G_DRAMA, G_IMAX, -1));
	check_movie(&ds, 10, "Babylon 5", 0, bits(G_NONE, -1, -1));
	check_movie(&ds, 11, "Trailing Spaces", 1999, bits(G_FILM_NOIR, G_SCI_FI, -1));
	ok(!dataset_movie(&ds, 4) && !dataset_movie(&ds, 0) && !dataset_movie(&ds, 12),
	   "csv: no movie where no line defines one");
	if (ds.nratings == 7) {
		is_int(ds.ratings[0].user, 1, "csv: first rating's user");
		is_int(ds.ratings[0].item, 1, "csv: first rating's item");
		is_int(ds.ratings[0].halves, 8, "csv: 4.0 is 8 halves");
		is_int(ds.ratings[0].ts, 964982703, "csv: first rating's time");
		is_int(ds.ratings[1].halves, 9, "csv: 4.5 is 9 halves");
		is_int(ds.ratings[2].halves, 1, "csv: 0.5 is 1 half");
		is_int(ds.ratings[3].halves, 6, "csv: '3' is 6 halves");
		is_int(ds.ratings[5].halves, 9, "csv: '4.50' (the slow path) is 9 halves");
		is_int(ds.ratings[6].ts, 0, "csv: time 0 is allowed");
	}
	dataset_release(&ds);
	ok(!ds.ratings && !ds.movies && !ds.nratings, "csv: release empties");
	dataset_report_release(&rep);
	buf_release(&err);
}

static void test_crlf_bom(void)
{
	const char *dir = case_dir();
	struct dataset ds;
	struct dataset_report rep;
	struct buf err = BUF_INIT;

	put(dir, "movies.csv", "\xef\xbb\xbfmovieId,title,genres\r\n1,\"Heat, The (1995)\",Action\r\n");
	put(dir, "ratings.csv", "userId,movieId,rating,timestamp\r\n1,1,3.5,10\r\n2,1,4,11\r\n");
	dataset_init(&ds);
	dataset_report_init(&rep);
	is_int(read_dir(dir, DS_ABORT, &ds, &rep, &err), 0, "crlf: read");
	is_str(err.s, "", "crlf: no error");
	is_int(ds.nratings, 2, "crlf: ratings");
	check_movie(&ds, 1, "Heat, The", 1995, bits(G_ACTION, -1, -1));
	if (ds.nratings == 2)
		is_int(ds.ratings[1].halves, 8, "crlf: rating before CR");
	dataset_release(&ds);
	dataset_report_release(&rep);
	buf_release(&err);
}

static void test_ml100k(void)
{
	const char *dir = case_dir();
	struct dataset ds;
	struct dataset_report rep;
	struct buf err = BUF_INIT;

	put(dir, "u.item", item_movies);
	/* u.data is not grouped by user */
	put(dir, "u.data", "2\t1\t3\t881250949\n1\t10\t5\t891717742\n2\t2\t1\t878887116\n1\t1\t4\t880606923\n");
	dataset_init(&ds);
	dataset_report_init(&rep);
	is_int(read_dir(dir, DS_ABORT, &ds, &rep, &err), 0, "100k: read");
	is_str(err.s, "", "100k: no error");
	is_int(ds.format, DS_ML100K, "100k: format detected");
	is_int(ds.nratings, 4, "100k: ratings");
	is_int(ds.nusers, 2, "100k: users");
	check_movie(&ds, 1, "Toy Story", 1995, bits(G_ANIMATION, G_CHILDREN, G_COMEDY));
	check_movie(&ds, 2, "GoldenEye", 1995, bits(G_ACTION, G_ADVENTURE, G_THRILLER));
	check_movie(&ds, 10, "Mis\xc3\xa9rables, Les", 1995, bits(G_DRAMA, G_WAR, -1));
	if (ds.nratings == 4) {
		is_int(ds.ratings[0].user, 2, "100k: file order kept");
		is_int(ds.ratings[1].halves, 10, "100k: 5 stars");
	}
	dataset_release(&ds);
	dataset_report_release(&rep);
	buf_release(&err);
}

static void test_dat(void)
{
	const char *dir = case_dir();
	struct dataset ds;
	struct dataset_report rep;
	struct buf err = BUF_INIT;

	/* 1M: latin-1 */
	put(dir, "movies.dat", "1::Toy Story (1995)::Animation|Children's|Comedy\n"
	    "2::Cit\xe9 des enfants perdus, La (1995)::Adventure|Sci-Fi\n"
	    "3::Unknown Thing::unknown\n");
	put(dir, "ratings.dat", "1::1::5::978300760\n1::2::3::978302109\n2::3::4::978301968\n");
	dataset_init(&ds);
	dataset_report_init(&rep);
	is_int(read_dir(dir, DS_ABORT, &ds, &rep, &err), 0, "1m dat: read");
	is_str(err.s, "", "1m dat: no error");
	is_int(ds.format, DS_ML_DAT, "1m dat: format detected");
	is_int(ds.nratings, 3, "1m dat: ratings");
	check_movie(&ds, 1, "Toy Story", 1995, bits(G_ANIMATION, G_CHILDREN, G_COMEDY));
	check_movie(&ds, 2, "Cit\xc3\xa9 des enfants perdus, La", 1995, bits(G_ADVENTURE, G_SCI_FI, -1));
	check_movie(&ds, 3, "Unknown Thing", 0, bits(G_NONE, -1, -1));

	/* 10M: UTF-8, half stars */
	dir = case_dir();
	put(dir, "movies.dat", "1::Toy Story (1995)::Adventure|Animation\n"
	    "2::Cit\xc3\xa9 des enfants perdus, La (1995)::Adventure|Sci-Fi\n");
	put(dir, "ratings.dat", "1::1::3.5::838985046\n1::2::5::838983525\n");
	is_int(read_dir(dir, DS_ABORT, &ds, &rep, &err), 0, "10m dat: read");
	is_str(err.s, "", "10m dat: no error");
	check_movie(&ds, 2, "Cit\xc3\xa9 des enfants perdus, La", 1995, bits(G_ADVENTURE, G_SCI_FI, -1));
	if (ds.nratings == 2)
		is_int(ds.ratings[0].halves, 7, "10m dat: 3.5 stars");
	dataset_release(&ds);
	dataset_report_release(&rep);
	buf_release(&err);
}

/* ---- bad lines: the exact DS_ABORT message, and DS_SKIP's count ---- */

enum layout_kind { CSV, DAT, U100K };

static const char *const ratings_name[] = { "ratings.csv", "ratings.dat", "u.data" };
static const char *const movies_name[] = { "movies.csv", "movies.dat", "u.item" };
static const char *const movies_default[] = { csv_movies, dat_movies, item_movies };
#define CSV_HEAD "userId,movieId,rating,timestamp\n"

static const struct bad_case {
	const char *what;
	enum layout_kind kind;
	const char *ratings;
	const char *movies;       /* NULL: the layout's good one */
	const char *abort_msg;
	enum dataset_problem reason;
	size_t skipped, kept;     /* with DS_SKIP */
	size_t of_reason;         /* skipped for `reason` when not all were */
} bad_cases[] = {
	{ "too few fields", CSV, CSV_HEAD "1,1,4,1\n1,2,3\n2,1,5,1\n", NULL,
	  "ratings.csv:3: expected 4 fields separated by ',', found 3", P_SYNTAX, 1, 2, 0 },
	{ "too many fields", CSV, CSV_HEAD "1,1,4,1,9\n", NULL,
	  "ratings.csv:2: expected 4 fields separated by ',', found 5", P_SYNTAX, 1, 0, 0 },
	{ "dat fields", DAT, "1::1::4::1\n1::2::3::1\n1::10::3\n", NULL,
	  "ratings.dat:3: expected 4 fields separated by '::', found 3", P_SYNTAX, 1, 2, 0 },
	{ "u.data fields", U100K, "1\t1\t4\t1\n1 2 3 4\n", NULL,
	  "u.data:2: expected 4 fields separated by tabs, found 1", P_SYNTAX, 1, 1, 0 },
	{ "user not a number", CSV, CSV_HEAD "x,1,4,1\n", NULL,
	  "ratings.csv:2: user id 'x' is not a number", P_SYNTAX, 1, 0, 0 },
	{ "item not a number", CSV, CSV_HEAD "1,1e3,4,1\n", NULL,
	  "ratings.csv:2: item id '1e3' is not a number", P_SYNTAX, 1, 0, 0 },
	{ "empty user", CSV, CSV_HEAD ",1,4,1\n", NULL,
	  "ratings.csv:2: user id '' is not a number", P_SYNTAX, 1, 0, 0 },
	{ "user zero", CSV, CSV_HEAD "1,1,4,1\n0,1,4,1\n", NULL,
	  "ratings.csv:3: user id '0' is outside 1..4294967295", P_RANGE, 1, 1, 0 },
	{ "user too big", CSV, CSV_HEAD "4294967296,1,4,1\n", NULL,
	  "ratings.csv:2: user id '4294967296' is outside 1..4294967295", P_RANGE, 1, 0, 0 },
	{ "rating too high", CSV, CSV_HEAD "1,1,4,1\n1,2,7.5,1\n", NULL,
	  "ratings.csv:3: rating '7.5' is outside 0.5..5", P_RANGE, 1, 1, 0 },
	{ "rating zero", CSV, CSV_HEAD "1,1,0,1\n", NULL,
	  "ratings.csv:2: rating '0' is outside 0.5..5", P_RANGE, 1, 0, 0 },
	{ "rating negative", CSV, CSV_HEAD "1,1,-1,1\n", NULL,
	  "ratings.csv:2: rating '-1' is outside 0.5..5", P_RANGE, 1, 0, 0 },
	{ "rating 5.5", DAT, "1::1::5.5::1\n", NULL,
	  "ratings.dat:1: rating '5.5' is outside 0.5..5", P_RANGE, 1, 0, 0 },
	{ "not a half star", CSV, CSV_HEAD "1,1,3.3,1\n", NULL,
	  "ratings.csv:2: rating '3.3' is not a half star (0.5, 1, ..., 5)", P_RANGE, 1, 0, 0 },
	{ "rating not a number", CSV, CSV_HEAD "1,1,four,1\n", NULL,
	  "ratings.csv:2: rating 'four' is not a number", P_SYNTAX, 1, 0, 0 },
	{ "timestamp not a number", CSV, CSV_HEAD "1,1,4,yesterday\n", NULL,
	  "ratings.csv:2: timestamp 'yesterday' is not a number", P_SYNTAX, 1, 0, 0 },
	{ "timestamp too big", CSV, CSV_HEAD "1,1,4,99999999999\n", NULL,
	  "ratings.csv:2: timestamp '99999999999' is outside 0..4294967295", P_RANGE, 1, 0, 0 },
	{ "bytes quoted in messages", CSV, CSV_HEAD "1,1,\x01\xff,1\n", NULL,
	  "ratings.csv:2: rating '\\x01\\xff' is not a number", P_SYNTAX, 1, 0, 0 },
	{ "unknown item", CSV, CSV_HEAD "1,1,4,1\n1,2,4,1\n1,3,4,1\n1,10,4,1\n1,11,4,1\n2,1,4,1\n"
	  "2,2,4,1\n2,12345,4,1\n", NULL,
	  "ratings.csv:9: item 12345 has no line in movies.csv", P_UNKNOWN_ITEM, 1, 7, 0 },
	{ "unknown item, dat", DAT, "1::5::4::1\n", NULL,
	  "ratings.dat:1: item 5 has no line in movies.dat", P_UNKNOWN_ITEM, 1, 0, 0 },
	{ "duplicate", CSV, CSV_HEAD "1,1,4,1\n1,2,4,1\n4,1,4,1\n4,10,4,1\n4,2,4,1\n4,3,4,1\n"
	  "5,1,4,1\n5,2,4,1\n5,3,4,1\n5,10,4,1\n4,10,2,9\n", NULL,
	  "ratings.csv:12: user 4 already rated item 10 on line 5", P_DUPLICATE, 1, 10, 0 },
	{ "duplicate, users not grouped", U100K, "2\t1\t3\t1\n1\t1\t3\t1\n1\t2\t3\t1\n2\t1\t5\t2\n", NULL,
	  "u.data:4: user 2 already rated item 1 on line 1", P_DUPLICATE, 1, 3, 0 },
	{ "duplicate, sparse ids (sorting, not stamps)", CSV,
	  CSV_HEAD "4000000000,3000000000,4,1\n7,3000000000,4,1\n4000000000,5,4,1\n"
	  "7,5,1,1\n4000000000,3000000000,2,1\n",
	  "movieId,title,genres\n5,Five (1990),Drama\n3000000000,Far (1991),Drama\n",
	  "ratings.csv:6: user 4000000000 already rated item 3000000000 on line 2", P_DUPLICATE, 1, 4, 0 },
	{ "duplicate before a syntax error is first", CSV, CSV_HEAD "1,1,4,1\n1,1,4,1\n1,2\n", NULL,
	  "ratings.csv:3: user 1 already rated item 1 on line 2", P_DUPLICATE, 2, 1, 1 },
	{ "duplicate movie", CSV, CSV_HEAD "1,1,4,1\n",
	  "movieId,title,genres\n1,One (1990),Drama\n2,Two (1991),Drama\n1,Again (1992),Comedy\n",
	  "movies.csv:4: movie 1 is already defined on line 2", P_DUPLICATE, 1, 1, 0 },
	{ "movie defined three times", CSV, CSV_HEAD "1,1,4,1\n",
	  "movieId,title,genres\n1,One (1990),Drama\n1,Again (1992),Comedy\n1,Third (1993),Comedy\n",
	  "movies.csv:3: movie 1 is already defined on line 2", P_DUPLICATE, 2, 1, 0 },
	{ "invalid UTF-8 in movies.csv", CSV, CSV_HEAD "1,1,4,1\n",
	  "movieId,title,genres\n1,One (1990),Drama\n2,Caf\xc3 Noir (1991),Drama\n",
	  "movies.csv:3: invalid UTF-8 at byte 6", P_UTF8, 1, 1, 0 },
	{ "overlong UTF-8", CSV, CSV_HEAD "1,1,4,1\n",
	  "movieId,title,genres\n1,One (1990),Drama\n2,\xc0\xaf (1991),Drama\n",
	  "movies.csv:3: invalid UTF-8 at byte 3", P_UTF8, 1, 1, 0 },
	{ "invalid UTF-8 in a UTF-8 movies.dat", DAT, "1::1::4::1\n",
	  "1::Cit\xc3\xa9 (1995)::Drama\n2::Bad \xff (1995)::Drama\n",
	  "movies.dat:2: invalid UTF-8 at byte 8", P_UTF8, 1, 1, 0 },
	{ "truncated ratings", CSV, CSV_HEAD "1,1,4,1\n1,2,3", NULL,
	  "ratings.csv:3: last line is incomplete (no newline): is the file truncated?", P_TRUNCATED, 1, 1, 0 },
	{ "truncated movies", CSV, CSV_HEAD "1,1,4,1\n",
	  "movieId,title,genres\n1,One (1990),Drama\n2,\"Two, The (19",
	  "movies.csv:3: last line is incomplete (no newline): is the file truncated?", P_TRUNCATED, 1, 1, 0 },
	{ "empty ratings file", CSV, "", NULL,
	  "ratings.csv:1: the file is empty: is it truncated?", P_TRUNCATED, 1, 0, 0 },
	{ "wrong header", CSV, "user,movie,rating,ts\n1,1,4,1\n", NULL,
	  "ratings.csv:1: expected the header 'userId,movieId,rating,timestamp', found "
	  "'user,movie,rating,ts'", P_SYNTAX, 1, 1, 0 },
	{ "unterminated quote", CSV, CSV_HEAD "1,1,4,1\n",
	  "movieId,title,genres\n1,One (1990),Drama\n2,\"Open (1999),Drama\n",
	  "movies.csv:3: unterminated quote that opens at byte 3", P_SYNTAX, 1, 1, 0 },
	{ "text after a closing quote", CSV, CSV_HEAD "1,1,4,1\n",
	  "movieId,title,genres\n1,One (1990),Drama\n2,\"Open\" (1999),Drama\n",
	  "movies.csv:3: unexpected character after a closing quote: a quote inside a quoted "
	  "field is written twice (\"\")", P_SYNTAX, 1, 1, 0 },
	{ "comma in an unquoted title", CSV, CSV_HEAD "1,1,4,1\n",
	  "movieId,title,genres\n1,One (1990),Drama\n2,President, The (1995),Drama\n",
	  "movies.csv:3: expected 3 fields separated by ',', found 4: a title with a comma "
	  "must be in double quotes", P_SYNTAX, 1, 1, 0 },
	{ "unknown genre", CSV, CSV_HEAD "1,1,4,1\n",
	  "movieId,title,genres\n1,One (1990),Drama\n2,Two (1995),Drama|Cartoon\n",
	  "movies.csv:3: unknown genre 'Cartoon' (known: Action, Adventure, ..., Western, "
	  "'(no genres listed)')", P_SYNTAX, 1, 1, 0 },
	{ "movie id not a number", DAT, "1::1::4::1\n",
	  "1::One (1990)::Drama\nabc::Two (1995)::Drama\n",
	  "movies.dat:2: movie id 'abc' is not a number", P_SYNTAX, 1, 1, 0 },
	{ "u.item genre flag", U100K, "1\t1\t4\t1\n",
	  "1|One (1990)|x||u|0|0|0|0|0|0|0|0|1|0|0|0|0|0|0|0|0|0|0\n"
	  "2|Two (1990)|x||u|0|0|0|0|2|0|0|0|1|0|0|0|0|0|0|0|0|0|0\n",
	  "u.item:2: genre flag '2' in field 10 is not 0 or 1", P_SYNTAX, 1, 1, 0 },
	{ "u.item field count", U100K, "1\t1\t4\t1\n",
	  "1|One (1990)|x||u|0|0|0|0|0|0|0|0|1|0|0|0|0|0|0|0|0|0|0\n2|Two (1990)|x\n",
	  "u.item:2: expected 24 fields separated by '|', found 3", P_SYNTAX, 1, 1, 0 },
};

static void test_bad_case(const struct bad_case *c)
{
	const char *dir = case_dir();
	struct dataset ds;
	struct dataset_report rep;
	struct buf err = BUF_INIT;
	int r;

	put(dir, movies_name[c->kind], c->movies ? c->movies : movies_default[c->kind]);
	put(dir, ratings_name[c->kind], c->ratings);
	dataset_init(&ds);
	dataset_report_init(&rep);

	r = read_dir(dir, DS_ABORT, &ds, &rep, &err);
	is_int(r, -1, "%s: abort fails", c->what);
	is_str(err.s, c->abort_msg, "%s: abort message", c->what);
	ok(!ds.nratings && !ds.nmovies && !ds.ratings && !ds.movies && !ds.name,
	   "%s: abort leaves the dataset empty", c->what);
	is_int(rep.by_reason[c->reason], 1, "%s: abort counts its one reason", c->what);

	r = read_dir(dir, DS_SKIP, &ds, &rep, &err);
	is_int(r, 0, "%s: skip reads", c->what);
	is_int(rep.skipped, c->skipped, "%s: skip count", c->what);
	is_int(rep.by_reason[c->reason], c->of_reason ? c->of_reason : c->skipped,
	       "%s: skipped as %s", c->what,
	       dataset_problem_name(c->reason));
	is_int(ds.nratings, c->kept, "%s: ratings kept", c->what);
	ok(!strncmp(rep.examples.s, c->abort_msg, strlen(c->abort_msg)),
	   "%s: skip lists the abort message first", c->what);
	ok(strstr(rep.examples.s, c->abort_msg) != NULL, "%s: skip report names the line", c->what);
	dataset_release(&ds);
	dataset_report_release(&rep);
	buf_release(&err);
}

static void test_skip_report(void)
{
	const char *dir = case_dir();
	struct dataset ds;
	struct dataset_report rep;
	struct buf err = BUF_INIT, ratings = BUF_INIT;
	size_t lines = 0, i;
	const char *s;
	int u;

	/* 30 good users x 3 items, then 12 bad lines of four kinds, then a duplicate */
	buf_addstr(&ratings, CSV_HEAD);
	for (u = 1; u <= 30; u++)
		buf_addf(&ratings, "%d,1,4,1\n%d,2,3.5,2\n%d,10,5,3\n", u, u, u);
	for (u = 0; u < 3; u++)
		buf_addstr(&ratings, "7,1,9,1\n7,1\n7,999,4,1\n7,3,4.2,1\n");
	buf_addstr(&ratings, "30,2,1,9\n");
	put(dir, "movies.csv", csv_movies);
	put(dir, "ratings.csv", ratings.s);
	dataset_init(&ds);
	dataset_report_init(&rep);
	is_int(read_dir(dir, DS_SKIP, &ds, &rep, &err), 0, "skip report: read");
	is_int(ds.nratings, 90, "skip report: good ratings kept");
	is_int(ds.nusers, 30, "skip report: users");
	is_int(rep.lines_read, 5 + 90 + 12 + 1, "skip report: lines read");
	is_int(rep.skipped, 13, "skip report: skipped");
	is_int(rep.by_reason[P_RANGE], 6, "skip report: range");
	is_int(rep.by_reason[P_SYNTAX], 3, "skip report: syntax");
	is_int(rep.by_reason[P_UNKNOWN_ITEM], 3, "skip report: unknown items");
	is_int(rep.by_reason[P_DUPLICATE], 1, "skip report: duplicates");
	for (s = rep.examples.s; (s = strchr(s, '\n')); s++)
		lines++;
	is_int(lines, 10, "skip report: ten examples kept");
	ok(!strncmp(rep.examples.s, "ratings.csv:92: rating '9' is outside 0.5..5\n", 45),
	   "skip report: the first example is the first bad line");
	/* the duplicate's first copy (user 30, item 2 at 3.5 stars) is the one kept */
	for (i = 0; i < ds.nratings; i++)
		if (ds.ratings[i].user == 30 && ds.ratings[i].item == 2)
			is_int(ds.ratings[i].halves, 7, "skip report: first of a duplicate kept");

	/* a duplicate found after the other problems is still listed in line order */
	dir = case_dir();
	buf_reset(&ratings);
	buf_addstr(&ratings, CSV_HEAD "1,1,4,1\n1,1,4,1\n");
	for (u = 0; u < 12; u++)
		buf_addstr(&ratings, "1,2,9,1\n");
	put(dir, "movies.csv", csv_movies);
	put(dir, "ratings.csv", ratings.s);
	is_int(read_dir(dir, DS_SKIP, &ds, &rep, &err), 0, "skip order: read");
	is_int(rep.skipped, 13, "skip order: skipped");
	ok(!strncmp(rep.examples.s, "ratings.csv:3: user 1 already rated item 1 on line 2\n"
		    "ratings.csv:4: rating '9' is outside 0.5..5\n", 97),
	   "skip order: examples sorted by line");
	dataset_release(&ds);
	dataset_report_release(&rep);
	buf_release(&err);
	buf_release(&ratings);
}

static void test_last_line_complete(void)
{
	const char *dir = case_dir();
	struct dataset ds;
	struct dataset_report rep;
	struct buf err = BUF_INIT;

	/* no newline, but nothing missing: accepted */
	put(dir, "movies.csv", csv_movies);
	put(dir, "ratings.csv", CSV_HEAD "1,1,4,1\n1,2,3.5,964982703");
	dataset_init(&ds);
	dataset_report_init(&rep);
	is_int(read_dir(dir, DS_ABORT, &ds, &rep, &err), 0, "last line without newline: read");
	is_int(ds.nratings, 2, "last line without newline: kept");
	if (ds.nratings == 2)
		is_int(ds.ratings[1].ts, 964982703, "last line without newline: its time");

	/* blank lines carry nothing and are passed over, lines still count */
	dir = case_dir();
	put(dir, "movies.csv", csv_movies);
	put(dir, "ratings.csv", CSV_HEAD "1,1,4,1\n\n\r\n1,1,4,1\n");
	is_int(read_dir(dir, DS_ABORT, &ds, &rep, &err), -1, "blank lines: the duplicate found");
	is_str(err.s, "ratings.csv:5: user 1 already rated item 1 on line 2",
	       "blank lines: line numbers count them");
	dataset_release(&ds);
	dataset_report_release(&rep);
	buf_release(&err);
}

static void test_missing(void)
{
	const char *dir = case_dir();
	struct dataset ds;
	struct dataset_report rep;
	struct buf err = BUF_INIT, want = BUF_INIT;

	dataset_init(&ds);
	dataset_report_init(&rep);
	is_int(read_dir(dir, DS_SKIP, &ds, &rep, &err), -1, "empty dir: fails in skip mode too");
	buf_addf(&want, "no MovieLens ratings in '%s': expected ratings.csv, ratings.dat or u.data "
		 "(pancake data gen makes a dataset)", dir);
	is_str(err.s, want.s, "empty dir: message");

	put(dir, "ratings.csv", CSV_HEAD "1,1,4,1\n");
	is_int(read_dir(dir, DS_SKIP, &ds, &rep, &err), -1, "no movies.csv: fails");
	buf_reset(&want);
	buf_addf(&want, "cannot open '%s/movies.csv': No such file or directory: "
		 "is '%s' a MovieLens dataset?", dir, dir);
	is_str(err.s, want.s, "no movies.csv: message");
	is_int(dataset_read(&ds, dir, DS_ML100K, DS_ABORT, NULL, NULL), -1,
	       "a format given is not guessed (and NULL report and err are fine)");
	dataset_release(&ds);
	dataset_report_release(&rep);
	buf_release(&err);
	buf_release(&want);
}

static void test_names(void)
{
	is_str(genre_name(G_CHILDREN), "Children", "genre name: Children");
	is_str(genre_name(G_FILM_NOIR), "Film-Noir", "genre name: Film-Noir");
	is_str(genre_name(G_SCI_FI), "Sci-Fi", "genre name: Sci-Fi");
	is_str(genre_name(G_NONE), "(no genres listed)", "genre name: none");
	is_str(genre_name((enum genre)99), "?", "genre name: out of range");
	is_str(dataset_problem_name(P_UNKNOWN_ITEM), "unknown-item", "problem name");
	is_str(dataset_problem_name(P_TRUNCATED), "truncated", "problem name: truncated");
}

/* the same data read twice hashes the same; one changed rating, title or extra line does not */
static void test_fingerprint(void)
{
	static const char ratings[] = "userId,movieId,rating,timestamp\n"
		"1,1,4.0,964982703\n1,3,4.5,964981247\n2,2,3,1445714835\n";
	/* case_dir's answer is borrowed until its next call: keep copies */
	char *a = xstrdup(case_dir()), *b = xstrdup(case_dir()), *c = xstrdup(case_dir());
	char *d = xstrdup(case_dir());
	struct dataset x, y;
	struct dataset_report rep;
	struct buf err = BUF_INIT;
	uint64_t fa, fb, fc, fd;

	put(a, "movies.csv", csv_movies);
	put(a, "ratings.csv", ratings);
	put(b, "movies.csv", csv_movies);
	put(b, "ratings.csv", ratings);
	put(c, "movies.csv", csv_movies);
	put(c, "ratings.csv", "userId,movieId,rating,timestamp\n"
	    "1,1,4.0,964982703\n1,3,5.0,964981247\n2,2,3,1445714835\n");
	put(d, "movies.csv", "movieId,title,genres\n1,Toy Story (1995),Comedy\n"
	    "2,Jumanji (1995),Comedy\n3,Other (2001),Drama\n");
	put(d, "ratings.csv", ratings);
	dataset_init(&x);
	dataset_init(&y);
	dataset_report_init(&rep);
	read_dir(a, DS_ABORT, &x, &rep, &err);
	fa = dataset_fingerprint(&x);
	read_dir(b, DS_ABORT, &y, &rep, &err);
	fb = dataset_fingerprint(&y);
	ok(fa == fb, "fingerprint: the same files in another folder hash the same");
	is_int(dataset_fingerprint(&x) == fa, 1, "fingerprint: stable across calls");
	dataset_release(&y);
	dataset_init(&y);
	read_dir(c, DS_ABORT, &y, &rep, &err);
	fc = dataset_fingerprint(&y);
	ok(fc != fa, "fingerprint: one rating changed from 4.5 to 5.0 changes it");
	dataset_release(&y);
	dataset_init(&y);
	read_dir(d, DS_ABORT, &y, &rep, &err);
	fd = dataset_fingerprint(&y);
	ok(fd != fa, "fingerprint: other movies (titles, genres) change it");
	is_str(err.s, "", "fingerprint: every case read cleanly");
	dataset_release(&x);
	dataset_release(&y);
	dataset_report_release(&rep);
	buf_release(&err);
	free(a);
	free(b);
	free(c);
	free(d);
}

/* counts and sums per movie, through the dense id table and the sparse fallback */
static void test_movie_stats(void)
{
	struct dataset ds;
	struct movie ms[3] = { { 2, NULL, 0, 0 }, { 7, NULL, 0, 0 }, { 4000000000u, NULL, 0, 0 } };
	struct rating rs[5] = {
		{ 1, 7, 0, 10 }, { 2, 7, 0, 3 }, { 1, 2, 0, 1 }, { 3, 4000000000u, 0, 8 }, { 3, 9, 0, 4 },
	};
	struct movie_stats st;
	int pass;

	dataset_init(&ds);
	ds.movies = ms;
	ds.nmovies = 3;
	ds.ratings = rs;
	ds.nratings = 5;
	/* ids up to 4e9: too sparse for the table, so binary search */
	ds.max_item = 4000000000u;
	dataset_movie_stats(&ds, &st);
	pass = st.count[0] == 1 && st.halves[0] == 1 && st.count[1] == 2 && st.halves[1] == 13 &&
	       st.count[2] == 1 && st.halves[2] == 8 && st.count[3] == 1 && st.halves[3] == 4;
	ok(pass, "movie stats (sparse ids): per-movie count and half-star sums, unknown item 9 last");
	dataset_movie_stats_release(&st);
	/* small ids: the dense table */
	ms[2].id = 9;
	rs[3].item = 9;
	rs[4].item = 11;
	ds.max_item = 11;
	dataset_movie_stats(&ds, &st);
	pass = st.count[0] == 1 && st.halves[0] == 1 && st.count[1] == 2 && st.halves[1] == 13 &&
	       st.count[2] == 1 && st.halves[2] == 8 && st.count[3] == 1 && st.halves[3] == 4;
	ok(pass, "movie stats (dense ids): the same counts and sums, unknown item 11 last");
	dataset_movie_stats_release(&st);
}

int main(void)
{
	size_t i;

	if (!mkdtemp(tmpdir))
		die("cannot create a temporary directory");
	atexit(cleanup);
	test_names();
	test_csv();
	test_crlf_bom();
	test_ml100k();
	test_dat();
	for (i = 0; i < ARRAY_SIZE(bad_cases); i++)
		test_bad_case(&bad_cases[i]);
	test_skip_report();
	test_last_line_complete();
	test_missing();
	test_fingerprint();
	test_movie_stats();
	return tap_done();
}
