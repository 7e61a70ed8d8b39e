/* quote: user input echoed in messages, escaped and cut (see quote.h). */
#include "util/quote.h"

#include <string.h>

static const char hex[] = "0123456789abcdef";

static int quote_needs(unsigned char c)
{
	return c < 0x20 || c >= 0x7f || c == '\\';
}

static size_t escape_into(char *out, const char *s, size_t n)
{
	size_t i, o = 0;

	for (i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];

		if (quote_needs(c)) {
			out[o++] = '\\';
			out[o++] = 'x';
			out[o++] = hex[c >> 4];
			out[o++] = hex[c & 15];
		} else {
			out[o++] = (char)c;
		}
	}
	return o;
}

const char *quote_n(char out[QUOTE_BUF], const char *s, size_t n)
{
	size_t o = 0;

	out[o++] = '\'';
	o += escape_into(out + o, s, n < QUOTE_MAX ? n : QUOTE_MAX);
	if (n > QUOTE_MAX) {
		memcpy(out + o, "...", 3);
		o += 3;
	}
	out[o++] = '\'';
	out[o] = '\0';
	return out;
}

const char *quote(char out[QUOTE_BUF], const char *s)
{
	return quote_n(out, s ? s : "", s ? strlen(s) : 0);
}

/* appends `s` escaped (no quotes, no cut) to `b` */
static void quote_escape(struct buf *b, const char *s, size_t n)
{
	char chunk[4 * 64];
	size_t i;

	for (i = 0; i < n; i += 64)
		buf_add(b, chunk, escape_into(chunk, s + i, n - i < 64 ? n - i : 64));
}

void quote_text(struct buf *b, const char *s)
{
	const char *p = s;

	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;

		/* UTF-8 text stays readable: only C0 controls, DEL and the C1 range's
		 * lead byte sequences are escaped, not every byte above 0x7f */
		if ((c < 0x20 && c != '\n' && c != '\t') || c == 0x7f ||
		    (c == 0xc2 && (unsigned char)s[1] >= 0x80 && (unsigned char)s[1] < 0xa0)) {
			buf_add(b, p, (size_t)(s - p));
			quote_escape(b, s, c == 0xc2 ? 2 : 1);
			if (c == 0xc2)
				s++;
			p = s + 1;
		}
	}
	buf_add(b, p, (size_t)(s - p));
}
