/* es: the Elasticsearch cluster-health probe, over libcurl and jansson. */
#include "clients/es.h"
#include "util/xalloc.h"

#include <ctype.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>

#include <curl/curl.h>
#include <jansson.h>

struct body {
	struct buf b;
	int overflow;
};

static pthread_once_t curl_once = PTHREAD_ONCE_INIT;

static void curl_init_once(void)
{
	curl_global_init(CURL_GLOBAL_DEFAULT);
}

static size_t on_data(char *data, size_t size, size_t nmemb, void *ctx)
{
	struct body *body = ctx;
	size_t n = size * nmemb;

	if (body->b.len + n > ES_RESP_MAX) {
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

/*
 * GETs `url` within `timeout_ms` into `body` (capped at ES_RESP_MAX) and
 * sets *code. `who` and `base` name the server in messages.
 */
static int http_get(const char *url, const char *who, const char *base,
		    int timeout_ms, long *code, struct body *body,
		    struct buf *err)
{
	char curlerr[CURL_ERROR_SIZE] = "";
	CURL *curl;
	CURLcode cc;
	int ret = 0;

	pthread_once(&curl_once, curl_init_once);
	curl = curl_easy_init();
	if (!curl) {
		if (err)
			buf_addstr(err, "cannot create a curl handle: out of "
				   "memory?");
		return ES_EUNREACH;
	}
	curl_easy_setopt(curl, CURLOPT_URL, url);
	curl_easy_setopt(curl, CURLOPT_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(curl, CURLOPT_TIMEOUT_MS, (long)timeout_ms);
	curl_easy_setopt(curl, CURLOPT_CONNECTTIMEOUT_MS, (long)timeout_ms);
	curl_easy_setopt(curl, CURLOPT_USERAGENT, "pancake");
	curl_easy_setopt(curl, CURLOPT_ERRORBUFFER, curlerr);
	curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, on_data);
	curl_easy_setopt(curl, CURLOPT_WRITEDATA, body);

	cc = curl_easy_perform(curl);
	if (cc == CURLE_OK) {
		curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, code);
		goto out;
	}
	ret = body->overflow ? ES_EPROTO :
	      cc == CURLE_OPERATION_TIMEDOUT ? ES_ETIMEOUT : ES_EUNREACH;
	if (!err)
		;
	else if (body->overflow)
		buf_addf(err, "answer from %s at '%s' exceeds %u bytes: is "
			 "this the right port?", who, base, ES_RESP_MAX);
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
out:
	curl_easy_cleanup(curl);
	return ret;
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
	struct body body = { BUF_INIT, 0 };
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
	struct body body = { BUF_INIT, 0 };
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
