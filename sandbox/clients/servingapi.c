/*
 * servingapi: one curl easy handle per call (the callers poll at most once
 * a second), answers capped, JSON read with jansson and copied out.
 */
#include "clients/servingapi.h"
#include "clients/libcurl.h"
#include "util/clock.h"
#include "util/hostport.h"
#include "util/quote.h"
#include "util/xalloc.h"

#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include <curl/curl.h>
#include <jansson.h>

struct body {
	struct buf *b;
	int overflow;
};

static size_t on_data(char *data, size_t size, size_t nmemb, void *ctx)
{
	struct body *body = ctx;
	size_t n = size * nmemb;

	if (body->b->len + n > SERVINGAPI_RESP_MAX) {
		body->overflow = 1;
		return 0;	/* curl stops with CURLE_WRITE_ERROR */
	}
	buf_add(body->b, data, n);
	return n;
}

__attribute__((format(printf, 2, 3)))
static void reason(struct servingapi_result *r, const char *fmt, ...)
{
	va_list ap;
	struct buf b = BUF_INIT;

	va_start(ap, fmt);
	buf_vaddf(&b, fmt, ap);
	va_end(ap);
	snprintf(r->reason, sizeof(r->reason), "%s", b.s);
	buf_release(&b);
}

/* serving's {"error": "..."} of a refusal, or the start of the body */
static void error_message(const struct buf *body, char *out, size_t size)
{
	json_t *j = json_loadb(body->s, body->len, 0, NULL);
	json_t *e = json_object_get(j, "error");
	struct buf b = BUF_INIT;

	if (json_is_string(e))
		quote_text(&b, json_string_value(e));
	else
		quote_text(&b, body->len ? body->s : "an empty body");
	snprintf(out, size, "%.*s", (int)strcspn(b.s, "\n"), b.s);
	buf_release(&b);
	json_decref(j);
}

/*
 * One request to http://ADDR`path` (a POST when `post` is not NULL) within
 * `timeout_ms`, the body into `out`. 0 with r->http_status set (any
 * status), or an enum servingapi_error below HTTP with r->reason and `err`.
 */
static int request(const char *addr, const char *path, const char *post, int timeout_ms,
		   struct buf *out, struct servingapi_result *r, struct buf *err)
{
	char host[64], curlerr[CURL_ERROR_SIZE] = "", q[QUOTE_BUF];
	struct body body = { out, 0 };
	struct curl_slist *hdrs = NULL;
	struct buf url = BUF_INIT;
	double t0 = clock_s();
	long code = 0, oserr = 0;
	CURLcode cc;
	CURL *curl;
	int port, ret = 0;

	memset(r, 0, sizeof(*r));
	buf_reset(out);
	if (hostport_parse(addr, host, sizeof(host), &port)) {
		reason(r, "%s is not HOST:PORT", quote(q, addr));
		if (err)
			buf_addf(err, "serving's address %s is not HOST:PORT (e.g. 127.0.0.1:8080)",
				 quote(q, addr));
		return SERVINGAPI_EUSAGE;
	}
	libcurl_init();
	curl = curl_easy_init();
	if (!curl)
		die("cannot create a curl handle: out of memory?");
	buf_addf(&url, strchr(host, ':') ? "http://[%s]:%d%s" : "http://%s:%d%s", host, port, path);
	curl_easy_setopt(curl, CURLOPT_URL, url.s);
	curl_easy_setopt(curl, CURLOPT_PROTOCOLS_STR, "http");
	curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(curl, CURLOPT_NOPROXY, "*");
	curl_easy_setopt(curl, CURLOPT_TIMEOUT_MS, (long)timeout_ms);
	curl_easy_setopt(curl, CURLOPT_CONNECTTIMEOUT_MS,
			 (long)(timeout_ms < SERVINGAPI_CONNECT_MS ? timeout_ms : SERVINGAPI_CONNECT_MS));
	curl_easy_setopt(curl, CURLOPT_USERAGENT, "pancake");
	curl_easy_setopt(curl, CURLOPT_ERRORBUFFER, curlerr);
	curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, on_data);
	curl_easy_setopt(curl, CURLOPT_WRITEDATA, &body);
	if (post) {
		hdrs = curl_slist_append(NULL, "Content-Type: application/json");
		curl_easy_setopt(curl, CURLOPT_HTTPHEADER, hdrs);
		curl_easy_setopt(curl, CURLOPT_POSTFIELDS, post);
		curl_easy_setopt(curl, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)strlen(post));
	}
	cc = curl_easy_perform(curl);
	r->seconds = clock_s() - t0;
	if (cc == CURLE_OK) {
		curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &code);
		r->http_status = (int)code;
		goto out;
	}
	curl_easy_getinfo(curl, CURLINFO_OS_ERRNO, &oserr);
	if (body.overflow) {
		ret = SERVINGAPI_EPROTO;
		reason(r, "an answer over %u bytes", SERVINGAPI_RESP_MAX);
	} else if (cc == CURLE_OPERATION_TIMEDOUT) {
		ret = SERVINGAPI_ETIMEOUT;
		reason(r, "no answer within %d ms", timeout_ms);
	} else if (cc == CURLE_COULDNT_CONNECT && oserr == ECONNREFUSED) {
		ret = SERVINGAPI_EREFUSED;
		reason(r, "connection refused");
	} else if (cc == CURLE_GOT_NOTHING || cc == CURLE_RECV_ERROR) {
		ret = SERVINGAPI_EUNREACH;
		reason(r, "the connection closed without an answer");
	} else {
		const char *why = curlerr[0] ? curlerr : curl_easy_strerror(cc);
		ret = SERVINGAPI_EUNREACH;
		reason(r, "%c%s", tolower((unsigned char)why[0]), why[0] ? why + 1 : "");
	}
	if (err)
		buf_addf(err, "cannot reach serving at '%s': %s", addr, r->reason);
out:
	curl_slist_free_all(hdrs);
	curl_easy_cleanup(curl);
	buf_release(&url);
	return ret;
}

/* a non-2xx answer: r->reason "HTTP N: message" and `err` */
static int http_refused(const char *addr, const char *what, const struct buf *body,
			struct servingapi_result *r, struct buf *err)
{
	char msg[200];

	error_message(body, msg, sizeof(msg));
	snprintf(r->reason, sizeof(r->reason), "HTTP %d: %s", r->http_status, msg);
	if (err)
		buf_addf(err, "serving at '%s' refused %s: %s", addr, what, r->reason);
	return SERVINGAPI_EHTTP;
}

int servingapi_metrics(const char *addr, int timeout_ms, struct buf *out,
		       struct servingapi_result *r, struct buf *err)
{
	int ret = request(addr, "/metrics", NULL, timeout_ms, out, r, err);

	if (ret)
		return ret;
	if (r->http_status / 100 != 2) {
		struct buf body = BUF_INIT;
		buf_add(&body, out->s, out->len);
		ret = http_refused(addr, "/metrics", &body, r, err);
		buf_release(&body);
		buf_reset(out);
	}
	return ret;
}

/* a string field copied into `out` of `size`; -1 when absent, not a string or too long */
static int str_field(json_t *j, const char *key, char *out, size_t size)
{
	json_t *v = json_object_get(j, key);

	if (!json_is_string(v) || json_string_length(v) >= size)
		return -1;
	memcpy(out, json_string_value(v), json_string_length(v) + 1);
	return 0;
}

/* the answer's fields into `out`; the name of the first one missing, or NULL */
static const char *parse_recs(json_t *j, struct servingapi_recs *out)
{
	json_t *items = json_object_get(j, "items"), *v;
	size_t i;

	memset(out, 0, sizeof(*out));
	v = json_object_get(j, "user");
	if (!json_is_integer(v) || json_integer_value(v) < 0 || json_integer_value(v) > UINT32_MAX)
		return "user";
	out->user = (uint32_t)json_integer_value(v);
	if (str_field(j, "request_id", out->request_id, sizeof(out->request_id)))
		return "request_id";
	if (str_field(j, "variant", out->variant, sizeof(out->variant)))
		return "variant";
	if (str_field(j, "version", out->version, sizeof(out->version)))
		return "version";
	if (str_field(j, "source", out->source, sizeof(out->source)))
		return "source";
	v = json_object_get(j, "probability");
	if (!json_is_number(v))
		return "probability";
	out->probability = json_number_value(v);
	if (!json_is_array(items) || json_array_size(items) > SERVINGAPI_K_MAX)
		return "items";
	json_array_foreach(items, i, v) {
		json_t *item = json_object_get(v, "item"), *score = json_object_get(v, "score");
		if (!json_is_integer(item) || json_integer_value(item) < 0 ||
		    json_integer_value(item) > UINT32_MAX || !json_is_number(score))
			return "items";
		out->items[out->n].item = (uint32_t)json_integer_value(item);
		out->items[out->n].score = json_number_value(score);
		out->n++;
	}
	return NULL;
}

int servingapi_recommend(const char *addr, uint32_t user, int k, const char *variant,
			 int timeout_ms, struct servingapi_recs *out,
			 struct servingapi_result *r, struct buf *err)
{
	struct buf path = BUF_INIT, body = BUF_INIT;
	const char *missing;
	json_t *j = NULL;
	int ret;

	memset(out, 0, sizeof(*out));
	buf_addf(&path, "/recommendations/%u?k=%d", user, k);
	if (variant && *variant) {
		char *esc = curl_easy_escape(NULL, variant, 0);
		buf_addf(&path, "&variant=%s", esc ? esc : "");
		curl_free(esc);
	}
	ret = request(addr, path.s, NULL, timeout_ms, &body, r, err);
	if (ret)
		goto out;
	if (r->http_status / 100 != 2) {
		ret = http_refused(addr, "the recommendations", &body, r, err);
		goto out;
	}
	j = json_loadb(body.s, body.len, 0, NULL);
	if (!j || (missing = parse_recs(j, out))) {
		ret = SERVINGAPI_EPROTO;
		snprintf(r->reason, sizeof(r->reason), "an answer without a well-formed '%s'",
			 j ? missing : "JSON body");
		if (err)
			buf_addf(err, "serving at '%s' answered %s: is this serving?", addr, r->reason);
	}
out:
	json_decref(j);
	buf_release(&body);
	buf_release(&path);
	return ret;
}

int servingapi_feedback(const char *addr, const char *request_id, int64_t item, double reward,
			int timeout_ms, struct servingapi_feedback *out,
			struct servingapi_result *r, struct buf *err)
{
	json_t *req = json_object(), *j = NULL;
	struct buf body = BUF_INIT;
	char *post;
	int ret;

	memset(out, 0, sizeof(*out));
	json_object_set_new(req, "request_id", json_string(request_id));
	if (item >= 0)
		json_object_set_new(req, "item", json_integer(item));
	json_object_set_new(req, "reward", json_real(reward));
	post = json_dumps(req, JSON_COMPACT);
	json_decref(req);
	if (!post) {
		/* only a request id that is not UTF-8 gets here */
		snprintf(r->reason, sizeof(r->reason), "the request id is not UTF-8");
		if (err)
			buf_addstr(err, "the request id is not UTF-8: give it as an answer printed it");
		return SERVINGAPI_EUSAGE;
	}
	ret = request(addr, "/feedback", post, timeout_ms, &body, r, err);
	free(post);
	if (ret)
		goto out;
	if (r->http_status / 100 != 2) {
		ret = http_refused(addr, "the feedback", &body, r, err);
		error_message(&body, out->error, sizeof(out->error));
		goto out;
	}
	j = json_loadb(body.s, body.len, 0, NULL);
	if (!j || !json_is_true(json_object_get(j, "attributed")) ||
	    str_field(j, "variant", out->variant, sizeof(out->variant)) ||
	    !json_is_number(json_object_get(j, "reward"))) {
		ret = SERVINGAPI_EPROTO;
		snprintf(r->reason, sizeof(r->reason), "a feedback answer that is not serving's");
		if (err)
			buf_addf(err, "serving at '%s' answered %s: is this serving?", addr, r->reason);
		goto out;
	}
	out->attributed = 1;
	out->reward = json_number_value(json_object_get(j, "reward"));
out:
	json_decref(j);
	buf_release(&body);
	return ret;
}
