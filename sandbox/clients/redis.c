/* redis: the Redis readiness probe, over hiredis; nothing of hiredis leaks. */
#include "clients/redis.h"
#include "util/xalloc.h"

#include <ctype.h>
#include <errno.h>
#include <string.h>
#include <sys/time.h>
#include <time.h>

#include <hiredis/hiredis.h>

static int64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

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
	int64_t deadline = now_ms() + (timeout_ms < 1 ? 1 : timeout_ms);
	redisContext *c;
	redisReply *reply = NULL;
	int ret;

	c = redisConnectWithTimeout(host, port, ms_to_tv(deadline - now_ms()));
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
	if (redisSetTimeout(c, ms_to_tv(deadline - now_ms())) != REDIS_OK) {
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
