/* route: the serving API's paths, query strings, framing and bodies, parsed strictly. */
#include <ctype.h>
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

/*
 * Up to size - 1 bytes of s[0..n) into out, what is not printable ASCII
 * as '?': a client's bytes quoted in a message go into a JSON body, which
 * takes only UTF-8 (a stray 0xff made the error body NULL and killed the
 * server).
 */
static void quote(char *out, size_t size, const char *s, size_t n)
{
	size_t i;

	for (i = 0; i < n && i + 1 < size; i++)
		out[i] = s[i] >= ' ' && s[i] < 127 ? s[i] : '?';
	out[i] = '\0';
}

static int refuse(struct route_error *e, int status, const char *fmt, const char *what,
		  size_t len)
{
	char q[41];

	quote(q, sizeof(q), what, len);
	e->status = status;
	snprintf(e->message, sizeof(e->message), fmt, (int)strlen(q), q);
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
	int seen_k = 0, seen_variant = 0;

	while (i < len) {
		size_t end = i, eq;
		while (end < len && q[end] != '&')
			end++;
		for (eq = i; eq < end && q[eq] != '='; eq++)
			;
		const char *key = q + i, *val = q + eq + 1;
		size_t klen = eq - i, vlen = eq < end ? end - eq - 1 : 0;
		/* a parameter given twice: which one the client meant is anyone's guess */
		if ((klen == 1 && key[0] == 'k' && seen_k++) ||
		    (klen == 7 && !memcmp(key, "variant", 7) && seen_variant++))
			return refuse(e, 400, "parameter '%.*s' is given twice: give it once", key,
				      klen);
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

/* ---- framing (RFC 9112): what the header fields say about where the request ends ---- */

/* c is one of the NUL-terminated `set` (never the NUL) */
static int in_set(unsigned char c, const char *set)
{
	return c && strchr(set, c);
}

/* a token's character (RFC 9110 5.6.2) */
static int tchar(unsigned char c)
{
	return isalnum(c) || in_set(c, "!#$%&'*+-.^_`|~");
}

/* n bytes of s equal the lowercase `lit`, ignoring case */
static int ieq(const char *s, size_t n, const char *lit)
{
	if (strlen(lit) != n)
		return 0;
	for (size_t i = 0; i < n; i++)
		if (tolower((unsigned char)s[i]) != lit[i])
			return 0;
	return 1;
}

/* s[0..*n) without leading and trailing spaces and tabs */
static const char *trim(const char *s, size_t *n)
{
	while (*n && (*s == ' ' || *s == '\t'))
		s++, (*n)--;
	while (*n && (s[*n - 1] == ' ' || s[*n - 1] == '\t'))
		(*n)--;
	return s;
}

/* a Host value: uri-host [":" port] (RFC 3986), or empty */
static int host_ok(const char *v, size_t n)
{
	size_t i = 0;

	if (n && v[0] == '[') {		/* an IP literal */
		for (i = 1; i < n && v[i] != ']'; i++)
			if (!isxdigit((unsigned char)v[i]) &&
			    !in_set((unsigned char)v[i], ":.vV-_~!$&'()*+,;="))
				return 0;
		if (i++ == n)
			return 0;
	} else {
		for (; i < n && v[i] != ':'; i++) {
			unsigned char c = (unsigned char)v[i];
			if (c == '%') {
				if (i + 2 >= n || !isxdigit((unsigned char)v[i + 1]) ||
				    !isxdigit((unsigned char)v[i + 2]))
					return 0;
				i += 2;
			} else if (!isalnum(c) && !in_set(c, "-._~!$&'()*+,;=")) {
				return 0;
			}
		}
	}
	if (i < n && v[i++] != ':')
		return 0;
	for (; i < n; i++)
		if (!isdigit((unsigned char)v[i]))
			return 0;
	return 1;
}

void route_framing_init(struct route_framing *f)
{
	memset(f, 0, sizeof(*f));
}

void route_framing_field(struct route_framing *f, const char *name, size_t nlen,
			 const char *value, size_t vlen)
{
	size_t i;

	f->fields++;
	for (i = 0; i < nlen && tchar((unsigned char)name[i]); i++)
		;
	if ((nlen == 0 || i < nlen) && !f->bad_name_set) {
		f->bad_name_set = 1;
		quote(f->bad_name, sizeof(f->bad_name), name, nlen);
	}
	value = trim(value, &vlen);
	if (ieq(name, nlen, "host")) {
		f->hosts++;
		f->bad_host |= !host_ok(value, vlen);
	} else if (ieq(name, nlen, "content-length")) {
		uint64_t v = 0;
		if (vlen == 0 || vlen > 19)
			v = UINT64_MAX;
		for (i = 0; i < vlen && v != UINT64_MAX; i++)
			v = isdigit((unsigned char)value[i]) ? v * 10 + (uint64_t)(value[i] - '0')
							     : UINT64_MAX;
		if (f->lengths++ == 0)
			f->length = v;
		else if (v != f->length || v == UINT64_MAX)
			f->lengths_differ = 1;
	} else if (ieq(name, nlen, "transfer-encoding")) {
		f->encodings++;
		/* a list of codings, each maybe with parameters: "gzip, chunked" */
		for (i = 0; i < vlen;) {
			size_t end = i, tok;
			while (end < vlen && value[end] != ',')
				end++;
			size_t n = end - i;
			const char *c = trim(value + i, &n);
			for (tok = 0; tok < n && tchar((unsigned char)c[tok]); tok++)
				;
			if (tok == 0 && n == 0) {
				/* an empty list element: allowed, ignored */
			} else if (ieq(c, tok, "chunked")) {
				f->chunked++;
				f->chunked_last = 1;
			} else {
				if (!f->unknown[0])
					quote(f->unknown, sizeof(f->unknown), c, tok ? tok : n);
				f->chunked_last = 0;
			}
			i = end + 1;
		}
	}
}

static int bad_framing(struct route_error *e, int status, const char *fmt, const char *what)
{
	e->status = status;
	snprintf(e->message, sizeof(e->message), fmt, what);
	return -1;
}

int route_framing_check(const struct route_framing *f, const char *version,
			struct route_error *e)
{
	/* HTTP/1.1 and later minor versions need a Host; 1.0 (and 0.9) do not */
	const char *minor = version + 7;
	int http11 = !strncmp(version, "HTTP/1.", 7) && *minor &&
		     strspn(minor, "0123456789") == strlen(minor) && minor[strspn(minor, "0")];

	if (f->bad_name_set)
		return bad_framing(e, 400, "header field name '%s' is not a token (no spaces "
				   "before the colon)", f->bad_name);
	if (http11 && f->hosts == 0)
		return bad_framing(e, 400, "an HTTP/1.1 request needs a Host header%s", "");
	if (f->hosts > 1)
		return bad_framing(e, 400, "a request has one Host header, not several%s", "");
	if (f->bad_host)
		return bad_framing(e, 400, "the Host header is not a host[:port]%s", "");
	if (f->lengths_differ)
		return bad_framing(e, 400, "Content-Length is given with different values: "
				   "where the body ends is unclear%s", "");
	if (f->encodings && !http11)
		return bad_framing(e, 400, "Transfer-Encoding in an %s request", "HTTP/1.0");
	if (f->encodings && f->lengths)
		return bad_framing(e, 400, "both Transfer-Encoding and Content-Length: where the "
				   "body ends is unclear%s", "");
	if (f->unknown[0])
		return bad_framing(e, 501, "transfer coding '%s' is not supported (only chunked)",
				   f->unknown);
	if (f->encodings && (f->chunked != 1 || !f->chunked_last))
		return bad_framing(e, 400, "Transfer-Encoding must end with chunked, once%s", "");
	return 0;
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
		char why[101];
		quote(why, sizeof(why), j ? "not an object" : jerr.text,
		      strlen(j ? "not an object" : jerr.text));
		e->status = 400;
		snprintf(e->message, sizeof(e->message), "the body is not a JSON object: %s", why);
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
