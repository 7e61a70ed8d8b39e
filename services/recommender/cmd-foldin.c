/*
 * foldin: new ratings from Kafka folded into a trained model as they
 * arrive. For each rating the user's factors are solved exactly against
 * the fixed item factors (the implicit Gram matrix is computed once),
 * every item is rescored, and the user's list in Redis is replaced. A
 * batch's offsets are marked done only after Redis acknowledged its
 * writes: at least once, and a replayed rating rewrites the same list.
 * Each batch ends with the news of the users whose lists it replaced, so
 * that servers keeping answers forget theirs at once.
 */
#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <cblas.h>

#include "als.h"
#include "clients/kafka.h"
#include "core/rated.h"
#include "model/keys.h"
#include "publish.h"
#include "rec.h"
#include "model/topk.h"
#include "util/xalloc.h"
#include "util/jsonout.h"

#define BATCH 256
/* progress events: percentiles over at most this many of the newest latencies ... */
#define RECENT 4096
/* ... that are at most this old (ms) */
#define RECENT_MS 10000.0

/* one user's ratings by model item index (what the solve reads) */
struct ulist {
	uint32_t n, cap;
	uint32_t *items;
	float *vals;
};

struct foldin {
	struct model m;
	char ver[13];
	struct als_params p;
	struct csr rated;		/* from the dataset, by model index */
	struct ulist *lists;		/* per model user; empty until touched */
	/* users the model has never seen: an open-addressing table */
	uint32_t *new_ids;
	struct ulist *new_lists;
	float *new_factors;
	size_t new_cap, new_n;
	float *gram, *scores, *scratch, *best, x[1025];
	uint8_t *mask;
	uint32_t *top, *top_ids;
	size_t scratch_rows;
	int ntop;
	/* figures */
	uint64_t events, malformed, unknown_item, new_users;
	double *lat;
	size_t nlat, lat_alloc;
	/* the recent window the progress events' percentiles are over */
	struct { double at, ms; } recent[RECENT];
	size_t nrecent;			/* ever recorded; the ring holds the last RECENT */
};

static double wall_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return ts.tv_sec * 1e3 + ts.tv_nsec * 1e-6;
}

static void ulist_put(struct ulist *l, uint32_t item, float v)
{
	for (uint32_t e = 0; e < l->n; e++)
		if (l->items[e] == item) {
			l->vals[e] = v;	/* a replayed or changed rating replaces */
			return;
		}
	if (l->n == l->cap) {
		l->cap = l->cap ? 2 * l->cap : 16;
		l->items = xrealloc(l->items, sizeof(uint32_t) * l->cap);
		l->vals = xrealloc(l->vals, sizeof(float) * l->cap);
	}
	l->items[l->n] = item;
	l->vals[l->n++] = v;
}

static struct ulist *known_list(struct foldin *f, uint32_t u)
{
	struct ulist *l = &f->lists[u];
	if (!l->items) {
		uint64_t a = f->rated.ptr[u], b = f->rated.ptr[u + 1];
		l->cap = (uint32_t)(b - a) + 16;
		l->items = xmalloc(sizeof(uint32_t) * l->cap);
		l->vals = xmalloc(sizeof(float) * l->cap);
		l->n = (uint32_t)(b - a);
		memcpy(l->items, f->rated.idx + a, sizeof(uint32_t) * l->n);
		memcpy(l->vals, f->rated.val + a, sizeof(float) * l->n);
	}
	return l;
}

static size_t new_slot(struct foldin *f, uint32_t id)
{
	size_t h = (id * 2654435761u) & (f->new_cap - 1);
	while (f->new_ids[h] != UINT32_MAX && f->new_ids[h] != id)
		h = (h + 1) & (f->new_cap - 1);
	return h;
}

static struct ulist *new_list(struct foldin *f, uint32_t id)
{
	if (2 * (f->new_n + 1) > f->new_cap) {
		size_t old = f->new_cap;
		uint32_t *ids = f->new_ids;
		struct ulist *lists = f->new_lists;
		f->new_cap = old ? 2 * old : 1024;
		f->new_ids = xmalloc(sizeof(uint32_t) * f->new_cap);
		memset(f->new_ids, 0xff, sizeof(uint32_t) * f->new_cap);
		f->new_lists = xcalloc(f->new_cap, sizeof(struct ulist));
		for (size_t i = 0; i < old; i++)
			if (ids[i] != UINT32_MAX) {
				size_t h = new_slot(f, ids[i]);
				f->new_ids[h] = ids[i];
				f->new_lists[h] = lists[i];
			}
		free(ids);
		free(lists);
	}
	size_t h = new_slot(f, id);
	if (f->new_ids[h] == UINT32_MAX) {
		f->new_ids[h] = id;
		f->new_n++;
		f->new_users++;
	}
	return &f->new_lists[h];
}

/* "user,item,stars,..." as the loader writes it; 0 or -1 */
static int parse_rating(const char *v, uint32_t *user, uint32_t *item, float *stars)
{
	char *end;
	unsigned long u, i;
	double s;

	if (!v)
		return -1;
	u = strtoul(v, &end, 10);
	if (end == v || *end != ',')
		return -1;
	v = end + 1;
	i = strtoul(v, &end, 10);
	if (end == v || *end != ',')
		return -1;
	v = end + 1;
	s = strtod(v, &end);
	if (end == v || (*end && *end != ',') || !(s >= 0.5 && s <= 5) ||
	    s * 2 != floor(s * 2) || u > UINT32_MAX || i > UINT32_MAX)
		return -1;
	*user = (uint32_t)u;
	*item = (uint32_t)i;
	*stars = (float)s;
	return 0;
}

/* solves, rescores and queues the user's new list; 0 or < 0 with `err` */
static int fold(struct foldin *f, struct redis_conn *c, uint32_t uid, struct ulist *l,
		float *factors_out, struct buf *err)
{
	const struct model *m = &f->m;
	int k = (int)m->rank;
	float bias = 0;
	char key[96];

	if (l->n > f->scratch_rows) {
		f->scratch_rows = l->n * 2;
		free(f->scratch);
		f->scratch = xmalloc(sizeof(float) * als_scratch_floats((uint32_t)f->scratch_rows, k));
	}
	als_solve_row(&f->p, l->items, l->vals, l->n, m->item_factors, m->item_bias, m->mean,
		      f->gram, f->x, &bias, f->scratch);
	if (factors_out)
		memcpy(factors_out, f->x, sizeof(float) * k);
	cblas_sgemv(CblasRowMajor, CblasNoTrans, (int)m->nitems, k, 1.0f, m->item_factors, k,
		    f->x, 1, 0.0f, f->scores, 1);
	if (m->flags & MODEL_BIASES)
		for (uint32_t i = 0; i < m->nitems; i++)
			f->scores[i] += m->mean + bias + m->item_bias[i];
	for (uint32_t e = 0; e < l->n; e++)
		f->mask[l->items[e]] = 1;
	int n = topk_select(f->scores, m->nitems, f->mask, f->ntop, f->top, f->best);
	for (uint32_t e = 0; e < l->n; e++)
		f->mask[l->items[e]] = 0;
	for (int j = 0; j < n; j++)
		f->top_ids[j] = m->item_ids[f->top[j]];
	keys_rec_user(key, sizeof(key), f->ver, uid);
	return publish_list(c, key, f->top_ids, f->best, n, err);
}

static int dcmp(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return (x > y) - (x < y);
}

static double pct(const double *sorted, size_t n, double q)
{
	if (!n)
		return 0;
	size_t i = (size_t)ceil(q * n);
	return sorted[i ? i - 1 : 0];
}

/* a "foldin" event: ratings folded so far, p50/p99 over the recent window */
static void report(const struct foldin *f, double now)
{
	static double window[RECENT];
	struct progress_event ev;
	size_t n = 0, i, have = f->nrecent < RECENT ? f->nrecent : RECENT;

	progress_init(&ev, PROGRESS_FOLDIN);
	ev.events = f->events;
	for (i = 0; i < have; i++)
		if (now - f->recent[i].at <= RECENT_MS)
			window[n++] = f->recent[i].ms;
	if (n) {
		qsort(window, n, sizeof(double), dcmp);
		ev.p50_ms = pct(window, n, 0.5);
		ev.p99_ms = pct(window, n, 0.99);
	}
	rec_progress(&ev);
}

int cmd_foldin(int argc, char **argv)
{
	enum { O_DATA = 256, O_TOPIC, O_GROUP, O_KAFKA, O_REDIS, O_TOP, O_MAX, O_DUR,
	       O_REGISTRY, O_JSON, O_BEGIN, O_PROGRESS };
	static const struct option longs[] = {
		{ "data", 1, NULL, O_DATA }, { "topic", 1, NULL, O_TOPIC },
		{ "group", 1, NULL, O_GROUP }, { "kafka", 1, NULL, O_KAFKA },
		{ "redis", 1, NULL, O_REDIS }, { "top", 1, NULL, O_TOP },
		{ "max-events", 1, NULL, O_MAX }, { "duration", 1, NULL, O_DUR },
		{ "registry", 1, NULL, O_REGISTRY }, { "json", 0, NULL, O_JSON },
		{ "from-beginning", 0, NULL, O_BEGIN }, { "progress-fd", 1, NULL, O_PROGRESS },
		{ NULL, 0, NULL, 0 },
	};
	const char *data = NULL, *topic = getenv("PANCAKE_KAFKA_TOPIC"), *group = "pancake-foldin";
	const char *kafka = NULL, *redis = NULL, *registry = NULL;
	long top = 20, max_events = 0;
	double duration = 0;
	int json = 0, from_beginning = 0, c, ret = 1, have_model = 0;
	struct foldin f;
	struct dataset ds;
	struct buf err = BUF_INIT;
	struct redis_conn *rc = NULL;
	struct kafka_consumer *kc = NULL;
	struct kafka_record batch[BATCH];
	char *name = NULL, khost[64], rhost[64], bootstrap[96];
	int kport, rport;

	memset(&f, 0, sizeof(f));
	if (!topic || !*topic)
		topic = "ratings";
	while ((c = getopt_long(argc, argv, "", longs, NULL)) != -1) {
		switch (c) {
		case O_DATA: data = optarg; break;
		case O_TOPIC: topic = optarg; break;
		case O_GROUP: group = optarg; break;
		case O_KAFKA: kafka = optarg; break;
		case O_REDIS: redis = optarg; break;
		case O_TOP:
			if (rec_int("foldin", "--top", optarg, 1, 1000, &top)) return 2;
			break;
		case O_MAX:
			if (rec_int("foldin", "--max-events", optarg, 1, 1000000000L, &max_events))
				return 2;
			break;
		case O_DUR:
			if (rec_float("foldin", "--duration", optarg, 0.001, 1e7, &duration))
				return 2;
			break;
		case O_REGISTRY: registry = optarg; break;
		case O_JSON: json = 1; break;
		case O_BEGIN: from_beginning = 1; break;
		case O_PROGRESS:
			if (rec_progress_open("foldin", optarg)) return 2;
			break;
		default: return rec_bad_usage("foldin", "unknown option");
		}
	}
	if (optind + 1 != argc)
		return rec_bad_usage("foldin", "foldin wants one model (a file or a registry "
				     "revision such as production)");
	rec_catch_signals();
	if (rec_endpoint("kafka", kafka, khost, sizeof(khost), &kport) ||
	    rec_endpoint("redis", redis, rhost, sizeof(rhost), &rport))
		return 1;
	snprintf(bootstrap, sizeof(bootstrap), "%s:%d", khost, kport);

	if (rec_load_model(argv[optind], registry, &f.m))
		return 1;
	have_model = 1;
	model_version(&f.m, f.ver);
	if (rec_read_dataset(data ? data : f.m.dataset, DS_SKIP, &ds, &name)) {
		if (!data)
			fprintf(stderr, "hint: the model was trained on '%s'; name its ratings "
				"with --data\n", f.m.dataset);
		goto out;
	}
	uint64_t unknown;
	rated_build(&f.m, &ds, &f.rated, &unknown);
	dataset_release(&ds);

	/* the exact solve the training used, for one row */
	als_params_default(&f.p);
	f.p.rank = (int)f.m.rank;
	f.p.lambda = f.m.lambda;
	f.p.implicit = (f.m.flags & MODEL_IMPLICIT) != 0;
	f.p.alpha = f.m.alpha > 0 ? f.m.alpha : 1;
	f.p.biases = (f.m.flags & MODEL_BIASES) != 0;
	f.p.solver = ALS_CHOLESKY;
	f.p.threads = 1;
	openblas_set_num_threads(1);
	int k = (int)f.m.rank;
	if (f.p.implicit) {
		f.gram = xmalloc(sizeof(float) * k * k);
		als_gram(f.m.item_factors, f.m.nitems, k, f.gram);
	}
	f.lists = xcalloc(f.m.nusers ? f.m.nusers : 1, sizeof(struct ulist));
	f.scores = xmalloc(sizeof(float) * (f.m.nitems + 1));
	f.mask = xcalloc(f.m.nitems + 1, 1);
	f.ntop = (int)top;
	f.top = xmalloc(sizeof(uint32_t) * (size_t)top);
	f.top_ids = xmalloc(sizeof(uint32_t) * (size_t)top);
	f.best = xmalloc(sizeof(float) * (size_t)top);

	/* both ends before consuming anything: a clear message, not a stall */
	if (kafka_probe(bootstrap, 5000, NULL, &err)) {
		error("%s\nhint: start it with 'pancake up kafka'", err.s);
		goto out;
	}
	if (redis_connect(&rc, rhost, rport, 5000, 0, &err)) {
		error("%s", err.s);
		goto out;
	}
	struct kafka_consumer_opts ko = { .group = group, .from_beginning = from_beginning,
					  .client_id = "pancake-foldin" };
	kc = kafka_consumer_new(bootstrap, topic, &ko, &err);
	if (!kc) {
		error("%s", err.s);
		goto out;
	}

	rec_progress_start("foldin", 0, "model %s from kafka topic '%s' (group %s) to redis at "
			   "%s:%d", f.ver, topic, group, rhost, rport);
	double start = wall_ms(), last_report = start, last_event = start;
	int announced = 0;
	while (!rec_interrupted) {
		int n = 0;
		if (duration > 0 && wall_ms() - start >= duration * 1000)
			break;
		if (max_events && f.events + f.malformed + f.unknown_item >= (uint64_t)max_events)
			break;
		/* a batch: whatever is already there, up to BATCH, waiting 100 ms for the first */
		while (n < BATCH) {
			int r = kafka_consumer_poll(kc, n ? 0 : 100, &batch[n], &err);
			if (r < 0) {
				error("%s", err.s);
				goto out;
			}
			if (r == 0)
				break;
			n++;
			if (max_events && f.events + f.malformed + f.unknown_item + n >=
			    (uint64_t)max_events)
				break;
		}
		if (!announced && kafka_consumer_ready(kc)) {
			fprintf(stderr, "ready: folding ratings from kafka topic '%s' (group %s) "
				"into model %s, lists in redis at %s:%d under pk:rec:%s:user:ID\n",
				topic, group, f.ver, rhost, rport, f.ver);
			announced = 1;
		}
		int queued = 0;
		uint32_t users[BATCH];
		for (int i = 0; i < n; i++) {
			uint32_t user, item;
			float stars;
			if (parse_rating(batch[i].value, &user, &item, &stars)) {
				if (f.malformed++ < 5)
					fprintf(stderr, "warning: partition %d offset %lld: not a "
						"rating ('%.60s'): skipped\n", batch[i].partition,
						(long long)batch[i].offset,
						batch[i].value ? batch[i].value : "");
				continue;
			}
			int64_t ii = model_item_index(&f.m, item);
			if (ii < 0) {
				if (f.unknown_item++ < 5)
					fprintf(stderr, "warning: item %u is not in the model "
						"(retrain to include it): rating skipped\n", item);
				continue;
			}
			int64_t u = model_user_index(&f.m, user);
			struct ulist *l = u >= 0 ? known_list(&f, (uint32_t)u) : new_list(&f, user);
			ulist_put(l, (uint32_t)ii, stars);
			if (fold(&f, rc, user, l, u >= 0 ? f.m.user_factors + (size_t)u * k : NULL,
				 &err) < 0) {
				error("%s", err.s);
				goto out;
			}
			users[queued++] = user;
		}
		if (queued) {
			struct buf news = BUF_INIT;
			keys_news_lists(&news, f.ver, users, (size_t)queued);
			int r = redis_publish(rc, KEYS_CHANNEL, news.s, &err);
			buf_release(&news);
			if (r) {
				error("%s", err.s);
				goto out;
			}
		}
		if (n && redis_flush(rc, &err)) {
			error("%s\n(offsets of this batch were not committed: "
				"a restart folds it in again)", err.s);
			goto out;
		}
		double t = wall_ms();
		for (int i = 0; i < n; i++) {
			if (batch[i].timestamp_ms > 0 && i < n) {
				if (f.nlat == f.lat_alloc) {
					f.lat_alloc = f.lat_alloc ? 2 * f.lat_alloc : 4096;
					f.lat = xrealloc(f.lat, sizeof(double) * f.lat_alloc);
				}
				f.lat[f.nlat++] = t - (double)batch[i].timestamp_ms;
				f.recent[f.nrecent % RECENT].at = t;
				f.recent[f.nrecent % RECENT].ms = t - (double)batch[i].timestamp_ms;
				f.nrecent++;
			}
			kafka_consumer_done(kc, batch[i].partition, batch[i].offset);
			kafka_record_release(&batch[i]);
		}
		f.events += (uint64_t)queued;
		if (rec_progress_fd >= 0 && t - last_event >= 1000) {
			report(&f, t);
			last_event = t;
		}
		if (!json && t - last_report > 5000 && f.events) {
			fprintf(stderr, "  %llu ratings folded in\n", (unsigned long long)f.events);
			last_report = t;
		}
	}
	if (kafka_consumer_commit(kc, &err))
		fprintf(stderr, "warning: %s\n", err.s);

	if (rec_progress_fd >= 0)
		report(&f, wall_ms());
	qsort(f.lat, f.nlat, sizeof(double), dcmp);
	double secs = (wall_ms() - start) / 1000;
	rec_progress_done(f.ver, "folded in %llu rating(s) in %.1f s", (unsigned long long)f.events,
			  secs);
	if (json) {
		json_t *j = json_pack("{s:s, s:I, s:I, s:I, s:I, s:f}", "version", f.ver,
				      "events", (json_int_t)f.events,
				      "malformed", (json_int_t)f.malformed,
				      "unknown_item", (json_int_t)f.unknown_item,
				      "new_users", (json_int_t)f.new_users, "seconds", secs);
		json_object_set_new(j, "latency_ms", json_pack("{s:I, s:f, s:f, s:f, s:f}",
			"count", (json_int_t)f.nlat, "p50", pct(f.lat, f.nlat, 0.5),
			"p90", pct(f.lat, f.nlat, 0.9), "p99", pct(f.lat, f.nlat, 0.99),
			"max", f.nlat ? f.lat[f.nlat - 1] : 0.0));
		jsonout_print(j);
	} else {
		printf("folded in %llu rating(s) in %.1f s (%llu new user(s); skipped %llu "
		       "malformed, %llu of unknown items)\n", (unsigned long long)f.events, secs,
		       (unsigned long long)f.new_users, (unsigned long long)f.malformed,
		       (unsigned long long)f.unknown_item);
		if (f.nlat)
			printf("event to redis: p50 %.1f ms, p90 %.1f ms, p99 %.1f ms, max %.1f ms\n",
			       pct(f.lat, f.nlat, 0.5), pct(f.lat, f.nlat, 0.9),
			       pct(f.lat, f.nlat, 0.99), f.lat[f.nlat - 1]);
	}
	ret = 0;
out:
	if (kc)
		kafka_consumer_free(kc);
	if (rc)
		redis_close(rc);
	if (f.lists)
		for (uint32_t u = 0; u < f.m.nusers; u++) {
			free(f.lists[u].items);
			free(f.lists[u].vals);
		}
	for (size_t i = 0; i < f.new_cap; i++) {
		free(f.new_lists[i].items);
		free(f.new_lists[i].vals);
	}
	free(f.new_ids);
	free(f.new_lists);
	free(f.new_factors);
	free(f.lists);
	free(f.gram);
	free(f.scores);
	free(f.scratch);
	free(f.mask);
	free(f.top);
	free(f.top_ids);
	free(f.best);
	free(f.lat);
	csr_release(&f.rated);
	if (have_model)
		model_release(&f.m);
	free(name);
	buf_release(&err);
	return ret;
}
