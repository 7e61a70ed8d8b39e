/* table: fitting columns to the screen and drawing clipped UTF-8 text. */
#include "tui/table.h"

#include <string.h>
#include <wchar.h>

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

/* the next character of `s`: its length in bytes and its screen width */
static size_t next_char(const char *s, size_t left, int *cw, int *bad)
{
	mbstate_t ps;
	wchar_t wc;
	size_t len;

	memset(&ps, 0, sizeof(ps));
	len = mbrtowc(&wc, s, left, &ps);
	if (len == (size_t)-1 || len == (size_t)-2 || len == 0) {
		*cw = 1;
		*bad = 1;
		return 1;
	}
	*bad = 0;
	*cw = wcwidth(wc);
	if (*cw < 0) {
		*cw = 1;
		*bad = 1;
	}
	return len;
}

int table_width(const char *s)
{
	size_t left = strlen(s);
	int w = 0, cw, bad;

	while (left) {
		size_t len = next_char(s, left, &cw, &bad);
		w += cw;
		s += len;
		left -= len;
	}
	return w;
}

int table_put(int y, int x, const char *s, int w, attr_t attr)
{
	size_t left = strlen(s);
	int used = 0, cw, bad;

	if (w <= 0)
		return 0;
	attron(attr);
	move(y, x);
	while (left) {
		size_t len = next_char(s, left, &cw, &bad);
		if (used + cw > w)
			break;
		if (bad || (unsigned char)*s < 0x20 || *s == 0x7f)
			addch('?');
		else if (cw > 0)
			addnstr(s, (int)len);
		used += cw;
		s += len;
		left -= len;
	}
	attroff(attr);
	return used;
}

void table_cell(int y, int x, int w, enum table_align a, const char *s, attr_t attr)
{
	int sw, pad, used;

	if (w <= 0)
		return;
	sw = table_width(s);
	pad = a == TABLE_RIGHT && sw < w ? w - sw : 0;
	mvhline(y, x, ' ' | attr, w);
	used = table_put(y, x + pad, s, w - pad, attr);
	(void)used;
}
