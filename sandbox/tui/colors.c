/* colors: role -> ncurses attribute, with a monochrome scheme per role. */
#include "tui/colors.h"

#include "util/xalloc.h"

struct color_def {
	enum ui_color role;
	short fg, bg;      /* -1: the terminal's default */
	attr_t extra;      /* added to the color pair */
	attr_t mono;       /* monochrome: A_BOLD / A_REVERSE only */
};

static const struct color_def color_table[] = {
	{ UI_NORMAL,   -1,            -1,           0,      A_NORMAL },
	{ UI_TITLE,    COLOR_BLACK,   COLOR_CYAN,   0,      A_REVERSE },
	{ UI_HEADER,   COLOR_BLACK,   COLOR_GREEN,  0,      A_BOLD },
	{ UI_SELECTED, COLOR_BLACK,   COLOR_CYAN,   0,      A_REVERSE },
	{ UI_GOOD,     COLOR_GREEN,   -1,           0,      A_NORMAL },
	{ UI_WAIT,     COLOR_YELLOW,  -1,           0,      A_NORMAL },
	{ UI_BAD,      COLOR_RED,     -1,           A_BOLD, A_BOLD },
	{ UI_DIM,      COLOR_BLUE,    -1,           A_BOLD, A_NORMAL },
	{ UI_STDERR,   COLOR_MAGENTA, -1,           0,      A_NORMAL },
	{ UI_PANE,     COLOR_CYAN,    -1,           A_BOLD, A_BOLD },
	{ UI_KEY,      -1,            -1,           A_BOLD, A_BOLD },
	{ UI_KEYLABEL, COLOR_BLACK,   COLOR_CYAN,   0,      A_REVERSE },
	{ UI_HELP,     COLOR_WHITE,   COLOR_BLUE,   0,      A_REVERSE },
};

static attr_t attrs[UI_COLOR_COUNT];

int colors_init(int mono)
{
	size_t i;
	int color = !mono && has_colors(), defaults = 1;

	if (color && start_color() == ERR)
		color = 0;
	/* old terminals have no "default" color: assume white on black there */
	if (color && use_default_colors() == ERR)
		defaults = 0;
	for (i = 0; i < ARRAY_SIZE(color_table); i++) {
		const struct color_def *c = &color_table[i];
		if (!color) {
			attrs[c->role] = c->mono;
			continue;
		}
		if (c->fg < 0 && c->bg < 0) {
			attrs[c->role] = c->extra;
			continue;
		}
		init_pair((short)(i + 1), c->fg >= 0 || defaults ? c->fg : COLOR_WHITE,
			  c->bg >= 0 || defaults ? c->bg : COLOR_BLACK);
		attrs[c->role] = COLOR_PAIR((int)i + 1) | c->extra;
	}
	return color;
}

attr_t colors_attr(enum ui_color c)
{
	return c < UI_COLOR_COUNT ? attrs[c] : A_NORMAL;
}
