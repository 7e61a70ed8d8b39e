/* table: fitting columns to the screen; drawing text clipped, fitted or wrapped. */
#include "tui/table.h"
#include "tui/text.h"

#include <math.h>
#include <string.h>

void table_layout(const struct table_col *cols, int n, int total, int *width)
{
	int i, used, shown, extra, p, maxp = 0;

	for (i = 0; i < n; i++) {
		width[i] = cols[i].min;
		if (cols[i].prio > maxp)
			maxp = cols[i].prio;
	}
	/* drop the least important columns until the minimum widths fit */
	for (;;) {
		int drop = -1;
		used = 0;
		shown = 0;
		for (i = 0; i < n; i++)
			if (width[i]) {
				used += width[i];
				shown++;
			}
		used += shown > 1 ? (shown - 1) * TABLE_GAP : 0;
		if (used <= total || shown <= 1)
			break;
		for (i = n - 1; i > 0; i--)
			if (width[i] && (drop < 0 || cols[i].prio < cols[drop].prio))
				drop = i;
		if (drop < 0)
			break;
		width[drop] = 0;
	}
	if (used > total && width[0]) /* one column left, still too wide */
		width[0] = total > 0 ? total : 0;
	extra = total - used;
	/* grow the important columns toward their wanted width first */
	for (p = maxp; p >= 0 && extra > 0; p--)
		for (i = 0; i < n && extra > 0; i++)
			if (width[i] && cols[i].prio == p && cols[i].want > width[i]) {
				int g = cols[i].want - width[i];
				if (g > extra)
					g = extra;
				width[i] += g;
				extra -= g;
			}
	for (i = 0; i < n && extra > 0; i++)
		if (width[i] && !cols[i].want) {
			width[i] += extra;
			extra = 0;
		}
}

/* the first `n` bytes of `s` at the cursor, in at most `w` columns */
static int put_n(const char *s, size_t n, int w)
{
	int used = 0, cw, bad;

	while (n) {
		size_t len = text_char(s, n, &cw, &bad);
		if (used + cw > w)
			break;
		if (bad || (unsigned char)*s < 0x20 || *s == 0x7f)
			addch('?');
		else if (cw > 0)
			addnstr(s, (int)len);
		used += cw;
		s += len;
		n -= len;
	}
	return used;
}

int table_put(int y, int x, const char *s, int w, attr_t attr)
{
	int used;

	if (w <= 0)
		return 0;
	attron(attr);
	move(y, x);
	used = put_n(s, strlen(s), w);
	attroff(attr);
	return used;
}

int table_fit(int y, int x, const char *s, int w, attr_t attr)
{
	const char *e = text_ellipsis();
	size_t n;
	int cut, used;

	if (w <= 0)
		return 0;
	n = text_fit(s, w, &cut);
	attron(attr);
	move(y, x);
	used = put_n(s, n, w);
	if (cut)
		used += put_n(e, strlen(e), w - used);
	attroff(attr);
	return used;
}

int table_wrap(int y, int x, const char *s, int w, int rows, attr_t attr)
{
	int used = 0;

	if (w <= 0)
		return 0;
	while (*s && used < rows) {
		size_t next, n = text_line(s, w, &next);

		if (used == rows - 1 && s[next]) {
			/* the last row: what is left, cut with an ellipsis */
			table_fit(y + used, x, s, w, attr);
		} else {
			attron(attr);
			move(y + used, x);
			put_n(s, n, w);
			attroff(attr);
		}
		used++;
		s += next;
	}
	return used;
}

void table_cell(int y, int x, int w, enum table_align a, const char *s, attr_t attr)
{
	int sw, pad;

	if (w <= 0)
		return;
	sw = text_width(s);
	pad = a == TABLE_RIGHT && sw < w ? w - sw : 0;
	mvhline(y, x, ' ' | attr, w);
	table_fit(y, x + pad, s, w - pad, attr);
}

void table_rule(int y, const char *title, const char *right, attr_t attr)
{
	int x = 2;

	mvhline(y, 0, ACS_HLINE | attr, COLS);
	if (title && *title && COLS > 6) {
		x += table_put(y, x, " ", 1, attr);
		x += table_fit(y, x, title, COLS - x - 3, attr);
		x += table_put(y, x, " ", 1, attr);
	}
	if (right && *right) {
		int w = text_width(right);

		if (COLS - w - 4 > x + 1) {
			table_put(y, COLS - w - 4, " ", 1, attr);
			table_put(y, COLS - w - 3, right, w, attr);
			table_put(y, COLS - 3, " ", 1, attr);
		}
	}
}

int table_bar(int y, int x, int w, double f, attr_t fill, attr_t rest)
{
	int n = isfinite(f) ? (int)(f * w + 0.5) : 0, i;

	if (n > w)
		n = w;
	if (n < 0)
		n = 0;
	mvaddch(y, x, '[');
	for (i = 0; i < w; i++)
		mvaddch(y, x + 1 + i, i < n ? (chtype)'#' | fill : (chtype)'.' | rest);
	mvaddch(y, x + 1 + w, ']');
	return w + 2;
}
