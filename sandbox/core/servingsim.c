/*
 * servingsim: simulated users: the click rule, the pacing, and the loop
 * that asks a serving for lists and sends feedback on their first items.
 */
#include "core/servingsim.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "clients/servingapi.h"
#include "core/catalog.h"
#include "core/dataset.h"
#include "core/servingmon.h"
#include "util/clock.h"
#include "util/quote.h"
#include "util/rand.h"
#include "util/xalloc.h"

#define LIST_K 5
#define TIMEOUT_MS 2000
#define REPORT_S 0.5
#define SLICE_S 0.1

/* ---- the click rule ---- */

void servingsim_rule_default(struct servingsim_rule *r)
{
	memset(r, 0, sizeof(*r));
	r->other = SERVINGSIM_OTHER_CHANCE;
	r->second = SERVINGSIM_SECOND_CHANCE;
}

/* "0.6" or "60%": 0..1 into *out, or -1 */
static int parse_chance(const char *s, double *out)
{
	char *end;
	double v = strtod(s, &end);

	if (end == s)
		return -1;
	if (*end == '%' && !end[1])
		v /= 100;
	else if (*end)
		return -1;
	if (!(v >= 0 && v <= 1))
		return -1;
	*out = v;
	return 0;
}

int servingsim_rule_add(struct servingsim_rule *r, const char *spec, struct buf *err)
{
	const char *eq = strchr(spec, '=');
	size_t len = eq ? (size_t)(eq - spec) : 0;
	char q[QUOTE_BUF];
	double v;
	int i;

	if (!eq || !len || len >= sizeof(r->names[0]) || parse_chance(eq + 1, &v)) {
		buf_addf(err, "a click chance is VARIANT=CHANCE (0 to 1, or a percentage: b=0.6, "
			 "b=60%%, other=15%%), not %s", quote(q, spec));
		return -1;
	}
	if (len == 5 && !strncmp(spec, "other", 5)) {
		r->other = v;
		return 0;
	}
	for (i = 0; i < r->n; i++)
		if (strlen(r->names[i]) == len && !strncmp(r->names[i], spec, len))
			break;
	if (i == r->n) {
		if (r->n == SERVINGSIM_ARMS) {
			buf_addf(err, "at most %d variants' click chances", SERVINGSIM_ARMS);
			return -1;
		}
		memcpy(r->names[i], spec, len);
		r->names[i][len] = '\0';
		r->n++;
	}
	r->chance[i] = v;
	return 0;
}

void servingsim_rule_resolve(struct servingsim_rule *r, char arms[][32], int narms)
{
	if (r->n || narms < 2)
		return;
	snprintf(r->names[0], sizeof(r->names[0]), "%s", arms[1]);
	r->chance[0] = r->second;
	r->n = 1;
}

double servingsim_chance(const struct servingsim_rule *r, const char *variant)
{
	for (int i = 0; i < r->n; i++)
		if (!strcmp(r->names[i], variant))
			return r->chance[i];
	return r->other;
}

void servingsim_rule_label(const struct servingsim_rule *r, struct buf *out)
{
	buf_reset(out);
	for (int i = 0; i < r->n; i++)
		buf_addf(out, "%s%s clicks %.0f%%", i ? ", " : "", r->names[i], 100 * r->chance[i]);
	if (r->n)
		buf_addf(out, ", others %.0f%%", 100 * r->other);
	else
		buf_addf(out, "every variant clicks %.0f%%", 100 * r->other);
}

int servingsim_draw(double p, uint64_t *rng)
{
	/* 53 random bits as a double in [0, 1) */
	double u = (double)(splitmix64(rng) >> 11) * (1.0 / 9007199254740992.0);

	return u < p;
}

/* ---- pacing ---- */

double servingsim_next_due(double prev_due, double now, double rate)
{
	double next = prev_due + 1 / rate;

	return next < now - 1 ? now : next;
}

/* ---- the run ---- */

/* the users to play: the dataset's when its files are here, else 1..N */
static void load_users(const char *dataset, uint32_t **ids, size_t *n, char *note, size_t size)
{
	char *name = NULL, *dir = dataset[0] ? catalog_resolve(dataset, &name) : NULL;
	struct dataset ds;
	struct buf err = BUF_INIT;
	unsigned char *seen;
	char q[QUOTE_BUF];

	*ids = NULL;
	*n = 0;
	dataset_init(&ds);
	if (dir && !dataset_read(&ds, dir, DS_AUTO, DS_SKIP, NULL, &err) && ds.nusers) {
		seen = xcalloc((size_t)ds.max_user + 1, 1);
		for (size_t i = 0; i < ds.nratings; i++)
			seen[ds.ratings[i].user] = 1;
		*ids = xmalloc(ds.nusers * sizeof(**ids));
		for (uint32_t u = 0; u <= ds.max_user && *n < ds.nusers; u++)
			if (seen[u])
				(*ids)[(*n)++] = u;
		free(seen);
		snprintf(note, size, "%zu users of %s", *n, dataset);
	}
	if (!*n) {
		free(*ids);
		*ids = xmalloc(SERVINGSIM_USERS_UNKNOWN * sizeof(**ids));
		for (uint32_t u = 0; u < SERVINGSIM_USERS_UNKNOWN; u++)
			(*ids)[u] = u + 1;
		*n = SERVINGSIM_USERS_UNKNOWN;
		if (dataset[0])
			snprintf(note, size, "users 1..%d (the files of dataset %s are not here)",
				 SERVINGSIM_USERS_UNKNOWN, quote(q, dataset));
		else
			snprintf(note, size, "users 1..%d (/metrics names no dataset)",
				 SERVINGSIM_USERS_UNKNOWN);
	}
	dataset_release(&ds);
	buf_release(&err);
	free(dir);
	free(name);
}

static struct servingsim_arm *arm_of(struct servingsim_stats *st, const struct servingsim_rule *r,
				      const char *name)
{
	for (int i = 0; i < st->narms; i++)
		if (!strcmp(st->arms[i].name, name))
			return &st->arms[i];
	if (st->narms == SERVINGSIM_ARMS)
		return NULL;
	struct servingsim_arm *a = &st->arms[st->narms++];
	memset(a, 0, sizeof(*a));
	snprintf(a->name, sizeof(a->name), "%s", name);
	a->chance = servingsim_chance(r, name);
	return a;
}

/* sleeps until `until` (clock_s) in slices, 1 when *stop was set meanwhile */
static int wait_until(double until, const int *stop)
{
	for (;;) {
		double left = until - clock_s();

		if (stop && __atomic_load_n(stop, __ATOMIC_RELAXED))
			return 1;
		if (left <= 0)
			return 0;
		usleep((useconds_t)((left < SLICE_S ? left : SLICE_S) * 1e6));
	}
}

__attribute__((format(printf, 3, 4)))
static int fail(struct servingsim_stats *st, struct buf *err, const char *fmt, ...)
{
	va_list ap;
	struct buf b = BUF_INIT;

	va_start(ap, fmt);
	buf_vaddf(&b, fmt, ap);
	va_end(ap);
	snprintf(st->error, sizeof(st->error), "%s", b.s);
	if (err)
		buf_addstr(err, b.s);
	buf_release(&b);
	return -1;
}

int servingsim_run(const struct servingsim_opts *o, const int *stop, servingsim_fn fn,
		   void *ctx, struct servingsim_stats *st, struct buf *err)
{
	struct servingmon_status *ms = xcalloc(1, sizeof(*ms));
	struct servingsim_rule rule = o->rule;
	struct servingmon mon;
	struct buf label = BUF_INIT;
	char arms[SERVINGSIM_ARMS][32];
	uint32_t *users = NULL;
	size_t nusers = 0;
	uint64_t rng = o->seed ? o->seed : (uint64_t)clock_ns() ^ ((uint64_t)getpid() << 32);
	int timeout = o->timeout_ms > 0 ? o->timeout_ms : TIMEOUT_MS, fails = 0, ret = -1;
	double start, due, reported;

	memset(st, 0, sizeof(*st));
	snprintf(st->addr, sizeof(st->addr), "%s", o->addr);
	st->seconds = o->seconds > 0 ? o->seconds : SERVINGSIM_SECONDS;
	st->rate = o->rate > 0 ? o->rate : SERVINGSIM_RATE;
	if (st->seconds > SERVINGSIM_SECONDS_MAX || st->rate > SERVINGSIM_RATE_MAX) {
		fail(st, err, "a simulation runs at most %.0f s at %.0f requests a second",
		     SERVINGSIM_SECONDS_MAX, SERVINGSIM_RATE_MAX);
		goto out;
	}

	/* what the serving is: its arms (for the rule) and the dataset (for the users) */
	servingmon_init(&mon, o->addr);
	mon.timeout_ms = timeout;
	if (servingmon_sample(&mon, ms)) {
		servingmon_release(&mon);
		fail(st, err, "serving at '%s' is down: %s; start one (x on the serving screen, "
		     "'pancake serving experiment start') or name another with --url", o->addr,
		     ms->reason);
		goto out;
	}
	servingmon_release(&mon);
	if (!ms->nvariants) {
		fail(st, err, "serving at '%s' has no model loaded yet: publish one (P on the models "
		     "screen, 'pancake models publish')", o->addr);
		goto out;
	}
	for (int i = 0; i < ms->narms && i < SERVINGSIM_ARMS; i++)
		snprintf(arms[i], sizeof(arms[i]), "%s", ms->arms[i].name);
	servingsim_rule_resolve(&rule, arms, ms->narms < SERVINGSIM_ARMS ? ms->narms : SERVINGSIM_ARMS);
	servingsim_rule_label(&rule, &label);
	snprintf(st->label, sizeof(st->label), "simulated users: %s", label.s);
	for (int i = 0; i < ms->narms && i < SERVINGSIM_ARMS; i++)
		arm_of(st, &rule, ms->arms[i].name);
	load_users(ms->variants[0].dataset, &users, &nusers, st->users, sizeof(st->users));
	if (fn)
		fn(st, ctx);

	start = reported = clock_s();
	due = start;
	while (due < start + st->seconds) {
		struct servingapi_recs *recs = xcalloc(1, sizeof(*recs));
		struct servingapi_feedback fb;
		struct servingapi_result r;
		struct servingsim_arm *a;
		uint32_t user = users[splitmix64(&rng) % nusers];
		int click, got;

		if (wait_until(due, stop)) {
			free(recs);
			st->stopped = 1;
			break;
		}
		got = servingapi_recommend(o->addr, user, LIST_K, NULL, timeout, recs, &r, NULL);
		if (got == 0 && recs->n > 0) {
			a = arm_of(st, &rule, recs->variant);
			click = servingsim_draw(a ? a->chance : rule.other, &rng);
			st->requests++;
			if (a)
				a->requests++;
			got = servingapi_feedback(o->addr, recs->request_id, recs->items[0].item,
						  click ? 1.0 : 0.0, timeout, &fb, &r, NULL);
			if (got == 0 && click) {
				st->clicks++;
				if (a)
					a->clicks++;
			} else if (got == SERVINGAPI_EHTTP && a) {
				a->refused++;
			}
		} else if (got == 0) {
			got = SERVINGAPI_EPROTO;
			snprintf(r.reason, sizeof(r.reason), "an empty list for user %u", user);
		}
		free(recs);
		if (got && got != SERVINGAPI_EHTTP) {
			st->failed++;
			if (++fails >= SERVINGSIM_FAILS_MAX) {
				st->elapsed = clock_s() - start;
				fail(st, err, "serving at '%s' failed %d times in a row: %s; is it still "
				     "running?", o->addr, fails, r.reason);
				goto out;
			}
		} else {
			fails = 0;
		}
		st->elapsed = clock_s() - start;
		if (fn && clock_s() - reported >= REPORT_S) {
			reported = clock_s();
			fn(st, ctx);
		}
		due = servingsim_next_due(due, clock_s(), st->rate);
	}
	st->elapsed = clock_s() - start;
	ret = 0;
out:
	st->done = 1;
	if (fn)
		fn(st, ctx);
	free(users);
	free(ms);
	buf_release(&label);
	return ret;
}
