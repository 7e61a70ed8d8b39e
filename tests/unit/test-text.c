/* test-text: tui/text.c: fitting a line with an ellipsis, wrapping at words. */
#include "tap.h"
#include "tui/text.h"

#include <locale.h>
#include <stdlib.h>

/* what a w-column line shows of s: the kept bytes, and the ellipsis when cut */
static const char *fit(const char *s, int w)
{
	static char out[512];
	int cut;
	size_t n = text_fit(s, w, &cut);

	/* the ellipsis goes where it fits: not in a line narrower than it */
	snprintf(out, sizeof(out), "%.*s%s", (int)n, s,
		 cut && text_width(text_ellipsis()) <= w ? text_ellipsis() : "");
	return out;
}

/* s wrapped to w columns, the lines joined with '|' */
static const char *wrap(const char *s, int w)
{
	static char out[1024];
	size_t used = 0, next;

	out[0] = '\0';
	while (*s && used < sizeof(out) - 1) {
		size_t n = text_line(s, w, &next);
		used += (size_t)snprintf(out + used, sizeof(out) - used, "%s%.*s", used ? "|" : "",
					 (int)n, s);
		s += next;
	}
	return out;
}

/* every wrapped line of s fits w columns */
static int lines_fit(const char *s, int w)
{
	char line[512];
	size_t next;

	while (*s) {
		size_t n = text_line(s, w, &next);

		snprintf(line, sizeof(line), "%.*s", (int)n, s);
		if (text_width(line) > w || !next)
			return 0;
		s += next;
	}
	return 1;
}

int main(void)
{
	const char *warn = "make it at least 40x8";
	const char *event = "no dataset here yet: g generates an ML-1M-shaped one";
	int w, cut;

	if (!setlocale(LC_CTYPE, "C.UTF-8")) {
		printf("# no C.UTF-8 locale\n");
		return 1;
	}
	is_str(text_ellipsis(), "\xe2\x80\xa6", "the ellipsis is one character in UTF-8");

	/* one line: whole when it fits */
	is_str(fit(warn, 21), warn, "a text as wide as the line shows whole");
	is_str(fit(warn, 80), warn, "a short text shows whole");
	text_fit(warn, 21, &cut);
	is_int(cut, 0, "... and is not marked cut");
	/* cut at a word with the ellipsis, never mid-word */
	is_str(fit(warn, 20), "make it at least\xe2\x80\xa6", "one column short: cut at the last word");
	is_str(fit(warn, 15), "make it at\xe2\x80\xa6", "cut at a word, the ellipsis fits in");
	is_str(fit("terminal too small: make it at least 40x8", 20), "terminal too small:\xe2\x80\xa6",
	       "the cut keeps punctuation that ends a word");
	is_str(fit(event, 40), "no dataset here yet: g generates an\xe2\x80\xa6", "an event cut at a word");
	/* a word boundary that keeps less than half the line: cut mid-word, marked */
	is_str(fit("PING answered PONG", 10), "PING answ\xe2\x80\xa6", "a narrow cell cuts mid-word with an ellipsis");
	is_str(fit("supercalifragilistic", 8), "superca\xe2\x80\xa6",
	       "one long word: as much as fits, then the ellipsis");
	is_str(fit("ab cd", 1), "\xe2\x80\xa6", "one column: the ellipsis alone");
	is_str(fit("ab cd", 0), "", "no column: nothing");
	is_str(fit("a b c d e f", 6), "a b c\xe2\x80\xa6", "single letters: cut at the last that fits");
	is_str(fit("one two   three", 9), "one two\xe2\x80\xa6", "the spaces before the cut are left out");
	/* widths: every fitted line fits its width, for every width */
	for (w = 0; w <= 60; w++)
		if (text_width(fit(event, w)) > w) {
			ok(0, "fit(%d) is %d columns wide", w, text_width(fit(event, w)));
			break;
		}
	ok(w == 61, "text_fit stays within the width from 0 to 60 columns");
	/* UTF-8: widths in columns, never a cut inside a character */
	is_int(text_width("caf\xc3\xa9"), 4, "an accented letter is one column");
	is_int(text_width("\xe6\x97\xa5\xe6\x9c\xac"), 4, "CJK characters are two columns each");
	is_str(fit("caf\xc3\xa9 cr\xc3\xa8me br\xc3\xbbl\xc3\xa9" "e", 12), "caf\xc3\xa9 cr\xc3\xa8" "me\xe2\x80\xa6",
	       "a UTF-8 text cut at a word");
	is_str(fit("\xe6\x97\xa5\xe6\x9c\xac\xe8\xaa\x9e", 4), "\xe6\x97\xa5\xe2\x80\xa6",
	       "a wide character that does not fit is left whole out");
	is_int(text_width("a\xff" "b"), 3, "an invalid byte counts one column");

	/* wrapping at words */
	is_str(wrap(warn, 80), warn, "a short text is one line");
	is_str(wrap("terminal too small (18x6): make it at least 40x8", 18),
	       "terminal too small|(18x6): make it at|least 40x8", "wrapped at words, 18 columns");
	is_str(wrap("one  two   three", 5), "one|two|three", "runs of spaces at a break are dropped");
	is_str(wrap("abcdefghij klm", 4), "abcd|efgh|ij|klm", "a word wider than the line is cut at its end");
	is_str(wrap("first line\nsecond", 40), "first line|second", "a newline breaks the line");
	is_str(wrap("x", 0), "x", "a zero width still makes progress");
	is_str(wrap("\xe6\x97\xa5\xe6\x9c\xac\xe8\xaa\x9e", 3), "\xe6\x97\xa5|\xe6\x9c\xac|\xe8\xaa\x9e",
	       "wide characters wrap whole");
	ok(lines_fit("load the dataset into kafka, cassandra, elasticsearch, redis", 13),
	   "every wrapped line fits 13 columns");
	for (w = 1; w <= 40; w++)
		if (!lines_fit(event, w))
			break;
	ok(w == 41, "wrapped lines fit from 1 to 40 columns");

	/* a locale that is not UTF-8: three dots */
	setlocale(LC_CTYPE, "C");
	is_str(text_ellipsis(), "...", "the ellipsis is three dots outside UTF-8");
	is_str(fit(warn, 15), "make it at...", "cut at a word before the three dots");
	is_int(text_width("caf\xc3\xa9"), 5, "outside UTF-8 every byte is a column");
	return tap_done();
}
