/*
 * kafka: the Kafka client over librdkafka: the readiness probe, an
 * idempotent batching producer, topic admin, watermarks and the last record
 * of each partition (what a load's resume point is read from).
 */
#ifndef PANCAKE_KAFKA_H
#define PANCAKE_KAFKA_H

#include <stddef.h>
#include <stdint.h>
#include "util/buf.h"

/* Return codes: 0 is ready, these say why not. */
enum kafka_status {
	KAFKA_ECONFIG = -1,	/* librdkafka refused the configuration */
	KAFKA_EUNREACH = -2,	/* no broker answered (refused, closed) */
	KAFKA_ETIMEOUT = -3,	/* no metadata within the timeout */
	KAFKA_EFAIL = -4,	/* any other failure; see the message */
	KAFKA_ENOTOPIC = -5,	/* the topic does not exist */
	KAFKA_EDELIVERY = -6,	/* a record was refused or timed out */
};

/* What a metadata answer says about the cluster. */
struct kafka_meta {
	int brokers;		/* brokers in the metadata */
	int topics;		/* topics, without internal "__" ones */
	int controller_id;	/* -1 when the broker did not say */
	char cluster_id[64];	/* "" when the broker did not say */
};

/*
 * Asks the cluster at `bootstrap` ("127.0.0.1:9092", or a comma list) for
 * its metadata with a throwaway producer handle. `timeout_ms` bounds the
 * request; tearing the handle down may add a little (it has nothing
 * queued to flush). librdkafka's own logging never reaches stderr: the
 * last line it logged is added to `err` (may be NULL) on failure.
 * `meta` (may be NULL) is filled on success.
 */
int kafka_probe(const char *bootstrap, int timeout_ms, struct kafka_meta *meta,
		struct buf *err);

/*
 * The producer: idempotent (enable.idempotence, acks=all, gapless: a
 * delivery error that could leave a hole is fatal, so what is acknowledged
 * on a partition is always a prefix of what was produced to it), lz4,
 * large batches and a large local queue. One thread produces and polls.
 */
struct kafka_producer;

struct kafka_producer_opts {
	int timeout_ms;		/* per network call (metadata, admin); 0: 10000 */
	int linger_ms;		/* 0: 25 */
	int delivery_timeout_ms; /* a record's whole life; 0: 120000 */
	int queue_wait_ms;	/* how long produce waits for room in a full local
				   queue; 0: timeout_ms; -1: not at all (KAFKA_ETIMEOUT) */
	const char *client_id;	/* NULL: "pancake" */
};

/* a record header for kafka_produce: `value` is copied */
struct kafka_header {
	const char *name;
	const void *value;
	size_t len;
};

/* delivery reports so far (served by kafka_producer_poll/flush) */
struct kafka_delivery {
	uint64_t produced;	/* accepted into the local queue */
	uint64_t delivered;	/* acknowledged by the broker */
	uint64_t failed;	/* delivery failed (see first_error) */
	int first_error;	/* librdkafka rd_kafka_resp_err_t, 0 if none */
	char first_error_msg[256];
};

/*
 * New (free with kafka_producer_free); NULL with `err` filled when
 * librdkafka refuses the configuration. Connects lazily: the first call
 * that needs the broker reports an unreachable one. `opts` may be NULL.
 */
struct kafka_producer *kafka_producer_new(const char *bootstrap,
					  const struct kafka_producer_opts *opts,
					  struct buf *err);
/* purges anything not yet delivered: flush first to keep it */
void kafka_producer_free(struct kafka_producer *p);

/*
 * Queues one record for `topic` (key, value and headers are copied; `key`
 * may be NULL). `partition` -1 lets librdkafka pick by key. While the
 * local queue is full it serves delivery reports and waits, up to the
 * producer's timeout_ms. 0, KAFKA_ETIMEOUT (queue still full),
 * KAFKA_EDELIVERY (the producer hit a fatal error) or KAFKA_EFAIL.
 */
int kafka_produce(struct kafka_producer *p, const char *topic, int32_t partition,
		  const void *key, size_t keylen, const void *value, size_t len,
		  const struct kafka_header *hdrs, int nhdrs, struct buf *err);
/* serves delivery reports, waiting up to `ms` for one */
/* one record of a batch; every pointer borrowed for the call */
struct kafka_msg {
	const void *key;
	size_t keylen;
	const void *value;
	size_t len;
	int32_t partition;
};
/*
 * Queues `n` records at once (copied): one lock and one clock reading for
 * the batch instead of one per record, which is most of what a record
 * costs in librdkafka. Records refused for a full queue wait (polling) up
 * to the producer's timeout_ms and go again in order. 0, or as
 * kafka_produce.
 */
int kafka_produce_batch(struct kafka_producer *p, const char *topic,
			const struct kafka_msg *msgs, int n, struct buf *err);
void kafka_producer_poll(struct kafka_producer *p, int ms);
/*
 * Waits until every queued record is delivered or failed, at most
 * `timeout_ms`: 0, KAFKA_ETIMEOUT (records still outstanding) or
 * KAFKA_EDELIVERY (some failed; the first error is in `err`).
 */
int kafka_producer_flush(struct kafka_producer *p, int timeout_ms, struct buf *err);
void kafka_producer_stats(struct kafka_producer *p, struct kafka_delivery *d);

/*
 * Topics. All go through the producer's handle and take its timeout_ms;
 * an unreachable broker gives KAFKA_ETIMEOUT or KAFKA_EUNREACH with a
 * message that names the bootstrap address.
 */
/* the partition count of `topic`, or KAFKA_ENOTOPIC; never auto-creates it */
int kafka_topic_partitions(struct kafka_producer *p, const char *topic,
			   struct buf *err);
/*
 * Creates `topic` with `partitions` partitions and replication 1 unless it
 * exists, then waits until the metadata shows it. `config` is NULL or a
 * NULL-terminated list of name, value pairs ("cleanup.policy", "compact").
 * Returns the partition count (of the existing topic, if it was there).
 */
int kafka_topic_ensure(struct kafka_producer *p, const char *topic, int partitions,
		       const char *const *config, struct buf *err);
/* deletes `topic`; 0 also when it did not exist */
int kafka_topic_delete(struct kafka_producer *p, const char *topic, struct buf *err);
/* low and high watermarks (the next offset) of one partition */
int kafka_topic_offsets(struct kafka_producer *p, const char *topic, int32_t partition,
			int64_t *low, int64_t *high, struct buf *err);
/* records held: the sum of high - low over partitions; KAFKA_ENOTOPIC if none */
int kafka_topic_count(struct kafka_producer *p, const char *topic, int64_t *count,
		      struct buf *err);

/* a record read back; every string owned by it (kafka_record_release) */
struct kafka_record {
	int32_t partition;
	int64_t offset;		/* -1: the partition is empty */
	int64_t timestamp_ms;	/* the record's timestamp (create time), -1 if none */
	char *key;		/* NUL-terminated copies; NULL when absent */
	char *value;
	size_t nheaders;
	char **header_names;
	char **header_values;
};
void kafka_record_release(struct kafka_record *r);
/* borrowed, valid until kafka_record_release; NULL when absent */
const char *kafka_record_header(const struct kafka_record *r, const char *name);

/*
 * The last record of each of the `npart` partitions of `topic`, into
 * `recs[0..npart)` (offset -1 for an empty partition): a throwaway
 * consumer assigned at high - 1 reads one record per partition. Assumes
 * no transaction markers (a non-transactional producer) at the tail.
 */
int kafka_topic_last_records(struct kafka_producer *p, const char *topic, int npart,
			     struct kafka_record *recs, struct buf *err);

/*
 * A group consumer of one topic, at least once: a record counts as done
 * only when kafka_consumer_done() says so, and only done offsets are
 * committed (every second, and on kafka_consumer_free). A partition the
 * group has no committed offset for starts at its end (or its beginning
 * with from_beginning), resolved when it is assigned, so nothing produced
 * after kafka_consumer_ready() is missed.
 */
struct kafka_consumer;

struct kafka_consumer_opts {
	const char *group;	/* consumer group id (required) */
	int from_beginning;	/* where a partition without a committed offset starts */
	int timeout_ms;		/* per network call; 0: 10000 */
	const char *client_id;	/* NULL: "pancake" */
};

/* new (free with kafka_consumer_free); NULL with `err` when refused */
struct kafka_consumer *kafka_consumer_new(const char *bootstrap, const char *topic,
					  const struct kafka_consumer_opts *opts,
					  struct buf *err);
/* commits what is done, leaves the group and frees */
void kafka_consumer_free(struct kafka_consumer *c);
/*
 * Waits up to `timeout_ms` for the next record: 1 with *r filled (new,
 * kafka_record_release), 0 when none came, or a negative enum
 * kafka_status with `err` (an unreachable broker, an unknown topic).
 */
int kafka_consumer_poll(struct kafka_consumer *c, int timeout_ms, struct kafka_record *r,
			struct buf *err);
/* marks partition/offset processed: it (and all before it) may be committed */
void kafka_consumer_done(struct kafka_consumer *c, int32_t partition, int64_t offset);
/* commits the done offsets now (synchronously); 0 or KAFKA_EFAIL with `err` */
int kafka_consumer_commit(struct kafka_consumer *c, struct buf *err);
/* partitions assigned with their start resolved; 0 until the group has answered */
int kafka_consumer_ready(struct kafka_consumer *c);

#endif
