/* buf: a growable byte string in the style of git's strbuf. */
#ifndef PANCAKE_BUF_H
#define PANCAKE_BUF_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

/*
 * A buf is never NULL after BUF_INIT or buf_init(): `s` always points at a
 * NUL-terminated string (possibly the shared empty one). buf_detach() is the
 * one way to take the memory; buf_release() frees it.
 */
struct buf {
	char *s;
	size_t len;
	size_t alloc;
};

extern char buf_empty[];
#define BUF_INIT { buf_empty, 0, 0 }

void buf_init(struct buf *b, size_t hint);
void buf_release(struct buf *b);
/* new string (free with free()); `b` is reset to empty */
char *buf_detach(struct buf *b, size_t *len);
void buf_grow(struct buf *b, size_t extra);
void buf_reset(struct buf *b);
void buf_setlen(struct buf *b, size_t len);
void buf_add(struct buf *b, const void *data, size_t len);
void buf_addstr(struct buf *b, const char *s);
void buf_addch(struct buf *b, int c);
/* the decimal digits of `v`, without printf (hot paths) */
void buf_addu64(struct buf *b, uint64_t v);
/* `x` as "%.6g" writes it (same bytes on millions of random values), with
 * printf only outside 1e-4..1e6: for hot paths */
void buf_addg6(struct buf *b, double x);
void buf_addf(struct buf *b, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
void buf_vaddf(struct buf *b, const char *fmt, va_list ap);
/* drops the first `n` bytes */
void buf_consume(struct buf *b, size_t n);
void buf_rtrim(struct buf *b);
/* trims blanks from both ends of a C string in place; returns the new start */
char *str_trim(char *s);
/* reads a whole file; returns 0 or -1 with errno set; caps at `max` bytes */
int buf_read_file(struct buf *b, const char *path, size_t max);

#endif
