/*
 * pane: one screen of the launcher, the part below the services table that
 * a key switches (htop's panels). A pane is one file defining its ops and
 * its keys; tui/pane.c lists them in panes[]. The launcher (the frame) keeps
 * the title, the services table, the events, the key bar and the help.
 */
#ifndef PANCAKE_TUI_PANE_H
#define PANCAKE_TUI_PANE_H

#include <stddef.h>
#include "tui/poller.h"

/* what every pane shares with the frame; owned by the launcher */
struct pane_ctx {
	struct poller *m;        /* the stack's snapshot and the events line; borrowed */
	int sel;                 /* the selected service (its table row) */
	int full;                /* the pane fills the screen: the services table is hidden */
	const char *labs;        /* the workshop track's folder (--labs DIR, $PANCAKE_LABS);
				    NULL: the labs beside pancake */
	char home_note[160];     /* a line a pane offers the home pane (the labs' progress); "" */
};

/* a key of a pane, for its dispatch, the help and the key bar */
struct pane_key {
	int key;                 /* as getch() returns it */
	const char *name;        /* as the help shows it ("Up k"); NULL: an alias of the one above */
	const char *bar;         /* its label in the key bar, or NULL */
	void (*fn)(void *pane, struct pane_ctx *c);   /* called without the poller's lock */
	const char *help;
};

/*
 * A pane's callbacks. `pane` is what new() returned. Every call comes from
 * the UI thread; a pane's own work runs elsewhere and never blocks these.
 */
struct pane_ops {
	const char *name;        /* "data": its label in the key bar, as --data names it */
	const char *title;       /* the help's title says "keys: TITLE"; NULL: none */
	const char *about;       /* the help of the key that switches to it */
	int full;                /* it fills the screen below the title: no services table */
	/* new (free with free); before the poller starts */
	void *(*new)(struct pane_ctx *c);
	/* stops its work, waits for it, and frees the pane */
	void (*free)(void *pane);
	/* it is about to be shown (after a switch); may be NULL */
	void (*enter)(void *pane, struct pane_ctx *c);
	/*
	 * Draws rows y .. y+rows-1, a rule first, under the poller's lock.
	 * rows < 2 when nothing fits under the rule: draw nothing then.
	 */
	void (*draw)(void *pane, struct pane_ctx *c, int y, int rows);
	/*
	 * Called on every turn of the loop, shown or not: 1 when its news need
	 * a redraw; an outcome worth the events line goes there (poller_event).
	 * May be NULL: its news are the poller's.
	 */
	int (*changed)(void *pane, struct pane_ctx *c);
	/*
	 * On leaving: 1 with what leaving stops said into `what` ("stopping the
	 * load of 'x' (a later load resumes it)") while its work runs; may be NULL.
	 */
	int (*busy)(void *pane, char *what, size_t size);
	/* on leaving: asks its work to stop soon, no wait; may be NULL */
	void (*cancel)(void *pane);
	/*
	 * Sees every key first (the help's and a resize aside): 1 when it took
	 * it, as an open prompt takes what is typed into it, Esc included. May
	 * be NULL.
	 */
	int (*input)(void *pane, struct pane_ctx *c, int ch);
	const struct pane_key *keys;  /* its own, before the switching and the frame's keys */
	size_t nkeys;
};

/* one row of the pane table */
struct pane_entry {
	const struct pane_ops *ops;
	/* switches to it from the others; 0 for the first pane, the home that
	 * Esc (or the shown pane's own key) goes back to */
	int key;
};

/* every pane, the home first, in the order of the help; tui/pane.c */
extern const struct pane_entry panes[];
extern const size_t npanes;

#endif
