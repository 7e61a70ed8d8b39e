/* fuzz-markdown: the labs screen's Markdown renderer on any bytes, at any width. */
#include "fuzz.h"
#include "tui/markdown.h"
#include "tui/text.h"

#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct markdown m = MARKDOWN_INIT;
	char *text;
	size_t i, k;
	int width;

	if (!size)
		return 0;
	/* the first byte picks the width, the rest is the text (up to its first NUL) */
	width = 1 + data[0] % 100;
	text = malloc(size);
	memcpy(text, data + 1, size - 1);
	text[size - 1] = '\0';
	markdown_render(&m, text, width);
	for (i = 0; i < m.n; i++) {
		const struct markdown_line *l = &m.v[i];
		size_t at = 0;

		CHECK(l->text);
		/* every line fits once the widest list marker does */
		if (width >= 24)
			CHECK(text_width(l->text) <= width);
		for (k = 0; k < l->nspans; k++) {
			CHECK(l->spans[k].off == at && l->spans[k].len);
			at += l->spans[k].len;
		}
		CHECK(at == strlen(l->text));
		CHECK(!strchr(l->text, '\n'));
	}
	/* no blank line first or last */
	if (m.n)
		CHECK(m.v[0].kind != MD_BLANK && m.v[m.n - 1].kind != MD_BLANK);
	markdown_release(&m);
	free(text);
	return 0;
}
