/*
 * chart: a line chart of named series of (x, y) points drawn into a grid
 * of character cells of any size, with nice axis ticks and a legend, for
 * the models screen's training curves. Pure: no curses (the pane colours
 * the cells by their role and series).
 */
#ifndef PANCAKE_TUI_CHART_H
#define PANCAKE_TUI_CHART_H

#include <stddef.h>
#include "util/buf.h"

#define CHART_SERIES_MAX 6     /* one mark each: chart_marks */
#define CHART_NAME_MAX 24
#define CHART_MIN_W 30         /* chart_render refuses a smaller grid */
#define CHART_MIN_H 8
#define CHART_VALUE_MAX 1e15   /* a larger |x| or |y| is refused like NaN */

/* the marks of series 0, 1, ...: distinct in monochrome, none an axis character */
extern const char chart_marks[CHART_SERIES_MAX];

struct chart_point {
	double x, y;
};

struct chart_series {
	char name[CHART_NAME_MAX];
	int axis;                  /* 0: the left y axis, 1: the right one */
	struct chart_point *v;     /* joined in the order they were added */
	size_t n, alloc;
};

struct chart {
	struct chart_series s[CHART_SERIES_MAX];
	int nseries;
	/* the x axis spans at least [xlo, xhi]; NaN (chart_init's): the points' own */
	double xlo, xhi;
	int x_whole;               /* x values are counts: x ticks on whole numbers */
	/*
	 * The y axes fit only the points at x >= y_from (NaN, chart_init's: all
	 * points; all of them too while none is that far): a first iteration
	 * from random factors then does not flatten the curve. A point beyond
	 * an axis is drawn at its edge with CHART_CLIP_UP or CHART_CLIP_DOWN.
	 */
	double y_from;
};

#define CHART_CLIP_UP '^'
#define CHART_CLIP_DOWN 'v'


void chart_init(struct chart *c);
/* frees the points; the chart is as chart_init left it */
void chart_release(struct chart *c);

/*
 * Adds a series named `name` (cut to CHART_NAME_MAX - 1 bytes) on y axis
 * `axis` (0 left, 1 right): its index, or -1 when CHART_SERIES_MAX are there.
 */
int chart_series(struct chart *c, const char *name, int axis);
/*
 * Appends a point to series `series`: 0, or -1 when x or y is NaN, infinite
 * or beyond CHART_VALUE_MAX (the point is skipped: a figure that is absent
 * leaves a gap, never a wrong scale) or the series does not exist.
 */
int chart_add(struct chart *c, int series, double x, double y);
/* every point of every series, finite by chart_add's rule */
size_t chart_npoints(const struct chart *c);

/* an axis: ticks at lo, lo + step, ... hi */
struct chart_axis {
	double lo, hi, step;
	int nticks;
	int decimals;              /* the labels' digits after the point; -1: %.3g */
};

/*
 * Fits an axis over [min, max] with at most `maxticks` (at least 2) ticks
 * at nice values (1, 2 or 5 times a power of ten), lo and hi on ticks, so
 * that the points never sit on the frame's edge by accident of scale. A
 * single value (min == max) gets a range around it (a tenth of it each way,
 * or 1 around 0). `whole`: no step under 1. 0, or -1 when min or max is
 * not finite, min > max, or maxticks < 2.
 */
int chart_axis_fit(struct chart_axis *a, double min, double max, int maxticks, int whole);
/* a tick's value as the axis labels it ("0.85", "12", "1.5e+07") */
void chart_axis_label(const struct chart_axis *a, double v, char *out, size_t size);

/* what a cell shows, for its colour */
enum chart_role {
	CHART_BLANK,
	CHART_AXIS,                /* the frame: '|', '-', '+' at ticks and corners */
	CHART_LABEL,               /* a tick's value */
	CHART_NOTE,                /* "no points yet" */
	CHART_LEGEND,              /* a series' name in the legend: `series` says whose */
	CHART_LINE,                /* '.' joining two points of `series` */
	CHART_MARK,                /* a point of `series`, or its mark in the legend */
};

struct chart_cell {
	char ch;                   /* printable ASCII */
	signed char series;        /* -1 unless LEGEND, LINE or MARK */
	unsigned char role;        /* enum chart_role */
};

struct chart_grid {
	int w, h;
	struct chart_cell *cell;   /* h rows of w cells; owned */
};

#define CHART_GRID_INIT { 0, 0, NULL }
void chart_grid_release(struct chart_grid *g);

/*
 * Renders `c` into `g` (its cells replaced) at w x h: the legend on the top
 * rows (each series' mark and name, "(right)" after those on the right axis
 * when both axes are used), the plot under it with the left axis' labels
 * (and the right's), the x axis and its labels on the last two rows. Points
 * are marks, consecutive points of a series are joined with dots; a later
 * series' mark covers an earlier one's in the same cell. No points: the
 * axes over [0, 1] (or the x span asked for) and a note. 0, or -1 with
 * `err` (may be NULL) saying so when w < CHART_MIN_W or h < CHART_MIN_H
 * or the legend leaves no room for the plot (g is then empty).
 */
int chart_render(const struct chart *c, int w, int h, struct chart_grid *g, struct buf *err);

/* the grid as text, a line per row with its trailing blanks cut, for tests */
void chart_grid_text(const struct chart_grid *g, struct buf *out);

#endif
