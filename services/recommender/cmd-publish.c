/*
 * publish: every user's top N and every item's similar items into Redis
 * under the model's version, then the pointer readers follow, then the
 * news on the channel readers listen to.
 */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "core/rated.h"
#include "model/keys.h"
#include "publish.h"
#include "rec.h"
#include "model/topk.h"
#include "util/xalloc.h"
#include "util/clock.h"
#include "util/jsonout.h"

struct pub {
	struct redis_conn *c;
	const struct model *m;
	const char *ver;
	struct buf err;
	uint64_t done, total, keys;
	uint64_t all;			/* lists of both phases, for the progress events */
	double started, shown, reported;
	int tty, failed;
};

static void progress(struct pub *p, const char *what, int final)
{
	double t = clock_s();
	if (!p->tty || (!final && t - p->shown < 0.2))
		return;
	p->shown = t;
	int width = 30, fill = p->total ? (int)(width * p->done / p->total) : width;
	fprintf(stderr, "\r  %-8s [%.*s%*s] %3d%%  %llu/%llu", what, fill,
		"##############################", width - fill, "",
		p->total ? (int)(100 * p->done / p->total) : 100,
		(unsigned long long)p->done, (unsigned long long)p->total);
	if (final)
		fprintf(stderr, "\n");
}

/* a "publish" event at most five times a second, and the last one always */
static void report(struct pub *p, int final)
{
	struct progress_event ev;
	double t = clock_s(), secs = t - p->started;

	if (rec_progress_fd < 0 || (!final && t - p->reported < 0.2))
		return;
	p->reported = t;
	progress_init(&ev, PROGRESS_PUBLISH);
	ev.done = p->keys;
	ev.total = p->all;
	if (secs > 0 && p->keys) {
		ev.rate = p->keys / secs;
		ev.eta = p->all > p->keys ? (p->all - p->keys) / ev.rate : 0;
	}
	rec_progress(&ev);
}

static int write_user(uint32_t u, const uint32_t *items, const float *scores, int n, void *ctx)
{
	struct pub *p = ctx;
	uint32_t ids[1000];
	char key[96];

	for (int i = 0; i < n; i++)
		ids[i] = p->m->item_ids[items[i]];
	keys_rec_user(key, sizeof(key), p->ver, p->m->user_ids[u]);
	if (publish_list(p->c, key, ids, scores, n, &p->err)) {
		p->failed = 1;
		return 1;
	}
	p->done++;
	p->keys++;
	progress(p, "users", 0);
	report(p, 0);
	return rec_interrupted;
}

static int write_similar(uint32_t i, const uint32_t *items, const float *scores, int n,
			 void *ctx)
{
	struct pub *p = ctx;
	uint32_t ids[1000];
	char key[96];

	for (int j = 0; j < n; j++)
		ids[j] = p->m->item_ids[items[j]];
	keys_rec_similar(key, sizeof(key), p->ver, p->m->item_ids[i]);
	if (publish_list(p->c, key, ids, scores, n, &p->err)) {
		p->failed = 1;
		return 1;
	}
	p->done++;
	p->keys++;
	progress(p, "similar", 0);
	report(p, 0);
	return rec_interrupted;
}

int cmd_publish(int argc, char **argv)
{
	enum { O_DATA = 256, O_TOP, O_SIMILAR, O_REDIS, O_NOCUR, O_REGISTRY, O_JSON, O_THREADS,
	       O_PROGRESS };
	static const struct option longs[] = {
		{ "data", 1, NULL, O_DATA }, { "top", 1, NULL, O_TOP },
		{ "similar", 1, NULL, O_SIMILAR }, { "redis", 1, NULL, O_REDIS },
		{ "no-current", 0, NULL, O_NOCUR }, { "registry", 1, NULL, O_REGISTRY },
		{ "json", 0, NULL, O_JSON }, { "threads", 1, NULL, O_THREADS },
		{ "progress-fd", 1, NULL, O_PROGRESS }, { NULL, 0, NULL, 0 },
	};
	const char *data = NULL, *redis = NULL, *registry = NULL;
	long top = 20, similar = 20, threads = sysconf(_SC_NPROCESSORS_ONLN);
	int json = 0, set_current = 1, c, ret = 1, have_model = 0, have_ds = 0;
	struct model m;
	struct dataset ds;
	struct csr rated = { 0 };
	struct pub p = { .err = BUF_INIT };
	char *name = NULL, host[64], ver[13];
	float *unit = NULL;
	int port;

	while ((c = getopt_long(argc, argv, "", longs, NULL)) != -1) {
		switch (c) {
		case O_DATA: data = optarg; break;
		case O_TOP:
			if (rec_int("publish", "--top", optarg, 1, 1000, &top)) return 2;
			break;
		case O_SIMILAR:
			if (rec_int("publish", "--similar", optarg, 0, 1000, &similar)) return 2;
			break;
		case O_REDIS: redis = optarg; break;
		case O_NOCUR: set_current = 0; break;
		case O_REGISTRY: registry = optarg; break;
		case O_JSON: json = 1; break;
		case O_THREADS:
			if (rec_int("publish", "--threads", optarg, 1, 256, &threads)) return 2;
			break;
		case O_PROGRESS:
			if (rec_progress_open("publish", optarg)) return 2;
			break;
		default: return rec_bad_usage("publish", "unknown option");
		}
	}
	if (optind + 1 != argc)
		return rec_bad_usage("publish", "publish wants one model (a file or a registry "
				     "revision such as production)");
	if (threads < 1)
		threads = 1;
	rec_catch_signals();
	if (rec_endpoint("redis", redis, host, sizeof(host), &port))
		return 1;
	if (rec_load_model(argv[optind], registry, &m))
		return 1;
	have_model = 1;
	model_version(&m, ver);
	if (rec_read_dataset(data ? data : m.dataset, DS_SKIP, &ds, &name)) {
		if (!data)
			fprintf(stderr, "hint: the model was trained on '%s'; name its ratings "
				"with --data\n", m.dataset);
		goto out;
	}
	have_ds = 1;
	if (m.dataset_fingerprint && dataset_fingerprint(&ds) != m.dataset_fingerprint)
		fprintf(stderr, "warning: '%s' is not the data the model was trained on (its "
			"fingerprint differs): what users rated there is left out\n", name);
	uint64_t unknown;
	rated_build(&m, &ds, &rated, &unknown);
	dataset_release(&ds);
	have_ds = 0;

	if (redis_connect(&p.c, host, port, 10000, 0, &p.err)) {
		error("%s", p.err.s);
		goto out;
	}
	p.m = &m;
	p.ver = ver;
	p.tty = isatty(2) && !json;
	p.started = clock_s();
	p.all = m.nusers + (similar > 0 ? m.nitems : 0);
	rec_progress_start("publish", p.all, "model %s (%s, rank %u) to redis at %s:%d", ver,
			   m.dataset, m.rank, host, port);
	if (!json)
		fprintf(stderr, "publishing model %s (%s, rank %u) to redis at %s:%d\n", ver,
			m.dataset, m.rank, host, port);

	struct topk_query q = {
		.q = m.user_factors, .nq = m.nusers, .qbias = m.user_bias,
		.t = m.item_factors, .nt = m.nitems, .tbias = m.item_bias,
		.rank = (int)m.rank, .offset = (m.flags & MODEL_BIASES) ? m.mean : 0,
		.exclude = &rated,
	};
	p.total = m.nusers;
	topk_run(&q, (int)top, (int)threads, write_user, &p);
	progress(&p, "users", 1);
	if (!p.failed && !rec_interrupted && similar > 0) {
		unit = topk_unit_items(&m);
		struct topk_query s = {
			.q = unit, .nq = m.nitems, .t = unit, .nt = m.nitems,
			.rank = (int)m.rank, .exclude_self = 1,
		};
		p.done = 0;
		p.total = m.nitems;
		topk_run(&s, (int)similar, (int)threads, write_similar, &p);
		progress(&p, "similar", 1);
	}
	if (p.failed || redis_flush(p.c, &p.err)) {
		error("%s\nnothing points at the half-written version %s: "
			"run the same command again once redis answers", p.err.s, ver);
		goto out;
	}
	if (rec_interrupted) {
		char msg[160];

		snprintf(msg, sizeof(msg), "interrupted: %llu lists written under pk:rec:%s:, "
			 "which nothing points at; run the same command again",
			 (unsigned long long)p.keys, ver);
		fprintf(stderr, "%s\n", msg);
		rec_progress_fail(msg);
		ret = 130;
		goto out;
	}
	report(&p, 1);

	/* the meta, then the pointer: a reader never follows it to a partial version */
	char metakey[64], n1[24], n2[24], n3[24], n4[24], at[24], news[64];
	keys_rec_meta(metakey, sizeof(metakey), ver);
	snprintf(n1, sizeof(n1), "%u", m.rank);
	snprintf(n2, sizeof(n2), "%u", m.nusers);
	snprintf(n3, sizeof(n3), "%u", m.nitems);
	snprintf(n4, sizeof(n4), "%ld", top);
	snprintf(at, sizeof(at), "%lld", (long long)time(NULL));
	const char *hset[] = { "HSET", metakey, "dataset", m.dataset, "kind",
			       (m.flags & MODEL_IMPLICIT) ? "implicit" : "explicit", "rank", n1,
			       "users", n2, "items", n3, "top", n4, "published_at", at,
			       "checksum", m.checksum };
	const char *zadd[] = { "ZADD", KEYS_VERSIONS, at, ver };
	const char *set[] = { "SET", KEYS_CURRENT, ver };
	/* then the news, so that servers load the version now rather than at their next look */
	keys_news_version(news, sizeof(news), ver, set_current);
	/* the model file itself, so a server with no registry can load it */
	struct buf blob = BUF_INIT;
	char modelkey[64];
	keys_rec_model(modelkey, sizeof(modelkey), ver);
	model_encode(&m, &blob);
	const char *setm[] = { "SET", modelkey, blob.s };
	const size_t setm_len[] = { 3, strlen(modelkey), blob.len };
	int rb = redis_append(p.c, 3, setm, setm_len, &p.err);
	buf_release(&blob);
	if (rb || redis_append(p.c, 18, hset, NULL, &p.err) ||
	    redis_append(p.c, 4, zadd, NULL, &p.err) ||
	    (set_current && redis_append(p.c, 3, set, NULL, &p.err)) ||
	    redis_publish(p.c, KEYS_CHANNEL, news, &p.err) || redis_flush(p.c, &p.err)) {
		error("%s", p.err.s);
		goto out;
	}
	double secs = clock_s() - p.started;
	rec_progress_done(ver, "published %llu lists in %.2f s%s", (unsigned long long)p.keys,
			  secs, set_current ? "; pk:rec:current points at it" : "");
	if (json) {
		json_t *j = json_pack("{s:s, s:s, s:i, s:i, s:I, s:f, s:b, s:I}", "version", ver,
				      "dataset", m.dataset, "users", (int)m.nusers,
				      "items", (int)m.nitems, "lists", (json_int_t)p.keys,
				      "seconds", secs, "current", set_current,
				      "left_out_unknown", (json_int_t)unknown);
		json_object_set_new(j, "top", json_integer(top));
		json_object_set_new(j, "similar", json_integer(similar));
		json_object_set_new(j, "prefix", json_string(metakey));
		jsonout_print(j);
	} else {
		printf("published %llu lists in %.2f s (%.0f lists/s): pk:rec:%s:user:ID (top %ld) "
		       "and pk:rec:%s:similar:ID (%ld)%s; announced on %s\n",
		       (unsigned long long)p.keys, secs, p.keys / (secs > 0 ? secs : 1), ver, top,
		       ver, similar, set_current ? "; pk:rec:current points at it" : "",
		       KEYS_CHANNEL);
	}
	ret = 0;
out:
	if (p.c)
		redis_close(p.c);
	free(unit);
	csr_release(&rated);
	if (have_ds)
		dataset_release(&ds);
	if (have_model)
		model_release(&m);
	free(name);
	buf_release(&p.err);
	return ret;
}
