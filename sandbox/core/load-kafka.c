/*
 * load-kafka: ratings into the Kafka topic `ratings`, one record per
 * rating, resumable: a re-run reads the last record of each partition and
 * sends only what comes after it. See the notes above load_kafka.
 *
 * Record layout: key = the user id, value
 * "user,item,stars,timestamp,seq,dataset" (seq: the 0-based index of the
 * rating in the source; dataset: the rest of the value, so it may hold
 * commas), no headers. The first four fields are the rating; the last two
 * are what a re-run resumes from and what refuses another dataset. They
 * used to be headers (pk-seq, pk-ds): a per-record header list costs
 * librdkafka several allocations per record and was most of the load
 * time, while two more value fields cost a few bytes that lz4 squeezes.
 */
#include "core/load.h"
#include "core/load-targets.h"
#include "clients/kafka.h"
#include "util/clock.h"
#include "util/xalloc.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define TOPIC_DEFAULT "ratings"
#define MARKER_TOPIC "pancake-load-markers"
#define PROGRESS_EVERY 8192
#define BATCH 1024

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

static struct kafka_producer *open_producer(const struct load_opts *o, struct buf *err)
{
	struct kafka_producer_opts po = { 0 };
	char bootstrap[300];

	snprintf(bootstrap, sizeof(bootstrap), "%s:%d", o->host ? o->host : "127.0.0.1",
		 o->port > 0 ? o->port : 9092);
	po.timeout_ms = o->timeout_ms > 0 ? o->timeout_ms : 10000;
	po.client_id = "pancake-load";
	/* a bulk load: bigger batches beat latency (5-10% faster here than 25 ms) */
	po.linger_ms = 100;
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

/* "user,item,stars,timestamp" ending at `e` (>= 48 bytes before it); its start */
static char *format_back(char *e, const struct rating *r)
{
	char *s = e;

	s = utoa_end(s, r->ts);
	*--s = ',';
	*--s = (char)('0' + (r->halves & 1) * 5);
	*--s = '.';
	s = utoa_end(s, r->halves / 2);
	*--s = ',';
	s = utoa_end(s, r->item);
	*--s = ',';
	s = utoa_end(s, r->user);
	return s;
}

/* "user,item,stars,timestamp" into `out` (>= 48 bytes); returns the length */
static size_t format_value(char *out, const struct rating *r)
{
	char tmp[48], *e = tmp + sizeof(tmp), *s = format_back(e, r);

	memcpy(out, s, (size_t)(e - s));
	return (size_t)(e - s);
}

/*
 * Splits a value "user,item,stars,timestamp,seq,dataset": `*rating_len`
 * is the length of the first four fields, `*seq` the fifth, `*ds` points
 * at the dataset (the rest). -1 when it is not such a value.
 */
static int parse_value(const char *v, size_t *rating_len, uint64_t *seq,
		       const char **ds)
{
	const char *c = v, *d;
	int i;

	for (i = 0; i < 4; i++) {
		if (!(c = strchr(c, ',')))
			return -1;
		if (i < 3)
			c++;
	}
	*rating_len = (size_t)(c - v);
	d = ++c;
	*seq = 0;
	while (*d >= '0' && *d <= '9') {
		if (*seq > (UINT64_MAX - 9) / 10)
			return -1;
		*seq = *seq * 10 + (uint64_t)(*d++ - '0');
	}
	if (d == c || *d != ',')
		return -1;
	*ds = d + 1;
	return 0;
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
		const char *rds;
		char v[48];
		uint64_t seq;
		size_t vlen, rlen;

		last[i] = -1;
		if (r->offset < 0)
			continue;
		ret = -1;
		if (!r->value || parse_value(r->value, &rlen, &seq, &rds)) {
			buf_addf(err, "kafka topic '%s' holds records pancake did not "
				 "write (partition %d offset %" PRId64 " is not "
				 "user,item,stars,timestamp,seq,dataset): delete the "
				 "topic or set PANCAKE_KAFKA_TOPIC", topic, i, r->offset);
			break;
		}
		if (strcmp(rds, name)) {
			buf_addf(err, "kafka topic '%s' holds dataset '%s', not '%s': "
				 "a topic holds one dataset; 'pancake data drop %s "
				 "--from kafka' empties it (or set PANCAKE_KAFKA_TOPIC)",
				 topic, rds, name, rds);
			break;
		}
		if (seq >= ds->nratings ||
		    (int)(ds->ratings[seq].user % (uint32_t)npart) != i ||
		    (vlen = format_value(v, &ds->ratings[seq]), rlen != vlen) ||
		    memcmp(r->value, v, vlen)) {
			buf_addf(err, "the last record of kafka topic '%s' (partition %d, "
				 "seq %" PRIu64 ") is not rating %" PRIu64 " of dataset "
				 "'%s' (%zu ratings): the dataset changed since it was "
				 "loaded; delete the topic to load it again", topic, i,
				 seq, seq, name, ds->nratings);
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
 * user id, value "user,item,stars,timestamp,<i>,<dataset>" (i 0-based).
 * The producer is idempotent and gapless and each partition is fed in
 * source order, so what a partition holds is a prefix of its share of the
 * source: a re-run sends record i only when i is above the seq of the
 * partition's last record. An interrupted run flushes what it queued,
 * returns -2 and says how far it got. The value is formatted by hand,
 * backwards, into one reused buffer that already ends in ",<dataset>";
 * librdkafka copies it (no headers, no allocation here per record).
 */
static int load_kafka(const struct dataset *ds, const struct load_opts *o,
		      struct load_result *res, struct buf *err)
{
	const char *topic = topic_name(), *name = ds_name(ds, o);
	int timeout = o->timeout_ms > 0 ? o->timeout_ms : 10000;
	struct kafka_producer *p;
	struct kafka_delivery d;
	struct kafka_msg *msgs = NULL;
	int64_t *last = NULL, top = -1, last_queued = -1;
	uint64_t skipped = 0, queued = 0, next_progress = PROGRESS_EVERY;
	double t0 = clock_s();
	size_t namelen = strlen(name), slot;
	char *arena = NULL, *keys = NULL;
	int npart, interrupted = 0, ret = -1, pret = 0, fret, nb, k;
	size_t i;

	memset(res, 0, sizeof(*res));
	if (!(p = open_producer(o, err)))
		return -1;
	npart = kafka_topic_ensure(p, topic, partitions_wanted(), NULL, err);
	if (npart == KAFKA_EUNREACH || npart == KAFKA_ETIMEOUT)
		buf_addstr(err, " (start it with 'pancake up kafka')");
	if (npart < 1)
		goto out;
	last = xcalloc((size_t)npart, sizeof(*last));
	if (read_resume(p, topic, ds, name, npart, last, err))
		goto out;

	/*
	 * BATCH records at a time: values are formatted backwards into
	 * per-record slots that already end in ",<dataset>", keys likewise,
	 * and queued with one librdkafka call (which copies them)
	 */
	slot = 48 + 24 + namelen;
	arena = xmalloc(BATCH * slot);
	keys = xmalloc(BATCH * 16);
	msgs = xcalloc(BATCH, sizeof(*msgs));
	for (k = 0; k < BATCH; k++) {
		char *end = arena + (k + 1) * slot;

		memcpy(end - namelen, name, namelen);
		end[-(long)namelen - 1] = ',';
	}
	nb = 0;
	for (i = 0; i <= ds->nratings; i++) {
		const struct rating *r;
		int part;
		char *s, *sv, *tail;

		if (i == ds->nratings || nb == BATCH) {
			if (nb && (pret = kafka_produce_batch(p, topic, msgs, nb, err)))
				break;
			if (nb) {
				top = last_queued;
				queued += (uint64_t)nb;
			}
			nb = 0;
			if (queued >= next_progress) {
				next_progress = queued + PROGRESS_EVERY;
				kafka_producer_poll(p, 0);
				if (o->progress) {
					kafka_producer_stats(p, &d);
					o->progress("kafka", skipped + d.delivered, ds->nratings, o->ctx);
				}
			}
			if (i == ds->nratings)
				break;
		}
		r = &ds->ratings[i];
		part = (int)(r->user % (uint32_t)npart);
		if ((int64_t)i <= last[part]) {
			skipped++;
			continue;
		}
		if (o->cancel && *o->cancel) {
			if (nb && !(pret = kafka_produce_batch(p, topic, msgs, nb, err))) {
				top = last_queued;
				queued += (uint64_t)nb;
			}
			interrupted = 1;
			break;
		}
		s = utoa_end(keys + (nb + 1) * 16, r->user);
		tail = arena + (size_t)(nb + 1) * slot - namelen - 1;
		sv = utoa_end(tail, i);
		*--sv = ',';
		sv = format_back(sv, r);
		msgs[nb].key = s;
		msgs[nb].keylen = (size_t)(keys + (nb + 1) * 16 - s);
		msgs[nb].value = sv;
		msgs[nb].len = (size_t)(arena + (size_t)(nb + 1) * slot - sv);
		msgs[nb].partition = part;
		last_queued = (int64_t)i;
		nb++;
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
		ret = LOAD_INTERRUPTED;
		goto out;
	}
	ret = 0;
out:
	res->seconds = clock_s() - t0;
	free(arena);
	free(keys);
	free(msgs);
	free(last);
	kafka_producer_free(p);
	return ret;
}

#define FOREIGN "(records pancake did not write)"

/*
 * Whose records the topic's `npart` partitions hold, from the last record
 * of each: `other` (size bytes) gets the dataset's name when it is not
 * `name`, FOREIGN when a record is not pancake's, "" when the topic holds
 * `name` or nothing; *count the records held. 0 or -1 with `err`.
 */
static int topic_holder(struct kafka_producer *p, const char *topic, int npart,
			const char *name, int64_t *count, char *other, size_t size,
			struct buf *err)
{
	struct kafka_record *recs = xcalloc((size_t)npart, sizeof(*recs));
	int i, ret = -1;

	other[0] = '\0';
	if (kafka_topic_count(p, topic, count, err) ||
	    kafka_topic_last_records(p, topic, npart, recs, err))
		goto out;
	for (i = 0; i < npart && !other[0]; i++)
		if (recs[i].offset >= 0) {
			const char *rds;
			size_t rlen;
			uint64_t seq;

			if (!recs[i].value || parse_value(recs[i].value, &rlen, &seq, &rds))
				snprintf(other, size, "%s", FOREIGN);
			else if (strcmp(rds, name))
				snprintf(other, size, "%s", rds);
		}
	ret = 0;
out:
	for (i = 0; i < npart; i++)
		kafka_record_release(&recs[i]);
	free(recs);
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
	char other[256];
	int64_t n = 0;
	int npart, ret = -1;

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
	if (npart < 1 || topic_holder(p, topic, npart, name, &n, other, sizeof(other), err))
		goto out;
	if (other[0]) {
		snprintf(c->detail, sizeof(c->detail), "topic %s: %" PRId64
			 " records of dataset '%.100s'", topic, n, other);
	} else {
		c->ratings = n;
		snprintf(c->detail, sizeof(c->detail), "topic %s: %" PRId64
			 " records in %d partition%s", topic, n, npart,
			 npart == 1 ? "" : "s");
	}
	ret = 0;
out:
	kafka_producer_free(p);
	return ret;
}

static void nap_ms(long ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };

	nanosleep(&ts, NULL);
}

/*
 * Deletes the topic when it holds dataset `name` (a topic holds one
 * dataset), and waits until the broker's metadata no longer lists it, so
 * that a load right after creates it afresh. A topic holding another
 * dataset, or records pancake did not write, is left alone.
 */
static int drop_kafka(const char *name, const struct load_opts *o, char *detail,
		      size_t size, struct buf *err)
{
	const char *topic = topic_name();
	struct kafka_producer *p;
	char other[256];
	int64_t n = 0;
	int npart, ret = -1;
	double t0;

	if (!(p = open_producer(o, err)))
		return -1;
	npart = kafka_topic_partitions(p, topic, err);
	if (npart == KAFKA_ENOTOPIC) {
		buf_reset(err);
		snprintf(detail, size, "topic %s: does not exist, nothing to drop", topic);
		ret = 0;
		goto out;
	}
	if (npart < 1 || topic_holder(p, topic, npart, name, &n, other, sizeof(other), err))
		goto out;
	if (!strcmp(other, FOREIGN)) {
		buf_addf(err, "kafka topic '%s' holds records pancake did not write: it was "
			 "left as it is (set PANCAKE_KAFKA_TOPIC to use another topic)", topic);
		goto out;
	}
	if (other[0]) {
		buf_addf(err, "kafka topic '%s' holds dataset '%s', not '%s': it was left "
			 "as it is ('pancake data drop %s --from kafka' empties it)", topic,
			 other, name, other);
		goto out;
	}
	if (kafka_topic_delete(p, topic, err))
		goto out;
	/* deletion is asynchronous on the broker */
	t0 = clock_s();
	while (kafka_topic_partitions(p, topic, NULL) != KAFKA_ENOTOPIC) {
		if (clock_s() - t0 > 30) {
			buf_addf(err, "kafka still lists topic '%s' 30 s after deleting it: "
				 "try again in a moment", topic);
			goto out;
		}
		nap_ms(200);
	}
	snprintf(detail, size, "topic %s: deleted with its %" PRId64 " records", topic, n);
	ret = 0;
out:
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
	.drop = drop_kafka,
};
