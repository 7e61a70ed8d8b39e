/* redis: the Redis readiness probe (PING must answer PONG), over hiredis. */
#ifndef PANCAKE_REDIS_H
#define PANCAKE_REDIS_H

#include "util/buf.h"

/* Return codes: 0 is ready, these say why not. */
enum redis_status {
	REDIS_EIO = -1,		/* cannot connect, or the server hung up */
	REDIS_ETIMEOUT = -2,	/* no answer within the timeout */
	REDIS_ELOADING = -3,	/* up, but still loading its dataset */
	REDIS_EREPLY = -4,	/* answered PING with something but PONG */
};

/*
 * Connects to host:port (use 127.0.0.1), sends PING and expects PONG.
 * `timeout_ms` bounds the connect and the reply together. A LOADING
 * answer is REDIS_ELOADING: not ready yet, try again. On failure `err`
 * (may be NULL) gets a message naming the server and the way out.
 */
int redis_probe(const char *host, int port, int timeout_ms, struct buf *err);

#endif
