/*
 * load-kafka: ratings into the Kafka topic `ratings`, one record per
 * rating, resumable: a re-run reads the last record of each partition and
 * sends only what comes after it. See the notes above load_kafka.
 */
#include "core/load.h"
#include "core/load-targets.h"
#include "clients/kafka.h"
#include "util/xalloc.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define TOPIC_DEFAULT "ratings"
#define MARKER_TOPIC "pancake-load-markers"
#define HDR_DATASET "pk-ds"
#define HDR_SEQ "pk-seq"
#define PROGRESS_EVERY 8192

/* PANCAKE_KAFKA_TOPIC overrides the topic, for tests that need their own */
static const char *topic_name(void)
{
	const char *t = getenv("PANCAKE_KAFKA_TOPIC");

	return t && *t ? t : TOPIC_DEFAULT;
}

/* partitions of a topic this loader creates; an existing one keeps its own */
static int partitions_wanted(void)
{
	const char *s = getenv("PANCAKE_KAFKA_PARTITIONS");
	int n = s ? atoi(s) : 1;

	return n < 1 ? 1 : n;
}

static const char *ds_name(const struct dataset *ds, const struct load_opts *o)
{
	return o->dataset ? o->dataset : ds->name ? ds->name : "dataset";
}

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

static struct kafka_producer *open_producer(const struct load_opts *o, struct buf *err)
{
	struct kafka_producer_opts po = { 0 };
	char bootstrap[300];

	snprintf(bootstrap, sizeof(bootstrap), "%s:%d", o->host ? o->host : "127.0.0.1",
		 o->port > 0 ? o->port : 9092);
	po.timeout_ms = o->timeout_ms > 0 ? o->timeout_ms : 10000;
	po.client_id = "pancake-load";
	return kafka_producer_new(bootstrap, &po, err);
}

/* digits of `v` before `end`; returns where they start */
static char *utoa_end(char *end, uint64_t v)
{
	do
		*--end = (char)('0' + v % 10);
	while (v /= 10);
	return end;
}

/* "user,item,stars,timestamp" into `out` (>= 48 bytes); returns the length */
static size_t format_value(char *out, const struct rating *r)
{
	char tmp[48], *e = tmp + sizeof(tmp), *s = e;

	s = utoa_end(s, r->ts);
	*--s = ',';
	*--s = (char)('0' + (r->halves & 1) * 5);
	*--s = '.';
	s = utoa_end(s, r->halves / 2);
	*--s = ',';
	s = utoa_end(s, r->item);
	*--s = ',';
	s = utoa_end(s, r->user);
	memcpy(out, s, (size_t)(e - s));
	return (size_t)(e - s);
}

/*
 * The resume point: last[p] is the highest source index on partition p,
 * -1 when it is empty. Refuses a topic that holds another dataset, records
 * pancake did not write, or a record that no longer matches the source
 * (the dataset changed under the same name).
 */
static int read_resume(struct kafka_producer *p, const char *topic,
		       const struct dataset *ds, const char *name, int npart,
		       int64_t *last, struct buf *err)
{
	struct kafka_record *recs = xcalloc((size_t)npart, sizeof(*recs));
	int i, ret = kafka_topic_last_records(p, topic, npart, recs, err);

	for (i = 0; !ret && i < npart; i++) {
		const struct kafka_record *r = &recs[i];
		const char *rds = kafka_record_header(r, HDR_DATASET);
		const char *rseq = kafka_record_header(r, HDR_SEQ);
		char v[48], *end;
		uint64_t seq;
		size_t vlen;

		last[i] = -1;
		if (r->offset < 0)
			continue;
		ret = -1;
		if (!rds || !rseq) {
			buf_addf(err, "kafka topic '%s' holds records pancake did not "
				 "write (partition %d offset %" PRId64 " has no %s "
				 "header): delete the topic or set PANCAKE_KAFKA_TOPIC",
				 topic, i, r->offset, HDR_SEQ);
			break;
		}
		if (strcmp(rds, name)) {
			buf_addf(err, "kafka topic '%s' holds dataset '%s', not '%s': "
				 "a topic holds one dataset; delete it to load '%s'",
				 topic, rds, name, name);
			break;
		}
		seq = strtoull(rseq, &end, 10);
		if (*end || !*rseq || seq >= ds->nratings ||
		    (int)(ds->ratings[seq].user % (uint32_t)npart) != i ||
		    !r->value ||
		    (vlen = format_value(v, &ds->ratings[seq]), strlen(r->value) != vlen) ||
		    memcmp(r->value, v, vlen)) {
			buf_addf(err, "the last record of kafka topic '%s' (partition %d, "
				 "%s=%s) is not rating %s of dataset '%s' (%zu ratings): "
				 "the dataset changed since it was loaded; delete the "
				 "topic to load it again", topic, i, HDR_SEQ, rseq, rseq,
				 name, ds->nratings);
			break;
		}
		last[i] = (int64_t)seq;
		ret = 0;
	}
	for (i = 0; i < npart; i++)
		kafka_record_release(&recs[i]);
	free(recs);
	return ret;
}

/* informational: the topic itself is the source of truth for resuming */
static void write_marker(struct kafka_producer *p, const char *topic, const char *name,
			 int64_t last_seq, size_t total, int timeout_ms)
{
	static const char *const compact[] = { "cleanup.policy", "compact", NULL };
	char key[300], value[64];
	int n;

	if (kafka_topic_ensure(p, MARKER_TOPIC, 1, compact, NULL) < 1)
		return;
	snprintf(key, sizeof(key), "%s/%s", name, topic);
	n = snprintf(value, sizeof(value), "%" PRId64 "/%zu", last_seq, total);
	if (!kafka_produce(p, MARKER_TOPIC, -1, key, strlen(key), value, (size_t)n,
			   NULL, 0, NULL))
		kafka_producer_flush(p, timeout_ms, NULL);
}

/*
 * Record i of the source goes to partition user % partitions, keyed by the
 * user id, value "user,item,stars,timestamp", headers pk-ds=<dataset> and
 * pk-seq=<i> (0-based). The producer is idempotent and gapless and each
 * partition is fed in source order, so what a partition holds is a prefix
 * of its share of the source: a re-run sends record i only when i is above
 * the partition's last pk-seq. An interrupted run flushes what it queued,
 * returns -2 and says how far it got.
 */
static int load_kafka(const struct dataset *ds, const struct load_opts *o,
		      struct load_result *res, struct buf *err)
{
	const char *topic = topic_name(), *name = ds_name(ds, o);
	int timeout = o->timeout_ms > 0 ? o->timeout_ms : 10000;
	struct kafka_producer *p;
	struct kafka_delivery d;
	struct kafka_header h[2];
	int64_t *last = NULL, top = -1;
	uint64_t skipped = 0, queued = 0;
	double t0 = now_s();
	char key[16], value[48], seq[24];
	int npart, interrupted = 0, ret = -1, pret = 0, fret;
	size_t i;

	memset(res, 0, sizeof(*res));
	if (!(p = open_producer(o, err)))
		return -1;
	npart = kafka_topic_ensure(p, topic, partitions_wanted(), NULL, err);
	if (npart < 1)
		goto out;
	last = xcalloc((size_t)npart, sizeof(*last));
	if (read_resume(p, topic, ds, name, npart, last, err))
		goto out;

	h[0].name = HDR_DATASET;
	h[0].value = name;
	h[0].len = strlen(name);
	h[1].name = HDR_SEQ;
	h[1].value = seq;
	for (i = 0; i < ds->nratings; i++) {
		const struct rating *r = &ds->ratings[i];
		int part = (int)(r->user % (uint32_t)npart);
		char *s, *sv;

		if ((int64_t)i <= last[part]) {
			skipped++;
			continue;
		}
		if (o->cancel && *o->cancel) {
			interrupted = 1;
			break;
		}
		s = utoa_end(key + sizeof(key), r->user);
		sv = utoa_end(seq + sizeof(seq), i);
		h[1].value = sv;
		h[1].len = (size_t)(seq + sizeof(seq) - sv);
		pret = kafka_produce(p, topic, part, s, (size_t)(key + sizeof(key) - s),
				     value, format_value(value, r), h, 2, err);
		if (pret)
			break;
		top = (int64_t)i;
		if (!(++queued % PROGRESS_EVERY)) {
			kafka_producer_poll(p, 0);
			if (o->progress) {
				kafka_producer_stats(p, &d);
				o->progress("kafka", skipped + d.delivered,
					    ds->nratings, o->ctx);
			}
		}
	}
	/* keep what was queued, interrupted or not */
	fret = kafka_producer_flush(p, timeout * 6 > 60000 ? timeout * 6 : 60000,
				    pret ? NULL : err);
	kafka_producer_stats(p, &d);
	res->ratings_written = d.delivered;
	res->ratings_skipped = skipped;
	if (o->progress)
		o->progress("kafka", skipped + d.delivered, ds->nratings, o->ctx);
	if (pret || fret) {
		buf_addf(err, "; %" PRIu64 " of %zu ratings are in topic '%s': "
			 "run the load again to resume", skipped + d.delivered,
			 ds->nratings, topic);
		goto out;
	}
	for (i = 0; i < (size_t)npart; i++)
		if (last[i] > top)
			top = last[i];
	write_marker(p, topic, name, top, ds->nratings, timeout);
	if (interrupted) {
		buf_addf(err, "interrupted: %" PRIu64 " of %zu ratings are in kafka "
			 "topic '%s' (%" PRIu64 " written by this run): run the load "
			 "again to resume", skipped + d.delivered, ds->nratings, topic,
			 d.delivered);
		ret = -2;
		goto out;
	}
	ret = 0;
out:
	res->seconds = now_s() - t0;
	free(last);
	kafka_producer_free(p);
	return ret;
}

/*
 * What topic `ratings` holds for this dataset: the sum of high - low
 * watermarks (a topic holds one dataset, as load_kafka enforces), or 0 when
 * its last record names another dataset.
 */
static int count_kafka(const struct dataset *ds, const struct load_opts *o,
		       struct load_counts *c, struct buf *err)
{
	const char *topic = topic_name(), *name = ds_name(ds, o);
	struct kafka_producer *p;
	struct kafka_record *recs = NULL;
	int64_t n = 0;
	int i, npart, ret = -1;
	const char *other = NULL;

	c->ratings = 0;
	c->movies = -1;
	c->users = -1;
	c->detail[0] = '\0';
	if (!(p = open_producer(o, err)))
		return -1;
	npart = kafka_topic_partitions(p, topic, err);
	if (npart == KAFKA_ENOTOPIC) {
		snprintf(c->detail, sizeof(c->detail), "topic %s: does not exist", topic);
		ret = 0;
		goto out;
	}
	if (npart < 1 || kafka_topic_count(p, topic, &n, err))
		goto out;
	recs = xcalloc((size_t)npart, sizeof(*recs));
	if (kafka_topic_last_records(p, topic, npart, recs, err))
		goto out;
	for (i = 0; i < npart && !other; i++)
		if (recs[i].offset >= 0) {
			other = kafka_record_header(&recs[i], HDR_DATASET);
			if (other && !strcmp(other, name))
				other = NULL;
			else if (!other)
				other = "(records without a pk-ds header)";
		}
	if (other) {
		snprintf(c->detail, sizeof(c->detail), "topic %s: %" PRId64
			 " records of dataset '%s'", topic, n, other);
	} else {
		c->ratings = n;
		snprintf(c->detail, sizeof(c->detail), "topic %s: %" PRId64
			 " records in %d partition%s", topic, n, npart,
			 npart == 1 ? "" : "s");
	}
	ret = 0;
out:
	if (recs) {
		for (i = 0; i < npart; i++)
			kafka_record_release(&recs[i]);
		free(recs);
	}
	kafka_producer_free(p);
	return ret;
}

static void expect_kafka(const struct dataset *ds, struct load_counts *c)
{
	c->ratings = (int64_t)ds->nratings;
	c->movies = -1;
	c->users = -1;
	snprintf(c->detail, sizeof(c->detail), "topic %s: %zu records", topic_name(),
		 ds->nratings);
}

const struct load_target load_target_kafka = {
	.name = "kafka",
	.default_port = 9092,
	.load = load_kafka,
	.count = count_kafka,
	.expect = expect_kafka,
};
