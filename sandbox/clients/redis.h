/*
 * redis: the Redis readiness probe (PING must answer PONG), a pipelined
 * connection for loaders and counts, and channels (PUBLISH, SUBSCRIBE),
 * over hiredis (which does not leak out).
 */
#ifndef PANCAKE_REDIS_H
#define PANCAKE_REDIS_H

#include <stddef.h>
#include <stdint.h>
#include "util/buf.h"

/* Return codes: 0 is ready, these say why not. */
enum redis_status {
	REDIS_EIO = -1,		/* cannot connect, or the server hung up */
	REDIS_ETIMEOUT = -2,	/* no answer within the timeout */
	REDIS_ELOADING = -3,	/* up, but still loading its dataset */
	REDIS_EREPLY = -4,	/* answered PING with something but PONG */
	REDIS_ECMD = -5,	/* a command was answered with an error reply */
};

/*
 * Connects to host:port (use 127.0.0.1), sends PING and expects PONG.
 * `timeout_ms` bounds the connect and the reply together. A LOADING
 * answer is REDIS_ELOADING: not ready yet, try again. On failure `err`
 * (may be NULL) gets a message naming the server and the way out.
 */
int redis_probe(const char *host, int port, int timeout_ms, struct buf *err);

/*
 * A pipelined connection: commands are appended, sent in batches, and at
 * most `depth` of them wait for a reply at any time. Every reply is
 * checked; the first error reply fails the connection with a message that
 * quotes the command (its name and first argument). Opaque.
 */
struct redis_conn;

/* the pipeline depth when redis_connect is given 0 */
#define REDIS_DEFAULT_DEPTH 4096

/*
 * Connects to host:port; `timeout_ms` bounds the connect and each later
 * read or write. On success *out is new (free with redis_close). On
 * failure returns a negative enum redis_status and `err` (may be NULL)
 * names the server and the way out.
 */
int redis_connect(struct redis_conn **out, const char *host, int port,
		  int timeout_ms, int depth, struct buf *err);
void redis_close(struct redis_conn *c);

/* servers holding the same data: a primary and its replicas */
#define REDIS_ADDRS_MAX 4
struct redis_addrs {
	char host[REDIS_ADDRS_MAX][128];
	int port[REDIS_ADDRS_MAX];
	int n;
};
/* "HOST:PORT[,HOST:PORT...]" into `a`; -1 when malformed or more than REDIS_ADDRS_MAX */
int redis_addrs_parse(const char *text, struct redis_addrs *a);
/*
 * Connects to the nearest of `a` that answers: each is connected to (within
 * `timeout_ms`) and asked DBSIZE three times; the one with the fastest
 * round trip is kept, its index in *which (may be NULL). With one address
 * this is redis_connect. On failure `err` names each address's failure.
 */
int redis_connect_nearest(struct redis_conn **out, const struct redis_addrs *a,
			  int timeout_ms, int depth, int *which, struct buf *err);

/*
 * Queues one command (argv[i] of argvlen[i] bytes; argvlen NULL: NUL-
 * terminated strings). The arguments are copied. When `depth` replies are
 * pending, reads replies until half of them are in. Returns 0 or a
 * negative enum redis_status; after a failure the connection is unusable.
 */
int redis_append(struct redis_conn *c, int argc, const char **argv,
		 const size_t *argvlen, struct buf *err);
/* sends everything queued and checks every pending reply */
int redis_flush(struct redis_conn *c, struct buf *err);
/* commands whose reply was read and checked so far */
uint64_t redis_acked(const struct redis_conn *c);

/*
 * One command with an integer reply (SCARD, ZCARD, HLEN, EXISTS, DBSIZE,
 * DEL...): flushes the pipeline first, then sets *n. argv as above.
 */
int redis_integer(struct redis_conn *c, int argc, const char **argv, int64_t *n,
		  struct buf *err);
/* HGET key field into `out` (flushes first): 0, 1 when there is none, or < 0 */
int redis_hget(struct redis_conn *c, const char *key, const char *field, struct buf *out,
	       struct buf *err);
/* shorthand for redis_integer of "CMD KEY" */
int redis_count(struct redis_conn *c, const char *cmd, const char *key, int64_t *n,
		struct buf *err);

/*
 * Counts the keys that match `pattern` (SCAN MATCH pattern COUNT 1000) into
 * *keys and, when `cmd` is not NULL, sums the integer reply of "cmd KEY"
 * over them into *sum (e.g. SCARD: the members of all matching sets),
 * pipelined. A key deleted between SCAN and cmd adds 0.
 */
int redis_scan_sum(struct redis_conn *c, const char *pattern, const char *cmd,
		   int64_t *keys, int64_t *sum, struct buf *err);

/*
 * Sum and number of the scores of sorted set `key` (ZSCAN, so it works on
 * any size); the way to check a popularity set against a count.
 */
int redis_zsum(struct redis_conn *c, const char *key, double *sum, int64_t *n,
	       struct buf *err);

/* GET key into `out` (flushes first): 0, 1 when there is none, or < 0 */
int redis_get(struct redis_conn *c, const char *key, struct buf *out, struct buf *err);
/*
 * The best k members of sorted set `key` (ZREVRANGE 0 k-1 WITHSCORES)
 * whose members are ids, into ids/scores; *n 0 when the key is missing.
 * Flushes first. 0 or < 0.
 */
int redis_ztop(struct redis_conn *c, const char *key, int k, uint32_t *ids, float *scores,
	       int *n, struct buf *err);

/* one ZREVRANGE query and its answer (redis_ztop_answer) */
struct redis_ztop {
	const char *key;
	int k;			/* at most this many */
	uint32_t *ids;		/* room for k each */
	float *scores;
	int n;			/* out: 0 no such key or no list there, -1 not answered */
};

/*
 * The same lists for a caller's own event loop, nothing blocking: asks
 * are queued, redis_io sends what the socket takes and reads what has
 * come (call it when redis_fd is readable, or writable while
 * redis_want_write), and answers are taken in the order asked. Not to be
 * mixed with redis_append on one connection.
 */
int redis_fd(const struct redis_conn *c);
/* queues ZREVRANGE key 0 k-1 WITHSCORES: 0, or < 0 if the connection failed */
int redis_ztop_ask(struct redis_conn *c, const char *key, int k, struct buf *err);
/* 0, or < 0 with `err`: the connection failed (every ask is lost) */
int redis_io(struct redis_conn *c, struct buf *err);
int redis_want_write(const struct redis_conn *c);
/*
 * The oldest ask's answer into q (key unused; k, ids, scores as above):
 * 1 with q->n set, 0 when it has not come yet, REDIS_ECMD when it was no
 * list (taken: q->n is 0, the connection stays usable), other < 0 if the
 * connection failed.
 */
int redis_ztop_answer(struct redis_conn *c, struct redis_ztop *q, struct buf *err);
/* queues SMEMBERS key; its answer, the members that are ids, as a new array */
int redis_members_ask(struct redis_conn *c, const char *key, struct buf *err);
/* like redis_ztop_answer; *ids (free it) and *n set when 1 */
int redis_members_answer(struct redis_conn *c, uint32_t **ids, size_t *n, struct buf *err);

/*
 * Channels. PUBLISH is queued like redis_append (its reply, how many
 * listened, checked when flushed). A connection given to redis_subscribe
 * only takes messages from then on: SUBSCRIBE is answered within the
 * connection's timeout, and redis_message waits for a message at most
 * `wait_ms` (0: takes only what has come).
 */
int redis_publish(struct redis_conn *c, const char *channel, const char *message,
		  struct buf *err);
/* 0, or < 0 with `err` (the connection is then unusable) */
int redis_subscribe(struct redis_conn *c, const char *channel, struct buf *err);
/* 1 with the next message's payload in `msg` (replaced), 0 when none came, < 0 if the connection failed */
int redis_message(struct redis_conn *c, int wait_ms, struct buf *msg, struct buf *err);

/* appends `s` to `b` with glob characters (*?[]\) escaped, for MATCH */
void redis_glob_escape(struct buf *b, const char *s);

#endif
