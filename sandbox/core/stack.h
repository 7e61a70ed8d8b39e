/*
 * stack: the running set of service containers of one project. It finds
 * them by label (no state file), brings them up in dependency order with
 * independent services in parallel, waits for readiness and takes them down.
 * It never prints: progress goes to a note callback, failures to `err`.
 */
#ifndef PANCAKE_STACK_H
#define PANCAKE_STACK_H

#include <pthread.h>
#include <stddef.h>
#include <stdint.h>
#include "core/service.h"
#include "util/buf.h"

struct docker;                   /* the engine's handle, opaque (clients/docker.h) */

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
	int n;                       /* the one-machine stack: svcs[0..n) */
	int nall;                    /* with the swarm-only members after them: svcs[0..nall) */
	stack_note_fn fn;
	void *ctx;
	pthread_mutex_t note_lock;
	double t0;
};

/*
 * Loads the definitions from <home>/services. 0 or -1 with `err`. Those
 * marked swarm.only come last and are not counted in `n`:
 * stack_use_swarm_members counts them in (core/swarm does).
 */
int stack_open(struct stack *st, struct docker *d, enum heap_profile profile,
	       stack_note_fn fn, void *ctx, struct buf *err);
void stack_close(struct stack *st);
/* makes `n` cover the swarm-only members too: for a stack deployed on a swarm */
void stack_use_swarm_members(struct stack *st);
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
/*
 * sel[k] = 1 for each service of `only` (NULL or empty: all) and the ones
 * they depend on; -1 with `err` naming the known ones for an unknown name.
 * `sel` holds SERVICE_MAX.
 */
int stack_select(const struct stack *st, const char *const *only, int *sel, struct buf *err);
/* stops and removes the project's containers (only `only` when set), the
 * network, and with `volumes` its volumes */
int stack_down(struct stack *st, const char *const *only, int volumes, struct buf *err);
/* one service: stop, or restart (recreating it if its definition changed) */
int stack_stop_service(struct stack *st, const char *name, struct buf *err);
int stack_restart_service(struct stack *st, const char *name, struct buf *err);
/* last `lines` log lines of a service's container into `out` */
int stack_tail_logs(struct stack *st, const char *name, int lines, struct buf *out,
		    struct buf *err);

/*
 * ---- the engine, for the layers above core ----
 * cmd-* and tui/ never call the Docker client: they hold the handle only
 * to hand it to stack_open (or images_*), and ask the stack about it.
 */
/*
 * Connects to $DOCKER_HOST (else the default socket) and pings it. new (free
 * with stack_engine_free); NULL with `err` when it fails, *down set when no
 * engine answers or it stalled (asking again will not help), else 0.
 */
struct docker *stack_engine_open(int *down, struct buf *err);
/*
 * The handle alone, without a word to the engine: a program that must not
 * wait for it (the launcher) connects later with stack_connect. new (free
 * with stack_engine_free); NULL with `err` for a malformed $DOCKER_HOST.
 */
struct docker *stack_engine_new(struct buf *err);
void stack_engine_free(struct docker *d);
/* pings the stack's engine and agrees on the API version; 0 or -1 with `err` */
int stack_connect(struct stack *st, struct buf *err);
/*
 * Seconds the engine has kept the stack's calls waiting without a word
 * (0 while it answers): a screen says the engine is stuck from it.
 * Thread-safe.
 */
double stack_silence_s(struct stack *st);
/* where the engine is: "unix:///var/run/docker.sock"; borrowed, valid until stack_engine_free */
const char *stack_endpoint(const struct stack *st);
/*
 * Cuts short every call on the stack's engine, those under way and those to
 * come (they fail with STACK_ECANCELED): for a program that is leaving and
 * must not wait. The engine handle is good for nothing afterwards.
 */
void stack_abort(struct stack *st);

/* ---- what a service's container says: logs, stats, a command's output ---- */
enum stack_err {
	STACK_ENOTFOUND = -2,        /* the container is gone */
	STACK_ECANCELED = -6,        /* stopped by a cancel flag or stack_abort */
};
enum stack_stream { STACK_STDOUT = 1, STACK_STDERR = 2 };
/* a piece of a log stream; `data` borrowed, valid during the call only */
typedef void (*stack_frame_fn)(int stream, const char *data, size_t len, void *ctx);
struct stack_logs_opts {
	int follow;                  /* go on until the container stops or *cancel */
	int tail;                    /* the last lines to begin with; < 0: all */
	int64_t since;               /* unix seconds, 0: from the start */
	volatile int *cancel;        /* may be NULL */
};
/*
 * Streams the stdout and stderr of container `id` (a service_status's id)
 * to `fn`, demultiplexed (a container with a TTY gives stdout only). 0 when
 * the stream ended, STACK_ECANCELED, STACK_ENOTFOUND, or another negative
 * code with `err`.
 */
int stack_logs(struct stack *st, const char *id, const struct stack_logs_opts *o,
	       stack_frame_fn fn, void *ctx, struct buf *err);
/* the Docker client's options for `o` (both outputs), for core/swarm's service logs */
struct docker_logs_opts;
void stack_logs_to_docker(const struct stack_logs_opts *o, struct docker_logs_opts *lo);

/* one sample of a container's CPU and memory */
struct stack_stats {
	int ok;                      /* the engine answered; the rest is set only then */
	char id[80];                 /* the container sampled ... */
	int64_t started_at;          /* ... and when it started (service_status) */
	uint64_t cpu_total, system_cpu;   /* ns, cumulative */
	int online_cpus;
	uint64_t mem_used, mem_limit;     /* bytes; page cache excluded */
};
/*
 * A sample of every running service of `ss` (st->n of them, as stack_status
 * filled them) into out[k]; out[k].ok is 0 for the others and those that
 * failed. All are asked at once: the engine answers stats on its 1 s tick.
 */
void stack_stats(struct stack *st, const struct service_status *ss, struct stack_stats *out);
/* CPU % between two samples of the same container (100 = one core) */
double stack_cpu_percent(const struct stack_stats *prev, const struct stack_stats *cur);

/*
 * Runs argv in container `id`, collects stdout and stderr (capped) into
 * `output` and the exit code into *exit_code (-1: none). 0 or -1 with `err`.
 */
int stack_exec(struct stack *st, const char *id, const char *const *argv, struct buf *output,
	       int *exit_code, long timeout_ms, struct buf *err);

/* Pre-flight checks, also used by `doctor`. */
/* every published port of `svcs` free; names the holder when not */
int stack_check_ports(struct stack *st, const int *which, int n, struct buf *err);
/* sum of memory limits of `which` against the engine's memory with headroom */
int stack_check_memory(struct stack *st, const int *which, int n, int64_t *need,
		       int64_t *have, struct buf *err);

void stack_note(struct stack *st, enum stack_note_kind k, const char *svc,
		const char *fmt, ...) __attribute__((format(printf, 4, 5)));

#endif
