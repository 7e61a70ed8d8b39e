/*
 * markdown: the subset of Markdown a lab's text uses, turned into lines of
 * a given width with styled spans, for the labs screen to draw. Pure: no
 * curses (tui/text.h says where lines break).
 */
#ifndef PANCAKE_TUI_MARKDOWN_H
#define PANCAKE_TUI_MARKDOWN_H

#include <stddef.h>

/* a span's look; a span may carry several */
enum markdown_style {
	MD_EM = 1 << 0,        /* *x* or _x_ */
	MD_STRONG = 1 << 1,    /* **x** or __x__ */
	MD_CODE = 1 << 2,      /* `x`, and every line of a fenced block */
	MD_HEADING = 1 << 3,   /* a # heading's text */
};

/* what a line is */
enum markdown_kind { MD_TEXT, MD_BLANK, MD_HEADING_LINE, MD_ITEM, MD_CODE_LINE };

struct markdown_span {
	size_t off, len;       /* bytes of the line's text */
	unsigned style;        /* enum markdown_style; 0: plain */
};

struct markdown_line {
	enum markdown_kind kind;
	char *text;            /* what to draw, indent and list marker included */
	struct markdown_span *spans;   /* cover `text` in order, no empty one */
	size_t nspans;
};

struct markdown {
	struct markdown_line *v;
	size_t n, alloc;
};

#define MARKDOWN_INIT { NULL, 0, 0 }
void markdown_init(struct markdown *m);
void markdown_release(struct markdown *m);

/*
 * Appends `text` rendered for `width` columns (at least 1) to `m`: ATX
 * headings, paragraphs wrapped at words, `-`/`*`/`+` and `1.` list items
 * (their lines indented under the text), fenced code blocks (indented two
 * columns, cut with an ellipsis where a line is too wide, never wrapped),
 * emphasis, strong and code spans (nested, `\` escapes), one blank line
 * between blocks. Widths are the locale's (tui/text.h). The lines and their
 * strings are owned by `m`.
 */
void markdown_render(struct markdown *m, const char *text, int width);

#endif
