/* buf: a growable byte string in the style of git's strbuf. */
#include "util/buf.h"
#include "util/xalloc.h"

#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <ctype.h>

char buf_empty[1];

void buf_init(struct buf *b, size_t hint)
{
	b->s = buf_empty;
	b->len = b->alloc = 0;
	if (hint)
		buf_grow(b, hint);
}

void buf_release(struct buf *b)
{
	if (b->alloc)
		free(b->s);
	buf_init(b, 0);
}

char *buf_detach(struct buf *b, size_t *len)
{
	char *s;

	if (!b->alloc)
		buf_grow(b, 0);
	s = b->s;
	if (len)
		*len = b->len;
	buf_init(b, 0);
	return s;
}

void buf_grow(struct buf *b, size_t extra)
{
	size_t need;
	int fresh = !b->alloc;

	/* len + extra + 1 must not wrap, which extra == SIZE_MAX did to len */
	if (extra >= SIZE_MAX - b->len)
		die("buf: size overflow");
	need = b->len + extra + 1;
	if (need <= b->alloc)
		return;
	if (fresh)
		b->s = NULL;
	b->alloc = b->alloc ? b->alloc : 64;
	while (b->alloc < need)
		b->alloc = b->alloc * 3 / 2 + 16;
	b->s = xrealloc(b->s, b->alloc);
	if (fresh)
		b->s[0] = '\0';
}

void buf_reset(struct buf *b)
{
	buf_setlen(b, 0);
}

void buf_setlen(struct buf *b, size_t len)
{
	if (len > (b->alloc ? b->alloc - 1 : 0))
		BUG("buf_setlen beyond allocation");
	b->len = len;
	if (b->alloc)
		b->s[len] = '\0';
}

void buf_add(struct buf *b, const void *data, size_t len)
{
	buf_grow(b, len);
	if (len)	/* (NULL, 0) is an empty add; memcpy may not see NULL */
		memcpy(b->s + b->len, data, len);
	buf_setlen(b, b->len + len);
}

void buf_addstr(struct buf *b, const char *s)
{
	buf_add(b, s, strlen(s));
}

void buf_addch(struct buf *b, int c)
{
	buf_grow(b, 1);
	b->s[b->len++] = (char)c;
	b->s[b->len] = '\0';
}

void buf_addu64(struct buf *b, uint64_t v)
{
	char tmp[20];
	int n = 0;

	do {
		tmp[n++] = (char)('0' + v % 10);
		v /= 10;
	} while (v);
	buf_grow(b, (size_t)n);
	while (n)
		b->s[b->len++] = tmp[--n];
	b->s[b->len] = '\0';
}

/* printf's choice of digits between 1e-4 and 1e6 (scores), its own outside */
void buf_addg6(struct buf *b, double x)
{
	static const double p10[] = { 1, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9 };
	double a = fabs(x);
	int e = 0;

	if (!(a >= 1e-4 && a < 1e6)) {	/* and 0, NaN, inf */
		buf_addf(b, "%.6g", x);
		return;
	}
	if (a >= 1) {			/* e: the exponent, floor(log10(a)) */
		while (e < 5 && a >= p10[e + 1])
			e++;
	} else {
		e = -1;
		while (e > -4 && a < 1 / p10[-e])
			e--;
	}
	int dec = 5 - e;		/* decimals that make 6 digits */
	uint64_t scale = (uint64_t)p10[dec];
	double prod = a * (double)scale;	/* within 2e-10 of a * scale */
	if (fabs(prod - floor(prod) - 0.5) < 1e-9 || (e == 5 && prod >= 999999.5)) {
		/* a near-tie only exact decimals decide, or 1e+06 */
		buf_addf(b, "%.6g", x);
		return;
	}
	uint64_t v = (uint64_t)nearbyint(prod);
	uint64_t ip = v / scale, fp = v % scale;
	if (x < 0)
		buf_addch(b, '-');
	buf_addu64(b, ip);
	if (fp) {
		char d[12];
		int nd = dec;
		for (int i = dec - 1; i >= 0; i--, fp /= 10)
			d[i] = (char)('0' + fp % 10);
		while (nd > 0 && d[nd - 1] == '0')
			nd--;
		buf_addch(b, '.');
		buf_add(b, d, (size_t)nd);
	}
}

void buf_vaddf(struct buf *b, const char *fmt, va_list ap)
{
	va_list cp;
	int n;

	va_copy(cp, ap);
	n = vsnprintf(b->s + b->len, b->alloc ? b->alloc - b->len : 0, fmt, cp);
	va_end(cp);
	if (n < 0)
		BUG("vsnprintf failed");
	if ((size_t)n + 1 > (b->alloc ? b->alloc - b->len : 0)) {
		buf_grow(b, (size_t)n);
		n = vsnprintf(b->s + b->len, b->alloc - b->len, fmt, ap);
	}
	buf_setlen(b, b->len + (size_t)n);
}

void buf_addf(struct buf *b, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	buf_vaddf(b, fmt, ap);
	va_end(ap);
}

void buf_consume(struct buf *b, size_t n)
{
	if (n >= b->len) {
		buf_reset(b);
		return;
	}
	memmove(b->s, b->s + n, b->len - n);
	buf_setlen(b, b->len - n);
}

void buf_rtrim(struct buf *b)
{
	while (b->len && isspace((unsigned char)b->s[b->len - 1]))
		b->len--;
	if (b->alloc)
		b->s[b->len] = '\0';
}

int buf_read_file(struct buf *b, const char *path, size_t max)
{
	char tmp[65536];
	ssize_t n;
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	if (fd < 0)
		return -1;
	while ((n = read(fd, tmp, sizeof(tmp))) != 0) {
		if (n < 0) {
			if (errno == EINTR)
				continue;
			close(fd);
			return -1;
		}
		if (b->len + (size_t)n > max) {
			close(fd);
			errno = EFBIG;
			return -1;
		}
		buf_add(b, tmp, (size_t)n);
	}
	close(fd);
	return 0;
}

char *str_trim(char *s)
{
	char *e;

	while (isspace((unsigned char)*s))
		s++;
	e = s + strlen(s);
	while (e > s && isspace((unsigned char)e[-1]))
		*--e = '\0';
	return s;
}
