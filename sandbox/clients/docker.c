/*
 * docker: a Docker Engine API client over libcurl (unix socket or TCP).
 * Each call uses its own easy handle, so calls may run on several threads.
 */
#include "clients/docker.h"
#include "clients/libcurl.h"
#include "util/clock.h"
#include "util/xalloc.h"

#include <curl/curl.h>
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <time.h>
#include <unistd.h>

/* how often a transfer looks at its cancel flag */
#define CANCEL_POLL_MS 250

/* The newest API version whose calls we use as documented. */
#define CLIENT_API_VERSION "1.45"
#define CLIENT_API_MIN "1.41"

struct docker {
	char *endpoint;    /* as given, for messages */
	char *socket;      /* unix socket path, or NULL */
	char *base;        /* "http://docker" or "http://host:port" */
	char version[16];
	int wake[2];       /* a pipe: readable once docker_abort was called */
	volatile int aborted;
	/* how long the engine keeps calls waiting (docker_silence_s), streams aside */
	pthread_mutex_t lock;
	int asking;             /* calls under way */
	double silent_since;    /* since when it has not said a word to them, 0: none */
};

/* ---- the request engine ---- */

typedef int (*sink_fn)(const char *data, size_t len, void *ctx, struct buf *err);

struct req {
	const char *method;
	const char *path;          /* after /vX.Y, with query */
	int unversioned;
	const char *ctype;
	const void *body;
	size_t body_len;
	FILE *upload;              /* streamed request body */
	long timeout_ms;           /* 0: a stream, no overall timeout */
	sink_fn sink;              /* 2xx body goes here when set */
	void *sink_ctx;
	volatile int *cancel;
	struct buf *headers;       /* response headers, when wanted */
};

struct xfer {
	struct docker *d;
	struct req *r;
	CURL *curl;
	int heard;                 /* the engine has answered something */
	struct buf body;           /* non-2xx or non-streamed body */
	struct buf sink_err;
	int sink_failed;
	int too_big;
	long status;
};

static size_t on_write(char *data, size_t size, size_t nmemb, void *p)
{
	struct xfer *x = p;
	size_t len = size * nmemb;

	if (!x->status)
		curl_easy_getinfo(x->curl, CURLINFO_RESPONSE_CODE, &x->status);
	if (x->r->sink && x->status >= 200 && x->status < 300) {
		if (x->r->sink(data, len, x->r->sink_ctx, &x->sink_err)) {
			x->sink_failed = 1;
			return 0;
		}
		return len;
	}
	if (x->body.len + len > DOCKER_RESP_MAX) {
		x->too_big = 1;
		return 0;
	}
	buf_add(&x->body, data, len);
	return len;
}

/* the engine said something: it is not stuck (calls still waiting count from now) */
static void heard(struct xfer *x)
{
	if (x->heard || !x->r->timeout_ms)
		return;
	x->heard = 1;
	pthread_mutex_lock(&x->d->lock);
	x->d->silent_since = clock_s();
	pthread_mutex_unlock(&x->d->lock);
}

static size_t on_header(char *data, size_t size, size_t nmemb, void *p)
{
	struct xfer *x = p;

	heard(x);
	if (x->r->headers)
		buf_add(x->r->headers, data, size * nmemb);
	return size * nmemb;
}

static size_t on_read(char *out, size_t size, size_t nmemb, void *p)
{
	struct xfer *x = p;
	size_t n = fread(out, size, nmemb, x->r->upload);

	if (!n && ferror(x->r->upload))
		return CURL_READFUNC_ABORT;
	return n * size;
}

static void message_from_body(const struct buf *body, struct buf *out)
{
	json_t *o = json_loadb(body->s, body->len, 0, NULL);
	const char *m = json_string_value(json_object_get(o, "message"));

	if (m) {
		buf_addstr(out, m);
	} else {
		struct buf t = BUF_INIT;
		buf_add(&t, body->s, body->len > 300 ? 300 : body->len);
		buf_rtrim(&t);
		buf_addstr(out, t.len ? t.s : "(empty response)");
		buf_release(&t);
	}
	json_decref(o);
}

/* "GET /containers/json": the request as a person would name it, no query */
static void what(struct buf *out, const struct req *r)
{
	const char *q = strchr(r->path, '?');
	int n = q ? (int)(q - r->path) : (int)strlen(r->path), len = 0;
	char *plain = curl_easy_unescape(NULL, r->path, n, &len);

	buf_addf(out, "%s %.*s", r->method, plain ? len : n, plain ? plain : r->path);
	curl_free(plain);
}

/*
 * Why a unix socket refused us, in words: curl only says "Failed to
 * connect to docker port 80", naming the placeholder host of its URL.
 */
static void socket_reason(const char *path, struct buf *out)
{
	struct stat st;

	if (stat(path, &st))
		buf_addf(out, "there is no socket at '%s' (%s)", path, strerror(errno));
	else if (!S_ISSOCK(st.st_mode))
		buf_addf(out, "'%s' is not a socket", path);
	else if (access(path, R_OK | W_OK))
		buf_addf(out, "permission denied on '%s' (run as root, or join the group that "
			 "owns it: 'sudo usermod -aG docker $USER', then log in again)", path);
	else
		buf_addf(out, "nothing accepts connections on '%s' (a socket left by an engine "
			 "that stopped?)", path);
}

static int unreachable(struct docker *d, CURLcode cc, struct buf *err)
{
	struct buf why = BUF_INIT;

	if (d->socket) {
		socket_reason(d->socket, &why);
		buf_addf(err, "cannot reach docker at '%s': %s; is dockerd running? "
			 "start it with 'sudo systemctl start docker' or 'sudo dockerd &', "
			 "or point DOCKER_HOST at a running engine",
			 d->socket, why.s);
	} else {
		buf_addf(err, "cannot reach docker at '%s': %s; is an engine listening there? "
			 "check DOCKER_HOST", d->endpoint,
			 cc == CURLE_COULDNT_RESOLVE_HOST ? "no such host" :
			 cc == CURLE_OPERATION_TIMEDOUT ? "no answer to the connection" :
			 "the connection was refused");
	}
	buf_release(&why);
	return DOCKER_EUNREACH;
}

/*
 * Runs a transfer in a multi handle of its own, so that it can stop at once
 * whatever the engine does: docker_abort makes the wake pipe readable, and
 * the request's cancel flag is looked at every CANCEL_POLL_MS. Sets
 * *canceled when it stopped for either.
 */
static CURLcode transfer(struct docker *d, struct xfer *x, int *canceled, char *errbuf)
{
	CURLM *m = curl_multi_init();
	CURLcode cc = CURLE_OK;
	CURLMsg *msg;
	int running = 1, left;

	if (!m)
		die("cannot initialise libcurl");
	curl_multi_add_handle(m, x->curl);
	for (;;) {
		struct curl_waitfd wake = { d->wake[0], CURL_WAIT_POLLIN, 0 };
		CURLMcode mc = curl_multi_perform(m, &running);

		if (mc == CURLM_OK && running && !d->aborted && !(x->r->cancel && *x->r->cancel))
			mc = curl_multi_poll(m, &wake, 1, CANCEL_POLL_MS, NULL);
		if (mc != CURLM_OK) {
			snprintf(errbuf, CURL_ERROR_SIZE, "%s", curl_multi_strerror(mc));
			cc = CURLE_FAILED_INIT;
			break;
		}
		if (!running)
			break;
		if (d->aborted || (x->r->cancel && *x->r->cancel)) {
			*canceled = 1;
			break;
		}
	}
	while ((msg = curl_multi_info_read(m, &left)))
		if (msg->msg == CURLMSG_DONE)
			cc = msg->data.result;
	curl_multi_remove_handle(m, x->curl);
	curl_multi_cleanup(m);
	return cc;
}

/*
 * Performs one request. On 2xx, a streamed body went to r->sink and any
 * other body is left in `resp` (may be NULL). Non-2xx answers become
 * messages from {"message": ...} with a code for 404/409/304.
 */
static int perform(struct docker *d, struct req *r, struct buf *resp, struct buf *err)
{
	struct xfer x;
	struct curl_slist *hdrs = NULL;
	char errbuf[CURL_ERROR_SIZE] = "";
	struct buf url = BUF_INIT;
	CURLcode cc;
	int ret = DOCKER_EFAIL, canceled = 0;

	if (d->aborted) {
		buf_addstr(err, "canceled");
		return DOCKER_ECANCELED;
	}
	libcurl_init();
	memset(&x, 0, sizeof(x));
	x.d = d;
	x.r = r;
	buf_init(&x.body, 0);
	buf_init(&x.sink_err, 0);
	x.curl = curl_easy_init();
	if (!x.curl)
		die("cannot initialise libcurl");
	if (r->unversioned)
		buf_addf(&url, "%s%s", d->base, r->path);
	else
		buf_addf(&url, "%s/v%s%s", d->base, d->version, r->path);
	curl_easy_setopt(x.curl, CURLOPT_URL, url.s);
	if (d->socket)
		curl_easy_setopt(x.curl, CURLOPT_UNIX_SOCKET_PATH, d->socket);
	curl_easy_setopt(x.curl, CURLOPT_CUSTOMREQUEST, r->method);
	curl_easy_setopt(x.curl, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(x.curl, CURLOPT_ERRORBUFFER, errbuf);
	curl_easy_setopt(x.curl, CURLOPT_CONNECTTIMEOUT_MS, (long)DOCKER_CONNECT_TIMEOUT_MS);
	if (r->timeout_ms)
		curl_easy_setopt(x.curl, CURLOPT_TIMEOUT_MS, r->timeout_ms);
	curl_easy_setopt(x.curl, CURLOPT_WRITEFUNCTION, on_write);
	curl_easy_setopt(x.curl, CURLOPT_WRITEDATA, &x);
	curl_easy_setopt(x.curl, CURLOPT_HEADERFUNCTION, on_header);
	curl_easy_setopt(x.curl, CURLOPT_HEADERDATA, &x);
	if (r->ctype) {
		char *h = xstrfmt("Content-Type: %s", r->ctype);
		hdrs = curl_slist_append(hdrs, h);
		free(h);
	}
	if (r->upload) {
		curl_easy_setopt(x.curl, CURLOPT_UPLOAD, 1L);
		curl_easy_setopt(x.curl, CURLOPT_READFUNCTION, on_read);
		curl_easy_setopt(x.curl, CURLOPT_READDATA, &x);
		hdrs = curl_slist_append(hdrs, "Transfer-Encoding: chunked");
		hdrs = curl_slist_append(hdrs, "Expect:");
		/* CURLOPT_UPLOAD sets PUT; the custom request keeps POST */
	} else if (r->body || !strcmp(r->method, "POST")) {
		curl_easy_setopt(x.curl, CURLOPT_POSTFIELDS, r->body ? (const char *)r->body : "");
		curl_easy_setopt(x.curl, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)r->body_len);
	}
	curl_easy_setopt(x.curl, CURLOPT_HTTPHEADER, hdrs);

	if (r->timeout_ms) {
		pthread_mutex_lock(&d->lock);
		if (!d->asking++ && !d->silent_since)
			d->silent_since = clock_s();
		pthread_mutex_unlock(&d->lock);
	}
	cc = transfer(d, &x, &canceled, errbuf);
	curl_easy_getinfo(x.curl, CURLINFO_RESPONSE_CODE, &x.status);
	if (r->timeout_ms) {
		pthread_mutex_lock(&d->lock);
		/* a call it let time out keeps the count going for the next ones */
		if (!--d->asking && !(cc == CURLE_OPERATION_TIMEDOUT && !x.status))
			d->silent_since = 0;
		pthread_mutex_unlock(&d->lock);
	}
	if (canceled) {
		ret = DOCKER_ECANCELED;
		buf_addstr(err, "canceled");
		goto out;
	}
	if (cc != CURLE_OK) {
		struct buf req = BUF_INIT;
		curl_off_t connected = 0;

		what(&req, r);
		/* past the connection and ready to send: the engine took it */
		curl_easy_getinfo(x.curl, CURLINFO_PRETRANSFER_TIME_T, &connected);
		if (x.sink_failed) {
			buf_addstr(err, x.sink_err.len ? x.sink_err.s : "stream consumer failed");
		} else if (x.too_big) {
			buf_addf(err, "docker's answer to %s is over %u bytes", req.s, DOCKER_RESP_MAX);
		} else if (cc == CURLE_COULDNT_CONNECT || cc == CURLE_COULDNT_RESOLVE_HOST ||
			   (cc == CURLE_OPERATION_TIMEDOUT && !x.status && !connected)) {
			ret = unreachable(d, cc, err);
		} else if (cc == CURLE_OPERATION_TIMEDOUT && !x.status) {
			/* it took the connection and then said nothing */
			buf_addf(err, "docker at '%s' took the connection but did not answer %s within "
				 "%ld s: the engine is stalled; restart it ('sudo systemctl restart "
				 "docker', or stop dockerd and start it again) and look at its log",
				 d->endpoint, req.s, r->timeout_ms / 1000);
			ret = DOCKER_ETIMEDOUT;
		} else if (cc == CURLE_OPERATION_TIMEDOUT) {
			buf_addf(err, "docker did not finish answering %s within %ld s: the engine "
				 "is overloaded or stalled; try again, or restart it", req.s,
				 r->timeout_ms / 1000);
			ret = DOCKER_ETIMEDOUT;
		} else if (cc == CURLE_UNSUPPORTED_PROTOCOL || cc == CURLE_WEIRD_SERVER_REPLY) {
			buf_addf(err, "what answers at '%s' is not a Docker engine (its answer to %s "
				 "is not HTTP); point DOCKER_HOST at the engine's socket", d->endpoint,
				 req.s);
			ret = DOCKER_EUNREACH;
		} else if (cc == CURLE_GOT_NOTHING || cc == CURLE_RECV_ERROR ||
			   cc == CURLE_SEND_ERROR || cc == CURLE_PARTIAL_FILE) {
			buf_addf(err, "docker at '%s' closed the connection during %s; is it a Docker "
				 "engine, and is it still running? its log says why", d->endpoint, req.s);
		} else {
			buf_addf(err, "docker request %s failed: %s", req.s, curl_easy_strerror(cc));
		}
		buf_release(&req);
		goto out;
	}
	if (x.status >= 200 && x.status < 300) {
		if (resp)
			buf_add(resp, x.body.s, x.body.len);
		ret = DOCKER_OK;
		goto out;
	}
	if (x.status == 304) {
		ret = DOCKER_ENOTMODIFIED;
		goto out;
	}
	message_from_body(&x.body, err);
	ret = x.status == 404 ? DOCKER_ENOTFOUND :
	      x.status == 409 ? DOCKER_ECONFLICT : DOCKER_EFAIL;
	if (ret == DOCKER_EFAIL) {
		struct buf req = BUF_INIT;

		what(&req, r);
		buf_addf(err, " (HTTP %ld from %s)", x.status, req.s);
		if (x.status >= 500)
			buf_addstr(err, "; the engine itself failed: its log says why "
				   "('journalctl -u docker', or dockerd's output); restarting it "
				   "often helps");
		buf_release(&req);
	}
out:
	curl_slist_free_all(hdrs);
	curl_easy_cleanup(x.curl);
	buf_release(&x.body);
	buf_release(&x.sink_err);
	buf_release(&url);
	return ret;
}

/* GET/POST/DELETE with a JSON (or empty) answer parsed into *out (may be NULL) */
static int call_json(struct docker *d, const char *method, const char *path,
		     json_t *body, json_t **out, struct buf *err)
{
	struct req r;
	struct buf resp = BUF_INIT;
	char *text = body ? json_dumps(body, JSON_COMPACT) : NULL;
	int ret;

	memset(&r, 0, sizeof(r));
	r.method = method;
	r.path = path;
	r.timeout_ms = DOCKER_TIMEOUT_MS;
	if (text) {
		r.ctype = "application/json";
		r.body = text;
		r.body_len = strlen(text);
	}
	ret = perform(d, &r, &resp, err);
	if (!ret && out) {
		json_error_t je;
		*out = json_loadb(resp.s, resp.len, 0, &je);
		if (!*out) {
			struct buf req = BUF_INIT;

			what(&req, &r);
			buf_addf(err, "docker sent malformed JSON for %s: %s", req.s, je.text);
			buf_release(&req);
			ret = DOCKER_EFAIL;
		}
	}
	free(text);
	buf_release(&resp);
	return ret;
}

static char *esc(const char *s)
{
	char *e = curl_easy_escape(NULL, s, 0);
	char *r;

	if (!e)
		die("out of memory");
	r = xstrdup(e);
	curl_free(e);
	return r;
}

static char *label_filter(const char *key, const struct strvec *labels, const char *one)
{
	json_t *f = json_object(), *arr = json_array();
	char *dump, *e;
	size_t i;

	if (labels)
		for (i = 0; i < labels->n; i++)
			json_array_append_new(arr, json_string(labels->v[i]));
	if (one)
		json_array_append_new(arr, json_string(one));
	json_object_set_new(f, key, arr);
	dump = json_dumps(f, JSON_COMPACT);
	e = esc(dump);
	free(dump);
	json_decref(f);
	return e;
}

static void copy_str(char *dst, size_t size, json_t *v)
{
	const char *s = json_string_value(v);

	snprintf(dst, size, "%s", s ? s : "");
}

static char *dup_str(json_t *v)
{
	const char *s = json_string_value(v);
	return xstrdup(s ? s : "");
}

static void labels_from(struct kvlist *kv, json_t *obj)
{
	const char *k;
	json_t *v;

	json_object_foreach(obj, k, v)
		if (json_is_string(v))
			kvlist_set(kv, k, json_string_value(v));
}

static json_t *labels_to(const struct kvlist *kv)
{
	json_t *o = json_object();
	size_t i;

	for (i = 0; kv && i < kv->n; i++)
		json_object_set_new(o, kv->keys[i], json_string(kv->vals[i]));
	return o;
}

/* RFC 3339 with nanoseconds -> unix seconds; 0 for Docker's zero time */
static int64_t parse_time(const char *s)
{
	struct tm tm;

	if (!s || !*s || !strncmp(s, "0001-", 5))
		return 0;
	memset(&tm, 0, sizeof(tm));
	if (!strptime(s, "%Y-%m-%dT%H:%M:%S", &tm))
		return 0;
	return (int64_t)timegm(&tm);
}

static int vercmp(const char *a, const char *b)
{
	int amaj = 0, amin = 0, bmaj = 0, bmin = 0;

	sscanf(a, "%d.%d", &amaj, &amin);
	sscanf(b, "%d.%d", &bmaj, &bmin);
	return amaj != bmaj ? amaj - bmaj : amin - bmin;
}

/* ---- connection ---- */

struct docker *docker_new(const char *host, struct buf *err)
{
	struct docker *d = xcalloc(1, sizeof(*d));

	d->wake[0] = d->wake[1] = -1;
	pthread_mutex_init(&d->lock, NULL);
	if (!host || !*host)
		host = getenv("DOCKER_HOST");
	if (!host || !*host)
		host = "unix://" DOCKER_DEFAULT_SOCKET;
	d->endpoint = xstrdup(host);
	snprintf(d->version, sizeof(d->version), "%s", CLIENT_API_MIN);
	if (!strncmp(host, "unix://", 7)) {
		d->socket = xstrdup(host + 7);
		d->base = xstrdup("http://docker");
	} else if (!strncmp(host, "tcp://", 6)) {
		d->base = xstrfmt("http://%s", host + 6);
		if (d->base[strlen(d->base) - 1] == '/')
			d->base[strlen(d->base) - 1] = '\0';
	} else if (host[0] == '/') {
		d->socket = xstrdup(host);
		d->base = xstrdup("http://docker");
	} else {
		buf_addf(err, "unsupported DOCKER_HOST '%s': use unix:///path/to/docker.sock "
			 "or tcp://host:port", host);
		docker_free(d);
		return NULL;
	}
	if (pipe2(d->wake, O_CLOEXEC | O_NONBLOCK))
		die("cannot make a pipe: %s", strerror(errno));
	return d;
}

int docker_connect(struct docker *d, struct buf *err)
{
	struct buf hdrs = BUF_INIT, body = BUF_INIT;
	struct req r;
	const char *p;
	char version[16];
	int ret;

	memset(&r, 0, sizeof(r));
	r.method = "GET";
	r.path = "/_ping";
	r.unversioned = 1;
	r.timeout_ms = DOCKER_CONNECT_TIMEOUT_MS;
	r.headers = &hdrs;
	ret = perform(d, &r, &body, err);
	if (ret)
		goto out;
	snprintf(version, sizeof(version), "%s", CLIENT_API_MIN);
	for (p = hdrs.s; p && *p; p = strchr(p, '\n') ? strchr(p, '\n') + 1 : NULL) {
		if (!strncasecmp(p, "Api-Version:", 12)) {
			char v[16] = "";
			sscanf(p + 12, " %15[0-9.]", v);
			if (*v)
				snprintf(version, sizeof(version), "%s", v);
		}
	}
	if (vercmp(version, CLIENT_API_VERSION) > 0)
		snprintf(version, sizeof(version), "%s", CLIENT_API_VERSION);
	if (vercmp(version, CLIENT_API_MIN) < 0) {
		buf_addf(err, "docker at '%s' speaks API %s, older than the %s pancake needs: "
			 "upgrade the engine (Docker 20.10 or newer)", d->endpoint, version,
			 CLIENT_API_MIN);
		ret = DOCKER_EFAIL;
		goto out;
	}
	snprintf(d->version, sizeof(d->version), "%s", version);
out:
	buf_release(&hdrs);
	buf_release(&body);
	return ret;
}

struct docker *docker_open(const char *host, int *code, struct buf *err)
{
	struct docker *d = docker_new(host, err);
	int ret = d ? docker_connect(d, err) : DOCKER_EFAIL;

	if (code)
		*code = ret;
	if (ret) {
		docker_free(d);
		return NULL;
	}
	return d;
}

double docker_silence_s(struct docker *d)
{
	double s;

	pthread_mutex_lock(&d->lock);
	s = d->silent_since ? clock_s() - d->silent_since : 0;
	pthread_mutex_unlock(&d->lock);
	return s;
}

void docker_abort(struct docker *d)
{
	d->aborted = 1;
	/* never read: every poll on it returns at once from now on */
	if (write(d->wake[1], "x", 1) < 0 && errno != EAGAIN)
		return;
}

void docker_free(struct docker *d)
{
	if (!d)
		return;
	if (d->wake[0] >= 0) {
		close(d->wake[0]);
		close(d->wake[1]);
	}
	pthread_mutex_destroy(&d->lock);
	free(d->endpoint);
	free(d->socket);
	free(d->base);
	free(d);
}

const char *docker_api_version(const struct docker *d)
{
	return d->version;
}

const char *docker_endpoint(const struct docker *d)
{
	return d->endpoint;
}

int docker_version(struct docker *d, struct docker_version *v, struct buf *err)
{
	json_t *o = NULL;
	int ret = call_json(d, "GET", "/version", NULL, &o, err);

	memset(v, 0, sizeof(*v));
	if (!ret) {
		copy_str(v->version, sizeof(v->version), json_object_get(o, "Version"));
		copy_str(v->api_version, sizeof(v->api_version), json_object_get(o, "ApiVersion"));
		copy_str(v->min_api_version, sizeof(v->min_api_version), json_object_get(o, "MinAPIVersion"));
		copy_str(v->os, sizeof(v->os), json_object_get(o, "Os"));
		copy_str(v->arch, sizeof(v->arch), json_object_get(o, "Arch"));
	}
	json_decref(o);
	return ret;
}

int docker_info(struct docker *d, struct docker_info *info, struct buf *err)
{
	json_t *o = NULL, *sw;
	int ret = call_json(d, "GET", "/info", NULL, &o, err);

	memset(info, 0, sizeof(*info));
	if (!ret) {
		info->ncpu = (int)json_integer_value(json_object_get(o, "NCPU"));
		info->mem_total = json_integer_value(json_object_get(o, "MemTotal"));
		info->containers = (int)json_integer_value(json_object_get(o, "Containers"));
		info->running = (int)json_integer_value(json_object_get(o, "ContainersRunning"));
		info->images = (int)json_integer_value(json_object_get(o, "Images"));
		copy_str(info->server_version, sizeof(info->server_version), json_object_get(o, "ServerVersion"));
		copy_str(info->storage_driver, sizeof(info->storage_driver), json_object_get(o, "Driver"));
		copy_str(info->cgroup_version, sizeof(info->cgroup_version), json_object_get(o, "CgroupVersion"));
		copy_str(info->root_dir, sizeof(info->root_dir), json_object_get(o, "DockerRootDir"));
		copy_str(info->os, sizeof(info->os), json_object_get(o, "OperatingSystem"));
		sw = json_object_get(o, "Swarm");
		copy_str(info->swarm.state, sizeof(info->swarm.state), json_object_get(sw, "LocalNodeState"));
		info->swarm.control = json_is_true(json_object_get(sw, "ControlAvailable"));
		info->swarm.nodes = (int)json_integer_value(json_object_get(sw, "Nodes"));
		info->swarm.managers = (int)json_integer_value(json_object_get(sw, "Managers"));
	}
	json_decref(o);
	return ret;
}

int docker_root_free(struct docker *d, int64_t *bytes, struct buf *err)
{
	struct docker_info info;
	struct statvfs st;
	int ret = docker_info(d, &info, err);

	if (ret)
		return ret;
	/* its data root is a path on its own machine: this one, or out of reach */
	if (!(d->socket || !strncmp(d->base, "http://127.", 11) ||
	      !strncmp(d->base, "http://localhost", 16) || !strncmp(d->base, "http://[::1]", 12))) {
		buf_addf(err, "cannot measure free disk at '%s': the engine at '%s' runs on another "
			 "machine; look there (df -h %s)", info.root_dir, d->endpoint, info.root_dir);
		return DOCKER_EFAIL;
	}
	if (statvfs(info.root_dir, &st)) {
		buf_addf(err, "cannot measure free disk at '%s': %s", info.root_dir, strerror(errno));
		return DOCKER_EFAIL;
	}
	*bytes = (int64_t)st.f_bavail * (int64_t)st.f_frsize;
	return 0;
}

/* ---- images ---- */

void docker_image_release(struct docker_image *img)
{
	free(img->id);
	strvec_clear(&img->tags);
	kvlist_clear(&img->labels);
	memset(img, 0, sizeof(*img));
	strvec_init(&img->tags);
}

void docker_images_free(struct docker_image *imgs, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		docker_image_release(&imgs[i]);
	free(imgs);
}

static void image_from(struct docker_image *img, json_t *o, int inspect)
{
	json_t *tags = json_object_get(o, "RepoTags"), *t;
	size_t i;

	memset(img, 0, sizeof(*img));
	strvec_init(&img->tags);
	img->id = dup_str(json_object_get(o, "Id"));
	json_array_foreach(tags, i, t)
		if (json_is_string(t) && strcmp(json_string_value(t), "<none>:<none>"))
			strvec_push(&img->tags, json_string_value(t));
	img->size = json_integer_value(json_object_get(o, "Size"));
	if (inspect) {
		img->created = parse_time(json_string_value(json_object_get(o, "Created")));
		labels_from(&img->labels, json_object_get(json_object_get(o, "Config"), "Labels"));
	} else {
		img->created = json_integer_value(json_object_get(o, "Created"));
		labels_from(&img->labels, json_object_get(o, "Labels"));
	}
}

int docker_images_list(struct docker *d, const char *label,
		       struct docker_image **out, size_t *n, struct buf *err)
{
	char *f = label ? label_filter("label", NULL, label) : NULL;
	char *path = f ? xstrfmt("/images/json?filters=%s", f) : xstrdup("/images/json");
	json_t *arr = NULL, *o;
	size_t i;
	int ret = call_json(d, "GET", path, NULL, &arr, err);

	*out = NULL;
	*n = 0;
	if (!ret) {
		*out = xcalloc(json_array_size(arr) + 1, sizeof(**out));
		json_array_foreach(arr, i, o)
			image_from(&(*out)[(*n)++], o, 0);
	}
	json_decref(arr);
	free(f);
	free(path);
	return ret;
}

int docker_image_inspect(struct docker *d, const char *name,
			 struct docker_image *img, struct buf *err)
{
	char *e = esc(name), *path = xstrfmt("/images/%s/json", e);
	json_t *o = NULL;
	int ret = call_json(d, "GET", path, NULL, &o, err);

	if (!ret)
		image_from(img, o, 1);
	json_decref(o);
	free(e);
	free(path);
	return ret;
}

struct progress_sink {
	struct docker_jsonlines jl;
};

static int progress_feed(const char *data, size_t len, void *ctx, struct buf *err)
{
	struct progress_sink *ps = ctx;

	if (docker_jsonlines_feed(&ps->jl, data, len)) {
		buf_addstr(err, ps->jl.error.s);
		return -1;
	}
	return 0;
}

/* runs a request whose 200 answer is a progress stream; checks every object */
static int progress_request(struct docker *d, struct req *r, docker_progress_fn fn,
			    void *ctx, struct buf *id_out, struct buf *err)
{
	struct progress_sink ps;
	int ret;

	docker_jsonlines_init(&ps.jl, fn, ctx);
	r->sink = progress_feed;
	r->sink_ctx = &ps;
	ret = perform(d, r, NULL, err);
	if (!ret && docker_jsonlines_finish(&ps.jl, err))
		ret = DOCKER_EFAIL;
	if (!ret && id_out && ps.jl.last_id.len)
		buf_addstr(id_out, ps.jl.last_id.s);
	docker_jsonlines_release(&ps.jl);
	return ret;
}

int docker_image_build(struct docker *d, FILE *context, const char *tag,
		       const struct kvlist *labels, docker_progress_fn progress,
		       void *ctx, struct buf *id_out, struct buf *err)
{
	json_t *lj = labels_to(labels);
	char *ldump = json_dumps(lj, JSON_COMPACT), *le = esc(ldump), *te = esc(tag);
	char *path = xstrfmt("/build?version=1&rm=1&forcerm=1&t=%s&labels=%s", te, le);
	struct req r;
	int ret;

	memset(&r, 0, sizeof(r));
	r.method = "POST";
	r.path = path;
	r.ctype = "application/x-tar";
	r.upload = context;
	ret = progress_request(d, &r, progress, ctx, id_out, err);
	json_decref(lj);
	free(ldump);
	free(le);
	free(te);
	free(path);
	return ret;
}

int docker_image_import(struct docker *d, FILE *in, const char *repo,
			const char *tag, const struct kvlist *labels,
			docker_progress_fn progress, void *ctx,
			struct buf *id_out, struct buf *err)
{
	struct buf path = BUF_INIT;
	char *re = esc(repo), *te = esc(tag);
	struct req r;
	size_t i;
	int ret;

	buf_addf(&path, "/images/create?fromSrc=-&repo=%s&tag=%s", re, te);
	/* labels become LABEL instructions applied on import */
	for (i = 0; labels && i < labels->n; i++) {
		char *c = xstrfmt("LABEL %s=\"%s\"", labels->keys[i], labels->vals[i]);
		char *ce = esc(c);
		buf_addf(&path, "&changes=%s", ce);
		free(c);
		free(ce);
	}
	memset(&r, 0, sizeof(r));
	r.method = "POST";
	r.path = path.s;
	r.ctype = "application/x-tar";
	r.upload = in;
	ret = progress_request(d, &r, progress, ctx, NULL, err);
	if (!ret && id_out) {
		struct docker_image img;
		char *name = xstrfmt("%s:%s", repo, tag);
		ret = docker_image_inspect(d, name, &img, err);
		if (!ret) {
			buf_addstr(id_out, img.id);
			docker_image_release(&img);
		}
		free(name);
	}
	free(re);
	free(te);
	buf_release(&path);
	return ret;
}

int docker_image_tag(struct docker *d, const char *name, const char *repo,
		     const char *tag, struct buf *err)
{
	char *ne = esc(name), *re = esc(repo), *te = esc(tag);
	char *path = xstrfmt("/images/%s/tag?repo=%s&tag=%s", ne, re, te);
	int ret = call_json(d, "POST", path, NULL, NULL, err);

	free(ne); free(re); free(te); free(path);
	return ret;
}

int docker_image_remove(struct docker *d, const char *name, int force, struct buf *err)
{
	char *ne = esc(name), *path = xstrfmt("/images/%s?force=%d", ne, !!force);
	int ret = call_json(d, "DELETE", path, NULL, NULL, err);

	free(ne);
	free(path);
	return ret;
}

static int file_sink(const char *data, size_t len, void *ctx, struct buf *err)
{
	if (fwrite(data, 1, len, ctx) != len) {
		buf_addf(err, "cannot write image archive: %s", strerror(errno));
		return -1;
	}
	return 0;
}

int docker_image_save(struct docker *d, const char *const *names, size_t n,
		      FILE *out, struct buf *err)
{
	struct buf path = BUF_INIT;
	struct req r;
	size_t i;
	int ret;

	buf_addstr(&path, "/images/get?");
	for (i = 0; i < n; i++) {
		char *e = esc(names[i]);
		buf_addf(&path, "%snames=%s", i ? "&" : "", e);
		free(e);
	}
	memset(&r, 0, sizeof(r));
	r.method = "GET";
	r.path = path.s;
	r.sink = file_sink;
	r.sink_ctx = out;
	ret = perform(d, &r, NULL, err);
	if (!ret && fflush(out)) {
		buf_addf(err, "cannot write image archive: %s", strerror(errno));
		ret = DOCKER_EFAIL;
	}
	buf_release(&path);
	return ret;
}

int docker_image_load(struct docker *d, FILE *in, docker_progress_fn progress,
		      void *ctx, struct buf *err)
{
	struct req r;

	memset(&r, 0, sizeof(r));
	r.method = "POST";
	r.path = "/images/load?quiet=0";
	r.ctype = "application/x-tar";
	r.upload = in;
	return progress_request(d, &r, progress, ctx, NULL, err);
}

/* ---- containers ---- */

int docker_container_create(struct docker *d, const struct docker_container_spec *s,
			    struct buf *id, struct buf *err)
{
	json_t *o = json_object(), *hc = json_object(), *env = json_array();
	json_t *exposed = json_object(), *bindings = json_object(), *mounts = json_array();
	json_t *resp = NULL;
	char *ne = esc(s->name), *path = xstrfmt("/containers/create?name=%s", ne);
	size_t i;
	int ret;

	json_object_set_new(o, "Image", json_string(s->image));
	if (s->hostname)
		json_object_set_new(o, "Hostname", json_string(s->hostname));
	for (i = 0; i < s->env.n; i++)
		json_array_append_new(env, json_string(s->env.v[i]));
	json_object_set_new(o, "Env", env);
	if (s->cmd.n) {
		json_t *cmd = json_array();
		for (i = 0; i < s->cmd.n; i++)
			json_array_append_new(cmd, json_string(s->cmd.v[i]));
		json_object_set_new(o, "Cmd", cmd);
	}
	json_object_set_new(o, "Labels", labels_to(&s->labels));
	json_object_set_new(o, "Tty", json_boolean(s->tty));
	for (i = 0; i < s->nports; i++) {
		const struct docker_port *p = &s->ports[i];
		char key[32], hp[16];
		json_t *b = json_object(), *arr;

		snprintf(key, sizeof(key), "%d/%s", p->container_port, *p->proto ? p->proto : "tcp");
		snprintf(hp, sizeof(hp), "%d", p->host_port);
		json_object_set_new(exposed, key, json_object());
		/* no HostIp means 0.0.0.0: always bind an explicit address */
		json_object_set_new(b, "HostIp", json_string(*p->host_ip ? p->host_ip : "127.0.0.1"));
		json_object_set_new(b, "HostPort", json_string(hp));
		arr = json_object_get(bindings, key);
		if (!arr) {
			arr = json_array();
			json_object_set_new(bindings, key, arr);
		}
		json_array_append_new(arr, b);
	}
	json_object_set_new(o, "ExposedPorts", exposed);
	json_object_set_new(hc, "PortBindings", bindings);
	for (i = 0; i < s->nmounts; i++) {
		json_t *m = json_object();
		json_object_set_new(m, "Type", json_string("volume"));
		json_object_set_new(m, "Source", json_string(s->mounts[i].source));
		json_object_set_new(m, "Target", json_string(s->mounts[i].target));
		json_array_append_new(mounts, m);
	}
	json_object_set_new(hc, "Mounts", mounts);
	if (s->memory) {
		json_object_set_new(hc, "Memory", json_integer(s->memory));
		json_object_set_new(hc, "MemorySwap", json_integer(s->memory));
	}
	json_object_set_new(hc, "Init", json_true());
	if (s->network) {
		json_t *nc = json_object(), *eps = json_object(), *ep = json_object();
		json_t *aliases = json_array();
		json_object_set_new(hc, "NetworkMode", json_string(s->network));
		if (s->hostname)
			json_array_append_new(aliases, json_string(s->hostname));
		json_object_set_new(ep, "Aliases", aliases);
		json_object_set_new(eps, s->network, ep);
		json_object_set_new(nc, "EndpointsConfig", eps);
		json_object_set_new(o, "NetworkingConfig", nc);
	}
	json_object_set_new(o, "HostConfig", hc);

	ret = call_json(d, "POST", path, o, &resp, err);
	if (!ret && id)
		buf_addstr(id, json_string_value(json_object_get(resp, "Id")) ?
			   json_string_value(json_object_get(resp, "Id")) : "");
	json_decref(o);
	json_decref(resp);
	free(ne);
	free(path);
	return ret;
}

static int container_post(struct docker *d, const char *id, const char *verb,
			  const char *query, long timeout_ms, struct buf *err)
{
	char *ie = esc(id);
	char *path = xstrfmt("/containers/%s/%s%s%s", ie, verb, query ? "?" : "", query ? query : "");
	struct req r;
	int ret;

	memset(&r, 0, sizeof(r));
	r.method = "POST";
	r.path = path;
	r.timeout_ms = timeout_ms;
	ret = perform(d, &r, NULL, err);
	free(ie);
	free(path);
	return ret;
}

int docker_container_start(struct docker *d, const char *id, struct buf *err)
{
	int r = container_post(d, id, "start", NULL, DOCKER_TIMEOUT_MS, err);
	return r == DOCKER_ENOTMODIFIED ? 0 : r;
}

int docker_container_stop(struct docker *d, const char *id, int timeout_s, struct buf *err)
{
	char q[32];
	int r;

	snprintf(q, sizeof(q), "t=%d", timeout_s);
	/* the engine waits up to t seconds before killing: allow for that */
	r = container_post(d, id, "stop", q, DOCKER_TIMEOUT_MS + timeout_s * 1000L, err);
	return r == DOCKER_ENOTMODIFIED ? 0 : r;
}

int docker_container_restart(struct docker *d, const char *id, int timeout_s, struct buf *err)
{
	char q[32];

	snprintf(q, sizeof(q), "t=%d", timeout_s);
	return container_post(d, id, "restart", q, DOCKER_TIMEOUT_MS + timeout_s * 1000L, err);
}

int docker_container_kill(struct docker *d, const char *id, const char *signal, struct buf *err)
{
	char *se = esc(signal ? signal : "SIGKILL"), *q = xstrfmt("signal=%s", se);
	int r = container_post(d, id, "kill", q, DOCKER_TIMEOUT_MS, err);

	free(se);
	free(q);
	return r;
}

int docker_container_remove(struct docker *d, const char *id, int force,
			    int volumes, struct buf *err)
{
	char *ie = esc(id);
	char *path = xstrfmt("/containers/%s?force=%d&v=%d", ie, !!force, !!volumes);
	int ret = call_json(d, "DELETE", path, NULL, NULL, err);

	free(ie);
	free(path);
	return ret;
}

void docker_container_release(struct docker_container *c)
{
	free(c->id);
	free(c->name);
	free(c->image);
	free(c->image_id);
	kvlist_clear(&c->labels);
	free(c->ports);
	memset(c, 0, sizeof(*c));
}

void docker_containers_free(struct docker_container *cs, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		docker_container_release(&cs[i]);
	free(cs);
}

static void add_port(struct docker_container *c, int cport, const char *proto,
		     const char *ip, int hport)
{
	struct docker_port *p;

	c->ports = xrealloc(c->ports, (c->nports + 1) * sizeof(*c->ports));
	p = &c->ports[c->nports++];
	memset(p, 0, sizeof(*p));
	p->container_port = cport;
	snprintf(p->proto, sizeof(p->proto), "%s", proto ? proto : "tcp");
	snprintf(p->host_ip, sizeof(p->host_ip), "%s", ip ? ip : "");
	p->host_port = hport;
}

static void container_from_list(struct docker_container *c, json_t *o)
{
	json_t *names = json_object_get(o, "Names"), *ports = json_object_get(o, "Ports"), *p;
	const char *n = json_string_value(json_array_get(names, 0));
	size_t i;

	memset(c, 0, sizeof(*c));
	c->id = dup_str(json_object_get(o, "Id"));
	c->name = xstrdup(n ? (*n == '/' ? n + 1 : n) : "");
	c->image = dup_str(json_object_get(o, "Image"));
	c->image_id = dup_str(json_object_get(o, "ImageID"));
	copy_str(c->state, sizeof(c->state), json_object_get(o, "State"));
	copy_str(c->status, sizeof(c->status), json_object_get(o, "Status"));
	c->running = !strcmp(c->state, "running");
	c->created = json_integer_value(json_object_get(o, "Created"));
	labels_from(&c->labels, json_object_get(o, "Labels"));
	json_array_foreach(ports, i, p)
		if (json_object_get(p, "PublicPort"))
			add_port(c, (int)json_integer_value(json_object_get(p, "PrivatePort")),
				 json_string_value(json_object_get(p, "Type")),
				 json_string_value(json_object_get(p, "IP")),
				 (int)json_integer_value(json_object_get(p, "PublicPort")));
}

int docker_containers_list(struct docker *d, const struct strvec *labels,
			   struct docker_container **out, size_t *n, struct buf *err)
{
	char *f = label_filter("label", labels, NULL);
	char *path = xstrfmt("/containers/json?all=1&filters=%s", f);
	json_t *arr = NULL, *o;
	size_t i;
	int ret = call_json(d, "GET", path, NULL, &arr, err);

	*out = NULL;
	*n = 0;
	if (!ret) {
		*out = xcalloc(json_array_size(arr) + 1, sizeof(**out));
		json_array_foreach(arr, i, o)
			container_from_list(&(*out)[(*n)++], o);
	}
	json_decref(arr);
	free(f);
	free(path);
	return ret;
}

int docker_container_inspect(struct docker *d, const char *id,
			     struct docker_container *c, struct buf *err)
{
	char *ie = esc(id), *path = xstrfmt("/containers/%s/json", ie);
	json_t *o = NULL, *st, *cfg, *ports, *bl;
	const char *key, *name;
	int ret = call_json(d, "GET", path, NULL, &o, err);

	if (ret)
		goto out;
	memset(c, 0, sizeof(*c));
	st = json_object_get(o, "State");
	cfg = json_object_get(o, "Config");
	c->id = dup_str(json_object_get(o, "Id"));
	name = json_string_value(json_object_get(o, "Name"));
	c->name = xstrdup(name ? (*name == '/' ? name + 1 : name) : "");
	c->image = dup_str(json_object_get(cfg, "Image"));
	c->image_id = dup_str(json_object_get(o, "Image"));
	copy_str(c->state, sizeof(c->state), json_object_get(st, "Status"));
	c->running = json_is_true(json_object_get(st, "Running"));
	c->exit_code = (int)json_integer_value(json_object_get(st, "ExitCode"));
	c->oom_killed = json_is_true(json_object_get(st, "OOMKilled"));
	c->pid = (int)json_integer_value(json_object_get(st, "Pid"));
	c->restart_count = (int)json_integer_value(json_object_get(o, "RestartCount"));
	c->tty = json_is_true(json_object_get(cfg, "Tty"));
	c->created = parse_time(json_string_value(json_object_get(o, "Created")));
	c->started_at = parse_time(json_string_value(json_object_get(st, "StartedAt")));
	c->finished_at = parse_time(json_string_value(json_object_get(st, "FinishedAt")));
	labels_from(&c->labels, json_object_get(cfg, "Labels"));
	ports = json_object_get(json_object_get(o, "NetworkSettings"), "Ports");
	json_object_foreach(ports, key, bl) {
		json_t *b;
		size_t i;
		int cport = atoi(key);
		const char *slash = strchr(key, '/');
		json_array_foreach(bl, i, b)
			add_port(c, cport, slash ? slash + 1 : "tcp",
				 json_string_value(json_object_get(b, "HostIp")),
				 atoi(json_string_value(json_object_get(b, "HostPort")) ?
				      json_string_value(json_object_get(b, "HostPort")) : "0"));
	}
out:
	json_decref(o);
	free(ie);
	free(path);
	return ret;
}

int docker_container_wait(struct docker *d, const char *id, long timeout_ms,
			  int *exit_code, struct buf *err)
{
	char *ie = esc(id), *path = xstrfmt("/containers/%s/wait", ie);
	struct buf resp = BUF_INIT;
	struct req r;
	int ret;

	memset(&r, 0, sizeof(r));
	r.method = "POST";
	r.path = path;
	r.timeout_ms = timeout_ms;
	ret = perform(d, &r, &resp, err);
	if (!ret && exit_code) {
		json_t *o = json_loadb(resp.s, resp.len, 0, NULL);
		*exit_code = (int)json_integer_value(json_object_get(o, "StatusCode"));
		json_decref(o);
	}
	buf_release(&resp);
	free(ie);
	free(path);
	return ret;
}

int docker_container_stats(struct docker *d, const char *id,
			   struct docker_stats *s, struct buf *err)
{
	char *ie = esc(id), *path = xstrfmt("/containers/%s/stats?stream=false&one-shot=true", ie);
	json_t *o = NULL, *cpu, *mem, *mstats;
	struct timespec ts;
	int ret = call_json(d, "GET", path, NULL, &o, err);

	memset(s, 0, sizeof(*s));
	if (!ret) {
		cpu = json_object_get(o, "cpu_stats");
		mem = json_object_get(o, "memory_stats");
		mstats = json_object_get(mem, "stats");
		s->cpu_total = (uint64_t)json_integer_value(json_object_get(json_object_get(cpu, "cpu_usage"), "total_usage"));
		s->system_cpu = (uint64_t)json_integer_value(json_object_get(cpu, "system_cpu_usage"));
		s->online_cpus = (int)json_integer_value(json_object_get(cpu, "online_cpus"));
		s->mem_usage = (uint64_t)json_integer_value(json_object_get(mem, "usage"));
		s->mem_limit = (uint64_t)json_integer_value(json_object_get(mem, "limit"));
		s->mem_max_usage = (uint64_t)json_integer_value(json_object_get(mem, "max_usage"));
		/* cgroup v1 calls it total_inactive_file, v2 inactive_file */
		if (json_object_get(mstats, "total_inactive_file"))
			s->mem_cache = (uint64_t)json_integer_value(json_object_get(mstats, "total_inactive_file"));
		else
			s->mem_cache = (uint64_t)json_integer_value(json_object_get(mstats, "inactive_file"));
		clock_gettime(CLOCK_REALTIME, &ts);
		s->read_at = (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
	}
	json_decref(o);
	free(ie);
	free(path);
	return ret;
}

double docker_stats_cpu_percent(const struct docker_stats *prev,
				const struct docker_stats *cur)
{
	double dc, ds;

	if (!prev || !cur || cur->system_cpu <= prev->system_cpu || cur->cpu_total < prev->cpu_total)
		return 0.0;
	dc = (double)(cur->cpu_total - prev->cpu_total);
	ds = (double)(cur->system_cpu - prev->system_cpu);
	return dc / ds * (cur->online_cpus ? cur->online_cpus : 1) * 100.0;
}

uint64_t docker_stats_mem_used(const struct docker_stats *st)
{
	return st->mem_usage > st->mem_cache ? st->mem_usage - st->mem_cache : st->mem_usage;
}

struct logs_sink {
	struct docker_demux dm;
};

static int logs_feed(const char *data, size_t len, void *ctx, struct buf *err)
{
	struct logs_sink *ls = ctx;
	return docker_demux_feed(&ls->dm, data, len, err);
}

/* GET /KIND/ID/logs: a container's or a Swarm service's, the same stream */
static int logs_get(struct docker *d, const char *kind, const char *id,
		    const struct docker_logs_opts *o, docker_frame_fn fn, void *ctx,
		    struct buf *err)
{
	char *ie = esc(id);
	struct buf path = BUF_INIT;
	struct logs_sink ls;
	struct req r;
	int ret;

	buf_addf(&path, "/%s/%s/logs?stdout=%d&stderr=%d&follow=%d&timestamps=%d",
		 kind, ie, o->stdout_, o->stderr_, o->follow, o->timestamps);
	if (o->tail >= 0)
		buf_addf(&path, "&tail=%d", o->tail);
	if (o->since)
		buf_addf(&path, "&since=%lld", (long long)o->since);
	docker_demux_init(&ls.dm, o->tty, fn, ctx);
	memset(&r, 0, sizeof(r));
	r.method = "GET";
	r.path = path.s;
	r.timeout_ms = o->follow ? 0 : DOCKER_TIMEOUT_MS;
	r.cancel = o->cancel;
	r.sink = logs_feed;
	r.sink_ctx = &ls;
	ret = perform(d, &r, NULL, err);
	docker_demux_release(&ls.dm);
	buf_release(&path);
	free(ie);
	return ret;
}

int docker_container_logs(struct docker *d, const char *id,
			  const struct docker_logs_opts *o, docker_frame_fn fn,
			  void *ctx, struct buf *err)
{
	return logs_get(d, "containers", id, o, fn, ctx, err);
}

int docker_service_logs(struct docker *d, const char *id,
			const struct docker_logs_opts *o, docker_frame_fn fn,
			void *ctx, struct buf *err)
{
	return logs_get(d, "services", id, o, fn, ctx, err);
}

#define EXEC_OUTPUT_MAX (4u << 20)

static void exec_collect(int stream, const char *data, size_t len, void *ctx)
{
	struct buf *out = ctx;

	(void)stream;
	if (out->len + len <= EXEC_OUTPUT_MAX)
		buf_add(out, data, len);
}

int docker_exec(struct docker *d, const char *id, const char *const *argv,
		struct buf *output, int *exit_code, long timeout_ms, struct buf *err)
{
	json_t *body = json_object(), *cmd = json_array(), *resp = NULL, *st = NULL;
	char *ie = esc(id), *path = xstrfmt("/containers/%s/exec", ie);
	char *spath = NULL, *ipath = NULL, *startbody;
	struct buf discard = BUF_INIT;
	struct logs_sink ls;
	const char *eid;
	struct req r;
	int ret;

	for (; *argv; argv++)
		json_array_append_new(cmd, json_string(*argv));
	json_object_set_new(body, "Cmd", cmd);
	json_object_set_new(body, "AttachStdout", json_true());
	json_object_set_new(body, "AttachStderr", json_true());
	ret = call_json(d, "POST", path, body, &resp, err);
	if (ret)
		goto out;
	eid = json_string_value(json_object_get(resp, "Id"));
	if (!eid) {
		buf_addstr(err, "docker created an exec without an id");
		ret = DOCKER_EFAIL;
		goto out;
	}
	spath = xstrfmt("/exec/%s/start", eid);
	ipath = xstrfmt("/exec/%s/json", eid);
	/* attached, not detached: the output must be read to its end first */
	startbody = "{\"Detach\":false,\"Tty\":false}";
	docker_demux_init(&ls.dm, 0, exec_collect, output ? output : &discard);
	memset(&r, 0, sizeof(r));
	r.method = "POST";
	r.path = spath;
	r.ctype = "application/json";
	r.body = startbody;
	r.body_len = strlen(startbody);
	r.timeout_ms = timeout_ms ? timeout_ms : DOCKER_TIMEOUT_MS;
	r.sink = logs_feed;
	r.sink_ctx = &ls;
	ret = perform(d, &r, NULL, err);
	docker_demux_release(&ls.dm);
	if (ret)
		goto out;
	ret = call_json(d, "GET", ipath, NULL, &st, err);
	if (!ret && exit_code) {
		json_t *ec = json_object_get(st, "ExitCode");
		*exit_code = json_is_integer(ec) ? (int)json_integer_value(ec) : -1;
	}
out:
	json_decref(body);
	json_decref(resp);
	json_decref(st);
	buf_release(&discard);
	free(ie);
	free(path);
	free(spath);
	free(ipath);
	return ret;
}

/* ---- networks and volumes ---- */

void docker_objects_free(struct docker_object *o, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++) {
		free(o[i].id);
		free(o[i].name);
		kvlist_clear(&o[i].labels);
	}
	free(o);
}

static void object_from(struct docker_object *ob, json_t *o)
{
	memset(ob, 0, sizeof(*ob));
	ob->id = dup_str(json_object_get(o, json_object_get(o, "Id") ? "Id" : "Name"));
	ob->name = dup_str(json_object_get(o, "Name"));
	labels_from(&ob->labels, json_object_get(o, "Labels"));
}

/* POST /networks/create of a `driver` network; `attachable` for an overlay */
static int network_create(struct docker *d, const char *name, const char *driver,
			  int attachable, const struct kvlist *labels, struct buf *id,
			  struct buf *err)
{
	json_t *o = json_object(), *resp = NULL;
	int ret;

	json_object_set_new(o, "Name", json_string(name));
	json_object_set_new(o, "Driver", json_string(driver));
	if (attachable)
		json_object_set_new(o, "Attachable", json_true());
	json_object_set_new(o, "CheckDuplicate", json_true());
	json_object_set_new(o, "Labels", labels_to(labels));
	ret = call_json(d, "POST", "/networks/create", o, &resp, err);
	if (!ret && id)
		buf_addstr(id, json_string_value(json_object_get(resp, "Id")) ?
			   json_string_value(json_object_get(resp, "Id")) : "");
	json_decref(o);
	json_decref(resp);
	return ret;
}

int docker_network_create(struct docker *d, const char *name,
			  const struct kvlist *labels, struct buf *id, struct buf *err)
{
	return network_create(d, name, "bridge", 0, labels, id, err);
}

int docker_network_remove(struct docker *d, const char *name, struct buf *err)
{
	char *ne = esc(name), *path = xstrfmt("/networks/%s", ne);
	int ret = call_json(d, "DELETE", path, NULL, NULL, err);

	free(ne);
	free(path);
	return ret;
}

/*
 * GET `base`, filtered by `filter`=`value` when `value` is not NULL, and each
 * element of its array (under `key`; NULL: the answer is the array) into a
 * new array of `size`-byte elements, each filled by `from`.
 */
static int array_get(struct docker *d, const char *base, const char *filter, const char *value,
		     const char *key, size_t size, void (*from)(void *elem, json_t *o),
		     void **out, size_t *n, struct buf *err)
{
	char *f = value ? label_filter(filter, NULL, value) : NULL;
	char *path = f ? xstrfmt("%s?filters=%s", base, f) : xstrdup(base);
	json_t *resp = NULL, *arr, *o;
	size_t i;
	int ret = call_json(d, "GET", path, NULL, &resp, err);

	*out = NULL;
	*n = 0;
	if (!ret) {
		arr = key ? json_object_get(resp, key) : resp;
		*out = xcalloc(json_array_size(arr) + 1, size);
		json_array_foreach(arr, i, o)
			from((char *)*out + (*n)++ * size, o);
	}
	json_decref(resp);
	free(f);
	free(path);
	return ret;
}

static void object_elem(void *elem, json_t *o)
{
	object_from(elem, o);
}

static int objects_list(struct docker *d, const char *base, const char *key,
			const char *label, struct docker_object **out, size_t *n,
			struct buf *err)
{
	return array_get(d, base, "label", label, key, sizeof(**out), object_elem, (void **)out,
			 n, err);
}

int docker_networks_list(struct docker *d, const char *label,
			 struct docker_object **out, size_t *n, struct buf *err)
{
	return objects_list(d, "/networks", NULL, label, out, n, err);
}

static int object_inspect(struct docker *d, const char *kind, const char *name,
			  struct docker_object *ob, struct buf *err)
{
	char *ne = esc(name), *path = xstrfmt("/%s/%s", kind, ne);
	json_t *o = NULL;
	int ret = call_json(d, "GET", path, NULL, &o, err);

	if (!ret)
		object_from(ob, o);
	json_decref(o);
	free(ne);
	free(path);
	return ret;
}

int docker_network_inspect(struct docker *d, const char *name,
			   struct docker_object *o, struct buf *err)
{
	return object_inspect(d, "networks", name, o, err);
}

int docker_volume_create(struct docker *d, const char *name,
			 const struct kvlist *labels, struct buf *err)
{
	json_t *o = json_object();
	int ret;

	json_object_set_new(o, "Name", json_string(name));
	json_object_set_new(o, "Labels", labels_to(labels));
	ret = call_json(d, "POST", "/volumes/create", o, NULL, err);
	json_decref(o);
	return ret;
}

int docker_volume_remove(struct docker *d, const char *name, int force, struct buf *err)
{
	char *ne = esc(name), *path = xstrfmt("/volumes/%s?force=%d", ne, !!force);
	int ret = call_json(d, "DELETE", path, NULL, NULL, err);

	free(ne);
	free(path);
	return ret;
}

int docker_volumes_list(struct docker *d, const char *label,
			struct docker_object **out, size_t *n, struct buf *err)
{
	return objects_list(d, "/volumes", "Volumes", label, out, n, err);
}

int docker_volume_inspect(struct docker *d, const char *name,
			  struct docker_object *o, struct buf *err)
{
	return object_inspect(d, "volumes", name, o, err);
}

/* ---- events ---- */

struct events_ctx {
	docker_event_fn fn;
	void *ctx;
	const char *label_key, *service_key;
	struct docker_lines lines;
	int stop;
};

static void event_line(char *line, size_t len, void *p)
{
	struct events_ctx *ec = p;
	struct docker_event ev;
	json_t *o, *actor, *attrs;

	if (ec->stop)
		return;
	o = json_loadb(line, len, 0, NULL);
	if (!json_is_object(o)) {
		json_decref(o);
		return;
	}
	actor = json_object_get(o, "Actor");
	attrs = json_object_get(actor, "Attributes");
	memset(&ev, 0, sizeof(ev));
	ev.type = json_string_value(json_object_get(o, "Type"));
	ev.action = json_string_value(json_object_get(o, "Action"));
	ev.id = json_string_value(json_object_get(actor, "ID"));
	ev.name = json_string_value(json_object_get(attrs, "name"));
	ev.exit_code = json_string_value(json_object_get(attrs, "exitCode"));
	if (ec->label_key)
		ev.project = json_string_value(json_object_get(attrs, ec->label_key));
	if (ec->service_key)
		ev.service = json_string_value(json_object_get(attrs, ec->service_key));
	ev.time_ns = json_integer_value(json_object_get(o, "timeNano"));
	if (ev.type && ev.action && ec->fn(&ev, ec->ctx))
		ec->stop = 1;
	json_decref(o);
}

static int events_feed(const char *data, size_t len, void *ctx, struct buf *err)
{
	struct events_ctx *ec = ctx;

	if (docker_lines_feed(&ec->lines, data, len, err))
		return -1;
	return ec->stop ? -1 : 0;
}

int docker_events(struct docker *d, const char *label, const char *label_key,
		  const char *service_key, int64_t since, docker_event_fn fn, void *ctx,
		  volatile int *cancel, struct buf *err)
{
	char *f = label_filter("label", NULL, label);
	char *path = since ? xstrfmt("/events?since=%lld&filters=%s", (long long)since, f)
			   : xstrfmt("/events?filters=%s", f);
	struct events_ctx ec;
	struct buf e2 = BUF_INIT;
	struct req r;
	int ret;

	memset(&ec, 0, sizeof(ec));
	ec.fn = fn;
	ec.ctx = ctx;
	ec.label_key = label_key;
	ec.service_key = service_key;
	docker_lines_init(&ec.lines, event_line, &ec);
	memset(&r, 0, sizeof(r));
	r.method = "GET";
	r.path = path;
	r.cancel = cancel;
	r.sink = events_feed;
	r.sink_ctx = &ec;
	ret = perform(d, &r, NULL, &e2);
	if (ec.stop)
		ret = 0;
	else if (ret)
		buf_addstr(err, e2.s);
	docker_lines_release(&ec.lines);
	buf_release(&e2);
	free(f);
	free(path);
	return ret;
}

/* ---- swarm ---- */

int docker_swarm_inspect(struct docker *d, struct docker_swarm *sw, struct buf *err)
{
	json_t *resp = NULL;
	struct buf e = BUF_INIT;
	int ret = call_json(d, "GET", "/swarm", NULL, &resp, &e);
	char *cut;

	memset(sw, 0, sizeof(*sw));
	/* "not a swarm manager" comes as a 503: the engine's words suffice,
	 * without the hint for an engine that failed */
	if (ret && strstr(e.s, "swarm") && (cut = strstr(e.s, " (HTTP 503")))
		*cut = '\0';
	buf_addstr(err, e.s);
	buf_release(&e);
	if (!ret) {
		copy_str(sw->id, sizeof(sw->id), json_object_get(resp, "ID"));
		sw->created = parse_time(json_string_value(json_object_get(resp, "CreatedAt")));
	}
	json_decref(resp);
	return ret;
}

static void node_elem(void *elem, json_t *o)
{
	struct docker_node *nd = elem;
	json_t *status = json_object_get(o, "Status");

	copy_str(nd->id, sizeof(nd->id), json_object_get(o, "ID"));
	copy_str(nd->hostname, sizeof(nd->hostname),
		 json_object_get(json_object_get(o, "Description"), "Hostname"));
	copy_str(nd->role, sizeof(nd->role),
		 json_object_get(json_object_get(o, "Spec"), "Role"));
	copy_str(nd->state, sizeof(nd->state), json_object_get(status, "State"));
	copy_str(nd->addr, sizeof(nd->addr), json_object_get(status, "Addr"));
	copy_str(nd->availability, sizeof(nd->availability),
		 json_object_get(json_object_get(o, "Spec"), "Availability"));
	nd->memory = json_integer_value(json_object_get(json_object_get(
		json_object_get(o, "Description"), "Resources"), "MemoryBytes"));
	/* a manager may report 0.0.0.0: its manager address says where it is */
	if (!nd->addr[0] || !strcmp(nd->addr, "0.0.0.0")) {
		char *colon;

		copy_str(nd->addr, sizeof(nd->addr),
			 json_object_get(json_object_get(o, "ManagerStatus"), "Addr"));
		colon = strrchr(nd->addr, ':');
		if (colon)
			*colon = '\0';
	}
}

int docker_nodes_list(struct docker *d, struct docker_node **out, size_t *n, struct buf *err)
{
	return array_get(d, "/nodes", NULL, NULL, NULL, sizeof(**out), node_elem, (void **)out,
			 n, err);
}

void docker_services_free(struct docker_service *s, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++) {
		free(s[i].id);
		free(s[i].name);
		kvlist_clear(&s[i].labels);
	}
	free(s);
}

static void service_elem(void *elem, json_t *o)
{
	struct docker_service *sv = elem;
	json_t *spec = json_object_get(o, "Spec"), *res, *rep;

	sv->id = dup_str(json_object_get(o, "ID"));
	sv->name = dup_str(json_object_get(spec, "Name"));
	sv->version = (uint64_t)json_integer_value(
		json_object_get(json_object_get(o, "Version"), "Index"));
	labels_from(&sv->labels, json_object_get(spec, "Labels"));
	res = json_object_get(json_object_get(spec, "TaskTemplate"), "Resources");
	sv->reserved = json_integer_value(json_object_get(
		json_object_get(res, "Reservations"), "MemoryBytes"));
	rep = json_object_get(json_object_get(spec, "Mode"), "Replicated");
	sv->replicas = rep ? (int)json_integer_value(json_object_get(rep, "Replicas")) : 1;
}

int docker_services_list(struct docker *d, const char *label,
			 struct docker_service **out, size_t *n, struct buf *err)
{
	return array_get(d, "/services", "label", label, NULL, sizeof(**out), service_elem,
			 (void **)out, n, err);
}

/* the caller's spec text as JSON, or DOCKER_EFAIL: a bug of the caller's */
static json_t *spec_from(const char *spec_json, struct buf *err)
{
	json_error_t je;
	json_t *o = json_loads(spec_json, 0, &je);

	if (!o)
		buf_addf(err, "malformed service spec (a bug in pancake): %s", je.text);
	return o;
}

int docker_service_create(struct docker *d, const char *spec_json, struct buf *id,
			  struct buf *err)
{
	json_t *o = spec_from(spec_json, err), *resp = NULL;
	int ret;

	if (!o)
		return DOCKER_EFAIL;
	ret = call_json(d, "POST", "/services/create", o, &resp, err);
	if (!ret && id)
		buf_addstr(id, json_string_value(json_object_get(resp, "ID")) ?
			   json_string_value(json_object_get(resp, "ID")) : "");
	json_decref(o);
	json_decref(resp);
	return ret;
}

int docker_service_update(struct docker *d, const char *id, uint64_t version,
			  const char *spec_json, struct buf *err)
{
	json_t *o = spec_from(spec_json, err);
	char *ie, *path;
	int ret;

	if (!o)
		return DOCKER_EFAIL;
	ie = esc(id);
	path = xstrfmt("/services/%s/update?version=%llu", ie, (unsigned long long)version);
	ret = call_json(d, "POST", path, o, NULL, err);
	json_decref(o);
	free(ie);
	free(path);
	return ret;
}

int docker_service_remove(struct docker *d, const char *id, struct buf *err)
{
	char *ie = esc(id), *path = xstrfmt("/services/%s", ie);
	int ret = call_json(d, "DELETE", path, NULL, NULL, err);

	free(ie);
	free(path);
	return ret;
}

static void task_elem(void *elem, json_t *o)
{
	struct docker_task *t = elem;
	json_t *st = json_object_get(o, "Status");

	copy_str(t->id, sizeof(t->id), json_object_get(o, "ID"));
	copy_str(t->service_id, sizeof(t->service_id), json_object_get(o, "ServiceID"));
	copy_str(t->node_id, sizeof(t->node_id), json_object_get(o, "NodeID"));
	copy_str(t->desired, sizeof(t->desired), json_object_get(o, "DesiredState"));
	copy_str(t->state, sizeof(t->state), json_object_get(st, "State"));
	copy_str(t->message, sizeof(t->message), json_object_get(st, "Message"));
	copy_str(t->error, sizeof(t->error), json_object_get(st, "Err"));
	copy_str(t->container_id, sizeof(t->container_id),
		 json_object_get(json_object_get(st, "ContainerStatus"), "ContainerID"));
	t->slot = (int)json_integer_value(json_object_get(o, "Slot"));
	t->updated = parse_time(json_string_value(json_object_get(st, "Timestamp")));
}

int docker_tasks_list(struct docker *d, const char *service, struct docker_task **out,
		      size_t *n, struct buf *err)
{
	return array_get(d, "/tasks", "service", service, NULL, sizeof(**out), task_elem,
			 (void **)out, n, err);
}

int docker_overlay_network_create(struct docker *d, const char *name,
				  const struct kvlist *labels, struct buf *id,
				  struct buf *err)
{
	return network_create(d, name, "overlay", 1, labels, id, err);
}
