/* test-markdown: tui/markdown.c: a lab's Markdown into styled lines, table-driven. */
#include "tap.h"
#include "tui/markdown.h"
#include "tui/text.h"
#include "util/xalloc.h"

#include <locale.h>
#include <stdlib.h>

/*
 * A rendering as text: lines joined with '|', and each styled span marked
 * inside its line: {e:..} emphasis, {s:..} strong, {es:..} both, {c:..}
 * code, {h:..} heading (with s when strong too).
 */
static const char *show(const char *md, int width)
{
	static char out[4096];
	struct markdown m = MARKDOWN_INIT;
	size_t used = 0, i, k;

	markdown_render(&m, md, width);
	out[0] = '\0';
	for (i = 0; i < m.n && used < sizeof(out) - 1; i++) {
		const struct markdown_line *l = &m.v[i];

		if (i)
			used += (size_t)snprintf(out + used, sizeof(out) - used, "|");
		for (k = 0; k < l->nspans && used < sizeof(out) - 1; k++) {
			const struct markdown_span *s = &l->spans[k];
			char tag[8];
			int t = 0;

			if (s->style & MD_HEADING)
				tag[t++] = 'h';
			if (s->style & MD_EM)
				tag[t++] = 'e';
			if (s->style & MD_STRONG)
				tag[t++] = 's';
			if (s->style & MD_CODE)
				tag[t++] = 'c';
			tag[t] = '\0';
			if (t)
				used += (size_t)snprintf(out + used, sizeof(out) - used, "{%s:%.*s}", tag,
							 (int)s->len, l->text + s->off);
			else
				used += (size_t)snprintf(out + used, sizeof(out) - used, "%.*s",
							 (int)s->len, l->text + s->off);
		}
	}
	markdown_release(&m);
	return out;
}

/* every line of md rendered at `width` fits it, and the spans cover each line */
static int fits(const char *md, int width)
{
	struct markdown m = MARKDOWN_INIT;
	size_t i, k;
	int good = 1;

	markdown_render(&m, md, width);
	for (i = 0; i < m.n; i++) {
		size_t at = 0;

		if (text_width(m.v[i].text) > width)
			good = 0;
		for (k = 0; k < m.v[i].nspans; k++) {
			if (m.v[i].spans[k].off != at || !m.v[i].spans[k].len)
				good = 0;
			at += m.v[i].spans[k].len;
		}
		if (at != strlen(m.v[i].text))
			good = 0;
	}
	markdown_release(&m);
	return good;
}

static const struct {
	const char *md;
	int width;
	const char *want;
	const char *what;
} cases[] = {
	/* paragraphs */
	{ "one line", 40, "one line", "a short paragraph is one line" },
	{ "one\ntwo", 40, "one two", "a paragraph's lines join" },
	{ "one\n\n\n\ntwo", 40, "one||two", "blank lines between paragraphs make one" },
	{ "\n\none\n\n", 40, "one", "no blank line before the first block or after the last" },
	{ "the quick brown fox jumps", 10, "the quick|brown fox|jumps", "a paragraph wraps at words" },
	{ "abcdefghijklmnop", 6, "abcdef|ghijkl|mnop", "a word longer than the width is cut" },
	{ "caf\xc3\xa9 cr\xc3\xa8me br\xc3\xbbl\xc3\xa9" "e", 11,
	  "caf\xc3\xa9 cr\xc3\xa8me|br\xc3\xbbl\xc3\xa9" "e", "UTF-8 wraps by columns, not bytes" },
	{ "\xe6\x97\xa5\xe6\x9c\xac\xe8\xaa\x9e", 4, "\xe6\x97\xa5\xe6\x9c\xac|\xe8\xaa\x9e",
	  "wide characters wrap whole" },
	{ "line\r\nnext\r\n", 40, "line next", "CRLF line ends" },
	/* headings */
	{ "# Title\ntext", 40, "{h:Title}||text", "a heading, then a blank line" },
	{ "text\n## Sub ##\nmore", 40, "text||{h:Sub}||more", "a heading interrupts; its closing #s go" },
	{ "#not a heading", 40, "#not a heading", "no space after #: text" },
	{ "# **Big** deal", 40, "{hs:Big}{h: deal}", "emphasis inside a heading" },
	/* inline */
	{ "an *emphasis* here", 40, "an {e:emphasis} here", "*emphasis*" },
	{ "an _emphasis_ here", 40, "an {e:emphasis} here", "_emphasis_" },
	{ "a **strong** word", 40, "a {s:strong} word", "**strong**" },
	{ "a __strong__ word", 40, "a {s:strong} word", "__strong__" },
	{ "run `pancake up` now", 40, "run {c:pancake up} now", "a code span" },
	{ "``a ` b``", 40, "{c:a ` b}", "a code span of two backticks holds one" },
	{ "**bold *both* bold**", 40, "{s:bold }{es:both}{s: bold}", "emphasis nested in strong" },
	{ "*em **both** em*", 40, "{e:em }{es:both}{e: em}", "strong nested in emphasis" },
	{ "***all***", 40, "{es:all}", "three stars: strong and emphasis" },
	{ "`*not em*`", 40, "{c:*not em*}", "no emphasis inside code" },
	{ "\\*literal\\*", 40, "*literal*", "escaped stars stay" },
	{ "snake_case_name", 40, "snake_case_name", "underscores inside a word are text" },
	{ "a * b * c", 40, "a * b * c", "stars between spaces are text" },
	{ "an *open star", 40, "an *open star", "an unclosed star stays" },
	{ "a `tick", 40, "a `tick", "an unclosed backtick stays" },
	{ "some *emphasis over* words", 12, "some|{e:emphasis}|{e:over} words",
	  "a style goes on across a wrap" },
	/* lists */
	{ "- one\n- two", 40, "- one|- two", "a bullet list, no blank between items" },
	{ "* one\n+ two", 40, "- one|- two", "every bullet shows as -" },
	{ "1. one\n2. two", 40, "1. one|2. two", "a numbered list" },
	{ "- a long item that wraps", 12, "- a long|  item that|  wraps", "an item wraps under its text" },
	{ "10. a long item", 10, "10. a long|    item", "a numbered item wraps under its text" },
	{ "- one\n  more", 40, "- one more", "an item's continuation line joins it" },
	{ "- top\n  - nested", 40, "- top|  - nested", "a nested item is indented" },
	{ "Do this:\n- a\n- b\n\nthen", 40, "Do this:|- a|- b||then", "a list after a paragraph" },
	{ "- *em* item", 40, "- {e:em} item", "emphasis in an item" },
	{ "-not a list", 40, "-not a list", "no space after the dash: text" },
	{ "**bold** start", 40, "{s:bold} start", "a line starting with ** is no list" },
	{ "- item\n\n  its paragraph", 40, "- item||  its paragraph", "an indented paragraph belongs to the item" },
	/* code blocks */
	{ "```\ncode  here\n```", 40, "  {c:code  here}", "a fenced block keeps its spaces" },
	{ "text\n```sh\n$ pancake up\n```\nafter", 40, "text||  {c:$ pancake up}||after",
	  "a fence with an info string: blank lines around" },
	{ "```\n*not em* `x`\n```", 40, "  {c:*not em* `x`}", "no markup inside a code block" },
	{ "```\n0123456789abcdef\n```", 10, "  {c:0123456\xe2\x80\xa6}", "a code line too wide is cut, not wrapped" },
	{ "```\na\tb\n```", 40, "  {c:a   b}", "tabs in code expand" },
	{ "```\n\n```", 40, "  ", "an empty code line" },
	{ "~~~\n# not a heading\n~~~", 40, "  {c:# not a heading}", "a ~~~ fence" },
	{ "```\nunclosed", 40, "  {c:unclosed}", "an unclosed fence runs to the end" },
	{ "````\n```\n````", 40, "  {c:```}", "a shorter fence inside a longer one is code" },
};

int main(void)
{
	static const char *const long_md =
		"# A heading that is long enough to wrap\n\nSome *text* with **strong** and `code` "
		"and caf\xc3\xa9s \xe6\x97\xa5\xe6\x9c\xac that runs on for a while.\n\n- an item "
		"that wraps\n  - nested\n1. first\n\n```\na code line longer than the narrowest width\n```\n";
	size_t i;
	int w;

	if (!setlocale(LC_CTYPE, "C.UTF-8")) {
		printf("# no C.UTF-8 locale\n");
		return 1;
	}
	for (i = 0; i < ARRAY_SIZE(cases); i++)
		is_str(show(cases[i].md, cases[i].width), cases[i].want, "%s", cases[i].what);
	for (w = 10; w <= 60; w++)
		if (!fits(long_md, w)) {
			ok(0, "at %d columns a line is too wide or its spans do not cover it", w);
			break;
		}
	ok(w == 61, "from 10 to 60 columns, every line fits and its spans cover it");
	is_str(show("", 40), "", "no text: no line");
	return tap_done();
}
