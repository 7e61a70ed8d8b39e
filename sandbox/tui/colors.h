/*
 * colors: the launcher's palette as roles, one table with a color and a
 * monochrome attribute per role (only A_BOLD and A_REVERSE in monochrome).
 */
#ifndef PANCAKE_TUI_COLORS_H
#define PANCAKE_TUI_COLORS_H

#include <curses.h>

enum ui_color {
	UI_NORMAL,
	UI_TITLE,       /* the top bar */
	UI_HEADER,      /* table column titles */
	UI_SELECTED,    /* the selected row */
	UI_GOOD,        /* running, ready */
	UI_WAIT,        /* waiting, busy (starting..., stopping...) */
	UI_BAD,         /* exited, failed, gave up, errors */
	UI_DIM,         /* absent, unknown, off */
	UI_STDERR,      /* log lines from stderr */
	UI_PANE,        /* pane title lines */
	UI_KEY,         /* a key in the key bar */
	UI_KEYLABEL,    /* its label */
	UI_HELP,        /* the help overlay */
	UI_COLOR_COUNT
};

/* After initscr: colors unless `mono` or the terminal has none. Returns 1
 * when colors are in use. */
int colors_init(int mono);
/* the attribute of a role for the scheme chosen by colors_init */
attr_t colors_attr(enum ui_color c);

#endif
