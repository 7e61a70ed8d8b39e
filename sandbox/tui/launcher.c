/*
 * launcher: the screen, its key table and its drawing. It only reads the
 * poller's snapshot (under its lock) and queues jobs: it never waits on Docker.
 */
#include "tui/launcher.h"
#include "util/human.h"

#include "tui/colors.h"
#include "tui/datapane.h"
#include "tui/poller.h"
#include "tui/table.h"
#include "tui/text.h"
#include "util/xalloc.h"
#include "util/sig.h"

#include <curses.h>
#include <locale.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

/* getch's timeout: how soon a quit or a resize is seen when idle */
#define INPUT_TIMEOUT_MS 250

enum log_layout { LOG_SPLIT, LOG_FULL };

/* what the lower half shows: the selected service's logs, or the data screen */
enum view { VIEW_SERVICES = 1 << 0, VIEW_DATA = 1 << 1 };
#define VIEW_ALL (VIEW_SERVICES | VIEW_DATA)

struct launcher {
	struct poller m;
	struct datapane data;
	enum view view;
	int mono;
	int sel;                 /* selected service */
	enum log_layout layout;
	int help;                /* the help overlay is shown */
	int help_top;            /* its first line shown, when it scrolls */
	int help_scroll_max;     /* its lines below the screen at the top; <= 0: none */
	int scroll;              /* log lines hidden below the view; 0: following */
	unsigned seen_added;     /* m.log_added when the scroll was last adjusted */
	int quit;
	int dirty;               /* redraw even if the snapshot did not change */
	unsigned drawn_version;
	time_t drawn_at;
	int log_rows;            /* height of the log view last drawn */
};

static volatile sig_atomic_t got_signal;
static SCREEN *screen;

static void restore_terminal(void)
{
	if (screen && !isendwin()) {
		endwin();
		fflush(stdout);
	}
}

static void on_signal(int sig)
{
	got_signal = sig;
}

/* ---- keys ---- */

static void key_up(struct launcher *l);
static void key_down(struct launcher *l);
static void key_start(struct launcher *l);
static void key_stop(struct launcher *l);
static void key_restart(struct launcher *l);
static void key_start_all(struct launcher *l);
static void key_logs(struct launcher *l);
static void key_page_up(struct launcher *l);
static void key_page_down(struct launcher *l);
static void key_follow(struct launcher *l);
static void key_help(struct launcher *l);
static void key_redraw(struct launcher *l);
static void key_quit(struct launcher *l);
static void key_data(struct launcher *l);
static void key_services(struct launcher *l);
static void key_set_up(struct launcher *l);
static void key_set_down(struct launcher *l);
static void key_load(struct launcher *l);
static void key_load_skip(struct launcher *l);
static void key_verify(struct launcher *l);
static void key_generate(struct launcher *l);
static void key_cancel(struct launcher *l);
static void key_drop(struct launcher *l);

struct key_binding {
	int key;
	enum view views;         /* where the key works */
	const char *name;        /* as the help shows it; NULL: an alias */
	const char *bar;         /* its label in the key bar, or NULL */
	void (*fn)(struct launcher *l);
	const char *help;
};

#define S VIEW_SERVICES
#define D VIEW_DATA
#define A VIEW_ALL
static const struct key_binding key_table[] = {
	{ KEY_UP,    S, "Up k",      NULL,      key_up,        "select the previous service" },
	{ 'k',       S, NULL,        NULL,      key_up,        NULL },
	{ KEY_DOWN,  S, "Down j",    NULL,      key_down,      "select the next service" },
	{ 'j',       S, NULL,        NULL,      key_down,      NULL },
	{ 'u',       S, "u",         "start",   key_start,     "start the service, wait until ready, supervise it" },
	{ 'd',       S, "d",         "stop",    key_stop,      "stop the service (and stop supervising it)" },
	{ 'r',       S, "r",         "restart", key_restart,   "restart the service and wait until ready" },
	{ 'U',       S, "U",         "all",     key_start_all, "start every service that is not running" },
	{ 'l',       S, "l",         "logs",    key_logs,      "log pane: split or full screen" },
	{ KEY_PPAGE, S, "PgUp PgDn", NULL,      key_page_up,   "scroll the log pane" },
	{ KEY_NPAGE, S, NULL,        NULL,      key_page_down, NULL },
	{ KEY_END,   S, "End G",     NULL,      key_follow,    "follow the newest log lines again" },
	{ 'G',       S, NULL,        NULL,      key_follow,    NULL },
	{ 'D',       S, "D",         "data",    key_data,      "the data screen: datasets, loads into the stack, verify" },
	{ KEY_UP,    D, "Up k",      NULL,      key_set_up,    "select the previous dataset" },
	{ 'k',       D, NULL,        NULL,      key_set_up,    NULL },
	{ KEY_DOWN,  D, "Down j",    NULL,      key_set_down,  "select the next dataset" },
	{ 'j',       D, NULL,        NULL,      key_set_down,  NULL },
	{ '\r',      D, "Enter L",   "load",    key_load,      "load the dataset into kafka, cassandra, elasticsearch, redis" },
	{ KEY_ENTER, D, NULL,        NULL,      key_load,      NULL },
	{ '\n',      D, NULL,        NULL,      key_load,      NULL },
	{ 'L',       D, NULL,        NULL,      key_load,      NULL },
	{ 'S',       D, "S",         NULL,      key_load_skip, "load, leaving out bad lines and reporting them" },
	{ 'v',       D, "v",         "verify",  key_verify,    "count what each store holds against the dataset" },
	{ 'g',       D, "g",         "gen",     key_generate,  "generate an ML-1M-shaped dataset (seed 1, no network)" },
	{ 'c',       D, "c",         "cancel",  key_cancel,    "stop the running load (a later load resumes it)" },
	{ 'X',       D, "X",         NULL,      key_drop,      "drop the dataset from every store (asks first)" },
	{ 'D',       D, "D Esc",     "services", key_services, "back to the services and their logs" },
	{ 27,        D, NULL,        NULL,      key_services,  NULL },
	{ '?',       A, "? F1",      "help",    key_help,      "show or hide this help" },
	{ KEY_F(1),  A, NULL,        NULL,      key_help,      NULL },
	{ 12,        A, "Ctrl-L",    NULL,      key_redraw,    "redraw the screen" },
	{ 'q',       A, "q F10",     "quit",    key_quit,      "quit (the stack keeps running, unsupervised)" },
	{ KEY_F(10), A, NULL,        NULL,      key_quit,      NULL },
};
#undef S
#undef D
#undef A

static void key_up(struct launcher *l)
{
	if (l->sel > 0)
		l->sel--;
}

static void key_down(struct launcher *l)
{
	if (l->sel < l->m.n - 1)
		l->sel++;
}

static const char *sel_name(struct launcher *l)
{
	return l->m.st->svcs[l->sel].name;
}

static void queue(struct launcher *l, enum poller_action a)
{
	struct buf why = BUF_INIT;

	if (poller_queue(&l->m, a, l->sel, &why))
		poller_event(&l->m, NOTE_INFO, a == ACT_START_ALL ? NULL : sel_name(l), "%s", why.s);
	buf_release(&why);
}

static void key_start(struct launcher *l)
{
	int running, current;

	poller_lock(&l->m);
	running = l->m.rows[l->sel].st.running;
	current = l->m.rows[l->sel].st.config_current;
	poller_unlock(&l->m);
	/* a start of a running service only waits; a changed one is replaced */
	if (running && current)
		poller_event(&l->m, NOTE_INFO, sel_name(l),
			    "'%s' is already running: r restarts it", sel_name(l));
	else
		queue(l, ACT_START);
}

static void key_stop(struct launcher *l)
{
	queue(l, ACT_STOP);
}

static void key_restart(struct launcher *l)
{
	queue(l, ACT_RESTART);
}

static void key_start_all(struct launcher *l)
{
	queue(l, ACT_START_ALL);
}

static void key_logs(struct launcher *l)
{
	l->layout = l->layout == LOG_SPLIT ? LOG_FULL : LOG_SPLIT;
}

static void key_page_up(struct launcher *l)
{
	l->scroll += l->log_rows > 2 ? l->log_rows - 1 : 1;
}

static void key_page_down(struct launcher *l)
{
	l->scroll -= l->log_rows > 2 ? l->log_rows - 1 : 1;
	if (l->scroll < 0)
		l->scroll = 0;
}

static void key_follow(struct launcher *l)
{
	l->scroll = 0;
}

static void key_help(struct launcher *l)
{
	l->help = !l->help;
	l->help_top = 0;
}

static void key_redraw(struct launcher *l)
{
	(void)l;
	clearok(curscr, TRUE);
}

static void key_quit(struct launcher *l)
{
	l->quit = 1;
}

static void key_data(struct launcher *l)
{
	l->view = VIEW_DATA;
	datapane_refresh(&l->data);
}

static void key_services(struct launcher *l)
{
	l->view = VIEW_SERVICES;
}

static void key_set_up(struct launcher *l)
{
	datapane_up(&l->data);
}

static void key_set_down(struct launcher *l)
{
	datapane_down(&l->data);
}

/* a job that could not start says why on the event line */
static void data_result(struct launcher *l, int ret, struct buf *why)
{
	if (ret)
		poller_event(&l->m, NOTE_INFO, "data", "%s", why->s);
	buf_release(why);
}

static void key_load(struct launcher *l)
{
	struct buf why = BUF_INIT;

	data_result(l, datapane_load(&l->data, 0, &why), &why);
}

static void key_load_skip(struct launcher *l)
{
	struct buf why = BUF_INIT;

	data_result(l, datapane_load(&l->data, 1, &why), &why);
}

static void key_verify(struct launcher *l)
{
	struct buf why = BUF_INIT;

	data_result(l, datapane_verify(&l->data, &why), &why);
}

static void key_generate(struct launcher *l)
{
	struct buf why = BUF_INIT;

	data_result(l, datapane_generate(&l->data, "ml-1m", &why), &why);
}

static void key_drop(struct launcher *l)
{
	struct buf why = BUF_INIT;

	/* 1: the question; it goes to the event line like a refusal */
	data_result(l, datapane_drop(&l->data, &why), &why);
}

static void key_cancel(struct launcher *l)
{
	struct buf why = BUF_INIT;

	data_result(l, datapane_cancel(&l->data, &why), &why);
}

/* ---- drawing (under the poller's lock) ---- */

enum col { COL_NAME, COL_STATE, COL_READY, COL_UPTIME, COL_CPU, COL_MEM, COL_RESTARTS,
	   COL_PORTS, COL_DETAIL, NCOLS };

static const struct table_col columns[NCOLS] = {
	[COL_NAME]     = { "SERVICE",  13, 14, 9, TABLE_LEFT },
	[COL_STATE]    = { "STATE",    11, 13, 8, TABLE_LEFT },
	[COL_READY]    = { "READY",     7,  7, 7, TABLE_LEFT },
	[COL_UPTIME]   = { "UPTIME",    7,  8, 5, TABLE_RIGHT },
	[COL_CPU]      = { "CPU%",      5,  6, 4, TABLE_RIGHT },
	[COL_MEM]      = { "MEM",       7,  8, 4, TABLE_RIGHT },
	[COL_RESTARTS] = { "RESTARTS",  8,  8, 3, TABLE_RIGHT },
	[COL_PORTS]    = { "PORTS",     5, 22, 6, TABLE_LEFT },
	[COL_DETAIL]   = { "DETAIL",   10,  0, 1, TABLE_LEFT },
};

struct note_look {
	const char *word;
	enum ui_color color;
};

static const struct note_look note_looks[] = {
	[NOTE_INFO] = { "", UI_NORMAL },         [NOTE_CREATE] = { "created", UI_NORMAL },
	[NOTE_RECREATE] = { "recreate", UI_WAIT }, [NOTE_START] = { "started", UI_NORMAL },
	[NOTE_UNCHANGED] = { "running", UI_NORMAL }, [NOTE_WAITING] = { "waiting", UI_WAIT },
	[NOTE_READY] = { "ready", UI_GOOD },     [NOTE_FAILED] = { "FAILED", UI_BAD },
	[NOTE_STOP] = { "stopped", UI_NORMAL },  [NOTE_REMOVE] = { "removed", UI_NORMAL },
	[NOTE_RESTART] = { "restart", UI_WAIT }, [NOTE_GIVEUP] = { "gave up", UI_BAD },
	[NOTE_DIED] = { "died", UI_BAD },
};

/* the longest of "ip:host->ctr", "host->ctr", "host" lists that fits `w` */
static void ports_text(const struct service *s, int w, char *out, size_t size)
{
	int form, i;

	for (form = 0; form < 3; form++) {
		size_t used = 0;
		out[0] = '\0';
		for (i = 0; i < s->nports && used < size; i++) {
			const struct service_port *p = &s->ports[i];
			const char *sep = i ? "," : "";
			if (form == 0)
				used += (size_t)snprintf(out + used, size - used, "%s%s:%d->%d", sep,
							 p->host_ip, p->host_port, p->container_port);
			else if (form == 1)
				used += (size_t)snprintf(out + used, size - used, "%s%d->%d", sep,
							 p->host_port, p->container_port);
			else
				used += (size_t)snprintf(out + used, size - used, "%s%d", sep, p->host_port);
		}
		if ((int)strlen(out) <= w)
			return;
	}
}

static void fill_row(int y, attr_t a)
{
	mvhline(y, 0, ' ' | a, COLS);
}

static void draw_rule(int y, const char *title, const char *right)
{
	table_rule(y, title, right, colors_attr(UI_PANE));
}

static void draw_title(struct launcher *l)
{
	struct poller *m = &l->m;
	char text[256], when[16] = "";
	int k, ready = 0, running = 0, watched = 0;
	time_t now = time(NULL);
	attr_t a = colors_attr(UI_TITLE);

	for (k = 0; k < m->n; k++) {
		ready += m->rows[k].st.probed && m->rows[k].st.ready;
		running += m->rows[k].st.running;
		watched += m->rows[k].sup.watched && !m->rows[k].sup.given_up;
	}
	strftime(when, sizeof(when), "%H:%M:%S", localtime(&now));
	if (!m->polled)
		snprintf(text, sizeof(text), " pancake  project %s  waiting for the engine...",
			 m->st->project);
	else
		snprintf(text, sizeof(text), " pancake  project %s  %d/%d running  %d%s ready  %d supervised",
			 m->st->project, running, m->n, ready, m->probed ? "" : "?", watched);
	fill_row(0, a);
	/* the clock only where the title leaves room for it */
	if (text_width(text) + 10 <= COLS) {
		table_put(0, 0, text, COLS - 10, a);
		table_put(0, COLS - 9, when, 8, a);
	} else {
		table_fit(0, 0, text, COLS, a);
	}
}

static void row_cells(struct launcher *l, int k, int y, const int *width, int selected)
{
	const struct poller_row *r = &l->m.rows[k];
	const struct service_status *s = &r->st;
	char buf[NCOLS][160];
	enum ui_color color[NCOLS];
	int c, x = 0;

	for (c = 0; c < NCOLS; c++) {
		buf[c][0] = '\0';
		color[c] = UI_NORMAL;
	}
	snprintf(buf[COL_NAME], sizeof(buf[0]), "%s", s->svc->name);
	if (!l->m.polled) {
		for (c = 1; c < NCOLS; c++)
			snprintf(buf[c], sizeof(buf[0]), c == COL_PORTS || c == COL_DETAIL ? "" : "...");
		color[COL_STATE] = color[COL_READY] = UI_DIM;
		ports_text(s->svc, width[COL_PORTS], buf[COL_PORTS], sizeof(buf[0]));
		goto draw;
	}
	/* state: a running job wins over what docker last said */
	switch (r->busy) {
	case BUSY_QUEUED: snprintf(buf[COL_STATE], sizeof(buf[0]), "queued..."); break;
	case BUSY_STARTING: snprintf(buf[COL_STATE], sizeof(buf[0]), "starting..."); break;
	case BUSY_STOPPING: snprintf(buf[COL_STATE], sizeof(buf[0]), "stopping..."); break;
	case BUSY_RESTARTING: snprintf(buf[COL_STATE], sizeof(buf[0]), "restart..."); break;
	case BUSY_NONE:
		if (s->exists && !s->running && !strcmp(s->state, "exited"))
			snprintf(buf[COL_STATE], sizeof(buf[0]), "exited %d", s->exit_code);
		else
			snprintf(buf[COL_STATE], sizeof(buf[0]), "%s", s->state);
		break;
	}
	color[COL_STATE] = r->busy ? UI_WAIT : s->running ? UI_GOOD :
			   s->exists && (r->sup.watched || r->sup.given_up) ? UI_BAD : UI_DIM;

	if (!s->running) {
		snprintf(buf[COL_READY], sizeof(buf[0]), "no");
		color[COL_READY] = UI_DIM;
	} else if (!s->probed) {
		snprintf(buf[COL_READY], sizeof(buf[0]), "...");
		color[COL_READY] = UI_DIM;
	} else if (s->ready) {
		snprintf(buf[COL_READY], sizeof(buf[0]), "ready");
		color[COL_READY] = UI_GOOD;
	} else {
		snprintf(buf[COL_READY], sizeof(buf[0]), "waiting");
		color[COL_READY] = UI_WAIT;
	}

	if (s->running && s->started_at)
		human_duration(buf[COL_UPTIME], sizeof(buf[0]), (long long)(time(NULL) - s->started_at));
	else
		snprintf(buf[COL_UPTIME], sizeof(buf[0]), "-");
	if (r->have_cpu)
		snprintf(buf[COL_CPU], sizeof(buf[0]), r->cpu >= 99.95 ? "%.0f" : "%.1f", r->cpu);
	else
		snprintf(buf[COL_CPU], sizeof(buf[0]), "-");
	if (r->have_mem)
		human_bytes(buf[COL_MEM], sizeof(buf[0]), (double)r->mem);
	else
		snprintf(buf[COL_MEM], sizeof(buf[0]), "-");

	if (r->sup.given_up) {
		snprintf(buf[COL_RESTARTS], sizeof(buf[0]), "gave up");
		color[COL_RESTARTS] = UI_BAD;
	} else if (!r->sup.watched) {
		snprintf(buf[COL_RESTARTS], sizeof(buf[0]), "off");
		color[COL_RESTARTS] = UI_DIM;
	} else if (r->sup.next_try_in > 0) {
		snprintf(buf[COL_RESTARTS], sizeof(buf[0]), "%d in %.0fs", r->sup.restarts,
			 r->sup.next_try_in + 0.5);
		color[COL_RESTARTS] = UI_WAIT;
	} else {
		snprintf(buf[COL_RESTARTS], sizeof(buf[0]), "%d", r->sup.restarts);
		if (r->sup.restarts)
			color[COL_RESTARTS] = UI_WAIT;
	}

	ports_text(s->svc, width[COL_PORTS], buf[COL_PORTS], sizeof(buf[0]));
	if (s->exists && !s->config_current)
		snprintf(buf[COL_DETAIL], sizeof(buf[0]), "definition changed: u replaces it");
	else if (s->oom_killed)
		snprintf(buf[COL_DETAIL], sizeof(buf[0]), "killed: out of memory");
	else
		snprintf(buf[COL_DETAIL], sizeof(buf[0]), "%s", s->detail);

draw:
	if (selected)
		fill_row(y, colors_attr(UI_SELECTED));
	for (c = 0; c < NCOLS; c++) {
		attr_t a;
		if (!width[c])
			continue;
		a = selected ? colors_attr(UI_SELECTED) : colors_attr(color[c]);
		table_cell(y, x, width[c], columns[c].align, buf[c], a);
		x += width[c] + TABLE_GAP;
	}
}

static void draw_table(struct launcher *l, int y)
{
	int width[NCOLS], c, k, x = 0;
	attr_t h = colors_attr(UI_HEADER);

	table_layout(columns, NCOLS, COLS, width);
	fill_row(y, h);
	for (c = 0; c < NCOLS; c++) {
		if (!width[c])
			continue;
		table_cell(y, x, width[c], columns[c].align, columns[c].title, h);
		x += width[c] + TABLE_GAP;
	}
	for (k = 0; k < l->m.n && y + 1 + k < LINES; k++)
		row_cells(l, k, y + 1 + k, width, k == l->sel);
}

static void draw_logs(struct launcher *l, int y, int rows)
{
	struct poller *m = &l->m;
	char title[128], right[96] = "";
	int i, first, max_scroll;

	/* keep the view where it is while new lines arrive */
	if (l->scroll && m->log_added > l->seen_added)
		l->scroll += (int)(m->log_added - l->seen_added);
	l->seen_added = m->log_added;
	max_scroll = m->nlog > rows ? m->nlog - rows : 0;
	if (l->scroll > max_scroll)
		l->scroll = max_scroll;
	l->log_rows = rows;

	snprintf(title, sizeof(title), "logs: %s", sel_name(l));
	if (l->scroll)
		snprintf(right, sizeof(right), "%d lines up (End follows)", l->scroll);
	else if (m->log_service >= 0 && m->rows[m->log_service].st.running)
		snprintf(right, sizeof(right), "following");
	draw_rule(y, title, right);
	if (rows <= 0)
		return;
	if (!m->nlog) {
		const char *msg = m->log_state[0] ? m->log_state : !m->polled ? "waiting for the engine..." :
				  "no log lines yet";
		table_fit(y + 1, 1, msg, COLS - 2, colors_attr(m->log_state[0] ? UI_WAIT : UI_DIM));
		return;
	}
	first = m->nlog - rows - l->scroll;
	if (first < 0)
		first = 0;
	for (i = 0; i < rows && first + i < m->nlog; i++) {
		const struct poller_line *ln = poller_log_at(m, first + i);
		table_fit(y + 1 + i, 0, ln->text, COLS,
			  colors_attr(ln->stream == 2 ? UI_STDERR : UI_NORMAL));
	}
	if (m->log_state[0] && rows > 1)
		table_fit(y + rows, 0, m->log_state, COLS, colors_attr(UI_WAIT));
}

static void draw_events(struct launcher *l, int y, int rows)
{
	struct poller *m = &l->m;
	double silence = stack_silence_s(m->st);
	int i, stalled = silence >= POLLER_STALLED_S;

	/* the engine itself is the news: say so first, on two rows if there are more */
	if (rows > 0 && (stalled || m->error[0])) {
		char text[256];
		int used;

		if (stalled)
			snprintf(text, sizeof(text), "docker at '%s' has not answered for %.0f s (q quits)",
				 stack_endpoint(m->st), silence);
		else
			snprintf(text, sizeof(text), "%s", m->error);
		used = table_wrap(y, 0, text, COLS, rows > 2 ? 2 : 1,
				  colors_attr(stalled ? UI_WAIT : UI_BAD));
		y += used;
		rows -= used;
	}
	if (!m->nevents && rows > 0)
		table_fit(y, 0, "no events yet: starts, stops, restarts and failures show here; ? lists the keys",
			  COLS, colors_attr(UI_DIM));
	for (i = 0; i < rows; i++) {
		const struct poller_event *e = poller_event_at(m, rows - 1 - i);
		const struct note_look *look;
		char when[16], head[64];
		int x;

		if (!e)
			continue;
		look = &note_looks[e->kind];
		strftime(when, sizeof(when), "%H:%M:%S", localtime(&e->when));
		snprintf(head, sizeof(head), "%s %-13s ", when, e->service);
		x = table_put(y + i, 0, head, COLS, colors_attr(UI_DIM));
		if (*look->word) {
			char w[16];
			snprintf(w, sizeof(w), "%-8s ", look->word);
			x += table_put(y + i, x, w, COLS - x, colors_attr(look->color));
		}
		if (!strcmp(e->text, look->word))
			continue;
		table_fit(y + i, x, e->text, COLS - x,
			  colors_attr(look->color == UI_BAD ? UI_BAD : UI_NORMAL));
	}
}

/* the key as typed: "q F10" shows as "q" */
static void bar_key(const struct key_binding *b, char *out, size_t size)
{
	snprintf(out, size, "%.*s", (int)strcspn(b->name, " "), b->name);
}

static int bar_width(const struct key_binding *b)
{
	char key[32];

	bar_key(b, key, sizeof(key));
	return text_width(key) + 1 + text_width(b->bar) + 2;   /* "q quit  " */
}

/* whole entries only: when they do not all fit, help and quit stay */
static void draw_key_bar(enum view view, int y)
{
	const struct key_binding *shown[ARRAY_SIZE(key_table)];
	size_t i, n = 0;
	int x = 0, total = 0;

	for (i = 0; i < ARRAY_SIZE(key_table); i++)
		if (key_table[i].bar && (key_table[i].views & view)) {
			shown[n++] = &key_table[i];
			total += bar_width(&key_table[i]);
		}
	for (i = n; i-- > 0 && total > COLS;)
		if (shown[i]->fn != key_help && shown[i]->fn != key_quit) {
			total -= bar_width(shown[i]);
			memmove(&shown[i], &shown[i + 1], (n - i - 1) * sizeof(shown[0]));
			n--;
		}
	fill_row(y, colors_attr(UI_KEYLABEL));
	for (i = 0; i < n; i++) {
		char label[48];

		bar_key(shown[i], label, sizeof(label));
		x += table_put(y, x, label, COLS - x, colors_attr(UI_KEY));
		snprintf(label, sizeof(label), " %s  ", shown[i]->bar);
		x += table_put(y, x, label, COLS - x, colors_attr(UI_KEYLABEL));
	}
	if (x + 14 < COLS) {
		x += table_put(y, x, "Up/Dn", COLS - x, colors_attr(UI_KEY));
		table_put(y, x, " select", COLS - x, colors_attr(UI_KEYLABEL));
	}
}

/* ---- the help overlay ---- */

#define HELP_KEY_W 10            /* the key column */
#define HELP_LINES_MAX (2 * ARRAY_SIZE(key_table) + 8)

struct help_line {
	const struct key_binding *b;  /* on its first line, else NULL */
	const char *text;             /* a line of its help, `len` bytes */
	size_t len;
};

/* the help's lines for a text column `tw` wide; returns how many */
static int help_lines(enum view view, int tw, struct help_line *out, int max)
{
	size_t i;
	int n = 0;

	for (i = 0; i < ARRAY_SIZE(key_table); i++) {
		const struct key_binding *b = &key_table[i];
		const char *s = b->help;

		if (!b->name || !(b->views & view))
			continue;
		do {
			size_t next, len = text_line(s, tw, &next);

			if (n == max)
				return n;
			out[n].b = s == b->help ? b : NULL;
			out[n].text = s;
			out[n].len = len;
			n++;
			s += next;
		} while (*s);
	}
	return n;
}

static void help_frame(int y0, int x0, int h, int w, attr_t a)
{
	int y;

	for (y = 0; y < h; y++)
		mvhline(y0 + y, x0, ' ' | a, w);
	mvaddch(y0, x0, ACS_ULCORNER | a);
	mvhline(y0, x0 + 1, ACS_HLINE | a, w - 2);
	mvaddch(y0, x0 + w - 1, ACS_URCORNER | a);
	for (y = 1; y < h - 1; y++) {
		mvaddch(y0 + y, x0, ACS_VLINE | a);
		mvaddch(y0 + y, x0 + w - 1, ACS_VLINE | a);
	}
	mvaddch(y0 + h - 1, x0, ACS_LLCORNER | a);
	mvhline(y0 + h - 1, x0 + 1, ACS_HLINE | a, w - 2);
	mvaddch(y0 + h - 1, x0 + w - 1, ACS_LRCORNER | a);
}

/*
 * A box as wide as its longest line allows on the screen: the texts wrap
 * in a narrower one, and it scrolls (Up/Down) when taller than the screen.
 */
static void draw_help(struct launcher *l)
{
	struct help_line line[HELP_LINES_MAX];
	const char *title = l->view == VIEW_DATA ? " pancake launcher keys: data screen " :
			    " pancake launcher keys ";
	char foot[96];
	size_t i;
	int n, want = 0, w, h, tw, body, y0, x0, y;
	attr_t a = colors_attr(UI_HELP);

	for (i = 0; i < ARRAY_SIZE(key_table); i++)
		if (key_table[i].name && (key_table[i].views & l->view) &&
		    text_width(key_table[i].help) > want)
			want = text_width(key_table[i].help);
	/* "│ key        text │" */
	w = want + HELP_KEY_W + 5;
	if (w < text_width(title) + 4)
		w = text_width(title) + 4;
	if (w > COLS - 2)
		w = COLS - 2;
	tw = w - HELP_KEY_W - 5;
	if (tw < 8 || LINES < 5)
		return;
	n = help_lines(l->view, tw, line, (int)ARRAY_SIZE(line));
	h = n + 2 < LINES ? n + 2 : LINES;
	body = h - 2;
	l->help_scroll_max = n - body;
	if (l->help_top > l->help_scroll_max)
		l->help_top = l->help_scroll_max;
	if (l->help_top < 0)
		l->help_top = 0;
	y0 = (LINES - h) / 2;
	x0 = (COLS - w) / 2;
	help_frame(y0, x0, h, w, a);
	table_fit(y0, x0 + 2, title, w - 4, a | A_BOLD);
	for (y = 0; y < body; y++) {
		const struct help_line *hl = &line[l->help_top + y];
		char text[256];

		if (hl->b)
			table_fit(y0 + 1 + y, x0 + 2, hl->b->name, HELP_KEY_W, a | A_BOLD);
		snprintf(text, sizeof(text), "%.*s", (int)hl->len, hl->text);
		table_fit(y0 + 1 + y, x0 + 3 + HELP_KEY_W, text, tw, a);
	}
	if (l->help_scroll_max > 0)
		snprintf(foot, sizeof(foot), " lines %d-%d of %d: Up/Down scroll, any other key closes ",
			 l->help_top + 1, l->help_top + body, n);
	else
		snprintf(foot, sizeof(foot), " any key closes this help ");
	table_fit(y0 + h - 1, x0 + 2, foot, w - 4, a);
}

static void draw(struct launcher *l)
{
	struct poller *m = &l->m;
	int y, ev_rows, log_rows;

	erase();
	if (COLS < 40 || LINES < 8) {
		char msg[96];

		snprintf(msg, sizeof(msg), "terminal too small (%dx%d): make it at least 40x8",
			 COLS, LINES);
		table_wrap(0, 0, msg, COLS, LINES, A_BOLD);
		return;
	}
	draw_title(l);
	y = 1;
	if (l->layout == LOG_SPLIT) {
		draw_table(l, y);
		y += 1 + m->n;
	}
	ev_rows = LINES >= 40 ? 5 : LINES >= 30 ? 3 : 1;
	/* title row, log rule, events, key bar */
	log_rows = LINES - y - 1 - ev_rows - (ev_rows > 1) - 1;
	if (l->view == VIEW_DATA && log_rows >= 1) {
		datapane_draw(&l->data, y, 1 + log_rows);
		y += 1 + log_rows;
	} else if (log_rows >= 1) {
		draw_logs(l, y, log_rows);
		y += 1 + log_rows;
	} else {
		l->log_rows = 0;
	}
	if (ev_rows > 1) {
		draw_rule(y, "events", NULL);
		y++;
	}
	draw_events(l, y, LINES - 1 - y);
	draw_key_bar(l->view, LINES - 1);
	if (l->help)
		draw_help(l);
}

/* ---- the loop ---- */

static void handle_key(struct launcher *l, int ch)
{
	size_t i;

	if (ch == KEY_RESIZE) {
		l->dirty = 1;
		return;
	}
	if (l->help && ch != '?' && ch != KEY_F(1)) {
		/* a help taller than the screen scrolls */
		int step = ch == KEY_UP || ch == 'k' ? -1 : ch == KEY_DOWN || ch == 'j' ? 1 :
			   ch == KEY_PPAGE ? -(LINES / 2) : ch == KEY_NPAGE ? LINES / 2 : 0;

		if (step && l->help_scroll_max > 0) {
			l->help_top += step;
			l->dirty = 1;
			return;
		}
		/* any other key closes the help; a quit also quits */
		l->help = 0;
		l->dirty = 1;
		if (ch != 'q' && ch != KEY_F(10))
			return;
	}
	for (i = 0; i < ARRAY_SIZE(key_table); i++)
		if (key_table[i].key == ch && (key_table[i].views & l->view)) {
			int before = l->sel;
			key_table[i].fn(l);
			if (l->sel != before) {
				l->scroll = 0;
				poller_follow(&l->m, l->sel);
			}
			break;
		}
	l->dirty = 1;
}

struct launcher *launcher_new(const struct launcher_opts *o)
{
	struct launcher *l = xcalloc(1, sizeof(*l));

	poller_init(&l->m);
	datapane_init(&l->data);
	l->view = o && o->data ? VIEW_DATA : VIEW_SERVICES;
	l->mono = o && o->mono;
	return l;
}

void launcher_note(const struct stack_note *n, void *ctx)
{
	struct launcher *l = ctx;

	poller_note(n, &l->m);
}

int launcher_run(struct launcher *l, struct stack *st)
{
	struct sigaction old_int, old_term, old_hup;
	const char *term = getenv("TERM");
	char busy[128];

	/* the handlers from before ncurses (which installs its own) */
	sigaction(SIGINT, NULL, &old_int);
	sigaction(SIGTERM, NULL, &old_term);
	sigaction(SIGHUP, NULL, &old_hup);
	setlocale(LC_CTYPE, "");
	screen = newterm(NULL, stdout, stdin);
	if (!screen) {
		fprintf(stderr, "error: cannot use the terminal '%s': set TERM to one this system "
			"knows (e.g. TERM=xterm-256color), or use 'pancake ps' and 'pancake up'\n",
			term ? term : "");
		return 1;
	}
	die_hook = restore_terminal;
	sig_catch(on_signal, 1);
	cbreak();
	noecho();
	nonl();
	keypad(stdscr, TRUE);
	curs_set(0);
	timeout(INPUT_TIMEOUT_MS);
	set_escdelay(25);
	colors_init(l->mono);

	poller_start(&l->m, st);
	poller_follow(&l->m, l->sel);
	l->dirty = 1;
	while (!l->quit && !got_signal) {
		time_t now = time(NULL);
		int ch;

		int data_finished = 0;
		char summary[256];

		/* the data job's news: a redraw, and its outcome on the event line */
		if (datapane_changed(&l->data, &data_finished, summary, sizeof(summary)))
			l->dirty = 1;
		if (data_finished)
			poller_event(&l->m, NOTE_INFO, "data", "%s", summary);
		poller_lock(&l->m);
		/* redraw on news, on a key, and once a second for the uptimes */
		if (l->dirty || l->m.version != l->drawn_version || now != l->drawn_at) {
			draw(l);
			l->drawn_version = l->m.version;
			l->drawn_at = now;
			l->dirty = 0;
			wnoutrefresh(stdscr);
			poller_unlock(&l->m);
			doupdate();
		} else {
			poller_unlock(&l->m);
		}
		ch = getch();
		if (ch != ERR)
			handle_key(l, ch);
	}
	restore_terminal();
	die_hook = NULL;
	/* after the screen is gone, a second Ctrl-C may leave at once */
	sigaction(SIGINT, &old_int, NULL);
	sigaction(SIGTERM, &old_term, NULL);
	sigaction(SIGHUP, &old_hup, NULL);
	datajob_lock(&l->data.job);
	if (datajob_busy(&l->data.job)) {
		fprintf(stderr, "stopping the %s of '%s' (a later load resumes it)\n",
			l->data.job.kind == DJ_LOAD ? "load" : "work", l->data.job.dataset);
		fflush(stderr);
	}
	datajob_unlock(&l->data.job);
	datajob_cancel(&l->data.job);
	if (poller_busy_text(&l->m, busy, sizeof(busy))) {
		fprintf(stderr, "waiting for the %s to finish (Ctrl-C leaves it to docker; "
			"a stuck engine is left after %d s)\n", busy, POLLER_STALLED_S);
		fflush(stderr);
	}
	poller_stop(&l->m);
	delscreen(screen);
	screen = NULL;
	/* Ctrl-C is a way to quit; a TERM or HUP from outside says so in the status */
	return got_signal && got_signal != SIGINT ? 128 + got_signal : 0;
}

void launcher_free(struct launcher *l)
{
	if (!l)
		return;
	datapane_release(&l->data);
	poller_release(&l->m);
	free(l);
}
