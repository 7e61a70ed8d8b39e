/*
 * servingrun: an experiment's serving run on this host: services/serving
 * started with variants from the registry (a=production, b=candidate by
 * default) and a policy, on 127.0.0.1 and a free port, with the project's
 * Redis and Kafka, as a polled child in its own process group (or a
 * session of its own, to outlive a command). Nothing here waits on the
 * network: readiness is serving's announcement (core/servingloc).
 */
#ifndef PANCAKE_SERVINGRUN_H
#define PANCAKE_SERVINGRUN_H

#include <sys/types.h>
#include "core/servingloc.h"
#include "util/buf.h"

#define SERVINGRUN_VARIANTS 8
/* SIGTERM, then SIGKILL this much later (serving drains for up to 10 s) */
#define SERVINGRUN_KILL_AFTER_S 10.0
/* the variable that marks a serving pancake started, in its environment */
#define SERVINGRUN_ENV "PANCAKE_SERVINGRUN"

/* the policies serving knows, in the order a screen cycles them; static, NULL-terminated */
extern const char *const servingrun_policies[];
/* 1 when `p` is one of them */
int servingrun_policy_ok(const char *p);

/* what is asked; every field may be left zero */
struct servingrun_opts {
	const char *variants[SERVINGRUN_VARIANTS];   /* "NAME=REV"; none: a=production b=candidate */
	int nvariants;
	const char *policy;      /* NULL: thompson */
	int port;                /* 0: the stack's serving port + 1 */
	const char *registry;    /* NULL: config_registry() */
	const char *redis;       /* HOST:PORT; NULL: the project's on loopback */
	const char *kafka;       /* HOST:PORT; NULL: the project's on loopback */
};

/* what would run, every name resolved: what a question shows, then what starts */
struct servingrun_plan {
	char serving[512];       /* the program: $SERVING, else beside pancake */
	char bind[16];           /* 127.0.0.1 */
	int port;
	char policy[16];
	int nvariants;
	char names[SERVINGRUN_VARIANTS][32];
	char revs[SERVINGRUN_VARIANTS][64];
	char ids[SERVINGRUN_VARIANTS][13];   /* the model each rev names now (short id), or
						the rev itself when it is no registry rev */
	char data[64];           /* --data: the first model's dataset when its files are here,
				    else "none" (answers from Redis) */
	char redis[80], kafka[80];
	char registry[512];
};

/*
 * Resolves `o` into `p`: the program exists, every variant's model is in
 * the registry (a missing production or candidate is refused saying how
 * to make it), the policy is known, the port is free on 127.0.0.1 (a port
 * in use is refused naming it, what listens there when it is a serving
 * pancake knows, and the way out). Reads files and binds a socket for an
 * instant: no network, fit for a UI thread. 0, or -1 with `err`.
 */
int servingrun_plan(struct servingrun_plan *p, const struct servingrun_opts *o, struct buf *err);
/* "serving a=production (ID) vs b=candidate (ID), thompson, on 127.0.0.1:8081" into `out` */
void servingrun_describe(const struct servingrun_plan *p, struct buf *out);

enum servingrun_state {
	SERVINGRUN_STARTING,     /* running, not announced yet */
	SERVINGRUN_READY,        /* listening: it announced itself */
	SERVINGRUN_ENDED,        /* exited or was killed (servingrun_reason says why) */
};

struct servingrun;

/*
 * Starts serving as `p` says, its output to a new log under
 * config_state()/jobs/. With `detach` it gets a session of its own and
 * is meant to outlive the caller (servingrun_release then); else its own
 * process group, stopped by servingrun_stop or servingrun_free. Returns at
 * once: 0 with *out new, or -1 with `err`.
 */
int servingrun_start(struct servingrun **out, const struct servingrun_plan *p, int detach,
		     struct buf *err);
/*
 * Reaps it without waiting, looks for its announcement, and sends the
 * SIGKILL of a stop that is SERVINGRUN_KILL_AFTER_S old: 1 when the state
 * changed since the last poll, else 0.
 */
int servingrun_poll(struct servingrun *r);
enum servingrun_state servingrun_state(const struct servingrun *r);
/* 1 once servingrun_stop was called */
int servingrun_stopping(const struct servingrun *r);
/*
 * Once ended: "stopped" when it was asked to stop and did, else the log's
 * last line, else "exited with status N" / "killed by signal N"; "" before.
 * Borrowed, valid until free.
 */
const char *servingrun_reason(const struct servingrun *r);
pid_t servingrun_pid(const struct servingrun *r);
/* borrowed, valid until free: the log's path, "127.0.0.1:PORT" */
const char *servingrun_log(const struct servingrun *r);
const char *servingrun_addr(const struct servingrun *r);
int servingrun_port(const struct servingrun *r);

/* SIGTERM to its group now; the SIGKILL comes at a poll 10 s later. Returns at once. */
void servingrun_stop(struct servingrun *r);
/* stops it if it runs and waits for it (at most 11 s), then frees it; NULL is fine */
void servingrun_free(struct servingrun *r);
/* frees the handle and leaves the process running (a detached start); NULL is fine */
void servingrun_release(struct servingrun *r);

/*
 * The servings pancake started (announced, alive, marked SERVINGRUN_ENV
 * in their environment), on `port` (0: any), oldest first; fills
 * out[0..max) and returns how many. Reads files only.
 */
int servingrun_find(struct servingloc *out, int max, int port);
/*
 * Stops the serving `l` names (one servingrun_find returned): SIGTERM to
 * its process group, SIGKILL after SERVINGRUN_KILL_AFTER_S, its
 * announcement removed if it is still there. Blocks until it is gone (at
 * most 11 s): for a command, not a screen. 0, or -1 with `err`.
 */
int servingrun_kill(const struct servingloc *l, struct buf *err);

#endif
