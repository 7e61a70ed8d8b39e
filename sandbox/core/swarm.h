/*
 * swarm: the stack's services as Docker Swarm services (issue 16, first
 * cut): one replica each, an attachable overlay network per project,
 * host-mode published ports, endpoint mode dnsrr (no IPVS needed).
 */
#ifndef PANCAKE_SWARM_H
#define PANCAKE_SWARM_H

#include <stddef.h>
#include "core/service.h"
#include "core/stack.h"
#include "util/buf.h"

/* the placement constraint of a service with volumes (first cut: the managers) */
#define SWARM_STATEFUL_CONSTRAINT "node.role==manager"

/* the project's overlay network and a service's Swarm name; new strings */
char *swarm_network_name(const char *project);
char *swarm_service_name(const char *project, const struct service *s);

/*
 * The ServiceSpec of `s` as JSON text (pure, no engine): image, env,
 * command as Args, memory limit and reservation for `profile`, labels
 * io.pancake.project/service/config-hash, the overlay network, ports
 * published in host mode, EndpointSpec mode dnsrr, volumes as named volume
 * mounts <project>-<service>-<name> and, when it has volumes, the placement
 * constraint SWARM_STATEFUL_CONSTRAINT. new (free with free)
 */
char *swarm_service_spec(const struct service *s, const char *project,
			 enum heap_profile profile);

/*
 * 0 when the stack's engine is a swarm manager, else -1 with
 * "this engine is not in swarm mode: ..." and the way out in `err`.
 */
int swarm_check(struct stack *st, struct buf *err);

/*
 * Deploys `only` (NULL: every service; dependencies are not added) as
 * Swarm services: the overlay network if missing, then create or update
 * each; with `wait`, waits until each has a running task that answers its
 * probe on the published port of the task's node (`timeout_s` 0: each
 * service's ready_timeout). Notes go to the stack's callback.
 */
int swarm_up(struct stack *st, const char *const *only, int wait, int timeout_s,
	     struct buf *err);

struct swarm_task {
	char service[64];            /* pancake's name: "redis" */
	char node[128], addr[64];    /* the node's hostname and address, "" if none yet */
	char state[16], desired[16];
	char error[256];
	int probed, ready;
	char detail[160];            /* the probe's answer or why not */
};
/*
 * The project's Swarm tasks (those meant to run and the last failed one of
 * each service); with `probe`, each running one is probed on its node.
 * new array (free with free)
 */
int swarm_ps(struct stack *st, int probe, struct swarm_task **out, size_t *n,
	     struct buf *err);

/* removes the project's Swarm services and its overlay network (by label) */
int swarm_down(struct stack *st, struct buf *err);

#endif
