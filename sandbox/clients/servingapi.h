/*
 * servingapi: serving's HTTP API as a client sees it (GET /metrics, GET
 * /recommendations/USER, POST /feedback) over libcurl, each call with a
 * connect and a total timeout and a cap on the answer; plain structs out.
 */
#ifndef PANCAKE_SERVINGAPI_H
#define PANCAKE_SERVINGAPI_H

#include <stdint.h>
#include "util/buf.h"

/* the cap on any answer (metrics of 8 variants are about 60 KB) */
#define SERVINGAPI_RESP_MAX (4u << 20)
/* the connect timeout within a call's total one */
#define SERVINGAPI_CONNECT_MS 1000
/* as serving's route.h: at most this many items a list */
#define SERVINGAPI_K_MAX 100

/* what a call can fail with; 0 is success */
enum servingapi_error {
	SERVINGAPI_EREFUSED = -1,   /* connection refused: nothing listens there */
	SERVINGAPI_EUNREACH = -2,   /* another failure to connect or a dropped connection */
	SERVINGAPI_ETIMEOUT = -3,   /* no (whole) answer within the timeout */
	SERVINGAPI_EHTTP = -4,      /* an answer that is not 2xx (its status and message kept) */
	SERVINGAPI_EPROTO = -5,     /* not what serving answers: bad JSON, over the cap */
	SERVINGAPI_EUSAGE = -6,     /* bad arguments (an address that is no HOST:PORT) */
};

/* how a call ended, beside its return code */
struct servingapi_result {
	int http_status;            /* 0 when no answer came */
	char reason[256];           /* short, for a status line: "connection refused",
				       "HTTP 503: no model loaded yet: ..." ("" on success) */
	double seconds;             /* the call's duration */
};

/*
 * GET http://ADDR/metrics within `timeout_ms`; the body into `out` (reset
 * first). 0, or an enum servingapi_error with `r->reason` and `err` (may
 * be NULL) saying what and where: "cannot reach serving at '...': ...".
 */
int servingapi_metrics(const char *addr, int timeout_ms, struct buf *out,
		       struct servingapi_result *r, struct buf *err);

struct servingapi_item {
	uint32_t item;
	double score;
};

/* an answer of GET /recommendations/USER */
struct servingapi_recs {
	uint32_t user;
	char request_id[32];        /* INSTANCE-SEQ, what feedback names */
	char variant[32];
	char version[32];
	char source[16];            /* redis, cache, model or popular */
	double probability;         /* that this variant was chosen */
	struct servingapi_item items[SERVINGAPI_K_MAX];
	int n;
};

/*
 * GET /recommendations/USER?k=K[&variant=V] (`variant` NULL or "": the
 * experiment chooses). 0 with `out` filled, or an enum servingapi_error.
 */
int servingapi_recommend(const char *addr, uint32_t user, int k, const char *variant,
			 int timeout_ms, struct servingapi_recs *out,
			 struct servingapi_result *r, struct buf *err);

/* an answer of POST /feedback */
struct servingapi_feedback {
	int attributed;             /* 1: counted for `variant` */
	char variant[32];
	double reward;
	char error[256];            /* serving's message of a refusal (404, 409, 410, 400) */
};

/*
 * POST /feedback {"request_id": ID, "item": ITEM, "reward": R} (item < 0:
 * none). 0 when attributed; SERVINGAPI_EHTTP with `out->error` and
 * r->http_status (404 unknown id, 409 given already, 410 window closed)
 * when refused; another enum servingapi_error when it could not ask.
 */
int servingapi_feedback(const char *addr, const char *request_id, int64_t item, double reward,
			int timeout_ms, struct servingapi_feedback *out,
			struct servingapi_result *r, struct buf *err);

#endif
