/*
 * test-docker-json: the docker client against recorded Engine API answers,
 * served by a one-request-per-connection HTTP server on a unix socket.
 */
#include "clients/docker.h"
#include "util/buf.h"
#include "util/xalloc.h"
#include "tap.h"

#include <errno.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/un.h>
#include <unistd.h>

/* ---- the fake engine ---- */

struct route {
	const char *method;
	const char *prefix;          /* path after /vX.Y */
	const struct buf *resp;      /* the whole HTTP answer */
};

static struct {
	pthread_mutex_t mu;
	pthread_t thread;
	int fd;
	char dir[64], sock[108];
	const char *ping_version;    /* Api-Version header; NULL: none */
	const struct route *routes;
	size_t nroutes;
	struct buf request;          /* "METHOD TARGET" of the last non-ping request */
	struct buf headers;          /* its headers */
	struct buf body;             /* its body, de-chunked */
	int served, unrouted;
	int stop;
} srv = { .mu = PTHREAD_MUTEX_INITIALIZER };

/* 1 when `raw` holds a whole chunked body (decoded into `out`), 0 when more is needed */
static int dechunk(const struct buf *raw, struct buf *out)
{
	const char *p = raw->s, *end = raw->s + raw->len;

	buf_reset(out);
	for (;;) {
		char *nl;
		unsigned long size = strtoul(p, &nl, 16);
		const char *crlf = memchr(p, '\n', (size_t)(end - p));
		if (!crlf)
			return 0;
		if ((size_t)(end - (crlf + 1)) < size + 2)
			return 0;
		if (!size)
			return 1;
		buf_add(out, crlf + 1, size);
		p = crlf + 1 + size + 2;
	}
}

static int read_request(int fd, struct buf *head, struct buf *body)
{
	struct buf raw = BUF_INIT;
	char tmp[4096], *eoh, *cl;
	size_t want = 0;
	int chunked, ret = -1;
	ssize_t n;

	while (!(eoh = strstr(head->s, "\r\n\r\n"))) {
		if ((n = read(fd, tmp, sizeof(tmp))) <= 0)
			goto out;
		buf_add(head, tmp, (size_t)n);
	}
	buf_add(&raw, eoh + 4, head->len - (size_t)(eoh + 4 - head->s));
	buf_setlen(head, (size_t)(eoh + 4 - head->s));
	chunked = strcasestr(head->s, "\r\nTransfer-Encoding: chunked") != NULL;
	if ((cl = strcasestr(head->s, "\r\nContent-Length:")))
		want = strtoul(cl + 17, NULL, 10);
	for (;;) {
		if (chunked ? dechunk(&raw, body) : raw.len >= want)
			break;
		if ((n = read(fd, tmp, sizeof(tmp))) <= 0)
			goto out;
		buf_add(&raw, tmp, (size_t)n);
	}
	if (!chunked)
		buf_add(body, raw.s, raw.len);
	ret = 0;
out:
	buf_release(&raw);
	return ret;
}

static void send_all(int fd, const char *p, size_t len)
{
	while (len) {
		ssize_t n = send(fd, p, len, MSG_NOSIGNAL);
		if (n <= 0)
			return;
		p += n;
		len -= (size_t)n;
	}
}

static void serve_one(int fd)
{
	struct buf head = BUF_INIT, body = BUF_INIT, ans = BUF_INIT;
	char method[16] = "", target[2048] = "";
	const char *path;
	struct timeval tv = { 5, 0 };
	size_t i;

	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	if (read_request(fd, &head, &body) ||
	    sscanf(head.s, "%15s %2047s", method, target) != 2)
		goto out;
	pthread_mutex_lock(&srv.mu);
	srv.served++;
	if (!strcmp(target, "/_ping")) {
		buf_addstr(&ans, "HTTP/1.1 200 OK\r\n");
		if (srv.ping_version)
			buf_addf(&ans, "Api-Version: %s\r\n", srv.ping_version);
		buf_addstr(&ans, "Builder-Version: 2\r\nCache-Control: no-cache, no-store, must-revalidate\r\n"
			   "Content-Length: 2\r\nContent-Type: text/plain; charset=utf-8\r\n"
			   "Docker-Experimental: false\r\nOstype: linux\r\nPragma: no-cache\r\n"
			   "Server: Docker/24.0.7 (linux)\r\nConnection: close\r\n\r\nOK");
	} else {
		buf_reset(&srv.request);
		buf_addf(&srv.request, "%s %s", method, target);
		buf_reset(&srv.headers);
		buf_addstr(&srv.headers, head.s);
		buf_reset(&srv.body);
		buf_add(&srv.body, body.s, body.len);
		/* skip "/v1.43" */
		path = target;
		if (path[0] == '/' && path[1] == 'v' && strchr(path + 1, '/'))
			path = strchr(path + 1, '/');
		for (i = 0; i < srv.nroutes; i++)
			if (!strcmp(method, srv.routes[i].method) &&
			    !strncmp(path, srv.routes[i].prefix, strlen(srv.routes[i].prefix)))
				break;
		if (i < srv.nroutes) {
			buf_add(&ans, srv.routes[i].resp->s, srv.routes[i].resp->len);
		} else {
			srv.unrouted++;
			buf_addstr(&ans, "HTTP/1.1 418 I'm a teapot\r\nContent-Length: 0\r\n"
				   "Connection: close\r\n\r\n");
		}
	}
	pthread_mutex_unlock(&srv.mu);
	send_all(fd, ans.s, ans.len);
out:
	shutdown(fd, SHUT_WR);
	buf_release(&head);
	buf_release(&body);
	buf_release(&ans);
}

static void *server_main(void *arg)
{
	(void)arg;
	for (;;) {
		int fd = accept(srv.fd, NULL, NULL), stop;

		if (fd < 0) {
			if (errno == EINTR)
				continue;
			break;
		}
		pthread_mutex_lock(&srv.mu);
		stop = srv.stop;
		pthread_mutex_unlock(&srv.mu);
		if (!stop)
			serve_one(fd);
		close(fd);
		if (stop)
			break;
	}
	return NULL;
}

static void server_start(void)
{
	struct sockaddr_un sa;

	snprintf(srv.dir, sizeof(srv.dir), "/tmp/pancake-test-docker-XXXXXX");
	if (!mkdtemp(srv.dir))
		die("mkdtemp: %s", strerror(errno));
	snprintf(srv.sock, sizeof(srv.sock), "%s/docker.sock", srv.dir);
	memset(&sa, 0, sizeof(sa));
	sa.sun_family = AF_UNIX;
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", srv.sock);
	srv.fd = socket(AF_UNIX, SOCK_STREAM, 0);
	if (srv.fd < 0 || bind(srv.fd, (struct sockaddr *)&sa, sizeof(sa)) || listen(srv.fd, 16))
		die("cannot listen on '%s': %s", srv.sock, strerror(errno));
	if (pthread_create(&srv.thread, NULL, server_main, NULL))
		die("pthread_create");
}

static void server_stop(void)
{
	struct sockaddr_un sa;
	int fd = socket(AF_UNIX, SOCK_STREAM, 0);

	pthread_mutex_lock(&srv.mu);
	srv.stop = 1;
	pthread_mutex_unlock(&srv.mu);
	memset(&sa, 0, sizeof(sa));
	sa.sun_family = AF_UNIX;
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", srv.sock);
	if (fd >= 0 && !connect(fd, (struct sockaddr *)&sa, sizeof(sa)))
		pthread_join(srv.thread, NULL);
	if (fd >= 0)
		close(fd);
	close(srv.fd);
	unlink(srv.sock);
	rmdir(srv.dir);
	buf_release(&srv.request);
	buf_release(&srv.headers);
	buf_release(&srv.body);
}

static void set_routes(const struct route *r, size_t n)
{
	pthread_mutex_lock(&srv.mu);
	srv.routes = r;
	srv.nroutes = n;
	buf_reset(&srv.request);
	pthread_mutex_unlock(&srv.mu);
}

/* copies of what the server saw, taken under its lock */
static void last_request(struct buf *req, struct buf *headers, struct buf *body)
{
	pthread_mutex_lock(&srv.mu);
	buf_reset(req);
	buf_addstr(req, srv.request.s);
	if (headers) {
		buf_reset(headers);
		buf_addstr(headers, srv.headers.s);
	}
	if (body) {
		buf_reset(body);
		buf_add(body, srv.body.s, srv.body.len);
	}
	pthread_mutex_unlock(&srv.mu);
}

/* an answer with Content-Length */
static void answer(struct buf *out, const char *status, const char *ctype, const char *body,
		   size_t len)
{
	buf_addf(out, "HTTP/1.1 %s\r\nApi-Version: 1.43\r\nContent-Type: %s\r\n"
		 "Docker-Experimental: false\r\nOstype: linux\r\nServer: Docker/24.0.7 (linux)\r\n"
		 "Content-Length: %zu\r\nConnection: close\r\n\r\n", status, ctype, len);
	buf_add(out, body, len);
}

/* a streamed answer, chunked every `every` bytes so lines and frames straddle chunks */
static void answer_chunked(struct buf *out, const char *ctype, const char *body, size_t len,
			   size_t every)
{
	size_t off;

	buf_addf(out, "HTTP/1.1 200 OK\r\nApi-Version: 1.43\r\nContent-Type: %s\r\n"
		 "Docker-Experimental: false\r\nOstype: linux\r\nServer: Docker/24.0.7 (linux)\r\n"
		 "Transfer-Encoding: chunked\r\nConnection: close\r\n\r\n", ctype);
	for (off = 0; off < len; off += every) {
		size_t n = len - off < every ? len - off : every;
		buf_addf(out, "%zx\r\n", n);
		buf_add(out, body + off, n);
		buf_addstr(out, "\r\n");
	}
	buf_addstr(out, "0\r\n\r\n");
}

static struct docker *open_engine(const char *version, int *code, struct buf *err)
{
	pthread_mutex_lock(&srv.mu);
	srv.ping_version = version;
	pthread_mutex_unlock(&srv.mu);
	return docker_open(NULL, code, err);
}

/* ---- version negotiation ---- */

static void test_open(void)
{
	struct docker *d;
	struct buf err = BUF_INIT, req = BUF_INIT, body = BUF_INIT;
	struct docker_version v;
	struct route r[1] = { { "GET", "/version", &body } };
	int code = 99;
	static const char version_json[] =
		"{\"Platform\":{\"Name\":\"Docker Engine - Community\"},\"Version\":\"24.0.7\","
		"\"ApiVersion\":\"1.43\",\"MinAPIVersion\":\"1.12\",\"GitCommit\":\"311b9ff\","
		"\"GoVersion\":\"go1.20.10\",\"Os\":\"linux\",\"Arch\":\"amd64\","
		"\"KernelVersion\":\"6.1.0-13-amd64\",\"BuildTime\":\"2023-10-26T09:07:41.000000000+00:00\"}\n";

	answer(&body, "200 OK", "application/json", version_json, strlen(version_json));
	set_routes(r, 1);

	d = open_engine("1.43", &code, &err);
	ok(d != NULL, "open: engine at API 1.43 opens: '%s'", err.s);
	is_int(code, 0, "open: code 0 on success");
	if (d) {
		is_str(docker_api_version(d), "1.43", "open: negotiated version is the engine's 1.43");
		is_str(docker_endpoint(d), getenv("DOCKER_HOST"), "open: endpoint is $DOCKER_HOST");
		is_int(docker_version(d, &v, &err), 0, "open: GET /version succeeds");
		last_request(&req, NULL, NULL);
		is_str(req.s, "GET /v1.43/version", "open: calls are prefixed with /v1.43");
		is_str(v.version, "24.0.7", "version: Version mapped");
		is_str(v.api_version, "1.43", "version: ApiVersion mapped");
		is_str(v.min_api_version, "1.12", "version: MinAPIVersion mapped");
		is_str(v.os, "linux", "version: Os mapped");
		is_str(v.arch, "amd64", "version: Arch mapped");
		docker_free(d);
	}

	d = open_engine("1.47", &code, &err);
	ok(d != NULL, "open: newer engine at 1.47 opens");
	if (d) {
		is_str(docker_api_version(d), "1.45", "open: 1.47 is capped at the client's 1.45");
		docker_version(d, &v, &err);
		last_request(&req, NULL, NULL);
		is_str(req.s, "GET /v1.45/version", "open: capped version used in paths");
		docker_free(d);
	}

	d = open_engine(NULL, &code, &err);
	ok(d != NULL, "open: a ping without Api-Version still opens");
	if (d) {
		is_str(docker_api_version(d), "1.41", "open: no Api-Version header assumes the minimum 1.41");
		docker_free(d);
	}

	buf_reset(&err);
	code = 99;
	d = open_engine("1.40", &code, &err);
	ok(d == NULL, "open: engine at API 1.40 refused");
	is_int(code, DOCKER_EFAIL, "open: too old is DOCKER_EFAIL");
	ok(strstr(err.s, "1.41") && strstr(err.s, "1.40"),
	   "open: message names both versions: '%s'", err.s);
	docker_free(d);

	buf_reset(&err);
	d = docker_open("ssh://build-host", &code, &err);
	ok(d == NULL && code == DOCKER_EFAIL, "open: ssh:// endpoint refused");
	ok(strstr(err.s, "'ssh://build-host'") != NULL, "open: message quotes the endpoint: '%s'", err.s);
	buf_release(&err);
	buf_release(&req);
	buf_release(&body);
}

static void test_unreachable(void)
{
	struct docker *d;
	struct buf err = BUF_INIT;
	char *host = xstrfmt("unix://%s/absent/docker.sock", srv.dir), *sock = host + 7;
	struct sockaddr_un sa;
	int code = 99, fd;

	d = docker_open(host, &code, &err);
	ok(d == NULL, "unreachable: no socket, no client");
	is_int(code, DOCKER_EUNREACH, "unreachable: missing socket is DOCKER_EUNREACH");
	ok(strstr(err.s, sock) != NULL, "unreachable: message names the socket path: '%s'", err.s);
	ok(strstr(err.s, "dockerd") != NULL, "unreachable: message names dockerd");
	free(host);

	/* a socket file nobody listens on: connection refused */
	host = xstrfmt("unix://%s/dead.sock", srv.dir);
	memset(&sa, 0, sizeof(sa));
	sa.sun_family = AF_UNIX;
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", host + 7);
	fd = socket(AF_UNIX, SOCK_STREAM, 0);
	if (fd < 0 || bind(fd, (struct sockaddr *)&sa, sizeof(sa)))
		die("bind '%s': %s", sa.sun_path, strerror(errno));
	close(fd);
	buf_reset(&err);
	code = 99;
	d = docker_open(host, &code, &err);
	ok(d == NULL && code == DOCKER_EUNREACH, "unreachable: refused connection is DOCKER_EUNREACH");
	ok(strstr(err.s, host + 7) != NULL, "unreachable: refused message names the socket");
	unlink(host + 7);
	free(host);
	buf_release(&err);
}

/* ---- containers ---- */

static const char containers_json[] =
	"[{\"Id\":\"8dfafdbc3a40a1b5e5d7b2b8e2c1d0f0a9e8d7c6b5a4f3e2d1c0b9a8f7e6d5c4\","
	"\"Names\":[\"/pancake-redis\"],\"Image\":\"pancake/redis\","
	"\"ImageID\":\"sha256:5f5d2f6e8a9b0c1d2e3f4a5b6c7d8e9f0a1b2c3d4e5f6a7b8c9d0e1f2a3b4c5d\","
	"\"Command\":\"/entrypoint.sh\",\"Created\":1732435200,"
	"\"Ports\":[{\"IP\":\"127.0.0.1\",\"PrivatePort\":6379,\"PublicPort\":6379,\"Type\":\"tcp\"}],"
	"\"Labels\":{\"com.pancake.project\":\"pancake\",\"com.pancake.service\":\"redis\","
	"\"com.pancake.config-hash\":\"4be1\"},"
	"\"State\":\"running\",\"Status\":\"Up 3 minutes\",\"HostConfig\":{\"NetworkMode\":\"pancake\"},"
	"\"NetworkSettings\":{\"Networks\":{\"pancake\":{\"IPAddress\":\"172.18.0.2\"}}},"
	"\"Mounts\":[{\"Type\":\"volume\",\"Name\":\"pancake-redis-data\","
	"\"Destination\":\"/var/lib/redis\",\"Driver\":\"local\",\"RW\":true}]},"
	"{\"Id\":\"1c2d3e4f5a6b7c8d9e0f1a2b3c4d5e6f7a8b9c0d1e2f3a4b5c6d7e8f9a0b1c2d\","
	"\"Names\":[\"/pancake-kafka\"],\"Image\":\"pancake/kafka:latest\","
	"\"ImageID\":\"sha256:aa11\",\"Command\":\"/entrypoint.sh\",\"Created\":1732435100,"
	"\"Ports\":[{\"PrivatePort\":9093,\"Type\":\"tcp\"},"
	"{\"IP\":\"127.0.0.1\",\"PrivatePort\":9092,\"PublicPort\":19092,\"Type\":\"tcp\"},"
	"{\"IP\":\"::1\",\"PrivatePort\":9092,\"PublicPort\":19092,\"Type\":\"tcp\"}],"
	"\"Labels\":{\"com.pancake.project\":\"pancake\",\"com.pancake.service\":\"kafka\"},"
	"\"State\":\"exited\",\"Status\":\"Exited (137) 2 minutes ago\","
	"\"HostConfig\":{\"NetworkMode\":\"pancake\"},\"NetworkSettings\":{\"Networks\":{}},"
	"\"Mounts\":[]}]\n";

static void test_containers(struct docker *d)
{
	struct buf err = BUF_INIT, req = BUF_INIT, list = BUF_INIT, nf = BUF_INIT, e500 = BUF_INIT;
	struct buf conflict = BUF_INIT, notmod = BUF_INIT;
	struct route r[] = {
		{ "GET", "/containers/json", &list },
		{ "GET", "/containers/x/json", &nf },
		{ "GET", "/info", &e500 },
		{ "DELETE", "/containers/busy", &conflict },
		{ "POST", "/containers/up/start", &notmod },
	};
	struct strvec labels = STRVEC_INIT;
	struct docker_container *cs = NULL, c;
	struct docker_info info;
	size_t n = 99;
	static const char nf_json[] = "{\"message\":\"No such container: x\"}\n";
	static const char e500_json[] = "{\"message\":\"layer does not exist\"}\n";
	static const char conflict_json[] =
		"{\"message\":\"You cannot remove a running container busy. Stop the container "
		"before attempting removal or force remove\"}\n";

	answer(&list, "200 OK", "application/json", containers_json, strlen(containers_json));
	answer(&nf, "404 Not Found", "application/json", nf_json, strlen(nf_json));
	answer(&e500, "500 Internal Server Error", "application/json", e500_json, strlen(e500_json));
	answer(&conflict, "409 Conflict", "application/json", conflict_json, strlen(conflict_json));
	buf_addstr(&notmod, "HTTP/1.1 304 Not Modified\r\nApi-Version: 1.43\r\nConnection: close\r\n\r\n");
	set_routes(r, ARRAY_SIZE(r));

	strvec_push(&labels, "com.pancake.project=pancake");
	is_int(docker_containers_list(d, &labels, &cs, &n, &err), 0, "list: GET /containers/json succeeds: '%s'", err.s);
	last_request(&req, NULL, NULL);
	ok(!strncmp(req.s, "GET /v1.43/containers/json?all=1&filters=", 41),
	   "list: asks for all containers with a filter: '%s'", req.s);
	ok(strstr(req.s, "%22label%22%3A%5B%22com.pancake.project%3Dpancake%22%5D") != NULL,
	   "list: the label filter is URL-encoded JSON");
	is_int(n, 2, "list: two containers");
	if (n == 2) {
		is_str(cs[0].id, "8dfafdbc3a40a1b5e5d7b2b8e2c1d0f0a9e8d7c6b5a4f3e2d1c0b9a8f7e6d5c4", "list: Id");
		is_str(cs[0].name, "pancake-redis", "list: Names[0] without its '/'");
		is_str(cs[0].image, "pancake/redis", "list: Image");
		ok(!strncmp(cs[0].image_id, "sha256:5f5d", 11), "list: ImageID");
		is_str(cs[0].state, "running", "list: State");
		is_str(cs[0].status, "Up 3 minutes", "list: Status");
		is_int(cs[0].running, 1, "list: running derived from State");
		is_int(cs[0].created, 1732435200, "list: Created (unix seconds)");
		is_str(kvlist_get(&cs[0].labels, "com.pancake.service"), "redis", "list: Labels mapped");
		is_str(kvlist_get(&cs[0].labels, "com.pancake.config-hash"), "4be1", "list: every label mapped");
		is_int(cs[0].nports, 1, "list: one published port");
		if (cs[0].nports == 1) {
			is_int(cs[0].ports[0].container_port, 6379, "list: PrivatePort");
			is_int(cs[0].ports[0].host_port, 6379, "list: PublicPort");
			is_str(cs[0].ports[0].host_ip, "127.0.0.1", "list: IP");
			is_str(cs[0].ports[0].proto, "tcp", "list: Type");
		}
		is_str(cs[1].name, "pancake-kafka", "list: second container name");
		is_str(cs[1].state, "exited", "list: second State");
		is_int(cs[1].running, 0, "list: exited is not running");
		is_str(kvlist_get(&cs[1].labels, "com.pancake.service"), "kafka", "list: second Labels");
		is_int(cs[1].nports, 2, "list: an exposed but unpublished port is skipped");
		if (cs[1].nports == 2) {
			is_int(cs[1].ports[0].host_port, 19092, "list: kafka PublicPort");
			is_int(cs[1].ports[0].container_port, 9092, "list: kafka PrivatePort");
			is_str(cs[1].ports[1].host_ip, "::1", "list: IPv6 binding kept");
		}
	}
	docker_containers_free(cs, n);
	strvec_clear(&labels);

	buf_reset(&err);
	is_int(docker_container_inspect(d, "x", &c, &err), DOCKER_ENOTFOUND, "404: inspect gives DOCKER_ENOTFOUND");
	ok(strstr(err.s, "No such container: x") != NULL, "404: err carries the engine's message: '%s'", err.s);
	last_request(&req, NULL, NULL);
	is_str(req.s, "GET /v1.43/containers/x/json", "404: the inspect path");

	buf_reset(&err);
	is_int(docker_info(d, &info, &err), DOCKER_EFAIL, "500: gives DOCKER_EFAIL");
	ok(strstr(err.s, "layer does not exist") != NULL, "500: err carries the message: '%s'", err.s);
	ok(strstr(err.s, "HTTP 500") != NULL, "500: err names the status");

	buf_reset(&err);
	is_int(docker_container_remove(d, "busy", 0, 1, &err), DOCKER_ECONFLICT, "409: remove gives DOCKER_ECONFLICT");
	ok(strstr(err.s, "cannot remove a running container") != NULL, "409: err carries the message");
	last_request(&req, NULL, NULL);
	is_str(req.s, "DELETE /v1.43/containers/busy?force=0&v=1", "409: the remove path and query");

	buf_reset(&err);
	is_int(docker_container_start(d, "up", &err), 0, "304: starting a started container is not an error");
	last_request(&req, NULL, NULL);
	is_str(req.s, "POST /v1.43/containers/up/start", "304: the start path");

	buf_release(&err);
	buf_release(&req);
	buf_release(&list);
	buf_release(&nf);
	buf_release(&e500);
	buf_release(&conflict);
	buf_release(&notmod);
}

/* ---- build: an error inside a 200 ---- */

struct progress_count {
	int calls, errors;
	struct buf text;
};

static void on_progress(const struct docker_progress *p, void *ctx)
{
	struct progress_count *pc = ctx;

	pc->calls++;
	if (p->error)
		pc->errors++;
	if (p->stream)
		buf_addstr(&pc->text, p->stream);
}

static FILE *context_file(const char *bytes, size_t len)
{
	FILE *f = tmpfile();

	if (!f || fwrite(bytes, 1, len, f) != len || fseek(f, 0, SEEK_SET))
		die("cannot write a build context");
	return f;
}

static void test_build(struct docker *d)
{
	static const char failed[] =
		"{\"stream\":\"Step 1/3 : FROM pancake/base\"}\r\n"
		"{\"stream\":\"\\n\"}\r\n"
		"{\"stream\":\" ---\\u003e 3f1c0e1b2a4d\\n\"}\r\n"
		"{\"stream\":\"Step 2/3 : RUN false\"}\r\n"
		"{\"stream\":\"\\n\"}\r\n"
		"{\"stream\":\" ---\\u003e Running in 7f3c5b0b2e3a\\n\"}\r\n"
		"{\"errorDetail\":{\"code\":1,\"message\":\"The command '/bin/sh -c false' returned a "
		"non-zero code: 1\"},\"error\":\"The command '/bin/sh -c false' returned a non-zero "
		"code: 1\"}\r\n";
	static const char built[] =
		"{\"stream\":\"Step 1/1 : FROM pancake/base\"}\r\n"
		"{\"stream\":\"\\n\"}\r\n"
		"{\"stream\":\" ---\\u003e 3f1c0e1b2a4d\\n\"}\r\n"
		"{\"aux\":{\"ID\":\"sha256:3f1c0e1b2a4d5e6f\"}}\r\n"
		"{\"stream\":\"Successfully built 3f1c0e1b2a4d\\n\"}\r\n"
		"{\"stream\":\"Successfully tagged pancake/x:latest\\n\"}\r\n";
	static const char ctx_bytes[] = "Dockerfile\0\0\0pretend this is a tar of 3 KiB";
	struct buf fail_resp = BUF_INIT, ok_resp = BUF_INIT, err = BUF_INIT, id = BUF_INIT;
	struct buf req = BUF_INIT, headers = BUF_INIT, body = BUF_INIT, big = BUF_INIT;
	struct route rf[1] = { { "POST", "/build", &fail_resp } };
	struct route rok[1] = { { "POST", "/build", &ok_resp } };
	struct progress_count pc = { 0, 0, BUF_INIT };
	struct kvlist labels = KVLIST_INIT;
	FILE *ctx;
	size_t i;

	answer_chunked(&fail_resp, "application/json", failed, strlen(failed), 37);
	answer_chunked(&ok_resp, "application/json", built, strlen(built), 50);

	set_routes(rf, 1);
	ctx = context_file(ctx_bytes, sizeof(ctx_bytes));
	kvlist_set(&labels, "com.pancake.image", "x");
	ok(docker_image_build(d, ctx, "pancake/x:latest", &labels, on_progress, &pc, &id, &err) != 0,
	   "build: an errorDetail inside HTTP 200 fails the build");
	is_str(err.s, "The command '/bin/sh -c false' returned a non-zero code: 1",
	       "build: err holds the build's own error line");
	is_int(id.len, 0, "build: no image id from a failed build");
	is_int(pc.calls, 7, "build: every object of the stream reached the callback");
	is_int(pc.errors, 1, "build: the callback saw the error object");
	ok(strstr(pc.text.s, "Step 2/3 : RUN false") != NULL, "build: build output passed on");
	last_request(&req, &headers, &body);
	ok(!strncmp(req.s, "POST /v1.43/build?", 18), "build: POST /v1.43/build: '%s'", req.s);
	ok(strstr(req.s, "t=pancake%2Fx%3Alatest") != NULL, "build: tag URL-encoded in the query");
	ok(strstr(req.s, "labels=%7B%22com.pancake.image%22%3A%22x%22%7D") != NULL,
	   "build: labels as URL-encoded JSON");
	ok(strcasestr(headers.s, "Content-Type: application/x-tar") != NULL, "build: tar content type");
	ok(body.len == sizeof(ctx_bytes) && !memcmp(body.s, ctx_bytes, sizeof(ctx_bytes)),
	   "build: the context was uploaded byte for byte (%zu bytes)", body.len);
	fclose(ctx);

	/* a context larger than one upload buffer arrives whole */
	for (i = 0; big.len < 300000; i++)
		buf_addf(&big, "%zu,", i);
	set_routes(rok, 1);
	ctx = context_file(big.s, big.len);
	buf_reset(&err);
	pc.calls = 0;
	is_int(docker_image_build(d, ctx, "pancake/x:latest", NULL, NULL, NULL, &id, &err), 0,
	       "build: a clean stream succeeds: '%s'", err.s);
	is_str(id.s, "sha256:3f1c0e1b2a4d5e6f", "build: the aux ID is the image id");
	last_request(&req, &headers, &body);
	ok(body.len == big.len && !memcmp(body.s, big.s, big.len),
	   "build: a %zu-byte context uploaded whole", big.len);
	fclose(ctx);

	kvlist_clear(&labels);
	buf_release(&fail_resp);
	buf_release(&ok_resp);
	buf_release(&err);
	buf_release(&id);
	buf_release(&req);
	buf_release(&headers);
	buf_release(&body);
	buf_release(&big);
	buf_release(&pc.text);
}

/* ---- logs and events: streams through the real transfer ---- */

static void on_frame(int stream, const char *data, size_t len, void *ctx)
{
	struct buf *b = ctx;

	buf_addf(b, "%d[", stream);
	buf_add(b, data, len);
	buf_addch(b, ']');
}

static void frame(struct buf *b, int stream, const char *s)
{
	uint32_t n = (uint32_t)strlen(s);

	buf_addch(b, stream);
	buf_add(b, "\0\0\0", 3);
	buf_addch(b, (int)(n >> 24));
	buf_addch(b, (int)(n >> 16 & 0xff));
	buf_addch(b, (int)(n >> 8 & 0xff));
	buf_addch(b, (int)(n & 0xff));
	buf_addstr(b, s);
}

struct events_seen {
	int n;
	struct buf log;
};

static int on_event(const struct docker_event *ev, void *ctx)
{
	struct events_seen *es = ctx;

	es->n++;
	buf_addf(&es->log, "%s %s %s %s %s %s;", ev->type, ev->action, ev->name ? ev->name : "-",
		 ev->exit_code ? ev->exit_code : "-", ev->project ? ev->project : "-",
		 ev->service ? ev->service : "-");
	return es->n == 2;
}

static void test_streams(struct docker *d)
{
	static const char events[] =
		"{\"status\":\"start\",\"id\":\"8dfa\",\"from\":\"pancake/redis\",\"Type\":\"container\","
		"\"Action\":\"start\",\"Actor\":{\"ID\":\"8dfa\",\"Attributes\":{\"com.pancake.project\":"
		"\"pancake\",\"com.pancake.service\":\"redis\",\"image\":\"pancake/redis\",\"name\":"
		"\"pancake-redis\"}},\"scope\":\"local\",\"time\":1732435200,\"timeNano\":1732435200123456789}\n"
		"{\"status\":\"die\",\"id\":\"1c2d\",\"from\":\"pancake/kafka\",\"Type\":\"container\","
		"\"Action\":\"die\",\"Actor\":{\"ID\":\"1c2d\",\"Attributes\":{\"com.pancake.project\":"
		"\"pancake\",\"com.pancake.service\":\"kafka\",\"exitCode\":\"137\",\"name\":"
		"\"pancake-kafka\"}},\"scope\":\"local\",\"time\":1732435201,\"timeNano\":1732435201000000000}\n"
		"{\"Type\":\"container\",\"Action\":\"destroy\",\"Actor\":{\"ID\":\"zz\",\"Attributes\":{}}}\n";
	struct buf logs = BUF_INIT, logs_resp = BUF_INIT, ev_resp = BUF_INIT, got = BUF_INIT;
	struct buf err = BUF_INIT, req = BUF_INIT;
	struct route r[] = {
		{ "GET", "/containers/abc/logs", &logs_resp },
		{ "GET", "/events", &ev_resp },
	};
	struct docker_logs_opts o;
	struct events_seen es = { 0, BUF_INIT };

	frame(&logs, 1, "redis ready\n");
	frame(&logs, 2, "warning: overcommit_memory\n");
	frame(&logs, 1, "");
	frame(&logs, 1, "bye\n");
	answer_chunked(&logs_resp, "application/vnd.docker.multiplexed-stream", logs.s, logs.len, 5);
	answer_chunked(&ev_resp, "application/json", events, strlen(events), 64);
	set_routes(r, ARRAY_SIZE(r));

	memset(&o, 0, sizeof(o));
	o.stdout_ = o.stderr_ = 1;
	o.tail = 100;
	is_int(docker_container_logs(d, "abc", &o, on_frame, &got, &err), 0, "logs: stream read: '%s'", err.s);
	is_str(got.s, "1[redis ready\n]2[warning: overcommit_memory\n]1[bye\n]",
	       "logs: frames split over 5-byte chunks demultiplexed");
	last_request(&req, NULL, NULL);
	is_str(req.s, "GET /v1.43/containers/abc/logs?stdout=1&stderr=1&follow=0&timestamps=0&tail=100",
	       "logs: the logs path and query");

	buf_reset(&err);
	is_int(docker_events(d, "com.pancake.project=pancake", "com.pancake.project",
			     "com.pancake.service", 0, on_event, &es, NULL, &err), 0,
	       "events: stopping from the callback is success: '%s'", err.s);
	is_int(es.n, 2, "events: no event after the callback asked to stop");
	is_str(es.log.s, "container start pancake-redis - pancake redis;"
	       "container die pancake-kafka 137 pancake kafka;",
	       "events: type, action, name, exitCode and the two labels mapped");
	last_request(&req, NULL, NULL);
	ok(!strncmp(req.s, "GET /v1.43/events?filters=", 26), "events: the events path: '%s'", req.s);

	buf_release(&logs);
	buf_release(&logs_resp);
	buf_release(&ev_resp);
	buf_release(&got);
	buf_release(&err);
	buf_release(&req);
	buf_release(&es.log);
}

int main(void)
{
	struct docker *d;
	struct buf err = BUF_INIT;
	char *host;
	int code;

	server_start();
	host = xstrfmt("unix://%s", srv.sock);
	setenv("DOCKER_HOST", host, 1);
	test_open();
	test_unreachable();
	d = open_engine("1.43", &code, &err);
	if (!ok(d != NULL, "main: engine opens for the request tests: '%s'", err.s))
		return tap_done();
	test_containers(d);
	test_build(d);
	test_streams(d);
	pthread_mutex_lock(&srv.mu);
	is_int(srv.unrouted, 0, "server: every request matched a recorded answer");
	pthread_mutex_unlock(&srv.mu);
	docker_free(d);
	server_stop();
	free(host);
	buf_release(&err);
	return tap_done();
}
