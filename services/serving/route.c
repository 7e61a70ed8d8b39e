/* route: the serving API's paths, query strings and bodies, parsed strictly. */
#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "route.h"

static const char *const names[ROUTE_COUNT] = {
	[ROUTE_RECOMMENDATIONS] = "recommendations", [ROUTE_SIMILAR] = "similar",
	[ROUTE_POPULAR] = "popular", [ROUTE_FEEDBACK] = "feedback",
	[ROUTE_HEALTHZ] = "healthz", [ROUTE_READYZ] = "readyz", [ROUTE_METRICS] = "metrics",
};

/* the table: path (a trailing '/' takes an id), method, kind */
static const struct {
	const char *path;
	const char *method;
	enum route_kind kind;
} routes[] = {
	{ "/recommendations/", "GET", ROUTE_RECOMMENDATIONS },
	{ "/similar/", "GET", ROUTE_SIMILAR },
	{ "/popular", "GET", ROUTE_POPULAR },
	{ "/feedback", "POST", ROUTE_FEEDBACK },
	{ "/healthz", "GET", ROUTE_HEALTHZ },
	{ "/readyz", "GET", ROUTE_READYZ },
	{ "/metrics", "GET", ROUTE_METRICS },
};

const char *route_name(enum route_kind k)
{
	return k < ROUTE_COUNT ? names[k] : "unknown";
}

static int refuse(struct route_error *e, int status, const char *fmt, const char *what,
		  size_t len)
{
	e->status = status;
	snprintf(e->message, sizeof(e->message), fmt, (int)(len > 40 ? 40 : len), what);
	return -1;
}

/* a decimal uint32 of s[0..len), no sign, no leading zeros but "0" */
static int parse_u32(const char *s, size_t len, uint32_t *out)
{
	uint64_t v = 0;

	if (len == 0 || len > 10 || (len > 1 && s[0] == '0'))
		return -1;
	for (size_t i = 0; i < len; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -1;
		v = v * 10 + (uint64_t)(s[i] - '0');
	}
	if (v > UINT32_MAX)
		return -1;
	*out = (uint32_t)v;
	return 0;
}

static int parse_query(const char *q, size_t len, struct route *r, struct route_error *e)
{
	size_t i = 0;

	while (i < len) {
		size_t end = i, eq;
		while (end < len && q[end] != '&')
			end++;
		for (eq = i; eq < end && q[eq] != '='; eq++)
			;
		const char *key = q + i, *val = q + eq + 1;
		size_t klen = eq - i, vlen = eq < end ? end - eq - 1 : 0;
		if (klen == 1 && key[0] == 'k') {
			uint32_t k;
			if (eq == end || parse_u32(val, vlen, &k) || k < 1 || k > ROUTE_K_MAX)
				return refuse(e, 400, "k must be a whole number from 1 to 100, not "
					      "'%.*s'", val, eq == end ? 0 : vlen);
			r->k = (int)k;
		} else if (klen == 7 && !memcmp(key, "variant", 7)) {
			if (eq == end || vlen == 0 || vlen >= sizeof(r->variant))
				return refuse(e, 400, "variant must name a variant, not '%.*s'", val,
					      eq == end ? 0 : vlen);
			for (size_t j = 0; j < vlen; j++)
				if (!((val[j] >= 'a' && val[j] <= 'z') || (val[j] >= '0' && val[j] <= '9') ||
				      val[j] == '-' || val[j] == '_'))
					return refuse(e, 400, "variant names are [a-z0-9_-], not '%.*s'",
						      val, vlen);
			memcpy(r->variant, val, vlen);
			r->variant[vlen] = '\0';
		} else if (klen > 0) {
			return refuse(e, 400, "unknown parameter '%.*s' (k and variant are known)",
				      key, klen);
		}
		i = end + 1;
	}
	return 0;
}

int route_parse(const char *method, const char *uri, size_t len, struct route *r,
		struct route_error *e)
{
	size_t plen;
	const char *q;

	memset(r, 0, sizeof(*r));
	r->k = ROUTE_K_DEFAULT;
	if (len > ROUTE_URI_MAX)
		return refuse(e, 414, "the request URI is longer than 2048 bytes%.*s", "", 0);
	q = memchr(uri, '?', len);
	plen = q ? (size_t)(q - uri) : len;
	for (size_t t = 0; t < sizeof(routes) / sizeof(routes[0]); t++) {
		size_t n = strlen(routes[t].path);
		int takes_id = routes[t].path[n - 1] == '/';
		if (takes_id ? (plen < n || memcmp(uri, routes[t].path, n))
			     : (plen != n || memcmp(uri, routes[t].path, n)))
			continue;
		if (strcmp(method, routes[t].method) &&
		    !(!strcmp(method, "HEAD") && !strcmp(routes[t].method, "GET")))
			return refuse(e, 405, "%.*s is not allowed here", method, strlen(method));
		r->kind = routes[t].kind;
		if (takes_id && parse_u32(uri + n, plen - n, &r->id))
			return refuse(e, 400, "'%.*s' is not an id (a whole number below 2^32)",
				      uri + n, plen - n);
		return q ? parse_query(q + 1, len - plen - 1, r, e) : 0;
	}
	return refuse(e, 404, "no such path '%.*s': try /recommendations/USER, /similar/ITEM, "
		      "/popular or /feedback", uri, plen);
}

/* a 400 for the body, with `msg` */
static int bad_body(struct route_error *e, const char *msg)
{
	e->status = 400;
	snprintf(e->message, sizeof(e->message), "%s", msg);
	return -1;
}

/* "INSTANCE-SEQ": 8 lowercase hex digits, '-', 1 to 20 decimal digits */
static int request_id(const char *s, struct feedback *f)
{
	size_t n = strlen(s), i;
	char *end;

	if (n < 10 || n >= sizeof(f->request_id) || s[8] != '-')
		return -1;
	for (i = 0; i < 8; i++)
		if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
			return -1;
	for (i = 9; i < n; i++)
		if (s[i] < '0' || s[i] > '9')
			return -1;
	errno = 0;
	f->seq = strtoull(s + 9, &end, 10);
	if (errno || *end)
		return -1;
	memcpy(f->instance, s, 8);
	f->instance[8] = '\0';
	memcpy(f->request_id, s, n + 1);
	return 0;
}

int route_feedback(const char *body, size_t len, struct feedback *f, struct route_error *e)
{
	json_error_t jerr;
	json_t *j = json_loadb(body, len, JSON_REJECT_DUPLICATES, &jerr), *rid, *item, *reward;
	int ret = -1;

	memset(f, 0, sizeof(*f));
	if (!j || !json_is_object(j)) {
		e->status = 400;
		snprintf(e->message, sizeof(e->message), "the body is not a JSON object: %.100s",
			 j ? "not an object" : jerr.text);
		json_decref(j);
		return -1;
	}
	rid = json_object_get(j, "request_id");
	item = json_object_get(j, "item");
	reward = json_object_get(j, "reward");
	if (!json_is_string(rid) || request_id(json_string_value(rid), f) ||
	    (reward && !json_is_number(reward)) || (item && !json_is_integer(item)) ||
	    (item && json_integer_value(item) < 0)) {
		bad_body(e, "feedback wants {\"request_id\": \"ID\" (from a recommendations "
		       "response), \"item\": N, \"reward\": 0..1}");
		goto out;
	}
	f->item = item ? (int64_t)json_integer_value(item) : -1;
	f->reward = reward ? json_number_value(reward) : 1.0;
	if (!(f->reward >= 0 && f->reward <= 1)) {
		bad_body(e, "reward must be a number from 0 to 1 (a click is 1)");
		goto out;
	}
	ret = 0;
out:
	json_decref(j);
	return ret;
}
