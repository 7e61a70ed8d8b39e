/*
 * datajob: generate, load and verify on a thread of its own for the
 * launcher's data screen. The loaders report from their own threads; every
 * write to the shared fields is under the job's lock.
 */
#include "tui/datajob.h"
#include "core/catalog.h"
#include "core/datagen.h"
#include "util/clock.h"
#include "util/xalloc.h"

#include <stdio.h>
#include <string.h>

void datajob_init(struct datajob *j)
{
	memset(j, 0, sizeof(*j));
	pthread_mutex_init(&j->lock, NULL);
}

void datajob_lock(struct datajob *j)
{
	pthread_mutex_lock(&j->lock);
}

void datajob_unlock(struct datajob *j)
{
	pthread_mutex_unlock(&j->lock);
}

int datajob_busy(const struct datajob *j)
{
	return j->phase == DJ_READING || j->phase == DJ_RUNNING;
}

void datajob_cancel(struct datajob *j)
{
	j->cancel = 1;
}

void datajob_release(struct datajob *j)
{
	j->cancel = 1;
	if (j->have_thread)
		pthread_join(j->thread, NULL);
	j->have_thread = 0;
	pthread_mutex_destroy(&j->lock);
}

/* under the lock */
static struct datajob_target *target_named(struct datajob *j, const char *name)
{
	int i;

	for (i = 0; i < j->n; i++)
		if (!strcmp(j->t[i].name, name))
			return &j->t[i];
	return NULL;
}

static void finish(struct datajob *j, enum datajob_phase phase)
{
	datajob_lock(j);
	j->phase = phase;
	j->finished = clock_s();
	j->version++;
	datajob_unlock(j);
}

/*
 * Every load target into items[] (options from `base`, endpoints from the
 * service definitions) and a row per target in the job, in `state`.
 * Returns the count, or -1 with the job failed on a malformed definition.
 */
static int setup_targets(struct datajob *j, struct loadrun_item *items,
			 const struct load_opts *base, enum datajob_tstate state)
{
	const struct load_target *ts[LOADRUN_MAX];
	struct buf err = BUF_INIT;
	int i, n;

	for (n = 0; load_targets[n] && n < LOADRUN_MAX; n++)
		ts[n] = load_targets[n];
	if (loadrun_prepare(items, ts, n, base, &err)) {
		datajob_lock(j);
		snprintf(j->message, sizeof(j->message), "%s", err.s);
		datajob_unlock(j);
		buf_release(&err);
		finish(j, DJ_FAILED);
		return -1;
	}
	datajob_lock(j);
	j->n = n;
	for (i = 0; i < n; i++) {
		struct datajob_target *t = &j->t[i];

		memset(t, 0, sizeof(*t));
		snprintf(t->name, sizeof(t->name), "%s", ts[i]->name);
		snprintf(t->endpoint, sizeof(t->endpoint), "%s:%d", items[i].host, items[i].o.port);
		t->state = state;
	}
	j->version++;
	datajob_unlock(j);
	return n;
}

/* ---- load ---- */

static void on_progress(const char *target, uint64_t done, uint64_t total, void *ctx)
{
	struct datajob *j = ctx;
	struct datajob_target *t;

	datajob_lock(j);
	if ((t = target_named(j, target))) {
		if (!t->since) {
			t->base = done;
			t->since = clock_s();
		}
		t->done = done;
		t->total = total;
		j->version++;
	}
	datajob_unlock(j);
}

static void on_target_done(const struct loadrun_item *it, void *ctx)
{
	struct datajob *j = ctx;
	struct datajob_target *t;

	datajob_lock(j);
	if ((t = target_named(j, it->t->name))) {
		t->state = !it->ret ? DT_OK : it->ret == LOAD_INTERRUPTED ? DT_STOPPED : DT_FAILED;
		t->seconds = it->res.seconds;
		t->written = it->res.ratings_written;
		t->skipped = it->res.ratings_skipped;
		t->movies = it->res.movies_written;
		snprintf(t->message, sizeof(t->message), "%s", it->ret ? it->err.s : "");
		j->version++;
	}
	datajob_unlock(j);
}

/* "skipped 2 bad line(s): 1 range, 1 syntax; ratings.csv:102: ..." */
static void skip_message(struct datajob *j, const struct dataset_report *rep)
{
	struct buf b = BUF_INIT;
	const char *nl;
	int p;

	buf_addf(&b, "skipped %zu bad line(s):", rep->skipped);
	for (p = 0; p < PROBLEM_COUNT; p++)
		if (rep->by_reason[p])
			buf_addf(&b, " %zu %s", rep->by_reason[p],
				 dataset_problem_name((enum dataset_problem)p));
	if (rep->examples.len) {
		nl = strchr(rep->examples.s, '\n');
		buf_addf(&b, "; first: %.*s", nl ? (int)(nl - rep->examples.s) : (int)rep->examples.len,
			 rep->examples.s);
	}
	snprintf(j->message, sizeof(j->message), "%s", b.s);
	buf_release(&b);
}

static void run_load(struct datajob *j)
{
	struct loadrun_item items[LOADRUN_MAX];
	struct dataset_report rep;
	struct dataset ds;
	struct load_opts base;
	struct buf err = BUF_INIT;
	int i, n, failed, stopped = 0;

	dataset_init(&ds);
	dataset_report_init(&rep);
	memset(&base, 0, sizeof(base));
	base.dataset = j->dataset;
	base.timeout_ms = 10000;
	base.progress = on_progress;
	base.ctx = j;
	base.cancel = &j->cancel;
	if ((n = setup_targets(j, items, &base, DT_WAITING)) < 0)
		goto out;
	for (i = 0; i < n; i++) {
		items[i].on_done = on_target_done;
		items[i].done_ctx = j;
	}

	/* the whole file is checked before anything is written to any store */
	if (dataset_read(&ds, j->dir, DS_AUTO, j->on_error, &rep, &err)) {
		datajob_lock(j);
		snprintf(j->message, sizeof(j->message), "%s: nothing was written to any store", err.s);
		j->refused_bad_lines = j->on_error == DS_ABORT && rep.lines_read > 0;
		datajob_unlock(j);
		finish(j, DJ_FAILED);
		goto out;
	}
	datajob_lock(j);
	if (rep.skipped)
		skip_message(j, &rep);
	for (i = 0; i < n; i++) {
		j->t[i].state = DT_RUNNING;
		j->t[i].total = ds.nratings;
	}
	j->phase = DJ_RUNNING;
	j->version++;
	datajob_unlock(j);

	failed = loadrun_all(&ds, items, n);
	for (i = 0; i < n; i++) {
		stopped |= items[i].ret == LOAD_INTERRUPTED;
		buf_release(&items[i].err);
	}
	finish(j, stopped ? DJ_STOPPED : failed ? DJ_FAILED : DJ_DONE);
out:
	dataset_release(&ds);
	dataset_report_release(&rep);
	buf_release(&err);
}

/* ---- verify ---- */

static void run_verify(struct datajob *j)
{
	const struct load_target *ts[LOADRUN_MAX];
	struct verify_row rows[LOADRUN_MAX];
	struct load_opts base;
	struct dataset ds;
	struct buf err = BUF_INIT;
	int i, n, bad;

	dataset_init(&ds);
	for (n = 0; load_targets[n] && n < LOADRUN_MAX; n++)
		ts[n] = load_targets[n];
	datajob_lock(j);
	j->n = n;
	for (i = 0; i < n; i++) {
		memset(&j->t[i], 0, sizeof(j->t[i]));
		snprintf(j->t[i].name, sizeof(j->t[i].name), "%s", ts[i]->name);
		j->t[i].state = DT_WAITING;
	}
	datajob_unlock(j);
	/* as `pancake data verify`: what a skip load would have kept */
	if (dataset_read(&ds, j->dir, DS_AUTO, DS_SKIP, NULL, &err)) {
		datajob_lock(j);
		snprintf(j->message, sizeof(j->message), "%s", err.s);
		datajob_unlock(j);
		finish(j, DJ_FAILED);
		goto out;
	}
	datajob_lock(j);
	j->phase = DJ_RUNNING;
	for (i = 0; i < n; i++)
		j->t[i].state = DT_RUNNING;
	j->version++;
	datajob_unlock(j);

	memset(&base, 0, sizeof(base));
	base.dataset = j->dataset;
	base.timeout_ms = 10000;
	for (i = 0; i < n; i++)
		rows[i].t = ts[i];
	bad = loadrun_verify(&ds, rows, n, &base);
	datajob_lock(j);
	for (i = 0; i < n; i++) {
		struct datajob_target *t = &j->t[i];

		t->have = rows[i].have;
		t->want = rows[i].want;
		t->state = rows[i].ok ? DT_OK : DT_FAILED;
		snprintf(t->message, sizeof(t->message), "%s",
			 rows[i].err.len ? rows[i].err.s : rows[i].have.detail);
		buf_release(&rows[i].err);
	}
	if (bad)
		snprintf(j->message, sizeof(j->message), "%d of %d store(s) differ from the source: "
			 "a load completes them (it resumes and duplicates nothing)", bad, n);
	else
		snprintf(j->message, sizeof(j->message), "every store holds exactly the source's %zu "
			 "ratings", ds.nratings);
	datajob_unlock(j);
	finish(j, bad ? DJ_FAILED : DJ_DONE);
out:
	dataset_release(&ds);
	buf_release(&err);
}

/* ---- drop ---- */

static void run_drop(struct datajob *j)
{
	struct loadrun_item items[LOADRUN_MAX];
	struct load_opts base;
	struct buf err = BUF_INIT;
	int i, n, failed = 0;

	memset(&base, 0, sizeof(base));
	base.dataset = j->dataset;
	base.timeout_ms = 10000;
	if ((n = setup_targets(j, items, &base, DT_RUNNING)) < 0)
		goto out;
	datajob_lock(j);
	j->phase = DJ_RUNNING;
	datajob_unlock(j);
	for (i = 0; i < n; i++) {
		char detail[320] = "";
		int r;

		buf_reset(&err);
		r = items[i].t->drop(j->dataset, &items[i].o, detail, sizeof(detail), &err);
		failed += r != 0;
		datajob_lock(j);
		j->t[i].state = r ? DT_FAILED : DT_OK;
		snprintf(j->t[i].message, sizeof(j->t[i].message), "%s", r ? err.s : detail);
		j->version++;
		datajob_unlock(j);
	}
	finish(j, failed ? DJ_FAILED : DJ_DONE);
out:
	buf_release(&err);
}

/* ---- generate ---- */

static void on_gen(uint64_t done, uint64_t total, void *ctx)
{
	struct datajob *j = ctx;

	datajob_lock(j);
	j->gen_done = done;
	j->gen_total = total;
	j->version++;
	datajob_unlock(j);
}

static void run_generate(struct datajob *j)
{
	struct datagen_opts o;
	struct buf err = BUF_INIT;
	char *gen = catalog_generated_dir(), *dir;
	double t0 = clock_s();

	datagen_opts_init(&o);
	o.seed = j->seed;
	dir = xstrfmt("%s/%s-s%llu", gen, j->shape, (unsigned long long)j->seed);
	if (datagen_shape(&o, j->shape, &err) || datagen_write(&o, dir, on_gen, j, &err)) {
		datajob_lock(j);
		snprintf(j->message, sizeof(j->message), "%s", err.s);
		datajob_unlock(j);
		finish(j, DJ_FAILED);
	} else {
		datajob_lock(j);
		snprintf(j->message, sizeof(j->message), "wrote %llu ratings to %s in %.1f s",
			 (unsigned long long)o.ratings, dir, clock_s() - t0);
		datajob_unlock(j);
		finish(j, DJ_DONE);
	}
	free(gen);
	free(dir);
	buf_release(&err);
}

static void *run(void *p)
{
	struct datajob *j = p;

	switch (j->kind) {
	case DJ_LOAD:
		run_load(j);
		break;
	case DJ_VERIFY:
		run_verify(j);
		break;
	case DJ_GENERATE:
		run_generate(j);
		break;
	case DJ_DROP:
		run_drop(j);
		break;
	case DJ_NONE:
		break;
	}
	return NULL;
}

struct job_args {
	enum datajob_kind kind;
	const char *dir, *name;
	enum dataset_on_error on_error;
	const char *shape;
	uint64_t seed;
};

static int start(struct datajob *j, const struct job_args *a, struct buf *why)
{
	datajob_lock(j);
	if (datajob_busy(j)) {
		buf_addf(why, "a %s of '%s' is under way: wait for it%s",
			 j->kind == DJ_LOAD ? "load" : j->kind == DJ_VERIFY ? "verify" :
			 j->kind == DJ_DROP ? "drop" : "generation", j->dataset,
			 j->kind == DJ_LOAD ? ", or c cancels it" : "");
		datajob_unlock(j);
		return -1;
	}
	datajob_unlock(j);
	/* the previous job has finished: its thread only needs joining */
	if (j->have_thread)
		pthread_join(j->thread, NULL);
	j->have_thread = 0;
	datajob_lock(j);
	j->kind = a->kind;
	j->on_error = a->on_error;
	snprintf(j->shape, sizeof(j->shape), "%s", a->shape ? a->shape : "");
	j->seed = a->seed;
	j->phase = DJ_READING;
	j->cancel = 0;
	j->n = 0;
	j->message[0] = '\0';
	j->refused_bad_lines = 0;
	j->gen_done = j->gen_total = 0;
	j->started = clock_s();
	j->finished = 0;
	snprintf(j->dir, sizeof(j->dir), "%s", a->dir ? a->dir : "");
	snprintf(j->dataset, sizeof(j->dataset), "%s", a->name);
	j->version++;
	datajob_unlock(j);
	if (pthread_create(&j->thread, NULL, run, j)) {
		buf_addstr(why, "cannot start a thread for the job");
		finish(j, DJ_FAILED);
		return -1;
	}
	j->have_thread = 1;
	return 0;
}

int datajob_load(struct datajob *j, const char *dir, const char *name,
		 enum dataset_on_error on_error, struct buf *why)
{
	struct job_args a = { DJ_LOAD, dir, name, on_error, NULL, 0 };

	return start(j, &a, why);
}

int datajob_verify(struct datajob *j, const char *dir, const char *name, struct buf *why)
{
	struct job_args a = { DJ_VERIFY, dir, name, DS_SKIP, NULL, 0 };

	return start(j, &a, why);
}

int datajob_generate(struct datajob *j, const char *shape, uint64_t seed, struct buf *why)
{
	char name[64];
	struct job_args a = { DJ_GENERATE, NULL, name, DS_ABORT, shape, seed };

	snprintf(name, sizeof(name), "%s-s%llu", shape, (unsigned long long)seed);
	return start(j, &a, why);
}

int datajob_drop(struct datajob *j, const char *name, struct buf *why)
{
	struct job_args a = { DJ_DROP, NULL, name, DS_ABORT, NULL, 0 };

	return start(j, &a, why);
}
