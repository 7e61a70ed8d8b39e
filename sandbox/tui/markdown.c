/*
 * markdown: a lab's Markdown into styled lines of a width: blocks line by
 * line, then emphasis matched with a delimiter stack as CommonMark does.
 */
#include "tui/markdown.h"
#include "tui/text.h"
#include "util/buf.h"
#include "util/xalloc.h"

#include <ctype.h>
#include <stdio.h>
#include <string.h>

#define MD_INDENT_MAX 8          /* a nested list item indents at most this */
#define MD_TAB 4                 /* a tab in a code block */

void markdown_init(struct markdown *m)
{
	memset(m, 0, sizeof(*m));
}

void markdown_release(struct markdown *m)
{
	size_t i;

	for (i = 0; i < m->n; i++) {
		free(m->v[i].text);
		free(m->v[i].spans);
	}
	free(m->v);
	markdown_init(m);
}

/* ---- lines ---- */

static struct markdown_line *new_line(struct markdown *m, enum markdown_kind kind)
{
	struct markdown_line *l;

	ALLOC_GROW(m->v, m->n + 1, m->alloc);
	l = &m->v[m->n++];
	memset(l, 0, sizeof(*l));
	l->kind = kind;
	return l;
}

/* a span of `len` bytes from `off`, merged into the last one when they look alike */
static void add_span(struct markdown_line *l, size_t *alloc, size_t off, size_t len,
		     unsigned style)
{
	struct markdown_span *last = l->nspans ? &l->spans[l->nspans - 1] : NULL;

	if (!len)
		return;
	if (last && last->style == style && last->off + last->len == off) {
		last->len += len;
		return;
	}
	ALLOC_GROW(l->spans, l->nspans + 1, *alloc);
	l->spans[l->nspans].off = off;
	l->spans[l->nspans].len = len;
	l->spans[l->nspans].style = style;
	l->nspans++;
}

static void blank(struct markdown *m)
{
	struct markdown_line *l = new_line(m, MD_BLANK);

	l->text = xstrdup("");
}

/* ---- inline: code spans, escapes, emphasis ---- */

struct delim {
	size_t pos;
	int len, rem;            /* the run's length; what is not matched yet */
	char ch;
	int can_open, can_close;
};

static int is_space(int c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\0';
}

/*
 * `s` without its markup into `plain`, and the style of each of its bytes
 * into *styles (new, free; plain.len bytes).
 */
static void inline_parse(const char *s, struct buf *plain, unsigned char **styles)
{
	size_t n = strlen(s), i, j, nd = 0, alloc = 0, ns = 0;
	unsigned char *style = xcalloc(n + 1, 1), *drop = xcalloc(n + 1, 1),
		      *lit = xcalloc(n + 1, 1), *out;
	struct delim *d = NULL;
	size_t *stack;

	/* escapes and code spans first: nothing inside them is emphasis */
	for (i = 0; i < n;) {
		if (s[i] == '\\' && i + 1 < n && ispunct((unsigned char)s[i + 1])) {
			drop[i] = 1;
			lit[i + 1] = 1;
			i += 2;
			continue;
		}
		if (s[i] == '`') {
			size_t k = strspn(s + i, "`"), close = 0;

			for (j = i + k; j < n && !close;) {
				size_t r = strspn(s + j, "`");
				if (r == k)
					close = j;
				j += r ? r : 1;
			}
			for (j = i; j < i + k; j++)
				lit[j] = 1;
			if (close) {
				for (j = i; j < close + k; j++) {
					lit[j] = 1;
					if (j < i + k || j >= close)
						drop[j] = 1;
					else
						style[j] |= MD_CODE;
				}
				i = close + k;
			} else {
				i += k;
			}
			continue;
		}
		i++;
	}
	/* runs of * and _ that may open or close */
	for (i = 0; i < n;) {
		char c = s[i];
		int prev, next;
		struct delim *r;

		if ((c != '*' && c != '_') || lit[i]) {
			i++;
			continue;
		}
		for (j = i; j < n && s[j] == c && !lit[j]; j++)
			;
		prev = i ? (unsigned char)s[i - 1] : ' ';
		next = (unsigned char)s[j];
		ALLOC_GROW(d, nd + 1, alloc);
		r = &d[nd++];
		r->pos = i;
		r->len = r->rem = (int)(j - i);
		r->ch = c;
		r->can_open = !is_space(next);
		r->can_close = !is_space(prev);
		if (c == '_') {   /* snake_case is not emphasis */
			r->can_open = r->can_open && !isalnum(prev);
			r->can_close = r->can_close && !isalnum(next);
		}
		i = j;
	}
	/* each closer takes the nearest opener of its kind, two by two when both can */
	stack = xcalloc(nd + 1, sizeof(*stack));
	for (i = 0; i < nd; i++) {
		struct delim *c = &d[i];

		while (c->can_close && c->rem > 0) {
			size_t k = ns, oe, cs;
			struct delim *o = NULL;
			int use;

			while (k-- > 0)
				if (d[stack[k]].ch == c->ch && d[stack[k]].rem > 0) {
					o = &d[stack[k]];
					break;
				}
			if (!o)
				break;
			use = o->rem >= 2 && c->rem >= 2 ? 2 : 1;
			oe = o->pos + (size_t)o->rem;
			cs = c->pos + (size_t)(c->len - c->rem);
			memset(drop + oe - use, 1, (size_t)use);
			memset(drop + cs, 1, (size_t)use);
			for (j = oe; j < cs; j++)
				style[j] |= use == 2 ? MD_STRONG : MD_EM;
			o->rem -= use;
			c->rem -= use;
			/* what opened in between stays text */
			ns = o->rem ? k + 1 : k;
		}
		if (c->rem > 0 && c->can_open)
			stack[ns++] = i;
	}
	out = xmalloc(n + 1);
	for (i = 0; i < n; i++) {
		if (drop[i])
			continue;
		out[plain->len] = style[i];
		buf_addch(plain, s[i] == '\t' || s[i] == '\n' ? ' ' : s[i]);
	}
	*styles = out;
	free(stack);
	free(d);
	free(lit);
	free(drop);
	free(style);
}

/*
 * `src` wrapped to `width`: the first line starts with `first`, the others
 * with as many spaces; every span of the text gets `extra` too.
 */
static void emit_wrapped(struct markdown *m, const char *src, const char *first,
			 enum markdown_kind kind, unsigned extra, int width)
{
	struct buf plain = BUF_INIT, line = BUF_INIT;
	unsigned char *styles;
	int pw = text_width(first), w = width - pw;
	size_t off = 0;

	if (w < 1)
		w = 1;
	inline_parse(src, &plain, &styles);
	do {
		size_t next, len = text_line(plain.s + off, w, &next), i, start, alloc = 0;
		struct markdown_line *l = new_line(m, kind);

		buf_reset(&line);
		if (off)
			buf_addf(&line, "%*s", pw, "");
		else
			buf_addstr(&line, first);
		start = line.len;
		buf_add(&line, plain.s + off, len);
		add_span(l, &alloc, 0, start, 0);
		for (i = 0; i < len; i++)
			add_span(l, &alloc, start + i, 1, styles[off + i] | extra);
		l->text = xstrdup(line.s);
		if (!next)
			break;
		off += next;
	} while (off < plain.len);
	free(styles);
	buf_release(&plain);
	buf_release(&line);
}

/* a code block's line: indented two columns, tabs expanded, cut to the width */
static void emit_code(struct markdown *m, const char *s, size_t n, int width)
{
	struct markdown_line *l = new_line(m, MD_CODE_LINE);
	struct buf b = BUF_INIT;
	const char *ell = text_ellipsis();
	int w = width - 2, used = 0, ew = text_width(ell), cw, bad;
	size_t i, k, alloc = 0, keep = 0, full;

	buf_addstr(&b, "  ");
	for (i = 0; i < n; i++) {
		if (s[i] == '\t')
			buf_addf(&b, "%*s", MD_TAB - (int)(b.len - 2) % MD_TAB, "");
		else
			buf_addch(&b, s[i]);
	}
	/* how much fits; when not all of it does, the ellipsis ends it */
	full = b.len;
	for (i = 2; i < full; i += k) {
		k = text_char(b.s + i, full - i, &cw, &bad);
		if (used + cw > w)
			break;
		used += cw;
		if (used + ew <= w)
			keep = i + k;
	}
	if (i < full) {
		buf_setlen(&b, keep > 2 ? keep : 2);
		if (ew <= w)
			buf_addstr(&b, ell);
	}
	add_span(l, &alloc, 0, 2, 0);
	add_span(l, &alloc, 2, b.len - 2, MD_CODE);
	l->text = buf_detach(&b, NULL);
}

/* ---- blocks ---- */

/* a fence's character and length at `s` (after the indent), or 0 */
static size_t fence_at(const char *s, char *ch)
{
	size_t k;

	if (*s != '`' && *s != '~')
		return 0;
	k = strspn(s, *s == '`' ? "`" : "~");
	if (k < 3)
		return 0;
	*ch = *s;
	return k;
}

/* the heading's text start at `s`, or NULL */
static const char *heading_at(const char *s)
{
	size_t k = strspn(s, "#");

	if (k < 1 || k > 6 || !is_space(s[k]))
		return NULL;
	return s + k;
}

/* a list marker at `s`: its length with the space after it into *len, the marker to show */
static int item_at(const char *s, size_t *len, char *marker, size_t size)
{
	size_t k;

	if ((*s == '-' || *s == '*' || *s == '+') && (s[1] == ' ' || s[1] == '\t' || !s[1])) {
		snprintf(marker, size, "-");
		*len = s[1] ? 2 : 1;
		return 1;
	}
	k = strspn(s, "0123456789");
	if (k >= 1 && k <= 9 && (s[k] == '.' || s[k] == ')') &&
	    (s[k + 1] == ' ' || s[k + 1] == '\t' || !s[k + 1])) {
		snprintf(marker, size, "%.*s.", (int)k, s);
		*len = k + (s[k + 1] ? 2 : 1);
		return 1;
	}
	return 0;
}

struct block {
	struct markdown *m;
	size_t base;             /* m->n when this text began */
	int width;
	int gap;                 /* a blank line came before the next block */
	enum markdown_kind open; /* MD_TEXT, MD_ITEM, or MD_BLANK: none */
	struct buf text;         /* the open paragraph or item, its lines joined */
	char prefix[32];         /* its first line's start: indent and marker */
	int item_indent;         /* the last item's text column: a paragraph indented so belongs to it */
};

static void flush(struct block *b)
{
	if (b->open == MD_BLANK)
		return;
	emit_wrapped(b->m, b->text.s, b->prefix, b->open, 0, b->width);
	b->open = MD_BLANK;
	buf_reset(&b->text);
}

/* a new block begins: the blank line before it, when one is due */
static void begin(struct block *b, int force)
{
	struct markdown *m = b->m;

	flush(b);
	if (m->n > b->base && (b->gap || force) && m->v[m->n - 1].kind != MD_BLANK)
		blank(m);
	b->gap = 0;
}

static const char *trim(const char *s, size_t *n)
{
	while (*n && (*s == ' ' || *s == '\t')) {
		s++;
		(*n)--;
	}
	while (*n && (s[*n - 1] == ' ' || s[*n - 1] == '\t'))
		(*n)--;
	return s;
}

void markdown_render(struct markdown *m, const char *text, int width)
{
	struct block b;
	struct buf line = BUF_INIT;
	const char *p = text;
	char fence_ch = 0;
	size_t fence_len = 0;

	memset(&b, 0, sizeof(b));
	b.m = m;
	b.base = m->n;
	b.width = width < 1 ? 1 : width;
	b.open = MD_BLANK;
	buf_init(&b.text, 0);
	while (*p) {
		size_t n = strcspn(p, "\n"), lead, k;
		const char *s, *t;
		char ch, marker[16];

		buf_reset(&line);
		buf_add(&line, p, n && p[n - 1] == '\r' ? n - 1 : n);
		p += n + (p[n] == '\n');
		s = line.s;
		lead = strspn(s, " ");
		if (fence_len) {
			k = lead < 4 ? fence_at(s + lead, &ch) : 0;
			if (k >= fence_len && ch == fence_ch && !s[lead + k + strspn(s + lead + k, " \t")]) {
				fence_len = 0;
				b.gap = 1;
			} else {
				emit_code(m, s, line.len, b.width);
			}
			continue;
		}
		if (!s[lead + strspn(s + lead, " \t")]) {
			flush(&b);
			b.gap = 1;
			continue;
		}
		if (lead < 4 && (k = fence_at(s + lead, &fence_ch))) {
			begin(&b, 1);
			fence_len = k;
			continue;
		}
		if (lead < 4 && (t = heading_at(s + lead))) {
			size_t hn = strlen(t);

			begin(&b, 1);
			t = trim(t, &hn);
			while (hn && t[hn - 1] == '#')    /* a closing run of #s */
				hn--;
			t = trim(t, &hn);
			buf_reset(&b.text);
			buf_add(&b.text, t, hn);
			emit_wrapped(m, b.text.s, "", MD_HEADING_LINE, MD_HEADING, b.width);
			buf_reset(&b.text);
			b.gap = 1;
			b.item_indent = 0;
			continue;
		}
		if (item_at(s + lead, &k, marker, sizeof(marker))) {
			int indent = lead > MD_INDENT_MAX ? MD_INDENT_MAX : (int)lead;
			size_t rn = strlen(s + lead + k);

			begin(&b, 0);
			snprintf(b.prefix, sizeof(b.prefix), "%*s%s ", indent, "", marker);
			b.item_indent = (int)strlen(b.prefix);
			t = trim(s + lead + k, &rn);
			buf_add(&b.text, t, rn);
			b.open = MD_ITEM;
			continue;
		}
		n = line.len;
		t = trim(s, &n);
		if (b.open != MD_BLANK) {
			/* a paragraph or an item goes on */
			buf_addch(&b.text, ' ');
			buf_add(&b.text, t, n);
			continue;
		}
		k = b.item_indent && (int)lead >= b.item_indent ? (size_t)b.item_indent : 0;
		if (!k)
			b.item_indent = 0;
		begin(&b, 0);
		snprintf(b.prefix, sizeof(b.prefix), "%*s", (int)k, "");
		buf_add(&b.text, t, n);
		b.open = MD_TEXT;
	}
	flush(&b);
	while (m->n > b.base && m->v[m->n - 1].kind == MD_BLANK) {
		m->n--;
		free(m->v[m->n].text);
		free(m->v[m->n].spans);
	}
	buf_release(&b.text);
	buf_release(&line);
}
