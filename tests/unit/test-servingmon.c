/* test-servingmon: quantiles from buckets, Wilson intervals, rates and the status of two recorded /metrics samples. */
#include "tap.h"
#include "core/servingmon.h"
#include "util/xalloc.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#define near(got, want, eps) (fabs((got) - (want)) <= (eps))

struct qcase {
	const char *what;
	struct prom_bucket b[6];
	size_t n;
	double q, want;          /* NaN: NaN wanted */
};

static const struct qcase qcases[] = {
	{ "the middle of the one bucket holding all", { { 0.001, 0 }, { 0.002, 10 }, { INFINITY, 10 } }, 3, 0.5, 0.0015 },
	{ "linear within the bucket", { { 0.001, 0 }, { 0.002, 10 }, { INFINITY, 10 } }, 3, 0.99, 0.00199 },
	{ "the first bucket starts at 0", { { 1, 4 }, { 2, 8 }, { INFINITY, 8 } }, 3, 0.25, 0.5 },
	{ "across buckets", { { 1, 2 }, { 2, 4 }, { 4, 8 }, { INFINITY, 8 } }, 4, 0.75, 3 },
	{ "beyond every bound: the last finite one", { { 1, 1 }, { 2, 1 }, { INFINITY, 10 } }, 3, 0.99, 2 },
	{ "only +Inf: no bound to give", { { INFINITY, 5 } }, 1, 0.5, NAN },
	{ "empty buckets", { { 1, 0 }, { INFINITY, 0 } }, 2, 0.5, NAN },
	{ "no buckets", { { 0, 0 } }, 0, 0.5, NAN },
	{ "q 0 is the lower end", { { 1, 0 }, { 2, 3 }, { INFINITY, 3 } }, 3, 0, 0 },
	{ "q 1 is the top of the last bucket holding any", { { 1, 0 }, { 2, 3 }, { INFINITY, 3 } }, 3, 1, 2 },
	{ "q over 1 is 1", { { 1, 0 }, { 2, 3 }, { INFINITY, 3 } }, 3, 7, 2 },
};

static void test_quantile(void)
{
	for (size_t i = 0; i < ARRAY_SIZE(qcases); i++) {
		const struct qcase *c = &qcases[i];
		double got = servingmon_quantile(c->b, c->n, c->q);
		if (!ok(isnan(c->want) ? isnan(got) : near(got, c->want, 1e-9), "quantile: %s", c->what))
			printf("#   got %g, want %g\n", got, c->want);
	}
}

struct wcase {
	double s, n, lo, hi;
};

/* reference values: the Wilson score interval at z = 1.96 */
static const struct wcase wcases[] = {
	{ 5, 10, 0.2366, 0.7634 },
	{ 0, 10, 0.0, 0.2775 },
	{ 10, 10, 0.7225, 1.0 },
	{ 60, 100, 0.5020, 0.6906 },
	{ 1, 1, 0.2065, 1.0 },
	{ 2.5, 5, 0.1705, 0.8295 },       /* fractional rewards */
};

static void test_wilson(void)
{
	double lo, hi;

	for (size_t i = 0; i < ARRAY_SIZE(wcases); i++) {
		const struct wcase *c = &wcases[i];
		servingmon_wilson(c->s, c->n, 1.96, &lo, &hi);
		if (!ok(near(lo, c->lo, 1e-4) && near(hi, c->hi, 1e-4), "wilson %g of %g", c->s, c->n))
			printf("#   got [%.4f, %.4f], want [%.4f, %.4f]\n", lo, hi, c->lo, c->hi);
	}
	servingmon_wilson(0, 0, 1.96, &lo, &hi);
	ok(lo == 0 && hi == 1, "no trials: the whole of 0..1");
	servingmon_wilson(3, 2, 1.96, &lo, &hi);
	ok(lo >= 0 && hi <= 1 && lo <= hi, "more successes than trials stays within 0..1");
	/* a rate of exactly 0 or 1 is inside its interval, not 1e-17 outside it */
	for (double n = 1; n <= 1e6; n *= 7) {
		servingmon_wilson(0, n, 1.96, &lo, &hi);
		if (!ok(lo == 0 && hi > 0, "no success in %g: the interval starts at 0", n))
			printf("#   got lo %g\n", lo);
		servingmon_wilson(n, n, 1.96, &lo, &hi);
		if (!ok(hi == 1 && lo < 1, "all %g successes: the interval ends at 1", n))
			printf("#   got hi %.17g\n", hi);
	}
	/* it narrows with more trials at the same rate */
	double lo2, hi2;
	servingmon_wilson(50, 100, 1.96, &lo, &hi);
	servingmon_wilson(500, 1000, 1.96, &lo2, &hi2);
	ok(hi2 - lo2 < hi - lo && lo < 0.5 && hi > 0.5, "narrower with ten times the trials");
}

static void test_increase(void)
{
	ok(servingmon_increase(10, 25) == 15, "a counter's increase");
	ok(servingmon_increase(10, 10) == 0, "no increase");
	ok(servingmon_increase(100, 7) == 7, "a counter that went back (restart): what it counted since");
}

static void load(struct prom *p, const char *path)
{
	struct buf b = BUF_INIT, err = BUF_INIT;

	if (buf_read_file(&b, path, PROM_MAX_BYTES) || prom_parse(p, b.s, b.len, &err))
		ok(0, "%s parses: %s", path, err.s);
	buf_release(&b);
	buf_release(&err);
}

static const struct servingmon_route *route(const struct servingmon_status *st, const char *name)
{
	for (int i = 0; i < st->nroutes; i++)
		if (!strcmp(st->routes[i].name, name))
			return &st->routes[i];
	return NULL;
}

/* two samples of a thompson serving, 20 recommendations and one /metrics apart */
static void test_compute(void)
{
	struct prom a = PROM_INIT, b = PROM_INIT, ab = PROM_INIT;
	struct servingmon_status *st = xcalloc(1, sizeof(*st));
	const struct servingmon_route *r;

	load(&a, "tests/unit/data/prom-serving-thompson.txt");
	load(&b, "tests/unit/data/prom-serving-thompson-2.txt");
	servingmon_compute(&a, &b, 2.0, st);
	ok(st->up && st->interval_s == 2.0, "up, 2 s between the samples");
	r = route(st, "recommendations");
	ok(r && near(r->rps, 10, 1e-9) && r->requests == 61 && r->errors == 0,
	   "recommendations: 20 in 2 s is 10/s, 61 in all");
	/* independent reference: the deltas' buckets through histogram_quantile's formula */
	ok(r && near(r->p50_ms, 0.375, 1e-6) && near(r->p99_ms, 0.4975, 1e-6),
	   "recommendations: p50 0.375 ms, p99 0.4975 ms from the deltas (got %g, %g)",
	   r ? r->p50_ms : -1, r ? r->p99_ms : -1);
	r = route(st, "metrics");
	ok(r && near(r->rps, 0.5, 1e-9), "metrics: the one scrape between is 0.5/s");
	ok(near(st->rps, 10, 1e-9), "overall 10/s: the monitor's scrapes are left out");
	ok(near(st->p99_ms, 0.4975, 1e-6), "overall p99 from the routes that moved");
	r = route(st, "feedback");
	ok(r && r->rps == 0 && isnan(r->p50_ms), "feedback: none between, no quantile");
	r = route(st, "unknown");
	ok(r && r->refused == 1, "a refused request counted as 4xx");
	ok(st->http_4xx == 1 && st->http_5xx == 0, "errors by class");
	ok(st->sources[SM_MODEL] == 60 && st->sources[SM_POPULAR] == 1 && st->sources[SM_REDIS] == 0,
	   "answers per source summed over the variants");
	ok(near(st->source_rps[SM_MODEL], 10, 1e-9), "the model answered 10/s");
	is_int(st->nvariants, 2, "two variants");
	ok(!strcmp(st->variants[1].name, "b") && !strcmp(st->variants[1].version, "1465356f7d28") &&
	   !strcmp(st->variants[1].rev, "candidate") && st->variants[1].rank == 16 &&
	   !strcmp(st->variants[1].dataset, "lab-100k"), "variant b: its model");
	is_int(st->narms, 2, "two arms");
	is_str(st->policy, "thompson", "the policy");
	const struct servingmon_arm *arm = &st->arms[1];
	ok(!strcmp(arm->name, "b") && arm->pulls == 40 && isnan(arm->weight), "arm b: 40 pulls, no weight (a bandit)");
	ok(near(arm->rewards, 10, 1e-9) && near(arm->no_reward, 11, 1e-9) &&
	   near(arm->rate, 10.0 / 21, 1e-9), "arm b: 10 of 21 rewarded");
	ok(arm->rate_lo < arm->rate && arm->rate < arm->rate_hi, "its rate inside its interval");
	ok(near(arm->pull_share, 40.0 / 61, 1e-9), "b's share of the pulls");
	ok(near(arm->probability, 0.4922, 1e-9), "b's selection probability");
	is_int(st->feedback_attributed, 27, "27 feedbacks attributed");

	/* the first sample alone: no rates, quantiles from the totals */
	servingmon_compute(NULL, &b, 0, st);
	r = route(st, "recommendations");
	ok(st->interval_s == 0 && r && r->rps == 0 && st->rps == 0, "first sample: no rates");
	ok(r && near(r->p50_ms, 0.3861607142857143, 1e-6) && near(r->p99_ms, 2.195, 1e-6),
	   "first sample: quantiles of all requests (got %g, %g)", r ? r->p50_ms : -1,
	   r ? r->p99_ms : -1);

	/* a restart between the samples: the counters went back */
	servingmon_compute(&b, &a, 1.0, st);
	r = route(st, "recommendations");
	ok(r && near(r->rps, 41, 1e-9), "a restart: what the new process counted is the increase");

	/* an A/B serving: weights */
	load(&ab, "tests/unit/data/prom-serving-ab.txt");
	servingmon_compute(NULL, &ab, 0, st);
	ok(st->narms == 2 && st->arms[0].weight == 3 && st->arms[1].weight == 1 &&
	   !strcmp(st->policy, "ab"), "A/B: weights 3 and 1");
	ok(near(st->arms[0].rate, 10.0 / 21, 1e-9), "A/B: a's rate 10 of 21");

	/* an empty page: up, nothing known */
	prom_release(&ab);
	servingmon_compute(NULL, &ab, 0, st);
	ok(st->up && st->nroutes == 0 && st->narms == 0 && st->rps == 0 && isnan(st->p99_ms),
	   "empty metrics: up, no routes, no arms");
	prom_release(&a);
	prom_release(&b);
	free(st);
}

/* a serving that is not there: down, with the reason */
static void test_down(void)
{
	struct servingmon m;
	struct servingmon_status st;

	/* port 1 on loopback: nothing listens there */
	servingmon_init(&m, "127.0.0.1:1");
	ok(servingmon_sample(&m, &st) == -1 && !st.up && !strcmp(st.reason, "connection refused") &&
	   !strcmp(st.addr, "127.0.0.1:1"), "refused: down, 'connection refused' (%s)", st.reason);
	servingmon_release(&m);
	servingmon_init(&m, "no-port");
	ok(servingmon_sample(&m, &st) == -1 && strstr(st.reason, "not HOST:PORT"),
	   "a bad address: down, saying so (%s)", st.reason);
	servingmon_release(&m);
}

int main(void)
{
	test_quantile();
	test_wilson();
	test_increase();
	test_compute();
	test_down();
	return tap_done();
}
