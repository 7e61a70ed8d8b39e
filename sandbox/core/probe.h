/* probe: asks a service, in its own protocol, whether it is ready. */
#ifndef PANCAKE_PROBE_H
#define PANCAKE_PROBE_H

#include "core/service.h"
#include "util/buf.h"

enum probe_result {
	PROBE_NO_ANSWER = -1,    /* could not talk to it (refused, reset, timed out) */
	PROBE_NOT_READY = 0,     /* it answered: not ready yet (ES red, no broker yet) */
	PROBE_READY = 1,
};
/*
 * Probes `s` on its published host port; never blocks longer than
 * `timeout_ms`. `detail` gets a short description either way ("PONG",
 * "release 5.0.6", "status yellow", or why not).
 */
enum probe_result probe_service(const struct service *s, int timeout_ms, struct buf *detail);

#endif
