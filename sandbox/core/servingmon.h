/*
 * servingmon: a serving's state from its /metrics: up or down and why,
 * rates and latency quantiles between two samples, answers per source,
 * errors, swaps, the model behind each variant and the experiment's arms
 * with their reward rates and 95% intervals. The sampler fetches through
 * clients/servingapi; the arithmetic is pure and tested on its own.
 */
#ifndef PANCAKE_SERVINGMON_H
#define PANCAKE_SERVINGMON_H

#include <stddef.h>
#include <stdint.h>
#include "util/buf.h"
#include "util/prom.h"

#define SERVINGMON_ROUTES 12
#define SERVINGMON_ARMS 8        /* serving's BANDIT_MAX_ARMS */
#define SERVINGMON_BUCKETS 32
/* down because /metrics did not parse (beside clients/servingapi.h's codes) */
#define SERVINGMON_EMETRICS (-20)
/* what a monitor waits for one /metrics at most */
#define SERVINGMON_TIMEOUT_MS 2000

/* where answers came from, in serving's order */
enum servingmon_source { SM_REDIS, SM_CACHE, SM_MODEL, SM_POPULAR, SM_SOURCES };
/* "redis", "cache", "model", "popular" (static) */
const char *servingmon_source_name(enum servingmon_source s);

struct servingmon_route {
	char name[24];           /* "recommendations", "feedback", ... */
	double rps;              /* requests a second between the samples */
	double p50_ms, p99_ms;   /* NaN: no request between the samples */
	uint64_t requests;       /* all, since serving started */
	uint64_t errors;         /* 5xx answers, since serving started */
	uint64_t refused;        /* 4xx answers, since serving started */
};

struct servingmon_variant {
	char name[32];
	char version[32];        /* the model version it serves */
	char rev[64];            /* the revision it follows (production, redis:current, ...) */
	char dataset[64];
	int rank;
};

struct servingmon_arm {
	char name[32];
	char policy[16];         /* ab, thompson, egreedy, ucb1 */
	double weight;           /* A/B weight; NaN for a bandit (its policy decides) */
	uint64_t pulls;
	double pull_share;       /* of all the arms' pulls, 0..1 */
	double rewards;          /* summed rewards */
	double no_reward;        /* summed 1 - reward and windows closed without feedback */
	double rate;             /* rewards / (rewards + no_reward); NaN when none closed */
	double rate_lo, rate_hi; /* its 95% Wilson interval (0, 1 when none closed) */
	double probability;      /* the last selection probability */
};

struct servingmon_status {
	char addr[80];           /* HOST:PORT asked */
	int up;                  /* /metrics answered 200 and parsed */
	int error;               /* down: an enum servingapi_error, or SERVINGMON_EMETRICS */
	char reason[256];        /* why down: "connection refused", "no answer within
				    2000 ms", "HTTP 503: ...", "malformed metrics: line N: ..." */
	double interval_s;       /* between the two samples; 0: the first one only */
	double rps;              /* every route but metrics, a second */
	double p99_ms;           /* over those routes, NaN when none */
	struct servingmon_route routes[SERVINGMON_ROUTES];
	int nroutes;
	uint64_t sources[SM_SOURCES];     /* answers per source since start, every variant */
	double source_rps[SM_SOURCES];    /* a second, between the samples */
	uint64_t http_5xx, http_4xx;      /* since start, every route */
	uint64_t redis_errors, kafka_errors;
	uint64_t swaps, swap_failures;
	uint64_t feedback_attributed, feedback_unknown, feedback_expired, feedback_duplicate;
	uint64_t feedback_open;
	struct servingmon_variant variants[SERVINGMON_ARMS];
	int nvariants;
	struct servingmon_arm arms[SERVINGMON_ARMS];
	int narms;
	char policy[16];         /* the arms' policy ("" when no arm) */
};

/* ---- the arithmetic (pure) ---- */

/*
 * The q-quantile (0..1) of cumulative buckets b[0..n) sorted by le, as
 * Prometheus' histogram_quantile estimates it: linear within the bucket
 * that holds it (from 0 for the first), the last finite bound when it
 * falls in +Inf. NaN when the buckets hold nothing or n is 0.
 */
double servingmon_quantile(const struct prom_bucket *b, size_t n, double q);

/*
 * The Wilson score interval of `successes` out of `trials` (fractional
 * allowed) at z (1.96 for 95%) into *lo and *hi, within 0..1; 0 and 1
 * when trials is 0.
 */
void servingmon_wilson(double successes, double trials, double z, double *lo, double *hi);

/* an increase of a counter from `was` to `now`: `now` when it went back (a restart) */
double servingmon_increase(double was, double now);

/*
 * The status from the current sample `cur` and the one `dt` seconds
 * before it, `prev` (NULL: the first sample; rates are then 0 and the
 * quantiles from the totals). `st` is filled (up is set to 1; addr kept).
 */
void servingmon_compute(const struct prom *prev, const struct prom *cur, double dt,
			struct servingmon_status *st);

/* ---- the sampler ---- */

/* one serving watched: its address and the last sample */
struct servingmon {
	char addr[80];
	struct prom last;
	double last_at;          /* clock_s() of `last`; 0: none yet */
	int timeout_ms;          /* per /metrics; 0: SERVINGMON_TIMEOUT_MS */
};

/* watches `addr` (HOST:PORT) */
void servingmon_init(struct servingmon *m, const char *addr);
void servingmon_release(struct servingmon *m);
/* forgets the last sample (the next status starts again from totals) */
void servingmon_reset(struct servingmon *m);

/*
 * Fetches /metrics once (within the timeout; it blocks for that long at
 * most) and fills `st` from it and the sample before. Returns 0 when up,
 * -1 when down (st->up 0, st->reason says why; the last sample is
 * forgotten, so rates start again once it is back).
 */
int servingmon_sample(struct servingmon *m, struct servingmon_status *st);

#endif
