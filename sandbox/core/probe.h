/* probe: asks a service, in its own protocol, whether it is ready. */
#ifndef PANCAKE_PROBE_H
#define PANCAKE_PROBE_H

#include "core/service.h"
#include "util/buf.h"

/*
 * Probes `s` on its published host port. Returns 1 ready, 0 not ready yet
 * (why in `detail`), never blocks longer than `timeout_ms`. `detail` gets a
 * short description either way ("PONG", "release 5.0.6", "status yellow").
 */
int probe_service(const struct service *s, int timeout_ms, struct buf *detail);

#endif
