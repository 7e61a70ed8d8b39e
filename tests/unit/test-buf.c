/*
 * test-buf: util/buf, the growable byte string every module builds on:
 * its invariants (never NULL, always NUL-terminated), growth, ownership.
 */
#include "util/buf.h"
#include "util/exitcode.h"
#include "util/xalloc.h"
#include "tap.h"

#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <signal.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

/* the buffer's invariant: s set, s[len] NUL, len below alloc when owned */
static int sane(const struct buf *b)
{
	return b->s && b->s[b->len] == '\0' &&
	       (b->alloc ? b->len < b->alloc : b->len == 0 && b->s == buf_empty);
}

/* runs fn in a child; returns its exit code, or 128 + the signal */
static int child_status(void (*fn)(void))
{
	int status = -1;
	pid_t pid;

	fflush(stdout);
	pid = fork();
	if (pid < 0)
		die("fork: %s", strerror(errno));
	if (!pid) {
		/* the child's own complaint is expected: keep TAP clean */
		if (!freopen("/dev/null", "w", stderr))
			_exit(99);
		fn();
		_exit(0);
	}
	waitpid(pid, &status, 0);
	if (WIFSIGNALED(status))
		return 128 + WTERMSIG(status);
	return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

static void test_init(void)
{
	struct buf a = BUF_INIT, b;

	ok(a.s == buf_empty && a.len == 0 && a.alloc == 0,
	   "BUF_INIT points at the shared empty string, owns nothing");
	is_str(a.s, "", "BUF_INIT reads as \"\"");
	buf_init(&b, 0);
	ok(b.s == buf_empty && sane(&b), "buf_init(0) allocates nothing");
	buf_init(&b, 1000);
	ok(b.alloc >= 1001 && b.len == 0 && sane(&b),
	   "buf_init(1000) has room for 1000 bytes and the NUL (%zu)", b.alloc);
	buf_release(&b);
	ok(b.s == buf_empty && b.alloc == 0 && b.len == 0,
	   "buf_release leaves an empty buffer");
	buf_release(&b);
	buf_addstr(&b, "again");
	is_str(b.s, "again", "a released buffer is usable again");
	buf_release(&b);
	buf_release(&a);
	ok(a.s == buf_empty, "releasing a BUF_INIT buffer is harmless");
}

static void test_growth(void)
{
	struct buf b = BUF_INIT;
	char *want = xmalloc(100001);
	size_t i, grew = 0, last_alloc = 0;
	int all_sane = 1;
	const char *last;

	for (i = 0; i < 100000; i++) {
		buf_addch(&b, 'a' + (int)(i % 26));
		want[i] = (char)('a' + i % 26);
		if (!sane(&b))
			all_sane = 0;
		if (b.alloc != last_alloc) {
			grew++;
			last_alloc = b.alloc;
		}
	}
	want[i] = '\0';
	ok(all_sane, "NUL-terminated after every one of 100000 buf_addch");
	is_int(b.len, 100000, "100000 bytes kept");
	ok(!memcmp(b.s, want, 100000), "in order, none lost");
	free(want);
	ok(grew < 40, "geometric growth: %zu reallocations for 100000 bytes", grew);
	buf_release(&b);

	for (i = 0; i < 3000; i++)
		buf_add(&b, "0123456789", i % 11);
	ok(sane(&b), "buf_add of 0..10 bytes keeps the invariant");
	{
		size_t n = 0, k, off = 0;
		int same = 1;

		for (k = 0; k < 3000; k++)
			n += k % 11;
		is_int(b.len, n, "buf_add lengths add up");
		for (k = 0; k < 3000; k++) {
			if (memcmp(b.s + off, "0123456789", k % 11))
				same = 0;
			off += k % 11;
		}
		ok(same, "every buf_add's bytes at their place");
	}
	buf_release(&b);

	buf_add(&b, "a\0b", 3);
	ok(b.len == 3 && !memcmp(b.s, "a\0b", 4), "buf_add keeps NUL bytes");
	buf_add(&b, NULL, 0);
	is_int(b.len, 3, "adding nothing adds nothing");
	buf_release(&b);

	buf_grow(&b, 10);
	ok(b.alloc >= 11 && b.len == 0 && sane(&b),
	   "buf_grow on an empty buffer allocates and terminates");
	i = b.alloc;
	last = b.s;
	buf_grow(&b, b.alloc - 1);
	ok(b.alloc == i && b.s == last, "buf_grow within the room is a no-op");
	buf_grow(&b, b.alloc);
	ok(b.alloc > i, "buf_grow past the room grows");
	buf_release(&b);
	ok(buf_empty[0] == '\0', "nothing ever wrote into the shared empty string");
}

static void grow_max(void)
{
	struct buf b = BUF_INIT;

	buf_grow(&b, SIZE_MAX);
	exit(42);	/* not reached: the size cannot be had */
}

static void grow_wrap(void)
{
	struct buf b = BUF_INIT;

	buf_addstr(&b, "abc");
	buf_grow(&b, SIZE_MAX - 2);
	exit(42);
}

static void setlen_past(void)
{
	struct buf b = BUF_INIT;

	buf_addstr(&b, "abc");
	buf_setlen(&b, b.alloc);
	exit(42);
}

static void setlen_empty(void)
{
	struct buf b = BUF_INIT;

	buf_setlen(&b, 1);
	exit(42);
}

static void test_caps(void)
{
	is_int(child_status(grow_max), RC_FAILED,
	       "buf_grow(SIZE_MAX) dies of the overflow rather than returning");
	is_int(child_status(grow_wrap), RC_FAILED,
	       "buf_grow whose length + extra wraps dies");
	is_int(child_status(setlen_past), 128 + SIGABRT,
	       "buf_setlen to the allocation size (no room for the NUL) is a BUG");
	is_int(child_status(setlen_empty), 128 + SIGABRT,
	       "buf_setlen(1) on an unallocated buffer is a BUG");
}

static void test_setlen_reset(void)
{
	struct buf b = BUF_INIT;
	size_t alloc;

	buf_addstr(&b, "hello world");
	buf_setlen(&b, 5);
	ok(b.len == 5 && !strcmp(b.s, "hello"), "buf_setlen cuts and terminates");
	buf_grow(&b, 3);
	memcpy(b.s + b.len, "!!!", 3);
	buf_setlen(&b, b.len + 3);
	is_str(b.s, "hello!!!", "buf_setlen after writing into the room");
	alloc = b.alloc;
	buf_reset(&b);
	ok(b.len == 0 && b.s[0] == '\0' && b.alloc == alloc,
	   "buf_reset empties but keeps the memory");
	buf_release(&b);
	buf_reset(&b);
	ok(b.s == buf_empty && b.len == 0, "buf_reset of an unallocated buffer");
	buf_setlen(&b, 0);
	ok(b.s == buf_empty, "buf_setlen(0) on it writes nothing");
}

static void test_detach(void)
{
	struct buf b = BUF_INIT;
	size_t len = 99;
	char *s;

	buf_addstr(&b, "owned");
	s = buf_detach(&b, &len);
	ok(!strcmp(s, "owned") && len == 5, "buf_detach hands the string and length");
	if (!ok(b.s == buf_empty && b.len == 0 && b.alloc == 0,
		"and leaves the buffer reset"))
		return;	/* the rest would free `s` twice */
	buf_addstr(&b, "fresh");
	ok(b.s != s && !strcmp(s, "owned"),
	   "the buffer no longer uses the detached memory");
	free(s);
	buf_release(&b);

	s = buf_detach(&b, &len);
	ok(s != buf_empty && s[0] == '\0' && len == 0,
	   "detaching an empty buffer gives a new \"\", never buf_empty");
	free(s);		/* a crash here under ASan would mean buf_empty */
	s = buf_detach(&b, NULL);
	ok(s && !*s, "the length is optional");
	free(s);
}

static void test_addf(void)
{
	struct buf b = BUF_INIT;
	char big[5000];

	buf_addf(&b, "%s=%d", "n", 42);
	is_str(b.s, "n=42", "buf_addf formats");
	buf_addf(&b, ", %05.1f|%x|%c", 3.14159, 255u, 'z');
	is_str(b.s, "n=42, 003.1|ff|z", "buf_addf appends");
	buf_reset(&b);
	buf_addf(&b, "%s", "");
	ok(b.len == 0 && sane(&b), "an empty format result keeps the buffer sane");
	memset(big, 'x', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	buf_addstr(&b, "<");
	buf_addf(&b, "%s>", big);
	ok(b.len == 5001 && b.s[0] == '<' && b.s[4999] == 'x' &&
	   b.s[5000] == '>' && sane(&b),
	   "buf_addf growing past the room mid-format gives all of it");
	buf_release(&b);
	/* exactly at the edge: room for the text but not its NUL */
	buf_grow(&b, 9);
	buf_setlen(&b, 0);
	{
		size_t room = b.alloc - 1;
		char *fill = xmalloc(room + 1);
		memset(fill, 'y', room);
		fill[room] = '\0';
		buf_addf(&b, "%s", fill);
		ok(b.len == room && !strcmp(b.s, fill), "buf_addf filling the room exactly");
		buf_addf(&b, "%d", 7);
		ok(b.len == room + 1 && b.s[room] == '7' && sane(&b),
		   "and one more byte after it");
		free(fill);
	}
	buf_release(&b);
}

static void vadd(struct buf *b, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
static void vadd(struct buf *b, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	buf_vaddf(b, fmt, ap);
	va_end(ap);
}

static void test_vaddf(void)
{
	struct buf b = BUF_INIT;
	char long_arg[300];

	memset(long_arg, 'q', sizeof(long_arg) - 1);
	long_arg[sizeof(long_arg) - 1] = '\0';
	/* the first vsnprintf runs out of room: the va_list must be reused */
	vadd(&b, "[%s|%d]", long_arg, 5);
	ok(b.len == 299 + 4 && b.s[0] == '[' && !memcmp(b.s + 300, "|5]", 3),
	   "buf_vaddf retries with a copy of its arguments");
	buf_release(&b);
}

static void test_numbers(void)
{
	static const uint64_t u[] = { 0, 1, 9, 10, 99, 100, 4294967295u,
				      4294967296u, UINT64_MAX };
	struct buf b = BUF_INIT;
	char want[32];
	size_t i;
	int good = 0;

	for (i = 0; i < ARRAY_SIZE(u); i++) {
		buf_reset(&b);
		buf_addstr(&b, "=");
		buf_addu64(&b, u[i]);
		snprintf(want, sizeof(want), "=%llu", (unsigned long long)u[i]);
		if (!strcmp(b.s, want) && sane(&b))
			good++;
		else
			printf("# buf_addu64: got '%s', want '%s'\n", b.s, want);
	}
	is_int(good, ARRAY_SIZE(u), "buf_addu64 writes what %%llu writes, to 2^64-1");
	buf_release(&b);
}

static int g6_same(struct buf *b, double x)
{
	char want[64];

	buf_reset(b);
	buf_addg6(b, x);
	snprintf(want, sizeof(want), "%.6g", x);
	if (strcmp(b->s, want)) {
		printf("# buf_addg6(%.17g): got '%s', want '%s'\n", x, b->s, want);
		return 0;
	}
	return 1;
}

static void test_g6(void)
{
	static const double edge[] = {
		0.0, -0.0, 1, -1, 0.5, 1e-4, 9.99999e-5, 1e-5, 999999.4,
		999999.5, 999999.6, 1e6, 123456.5, 0.1, 0.3, 2.5, 1.0000005,
		0.00012345649999, 3.14159265358979, 100000, 12345.65,
	};
	struct buf b = BUF_INIT;
	unsigned seed = 7;
	size_t i, good = 0, n = 0;

	for (i = 0; i < ARRAY_SIZE(edge); i++, n++)
		good += (size_t)g6_same(&b, edge[i]);
	good += (size_t)g6_same(&b, NAN);
	good += (size_t)g6_same(&b, INFINITY);
	good += (size_t)g6_same(&b, -INFINITY);
	n += 3;
	is_int(good, n, "buf_addg6 matches %%.6g on edges, ties, NaN and inf");

	good = 0;
	for (i = 0; i < 200000; i++) {
		double x;
		int e;

		seed = seed * 1103515245u + 12345u;
		e = (int)(seed >> 16) % 14 - 6;	/* 1e-6 .. 1e7 */
		seed = seed * 1103515245u + 12345u;
		x = (double)(seed >> 8) / (double)(1u << 24) * pow(10, e);
		if (i & 1)
			x = -x;
		if (i % 7 == 0)		/* short decimals: the near-ties */
			x = round(x * 1000) / 1000;
		good += (size_t)g6_same(&b, x);
	}
	is_int(good, 200000, "buf_addg6 matches %%.6g on 200000 random values");
	buf_release(&b);
}

static void test_consume_trim(void)
{
	struct buf b = BUF_INIT;
	char s1[] = "  \t padded \n ", s2[] = "   ", s3[] = "x";

	buf_addstr(&b, "header: body");
	buf_consume(&b, 8);
	ok(b.len == 4 && !strcmp(b.s, "body"), "buf_consume drops the front");
	buf_consume(&b, 0);
	is_str(b.s, "body", "consuming 0 keeps all");
	buf_consume(&b, 4);
	ok(b.len == 0 && b.s[0] == '\0', "consuming all empties");
	buf_addstr(&b, "ab");
	buf_consume(&b, 100);
	ok(b.len == 0 && sane(&b), "consuming more than there is empties");
	buf_release(&b);
	buf_consume(&b, 1);
	ok(b.s == buf_empty, "consuming from an unallocated buffer is harmless");

	buf_addstr(&b, "line \t\r\n\n");
	buf_rtrim(&b);
	ok(b.len == 4 && !strcmp(b.s, "line"), "buf_rtrim drops trailing blanks");
	buf_reset(&b);
	buf_addstr(&b, " \n ");
	buf_rtrim(&b);
	ok(b.len == 0 && b.s[0] == '\0', "buf_rtrim of blanks only empties");
	buf_release(&b);
	buf_rtrim(&b);
	ok(b.s == buf_empty && b.len == 0, "buf_rtrim of an unallocated buffer");

	is_str(str_trim(s1), "padded", "str_trim drops both ends");
	is_str(str_trim(s2), "", "str_trim of blanks only");
	ok(str_trim(s3) == s3, "str_trim of nothing to trim returns s itself");
}

static char *tmpdir;

static char *write_tmp(const char *name, size_t size)
{
	char *path = xstrfmt("%s/%s", tmpdir, name);
	FILE *f = fopen(path, "wb");
	size_t i;

	if (!f)
		die("cannot write '%s': %s", path, strerror(errno));
	for (i = 0; i < size; i++)
		fputc('0' + (int)(i % 10), f);
	fclose(f);
	return path;
}

static void test_read_file(void)
{
	struct buf b = BUF_INIT;
	char *big = write_tmp("big", 200000);
	char *empty = write_tmp("empty", 0);
	char *missing = xstrfmt("%s/missing", tmpdir);
	size_t i;
	int same = 1;

	is_int(buf_read_file(&b, big, 200000), 0,
	       "a file of exactly the cap is read (over several read()s)");
	is_int(b.len, 200000, "all of it");
	for (i = 0; i < b.len; i++)
		if (b.s[i] != '0' + (int)(i % 10))
			same = 0;
	ok(same && sane(&b), "byte for byte, NUL-terminated");
	buf_reset(&b);
	errno = 0;
	is_int(buf_read_file(&b, big, 199999), -1, "one byte over the cap fails");
	is_int(errno, EFBIG, "with EFBIG");
	buf_reset(&b);
	buf_addstr(&b, "prefix:");
	is_int(buf_read_file(&b, empty, 10), 0, "an empty file reads");
	is_str(b.s, "prefix:", "and appends nothing to what was there");
	buf_reset(&b);
	errno = 0;
	is_int(buf_read_file(&b, missing, 10), -1, "a missing file fails");
	is_int(errno, ENOENT, "with ENOENT");
	is_int(buf_read_file(&b, tmpdir, 10), -1, "a directory fails");
	buf_release(&b);
	free(big);
	free(empty);
	free(missing);
}

int main(void)
{
	char tmpl[] = "/tmp/test-buf.XXXXXX";

	tmpdir = mkdtemp(tmpl);
	if (!tmpdir)
		die("mkdtemp: %s", strerror(errno));
	test_init();
	test_growth();
	test_caps();
	test_setlen_reset();
	test_detach();
	test_addf();
	test_vaddf();
	test_numbers();
	test_g6();
	test_consume_trim();
	test_read_file();
	tap_rmtree(tmpdir);
	return tap_done();
}
