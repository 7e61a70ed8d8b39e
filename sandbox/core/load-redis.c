/*
 * load-redis: per-item rating count/sum/mean hashes, the popularity sorted
 * set and per-user rated-items sets under pk:<dataset>:, written pipelined.
 * Every value is computed from the dataset in memory and SET, never
 * incremented, so a re-run rewrites the same keys to the same values.
 */
#include "core/load.h"
#include "core/load-targets.h"
#include "clients/redis.h"
#include "model/keys.h"
#include "util/xalloc.h"
#include "util/clock.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define DEFAULT_TIMEOUT_MS 10000
/* members per SADD / ZADD: large enough to amortise, small enough to not stall */
#define CHUNK 512
#define PROGRESS_EVERY 65536

/* decimal digits of v into p (no NUL); returns the length */
static size_t fmt_u32(char *p, uint32_t v)
{
	char tmp[10];
	size_t n = 0, i;

	do {
		tmp[n++] = (char)('0' + v % 10);
		v /= 10;
	} while (v);
	for (i = 0; i < n; i++)
		p[i] = tmp[n - 1 - i];
	return n;
}

/* a command being built: argv pointing into `arena` */
struct cmd {
	int argc;
	const char *argv[2 * CHUNK + 2];
	size_t len[2 * CHUNK + 2];
	char arena[(2 * CHUNK + 2) * 24];
	size_t used;
};

static void cmd_start(struct cmd *c)
{
	c->argc = 0;
	c->used = 0;
}

static void cmd_arg(struct cmd *c, const char *s, size_t len)
{
	c->argv[c->argc] = s;
	c->len[c->argc++] = len;
}

static void cmd_u32(struct cmd *c, uint32_t v)
{
	char *p = c->arena + c->used;
	size_t n = fmt_u32(p, v);

	c->used += n;
	cmd_arg(c, p, n);
}

/* half stars as stars with one decimal: 7 -> "3.5", what "%.1f" prints */
static void cmd_halves(struct cmd *c, uint64_t halves)
{
	char *p = c->arena + c->used;
	size_t n = fmt_u32(p, (uint32_t)(halves / 2));

	p[n++] = '.';
	p[n++] = halves & 1 ? '5' : '0';
	c->used += n;
	cmd_arg(c, p, n);
}

static void cmd_fmt(struct cmd *c, const char *fmt, double v)
{
	char *p = c->arena + c->used;
	int n = snprintf(p, 24, fmt, v);

	c->used += (size_t)n;
	cmd_arg(c, p, (size_t)n);
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

/* (user << 32 | item) of every rating, grouped by user */
static uint64_t *by_user(const struct dataset *ds)
{
	uint64_t *p = xmalloc((ds->nratings + 1) * sizeof(*p));
	int sorted = 1;

	for (size_t i = 0; i < ds->nratings; i++) {
		p[i] = (uint64_t)ds->ratings[i].user << 32 | ds->ratings[i].item;
		if (i && ds->ratings[i].user < ds->ratings[i - 1].user)
			sorted = 0;
	}
	if (!sorted)
		qsort(p, ds->nratings, sizeof(*p), cmp_u64);
	return p;
}

static int cancelled(const struct load_opts *o, struct buf *err)
{
	if (!o->cancel || !*o->cancel)
		return 0;
	buf_addstr(err, "interrupted: run the load again to rewrite the redis "
		   "keys (re-running is safe)");
	return LOAD_INTERRUPTED;
}

/* a key of dataset `ds` and `id` (model/keys.h) into c's arena */
static void cmd_key(struct cmd *c, int (*key)(char *, size_t, const char *, uint32_t),
		    const char *ds, uint32_t id)
{
	char *p = c->arena + c->used;
	int n = key(p, sizeof(c->arena) - c->used, ds, id);

	c->used += (size_t)n;
	cmd_arg(c, p, (size_t)n);
}

/* a key of dataset `name` (model/keys.h), new (free()) */
static char *key_new(int (*key)(char *, size_t, const char *), const char *name)
{
	size_t size = strlen(name) + KEYS_EXTRA;
	char *s = xmalloc(size);

	key(s, size, name);
	return s;
}

static int load_redis(const struct dataset *ds, const struct load_opts *o,
		      struct load_result *res, struct buf *err)
{
	const char *name = o->dataset ? o->dataset : ds->name;
	int timeout = o->timeout_ms > 0 ? o->timeout_ms : DEFAULT_TIMEOUT_MS;
	struct redis_conn *rc = NULL;
	struct movie_stats st = { NULL, NULL };
	uint64_t *pairs = NULL, done = 0, next_progress = PROGRESS_EVERY;
	struct cmd *c = xmalloc(sizeof(*c));
	char *tmpkey = NULL, *popkey = NULL, *metakey = NULL, fp[20];
	struct buf have = BUF_INIT;
	double t0 = clock_s();
	size_t i, j;
	int ret, same;

	memset(res, 0, sizeof(*res));
	if (strlen(name) > 200) {
		buf_addf(err, "dataset name '%.40s...' is too long for redis "
			 "keys: use a shorter name", name);
		ret = -1;
		goto out;
	}
	ret = redis_connect(&rc, o->host, o->port, timeout, o->inflight, err);
	if (ret) {
		buf_addstr(err, " (start it with 'pancake up redis'; 'pancake ps' shows the stack)");
		goto out;
	}
	/*
	 * the keys of another version of this dataset would stay beside the
	 * new ones: refuse, as kafka does, rather than mix or delete them
	 */
	snprintf(fp, sizeof(fp), "%016" PRIx64, dataset_fingerprint(ds));
	metakey = key_new(keys_data_meta, name);
	ret = redis_hget(rc, metakey, "fingerprint", &have, err);
	if (ret < 0)
		goto out;
	same = !ret && !strcmp(have.s, fp);
	if (!ret && strcmp(have.s, fp)) {
		buf_addf(err, "redis holds another version of dataset '%s' (keys pk:%s:*, "
			 "loaded from other data): 'pancake data drop %s --from redis' "
			 "empties it, or load with --replace", name, name, name);
		ret = -1;
		goto out;
	}
	{
		const char *a[4] = { "HSET", metakey, "fingerprint", fp };

		if ((ret = redis_append(rc, 4, a, NULL, err)))
			goto out;
	}
	dataset_movie_stats(ds, &st);
	pairs = by_user(ds);
	popkey = key_new(keys_data_popular, name);
	/* built aside and renamed over, so readers never see half a set */
	tmpkey = xstrfmt("%s:loading", popkey);

	/* items: hash and popularity */
	{
		const char *del[2] = { "DEL", tmpkey };

		if ((ret = redis_append(rc, 2, del, NULL, err)))
			goto out;
	}
	for (i = 0; i < ds->nmovies; i++) {
		const struct movie *m = &ds->movies[i];
		double sum = st.halves[i] / 2.0;

		cmd_start(c);
		cmd_arg(c, "HSET", 4);
		cmd_key(c, keys_data_item, name, m->id);
		cmd_arg(c, "count", 5);
		cmd_u32(c, st.count[i]);
		cmd_arg(c, "sum", 3);
		cmd_halves(c, st.halves[i]);
		cmd_arg(c, "mean", 4);
		cmd_fmt(c, "%.4f", st.count[i] ? sum / st.count[i] : 0.0);
		if ((ret = redis_append(rc, c->argc, c->argv, c->len, err)))
			goto out;
	}
	for (i = 0; i < ds->nmovies; i = j) {
		cmd_start(c);
		cmd_arg(c, "ZADD", 4);
		cmd_arg(c, tmpkey, strlen(tmpkey));
		for (j = i; j < ds->nmovies && j - i < CHUNK; j++) {
			cmd_u32(c, st.count[j]);
			cmd_u32(c, ds->movies[j].id);
		}
		if ((ret = redis_append(rc, c->argc, c->argv, c->len, err)))
			goto out;
		if ((ret = cancelled(o, err)))
			goto out;
	}
	{
		const char *ren[3] = { "RENAME", tmpkey, popkey };
		const char *del[2] = { "DEL", popkey };

		/* RENAME of a missing key is an error: no movies, no set */
		if (ds->nmovies)
			ret = redis_append(rc, 3, ren, NULL, err);
		else
			ret = redis_append(rc, 2, del, NULL, err);
		if (ret)
			goto out;
	}

	/* users: DEL then SADD, so a set holds exactly this dataset's items */
	for (i = 0; i < ds->nratings; i = j) {
		uint32_t user = (uint32_t)(pairs[i] >> 32);
		size_t k;

		cmd_start(c);
		cmd_arg(c, "DEL", 3);
		cmd_key(c, keys_data_rated, name, user);
		if ((ret = redis_append(rc, c->argc, c->argv, c->len, err)))
			goto out;
		for (j = i; j < ds->nratings && pairs[j] >> 32 == user; j++)
			;
		for (k = i; k < j;) {
			cmd_start(c);
			cmd_arg(c, "SADD", 4);
			cmd_key(c, keys_data_rated, name, user);
			for (; k < j && c->argc < CHUNK + 2; k++)
				cmd_u32(c, (uint32_t)pairs[k]);
			if ((ret = redis_append(rc, c->argc, c->argv, c->len,
						err)))
				goto out;
		}
		done += j - i;
		if (done >= next_progress) {
			next_progress = done + PROGRESS_EVERY;
			if (o->progress)
				o->progress("redis", done, ds->nratings, o->ctx);
			if ((ret = cancelled(o, err)))
				goto out;
		}
	}

	cmd_start(c);
	cmd_arg(c, "HSET", 4);
	cmd_arg(c, metakey, strlen(metakey));
	cmd_arg(c, "ratings", 7);
	cmd_fmt(c, "%.0f", (double)ds->nratings);
	cmd_arg(c, "movies", 6);
	cmd_fmt(c, "%.0f", (double)ds->nmovies);
	cmd_arg(c, "users", 5);
	cmd_fmt(c, "%.0f", (double)ds->nusers);
	cmd_arg(c, "loaded_at", 9);
	cmd_fmt(c, "%.0f", (double)time(NULL));
	if ((ret = redis_append(rc, c->argc, c->argv, c->len, err)))
		goto out;
	if ((ret = redis_flush(rc, err)))
		goto out;
	res->ratings_written = ds->nratings;
	/* the same dataset was there: every key was written again, in place */
	if (same)
		res->ratings_rewritten = ds->nratings;
	res->movies_written = ds->nmovies;
	if (o->progress)
		o->progress("redis", ds->nratings, ds->nratings, o->ctx);
out:
	res->seconds = clock_s() - t0;
	redis_close(rc);
	dataset_movie_stats_release(&st);
	free(pairs);
	free(tmpkey);
	free(popkey);
	free(metakey);
	buf_release(&have);
	free(c);
	return ret == LOAD_INTERRUPTED ? ret : ret ? -1 : 0;
}

static int count_redis(const struct dataset *ds, const struct load_opts *o,
		       struct load_counts *cnt, struct buf *err)
{
	const char *name = o->dataset ? o->dataset : ds->name;
	int timeout = o->timeout_ms > 0 ? o->timeout_ms : DEFAULT_TIMEOUT_MS;
	struct redis_conn *rc = NULL;
	struct buf pat = BUF_INIT;
	char *popkey = key_new(keys_data_popular, name);
	int64_t users = 0, members = 0, zcard = 0, items = 0, zn = 0;
	double zsum = 0;
	int ret;

	cnt->ratings = cnt->movies = cnt->users = -1;
	cnt->detail[0] = '\0';
	ret = redis_connect(&rc, o->host, o->port, timeout, o->inflight, err);
	if (ret)
		goto out;
	keys_data_glob(&pat, name, KEYS_GLOB_RATED);
	if ((ret = redis_scan_sum(rc, pat.s, "SCARD", &users, &members, err)))
		goto out;
	if ((ret = redis_count(rc, "ZCARD", popkey, &zcard, err)))
		goto out;
	if ((ret = redis_zsum(rc, popkey, &zsum, &zn, err)))
		goto out;
	buf_reset(&pat);
	keys_data_glob(&pat, name, KEYS_GLOB_ITEMS);
	if ((ret = redis_scan_sum(rc, pat.s, NULL, &items, NULL, err)))
		goto out;
	cnt->ratings = members;
	cnt->users = users;
	/* the popularity set and the item hashes must agree to count at all */
	cnt->movies = zcard == items ? zcard : -1;
	snprintf(cnt->detail, sizeof(cnt->detail),
		 "%" PRId64 " user sets, popular: %" PRId64 " items summing "
		 "to %.0f%s, %" PRId64 " item hashes", users, zcard, zsum,
		 (int64_t)zsum == members ? "" : " (differs from the sets)",
		 items);
	if ((int64_t)zsum != members)
		cnt->ratings = -1;
out:
	redis_close(rc);
	buf_release(&pat);
	free(popkey);
	return ret ? -1 : 0;
}

static void expect_redis(const struct dataset *ds, struct load_counts *c)
{
	c->ratings = (int64_t)ds->nratings;
	c->movies = (int64_t)ds->nmovies;
	c->users = (int64_t)ds->nusers;
	snprintf(c->detail, sizeof(c->detail), "%zu user sets, %zu items",
		 ds->nusers, ds->nmovies);
}

/* UNLINKs every key of the dataset: pk:<name>:* */
static int drop_redis(const char *name, const struct load_opts *o, char *detail,
		      size_t size, struct buf *err)
{
	int timeout = o->timeout_ms > 0 ? o->timeout_ms : DEFAULT_TIMEOUT_MS;
	struct redis_conn *rc = NULL;
	struct buf pat = BUF_INIT;
	int64_t keys = 0, removed = 0;
	int ret;

	ret = redis_connect(&rc, o->host, o->port, timeout, o->inflight, err);
	if (ret)
		goto out;
	keys_data_glob(&pat, name, KEYS_GLOB_ALL);
	if ((ret = redis_scan_sum(rc, pat.s, "UNLINK", &keys, &removed, err)))
		goto out;
	snprintf(detail, size, "%" PRId64 " keys %s removed", removed, pat.s);
out:
	redis_close(rc);
	buf_release(&pat);
	return ret ? -1 : 0;
}

const struct load_target load_target_redis = {
	.name = "redis",
	.default_port = 6379,
	.load = load_redis,
	.count = count_redis,
	.expect = expect_redis,
	.drop = drop_redis,
};
