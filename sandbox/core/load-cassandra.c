/*
 * load-cassandra: keyspace pancake with ratings_by_user, ratings_by_item and
 * movies, written with prepared INSERTs, many in flight on one connection
 * (bounded). INSERTs are upserts by primary key, so a re-run rewrites the
 * same rows; a lost connection is reopened and the work is sent again from
 * a point known to be durable (below). A resume marker (pancake.load_markers)
 * keeps how far the load got, so an interrupted or killed load starts again
 * from there, and a complete one is not sent twice.
 *
 * Durability: with commitlog_sync periodic (Cassandra's default, 10 s; 1 s
 * in pancake's image) a write is acknowledged before it is synced, and a
 * killed server replays its commitlog only up to the last sync: it forgets
 * writes it acknowledged in the last period. So "acknowledged" is not
 * "stored" until LOSS_WINDOW_S later. The marker written during a load
 * claims only the prefix acknowledged that long ago, and after a lost
 * connection (the server may have died) the load goes back to that prefix
 * and sends everything after it again.
 */
#include "core/load.h"
#include "core/load-targets.h"
#include "clients/cql.h"
#include "util/clock.h"
#include "util/xalloc.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define DEFAULT_TIMEOUT_MS 10000
#define DEFAULT_INFLIGHT 256
#define DDL_TIMEOUT_MS 60000
#define RECONNECT_S 60
#define STALL_S 120
#define PROGRESS_EVERY 50000
#define MARKER_EVERY_S 1.0
/* longer than any periodic commitlog sync we expect (10 s by default) */
#define LOSS_WINDOW_S 12.0
/* samples of the acknowledged prefix over time, for durable_low() */
#define LOW_SAMPLES 128
#define LOW_SAMPLE_S 0.25

static void nap_ms(long ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };

	nanosleep(&ts, NULL);
}

static const char *const schema[] = {
	"CREATE KEYSPACE IF NOT EXISTS pancake WITH replication = "
	"{'class': 'SimpleStrategy', 'replication_factor': 1}",
	"CREATE TABLE IF NOT EXISTS pancake.ratings_by_user (dataset text, "
	"user int, item int, rating float, ts timestamp, "
	"PRIMARY KEY ((dataset, user), item))",
	"CREATE TABLE IF NOT EXISTS pancake.ratings_by_item (dataset text, "
	"item int, user int, rating float, ts timestamp, "
	"PRIMARY KEY ((dataset, item), user))",
	"CREATE TABLE IF NOT EXISTS pancake.movies (dataset text, id int, "
	"title text, year int, genres set<text>, PRIMARY KEY (dataset, id))",
	"CREATE TABLE IF NOT EXISTS pancake.load_markers (dataset text "
	"PRIMARY KEY, fingerprint bigint, done bigint, total bigint)",
};

#define Q_BY_USER "INSERT INTO pancake.ratings_by_user (dataset, user, item, " \
	"rating, ts) VALUES (?, ?, ?, ?, ?)"
#define Q_BY_ITEM "INSERT INTO pancake.ratings_by_item (dataset, item, user, " \
	"rating, ts) VALUES (?, ?, ?, ?, ?)"
#define Q_MOVIE "INSERT INTO pancake.movies (dataset, id, title, year, " \
	"genres) VALUES (?, ?, ?, ?, ?)"
#define Q_MARKER "INSERT INTO pancake.load_markers (dataset, fingerprint, " \
	"done, total) VALUES (?, ?, ?, ?)"
#define Q_MARKER_GET "SELECT fingerprint, done, total FROM " \
	"pancake.load_markers WHERE dataset = ?"

static const char *ds_name(const struct dataset *ds, const struct load_opts *o)
{
	return o->dataset ? o->dataset : ds->name;
}

static int cass_connect(struct cql_conn **c, const struct load_opts *o,
			int timeout, struct buf *err)
{
	struct buf why = BUF_INIT;
	int ret = cql_connect(c, o->host, o->port, timeout, &why);

	if (ret)
		buf_addf(err, "cassandra at %s:%d: %s: is it up? (start it with "
			 "'pancake up cassandra'; 'pancake ps' shows the stack)",
			 o->host, o->port, why.s);
	buf_release(&why);
	return ret;
}

/* ---- load ---- */

/*
 * Work items 0..total: item 2k writes rating k into ratings_by_user, 2k+1
 * the same rating into ratings_by_item, then one item per movie. `low` is
 * the acknowledged prefix: every item below it is in the store. It is what
 * the resume marker keeps, so 2 * (ratings done) <= low.
 */
struct job {
	const struct dataset *ds;
	const char *name;
	uint64_t fingerprint;
	struct cql_conn *c;
	struct cql_prepared *st_user, *st_item, *st_movie, *st_marker;
	size_t total, next, nacked, low;
	size_t start;            /* known durable: the marker read, or after a roll-back */
	size_t resumed_from;     /* what the marker said when the load began */
	size_t marked;           /* what the marker vouched for, even with --full */
	unsigned char *acked;
	size_t *retry;
	size_t nretry;
	size_t errors;
	int backoff;
	double last_ack, last_marker;
	struct buf first_error;
	/* ring of (when, low): the prefix acknowledged at a time */
	double sample_at[LOW_SAMPLES];
	size_t sample_low[LOW_SAMPLES];
	int nsamples, next_sample;
};

/* the callback context: the job is global to this module's one load */
static struct job *cur;

/* ctx of a marker write: not a work item */
#define MARKER_CTX ((void *)UINTPTR_MAX)

static void item_done(void *ctx, int status, struct cql_result *res,
		      const char *err)
{
	struct job *J = cur;
	size_t i = (size_t)(uintptr_t)ctx;

	/* a lost marker write only costs a longer resume */
	if (ctx == MARKER_CTX)
		return;
	if (!status) {
		if (!J->acked[i]) {
			J->acked[i] = 1;
			J->nacked++;
			J->last_ack = clock_s();
		}
		return;
	}
	if (status == CQL_EIO || status == CQL_ETIMEOUT ||
	    (status == CQL_ESERVER && cql_error_retryable(res->error_code))) {
		J->retry[J->nretry++] = i;
		if (status == CQL_ESERVER)
			J->backoff = 1;
		return;
	}
	if (!J->errors++)
		buf_addstr(&J->first_error, err);
}

static int submit_item(struct job *J, size_t i, struct buf *err)
{
	const struct dataset *ds = J->ds;
	size_t nr = ds->nratings;
	struct cql_value v[5], g[GENRE_COUNT];
	struct cql_prepared *st;
	int ng = 0;

	v[0] = cql_text(J->name);
	if (i < 2 * nr) {
		const struct rating *r = &ds->ratings[i / 2];
		int by_user = !(i & 1);

		st = by_user ? J->st_user : J->st_item;
		v[1] = cql_int(by_user ? r->user : r->item);
		v[2] = cql_int(by_user ? r->item : r->user);
		v[3] = cql_real(r->halves / 2.0);
		v[4] = cql_timestamp((int64_t)r->ts * 1000);
	} else {
		const struct movie *m = &ds->movies[i - 2 * nr];

		for (int k = 0; k < GENRE_COUNT; k++)
			if (m->genres & (1u << k))
				g[ng++] = cql_text(genre_name((enum genre)k));
		st = J->st_movie;
		v[1] = cql_int(m->id);
		v[2] = cql_text(m->title ? m->title : "");
		v[3] = m->year ? cql_int(m->year) : cql_null();
		v[4] = cql_set(g, ng);
	}
	return cql_submit_execute(J->c, st, v, 5, NULL, item_done,
				  (void *)(uintptr_t)i, err);
}

/* moves `low` over the items acknowledged since */
static void advance_low(struct job *J)
{
	while (J->low < J->total && J->acked[J->low])
		J->low++;
}

static void sample_low(struct job *J, double t)
{
	int last = (J->next_sample + LOW_SAMPLES - 1) % LOW_SAMPLES;

	if (J->nsamples && t - J->sample_at[last] < LOW_SAMPLE_S)
		return;
	J->sample_at[J->next_sample] = t;
	J->sample_low[J->next_sample] = J->low;
	J->next_sample = (J->next_sample + 1) % LOW_SAMPLES;
	if (J->nsamples < LOW_SAMPLES)
		J->nsamples++;
}

/*
 * The prefix acknowledged at least LOSS_WINDOW_S before `t`: durable by
 * now even if the server dies. What the load started from (read from the
 * server) always is.
 */
static size_t durable_low(const struct job *J, double t)
{
	size_t best = J->start;

	for (int k = 0; k < J->nsamples; k++)
		if (J->sample_at[k] <= t - LOSS_WINDOW_S && J->sample_low[k] > best)
			best = J->sample_low[k];
	return best;
}

static void marker_values(struct job *J, size_t done, struct cql_value v[4])
{
	v[0] = cql_text(J->name);
	v[1] = cql_int((int64_t)J->fingerprint);
	v[2] = cql_int((int64_t)done);
	v[3] = cql_int((int64_t)J->total);
}

/* queues a marker write with the prefix that is durable by now */
static void submit_marker(struct job *J)
{
	struct cql_value v[4];
	double t = clock_s();

	advance_low(J);
	marker_values(J, durable_low(J, t), v);
	if (!cql_submit_execute(J->c, J->st_marker, v, 4, NULL, item_done,
				MARKER_CTX, NULL))
		J->last_marker = t;
}

/*
 * After a lost connection: forget what was acknowledged after the durable
 * prefix (the server may have died and forgotten it) and send it again.
 */
static void roll_back(struct job *J, double lost_at)
{
	size_t d = durable_low(J, lost_at), i;

	for (i = d; i < J->total; i++)
		if (J->acked[i]) {
			J->acked[i] = 0;
			J->nacked--;
		}
	J->low = J->next = d;
	J->nretry = 0;
	J->nsamples = 0;
	J->next_sample = 0;
	J->start = d;
}

/*
 * The last word on how far it got, waited for, when the load ends with the
 * server still there (done, cancelled, a refused write); quiet on failure.
 */
static void write_marker(struct job *J)
{
	struct cql_result res = CQL_RESULT_INIT;
	struct cql_value v[4];

	if (!J->c || cql_conn_broken(J->c) || !J->st_marker)
		return;
	advance_low(J);
	marker_values(J, J->low, v);
	cql_execute(J->c, J->st_marker, v, 4, NULL, &res, NULL);
	cql_result_release(&res);
}

/*
 * Where a load of this data starts: the marker's `done` when it was left
 * by the same data (fingerprint and size), 0 with `full` or no marker; -1
 * when the marker was left by other data under the same name.
 */
static int read_marker(struct job *J, int full, struct buf *err)
{
	struct cql_result res = CQL_RESULT_INIT;
	struct cql_prepared *st = NULL;
	struct buf why = BUF_INIT;
	struct cql_value v[1];
	int64_t fp, done, total;
	int ret;

	J->start = 0;
	if ((ret = cql_prepare(J->c, Q_MARKER_GET, &st, &why)) ||
	    (v[0] = cql_text(J->name),
	     (ret = cql_execute(J->c, st, v, 1, NULL, &res, &why)))) {
		buf_addf(err, "cassandra: reading the resume marker failed: %s",
			 why.s);
		goto out;
	}
	if (res.kind == CQL_RESULT_ROWS && res.nrows == 1 &&
	    !cql_cell_int(cql_result_cell(&res, 0, 0), &fp) &&
	    !cql_cell_int(cql_result_cell(&res, 0, 1), &done) &&
	    !cql_cell_int(cql_result_cell(&res, 0, 2), &total)) {
		/* rows of another version of the dataset would stay: refuse */
		if ((uint64_t)fp != J->fingerprint || (size_t)total != J->total) {
			buf_addf(err, "cassandra holds another version of dataset '%s' "
				 "(loaded from other data): 'pancake data drop %s --from "
				 "cassandra' removes it, or load with --replace", J->name,
				 J->name);
			ret = -1;
			goto out;
		}
		if (done > 0 && (size_t)done <= J->total)
			J->marked = (size_t)done;
		if (!full)
			J->start = J->marked;
	}
out:
	cql_prepared_free(st);
	cql_result_release(&res);
	buf_release(&why);
	return ret;
}

#define SPOT_CHECKS 8

/*
 * A marker outlives its rows when they are removed by other means
 * (TRUNCATE, cqlsh DELETE): look up a few of the rows it vouches for, both
 * tables, first and last among them. 1 when all are there with the
 * source's rating, 0 when one is not, -1 with `err` when asking failed.
 */
static int spot_check(struct job *J, size_t done, size_t *missing, struct buf *err)
{
	static const char *const q[2] = {
		"SELECT rating FROM pancake.ratings_by_user WHERE dataset = ? AND user = ? AND item = ?",
		"SELECT rating FROM pancake.ratings_by_item WHERE dataset = ? AND item = ? AND user = ?",
	};
	struct cql_result res = CQL_RESULT_INIT;
	struct cql_prepared *st[2] = { NULL, NULL };
	size_t nr = J->ds->nratings, in = done / 2 < nr ? done / 2 : nr;
	int ret = 1, k, t;

	if (!in)
		return 1;
	for (t = 0; t < 2 && ret == 1; t++)
		if (cql_prepare(J->c, q[t], &st[t], err))
			ret = -1;
	for (k = 0; k < SPOT_CHECKS && ret == 1; k++) {
		size_t i = k == SPOT_CHECKS - 1 ? in - 1 : in * (size_t)k / (SPOT_CHECKS - 1);
		const struct rating *r = &J->ds->ratings[i];

		for (t = 0; t < 2 && ret == 1; t++) {
			struct cql_value v[3] = { cql_text(J->name), cql_int(t ? r->item : r->user),
						  cql_int(t ? r->user : r->item) };
			const unsigned char *d;
			uint32_t bits;
			float f;

			if (cql_execute(J->c, st[t], v, 3, NULL, &res, err)) {
				ret = -1;
				break;
			}
			if (res.kind != CQL_RESULT_ROWS || res.nrows != 1 ||
			    cql_result_cell(&res, 0, 0)->len != 4) {
				*missing = i;
				ret = 0;
				break;
			}
			d = cql_result_cell(&res, 0, 0)->data;
			bits = (uint32_t)d[0] << 24 | (uint32_t)d[1] << 16 | (uint32_t)d[2] << 8 | d[3];
			memcpy(&f, &bits, sizeof(f));
			if (f != r->halves / 2.0f) {
				*missing = i;
				ret = 0;
			}
		}
	}
	cql_prepared_free(st[0]);
	cql_prepared_free(st[1]);
	cql_result_release(&res);
	return ret;
}

static int reconnect(struct job *J, const struct load_opts *o, int timeout,
		     int inflight, struct buf *err)
{
	struct buf why = BUF_INIT;
	double t0 = clock_s();

	cql_poll(J->c, 0, &why);
	cql_close(J->c);
	J->c = NULL;
	while (clock_s() - t0 < RECONNECT_S) {
		if (o->cancel && *o->cancel)
			break;
		nap_ms(1000);
		buf_reset(err);
		if (!cass_connect(&J->c, o, timeout, err)) {
			buf_reset(err);
			cql_set_max_inflight(J->c, inflight);
			cql_set_timeout(J->c, timeout);
			J->last_ack = clock_s();
			buf_release(&why);
			return 0;
		}
	}
	buf_reset(err);
	buf_addf(err, "cassandra at %s:%d: connection lost (%s) and not back "
		 "within %d s", o->host, o->port, why.s[0] ? why.s : "closed",
		 RECONNECT_S);
	buf_release(&why);
	return -1;
}

static int prepare_all(struct job *J, struct buf *err)
{
	struct buf why = BUF_INIT;
	int ret;

	if ((ret = cql_prepare(J->c, Q_BY_USER, &J->st_user, &why)) ||
	    (ret = cql_prepare(J->c, Q_BY_ITEM, &J->st_item, &why)) ||
	    (ret = cql_prepare(J->c, Q_MOVIE, &J->st_movie, &why)) ||
	    (ret = cql_prepare(J->c, Q_MARKER, &J->st_marker, &why)))
		buf_addf(err, "cassandra: preparing the INSERTs failed: %s "
			 "(does keyspace pancake have the expected tables? "
			 "drop pancake's tables and load again)", why.s);
	buf_release(&why);
	return ret;
}

static int create_schema(struct cql_conn *c, int timeout, struct buf *err)
{
	struct cql_result res = CQL_RESULT_INIT;
	struct buf why = BUF_INIT;
	int ret = 0;

	cql_set_timeout(c, DDL_TIMEOUT_MS);
	for (size_t k = 0; k < sizeof(schema) / sizeof(schema[0]); k++) {
		buf_reset(&why);
		ret = cql_query(c, schema[k], &res, &why);
		if (ret) {
			buf_addf(err, "cassandra: creating the schema failed: "
				 "%s (check the server's log: pancake logs "
				 "cassandra)", why.s);
			break;
		}
	}
	cql_set_timeout(c, timeout);
	cql_result_release(&res);
	buf_release(&why);
	return ret;
}

/* ratings with both rows acknowledged, and movies acknowledged */
static size_t ratings_in(const struct job *J)
{
	return J->low / 2 < J->ds->nratings ? J->low / 2 : J->ds->nratings;
}

static int load_cassandra(const struct dataset *ds, const struct load_opts *o,
			  struct load_result *res, struct buf *err)
{
	int timeout = o->timeout_ms > 0 ? o->timeout_ms : DEFAULT_TIMEOUT_MS;
	int inflight = o->inflight > 0 ? o->inflight : DEFAULT_INFLIGHT;
	struct job J;
	struct buf why = BUF_INIT;
	size_t next_progress, nr = ds->nratings;
	double t0 = clock_s();
	int ret = 0, cancelled = 0;

	memset(res, 0, sizeof(*res));
	memset(&J, 0, sizeof(J));
	J.ds = ds;
	J.name = ds_name(ds, o);
	J.first_error = (struct buf)BUF_INIT;
	J.total = 2 * nr + ds->nmovies;
	J.fingerprint = dataset_fingerprint(ds);
	if (inflight > CQL_INFLIGHT_MAX)
		inflight = CQL_INFLIGHT_MAX;
	if ((ret = cass_connect(&J.c, o, timeout, err)))
		goto out;
	if ((ret = create_schema(J.c, timeout, err)))
		goto out;
	if ((ret = prepare_all(&J, err)))
		goto out;
	if ((ret = read_marker(&J, o->full, err)))
		goto out;
	if (J.start) {
		size_t missing = 0;
		int r = spot_check(&J, J.start, &missing, err);

		if (r < 0) {
			buf_addstr(err, " (checking the rows the resume marker vouches for)");
			ret = -1;
			goto out;
		}
		/* the rows are gone: load them all again, as new */
		if (!r)
			J.start = J.marked = 0;
	}
	cql_set_max_inflight(J.c, inflight);
	J.acked = xcalloc(J.total + 1, 1);
	J.retry = xcalloc(J.total + 1, sizeof(*J.retry));
	/* what the marker says is there counts as acknowledged */
	memset(J.acked, 1, J.start);
	J.nacked = J.low = J.next = J.resumed_from = J.start;
	J.last_ack = J.last_marker = clock_s();
	cur = &J;
	next_progress = ratings_in(&J) + PROGRESS_EVERY;
	if (o->progress)
		o->progress("cassandra", ratings_in(&J), nr, o->ctx);

	while (J.nacked < J.total && !J.errors) {
		size_t i;
		double t;

		if (o->cancel && *o->cancel) {
			cancelled = 1;
			break;
		}
		if (cql_conn_broken(J.c)) {
			double lost_at = clock_s();

			if ((ret = reconnect(&J, o, timeout, inflight, err)))
				break;
			roll_back(&J, lost_at);
			continue;
		}
		t = clock_s();
		if (t - J.last_ack > STALL_S) {
			buf_addf(err, "cassandra at %s:%d: nothing acknowledged "
				 "for %d s (server overloaded or stuck?)",
				 o->host, o->port, STALL_S);
			ret = -1;
			break;
		}
		if (t - J.last_marker >= MARKER_EVERY_S)
			submit_marker(&J);
		advance_low(&J);
		sample_low(&J, t);
		if (o->progress && ratings_in(&J) >= next_progress) {
			next_progress = ratings_in(&J) + PROGRESS_EVERY;
			o->progress("cassandra", ratings_in(&J), nr, o->ctx);
		}
		if (J.backoff) {
			cql_poll(J.c, 100, NULL);
			J.backoff = 0;
		}
		if (J.nretry) {
			i = J.retry[--J.nretry];
		} else if (J.next < J.total) {
			i = J.next++;
		} else {
			cql_drain(J.c, NULL);
			continue;
		}
		buf_reset(&why);
		if (submit_item(&J, i, &why)) {
			if (cql_conn_broken(J.c)) {
				J.retry[J.nretry++] = i;
				continue;
			}
			if (!J.errors++)
				buf_addstr(&J.first_error, why.s);
		}
	}
	if (J.c && !cql_conn_broken(J.c))
		cql_drain(J.c, NULL);
	advance_low(&J);
	if (cancelled && !ret) {
		buf_addf(err, "interrupted: %zu of %zu ratings (both tables) are "
			 "in cassandra: run the load again to resume",
			 ratings_in(&J), nr);
		ret = LOAD_INTERRUPTED;
	} else if (J.errors && !ret) {
		buf_addf(err, "cassandra: %zu writes refused, the first: %s "
			 "(%zu of %zu ratings are in; fix that and load "
			 "again, it resumes)", J.errors,
			 J.first_error.s, ratings_in(&J), nr);
		ret = -1;
	} else if (ret) {
		buf_addf(err, " (%zu of %zu ratings are in; load again to "
			 "resume)", ratings_in(&J), nr);
	}
	res->ratings_skipped = J.resumed_from / 2 < nr ? J.resumed_from / 2 : nr;
	res->ratings_written = ratings_in(&J) - res->ratings_skipped;
	/* --full sends again what the marker vouched for: upserts over the same rows */
	{
		size_t again = J.marked / 2 < nr ? J.marked / 2 : nr;

		again = again > res->ratings_skipped ? again - res->ratings_skipped : 0;
		res->ratings_rewritten = again < res->ratings_written ? again : res->ratings_written;
	}
	res->movies_written = J.low > 2 * nr && J.resumed_from < J.low ?
		J.low - (J.resumed_from > 2 * nr ? J.resumed_from : 2 * nr) : 0;
	write_marker(&J);
	if (!ret && o->progress)
		o->progress("cassandra", nr, nr, o->ctx);
out:
	cur = NULL;
	res->seconds = clock_s() - t0;
	cql_close(J.c);
	cql_prepared_free(J.st_user);
	cql_prepared_free(J.st_item);
	cql_prepared_free(J.st_movie);
	cql_prepared_free(J.st_marker);
	free(J.acked);
	free(J.retry);
	buf_release(&J.first_error);
	buf_release(&why);
	return ret < 0 ? ret : 0;
}

/* ---- count ---- */

struct tally {
	int64_t rows, partitions;
	size_t errors;
	struct buf first_error;
};

static void count_done(void *ctx, int status, struct cql_result *res,
		       const char *err)
{
	struct tally *t = ctx;
	int64_t n;

	if (status || res->kind != CQL_RESULT_ROWS || res->nrows != 1 ||
	    cql_cell_int(cql_result_cell(res, 0, 0), &n)) {
		if (!t->errors++)
			buf_addstr(&t->first_error,
				   status ? err : "unexpected COUNT answer");
		return;
	}
	t->rows += n;
	t->partitions += n > 0;
}

static int cmp_u32(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;

	return x < y ? -1 : x > y;
}

/* the distinct users (item = 0) or items (item = 1) of the ratings */
static uint32_t *distinct(const struct dataset *ds, int item, size_t *n)
{
	uint32_t *p = xmalloc((ds->nratings + 1) * sizeof(*p));
	size_t k = 0;

	for (size_t i = 0; i < ds->nratings; i++)
		p[i] = item ? ds->ratings[i].item : ds->ratings[i].user;
	qsort(p, ds->nratings, sizeof(*p), cmp_u32);
	for (size_t i = 0; i < ds->nratings; i++)
		if (!k || p[k - 1] != p[i])
			p[k++] = p[i];
	*n = k;
	return p;
}

/* sums SELECT COUNT(*) over the partitions (name, keys[i]) of `st` */
static int count_partitions(struct cql_conn *c, struct cql_prepared *st,
			    const char *name, const uint32_t *keys, size_t n,
			    struct tally *t, struct buf *err)
{
	struct cql_value v[2];
	int ret;

	for (size_t i = 0; i < n && !t->errors; i++) {
		v[0] = cql_text(name);
		v[1] = cql_int(keys[i]);
		if ((ret = cql_submit_execute(c, st, v, 2, NULL, count_done,
					      t, err)))
			return ret;
	}
	return cql_drain(c, err);
}

static int count_cassandra(const struct dataset *ds, const struct load_opts *o,
			   struct load_counts *cnt, struct buf *err)
{
	int timeout = o->timeout_ms > 0 ? o->timeout_ms : DEFAULT_TIMEOUT_MS;
	int inflight = o->inflight > 0 ? o->inflight : DEFAULT_INFLIGHT;
	const char *name = ds_name(ds, o);
	struct cql_conn *c = NULL;
	struct cql_prepared *su = NULL, *si = NULL, *sm = NULL;
	struct tally tu = { 0, 0, 0, BUF_INIT }, ti = { 0, 0, 0, BUF_INIT };
	struct tally tm = { 0, 0, 0, BUF_INIT };
	struct buf why = BUF_INIT;
	uint32_t *users = NULL, *items = NULL;
	size_t nu, ni;
	uint32_t zero = 0;
	int ret;

	cnt->ratings = cnt->movies = cnt->users = -1;
	cnt->detail[0] = '\0';
	if ((ret = cass_connect(&c, o, timeout, err)))
		goto out;
	if (inflight > CQL_INFLIGHT_MAX)
		inflight = CQL_INFLIGHT_MAX;
	cql_set_max_inflight(c, inflight);
	if ((ret = cql_prepare(c, "SELECT COUNT(*) FROM pancake.ratings_by_user "
			       "WHERE dataset = ? AND user = ?", &su, &why)) ||
	    (ret = cql_prepare(c, "SELECT COUNT(*) FROM pancake.ratings_by_item "
			       "WHERE dataset = ? AND item = ?", &si, &why)) ||
	    (ret = cql_prepare(c, "SELECT COUNT(*) FROM pancake.movies WHERE "
			       "dataset = ? AND id >= ?", &sm, &why))) {
		buf_addf(err, "cassandra: cannot query keyspace pancake: %s "
			 "(nothing loaded yet? pancake data load ... --into "
			 "cassandra)", why.s);
		goto out;
	}
	users = distinct(ds, 0, &nu);
	items = distinct(ds, 1, &ni);
	cql_set_timeout(c, timeout > 30000 ? timeout : 30000);
	if ((ret = count_partitions(c, su, name, users, nu, &tu, &why)) ||
	    (ret = count_partitions(c, si, name, items, ni, &ti, &why)) ||
	    (ret = count_partitions(c, sm, name, &zero, 1, &tm, &why))) {
		buf_addf(err, "cassandra: counting failed: %s (is it up? "
			 "pancake ps)", why.s);
		goto out;
	}
	if (tu.errors || ti.errors || tm.errors) {
		buf_addf(err, "cassandra: counting failed: %s (try verify "
			 "again; pancake logs cassandra shows the server's "
			 "side)", tu.errors ? tu.first_error.s :
			 ti.errors ? ti.first_error.s : tm.first_error.s);
		ret = -1;
		goto out;
	}
	cnt->ratings = tu.rows == ti.rows ? tu.rows : -1;
	cnt->users = tu.partitions;
	cnt->movies = tm.rows;
	snprintf(cnt->detail, sizeof(cnt->detail),
		 "ratings_by_user: %" PRId64 " rows in %" PRId64 " users, "
		 "ratings_by_item: %" PRId64 " rows%s, movies: %" PRId64,
		 tu.rows, tu.partitions, ti.rows,
		 tu.rows == ti.rows ? "" : " (tables differ)", tm.rows);
out:
	cql_close(c);
	cql_prepared_free(su);
	cql_prepared_free(si);
	cql_prepared_free(sm);
	free(users);
	free(items);
	buf_release(&tu.first_error);
	buf_release(&ti.first_error);
	buf_release(&tm.first_error);
	buf_release(&why);
	return ret ? -1 : 0;
}

static void expect_cassandra(const struct dataset *ds, struct load_counts *c)
{
	c->ratings = (int64_t)ds->nratings;
	c->movies = (int64_t)ds->nmovies;
	c->users = (int64_t)ds->nusers;
	snprintf(c->detail, sizeof(c->detail), "%zu ratings in each table, "
		 "%zu users, %zu movies", ds->nratings, ds->nusers, ds->nmovies);
}

/* ---- drop ---- */

/* the partition keys (the int after the dataset) of rows of one dataset */
struct keys {
	const char *name;
	size_t nlen;
	uint32_t *v;
	size_t n, alloc;
};

static int collect_keys(void *ctx, struct cql_result *res)
{
	struct keys *k = ctx;
	int64_t id;

	for (int r = 0; r < res->nrows; r++) {
		const struct cql_cell *ds = cql_result_cell(res, r, 0);

		if (ds->len != (int32_t)k->nlen || memcmp(ds->data, k->name, k->nlen) ||
		    cql_cell_int(cql_result_cell(res, r, 1), &id))
			continue;
		ALLOC_GROW(k->v, k->n + 1, k->alloc);
		k->v[k->n++] = (uint32_t)id;
	}
	return 0;
}

static void drop_done(void *ctx, int status, struct cql_result *res, const char *err)
{
	struct tally *t = ctx;

	(void)res;
	if (status && !t->errors++)
		buf_addstr(&t->first_error, err);
	else if (!status)
		t->rows++;
}

/* DELETEs partitions (name, keys[i]) of `table` whose key column is `col` */
static int drop_partitions(struct cql_conn *c, const char *table, const char *col,
			   const struct keys *k, struct tally *t, struct buf *err)
{
	struct cql_prepared *st = NULL;
	struct cql_value v[2];
	char *q = xstrfmt("DELETE FROM pancake.%s WHERE dataset = ? AND %s = ?", table, col);
	int ret;

	if ((ret = cql_prepare(c, q, &st, err)))
		goto out;
	for (size_t i = 0; i < k->n && !t->errors; i++) {
		v[0] = cql_text(k->name);
		v[1] = cql_int(k->v[i]);
		if ((ret = cql_submit_execute(c, st, v, 2, NULL, drop_done, t, err)))
			goto out;
	}
	ret = cql_drain(c, err);
out:
	cql_prepared_free(st);
	free(q);
	return ret;
}

/*
 * The dataset's partitions are found in the store itself (SELECT DISTINCT
 * over the partition keys: cheap, it reads no rows), so a dataset whose
 * files are gone can still be dropped; then the movies partition and the
 * resume marker.
 */
static int drop_cassandra(const char *name, const struct load_opts *o, char *detail,
			  size_t size, struct buf *err)
{
	int timeout = o->timeout_ms > 0 ? o->timeout_ms : DEFAULT_TIMEOUT_MS;
	struct keys users = { name, strlen(name), NULL, 0, 0 };
	struct keys items = { name, strlen(name), NULL, 0, 0 };
	struct tally t = { 0, 0, 0, BUF_INIT };
	struct cql_result res = CQL_RESULT_INIT;
	struct cql_params p = CQL_PARAMS_INIT;
	struct cql_conn *c = NULL;
	struct buf why = BUF_INIT;
	struct cql_value v[1];
	int ret;

	if ((ret = cass_connect(&c, o, timeout, err)))
		goto out;
	cql_set_max_inflight(c, DEFAULT_INFLIGHT);
	cql_set_timeout(c, timeout > 30000 ? timeout : 30000);
	if ((ret = cql_query(c, "SELECT table_name FROM system_schema.tables WHERE "
			     "keyspace_name = 'pancake'", &res, &why)))
		goto fail;
	if (res.nrows == 0) {
		snprintf(detail, size, "keyspace pancake: does not exist, nothing to drop");
		goto out;
	}
	p.page_size = 5000;
	if ((ret = cql_foreach_page(c, "SELECT DISTINCT dataset, user FROM "
				    "pancake.ratings_by_user", NULL, NULL, 0, &p,
				    collect_keys, &users, &why)) ||
	    (ret = cql_foreach_page(c, "SELECT DISTINCT dataset, item FROM "
				    "pancake.ratings_by_item", NULL, NULL, 0, &p,
				    collect_keys, &items, &why)))
		goto fail;
	if ((ret = drop_partitions(c, "ratings_by_user", "user", &users, &t, &why)) ||
	    (ret = drop_partitions(c, "ratings_by_item", "item", &items, &t, &why)))
		goto fail;
	if (t.errors) {
		buf_addf(err, "cassandra: dropping '%s' failed: %s (run the drop again)", name,
			 t.first_error.s);
		ret = -1;
		goto out;
	}
	{
		struct cql_prepared *st = NULL;

		v[0] = cql_text(name);
		if ((ret = cql_prepare(c, "DELETE FROM pancake.movies WHERE dataset = ?", &st,
				       &why)) ||
		    (ret = cql_execute(c, st, v, 1, NULL, &res, &why))) {
			cql_prepared_free(st);
			goto fail;
		}
		cql_prepared_free(st);
		if ((ret = cql_prepare(c, "DELETE FROM pancake.load_markers WHERE dataset = ?",
				       &st, &why)) ||
		    (ret = cql_execute(c, st, v, 1, NULL, &res, &why))) {
			cql_prepared_free(st);
			goto fail;
		}
		cql_prepared_free(st);
	}
	snprintf(detail, size, "%zu user and %zu item partitions, the movies and the resume "
		 "marker deleted", users.n, items.n);
	goto out;
fail:
	buf_addf(err, "cassandra: dropping '%s' failed: %s (is it up? pancake ps)", name, why.s);
out:
	cql_result_release(&res);
	cql_close(c);
	free(users.v);
	free(items.v);
	buf_release(&t.first_error);
	buf_release(&why);
	return ret ? -1 : 0;
}

const struct load_target load_target_cassandra = {
	.name = "cassandra",
	.default_port = CQL_DEFAULT_PORT,
	.load = load_cassandra,
	.count = count_cassandra,
	.expect = expect_cassandra,
	.drop = drop_cassandra,
};

/* ---- reading a dataset's ratings back (the recommender trains on them) ---- */

struct reader {
	struct dataset *ds;
	const char *name;
	size_t nlen;
	int bad;			/* a row that is not a rating */
	struct buf why;
};

static int read_page(void *ctx, struct cql_result *res)
{
	struct reader *rd = ctx;
	struct dataset *ds = rd->ds;

	for (int r = 0; r < res->nrows; r++) {
		const struct cql_cell *name = cql_result_cell(res, r, 0);
		const struct cql_cell *rc = cql_result_cell(res, r, 3);
		int64_t user, item, ts = 0;
		uint32_t bits;
		float stars;

		if (name->len != (int32_t)rd->nlen || memcmp(name->data, rd->name, rd->nlen))
			continue;
		if (cql_cell_int(cql_result_cell(res, r, 1), &user) ||
		    cql_cell_int(cql_result_cell(res, r, 2), &item) || rc->len != 4 ||
		    user < 0 || item < 0 || user > UINT32_MAX || item > UINT32_MAX) {
			buf_addf(&rd->why, "a row of pancake.ratings_by_user for '%s' is not a "
				 "rating (null or negative user or item)", rd->name);
			rd->bad = 1;
			return 1;
		}
		bits = (uint32_t)rc->data[0] << 24 | (uint32_t)rc->data[1] << 16 |
		       (uint32_t)rc->data[2] << 8 | rc->data[3];
		memcpy(&stars, &bits, 4);
		cql_cell_int(cql_result_cell(res, r, 4), &ts);
		if (!(stars >= 0.5f && stars <= 5.0f) || stars * 2 != (float)(int)(stars * 2)) {
			buf_addf(&rd->why, "pancake.ratings_by_user: user %" PRId64 " item %" PRId64
				 " of '%s' has rating %g, outside 0.5..5 in half stars", user, item,
				 rd->name, stars);
			rd->bad = 1;
			return 1;
		}
		ALLOC_GROW(ds->ratings, ds->nratings + 1, ds->ratings_alloc);
		struct rating *rt = &ds->ratings[ds->nratings++];
		rt->user = (uint32_t)user;
		rt->item = (uint32_t)item;
		rt->ts = ts > 0 ? (uint32_t)(ts / 1000) : 0;
		rt->halves = (uint8_t)(stars * 2);
		if (rt->user > ds->max_user)
			ds->max_user = rt->user;
		if (rt->item > ds->max_item)
			ds->max_item = rt->item;
	}
	return 0;
}

int cassandra_read_ratings(const char *name, const struct load_opts *o, struct dataset *ds,
			   struct buf *err)
{
	int timeout = o->timeout_ms > 0 ? o->timeout_ms : DEFAULT_TIMEOUT_MS;
	struct reader rd = { ds, name, strlen(name), 0, BUF_INIT };
	struct cql_params p = CQL_PARAMS_INIT;
	struct cql_conn *c = NULL;
	int ret;

	dataset_init(ds);
	ds->name = xstrdup(name);
	if ((ret = cass_connect(&c, o, timeout, err)))
		goto out;
	cql_set_timeout(c, timeout > 30000 ? timeout : 30000);
	/* the whole table, paged: a dataset is a prefix of its partition key only */
	p.page_size = 5000;
	ret = cql_foreach_page(c, "SELECT dataset, user, item, rating, ts FROM "
			       "pancake.ratings_by_user", NULL, NULL, 0, &p, read_page, &rd,
			       &rd.why);
	if (rd.bad) {
		buf_addf(err, "cassandra at %s:%d: %s: load the dataset again with 'pancake data "
			 "load NAME --into cassandra --full'", o->host, o->port, rd.why.s);
		ret = -1;
		goto out;
	}
	if (ret) {
		buf_addf(err, "cassandra at %s:%d: reading the ratings of '%s': %s", o->host,
			 o->port, name, rd.why.s);
		if (strstr(rd.why.s, "pancake"))
			buf_addf(err, " (load a dataset first: 'pancake data load NAME --into "
				 "cassandra')");
		ret = -1;
		goto out;
	}
	if (ds->nratings == 0) {
		buf_addf(err, "cassandra at %s:%d holds no ratings of '%s': load them with "
			 "'pancake data load %s --into cassandra'", o->host, o->port, name, name);
		ret = -1;
		goto out;
	}
	/* distinct users: the loader's partitions */
	{
		uint8_t *seen = xcalloc((size_t)ds->max_user + 1, 1);
		for (size_t i = 0; i < ds->nratings; i++)
			if (!seen[ds->ratings[i].user]) {
				seen[ds->ratings[i].user] = 1;
				ds->nusers++;
			}
		free(seen);
	}
out:
	if (ret) {
		dataset_release(ds);
		dataset_init(ds);
	}
	cql_close(c);
	buf_release(&rd.why);
	return ret ? -1 : 0;
}
