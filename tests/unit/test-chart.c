/* test-chart: tui/chart.c: nice ticks, degenerate ranges, refused values, rendered grids. */
#include "tap.h"
#include "tui/chart.h"
#include "util/xalloc.h"

#include <math.h>
#include <stdlib.h>

static int near(double a, double b)
{
	return fabs(a - b) < 1e-9;
}

struct axis_case {
	double min, max;
	int maxticks, whole;
	double lo, hi, step;
	int nticks;
	const char *first, *last;     /* the labels of lo and hi */
};

static const struct axis_case axis_cases[] = {
	{ 0.8, 1.9, 6, 0,     0.5, 2.0, 0.5, 4,   "0.5", "2.0" },
	{ 0.8, 1.9, 3, 0,     0.0, 2.0, 1.0, 3,   "0", "2" },
	{ 0.02, 0.085, 5, 0,  0.02, 0.1, 0.02, 5, "0.02", "0.10" },
	{ 1, 8, 5, 1,         0, 8, 2, 5,         "0", "8" },
	{ 1, 5, 6, 1,         1, 5, 1, 5,         "1", "5" },
	/* whole: never a step under 1, however many ticks are allowed */
	{ 1, 3, 12, 1,        1, 3, 1, 3,         "1", "3" },
	/* one value: a tenth of it each way */
	{ 5, 5, 6, 0,         4.5, 5.5, 0.2, 6,   "4.4", "5.6" },
	/* zero: 1 each way */
	{ 0, 0, 3, 0,         -1, 1, 1, 3,        "-1", "1" },
	/* a count: at least 1 each way */
	{ 3, 3, 6, 1,         2, 4, 1, 3,         "2", "4" },
	{ -3.2, -0.4, 5, 0,   -4, 0, 1, 5,        "-4", "0" },
	/* big values: %.3g */
	{ 2e6, 9e6, 5, 0,     2e6, 1e7, 2e6, 5,   "2e+06", "1e+07" },
	{ -1e15, 1e15, 3, 0,  -1e15, 1e15, 1e15, 3, "-1e+15", "1e+15" },
};

static void test_axes(void)
{
	size_t i;

	for (i = 0; i < ARRAY_SIZE(axis_cases); i++) {
		const struct axis_case *t = &axis_cases[i];
		struct chart_axis a;
		char l[32];

		if (!ok(!chart_axis_fit(&a, t->min, t->max, t->maxticks, t->whole),
			"axis %g..%g fits", t->min, t->max))
			continue;
		/* "one value" cases are checked on what covers it */
		ok(a.lo <= t->min && a.hi >= t->max, "axis %g..%g covers its values (%g..%g)",
		   t->min, t->max, a.lo, a.hi);
		ok(a.nticks >= 2 && a.nticks <= t->maxticks, "axis %g..%g has 2..%d ticks (%d)",
		   t->min, t->max, t->maxticks, a.nticks);
		if (t->min == t->max && t->min == 5) {
			ok(a.lo < 5 && a.hi > 5, "one value sits inside its axis (%g..%g)", a.lo, a.hi);
			continue;
		}
		ok(near(a.lo, t->lo) && near(a.hi, t->hi) && near(a.step, t->step) &&
		   a.nticks == t->nticks, "axis %g..%g max %d: %g..%g step %g, %d ticks (got %g..%g "
		   "step %g, %d)", t->min, t->max, t->maxticks, t->lo, t->hi, t->step, t->nticks,
		   a.lo, a.hi, a.step, a.nticks);
		chart_axis_label(&a, a.lo, l, sizeof(l));
		is_str(l, t->first, "axis %g..%g: first label", t->min, t->max);
		chart_axis_label(&a, a.hi, l, sizeof(l));
		is_str(l, t->last, "axis %g..%g: last label", t->min, t->max);
	}
}

static void test_axis_refusals(void)
{
	struct chart_axis a;
	char l[32];

	ok(chart_axis_fit(&a, NAN, 1, 5, 0) == -1, "an axis from NaN is refused");
	ok(chart_axis_fit(&a, 0, INFINITY, 5, 0) == -1, "an axis to infinity is refused");
	ok(chart_axis_fit(&a, -INFINITY, 0, 5, 0) == -1, "an axis from -infinity is refused");
	ok(chart_axis_fit(&a, 2, 1, 5, 0) == -1, "min > max is refused");
	ok(chart_axis_fit(&a, 0, 1, 1, 0) == -1, "fewer than 2 ticks is refused");
	ok(chart_axis_fit(&a, -1.7e308, 1.7e308, 5, 0) == -1, "a range that overflows is refused");
	/* a tick that is zero but for rounding reads 0 */
	ok(!chart_axis_fit(&a, -0.3, 0.3, 7, 0), "-0.3..0.3 fits");
	chart_axis_label(&a, -0.1 + 0.1 - 1e-17, l, sizeof(l));
	is_str(l, "0.0", "no '-0.0' label");
}

static void test_points(void)
{
	struct chart c;
	int i;

	chart_init(&c);
	is_int(chart_series(&c, "a", 0), 0, "the first series is 0");
	ok(chart_add(&c, 0, 1, 2) == 0, "a finite point is added");
	ok(chart_add(&c, 0, NAN, 2) == -1, "x NaN is refused");
	ok(chart_add(&c, 0, 1, NAN) == -1, "y NaN is refused");
	ok(chart_add(&c, 0, INFINITY, 2) == -1, "x infinite is refused");
	ok(chart_add(&c, 0, 1, -INFINITY) == -1, "y -infinite is refused");
	ok(chart_add(&c, 0, 1, 2 * CHART_VALUE_MAX) == -1, "a value over CHART_VALUE_MAX is refused");
	ok(chart_add(&c, 1, 1, 2) == -1, "a series that does not exist is refused");
	ok(chart_add(&c, -1, 1, 2) == -1, "a negative series is refused");
	is_int((long long)chart_npoints(&c), 1, "refused points are not kept");
	for (i = 1; i < CHART_SERIES_MAX; i++)
		chart_series(&c, "more", 0);
	is_int(chart_series(&c, "one too many", 0), -1, "series past CHART_SERIES_MAX are refused");
	chart_release(&c);
	is_int(c.nseries, 0, "release empties the chart");
	ok(isnan(c.xlo) && isnan(c.xhi), "release leaves no x span");
}

static const char *text(const struct chart_grid *g)
{
	static struct buf b = BUF_INIT;

	buf_reset(&b);
	chart_grid_text(g, &b);
	return b.s;
}

/* the cells: printable, marks only where the series' marks (or a clipped point's) are, a
 * series only where it belongs */
static int cells_sane(const struct chart_grid *g)
{
	int k;

	for (k = 0; k < g->w * g->h; k++) {
		const struct chart_cell *c = &g->cell[k];

		if (c->ch < ' ' || c->ch > '~')
			return 0;
		if ((c->role == CHART_MARK || c->role == CHART_LINE || c->role == CHART_LEGEND) !=
		    (c->series >= 0))
			return 0;
		if (c->role == CHART_MARK && c->ch != chart_marks[(int)c->series] &&
		    c->ch != CHART_CLIP_UP && c->ch != CHART_CLIP_DOWN)
			return 0;
	}
	return 1;
}

static void test_render(void)
{
	struct chart c;
	struct chart_grid g = CHART_GRID_INIT;
	struct buf err = BUF_INIT;
	int a, d;

	chart_init(&c);
	c.x_whole = 1;
	a = chart_series(&c, "up", 0);
	d = chart_series(&c, "down", 0);
	chart_add(&c, a, 1, 1);
	chart_add(&c, a, 2, 3);
	chart_add(&c, a, 3, 2);
	chart_add(&c, d, 1, 4);
	chart_add(&c, d, 2, NAN);   /* an absent figure: a gap, not a zero */
	chart_add(&c, d, 3, 0);
	ok(!chart_render(&c, 30, 8, &g, &err), "two series render at 30x8");
	is_int(g.w * 100 + g.h, 3008, "the grid is 30x8");
	is_str(text(&g),
	       "* up  o down\n"
	       "4+o...\n"
	       " |    ..........*......\n"
	       "2+    .............    ......*\n"
	       " |*...             .......\n"
	       "0+                        ...o\n"
	       " ++-------------+------------+\n"
	       "  1             2            3\n",
	       "the 30x8 grid: legend, ticks with values, marks joined by dots");
	ok(cells_sane(&g), "every cell is printable and carries its series");

	/* too small: says so, and the grid is empty */
	buf_reset(&err);
	ok(chart_render(&c, 29, 8, &g, &err) == -1, "29x8 is refused");
	ok(g.w == 0 && g.h == 0 && !g.cell, "a refused render leaves no grid");
	is_str(err.s, "a chart needs 30x8: 29x8 does not fit it", "and says what it needs");
	buf_reset(&err);
	ok(chart_render(&c, 80, 7, &g, &err) == -1, "80x7 is refused");
	ok(!chart_render(&c, 200, 60, &g, NULL) && cells_sane(&g), "a big grid renders sane");
	chart_release(&c);

	/* two axes: the right one is labelled on the right, its series says so */
	chart_init(&c);
	chart_series(&c, "l", 0);
	chart_series(&c, "r", 1);
	chart_add(&c, 0, 0, 10);
	chart_add(&c, 0, 10, 20);
	chart_add(&c, 1, 0, 0.5);
	chart_add(&c, 1, 10, 0.25);
	ok(!chart_render(&c, 32, 9, &g, NULL), "two axes render at 32x9");
	is_str(text(&g),
	       "* l  o r (right)\n"
	       "20+                      ..*+0.6\n"
	       "  |o...             .....   |\n"
	       "  |    .............        |\n"
	       "15+        ............     +0.4\n"
	       "  |   .....            ....o|\n"
	       "10+*..                      +0.2\n"
	       "  ++----+----+---+----+----++\n"
	       "   0    2    4   6    8    10\n",
	       "the 32x9 grid with a right axis");
	chart_release(&c);

	/* no points: the axes over the x span asked for, and a note */
	chart_init(&c);
	c.x_whole = 1;
	c.xlo = 1;
	c.xhi = 8;
	chart_series(&c, "loss", 0);
	ok(!chart_render(&c, 30, 8, &g, NULL), "an empty chart renders");
	ok(strstr(text(&g), "no points yet") != NULL, "an empty chart says so");
	ok(strstr(text(&g), "8\n") != NULL, "its x axis spans what was asked (to 8)");
	ok(cells_sane(&g), "an empty chart's cells are sane");

	/* one point, and all values equal: a range around them, the mark inside */
	chart_add(&c, 0, 3, 0.9);
	ok(!chart_render(&c, 30, 8, &g, NULL), "one point renders");
	ok(strchr(text(&g), '*') != strrchr(text(&g), '*'), "the one point's mark is drawn");
	chart_add(&c, 0, 4, 0.9);
	chart_add(&c, 0, 5, 0.9);
	ok(!chart_render(&c, 40, 10, &g, NULL), "equal values render");
	ok(strstr(text(&g), "0.90") || strstr(text(&g), "0.9"), "equal values label their value");
	ok(cells_sane(&g), "equal values' cells are sane");
	chart_release(&c);

	/* no series at all */
	chart_init(&c);
	ok(!chart_render(&c, 30, 8, &g, NULL) && strstr(text(&g), "no points yet"),
	   "a chart with no series renders its note");
	chart_release(&c);

	/* a legend too tall for the rows left */
	chart_init(&c);
	for (a = 0; a < CHART_SERIES_MAX; a++)
		chart_series(&c, "a rather long series name", a & 1);
	buf_reset(&err);
	ok(chart_render(&c, 30, 8, &g, &err) == -1 && err.len, "a legend that leaves no plot is refused");
	ok(!chart_render(&c, 30, 12, &g, NULL), "... and fits with more rows");
	chart_release(&c);
	chart_grid_release(&g);
	buf_release(&err);
}

/* y_from: the axis fits the later points; an earlier one off it is drawn at its edge */
static void test_clip(void)
{
	struct chart c;
	struct chart_grid g = CHART_GRID_INIT;
	const char *t, *row1, *row2;

	chart_init(&c);
	c.x_whole = 1;
	c.y_from = 2;
	chart_series(&c, "rmse", 0);
	chart_add(&c, 0, 1, 10);	/* from random factors */
	chart_add(&c, 0, 2, 1);
	chart_add(&c, 0, 3, 2);
	chart_add(&c, 0, 4, 1.5);
	ok(!chart_render(&c, 40, 9, &g, NULL), "a chart with a point beyond its axis renders");
	t = text(&g);
	ok(!strstr(t, "10+") && strstr(t, "2.0+"), "the y axis fits the points from x = 2 on: %s", t);
	ok(!strncmp(t, "* rmse  ^ v beyond the axis\n", 28), "the legend says what '^' means: %s", t);
	/* the plot's top row, the first after the legend, holds the clipped point */
	row1 = strchr(t, '\n') + 1;
	row2 = strchr(row1, '\n') + 1;
	ok(memchr(row1, '^', (size_t)(row2 - row1)) && !strchr(row2, '^'),
	   "the first point is a '^' on the plot's top row, and only it");
	ok(cells_sane(&g), "every cell is printable");

	/* while no point is that far, the axis fits them all (no clipping) */
	chart_release(&c);
	chart_init(&c);
	c.y_from = 5;
	chart_series(&c, "rmse", 0);
	chart_add(&c, 0, 1, 10);
	chart_add(&c, 0, 2, 1);
	ok(!chart_render(&c, 40, 9, &g, NULL), "a chart with no point past y_from renders");
	t = text(&g);
	ok(strstr(t, "10+") && !strchr(t + strlen("* rmse  ^ v beyond the axis\n"), '^'),
	   "its axis spans every point, none clipped: %s", t);
	chart_release(&c);
	chart_grid_release(&g);
}

int main(void)
{
	test_axes();
	test_axis_refusals();
	test_points();
	test_render();
	test_clip();
	return tap_done();
}
