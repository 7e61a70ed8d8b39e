/* es: the Elasticsearch readiness probe (cluster health), over libcurl. */
#ifndef PANCAKE_ES_H
#define PANCAKE_ES_H

#include "util/buf.h"

/* Cap on the health response body. */
#define ES_RESP_MAX (1u << 20)

/* Return codes: 0 is ready, these say why not. */
enum es_status {
	ES_EUNREACH = -1,	/* cannot connect, or the connection dropped */
	ES_ETIMEOUT = -2,	/* no answer within the timeout */
	ES_EHTTP = -3,		/* a non-2xx answer other than a health wait */
	ES_EPROTO = -4,		/* not JSON, not a health answer, too big */
	ES_ENOTREADY = -5,	/* answered, but below the wanted status */
	ES_EINVAL = -6,		/* bad arguments (a status not green/yellow/red) */
};

struct es_health {
	char status[16];	/* "green", "yellow", "red" */
	int nodes;		/* number_of_nodes */
	int active_shards;
	int timed_out;		/* the server's wait ran out */
};

/*
 * GET base_url/_cluster/health. With `wait_status` ("green" or "yellow";
 * NULL to not wait) the server waits for that status for about three
 * quarters of `timeout_ms`, so that it answers before our own timeout
 * does; `timeout_ms` bounds the whole call. Returns 0 when the cluster is
 * at least `wait_status`, ES_ENOTREADY (with `h` filled) when the wait ran
 * out, or another negative enum es_status with `err` (may be NULL) saying
 * why, quoting the body's error.reason for non-2xx answers. `h` may be
 * NULL. base_url is e.g. "http://127.0.0.1:9200".
 */
int es_health(const char *base_url, const char *wait_status, int timeout_ms,
	      struct es_health *h, struct buf *err);

/*
 * A plain HTTP readiness check for services without a protocol of their
 * own (the recommender's and serving's health endpoints): GET
 * base_url + path (e.g. "/healthz") must answer 2xx within `timeout_ms`.
 * Returns 0 or a negative enum es_status with `err` (may be NULL) set.
 * It lives here because only this module and docker include libcurl.
 */
int es_http_ok(const char *base_url, const char *path, int timeout_ms,
	       struct buf *err);

#endif
