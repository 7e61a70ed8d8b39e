/* fuzz-chart: the models screen's chart on any series of any doubles (NaN, infinities, huge), at any size. */
#include "fuzz.h"
#include "tui/chart.h"

#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct chart c;
	struct chart_grid g = CHART_GRID_INIT;
	struct buf err = BUF_INIT;
	int w, h, n, i, k, ret;

	if (size < 4)
		return 0;
	/* the size, the series and their axes, x_whole; then points of 17 bytes */
	w = 20 + data[0] % 120;
	h = 4 + data[1] % 50;
	n = data[2] % (CHART_SERIES_MAX + 2);
	chart_init(&c);
	c.x_whole = data[3] & 1;
	if (data[3] & 2) {
		c.xlo = 1;
		c.xhi = 1 + data[3] / 4;
	}
	for (i = 0; i < n; i++)
		chart_series(&c, "series", (data[3] >> (i % 8)) & 1);
	for (data += 4, size -= 4; size >= 17; data += 17, size -= 17) {
		double x, y;

		memcpy(&x, data + 1, sizeof(x));
		memcpy(&y, data + 9, sizeof(y));
		chart_add(&c, data[0] % 8, x, y);
	}
	ret = chart_render(&c, w, h, &g, &err);
	CHECK(ret == 0 || ret == -1);
	if (ret == 0) {
		CHECK(g.w == w && g.h == h && g.cell);
		for (k = 0; k < w * h; k++) {
			const struct chart_cell *cell = &g.cell[k];

			CHECK(cell->ch >= ' ' && cell->ch <= '~');
			CHECK((cell->role == CHART_MARK || cell->role == CHART_LINE ||
			       cell->role == CHART_LEGEND) == (cell->series >= 0));
			CHECK(cell->series < c.nseries);
		}
	} else {
		CHECK(!g.cell && err.len);
	}
	chart_grid_release(&g);
	chart_release(&c);
	buf_release(&err);
	return 0;
}
