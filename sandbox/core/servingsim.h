/*
 * servingsim: simulated users of a serving's experiment, for a bounded
 * time at a bounded rate: each asks for one user's list and clicks its
 * first item (feedback reward 1, else reward 0) with a chance that
 * depends on the variant that answered. The click rule and the pacing are
 * pure and tested; the run asks through clients/servingapi and blocks its
 * caller (a thread of the serving screen, `pancake serving simulate`).
 */
#ifndef PANCAKE_SERVINGSIM_H
#define PANCAKE_SERVINGSIM_H

#include <stdint.h>
#include "util/buf.h"

#define SERVINGSIM_ARMS 8            /* as serving's variants */
#define SERVINGSIM_RATE_MAX 50.0     /* requests a second, at most */
#define SERVINGSIM_SECONDS_MAX 600.0
#define SERVINGSIM_SECONDS 30.0      /* the default run */
#define SERVINGSIM_RATE 50.0         /* the default rate */
/*
 * The default rule, as labs/lib/pipeline.sh's pl_simulate: the second
 * variant (b in `a=production b=candidate`) clicks 60%, every other 15%.
 */
#define SERVINGSIM_SECOND_CHANCE 0.60
#define SERVINGSIM_OTHER_CHANCE 0.15
/* users 1..this when the model's dataset is not on this machine */
#define SERVINGSIM_USERS_UNKNOWN 1000
/* the run gives up after this many failed asks in a row */
#define SERVINGSIM_FAILS_MAX 20

/* ---- the click rule (pure) ---- */

/*
 * Which variant clicks how often. Named chances first; a variant not
 * named gets `other`. With no name given, the second arm (in /metrics'
 * order) gets `second`: the rule is resolved against the arms at the
 * start of a run (servingsim_rule_resolve).
 */
struct servingsim_rule {
	char names[SERVINGSIM_ARMS][32];
	double chance[SERVINGSIM_ARMS];
	int n;
	double other;
	double second;
};

/* the default: second 60%, others 15%, nothing named */
void servingsim_rule_default(struct servingsim_rule *r);
/*
 * Adds "NAME=CHANCE" (CHANCE from 0 to 1, or a percentage "60%"), or
 * "other=CHANCE" for the variants not named. 0, or -1 with `err`.
 */
int servingsim_rule_add(struct servingsim_rule *r, const char *spec, struct buf *err);
/* names the second of `arms` (when nothing is named and there are two or more) */
void servingsim_rule_resolve(struct servingsim_rule *r, char arms[][32], int narms);
/* the chance of a click on an answer of `variant` */
double servingsim_chance(const struct servingsim_rule *r, const char *variant);
/* "b clicks 60%, others 15%" into `out` (reset first) */
void servingsim_rule_label(const struct servingsim_rule *r, struct buf *out);
/* a click with chance `p`, drawn from the generator state *rng (splitmix64) */
int servingsim_draw(double p, uint64_t *rng);

/* ---- pacing (pure) ---- */

/*
 * When the request after one due at `prev_due` is due, at `rate` a
 * second: 1/rate later; when that is more than a second behind `now` (a
 * slow serving), `now` (no burst to catch up, so the rate stays a cap).
 */
double servingsim_next_due(double prev_due, double now, double rate);

/* ---- the run ---- */

struct servingsim_opts {
	const char *addr;        /* HOST:PORT of the serving */
	double seconds;          /* 0: SERVINGSIM_SECONDS */
	double rate;             /* 0: SERVINGSIM_RATE; at most SERVINGSIM_RATE_MAX */
	struct servingsim_rule rule;
	uint64_t seed;           /* 0: from the clock */
	int timeout_ms;          /* per call; 0: 2000 */
};

struct servingsim_arm {
	char name[32];
	double chance;
	uint64_t requests;       /* answers of this variant */
	uint64_t clicks;         /* rewards of 1 sent (and attributed) */
	uint64_t refused;        /* feedback serving refused */
};

struct servingsim_stats {
	char addr[80];
	char label[160];         /* "simulated users: b clicks 60%, others 15%" */
	char users[160];         /* "943 users of lab-100k", "users 1..1000 (...)" */
	double seconds, rate;    /* asked */
	double elapsed;
	uint64_t requests, clicks, failed;
	struct servingsim_arm arms[SERVINGSIM_ARMS];
	int narms;
	int done;                /* the run has ended */
	int stopped;             /* ... because it was asked to */
	char error[300];         /* why it ended early ("" none) */
};

/* called about twice a second and at the end, from the running thread */
typedef void (*servingsim_fn)(const struct servingsim_stats *st, void *ctx);

/*
 * Runs the simulation against o->addr: asks /metrics for the arms and
 * the dataset, reads the dataset's users when its files are here, then
 * for o->seconds at most o->rate requests a second, each a GET
 * /recommendations/USER?k=5 and a POST /feedback. Returns when the time
 * is up, when *stop becomes non-zero (read atomically; checked at least
 * every 100 ms), or after SERVINGSIM_FAILS_MAX failures in a row. `st`
 * is filled as it goes; `fn` (may be NULL) sees it. 0 when it ran its
 * time or was stopped, -1 with st->error (and `err`) when it could not.
 */
int servingsim_run(const struct servingsim_opts *o, const int *stop, servingsim_fn fn,
		   void *ctx, struct servingsim_stats *st, struct buf *err);

#endif
