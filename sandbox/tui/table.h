/*
 * table: column layout for narrow and wide screens (columns of low priority
 * drop out first), and drawing text into a width: clipped, fitted at a word
 * with an ellipsis, or wrapped (tui/text.h says where it breaks).
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
 * Draws `s` at (y, x) in at most `w` screen columns, clipped where the width
 * ends (UTF-8 aware; bytes that are not valid in the locale show as '?').
 * Returns the columns used. For bits of a line that are known to fit
 * (a separator, a key); text that may not fit goes through table_fit.
 */
int table_put(int y, int x, const char *s, int w, attr_t attr);

/*
 * Draws `s` at (y, x) in at most `w` columns: whole when it fits, else cut
 * at a word (text_fit) and ended with an ellipsis. Returns the columns used.
 */
int table_fit(int y, int x, const char *s, int w, attr_t attr);

/*
 * Draws `s` wrapped at words to `w` columns over at most `rows` rows from
 * (y, x); what does not fit in the last row ends with an ellipsis. Returns
 * the rows used.
 */
int table_wrap(int y, int x, const char *s, int w, int rows, attr_t attr);

/* A cell: `s` fitted to `w` (table_fit), padded with spaces, aligned. */
void table_cell(int y, int x, int w, enum table_align a, const char *s, attr_t attr);

/*
 * A horizontal rule across the screen at row y with a title near its left
 * end ("── logs: kafka ────"), and `right` (may be NULL) near its right end
 * when both fit; the title is fitted to the width.
 */
void table_rule(int y, const char *title, const char *right, attr_t attr);

/*
 * A bar "[####....]" of `w` cells plus its brackets at (y, x): the share `f`
 * (0..1, clamped; NaN or infinite: empty) in `fill`, the rest as dots in
 * `rest`. Returns the columns used, w + 2.
 */
int table_bar(int y, int x, int w, double f, attr_t fill, attr_t rest);

#endif
