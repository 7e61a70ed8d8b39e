/*
 * text: where a text breaks to fit a number of screen columns: UTF-8 widths
 * (in the locale), a line cut at a word with an ellipsis, a paragraph
 * wrapped at words. Pure: no curses (table.h draws with it).
 */
#ifndef PANCAKE_TUI_TEXT_H
#define PANCAKE_TUI_TEXT_H

#include <stddef.h>

/*
 * The next character of `s` (`left` bytes): returns its length in bytes and
 * sets its screen width; *bad is set when it is not valid in the locale (or
 * not printable): it then counts as one byte one column wide, shown as '?'.
 */
size_t text_char(const char *s, size_t left, int *width, int *bad);

/* the screen width of `s` */
int text_width(const char *s);

/* the ellipsis that ends a cut text: "…" in a UTF-8 locale, else "..."; static */
const char *text_ellipsis(void);

/*
 * How much of `s` shows on one line of `w` columns: strlen(s) when it fits.
 * Otherwise the bytes to show before the ellipsis (text_ellipsis()), which
 * must fit with them: they end at a word (the spaces before the cut left
 * out) unless that leaves less than half the line, and then mid-word; 0
 * when even the ellipsis does not fit. *cut says whether it was cut (may be
 * NULL).
 */
size_t text_fit(const char *s, int w, int *cut);

/*
 * One line of `s` wrapped to `w` columns (w >= 1): returns the bytes of the
 * line (spaces at the break left out), and *next the offset where the next
 * line begins (the spaces after the break skipped), strlen(s) at the end.
 * A line breaks at the last space that fits, or at a newline; a word wider
 * than the line is cut where the line ends.
 */
size_t text_line(const char *s, int w, size_t *next);

#endif
