/*
 * table: column layout for narrow and wide screens (columns of low priority
 * drop out first), and clipped, padded drawing of cells and text.
 */
#ifndef PANCAKE_TUI_TABLE_H
#define PANCAKE_TUI_TABLE_H

#include <curses.h>

enum table_align { TABLE_LEFT, TABLE_RIGHT };

struct table_col {
	const char *title;
	int min;              /* never narrower than this */
	int want;             /* grows up to this; 0: takes whatever is left */
	int prio;             /* the lowest is dropped first when space is short */
	enum table_align align;
};

/* One space between columns. */
#define TABLE_GAP 1

/*
 * Fits `n` columns into `total` screen columns: width[i] is each column's
 * width, 0 for a dropped one. The first column is never dropped.
 */
void table_layout(const struct table_col *cols, int n, int total, int *width);

/*
 * Draws `s` at (y, x) in at most `w` screen columns (UTF-8 aware; bytes that
 * are not valid in the locale show as '?'). Returns the columns used.
 */
int table_put(int y, int x, const char *s, int w, attr_t attr);

/* A cell: `s` clipped to `w`, padded with spaces, aligned. */
void table_cell(int y, int x, int w, enum table_align a, const char *s, attr_t attr);

/* the screen width of `s` */
int table_width(const char *s);

#endif
