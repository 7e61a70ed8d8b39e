/*
 * load-elasticsearch: one document per movie (title, genres, year, rating
 * count and mean computed from the ratings) in index pk-<dataset>-movies,
 * _id = movie id so that a re-run overwrites instead of duplicating.
 */
#include "core/load.h"
#include "core/load-targets.h"
#include "clients/es.h"
#include "util/clock.h"
#include "util/xalloc.h"

#include <ctype.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define DEFAULT_TIMEOUT_MS 30000

/* %s: the dataset's fingerprint, kept in the mapping's _meta */
static const char mapping[] =
	"{\"settings\":{\"number_of_shards\":1,\"number_of_replicas\":0},"
	"\"mappings\":{\"_meta\":{\"fingerprint\":\"%s\"},\"properties\":{"
	"\"id\":{\"type\":\"keyword\"},"
	"\"title\":{\"type\":\"text\",\"analyzer\":\"standard\"},"
	"\"genres\":{\"type\":\"keyword\"},"
	"\"year\":{\"type\":\"integer\"},"
	"\"rating_count\":{\"type\":\"integer\"},"
	"\"rating_mean\":{\"type\":\"float\"}}}}";

/*
 * pk-<dataset>-movies, lowercase, with every character an index name may
 * not hold (and '.', '_', '-' or '+' leading) made '-'; new (free()).
 */
static char *index_name(const char *dataset)
{
	struct buf b = BUF_INIT;

	buf_addstr(&b, "pk-");
	for (const char *p = dataset; *p && b.len < 200; p++) {
		unsigned char ch = (unsigned char)tolower((unsigned char)*p);

		buf_addch(&b, isalnum(ch) || ch == '_' || ch == '.' ? ch : '-');
	}
	buf_addstr(&b, "-movies");
	return buf_detach(&b, NULL);
}

static char *base_url(const struct load_opts *o)
{
	return xstrfmt("http://%s:%d", o->host ? o->host : "127.0.0.1",
		       o->port ? o->port : 9200);
}

static int load_elasticsearch(const struct dataset *ds,
			      const struct load_opts *o,
			      struct load_result *res, struct buf *err)
{
	const char *name = o->dataset ? o->dataset : ds->name;
	int timeout = o->timeout_ms > 0 ? o->timeout_ms : DEFAULT_TIMEOUT_MS;
	char *index = index_name(name), *base = base_url(o);
	struct movie_stats st = { NULL, NULL };
	struct buf body = BUF_INIT, have = BUF_INIT;
	struct es_bulk *bulk = NULL;
	double t0 = clock_s();
	size_t i, nitems = 0;
	char fp[20], *body_json = NULL;
	int ret, same;

	memset(res, 0, sizeof(*res));
	snprintf(fp, sizeof(fp), "%016" PRIx64, dataset_fingerprint(ds));
	/* documents of another version of this dataset would stay: refuse */
	ret = es_index_meta(base, index, "fingerprint", timeout, &have, err);
	same = ret == 0 && !strcmp(have.s, fp);
	if (ret == 0 && strcmp(have.s, fp)) {
		buf_addf(err, "elasticsearch index '%s' holds another version of dataset "
			 "'%s' (loaded from other data): 'pancake data drop %s --from "
			 "elasticsearch' deletes it, or load with --replace", index, name, name);
		ret = -1;
		goto out;
	}
	body_json = xstrfmt(mapping, fp);
	ret = ret < 0 ? ret : es_index_ensure(base, index, body_json, timeout, NULL, err);
	if (ret) {
		if (ret == ES_EUNREACH || ret == ES_ETIMEOUT)
			buf_addstr(err, " (start it with 'pancake up elasticsearch'; 'pancake ps' "
				   "shows the stack)");
		goto out;
	}
	dataset_movie_stats(ds, &st);
	bulk = es_bulk_new(base, index, o->inflight, timeout);
	buf_grow(&body, ES_BULK_BODY_SIZE + 4096);
	for (i = 0; i < ds->nmovies; i++) {
		const struct movie *m = &ds->movies[i];
		int first = 1;

		buf_addf(&body, "{\"index\":{\"_id\":\"%" PRIu32 "\"}}\n"
			 "{\"id\":\"%" PRIu32 "\",\"title\":", m->id, m->id);
		es_json_str(&body, m->title ? m->title : "");
		buf_addstr(&body, ",\"genres\":[");
		for (int g = 0; g < GENRE_COUNT; g++) {
			if (!(m->genres & 1u << g))
				continue;
			if (!first)
				buf_addch(&body, ',');
			first = 0;
			es_json_str(&body, genre_name((enum genre)g));
		}
		buf_addch(&body, ']');
		if (m->year)
			buf_addf(&body, ",\"year\":%d", m->year);
		buf_addf(&body, ",\"rating_count\":%" PRIu32
			 ",\"rating_mean\":%.4f}\n", st.count[i],
			 st.count[i] ? st.halves[i] / 2.0 / st.count[i] : 0.0);
		nitems++;
		if (body.len >= ES_BULK_BODY_SIZE) {
			ret = es_bulk_send(bulk, &body, nitems, err);
			if (ret)
				goto out;
			buf_grow(&body, ES_BULK_BODY_SIZE + 4096);
			nitems = 0;
			if (o->progress)
				o->progress("elasticsearch", es_bulk_acked(bulk),
					    ds->nmovies, o->ctx);
			if (o->cancel && *o->cancel) {
				buf_addstr(err, "interrupted: run the load again "
					   "(re-running is safe)");
				ret = LOAD_INTERRUPTED;
				goto out;
			}
		}
	}
	if (nitems && (ret = es_bulk_send(bulk, &body, nitems, err)))
		goto out;
	if ((ret = es_bulk_finish(bulk, err)))
		goto out;
	if ((ret = es_refresh(base, index, timeout, err)))
		goto out;
	res->movies_written = es_bulk_acked(bulk);
	/* the documents summarise every rating */
	res->ratings_written = ds->nratings;
	/* the same dataset was there: every document was indexed again, in place */
	if (same)
		res->ratings_rewritten = ds->nratings;
	if (o->progress)
		o->progress("elasticsearch", ds->nmovies, ds->nmovies, o->ctx);
out:
	res->seconds = clock_s() - t0;
	es_bulk_free(bulk);
	buf_release(&body);
	buf_release(&have);
	free(body_json);
	dataset_movie_stats_release(&st);
	free(index);
	free(base);
	return ret == LOAD_INTERRUPTED ? ret : ret ? -1 : 0;
}

static int count_elasticsearch(const struct dataset *ds,
			       const struct load_opts *o,
			       struct load_counts *c, struct buf *err)
{
	const char *name = o->dataset ? o->dataset : ds->name;
	int timeout = o->timeout_ms > 0 ? o->timeout_ms : DEFAULT_TIMEOUT_MS;
	char *index = index_name(name), *base = base_url(o);
	int64_t n = 0;
	double sum = 0;
	int ret;

	c->ratings = c->movies = c->users = -1;
	c->detail[0] = '\0';
	if ((ret = es_count(base, index, NULL, timeout, &n, err)))
		goto out;
	if ((ret = es_sum(base, index, "rating_count", timeout, &sum, err)))
		goto out;
	c->movies = n;
	c->ratings = (int64_t)(sum + 0.5);
	snprintf(c->detail, sizeof(c->detail), "index %.100s: %" PRId64
		 " documents, rating_count sums to %.0f", index, n, sum);
out:
	free(index);
	free(base);
	return ret ? -1 : 0;
}

static void expect_elasticsearch(const struct dataset *ds,
				 struct load_counts *c)
{
	c->ratings = (int64_t)ds->nratings;
	c->movies = (int64_t)ds->nmovies;
	c->users = -1;
	snprintf(c->detail, sizeof(c->detail), "%zu documents", ds->nmovies);
}

/* deletes index pk-<name>-movies; a missing one is nothing to drop */
static int drop_elasticsearch(const char *name, const struct load_opts *o, char *detail,
			      size_t size, struct buf *err)
{
	int timeout = o->timeout_ms > 0 ? o->timeout_ms : DEFAULT_TIMEOUT_MS;
	char *index = index_name(name), *base = base_url(o), *path = xstrfmt("/%s", index);
	int64_t n = 0;
	int ret = 0;

	if (es_http_ok(base, path, timeout, NULL)) {
		/* no index, or no elasticsearch: health tells which */
		struct es_health h;

		if ((ret = es_health(base, NULL, timeout, &h, err)))
			goto out;
		snprintf(detail, size, "index %s: does not exist, nothing to drop", index);
		goto out;
	}
	es_count(base, index, NULL, timeout, &n, NULL);
	if ((ret = es_index_delete(base, index, timeout, err)))
		goto out;
	snprintf(detail, size, "index %s: deleted with its %" PRId64 " documents", index, n);
out:
	free(index);
	free(base);
	free(path);
	return ret ? -1 : 0;
}

const struct load_target load_target_elasticsearch = {
	.name = "elasticsearch",
	.default_port = 9200,
	.load = load_elasticsearch,
	.count = count_elasticsearch,
	.expect = expect_elasticsearch,
	.drop = drop_elasticsearch,
};
