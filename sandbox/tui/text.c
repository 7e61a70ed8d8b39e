/* text: fitting and wrapping text to screen columns, at words. */
#include "tui/text.h"

#include <langinfo.h>
#include <string.h>
#include <wchar.h>

size_t text_char(const char *s, size_t left, int *width, int *bad)
{
	mbstate_t ps;
	wchar_t wc;
	size_t len;

	memset(&ps, 0, sizeof(ps));
	len = mbrtowc(&wc, s, left, &ps);
	if (len == (size_t)-1 || len == (size_t)-2 || len == 0) {
		*width = 1;
		*bad = 1;
		return 1;
	}
	*bad = 0;
	*width = wcwidth(wc);
	if (*width < 0) {
		*width = 1;
		*bad = 1;
	}
	return len;
}

int text_width(const char *s)
{
	size_t left = strlen(s);
	int w = 0, cw, bad;

	while (left) {
		size_t len = text_char(s, left, &cw, &bad);
		w += cw;
		s += len;
		left -= len;
	}
	return w;
}

const char *text_ellipsis(void)
{
	/* asked each time: the locale is the caller's (tests switch it) */
	return !strcmp(nl_langinfo(CODESET), "UTF-8") ? "\xe2\x80\xa6" : "...";
}

static size_t trim_spaces(const char *s, size_t n)
{
	while (n && s[n - 1] == ' ')
		n--;
	return n;
}

size_t text_fit(const char *s, int w, int *cut)
{
	size_t len = strlen(s), i = 0, word = 0;
	int used = 0, word_used = 0, room, cw, bad;

	if (cut)
		*cut = 0;
	if (text_width(s) <= w)
		return len;
	if (cut)
		*cut = 1;
	room = w - text_width(text_ellipsis());
	if (room <= 0)
		return 0;
	/* the longest prefix that fits before the ellipsis, and its last word end */
	while (i < len) {
		size_t n = text_char(s + i, len - i, &cw, &bad);

		if (s[i] == ' ' && i && s[i - 1] != ' ') {
			word = i;
			word_used = used;
		}
		if (used + cw > room)
			break;
		used += cw;
		i += n;
	}
	/* a word cut shows less of the text: only while it keeps half the line */
	if (word && 2 * word_used >= w)
		return word;
	return trim_spaces(s, i);
}

size_t text_line(const char *s, int w, size_t *next)
{
	size_t len = strlen(s), i = 0, end, brk = 0;
	int used = 0, cw, bad;

	if (w < 1)
		w = 1;
	for (;;) {
		size_t n;

		if (i == len || s[i] == '\n') {
			end = i;
			break;
		}
		n = text_char(s + i, len - i, &cw, &bad);
		if (s[i] == ' ' && i && s[i - 1] != ' ')
			brk = i;
		if (used + cw > w) {
			/* at a space, after the last one that fit, or (one long word) here */
			end = s[i] == ' ' ? i : brk ? brk : i ? i : n;
			break;
		}
		used += cw;
		i += n;
	}
	*next = end;
	if (s[end] == '\n')
		(*next)++;
	else
		while (s[*next] == ' ')
			(*next)++;
	return trim_spaces(s, end);
}
