/* xalloc: allocation that aborts on failure, and die/error/warning/BUG. */
#include "util/xalloc.h"
#include "util/buf.h"
#include "util/exitcode.h"
#include "util/quote.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

const char *progname = "pancake";
void (*die_hook)(void);
void (*die_message_hook)(const char *msg);
void (*error_message_hook)(const char *msg);

/* the message with its control bytes escaped: nothing echoed drives the terminal */
enum report_kind { R_DIE, R_ERROR, R_OTHER };

static void report(const char *prefix, const char *fmt, va_list ap, enum report_kind kind)
{
	char msg[4096];
	struct buf b = BUF_INIT;

	vsnprintf(msg, sizeof(msg), fmt, ap);
	buf_addstr(&b, prefix);
	quote_text(&b, msg);
	fprintf(stderr, "%s\n", b.s);
	if (kind == R_DIE && die_message_hook)
		die_message_hook(msg);
	if (kind == R_ERROR && error_message_hook)
		error_message_hook(msg);
	buf_release(&b);
}

void die(const char *fmt, ...)
{
	va_list ap;

	if (die_hook)
		die_hook();
	va_start(ap, fmt);
	report("fatal: ", fmt, ap, R_DIE);
	va_end(ap);
	exit(RC_FAILED);
}

int error(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	report("error: ", fmt, ap, R_ERROR);
	va_end(ap);
	return -1;
}

void warning(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	report("warning: ", fmt, ap, R_OTHER);
	va_end(ap);
}

void bug_fl(const char *file, int line, const char *fmt, ...)
{
	char prefix[256];
	va_list ap;

	if (die_hook)
		die_hook();
	snprintf(prefix, sizeof(prefix), "BUG: %s:%d: ", file, line);
	va_start(ap, fmt);
	report(prefix, fmt, ap, R_OTHER);
	va_end(ap);
	abort();
}

static void *check(void *p)
{
	if (!p) {
		if (die_hook)
			die_hook();
		fputs("fatal: out of memory\n", stderr);
		abort();
	}
	return p;
}

void *xmalloc(size_t n)
{
	return check(malloc(n ? n : 1));
}

void *xcalloc(size_t n, size_t size)
{
	return check(calloc(n ? n : 1, size ? size : 1));
}

void *xrealloc(void *p, size_t n)
{
	return check(realloc(p, n ? n : 1));
}

char *xstrdup(const char *s)
{
	return check(strdup(s));
}

char *xstrndup(const char *s, size_t n)
{
	return check(strndup(s, n));
}

char *xstrfmt(const char *fmt, ...)
{
	struct buf b = BUF_INIT;
	va_list ap;

	va_start(ap, fmt);
	buf_vaddf(&b, fmt, ap);
	va_end(ap);
	return buf_detach(&b, NULL);
}
