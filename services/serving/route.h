/*
 * route: what a request asks for, parsed from its method and raw URI
 * (path and query string) with nothing but the bytes: the part of the
 * server the fuzzer drives.
 */
#ifndef PANCAKE_ROUTE_H
#define PANCAKE_ROUTE_H

#include <stddef.h>
#include <stdint.h>

enum route_kind {
	ROUTE_RECOMMENDATIONS,	/* GET /recommendations/{user}?k=N */
	ROUTE_SIMILAR,		/* GET /similar/{item}?k=N */
	ROUTE_POPULAR,		/* GET /popular?k=N */
	ROUTE_FEEDBACK,		/* POST /feedback */
	ROUTE_HEALTHZ,		/* GET /healthz */
	ROUTE_READYZ,		/* GET /readyz */
	ROUTE_METRICS,		/* GET /metrics */
	ROUTE_COUNT
};

#define ROUTE_K_DEFAULT 10
#define ROUTE_K_MAX 100
#define ROUTE_URI_MAX 2048

struct route {
	enum route_kind kind;
	uint32_t id;		/* user or item */
	int k;			/* results wanted, 1..ROUTE_K_MAX */
	char variant[32];	/* ?variant=NAME forces an arm ("" none) */
};

/* HTTP status of a refusal, with a message for the JSON error body */
struct route_error {
	int status;		/* 400, 404, 405 or 414 */
	char message[160];
};

/*
 * Parses `method` and `uri` ("/recommendations/42?k=5"). 0 with `r`
 * filled, or -1 with `e` saying why (unknown path 404, wrong method 405,
 * a bad id or parameter 400, a URI over ROUTE_URI_MAX 414).
 */
int route_parse(const char *method, const char *uri, size_t len, struct route *r,
		struct route_error *e);

/* POST /feedback's body, checked */
struct feedback {
	char request_id[32];	/* INSTANCE-SEQ exactly as a response gave it */
	char instance[9];	/* 8 hex digits */
	uint64_t seq;
	int64_t item;		/* -1: none given */
	double reward;		/* 0..1; 1 (a click) when not given */
};

/*
 * Parses a feedback body, {"request_id": "INSTANCE-SEQ", "item": N,
 * "reward": R} (item and reward optional): 0 with `f` filled, or -1 with
 * `e` (400) saying what is wrong.
 */
int route_feedback(const char *body, size_t len, struct feedback *f, struct route_error *e);

/* "recommendations", "similar", ...: the route's label in metrics (static) */
const char *route_name(enum route_kind k);

#endif
