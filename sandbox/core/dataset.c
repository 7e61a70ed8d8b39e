/*
 * dataset: the MovieLens readers (100K, 1M/10M '::' .dat, 20M/25M/latest CSV)
 * into one in-memory form, with a file:line reason for every refused line.
 */
#include "core/dataset.h"
#include "util/utf8.h"
#include "util/quote.h"
#include "util/xalloc.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#define EXAMPLES_MAX 10
#define BITMAP_ID_MAX (1u << 27)        /* movie ids up to this: a 16 MiB bitmap */
#define DENSE_ID_MAX (1u << 24)         /* item ids up to this: per-item stamps */
#define COUNT_ID_MAX (1u << 26)         /* user ids up to this: counting sort */
#define TRUNCATED_MSG "last line is incomplete (no newline): is the file truncated?"
#define HUGE_PAGE (2u << 20)
#define RATINGS_MAX ((size_t)UINT32_MAX - 1)

static const char *const genre_names[GENRE_COUNT] = {
	[G_ACTION] = "Action", [G_ADVENTURE] = "Adventure", [G_ANIMATION] = "Animation",
	[G_CHILDREN] = "Children", [G_COMEDY] = "Comedy", [G_CRIME] = "Crime",
	[G_DOCUMENTARY] = "Documentary", [G_DRAMA] = "Drama", [G_FANTASY] = "Fantasy",
	[G_FILM_NOIR] = "Film-Noir", [G_HORROR] = "Horror", [G_IMAX] = "IMAX",
	[G_MUSICAL] = "Musical", [G_MYSTERY] = "Mystery", [G_ROMANCE] = "Romance",
	[G_SCI_FI] = "Sci-Fi", [G_THRILLER] = "Thriller", [G_WAR] = "War",
	[G_WESTERN] = "Western", [G_NONE] = "(no genres listed)",
};

/* other spellings found in the older datasets */
static const struct { const char *name; enum genre g; } genre_aliases[] = {
	{ "Children's", G_CHILDREN },
	{ "unknown", G_NONE },
};

/* the 19 flag columns of u.item, in order */
static const enum genre ml100k_genres[19] = {
	G_NONE, G_ACTION, G_ADVENTURE, G_ANIMATION, G_CHILDREN, G_COMEDY, G_CRIME,
	G_DOCUMENTARY, G_DRAMA, G_FANTASY, G_FILM_NOIR, G_HORROR, G_MUSICAL,
	G_MYSTERY, G_ROMANCE, G_SCI_FI, G_THRILLER, G_WAR, G_WESTERN,
};

static const char *const problem_names[PROBLEM_COUNT] = {
	[P_SYNTAX] = "syntax", [P_RANGE] = "range", [P_UNKNOWN_ITEM] = "unknown-item",
	[P_DUPLICATE] = "duplicate", [P_UTF8] = "utf8", [P_TRUNCATED] = "truncated",
};

const char *genre_name(enum genre g)
{
	return (unsigned)g < GENRE_COUNT ? genre_names[g] : "?";
}

const char *dataset_problem_name(enum dataset_problem p)
{
	return (unsigned)p < PROBLEM_COUNT ? problem_names[p] : "?";
}

static int genre_parse(const char *s, size_t n)
{
	size_t i;

	for (i = 0; i < GENRE_COUNT; i++)
		if (strlen(genre_names[i]) == n && !memcmp(genre_names[i], s, n))
			return (int)i;
	for (i = 0; i < ARRAY_SIZE(genre_aliases); i++)
		if (strlen(genre_aliases[i].name) == n && !memcmp(genre_aliases[i].name, s, n))
			return (int)genre_aliases[i].g;
	return -1;
}

/* ---- layouts ---- */

enum movies_encoding {
	ENC_GUESS,      /* UTF-8 when it validates, else latin-1 (100K, 1M) */
	ENC_UTF8,       /* UTF-8 only; bad bytes are P_UTF8 */
};

struct layout {
	enum dataset_format fmt;
	const char *ratings, *movies;   /* file names */
	const char *sep;                /* field separator of both files */
	const char *sep_desc;           /* how a message names it */
	const char *ratings_header, *movies_header;  /* NULL: no header line */
	int movie_fields;
	enum movies_encoding enc;
};

/* DS_AUTO tries them in this order */
static const struct layout layouts[] = {
	{ DS_ML_CSV, "ratings.csv", "movies.csv", ",", "','",
	  "userId,movieId,rating,timestamp", "movieId,title,genres", 3, ENC_UTF8 },
	{ DS_ML_DAT, "ratings.dat", "movies.dat", "::", "'::'", NULL, NULL, 3, ENC_GUESS },
	{ DS_ML100K, "u.data", "u.item", "\t", "tabs", NULL, NULL, 24, ENC_GUESS },
};

/* ---- input files ---- */

struct src {
	const char *name;       /* as messages show it: "ratings.csv" */
	const char *data;
	size_t size;
	void *map;
	size_t maplen;
	char *owned;            /* a converted copy, when there is one */
};

static int src_open(struct src *f, const char *dir, const char *name, struct buf *err)
{
	char *path = xstrfmt("%s/%s", dir, name);
	struct stat st;
	int fd, ret = -1;

	memset(f, 0, sizeof(*f));
	f->name = name;
	f->data = "";
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		buf_addf(err, "cannot open '%s': %s: is '%s' a MovieLens dataset?",
			 path, strerror(errno), dir);
		goto out;
	}
	if (fstat(fd, &st)) {
		buf_addf(err, "cannot stat '%s': %s", path, strerror(errno));
		goto out;
	}
	if (!S_ISREG(st.st_mode)) {
		buf_addf(err, "'%s' is not a regular file: a dataset directory holds plain files", path);
		goto out;
	}
	if (st.st_size > 0) {
		f->maplen = (size_t)st.st_size;
		f->map = mmap(NULL, f->maplen, PROT_READ, MAP_PRIVATE | MAP_POPULATE, fd, 0);
		if (f->map == MAP_FAILED) {
			f->map = NULL;
			buf_addf(err, "cannot map '%s': %s", path, strerror(errno));
			goto out;
		}
		madvise(f->map, f->maplen, MADV_SEQUENTIAL);
		f->data = f->map;
		f->size = f->maplen;
	}
	ret = 0;
out:
	if (fd >= 0)
		close(fd);
	free(path);
	return ret;
}

static void src_close(struct src *f)
{
	if (f->map)
		munmap(f->map, f->maplen);
	free(f->owned);
	memset(f, 0, sizeof(*f));
}

/* ---- UTF-8 ---- */

/* offset of the first invalid byte in [p, e), or -1 */
static long utf8_invalid_at(const char *p, const char *e)
{
	const unsigned char *s = (const unsigned char *)p, *end = (const unsigned char *)e, *q = s;

	while (q < end) {
		size_t n;

		if (*q < 0x80) {
			q++;
			continue;
		}
		n = utf8_seq(q, end);
		if (!n)
			return (long)(q - s);
		q += n;
	}
	return -1;
}

/* does a file that is not valid UTF-8 read as latin-1? (no valid multi-byte sequence) */
static int looks_latin1(const char *p, size_t size)
{
	const unsigned char *q = (const unsigned char *)p, *end = q + size;
	int invalid = 0, multi = 0;

	while (q < end) {
		size_t n;

		if (*q < 0x80) {
			q++;
			continue;
		}
		n = utf8_seq(q, end);
		if (n) {
			multi = 1;
			q += n;
		} else {
			invalid = 1;
			q++;
		}
	}
	return invalid && !multi;
}

static void latin1_to_utf8(struct src *f)
{
	const unsigned char *p = (const unsigned char *)f->data;
	size_t i, n = f->size, extra = 0;
	char *out, *o;

	for (i = 0; i < n; i++)
		extra += p[i] >> 7;
	o = out = xmalloc(n + extra + 1);
	for (i = 0; i < n; i++) {
		if (p[i] < 0x80) {
			*o++ = (char)p[i];
		} else {
			*o++ = (char)(0xc0 | p[i] >> 6);
			*o++ = (char)(0x80 | (p[i] & 0x3f));
		}
	}
	*o = '\0';
	free(f->owned);
	f->owned = out;
	f->data = out;
	f->size = (size_t)(o - out);
}

/* ---- problems ---- */

struct example {
	int ratings;            /* 0: the movies file, 1: the ratings file */
	size_t line;
	char *msg;
};

struct reader {
	const struct layout *L;
	struct dataset *ds;
	enum dataset_on_error mode;
	struct dataset_report *rep;
	struct buf *err;
	/* DS_SKIP: messages kept for the report, and how many this pass kept */
	struct example *ex;
	size_t nex, ex_alloc, phase_examples;
	/* DS_ABORT: the earliest problem so far */
	int failed;
	const char *fail_file;
	size_t fail_line;
	enum dataset_problem fail_kind;
	/* which movie ids exist */
	uint64_t *known;
	/* the line being read when it is the last one and has no newline */
	size_t open_line;
	/* ratings: rating index -> line, through the lines that gave no rating */
	size_t first_line;
	size_t *gaps, ngaps, gaps_alloc;
	struct buf scratch;
};

__attribute__((format(printf, 5, 6)))
static void problem(struct reader *rd, const char *file, size_t line,
		    enum dataset_problem p, const char *fmt, ...)
{
	struct dataset_report *r = rd->rep;
	struct example *ex;
	struct buf msg;
	int cut = line == rd->open_line && (p == P_SYNTAX || p == P_RANGE || p == P_UTF8);
	va_list ap;

	/* a last line that does not parse and has no newline was most likely cut short */
	if (cut)
		p = P_TRUNCATED;
	if (rd->mode == DS_ABORT) {
		/* only an earlier line of the same file replaces the first problem */
		if (rd->failed && !(file == rd->fail_file && line < rd->fail_line))
			return;
		if (rd->failed)
			r->by_reason[rd->fail_kind]--;
		rd->failed = 1;
		rd->fail_file = file;
		rd->fail_line = line;
		rd->fail_kind = p;
		r->by_reason[p]++;
		buf_reset(rd->err);
		buf_addf(rd->err, "%s:%zu: ", file, line);
		if (cut) {
			buf_addstr(rd->err, TRUNCATED_MSG);
			return;
		}
		va_start(ap, fmt);
		buf_vaddf(rd->err, fmt, ap);
		va_end(ap);
		return;
	}
	r->skipped++;
	r->by_reason[p]++;
	/*
	 * Each pass over a file finds its problems in line order; the first
	 * EXAMPLES_MAX of every pass hold the first EXAMPLES_MAX overall.
	 */
	if (rd->phase_examples++ >= EXAMPLES_MAX)
		return;
	ALLOC_GROW(rd->ex, rd->nex + 1, rd->ex_alloc);
	ex = &rd->ex[rd->nex++];
	ex->ratings = file == rd->L->ratings;
	ex->line = line;
	buf_init(&msg, 0);
	buf_addf(&msg, "%s:%zu: ", file, line);
	if (cut) {
		buf_addstr(&msg, TRUNCATED_MSG);
	} else {
		va_start(ap, fmt);
		buf_vaddf(&msg, fmt, ap);
		va_end(ap);
	}
	ex->msg = buf_detach(&msg, NULL);
}

static int cmp_example(const void *a, const void *b)
{
	const struct example *x = a, *y = b;

	if (x->ratings != y->ratings)
		return x->ratings - y->ratings;
	return x->line < y->line ? -1 : x->line > y->line;
}

/* the first EXAMPLES_MAX problems, movies file first, in line order */
static void write_examples(struct reader *rd)
{
	size_t i;

	if (rd->nex)
		qsort(rd->ex, rd->nex, sizeof(*rd->ex), cmp_example);
	for (i = 0; i < rd->nex; i++) {
		if (i < EXAMPLES_MAX) {
			buf_addstr(&rd->rep->examples, rd->ex[i].msg);
			buf_addch(&rd->rep->examples, '\n');
		}
		free(rd->ex[i].msg);
	}
	free(rd->ex);
	rd->ex = NULL;
	rd->nex = 0;
}

static int stopped(const struct reader *rd)
{
	return rd->mode == DS_ABORT && rd->failed;
}

/* ---- fields ---- */

struct field {
	const char *s;
	size_t n;
};

static const char *find_sep(const char *p, const char *e, const char *sep)
{
	while (p < e) {
		const char *q = memchr(p, sep[0], (size_t)(e - p));

		if (!q)
			return NULL;
		if (!sep[1])
			return q;
		if (q + 1 < e && q[1] == sep[1])
			return q;
		p = q + 1;
	}
	return NULL;
}

/* splits [p, e) at `sep`; returns the number of fields, keeps the first `max` */
static int split(const char *p, const char *e, const char *sep, struct field *f, int max)
{
	size_t seplen = strlen(sep);
	int n = 0;

	for (;;) {
		const char *q = find_sep(p, e, sep);

		if (n < max) {
			f[n].s = p;
			f[n].n = (size_t)((q ? q : e) - p);
		}
		n++;
		if (!q)
			return n;
		p = q + seplen;
	}
}

/*
 * RFC 4180 fields of one line, unquoted into `out` (which must have room for
 * the line: the fields point into it). Returns the field count, or -1 with
 * the reason in `why`.
 */
static int csv_split(const char *p, const char *e, struct field *f, int max, char *out,
		     char why[128])
{
	const char *line = p;
	int n = 0;

	for (;;) {
		char *start = out;

		if (p < e && *p == '"') {
			const char *open = p++;

			for (;;) {
				if (p >= e) {
					snprintf(why, 128, "unterminated quote that opens at byte %zu",
						 (size_t)(open - line) + 1);
					return -1;
				}
				if (*p == '"') {
					if (p + 1 < e && p[1] == '"') {
						*out++ = '"';
						p += 2;
						continue;
					}
					p++;
					break;
				}
				*out++ = *p++;
			}
			if (p < e && *p != ',') {
				snprintf(why, 128, "unexpected character after a closing quote: "
					 "a quote inside a quoted field is written twice (\"\")");
				return -1;
			}
		} else {
			while (p < e && *p != ',')
				*out++ = *p++;
		}
		if (n < max) {
			f[n].s = start;
			f[n].n = (size_t)(out - start);
		}
		n++;
		if (p >= e)
			return n;
		p++;    /* the comma */
	}
}

/* 0, -1 not a number, -2 too large for 32 bits */
static int parse_u32(const char *s, size_t n, uint32_t *v)
{
	uint64_t x = 0;
	size_t i;

	if (!n)
		return -1;
	for (i = 0; i < n; i++) {
		if ((unsigned char)(s[i] - '0') > 9)
			return -1;
		if (x <= UINT32_MAX)
			x = x * 10 + (uint64_t)(s[i] - '0');
	}
	if (x > UINT32_MAX)
		return -2;
	*v = (uint32_t)x;
	return 0;
}

/* an id field: 1..UINT32_MAX; reports and returns -1 when it is not */
static int parse_id(struct reader *rd, const char *file, size_t line, const char *what,
		    const struct field *f, uint32_t *v)
{
	char q[QUOTE_BUF];
	int r = parse_u32(f->s, f->n, v);

	if (r == -1)
		problem(rd, file, line, P_SYNTAX, "%s %s is not a number", what, quote_n(q, f->s, f->n));
	else if (r == -2 || !*v)
		problem(rd, file, line, P_RANGE, "%s %s is outside 1..%u", what,
			quote_n(q, f->s, f->n), UINT32_MAX);
	else
		return 0;
	return -1;
}

/*
 * A rating: "4", "3.5", "4.0", "4.50". Returns halves (1..10), or -1 when
 * it is not a number, -2 when it is outside 0.5..5, -3 when not a half star.
 */
static int parse_halves(const char *s, size_t n)
{
	const char *e = s + n, *p = s;
	int neg = 0, half = 0, frac = 0, idigits = 0;
	uint32_t ip = 0;

	if (p < e && (*p == '-' || *p == '+'))
		neg = *p++ == '-';
	while (p < e && (unsigned char)(*p - '0') <= 9) {
		if (ip < 1000)
			ip = ip * 10 + (uint32_t)(*p - '0');
		p++;
		idigits++;
	}
	if (p < e && *p == '.') {
		int fdigits = 0;

		p++;
		for (; p < e && (unsigned char)(*p - '0') <= 9; p++, fdigits++) {
			if (!fdigits)
				half = *p == '5' ? 1 : *p == '0' ? 0 : -1;
			else if (*p != '0')
				half = -1;
			if (*p != '0')
				frac = 1;
		}
		if (!fdigits && !idigits)
			return -1;
	} else if (!idigits) {
		return -1;
	}
	if (p != e)
		return -1;
	if (neg && (ip || frac))
		return -2;
	if (ip > 5 || (ip == 5 && frac) || (ip == 0 && (half == 0 || (half < 0 && !frac))))
		return -2;
	if (half < 0)
		return -3;
	return (int)ip * 2 + half;
}

/* "Title (1999)  " -> title length and 1999; no such suffix: year 0 */
static void split_year(const char *t, size_t n, size_t *title_len, int *year)
{
	size_t k;

	while (n && (t[n - 1] == ' ' || t[n - 1] == '\t'))
		n--;
	*year = 0;
	*title_len = n;
	if (n < 6 || t[n - 1] != ')' || t[n - 6] != '(')
		return;
	for (k = n - 5; k < n - 1; k++)
		if ((unsigned char)(t[k] - '0') > 9)
			return;
	*year = (t[n - 5] - '0') * 1000 + (t[n - 4] - '0') * 100 + (t[n - 3] - '0') * 10 +
		(t[n - 2] - '0');
	n -= 6;
	while (n && (t[n - 1] == ' ' || t[n - 1] == '\t'))
		n--;
	*title_len = n;
}

/* ---- movies ---- */

struct mrow {
	struct movie m;
	size_t line;
};

static int cmp_mrow(const void *a, const void *b)
{
	const struct mrow *x = a, *y = b;

	if (x->m.id != y->m.id)
		return x->m.id < y->m.id ? -1 : 1;
	return x->line < y->line ? -1 : x->line > y->line;
}

static int parse_genres(struct reader *rd, const char *file, size_t line, const struct field *f,
			uint32_t *genres)
{
	struct field g[GENRE_COUNT + 1];
	char q[QUOTE_BUF];
	int n, i, k;

	*genres = 0;
	if (!f->n)
		return 0;
	n = split(f->s, f->s + f->n, "|", g, (int)ARRAY_SIZE(g));
	if (n > (int)ARRAY_SIZE(g)) {
		problem(rd, file, line, P_SYNTAX, "%d genres listed, at most %d exist", n, GENRE_COUNT);
		return -1;
	}
	for (i = 0; i < n; i++) {
		k = genre_parse(g[i].s, g[i].n);
		if (k < 0) {
			problem(rd, file, line, P_SYNTAX, "unknown genre %s (known: Action, Adventure, "
				"..., Western, '(no genres listed)')", quote_n(q, g[i].s, g[i].n));
			return -1;
		}
		*genres |= 1u << k;
	}
	return 0;
}

/* one movie line [p, e) (no newline); 0 with `m` filled, or -1 reported */
static int parse_movie(struct reader *rd, const struct src *f, size_t line, const char *p,
		       const char *e, struct movie *m)
{
	const struct layout *L = rd->L;
	struct field fl[24];
	char why[128], q[QUOTE_BUF];
	size_t tlen;
	int n, year, i;
	long bad;

	if (L->enc == ENC_UTF8 || !f->owned) {
		bad = utf8_invalid_at(p, e);
		if (bad >= 0) {
			problem(rd, f->name, line, P_UTF8, "invalid UTF-8 at byte %ld", bad + 1);
			return -1;
		}
	}
	if (L->fmt == DS_ML_CSV) {
		buf_reset(&rd->scratch);
		buf_grow(&rd->scratch, (size_t)(e - p) + 1);
		n = csv_split(p, e, fl, (int)ARRAY_SIZE(fl), rd->scratch.s, why);
		if (n < 0) {
			problem(rd, f->name, line, P_SYNTAX, "%s", why);
			return -1;
		}
	} else {
		n = split(p, e, L->fmt == DS_ML100K ? "|" : L->sep, fl, (int)ARRAY_SIZE(fl));
	}
	if (n != L->movie_fields) {
		problem(rd, f->name, line, P_SYNTAX, "expected %d fields separated by %s, found %d%s",
			L->movie_fields, L->fmt == DS_ML100K ? "'|'" : L->sep_desc, n,
			L->fmt == DS_ML_CSV && n > L->movie_fields ?
			": a title with a comma must be in double quotes" : "");
		return -1;
	}
	if (parse_id(rd, f->name, line, "movie id", &fl[0], &m->id))
		return -1;
	split_year(fl[1].s, fl[1].n, &tlen, &year);
	m->year = (int16_t)year;
	m->genres = 0;
	if (L->fmt == DS_ML100K) {
		for (i = 0; i < 19; i++) {
			const struct field *g = &fl[5 + i];

			if (g->n != 1 || (g->s[0] != '0' && g->s[0] != '1')) {
				problem(rd, f->name, line, P_SYNTAX, "genre flag %s in field %d is not 0 or 1",
					quote_n(q, g->s, g->n), 6 + i);
				return -1;
			}
			if (g->s[0] == '1')
				m->genres |= 1u << ml100k_genres[i];
		}
	} else if (parse_genres(rd, f->name, line, &fl[2], &m->genres)) {
		return -1;
	}
	if (!m->genres)
		m->genres = 1u << G_NONE;
	m->title = xstrndup(fl[1].s, tlen);
	return 0;
}

/*
 * The header line of a CSV file: returns where the data starts. A wrong
 * header is a problem; the line is passed over either way.
 */
static const char *skip_header(struct reader *rd, const struct src *f, const char *want)
{
	const char *p = f->data, *end = p + f->size, *nl, *e;
	char q[QUOTE_BUF];

	if (f->size >= 3 && !memcmp(p, "\xef\xbb\xbf", 3))
		p += 3;
	nl = memchr(p, '\n', (size_t)(end - p));
	e = nl ? nl : end;
	if (e > p && e[-1] == '\r')
		e--;
	if ((size_t)(e - p) != strlen(want) || memcmp(p, want, (size_t)(e - p)))
		problem(rd, f->name, 1, P_SYNTAX, "expected the header '%s', found %s", want,
			quote_n(q, p, (size_t)(e - p)));
	return nl ? nl + 1 : end;
}

static int empty_file(struct reader *rd, const struct src *f)
{
	if (f->size)
		return 0;
	problem(rd, f->name, 1, P_TRUNCATED, "the file is empty: is it truncated?");
	return 1;
}

struct mdup {
	size_t line, first;
	uint32_t id;
};

static int cmp_mdup(const void *a, const void *b)
{
	const struct mdup *x = a, *y = b;

	return x->line < y->line ? -1 : x->line > y->line;
}

static void read_movies(struct reader *rd, struct src *f)
{
	struct dataset *ds = rd->ds;
	struct mrow *rows = NULL;
	struct mdup *dups = NULL;
	size_t nrows = 0, alloc = 0, line = 0, i, out, first, ndups = 0, dalloc = 0;
	const char *p, *end;

	rd->phase_examples = 0;
	if (rd->L->enc == ENC_GUESS && utf8_invalid_at(f->data, f->data + f->size) >= 0 &&
	    looks_latin1(f->data, f->size))
		latin1_to_utf8(f);
	if (empty_file(rd, f))
		return;
	p = f->data;
	end = p + f->size;
	if (rd->L->movies_header) {
		p = skip_header(rd, f, rd->L->movies_header);
		line = 1;
	}
	while (p < end && !stopped(rd)) {
		const char *nl = memchr(p, '\n', (size_t)(end - p)), *e = nl ? nl : end;
		struct movie m;

		line++;
		if (e > p && e[-1] == '\r')
			e--;
		if (e > p) {
			rd->rep->lines_read++;
			rd->open_line = nl ? 0 : line;
			if (!parse_movie(rd, f, line, p, e, &m)) {
				ALLOC_GROW(rows, nrows + 1, alloc);
				rows[nrows].m = m;
				rows[nrows++].line = line;
			}
		}
		p = nl ? nl + 1 : end;
	}
	rd->open_line = 0;

	/* sorted by id; a second definition is refused at its line, in line order */
	if (nrows)
		qsort(rows, nrows, sizeof(*rows), cmp_mrow);
	for (i = 1, first = 0; i < nrows; i++) {
		if (rows[i].m.id != rows[first].m.id) {
			first = i;
			continue;
		}
		ALLOC_GROW(dups, ndups + 1, dalloc);
		dups[ndups].line = rows[i].line;
		dups[ndups].first = rows[first].line;
		dups[ndups++].id = rows[i].m.id;
	}
	if (ndups)
		qsort(dups, ndups, sizeof(*dups), cmp_mdup);
	rd->phase_examples = 0;
	for (i = 0; i < ndups && !(rd->mode == DS_ABORT && i); i++)
		problem(rd, f->name, dups[i].line, P_DUPLICATE, "movie %u is already defined on line %zu",
			dups[i].id, dups[i].first);
	free(dups);
	ALLOC_GROW(ds->movies, ds->nmovies + nrows, ds->movies_alloc);
	for (i = 0, out = ds->nmovies; i < nrows; i++) {
		if (i && rows[i].m.id == rows[i - 1].m.id) {
			free(rows[i].m.title);
			continue;
		}
		ds->movies[out++] = rows[i].m;
		if (rows[i].m.id > ds->max_item)
			ds->max_item = rows[i].m.id;
	}
	ds->nmovies = out;
	free(rows);
}

/* ---- ratings ---- */

static void known_build(struct reader *rd)
{
	const struct dataset *ds = rd->ds;
	size_t i;

	if (ds->max_item >= BITMAP_ID_MAX)
		return;
	rd->known = xcalloc(ds->max_item / 64 + 1, sizeof(*rd->known));
	for (i = 0; i < ds->nmovies; i++)
		rd->known[ds->movies[i].id >> 6] |= 1ull << (ds->movies[i].id & 63);
}

static int known(const struct reader *rd, uint32_t item)
{
	if (rd->known)
		return item <= rd->ds->max_item && (rd->known[item >> 6] >> (item & 63) & 1);
	return dataset_movie(rd->ds, item) != NULL;
}

static inline const char *fast_u32(const char *p, const char *end, uint32_t *v)
{
	const char *s = p;
	uint64_t x = 0;

	while (p < end && (unsigned char)(*p - '0') <= 9) {
		x = x * 10 + (uint64_t)(*p - '0');
		if (++p - s > 10)
			return NULL;
	}
	if (p == s || x > UINT32_MAX)
		return NULL;
	*v = (uint32_t)x;
	return p;
}

static inline const char *fast_sep(const char *p, const char *end, const char *sep)
{
	if (p >= end || *p != sep[0])
		return NULL;
	if (!sep[1])
		return p + 1;
	return p + 1 < end && p[1] == sep[1] ? p + 2 : NULL;
}

/*
 * The common line, "1,296,5.0,1147880044\n", in one pass; NULL for anything
 * else (the slow path then says what is wrong with it, or accepts it).
 */
static inline const char *fast_rating(const char *p, const char *end, const char *sep,
				      struct rating *r)
{
	uint32_t h;

	if (!(p = fast_u32(p, end, &r->user)) || !(p = fast_sep(p, end, sep)) ||
	    !(p = fast_u32(p, end, &r->item)) || !(p = fast_sep(p, end, sep)) ||
	    p >= end || (unsigned char)(*p - '0') > 9)
		return NULL;
	h = (uint32_t)(*p++ - '0') * 2;
	if (p < end && *p == '.') {
		if (++p >= end || (*p != '0' && *p != '5'))
			return NULL;
		h += *p++ == '5';
	}
	if (h < 1 || h > 10 || !r->user || !r->item || !(p = fast_sep(p, end, sep)) ||
	    !(p = fast_u32(p, end, &r->ts)))
		return NULL;
	if (p < end && *p == '\r')
		p++;
	if (p >= end || *p != '\n')
		return NULL;
	r->halves = (uint8_t)h;
	return p + 1;
}

/* a rating line [p, e) the fast path refused: 0 and `r`, or -1 reported */
static int slow_rating(struct reader *rd, const struct src *f, size_t line, const char *p,
		       const char *e, struct rating *r)
{
	struct field fl[4];
	char q[QUOTE_BUF];
	int n, h, t;

	n = split(p, e, rd->L->sep, fl, 4);
	if (n != 4) {
		problem(rd, f->name, line, P_SYNTAX, "expected 4 fields separated by %s, found %d",
			rd->L->sep_desc, n);
		return -1;
	}
	if (parse_id(rd, f->name, line, "user id", &fl[0], &r->user) ||
	    parse_id(rd, f->name, line, "item id", &fl[1], &r->item))
		return -1;
	h = parse_halves(fl[2].s, fl[2].n);
	if (h == -1)
		problem(rd, f->name, line, P_SYNTAX, "rating %s is not a number", quote_n(q, fl[2].s, fl[2].n));
	else if (h == -2)
		problem(rd, f->name, line, P_RANGE, "rating %s is outside 0.5..5", quote_n(q, fl[2].s, fl[2].n));
	else if (h == -3)
		problem(rd, f->name, line, P_RANGE, "rating %s is not a half star (0.5, 1, ..., 5)",
			quote_n(q, fl[2].s, fl[2].n));
	if (h < 0)
		return -1;
	t = parse_u32(fl[3].s, fl[3].n, &r->ts);
	if (t == -1)
		problem(rd, f->name, line, P_SYNTAX, "timestamp %s is not a number", quote_n(q, fl[3].s, fl[3].n));
	else if (t == -2)
		problem(rd, f->name, line, P_RANGE, "timestamp %s is outside 0..%u",
			quote_n(q, fl[3].s, fl[3].n), UINT32_MAX);
	if (t)
		return -1;
	r->halves = (uint8_t)h;
	return 0;
}

static void add_gap(struct reader *rd)
{
	ALLOC_GROW(rd->gaps, rd->ngaps + 1, rd->gaps_alloc);
	rd->gaps[rd->ngaps++] = rd->ds->nratings;
}

/* the line rating `idx` came from */
static size_t rating_line(const struct reader *rd, size_t idx)
{
	size_t lo = 0, hi = rd->ngaps;

	/* how many gaps sit before it: the first gap recorded after it */
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (rd->gaps[mid] <= idx)
			lo = mid + 1;
		else
			hi = mid;
	}
	return rd->first_line + idx + lo;
}

/*
 * The ratings array is hundreds of MB written once from start to end: with
 * 4 KiB pages, faulting it in costs more than parsing. Transparent huge
 * pages (where the kernel offers them on request) cut that by 512.
 */
static void advise_huge(void *p, size_t bytes)
{
	uintptr_t a = ((uintptr_t)p + HUGE_PAGE - 1) & ~(uintptr_t)(HUGE_PAGE - 1);
	uintptr_t e = ((uintptr_t)p + bytes) & ~(uintptr_t)(HUGE_PAGE - 1);

	if (e > a)
		madvise((void *)a, e - a, MADV_HUGEPAGE);
}

static void grow_ratings(struct dataset *ds, size_t n)
{
	ALLOC_GROW(ds->ratings, n, ds->ratings_alloc);
	advise_huge(ds->ratings, ds->ratings_alloc * sizeof(*ds->ratings));
}

static void read_ratings(struct reader *rd, const struct src *f)
{
	struct dataset *ds = rd->ds;
	const char *p = f->data, *end = p + f->size, *sep = rd->L->sep;
	size_t line = 0, n = ds->nratings, lines = 0;
	uint32_t max_user = ds->max_user;

	rd->phase_examples = 0;
	if (empty_file(rd, f))
		return;
	if (rd->L->ratings_header) {
		p = skip_header(rd, f, rd->L->ratings_header);
		line = 1;
		if (stopped(rd))
			return;
	}
	rd->first_line = line + 1;
	/* about 20 bytes a line; it grows if that was short */
	grow_ratings(ds, f->size / 20 + 16);
	while (p < end) {
		struct rating r;
		const char *next = fast_rating(p, end, sep, &r);

		line++;
		if (!next) {
			const char *nl = memchr(p, '\n', (size_t)(end - p)), *e = nl ? nl : end;

			next = nl ? nl + 1 : end;
			if (e > p && e[-1] == '\r')
				e--;
			if (e == p) {
				ds->nratings = n;
				add_gap(rd);
				p = next;
				continue;
			}
			rd->open_line = nl ? 0 : line;
			if (slow_rating(rd, f, line, p, e, &r)) {
				lines++;
				ds->nratings = n;
				add_gap(rd);
				if (stopped(rd))
					break;
				p = next;
				continue;
			}
		}
		lines++;
		p = next;
		if (!known(rd, r.item)) {
			problem(rd, f->name, line, P_UNKNOWN_ITEM, "item %u has no line in %s",
				r.item, rd->L->movies);
			ds->nratings = n;
			add_gap(rd);
			if (stopped(rd))
				break;
			continue;
		}
		if (n >= RATINGS_MAX) {
			problem(rd, f->name, line, P_RANGE, "more than %zu ratings: split the file", RATINGS_MAX);
			break;
		}
		if (n >= ds->ratings_alloc)
			grow_ratings(ds, n + 1);
		ds->ratings[n++] = r;
		if (r.user > max_user)
			max_user = r.user;
	}
	ds->nratings = n;
	ds->max_user = max_user;
	rd->rep->lines_read += lines;
	rd->open_line = 0;
}

/* ---- duplicates ---- */

struct dup {
	size_t idx, first;
};

static int cmp_dup(const void *a, const void *b)
{
	const struct dup *x = a, *y = b;

	return x->idx < y->idx ? -1 : x->idx > y->idx;
}

static const struct rating *perm_ratings;

static int cmp_perm(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
	uint32_t ux = perm_ratings[x].user, uy = perm_ratings[y].user;

	if (ux != uy)
		return ux < uy ? -1 : 1;
	return x < y ? -1 : x > y;
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

/*
 * Rating indices grouped by user, in file order within a user: NULL when the
 * file already is (users never decrease), else a counting sort by user.
 */
static uint32_t *group_by_user(const struct dataset *ds)
{
	const struct rating *r = ds->ratings;
	size_t i, n = ds->nratings;
	uint32_t *perm, *start;

	for (i = 1; i < n; i++)
		if (r[i].user < r[i - 1].user)
			break;
	if (i >= n)
		return NULL;
	perm = xmalloc(n * sizeof(*perm));
	if (ds->max_user >= COUNT_ID_MAX || ds->max_user > 4 * n + 65536) {
		for (i = 0; i < n; i++)
			perm[i] = (uint32_t)i;
		perm_ratings = r;
		qsort(perm, n, sizeof(*perm), cmp_perm);
		return perm;
	}
	start = xcalloc((size_t)ds->max_user + 2, sizeof(*start));
	for (i = 0; i < n; i++)
		start[r[i].user + 1]++;
	for (i = 1; i <= (size_t)ds->max_user + 1; i++)
		start[i] += start[i - 1];
	for (i = 0; i < n; i++)
		perm[start[r[i].user]++] = (uint32_t)i;
	free(start);
	return perm;
}

/*
 * Finds every second rating of a (user, item) pair, counts distinct users,
 * and (DS_SKIP) drops the later copies. Memory: 4 bytes a rating at most,
 * plus 8 a possible item id.
 */
static void check_duplicates(struct reader *rd, const struct src *f)
{
	struct dataset *ds = rd->ds;
	struct rating *r = ds->ratings;
	size_t n = ds->nratings, i, j, ndups = 0, dalloc = 0, nusers = 0;
	uint32_t *perm = group_by_user(ds), *stamp = NULL, *first = NULL;
	uint64_t *pairs = NULL;
	size_t palloc = 0;
	struct dup *dups = NULL;
	/* per-item stamps when the ids are not far sparser than the ratings */
	int dense = ds->max_item < DENSE_ID_MAX && ds->max_item <= 4 * n + 65536;

	if (dense && n) {
		stamp = xcalloc((size_t)ds->max_item + 1, sizeof(*stamp));
		first = xmalloc(((size_t)ds->max_item + 1) * sizeof(*first));
	}
	for (i = 0; i < n; i = j) {
		uint32_t user = r[perm ? perm[i] : i].user, g = (uint32_t)++nusers;

		for (j = i; j < n && r[perm ? perm[j] : j].user == user; j++)
			;
		if (dense) {
			size_t k;

			for (k = i; k < j; k++) {
				uint32_t idx = perm ? perm[k] : (uint32_t)k, item = r[idx].item;

				if (stamp[item] == g) {
					ALLOC_GROW(dups, ndups + 1, dalloc);
					dups[ndups].idx = idx;
					dups[ndups++].first = first[item];
				} else {
					stamp[item] = g;
					first[item] = idx;
				}
			}
		} else {
			size_t k, m = j - i;

			ALLOC_GROW(pairs, m, palloc);
			for (k = 0; k < m; k++) {
				uint32_t idx = perm ? perm[i + k] : (uint32_t)(i + k);

				pairs[k] = (uint64_t)r[idx].item << 32 | idx;
			}
			qsort(pairs, m, sizeof(*pairs), cmp_u64);
			for (k = 0; k < m;) {
				size_t s = k;

				while (++k < m && pairs[k] >> 32 == pairs[s] >> 32) {
					ALLOC_GROW(dups, ndups + 1, dalloc);
					dups[ndups].idx = (uint32_t)pairs[k];
					dups[ndups++].first = (uint32_t)pairs[s];
				}
			}
		}
	}
	ds->nusers = nusers;
	rd->phase_examples = 0;
	if (ndups) {
		qsort(dups, ndups, sizeof(*dups), cmp_dup);
		for (i = 0; i < ndups; i++) {
			const struct rating *d = &r[dups[i].idx];

			problem(rd, f->name, rating_line(rd, dups[i].idx), P_DUPLICATE,
				"user %u already rated item %u on line %zu", d->user, d->item,
				rating_line(rd, dups[i].first));
			if (rd->mode == DS_ABORT)
				break;
		}
		if (rd->mode == DS_SKIP) {
			/* drop the later copies, keeping file order */
			size_t out = 0, k = 0;

			for (i = 0; i < n; i++) {
				if (k < ndups && dups[k].idx == i) {
					k++;
					continue;
				}
				r[out++] = r[i];
			}
			ds->nratings = out;
		}
	}
	free(perm);
	free(stamp);
	free(first);
	free(pairs);
	free(dups);
}

/* ---- the dataset ---- */

void dataset_init(struct dataset *ds)
{
	memset(ds, 0, sizeof(*ds));
}

void dataset_release(struct dataset *ds)
{
	size_t i;

	for (i = 0; i < ds->nmovies; i++)
		free(ds->movies[i].title);
	free(ds->movies);
	free(ds->ratings);
	free(ds->name);
	dataset_init(ds);
}

void dataset_report_init(struct dataset_report *r)
{
	memset(r, 0, sizeof(*r));
	buf_init(&r->examples, 0);
}

void dataset_report_release(struct dataset_report *r)
{
	buf_release(&r->examples);
	dataset_report_init(r);
}

const struct movie *dataset_movie(const struct dataset *ds, uint32_t item)
{
	size_t lo = 0, hi = ds->nmovies;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (ds->movies[mid].id < item)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo < ds->nmovies && ds->movies[lo].id == item ? &ds->movies[lo] : NULL;
}

static const struct layout *detect(const char *dir, enum dataset_format fmt, struct buf *err)
{
	size_t i;

	for (i = 0; i < ARRAY_SIZE(layouts); i++) {
		char *path;
		int found;

		if (fmt != DS_AUTO) {
			if (layouts[i].fmt == fmt)
				return &layouts[i];
			continue;
		}
		path = xstrfmt("%s/%s", dir, layouts[i].ratings);
		found = !access(path, F_OK);
		free(path);
		if (found)
			return &layouts[i];
	}
	if (fmt != DS_AUTO)
		buf_addf(err, "unknown dataset format %d", (int)fmt);
	else
		buf_addf(err, "no MovieLens ratings in '%s': expected ratings.csv, ratings.dat "
			 "or u.data (pancake data gen makes a dataset)", dir);
	return NULL;
}

static char *base_name(const char *dir)
{
	size_t n = strlen(dir), s;

	while (n > 1 && dir[n - 1] == '/')
		n--;
	for (s = n; s && dir[s - 1] != '/'; s--)
		;
	return xstrndup(dir + s, n - s);
}

int dataset_read(struct dataset *ds, const char *dir, enum dataset_format fmt,
		 enum dataset_on_error on_error, struct dataset_report *report,
		 struct buf *err)
{
	struct dataset_report own;
	struct buf own_err = BUF_INIT;
	struct reader rd;
	struct src movies, ratings;
	int ret = -1;

	memset(&movies, 0, sizeof(movies));
	memset(&ratings, 0, sizeof(ratings));
	memset(&rd, 0, sizeof(rd));
	dataset_report_init(&own);
	if (!report)
		report = &own;
	/* a report says what this read found, not what earlier ones did */
	report->lines_read = report->skipped = 0;
	memset(report->by_reason, 0, sizeof(report->by_reason));
	buf_reset(&report->examples);
	if (!err)
		err = &own_err;
	dataset_release(ds);
	buf_init(&rd.scratch, 0);
	rd.ds = ds;
	rd.mode = on_error;
	rd.rep = report;
	rd.err = err;
	rd.L = detect(dir, fmt, err);
	if (!rd.L)
		goto out;
	ds->format = rd.L->fmt;
	ds->name = base_name(dir);
	if (src_open(&movies, dir, rd.L->movies, err) || src_open(&ratings, dir, rd.L->ratings, err))
		goto out;
	read_movies(&rd, &movies);
	src_close(&movies);
	if (stopped(&rd))
		goto out;
	known_build(&rd);
	read_ratings(&rd, &ratings);
	/* in DS_ABORT, a duplicate before the first bad line is the first problem */
	check_duplicates(&rd, &ratings);
	if (stopped(&rd))
		goto out;
	ret = 0;
out:
	if (ret)
		dataset_release(ds);
	src_close(&movies);
	src_close(&ratings);
	write_examples(&rd);
	free(rd.known);
	free(rd.gaps);
	buf_release(&rd.scratch);
	dataset_report_release(&own);
	buf_release(&own_err);
	return ret;
}

void dataset_movie_stats(const struct dataset *ds, struct movie_stats *st)
{
	size_t i, span = (size_t)ds->max_item + 1;
	uint32_t *at = NULL;

	st->count = xcalloc(ds->nmovies + 1, sizeof(*st->count));
	st->halves = xcalloc(ds->nmovies + 1, sizeof(*st->halves));
	/*
	 * id -> movie index in one table when the ids are not too sparse (a
	 * binary search per rating was most of a redis load's own time)
	 */
	if (span <= 16 * ds->nmovies + (1u << 20)) {
		at = xmalloc(span * sizeof(*at));
		for (i = 0; i < span; i++)
			at[i] = (uint32_t)ds->nmovies;
		for (i = 0; i < ds->nmovies; i++)
			if (ds->movies[i].id < span)
				at[ds->movies[i].id] = (uint32_t)i;
	}
	for (i = 0; i < ds->nratings; i++) {
		uint32_t item = ds->ratings[i].item;
		size_t k;

		if (at) {
			k = item < span ? at[item] : ds->nmovies;
		} else {
			const struct movie *m = dataset_movie(ds, item);
			k = m ? (size_t)(m - ds->movies) : ds->nmovies;
		}
		st->count[k]++;
		st->halves[k] += ds->ratings[i].halves;
	}
	free(at);
}

void dataset_movie_stats_release(struct movie_stats *st)
{
	free(st->count);
	free(st->halves);
	st->count = NULL;
	st->halves = NULL;
}

/* one round of a 64-bit mixer (splitmix64's finaliser) */
static uint64_t mix64(uint64_t h, uint64_t v)
{
	h ^= v + 0x9e3779b97f4a7c15ull + (h << 6) + (h >> 2);
	h ^= h >> 30;
	h *= 0xbf58476d1ce4e5b9ull;
	h ^= h >> 27;
	h *= 0x94d049bb133111ebull;
	return h ^ (h >> 31);
}

uint64_t dataset_fingerprint(const struct dataset *ds)
{
	uint64_t h = mix64(0x70616e63616b65ull, ds->nratings);
	size_t i;

	h = mix64(h, ds->nmovies);
	for (i = 0; i < ds->nratings; i++) {
		const struct rating *r = &ds->ratings[i];

		h = mix64(h, (uint64_t)r->user << 32 | r->item);
		h = mix64(h, (uint64_t)r->ts << 8 | r->halves);
	}
	for (i = 0; i < ds->nmovies; i++) {
		const struct movie *m = &ds->movies[i];
		const unsigned char *t = (const unsigned char *)(m->title ? m->title : "");

		h = mix64(h, (uint64_t)m->id << 32 | m->genres);
		h = mix64(h, (uint64_t)(uint16_t)m->year);
		while (*t)
			h = mix64(h, *t++);
	}
	return h;
}
