/*
 * datapane: the launcher's data screen: the datasets on this machine, and
 * the running or last job (generate, load with a progress bar per store,
 * verify with a count per store). The work runs in a datajob (datajob.h);
 * this pane only draws it and starts or cancels it, never waiting on a store.
 */
#include "core/catalog.h"
#include "tui/colors.h"
#include "tui/datajob.h"
#include "tui/pane.h"
#include "tui/table.h"
#include "util/clock.h"
#include "util/human.h"
#include "util/xalloc.h"

#include <curses.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#define NAME_W 14
#define BAR_MIN 10
#define BAR_MAX 30
#define DATAPANE_SETS 64
/* a drop asks first: a second X on the same dataset within this long starts it */
#define DATAPANE_CONFIRM_S 5.0

struct datapane {
	struct datajob job;
	struct catalog_local sets[DATAPANE_SETS];
	int nsets;
	int sel;                 /* selected dataset */
	int top;                 /* first dataset shown */
	enum datajob_phase seen_phase;
	unsigned seen_version;
	char drop_armed[64];     /* a first X on this dataset ... */
	double drop_armed_at;    /* ... at this time asks for a second */
};

/* lists the datasets again, keeping the selection on the same name */
static void datapane_refresh(struct datapane *p)
{
	char keep[64] = "";
	int i;

	if (p->nsets)
		snprintf(keep, sizeof(keep), "%s", p->sets[p->sel].name);
	p->nsets = catalog_local_list(p->sets, DATAPANE_SETS);
	p->sel = 0;
	for (i = 0; i < p->nsets; i++)
		if (!strcmp(p->sets[i].name, keep))
			p->sel = i;
}

static int need_dataset(const struct datapane *p, struct buf *why)
{
	if (p->nsets)
		return 0;
	buf_addstr(why, "no dataset here yet: g generates an ML-1M-shaped one "
		   "(or 'pancake data fetch ml-1m' with a network)");
	return -1;
}

/*
 * Jobs on the selected dataset (generate makes one). -1 with a message for
 * the user in `why` when there is no dataset or a job is running.
 */
static int datapane_load(struct datapane *p, int skip_bad_lines, struct buf *why)
{
	if (need_dataset(p, why))
		return -1;
	return datajob_load(&p->job, p->sets[p->sel].dir, p->sets[p->sel].name,
			    skip_bad_lines ? DS_SKIP : DS_ABORT, why);
}

static int datapane_verify(struct datapane *p, struct buf *why)
{
	if (need_dataset(p, why))
		return -1;
	return datajob_verify(&p->job, p->sets[p->sel].dir, p->sets[p->sel].name, why);
}

static int datapane_generate(struct datapane *p, const char *shape, struct buf *why)
{
	return datajob_generate(&p->job, shape, 1, why);
}

/* the first call returns 1 with the question in `why`; a second one on
 * the same dataset within DATAPANE_CONFIRM_S starts the job */
static int datapane_drop(struct datapane *p, struct buf *why)
{
	const char *name;
	double now = clock_s();

	if (need_dataset(p, why))
		return -1;
	name = p->sets[p->sel].name;
	if (strcmp(p->drop_armed, name) || now - p->drop_armed_at > DATAPANE_CONFIRM_S) {
		snprintf(p->drop_armed, sizeof(p->drop_armed), "%s", name);
		p->drop_armed_at = now;
		buf_addf(why, "X again within %.0f s drops '%s' from kafka, cassandra, "
			 "elasticsearch and redis (its files stay)", DATAPANE_CONFIRM_S, name);
		return 1;
	}
	p->drop_armed[0] = '\0';
	return datajob_drop(&p->job, name, why);
}

/* -1 with `why` when nothing runs */
static int datapane_cancel(struct datapane *p, struct buf *why)
{
	int busy;

	datajob_lock(&p->job);
	busy = datajob_busy(&p->job);
	datajob_unlock(&p->job);
	if (!busy) {
		buf_addstr(why, "nothing is running to cancel");
		return -1;
	}
	datajob_cancel(&p->job);
	return 0;
}

/* ---- drawing ---- */

static const char *const kind_words[] = {
	[DJ_NONE] = "", [DJ_GENERATE] = "generate", [DJ_LOAD] = "load", [DJ_VERIFY] = "verify",
	[DJ_DROP] = "drop",
};

static void rule(int y, const char *title, const char *right)
{
	table_rule(y, title, right, colors_attr(UI_PANE));
}

/* "[#####.....]" of width w + 2 at (y, x); returns the columns used */
static int bar(int y, int x, int w, double f, enum ui_color c)
{
	return table_bar(y, x, w, f, colors_attr(c), colors_attr(UI_DIM));
}

static int bar_width(void)
{
	int w = COLS - NAME_W - 46;

	return w < BAR_MIN ? BAR_MIN : w > BAR_MAX ? BAR_MAX : w;
}

static void draw_sets(struct datapane *p, int y, int rows)
{
	int i;

	if (!p->nsets) {
		table_fit(y, 1, "no datasets here yet: g generates an ML-1M-shaped one (no network "
			  "needed), or 'pancake data fetch NAME'", COLS - 2, colors_attr(UI_DIM));
		return;
	}
	/* keep the selection in view */
	if (p->sel < p->top)
		p->top = p->sel;
	if (p->sel >= p->top + rows)
		p->top = p->sel - rows + 1;
	for (i = 0; i < rows && p->top + i < p->nsets; i++) {
		const struct catalog_local *c = &p->sets[p->top + i];
		int sel = p->top + i == p->sel, x;
		attr_t a = sel ? colors_attr(UI_SELECTED) : colors_attr(UI_NORMAL);

		if (sel)
			mvhline(y + i, 0, ' ' | a, COLS);
		x = table_put(y + i, 0, sel ? "> " : "  ", 2, a);
		table_cell(y + i, x, 24, TABLE_LEFT, c->name, a);
		x += 25;
		table_cell(y + i, x, 10, TABLE_LEFT, c->fetched ? "fetched" : "generated",
			   sel ? a : colors_attr(UI_DIM));
		x += 11;
		table_fit(y + i, x, c->dir, COLS - x, sel ? a : colors_attr(UI_DIM));
	}
}

static void draw_load_target(const struct datajob *j, const struct datajob_target *t, int y,
			     double now)
{
	char text[400], r[16], eta[32];
	double f = t->total ? (double)t->done / (double)t->total : 0;
	double el = now - t->since, rate = t->since && el > 0.2 ?
		(double)(t->done - t->base) / el : 0;
	int x = 0, w = bar_width();

	table_cell(y, x, NAME_W, TABLE_LEFT, t->name, A_NORMAL);
	x += NAME_W + 1;
	switch (t->state) {
	case DT_WAITING:
		table_fit(y, x, j->phase == DJ_READING ? "waiting: reading the dataset..." :
			  datajob_busy(j) ? "waiting" : "not loaded",
			  COLS - x, colors_attr(UI_DIM));
		return;
	case DT_RUNNING:
		x += bar(y, x, w, f, UI_WAIT);
		human_count(r, sizeof(r), rate);
		if (rate > 0 && t->total > t->done)
			human_duration(eta, sizeof(eta), (long long)ceil((t->total - t->done) / rate));
		else
			snprintf(eta, sizeof(eta), "-");
		snprintf(text, sizeof(text), " %5.1f%%  %6s/s  ETA %-7s %s", 100 * f, r, eta,
			 t->endpoint);
		table_fit(y, x, text, COLS - x, A_NORMAL);
		return;
	case DT_OK:
		x += bar(y, x, w, 1.0, UI_GOOD);
		human_count(r, sizeof(r), t->seconds > 0 ? t->written / t->seconds : 0);
		snprintf(text, sizeof(text), " done in %.1f s: %llu written (%s/s), %llu already there",
			 t->seconds, (unsigned long long)t->written, r, (unsigned long long)t->skipped);
		table_fit(y, x, text, COLS - x, colors_attr(UI_GOOD));
		return;
	case DT_STOPPED:
		x += bar(y, x, w, f, UI_WAIT);
		snprintf(text, sizeof(text), " stopped at %.0f%%: load again to resume", 100 * f);
		table_fit(y, x, text, COLS - x, colors_attr(UI_WAIT));
		return;
	case DT_FAILED:
		table_fit(y, x, "FAILED: see below", COLS - x, colors_attr(UI_BAD));
		return;
	}
}

static void draw_drop_target(const struct datajob_target *t, int y)
{
	int x = NAME_W + 1;

	table_cell(y, 0, NAME_W, TABLE_LEFT, t->name, A_NORMAL);
	if (t->state == DT_RUNNING)
		table_fit(y, x, "dropping...", COLS - x, colors_attr(UI_WAIT));
	else if (t->state == DT_OK)
		table_fit(y, x, t->message, COLS - x, colors_attr(UI_GOOD));
	else if (t->state == DT_FAILED)
		table_fit(y, x, "FAILED: see below", COLS - x, colors_attr(UI_BAD));
	else
		table_fit(y, x, "waiting", COLS - x, colors_attr(UI_DIM));
}

static void count_pair(char *out, size_t size, const char *what, int64_t have, int64_t want)
{
	char a[24], b[24];

	if (want < 0 && have < 0) {
		snprintf(out, size, "%s -", what);
		return;
	}
	snprintf(a, sizeof(a), have < 0 ? "?" : "%lld", (long long)have);
	snprintf(b, sizeof(b), want < 0 ? "-" : "%lld", (long long)want);
	snprintf(out, size, "%s %s/%s", what, a, b);
}

static void draw_verify_target(const struct datajob_target *t, int y)
{
	char c1[64], c2[64], c3[64], text[400];
	int x = 0;

	table_cell(y, x, NAME_W, TABLE_LEFT, t->name, A_NORMAL);
	x += NAME_W + 1;
	if (t->state == DT_WAITING || t->state == DT_RUNNING) {
		table_fit(y, x, "counting...", COLS - x, colors_attr(UI_WAIT));
		return;
	}
	if (t->state == DT_FAILED && t->have.ratings < 0 && t->have.movies < 0 &&
	    t->have.users < 0) {
		table_fit(y, x, "cannot count: see below", COLS - x, colors_attr(UI_BAD));
		return;
	}
	count_pair(c1, sizeof(c1), "ratings", t->have.ratings, t->want.ratings);
	count_pair(c2, sizeof(c2), "movies", t->have.movies, t->want.movies);
	count_pair(c3, sizeof(c3), "users", t->have.users, t->want.users);
	/* the verdict first: a narrow screen cuts counts, never it */
	table_cell(y, x, 9, TABLE_LEFT, t->state == DT_OK ? "equal" : "DIFFERENT",
		   colors_attr(t->state == DT_OK ? UI_GOOD : UI_BAD));
	x += 10;
	snprintf(text, sizeof(text), "%-23s %-16s %s", c1, c2, c3);
	table_fit(y, x, text, COLS - x, A_NORMAL);
}

static void draw_job(struct datajob *j, int y, int rows)
{
	char head[256], secs[32], r[16];
	double now = clock_s(), el;
	enum ui_color hc = UI_NORMAL;
	int i, x;

	if (j->kind == DJ_NONE) {
		table_wrap(y, 1, "Enter loads the selected dataset into kafka, cassandra, elasticsearch "
			   "and redis; v verifies it; g generates one", COLS - 2, rows < 3 ? rows : 3,
			   colors_attr(UI_DIM));
		return;
	}
	el = (j->finished ? j->finished : now) - j->started;
	human_duration(secs, sizeof(secs), (long long)(el + 0.5));
	switch (j->phase) {
	case DJ_READING:
		snprintf(head, sizeof(head), "%s %s: reading the dataset (%s)", kind_words[j->kind],
			 j->dataset, secs);
		hc = UI_WAIT;
		break;
	case DJ_RUNNING:
		snprintf(head, sizeof(head), "%s %s: running for %s (c cancels)", kind_words[j->kind],
			 j->dataset, secs);
		hc = UI_WAIT;
		break;
	case DJ_DONE:
		snprintf(head, sizeof(head), "%s %s: done in %s", kind_words[j->kind], j->dataset, secs);
		hc = UI_GOOD;
		break;
	case DJ_FAILED:
		snprintf(head, sizeof(head), "%s %s: FAILED after %s", kind_words[j->kind], j->dataset,
			 secs);
		hc = UI_BAD;
		break;
	case DJ_STOPPED:
		snprintf(head, sizeof(head), "%s %s: stopped after %s: what is in stays, Enter resumes",
			 kind_words[j->kind], j->dataset, secs);
		hc = UI_WAIT;
		break;
	case DJ_IDLE:
		head[0] = '\0';
		break;
	}
	table_fit(y, 0, head, COLS, colors_attr(hc) | A_BOLD);
	y++;
	rows--;
	if (j->kind == DJ_GENERATE && rows > 0) {
		double f = j->gen_total ? (double)j->gen_done / (double)j->gen_total : 0;
		char text[64];

		table_cell(y, 0, NAME_W, TABLE_LEFT, "ratings", A_NORMAL);
		x = NAME_W + 1;
		x += bar(y, x, bar_width(), f, j->phase == DJ_DONE ? UI_GOOD : UI_WAIT);
		human_count(r, sizeof(r), el > 0 ? j->gen_done / el : 0);
		snprintf(text, sizeof(text), " %5.1f%%  %s ratings/s", 100 * f, r);
		table_fit(y, x, text, COLS - x, A_NORMAL);
		y++;
		rows--;
	}
	for (i = 0; i < j->n && rows > 0; i++, y++, rows--) {
		if (j->kind == DJ_VERIFY)
			draw_verify_target(&j->t[i], y);
		else if (j->kind == DJ_DROP)
			draw_drop_target(&j->t[i], y);
		else
			draw_load_target(j, &j->t[i], y, now);
	}
	if (rows > 0 && j->message[0]) {
		enum ui_color mc = j->phase == DJ_FAILED && (!j->n || j->refused_bad_lines) ?
				   UI_BAD : UI_NORMAL;
		int used = table_wrap(y, 0, j->message, COLS, rows < 2 ? rows : 2, colors_attr(mc));

		y += used;
		rows -= used;
	}
	if (rows > 0 && j->refused_bad_lines) {
		table_fit(y, 0, "S loads the good lines and reports the bad ones (--on-error=skip)",
			  COLS, colors_attr(UI_WAIT));
		y++;
		rows--;
	}
	/* each failure in full: the store, what happened, the way out */
	for (i = 0; i < j->n && rows > 0; i++) {
		const struct datajob_target *t = &j->t[i];
		char text[400];
		int used;

		if (t->state != DT_FAILED || !t->message[0] ||
		    (j->kind == DJ_VERIFY && (t->have.ratings >= 0 || t->have.movies >= 0 ||
					      t->have.users >= 0)))
			continue;
		snprintf(text, sizeof(text), "%s: %s", t->name, t->message);
		used = table_wrap(y, 0, text, COLS, rows < 3 ? rows : 3, colors_attr(UI_BAD));
		y += used;
		rows -= used;
	}
}

/* rows y .. y+rows-1, a rule first; takes the job's lock */
static void datapane_draw(struct datapane *p, int y, int rows)
{
	char right[64];
	int list_rows, job_rows;

	snprintf(right, sizeof(right), "%d dataset%s", p->nsets, p->nsets == 1 ? "" : "s");
	rule(y, "data: datasets and loads", right);
	y++;
	rows--;
	if (rows <= 0)
		return;
	/* the job gets a head line, one row per store and two for messages */
	job_rows = 1 + LOADRUN_MAX / 2 + 2;
	list_rows = rows - job_rows - 1;
	if (list_rows > p->nsets)
		list_rows = p->nsets;
	if (list_rows < 1)
		list_rows = 1;
	draw_sets(p, y, list_rows);
	y += list_rows + 1;
	rows -= list_rows + 1;
	if (rows <= 0)
		return;
	datajob_lock(&p->job);
	draw_job(&p->job, y, rows);
	datajob_unlock(&p->job);
}

/*
 * Whether the job changed since the last call (a redraw is due). When it
 * has just finished, `*finished` is set to 1 and `summary` (size bytes)
 * says how it ended, for the event line.
 */
static int datapane_changed(struct datapane *p, int *finished, char *summary, size_t size)
{
	struct datajob *j = &p->job;
	int changed, done;

	*finished = 0;
	datajob_lock(j);
	changed = j->version != p->seen_version;
	/* a running load's rates and ETAs move every second even without news */
	if (datajob_busy(j))
		changed = 1;
	done = p->seen_phase != j->phase && !datajob_busy(j) && j->phase != DJ_IDLE;
	if (done) {
		int i, failed = 0;

		for (i = 0; i < j->n; i++)
			failed += j->t[i].state == DT_FAILED;
		*finished = 1;
		if (j->phase == DJ_DONE)
			snprintf(summary, size, "%s of %s done in %.1f s", kind_words[j->kind], j->dataset,
				 j->finished - j->started);
		else if (j->phase == DJ_STOPPED)
			snprintf(summary, size, "%s of %s stopped: load again to resume",
				 kind_words[j->kind], j->dataset);
		else if (failed)
			snprintf(summary, size, "%s of %s: %d store(s) failed or differ",
				 kind_words[j->kind], j->dataset, failed);
		else
			snprintf(summary, size, "%s of %s failed: %.160s", kind_words[j->kind], j->dataset,
				 j->message);
	}
	p->seen_phase = j->phase;
	p->seen_version = j->version;
	datajob_unlock(j);
	if (done && j->kind == DJ_GENERATE) {
		/* show and select what was just made */
		char name[64];
		int i;

		snprintf(name, sizeof(name), "%s", j->dataset);
		datapane_refresh(p);
		for (i = 0; i < p->nsets; i++)
			if (!strcmp(p->sets[i].name, name))
				p->sel = i;
	}
	return changed || done;
}

/* ---- the pane ---- */

/* a job that could not start says why on the event line */
static void result(struct pane_ctx *c, int ret, struct buf *why)
{
	if (ret)
		poller_event(c->m, NOTE_INFO, "data", "%s", why->s);
	buf_release(why);
}

static void key_up(void *pane, struct pane_ctx *c)
{
	struct datapane *p = pane;

	(void)c;
	if (p->sel > 0)
		p->sel--;
}

static void key_down(void *pane, struct pane_ctx *c)
{
	struct datapane *p = pane;

	(void)c;
	if (p->sel < p->nsets - 1)
		p->sel++;
}

static void key_load(void *pane, struct pane_ctx *c)
{
	struct buf why = BUF_INIT;

	result(c, datapane_load(pane, 0, &why), &why);
}

static void key_load_skip(void *pane, struct pane_ctx *c)
{
	struct buf why = BUF_INIT;

	result(c, datapane_load(pane, 1, &why), &why);
}

static void key_verify(void *pane, struct pane_ctx *c)
{
	struct buf why = BUF_INIT;

	result(c, datapane_verify(pane, &why), &why);
}

static void key_generate(void *pane, struct pane_ctx *c)
{
	struct buf why = BUF_INIT;

	result(c, datapane_generate(pane, "ml-1m", &why), &why);
}

static void key_drop(void *pane, struct pane_ctx *c)
{
	struct buf why = BUF_INIT;

	/* 1: the question; it goes to the event line like a refusal */
	result(c, datapane_drop(pane, &why), &why);
}

static void key_cancel(void *pane, struct pane_ctx *c)
{
	struct buf why = BUF_INIT;

	result(c, datapane_cancel(pane, &why), &why);
}

static const struct pane_key keys[] = {
	{ KEY_UP,    "Up k",    NULL,     key_up,        "select the previous dataset" },
	{ 'k',       NULL,      NULL,     key_up,        NULL },
	{ KEY_DOWN,  "Down j",  NULL,     key_down,      "select the next dataset" },
	{ 'j',       NULL,      NULL,     key_down,      NULL },
	{ '\r',      "Enter",   "load",   key_load,      "load the dataset into kafka, cassandra, elasticsearch, redis" },
	{ KEY_ENTER, NULL,      NULL,     key_load,      NULL },
	{ '\n',      NULL,      NULL,     key_load,      NULL },
	{ 'S',       "S",       NULL,     key_load_skip, "load, leaving out bad lines and reporting them" },
	{ 'v',       "v",       "verify", key_verify,    "count what each store holds against the dataset" },
	{ 'g',       "g",       "gen",    key_generate,  "generate an ML-1M-shaped dataset (seed 1, no network)" },
	{ 'c',       "c",       "cancel", key_cancel,    "stop the running load (a later load resumes it)" },
	{ 'X',       "X",       NULL,     key_drop,      "drop the dataset from every store (asks first)" },
};

static void *new(struct pane_ctx *c)
{
	struct datapane *p = xcalloc(1, sizeof(*p));

	(void)c;
	datajob_init(&p->job);
	datapane_refresh(p);
	return p;
}

/* cancels a running job and waits for it (a load stops resumable) */
static void free_pane(void *pane)
{
	struct datapane *p = pane;

	datajob_release(&p->job);
	free(p);
}

static void enter(void *pane, struct pane_ctx *c)
{
	(void)c;
	datapane_refresh(pane);
}

static void draw(void *pane, struct pane_ctx *c, int y, int rows)
{
	(void)c;
	if (rows >= 2)
		datapane_draw(pane, y, rows);
}

/* the job's news: a redraw, and its outcome on the event line */
static int changed(void *pane, struct pane_ctx *c)
{
	char summary[256];
	int finished = 0, ret;

	ret = datapane_changed(pane, &finished, summary, sizeof(summary));
	if (finished)
		poller_event(c->m, NOTE_INFO, "data", "%s", summary);
	return ret;
}

static int busy(void *pane, char *what, size_t size)
{
	struct datapane *p = pane;
	int ret;

	datajob_lock(&p->job);
	ret = datajob_busy(&p->job);
	if (ret)
		snprintf(what, size, "stopping the %s of '%s' (a later load resumes it)",
			 p->job.kind == DJ_LOAD ? "load" : "work", p->job.dataset);
	datajob_unlock(&p->job);
	return ret;
}

static void cancel(void *pane)
{
	struct datapane *p = pane;

	datajob_cancel(&p->job);
}

const struct pane_ops data_pane = {
	.name = "data",
	.title = "data screen",
	.about = "the data screen: datasets, loads into the stack, verify",
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
