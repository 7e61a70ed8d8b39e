/*
 * poller: what the launcher shows, kept fresh by background threads so that
 * the UI thread never waits on Docker: a poller (the engine's ping, then
 * status, probes and stats), an actor (start/stop/restart, one at a time)
 * and a log follower for the selected service. The UI reads the fields
 * under poller_lock().
 */
#ifndef PANCAKE_TUI_POLLER_H
#define PANCAKE_TUI_POLLER_H

#include <pthread.h>
#include <stdint.h>
#include <time.h>
#include "core/stack.h"
#include "core/supervise.h"

/* seconds between two polls (status, probes, stats): while something is
 * under way or not ready, and when all is steady; a note (a container
 * died, a service is ready...) triggers a poll at once */
#define POLLER_REFRESH_S 2
#define POLLER_REFRESH_IDLE_S 4
#define POLLER_LOG_LINES 1000       /* the log pane's ring */
#define POLLER_LOG_LINE_MAX 1024    /* longer lines are cut */
#define POLLER_LOG_TAIL 200         /* lines fetched when following starts */
#define POLLER_EVENTS 64
/* seconds the engine may keep a call waiting without a word before it
 * counts as stuck (stack_silence_s; a stats call takes it a second or two) */
#define POLLER_STALLED_S 5
#define POLLER_QUEUE 32

enum poller_action { ACT_START, ACT_STOP, ACT_RESTART, ACT_START_ALL };

enum poller_busy { BUSY_NONE, BUSY_QUEUED, BUSY_STARTING, BUSY_STOPPING, BUSY_RESTARTING };

struct poller_row {
	struct service_status st;      /* st.svc borrowed from the stack */
	struct supervise_state sup;
	int have_cpu;                  /* two samples of this container so far */
	double cpu;                    /* percent, 100 = one core */
	int have_mem;
	uint64_t mem, mem_limit;
	enum poller_busy busy;
	unsigned settle;               /* busy until the poll numbered this begins */
};

struct poller_event {
	time_t when;
	enum stack_note_kind kind;
	char service[32];              /* "" for stack-wide notes */
	char text[240];                /* the first line only */
};

struct poller_line {
	int stream;                    /* STACK_STDOUT or STACK_STDERR */
	char *text;                    /* printable: escapes and controls removed */
};

struct poller_job {
	enum poller_action action;
	int k;                         /* service index; unused for ACT_START_ALL */
};

struct poller {
	/* --- read by the UI under poller_lock() --- */
	struct stack *st;              /* borrowed */
	struct supervisor *sv;         /* started once the engine answers; may stay NULL */
	int n;
	int connected;                 /* the engine answered its ping */
	struct poller_row rows[SERVICE_MAX];
	int polled;                    /* a first snapshot has arrived */
	int probed;                    /* ... with readiness */
	time_t polled_at;
	char error[256];               /* the last poll's failure, "" if none */
	unsigned version;              /* bumped on every change worth a redraw */
	struct poller_event events[POLLER_EVENTS];   /* ring */
	int nevents, event_next;
	struct poller_line log[POLLER_LOG_LINES];    /* ring */
	int nlog, log_next;
	unsigned log_added;            /* lines added since following began */
	int log_service;               /* whose logs are wanted, -1: none */
	char log_state[160];           /* "", "no container", an error */

	/* --- private to poller.c --- */
	pthread_mutex_t lock;
	pthread_cond_t wake;           /* poller, actor and follower wait on it */
	volatile int stop;
	int poke;                      /* poll again now */
	unsigned poll_seq;             /* polls begun so far */
	struct poller_job queue[POLLER_QUEUE];
	int nqueue;
	int acting;                    /* the actor runs a job */
	struct poller_job current;
	volatile int log_cancel;
	int log_following;             /* service of the running stream, -1 */
	char log_key[120];             /* container id and start of the last stream */
	struct buf partial[3];         /* per stream: a line not ended yet */
	int sv_failed;                 /* supervisor_start failed once (said once) */
	int started;
	pthread_t poller, actor, follower;
};

/* Before stack_open: the poller can take notes from then on. */
void poller_init(struct poller *m);
/* The stack's note callback; `ctx` is the poller. */
void poller_note(const struct stack_note *n, void *ctx);
/*
 * Starts the threads; `st` must outlive poller_stop, and its engine handle
 * may be one stack_connect was not called on yet: the poller connects
 * (again every POLLER_REFRESH_S until the engine answers), then adopts the
 * running containers' heap profile and starts supervising the stack
 * (supervise.h). Jobs wait until the first status has arrived.
 */
void poller_start(struct poller *m, struct stack *st);
/*
 * Describes the job the actor is running ("restart of 'kafka'") into `out`;
 * returns 0 when it is idle. poller_stop waits for such a job to finish.
 */
int poller_busy_text(struct poller *m, char *out, size_t size);
/*
 * Stops and joins the threads (queued jobs are dropped) and the supervisor.
 * It waits for a job under way to finish while the engine answers (not once
 * it has kept a call waiting POLLER_STALLED_S), and for nothing else: then
 * every call on the engine is cut short (stack_abort), so the stack's
 * handle is good for nothing afterwards.
 */
void poller_stop(struct poller *m);
void poller_release(struct poller *m);

void poller_lock(struct poller *m);
void poller_unlock(struct poller *m);

/*
 * Queues a job for the actor. -1 with `why` (a message for the user) when
 * that service already has a job queued or running, or the queue is full.
 * Call without the lock held.
 */
int poller_queue(struct poller *m, enum poller_action a, int k, struct buf *why);
/* Follows the logs of service `k` (-1: none); call without the lock held. */
void poller_follow(struct poller *m, int k);
/* Adds a line to the event log; call without the lock held. */
void poller_event(struct poller *m, enum stack_note_kind kind, const char *service,
		 const char *fmt, ...) __attribute__((format(printf, 4, 5)));

/* the i-th newest event (0 = latest) or NULL; under the lock */
const struct poller_event *poller_event_at(const struct poller *m, int i);
/* the i-th oldest log line (0 .. nlog-1); under the lock */
const struct poller_line *poller_log_at(const struct poller *m, int i);

#endif
