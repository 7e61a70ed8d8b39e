/*
 * supervise: keeps a stack's services up while pancake runs: a service that
 * dies or stays unready is restarted with exponential backoff, and a crash
 * loop is reported with its last log lines instead of retried forever.
 */
#ifndef PANCAKE_SUPERVISE_H
#define PANCAKE_SUPERVISE_H

#include "core/stack.h"

/* restarts within SUPERVISE_WINDOW_S seconds that make a crash loop */
#define SUPERVISE_MAX_RESTARTS 5
#define SUPERVISE_WINDOW_S 300
#define SUPERVISE_BACKOFF_MAX_S 30

struct supervisor;

struct supervise_state {
	int watched;          /* pancake keeps this service up */
	int restarts;         /* restarts so far */
	int given_up;         /* crash loop: no more retries */
	double next_try_in;   /* seconds until a pending restart, or 0 */
};

/*
 * Starts watching every service of `st` that is running now. The stack's
 * note callback reports restarts; `st` must outlive the supervisor.
 * new (free with supervisor_stop)
 */
struct supervisor *supervisor_start(struct stack *st, struct buf *err);
void supervisor_stop(struct supervisor *sv);
/* stop watching a service (the user stops it) or watch it again */
void supervisor_unwatch(struct supervisor *sv, const char *name);
void supervisor_watch(struct supervisor *sv, const char *name);
/* a copy of the per-service state, indexed like st->svcs */
void supervisor_snapshot(struct supervisor *sv, struct supervise_state *out);

#endif
