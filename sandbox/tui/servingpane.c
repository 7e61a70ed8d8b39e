/*
 * servingpane: the launcher's serving screen: a serving's live figures
 * from /metrics (core/servingmon), sparklines of req/s and p99, the
 * experiment's arms with bars, one user's recommendations with titles and
 * feedback on them, an experiment's serving started and stopped here
 * (core/servingrun) and simulated users against the shown serving
 * (core/servingsim). A thread of its own polls once a second, only while
 * the screen is shown, and asks for recommendations; the simulation has a
 * thread of its own; the UI thread only draws what they left under the
 * pane's lock, and polls the experiment's child without waiting.
 */
#include "core/servingloc.h"
#include "core/servingmon.h"
#include "core/servingrec.h"
#include "core/servingrun.h"
#include "core/servingsim.h"
#include "tui/colors.h"
#include "tui/pane.h"
#include "tui/table.h"
#include "tui/text.h"
#include "util/clock.h"
#include "util/xalloc.h"

#include <curses.h>
#include <math.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define POLL_S 0.5               /* between two samples of /metrics */
#define SHOWN_S 2.5              /* not drawn for this long: another screen is shown */
#define LOCS_S 5.0               /* the servings found again this often while shown */
#define HIST 480                 /* samples kept for the sparklines: 4 minutes */
#define ASK_K 10
#define ASK_TIMEOUT_MS 3000
#define USER_DIGITS 10

/* one recommended item as drawn (copied: the titles stay the worker's) */
struct shown_item {
	uint32_t item;
	double score;
	char title[128];
	char genres[160];
	int year;
	char outcome[48];        /* "" or what its feedback got: "rewarded (a)", "refused 409" */
};

struct servingpane {
	pthread_t th;
	int started;
	pthread_mutex_t lock;
	pthread_cond_t wake;
	/* under lock: what the UI asks of the worker */
	int stop;
	double drawn_at;         /* the last draw: polls only while recent */
	int idle;                /* the worker waits for a draw to poll again */
	int pick;                /* the endpoint wanted (index in locs), -1: the first that answers */
	int pick_changed;
	uint32_t ask_user;
	int ask;                 /* a recommendation is asked */
	char fb_id[32];
	uint32_t fb_item;
	int fb;                  /* a feedback is asked ... */
	int fb_row;              /* ... for this row */
	/* under lock: what the worker found */
	struct servingloc locs[SERVINGLOC_MAX];
	int nlocs;
	int cur;                 /* the endpoint watched, -1 none yet */
	struct servingmon_status st;
	int have_st;
	double down_since;       /* clock_s() when it went down, 0 up */
	double rps_hist[HIST], p99_hist[HIST];   /* ring, NaN: down */
	int hist_n, hist_head;
	int busy;                /* a recommendation or feedback is under way */
	char rec_head[256];      /* "user 12: variant a (model ...), source model, ..." */
	char rec_note[400];      /* titles' note, or a failure */
	int rec_failed;
	char request_id[32];
	struct shown_item items[ASK_K];
	int nitems;
	char want_addr[80];      /* watch this endpoint once it is listed (the experiment), "" */
	/* under lock: the simulated users (their own thread) */
	struct servingsim_stats sim;
	int sim_have;            /* `sim` holds a run's figures */
	int sim_running;         /* its thread runs */
	int sim_stop;            /* asks it to stop (atomic) */
	char news[300];          /* for the events line, taken by changed() */
	int news_bad;
	unsigned version;        /* bumped on every change */
	/* the UI thread's own */
	unsigned seen_version;
	int prompt;              /* the user id prompt is open */
	char typed[USER_DIGITS + 1];
	int sel;                 /* the selected item */
	int utf8;
	pthread_t sim_th;
	int sim_started;         /* sim_th is to be joined */
	struct servingrun *run;  /* the experiment's serving started here, NULL none */
	char run_what[256];      /* "serving a=production (...) vs ..., on ..." */
	char run_short[200];     /* "a=production vs b=candidate, thompson" */
	int confirm;             /* 'x': start it?  'X': stop it?  0: no question */
	char confirm_text[400];
	struct servingrun_plan plan;   /* what 'x' would start */
	int policy;              /* index in servingrun_policies */
};

/* ---- the worker ---- */

/* the worker's own, never touched by the UI thread */
struct worker_state {
	struct servingmon mon;
	int have_mon;
	struct servingrec_titles titles;
	double locs_at;
};

static void news(struct servingpane *p, int bad, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static void news(struct servingpane *p, int bad, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(p->news, sizeof(p->news), fmt, ap);
	va_end(ap);
	p->news_bad = bad;
}

static void hist_push(struct servingpane *p, double rps, double p99)
{
	p->rps_hist[p->hist_head] = rps;
	p->p99_hist[p->hist_head] = p99;
	p->hist_head = (p->hist_head + 1) % HIST;
	if (p->hist_n < HIST)
		p->hist_n++;
}

/* the servings found (under lock); keeps the one watched by its address */
static void refresh_locs(struct servingpane *p, struct worker_state *w)
{
	struct servingloc locs[SERVINGLOC_MAX];
	int n = servingloc_list(locs, SERVINGLOC_MAX);
	char was[80] = "";

	pthread_mutex_lock(&p->lock);
	if (p->cur >= 0)
		servingloc_addr(&p->locs[p->cur], was, sizeof(was));
	memcpy(p->locs, locs, sizeof(locs));
	p->nlocs = n;
	if (p->cur >= 0) {
		p->cur = -1;
		for (int i = 0; i < n; i++) {
			char a[80];
			servingloc_addr(&locs[i], a, sizeof(a));
			if (!strcmp(a, was))
				p->cur = i;
		}
		if (p->cur < 0 && w->have_mon) {
			/* gone (a host serving that stopped): the first that answers next */
			servingmon_release(&w->mon);
			w->have_mon = 0;
		}
	}
	p->version++;
	pthread_mutex_unlock(&p->lock);
	w->locs_at = clock_s();
}

/* watches endpoint `i` from now on (under lock) */
static void watch(struct servingpane *p, struct worker_state *w, int i)
{
	char addr[80];

	if (w->have_mon)
		servingmon_release(&w->mon);
	servingloc_addr(&p->locs[i], addr, sizeof(addr));
	servingmon_init(&w->mon, addr);
	w->have_mon = 1;
	p->cur = i;
	p->hist_n = p->hist_head = 0;
	p->have_st = 0;
	p->down_since = 0;
}

/* one sample of the endpoint watched; the first time, the first endpoint that answers */
static void poll_once(struct servingpane *p, struct worker_state *w)
{
	struct servingmon_status *st = xcalloc(1, sizeof(*st));
	int first = 0;

	pthread_mutex_lock(&p->lock);
	if (p->pick_changed && p->pick >= 0 && p->pick < p->nlocs) {
		watch(p, w, p->pick);
		p->pick_changed = 0;
	} else if (!w->have_mon && p->nlocs) {
		first = 1;
	}
	pthread_mutex_unlock(&p->lock);
	if (first) {
		/* none chosen yet: try each (a refusal on loopback is at once) */
		int i, chosen = 0;
		for (i = 0; i < p->nlocs; i++) {
			struct servingmon m;
			char addr[80];
			servingloc_addr(&p->locs[i], addr, sizeof(addr));
			servingmon_init(&m, addr);
			int up = servingmon_sample(&m, st) == 0;
			servingmon_release(&m);
			if (up) {
				chosen = i;
				break;
			}
		}
		pthread_mutex_lock(&p->lock);
		watch(p, w, chosen);
		pthread_mutex_unlock(&p->lock);
	}
	if (!w->have_mon)
		goto out;
	servingmon_sample(&w->mon, st);
	pthread_mutex_lock(&p->lock);
	if (p->have_st && p->st.up && !st->up) {
		p->down_since = clock_s();
		news(p, 1, "serving at %s is down: %s", st->addr, st->reason);
	} else if (p->have_st && !p->st.up && st->up) {
		news(p, 0, "serving at %s is back up", st->addr);
		p->down_since = 0;
	} else if (!p->have_st && !st->up) {
		p->down_since = clock_s();
	}
	p->st = *st;
	p->have_st = 1;
	/* the first sample after a start has no rate: it starts the curves only once known */
	if (!st->up)
		hist_push(p, NAN, NAN);
	else if (st->interval_s > 0)
		hist_push(p, st->rps, st->p99_ms);
	p->version++;
	pthread_mutex_unlock(&p->lock);
out:
	free(st);
}

static void do_ask(struct servingpane *p, struct worker_state *w, const char *addr, uint32_t user)
{
	struct servingrec_answer *a = xcalloc(1, sizeof(*a));
	struct servingapi_result r;
	int ret = servingrec_ask(addr, user, ASK_K, NULL, ASK_TIMEOUT_MS, &w->titles, a, &r, NULL);

	pthread_mutex_lock(&p->lock);
	p->busy = 0;
	p->rec_failed = ret != 0;
	p->nitems = 0;
	p->request_id[0] = '\0';
	if (ret) {
		snprintf(p->rec_head, sizeof(p->rec_head), "user %u", user);
		snprintf(p->rec_note, sizeof(p->rec_note), "no recommendations from %s: %s", addr,
			 r.reason);
	} else {
		snprintf(p->rec_head, sizeof(p->rec_head), "user %u: variant %s (model %s), source %s, "
			 "p %.2f, request %s", user, a->r.variant, a->r.version, a->r.source,
			 a->r.probability, a->r.request_id);
		snprintf(p->request_id, sizeof(p->request_id), "%s", a->r.request_id);
		if (w->titles.n)
			snprintf(p->rec_note, sizeof(p->rec_note), "titles from dataset %s",
				 w->titles.dataset);
		else
			snprintf(p->rec_note, sizeof(p->rec_note), "%s", w->titles.note);
		for (int i = 0; i < a->r.n && i < ASK_K; i++) {
			struct shown_item *it = &p->items[p->nitems++];
			const struct servingrec_movie *m = a->movies[i];
			memset(it, 0, sizeof(*it));
			it->item = a->r.items[i].item;
			it->score = a->r.items[i].score;
			if (m) {
				snprintf(it->title, sizeof(it->title), "%s", m->title);
				snprintf(it->genres, sizeof(it->genres), "%s", m->genres);
				it->year = m->year;
			}
		}
	}
	p->sel = 0;
	p->version++;
	pthread_mutex_unlock(&p->lock);
	free(a);
}

static void do_feedback(struct servingpane *p, const char *addr, const char *id, uint32_t item,
			int row)
{
	struct servingapi_feedback fb;
	struct servingapi_result r;
	int ret = servingapi_feedback(addr, id, item, 1.0, ASK_TIMEOUT_MS, &fb, &r, NULL);

	pthread_mutex_lock(&p->lock);
	p->busy = 0;
	if (row < p->nitems && p->items[row].item == item) {
		if (ret == 0)
			snprintf(p->items[row].outcome, sizeof(p->items[row].outcome), "rewarded (%s)",
				 fb.variant);
		else
			snprintf(p->items[row].outcome, sizeof(p->items[row].outcome), "refused %d",
				 r.http_status);
	}
	if (ret == 0)
		news(p, 0, "feedback on item %u of %s: reward 1 attributed to variant %s", item, id,
		     fb.variant);
	else
		news(p, 1, "feedback on item %u of %s: %s", item, id, r.reason);
	p->version++;
	pthread_mutex_unlock(&p->lock);
}

/* ---- the simulated users' thread ---- */

struct sim_arg {
	struct servingpane *p;
	struct servingsim_opts o;
	char addr[80];
};

static void sim_seen(const struct servingsim_stats *st, void *ctx)
{
	struct servingpane *p = ctx;

	pthread_mutex_lock(&p->lock);
	p->sim = *st;
	p->sim_have = 1;
	p->version++;
	pthread_mutex_unlock(&p->lock);
}

/* "a 10%, b 90%": each arm's share of the simulation's answers */
static void sim_shares(const struct servingsim_stats *st, char *out, size_t size)
{
	size_t used = 0;

	out[0] = '\0';
	for (int i = 0; i < st->narms && used < size; i++)
		used += (size_t)snprintf(out + used, size - used, "%s%s %.0f%%", i ? ", " : "",
					 st->arms[i].name, st->requests ? 100.0 *
					 (double)st->arms[i].requests / (double)st->requests : 0);
}

static void *sim_main(void *arg)
{
	struct sim_arg *a = arg;
	struct servingpane *p = a->p;
	struct servingsim_stats *st = xcalloc(1, sizeof(*st));
	struct buf err = BUF_INIT;
	char shares[160];
	int ret;

	a->o.addr = a->addr;
	ret = servingsim_run(&a->o, &p->sim_stop, sim_seen, p, st, &err);
	sim_shares(st, shares, sizeof(shares));
	pthread_mutex_lock(&p->lock);
	p->sim = *st;
	p->sim_have = 1;
	p->sim_running = 0;
	if (ret)
		news(p, 1, "simulated users: %s", err.s);
	else
		news(p, 0, "simulated users %s against %s: %llu requests in %.0f s, %llu clicks; "
		     "answers %s", st->stopped ? "stopped" : "done", st->addr,
		     (unsigned long long)st->requests, st->elapsed, (unsigned long long)st->clicks,
		     shares);
	p->version++;
	pthread_mutex_unlock(&p->lock);
	buf_release(&err);
	free(st);
	free(a);
	return NULL;
}

static void *worker(void *arg)
{
	struct servingpane *p = arg;
	struct worker_state w;
	double next_poll = 0;

	memset(&w, 0, sizeof(w));
	servingrec_titles_init(&w.titles);
	pthread_mutex_lock(&p->lock);
	while (!p->stop) {
		double now = clock_s();
		int shown = now - p->drawn_at < SHOWN_S;
		char addr[80] = "";

		if (p->cur >= 0)
			servingloc_addr(&p->locs[p->cur], addr, sizeof(addr));
		if (p->ask) {
			uint32_t user = p->ask_user;
			p->ask = 0;
			pthread_mutex_unlock(&p->lock);
			do_ask(p, &w, addr, user);
			pthread_mutex_lock(&p->lock);
			continue;
		}
		if (p->fb) {
			char id[32];
			uint32_t item = p->fb_item;
			int row = p->fb_row;
			snprintf(id, sizeof(id), "%s", p->fb_id);
			p->fb = 0;
			pthread_mutex_unlock(&p->lock);
			do_feedback(p, addr, id, item, row);
			pthread_mutex_lock(&p->lock);
			continue;
		}
		if (shown && p->want_addr[0]) {
			/* the experiment started here answers: list it and watch it */
			char want[80];
			snprintf(want, sizeof(want), "%s", p->want_addr);
			pthread_mutex_unlock(&p->lock);
			refresh_locs(p, &w);
			pthread_mutex_lock(&p->lock);
			for (int i = 0; i < p->nlocs; i++) {
				char a[80];
				servingloc_addr(&p->locs[i], a, sizeof(a));
				if (!strcmp(a, want)) {
					p->pick = i;
					p->pick_changed = 1;
				}
			}
			if (!strcmp(want, p->want_addr))
				p->want_addr[0] = '\0';
			continue;
		}
		if (shown && (now >= next_poll || p->pick_changed)) {
			p->idle = 0;
			pthread_mutex_unlock(&p->lock);
			if (!w.locs_at || now - w.locs_at >= LOCS_S)
				refresh_locs(p, &w);
			next_poll = now + POLL_S;
			poll_once(p, &w);
			pthread_mutex_lock(&p->lock);
			continue;
		}
		if (!shown) {
			/* another screen: nothing until a draw wakes us */
			p->idle = 1;
			pthread_cond_wait(&p->wake, &p->lock);
			continue;
		}
		struct timespec until;
		double t = next_poll - clock_s();
		clock_gettime(CLOCK_REALTIME, &until);
		if (t > 0) {
			until.tv_sec += (time_t)t;
			until.tv_nsec += (long)((t - (double)(time_t)t) * 1e9);
			if (until.tv_nsec >= 1000000000L) {
				until.tv_sec++;
				until.tv_nsec -= 1000000000L;
			}
			pthread_cond_timedwait(&p->wake, &p->lock, &until);
		}
	}
	pthread_mutex_unlock(&p->lock);
	if (w.have_mon)
		servingmon_release(&w.mon);
	servingrec_titles_release(&w.titles);
	return NULL;
}

/* ---- drawing (UI thread, the pane's lock held) ---- */

static void rule(int y, const char *title, const char *right)
{
	table_rule(y, title, right, colors_attr(UI_PANE));
}

static const char *fmt_ms(char *out, size_t size, double v)
{
	if (!isfinite(v))
		snprintf(out, size, "-");
	else
		snprintf(out, size, v < 10 ? "%.2f" : v < 1000 ? "%.0f" : "%.1fs", v < 1000 ? v : v / 1000);
	return out;
}

static const char *fmt_rate(char *out, size_t size, double v)
{
	snprintf(out, size, v < 10 ? "%.1f" : "%.0f", v);
	return out;
}

/* the last `w` values of a ring as a sparkline at (y, x); NaN (down) as a gap */
/*
 * The last samples of `ring` in `w` cells at (y, x), the whole history when
 * it is longer than the cells: each cell then sums up `per` samples, their
 * mean (`peak` 0: a rate) or their highest (`peak` 1: a latency). Returns
 * the seconds shown; *max_out is the highest cell.
 */
static double sparkline(const struct servingpane *p, const double *ring, int peak, int y, int x,
			int w, double *max_out)
{
	static const char *const blocks[] = { "\xe2\x96\x81", "\xe2\x96\x82", "\xe2\x96\x83",
		"\xe2\x96\x84", "\xe2\x96\x85", "\xe2\x96\x86", "\xe2\x96\x87", "\xe2\x96\x88" };
	static const char ascii[] = "_.-:=+*#";
	int per = (p->hist_n + w - 1) / (w > 0 ? w : 1), n;
	double cell[HIST], max = 0;

	if (per < 1)
		per = 1;
	n = p->hist_n / per;	/* whole cells, the newest samples last */
	for (int i = 0; i < n; i++) {
		double sum = 0, top = 0;
		int finite = 0;

		for (int k = 0; k < per; k++) {
			double v = ring[(p->hist_head - (n - i) * per + k + 2 * HIST) % HIST];
			if (!isfinite(v))
				continue;
			sum += v;
			top = finite && top > v ? top : v;
			finite++;
		}
		cell[i] = !finite ? NAN : peak ? top : sum / finite;
		if (finite && cell[i] > max)
			max = cell[i];
	}
	*max_out = max;
	for (int i = 0; i < n; i++) {
		int level;

		if (!isfinite(cell[i])) {
			table_put(y, x + i, " ", 1, A_NORMAL);
			continue;
		}
		level = max > 0 ? (int)(cell[i] / max * 7 + 0.5) : 0;
		if (level > 7)
			level = 7;
		if (p->utf8) {
			table_put(y, x + i, blocks[level], 1, colors_attr(UI_GOOD));
		} else {
			char c[2] = { ascii[level], 0 };
			table_put(y, x + i, c, 1, colors_attr(UI_GOOD));
		}
	}
	return n * per * POLL_S;
}


static void draw_endpoints(struct servingpane *p, int y)
{
	int x = table_put(y, 0, "e ", COLS, colors_attr(UI_KEY));

	if (!p->nlocs) {
		table_fit(y, x, "looking for servings...", COLS - x, colors_attr(UI_DIM));
		return;
	}
	for (int i = 0; i < p->nlocs && x < COLS; i++) {
		char text[128];
		attr_t a = colors_attr(UI_DIM);
		if (i == p->cur) {
			a = p->have_st ? colors_attr(p->st.up ? UI_GOOD : UI_BAD) | A_BOLD : A_BOLD;
			a |= A_REVERSE;
		}
		snprintf(text, sizeof(text), "%s %s:%d", p->locs[i].label, p->locs[i].host,
			 p->locs[i].port);
		x += table_fit(y, x, text, COLS - x, a);
		x += table_put(y, x, "  ", COLS - x, A_NORMAL);
	}
}

static void draw_status(struct servingpane *p, int y)
{
	const struct servingmon_status *st = &p->st;
	char text[512], a[16], b[16];

	if (!p->have_st) {
		table_fit(y, 0, p->cur >= 0 ? "asking /metrics..." : "", COLS, colors_attr(UI_DIM));
		return;
	}
	if (!st->up) {
		snprintf(text, sizeof(text), "DOWN %s: %s (for %.0f s; asking again every %g s)",
			 st->addr, st->reason, p->down_since ? clock_s() - p->down_since : 0, POLL_S);
		table_wrap(y, 0, text, COLS, 1, colors_attr(UI_BAD) | A_BOLD);
		return;
	}
	int x = table_put(y, 0, "UP ", COLS, colors_attr(UI_GOOD) | A_BOLD);
	snprintf(text, sizeof(text), "%s  %s req/s  p99 %s ms  5xx %llu  redis err %llu  kafka err "
		 "%llu  swaps %llu/%llu failed", st->addr, fmt_rate(a, sizeof(a), st->rps),
		 fmt_ms(b, sizeof(b), st->p99_ms), (unsigned long long)st->http_5xx,
		 (unsigned long long)st->redis_errors, (unsigned long long)st->kafka_errors,
		 (unsigned long long)st->swaps, (unsigned long long)st->swap_failures);
	table_fit(y, x, text, COLS - x, colors_attr(st->http_5xx || st->swap_failures ? UI_WAIT :
						    UI_NORMAL));
}

/* what to do about a serving that is down: it depends on what went away */
static void draw_way_out(struct servingpane *p, int y, int rows)
{
	const char *how;

	if (p->cur >= 0 && p->locs[p->cur].kind == SERVINGLOC_CONTAINER)
		how = "The stack's serving: start it with u on the services screen (its row) or "
		      "'pancake up serving'. It answers once a model is published (M, then P).";
	else
		how = "A serving on this host: its process is gone or not answering. e shows "
		      "another serving; x starts an experiment's.";
	table_wrap(y, 0, how, COLS, rows > 2 ? 2 : rows, colors_attr(UI_DIM));
}

/* "40s", "4m": how far back a sparkline goes */
static const char *span_text(char *out, size_t size, double secs)
{
	if (secs < 90)
		snprintf(out, size, "%.0fs", secs);
	else
		snprintf(out, size, "%.0fm", secs / 60);
	return out;
}

static void draw_sparks(struct servingpane *p, int y, int rows)
{
	char label[48], a[16], t[16];
	double max, span;
	int lw = 22, w = COLS - lw;

	if (w < 8 || rows < 1)
		return;
	span = sparkline(p, p->rps_hist, 0, y, lw, w, &max);
	snprintf(label, sizeof(label), "req/s %s max %s", span_text(t, sizeof(t), span),
		 fmt_rate(a, sizeof(a), max));
	table_cell(y, 0, lw - 1, TABLE_LEFT, label, colors_attr(UI_DIM));
	if (rows < 2)
		return;
	span = sparkline(p, p->p99_hist, 1, y + 1, lw, w, &max);
	snprintf(label, sizeof(label), "p99 ms %s max %s", span_text(t, sizeof(t), span),
		 fmt_ms(a, sizeof(a), max));
	table_cell(y + 1, 0, lw - 1, TABLE_LEFT, label, colors_attr(UI_DIM));
}

/* the routes, busiest first; returns the rows used */
static int draw_routes(struct servingpane *p, int y, int rows)
{
	const struct servingmon_status *st = &p->st;
	int order[SERVINGMON_ROUTES], n = 0, used = 0;

	if (rows < 2)
		return 0;
	for (int i = 0; i < st->nroutes; i++)
		order[n++] = i;
	/* by requests since start, the most first (a stable order from sample to sample) */
	for (int i = 1; i < n; i++)
		for (int k = i; k > 0 && st->routes[order[k]].requests > st->routes[order[k - 1]].requests; k--) {
			int t = order[k];
			order[k] = order[k - 1];
			order[k - 1] = t;
		}
	mvhline(y, 0, ' ' | colors_attr(UI_HEADER), COLS);
	table_put(y, 0, "ROUTE             REQ/S   P50 MS   P99 MS   REQUESTS       5XX", COLS,
		  colors_attr(UI_HEADER));
	used++;
	for (int i = 0; i < n && used < rows; i++, used++) {
		const struct servingmon_route *r = &st->routes[order[i]];
		char text[160], a[16], b[16], c[16];
		snprintf(text, sizeof(text), "%-16s %6s %8s %8s %10llu %9llu", r->name,
			 fmt_rate(a, sizeof(a), r->rps), fmt_ms(b, sizeof(b), r->p50_ms),
			 fmt_ms(c, sizeof(c), r->p99_ms), (unsigned long long)r->requests,
			 (unsigned long long)r->errors);
		table_fit(y + used, 0, text, COLS, colors_attr(r->errors ? UI_WAIT : UI_NORMAL));
	}
	return used;
}

static void draw_sources(struct servingpane *p, int y)
{
	const struct servingmon_status *st = &p->st;
	char text[256], r[16];
	size_t used = 0;

	used += (size_t)snprintf(text, sizeof(text), "answers from");
	for (int s = 0; s < SM_SOURCES && used < sizeof(text); s++)
		used += (size_t)snprintf(text + used, sizeof(text) - used, "  %s %s/s (%llu)",
					 servingmon_source_name(s),
					 fmt_rate(r, sizeof(r), st->source_rps[s]),
					 (unsigned long long)st->sources[s]);
	table_fit(y, 0, text, COLS, A_NORMAL);
}

static const struct servingmon_variant *variant_of(const struct servingmon_status *st,
						   const char *name)
{
	for (int i = 0; i < st->nvariants; i++)
		if (!strcmp(st->variants[i].name, name))
			return &st->variants[i];
	return NULL;
}

/* a row per arm: its model, policy or weight, a bar of its pulls, probability, reward rate */
static int draw_arms(struct servingpane *p, int y, int rows)
{
	const struct servingmon_status *st = &p->st;
	int used = 0, bw = COLS >= 100 ? 20 : COLS >= 80 ? 10 : 6;

	if (rows < 2 || !st->narms)
		return 0;
	char head[160];
	snprintf(head, sizeof(head), "%-10s %-12s %-8s %-*s  %%    PROB  RATE (95%%)      PULLS",
		 "ARM", "MODEL", "WEIGHT", bw + 2, "SHARE");
	mvhline(y, 0, ' ' | colors_attr(UI_HEADER), COLS);
	table_put(y, 0, head, COLS, colors_attr(UI_HEADER));
	used++;
	for (int i = 0; i < st->narms && used < rows; i++, used++) {
		const struct servingmon_arm *a = &st->arms[i];
		const struct servingmon_variant *v = variant_of(st, a->name);
		char w[16], text[200], rate[48], prob[16];
		int x = 0;

		if (isfinite(a->weight))
			snprintf(w, sizeof(w), "%g", a->weight);
		else
			snprintf(w, sizeof(w), "%s", a->policy);
		table_cell(y + used, x, 10, TABLE_LEFT, a->name, A_BOLD);
		x += 11;
		table_cell(y + used, x, 12, TABLE_LEFT, v ? v->version : "?", A_NORMAL);
		x += 13;
		table_cell(y + used, x, 8, TABLE_LEFT, w, colors_attr(UI_DIM));
		x += 9;
		if (x + bw + 2 >= COLS)
			continue;
		table_bar(y + used, x, bw, a->pull_share, colors_attr(UI_GOOD), colors_attr(UI_DIM));
		x += bw + 3;
		if (isfinite(a->rate))
			snprintf(rate, sizeof(rate), "%.3f (%.2f-%.2f)", a->rate, a->rate_lo, a->rate_hi);
		else
			snprintf(rate, sizeof(rate), "- (no feedback)");
		snprintf(prob, sizeof(prob), isfinite(a->probability) ? "%.2f" : "-", a->probability);
		snprintf(text, sizeof(text), "%3.0f%%  %4s  %-16s %llu", 100 * a->pull_share, prob, rate,
			 (unsigned long long)a->pulls);
		table_fit(y + used, x, text, COLS - x, A_NORMAL);
	}
	return used;
}

static void draw_recs(struct servingpane *p, int y, int rows)
{
	if (rows < 1)
		return;
	if (p->prompt) {
		char text[96];
		snprintf(text, sizeof(text), "user id: %s_   (Enter asks, Esc cancels)", p->typed);
		table_fit(y, 0, text, COLS, colors_attr(UI_WAIT) | A_BOLD);
		return;
	}
	if (p->busy) {
		table_fit(y, 0, "asking serving...", COLS, colors_attr(UI_WAIT));
		return;
	}
	if (!p->rec_head[0]) {
		table_fit(y, 0, "u asks for a user's recommendations; f then rewards the selected item",
			  COLS, colors_attr(UI_DIM));
		return;
	}
	table_fit(y, 0, p->rec_head, COLS, A_BOLD);
	if (rows < 2)
		return;
	table_fit(y + 1, 0, p->rec_note, COLS, colors_attr(p->rec_failed ? UI_BAD : UI_DIM));
	int top = 0, list = rows - 2;
	if (list <= 0)
		return;
	if (p->sel >= list)
		top = p->sel - list + 1;
	for (int i = 0; i < list && top + i < p->nitems; i++) {
		const struct shown_item *it = &p->items[top + i];
		int sel = top + i == p->sel, row = y + 2 + i;
		attr_t a = sel ? colors_attr(UI_SELECTED) : A_NORMAL;
		char text[320];

		if (sel)
			mvhline(row, 0, ' ' | a, COLS);
		/* the feedback's outcome before the title: a narrow screen cuts the genres, not it */
		if (it->title[0])
			snprintf(text, sizeof(text), "%s%2d %6u %6.3f  %s%s%s%s%s%.0d%s  %s", sel ? ">" : " ",
				 top + i + 1, it->item, it->score, it->outcome[0] ? "[" : "", it->outcome,
				 it->outcome[0] ? "] " : "", it->title, it->year ? " (" : "", it->year,
				 it->year ? ")" : "", it->genres);
		else
			snprintf(text, sizeof(text), "%s%2d %6u %6.3f  %s%s%s(no title)", sel ? ">" : " ",
				 top + i + 1, it->item, it->score, it->outcome[0] ? "[" : "", it->outcome,
				 it->outcome[0] ? "] " : "");
		table_fit(row, 0, text, COLS, a);
	}
}

/*
 * The experiment's line: its serving's state, or what x does; a question
 * takes up to three (`rows` allowing): the question wrapped, then its
 * answers. Returns the rows used.
 */
static int draw_experiment(struct servingpane *p, int y, int rows)
{
	char text[600];
	attr_t a = colors_attr(UI_DIM);

	if (p->confirm) {
		const char *answers = p->confirm == 'x' ? "y: yes   o or Left/Right: another policy "
			"(thompson, ab, egreedy, ucb1)   any other key: no" : "y: yes   any other key: no";
		if (rows < 2) {
			char both[800];
			snprintf(both, sizeof(both), "%s  %s", p->confirm_text, answers);
			table_fit(y, 0, both, COLS, colors_attr(UI_WAIT) | A_BOLD);
			return 1;
		}
		int used = table_wrap(y, 0, p->confirm_text, COLS, rows - 1,
				      colors_attr(UI_WAIT) | A_BOLD);
		table_fit(y + used, 0, answers, COLS, colors_attr(UI_WAIT));
		return used + 1;
	}
	if (!p->run) {
		snprintf(text, sizeof(text), "x starts an experiment here (a=production vs "
			 "b=candidate, %s); s: simulated users against the shown serving",
			 servingrun_policies[p->policy]);
	} else if (servingrun_state(p->run) == SERVINGRUN_ENDED) {
		int stopped = servingrun_stopping(p->run);
		snprintf(text, sizeof(text), "experiment %s: %s%s%s", stopped ? "stopped" : "ended",
			 servingrun_reason(p->run), stopped ? "" : "  (log ", stopped ? "" :
			 servingrun_log(p->run));
		if (!stopped)
			snprintf(text + strlen(text), sizeof(text) - strlen(text), ")");
		a = stopped ? colors_attr(UI_DIM) : colors_attr(UI_BAD) | A_BOLD;
	} else if (servingrun_stopping(p->run)) {
		snprintf(text, sizeof(text), "experiment: stopping %s (pid %ld)", p->run_what,
			 (long)servingrun_pid(p->run));
		a = colors_attr(UI_WAIT);
	} else {
		int up = servingrun_state(p->run) == SERVINGRUN_READY;
		snprintf(text, sizeof(text), "experiment %s on %s, pid %ld (x stops it): %s",
			 up ? "up" : "starting", servingrun_addr(p->run), (long)servingrun_pid(p->run),
			 p->run_short);
		a = colors_attr(up ? UI_GOOD : UI_WAIT);
	}
	table_fit(y, 0, text, COLS, a);
	return 1;
}

/* the simulation's line, while it runs and after: 0 rows when there was none */
static int draw_sim(struct servingpane *p, int y, int rows)
{
	const struct servingsim_stats *st = &p->sim;
	char text[600], shares[160];

	if (rows < 1 || (!p->sim_have && !p->sim_running))
		return 0;
	sim_shares(st, shares, sizeof(shares));
	if (p->sim_running && !st->label[0])
		snprintf(text, sizeof(text), "simulated users: asking %s what it serves...", st->addr);
	else if (p->sim_running)
		snprintf(text, sizeof(text), "%s  %.0f/%.0f s (s stops)  %llu requests  %llu clicks  "
			 "%s, %s", st->label, st->elapsed, st->seconds,
			 (unsigned long long)st->requests, (unsigned long long)st->clicks, st->users,
			 st->addr);
	else if (st->error[0] && !st->requests)
		snprintf(text, sizeof(text), "simulated users: %s", st->error);
	else
		snprintf(text, sizeof(text), "%s  %s after %.0f s: %llu requests, %llu clicks; "
			 "answers %s (%s)", st->label, st->error[0] ? "failed" : st->stopped ?
			 "stopped" : "done", st->elapsed, (unsigned long long)st->requests,
			 (unsigned long long)st->clicks, shares, st->addr);
	table_fit(y, 0, text, COLS, colors_attr(p->sim_running ? UI_WAIT : st->error[0] ? UI_BAD :
						UI_DIM));
	return 1;
}

static void servingpane_draw(struct servingpane *p, int y, int rows)
{
	char right[96] = "";

	if (p->have_st && p->st.up && !p->st.nvariants)
		snprintf(right, sizeof(right), "no model loaded yet: publish one (M, then P)");
	else if (p->have_st && p->st.up && p->st.policy[0])
		snprintf(right, sizeof(right), "%d variant%s, %s", p->st.nvariants,
			 p->st.nvariants == 1 ? "" : "s", p->st.policy);
	rule(y, "serving: live from /metrics", right);
	if (rows < 2)
		return;
	draw_endpoints(p, y + 1);
	if (rows < 3)
		return;
	draw_status(p, y + 2);
	y += 3;
	rows -= 3;
	if (rows < 1)
		return;
	{
		int used = draw_experiment(p, y, rows >= 8 ? 3 : rows >= 6 ? 2 : 1);
		y += used;
		rows -= used;
	}
	if (rows >= 4) {
		int used = draw_sim(p, y, 1);
		y += used;
		rows -= used;
	}
	if (rows < 1)
		return;
	/*
	 * The rest: the recommendations at the bottom (their rule, then a line,
	 * or a head, a note and the items), and above them the sparklines, the
	 * routes, the sources and the arms, each getting what is left.
	 */
	int rec_rows = p->prompt || p->busy || !p->rec_head[0] ? 1 : 2 + p->nitems;
	if (rec_rows > rows / 2)
		rec_rows = rows / 2 > 1 ? rows / 2 : 1;
	int left = rows - rec_rows - 1;
	if (left < 0) {
		rec_rows = rows;
		left = 0;
	}
	if (p->have_st && p->st.up && left > 0) {
		int y0 = y, arms = p->st.narms ? 1 + p->st.narms : 0;
		int spark = left >= 12 ? 2 : left >= 8 ? 1 : 0;
		/* the arms before the routes: the experiment is what this screen is for */
		if (arms > left - spark)
			arms = left - spark;
		int routes = left - spark - arms - 1;
		if (routes > 1 + p->st.nroutes)
			routes = 1 + p->st.nroutes;
		draw_sparks(p, y, spark);
		y += spark;
		y += draw_routes(p, y, routes < 2 ? 0 : routes);
		if (y < y0 + left - arms) {
			draw_sources(p, y);
			y++;
		}
		draw_arms(p, y, arms);
		y = y0 + left;
	} else if (left > 0) {
		int spark = left < 2 ? left : 2;
		draw_sparks(p, y, spark);
		if (p->have_st && !p->st.up && left > spark)
			draw_way_out(p, y + spark, left - spark);
		y += left;
	}
	if (left >= 0 && rows > rec_rows) {
		rule(y, "recommendations", p->request_id[0] ? p->request_id : NULL);
		y++;
	}
	draw_recs(p, y, rec_rows);
}

/* ---- the pane ---- */

static void *new(struct pane_ctx *c)
{
	struct servingpane *p = xcalloc(1, sizeof(*p));

	(void)c;
	pthread_mutex_init(&p->lock, NULL);
	pthread_cond_init(&p->wake, NULL);
	p->cur = -1;
	p->pick = -1;
	if (pthread_create(&p->th, NULL, worker, p) == 0)
		p->started = 1;
	return p;
}

static void free_pane(void *pane)
{
	struct servingpane *p = pane;

	/* the simulated users first (they talk to the experiment), then its serving */
	__atomic_store_n(&p->sim_stop, 1, __ATOMIC_RELAXED);
	if (p->sim_started)
		pthread_join(p->sim_th, NULL);
	servingrun_free(p->run);
	pthread_mutex_lock(&p->lock);
	p->stop = 1;
	pthread_cond_signal(&p->wake);
	pthread_mutex_unlock(&p->lock);
	if (p->started)
		pthread_join(p->th, NULL);
	pthread_cond_destroy(&p->wake);
	pthread_mutex_destroy(&p->lock);
	free(p);
}

static void enter(void *pane, struct pane_ctx *c)
{
	struct servingpane *p = pane;

	(void)c;
	pthread_mutex_lock(&p->lock);
	p->drawn_at = clock_s();
	pthread_cond_signal(&p->wake);
	pthread_mutex_unlock(&p->lock);
}

static void draw(void *pane, struct pane_ctx *c, int y, int rows)
{
	struct servingpane *p = pane;

	(void)c;
	pthread_mutex_lock(&p->lock);
	p->drawn_at = clock_s();
	if (p->idle) {
		p->idle = 0;
		pthread_cond_signal(&p->wake);	/* shown again: polls start again */
	}
	/* the locale is set once the screen is: known at the first draw */
	p->utf8 = strcmp(text_ellipsis(), "...") != 0;
	if (rows >= 2)
		servingpane_draw(p, y, rows);
	pthread_mutex_unlock(&p->lock);
}

/* the experiment's child, polled without waiting: 1 when its state changed */
static int poll_run(struct servingpane *p, struct pane_ctx *c)
{
	if (!p->run || !servingrun_poll(p->run))
		return 0;
	switch (servingrun_state(p->run)) {
	case SERVINGRUN_READY:
		poller_event(c->m, NOTE_INFO, "serving", "experiment up: %s, pid %ld (x stops it)",
			     p->run_what, (long)servingrun_pid(p->run));
		pthread_mutex_lock(&p->lock);
		snprintf(p->want_addr, sizeof(p->want_addr), "%s", servingrun_addr(p->run));
		pthread_cond_signal(&p->wake);
		pthread_mutex_unlock(&p->lock);
		break;
	case SERVINGRUN_ENDED:
		if (servingrun_stopping(p->run))
			poller_event(c->m, NOTE_INFO, "serving", "the experiment's serving on %s %s",
				     servingrun_addr(p->run), servingrun_reason(p->run));
		else
			poller_event(c->m, NOTE_FAILED, "serving", "the experiment's serving on %s "
				     "ended: %s (log %s)", servingrun_addr(p->run),
				     servingrun_reason(p->run), servingrun_log(p->run));
		break;
	case SERVINGRUN_STARTING:
		break;
	}
	return 1;
}

static int changed(void *pane, struct pane_ctx *c)
{
	struct servingpane *p = pane;
	char text[300] = "";
	int ret, bad = 0, joined = 0;

	ret = poll_run(p, c);
	pthread_mutex_lock(&p->lock);
	if (p->sim_started && !p->sim_running)
		joined = 1;	/* it has ended: the join returns at once */
	pthread_mutex_unlock(&p->lock);
	if (joined) {
		pthread_join(p->sim_th, NULL);
		p->sim_started = 0;
	}
	pthread_mutex_lock(&p->lock);
	ret |= p->version != p->seen_version;
	p->seen_version = p->version;
	if (p->news[0]) {
		snprintf(text, sizeof(text), "%s", p->news);
		bad = p->news_bad;
		p->news[0] = '\0';
	}
	pthread_mutex_unlock(&p->lock);
	if (text[0])
		poller_event(c->m, bad ? NOTE_FAILED : NOTE_INFO, "serving", "%s", text);
	return ret;
}

/* ---- keys ---- */

static void key_endpoint(void *pane, struct pane_ctx *c)
{
	struct servingpane *p = pane;

	(void)c;
	pthread_mutex_lock(&p->lock);
	if (p->nlocs) {
		p->pick = ((p->cur < 0 ? -1 : p->cur) + 1) % p->nlocs;
		p->pick_changed = 1;
		pthread_cond_signal(&p->wake);
	}
	pthread_mutex_unlock(&p->lock);
}

static void key_user(void *pane, struct pane_ctx *c)
{
	struct servingpane *p = pane;

	(void)c;
	p->prompt = 1;
	p->typed[0] = '\0';
}

static void key_feedback(void *pane, struct pane_ctx *c)
{
	struct servingpane *p = pane;
	const char *why = NULL;

	pthread_mutex_lock(&p->lock);
	if (p->busy)
		why = "wait: serving is being asked";
	else if (!p->nitems || !p->request_id[0])
		why = "no recommendation to reward yet: u asks for a user's";
	else {
		snprintf(p->fb_id, sizeof(p->fb_id), "%s", p->request_id);
		p->fb_item = p->items[p->sel].item;
		p->fb_row = p->sel;
		p->fb = 1;
		p->busy = 1;
		pthread_cond_signal(&p->wake);
	}
	pthread_mutex_unlock(&p->lock);
	if (why)
		poller_event(c->m, NOTE_INFO, "serving", "%s", why);
}

static void key_up(void *pane, struct pane_ctx *c)
{
	struct servingpane *p = pane;

	(void)c;
	pthread_mutex_lock(&p->lock);
	if (p->sel > 0)
		p->sel--;
	pthread_mutex_unlock(&p->lock);
}

static void key_down(void *pane, struct pane_ctx *c)
{
	struct servingpane *p = pane;

	(void)c;
	pthread_mutex_lock(&p->lock);
	if (p->sel < p->nitems - 1)
		p->sel++;
	pthread_mutex_unlock(&p->lock);
}

/* the start question: what it would run, and how to answer */
static void ask_start(struct servingpane *p)
{
	struct buf what = BUF_INIT;

	servingrun_describe(&p->plan, &what);
	snprintf(p->confirm_text, sizeof(p->confirm_text), "start %s?", what.s);
	buf_release(&what);
}

static void key_experiment(void *pane, struct pane_ctx *c)
{
	struct servingpane *p = pane;
	struct servingrun_opts o = { .policy = servingrun_policies[p->policy] };
	struct buf err = BUF_INIT;

	if (p->run && servingrun_state(p->run) != SERVINGRUN_ENDED) {
		if (servingrun_stopping(p->run)) {
			poller_event(c->m, NOTE_INFO, "serving", "the experiment's serving is stopping "
				     "already (SIGKILL %.0f s after the SIGTERM)",
				     SERVINGRUN_KILL_AFTER_S);
			return;
		}
		p->confirm = 'X';
		snprintf(p->confirm_text, sizeof(p->confirm_text), "stop the experiment's serving on "
			 "%s (pid %ld)?", servingrun_addr(p->run),
			 (long)servingrun_pid(p->run));
		return;
	}
	/* one that ended is forgotten: free returns at once */
	servingrun_free(p->run);
	p->run = NULL;
	if (servingrun_plan(&p->plan, &o, &err)) {
		poller_event(c->m, NOTE_FAILED, "serving", "cannot start an experiment: %s", err.s);
		buf_release(&err);
		return;
	}
	p->confirm = 'x';
	ask_start(p);
	buf_release(&err);
}

/* y to the question asked */
static void confirmed(struct servingpane *p, struct pane_ctx *c)
{
	struct buf err = BUF_INIT, what = BUF_INIT;

	if (p->confirm == 'X') {
		servingrun_stop(p->run);
		poller_event(c->m, NOTE_INFO, "serving", "stopping the experiment's serving on %s "
			     "(SIGTERM; SIGKILL if it is still there %.0f s later)",
			     servingrun_addr(p->run), SERVINGRUN_KILL_AFTER_S);
		return;
	}
	servingrun_describe(&p->plan, &what);
	if (servingrun_start(&p->run, &p->plan, 0, &err)) {
		poller_event(c->m, NOTE_FAILED, "serving", "cannot start the experiment: %s", err.s);
	} else {
		size_t used = 0;
		snprintf(p->run_what, sizeof(p->run_what), "%s", what.s);
		for (int i = 0; i < p->plan.nvariants && used < sizeof(p->run_short); i++)
			used += (size_t)snprintf(p->run_short + used, sizeof(p->run_short) - used,
						 "%s%s=%s", i ? " vs " : "", p->plan.names[i],
						 p->plan.revs[i]);
		if (used < sizeof(p->run_short))
			snprintf(p->run_short + used, sizeof(p->run_short) - used, ", %s",
				 p->plan.policy);
		poller_event(c->m, NOTE_INFO, "serving", "starting %s (pid %ld, log %s)", what.s,
			     (long)servingrun_pid(p->run), servingrun_log(p->run));
	}
	buf_release(&err);
	buf_release(&what);
}

static void key_simulate(void *pane, struct pane_ctx *c)
{
	struct servingpane *p = pane;
	struct sim_arg *a;
	const char *why = NULL;

	pthread_mutex_lock(&p->lock);
	if (p->sim_running) {
		__atomic_store_n(&p->sim_stop, 1, __ATOMIC_RELAXED);
		pthread_mutex_unlock(&p->lock);
		poller_event(c->m, NOTE_INFO, "serving", "stopping the simulated users");
		return;
	}
	if (p->sim_started)
		why = "the last simulation is still ending: s again in a moment";
	else if (p->cur < 0)
		why = "no serving found yet to simulate users against";
	if (why) {
		pthread_mutex_unlock(&p->lock);
		poller_event(c->m, NOTE_INFO, "serving", "%s", why);
		return;
	}
	a = xcalloc(1, sizeof(*a));
	a->p = p;
	servingloc_addr(&p->locs[p->cur], a->addr, sizeof(a->addr));
	a->o.seconds = SERVINGSIM_SECONDS;
	a->o.rate = SERVINGSIM_RATE;
	servingsim_rule_default(&a->o.rule);
	memset(&p->sim, 0, sizeof(p->sim));
	snprintf(p->sim.addr, sizeof(p->sim.addr), "%s", a->addr);
	p->sim_have = 0;
	p->sim_running = 1;
	p->sim_stop = 0;
	if (pthread_create(&p->sim_th, NULL, sim_main, a)) {
		p->sim_running = 0;
		pthread_mutex_unlock(&p->lock);
		free(a);
		poller_event(c->m, NOTE_FAILED, "serving", "cannot start a thread for the simulated "
			     "users");
		return;
	}
	p->sim_started = 1;
	p->version++;
	pthread_mutex_unlock(&p->lock);
}

#define ESC 27

/*
 * An open question takes the next key (y: yes, o or Left/Right: the
 * policy, anything else: no); the user id prompt takes every key while open.
 */
static int input(void *pane, struct pane_ctx *c, int ch)
{
	struct servingpane *p = pane;
	size_t n = strlen(p->typed);

	if (p->confirm && ch != KEY_RESIZE) {
		if (ch == 'y' || ch == 'Y') {
			confirmed(p, c);
			p->confirm = 0;
		} else if (p->confirm == 'x' && (ch == 'o' || ch == KEY_RIGHT || ch == KEY_LEFT)) {
			int np = 0;
			while (servingrun_policies[np])
				np++;
			p->policy = (p->policy + (ch == KEY_LEFT ? np - 1 : 1)) % np;
			snprintf(p->plan.policy, sizeof(p->plan.policy), "%s",
				 servingrun_policies[p->policy]);
			ask_start(p);
		} else {
			poller_event(c->m, NOTE_INFO, "serving", "%s", p->confirm == 'x' ?
				     "no experiment started" : "the experiment keeps running");
			p->confirm = 0;
		}
		return 1;
	}
	if (!p->prompt)
		return 0;
	if (ch >= '0' && ch <= '9') {
		if (n < USER_DIGITS) {
			p->typed[n] = (char)ch;
			p->typed[n + 1] = '\0';
		}
	} else if ((ch == KEY_BACKSPACE || ch == 127 || ch == 8) && n) {
		p->typed[n - 1] = '\0';
	} else if (ch == ESC) {
		p->prompt = 0;
	} else if (ch == '\r' || ch == '\n' || ch == KEY_ENTER) {
		unsigned long long user = strtoull(p->typed, NULL, 10);
		if (!n || user > UINT32_MAX) {
			poller_event(c->m, NOTE_INFO, "serving", "a user id is a number up to %u",
				     UINT32_MAX);
			return 1;
		}
		p->prompt = 0;
		pthread_mutex_lock(&p->lock);
		if (p->cur < 0) {
			pthread_mutex_unlock(&p->lock);
			poller_event(c->m, NOTE_INFO, "serving", "no serving found yet to ask");
			return 1;
		}
		p->ask_user = (uint32_t)user;
		p->ask = 1;
		p->busy = 1;
		pthread_cond_signal(&p->wake);
		pthread_mutex_unlock(&p->lock);
	}
	return 1;
}

static const struct pane_key keys[] = {
	{ 'e',      "e",      "endpoint", key_endpoint, "watch the next serving found (the stack's, host processes)" },
	{ 'u',      "u",      "user",     key_user,     "ask for a user's recommendations (type the id, Enter; Esc cancels)" },
	{ 'f',      "f",      "feedback", key_feedback, "reward the selected recommended item (reward 1, a click)" },
	{ 'x',      "x",      "experiment", key_experiment, "start an experiment here, a=production vs b=candidate (asks first; o picks the policy); x again stops it" },
	{ 's',      "s",      "simulate", key_simulate, "simulated users against the shown serving for 30 s (b clicks 60%, others 15%); s again stops them" },
	{ KEY_UP,   "Up k",   NULL,       key_up,       "select the previous recommended item" },
	{ 'k',      NULL,     NULL,       key_up,       NULL },
	{ KEY_DOWN, "Down j", NULL,       key_down,     "select the next recommended item" },
	{ 'j',      NULL,     NULL,       key_down,     NULL },
};

static int busy(void *pane, char *what, size_t size)
{
	struct servingpane *p = pane;
	int run = p->run && servingrun_state(p->run) != SERVINGRUN_ENDED, sim;

	pthread_mutex_lock(&p->lock);
	sim = p->sim_running;
	pthread_mutex_unlock(&p->lock);
	if (!run && !sim)
		return 0;
	if (run)
		snprintf(what, size, "stopping the experiment's serving on %s (pid %ld)%s",
			 servingrun_addr(p->run), (long)servingrun_pid(p->run),
			 sim ? " and the simulated users" : "");
	else
		snprintf(what, size, "stopping the simulated users");
	return 1;
}

static void cancel(void *pane)
{
	struct servingpane *p = pane;

	__atomic_store_n(&p->sim_stop, 1, __ATOMIC_RELAXED);
	if (p->run)
		servingrun_stop(p->run);
}

const struct pane_ops serving_pane = {
	.name = "serving",
	.title = "serving screen",
	.about = "the serving screen: live metrics, the experiment, recommendations",
	.full = 1,
	.new = new,
	.free = free_pane,
	.enter = enter,
	.draw = draw,
	.changed = changed,
	.busy = busy,
	.cancel = cancel,
	.input = input,
	.keys = keys,
	.nkeys = ARRAY_SIZE(keys),
};
