/*
 * chart: named series into a grid of cells: nice ticks (Heckbert's 1-2-5
 * steps), a legend, one or two y axes, marks joined by dotted lines.
 */
#include "tui/chart.h"
#include "util/xalloc.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

const char chart_marks[CHART_SERIES_MAX] = { '*', 'o', 'x', '#', '@', '%' };

/* labels longer than this are cut (they never are: %.3g and |v| <= 1e15) */
#define LABEL_MAX 16
/* the plot's least width and height inside the frame */
#define PLOT_MIN_W 8
#define PLOT_MIN_H 3

void chart_init(struct chart *c)
{
	memset(c, 0, sizeof(*c));
	c->xlo = c->xhi = c->y_from = NAN;
}

void chart_release(struct chart *c)
{
	int i;

	for (i = 0; i < c->nseries; i++)
		free(c->s[i].v);
	chart_init(c);
}

int chart_series(struct chart *c, const char *name, int axis)
{
	struct chart_series *s;

	if (c->nseries >= CHART_SERIES_MAX)
		return -1;
	s = &c->s[c->nseries];
	memset(s, 0, sizeof(*s));
	snprintf(s->name, sizeof(s->name), "%s", name);
	s->axis = axis ? 1 : 0;
	return c->nseries++;
}

static int usable(double v)
{
	return isfinite(v) && fabs(v) <= CHART_VALUE_MAX;
}

int chart_add(struct chart *c, int series, double x, double y)
{
	struct chart_series *s;

	if (series < 0 || series >= c->nseries || !usable(x) || !usable(y))
		return -1;
	s = &c->s[series];
	ALLOC_GROW(s->v, s->n + 1, s->alloc);
	s->v[s->n].x = x;
	s->v[s->n].y = y;
	s->n++;
	return 0;
}

size_t chart_npoints(const struct chart *c)
{
	size_t n = 0;
	int i;

	for (i = 0; i < c->nseries; i++)
		n += c->s[i].n;
	return n;
}

/* ---- axes ---- */

/* the smallest of 1, 2, 5 times a power of ten that is at least `raw` (> 0) */
static double nice_step(double raw)
{
	double p = pow(10, floor(log10(raw))), f = raw / p;

	return (f <= 1 ? 1 : f <= 2 ? 2 : f <= 5 ? 5 : 10) * p;
}

int chart_axis_fit(struct chart_axis *a, double min, double max, int maxticks, int whole)
{
	double step, lo = 0, hi = 0, big;
	int n = 0, tries;

	if (!isfinite(min) || !isfinite(max) || min > max || maxticks < 2 ||
	    !isfinite(max - min))
		return -1;
	/* one value, or a spread lost in its own rounding: a range around it */
	if (max - min <= fabs(max) * 1e-9) {
		double d = fabs(max) * 0.1;

		if (d == 0 || (whole && d < 1))
			d = 1;
		min -= d;
		max += d;
	}
	step = nice_step((max - min) / (maxticks - 1));
	if (whole && step < 1)
		step = 1;
	for (tries = 0; tries < 8; tries++) {
		lo = floor(min / step) * step;
		hi = ceil(max / step) * step;
		/* a quotient's rounding must not leave a value outside */
		if (lo > min)
			lo -= step;
		if (hi < max)
			hi += step;
		n = (int)llround((hi - lo) / step) + 1;
		if (n <= maxticks)
			break;
		step = nice_step(step * 1.0001);
	}
	a->lo = lo;
	a->hi = hi;
	a->step = step;
	a->nticks = n;
	big = fabs(lo) > fabs(hi) ? fabs(lo) : fabs(hi);
	a->decimals = step >= 1 ? 0 : (int)-floor(log10(step) + 1e-9);
	if (a->decimals > 6 || big >= 1e6)
		a->decimals = -1;
	return 0;
}

void chart_axis_label(const struct chart_axis *a, double v, char *out, size_t size)
{
	/* no "-0.00" for a tick that is zero but for rounding */
	if (fabs(v) < a->step * 1e-6)
		v = 0;
	if (a->decimals < 0)
		snprintf(out, size, "%.3g", v);
	else
		snprintf(out, size, "%.*f", a->decimals, v);
}

static double tick_at(const struct chart_axis *a, int i)
{
	return i == a->nticks - 1 ? a->hi : a->lo + a->step * i;
}

static int widest_label(const struct chart_axis *a)
{
	char l[LABEL_MAX + 1];
	int i, w = 0;

	for (i = 0; i < a->nticks; i++) {
		chart_axis_label(a, tick_at(a, i), l, sizeof(l));
		if ((int)strlen(l) > w)
			w = (int)strlen(l);
	}
	return w;
}

/* ---- the grid ---- */

void chart_grid_release(struct chart_grid *g)
{
	free(g->cell);
	g->cell = NULL;
	g->w = g->h = 0;
}

static struct chart_cell *at(struct chart_grid *g, int x, int y)
{
	return &g->cell[(size_t)y * (size_t)g->w + (size_t)x];
}

static void put(struct chart_grid *g, int x, int y, char ch, enum chart_role role, int series)
{
	struct chart_cell *c;

	if (x < 0 || y < 0 || x >= g->w || y >= g->h)
		return;
	c = at(g, x, y);
	c->ch = ch;
	c->role = (unsigned char)role;
	c->series = (signed char)series;
}

static int puts_at(struct chart_grid *g, int x, int y, const char *s, int maxw,
		   enum chart_role role, int series)
{
	int i;

	for (i = 0; s[i] && i < maxw; i++)
		put(g, x + i, y, s[i], role, series);
	return i;
}

/* what the legend of series `i` reads after its mark */
static void legend_name(const struct chart *c, int i, int both, char *out, size_t size)
{
	snprintf(out, size, "%s%s", c->s[i].name, both && c->s[i].axis ? " (right)" : "");
}

/* the legend's rows at width w; draws them when g is not NULL */
static int legend(const struct chart *c, int w, int both, struct chart_grid *g)
{
	int i, x = 0, y = 0;

	for (i = 0; i < c->nseries; i++) {
		char name[CHART_NAME_MAX + 16];
		int len;

		legend_name(c, i, both, name, sizeof(name));
		len = 2 + (int)strlen(name);
		if (len > w)
			len = w;
		if (x && x + 2 + len > w) {
			x = 0;
			y++;
		} else if (x) {
			x += 2;
		}
		if (g) {
			put(g, x, y, chart_marks[i], CHART_MARK, i);
			puts_at(g, x + 2, y, name, len - 2, CHART_LEGEND, i);
		}
		x += len;
	}
	if (c->nseries && isfinite(c->y_from)) {
		/* what a clipped point's mark means (chart.y_from) */
		static const char clip[] = "^ v beyond the axis";
		int len = (int)strlen(clip) > w ? w : (int)strlen(clip);

		if (x && x + 2 + len > w) {
			x = 0;
			y++;
		} else if (x) {
			x += 2;
		}
		if (g)
			puts_at(g, x, y, clip, len, CHART_NOTE, -1);
	}
	return c->nseries ? y + 1 : 0;
}

/* the points' x range (axis -1) or y range on `axis` of those at x >= from
 * (NaN: all); 0 when there are none */
static int range_from(const struct chart *c, int axis, double from, double *min, double *max)
{
	int i, have = 0;
	size_t k;

	for (i = 0; i < c->nseries; i++) {
		if (axis >= 0 && c->s[i].axis != axis)
			continue;
		for (k = 0; k < c->s[i].n; k++) {
			double v = axis < 0 ? c->s[i].v[k].x : c->s[i].v[k].y;

			if (c->s[i].v[k].x < from)	/* false for a NaN from */
				continue;

			if (!have || v < *min)
				*min = v;
			if (!have || v > *max)
				*max = v;
			have = 1;
		}
	}
	return have;
}

static int range(const struct chart *c, int axis, double *min, double *max)
{
	return range_from(c, axis, NAN, min, max);
}

static int fit_y(const struct chart *c, int axis, int maxticks, struct chart_axis *a)
{
	double min = 0, max = 1;

	if (!range_from(c, axis, c->y_from, &min, &max))
		range(c, axis, &min, &max);
	return chart_axis_fit(a, min, max, maxticks, 0);
}

/* the x axis whose labels, each centred on its tick, fit `pw` columns */
static int fit_x(const struct chart *c, int pw, struct chart_axis *a)
{
	double min = 0, max = 1;
	int maxticks, have = range(c, -1, &min, &max);

	if (isfinite(c->xlo) && (!have || c->xlo < min))
		min = c->xlo;
	if (isfinite(c->xhi) && (!have || c->xhi > max))
		max = c->xhi;
	if (!have && !(isfinite(c->xlo) && isfinite(c->xhi))) {
		if (isfinite(c->xlo))
			max = min + 1;
		else if (isfinite(c->xhi))
			min = max - 1;
	}
	if (min > max)
		max = min;
	for (maxticks = pw / 4 + 1 > 12 ? 12 : pw / 4 + 1; maxticks >= 2; maxticks--) {
		if (chart_axis_fit(a, min, max, maxticks, c->x_whole))
			return -1;
		if (a->nticks * (widest_label(a) + 1) <= pw + 1)
			return 0;
	}
	return 0;
}

static int col_of(const struct chart_axis *a, double v, int x0, int pw)
{
	return x0 + (int)lround((v - a->lo) / (a->hi - a->lo) * (pw - 1));
}

/* a value's row, clamped to the plot (a point beyond the axis: chart.y_from) */
static int row_of(const struct chart_axis *a, double v, int y0, int ph)
{
	if (v > a->hi)
		return y0;
	if (v < a->lo)
		return y0 + ph - 1;
	return y0 + (int)lround((a->hi - v) / (a->hi - a->lo) * (ph - 1));
}

/* a point's mark: the series' own, or the way it is off the axis */
static char mark_of(const struct chart_axis *a, double v, int series)
{
	return v > a->hi ? CHART_CLIP_UP : v < a->lo ? CHART_CLIP_DOWN : chart_marks[series];
}

/* dots from one mark to the next (Bresenham), leaving other cells' marks alone */
static void join(struct chart_grid *g, int x0, int y0, int x1, int y1, int series)
{
	int dx = abs(x1 - x0), dy = -abs(y1 - y0), sx = x0 < x1 ? 1 : -1, sy = y0 < y1 ? 1 : -1;
	int e = dx + dy;

	for (;;) {
		struct chart_cell *cell = at(g, x0, y0);
		int e2 = 2 * e;

		if (cell->role == CHART_BLANK || cell->role == CHART_LINE)
			put(g, x0, y0, '.', CHART_LINE, series);
		if (x0 == x1 && y0 == y1)
			break;
		if (e2 >= dy) {
			e += dy;
			x0 += sx;
		}
		if (e2 <= dx) {
			e += dx;
			y0 += sy;
		}
	}
}

static void y_axis(struct chart_grid *g, const struct chart_axis *a, int x, int top, int ph,
		   int label_x, int label_w, int right)
{
	char l[LABEL_MAX + 1];
	int i, r;

	for (r = 0; r < ph; r++)
		put(g, x, top + r, '|', CHART_AXIS, -1);
	for (i = 0; i < a->nticks; i++) {
		int len;

		r = row_of(a, tick_at(a, i), top, ph);
		put(g, x, r, '+', CHART_AXIS, -1);
		chart_axis_label(a, tick_at(a, i), l, sizeof(l));
		len = (int)strlen(l);
		puts_at(g, right ? label_x : label_x + label_w - len, r, l, label_w, CHART_LABEL, -1);
	}
}

int chart_render(const struct chart *c, int w, int h, struct chart_grid *g, struct buf *err)
{
	struct chart_axis ya[2], xa;
	int uses[2] = { 0, 0 }, both, rows, top, ph, pw, lw, rw, x0, maxticks, i, last_end;
	size_t k;

	chart_grid_release(g);
	if (w < CHART_MIN_W || h < CHART_MIN_H) {
		if (err)
			buf_addf(err, "a chart needs %dx%d: %dx%d does not fit it", CHART_MIN_W,
				 CHART_MIN_H, w, h);
		return -1;
	}
	for (i = 0; i < c->nseries; i++)
		uses[c->s[i].axis] = 1;
	both = uses[0] && uses[1];
	/* one axis in use is drawn on the left whichever it is */
	if (!uses[0] && !uses[1])
		uses[0] = 1;
	rows = legend(c, w, both, NULL);
	ph = h - rows - 2;
	if (ph < PLOT_MIN_H) {
		if (err)
			buf_addf(err, "a chart of %d series needs more than %d rows", c->nseries, h);
		return -1;
	}
	top = rows;
	maxticks = (ph - 1) / 2 + 1;
	if (maxticks > 6)
		maxticks = 6;
	for (i = 0; i < 2; i++)
		if (uses[i] && fit_y(c, both ? i : (uses[0] ? 0 : 1), maxticks, &ya[i]))
			return -1;
	if (!both && !uses[0]) {
		ya[0] = ya[1];
		uses[0] = 1;
		uses[1] = 0;
	}
	lw = widest_label(&ya[0]);
	rw = both ? widest_label(&ya[1]) : 0;
	x0 = lw;                                 /* the left axis' column */
	pw = w - lw - 1 - (both ? 1 + rw : 0);
	if (pw < PLOT_MIN_W) {
		if (err)
			buf_addf(err, "a chart's labels leave no room in %d columns", w);
		return -1;
	}
	if (fit_x(c, pw, &xa))
		return -1;

	g->w = w;
	g->h = h;
	g->cell = xcalloc((size_t)w * (size_t)h, sizeof(*g->cell));
	for (k = 0; k < (size_t)w * (size_t)h; k++) {
		g->cell[k].ch = ' ';
		g->cell[k].series = -1;
	}
	legend(c, w, both, g);
	y_axis(g, &ya[0], x0, top, ph, 0, lw, 0);
	if (both)
		y_axis(g, &ya[1], x0 + pw + 1, top, ph, x0 + pw + 2, rw, 1);

	/* the x axis, its ticks, and their labels where they do not touch */
	put(g, x0, top + ph, '+', CHART_AXIS, -1);
	for (i = 1; i <= pw; i++)
		put(g, x0 + i, top + ph, '-', CHART_AXIS, -1);
	if (both)
		put(g, x0 + pw + 1, top + ph, '+', CHART_AXIS, -1);
	last_end = -2;
	for (i = 0; i < xa.nticks; i++) {
		char l[LABEL_MAX + 1];
		int col = col_of(&xa, tick_at(&xa, i), x0 + 1, pw), len, start;

		put(g, col, top + ph, '+', CHART_AXIS, -1);
		chart_axis_label(&xa, tick_at(&xa, i), l, sizeof(l));
		len = (int)strlen(l);
		start = col - (len - 1) / 2;
		if (start + len > w)
			start = w - len;
		if (start < 0)
			start = 0;
		if (start <= last_end + 1)
			continue;
		puts_at(g, start, h - 1, l, len, CHART_LABEL, -1);
		last_end = start + len - 1;
	}

	if (!chart_npoints(c)) {
		static const char note[] = "no points yet";
		int len = (int)strlen(note);

		puts_at(g, x0 + 1 + (pw > len ? (pw - len) / 2 : 0), top + (ph - 1) / 2, note, pw,
			CHART_NOTE, -1);
		return 0;
	}
	/* the dots first, then every mark over them */
	for (i = 0; i < c->nseries; i++) {
		const struct chart_axis *y = &ya[both ? c->s[i].axis : 0];

		for (k = 1; k < c->s[i].n; k++)
			join(g, col_of(&xa, c->s[i].v[k - 1].x, x0 + 1, pw),
			     row_of(y, c->s[i].v[k - 1].y, top, ph),
			     col_of(&xa, c->s[i].v[k].x, x0 + 1, pw),
			     row_of(y, c->s[i].v[k].y, top, ph), i);
	}
	for (i = 0; i < c->nseries; i++) {
		const struct chart_axis *y = &ya[both ? c->s[i].axis : 0];

		for (k = 0; k < c->s[i].n; k++)
			put(g, col_of(&xa, c->s[i].v[k].x, x0 + 1, pw),
			    row_of(y, c->s[i].v[k].y, top, ph), mark_of(y, c->s[i].v[k].y, i),
			    CHART_MARK, i);
	}
	return 0;
}

void chart_grid_text(const struct chart_grid *g, struct buf *out)
{
	int x, y;

	for (y = 0; y < g->h; y++) {
		size_t start = out->len;

		for (x = 0; x < g->w; x++)
			buf_addch(out, g->cell[(size_t)y * (size_t)g->w + (size_t)x].ch);
		while (out->len > start && out->s[out->len - 1] == ' ')
			buf_setlen(out, out->len - 1);
		buf_addch(out, '\n');
	}
}
