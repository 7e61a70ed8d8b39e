/*
 * es: the Elasticsearch readiness probe (cluster health), index creation,
 * bulk indexing with several requests in flight, refresh and counts, over
 * libcurl and jansson (neither leaks out).
 */
#ifndef PANCAKE_ES_H
#define PANCAKE_ES_H

#include <stddef.h>
#include <stdint.h>
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
	ES_EITEM = -7,		/* a bulk answer of 200 with "errors": true */
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

/* Cap on a bulk answer (filtered to errors and ids, but one line an item). */
#define ES_BULK_RESP_MAX (64u << 20)
/* What the bulk loaders aim for: bodies of about 1 MB, 4 in flight (1 MB kept
 * two cores busier than 5 MB here: 1.13-1.21 s against 1.23-1.31 s for 100k docs) */
#define ES_BULK_BODY_SIZE (1u << 20)
#define ES_BULK_INFLIGHT 4

/*
 * Creates index `index` with the settings and mappings in `body_json` (the
 * PUT body) unless it exists; *created (may be NULL) says which. An index
 * created concurrently by someone else counts as existing. Returns 0 or a
 * negative enum es_status with `err` naming the URL and the reason.
 */
int es_index_ensure(const char *base_url, const char *index,
		    const char *body_json, int timeout_ms, int *created,
		    struct buf *err);
/*
 * The string under `key` in the index mapping's _meta, appended to `out`:
 * 0; 1 when the index or the key does not exist; or a negative enum
 * es_status with `err` set.
 */
int es_index_meta(const char *base_url, const char *index, const char *key,
		  int timeout_ms, struct buf *out, struct buf *err);
/* deletes `index`; a missing index is not an error */
int es_index_delete(const char *base_url, const char *index, int timeout_ms,
		    struct buf *err);
/* makes everything indexed so far visible to searches and counts */
int es_refresh(const char *base_url, const char *index, int timeout_ms,
	       struct buf *err);
/* _count of `index`, with a query body (e.g. {"query":...}) or NULL: all */
int es_count(const char *base_url, const char *index, const char *query_json,
	     int timeout_ms, int64_t *n, struct buf *err);
/* the sum aggregation of numeric field `field` over all of `index` */
int es_sum(const char *base_url, const char *index, const char *field,
	   int timeout_ms, double *sum, struct buf *err);

/* appends `s` as a JSON string literal (quoted, escaped) to `b` */
void es_json_str(struct buf *b, const char *s);

/*
 * A bulk indexer: NDJSON bodies POSTed to base_url/index/_bulk, up to
 * `inflight` (0: ES_BULK_INFLIGHT) at a time on a curl multi handle. Each
 * answer is checked: a non-2xx status, and a 200 whose "errors" is true,
 * fail the load with the first failed item's _id, error type and reason.
 * Opaque.
 */
struct es_bulk;

/* new (free with es_bulk_free); `timeout_ms` bounds each request */
struct es_bulk *es_bulk_new(const char *base_url, const char *index,
			    int inflight, int timeout_ms);
/*
 * Sends `body` (NDJSON of `nitems` actions, each line ending in '\n');
 * steals its contents (it is left empty). Waits while `inflight` requests
 * are running, so returns an error of an earlier body as soon as it is
 * known: then stop; the loader is unusable. 0 or a negative enum es_status.
 */
int es_bulk_send(struct es_bulk *b, struct buf *body, size_t nitems,
		 struct buf *err);
/* waits for every request in flight and checks their answers */
int es_bulk_finish(struct es_bulk *b, struct buf *err);
/* items acknowledged without error so far */
uint64_t es_bulk_acked(const struct es_bulk *b);
void es_bulk_free(struct es_bulk *b);

#endif
