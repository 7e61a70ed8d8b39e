/*
 * stack: the running set of service containers of one project. It finds
 * them by label (no state file), brings them up in dependency order with
 * independent services in parallel, waits for readiness and takes them down.
 * It never prints: progress goes to a note callback, failures to `err`.
 */
#ifndef PANCAKE_STACK_H
#define PANCAKE_STACK_H

#include <pthread.h>
#include <stdint.h>
#include "clients/docker.h"
#include "core/service.h"
#include "util/buf.h"

enum stack_note_kind {
	NOTE_INFO,        /* general progress */
	NOTE_CREATE,      /* a container is created */
	NOTE_RECREATE,    /* its definition changed: replaced */
	NOTE_START,       /* started */
	NOTE_UNCHANGED,   /* already running with this definition */
	NOTE_WAITING,     /* waiting for readiness: text says why not yet */
	NOTE_READY,       /* ready: text is the probe's answer */
	NOTE_FAILED,      /* did not become ready: text has the reason and log lines */
	NOTE_STOP,        /* stopped */
	NOTE_REMOVE,      /* removed (container, network or volume) */
	NOTE_RESTART,     /* supervisor restarts it */
	NOTE_GIVEUP,      /* supervisor stopped retrying: crash loop */
	NOTE_DIED,        /* the container exited unexpectedly */
};
struct stack_note {
	enum stack_note_kind kind;
	const char *service;   /* NULL for stack-wide notes */
	const char *text;
	double elapsed;        /* seconds since the operation began */
};
/* called from several threads, never at the same time; strings borrowed */
typedef void (*stack_note_fn)(const struct stack_note *n, void *ctx);

struct stack {
	struct docker *d;            /* borrowed */
	char project[64];
	char network[96];
	enum heap_profile profile;
	struct service svcs[SERVICE_MAX];
	int n;
	stack_note_fn fn;
	void *ctx;
	pthread_mutex_t note_lock;
	double t0;
};

/* Loads the definitions from <home>/services. 0 or -1 with `err`. */
int stack_open(struct stack *st, struct docker *d, enum heap_profile profile,
	       stack_note_fn fn, void *ctx, struct buf *err);
void stack_close(struct stack *st);
/* index of a service by name, or -1 */
int stack_find(const struct stack *st, const char *name);
/* the engine's names for a service's container, a volume, the network; new strings */
char *stack_container_name(const struct stack *st, const struct service *s);
char *stack_volume_name(const struct stack *st, const struct service *s, const char *vol);

struct service_status {
	const struct service *svc;   /* borrowed from the stack */
	int exists, running;
	char id[80];
	char state[16];              /* running, exited, created, ... or "absent" */
	int exit_code, oom_killed;
	int64_t started_at;
	int config_current;          /* its hash label matches the definition */
	int probed, ready;
	char detail[160];            /* probe answer or reason */
	char profile[8];
};
/* the state of every service; `probe` also asks each running one if ready */
int stack_status(struct stack *st, struct service_status *out, int probe, struct buf *err);

struct stack_up_opts {
	const char *const *only;     /* NULL: all services (plus their dependencies) */
	int wait;                    /* wait until every started service is ready */
	int timeout_s;               /* 0: each service's ready_timeout */
	int force_recreate;
};
int stack_up(struct stack *st, const struct stack_up_opts *o, struct buf *err);
/* stops and removes the project's containers (only `only` when set), the
 * network, and with `volumes` its volumes */
int stack_down(struct stack *st, const char *const *only, int volumes, struct buf *err);
/* one service: stop, or restart (recreating it if its definition changed) */
int stack_stop_service(struct stack *st, const char *name, struct buf *err);
int stack_restart_service(struct stack *st, const char *name, struct buf *err);
/* last `lines` log lines of a service's container into `out` */
int stack_tail_logs(struct stack *st, const char *name, int lines, struct buf *out,
		    struct buf *err);

/* Pre-flight checks, also used by `doctor`. */
/* every published port of `svcs` free; names the holder when not */
int stack_check_ports(struct stack *st, const int *which, int n, struct buf *err);
/* sum of memory limits of `which` against the engine's memory with headroom */
int stack_check_memory(struct stack *st, const int *which, int n, int64_t *need,
		       int64_t *have, struct buf *err);

void stack_note(struct stack *st, enum stack_note_kind k, const char *svc,
		const char *fmt, ...) __attribute__((format(printf, 4, 5)));

#endif
