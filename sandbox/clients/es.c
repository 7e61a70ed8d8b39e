/*
 * es: the Elasticsearch cluster-health probe, index creation, a bulk
 * indexer on a curl multi handle, refresh and counts; libcurl and jansson.
 */
#include "clients/es.h"
#include "clients/libcurl.h"
#include "util/xalloc.h"

#include <ctype.h>
#include <inttypes.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>

#include <curl/curl.h>
#include <jansson.h>

struct body {
	struct buf b;
	int overflow;
	size_t max;		/* 0: ES_RESP_MAX */
};

static size_t on_data(char *data, size_t size, size_t nmemb, void *ctx)
{
	struct body *body = ctx;
	size_t n = size * nmemb;

	if (body->b.len + n > (body->max ? body->max : ES_RESP_MAX)) {
		body->overflow = 1;
		return 0;	/* makes curl stop with CURLE_WRITE_ERROR */
	}
	buf_add(&body->b, data, n);
	return n;
}

static int status_rank(const char *s)
{
	if (!strcmp(s, "green"))
		return 2;
	if (!strcmp(s, "yellow"))
		return 1;
	if (!strcmp(s, "red"))
		return 0;
	return -1;
}

/* the health fields of a JSON body; -1 when it is not a health answer */
static int parse_health(json_t *root, struct es_health *h)
{
	json_t *status = json_object_get(root, "status");

	if (!json_is_string(status))
		return -1;
	memset(h, 0, sizeof(*h));
	snprintf(h->status, sizeof(h->status), "%s", json_string_value(status));
	h->nodes = (int)json_integer_value(json_object_get(root,
							  "number_of_nodes"));
	h->active_shards = (int)json_integer_value(json_object_get(root,
							  "active_shards"));
	h->timed_out = json_is_true(json_object_get(root, "timed_out"));
	return 0;
}

/* error.reason (ES 5+), a plain "error" string (older), or the body */
static void add_reason(struct buf *err, json_t *root, const struct buf *body)
{
	json_t *e = json_object_get(root, "error");
	json_t *reason = json_object_get(e, "reason");

	if (json_is_string(reason))
		buf_addstr(err, json_string_value(reason));
	else if (json_is_string(e))
		buf_addstr(err, json_string_value(e));
	else if (body->len)
		buf_addf(err, "%.200s", body->s);
	else
		buf_addstr(err, "empty body");
}

/* the options every request shares */
static void setup_easy(CURL *curl, const char *url, const char *method,
		       const char *data, size_t len, struct curl_slist *hdrs,
		       int timeout_ms, char *curlerr, struct body *body)
{
	curl_easy_setopt(curl, CURLOPT_URL, url);
	curl_easy_setopt(curl, CURLOPT_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(curl, CURLOPT_TIMEOUT_MS, (long)timeout_ms);
	curl_easy_setopt(curl, CURLOPT_CONNECTTIMEOUT_MS, (long)timeout_ms);
	curl_easy_setopt(curl, CURLOPT_USERAGENT, "pancake");
	curl_easy_setopt(curl, CURLOPT_ERRORBUFFER, curlerr);
	curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, on_data);
	curl_easy_setopt(curl, CURLOPT_WRITEDATA, body);
	if (data) {
		curl_easy_setopt(curl, CURLOPT_POSTFIELDS, data);
		curl_easy_setopt(curl, CURLOPT_POSTFIELDSIZE_LARGE,
				 (curl_off_t)len);
	}
	if (hdrs)
		curl_easy_setopt(curl, CURLOPT_HTTPHEADER, hdrs);
	if (!strcmp(method, "HEAD"))
		curl_easy_setopt(curl, CURLOPT_NOBODY, 1L);
	else if (strcmp(method, "GET") && strcmp(method, "POST"))
		curl_easy_setopt(curl, CURLOPT_CUSTOMREQUEST, method);
}

/* a message for a transfer that failed below HTTP; returns the status */
static int transfer_error(CURLcode cc, const char *curlerr,
			  const struct body *body, const char *who,
			  const char *base, int timeout_ms, struct buf *err)
{
	int ret = body->overflow ? ES_EPROTO :
		  cc == CURLE_OPERATION_TIMEDOUT ? ES_ETIMEOUT : ES_EUNREACH;

	if (!err)
		;
	else if (body->overflow)
		buf_addf(err, "answer from %s at '%s' exceeds %zu bytes: is "
			 "this the right port?", who, base,
			 body->max ? body->max : (size_t)ES_RESP_MAX);
	else if (cc == CURLE_OPERATION_TIMEDOUT)
		buf_addf(err, "timed out after %d ms waiting for %s at '%s': "
			 "is it still starting?", timeout_ms, who, base);
	else if (cc == CURLE_GOT_NOTHING)
		buf_addf(err, "%s at '%s' closed the connection: is it still "
			 "starting?", who, base);
	else {
		const char *why = curlerr[0] ? curlerr : curl_easy_strerror(cc);

		buf_addf(err, "cannot reach %s at '%s': %c%s; is the container "
			 "running with its port published?", who, base,
			 tolower((unsigned char)why[0]), why[0] ? why + 1 : "");
	}
	return ret;
}

/*
 * One request: `method` `url` with an optional JSON body, within
 * `timeout_ms`, the answer into `body` (capped) and its status into *code.
 * `who` and `base` name the server in messages.
 */
static int http_req(const char *method, const char *url, const char *data,
		    const char *who, const char *base, int timeout_ms,
		    long *code, struct body *body, struct buf *err)
{
	char curlerr[CURL_ERROR_SIZE] = "";
	struct curl_slist *hdrs = NULL;
	CURL *curl;
	CURLcode cc;
	int ret = 0;

	libcurl_init();
	curl = curl_easy_init();
	if (!curl) {
		if (err)
			buf_addstr(err, "cannot create a curl handle: out of "
				   "memory?");
		return ES_EUNREACH;
	}
	if (data)
		hdrs = curl_slist_append(NULL, "Content-Type: application/json");
	setup_easy(curl, url, method, data, data ? strlen(data) : 0, hdrs,
		   timeout_ms, curlerr, body);
	cc = curl_easy_perform(curl);
	if (cc == CURLE_OK)
		curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, code);
	else
		ret = transfer_error(cc, curlerr, body, who, base, timeout_ms,
				     err);
	curl_slist_free_all(hdrs);
	curl_easy_cleanup(curl);
	return ret;
}

static int http_get(const char *url, const char *who, const char *base,
		    int timeout_ms, long *code, struct body *body,
		    struct buf *err)
{
	return http_req("GET", url, NULL, who, base, timeout_ms, code, body,
			err);
}

/* base_url without trailing slashes, then `path` */
static void make_url(struct buf *url, const char *base_url, const char *path)
{
	size_t blen = strlen(base_url);

	while (blen && base_url[blen - 1] == '/')
		blen--;
	buf_add(url, base_url, blen);
	if (path[0] != '/')
		buf_addch(url, '/');
	buf_addstr(url, path);
}

int es_health(const char *base_url, const char *wait_status, int timeout_ms,
	      struct es_health *h, struct buf *err)
{
	struct body body = { BUF_INIT, 0, 0 };
	struct buf url = BUF_INIT;
	struct es_health local;
	json_t *root = NULL;
	json_error_t jerr;
	long code = 0;
	int ret;

	if (!h)
		h = &local;
	memset(h, 0, sizeof(*h));
	if (timeout_ms < 1)
		timeout_ms = 1;
	if (wait_status && status_rank(wait_status) < 0) {
		if (err)
			buf_addf(err, "unknown elasticsearch health status "
				 "'%s': use green, yellow or red", wait_status);
		return ES_EINVAL;
	}
	make_url(&url, base_url, "/_cluster/health");
	if (wait_status)
		buf_addf(&url, "?wait_for_status=%s&timeout=%dms",
			 wait_status, timeout_ms * 3 / 4 > 0 ?
			 timeout_ms * 3 / 4 : 1);
	ret = http_get(url.s, "elasticsearch", base_url, timeout_ms, &code,
		       &body, err);
	if (ret)
		goto out;
	root = json_loadb(body.b.s, body.b.len, 0, &jerr);

	/* a health wait that ran out is 408 with a health body */
	if ((code / 100 == 2 || code == 408) && root &&
	    !parse_health(root, h)) {
		if (!wait_status ||
		    status_rank(h->status) >= status_rank(wait_status)) {
			ret = 0;
			goto out;
		}
		if (err)
			buf_addf(err, "elasticsearch at '%s' is '%s' after "
				 "waiting %d ms for '%s': are shards still "
				 "being allocated?", base_url, h->status,
				 timeout_ms * 3 / 4, wait_status);
		ret = ES_ENOTREADY;
		goto out;
	}
	if (code / 100 != 2) {
		if (err) {
			buf_addf(err, "elasticsearch at '%s' answered HTTP "
				 "%ld: ", base_url, code);
			add_reason(err, root, &body.b);
		}
		ret = ES_EHTTP;
		goto out;
	}
	if (err) {
		if (!root)
			buf_addf(err, "cannot parse the health answer from "
				 "elasticsearch at '%s': %s; is this port "
				 "elasticsearch?", base_url, jerr.text);
		else
			buf_addf(err, "health answer from elasticsearch at "
				 "'%s' has no 'status': is this port "
				 "elasticsearch?", base_url);
	}
	ret = ES_EPROTO;
out:
	json_decref(root);
	buf_release(&body.b);
	buf_release(&url);
	return ret;
}

int es_http_ok(const char *base_url, const char *path, int timeout_ms,
	       struct buf *err)
{
	struct body body = { BUF_INIT, 0, 0 };
	struct buf url = BUF_INIT;
	long code = 0;
	int ret;

	if (timeout_ms < 1)
		timeout_ms = 1;
	make_url(&url, base_url, path ? path : "/");
	ret = http_get(url.s, "the service", base_url, timeout_ms, &code,
		       &body, err);
	if (!ret && code / 100 != 2) {
		if (err)
			buf_addf(err, "GET '%s' answered HTTP %ld: is the "
				 "service still starting?", url.s, code);
		ret = ES_EHTTP;
	}
	buf_release(&body.b);
	buf_release(&url);
	return ret;
}

/*
 * `method` base_url/path with an optional JSON body; a 2xx answer is 0
 * with the parsed body in *root (new, json_decref; NULL when empty or not
 * JSON), anything else an error naming the URL. `ok404`: a 404 is 0 too.
 */
static int es_call(const char *method, const char *base_url, const char *path,
		   const char *data, int timeout_ms, int ok404, long *codep,
		   json_t **root, struct buf *err)
{
	struct body body = { BUF_INIT, 0, 0 };
	struct buf url = BUF_INIT;
	json_t *j = NULL;
	long code = 0;
	int ret;

	if (root)
		*root = NULL;
	if (timeout_ms < 1)
		timeout_ms = 1;
	make_url(&url, base_url, path);
	ret = http_req(method, url.s, data, "elasticsearch", base_url,
		       timeout_ms, &code, &body, err);
	if (ret)
		goto out;
	if (codep)
		*codep = code;
	if (body.b.len)
		j = json_loadb(body.b.s, body.b.len, 0, NULL);
	if (code / 100 != 2 && !(ok404 && code == 404)) {
		if (err) {
			buf_addf(err, "%s '%s' answered HTTP %ld: ", method,
				 url.s, code);
			add_reason(err, j, &body.b);
		}
		ret = ES_EHTTP;
		goto out;
	}
	if (root) {
		*root = j;
		j = NULL;
	}
out:
	json_decref(j);
	buf_release(&body.b);
	buf_release(&url);
	return ret;
}

int es_index_ensure(const char *base_url, const char *index,
		    const char *body_json, int timeout_ms, int *created,
		    struct buf *err)
{
	struct buf path = BUF_INIT;
	struct buf e = BUF_INIT;
	long code = 0;
	int ret;

	if (created)
		*created = 0;
	buf_addf(&path, "/%s", index);
	ret = es_call("HEAD", base_url, path.s, NULL, timeout_ms, 1, &code,
		      NULL, err);
	if (ret || code != 404)
		goto out;
	ret = es_call("PUT", base_url, path.s, body_json, timeout_ms, 0, &code,
		      NULL, &e);
	/* created by someone else since the HEAD: it exists, that is enough */
	if (ret == ES_EHTTP && code == 400 &&
	    strstr(e.s, "already exists")) {
		ret = 0;
		goto out;
	}
	if (ret) {
		if (err)
			buf_addf(err, "cannot create index '%s': %s", index,
				 e.s);
		goto out;
	}
	if (created)
		*created = 1;
out:
	buf_release(&e);
	buf_release(&path);
	return ret;
}

int es_index_meta(const char *base_url, const char *index, const char *key,
		  int timeout_ms, struct buf *out, struct buf *err)
{
	struct buf path = BUF_INIT;
	json_t *root = NULL, *v;
	long code = 0;
	int ret;

	buf_addf(&path, "/%s/_mapping", index);
	ret = es_call("GET", base_url, path.s, NULL, timeout_ms, 1, &code, &root, err);
	if (ret)
		goto out;
	ret = 1;
	if (code == 404)
		goto out;
	/* {"<index>":{"mappings":{"_meta":{key: "..."}, ...}}} */
	v = json_object_get(json_object_get(json_object_get(json_object_get(root, index),
							    "mappings"), "_meta"), key);
	if (json_is_string(v)) {
		buf_addstr(out, json_string_value(v));
		ret = 0;
	}
out:
	json_decref(root);
	buf_release(&path);
	return ret;
}

int es_index_delete(const char *base_url, const char *index, int timeout_ms,
		    struct buf *err)
{
	struct buf path = BUF_INIT;
	int ret;

	buf_addf(&path, "/%s", index);
	ret = es_call("DELETE", base_url, path.s, NULL, timeout_ms, 1, NULL,
		      NULL, err);
	buf_release(&path);
	return ret;
}

int es_refresh(const char *base_url, const char *index, int timeout_ms,
	       struct buf *err)
{
	struct buf path = BUF_INIT;
	int ret;

	buf_addf(&path, "/%s/_refresh", index);
	ret = es_call("POST", base_url, path.s, NULL, timeout_ms, 0, NULL,
		      NULL, err);
	buf_release(&path);
	return ret;
}

int es_count(const char *base_url, const char *index, const char *query_json,
	     int timeout_ms, int64_t *n, struct buf *err)
{
	struct buf path = BUF_INIT;
	json_t *root = NULL, *count;
	int ret;

	buf_addf(&path, "/%s/_count", index);
	ret = es_call(query_json ? "POST" : "GET", base_url, path.s,
		      query_json, timeout_ms, 0, NULL, &root, err);
	if (ret)
		goto out;
	count = json_object_get(root, "count");
	if (!json_is_integer(count)) {
		if (err)
			buf_addf(err, "answer of '%s' has no count: is this "
				 "elasticsearch?", path.s);
		ret = ES_EPROTO;
		goto out;
	}
	*n = (int64_t)json_integer_value(count);
out:
	json_decref(root);
	buf_release(&path);
	return ret;
}

int es_sum(const char *base_url, const char *index, const char *field,
	   int timeout_ms, double *sum, struct buf *err)
{
	struct buf path = BUF_INIT, q = BUF_INIT;
	json_t *root = NULL, *v;
	int ret;

	buf_addf(&path, "/%s/_search", index);
	buf_addstr(&q, "{\"size\":0,\"track_total_hits\":true,\"aggs\":"
		   "{\"s\":{\"sum\":{\"field\":");
	es_json_str(&q, field);
	buf_addstr(&q, "}}}}");
	ret = es_call("POST", base_url, path.s, q.s, timeout_ms, 0, NULL,
		      &root, err);
	if (ret)
		goto out;
	v = json_object_get(json_object_get(json_object_get(root,
				"aggregations"), "s"), "value");
	if (!json_is_number(v)) {
		if (err)
			buf_addf(err, "answer of '%s' has no sum of '%s': is "
				 "the field mapped as a number?", path.s,
				 field);
		ret = ES_EPROTO;
		goto out;
	}
	*sum = json_number_value(v);
out:
	json_decref(root);
	buf_release(&path);
	buf_release(&q);
	return ret;
}

void es_json_str(struct buf *b, const char *s)
{
	static const char hex[] = "0123456789abcdef";

	buf_addch(b, '"');
	for (; *s; s++) {
		unsigned char ch = (unsigned char)*s;

		if (ch == '"' || ch == '\\') {
			buf_addch(b, '\\');
			buf_addch(b, ch);
		} else if (ch < 0x20) {
			char e[6] = { '\\', 'u', '0', '0', hex[ch >> 4],
				      hex[ch & 15] };

			buf_add(b, e, sizeof(e));
		} else {
			buf_addch(b, ch);
		}
	}
	buf_addch(b, '"');
}

/* the bulk indexer */

struct bulk_slot {
	CURL *curl;
	struct buf req;
	struct body resp;
	size_t nitems;
	int busy;
	char curlerr[CURL_ERROR_SIZE];
};

struct es_bulk {
	CURLM *multi;
	char *base, *url;
	struct curl_slist *hdrs;
	int inflight, timeout_ms, running;
	struct bulk_slot *slots;
	uint64_t acked;
	int failed;
};

struct es_bulk *es_bulk_new(const char *base_url, const char *index,
			    int inflight, int timeout_ms)
{
	struct es_bulk *b = xcalloc(1, sizeof(*b));
	struct buf url = BUF_INIT;

	libcurl_init();
	b->inflight = inflight > 0 ? inflight : ES_BULK_INFLIGHT;
	b->timeout_ms = timeout_ms > 0 ? timeout_ms : 1;
	b->base = xstrdup(base_url);
	/* only what a check needs: small answers when all went well */
	buf_addf(&url, "/%s/_bulk?filter_path=errors,items.*.error,"
		 "items.*._id,items.*.status", index);
	{
		struct buf full = BUF_INIT;

		make_url(&full, base_url, url.s);
		b->url = buf_detach(&full, NULL);
	}
	buf_release(&url);
	b->hdrs = curl_slist_append(NULL, "Content-Type: application/x-ndjson");
	/* no 100-continue round trip before each body */
	b->hdrs = curl_slist_append(b->hdrs, "Expect:");
	b->multi = curl_multi_init();
	if (!b->multi)
		die("cannot create a curl multi handle: out of memory?");
	curl_multi_setopt(b->multi, CURLMOPT_MAX_HOST_CONNECTIONS,
			  (long)b->inflight);
	b->slots = xcalloc((size_t)b->inflight, sizeof(*b->slots));
	for (int i = 0; i < b->inflight; i++) {
		struct bulk_slot *s = &b->slots[i];

		buf_init(&s->req, 0);
		buf_init(&s->resp.b, 0);
		s->resp.max = ES_BULK_RESP_MAX;
		s->curl = curl_easy_init();
		if (!s->curl)
			die("cannot create a curl handle: out of memory?");
	}
	return b;
}

/* the first item of a bulk answer that has an error */
static void first_item_error(json_t *root, size_t *nfailed, struct buf *err,
			     const char *url)
{
	json_t *items = json_object_get(root, "items"), *it;
	size_t i;
	int reported = 0;

	*nfailed = 0;
	json_array_foreach(items, i, it) {
		const char *op;
		json_t *v, *e;

		json_object_foreach(it, op, v) {
			e = json_object_get(v, "error");
			if (!e)
				continue;
			(*nfailed)++;
			if (reported || !err)
				continue;
			reported = 1;
			buf_addf(err, "bulk request to '%s': item %zu (%s "
				 "_id '%s') failed: %s: %s", url, i, op,
				 json_string_value(json_object_get(v, "_id")) ?
				 json_string_value(json_object_get(v, "_id")) :
				 "?", json_string_value(json_object_get(e,
				 "type")) ? json_string_value(json_object_get(e,
				 "type")) : "error", json_string_value(
				 json_object_get(e, "reason")) ?
				 json_string_value(json_object_get(e, "reason"))
				 : "no reason given");
		}
	}
}

/* checks one finished request */
static int bulk_done(struct es_bulk *b, struct bulk_slot *s, CURLcode cc,
		     struct buf *err)
{
	long code = 0;
	json_t *root = NULL;
	size_t nfailed = 0;
	int ret = 0;

	if (cc != CURLE_OK) {
		ret = transfer_error(cc, s->curlerr, &s->resp, "elasticsearch",
				     b->base, b->timeout_ms, err);
		goto out;
	}
	curl_easy_getinfo(s->curl, CURLINFO_RESPONSE_CODE, &code);
	/* the usual answer starts {"errors":false: no need to parse it */
	if (code == 200 && s->resp.b.len >= 16 &&
	    memmem(s->resp.b.s, s->resp.b.len < 64 ? s->resp.b.len : 64,
		   "\"errors\":false", 15)) {
		b->acked += s->nitems;
		goto out;
	}
	root = json_loadb(s->resp.b.s, s->resp.b.len, 0, NULL);
	if (code / 100 != 2) {
		if (err) {
			buf_addf(err, "bulk request to '%s' answered HTTP "
				 "%ld: ", b->url, code);
			add_reason(err, root, &s->resp.b);
		}
		ret = ES_EHTTP;
		goto out;
	}
	if (!root || !json_is_boolean(json_object_get(root, "errors"))) {
		if (err)
			buf_addf(err, "cannot read the bulk answer from '%s': "
				 "%.120s", b->url, s->resp.b.s);
		ret = ES_EPROTO;
		goto out;
	}
	if (json_is_true(json_object_get(root, "errors"))) {
		first_item_error(root, &nfailed, err, b->url);
		if (err)
			buf_addf(err, " (%zu of %zu items in this request "
				 "failed)", nfailed, s->nitems);
		b->acked += s->nitems - (nfailed < s->nitems ? nfailed :
					 s->nitems);
		ret = ES_EITEM;
		goto out;
	}
	b->acked += s->nitems;
out:
	json_decref(root);
	curl_multi_remove_handle(b->multi, s->curl);
	s->busy = 0;
	b->running--;
	buf_reset(&s->req);
	buf_reset(&s->resp.b);
	s->resp.overflow = 0;
	if (ret)
		b->failed = 1;
	return ret;
}

/* drives the transfers until at most `max_running` are left */
static int bulk_wait(struct es_bulk *b, int max_running, struct buf *err)
{
	int ret = 0;

	while (b->running > max_running) {
		int still, left;
		CURLMsg *msg;
		CURLMcode mc = curl_multi_perform(b->multi, &still);

		if (mc != CURLM_OK) {
			if (err)
				buf_addf(err, "curl multi error talking to "
					 "'%s': %s", b->base,
					 curl_multi_strerror(mc));
			b->failed = 1;
			return ES_EUNREACH;
		}
		while ((msg = curl_multi_info_read(b->multi, &left))) {
			if (msg->msg != CURLMSG_DONE)
				continue;
			for (int i = 0; i < b->inflight; i++) {
				struct bulk_slot *s = &b->slots[i];
				int r;

				if (!s->busy || s->curl != msg->easy_handle)
					continue;
				/* keep the first error, finish the rest */
				r = bulk_done(b, s, msg->data.result,
					      ret ? NULL : err);
				if (!ret)
					ret = r;
				break;
			}
		}
		if (ret)
			return ret;
		if (b->running > max_running)
			curl_multi_poll(b->multi, NULL, 0, 1000, NULL);
	}
	return ret;
}

int es_bulk_send(struct es_bulk *b, struct buf *body, size_t nitems,
		 struct buf *err)
{
	struct bulk_slot *s = NULL;
	int ret, still;

	if (b->failed) {
		if (err)
			buf_addf(err, "an earlier bulk request to '%s' failed",
				 b->base);
		return ES_EPROTO;
	}
	if ((ret = bulk_wait(b, b->inflight - 1, err)))
		return ret;
	for (int i = 0; i < b->inflight && !s; i++)
		if (!b->slots[i].busy)
			s = &b->slots[i];
	if (!s)
		BUG("no free bulk slot with %d running", b->running);
	buf_release(&s->req);
	s->req = *body;
	buf_init(body, 0);
	s->nitems = nitems;
	s->curlerr[0] = '\0';
	curl_easy_reset(s->curl);
	setup_easy(s->curl, b->url, "POST", s->req.s, s->req.len, b->hdrs,
		   b->timeout_ms, s->curlerr, &s->resp);
	curl_multi_add_handle(b->multi, s->curl);
	s->busy = 1;
	b->running++;
	curl_multi_perform(b->multi, &still);
	return 0;
}

int es_bulk_finish(struct es_bulk *b, struct buf *err)
{
	return bulk_wait(b, 0, err);
}

uint64_t es_bulk_acked(const struct es_bulk *b)
{
	return b->acked;
}

void es_bulk_free(struct es_bulk *b)
{
	if (!b)
		return;
	for (int i = 0; i < b->inflight; i++) {
		struct bulk_slot *s = &b->slots[i];

		if (s->busy)
			curl_multi_remove_handle(b->multi, s->curl);
		curl_easy_cleanup(s->curl);
		buf_release(&s->req);
		buf_release(&s->resp.b);
	}
	curl_multi_cleanup(b->multi);
	curl_slist_free_all(b->hdrs);
	free(b->slots);
	free(b->base);
	free(b->url);
	free(b);
}
