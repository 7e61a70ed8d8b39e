/*
 * redis: the Redis readiness probe and a pipelined connection with bounded
 * depth, over hiredis; nothing of hiredis leaks.
 */
#include "clients/redis.h"
#include "util/clock.h"
#include "util/hostport.h"
#include "util/xalloc.h"

#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <poll.h>
#include <sys/socket.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
#include <time.h>

#include <hiredis/hiredis.h>

static struct timeval ms_to_tv(int64_t ms)
{
	struct timeval tv;

	/* a zero timeval means "block forever" to hiredis: never pass it */
	if (ms < 1)
		ms = 1;
	tv.tv_sec = (time_t)(ms / 1000);
	tv.tv_usec = (suseconds_t)(ms % 1000 * 1000);
	return tv;
}

/* hiredis reports a socket timeout as an I/O error with EAGAIN or ETIMEDOUT */
static int is_timeout(const redisContext *c, int saved_errno)
{
	return c->err == REDIS_ERR_IO &&
	       (saved_errno == EAGAIN || saved_errno == EWOULDBLOCK ||
		saved_errno == ETIMEDOUT || saved_errno == EINPROGRESS);
}

static int context_error(const redisContext *c, int saved_errno,
			 const char *host, int port, int timeout_ms,
			 const char *doing, struct buf *err)
{
	if (is_timeout(c, saved_errno)) {
		if (err)
			buf_addf(err, "timed out after %d ms %s redis at "
				 "'%s:%d': is it still starting?", timeout_ms,
				 doing, host, port);
		return REDIS_ETIMEOUT;
	}
	if (err) {
		if (c->err == REDIS_ERR_EOF)
			buf_addf(err, "redis at '%s:%d' closed the connection: "
				 "is it still starting?", host, port);
		else
			buf_addf(err, "cannot reach redis at '%s:%d': %c%s; "
				 "is the container running with its port "
				 "published?", host, port,
				 tolower((unsigned char)c->errstr[0]),
				 c->errstr[0] ? c->errstr + 1 : "");
	}
	return REDIS_EIO;
}

int redis_probe(const char *host, int port, int timeout_ms, struct buf *err)
{
	int64_t deadline = clock_ms() + (timeout_ms < 1 ? 1 : timeout_ms);
	redisContext *c;
	redisReply *reply = NULL;
	int ret;

	c = redisConnectWithTimeout(host, port, ms_to_tv(deadline - clock_ms()));
	if (!c) {
		if (err)
			buf_addf(err, "cannot allocate a redis context for "
				 "'%s:%d': out of memory?", host, port);
		return REDIS_EIO;
	}
	if (c->err) {
		ret = context_error(c, errno, host, port, timeout_ms,
				    "connecting to", err);
		goto out;
	}
	/* the connect timeout does not cover replies: give them what is left */
	if (redisSetTimeout(c, ms_to_tv(deadline - clock_ms())) != REDIS_OK) {
		ret = context_error(c, errno, host, port, timeout_ms,
				    "configuring", err);
		goto out;
	}
	reply = redisCommand(c, "PING");
	if (!reply) {
		ret = context_error(c, errno, host, port, timeout_ms,
				    "waiting for", err);
		goto out;
	}
	if (reply->type == REDIS_REPLY_STATUS && reply->str &&
	    !strcmp(reply->str, "PONG")) {
		ret = 0;
		goto out;
	}
	if (reply->type == REDIS_REPLY_ERROR && reply->str &&
	    !strncmp(reply->str, "LOADING", 7)) {
		if (err)
			buf_addf(err, "redis at '%s:%d' is not ready yet: %s",
				 host, port, reply->str);
		ret = REDIS_ELOADING;
		goto out;
	}
	if (err) {
		if (reply->type == REDIS_REPLY_ERROR && reply->str &&
		    !strncmp(reply->str, "NOAUTH", 6))
			buf_addf(err, "redis at '%s:%d' answered PING with "
				 "'%s': run it without requirepass", host,
				 port, reply->str);
		else if (reply->type == REDIS_REPLY_ERROR ||
			 reply->type == REDIS_REPLY_STATUS)
			buf_addf(err, "redis at '%s:%d' answered PING with "
				 "'%s': is this port redis?", host, port,
				 reply->str ? reply->str : "");
		else
			buf_addf(err, "redis at '%s:%d' answered PING with a "
				 "reply of type %d: is this port redis?", host,
				 port, reply->type);
	}
	ret = REDIS_EREPLY;
out:
	if (reply)
		freeReplyObject(reply);
	redisFree(c);
	return ret;
}

/* what a pending command was, to quote it when its reply is an error */
#define DESC_MAX 72
/* queued bytes that make an append try to send them (without waiting) */
#define SEND_CHUNK (64u << 10)
#define RECV_CHUNK (64u << 10)

/*
 * The pipeline does its own I/O on the context's socket, without blocking
 * while there is work to queue: appends format RESP into `out`, which is
 * sent as the socket takes it while replies are read as they come (hiredis
 * only writes when asked for a reply, which turns a pipeline into turns of
 * writing and waiting). Replies are parsed with a hiredis reader of our
 * own; the context's blocking calls are used only with nothing pending.
 */
struct redis_conn {
	redisContext *ctx;
	redisReader *reader;
	struct buf out;		/* RESP not sent yet, from out_off */
	size_t out_off;
	char *host;
	int port, timeout_ms;
	int depth;
	char (*desc)[DESC_MAX];	/* ring of `depth` descriptions */
	size_t head, pending;	/* oldest pending at desc[head] */
	uint64_t acked;
	int64_t isum;		/* sum of the integer replies read */
	size_t asks;		/* redis_ztop_ask replies still to take */
	int failed;
};

int redis_connect(struct redis_conn **out, const char *host, int port,
		  int timeout_ms, int depth, struct buf *err)
{
	struct redis_conn *c;
	int ret;

	*out = NULL;
	if (timeout_ms < 1)
		timeout_ms = 1;
	c = xcalloc(1, sizeof(*c));
	c->host = xstrdup(host);
	c->port = port;
	c->timeout_ms = timeout_ms;
	c->depth = depth > 1 ? depth : REDIS_DEFAULT_DEPTH;
	c->desc = xmalloc((size_t)c->depth * sizeof(*c->desc));
	buf_init(&c->out, SEND_CHUNK * 2);
	c->reader = redisReaderCreate();
	if (!c->reader)
		die("cannot allocate a redis reply reader: out of memory");
	c->ctx = redisConnectWithTimeout(host, port, ms_to_tv(timeout_ms));
	if (!c->ctx) {
		if (err)
			buf_addf(err, "cannot allocate a redis context for "
				 "'%s:%d': out of memory?", host, port);
		ret = REDIS_EIO;
		goto fail;
	}
	if (c->ctx->err) {
		ret = context_error(c->ctx, errno, host, port, timeout_ms,
				    "connecting to", err);
		goto fail;
	}
	if (redisSetTimeout(c->ctx, ms_to_tv(timeout_ms)) != REDIS_OK) {
		ret = context_error(c->ctx, errno, host, port, timeout_ms,
				    "configuring", err);
		goto fail;
	}
	*out = c;
	return 0;
fail:
	redis_close(c);
	return ret;
}

int redis_addrs_parse(const char *text, struct redis_addrs *a)
{
	const char *p = text;

	memset(a, 0, sizeof(*a));
	while (*p) {
		size_t len = strcspn(p, ",");
		char one[160];

		if (!len || len >= sizeof(one) || a->n == REDIS_ADDRS_MAX)
			return -1;
		memcpy(one, p, len);
		one[len] = '\0';
		if (hostport_parse(one, a->host[a->n], sizeof(a->host[0]), &a->port[a->n]))
			return -1;
		a->n++;
		p += len;
		if (*p == ',' && !*++p)
			return -1;
	}
	return a->n ? 0 : -1;
}

int redis_connect_nearest(struct redis_conn **out, const struct redis_addrs *a,
			  int timeout_ms, int depth, int *which, struct buf *err)
{
	double best_rtt = 0;
	int i, best = -1, ret = REDIS_EIO;

	*out = NULL;
	if (a->n == 1) {
		ret = redis_connect(out, a->host[0], a->port[0], timeout_ms, depth, err);
		if (!ret && which)
			*which = 0;
		return ret;
	}
	for (i = 0; i < a->n; i++) {
		const char *argv[] = { "DBSIZE" };
		struct redis_conn *c = NULL;
		struct buf e = BUF_INIT;
		double rtt = 1e9;
		int64_t n;
		int k, r;

		r = redis_connect(&c, a->host[i], a->port[i], timeout_ms, depth, &e);
		for (k = 0; !r && k < 3; k++) {
			double t0 = clock_s(), dt;
			r = redis_integer(c, 1, argv, &n, &e);
			dt = clock_s() - t0;
			if (dt < rtt)
				rtt = dt;
		}
		if (r) {
			if (err)
				buf_addf(err, "%s%s", err->len ? "; " : "", e.s);
			ret = r;
			redis_close(c);
		} else if (best < 0 || rtt < best_rtt) {
			redis_close(*out);
			*out = c;
			best = i;
			best_rtt = rtt;
		} else {
			redis_close(c);
		}
		buf_release(&e);
	}
	if (best < 0)
		return ret;
	if (err)
		buf_reset(err);
	if (which)
		*which = best;
	return 0;
}

void redis_close(struct redis_conn *c)
{
	if (!c)
		return;
	if (c->ctx)
		redisFree(c->ctx);
	if (c->reader)
		redisReaderFree(c->reader);
	buf_release(&c->out);
	free(c->desc);
	free(c->host);
	free(c);
}

uint64_t redis_acked(const struct redis_conn *c)
{
	return c->acked;
}

static void describe(char *d, int argc, const char **argv,
		     const size_t *argvlen)
{
	int n = 0;

	d[0] = '\0';
	for (int i = 0; i < argc && i < 2 && n < DESC_MAX - 1; i++) {
		size_t len = argvlen ? argvlen[i] : strlen(argv[i]);
		int w = snprintf(d + n, DESC_MAX - (size_t)n, "%s%.*s",
				 i ? " " : "", (int)(len > 48 ? 48 : len),
				 argv[i]);

		if (w < 0)
			break;
		n += w;
	}
	if (argc > 2 && n < DESC_MAX - 5)
		snprintf(d + n, DESC_MAX - (size_t)n, " ...");
}

/* checks the reply of the oldest pending command */
static int check_reply(struct redis_conn *c, redisReply *reply, struct buf *err)
{
	const char *what = c->desc[c->head];
	int ret = 0;

	if (reply->type == REDIS_REPLY_ERROR) {
		if (err)
			buf_addf(err, "redis at '%s:%d' refused '%s': %s",
				 c->host, c->port, what,
				 reply->str ? reply->str : "");
		c->failed = 1;
		ret = REDIS_ECMD;
	} else if (reply->type == REDIS_REPLY_INTEGER) {
		c->isum += reply->integer;
	} else if (reply->type == REDIS_REPLY_ARRAY && !strcmp(what, "EXEC")) {
		/* a transaction's commands answer inside EXEC's array */
		for (size_t i = 0; i < reply->elements && !ret; i++)
			if (reply->element[i]->type == REDIS_REPLY_ERROR) {
				if (err)
					buf_addf(err, "redis at '%s:%d' refused command %zu "
						 "of a transaction: %s", c->host, c->port,
						 i + 1, reply->element[i]->str ?
						 reply->element[i]->str : "");
				c->failed = 1;
				ret = REDIS_ECMD;
			}
	}
	c->head = (c->head + 1) % (size_t)c->depth;
	c->pending--;
	c->acked++;
	return ret;
}

static int io_error(struct redis_conn *c, int eof, int saved_errno, struct buf *err)
{
	c->failed = 1;
	if (err) {
		if (eof)
			buf_addf(err, "redis at '%s:%d' closed the connection",
				 c->host, c->port);
		else
			buf_addf(err, "lost redis at '%s:%d': %s", c->host,
				 c->port, strerror(saved_errno));
		if (c->pending)
			buf_addf(err, " (%zu command(s) unanswered, the first "
				 "'%s')", c->pending, c->desc[c->head]);
	}
	return REDIS_EIO;
}

/* sends what the socket takes now: 1 if it took some, 0, or < 0 */
static int send_some(struct redis_conn *c, struct buf *err)
{
	ssize_t w = send(c->ctx->fd, c->out.s + c->out_off, c->out.len - c->out_off,
			 MSG_DONTWAIT | MSG_NOSIGNAL);

	if (w < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR)
		return io_error(c, 0, errno, err);
	if (w <= 0)
		return 0;
	c->out_off += (size_t)w;
	if (c->out_off == c->out.len) {
		buf_reset(&c->out);
		c->out_off = 0;
	}
	return 1;
}

/* feeds what has come to the reader: 1 if something came, 0, or < 0 */
static int recv_some(struct redis_conn *c, struct buf *err)
{
	char in[RECV_CHUNK];
	ssize_t r = recv(c->ctx->fd, in, sizeof(in), MSG_DONTWAIT);

	if (r == 0)
		return io_error(c, 1, 0, err);
	if (r < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR)
		return io_error(c, 0, errno, err);
	if (r < 0)
		return 0;
	if (redisReaderFeed(c->reader, in, (size_t)r) != REDIS_OK)
		return io_error(c, 0, EPROTO, err);
	return 1;
}

/* the next whole reply the reader holds into *reply (NULL: none yet); 0 or < 0 */
static int next_reply(struct redis_conn *c, void **reply, struct buf *err)
{
	if (redisReaderGetReply(c->reader, reply) == REDIS_OK)
		return 0;
	c->failed = 1;
	if (err)
		buf_addf(err, "redis at '%s:%d' sent a reply that is not RESP: %s", c->host,
			 c->port, c->reader->errstr);
	return REDIS_EIO;
}

/*
 * Sends what the socket takes and reads what has come, until at most
 * `keep` replies are pending and, when `drain`, nothing is left to send.
 * `wait` 0: only what needs no waiting. A silence of timeout_ms while
 * waiting is REDIS_ETIMEOUT.
 */
static int pump(struct redis_conn *c, size_t keep, int drain, int wait, struct buf *err)
{
	int fd = c->ctx->fd;
	int64_t quiet_since = clock_ms();

	for (;;) {
		struct pollfd pfd = { fd, POLLIN, 0 };
		int have_out = c->out.len > c->out_off, n, progress = 0, r;

		if (c->pending <= keep && (!drain || !have_out) && wait)
			return 0;
		int left = wait ? (int)(c->timeout_ms - (clock_ms() - quiet_since)) : 0;

		if (have_out)
			pfd.events |= POLLOUT;
		n = wait && left <= 0 ? 0 : poll(&pfd, 1, left);
		if (n < 0 && errno != EINTR)
			return io_error(c, 0, errno, err);
		if (n == 0 && !wait)
			return 0;
		if (n == 0) {
			c->failed = 1;
			if (err)
				buf_addf(err, "redis at '%s:%d' did not answer within %d ms "
					 "(%zu command(s) pending, the first '%s')", c->host,
					 c->port, c->timeout_ms, c->pending,
					 c->pending ? c->desc[c->head] : "-");
			return REDIS_ETIMEOUT;
		}
		if (n < 0)
			continue;
		if ((pfd.revents & POLLOUT) && (r = send_some(c, err)) != 0) {
			if (r < 0)
				return r;
			progress = 1;
		}
		if ((pfd.revents & (POLLIN | POLLHUP | POLLERR)) && (r = recv_some(c, err)) != 0) {
			if (r < 0)
				return r;
			progress = 1;
			for (;;) {
				void *reply;
				int ret;

				if ((ret = next_reply(c, &reply, err)))
					return ret;
				if (!reply)
					break;
				if (!c->pending) {
					freeReplyObject(reply);
					c->failed = 1;
					if (err)
						buf_addf(err, "redis at '%s:%d' sent a reply to no "
							 "command", c->host, c->port);
					return REDIS_EIO;
				}
				ret = check_reply(c, reply, err);
				freeReplyObject(reply);
				if (ret)
					return ret;
			}
		}
		if (progress)
			quiet_since = clock_ms();
	}
}

static int check_usable(struct redis_conn *c, struct buf *err)
{
	if (!c->failed)
		return 0;
	if (err)
		buf_addf(err, "the connection to redis at '%s:%d' failed "
			 "earlier: connect again", c->host, c->port);
	return REDIS_EIO;
}

/* "<mark><n>\r\n" into `out` (32 bytes); returns its length */
static size_t resp_head(char *out, char mark, size_t n)
{
	char tmp[24], *e = tmp + sizeof(tmp), *p = e;
	size_t len;

	do
		*--p = (char)('0' + n % 10);
	while (n /= 10);
	out[0] = mark;
	len = (size_t)(e - p);
	memcpy(out + 1, p, len);
	out[1 + len] = '\r';
	out[2 + len] = '\n';
	return len + 3;
}

/* "*N\r\n" then "$len\r\narg\r\n" per argument: RESP, as hiredis writes it */
static void format_resp(struct buf *b, int argc, const char **argv, const size_t *argvlen)
{
	size_t total = 32, len;
	char *p;
	int i;

	for (i = 0; i < argc; i++)
		total += (argvlen ? argvlen[i] : strlen(argv[i])) + 32;
	buf_grow(b, total);
	p = b->s + b->len;
	p += resp_head(p, '*', (size_t)argc);
	for (i = 0; i < argc; i++) {
		len = argvlen ? argvlen[i] : strlen(argv[i]);
		p += resp_head(p, '$', len);
		memcpy(p, argv[i], len);
		p += len;
		*p++ = '\r';
		*p++ = '\n';
	}
	buf_setlen(b, (size_t)(p - b->s));
}

int redis_append(struct redis_conn *c, int argc, const char **argv,
		 const size_t *argvlen, struct buf *err)
{
	int ret = check_usable(c, err);

	if (ret)
		return ret;
	/* a full window: wait until half of it is answered */
	if (c->pending >= (size_t)c->depth &&
	    (ret = pump(c, (size_t)c->depth / 2, 0, 1, err)))
		return ret;
	format_resp(&c->out, argc, argv, argvlen);
	describe(c->desc[(c->head + c->pending) % (size_t)c->depth], argc,
		 argv, argvlen);
	c->pending++;
	if (c->out.len - c->out_off >= SEND_CHUNK)
		return pump(c, (size_t)c->depth, 0, 0, err);
	return 0;
}

int redis_flush(struct redis_conn *c, struct buf *err)
{
	int ret = check_usable(c, err);

	if (!ret)
		ret = pump(c, 0, 1, 1, err);
	return ret;
}

int redis_integer(struct redis_conn *c, int argc, const char **argv,
		  int64_t *n, struct buf *err)
{
	redisReply *reply = NULL;
	char what[DESC_MAX];
	int ret;

	if ((ret = redis_flush(c, err)))
		return ret;
	describe(what, argc, argv, NULL);
	reply = redisCommandArgv(c->ctx, argc, argv, NULL);
	if (!reply) {
		c->failed = 1;
		return context_error(c->ctx, errno, c->host, c->port,
				     c->timeout_ms, "waiting for", err);
	}
	if (reply->type == REDIS_REPLY_INTEGER) {
		*n = reply->integer;
	} else {
		if (err)
			buf_addf(err, "redis at '%s:%d' answered '%s' with "
				 "%s%s: is the key of another type?", c->host,
				 c->port, what, reply->type ==
				 REDIS_REPLY_ERROR ? "" : "a non-integer ",
				 reply->str ? reply->str : "reply");
		ret = REDIS_ECMD;
	}
	freeReplyObject(reply);
	return ret;
}

int redis_hget(struct redis_conn *c, const char *key, const char *field, struct buf *out,
	       struct buf *err)
{
	const char *argv[3] = { "HGET", key, field };
	redisReply *reply;
	int ret;

	if ((ret = redis_flush(c, err)))
		return ret;
	reply = redisCommandArgv(c->ctx, 3, argv, NULL);
	if (!reply) {
		c->failed = 1;
		return context_error(c->ctx, errno, c->host, c->port,
				     c->timeout_ms, "waiting for", err);
	}
	if (reply->type == REDIS_REPLY_NIL) {
		ret = 1;
	} else if (reply->type == REDIS_REPLY_STRING) {
		buf_add(out, reply->str, reply->len);
	} else {
		if (err)
			buf_addf(err, "redis at '%s:%d' answered 'HGET %s %s' with %s: is "
				 "the key of another type?", c->host, c->port, key, field,
				 reply->type == REDIS_REPLY_ERROR && reply->str ? reply->str :
				 "a reply that is not a string");
		ret = REDIS_ECMD;
	}
	freeReplyObject(reply);
	return ret;
}

int redis_count(struct redis_conn *c, const char *cmd, const char *key,
		int64_t *n, struct buf *err)
{
	const char *argv[2] = { cmd, key };

	return redis_integer(c, key ? 2 : 1, argv, n, err);
}

/*
 * One SCAN/ZSCAN step: `argv` is the command with its cursor in argv[1]
 * (or argv[2] for ZSCAN); replaces the cursor and returns the reply.
 */
static int scan_step(struct redis_conn *c, int argc, const char **argv,
		     int cursor_at, char *cursor, size_t cursor_size,
		     redisReply **out, struct buf *err)
{
	redisReply *r;

	*out = NULL;
	r = redisCommandArgv(c->ctx, argc, argv, NULL);
	if (!r) {
		c->failed = 1;
		return context_error(c->ctx, errno, c->host, c->port,
				     c->timeout_ms, "waiting for", err);
	}
	if (r->type != REDIS_REPLY_ARRAY || r->elements != 2 ||
	    r->element[0]->type != REDIS_REPLY_STRING ||
	    r->element[1]->type != REDIS_REPLY_ARRAY) {
		if (err)
			buf_addf(err, "redis at '%s:%d' answered %s %s with "
				 "%s: is this redis 2.8 or later?", c->host,
				 c->port, argv[0], argv[cursor_at],
				 r->type == REDIS_REPLY_ERROR && r->str ?
				 r->str : "an unexpected reply");
		freeReplyObject(r);
		return REDIS_ECMD;
	}
	snprintf(cursor, cursor_size, "%s", r->element[0]->str);
	*out = r;
	return 0;
}

int redis_scan_sum(struct redis_conn *c, const char *pattern, const char *cmd,
		   int64_t *keys, int64_t *sum, struct buf *err)
{
	char cursor[32] = "0";
	const char *argv[6] = { "SCAN", cursor, "MATCH", pattern, "COUNT",
				"1000" };
	int ret;

	*keys = 0;
	if (sum)
		*sum = 0;
	if ((ret = redis_flush(c, err)))
		return ret;
	c->isum = 0;
	do {
		redisReply *r;

		/* the replies to the last batch come before SCAN's */
		if ((ret = redis_flush(c, err)))
			return ret;
		ret = scan_step(c, 6, argv, 1, cursor, sizeof(cursor), &r,
				err);
		if (ret)
			return ret;
		for (size_t i = 0; i < r->element[1]->elements; i++) {
			redisReply *k = r->element[1]->element[i];
			const char *a[2] = { cmd, k->str };
			size_t al[2] = { cmd ? strlen(cmd) : 0, k->len };

			(*keys)++;
			if (cmd && (ret = redis_append(c, 2, a, al, err)))
				break;
		}
		freeReplyObject(r);
		if (ret)
			return ret;
	} while (strcmp(cursor, "0"));
	if ((ret = redis_flush(c, err)))
		return ret;
	if (sum)
		*sum = c->isum;
	return 0;
}

int redis_zsum(struct redis_conn *c, const char *key, double *sum, int64_t *n,
	       struct buf *err)
{
	char cursor[32] = "0";
	const char *argv[5] = { "ZSCAN", key, cursor, "COUNT", "1000" };
	int ret;

	*sum = 0;
	*n = 0;
	if ((ret = redis_flush(c, err)))
		return ret;
	do {
		redisReply *r;
		redisReply *el;

		ret = scan_step(c, 5, argv, 2, cursor, sizeof(cursor), &r,
				err);
		if (ret)
			return ret;
		el = r->element[1];
		/* member, score, member, score... */
		for (size_t i = 1; i < el->elements; i += 2) {
			/* RESP2: scores come as strings */
			if (el->element[i]->type == REDIS_REPLY_STRING)
				*sum += strtod(el->element[i]->str, NULL);
			(*n)++;
		}
		freeReplyObject(r);
	} while (strcmp(cursor, "0"));
	return 0;
}

int redis_publish(struct redis_conn *c, const char *channel, const char *message,
		  struct buf *err)
{
	const char *argv[3] = { "PUBLISH", channel, message };

	return redis_append(c, 3, argv, NULL, err);
}

/* waits until c's socket is ready for `events` or `deadline`: 1, 0 at the deadline, < 0 */
static int wait_fd(struct redis_conn *c, short events, int64_t deadline, struct buf *err)
{
	for (;;) {
		int left = (int)(deadline - clock_ms());
		struct pollfd pfd = { c->ctx->fd, events, 0 };
		int n = poll(&pfd, 1, left > 0 ? left : 0);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return io_error(c, 0, errno, err);
		return n;
	}
}

int redis_subscribe(struct redis_conn *c, const char *channel, struct buf *err)
{
	const char *argv[2] = { "SUBSCRIBE", channel };
	int64_t deadline = clock_ms() + c->timeout_ms;
	int ret = check_usable(c, err);

	if (ret || (ret = redis_flush(c, err)))
		return ret;
	/*
	 * Not through the pipeline: a message may come right behind the
	 * confirmation, and the pipeline would take it for a reply to no
	 * command. It stays in the reader for redis_message.
	 */
	format_resp(&c->out, 2, argv, NULL);
	while (!ret && c->out.len > c->out_off)
		if ((ret = wait_fd(c, POLLOUT, deadline, err)) > 0)
			ret = send_some(c, err) < 0 ? REDIS_EIO : 0;
		else if (ret == 0)
			ret = REDIS_ETIMEOUT;
	while (!ret) {
		void *r = NULL;
		if ((ret = next_reply(c, &r, err)))
			break;
		if (r) {
			redisReply *reply = r;
			int ok = reply->type == REDIS_REPLY_ARRAY && reply->elements == 3 &&
				 reply->element[0]->type == REDIS_REPLY_STRING &&
				 !strcmp(reply->element[0]->str, "subscribe");
			if (!ok && err)
				buf_addf(err, "redis at '%s:%d' answered SUBSCRIBE %s with %s", c->host,
					 c->port, channel, reply->type == REDIS_REPLY_ERROR &&
					 reply->str ? reply->str : "something else");
			freeReplyObject(reply);
			if (!ok)
				c->failed = 1;
			return ok ? 0 : REDIS_ECMD;
		}
		if ((ret = wait_fd(c, POLLIN, deadline, err)) > 0)
			ret = recv_some(c, err) < 0 ? REDIS_EIO : 0;
		else if (ret == 0)
			ret = REDIS_ETIMEOUT;
	}
	if (ret == REDIS_ETIMEOUT) {
		c->failed = 1;
		if (err)
			buf_addf(err, "redis at '%s:%d' did not confirm SUBSCRIBE %s within %d ms",
				 c->host, c->port, channel, c->timeout_ms);
	}
	return ret;
}

/* a message's payload from a push reply ["message", channel, payload]: 1, or 0 for another push */
static int message_payload(redisReply *r, struct buf *msg)
{
	if (r->type != REDIS_REPLY_ARRAY || r->elements != 3 ||
	    r->element[0]->type != REDIS_REPLY_STRING || strcmp(r->element[0]->str, "message") ||
	    r->element[2]->type != REDIS_REPLY_STRING)
		return 0;
	buf_reset(msg);
	buf_add(msg, r->element[2]->str, r->element[2]->len);
	return 1;
}

int redis_message(struct redis_conn *c, int wait_ms, struct buf *msg, struct buf *err)
{
	int64_t deadline = clock_ms() + (wait_ms > 0 ? wait_ms : 0);
	int ret = check_usable(c, err);

	while (!ret) {
		void *reply = NULL;
		if ((ret = next_reply(c, &reply, err)))
			break;
		if (reply) {
			int got = message_payload(reply, msg);
			freeReplyObject(reply);
			if (got)
				return 1;
			continue;	/* another push (a subscribe confirmed) */
		}
		int n = wait_fd(c, POLLIN, deadline, err);
		if (n <= 0)
			return n;	/* nothing within wait_ms, or failed */
		if ((ret = recv_some(c, err)) > 0)
			ret = 0;
	}
	return ret;
}

void redis_glob_escape(struct buf *b, const char *s)
{
	for (; *s; s++) {
		if (strchr("*?[]\\", *s))
			buf_addch(b, '\\');
		buf_addch(b, *s);
	}
}

int redis_get(struct redis_conn *c, const char *key, struct buf *out, struct buf *err)
{
	const char *argv[2] = { "GET", key };
	redisReply *reply;
	int ret = 0;

	if ((ret = redis_flush(c, err)))
		return ret;
	reply = redisCommandArgv(c->ctx, 2, argv, NULL);
	if (!reply) {
		c->failed = 1;
		return context_error(c->ctx, errno, c->host, c->port, c->timeout_ms,
				     "waiting for", err);
	}
	if (reply->type == REDIS_REPLY_NIL)
		ret = 1;
	else if (reply->type == REDIS_REPLY_STRING)
		buf_add(out, reply->str, reply->len);
	else {
		if (err)
			buf_addf(err, "redis at '%s:%d' answered 'GET %s' with %s", c->host,
				 c->port, key, reply->type == REDIS_REPLY_ERROR && reply->str ?
				 reply->str : "a reply that is not a string");
		ret = REDIS_ECMD;
	}
	freeReplyObject(reply);
	return ret;
}

/* one ZREVRANGE reply into q: ids and scores of members that are ids */
static int ztop_reply(const struct redis_conn *c, redisReply *reply, struct redis_ztop *q,
		      struct buf *err)
{
	q->n = 0;
	if (reply->type != REDIS_REPLY_ARRAY) {
		if (err)
			buf_addf(err, "redis at '%s:%d' answered 'ZREVRANGE %s' with %s", c->host,
				 c->port, q->key, reply->type == REDIS_REPLY_ERROR && reply->str ?
				 reply->str : "a reply that is not a list");
		return REDIS_ECMD;
	}
	for (size_t i = 0; i + 1 < reply->elements && q->n < q->k; i += 2) {
		redisReply *m = reply->element[i], *s = reply->element[i + 1];
		char *end;
		unsigned long id;
		if (m->type != REDIS_REPLY_STRING || s->type != REDIS_REPLY_STRING)
			continue;
		id = strtoul(m->str, &end, 10);
		if (*end || end == m->str || id > UINT32_MAX)
			continue;	/* not an id: not one of ours */
		q->ids[q->n] = (uint32_t)id;
		q->scores[q->n] = strtof(s->str, NULL);
		q->n++;
	}
	return 0;
}

int redis_ztop(struct redis_conn *c, const char *key, int k, uint32_t *ids, float *scores,
	       int *n, struct buf *err)
{
	struct redis_ztop q = { .key = key, .k = k, .ids = ids, .scores = scores };
	char stop[16];
	const char *argv[5] = { "ZREVRANGE", key, "0", stop, "WITHSCORES" };
	redisReply *reply;
	int ret;

	*n = 0;
	snprintf(stop, sizeof(stop), "%d", k > 0 ? k - 1 : 0);
	if ((ret = redis_flush(c, err)))
		return ret;
	reply = redisCommandArgv(c->ctx, 5, argv, NULL);
	if (!reply) {
		c->failed = 1;
		return context_error(c->ctx, errno, c->host, c->port, c->timeout_ms,
				     "waiting for", err);
	}
	ret = ztop_reply(c, reply, &q, err);
	freeReplyObject(reply);
	*n = q.n;
	return ret;
}

/* ---- lists for an event loop: asked, sent and answered without blocking ---- */

int redis_fd(const struct redis_conn *c)
{
	return c->ctx->fd;
}

int redis_ztop_ask(struct redis_conn *c, const char *key, int k, struct buf *err)
{
	char stop[16];
	const char *argv[5] = { "ZREVRANGE", key, "0", stop, "WITHSCORES" };
	int ret = check_usable(c, err);

	if (ret)
		return ret;
	snprintf(stop, sizeof(stop), "%d", k > 0 ? k - 1 : 0);
	format_resp(&c->out, 5, argv, NULL);
	c->asks++;
	return 0;
}

int redis_members_ask(struct redis_conn *c, const char *key, struct buf *err)
{
	const char *argv[2] = { "SMEMBERS", key };
	int ret = check_usable(c, err);

	if (ret)
		return ret;
	format_resp(&c->out, 2, argv, NULL);
	c->asks++;
	return 0;
}

int redis_io(struct redis_conn *c, struct buf *err)
{
	int r = check_usable(c, err);

	while (!r && c->out.len > c->out_off && (r = send_some(c, err)) > 0)
		r = 0;
	if (r < 0)
		return r;
	while ((r = recv_some(c, err)) > 0)
		;
	return r;
}

int redis_want_write(const struct redis_conn *c)
{
	return c->out.len > c->out_off;
}

int redis_ztop_answer(struct redis_conn *c, struct redis_ztop *q, struct buf *err)
{
	void *reply = NULL;
	int ret;

	q->n = -1;
	if (!c->asks)
		return 0;
	if ((ret = next_reply(c, &reply, err)) || !reply)
		return ret;
	c->asks--;
	ret = ztop_reply(c, reply, q, err);
	freeReplyObject(reply);
	return ret ? ret : 1;
}

int redis_members_answer(struct redis_conn *c, uint32_t **ids, size_t *n, struct buf *err)
{
	void *r = NULL;
	int ret;

	*ids = NULL;
	*n = 0;
	if (!c->asks)
		return 0;
	if ((ret = next_reply(c, &r, err)) || !r)
		return ret;
	c->asks--;
	redisReply *reply = r;
	if (reply->type != REDIS_REPLY_ARRAY) {
		if (err)
			buf_addf(err, "redis at '%s:%d' answered SMEMBERS with %s", c->host, c->port,
				 reply->type == REDIS_REPLY_ERROR && reply->str ? reply->str :
				 "a reply that is not a set");
		freeReplyObject(reply);
		return REDIS_ECMD;
	}
	*ids = xmalloc(sizeof(uint32_t) * (reply->elements + 1));
	for (size_t i = 0; i < reply->elements; i++) {
		redisReply *m = reply->element[i];
		char *end;
		unsigned long id;
		if (m->type != REDIS_REPLY_STRING)
			continue;
		id = strtoul(m->str, &end, 10);
		if (*end || end == m->str || id > UINT32_MAX)
			continue;	/* not an id */
		(*ids)[(*n)++] = (uint32_t)id;
	}
	freeReplyObject(reply);
	return 1;
}
