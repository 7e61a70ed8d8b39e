/*
 * servicespane: the launcher's home pane: keys that start, stop and restart
 * the selected service, and its logs under the table, followed live (with the
 * line other panes offer home under them: the labs' progress).
 */
#include "tui/colors.h"
#include "tui/pane.h"
#include "tui/table.h"
#include "util/xalloc.h"

#include <curses.h>
#include <stdio.h>
#include <string.h>

struct servicespane {
	int scroll;              /* log lines hidden below the view; 0: following */
	unsigned seen_added;     /* m->log_added when the scroll was last adjusted */
	int log_rows;            /* height of the log view last drawn */
};

/* ---- keys ---- */

static const char *sel_name(struct pane_ctx *c)
{
	return c->m->st->svcs[c->sel].name;
}

/* a new selection shows its logs from the newest line */
static void select_service(struct servicespane *p, struct pane_ctx *c, int k)
{
	c->sel = k;
	p->scroll = 0;
	poller_follow(c->m, k);
}

static void key_up(void *pane, struct pane_ctx *c)
{
	if (c->sel > 0)
		select_service(pane, c, c->sel - 1);
}

static void key_down(void *pane, struct pane_ctx *c)
{
	if (c->sel < c->m->n - 1)
		select_service(pane, c, c->sel + 1);
}

static void queue(struct pane_ctx *c, enum poller_action a)
{
	struct buf why = BUF_INIT;

	if (poller_queue(c->m, a, c->sel, &why))
		poller_event(c->m, NOTE_INFO, a == ACT_START_ALL ? NULL : sel_name(c), "%s", why.s);
	buf_release(&why);
}

static void key_start(void *pane, struct pane_ctx *c)
{
	int running, current;

	(void)pane;
	poller_lock(c->m);
	running = c->m->rows[c->sel].st.running;
	current = c->m->rows[c->sel].st.config_current;
	poller_unlock(c->m);
	/* a start of a running service only waits; a changed one is replaced */
	if (running && current)
		poller_event(c->m, NOTE_INFO, sel_name(c),
			     "'%s' is already running: r restarts it", sel_name(c));
	else
		queue(c, ACT_START);
}

static void key_stop(void *pane, struct pane_ctx *c)
{
	(void)pane;
	queue(c, ACT_STOP);
}

static void key_restart(void *pane, struct pane_ctx *c)
{
	(void)pane;
	queue(c, ACT_RESTART);
}

static void key_start_all(void *pane, struct pane_ctx *c)
{
	(void)pane;
	queue(c, ACT_START_ALL);
}

static void key_logs(void *pane, struct pane_ctx *c)
{
	(void)pane;
	c->full = !c->full;
}

static void key_page_up(void *pane, struct pane_ctx *c)
{
	struct servicespane *p = pane;

	(void)c;
	p->scroll += p->log_rows > 2 ? p->log_rows - 1 : 1;
}

static void key_page_down(void *pane, struct pane_ctx *c)
{
	struct servicespane *p = pane;

	(void)c;
	p->scroll -= p->log_rows > 2 ? p->log_rows - 1 : 1;
	if (p->scroll < 0)
		p->scroll = 0;
}

static void key_follow(void *pane, struct pane_ctx *c)
{
	struct servicespane *p = pane;

	(void)c;
	p->scroll = 0;
}

static const struct pane_key keys[] = {
	{ KEY_UP,    "Up k",      NULL,      key_up,        "select the previous service" },
	{ 'k',       NULL,        NULL,      key_up,        NULL },
	{ KEY_DOWN,  "Down j",    NULL,      key_down,      "select the next service" },
	{ 'j',       NULL,        NULL,      key_down,      NULL },
	{ 'u',       "u",         "start",   key_start,     "start the service, wait until ready, supervise it" },
	{ 'd',       "d",         "stop",    key_stop,      "stop the service (and stop supervising it)" },
	{ 'r',       "r",         "restart", key_restart,   "restart the service and wait until ready" },
	{ 'U',       "U",         "all",     key_start_all, "start every service that is not running" },
	{ 'l',       "l",         "logs",    key_logs,      "log pane: split or full screen" },
	{ KEY_PPAGE, "PgUp PgDn", NULL,      key_page_up,   "scroll the log pane" },
	{ KEY_NPAGE, NULL,        NULL,      key_page_down, NULL },
	{ KEY_END,   "End G",     NULL,      key_follow,    "follow the newest log lines again" },
	{ 'G',       NULL,        NULL,      key_follow,    NULL },
};

/* ---- drawing (under the poller's lock) ---- */

static void draw_logs(struct servicespane *p, struct pane_ctx *c, int y, int rows)
{
	struct poller *m = c->m;
	char title[128], right[96] = "";
	int i, first, max_scroll;

	/* keep the view where it is while new lines arrive */
	if (p->scroll && m->log_added > p->seen_added)
		p->scroll += (int)(m->log_added - p->seen_added);
	p->seen_added = m->log_added;
	max_scroll = m->nlog > rows ? m->nlog - rows : 0;
	if (p->scroll > max_scroll)
		p->scroll = max_scroll;
	p->log_rows = rows;

	snprintf(title, sizeof(title), "logs: %s", sel_name(c));
	if (p->scroll)
		snprintf(right, sizeof(right), "%d lines up (End follows)", p->scroll);
	else if (m->log_service >= 0 && m->rows[m->log_service].st.running)
		snprintf(right, sizeof(right), "following");
	table_rule(y, title, right, colors_attr(UI_PANE));
	if (rows <= 0)
		return;
	if (!m->nlog) {
		const char *msg = m->log_state[0] ? m->log_state : !m->polled ? "waiting for the engine..." :
				  "no log lines yet";
		table_fit(y + 1, 1, msg, COLS - 2, colors_attr(m->log_state[0] ? UI_WAIT : UI_DIM));
		return;
	}
	first = m->nlog - rows - p->scroll;
	if (first < 0)
		first = 0;
	for (i = 0; i < rows && first + i < m->nlog; i++) {
		const struct poller_line *ln = poller_log_at(m, first + i);
		table_fit(y + 1 + i, 0, ln->text, COLS,
			  colors_attr(ln->stream == STACK_STDERR ? UI_STDERR : UI_NORMAL));
	}
	if (m->log_state[0] && rows > 1)
		table_fit(y + rows, 0, m->log_state, COLS, colors_attr(UI_WAIT));
}

static void draw(void *pane, struct pane_ctx *c, int y, int rows)
{
	struct servicespane *p = pane;

	/* a rule and a line at least, or no log view (a page is then one line) */
	if (rows < 2) {
		p->log_rows = 0;
		return;
	}
	/* another pane's line (the labs' progress) under the logs, when they keep three rows */
	if (c->home_note[0] && rows >= 5) {
		table_fit(y + rows - 1, 0, c->home_note, COLS, colors_attr(UI_DIM));
		rows--;
	}
	draw_logs(p, c, y, rows - 1);
}

/* ---- life cycle ---- */

static void *new(struct pane_ctx *c)
{
	(void)c;
	return xcalloc(1, sizeof(struct servicespane));
}

static void free_pane(void *pane)
{
	free(pane);
}

const struct pane_ops services_pane = {
	.name = "services",
	.about = "back to the services and their logs",
	.new = new,
	.free = free_pane,
	.draw = draw,
	.keys = keys,
	.nkeys = ARRAY_SIZE(keys),
};
