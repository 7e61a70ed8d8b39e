/*
 * modelspane: the launcher's models screen: the registry's models with their
 * figures and refs, a diff of two, promote and rollback (asked first), a
 * training form whose run charts its figures live, publishing with a
 * progress bar, fold-in with its latency. The registry is read and moved on
 * a thread of its own; the recommender's jobs are child processes polled
 * (core/modeljob.h) from the loop: nothing here waits.
 */
#include "core/catalog.h"
#include "core/config.h"
#include "core/modeljob.h"
#include "model/registry.h"
#include "tui/chart.h"
#include "tui/colors.h"
#include "tui/pane.h"
#include "tui/table.h"
#include "util/clock.h"
#include "util/human.h"
#include "util/xalloc.h"

#include <curses.h>
#include <errno.h>
#include <jansson.h>
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#define MODELS_POLL_S 0.25       /* the refs (four stat calls) are looked at this often ... */
#define MODELS_SHOWN_S 3.0       /* ... while the screen was drawn this recently */
#define MODELS_SETS 64
#define MODELS_DEFAULT_SET "lab-100k"
#define BAR_W 30

/* ---- one model as the list shows it, parsed on the registry thread ---- */

struct mrow {
	char id[41], short_id[13];
	int64_t time;
	char dataset[48], kind[12];
	int rank, iters;                 /* 0: absent */
	double lambda, rmse, ndcg, prec; /* NaN: absent */
	int production, candidate;
	char summary[160];
	char params[600], metrics[600];  /* "key value, ..." for the details */
};

/* a line of the diff: a parameter that differs or a metric */
struct drow {
	char key[40];
	char a[32], b[32], delta[40];
	int metric;
	int better;                      /* 0: neither or no rule, 1: a, 2: b */
};

enum mreq { MR_NONE, MR_PROMOTE, MR_ROLLBACK, MR_ASK_ROLLBACK, MR_DIFF };

enum detail { DT_MODEL, DT_TRAIN, DT_PUBLISH, DT_DIFF };

enum jobkind { JK_NONE, JK_TRAIN, JK_PUBLISH };

/* the training form's fields, and the values they step through */
enum field { F_DATASET, F_KIND, F_RANK, F_LAMBDA, F_ALPHA, F_ITERS, F_SPLIT, F_REGISTER,
	     F_COUNT };

static const int ranks[] = { 2, 4, 5, 8, 10, 16, 20, 32, 50, 64, 100, 128, 200 };
static const double lambdas[] = { 0, 0.001, 0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1, 2, 5, 10 };
static const double alphas[] = { 0.1, 0.5, 1, 2, 5, 10, 20, 40, 80 };
static const double splits[] = { 0.1, 0.2, 0.3, 0.5 };
#define ITERS_MAX 100

struct form {
	int open;
	int field;
	int set;                         /* index into sets */
	int implicit;
	int rank, lambda, alpha, split;  /* indices into the tables above */
	int iters;
	int reg;
};

struct modelspane {
	const char *dir;                 /* the registry (config_registry) */

	/* --- the registry thread: requests in, results out, under lock --- */
	pthread_mutex_t lock;
	pthread_cond_t wake;
	pthread_t thread;
	int have_thread;
	int stop;
	int reload;                      /* list again */
	enum mreq req;
	char req_a[41], req_b[41];
	double drawn_at;                 /* the screen was drawn then: it is shown */
	struct mrow *rows;
	size_t nrows;
	int listed;                      /* a first listing has arrived */
	char list_note[400];             /* why there is no list, or "" */
	char prod[41], cand[41];         /* "" when absent */
	struct drow *diff;
	size_t ndiff;
	char diff_a[13], diff_b[13];
	char diff_err[400];
	int ask_ready;                   /* the rollback's target is known (or why not) */
	char ask_target[41], ask_err[400];
	char outcome[400];               /* the last promote or rollback */
	int outcome_bad;
	unsigned outcome_seq;
	unsigned version;

	/* --- the UI thread's --- */
	unsigned seen_version, seen_outcome;
	size_t sel, top;
	char sel_id[41];                 /* the selection follows its model across listings */
	char want_sel[41];               /* a new model, selected once listed */
	char mark[41];                   /* d marked it; "" none */
	int list_rows;                   /* as last drawn, for PgUp/PgDn */
	enum detail detail;
	int confirm;                     /* 'p' or 'R' waits for a y; 0: none */
	char confirm_id[41], confirm_text[300];
	struct form form;
	struct catalog_local sets[MODELS_SETS];
	int nsets;

	/* the training or publishing job */
	struct modeljob *job;
	enum jobkind job_kind;
	char job_name[64];               /* the dataset trained, the model published */
	char job_what[160];
	char job_cand[41], job_prod[41]; /* the refs when it started */
	double job_started, job_ended;
	size_t job_seen;
	enum modeljob_state job_state;   /* as it ended */
	char job_status[400];            /* how it went, once ended */
	enum ui_color job_color;
	char last[400];                  /* the newest outcome: a job's, a promote's... */
	enum ui_color last_color;
	struct progress_event last_iter, last_pub;
	int have_iter, have_pub;
	int iters;                       /* asked for */
	/*
	 * Two views of one run, fed alike, one drawn (g switches): the errors
	 * (train and test RMSE) and the loss, each beside NDCG@10 on the right
	 * axis. The first iteration's loss, from random factors, is several
	 * times the RMSE: on one axis it would flatten the RMSE curves.
	 */
	struct chart charts[2];
	int view;                        /* CV_ERRORS or CV_LOSS */
	int implicit;                    /* the run has no RMSE: the loss view only */
	int s_loss, s_train, s_test, s_ndcg, s_ndcg2;
	unsigned chart_version, grid_version;
	struct chart_grid grid;
	char grid_err[120];

	/* fold-in, on its own beside them */
	struct modeljob *fold;
	struct progress_event last_fold;
	int have_fold;
	double fold_started;
	char fold_status[400];
	enum ui_color fold_color;
};

/* ---- parsing a model's JSON (registry thread) ---- */

static double num(json_t *o, const char *key)
{
	json_t *v = json_object_get(o, key);

	return json_is_number(v) ? json_number_value(v) : NAN;
}

static void str(json_t *o, const char *key, char *out, size_t size)
{
	json_t *v = json_object_get(o, key);

	snprintf(out, size, "%s", json_is_string(v) ? json_string_value(v) : "");
}

/* a JSON value as the screen shows it: numbers to 4 decimals (whole ones whole) */
static void value_text(json_t *v, char *out, size_t size)
{
	if (json_is_integer(v))
		snprintf(out, size, "%lld", (long long)json_integer_value(v));
	else if (json_is_real(v))
		snprintf(out, size, fabs(json_real_value(v)) >= 1e5 ? "%.4g" : "%.4f",
			 json_real_value(v));
	else if (json_is_string(v))
		snprintf(out, size, "%s", json_string_value(v));
	else if (json_is_true(v) || json_is_false(v))
		snprintf(out, size, "%s", json_is_true(v) ? "yes" : "no");
	else
		snprintf(out, size, "-");
}

/* "key value, key value" of an object's members (a nested object's as outer.inner) */
static void flatten(json_t *o, const char *prefix, char *out, size_t size)
{
	const char *key;
	json_t *v;

	json_object_foreach(o, key, v) {
		char name[80], text[64];
		size_t used = strlen(out);

		snprintf(name, sizeof(name), "%s%s%s", prefix, *prefix ? "." : "", key);
		if (json_is_object(v)) {
			flatten(v, name, out, size);
			continue;
		}
		value_text(v, text, sizeof(text));
		if (used < size)
			snprintf(out + used, size - used, "%s%s %s", used ? ", " : "", name, text);
	}
}

static void parse_row(const struct registry_entry *e, struct mrow *r)
{
	json_t *params = json_loads(e->params_json, 0, NULL);
	json_t *metrics = json_loads(e->metrics_json, 0, NULL);
	double v;

	memset(r, 0, sizeof(*r));
	snprintf(r->id, sizeof(r->id), "%s", e->id);
	snprintf(r->short_id, sizeof(r->short_id), "%s", e->short_id);
	r->time = e->time;
	r->production = e->is_production;
	r->candidate = e->is_candidate;
	snprintf(r->summary, sizeof(r->summary), "%s", e->summary ? e->summary : "");
	str(params, "dataset", r->dataset, sizeof(r->dataset));
	str(params, "kind", r->kind, sizeof(r->kind));
	v = num(params, "rank");
	r->rank = isfinite(v) ? (int)v : 0;
	v = num(params, "iters");
	r->iters = isfinite(v) ? (int)v : 0;
	r->lambda = num(params, "lambda");
	r->rmse = num(metrics, "rmse");
	r->ndcg = num(metrics, "ndcg@10");
	r->prec = num(metrics, "precision@10");
	if (json_is_object(params))
		flatten(params, "", r->params, sizeof(r->params));
	if (json_is_object(metrics))
		flatten(metrics, "", r->metrics, sizeof(r->metrics));
	json_decref(params);
	json_decref(metrics);
}

/* which way a metric is better: lower errors, higher ranking figures */
static const struct {
	const char *prefix;
	int higher;
} directions[] = {
	{ "rmse", 0 }, { "mae", 0 }, { "loss", 0 },
	{ "ndcg", 1 }, { "precision", 1 }, { "recall", 1 }, { "map", 1 },
};

static int direction(const char *key)
{
	size_t i;

	/* a nested figure (baseline.rmse) is another model's: no verdict */
	if (strchr(key, '.'))
		return -1;
	for (i = 0; i < ARRAY_SIZE(directions); i++)
		if (!strncmp(key, directions[i].prefix, strlen(directions[i].prefix)))
			return directions[i].higher;
	return -1;
}

/* registry_diff_json's line into rows; -1 when it does not read */
static int parse_diff(const char *text, struct drow **out, size_t *n)
{
	json_t *j = json_loads(text, 0, NULL), *params, *metrics, *v;
	struct drow *d = NULL;
	size_t alloc = 0, count = 0;
	const char *key;

	*out = NULL;
	*n = 0;
	if (!json_is_object(j)) {
		json_decref(j);
		return -1;
	}
	params = json_object_get(j, "params");
	metrics = json_object_get(j, "metrics");
	json_object_foreach(params, key, v) {
		ALLOC_GROW(d, count + 1, alloc);
		memset(&d[count], 0, sizeof(d[count]));
		snprintf(d[count].key, sizeof(d[count].key), "%s", key);
		value_text(json_array_get(v, 0), d[count].a, sizeof(d[count].a));
		value_text(json_array_get(v, 1), d[count].b, sizeof(d[count].b));
		count++;
	}
	json_object_foreach(metrics, key, v) {
		json_t *a = json_object_get(v, "a"), *b = json_object_get(v, "b");
		json_t *delta = json_object_get(v, "delta"), *pct = json_object_get(v, "pct");
		struct drow *r;
		int dir = direction(key);

		ALLOC_GROW(d, count + 1, alloc);
		r = &d[count++];
		memset(r, 0, sizeof(*r));
		r->metric = 1;
		snprintf(r->key, sizeof(r->key), "%s", key);
		value_text(a, r->a, sizeof(r->a));
		value_text(b, r->b, sizeof(r->b));
		if (json_is_number(delta)) {
			/* counts (predicted, cold) differ by whole numbers */
			const char *f = json_is_integer(a) && json_is_integer(b) ? "%+.0f" : "%+.4f";
			size_t used = (size_t)snprintf(r->delta, sizeof(r->delta), f,
						       json_number_value(delta));

			if (json_is_number(pct) && used < sizeof(r->delta))
				snprintf(r->delta + used, sizeof(r->delta) - used, " (%+.2f%%)",
					 json_number_value(pct));
		}
		if (dir >= 0 && json_is_number(a) && json_is_number(b) &&
		    json_number_value(a) != json_number_value(b)) {
			int b_higher = json_number_value(b) > json_number_value(a);
			r->better = b_higher == dir ? 2 : 1;
		}
	}
	json_decref(j);
	*out = d;
	*n = count;
	return 0;
}

/* ---- the registry thread ---- */

/* what the refs are now: a change of it lists the models again */
static void refs_signature(const char *dir, char *out, size_t size)
{
	static const char *const files[] = {
		"refs/heads/models", "refs/heads/candidate", "refs/heads/production", "packed-refs",
	};
	size_t i, used = 0;

	out[0] = '\0';
	for (i = 0; i < ARRAY_SIZE(files) && used < size; i++) {
		char path[1024];
		struct stat st;

		snprintf(path, sizeof(path), "%s/%s", dir, files[i]);
		if (stat(path, &st))
			used += (size_t)snprintf(out + used, size - used, "-;");
		else
			used += (size_t)snprintf(out + used, size - used, "%llu.%ld.%llu.%lld;",
						 (unsigned long long)st.st_ino,
						 (long)st.st_mtim.tv_nsec,
						 (unsigned long long)st.st_mtim.tv_sec,
						 (long long)st.st_size);
	}
}

/* the registry's results, made off the lock and then installed under it */
struct results {
	int listed;
	struct mrow *rows;
	size_t nrows;
	char note[400];
	char prod[41], cand[41];
	int have_diff;
	struct drow *diff;
	size_t ndiff;
	char diff_a[13], diff_b[13], diff_err[400];
	int have_ask;
	char ask_target[41], ask_err[400];
	int have_outcome, outcome_bad;
	char outcome[400];
};

static void list_models(struct registry *r, int open_ret, const char *dir, struct buf *err,
			struct results *res)
{
	struct registry_entry *all = NULL;
	size_t n = 0, i;

	res->listed = 1;
	if (open_ret == REGISTRY_ENOTFOUND) {
		snprintf(res->note, sizeof(res->note), "no models yet: the registry at '%s' does not "
			 "exist; t trains one and registers it", dir);
		return;
	}
	if (open_ret || registry_list(r, &all, &n, err)) {
		snprintf(res->note, sizeof(res->note), "%s", err->s);
		return;
	}
	if (!n)
		snprintf(res->note, sizeof(res->note), "no models yet in the registry at '%s': t "
			 "trains one", dir);
	res->rows = xcalloc(n ? n : 1, sizeof(*res->rows));
	res->nrows = n;
	for (i = 0; i < n; i++) {
		parse_row(&all[i], &res->rows[i]);
		if (all[i].is_production)
			snprintf(res->prod, sizeof(res->prod), "%s", all[i].id);
		if (all[i].is_candidate)
			snprintf(res->cand, sizeof(res->cand), "%s", all[i].id);
	}
	registry_list_free(all, n);
}

/* a ref's value as the screen names it: 12 digits, or "(none)" */
static void short_of(char out[13], const char *id)
{
	snprintf(out, 13, "%.12s", *id ? id : "(none)");
}

/* one request and, after a move or when asked, the list again */
static void serve(struct modelspane *p, enum mreq req, int reload, const char *a, const char *b,
		  struct results *res)
{
	struct registry *r = NULL;
	struct registry_entry e;
	struct buf err = BUF_INIT, out = BUF_INIT;
	char before[41] = "", was[13];
	int opened, ret;

	memset(&e, 0, sizeof(e));
	ret = opened = registry_open(&r, p->dir, 0, &err);
	switch (req) {
	case MR_NONE:
		break;
	case MR_ASK_ROLLBACK:
		res->have_ask = 1;
		if (ret || registry_rollback_target(r, res->ask_target, &err))
			snprintf(res->ask_err, sizeof(res->ask_err), "%s", err.s);
		break;
	case MR_DIFF:
		res->have_diff = 1;
		snprintf(res->diff_a, sizeof(res->diff_a), "%.12s", a);
		snprintf(res->diff_b, sizeof(res->diff_b), "%.12s", b);
		if (ret || registry_diff_json(r, a, b, &out, &err))
			snprintf(res->diff_err, sizeof(res->diff_err), "%s", err.s);
		else if (parse_diff(out.s, &res->diff, &res->ndiff))
			snprintf(res->diff_err, sizeof(res->diff_err), "the registry's diff of '%.12s' "
				 "and '%.12s' does not read as JSON", a, b);
		break;
	case MR_PROMOTE:
	case MR_ROLLBACK:
		res->have_outcome = 1;
		reload = 1;
		if (!ret && !registry_show(r, "production", &e, NULL))
			snprintf(before, sizeof(before), "%s", e.id);
		registry_entry_release(&e);
		buf_reset(&err);
		if (!ret)
			ret = req == MR_PROMOTE ? registry_promote(r, a, &e, &err)
				: registry_rollback(r, &e, &err);
		if (ret) {
			res->outcome_bad = 1;
			snprintf(res->outcome, sizeof(res->outcome), "%s failed: %s",
				 req == MR_PROMOTE ? "promote" : "rollback", err.s);
		} else {
			short_of(was, before);
			snprintf(res->outcome, sizeof(res->outcome), "%s: production %s -> %.12s",
				 req == MR_PROMOTE ? "promoted" : "rolled back", was, e.id);
		}
		registry_entry_release(&e);
		break;
	}
	if (reload) {
		buf_reset(&err);
		if (opened)
			buf_addstr(&err, "cannot open the registry");
		list_models(r, opened, p->dir, &err, res);
	}
	if (r)
		registry_close(r);
	buf_release(&err);
	buf_release(&out);
}

static void install(struct modelspane *p, struct results *res)
{
	if (res->listed) {
		free(p->rows);
		p->rows = res->rows;
		p->nrows = res->nrows;
		res->rows = NULL;
		p->listed = 1;
		snprintf(p->list_note, sizeof(p->list_note), "%s", res->note);
		snprintf(p->prod, sizeof(p->prod), "%s", res->prod);
		snprintf(p->cand, sizeof(p->cand), "%s", res->cand);
	}
	if (res->have_diff) {
		free(p->diff);
		p->diff = res->diff;
		p->ndiff = res->ndiff;
		res->diff = NULL;
		memcpy(p->diff_a, res->diff_a, sizeof(p->diff_a));
		memcpy(p->diff_b, res->diff_b, sizeof(p->diff_b));
		memcpy(p->diff_err, res->diff_err, sizeof(p->diff_err));
	}
	if (res->have_ask) {
		p->ask_ready = 1;
		memcpy(p->ask_target, res->ask_target, sizeof(p->ask_target));
		memcpy(p->ask_err, res->ask_err, sizeof(p->ask_err));
	}
	if (res->have_outcome) {
		memcpy(p->outcome, res->outcome, sizeof(p->outcome));
		p->outcome_bad = res->outcome_bad;
		p->outcome_seq++;
	}
	p->version++;
}

static void *registry_main(void *arg)
{
	struct modelspane *p = arg;
	char seen[512] = "", now_sig[512];
	double checked = 0;

	pthread_mutex_lock(&p->lock);
	while (!p->stop) {
		struct results res;
		enum mreq req = p->req;
		int reload = p->reload;
		char a[41], b[41];
		double now = clock_s();

		/* the refs, only while the screen is shown */
		if (!req && !reload && now - p->drawn_at < MODELS_SHOWN_S &&
		    now - checked >= MODELS_POLL_S) {
			checked = now;
			pthread_mutex_unlock(&p->lock);
			refs_signature(p->dir, now_sig, sizeof(now_sig));
			pthread_mutex_lock(&p->lock);
			reload = strcmp(now_sig, seen) != 0;
		}
		if (!req && !reload) {
			struct timespec until;

			/* shown: soon, for the next look at the refs; hidden: a second */
			double wait = now - p->drawn_at < MODELS_SHOWN_S ? MODELS_POLL_S : 1.0;
			clock_gettime(CLOCK_REALTIME, &until);
			until.tv_sec += (time_t)wait;
			until.tv_nsec += (long)((wait - (double)(time_t)wait) * 1e9);
			if (until.tv_nsec >= 1000000000L) {
				until.tv_sec++;
				until.tv_nsec -= 1000000000L;
			}
			pthread_cond_timedwait(&p->wake, &p->lock, &until);
			continue;
		}
		p->req = MR_NONE;
		p->reload = 0;
		memcpy(a, p->req_a, sizeof(a));
		memcpy(b, p->req_b, sizeof(b));
		pthread_mutex_unlock(&p->lock);

		memset(&res, 0, sizeof(res));
		/* before the listing: a move during it lists again */
		refs_signature(p->dir, seen, sizeof(seen));
		serve(p, req, reload, a, b, &res);
		if (req == MR_PROMOTE || req == MR_ROLLBACK)
			refs_signature(p->dir, seen, sizeof(seen));

		pthread_mutex_lock(&p->lock);
		install(p, &res);
		free(res.rows);
		free(res.diff);
	}
	pthread_mutex_unlock(&p->lock);
	return NULL;
}

/* asks the registry thread for something; -1 when it is still busy with a request */
static int ask(struct modelspane *p, enum mreq req, const char *a, const char *b)
{
	int ret = 0;

	pthread_mutex_lock(&p->lock);
	if (req != MR_NONE && p->req != MR_NONE) {
		ret = -1;
	} else if (req == MR_NONE) {
		p->reload = 1;
	} else {
		p->req = req;
		snprintf(p->req_a, sizeof(p->req_a), "%s", a ? a : "");
		snprintf(p->req_b, sizeof(p->req_b), "%s", b ? b : "");
		if (req == MR_ASK_ROLLBACK)
			p->ask_ready = 0;
	}
	pthread_cond_signal(&p->wake);
	pthread_mutex_unlock(&p->lock);
	return ret;
}

/* ---- the selection (UI thread; rows under the lock) ---- */

/* keeps the selection on its model (or the new one asked for); under the lock */
static void follow_selection(struct modelspane *p)
{
	size_t i;

	for (i = 0; i < p->nrows; i++)
		if (p->want_sel[0] && !strcmp(p->rows[i].id, p->want_sel)) {
			p->sel = i;
			p->want_sel[0] = '\0';
			goto out;
		}
	for (i = 0; i < p->nrows; i++)
		if (!strcmp(p->rows[i].id, p->sel_id)) {
			p->sel = i;
			goto out;
		}
	if (p->sel >= p->nrows)
		p->sel = p->nrows ? p->nrows - 1 : 0;
out:
	if (p->nrows)
		snprintf(p->sel_id, sizeof(p->sel_id), "%s", p->rows[p->sel].id);
	else
		p->sel_id[0] = '\0';
}

static void move_sel(struct modelspane *p, long by)
{
	long s;

	pthread_mutex_lock(&p->lock);
	s = (long)p->sel + by;
	if (s >= (long)p->nrows)
		s = (long)p->nrows - 1;
	if (s < 0)
		s = 0;
	p->sel = (size_t)s;
	if (p->nrows)
		snprintf(p->sel_id, sizeof(p->sel_id), "%s", p->rows[p->sel].id);
	pthread_mutex_unlock(&p->lock);
	/* a finished job's view gives way to the model chosen */
	if (p->detail == DT_DIFF || !p->job)
		p->detail = DT_MODEL;
}

/* the selected model's id and short id; 0 when there is none */
static int selected(struct modelspane *p, char id[41], char short_id[13])
{
	int ret = 0;

	pthread_mutex_lock(&p->lock);
	if (p->nrows && p->sel < p->nrows) {
		snprintf(id, 41, "%s", p->rows[p->sel].id);
		snprintf(short_id, 13, "%s", p->rows[p->sel].short_id);
		ret = 1;
	}
	pthread_mutex_unlock(&p->lock);
	return ret;
}

/* ---- the jobs (UI thread) ---- */

static const char *const job_words[] = {
	[JK_NONE] = "", [JK_TRAIN] = "training", [JK_PUBLISH] = "publishing",
};

static int job_running(const struct modelspane *p)
{
	return p->job && modeljob_state(p->job) == MODELJOB_RUNNING;
}

static int fold_running(const struct modelspane *p)
{
	return p->fold && modeljob_state(p->fold) == MODELJOB_RUNNING;
}

enum { CV_ERRORS, CV_LOSS };

static void charts_xhi(struct modelspane *p, double xhi)
{
	p->charts[CV_ERRORS].xhi = p->charts[CV_LOSS].xhi = xhi > 1 ? xhi : 2;
}

static void chart_start(struct modelspane *p, int implicit, int iters)
{
	for (int i = 0; i < 2; i++) {
		chart_release(&p->charts[i]);
		p->charts[i].x_whole = 1;
		p->charts[i].xlo = 1;
		p->charts[i].y_from = 2;	/* the first iteration starts from random factors */
	}
	charts_xhi(p, iters);
	p->implicit = implicit;
	if (implicit)
		p->view = CV_LOSS;
	p->s_train = chart_series(&p->charts[CV_ERRORS], "train rmse", 0);
	p->s_test = chart_series(&p->charts[CV_ERRORS], "test rmse", 0);
	p->s_ndcg = chart_series(&p->charts[CV_ERRORS], "ndcg@10", 1);
	/* loss keeps its mark and colour in both views: series 0 there too */
	p->s_loss = chart_series(&p->charts[CV_LOSS], "loss", 0);
	p->s_ndcg2 = chart_series(&p->charts[CV_LOSS], "ndcg@10", 1);
	p->chart_version++;
}

static void job_event(struct modelspane *p, const struct progress_event *ev)
{
	switch (ev->kind) {
	case PROGRESS_START:
		snprintf(p->job_what, sizeof(p->job_what), "%s", ev->what);
		if (p->job_kind == JK_TRAIN && ev->total)
			charts_xhi(p, (double)ev->total);
		break;
	case PROGRESS_ITER:
		p->last_iter = *ev;
		p->have_iter = 1;
		if (ev->iters > 1)
			charts_xhi(p, ev->iters);
		chart_add(&p->charts[CV_LOSS], p->s_loss, ev->iter, ev->loss);
		chart_add(&p->charts[CV_LOSS], p->s_ndcg2, ev->iter, ev->ndcg);
		chart_add(&p->charts[CV_ERRORS], p->s_train, ev->iter, ev->train_rmse);
		chart_add(&p->charts[CV_ERRORS], p->s_test, ev->iter, ev->test_rmse);
		chart_add(&p->charts[CV_ERRORS], p->s_ndcg, ev->iter, ev->ndcg);
		p->chart_version++;
		break;
	case PROGRESS_PUBLISH:
		p->last_pub = *ev;
		p->have_pub = 1;
		break;
	case PROGRESS_FOLDIN:
	case PROGRESS_DONE:
	case PROGRESS_ERROR:
		break;
	}
}

/* how the job ended, into job_status and the events line */
static void job_ended(struct modelspane *p, struct pane_ctx *c)
{
	const struct progress_event *done = modeljob_last(p->job, PROGRESS_DONE);
	enum modeljob_state st = modeljob_state(p->job);
	double secs = clock_s() - p->job_started;
	char version[41] = "", cand[13], prod[13];

	p->job_ended = clock_s();
	if (done)
		snprintf(version, sizeof(version), "%s", done->version);
	if (st == MODELJOB_CANCELLED) {
		short_of(cand, p->job_cand);
		short_of(prod, p->job_prod);
		snprintf(p->job_status, sizeof(p->job_status), "%s %s cancelled after %.0f s: no ref "
			 "moved (candidate %s, production %s as before)", job_words[p->job_kind],
			 p->job_name, secs, cand, prod);
		p->job_color = UI_WAIT;
	} else if (st != MODELJOB_DONE) {
		snprintf(p->job_status, sizeof(p->job_status), "%s %s FAILED: %s (log: %s)",
			 job_words[p->job_kind], p->job_name, modeljob_reason(p->job),
			 modeljob_log(p->job));
		p->job_color = UI_BAD;
	} else if (p->job_kind == JK_TRAIN && version[0]) {
		snprintf(p->job_status, sizeof(p->job_status), "trained %s in %.1f s: registered "
			 "%.12s, now the candidate", p->job_name, secs, version);
		snprintf(p->want_sel, sizeof(p->want_sel), "%s", version);
		p->job_color = UI_GOOD;
	} else if (p->job_kind == JK_TRAIN) {
		snprintf(p->job_status, sizeof(p->job_status), "trained %s in %.1f s, not registered: "
			 "%s", p->job_name, secs, done && done->message[0] ? done->message : "");
		p->job_color = UI_GOOD;
	} else {
		snprintf(p->job_status, sizeof(p->job_status), "published %s in %.1f s: version %s "
			 "is current", p->job_name, secs, version[0] ? version : "?");
		p->job_color = UI_GOOD;
	}
	p->job_state = st;
	snprintf(p->last, sizeof(p->last), "%s", p->job_status);
	p->last_color = p->job_color;
	poller_event(c->m, NOTE_INFO, "models", "%s", p->job_status);
	modeljob_free(p->job);
	p->job = NULL;
	ask(p, MR_NONE, NULL, NULL);
}

static int poll_job(struct modelspane *p, struct pane_ctx *c)
{
	struct buf err = BUF_INIT;
	size_t n;
	int news;

	if (!p->job)
		return 0;
	news = modeljob_poll(p->job, &err);
	if (news < 0)
		poller_event(c->m, NOTE_FAILED, "models", "%s", err.s);
	buf_release(&err);
	for (n = modeljob_nevents(p->job); p->job_seen < n; p->job_seen++)
		job_event(p, modeljob_event(p->job, p->job_seen));
	if (modeljob_state(p->job) != MODELJOB_RUNNING) {
		job_ended(p, c);
		return 1;
	}
	return news != 0;
}

static int poll_fold(struct modelspane *p, struct pane_ctx *c)
{
	struct buf err = BUF_INIT;
	const struct progress_event *ev;
	enum modeljob_state st;
	int news;

	if (!p->fold)
		return 0;
	news = modeljob_poll(p->fold, &err);
	if (news < 0)
		poller_event(c->m, NOTE_FAILED, "models", "%s", err.s);
	buf_release(&err);
	if ((ev = modeljob_last(p->fold, PROGRESS_FOLDIN))) {
		p->last_fold = *ev;
		p->have_fold = 1;
	}
	st = modeljob_state(p->fold);
	if (st == MODELJOB_RUNNING)
		return news != 0;
	if (st == MODELJOB_CANCELLED || st == MODELJOB_DONE) {
		snprintf(p->fold_status, sizeof(p->fold_status), "fold-in stopped after %.0f s: %llu "
			 "ratings folded", clock_s() - p->fold_started,
			 (unsigned long long)(p->have_fold ? p->last_fold.events : 0));
		p->fold_color = UI_NORMAL;
	} else {
		snprintf(p->fold_status, sizeof(p->fold_status), "fold-in FAILED: %s (log: %s)",
			 modeljob_reason(p->fold), modeljob_log(p->fold));
		p->fold_color = UI_BAD;
	}
	poller_event(c->m, NOTE_INFO, "models", "%s", p->fold_status);
	modeljob_free(p->fold);
	p->fold = NULL;
	return 1;
}

static void note(struct pane_ctx *c, const char *fmt, const char *arg)
{
	poller_event(c->m, NOTE_INFO, "models", fmt, arg);
}

static int refuse_if_running(struct modelspane *p, struct pane_ctx *c)
{
	if (!job_running(p))
		return 0;
	poller_event(c->m, NOTE_INFO, "models", "%s %s runs: c cancels it first",
		     job_words[p->job_kind], p->job_name);
	return 1;
}

/* the refs as they are now, for "no ref moved" */
static void job_refs(struct modelspane *p)
{
	pthread_mutex_lock(&p->lock);
	memcpy(p->job_cand, p->cand, sizeof(p->job_cand));
	memcpy(p->job_prod, p->prod, sizeof(p->job_prod));
	pthread_mutex_unlock(&p->lock);
}

static void train_start(struct modelspane *p, struct pane_ctx *c)
{
	struct form *f = &p->form;
	struct modeljob_train t;
	struct buf err = BUF_INIT;

	if (refuse_if_running(p, c))
		return;
	if (!p->nsets) {
		note(c, "%s", "no dataset here to train on: the data screen (D) generates one");
		return;
	}
	memset(&t, 0, sizeof(t));
	t.dataset = p->sets[f->set].name;
	t.implicit = f->implicit;
	t.rank = ranks[f->rank];
	t.lambda = lambdas[f->lambda];
	t.alpha = f->implicit ? alphas[f->alpha] : -1;
	t.iters = f->iters;
	t.split = splits[f->split];
	t.do_register = f->reg;
	if (modeljob_train_start(&p->job, &t, NULL, &err)) {
		poller_event(c->m, NOTE_FAILED, "models", "cannot train: %s", err.s);
		buf_release(&err);
		return;
	}
	buf_release(&err);
	p->job_kind = JK_TRAIN;
	snprintf(p->job_name, sizeof(p->job_name), "%s", t.dataset);
	snprintf(p->job_what, sizeof(p->job_what), "als %s rank %d on %s",
		 f->implicit ? "implicit" : "explicit", t.rank, t.dataset);
	p->job_started = clock_s();
	p->job_ended = 0;
	p->job_seen = 0;
	p->job_status[0] = '\0';
	p->job_state = MODELJOB_RUNNING;
	p->have_iter = 0;
	p->iters = f->iters;
	job_refs(p);
	chart_start(p, f->implicit, f->iters);
	f->open = 0;
	p->detail = DT_TRAIN;
	poller_event(c->m, NOTE_INFO, "models", "training %s: %s, %d iterations%s", t.dataset,
		     p->job_what, t.iters, t.do_register ? ", registered when done" : "");
}

static void publish_start(struct modelspane *p, struct pane_ctx *c)
{
	struct modeljob_publish pub;
	struct buf err = BUF_INIT;
	char id[41], sid[13];

	if (refuse_if_running(p, c))
		return;
	if (!selected(p, id, sid)) {
		note(c, "%s", "no model to publish: t trains one");
		return;
	}
	memset(&pub, 0, sizeof(pub));
	pub.rev = id;
	if (modeljob_publish_start(&p->job, &pub, NULL, &err)) {
		poller_event(c->m, NOTE_FAILED, "models", "cannot publish %s: %s", sid, err.s);
		buf_release(&err);
		return;
	}
	buf_release(&err);
	p->job_kind = JK_PUBLISH;
	snprintf(p->job_name, sizeof(p->job_name), "%s", sid);
	snprintf(p->job_what, sizeof(p->job_what), "publish %s to redis", sid);
	p->job_started = clock_s();
	p->job_ended = 0;
	p->job_seen = 0;
	p->job_status[0] = '\0';
	p->job_state = MODELJOB_RUNNING;
	p->have_pub = 0;
	job_refs(p);
	p->detail = DT_PUBLISH;
	note(c, "publishing %s to redis", sid);
}

static void foldin_toggle(struct modelspane *p, struct pane_ctx *c)
{
	struct modeljob_foldin f;
	struct buf err = BUF_INIT;

	if (p->fold) {
		modeljob_cancel(p->fold);
		note(c, "%s", "stopping fold-in");
		return;
	}
	memset(&f, 0, sizeof(f));
	if (modeljob_foldin_start(&p->fold, &f, NULL, &err)) {
		poller_event(c->m, NOTE_FAILED, "models", "cannot start fold-in: %s", err.s);
		buf_release(&err);
		return;
	}
	buf_release(&err);
	p->have_fold = 0;
	p->fold_started = clock_s();
	p->fold_status[0] = '\0';
	note(c, "%s", "fold-in started: new ratings from kafka into production's lists");
}

/* ---- the form ---- */

static void form_open(struct modelspane *p)
{
	struct form *f = &p->form;
	char keep[64] = "";
	int i;

	if (p->nsets && f->set < p->nsets)
		snprintf(keep, sizeof(keep), "%s", p->sets[f->set].name);
	p->nsets = catalog_local_list(p->sets, MODELS_SETS);
	f->set = 0;
	for (i = 0; i < p->nsets; i++)
		if (!strcmp(p->sets[i].name, keep[0] ? keep : MODELS_DEFAULT_SET))
			f->set = i;
	f->open = 1;
}

static void form_step(struct modelspane *p, int by)
{
	struct form *f = &p->form;
	int *v = NULL, n = 0;

	switch (f->field) {
	case F_DATASET: v = &f->set; n = p->nsets; break;
	case F_KIND: f->implicit = !f->implicit; return;
	case F_RANK: v = &f->rank; n = (int)ARRAY_SIZE(ranks); break;
	case F_LAMBDA: v = &f->lambda; n = (int)ARRAY_SIZE(lambdas); break;
	case F_ALPHA: v = &f->alpha; n = (int)ARRAY_SIZE(alphas); break;
	case F_SPLIT: v = &f->split; n = (int)ARRAY_SIZE(splits); break;
	case F_REGISTER: f->reg = !f->reg; return;
	case F_ITERS:
		f->iters += by;
		if (f->iters < 1)
			f->iters = 1;
		if (f->iters > ITERS_MAX)
			f->iters = ITERS_MAX;
		return;
	}
	if (!v || n <= 0)
		return;
	/* the dataset cycles; numbers stop at their ends */
	if (f->field == F_DATASET)
		*v = ((*v + by) % n + n) % n;
	else if (*v + by >= 0 && *v + by < n)
		*v += by;
}

/* ---- keys ---- */

/* a key answers a pending question: 1 when it did (a no) */
static int settled(struct modelspane *p, struct pane_ctx *c)
{
	if (!p->confirm)
		return 0;
	note(c, "%s cancelled: no ref moved", p->confirm == 'p' ? "promote" : "rollback");
	p->confirm = 0;
	return 1;
}

static void key_up(void *pane, struct pane_ctx *c)
{
	struct modelspane *p = pane;

	if (settled(p, c))
		return;
	if (p->form.open)
		p->form.field = (p->form.field + F_COUNT - 1) % F_COUNT;
	else
		move_sel(p, -1);
}

static void key_down(void *pane, struct pane_ctx *c)
{
	struct modelspane *p = pane;

	if (settled(p, c))
		return;
	if (p->form.open)
		p->form.field = (p->form.field + 1) % F_COUNT;
	else
		move_sel(p, 1);
}

static void key_page_up(void *pane, struct pane_ctx *c)
{
	struct modelspane *p = pane;

	if (!settled(p, c))
		move_sel(p, -(p->list_rows > 1 ? p->list_rows - 1 : 1));
}

static void key_page_down(void *pane, struct pane_ctx *c)
{
	struct modelspane *p = pane;

	if (!settled(p, c))
		move_sel(p, p->list_rows > 1 ? p->list_rows - 1 : 1);
}

static void key_home(void *pane, struct pane_ctx *c)
{
	if (!settled(pane, c))
		move_sel(pane, -(long)1e9);
}

static void key_end(void *pane, struct pane_ctx *c)
{
	if (!settled(pane, c))
		move_sel(pane, (long)1e9);
}

static void key_left(void *pane, struct pane_ctx *c)
{
	struct modelspane *p = pane;

	if (!settled(p, c) && p->form.open)
		form_step(p, -1);
}

static void key_right(void *pane, struct pane_ctx *c)
{
	struct modelspane *p = pane;

	if (!settled(p, c) && p->form.open)
		form_step(p, 1);
}

static void key_enter(void *pane, struct pane_ctx *c)
{
	struct modelspane *p = pane;

	if (settled(p, c))
		return;
	if (p->form.open)
		train_start(p, c);
	else if (!job_running(p))
		p->detail = DT_MODEL;
}

static void key_train(void *pane, struct pane_ctx *c)
{
	struct modelspane *p = pane;

	if (settled(p, c))
		return;
	if (p->form.open)
		p->form.open = 0;
	else if (!refuse_if_running(p, c))
		form_open(p);
}

static void key_cancel(void *pane, struct pane_ctx *c)
{
	struct modelspane *p = pane;

	if (settled(p, c))
		return;
	if (p->form.open) {
		p->form.open = 0;
		return;
	}
	if (!job_running(p)) {
		note(c, "%s", "nothing is running to cancel (F stops fold-in)");
		return;
	}
	modeljob_cancel(p->job);
	poller_event(c->m, NOTE_INFO, "models", "cancelling the %s of %s: no ref moves",
		     job_words[p->job_kind], p->job_name);
}

static void key_diff(void *pane, struct pane_ctx *c)
{
	struct modelspane *p = pane;
	char id[41], sid[13];

	if (settled(p, c) || !selected(p, id, sid))
		return;
	if (!p->mark[0] || !strcmp(p->mark, id)) {
		if (p->mark[0]) {
			p->mark[0] = '\0';
			note(c, "%s", "diff mark taken off");
			return;
		}
		snprintf(p->mark, sizeof(p->mark), "%s", id);
		note(c, "marked %s: d on another model diffs the two", sid);
		return;
	}
	if (ask(p, MR_DIFF, p->mark, id)) {
		note(c, "%s", "the registry is busy: d again in a moment");
		return;
	}
	p->mark[0] = '\0';
	p->detail = DT_DIFF;
}

static void key_promote(void *pane, struct pane_ctx *c)
{
	struct modelspane *p = pane;
	char id[41], sid[13], prod[41], was[13];

	if (settled(p, c))
		return;
	if (!selected(p, id, sid)) {
		note(c, "%s", "no model to promote: t trains one");
		return;
	}
	pthread_mutex_lock(&p->lock);
	memcpy(prod, p->prod, sizeof(prod));
	pthread_mutex_unlock(&p->lock);
	if (!strcmp(prod, id)) {
		note(c, "%s is production already", sid);
		return;
	}
	short_of(was, prod);
	p->confirm = 'p';
	snprintf(p->confirm_id, sizeof(p->confirm_id), "%s", id);
	snprintf(p->confirm_text, sizeof(p->confirm_text), "promote %s? production %s -> %s  "
		 "y: yes, other key: no", sid, was, sid);
}

static void key_rollback(void *pane, struct pane_ctx *c)
{
	struct modelspane *p = pane;

	if (settled(p, c))
		return;
	/* the question comes when the registry says where it would go */
	if (ask(p, MR_ASK_ROLLBACK, NULL, NULL))
		note(c, "%s", "the registry is busy: R again in a moment");
	else
		p->confirm = 'r';   /* waiting for the target; becomes 'R' */
}

static void key_yes(void *pane, struct pane_ctx *c)
{
	struct modelspane *p = pane;
	int what = p->confirm;

	p->confirm = 0;
	if (what == 'p') {
		if (ask(p, MR_PROMOTE, p->confirm_id, NULL))
			note(c, "%s", "the registry is busy: p again in a moment");
	} else if (what == 'R') {
		if (ask(p, MR_ROLLBACK, NULL, NULL))
			note(c, "%s", "the registry is busy: R again in a moment");
	} else {
		note(c, "%s", "nothing to say yes to: p promotes, R rolls back");
	}
}

static void key_no(void *pane, struct pane_ctx *c)
{
	if (!settled(pane, c))
		note(c, "%s", "nothing to say no to: p promotes, R rolls back, each asking first");
}

static void key_publish(void *pane, struct pane_ctx *c)
{
	if (!settled(pane, c))
		publish_start(pane, c);
}

static void key_foldin(void *pane, struct pane_ctx *c)
{
	if (!settled(pane, c))
		foldin_toggle(pane, c);
}

static void key_view(void *pane, struct pane_ctx *c)
{
	struct modelspane *p = pane;

	(void)c;
	if (p->implicit) {
		snprintf(p->last, sizeof(p->last), "an implicit run has no RMSE: its chart is the loss");
		p->last_color = UI_DIM;
		return;
	}
	p->view = p->view == CV_ERRORS ? CV_LOSS : CV_ERRORS;
	p->chart_version++;
}

static const struct pane_key keys[] = {
	{ KEY_UP,    "Up k",       NULL,      key_up,        "select the previous model (in the form: the previous field)" },
	{ 'k',       NULL,         NULL,      key_up,        NULL },
	{ KEY_DOWN,  "Down j",     NULL,      key_down,      "select the next model (in the form: the next field)" },
	{ 'j',       NULL,         NULL,      key_down,      NULL },
	{ KEY_PPAGE, "PgUp PgDn",  NULL,      key_page_up,   "a page of models up or down" },
	{ KEY_NPAGE, NULL,         NULL,      key_page_down, NULL },
	{ KEY_HOME,  "Home End",   NULL,      key_home,      "the newest or the oldest model" },
	{ KEY_END,   NULL,         NULL,      key_end,       NULL },
	{ KEY_LEFT,  "Left Right", NULL,      key_left,      "in the training form: the field's value down or up (- + too)" },
	{ KEY_RIGHT, NULL,         NULL,      key_right,     NULL },
	{ '-',       NULL,         NULL,      key_left,      NULL },
	{ '+',       NULL,         NULL,      key_right,     NULL },
	{ '\r',      "Enter",      NULL,      key_enter,     "in the form: start training; else the selected model's details" },
	{ KEY_ENTER, NULL,         NULL,      key_enter,     NULL },
	{ '\n',      NULL,         NULL,      key_enter,     NULL },
	{ 't',       "t",          "train",   key_train,     "the training form: dataset, kind, rank, lambda... (t closes it)" },
	{ 'c',       "c",          NULL,      key_cancel,    "cancel the training or publishing (no ref moves), or close the form" },
	{ 'd',       "d",          NULL,      key_diff,      "mark the model; d on another diffs the two side by side" },
	{ 'p',       "p",          "promote", key_promote,   "make the selected model production (asks first)" },
	{ 'R',       "R",          NULL,      key_rollback,  "roll production back to the model before it (asks first)" },
	{ 'y',       "y",          NULL,      key_yes,       "yes to the promote or rollback asked about (any other key: no)" },
	{ 'n',       "n",          NULL,      key_no,        "no to the promote or rollback asked about" },
	{ 'P',       "P",          "publish", key_publish,   "publish the selected model's lists to redis and make it current" },
	{ 'F',       "F",          "foldin",  key_foldin,    "start or stop folding new ratings from kafka into production" },
	{ 'g',       "g",          NULL,      key_view,      "the training chart: train and test RMSE, or the loss (each with NDCG@10)" },
};

/* ---- drawing (UI thread, under the poller's lock) ---- */

static void rule(int y, const char *title, const char *right)
{
	table_rule(y, title, right, colors_attr(UI_PANE));
}

static void fixed(char *out, size_t size, double v)
{
	if (isnan(v))
		snprintf(out, size, "-");
	else
		snprintf(out, size, "%.4f", v);
}

enum col { C_VERSION, C_REFS, C_RMSE, C_NDCG, C_PREC, C_DATASET, C_RANK, C_KIND, C_LAMBDA,
	   C_ITERS, C_WHEN, NCOLS };

static const struct table_col columns[NCOLS] = {
	[C_VERSION] = { "VERSION",  12, 12, 9, TABLE_LEFT },
	[C_REFS]    = { "REFS",      9, 20, 8, TABLE_LEFT },
	[C_RMSE]    = { "RMSE",      6,  6, 7, TABLE_RIGHT },
	[C_NDCG]    = { "NDCG@10",   7,  7, 6, TABLE_RIGHT },
	[C_PREC]    = { "P@10",      6,  6, 5, TABLE_RIGHT },
	[C_DATASET] = { "DATASET",   8, 16, 4, TABLE_LEFT },
	[C_RANK]    = { "RANK",      4,  4, 3, TABLE_RIGHT },
	[C_KIND]    = { "KIND",      4,  8, 2, TABLE_LEFT },
	[C_LAMBDA]  = { "LAMBDA",    6,  6, 1, TABLE_RIGHT },
	[C_ITERS]   = { "ITERS",     5,  5, 1, TABLE_RIGHT },
	[C_WHEN]    = { "WHEN",     11, 11, 0, TABLE_LEFT },
};

static void row_text(const struct mrow *r, const int *width, char text[NCOLS][48])
{
	time_t t = (time_t)r->time;

	snprintf(text[C_VERSION], 48, "%s", r->short_id);
	/* the words where they fit, else "prod cand" */
	snprintf(text[C_REFS], 48, "%s%s%s", r->production ? "production" : "",
		 r->production && r->candidate ? " " : "", r->candidate ? "candidate" : "");
	if ((int)strlen(text[C_REFS]) > width[C_REFS])
		snprintf(text[C_REFS], 48, "%s%s%s", r->production ? "prod" : "",
			 r->production && r->candidate ? " " : "", r->candidate ? "cand" : "");
	fixed(text[C_RMSE], 48, r->rmse);
	fixed(text[C_NDCG], 48, r->ndcg);
	fixed(text[C_PREC], 48, r->prec);
	snprintf(text[C_DATASET], 48, "%s", r->dataset[0] ? r->dataset : "-");
	snprintf(text[C_RANK], 48, r->rank ? "%d" : "-", r->rank);
	/* "expl" and "impl" where "explicit" does not fit */
	snprintf(text[C_KIND], 48, "%.*s", width[C_KIND] < 8 ? 4 : 47, r->kind[0] ? r->kind : "-");
	if (isnan(r->lambda))
		snprintf(text[C_LAMBDA], 48, "-");
	else
		snprintf(text[C_LAMBDA], 48, "%g", r->lambda);
	snprintf(text[C_ITERS], 48, r->iters ? "%d" : "-", r->iters);
	strftime(text[C_WHEN], 48, "%m-%d %H:%M", localtime(&t));
}

/* the list's header and rows; under the pane's lock */
static void draw_list(struct modelspane *p, int y, int rows)
{
	int width[NCOLS], i, col, x;
	attr_t h = colors_attr(UI_HEADER);

	p->list_rows = rows - 1;
	if (!p->nrows) {
		table_wrap(y, 1, !p->listed ? "reading the registry..." : p->list_note, COLS - 2,
			   rows, colors_attr(UI_DIM));
		return;
	}
	table_layout(columns, NCOLS, COLS - 2, width);
	mvhline(y, 0, ' ' | h, COLS);
	for (col = 0, x = 2; col < NCOLS; col++) {
		if (!width[col])
			continue;
		table_cell(y, x, width[col], columns[col].align, columns[col].title, h);
		x += width[col] + TABLE_GAP;
	}
	y++;
	rows--;
	if (p->sel < p->top)
		p->top = p->sel;
	if (rows > 0 && p->sel >= p->top + (size_t)rows)
		p->top = p->sel - (size_t)rows + 1;
	for (i = 0; i < rows && p->top + (size_t)i < p->nrows; i++) {
		const struct mrow *r = &p->rows[p->top + (size_t)i];
		char text[NCOLS][48], mark[3];
		int sel = p->top + (size_t)i == p->sel;
		attr_t a = sel ? colors_attr(UI_SELECTED) : colors_attr(UI_NORMAL);

		row_text(r, width, text);
		if (sel)
			mvhline(y + i, 0, ' ' | a, COLS);
		mark[0] = sel ? '>' : ' ';
		mark[1] = p->mark[0] && !strcmp(p->mark, r->id) ? '*' : ' ';
		mark[2] = '\0';
		table_put(y + i, 0, mark, 2, a | A_BOLD);
		for (col = 0, x = 2; col < NCOLS; col++) {
			attr_t ca = a;

			if (!width[col])
				continue;
			if (!sel && col == C_REFS && r->production)
				ca = colors_attr(UI_GOOD) | A_BOLD;
			else if (!sel && col == C_REFS)
				ca = colors_attr(UI_WAIT);
			else if (!sel && col == C_WHEN)
				ca = colors_attr(UI_DIM);
			table_cell(y + i, x, width[col], columns[col].align, text[col], ca);
			x += width[col] + TABLE_GAP;
		}
	}
}

/* "[#####.....]" of width w + 2 at (y, x); returns the columns used */
static int bar(int y, int x, int w, double f, enum ui_color c)
{
	return table_bar(y, x, w, f, colors_attr(c), colors_attr(UI_DIM));
}

/* the colour of a series: the marks tell them apart in monochrome */
static const enum ui_color series_colors[CHART_SERIES_MAX] = {
	UI_PANE, UI_GOOD, UI_WAIT, UI_STDERR, UI_BAD, UI_NORMAL,
};

static const enum ui_color role_colors[] = {
	[CHART_BLANK] = UI_NORMAL, [CHART_AXIS] = UI_DIM, [CHART_LABEL] = UI_NORMAL,
	[CHART_NOTE] = UI_DIM,
};

static attr_t cell_attr(const struct chart_cell *cell)
{
	if (cell->series >= 0 && cell->series < CHART_SERIES_MAX)
		return colors_attr(series_colors[(int)cell->series]) |
		       (cell->role == CHART_MARK ? A_BOLD : 0);
	return cell->role < ARRAY_SIZE(role_colors) ? colors_attr(role_colors[cell->role])
						    : colors_attr(UI_NORMAL);
}

static void draw_chart(struct modelspane *p, int y, int rows)
{
	struct buf err = BUF_INIT;
	int r, x;

	if (p->grid.w != COLS || p->grid.h != rows || p->grid_version != p->chart_version) {
		p->grid_err[0] = '\0';
		if (chart_render(&p->charts[p->view], COLS, rows, &p->grid, &err))
			snprintf(p->grid_err, sizeof(p->grid_err), "%s: make the window larger", err.s);
		p->grid_version = p->chart_version;
		buf_release(&err);
	}
	if (p->grid_err[0]) {
		table_wrap(y, 0, p->grid_err, COLS, rows, colors_attr(UI_DIM));
		/* a refused render leaves no grid: try again at the next size */
		p->grid.w = -1;
		return;
	}
	for (r = 0; r < p->grid.h && r < rows; r++)
		for (x = 0; x < p->grid.w && x < COLS; x++) {
			const struct chart_cell *cell = &p->grid.cell[r * p->grid.w + x];

			if (cell->ch != ' ')
				mvaddch(y + r, x, (chtype)(unsigned char)cell->ch | cell_attr(cell));
		}
}

static void draw_train(struct modelspane *p, int y, int rows)
{
	char text[400], a[24], b[24], d[24], e[24];
	const struct progress_event *it = &p->last_iter;

	if (rows <= 0)
		return;
	if (p->have_iter) {
		fixed(a, sizeof(a), it->loss);
		fixed(b, sizeof(b), it->train_rmse);
		fixed(d, sizeof(d), it->test_rmse);
		fixed(e, sizeof(e), it->ndcg);
		snprintf(text, sizeof(text), "iteration %d/%d: loss %s, rmse train %s test %s, "
			 "ndcg@10 %s, %.2f s", it->iter, it->iters ? it->iters : p->iters, a, b, d, e,
			 it->seconds);
	} else {
		snprintf(text, sizeof(text), "iteration 0/%d: reading the dataset...", p->iters);
	}
	table_fit(y, 0, text, COLS, colors_attr(UI_NORMAL) | A_BOLD);
	if (rows > 1)
		draw_chart(p, y + 1, rows - 1);
}

static void draw_publish(struct modelspane *p, int y, int rows)
{
	const struct progress_event *ev = &p->last_pub;
	char text[300], rate[16], eta[32];
	double f;
	int x = 0;

	if (rows <= 0)
		return;
	if (!p->have_pub) {
		table_fit(y, 0, p->job ? "publishing: reading the model..." :
			  "no publishing yet: P publishes the selected model", COLS,
			  colors_attr(UI_DIM));
		return;
	}
	f = ev->total ? (double)ev->done / (double)ev->total : 0;
	if (!p->job && p->job_color == UI_GOOD)
		f = 1;
	table_put(y, 0, "lists ", 6, colors_attr(UI_NORMAL));
	x = 6;
	x += bar(y, x, COLS - x - 40 < 10 ? 10 : COLS - x - 40 > BAR_W ? BAR_W : COLS - x - 40, f,
		 p->job ? UI_WAIT : p->job_color);
	human_count(rate, sizeof(rate), ev->rate);
	if (ev->eta >= 0 && !isnan(ev->eta))
		human_duration(eta, sizeof(eta), (long long)ceil(ev->eta));
	else
		snprintf(eta, sizeof(eta), "-");
	snprintf(text, sizeof(text), " %5.1f%%  %llu/%llu  %s/s  ETA %s", 100 * f,
		 (unsigned long long)ev->done, (unsigned long long)ev->total, rate, eta);
	table_fit(y, x, text, COLS - x, colors_attr(UI_NORMAL));
}

static void draw_diff(struct modelspane *p, int y, int rows)
{
	int kw = 22, vw = 14, i, x;
	size_t k;
	char head[64];

	if (rows <= 0)
		return;
	if (p->diff_err[0]) {
		table_wrap(y, 0, p->diff_err, COLS, rows, colors_attr(UI_BAD));
		return;
	}
	if (!p->diff_a[0]) {
		table_fit(y, 0, "comparing...", COLS, colors_attr(UI_DIM));
		return;
	}
	if (COLS < kw + 2 * vw + 4)
		kw = COLS - 2 * vw - 4 > 8 ? COLS - 2 * vw - 4 : 8;
	x = 0;
	table_cell(y, x, kw, TABLE_LEFT, "", colors_attr(UI_HEADER));
	x += kw + 1;
	snprintf(head, sizeof(head), "%s", p->diff_a);
	table_cell(y, x, vw, TABLE_RIGHT, head, colors_attr(UI_HEADER));
	x += vw + 1;
	snprintf(head, sizeof(head), "%s", p->diff_b);
	table_cell(y, x, vw, TABLE_RIGHT, head, colors_attr(UI_HEADER));
	x += vw + 1;
	if (COLS - x > 4)
		table_fit(y, x + 1, "b - a  (* the better)", COLS - x - 1, colors_attr(UI_DIM));
	for (k = 0, i = 1; k < p->ndiff && i < rows; k++, i++) {
		const struct drow *d = &p->diff[k];
		char a[40], b[40];

		snprintf(a, sizeof(a), "%s%s", d->a, d->better == 1 ? " *" : "  ");
		snprintf(b, sizeof(b), "%s%s", d->b, d->better == 2 ? " *" : "  ");
		x = 0;
		table_cell(y + i, x, kw, TABLE_LEFT, d->key,
			   colors_attr(d->metric ? UI_NORMAL : UI_DIM));
		x += kw + 1;
		table_cell(y + i, x, vw, TABLE_RIGHT, a,
			   d->better == 1 ? colors_attr(UI_GOOD) | A_BOLD : colors_attr(UI_NORMAL));
		x += vw + 1;
		table_cell(y + i, x, vw, TABLE_RIGHT, b,
			   d->better == 2 ? colors_attr(UI_GOOD) | A_BOLD : colors_attr(UI_NORMAL));
		x += vw + 1;
		if (COLS - x > 2)
			table_fit(y + i, x + 1, d->delta, COLS - x - 1, colors_attr(UI_DIM));
	}
	if (!p->ndiff && rows > 1)
		table_fit(y + 1, 0, "the two have the same parameters and no metrics", COLS,
			  colors_attr(UI_DIM));
}

static void draw_model(struct modelspane *p, int y, int rows)
{
	const struct mrow *r;
	char text[800];
	int used;

	if (rows <= 0 || !p->nrows)
		return;
	r = &p->rows[p->sel];
	snprintf(text, sizeof(text), "%s  %s", r->id, r->summary);
	used = table_wrap(y, 0, text, COLS, rows < 2 ? rows : 2, colors_attr(UI_NORMAL) | A_BOLD);
	y += used;
	rows -= used;
	if (rows > 0) {
		snprintf(text, sizeof(text), "params: %s", r->params[0] ? r->params : "-");
		used = table_wrap(y, 0, text, COLS, rows < 3 ? rows : 3, colors_attr(UI_NORMAL));
		y += used;
		rows -= used;
	}
	if (rows > 0) {
		snprintf(text, sizeof(text), "metrics: %s", r->metrics[0] ? r->metrics : "-");
		used = table_wrap(y, 0, text, COLS, rows < 4 ? rows : 4, colors_attr(UI_NORMAL));
		y += used;
		rows -= used;
	}
	if (rows > 1)
		table_wrap(y + 1, 0, "p promotes it, P publishes it, d marks it for a diff, t trains "
			   "another, R rolls production back", COLS, rows - 1, colors_attr(UI_DIM));
}

static const char *const field_names[F_COUNT] = {
	[F_DATASET] = "dataset", [F_KIND] = "feedback", [F_RANK] = "rank",
	[F_LAMBDA] = "lambda", [F_ALPHA] = "alpha", [F_ITERS] = "iterations",
	[F_SPLIT] = "held out", [F_REGISTER] = "register",
};

static void field_value(const struct modelspane *p, int field, char *out, size_t size)
{
	const struct form *f = &p->form;

	switch (field) {
	case F_DATASET:
		snprintf(out, size, "%s", p->nsets ? p->sets[f->set].name :
			 "(none: the data screen, D, generates one)");
		break;
	case F_KIND:
		snprintf(out, size, "%s", f->implicit ? "implicit (alpha weights)" :
			 "explicit (ratings)");
		break;
	case F_RANK: snprintf(out, size, "%d", ranks[f->rank]); break;
	case F_LAMBDA: snprintf(out, size, "%g", lambdas[f->lambda]); break;
	case F_ALPHA:
		snprintf(out, size, f->implicit ? "%g" : "%g (implicit only)", alphas[f->alpha]);
		break;
	case F_ITERS: snprintf(out, size, "%d", f->iters); break;
	case F_SPLIT: snprintf(out, size, "%g of the ratings, for the test figures",
			       splits[f->split]); break;
	case F_REGISTER:
		snprintf(out, size, "%s", f->reg ? "yes (becomes the candidate)" : "no");
		break;
	}
}

static void draw_form(struct modelspane *p, int y, int rows)
{
	int i;

	for (i = 0; i < F_COUNT && i < rows; i++) {
		char value[160], line[200];
		int sel = i == p->form.field;
		attr_t a = sel ? colors_attr(UI_SELECTED) : colors_attr(UI_NORMAL);

		field_value(p, i, value, sizeof(value));
		snprintf(line, sizeof(line), "%c %-11s %s %s %s", sel ? '>' : ' ', field_names[i],
			 sel ? "<" : " ", value, sel ? ">" : "");
		if (sel)
			mvhline(y + i, 0, ' ' | a, COLS);
		table_fit(y + i, 0, line, COLS, a);
	}
	if (rows > F_COUNT + 1)
		table_wrap(y + F_COUNT + 1, 0, "Up/Down a field, Left/Right its value, Enter starts "
			   "training, t or c closes the form", COLS, rows - F_COUNT - 1,
			   colors_attr(UI_DIM));
}

/* one line: the question, the job, or how the last one went */
static void draw_status(struct modelspane *p, int y)
{
	char text[500];
	enum ui_color color = UI_DIM;
	double now = clock_s();

	if (p->confirm == 'p' || p->confirm == 'R') {
		table_fit(y, 0, p->confirm_text, COLS, colors_attr(UI_WAIT) | A_BOLD);
		return;
	}
	if (p->confirm == 'r') {
		table_fit(y, 0, "rollback: asking the registry where production would go...", COLS,
			  colors_attr(UI_WAIT));
		return;
	}
	if (job_running(p)) {
		snprintf(text, sizeof(text), "%s %s (%s) for %.0f s: c cancels",
			 job_words[p->job_kind], p->job_name, p->job_what, now - p->job_started);
		color = UI_WAIT;
	} else if (p->last[0]) {
		snprintf(text, sizeof(text), "%s", p->last);
		color = p->last_color;
	} else {
		snprintf(text, sizeof(text), "t trains a model, d d diffs two, p promotes, R rolls "
			 "back, P publishes, F folds in new ratings");
	}
	table_fit(y, 0, text, COLS, colors_attr(color));
}

/* "3.2 ms", or "-" before there is a figure */
static void millis(char *out, size_t size, double ms)
{
	if (isnan(ms))
		snprintf(out, size, "-");
	else
		snprintf(out, size, "%.1f ms", ms);
}

static void draw_fold(struct modelspane *p, int y)
{
	char text[400];

	if (p->fold && p->have_fold) {
		char p50[24], p99[24];

		millis(p50, sizeof(p50), p->last_fold.p50_ms);
		millis(p99, sizeof(p99), p->last_fold.p99_ms);
		snprintf(text, sizeof(text), "fold-in: %llu ratings folded, event to redis p50 %s "
			 "p99 %s; F stops", (unsigned long long)p->last_fold.events, p50, p99);
	} else if (p->fold)
		snprintf(text, sizeof(text), "fold-in into production: starting, waiting for ratings "
			 "(F stops)");
	else
		snprintf(text, sizeof(text), "%s", p->fold_status);
	table_fit(y, 0, text, COLS, colors_attr(p->fold ? UI_GOOD : p->fold_color));
}

static void draw_pane(struct modelspane *p, int y, int rows)
{
	char right[64], title[200];
	int list_rows, fold_rows = p->fold || p->fold_status[0], want, big, chart_min;

	pthread_mutex_lock(&p->lock);
	p->drawn_at = clock_s();
	if (p->sel >= p->nrows)
		p->sel = p->nrows ? p->nrows - 1 : 0;
	snprintf(right, sizeof(right), "%zu model%s", p->nrows, p->nrows == 1 ? "" : "s");
	rule(y, "models: the registry", right);
	y++;
	rows--;
	/* the list, a status line (and fold-in's), then the detail under its rule */
	big = p->form.open || p->detail != DT_MODEL;
	/* the chart's headline and its least size, before a long list */
	chart_min = !p->form.open && p->detail == DT_TRAIN ? 1 + CHART_MIN_H : 0;
	want = 1 + (int)(p->nrows ? p->nrows : 1);
	list_rows = big ? (rows - 2 - fold_rows) / 3 : rows - 2 - fold_rows - 6;
	if (chart_min && list_rows > rows - 2 - fold_rows - chart_min)
		list_rows = rows - 2 - fold_rows - chart_min;
	if (list_rows > want)
		list_rows = want;
	if (list_rows < 2)
		list_rows = 2;
	if (list_rows > rows)
		list_rows = rows;
	draw_list(p, y, list_rows);
	y += list_rows;
	rows -= list_rows;
	if (rows > 0) {
		draw_status(p, y);
		y++;
		rows--;
	}
	if (rows > 0 && fold_rows) {
		draw_fold(p, y);
		y++;
		rows--;
	}
	if (rows < 2) {
		pthread_mutex_unlock(&p->lock);
		return;
	}
	/* short of rows, the chart goes without its rule */
	if (chart_min && rows - 1 < chart_min)
		goto detail;
	if (p->form.open)
		snprintf(title, sizeof(title), "train a model");
	else if (p->detail == DT_TRAIN)
		snprintf(title, sizeof(title), "%s %s", job_running(p) ? "training" :
			 p->job_state == MODELJOB_DONE ? "trained" :
			 p->job_state == MODELJOB_CANCELLED ? "cancelled" : "failed", p->job_what);
	else if (p->detail == DT_PUBLISH)
		snprintf(title, sizeof(title), "publish %s", p->job_name);
	else if (p->detail == DT_DIFF)
		snprintf(title, sizeof(title), "diff %s %s", p->diff_a, p->diff_b);
	else
		snprintf(title, sizeof(title), "model");
	rule(y, title, NULL);
	y++;
	rows--;
detail:
	if (p->form.open)
		draw_form(p, y, rows);
	else if (p->detail == DT_TRAIN)
		draw_train(p, y, rows);
	else if (p->detail == DT_PUBLISH)
		draw_publish(p, y, rows);
	else if (p->detail == DT_DIFF)
		draw_diff(p, y, rows);
	else
		draw_model(p, y, rows);
	pthread_mutex_unlock(&p->lock);
}

/* ---- the pane ---- */

static void *new(struct pane_ctx *c)
{
	struct modelspane *p = xcalloc(1, sizeof(*p));

	(void)c;
	p->dir = config_registry();
	pthread_mutex_init(&p->lock, NULL);
	pthread_cond_init(&p->wake, NULL);
	chart_init(&p->charts[CV_ERRORS]);
	chart_init(&p->charts[CV_LOSS]);
	p->form.rank = 4;           /* 10, lambda 0.1, alpha 1: the recommender's defaults */
	p->form.lambda = 5;
	p->form.alpha = 2;
	p->form.split = 1;          /* 0.2 */
	p->form.iters = 10;
	p->form.reg = 1;
	p->reload = 1;
	p->drawn_at = -MODELS_SHOWN_S;
	if (!pthread_create(&p->thread, NULL, registry_main, p))
		p->have_thread = 1;
	return p;
}

static void free_pane(void *pane)
{
	struct modelspane *p = pane;

	if (p->have_thread) {
		pthread_mutex_lock(&p->lock);
		p->stop = 1;
		pthread_cond_signal(&p->wake);
		pthread_mutex_unlock(&p->lock);
		pthread_join(p->thread, NULL);
	}
	modeljob_free(p->job);
	modeljob_free(p->fold);
	free(p->rows);
	free(p->diff);
	chart_release(&p->charts[CV_ERRORS]);
	chart_release(&p->charts[CV_LOSS]);
	chart_grid_release(&p->grid);
	pthread_cond_destroy(&p->wake);
	pthread_mutex_destroy(&p->lock);
	free(p);
}

static void enter(void *pane, struct pane_ctx *c)
{
	struct modelspane *p = pane;

	(void)c;
	p->confirm = 0;
	ask(p, MR_NONE, NULL, NULL);
}

static void draw(void *pane, struct pane_ctx *c, int y, int rows)
{
	(void)c;
	if (rows >= 2)
		draw_pane(pane, y, rows);
}

static int changed(void *pane, struct pane_ctx *c)
{
	struct modelspane *p = pane;
	char outcome[400] = "", ask_err[400] = "", target[41] = "", prod[41] = "", was[13];
	int news, report = 0, asked = 0;

	news = poll_job(p, c);
	news |= poll_fold(p, c);
	pthread_mutex_lock(&p->lock);
	if (p->version != p->seen_version) {
		news = 1;
		p->seen_version = p->version;
		follow_selection(p);
	}
	if (p->outcome_seq != p->seen_outcome) {
		p->seen_outcome = p->outcome_seq;
		memcpy(outcome, p->outcome, sizeof(outcome));
		memcpy(p->last, p->outcome, sizeof(p->last));
		p->last_color = p->outcome_bad ? UI_BAD : UI_GOOD;
		report = 1;
	}
	if (p->confirm == 'r' && p->ask_ready) {
		asked = 1;
		memcpy(ask_err, p->ask_err, sizeof(ask_err));
		memcpy(target, p->ask_target, sizeof(target));
		memcpy(prod, p->prod, sizeof(prod));
	}
	pthread_mutex_unlock(&p->lock);
	if (report)
		poller_event(c->m, NOTE_INFO, "models", "%s", outcome);
	if (asked) {
		news = 1;
		if (ask_err[0]) {
			p->confirm = 0;
			poller_event(c->m, NOTE_INFO, "models", "cannot roll back: %s", ask_err);
		} else {
			short_of(was, prod);
			p->confirm = 'R';
			snprintf(p->confirm_text, sizeof(p->confirm_text), "roll back? production %s -> "
				 "%.12s  y: yes, other key: no", was, target);
		}
	}
	/* a running job's clock moves every second: the frame redraws then anyway */
	return news;
}

static int busy(void *pane, char *what, size_t size)
{
	struct modelspane *p = pane;

	if (job_running(p) && fold_running(p))
		snprintf(what, size, "stopping the %s of %s (no ref moves) and fold-in",
			 job_words[p->job_kind], p->job_name);
	else if (job_running(p))
		snprintf(what, size, "stopping the %s of %s (no ref moves)", job_words[p->job_kind],
			 p->job_name);
	else if (fold_running(p))
		snprintf(what, size, "stopping fold-in into production");
	else
		return 0;
	return 1;
}

static void cancel(void *pane)
{
	struct modelspane *p = pane;

	if (p->job)
		modeljob_cancel(p->job);
	if (p->fold)
		modeljob_cancel(p->fold);
}

const struct pane_ops models_pane = {
	.name = "models",
	.title = "models screen",
	.about = "the models screen: registry, diff, promote, train with a live chart, publish",
	.full = 1,
	.new = new,
	.free = free_pane,
	.enter = enter,
	.draw = draw,
	.changed = changed,
	.busy = busy,
	.cancel = cancel,
	.keys = keys,
	.nkeys = ARRAY_SIZE(keys),
};
