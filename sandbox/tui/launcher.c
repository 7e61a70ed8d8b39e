/*
 * launcher: the frame around the panes (tui/pane.h): the title, the services
 * table, the events, the key bar, the help and the loop. It only reads the
 * poller's snapshot (under its lock) and queues jobs: it never waits on Docker.
 */
#include "tui/launcher.h"
#include "util/human.h"

#include "tui/colors.h"
#include "tui/pane.h"
#include "tui/poller.h"
#include "tui/table.h"
#include "tui/text.h"
#include "util/xalloc.h"
#include "util/sig.h"

#include <curses.h>
#include <locale.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* getch's timeout: how soon a quit or a resize is seen when idle */
#define INPUT_TIMEOUT_MS 250
/* the keys one pane shows: its own, the switches, the frame's */
#define SHOWN_MAX 48

struct launcher {
	struct poller m;
	struct pane_ctx ctx;     /* what the panes share: ctx.m is &m */
	void **panes;            /* each pane's state, as panes[] lists them */
	size_t cur;              /* the pane shown: its index in panes[] */
	int mono;
	int help;                /* the help overlay is shown */
	int help_top;            /* its first line shown, when it scrolls */
	int help_scroll_max;     /* its lines below the screen at the top; <= 0: none */
	int quit;
	int dirty;               /* redraw even if the snapshot did not change */
	unsigned drawn_version;
	time_t drawn_at;
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

/* ---- keys: the frame's own and the switches between panes ---- */

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

/* the frame's keys work in every pane, after the pane's own and the switches */
struct frame_key {
	int key;
	const char *name;        /* as the help shows it; NULL: an alias */
	const char *bar;         /* its label in the key bar, or NULL; such a key stays in a narrow bar */
	void (*fn)(struct launcher *l);
	const char *help;
};

static const struct frame_key frame_keys[] = {
	{ '?',       "? F1",   "help", key_help,   "show or hide this help" },
	{ KEY_F(1),  NULL,     NULL,   key_help,   NULL },
	{ 12,        "Ctrl-L", NULL,   key_redraw, "redraw the screen" },
	{ 'q',       "q F10",  "quit", key_quit,   "quit (the stack keeps running, unsupervised)" },
	{ KEY_F(10), NULL,     NULL,   key_quit,   NULL },
};

#define ESC 27

static void *cur_state(const struct launcher *l)
{
	return l->panes[l->cur];
}

static void switch_to(struct launcher *l, size_t i)
{
	l->cur = i;
	if (panes[i].ops->enter)
		panes[i].ops->enter(l->panes[i], &l->ctx);
}

/* the pane a key switches to from the one shown, or -1: another pane's key,
 * and the shown one's own key or Esc back to the home pane */
static int switch_target(const struct launcher *l, int ch)
{
	size_t i;

	for (i = 0; i < npanes; i++)
		if (i != l->cur && panes[i].key && ch == panes[i].key)
			return (int)i;
	if (l->cur && (ch == panes[l->cur].key || ch == ESC))
		return 0;
	return -1;
}

/* a key as the help and the key bar show it, with what it does */
struct shown_key {
	char name[24];
	const char *bar;
	const char *help;
	int keep;                /* stays when the key bar is too narrow (help, quit) */
};

static void key_word(int key, char *out, size_t size)
{
	const char *k = keyname(key);

	snprintf(out, size, "%s", k ? k : "?");
}

/* the shown pane's keys, then the switches to the others, then the frame's */
static int shown_keys(const struct launcher *l, struct shown_key *out, int max)
{
	const struct pane_ops *ops = panes[l->cur].ops;
	size_t i;
	int n = 0;

	for (i = 0; i < ops->nkeys && n < max; i++) {
		const struct pane_key *k = &ops->keys[i];
		if (!k->name)
			continue;
		snprintf(out[n].name, sizeof(out[n].name), "%s", k->name);
		out[n].bar = k->bar;
		out[n].help = k->help;
		out[n].keep = 0;
		n++;
	}
	for (i = 0; i < npanes && n < max; i++) {
		char word[16];

		if (i == l->cur)
			continue;
		if (i == 0) {
			key_word(panes[l->cur].key, word, sizeof(word));
			snprintf(out[n].name, sizeof(out[n].name), "%s Esc", word);
		} else {
			key_word(panes[i].key, out[n].name, sizeof(out[n].name));
		}
		out[n].bar = panes[i].ops->name;
		out[n].help = panes[i].ops->about;
		out[n].keep = 0;
		n++;
	}
	for (i = 0; i < ARRAY_SIZE(frame_keys) && n < max; i++) {
		if (!frame_keys[i].name)
			continue;
		snprintf(out[n].name, sizeof(out[n].name), "%s", frame_keys[i].name);
		out[n].bar = frame_keys[i].bar;
		out[n].help = frame_keys[i].help;
		out[n].keep = frame_keys[i].bar != NULL;
		n++;
	}
	return n;
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
		row_cells(l, k, y + 1 + k, width, k == l->ctx.sel);
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

/* the key as typed: "q F10" shows as "q" */
static void bar_key(const struct shown_key *b, char *out, size_t size)
{
	snprintf(out, size, "%.*s", (int)strcspn(b->name, " "), b->name);
}

static int bar_width(const struct shown_key *b)
{
	char key[32];

	bar_key(b, key, sizeof(key));
	return text_width(key) + 1 + text_width(b->bar) + 2;   /* "q quit  " */
}

/* whole entries only: when they do not all fit, help and quit stay */
static void draw_key_bar(const struct launcher *l, int y)
{
	struct shown_key keys[SHOWN_MAX];
	const struct shown_key *shown[SHOWN_MAX];
	int i, nkeys, n = 0, x = 0, total = 0;

	nkeys = shown_keys(l, keys, SHOWN_MAX);
	for (i = 0; i < nkeys; i++)
		if (keys[i].bar) {
			shown[n++] = &keys[i];
			total += bar_width(&keys[i]);
		}
	for (i = n; i-- > 0 && total > COLS;)
		if (!shown[i]->keep) {
			total -= bar_width(shown[i]);
			memmove(&shown[i], &shown[i + 1], (size_t)(n - i - 1) * sizeof(shown[0]));
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
#define HELP_LINES_MAX (2 * SHOWN_MAX + 8)

struct help_line {
	const struct shown_key *b;    /* on its first line, else NULL */
	const char *text;             /* a line of its help, `len` bytes */
	size_t len;
};

/* the help's lines of `keys` for a text column `tw` wide; returns how many */
static int help_lines(const struct shown_key *keys, int nkeys, int tw, struct help_line *out,
		      int max)
{
	int i, n = 0;

	for (i = 0; i < nkeys; i++) {
		const struct shown_key *b = &keys[i];
		const char *s = b->help;

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
	struct shown_key keys[SHOWN_MAX];
	struct help_line line[HELP_LINES_MAX];
	const char *pane_title = panes[l->cur].ops->title;
	char title[96], foot[96];
	int i, nkeys, n, want = 0, w, h, tw, body, y0, x0, y;
	attr_t a = colors_attr(UI_HELP);

	if (pane_title)
		snprintf(title, sizeof(title), " pancake launcher keys: %s ", pane_title);
	else
		snprintf(title, sizeof(title), " pancake launcher keys ");
	nkeys = shown_keys(l, keys, SHOWN_MAX);
	for (i = 0; i < nkeys; i++)
		if (text_width(keys[i].help) > want)
			want = text_width(keys[i].help);
	/* "│ key        text │" */
	w = want + HELP_KEY_W + 5;
	if (w < text_width(title) + 4)
		w = text_width(title) + 4;
	if (w > COLS - 2)
		w = COLS - 2;
	tw = w - HELP_KEY_W - 5;
	if (tw < 8 || LINES < 5)
		return;
	n = help_lines(keys, nkeys, tw, line, (int)ARRAY_SIZE(line));
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
	int y, ev_rows, pane_rows;

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
	if (!l->ctx.full && !panes[l->cur].ops->full) {
		draw_table(l, y);
		y += 1 + m->n;
	}
	ev_rows = LINES >= 40 ? 5 : LINES >= 30 ? 3 : 1;
	/* title row, the pane (its rule and at least a line), events, key bar */
	pane_rows = LINES - y - ev_rows - (ev_rows > 1) - 1;
	panes[l->cur].ops->draw(cur_state(l), &l->ctx, y, pane_rows);
	if (pane_rows >= 2)
		y += pane_rows;
	if (ev_rows > 1) {
		draw_rule(y, "events", NULL);
		y++;
	}
	draw_events(l, y, LINES - 1 - y);
	draw_key_bar(l, LINES - 1);
	if (l->help)
		draw_help(l);
}

/* ---- the loop ---- */

static void handle_key(struct launcher *l, int ch)
{
	const struct pane_ops *ops = panes[l->cur].ops;
	size_t i;
	int target;

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
	l->dirty = 1;
	if (ops->input && ops->input(cur_state(l), &l->ctx, ch))
		return;
	for (i = 0; i < ops->nkeys; i++)
		if (ops->keys[i].key == ch) {
			ops->keys[i].fn(cur_state(l), &l->ctx);
			return;
		}
	target = switch_target(l, ch);
	if (target >= 0) {
		switch_to(l, (size_t)target);
		return;
	}
	for (i = 0; i < ARRAY_SIZE(frame_keys); i++)
		if (frame_keys[i].key == ch) {
			frame_keys[i].fn(l);
			return;
		}
}

struct launcher *launcher_new(const struct launcher_opts *o)
{
	struct launcher *l = xcalloc(1, sizeof(*l));

	size_t i;

	poller_init(&l->m);
	l->ctx.m = &l->m;
	l->ctx.labs = o && o->labs ? o->labs : getenv("PANCAKE_LABS");
	l->panes = xcalloc(npanes, sizeof(*l->panes));
	for (i = 0; i < npanes; i++) {
		l->panes[i] = panes[i].ops->new(&l->ctx);
		if (o && o->pane && !strcmp(o->pane, panes[i].ops->name))
			l->cur = i;
	}
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
	size_t i;

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
	poller_follow(&l->m, l->ctx.sel);
	l->dirty = 1;
	while (!l->quit && !got_signal) {
		time_t now = time(NULL);
		int ch;

		/* the panes' own news (a job's progress, its outcome), shown or not */
		for (i = 0; i < npanes; i++)
			if (panes[i].ops->changed && panes[i].ops->changed(l->panes[i], &l->ctx))
				l->dirty = 1;
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
	for (i = 0; i < npanes; i++) {
		const struct pane_ops *ops = panes[i].ops;
		char what[256];

		if (ops->busy && ops->busy(l->panes[i], what, sizeof(what))) {
			fprintf(stderr, "%s\n", what);
			fflush(stderr);
		}
		if (ops->cancel)
			ops->cancel(l->panes[i]);
	}
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
	size_t i;

	if (!l)
		return;
	for (i = 0; i < npanes; i++)
		panes[i].ops->free(l->panes[i]);
	free(l->panes);
	poller_release(&l->m);
	free(l);
}

