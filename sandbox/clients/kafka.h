/* kafka: the Kafka readiness probe (a metadata request), over librdkafka. */
#ifndef PANCAKE_KAFKA_H
#define PANCAKE_KAFKA_H

#include "util/buf.h"

/* Return codes: 0 is ready, these say why not. */
enum kafka_status {
	KAFKA_ECONFIG = -1,	/* librdkafka refused the configuration */
	KAFKA_EUNREACH = -2,	/* no broker answered (refused, closed) */
	KAFKA_ETIMEOUT = -3,	/* no metadata within the timeout */
	KAFKA_EFAIL = -4,	/* any other failure; see the message */
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

#endif
