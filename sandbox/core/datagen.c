/*
 * datagen: a MovieLens-shaped dataset from a seed: low-rank tastes plus
 * noise, power-law popularity, long-tail activity, written as ML-latest CSV.
 */
#include "core/datagen.h"
#include "core/dataset.h"
#include "util/xalloc.h"

#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#define CHUNK_RATINGS (1u << 17)   /* ratings a worker formats in one go */
#define HUGE_PAGE (2u << 20)
#define PREFETCH_AHEAD 8
#define THREADS_MAX 8
#define MIN_PER_USER 20            /* as in MovieLens */
#define T_FIRST 820454400u         /* 1996-01-01: the first rating */
#define T_LAST 1704067199u         /* 2023-12-31: the last */
#define YEAR_LAST 2023
#define RATING_LINE_MAX 48         /* "4294967295,4294967295,5.0,4294967295\n" */

/*
 * The rating model's constants, chosen so that the half-star ratings have
 * MovieLens' mean (about 3.5) and spread (sd about 1.05) after rounding and
 * clamping. Item biases lean with popularity (popular films rate higher).
 */
#define MU 3.45
#define USER_BIAS_SD 0.48
#define ITEM_BIAS_SD 0.45
#define POP_BIAS 0.30              /* bias of the most popular item over the least */
#define TASTE_SD 0.70              /* sd of <p_u, q_i> */
#define WHOLE_STAR_BIAS (UINT64_MAX / 100 * 55)   /* 55% */
#define ZIPF_S 1.6
#define ACTIVITY_SIGMA 1.2         /* lognormal sigma of ratings a user past the minimum */
#define HEAVY_FRACTION 4           /* users rating > items / this: exact weighted draw */
#define EXACT_AFTER 0.8            /* ... and users who took this share of the popularity */

static const struct {
	const char *name;
	uint32_t users, items;
	uint64_t ratings;
} shapes[] = {
	{ "ml-100k", 943, 1682, 100000 },
	{ "ml-1m", 6040, 3706, 1000209 },
	{ "ml-10m", 69878, 10677, 10000054 },
	{ "ml-20m", 138493, 26744, 20000263 },
	{ "ml-25m", 162541, 59047, 25000095 },
};

/* ---- randomness: xoshiro256**, seeded by splitmix64; one stream per user ---- */

struct rng {
	uint64_t s[4];
};

static uint64_t splitmix64(uint64_t *x)
{
	uint64_t z = (*x += 0x9e3779b97f4a7c15ull);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

static void rng_seed(struct rng *r, uint64_t seed, uint64_t stream)
{
	uint64_t x = seed ^ (stream * 0xd1342543de82ef95ull + 0x2545f4914f6cdd1dull);
	int i;

	splitmix64(&x);
	for (i = 0; i < 4; i++)
		r->s[i] = splitmix64(&x);
}

static inline uint64_t rotl(uint64_t x, int k)
{
	return (x << k) | (x >> (64 - k));
}

static inline uint64_t rng_next(struct rng *r)
{
	uint64_t *s = r->s, out = rotl(s[1] * 5, 7) * 9, t = s[1] << 17;

	s[2] ^= s[0];
	s[3] ^= s[1];
	s[1] ^= s[2];
	s[0] ^= s[3];
	s[2] ^= t;
	s[3] = rotl(s[3], 45);
	return out;
}

/* [0, 1) */
static inline double rng_unit(struct rng *r)
{
	return (double)(rng_next(r) >> 11) * 0x1.0p-53;
}

/* (0, 1], safe for log() */
static inline double rng_unit_pos(struct rng *r)
{
	return ((double)(rng_next(r) >> 11) + 1.0) * 0x1.0p-53;
}

/* [0, n) without modulo bias worth mentioning (Lemire's multiply) */
static inline uint64_t rng_below(struct rng *r, uint64_t n)
{
	return (uint64_t)(((unsigned __int128)rng_next(r) * n) >> 64);
}

static double rng_normal(struct rng *r)
{
	double u = rng_unit_pos(r), v = rng_unit(r);

	return sqrt(-2.0 * log(u)) * cos(2.0 * M_PI * v);
}

/*
 * A cheap near-normal for the per-rating noise: the sum of four 16-bit
 * uniforms (Irwin-Hall), centred and scaled to unit variance. Its tails stop
 * at 3.5 sd, which a rating clamped to 0.5..5 never notices.
 */
static inline double rng_noise(struct rng *r)
{
	uint64_t x = rng_next(r);
	double s = (double)((x & 0xffff) + (x >> 16 & 0xffff) + (x >> 32 & 0xffff) + (x >> 48));

	return (s * (1.0 / 65536.0) - 2.0) * 1.7320508075688772;
}

/* ---- titles and genres ---- */

static const char *const adjectives[] = {
	"Silent", "Broken", "Crimson", "Hidden", "Last", "Golden", "Wild", "Frozen",
	"Midnight", "Electric", "Lonely", "Secret", "Burning", "Distant", "Savage",
	"Gentle", "Iron", "Velvet", "Hollow", "Bright", "Lost", "Endless", "Quiet",
	"Dark", "Little", "Restless", "Sweet", "Bitter", "Perfect", "Strange", "Blue",
	"Forgotten", "Shining", "Wicked", "Tender", "Final", "Paper", "Glass", "Lucky",
	"Nameless", "Doré", "Fantôme",
};

static const char *const nouns[] = {
	"River", "Garden", "Road", "Empire", "Stranger", "Summer", "Winter", "Heart",
	"City", "Night", "Kingdom", "Shadow", "Mirror", "Harbor", "Machine", "Storm",
	"Island", "Promise", "Dream", "Train", "Castle", "Detective", "Soldier",
	"Angel", "Witness", "Forest", "Highway", "Ghost", "Letter", "Dancer",
	"Hunter", "Horizon", "Circus", "Orchard", "Lighthouse", "Border", "Crown",
	"Secret", "Voyage", "Engine", "Wolf", "Queen", "Stranger", "Hotel", "Bridge",
	"Café", "Noël", "Straße", "Señorita", "Matador", "Samurai", "Carnival",
};

static const char *const places[] = {
	"Paris", "Tokyo", "Berlin", "Mars", "Texas", "Brooklyn", "Montréal", "Venice",
	"the North", "the Desert", "São Paulo", "Kraków", "the Moon", "Bombay",
};

static const char *const sequels[] = { "2", "II", "III", "Part Two", "Returns", "Reloaded" };

/*
 * Title templates: %A adjective, %N noun, %P place, %S sequel. Some give
 * titles with commas ("Garden, The", as MovieLens files them) and quotes,
 * which movies.csv must quote.
 */
static const struct {
	const char *tmpl;
	unsigned weight;
} title_templates[] = {
	{ "The %A %N", 18 }, { "%A %N", 14 }, { "%N of the %N", 8 }, { "%N, The", 8 },
	{ "%A %N, The", 5 }, { "%N in %P", 6 }, { "%N: %A %N", 5 }, { "The \"%A\" %N", 2 },
	{ "%A %N %S", 4 }, { "The %N from %P", 4 }, { "%N and the %N", 5 },
	{ "%A %N, %A %N", 2 }, { "Return to %P", 2 }, { "%N", 5 }, { "%A", 2 },
	{ "My %A %N", 3 }, { "%N of %P", 4 },
};

#define PICK(r, list) (list)[rng_below((r), ARRAY_SIZE(list))]

static void make_title(struct rng *r, struct buf *t)
{
	unsigned total = 0, x;
	const char *p;
	size_t i;

	for (i = 0; i < ARRAY_SIZE(title_templates); i++)
		total += title_templates[i].weight;
	x = (unsigned)rng_below(r, total);
	for (i = 0; x >= title_templates[i].weight; i++)
		x -= title_templates[i].weight;
	buf_reset(t);
	for (p = title_templates[i].tmpl; *p; p++) {
		if (*p != '%') {
			buf_addch(t, *p);
			continue;
		}
		switch (*++p) {
		case 'A': buf_addstr(t, PICK(r, adjectives)); break;
		case 'N': buf_addstr(t, PICK(r, nouns)); break;
		case 'P': buf_addstr(t, PICK(r, places)); break;
		case 'S': buf_addstr(t, PICK(r, sequels)); break;
		default: BUG("bad title template '%s'", title_templates[i].tmpl);
		}
	}
}

/* how a genre moves an item's bias, and how common it is (log weight) */
static const struct {
	float bias, prior;
} genre_traits[GENRE_COUNT] = {
	[G_ACTION] = { -0.05f, 0.6f }, [G_ADVENTURE] = { 0.0f, 0.2f },
	[G_ANIMATION] = { 0.10f, -0.5f }, [G_CHILDREN] = { -0.10f, -0.3f },
	[G_COMEDY] = { -0.05f, 1.0f }, [G_CRIME] = { 0.10f, 0.2f },
	[G_DOCUMENTARY] = { 0.25f, -0.6f }, [G_DRAMA] = { 0.10f, 1.2f },
	[G_FANTASY] = { 0.0f, -0.3f }, [G_FILM_NOIR] = { 0.30f, -1.8f },
	[G_HORROR] = { -0.30f, 0.0f }, [G_IMAX] = { 0.05f, -2.5f },
	[G_MUSICAL] = { 0.05f, -1.2f }, [G_MYSTERY] = { 0.10f, -0.6f },
	[G_ROMANCE] = { 0.0f, 0.4f }, [G_SCI_FI] = { 0.0f, 0.0f },
	[G_THRILLER] = { 0.0f, 0.6f }, [G_WAR] = { 0.20f, -1.0f },
	[G_WESTERN] = { 0.05f, -1.3f }, [G_NONE] = { 0.0f, -99.0f },
};

/* ---- the model ---- */

struct slot {
	struct buf out;
	size_t advised;           /* out.alloc when last given to madvise */
	uint64_t nratings;
	int ready;
};

struct gen {
	const struct datagen_opts *o;
	uint32_t U, I;
	uint64_t R;
	int rank;
	double factor_sd;
	/* users */
	uint32_t *count;          /* ratings per user */
	uint32_t *mand_start;     /* CSR: items each user must rate (U + 1) */
	uint32_t *mand;
	/* items */
	float *q;                 /* I x rank */
	float *bias;              /* b_i, plus mu */
	double *weight;           /* popularity */
	double weight_total;
	uint32_t *alias, *prob;   /* Vose's alias table over weight */
	/* work */
	uint32_t nchunks, *chunk_user;    /* first user of each chunk (nchunks + 1) */
	uint64_t *chunk_ratings;
	pthread_mutex_t mu;
	pthread_cond_t cv;
	struct slot *slots;
	uint32_t nslots, next_chunk, written;
	int stop;
};

struct eskey {
	double key;
	uint32_t item;
};

struct worker {
	struct gen *g;
	pthread_t tid;
	uint32_t *stamp;          /* stamp[item] == user + 1: drawn already */
	uint32_t *items;
	double *ts;               /* a user's increasing times, before scaling */
	float *p;
	struct eskey *keys;
};

/*
 * Ratings a user: MIN_PER_USER each (when ratings allow), the rest shared
 * in proportion to lognormal weights, at most `cap` a user; whatever the
 * rounding leaves goes one at a time round the users. Exactly R in total.
 */
static void plan_counts(struct gen *g, struct rng *r)
{
	uint32_t U = g->U, u, base, cap;
	uint64_t left, given = 0;
	int64_t pool = 0;
	double *w = xmalloc(U * sizeof(*w)), total = 0;
	unsigned char *full = xcalloc(U, 1);
	int more = 1;

	base = (uint32_t)(g->R / U < MIN_PER_USER ? g->R / U : MIN_PER_USER);
	cap = (uint32_t)((g->R + U - 1) / U);
	if (cap < g->I / 10 * 6)
		cap = g->I / 10 * 6;
	if (cap > g->I)
		cap = g->I;
	for (u = 0; u < U; u++)
		w[u] = exp(ACTIVITY_SIGMA * rng_normal(r));
	left = g->R - (uint64_t)base * U;
	/* water-filling: a user whose share reaches the cap gets the cap */
	while (more) {
		more = 0;
		pool = (int64_t)left;
		total = 0;
		for (u = 0; u < U; u++) {
			if (full[u])
				pool -= cap - base;
			else
				total += w[u];
		}
		for (u = 0; u < U; u++)
			if (!full[u] && total > 0 && (double)pool * w[u] / total >= cap - base)
				full[u] = more = 1;
	}
	for (u = 0; u < U; u++) {
		uint32_t extra = full[u] ? cap - base : total > 0 ? (uint32_t)((double)pool * w[u] / total) : 0;

		if (extra > cap - base)
			extra = cap - base;
		g->count[u] = base + extra;
		given += extra;
	}
	/* what the rounding down left, one at a time round the users */
	for (u = (uint32_t)rng_below(r, U); given < left; u = (u + 1) % U)
		if (g->count[u] < cap) {
			g->count[u]++;
			given++;
		}
	free(w);
	free(full);
}

/* streams of the seed: one per purpose, one per user */
enum { STREAM_USERS = 1, STREAM_ITEMS, STREAM_GENRES, STREAM_TITLES };
#define STREAM_USER(u) ((1ull << 32) + (u))

/* every item gets one rater chosen in proportion to activity, so none goes unrated */
static void plan_mandatory(struct gen *g, struct rng *r)
{
	uint32_t U = g->U, I = g->I, u, i, *n = xcalloc(U, sizeof(*n)), *pos;
	uint64_t *prefix = xmalloc(((size_t)U + 1) * sizeof(*prefix));

	g->mand_start = xcalloc((size_t)U + 1, sizeof(*g->mand_start));
	g->mand = xmalloc(((size_t)I + 1) * sizeof(*g->mand));
	pos = xmalloc(((size_t)I + 1) * sizeof(*pos));
	prefix[0] = 0;
	for (u = 0; u < U; u++)
		prefix[u + 1] = prefix[u] + g->count[u];
	for (i = 0; g->R >= I && i < I; i++) {
		uint64_t slot = rng_below(r, g->R);
		uint32_t lo = 0, hi = U;

		while (lo < hi) {           /* the user whose ratings hold `slot` */
			uint32_t mid = lo + (hi - lo) / 2;

			if (prefix[mid + 1] <= slot)
				lo = mid + 1;
			else
				hi = mid;
		}
		for (u = lo; n[u] >= g->count[u]; u = (u + 1) % U)
			;
		pos[i] = u;
		n[u]++;
	}
	for (u = 0; u < U; u++)
		g->mand_start[u + 1] = g->mand_start[u] + n[u];
	memset(n, 0, U * sizeof(*n));
	for (i = 0; g->R >= I && i < I; i++)
		g->mand[g->mand_start[pos[i]] + n[pos[i]]++] = i;
	free(n);
	free(pos);
	free(prefix);
}

/* Vose's alias method over the popularity weights: O(1) draws */
static void build_alias(struct gen *g)
{
	uint32_t I = g->I, i, *small = xmalloc(I * sizeof(*small)), *large = xmalloc(I * sizeof(*large));
	uint32_t ns = 0, nl = 0;
	double *p = xmalloc(I * sizeof(*p)), total = 0;

	g->alias = xmalloc(I * sizeof(*g->alias));
	g->prob = xmalloc(I * sizeof(*g->prob));
	for (i = 0; i < I; i++)
		total += g->weight[i];
	g->weight_total = total;
	for (i = 0; i < I; i++) {
		p[i] = g->weight[i] * I / total;
		if (p[i] < 1.0)
			small[ns++] = i;
		else
			large[nl++] = i;
	}
	while (ns && nl) {
		uint32_t s = small[--ns], l = large[nl - 1];

		g->prob[s] = (uint32_t)(p[s] * 4294967296.0 >= 4294967295.0 ? 4294967295.0 : p[s] * 4294967296.0);
		g->alias[s] = l;
		p[l] -= 1.0 - p[s];
		if (p[l] < 1.0) {
			nl--;
			small[ns++] = l;
		}
	}
	while (nl) {
		i = large[--nl];
		g->prob[i] = UINT32_MAX;
		g->alias[i] = i;
	}
	while (ns) {
		i = small[--ns];
		g->prob[i] = UINT32_MAX;
		g->alias[i] = i;
	}
	free(small);
	free(large);
	free(p);
}

static inline uint32_t draw_item(const struct gen *g, struct rng *r)
{
	uint64_t x = rng_next(r);
	uint32_t i = (uint32_t)(((x >> 32) * g->I) >> 32);

	return (uint32_t)x < g->prob[i] ? i : g->alias[i];
}

static int cmp_int(const void *a, const void *b)
{
	int x = *(const int *)a, y = *(const int *)b;

	return x < y ? -1 : x > y;
}

/*
 * Items: years (ids in release order, as MovieLens ids roughly are),
 * popularity (a random item order, Zipf weights), factors, genres drawn
 * from the factors, biases from popularity and genres.
 */
static void plan_items(struct gen *g, uint32_t *genres, int16_t *years)
{
	uint32_t I = g->I, i, k, *order = xmalloc(I * sizeof(*order));
	int rank = g->rank, gi, *yr = xmalloc(I * sizeof(*yr));
	double k0 = (ZIPF_S - 1.0) * ((double)g->R / g->U) / 0.8;
	float d[GENRE_COUNT][DATAGEN_RANK_MAX];
	struct rng r, rg;

	rng_seed(&r, g->o->seed, STREAM_ITEMS);
	rng_seed(&rg, g->o->seed, STREAM_GENRES);
	for (i = 0; i < I; i++) {
		int y = YEAR_LAST - (int)(-log(rng_unit_pos(&r)) * 16.0);

		yr[i] = y < 1915 ? 1915 + (int)rng_below(&r, 30) : y;
	}
	qsort(yr, I, sizeof(*yr), cmp_int);
	for (i = 0; i < I; i++) {
		years[i] = (int16_t)yr[i];
		order[i] = i;
	}
	for (i = I; i > 1; i--) {
		uint32_t j = (uint32_t)rng_below(&r, i), t = order[i - 1];

		order[i - 1] = order[j];
		order[j] = t;
	}
	for (gi = 0; gi < GENRE_COUNT; gi++)
		for (k = 0; k < (uint32_t)rank; k++)
			d[gi][k] = (float)rng_normal(&rg);
	for (i = 0; i < I; i++) {
		uint32_t it = order[i];     /* the i-th most popular */
		double pop = (double)i / I, score[GENRE_COUNT], b;
		int ng, want, best;

		g->weight[it] = pow(i + k0, -ZIPF_S);
		for (k = 0; k < (uint32_t)rank; k++)
			g->q[(size_t)it * rank + k] = (float)(rng_normal(&r) * g->factor_sd);
		/* genres: the factors' leaning plus Gumbel noise, top 1..3 */
		for (gi = 0; gi < GENRE_COUNT; gi++) {
			double dot = 0;

			for (k = 0; k < (uint32_t)rank; k++)
				dot += d[gi][k] * g->q[(size_t)it * rank + k];
			score[gi] = 1.2 * dot / (g->factor_sd * sqrt(rank)) + genre_traits[gi].prior -
				    log(-log(rng_unit_pos(&rg) * 0.999999));
		}
		want = rng_unit(&rg) < 0.45 ? 1 : rng_unit(&rg) < 0.7 ? 2 : 3;
		genres[it] = 0;
		b = MU + rng_normal(&r) * ITEM_BIAS_SD + POP_BIAS * (0.5 - pop);
		for (ng = 0; ng < want; ng++) {
			best = G_NONE;
			for (gi = 0; gi < G_NONE; gi++)
				if (!(genres[it] >> gi & 1) && (best == G_NONE || score[gi] > score[best]))
					best = gi;
			genres[it] |= 1u << best;
			b += genre_traits[best].bias / want;
		}
		if (rng_unit(&rg) < 0.005)
			genres[it] = 1u << G_NONE;
		g->bias[it] = (float)b;
	}
	free(order);
	free(yr);
}

/* ---- formatting ---- */

static const char digit_pairs[] =
	"00010203040506070809101112131415161718192021222324252627282930313233343536373839"
	"40414243444546474849505152535455565758596061626364656667686970717273747576777879"
	"8081828384858687888990919293949596979899";

static inline int digits_u32(uint32_t v)
{
	static const uint32_t pow10[] = {
		10, 100, 1000, 10000, 100000, 1000000, 10000000, 100000000, 1000000000,
	};
	int n = 1;

	while (n < 10 && v >= pow10[n - 1])
		n++;
	return n;
}

/* decimal digits of v at p, back to front, two at a time; returns the end */
static inline char *put_u32(char *p, uint32_t v)
{
	char *end = p + digits_u32(v), *e = end;

	while (v >= 100) {
		e -= 2;
		memcpy(e, digit_pairs + 2 * (v % 100), 2);
		v /= 100;
	}
	if (v >= 10) {
		e -= 2;
		memcpy(e, digit_pairs + 2 * v, 2);
	} else {
		*--e = (char)('0' + v);
	}
	return end;
}

static const char rating_text[11][4] = {
	"", "0.5", "1.0", "1.5", "2.0", "2.5", "3.0", "3.5", "4.0", "4.5", "5.0",
};

/* ---- users ---- */

static inline int eskey_less(const struct eskey *x, const struct eskey *y)
{
	return x->key < y->key || (x->key == y->key && x->item < y->item);
}

static inline void eskey_swap(struct eskey *a, struct eskey *b)
{
	struct eskey t = *a;

	*a = *b;
	*b = t;
}

/* moves the k smallest of a[0..n) to the front, in no particular order (Hoare's select) */
static void select_smallest(struct eskey *a, size_t n, size_t k)
{
	size_t lo = 0, hi = n;

	while (hi - lo > 1 && k > lo && k < hi) {
		size_t mid = lo + (hi - lo) / 2, i, store;

		/* median of three as the pivot, parked at hi - 1 */
		if (eskey_less(&a[mid], &a[lo]))
			eskey_swap(&a[mid], &a[lo]);
		if (eskey_less(&a[hi - 1], &a[lo]))
			eskey_swap(&a[hi - 1], &a[lo]);
		if (eskey_less(&a[mid], &a[hi - 1]))
			eskey_swap(&a[mid], &a[hi - 1]);
		for (i = store = lo; i < hi - 1; i++)
			if (eskey_less(&a[i], &a[hi - 1]))
				eskey_swap(&a[i], &a[store++]);
		eskey_swap(&a[store], &a[hi - 1]);
		if (store < k)
			lo = store + 1;
		else
			hi = store;
	}
}

/*
 * The `need` unseen items of smallest key -log(u)/weight: a weighted draw
 * without replacement (Efraimidis-Spirakis), O(items); for heavy users and
 * for users who have taken most of the popular mass.
 */
static uint32_t draw_exact(struct worker *w, struct rng *r, uint32_t stampv, uint32_t *out,
			   uint32_t need)
{
	const struct gen *g = w->g;
	uint32_t i, n = 0;

	if (!w->keys)
		w->keys = xmalloc(g->I * sizeof(*w->keys));
	for (i = 0; i < g->I; i++) {
		if (w->stamp[i] == stampv)
			continue;
		w->keys[n].key = -log(rng_unit_pos(r)) / g->weight[i];
		w->keys[n++].item = i;
	}
	if (need > n)
		BUG("datagen: %u items wanted, %u left", need, n);
	select_smallest(w->keys, n, need);
	for (i = 0; i < need; i++) {
		out[i] = w->keys[i].item;
		w->stamp[out[i]] = stampv;
	}
	return need;
}

static void gen_user(struct worker *w, uint32_t u, struct buf *out)
{
	const struct gen *g = w->g;
	uint32_t c = g->count[u], n = 0, k, stampv = u + 1, *items = w->items;
	int rank = g->rank;
	double bu, span, start, acc, total, scale, noise = g->o->noise;
	double taken = 0;
	struct rng r;
	char *p;

	if (!c)
		return;
	rng_seed(&r, g->o->seed, STREAM_USER(u));
	bu = rng_normal(&r) * USER_BIAS_SD;
	for (k = 0; k < (uint32_t)rank; k++)
		w->p[k] = (float)(rng_normal(&r) * g->factor_sd);
	/* active for a day to years: lognormal days around a month */
	span = 86400.0 * exp(log(30.0) + 1.8 * rng_normal(&r));
	if (span > (double)(T_LAST - T_FIRST))
		span = (double)(T_LAST - T_FIRST);
	start = T_FIRST + rng_unit(&r) * ((double)(T_LAST - T_FIRST) - span);

	for (k = g->mand_start[u]; k < g->mand_start[u + 1]; k++) {
		items[n++] = g->mand[k];
		w->stamp[g->mand[k]] = stampv;
		taken += g->weight[g->mand[k]];
	}
	/*
	 * Draws with rejection of what was drawn already, while that stays
	 * cheap: once most of the popularity mass is taken, an exact draw
	 * over what is left.
	 */
	if (c > g->I / HEAVY_FRACTION) {
		n += draw_exact(w, &r, stampv, items + n, c - n);
	} else {
		while (n < c) {
			uint32_t it;

			if (taken > EXACT_AFTER * g->weight_total) {
				n += draw_exact(w, &r, stampv, items + n, c - n);
				break;
			}
			it = draw_item(g, &r);
			if (w->stamp[it] != stampv) {
				w->stamp[it] = stampv;
				items[n++] = it;
				taken += g->weight[it];
			}
		}
	}
	/* a random order over time, not the draw order (popular first) */
	for (k = c; k > 1; k--) {
		uint32_t j = (uint32_t)rng_below(&r, k), t = items[k - 1];

		items[k - 1] = items[j];
		items[j] = t;
	}
	/* increasing times: sorted uniforms from exponential spacings */
	for (k = 0, acc = 0; k < c; k++) {
		acc -= log(rng_unit_pos(&r));
		w->ts[k] = acc;
	}
	total = acc - log(rng_unit_pos(&r));
	scale = span / total;

	buf_grow(out, (size_t)c * RATING_LINE_MAX);
	p = out->s + out->len;
	for (k = 0; k < c; k++) {
		uint32_t it = items[k];
		const float *q = g->q + (size_t)it * rank;
		double x;
		float dot = 0;
		long h;
		int f;

		/* items are random: fetch a later one's factors while this one computes */
		if (k + PREFETCH_AHEAD < c) {
			__builtin_prefetch(g->q + (size_t)items[k + PREFETCH_AHEAD] * rank);
			__builtin_prefetch(g->bias + items[k + PREFETCH_AHEAD]);
		}
		x = g->bias[it] + bu + noise * rng_noise(&r);
		for (f = 0; f < rank; f++)
			dot += w->p[f] * q[f];
		x = 2.0 * (x + dot);
		h = lrint(x);
		/* people favour whole stars: about half the half stars move to the nearer one */
		if ((h & 1) && rng_next(&r) < WHOLE_STAR_BIAS)
			h += x < h ? -1 : 1;
		h = h < 1 ? 1 : h > 10 ? 10 : h;
		p = put_u32(p, u + 1);
		*p++ = ',';
		p = put_u32(p, it + 1);
		*p++ = ',';
		memcpy(p, rating_text[h], 3);
		p[3] = ',';
		p = put_u32(p + 4, (uint32_t)(start + scale * w->ts[k]));
		*p++ = '\n';
	}
	buf_setlen(out, (size_t)(p - out->s));
}

/* ---- threads: workers fill slots in chunk order, the caller writes them ---- */

/* output buffers are written once per chunk, front to back: huge pages fault 512x less */
static void advise_huge(void *p, size_t bytes)
{
	uintptr_t a = ((uintptr_t)p + HUGE_PAGE - 1) & ~(uintptr_t)(HUGE_PAGE - 1);
	uintptr_t e = ((uintptr_t)p + bytes) & ~(uintptr_t)(HUGE_PAGE - 1);

	if (e > a)
		madvise((void *)a, e - a, MADV_HUGEPAGE);
}

static void *worker_main(void *arg)
{
	struct worker *w = arg;
	struct gen *g = w->g;

	for (;;) {
		struct slot *s;
		uint32_t c, u;

		pthread_mutex_lock(&g->mu);
		c = g->next_chunk;
		if (c < g->nchunks && !g->stop)
			g->next_chunk++;
		while (!g->stop && c < g->nchunks && c >= g->written + g->nslots)
			pthread_cond_wait(&g->cv, &g->mu);
		pthread_mutex_unlock(&g->mu);
		if (c >= g->nchunks || g->stop)
			return NULL;
		s = &g->slots[c % g->nslots];
		buf_reset(&s->out);
		buf_grow(&s->out, g->chunk_ratings[c] * 32);
		if (s->out.alloc != s->advised) {
			advise_huge(s->out.s, s->out.alloc);
			s->advised = s->out.alloc;
		}
		for (u = g->chunk_user[c]; u < g->chunk_user[c + 1]; u++)
			gen_user(w, u, &s->out);
		s->nratings = g->chunk_ratings[c];
		pthread_mutex_lock(&g->mu);
		s->ready = 1;
		pthread_cond_broadcast(&g->cv);
		pthread_mutex_unlock(&g->mu);
	}
}

static int write_all(int fd, const char *p, size_t n)
{
	while (n) {
		ssize_t k = write(fd, p, n > (1u << 30) ? (1u << 30) : n);

		if (k < 0 && errno == EINTR)
			continue;
		if (k <= 0)
			return -1;
		p += k;
		n -= (size_t)k;
	}
	return 0;
}

/* creates `path` and its parents */
static int mkdir_p(const char *path, struct buf *err)
{
	char *tmp = xstrdup(path), *p;
	int ret = 0;

	for (p = tmp + 1; ; p++) {
		if (*p == '/' || !*p) {
			char c = *p;

			*p = '\0';
			if (mkdir(tmp, 0777) && errno != EEXIST) {
				buf_addf(err, "cannot create '%s': %s", tmp, strerror(errno));
				ret = -1;
				break;
			}
			*p = c;
			if (!c)
				break;
		}
	}
	free(tmp);
	return ret;
}

/* writes `data` to DIR/NAME through DIR/NAME.tmp and a rename */
static int write_file(const char *dir, const char *name, const struct buf *data, struct buf *err)
{
	char *path = xstrfmt("%s/%s", dir, name), *tmp = xstrfmt("%s.tmp", path);
	int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0666), ret = -1;

	if (fd < 0 || write_all(fd, data->s, data->len) || close(fd)) {
		buf_addf(err, "cannot write '%s': %s: is the disk full?", tmp, strerror(errno));
		if (fd >= 0)
			close(fd);
		unlink(tmp);
	} else if (rename(tmp, path)) {
		buf_addf(err, "cannot rename '%s': %s", tmp, strerror(errno));
		unlink(tmp);
	} else {
		ret = 0;
	}
	free(path);
	free(tmp);
	return ret;
}

static void add_csv_field(struct buf *b, const char *s, size_t n)
{
	size_t i;

	if (!memchr(s, ',', n) && !memchr(s, '"', n) && !memchr(s, '\n', n)) {
		buf_add(b, s, n);
		return;
	}
	buf_addch(b, '"');
	for (i = 0; i < n; i++) {
		if (s[i] == '"')
			buf_addch(b, '"');
		buf_addch(b, s[i]);
	}
	buf_addch(b, '"');
}

static void format_movies(const struct gen *g, const uint32_t *genres, const int16_t *years,
			  struct buf *out)
{
	struct buf t = BUF_INIT;
	struct rng r;
	uint32_t i;
	int gi;

	rng_seed(&r, g->o->seed, STREAM_TITLES);
	buf_addstr(out, "movieId,title,genres\n");
	for (i = 0; i < g->I; i++) {
		const char *sep = "";

		make_title(&r, &t);
		/* a few without a year, as in ML-latest */
		if (rng_unit(&r) >= 0.003)
			buf_addf(&t, " (%d)", years[i]);
		buf_grow(out, 16);
		buf_setlen(out, (size_t)(put_u32(out->s + out->len, i + 1) - out->s));
		buf_addch(out, ',');
		add_csv_field(out, t.s, t.len);
		buf_addch(out, ',');
		for (gi = 0; gi < GENRE_COUNT; gi++)
			if (genres[i] >> gi & 1) {
				buf_addstr(out, sep);
				buf_addstr(out, genre_name((enum genre)gi));
				sep = "|";
			}
		buf_addch(out, '\n');
	}
	buf_release(&t);
}

void datagen_opts_init(struct datagen_opts *o)
{
	memset(o, 0, sizeof(*o));
	o->seed = 1;
	o->rank = 8;
	o->noise = 0.5;
}

int datagen_shape(struct datagen_opts *o, const char *name, struct buf *err)
{
	size_t i;

	for (i = 0; i < ARRAY_SIZE(shapes); i++)
		if (!strcmp(shapes[i].name, name)) {
			o->users = shapes[i].users;
			o->items = shapes[i].items;
			o->ratings = shapes[i].ratings;
			o->shape = shapes[i].name;
			return 0;
		}
	buf_addf(err, "unknown shape '%s': use ml-100k, ml-1m, ml-10m, ml-20m or ml-25m, "
		 "or give --users, --items and --ratings", name);
	return -1;
}

static int check_opts(const struct datagen_opts *o, struct buf *err)
{
	if (!o->users || !o->items || !o->ratings)
		buf_addf(err, "users (%u), items (%u) and ratings (%llu) must all be positive: "
			 "give a shape or all three counts", o->users, o->items,
			 (unsigned long long)o->ratings);
	else if (o->ratings > (uint64_t)o->users * o->items)
		buf_addf(err, "cannot fit %llu ratings in %u users x %u items: each user rates "
			 "an item once, so at most %llu", (unsigned long long)o->ratings, o->users,
			 o->items, (unsigned long long)o->users * o->items);
	else if (o->ratings > UINT32_MAX * 16ull)
		buf_addf(err, "%llu ratings is more than pancake generates (at most %llu)",
			 (unsigned long long)o->ratings, UINT32_MAX * 16ull);
	else if (o->users >= UINT32_MAX || o->items >= UINT32_MAX)
		buf_addf(err, "ids must stay below %u", UINT32_MAX);
	else if (o->rank < 1 || o->rank > DATAGEN_RANK_MAX)
		buf_addf(err, "rank %d is outside 1..%d", o->rank, DATAGEN_RANK_MAX);
	else if (!(o->noise >= 0 && o->noise <= 5))
		buf_addf(err, "noise %g is outside 0..5 (stars)", o->noise);
	else
		return 0;
	return -1;
}

static void manifest(const struct datagen_opts *o, struct buf *m)
{
	buf_addf(m, "# pancake data gen: a synthetic MovieLens-shaped dataset (ML-latest CSV layout)\n"
		 "generator = pancake-datagen 1\n"
		 "shape = %s\nseed = %llu\nusers = %u\nitems = %u\nratings = %llu\n"
		 "rank = %d\nnoise = %g\nfiles = movies.csv ratings.csv\n",
		 o->shape ? o->shape : "custom", (unsigned long long)o->seed, o->users, o->items,
		 (unsigned long long)o->ratings, o->rank, o->noise);
}

static void plan_chunks(struct gen *g)
{
	uint32_t u, alloc = 0;
	uint64_t acc = 0;

	g->nchunks = 0;
	ALLOC_GROW(g->chunk_user, 1, alloc);
	g->chunk_user[0] = 0;
	g->chunk_ratings = NULL;
	for (u = 0; u < g->U; u++) {
		acc += g->count[u];
		if (acc >= CHUNK_RATINGS || u + 1 == g->U) {
			g->nchunks++;
			ALLOC_GROW(g->chunk_user, g->nchunks + 1, alloc);
			g->chunk_user[g->nchunks] = u + 1;
			g->chunk_ratings = xrealloc(g->chunk_ratings, g->nchunks * sizeof(*g->chunk_ratings));
			g->chunk_ratings[g->nchunks - 1] = acc;
			acc = 0;
		}
	}
}

int datagen_write(const struct datagen_opts *o, const char *dir,
		  void (*progress)(uint64_t done, uint64_t total, void *ctx), void *ctx,
		  struct buf *err)
{
	struct gen g;
	struct worker *w = NULL;
	struct buf movies = BUF_INIT, man = BUF_INIT, own_err = BUF_INIT;
	uint32_t *genres = NULL, c;
	int16_t *years = NULL;
	int nthreads, started = 0, i, fd = -1, ret = -1;
	uint64_t done = 0;
	char *path = NULL, *tmp = NULL;
	struct rng r;

	memset(&g, 0, sizeof(g));
	if (!err)
		err = &own_err;
	if (check_opts(o, err) || mkdir_p(dir, err))
		goto out;
	g.o = o;
	g.U = o->users;
	g.I = o->items;
	g.R = o->ratings;
	g.rank = o->rank;
	/* <p, q> of `rank` products of two N(0, s^2): variance rank * s^4 */
	g.factor_sd = sqrt(TASTE_SD / sqrt((double)o->rank));
	g.count = xmalloc(g.U * sizeof(*g.count));
	g.q = xmalloc((size_t)g.I * g.rank * sizeof(*g.q));
	g.bias = xmalloc(g.I * sizeof(*g.bias));
	g.weight = xmalloc(g.I * sizeof(*g.weight));
	genres = xmalloc(g.I * sizeof(*genres));
	years = xmalloc(g.I * sizeof(*years));

	rng_seed(&r, o->seed, STREAM_USERS);
	plan_counts(&g, &r);
	plan_mandatory(&g, &r);
	plan_items(&g, genres, years);
	build_alias(&g);
	plan_chunks(&g);

	format_movies(&g, genres, years, &movies);
	if (write_file(dir, "movies.csv", &movies, err))
		goto out;

	path = xstrfmt("%s/ratings.csv", dir);
	tmp = xstrfmt("%s.tmp", path);
	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0666);
	if (fd < 0) {
		buf_addf(err, "cannot create '%s': %s", tmp, strerror(errno));
		goto out;
	}
	if (write_all(fd, "userId,movieId,rating,timestamp\n", 32)) {
		buf_addf(err, "cannot write '%s': %s: is the disk full?", tmp, strerror(errno));
		goto out;
	}

	nthreads = o->threads > 0 ? o->threads : (int)sysconf(_SC_NPROCESSORS_ONLN);
	if (nthreads < 1)
		nthreads = 1;
	if (nthreads > THREADS_MAX)
		nthreads = THREADS_MAX;
	if ((uint32_t)nthreads > g.nchunks)
		nthreads = (int)g.nchunks;
	g.nslots = 2 * (uint32_t)nthreads;
	g.slots = xcalloc(g.nslots, sizeof(*g.slots));
	for (c = 0; c < g.nslots; c++)
		buf_init(&g.slots[c].out, 0);
	pthread_mutex_init(&g.mu, NULL);
	pthread_cond_init(&g.cv, NULL);
	w = xcalloc((size_t)nthreads, sizeof(*w));
	for (i = 0; i < nthreads; i++) {
		w[i].g = &g;
		w[i].stamp = xcalloc(g.I, sizeof(*w[i].stamp));
		w[i].items = xmalloc(g.I * sizeof(*w[i].items));
		w[i].ts = xmalloc(g.I * sizeof(*w[i].ts));
		w[i].p = xmalloc(DATAGEN_RANK_MAX * sizeof(*w[i].p));
		if (pthread_create(&w[i].tid, NULL, worker_main, &w[i]))
			die("cannot start a generator thread");
		started++;
	}
	if (progress)
		progress(0, g.R, ctx);
	for (c = 0; c < g.nchunks; c++) {
		struct slot *s = &g.slots[c % g.nslots];
		int bad;

		pthread_mutex_lock(&g.mu);
		while (!s->ready)
			pthread_cond_wait(&g.cv, &g.mu);
		pthread_mutex_unlock(&g.mu);
		bad = write_all(fd, s->out.s, s->out.len);
		done += s->nratings;
		pthread_mutex_lock(&g.mu);
		s->ready = 0;
		g.written++;
		if (bad)
			g.stop = 1;
		pthread_cond_broadcast(&g.cv);
		pthread_mutex_unlock(&g.mu);
		if (bad) {
			buf_addf(err, "cannot write '%s': %s: is the disk full?", tmp, strerror(errno));
			goto out;
		}
		if (progress && done < g.R)
			progress(done, g.R, ctx);
	}
	if (close(fd)) {
		fd = -1;
		buf_addf(err, "cannot write '%s': %s: is the disk full?", tmp, strerror(errno));
		goto out;
	}
	fd = -1;
	if (rename(tmp, path)) {
		buf_addf(err, "cannot rename '%s': %s", tmp, strerror(errno));
		goto out;
	}
	manifest(o, &man);
	if (write_file(dir, "dataset.txt", &man, err))
		goto out;
	if (progress)
		progress(g.R, g.R, ctx);
	ret = 0;
out:
	if (started) {
		pthread_mutex_lock(&g.mu);
		g.stop = 1;
		pthread_cond_broadcast(&g.cv);
		pthread_mutex_unlock(&g.mu);
	}
	for (i = 0; i < started; i++)
		pthread_join(w[i].tid, NULL);
	if (w)
		for (i = 0; i < started; i++) {
			free(w[i].stamp);
			free(w[i].items);
			free(w[i].ts);
			free(w[i].p);
			free(w[i].keys);
		}
	free(w);
	if (started) {
		pthread_mutex_destroy(&g.mu);
		pthread_cond_destroy(&g.cv);
	}
	if (g.slots)
		for (c = 0; c < g.nslots; c++)
			buf_release(&g.slots[c].out);
	free(g.slots);
	if (fd >= 0)
		close(fd);
	if (ret && tmp)
		unlink(tmp);
	free(path);
	free(tmp);
	free(g.count);
	free(g.mand_start);
	free(g.mand);
	free(g.q);
	free(g.bias);
	free(g.weight);
	free(g.alias);
	free(g.prob);
	free(g.chunk_user);
	free(g.chunk_ratings);
	free(genres);
	free(years);
	buf_release(&movies);
	buf_release(&man);
	buf_release(&own_err);
	return ret;
}
