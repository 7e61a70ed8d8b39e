/*
 * swarm: the stack's services as Docker Swarm services (issue 16): an
 * attachable overlay network per project, host-mode published ports,
 * endpoint mode dnsrr (no IPVS needed), each member with volumes pinned to
 * one node (the one its volumes live on), stateless ones with N replicas
 * at most one per node. Deploys in dependency order, refuses what the
 * swarm's memory cannot hold, waits with the protocol probes.
 */
#ifndef PANCAKE_SWARM_H
#define PANCAKE_SWARM_H

#include <stddef.h>
#include <stdint.h>
#include "clients/docker.h"
#include "core/service.h"
#include "core/stack.h"
#include "util/buf.h"

/* the project's overlay network and a service's Swarm name; new strings */
char *swarm_network_name(const char *project);
char *swarm_service_name(const char *project, const struct service *s);

/* where and how many: what swarm_up decides for a service beyond its definition */
struct swarm_place {
	const char *node_id;     /* pinned to this node (node.id==); NULL: anywhere */
	const char *node_addr;   /* that node's address, given as PANCAKE_EXTERNAL_HOST */
	int replicas;            /* tasks; 0 means 1 */
	const char *klass;       /* the io.pancake.class label, or NULL */
	int seat;                /* with klass: the io.pancake.class.seat label */
};

/*
 * The ServiceSpec of `s` as JSON text (pure, no engine): image, env,
 * command as Args, memory limit and reservation for `profile`, labels
 * io.pancake.project/service/config-hash/swarm.place (and class), the
 * overlay network with the service's short name as alias, ports published
 * in host mode, EndpointSpec mode dnsrr, volumes as named volume mounts
 * <project>-<service>-<name>, the placement of `pl` (NULL: one replica
 * anywhere); with published ports, at most one task per node. new (free
 * with free)
 */
char *swarm_service_spec(const struct service *s, const char *project,
			 enum heap_profile profile, const struct swarm_place *pl);

/* the io.pancake.swarm.place label of `pl`: "node=ID replicas=N"; into `out` */
void swarm_place_label(const struct swarm_place *pl, char *out, size_t size);

/*
 * The node for a member with volumes (pure): among nodes that are ready
 * and active, the one with the most memory left after `reserved[i]` (bytes
 * already reserved there), if `need` fits; -1 when none has room or is up.
 */
int swarm_pick_node(const struct docker_node *nodes, size_t n, const int64_t *reserved,
		    int64_t need);

/*
 * Whether `need` more bytes of reservations fit (pure): the memory of the
 * ready, active nodes less `reserved` (every service's reservations). 0,
 * or -1 with the figures and the ways out in `err`.
 */
int swarm_memory_fits(const struct docker_node *nodes, size_t n, int64_t reserved,
		      int64_t need, const char *what, struct buf *err);

/*
 * 0 when the stack's engine is a swarm manager, else -1 with
 * "this engine is not in swarm mode: ..." and the way out in `err`. Every
 * swarm entry point begins here, so it also counts the swarm-only members
 * in (stack_use_swarm_members): a stack on a swarm has them.
 */
int swarm_check(struct stack *st, struct buf *err);

struct swarm_up_opts {
	const char *const *only;     /* NULL: every service; their dependencies are added,
				      * and the swarm-only members whose dependencies all are */
	int wait;                    /* wait until each is ready */
	int timeout_s;               /* 0: each service's ready_timeout */
	int replicas;                /* tasks of each member without volumes; 0: 1 */
	const char *klass;           /* a classroom's name for the class label, or NULL */
	int seat;                    /* with klass: the attendee's seat */
};
/*
 * Deploys the selection as Swarm services: pre-flight (the images on this
 * engine, memory for the reservations), the overlay network if missing,
 * then create or update each in dependency order, a dependent only once
 * what it depends on is ready when `wait`; with `wait`, waits until each
 * has a running task that answers its probe on the published port of the
 * task's node. A node that lacks an image fails the wait at once, naming
 * the node and how to load it. Notes go to the stack's callback.
 */
int swarm_up(struct stack *st, const struct swarm_up_opts *o, struct buf *err);

struct swarm_task {
	char service[64];            /* pancake's name: "redis" */
	char id[80];                 /* the task's id: a new one after a restart */
	char node[128], addr[64];    /* the node's hostname and address, "" if none yet */
	char state[16], desired[16];
	char error[256];
	int slot;                    /* the replica's number, 1..N */
	int probed, ready;
	char detail[160];            /* the probe's answer or why not */
};
/*
 * The project's Swarm tasks: every task meant to run, or the newest one of
 * a service that has none; with `probe`, each running one is probed on
 * its node. new array (free with free)
 */
int swarm_ps(struct stack *st, int probe, struct swarm_task **out, size_t *n,
	     struct buf *err);

/*
 * Streams the logs of service `name` (pancake's: "redis"), every task's
 * lines, to `fn`: as stack_logs does a container's.
 */
int swarm_logs(struct stack *st, const char *name, const struct stack_logs_opts *o,
	       stack_frame_fn fn, void *ctx, struct buf *err);

/* removes the project's Swarm services and its overlay network (by label) */
int swarm_down(struct stack *st, struct buf *err);

#endif
