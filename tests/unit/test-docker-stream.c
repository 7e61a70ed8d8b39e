/* test-docker-stream: log/exec frame demux, progress JSON lines and event lines. */
#include "clients/docker-stream.h"
#include "util/buf.h"
#include "util/xalloc.h"
#include "tap.h"

#include <stdint.h>
#include <string.h>

/* ---- demux ---- */

/* every delivered frame as "S[payload]" so two runs compare as strings */
struct frames {
	struct buf log;
	int calls;
};

static void on_frame(int stream, const char *data, size_t len, void *ctx)
{
	struct frames *f = ctx;

	f->calls++;
	buf_addf(&f->log, "%d[", stream);
	buf_add(&f->log, data, len);
	buf_addch(&f->log, ']');
}

static void header(struct buf *b, unsigned stream, uint32_t size)
{
	buf_addch(b, (int)stream);
	buf_addch(b, 0);
	buf_addch(b, 0);
	buf_addch(b, 0);
	buf_addch(b, (int)(size >> 24 & 0xff));
	buf_addch(b, (int)(size >> 16 & 0xff));
	buf_addch(b, (int)(size >> 8 & 0xff));
	buf_addch(b, (int)(size & 0xff));
}

static void frame(struct buf *b, unsigned stream, const char *payload, size_t len)
{
	header(b, stream, (uint32_t)len);
	buf_add(b, payload, len);
}

/* feeds `in` cut at the given offsets; returns the frames seen and feed failures */
static int demux_run(const struct buf *in, const size_t *cuts, size_t ncuts,
		     struct buf *log, size_t *pending_left)
{
	struct docker_demux dm;
	struct frames f = { BUF_INIT, 0 };
	struct buf err = BUF_INIT;
	size_t prev = 0, i;
	int failures = 0;

	docker_demux_init(&dm, 0, on_frame, &f);
	for (i = 0; i <= ncuts; i++) {
		size_t end = i < ncuts ? cuts[i] : in->len;
		if (docker_demux_feed(&dm, in->s + prev, end - prev, &err))
			failures++;
		prev = end;
	}
	*pending_left = docker_demux_pending(&dm);
	buf_addstr(log, f.log.s);
	docker_demux_release(&dm);
	buf_release(&f.log);
	buf_release(&err);
	return failures;
}

static void test_demux_basic(void)
{
	struct buf in = BUF_INIT, log = BUF_INIT;
	size_t left = 99;

	frame(&in, DOCKER_STDOUT, "hello\n", 6);
	frame(&in, DOCKER_STDERR, "oops\n", 5);
	frame(&in, DOCKER_STDOUT, "bye", 3);
	is_int(demux_run(&in, NULL, 0, &log, &left), 0, "demux: stdout/stderr frames in one feed accepted");
	is_str(log.s, "1[hello\n]2[oops\n]1[bye]", "demux: each frame delivered once with its stream id");
	is_int(left, 0, "demux: nothing pending after whole frames");
	buf_release(&in);
	buf_release(&log);
}

static void test_demux_splits(void)
{
	struct buf in = BUF_INIT, whole = BUF_INIT;
	size_t left, i, *cuts;
	int bad_two = 0, bad_one = 0;
	char big[300];

	for (i = 0; i < sizeof(big); i++)
		big[i] = (char)('a' + i % 26);
	frame(&in, DOCKER_STDOUT, "line one\n", 9);
	frame(&in, DOCKER_STDERR, "", 0);
	frame(&in, DOCKER_STDERR, "warn\n", 5);
	frame(&in, DOCKER_STDOUT, big, sizeof(big)); /* size byte 6 is nonzero */
	frame(&in, DOCKER_STDOUT, "\0binary\0", 8);
	demux_run(&in, NULL, 0, &whole, &left);
	ok(whole.len > 300, "splits: reference run delivered the frames (%zu bytes of log)", whole.len);

	/* every 2-way split */
	for (i = 0; i <= in.len; i++) {
		struct buf log = BUF_INIT;
		int fails = demux_run(&in, &i, 1, &log, &left);
		if (fails || left || log.len != whole.len || memcmp(log.s, whole.s, log.len)) {
			if (!bad_two)
				printf("# 2-way split at %zu differs\n", i);
			bad_two++;
		}
		buf_release(&log);
	}
	is_int(bad_two, 0, "splits: all %zu two-way splits give the same frames", in.len + 1);

	/* one byte at a time */
	cuts = xcalloc(in.len, sizeof(*cuts));
	for (i = 0; i < in.len; i++)
		cuts[i] = i;
	{
		struct buf log = BUF_INIT;
		bad_one = demux_run(&in, cuts, in.len, &log, &left);
		is_int(bad_one, 0, "splits: byte-at-a-time feeding never fails");
		is_str(log.s, whole.s, "splits: byte-at-a-time gives the same frames");
		is_int(left, 0, "splits: nothing pending at the end");
		buf_release(&log);
	}
	free(cuts);
	buf_release(&in);
	buf_release(&whole);
}

static void test_demux_partial_pending(void)
{
	struct docker_demux dm;
	struct frames f = { BUF_INIT, 0 };
	struct buf in = BUF_INIT, err = BUF_INIT;

	frame(&in, DOCKER_STDOUT, "abcdef", 6);
	docker_demux_init(&dm, 0, on_frame, &f);
	is_int(docker_demux_feed(&dm, in.s, 10, &err), 0, "pending: half a frame accepted");
	is_int(f.calls, 0, "pending: half a frame not delivered");
	is_int(docker_demux_pending(&dm), 10, "pending: header and 2 payload bytes buffered");
	is_int(docker_demux_feed(&dm, in.s + 10, in.len - 10, &err), 0, "pending: rest accepted");
	is_str(f.log.s, "1[abcdef]", "pending: frame delivered whole once complete");
	is_int(docker_demux_pending(&dm), 0, "pending: emptied");
	docker_demux_release(&dm);
	buf_release(&f.log);
	buf_release(&in);
	buf_release(&err);
}

static void test_demux_zero_length(void)
{
	struct docker_demux dm;
	struct frames f = { BUF_INIT, 0 };
	struct buf in = BUF_INIT, err = BUF_INIT;

	frame(&in, DOCKER_STDOUT, "", 0);
	docker_demux_init(&dm, 0, on_frame, &f);
	is_int(docker_demux_feed(&dm, in.s, in.len, &err), 0, "zero-length: frame accepted");
	is_int(f.calls, 0, "zero-length: no empty callback");
	is_int(docker_demux_pending(&dm), 0, "zero-length: header consumed");
	buf_reset(&in);
	frame(&in, DOCKER_STDERR, "x", 1);
	is_int(docker_demux_feed(&dm, in.s, in.len, &err), 0, "zero-length: next frame accepted");
	is_str(f.log.s, "2[x]", "zero-length: next frame delivered intact");
	is_int(err.len, 0, "zero-length: no error text");
	docker_demux_release(&dm);
	buf_release(&f.log);
	buf_release(&in);
	buf_release(&err);
}

static void expect_too_big(uint32_t size, const char *digits)
{
	struct docker_demux dm;
	struct frames f = { BUF_INIT, 0 };
	struct buf in = BUF_INIT, err = BUF_INIT;

	header(&in, DOCKER_STDOUT, size);
	buf_addstr(&in, "payload");
	docker_demux_init(&dm, 0, on_frame, &f);
	is_int(docker_demux_feed(&dm, in.s, in.len, &err), -1, "huge frame: size %s refused", digits);
	ok(strstr(err.s, digits) != NULL, "huge frame: error names the size as unsigned %s: '%s'",
	   digits, err.s);
	ok(strstr(err.s, "limit") != NULL, "huge frame: error names the limit");
	is_int(f.calls, 0, "huge frame: nothing delivered for %s", digits);
	docker_demux_release(&dm);
	buf_release(&f.log);
	buf_release(&in);
	buf_release(&err);
}

static void test_demux_huge(void)
{
	struct docker_demux dm;
	struct frames f = { BUF_INIT, 0 };
	struct buf in = BUF_INIT, err = BUF_INIT;

	expect_too_big(0x80000000u, "2147483648");
	expect_too_big(0xffffffffu, "4294967295");
	expect_too_big(DOCKER_FRAME_MAX + 1, "16777217");

	/* exactly the limit is allowed: it waits for the payload */
	header(&in, DOCKER_STDOUT, DOCKER_FRAME_MAX);
	docker_demux_init(&dm, 0, on_frame, &f);
	is_int(docker_demux_feed(&dm, in.s, in.len, &err), 0, "huge frame: DOCKER_FRAME_MAX itself accepted");
	is_int(docker_demux_pending(&dm), 8, "huge frame: DOCKER_FRAME_MAX header waits for its payload");
	docker_demux_release(&dm);
	buf_release(&f.log);
	buf_release(&in);
	buf_release(&err);
}

static void test_demux_malformed(void)
{
	struct docker_demux dm;
	struct frames f = { BUF_INIT, 0 };
	struct buf in = BUF_INIT, err = BUF_INIT;

	frame(&in, DOCKER_STDOUT, "ok", 2);
	frame(&in, 7, "bad", 3);
	docker_demux_init(&dm, 0, on_frame, &f);
	is_int(docker_demux_feed(&dm, in.s, in.len, &err), -1, "malformed: stream byte 7 refused");
	ok(strstr(err.s, "stream byte 7") != NULL, "malformed: error names the byte: '%s'", err.s);
	ok(strstr(err.s, "TTY") != NULL, "malformed: error suggests the TTY cause");
	is_str(f.log.s, "1[ok]", "malformed: the good frame before it was delivered, the bad one not");
	docker_demux_release(&dm);

	/* nonzero padding bytes are also a sign of a raw stream */
	buf_reset(&in);
	buf_reset(&err);
	buf_addstr(&in, "\x01hello world");
	docker_demux_init(&dm, 0, on_frame, &f);
	is_int(docker_demux_feed(&dm, in.s, in.len, &err), -1, "malformed: nonzero padding refused");
	ok(err.len > 0, "malformed: padding error has a message");
	docker_demux_release(&dm);
	buf_release(&f.log);
	buf_release(&in);
	buf_release(&err);
}

static void test_demux_raw_and_stdin(void)
{
	struct docker_demux dm;
	struct frames f = { BUF_INIT, 0 };
	struct buf in = BUF_INIT, err = BUF_INIT;

	/* in TTY mode even header-like bytes are plain output */
	frame(&in, DOCKER_STDERR, "x", 1);
	docker_demux_init(&dm, 1, on_frame, &f);
	is_int(docker_demux_feed(&dm, in.s, 4, &err), 0, "raw: first part accepted");
	is_int(docker_demux_feed(&dm, in.s + 4, in.len - 4, &err), 0, "raw: second part accepted");
	is_int(f.calls, 2, "raw: one callback per feed");
	{
		struct buf want = BUF_INIT;
		buf_addstr(&want, "1[");
		buf_add(&want, in.s, 4);
		buf_addstr(&want, "]1[");
		buf_add(&want, in.s + 4, in.len - 4);
		buf_addch(&want, ']');
		ok(f.log.len == want.len && !memcmp(f.log.s, want.s, want.len),
		   "raw: bytes passed through unchanged as stdout");
		buf_release(&want);
	}
	is_int(docker_demux_pending(&dm), 0, "raw: nothing buffered");
	docker_demux_release(&dm);

	buf_reset(&f.log);
	buf_reset(&in);
	frame(&in, DOCKER_STDIN, "in", 2);
	frame(&in, DOCKER_SYSERR, "sys", 3);
	docker_demux_init(&dm, 0, on_frame, &f);
	is_int(docker_demux_feed(&dm, in.s, in.len, &err), 0, "stdin: stream 0 accepted");
	is_str(f.log.s, "1[in]3[sys]", "stdin: stream 0 reported as stdout, stream 3 kept");
	docker_demux_release(&dm);
	buf_release(&f.log);
	buf_release(&in);
	buf_release(&err);
}

/* ---- progress JSON lines ---- */

struct seen {
	struct buf log;   /* "status|stream|id|aux|error|cur/total\n" per object */
	int calls;
};

static void on_progress(const struct docker_progress *p, void *ctx)
{
	struct seen *s = ctx;

	s->calls++;
	buf_addf(&s->log, "%s|%s|%s|%s|%s|%lld/%lld\n", p->status ? p->status : "-",
		 p->stream ? p->stream : "-", p->id ? p->id : "-",
		 p->aux_id ? p->aux_id : "-", p->error ? p->error : "-",
		 p->current, p->total);
}

static int feed_str(struct docker_jsonlines *jl, const char *s)
{
	return docker_jsonlines_feed(jl, s, strlen(s));
}

static void test_progress_status(void)
{
	/* recorded from POST /images/create, CRLF-terminated as the engine sends */
	static const char rec[] =
		"{\"status\":\"Pulling from library/redis\",\"id\":\"7.2\"}\r\n"
		"{\"status\":\"Downloading\",\"progressDetail\":{\"current\":1024,\"total\":4096},"
		"\"progress\":\"[====>   ]\",\"id\":\"a2abf6c4d29d\"}\r\n"
		"{\"aux\":{\"ID\":\"sha256:0123abcd\"}}\r\n"
		"{\"status\":\"Loaded image: pancake/redis:7\"}\r\n";
	struct docker_jsonlines jl;
	struct seen s = { BUF_INIT, 0 };
	struct buf err = BUF_INIT;

	docker_jsonlines_init(&jl, on_progress, &s);
	is_int(docker_jsonlines_feed(&jl, rec, strlen(rec)), 0, "progress: stream accepted");
	is_int(docker_jsonlines_finish(&jl, &err), 0, "progress: clean stream finishes with 0");
	is_int(err.len, 0, "progress: no error text on success");
	is_str(s.log.s,
	       "Pulling from library/redis|-|7.2|-|-|0/0\n"
	       "Downloading|-|a2abf6c4d29d|-|-|1024/4096\n"
	       "-|-|-|sha256:0123abcd|-|0/0\n"
	       "Loaded image: pancake/redis:7|-|-|-|-|0/0\n",
	       "progress: status, id, progressDetail and aux.ID parsed per object");
	is_str(jl.last_id.s, "sha256:0123abcd", "progress: aux ID captured");
	is_str(jl.last_text.s, "Loaded image: pancake/redis:7", "progress: last text line kept");
	is_int(jl.malformed, 0, "progress: no malformed lines");
	docker_jsonlines_release(&jl);
	buf_release(&s.log);
	buf_release(&err);
}

static void test_progress_error_in_200(void)
{
	static const char rec[] =
		"{\"status\":\"Loading layer\",\"id\":\"5f70bf18a086\"}\r\n"
		"{\"stream\":\"Loaded image ID: sha256:aaaa\\n\"}\r\n"
		"{\"errorDetail\":{\"message\":\"boom\"},\"error\":\"boom\"}\r\n";
	struct docker_jsonlines jl;
	struct seen s = { BUF_INIT, 0 };
	struct buf err = BUF_INIT;

	docker_jsonlines_init(&jl, on_progress, &s);
	is_int(docker_jsonlines_feed(&jl, rec, strlen(rec)), 0, "error-in-200: feed itself succeeds");
	is_int(docker_jsonlines_finish(&jl, &err), -1, "error-in-200: finish reports the failure");
	is_str(err.s, "boom", "error-in-200: err is the stream's error message");
	is_int(s.calls, 3, "error-in-200: the normal lines were still delivered");
	ok(strstr(s.log.s, "|boom|") != NULL, "error-in-200: callback saw the error object");
	docker_jsonlines_release(&jl);
	buf_release(&s.log);
	buf_release(&err);
}

static void test_progress_build_failure(void)
{
	static const char msg[] = "The command '/bin/sh -c false' returned a non-zero code: 1";
	static const char rec[] =
		"{\"stream\":\"Step 1/5 : FROM busybox\"}\r\n"
		"{\"stream\":\"\\n\"}\r\n"
		"{\"stream\":\" ---\\u003e a416a98b71e2\\n\"}\r\n"
		"{\"stream\":\"Step 2/5 : RUN false\\n\"}\r\n"
		"{\"stream\":\" ---\\u003e Running in 7f3c5b0b2e3a\\n\"}\r\n"
		"{\"errorDetail\":{\"code\":1,\"message\":\"The command '/bin/sh -c false' "
		"returned a non-zero code: 1\"},\"error\":\"The command '/bin/sh -c false' "
		"returned a non-zero code: 1\"}\r\n"
		"{\"stream\":\"later noise\\n\"}\r\n"
		"{\"error\":\"a second error\"}\r\n";
	struct docker_jsonlines jl;
	struct buf err = BUF_INIT;

	docker_jsonlines_init(&jl, NULL, NULL);
	docker_jsonlines_feed(&jl, rec, strlen(rec));
	is_int(docker_jsonlines_finish(&jl, &err), -1, "build failure: finish fails");
	is_str(err.s, msg, "build failure: err is errorDetail.message of the first error");
	docker_jsonlines_release(&jl);

	/* "error" without errorDetail, and an "error" that is not a string */
	buf_reset(&err);
	docker_jsonlines_init(&jl, NULL, NULL);
	feed_str(&jl, "{\"error\":\"only error\\n\"}\n");
	is_int(docker_jsonlines_finish(&jl, &err), -1, "bare error: finish fails");
	is_str(err.s, "only error", "bare error: 'error' used and trimmed when errorDetail is absent");
	docker_jsonlines_release(&jl);

	buf_reset(&err);
	docker_jsonlines_init(&jl, NULL, NULL);
	feed_str(&jl, "{\"error\":{}}\n");
	is_int(docker_jsonlines_finish(&jl, &err), -1, "odd error: non-string 'error' still fails");
	ok(err.len > 0, "odd error: a message is given: '%s'", err.s);
	docker_jsonlines_release(&jl);
	buf_release(&err);
}

static void test_progress_last_line_and_splits(void)
{
	static const char rec[] =
		"{\"status\":\"Pulling fs layer\",\"id\":\"l1\"}\n"
		"{\"status\":\"Download complete\",\"id\":\"l1\"}\n"
		"{\"aux\":{\"ID\":\"sha256:feed\"}}";   /* no final newline */
	struct docker_jsonlines jl;
	struct seen s = { BUF_INIT, 0 }, whole = { BUF_INIT, 0 };
	struct buf err = BUF_INIT;
	size_t i, n = strlen(rec);
	int bad = 0;

	docker_jsonlines_init(&jl, on_progress, &whole);
	docker_jsonlines_feed(&jl, rec, n);
	is_int(whole.calls, 2, "last line: unterminated object waits for finish");
	is_int(docker_jsonlines_finish(&jl, &err), 0, "last line: finish succeeds");
	is_int(whole.calls, 3, "last line: unterminated object parsed at finish");
	is_str(jl.last_id.s, "sha256:feed", "last line: its aux ID captured");
	docker_jsonlines_release(&jl);

	for (i = 0; i <= n; i++) {
		buf_reset(&s.log);
		s.calls = 0;
		docker_jsonlines_init(&jl, on_progress, &s);
		docker_jsonlines_feed(&jl, rec, i);
		docker_jsonlines_feed(&jl, rec + i, n - i);
		if (docker_jsonlines_finish(&jl, &err) || strcmp(s.log.s, whole.log.s))
			bad++;
		docker_jsonlines_release(&jl);
	}
	is_int(bad, 0, "splits: objects split across two feeds at every byte parse the same");

	buf_reset(&s.log);
	s.calls = 0;
	docker_jsonlines_init(&jl, on_progress, &s);
	for (i = 0; i < n; i++)
		docker_jsonlines_feed(&jl, rec + i, 1);
	is_int(docker_jsonlines_finish(&jl, &err), 0, "splits: byte-at-a-time finishes cleanly");
	is_str(s.log.s, whole.log.s, "splits: byte-at-a-time gives the same objects");
	docker_jsonlines_release(&jl);
	buf_release(&s.log);
	buf_release(&whole.log);
	buf_release(&err);
}

static void test_progress_not_json(void)
{
	static const char rec[] =
		"{\"status\":\"Loading layer\"}\n"
		"Error processing tar file(exit status 1): unexpected EOF\r\n"
		"{\"status\":\"after\"}\n";
	struct docker_jsonlines jl;
	struct seen s = { BUF_INIT, 0 };
	struct buf err = BUF_INIT;

	docker_jsonlines_init(&jl, on_progress, &s);
	docker_jsonlines_feed(&jl, rec, strlen(rec));
	is_int(jl.malformed, 1, "not JSON: one malformed line counted");
	is_int(s.calls, 2, "not JSON: the JSON lines around it still delivered");
	is_int(docker_jsonlines_finish(&jl, &err), -1, "not JSON: finish fails");
	is_str(err.s, "Error processing tar file(exit status 1): unexpected EOF",
	       "not JSON: the plain text line is the error, trimmed");
	docker_jsonlines_release(&jl);
	buf_release(&s.log);
	buf_release(&err);
}

static void test_progress_overlong(void)
{
	struct docker_jsonlines jl;
	struct buf err = BUF_INIT, big = BUF_INIT;

	buf_addch(&big, '{');
	while (big.len <= DOCKER_LINE_MAX)
		buf_addstr(&big, "                ");
	docker_jsonlines_init(&jl, NULL, NULL);
	is_int(docker_jsonlines_feed(&jl, big.s, big.len), -1, "overlong: a line over DOCKER_LINE_MAX refused");
	is_int(docker_jsonlines_finish(&jl, &err), -1, "overlong: finish fails");
	ok(strstr(err.s, "longer than") != NULL, "overlong: error says the line is too long: '%.60s'", err.s);
	docker_jsonlines_release(&jl);
	buf_release(&err);
	buf_release(&big);
}

/* ---- event lines ---- */

static void on_line(char *line, size_t len, void *ctx)
{
	struct buf *b = ctx;

	ok(strlen(line) == len, "lines: line '%s' is NUL-terminated at its length", line);
	buf_addf(b, "<%s>", line);
}

static int lines_str(struct docker_lines *dl, const char *s, struct buf *err)
{
	return docker_lines_feed(dl, s, strlen(s), err);
}

static void test_lines(void)
{
	struct docker_lines dl;
	struct buf got = BUF_INIT, err = BUF_INIT, big = BUF_INIT;

	docker_lines_init(&dl, on_line, &got);
	is_int(lines_str(&dl, "{\"Type\":\"container\"}\n{\"Ty", &err), 0, "lines: first feed");
	is_str(got.s, "<{\"Type\":\"container\"}>", "lines: complete line delivered, partial held");
	is_int(lines_str(&dl, "pe\":\"network\"}\n\n{\"x\":1}\n", &err), 0, "lines: second feed");
	is_str(got.s, "<{\"Type\":\"container\"}><{\"Type\":\"network\"}><{\"x\":1}>",
	       "lines: split line joined, empty line skipped");
	is_int(dl.pending.len, 0, "lines: nothing pending after a final newline");
	docker_lines_release(&dl);

	buf_reset(&got);
	docker_lines_init(&dl, on_line, &got);
	while (big.len <= DOCKER_LINE_MAX)
		buf_addstr(&big, "xxxxxxxxxxxxxxxx");
	is_int(docker_lines_feed(&dl, big.s, big.len, &err), -1, "lines: unterminated line over the cap refused");
	ok(strstr(err.s, "longer than") != NULL, "lines: cap error message: '%s'", err.s);
	is_int(got.len, 0, "lines: nothing delivered for the overlong line");
	docker_lines_release(&dl);
	buf_release(&got);
	buf_release(&err);
	buf_release(&big);
}

int main(void)
{
	test_demux_basic();
	test_demux_splits();
	test_demux_partial_pending();
	test_demux_zero_length();
	test_demux_huge();
	test_demux_malformed();
	test_demux_raw_and_stdin();
	test_progress_status();
	test_progress_error_in_200();
	test_progress_build_failure();
	test_progress_last_line_and_splits();
	test_progress_not_json();
	test_progress_overlong();
	test_lines();
	return tap_done();
}
