/*
 * cmd-serving: `pancake serving status|recommend|feedback|experiment|simulate`:
 * the launcher's serving screen on the command line: a serving's live
 * figures, one user's recommendations with titles, feedback, an
 * experiment's serving started and stopped, simulated users.
 */
#include "cli.h"
#include "core/servingloc.h"
#include "core/servingmon.h"
#include "core/servingrec.h"
#include "core/servingrun.h"
#include "core/servingsim.h"
#include "util/clock.h"
#include "util/sig.h"
#include "util/strvec.h"
#include "util/hostport.h"
#include "util/jsonout.h"
#include "util/xalloc.h"

#include <jansson.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define ASK_TIMEOUT_MS 5000
/* how long `experiment start` waits for serving to announce itself */
#define START_WAIT_S 60.0

/* what every subcommand takes */
struct opts {
	const char *url;         /* --url HOST:PORT, else the known servings */
	double interval;         /* status: seconds between the samples */
	int json;
	int k;                   /* recommend */
	const char *variant;     /* recommend: the last --variant */
	double reward;           /* feedback */
	struct strvec variants;  /* experiment start: every --variant NAME=REV */
	const char *policy;
	int port;                /* experiment: 0 the default */
	double seconds, rate;    /* simulate */
	struct servingsim_rule rule;
};

/* ---- finding the serving ---- */

struct found {
	struct servingloc locs[SERVINGLOC_MAX];
	int n;
	int chosen;              /* index in locs, -1 none up */
	struct servingmon mon;   /* the chosen one's, first sample taken */
	struct servingmon_status st;
	struct buf why;          /* each one's reason when none is up */
};

/*
 * The serving to ask: --url's, else the first of the known ones (the
 * stack's container, then host processes) whose /metrics answers. Takes
 * its first sample. 0, or RC_FAILED printed with the way out.
 */
static int find_serving(const struct opts *o, struct found *f)
{
	struct servingmon_status *st = xcalloc(1, sizeof(*st));
	int ret = RC_FAILED;

	memset(f, 0, sizeof(*f));
	f->chosen = -1;
	buf_init(&f->why, 0);
	if (o->url) {
		struct servingloc *l = &f->locs[0];
		char host[64];
		int port;

		if (hostport_parse(o->url, host, sizeof(host), &port)) {
			char q[QUOTE_BUF];
			free(st);
			return cli_bad_usage("serving", "--url wants HOST:PORT, not %s", quote(q, o->url));
		}
		l->kind = SERVINGLOC_GIVEN;
		snprintf(l->host, sizeof(l->host), "%s", host);
		l->port = port;
		snprintf(l->label, sizeof(l->label), "--url");
		f->n = 1;
	} else {
		f->n = servingloc_list(f->locs, SERVINGLOC_MAX);
	}
	for (int i = 0; i < f->n; i++) {
		char addr[80];
		servingloc_addr(&f->locs[i], addr, sizeof(addr));
		servingmon_init(&f->mon, addr);
		if (servingmon_sample(&f->mon, st) == 0) {
			f->chosen = i;
			f->st = *st;
			ret = 0;
			goto out;
		}
		buf_addf(&f->why, "%s%s at %s: %s", f->why.len ? ", " : "", f->locs[i].label, addr,
			 st->reason);
		servingmon_release(&f->mon);
	}
	if (o->url && st->error == SERVINGAPI_EHTTP)
		ret = cli_fail(RC_FAILED, "serving at '%s' answers but does not serve: %s", o->url,
			       st->reason);
	else if (o->url && st->error == SERVINGMON_EMETRICS)
		ret = cli_fail(RC_FAILED, "serving at '%s' answered %s; is that port a serving's?",
			       o->url, st->reason);
	else if (o->url)
		ret = cli_fail(RC_FAILED, "serving at '%s' is down: %s; is it running? ('pancake up "
			       "serving' starts the stack's, 'serving --port N' one of your own)",
			       o->url, st->reason);
	else
		ret = cli_fail(RC_FAILED, "no serving answers (%s); start the stack's with 'pancake up "
			       "serving' or one of your own with 'serving --variant ...', or name one with "
			       "--url HOST:PORT", f->why.s);
out:
	free(st);
	return ret;
}

static void found_release(struct found *f)
{
	if (f->chosen >= 0)
		servingmon_release(&f->mon);
	buf_release(&f->why);
}

static const char *kind_name(enum servingloc_kind k)
{
	static const char *const names[] = {
		[SERVINGLOC_CONTAINER] = "container", [SERVINGLOC_HOST] = "host",
		[SERVINGLOC_GIVEN] = "given",
	};
	return names[k];
}

/* ---- status ---- */

static json_t *num(double v)
{
	return isfinite(v) ? json_real(v) : json_null();
}

static json_t *status_json(const struct found *f)
{
	const struct servingmon_status *st = &f->st;
	json_t *o = json_object(), *a = json_array(), *x;

	for (int i = 0; i < f->n; i++) {
		char addr[80];
		x = json_object();
		servingloc_addr(&f->locs[i], addr, sizeof(addr));
		json_object_set_new(x, "kind", json_string(kind_name(f->locs[i].kind)));
		json_object_set_new(x, "addr", json_string(addr));
		json_object_set_new(x, "pid", f->locs[i].pid ? json_integer(f->locs[i].pid) : json_null());
		json_object_set_new(x, "label", json_string(f->locs[i].label));
		json_object_set_new(x, "chosen", json_boolean(i == f->chosen));
		json_array_append_new(a, x);
	}
	json_object_set_new(o, "endpoints", a);
	json_object_set_new(o, "addr", json_string(st->addr));
	json_object_set_new(o, "up", json_boolean(st->up));
	json_object_set_new(o, "reason", st->up ? json_null() : json_string(st->reason));
	json_object_set_new(o, "interval_s", json_real(st->interval_s));
	json_object_set_new(o, "rps", num(st->rps));
	json_object_set_new(o, "p99_ms", num(st->p99_ms));
	a = json_array();
	for (int i = 0; i < st->nroutes; i++) {
		const struct servingmon_route *r = &st->routes[i];
		x = json_object();
		json_object_set_new(x, "route", json_string(r->name));
		json_object_set_new(x, "rps", num(r->rps));
		json_object_set_new(x, "p50_ms", num(r->p50_ms));
		json_object_set_new(x, "p99_ms", num(r->p99_ms));
		json_object_set_new(x, "requests", json_integer((json_int_t)r->requests));
		json_object_set_new(x, "errors", json_integer((json_int_t)r->errors));
		json_object_set_new(x, "refused", json_integer((json_int_t)r->refused));
		json_array_append_new(a, x);
	}
	json_object_set_new(o, "routes", a);
	x = json_object();
	for (int s = 0; s < SM_SOURCES; s++)
		json_object_set_new(x, servingmon_source_name(s), json_integer((json_int_t)st->sources[s]));
	json_object_set_new(o, "sources", x);
	x = json_object();
	json_object_set_new(x, "http_5xx", json_integer((json_int_t)st->http_5xx));
	json_object_set_new(x, "http_4xx", json_integer((json_int_t)st->http_4xx));
	json_object_set_new(x, "redis", json_integer((json_int_t)st->redis_errors));
	json_object_set_new(x, "kafka", json_integer((json_int_t)st->kafka_errors));
	json_object_set_new(o, "errors", x);
	json_object_set_new(o, "swaps", json_integer((json_int_t)st->swaps));
	json_object_set_new(o, "swap_failures", json_integer((json_int_t)st->swap_failures));
	x = json_object();
	json_object_set_new(x, "attributed", json_integer((json_int_t)st->feedback_attributed));
	json_object_set_new(x, "unknown", json_integer((json_int_t)st->feedback_unknown));
	json_object_set_new(x, "expired", json_integer((json_int_t)st->feedback_expired));
	json_object_set_new(x, "duplicate", json_integer((json_int_t)st->feedback_duplicate));
	json_object_set_new(x, "open", json_integer((json_int_t)st->feedback_open));
	json_object_set_new(o, "feedback", x);
	a = json_array();
	for (int i = 0; i < st->nvariants; i++) {
		const struct servingmon_variant *v = &st->variants[i];
		x = json_object();
		json_object_set_new(x, "name", json_string(v->name));
		json_object_set_new(x, "version", json_string(v->version));
		json_object_set_new(x, "rev", json_string(v->rev));
		json_object_set_new(x, "dataset", json_string(v->dataset));
		json_object_set_new(x, "rank", json_integer(v->rank));
		json_array_append_new(a, x);
	}
	json_object_set_new(o, "variants", a);
	json_object_set_new(o, "policy", st->policy[0] ? json_string(st->policy) : json_null());
	a = json_array();
	for (int i = 0; i < st->narms; i++) {
		const struct servingmon_arm *m = &st->arms[i];
		x = json_object();
		json_object_set_new(x, "name", json_string(m->name));
		json_object_set_new(x, "policy", json_string(m->policy));
		json_object_set_new(x, "weight", num(m->weight));
		json_object_set_new(x, "pulls", json_integer((json_int_t)m->pulls));
		json_object_set_new(x, "pull_share", num(m->pull_share));
		json_object_set_new(x, "rewards", num(m->rewards));
		json_object_set_new(x, "no_reward", num(m->no_reward));
		json_object_set_new(x, "rate", num(m->rate));
		json_object_set_new(x, "rate_lo", num(m->rate_lo));
		json_object_set_new(x, "rate_hi", num(m->rate_hi));
		json_object_set_new(x, "probability", num(m->probability));
		json_array_append_new(a, x);
	}
	json_object_set_new(o, "arms", a);
	return o;
}

/* a figure in ms, "-" when there is none */
static const char *msf(char *out, size_t size, double v)
{
	if (!isfinite(v))
		snprintf(out, size, "-");
	else
		snprintf(out, size, v < 10 ? "%.2f" : "%.0f", v);
	return out;
}

static void status_text(const struct found *f)
{
	const struct servingmon_status *st = &f->st;
	const char *b = cli_color(C_BOLD), *r = cli_color(C_RESET);
	char p50[16], p99[16];

	printf("%sendpoints%s", b, r);
	for (int i = 0; i < f->n; i++) {
		char addr[80];
		servingloc_addr(&f->locs[i], addr, sizeof(addr));
		printf("  %s%s %s", i == f->chosen ? "*" : "", f->locs[i].label, addr);
	}
	printf("\n%sserving%s %s up: %.1f req/s, p99 %s ms (over %.1f s; the monitor's own "
	       "/metrics left out)\n", b, r, st->addr, st->rps, msf(p99, sizeof(p99), st->p99_ms),
	       st->interval_s);
	printf("\n%-17s %8s %8s %8s %10s %8s %8s\n", "ROUTE", "REQ/S", "P50 MS", "P99 MS", "REQUESTS",
	       "5XX", "4XX");
	for (int i = 0; i < st->nroutes; i++) {
		const struct servingmon_route *rt = &st->routes[i];
		printf("%-17s %8.1f %8s %8s %10llu %8llu %8llu\n", rt->name, rt->rps,
		       msf(p50, sizeof(p50), rt->p50_ms), msf(p99, sizeof(p99), rt->p99_ms),
		       (unsigned long long)rt->requests, (unsigned long long)rt->errors,
		       (unsigned long long)rt->refused);
	}
	printf("\n%ssources%s ", b, r);
	for (int s = 0; s < SM_SOURCES; s++)
		printf(" %s %llu", servingmon_source_name(s), (unsigned long long)st->sources[s]);
	printf("\n%serrors%s   5xx %llu  4xx %llu  redis %llu  kafka %llu   %sswaps%s %llu (%llu failed)\n",
	       b, r, (unsigned long long)st->http_5xx, (unsigned long long)st->http_4xx,
	       (unsigned long long)st->redis_errors, (unsigned long long)st->kafka_errors, b, r,
	       (unsigned long long)st->swaps, (unsigned long long)st->swap_failures);
	printf("%sfeedback%s attributed %llu  unknown %llu  expired %llu  duplicate %llu  open %llu\n",
	       b, r, (unsigned long long)st->feedback_attributed,
	       (unsigned long long)st->feedback_unknown, (unsigned long long)st->feedback_expired,
	       (unsigned long long)st->feedback_duplicate, (unsigned long long)st->feedback_open);
	printf("\n%-12s %-14s %-16s %-12s %s\n", "VARIANT", "MODEL", "REV", "DATASET", "RANK");
	for (int i = 0; i < st->nvariants; i++) {
		const struct servingmon_variant *v = &st->variants[i];
		printf("%-12s %-14s %-16s %-12s %d\n", v->name, v->version, v->rev, v->dataset, v->rank);
	}
	if (!st->nvariants)
		printf("(no model loaded yet: publish one with 'pancake models publish')\n");
	if (!st->narms)
		return;
	printf("\n%-12s %-9s %8s %6s %9s %9s %7s %-15s %6s\n", "ARM", "WEIGHT", "PULLS", "SHARE",
	       "REWARDS", "NO_REWARD", "RATE", "95% INTERVAL", "PROB");
	for (int i = 0; i < st->narms; i++) {
		const struct servingmon_arm *m = &st->arms[i];
		char w[16], rate[16], ci[32], prob[16];
		if (isfinite(m->weight))
			snprintf(w, sizeof(w), "%g", m->weight);
		else
			snprintf(w, sizeof(w), "%s", m->policy);
		if (isfinite(m->rate)) {
			snprintf(rate, sizeof(rate), "%.3f", m->rate);
			snprintf(ci, sizeof(ci), "%.3f-%.3f", m->rate_lo, m->rate_hi);
		} else {
			snprintf(rate, sizeof(rate), "-");
			snprintf(ci, sizeof(ci), "-");
		}
		snprintf(prob, sizeof(prob), isfinite(m->probability) ? "%.3f" : "-", m->probability);
		printf("%-12s %-9s %8llu %5.0f%% %9.1f %9.1f %7s %-15s %6s\n", m->name, w,
		       (unsigned long long)m->pulls, 100 * m->pull_share, m->rewards, m->no_reward, rate,
		       ci, prob);
	}
}

static int serving_status(const struct opts *o)
{
	struct found f;
	int ret = find_serving(o, &f);

	if (ret)
		goto out;
	usleep((useconds_t)(o->interval * 1e6));
	if (servingmon_sample(&f.mon, &f.st)) {
		ret = cli_fail(RC_FAILED, "serving at %s went down between the samples: %s; is it "
			       "still running?", f.st.addr, f.st.reason);
		goto out;
	}
	if (o->json)
		jsonout_print(status_json(&f));
	else
		status_text(&f);
out:
	found_release(&f);
	return ret;
}

/* ---- recommend ---- */

static int serving_recommend(const struct opts *o, const char *user_arg)
{
	struct servingrec_titles t;
	struct servingrec_answer *a = xcalloc(1, sizeof(*a));
	struct servingapi_result r;
	struct buf err = BUF_INIT;
	struct found f;
	char *end, q[QUOTE_BUF];
	unsigned long user = strtoul(user_arg, &end, 10);
	int ret;

	servingrec_titles_init(&t);
	if (*end || !*user_arg || user_arg[0] == '-' || user > UINT32_MAX) {
		free(a);
		return cli_bad_usage("serving", "USER is a user id (a number), not %s", quote(q, user_arg));
	}
	ret = find_serving(o, &f);
	if (ret)
		goto out;
	if (servingrec_ask(f.st.addr, (uint32_t)user, o->k, o->variant, ASK_TIMEOUT_MS, &t, a, &r,
			   &err)) {
		ret = cli_fail(RC_FAILED, "%s%s", err.s, r.http_status == 400 ?
			       "; 'pancake serving status' lists the variants" : "");
		goto out;
	}
	if (o->json) {
		json_t *j = json_object(), *items = json_array();
		json_object_set_new(j, "addr", json_string(f.st.addr));
		json_object_set_new(j, "user", json_integer(a->r.user));
		json_object_set_new(j, "request_id", json_string(a->r.request_id));
		json_object_set_new(j, "variant", json_string(a->r.variant));
		json_object_set_new(j, "version", json_string(a->r.version));
		json_object_set_new(j, "source", json_string(a->r.source));
		json_object_set_new(j, "probability", json_real(a->r.probability));
		json_object_set_new(j, "dataset", a->dataset[0] ? json_string(a->dataset) : json_null());
		json_object_set_new(j, "titles_from", t.n ? json_string(t.dir) : json_null());
		json_object_set_new(j, "titles_note", t.n ? json_null() : json_string(t.note));
		for (int i = 0; i < a->r.n; i++) {
			const struct servingrec_movie *m = a->movies[i];
			json_t *x = json_object();
			json_object_set_new(x, "item", json_integer(a->r.items[i].item));
			json_object_set_new(x, "score", json_real(a->r.items[i].score));
			json_object_set_new(x, "title", m ? json_string(m->title) : json_null());
			json_object_set_new(x, "year", m && m->year ? json_integer(m->year) : json_null());
			json_object_set_new(x, "genres", m ? json_string(m->genres) : json_null());
			json_array_append_new(items, x);
		}
		json_object_set_new(j, "items", items);
		jsonout_print(j);
		goto out;
	}
	printf("user %u: variant %s (model %s), source %s, probability %.3f, request %s at %s\n",
	       a->r.user, a->r.variant, a->r.version, a->r.source, a->r.probability, a->r.request_id,
	       f.st.addr);
	if (t.n)
		printf("titles from dataset %s (%s)\n", t.dataset, t.dir);
	else
		printf("%s\n", t.note);
	printf("\n%3s %7s %7s  %s\n", "#", "ITEM", "SCORE", "TITLE (YEAR)  GENRES");
	for (int i = 0; i < a->r.n; i++) {
		const struct servingrec_movie *m = a->movies[i];
		char title[256] = "-";
		if (m)
			snprintf(title, sizeof(title), m->year ? "%s (%d)  %s" : "%s%.0d  %s", m->title,
				 m->year, m->genres);
		printf("%3d %7u %7.3f  %s\n", i + 1, a->r.items[i].item, a->r.items[i].score, title);
	}
	printf("\nfeedback: pancake serving feedback %s ITEM [--reward R] --url %s\n",
	       a->r.request_id, f.st.addr);
out:
	found_release(&f);
	servingrec_titles_release(&t);
	buf_release(&err);
	free(a);
	return ret;
}

/* ---- feedback ---- */

static int serving_feedback(const struct opts *o, const char *id, const char *item_arg)
{
	struct servingapi_feedback fb;
	struct servingapi_result r;
	struct buf err = BUF_INIT;
	struct found f;
	char *end, q[QUOTE_BUF];
	long long item = strtoll(item_arg, &end, 10);
	int ret;

	if (*end || !*item_arg || item < 0 || item > UINT32_MAX)
		return cli_bad_usage("serving", "ITEM is an item id (a number), not %s", quote(q, item_arg));
	if (!(o->reward >= 0 && o->reward <= 1))
		return cli_bad_usage("serving", "--reward is a number from 0 to 1 (a click is 1)");
	ret = find_serving(o, &f);
	if (ret)
		goto out;
	/* an id is its serving's own: without --url, the others are asked when the first knows it not */
	ret = servingapi_feedback(f.st.addr, id, item, o->reward, ASK_TIMEOUT_MS, &fb, &r, &err);
	for (int i = f.chosen + 1; ret == SERVINGAPI_EHTTP && r.http_status == 404 && i < f.n; i++) {
		struct servingapi_feedback fb2;
		struct servingapi_result r2;
		char addr[80];
		servingloc_addr(&f.locs[i], addr, sizeof(addr));
		if (servingapi_feedback(addr, id, item, o->reward, ASK_TIMEOUT_MS, &fb2, &r2, NULL) == 0) {
			fb = fb2;
			ret = 0;
		}
	}
	if (ret == 0) {
		if (o->json) {
			json_t *j = json_object();
			json_object_set_new(j, "request_id", json_string(id));
			json_object_set_new(j, "item", json_integer(item));
			json_object_set_new(j, "attributed", json_true());
			json_object_set_new(j, "variant", json_string(fb.variant));
			json_object_set_new(j, "reward", json_real(fb.reward));
			jsonout_print(j);
		} else {
			printf("feedback %s on item %lld: reward %g attributed to variant %s\n", id, item,
			       fb.reward, fb.variant);
		}
		goto out;
	}
	if (ret == SERVINGAPI_EHTTP && r.http_status == 404)
		ret = cli_fail(RC_FAILED, "%s; the id must come from an answer of this serving within "
			       "its attribution window ('pancake serving recommend USER' makes one)", err.s);
	else if (ret == SERVINGAPI_EHTTP)
		ret = cli_fail(RC_FAILED, "%s", err.s);
	else
		ret = cli_fail(RC_FAILED, "%s; is it still running?", err.s);
out:
	found_release(&f);
	buf_release(&err);
	return ret;
}

/* ---- experiment ---- */

/* Ctrl-C (or a TERM, a HUP) while a start waits or a simulation runs */
static int sim_stop;

static void on_sim_stop(int sig)
{
	(void)sig;
	__atomic_store_n(&sim_stop, 1, __ATOMIC_RELAXED);
}

static json_t *plan_json(const struct servingrun_plan *p)
{
	json_t *o = json_object(), *a = json_array();

	for (int i = 0; i < p->nvariants; i++) {
		json_t *v = json_object();
		json_object_set_new(v, "name", json_string(p->names[i]));
		json_object_set_new(v, "rev", json_string(p->revs[i]));
		json_object_set_new(v, "version", json_string(p->ids[i]));
		json_array_append_new(a, v);
	}
	json_object_set_new(o, "variants", a);
	json_object_set_new(o, "policy", json_string(p->policy));
	json_object_set_new(o, "data", json_string(p->data));
	json_object_set_new(o, "redis", json_string(p->redis));
	json_object_set_new(o, "kafka", json_string(p->kafka));
	json_object_set_new(o, "registry", json_string(p->registry));
	return o;
}

/*
 * Starts the experiment's serving in a session of its own and waits until
 * it announces itself (or ends): it is left running, `experiment stop`
 * stops it.
 */
static int experiment_start(const struct opts *o)
{
	struct servingrun_opts ro = { .policy = o->policy, .port = o->port };
	struct servingrun_plan p;
	struct servingrun *r = NULL;
	struct buf err = BUF_INIT, what = BUF_INIT;
	double until = clock_s() + START_WAIT_S;
	int ret = RC_FAILED;

	if (o->variants.n > SERVINGRUN_VARIANTS)
		return cli_bad_usage("serving", "at most %d --variant", SERVINGRUN_VARIANTS);
	for (size_t i = 0; i < o->variants.n; i++)
		ro.variants[ro.nvariants++] = o->variants.v[i];
	if (servingrun_plan(&p, &ro, &err)) {
		ret = cli_fail(RC_FAILED, "cannot start the experiment: %s", err.s);
		goto out;
	}
	servingrun_describe(&p, &what);
	if (servingrun_start(&r, &p, 1, &err)) {
		ret = cli_fail(RC_FAILED, "cannot start the experiment: %s", err.s);
		goto out;
	}
	if (!o->json)
		fprintf(stderr, "starting %s (pid %ld, log %s)\n", what.s, (long)servingrun_pid(r),
			servingrun_log(r));
	sim_stop = 0;
	sig_catch(on_sim_stop, 1);
	while (servingrun_state(r) == SERVINGRUN_STARTING && clock_s() < until &&
	       !__atomic_load_n(&sim_stop, __ATOMIC_RELAXED)) {
		usleep(100000);
		servingrun_poll(r);
	}
	signal(SIGINT, SIG_DFL);
	signal(SIGTERM, SIG_DFL);
	signal(SIGHUP, SIG_DFL);
	if (sim_stop && servingrun_state(r) == SERVINGRUN_STARTING) {
		servingrun_free(r);
		r = NULL;
		ret = cli_fail(RC_INTERRUPTED, "interrupted before the experiment's serving was "
			       "ready: it was stopped");
		goto out;
	}
	if (servingrun_state(r) == SERVINGRUN_ENDED) {
		ret = cli_fail(RC_FAILED, "the experiment's serving ended before it was ready: %s "
			       "(its log: %s)", servingrun_reason(r), servingrun_log(r));
		goto out;
	}
	if (servingrun_state(r) != SERVINGRUN_READY) {
		servingrun_free(r);
		r = NULL;
		ret = cli_fail(RC_FAILED, "the experiment's serving was not ready within %.0f s, so it "
			       "was stopped; its log says why", START_WAIT_S);
		goto out;
	}
	if (o->json) {
		json_t *j = plan_json(&p);
		json_object_set_new(j, "pid", json_integer(servingrun_pid(r)));
		json_object_set_new(j, "addr", json_string(servingrun_addr(r)));
		json_object_set_new(j, "port", json_integer(servingrun_port(r)));
		json_object_set_new(j, "log", json_string(servingrun_log(r)));
		jsonout_print(j);
	} else {
		printf("%s: up, pid %ld\nlog  %s\nwatch it: pancake serving status --url %s (or the "
		       "launcher's serving screen, key V)\nload it: pancake serving simulate --url %s\n"
		       "stop it: pancake serving experiment stop --port %d\n", what.s,
		       (long)servingrun_pid(r), servingrun_log(r), servingrun_addr(r),
		       servingrun_addr(r), servingrun_port(r));
	}
	ret = 0;
out:
	servingrun_release(r);	/* it stays: a detached start */
	buf_release(&err);
	buf_release(&what);
	return ret;
}

static int experiment_stop(const struct opts *o)
{
	struct servingloc found[SERVINGLOC_MAX];
	struct buf err = BUF_INIT;
	json_t *stopped = json_array();
	int n = servingrun_find(found, SERVINGLOC_MAX, o->port), ret = 0;

	if (!n) {
		json_decref(stopped);
		if (o->port)
			return cli_fail(RC_FAILED, "no serving pancake started listens on port %d: "
					"'pancake serving status' lists the servings found", o->port);
		return cli_fail(RC_FAILED, "no serving pancake started is running: 'pancake serving "
				"experiment start' starts one");
	}
	for (int i = 0; i < n; i++) {
		char addr[80];
		servingloc_addr(&found[i], addr, sizeof(addr));
		buf_reset(&err);
		if (servingrun_kill(&found[i], &err)) {
			ret = cli_fail(RC_FAILED, "%s", err.s);
			continue;
		}
		if (o->json) {
			json_t *x = json_object();
			json_object_set_new(x, "pid", json_integer(found[i].pid));
			json_object_set_new(x, "addr", json_string(addr));
			json_array_append_new(stopped, x);
		} else {
			printf("stopped serving pid %ld on %s\n", (long)found[i].pid, addr);
		}
	}
	if (o->json && !ret) {
		json_t *j = json_object();
		json_object_set_new(j, "stopped", stopped);
		jsonout_print(j);
	} else {
		json_decref(stopped);
	}
	buf_release(&err);
	return ret;
}

/* ---- simulate ---- */

/* a line every 5 s while it runs (text output only) */
static void sim_progress(const struct servingsim_stats *st, void *ctx)
{
	double *next = ctx;

	if (st->done || st->elapsed < *next)
		return;
	*next += 5;
	fprintf(stderr, "%5.1f s: %llu requests", st->elapsed, (unsigned long long)st->requests);
	for (int i = 0; i < st->narms; i++)
		fprintf(stderr, ", %s %llu (%llu clicks)", st->arms[i].name,
			(unsigned long long)st->arms[i].requests, (unsigned long long)st->arms[i].clicks);
	fprintf(stderr, "\n");
}

static int serving_simulate(const struct opts *o)
{
	struct servingsim_opts so = { .seconds = o->seconds, .rate = o->rate, .rule = o->rule };
	struct servingsim_stats *st = xcalloc(1, sizeof(*st));
	struct servingloc mine[1];
	struct buf err = BUF_INIT;
	char addr[80];
	double next = 5;
	int ret;

	/* the experiment pancake started first, else the first serving that answers */
	if (o->url) {
		snprintf(addr, sizeof(addr), "%s", o->url);
	} else if (servingrun_find(mine, 1, 0) == 1) {
		servingloc_addr(&mine[0], addr, sizeof(addr));
	} else {
		struct found f;
		ret = find_serving(o, &f);
		snprintf(addr, sizeof(addr), "%s", f.st.addr);
		found_release(&f);
		if (ret)
			goto out;
	}
	so.addr = addr;
	sim_stop = 0;
	sig_catch(on_sim_stop, 1);
	if (!o->json)
		fprintf(stderr, "simulating users against %s for %.0f s, at most %.0f requests a "
			"second (Ctrl-C stops)\n", addr, o->seconds, o->rate);
	ret = servingsim_run(&so, &sim_stop, o->json ? NULL : sim_progress, &next, st, &err);
	signal(SIGINT, SIG_DFL);
	signal(SIGTERM, SIG_DFL);
	signal(SIGHUP, SIG_DFL);
	if (ret && !st->requests) {
		ret = cli_fail(RC_FAILED, "%s", err.s);
		goto out;
	}
	if (o->json) {
		json_t *j = json_object(), *a = json_array();
		json_object_set_new(j, "addr", json_string(st->addr));
		json_object_set_new(j, "label", json_string(st->label));
		json_object_set_new(j, "users", json_string(st->users));
		json_object_set_new(j, "seconds", json_real(st->seconds));
		json_object_set_new(j, "rate", json_real(st->rate));
		json_object_set_new(j, "elapsed", json_real(st->elapsed));
		json_object_set_new(j, "requests", json_integer((json_int_t)st->requests));
		json_object_set_new(j, "clicks", json_integer((json_int_t)st->clicks));
		json_object_set_new(j, "failed", json_integer((json_int_t)st->failed));
		json_object_set_new(j, "stopped", json_boolean(st->stopped));
		json_object_set_new(j, "error", st->error[0] ? json_string(st->error) : json_null());
		for (int i = 0; i < st->narms; i++) {
			const struct servingsim_arm *m = &st->arms[i];
			json_t *x = json_object();
			json_object_set_new(x, "name", json_string(m->name));
			json_object_set_new(x, "chance", json_real(m->chance));
			json_object_set_new(x, "requests", json_integer((json_int_t)m->requests));
			json_object_set_new(x, "share", st->requests ?
					    json_real((double)m->requests / (double)st->requests) :
					    json_null());
			json_object_set_new(x, "clicks", json_integer((json_int_t)m->clicks));
			json_object_set_new(x, "refused", json_integer((json_int_t)m->refused));
			json_array_append_new(a, x);
		}
		json_object_set_new(j, "arms", a);
		jsonout_print(j);
	} else {
		printf("%s (%s) against %s\n%llu requests in %.1f s (%.1f a second), %llu clicks%s%s\n",
		       st->label, st->users, st->addr, (unsigned long long)st->requests, st->elapsed,
		       st->elapsed > 0 ? (double)st->requests / st->elapsed : 0,
		       (unsigned long long)st->clicks, st->stopped ? "; stopped early" : "",
		       st->failed ? "; some asks failed" : "");
		printf("\n%-12s %6s %9s %6s %7s %6s\n", "ARM", "CHANCE", "REQUESTS", "SHARE", "CLICKS",
		       "RATE");
		for (int i = 0; i < st->narms; i++) {
			const struct servingsim_arm *m = &st->arms[i];
			char rate[16] = "-";
			if (m->requests)
				snprintf(rate, sizeof(rate), "%.3f", (double)m->clicks / (double)m->requests);
			printf("%-12s %5.0f%% %9llu %5.0f%% %7llu %6s\n", m->name, 100 * m->chance,
			       (unsigned long long)m->requests,
			       st->requests ? 100.0 * (double)m->requests / (double)st->requests : 0,
			       (unsigned long long)m->clicks, rate);
		}
		printf("\nthe arms as serving counts them: pancake serving status --url %s\n", st->addr);
	}
	if (st->error[0]) {
		ret = cli_fail(RC_FAILED, "%s", st->error);
		goto out;
	}
	ret = st->stopped ? RC_INTERRUPTED : 0;
out:
	free(st);
	buf_release(&err);
	return ret;
}

int cmd_serving(int argc, char **argv)
{
	enum { O_URL = 256, O_INTERVAL, O_JSON, O_K, O_VARIANT, O_REWARD, O_POLICY, O_PORT,
	       O_SECONDS, O_RATE, O_CLICK };
	static const struct option longs[] = {
		{ "url", 1, NULL, O_URL }, { "interval", 1, NULL, O_INTERVAL },
		{ "json", 0, NULL, O_JSON }, { "k", 1, NULL, O_K }, { "variant", 1, NULL, O_VARIANT },
		{ "reward", 1, NULL, O_REWARD }, { "policy", 1, NULL, O_POLICY },
		{ "port", 1, NULL, O_PORT }, { "seconds", 1, NULL, O_SECONDS },
		{ "rate", 1, NULL, O_RATE }, { "click", 1, NULL, O_CLICK }, { NULL, 0, NULL, 0 },
	};
	struct opts o = { .interval = 1, .k = 10, .reward = 1, .seconds = SERVINGSIM_SECONDS,
			  .rate = SERVINGSIM_RATE };
	struct buf err = BUF_INIT;
	const char *sub;
	char q[QUOTE_BUF], *end;
	int c, nargs, ret;

	strvec_init(&o.variants);
	servingsim_rule_default(&o.rule);
	optind = 1;
	while ((c = getopt_long(argc, argv, "", longs, NULL)) != -1) {
		switch (c) {
		case O_URL: o.url = optarg; break;
		case O_JSON: o.json = 1; break;
		case O_VARIANT:
			o.variant = optarg;
			strvec_push(&o.variants, optarg);
			break;
		case O_POLICY:
			if (!servingrun_policy_ok(optarg)) {
				ret = cli_bad_usage("serving", "--policy is thompson, ab, egreedy or ucb1, "
						    "not %s", quote(q, optarg));
				goto out;
			}
			o.policy = optarg;
			break;
		case O_PORT:
			o.port = (int)strtol(optarg, &end, 10);
			if (*end || o.port < 1 || o.port > 65535) {
				ret = cli_bad_usage("serving", "--port is 1 to 65535, not %s",
						    quote(q, optarg));
				goto out;
			}
			break;
		case O_SECONDS:
			o.seconds = strtod(optarg, &end);
			if (*end || !(o.seconds >= 1 && o.seconds <= SERVINGSIM_SECONDS_MAX)) {
				ret = cli_bad_usage("serving", "--seconds is 1 to %.0f, not %s",
						    SERVINGSIM_SECONDS_MAX, quote(q, optarg));
				goto out;
			}
			break;
		case O_RATE:
			o.rate = strtod(optarg, &end);
			if (*end || !(o.rate >= 0.1 && o.rate <= SERVINGSIM_RATE_MAX)) {
				ret = cli_bad_usage("serving", "--rate is 0.1 to %.0f requests a second, "
						    "not %s", SERVINGSIM_RATE_MAX, quote(q, optarg));
				goto out;
			}
			break;
		case O_CLICK:
			if (servingsim_rule_add(&o.rule, optarg, &err)) {
				ret = cli_bad_usage("serving", "%s", err.s);
				goto out;
			}
			break;
		case O_INTERVAL:
			o.interval = strtod(optarg, &end);
			if (*end || !(o.interval >= 0.1 && o.interval <= 60)) {
				ret = cli_bad_usage("serving", "--interval is 0.1 to 60 seconds, not %s",
						    quote(q, optarg));
				goto out;
			}
			break;
		case O_K:
			o.k = (int)strtol(optarg, &end, 10);
			if (*end || o.k < 1 || o.k > SERVINGAPI_K_MAX) {
				ret = cli_bad_usage("serving", "--k is 1 to %d, not %s", SERVINGAPI_K_MAX,
						    quote(q, optarg));
				goto out;
			}
			break;
		case O_REWARD:
			o.reward = strtod(optarg, &end);
			if (*end || !(o.reward >= 0 && o.reward <= 1)) {
				ret = cli_bad_usage("serving", "--reward is a number from 0 to 1, not %s",
						    quote(q, optarg));
				goto out;
			}
			break;
		default:
			ret = cli_bad_option("serving", argv);
			goto out;
		}
	}
	if (optind >= argc) {
		ret = cli_bad_usage("serving", "which? status, recommend, feedback, experiment or "
				    "simulate");
		goto out;
	}
	sub = argv[optind];
	nargs = argc - optind - 1;
	if (!strcmp(sub, "status")) {
		if (nargs)
			ret = cli_bad_usage("serving", "unexpected argument %s for 'serving status'",
					    quote(q, argv[optind + 1]));
		else
			ret = serving_status(&o);
	} else if (!strcmp(sub, "recommend")) {
		if (nargs != 1)
			ret = cli_bad_usage("serving", "'serving recommend' takes one USER");
		else
			ret = serving_recommend(&o, argv[optind + 1]);
	} else if (!strcmp(sub, "feedback")) {
		if (nargs != 2)
			ret = cli_bad_usage("serving", "'serving feedback' takes a REQUEST_ID and an ITEM");
		else
			ret = serving_feedback(&o, argv[optind + 1], argv[optind + 2]);
	} else if (!strcmp(sub, "experiment")) {
		const char *what = nargs == 1 ? argv[optind + 1] : "";
		if (!strcmp(what, "start"))
			ret = experiment_start(&o);
		else if (!strcmp(what, "stop"))
			ret = experiment_stop(&o);
		else
			ret = cli_bad_usage("serving", "'serving experiment' takes start or stop");
	} else if (!strcmp(sub, "simulate")) {
		if (nargs)
			ret = cli_bad_usage("serving", "unexpected argument %s for 'serving simulate'",
					    quote(q, argv[optind + 1]));
		else
			ret = serving_simulate(&o);
	} else {
		ret = cli_bad_usage("serving", "unknown serving command %s: use status, recommend, "
				    "feedback, experiment or simulate", quote(q, sub));
	}
out:
	strvec_clear(&o.variants);
	buf_release(&err);
	return ret;
}
