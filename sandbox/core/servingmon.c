/*
 * servingmon: serving's /metrics series (services/serving/server.c's
 * metrics()) read into one status; rates and quantiles come from the
 * difference between two samples, as Prometheus' rate() and
 * histogram_quantile() would compute them.
 */
#include "core/servingmon.h"
#include "clients/servingapi.h"
#include "util/clock.h"
#include "util/xalloc.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define Z95 1.959963984540054

static const char *const source_names[SM_SOURCES] = { "redis", "cache", "model", "popular" };

const char *servingmon_source_name(enum servingmon_source s)
{
	return (unsigned)s < SM_SOURCES ? source_names[s] : "?";
}

/* ---- the arithmetic ---- */

double servingmon_quantile(const struct prom_bucket *b, size_t n, double q)
{
	double total, rank, start, end, count, below = 0;
	size_t i;

	if (!n || isnan(q))
		return NAN;
	total = b[n - 1].count;
	if (!(total > 0))
		return NAN;
	if (q < 0)
		q = 0;
	if (q > 1)
		q = 1;
	rank = q * total;
	for (i = 0; i < n - 1 && b[i].count < rank; i++)
		;
	if (isinf(b[i].le))
		return i ? b[i - 1].le : NAN;	/* beyond every finite bound: the last one */
	if (i) {
		below = b[i - 1].count;
		start = b[i - 1].le;
	} else {
		start = b[0].le > 0 ? 0 : b[0].le;
	}
	end = b[i].le;
	count = b[i].count - below;
	if (!(count > 0))
		return start;
	return start + (end - start) * ((rank - below) / count);
}

void servingmon_wilson(double successes, double trials, double z, double *lo, double *hi)
{
	double p, z2, denom, center, half;

	if (!(trials > 0)) {
		*lo = 0;
		*hi = 1;
		return;
	}
	p = successes / trials;
	if (p < 0)
		p = 0;
	if (p > 1)
		p = 1;
	z2 = z * z;
	denom = 1 + z2 / trials;
	center = (p + z2 / (2 * trials)) / denom;
	half = z * sqrt(p * (1 - p) / trials + z2 / (4 * trials * trials)) / denom;
	*lo = center - half < 0 ? 0 : center - half;
	*hi = center + half > 1 ? 1 : center + half;
	/* the bounds hold the rate itself: exactly 0 or 1 at the ends, not 1e-17 off */
	if (p == 0)
		*lo = 0;
	if (p == 1)
		*hi = 1;
}

double servingmon_increase(double was, double now)
{
	return now >= was ? now - was : now;
}

/* ---- reading the series ---- */

static uint64_t u64(double v)
{
	return v > 0 && isfinite(v) ? (uint64_t)(v + 0.5) : 0;
}

static double value(const struct prom *p, const char *name, const char *const *match)
{
	return p ? prom_sum(p, name, match, NULL) : 0;
}

/*
 * The buckets of `route`'s latency between the samples, summed over the
 * variants: cur's less prev's (cur's alone on the first sample or after a
 * restart), made cumulative-monotone again. Returns how many.
 */
static size_t route_buckets(const struct prom *prev, const struct prom *cur, const char *route,
			    struct prom_bucket *out)
{
	const char *match[] = { "route", route, NULL };
	struct prom_bucket was[SERVINGMON_BUCKETS];
	size_t n = prom_buckets(cur, "pancake_request_seconds", match, out, SERVINGMON_BUCKETS);
	size_t nw = prev ? prom_buckets(prev, "pancake_request_seconds", match, was,
					SERVINGMON_BUCKETS) : 0;

	if (n > SERVINGMON_BUCKETS)
		n = SERVINGMON_BUCKETS;
	if (nw > SERVINGMON_BUCKETS)
		nw = SERVINGMON_BUCKETS;
	/* a total that went back: serving restarted, what it counted since is the news */
	if (nw && n && was[nw - 1].count > out[n - 1].count)
		nw = 0;
	for (size_t i = 0; i < n; i++) {
		for (size_t k = 0; k < nw; k++)
			if (was[k].le == out[i].le) {
				out[i].count = servingmon_increase(was[k].count, out[i].count);
				break;
			}
		if (i && out[i].count < out[i - 1].count)
			out[i].count = out[i - 1].count;
	}
	return n;
}

/* adds buckets b[0..n) into the merged m[0..*nm), by bound */
static void merge_buckets(struct prom_bucket *m, size_t *nm, const struct prom_bucket *b, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		size_t k;
		for (k = 0; k < *nm && m[k].le < b[i].le; k++)
			;
		if (k < *nm && m[k].le == b[i].le) {
			m[k].count += b[i].count;
			continue;
		}
		if (*nm == SERVINGMON_BUCKETS)
			continue;
		memmove(&m[k + 1], &m[k], (*nm - k) * sizeof(*m));
		m[k] = b[i];
		(*nm)++;
	}
	/* serving gives every series the same bounds; should one differ, stay monotone */
	for (size_t k = 1; k < *nm; k++)
		if (m[k].count < m[k - 1].count)
			m[k].count = m[k - 1].count;
}

static double ms(double seconds)
{
	return isnan(seconds) ? NAN : seconds * 1000;
}

static void fill_routes(const struct prom *prev, const struct prom *cur, double dt,
			struct servingmon_status *st)
{
	struct prom_bucket all[SERVINGMON_BUCKETS];
	size_t nall = 0;
	double total = 0;

	for (size_t i = 0; i < cur->n && st->nroutes < SERVINGMON_ROUTES; i++) {
		const struct prom_sample *s = &cur->samples[i];
		const char *route = prom_label(s, "route");
		int k;

		if (strcmp(s->name, "pancake_requests_total") || !route)
			continue;
		for (k = 0; k < st->nroutes && strcmp(st->routes[k].name, route); k++)
			;
		if (k < st->nroutes)
			continue;
		struct servingmon_route *r = &st->routes[st->nroutes++];
		const char *m_all[] = { "route", route, NULL };
		const char *m_5xx[] = { "route", route, "status", "5xx", NULL };
		const char *m_4xx[] = { "route", route, "status", "4xx", NULL };
		struct prom_bucket b[SERVINGMON_BUCKETS];
		double now = value(cur, "pancake_requests_total", m_all);
		double inc = prev ? servingmon_increase(value(prev, "pancake_requests_total", m_all), now)
			     : 0;
		size_t nb;

		snprintf(r->name, sizeof(r->name), "%s", route);
		r->requests = u64(now);
		r->errors = u64(value(cur, "pancake_requests_total", m_5xx));
		r->refused = u64(value(cur, "pancake_requests_total", m_4xx));
		r->rps = prev && dt > 0 ? inc / dt : 0;
		nb = route_buckets(prev, cur, route, b);
		r->p50_ms = ms(servingmon_quantile(b, nb, 0.5));
		r->p99_ms = ms(servingmon_quantile(b, nb, 0.99));
		/* the monitor's own scrapes are not the serving's traffic */
		if (strcmp(route, "metrics")) {
			total += r->rps;
			merge_buckets(all, &nall, b, nb);
		}
	}
	st->rps = total;
	st->p99_ms = ms(servingmon_quantile(all, nall, 0.99));
}

static void fill_arms(const struct prom *cur, struct servingmon_status *st)
{
	double pulls = 0;

	for (size_t i = 0; i < cur->n && st->narms < SERVINGMON_ARMS; i++) {
		const struct prom_sample *s = &cur->samples[i];
		const char *name = prom_label(s, "variant"), *policy = prom_label(s, "policy");
		struct servingmon_arm *a;

		if (strcmp(s->name, "pancake_arm_pulls_total") || !name)
			continue;
		const char *m[] = { "variant", name, NULL };
		const struct prom_sample *w = prom_find(cur, "pancake_arm_weight", m);
		const struct prom_sample *p = prom_find(cur, "pancake_arm_probability", m);
		a = &st->arms[st->narms++];
		snprintf(a->name, sizeof(a->name), "%s", name);
		snprintf(a->policy, sizeof(a->policy), "%s", policy ? policy : "");
		a->weight = w ? w->value : NAN;
		a->pulls = u64(s->value);
		a->rewards = value(cur, "pancake_arm_rewards_total", m);
		a->no_reward = value(cur, "pancake_arm_no_reward_total", m);
		a->rate = a->rewards + a->no_reward > 0 ? a->rewards / (a->rewards + a->no_reward) : NAN;
		servingmon_wilson(a->rewards, a->rewards + a->no_reward, Z95, &a->rate_lo, &a->rate_hi);
		a->probability = p ? p->value : NAN;
		pulls += (double)a->pulls;
		if (!st->policy[0])
			snprintf(st->policy, sizeof(st->policy), "%s", a->policy);
	}
	for (int i = 0; i < st->narms; i++)
		st->arms[i].pull_share = pulls > 0 ? (double)st->arms[i].pulls / pulls : 0;
}

static void fill_variants(const struct prom *cur, struct servingmon_status *st)
{
	for (size_t i = 0; i < cur->n && st->nvariants < SERVINGMON_ARMS; i++) {
		const struct prom_sample *s = &cur->samples[i];
		const char *name = prom_label(s, "variant"), *v;
		struct servingmon_variant *o;

		if (strcmp(s->name, "pancake_model_info") || !name)
			continue;
		o = &st->variants[st->nvariants++];
		snprintf(o->name, sizeof(o->name), "%s", name);
		snprintf(o->version, sizeof(o->version), "%s", (v = prom_label(s, "version")) ? v : "");
		snprintf(o->rev, sizeof(o->rev), "%s", (v = prom_label(s, "rev")) ? v : "");
		snprintf(o->dataset, sizeof(o->dataset), "%s", (v = prom_label(s, "dataset")) ? v : "");
		o->rank = (v = prom_label(s, "rank")) ? atoi(v) : 0;
	}
}

void servingmon_compute(const struct prom *prev, const struct prom *cur, double dt,
			struct servingmon_status *st)
{
	char addr[sizeof(st->addr)];
	static const char *const outcomes[] = { "attributed", "unknown", "expired", "duplicate" };
	uint64_t *fb[] = { &st->feedback_attributed, &st->feedback_unknown, &st->feedback_expired,
			   &st->feedback_duplicate };

	memcpy(addr, st->addr, sizeof(addr));
	memset(st, 0, sizeof(*st));
	memcpy(st->addr, addr, sizeof(addr));
	st->up = 1;
	st->interval_s = prev ? dt : 0;
	fill_routes(prev, cur, dt, st);
	for (int s = 0; s < SM_SOURCES; s++) {
		const char *m[] = { "source", source_names[s], NULL };
		double now = value(cur, "pancake_recommendations_source_total", m);
		st->sources[s] = u64(now);
		st->source_rps[s] = prev && dt > 0 ? servingmon_increase(
			value(prev, "pancake_recommendations_source_total", m), now) / dt : 0;
	}
	const char *m5[] = { "status", "5xx", NULL }, *m4[] = { "status", "4xx", NULL };
	st->http_5xx = u64(value(cur, "pancake_requests_total", m5));
	st->http_4xx = u64(value(cur, "pancake_requests_total", m4));
	st->redis_errors = u64(value(cur, "pancake_redis_errors_total", NULL));
	st->kafka_errors = u64(value(cur, "pancake_kafka_errors_total", NULL));
	st->swaps = u64(value(cur, "pancake_model_swaps_total", NULL));
	st->swap_failures = u64(value(cur, "pancake_model_swap_failures_total", NULL));
	for (size_t i = 0; i < ARRAY_SIZE(outcomes); i++) {
		const char *m[] = { "outcome", outcomes[i], NULL };
		*fb[i] = u64(value(cur, "pancake_feedback_total", m));
	}
	st->feedback_open = u64(value(cur, "pancake_feedback_open", NULL));
	fill_variants(cur, st);
	fill_arms(cur, st);
}

/* ---- the sampler ---- */

void servingmon_init(struct servingmon *m, const char *addr)
{
	memset(m, 0, sizeof(*m));
	snprintf(m->addr, sizeof(m->addr), "%s", addr);
	prom_init(&m->last);
}

void servingmon_release(struct servingmon *m)
{
	prom_release(&m->last);
}

void servingmon_reset(struct servingmon *m)
{
	prom_release(&m->last);
	m->last_at = 0;
}

static void down(struct servingmon *m, struct servingmon_status *st, int error, const char *why)
{
	memset(st, 0, sizeof(*st));
	st->error = error;
	snprintf(st->addr, sizeof(st->addr), "%s", m->addr);
	snprintf(st->reason, sizeof(st->reason), "%s", why);
	servingmon_reset(m);
}

int servingmon_sample(struct servingmon *m, struct servingmon_status *st)
{
	struct servingapi_result r;
	struct buf body = BUF_INIT, err = BUF_INIT;
	struct prom cur = PROM_INIT;
	double now;
	int ret = -1;

	int e = servingapi_metrics(m->addr, m->timeout_ms > 0 ? m->timeout_ms : SERVINGMON_TIMEOUT_MS,
				   &body, &r, NULL);
	if (e) {
		down(m, st, e, r.reason);
		goto out;
	}
	now = clock_s();
	if (prom_parse(&cur, body.s, body.len, &err)) {
		struct buf why = BUF_INIT;
		buf_addf(&why, "malformed metrics: %s", err.s);
		down(m, st, SERVINGMON_EMETRICS, why.s);
		buf_release(&why);
		goto out;
	}
	snprintf(st->addr, sizeof(st->addr), "%s", m->addr);
	servingmon_compute(m->last_at > 0 ? &m->last : NULL, &cur, now - m->last_at, st);
	prom_release(&m->last);
	m->last = cur;
	prom_init(&cur);
	m->last_at = now;
	ret = 0;
out:
	prom_release(&cur);
	buf_release(&body);
	buf_release(&err);
	return ret;
}
