/*
 * route: what a request asks for, parsed from its method and raw URI
 * (path and query string), and whether its framing is sound, checked
 * from its header fields, with nothing but the bytes: the part of the
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
	int status;		/* 400, 404, 405, 414 or 501 */
	char message[160];
};

/*
 * Parses `method` and `uri` ("/recommendations/42?k=5"). 0 with `r`
 * filled, or -1 with `e` saying why (unknown path 404, wrong method 405,
 * a bad id or parameter 400 (a parameter given twice too), a URI over
 * ROUTE_URI_MAX 414).
 */
int route_parse(const char *method, const char *uri, size_t len, struct route *r,
		struct route_error *e);

/*
 * The framing of a request (RFC 9112), gathered from its header fields
 * one at a time (route_framing_field), then judged (route_framing_check).
 */
struct route_framing {
	int fields;
	int hosts;		/* Host fields */
	int bad_host;		/* one whose value is no host[:port] */
	int lengths;		/* Content-Length fields */
	int lengths_differ;	/* two of them with different values */
	uint64_t length;	/* the first one's value (UINT64_MAX: not a number) */
	int encodings;		/* Transfer-Encoding fields */
	int chunked;		/* how many times "chunked" was named */
	int chunked_last;	/* the last coding named was chunked */
	char unknown[32];	/* a transfer coding other than chunked ("" none) */
	char bad_name[32];	/* a field name that is not a token ("" none) */
	int bad_name_set;
};

void route_framing_init(struct route_framing *f);
/* one header field line: its name and value (as the server split them) */
void route_framing_field(struct route_framing *f, const char *name, size_t nlen,
			 const char *value, size_t vlen);
/*
 * 0 when a request of HTTP `version` ("HTTP/1.1") with the fields seen
 * is framed soundly, else -1 with `e`: 400 for a field name that is not
 * a token (whitespace before its colon), an HTTP/1.1 request without a
 * Host or with more than one, a Host that is no host[:port], two
 * different Content-Length values, Transfer-Encoding in HTTP/1.0 or
 * beside Content-Length, chunked named twice or not last; 501 for a
 * transfer coding other than chunked. The server answers and closes.
 */
int route_framing_check(const struct route_framing *f, const char *version,
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
