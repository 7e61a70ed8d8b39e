/* xalloc: allocation that aborts on failure, and die/error/warning/BUG. */
#ifndef PANCAKE_XALLOC_H
#define PANCAKE_XALLOC_H

#include <stddef.h>
#include <stdlib.h>

void *xmalloc(size_t n);
void *xcalloc(size_t n, size_t size);
void *xrealloc(void *p, size_t n);
char *xstrdup(const char *s);
char *xstrndup(const char *s, size_t n);
/* new string (free with free()) */
char *xstrfmt(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

#define ALLOC_GROW(p, n, alloc) do { \
	if ((n) > (alloc)) { \
		(alloc) = (alloc) * 2 + 8 > (n) ? (alloc) * 2 + 8 : (n); \
		(p) = xrealloc((p), (alloc) * sizeof(*(p))); \
	} } while (0)

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

/* The program's name in messages ("pancake"). */
extern const char *progname;

/* prints "fatal: ..." and exits with RC_FAILED (exitcode.h) */
__attribute__((noreturn, format(printf, 1, 2)))
void die(const char *fmt, ...);
/* prints "error: ..." and returns -1 */
__attribute__((format(printf, 1, 2)))
int error(const char *fmt, ...);
__attribute__((format(printf, 1, 2)))
void warning(const char *fmt, ...);
#define BUG(...) bug_fl(__FILE__, __LINE__, __VA_ARGS__)
__attribute__((noreturn, format(printf, 3, 4)))
void bug_fl(const char *file, int line, const char *fmt, ...);
/* called by die() before it prints, e.g. to restore the terminal */
extern void (*die_hook)(void);
/* called by die() with its message once printed (e.g. to print it as JSON too) */
extern void (*die_message_hook)(const char *msg);
/* called by error() with its message once printed (e.g. to report it elsewhere too) */
extern void (*error_message_hook)(const char *msg);

#endif
