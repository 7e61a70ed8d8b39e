/*
 * publish: the writes that fill a published model's lists in Redis
 * (model/keys.h holds the layout and the key names).
 */
#ifndef PANCAKE_PUBLISH_H
#define PANCAKE_PUBLISH_H

#include <stdint.h>
#include "clients/redis.h"
#include "util/buf.h"

/*
 * Queues the replacement of one list, atomically for readers (MULTI, DEL,
 * ZADD, EXEC): `items` are dataset ids, best first. n 0 leaves the key
 * deleted. 0 or a negative enum redis_status with `err`.
 */
int publish_list(struct redis_conn *c, const char *key, const uint32_t *items,
		 const float *scores, int n, struct buf *err);

#endif
