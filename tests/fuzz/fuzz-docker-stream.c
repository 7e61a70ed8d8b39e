/*
 * fuzz-docker-stream: the log/exec demultiplexer, the JSON progress parser
 * and the event line splitter, each fed the input whole and in two pieces.
 * The first byte picks where the input is cut, so frames and lines arrive
 * split at every possible byte; both runs must agree.
 */
#include "fuzz.h"
#include "clients/docker-stream.h"

#include <string.h>

/* everything a demux run hands out, in order: "<stream><len>" then bytes */
static void on_frame(int stream, const char *data, size_t len, void *ctx)
{
	struct buf *out = ctx;

	CHECK(stream == DOCKER_STDOUT || stream == DOCKER_STDERR || stream == DOCKER_SYSERR);
	CHECK(len > 0 && len <= DOCKER_FRAME_MAX);
	buf_addf(out, "<%d:%zu>", stream, len);
	buf_add(out, data, len);
}

/* one demux run over data[0..cut) then data[cut..size); returns the result */
static int demux(int raw, const uint8_t *data, size_t size, size_t cut,
		 struct buf *out, size_t *pending)
{
	struct docker_demux dm;
	struct buf err = BUF_INIT;
	int r;

	docker_demux_init(&dm, raw, on_frame, out);
	r = docker_demux_feed(&dm, data, cut, &err);
	if (!r)
		r = docker_demux_feed(&dm, data + cut, size - cut, &err);
	CHECK(!r == !err.len);
	*pending = docker_demux_pending(&dm);
	CHECK(raw ? *pending == 0 : *pending <= size);
	docker_demux_release(&dm);
	buf_release(&err);
	return r;
}

static void fuzz_demux(const uint8_t *data, size_t size, size_t cut)
{
	struct buf whole = BUF_INIT, split = BUF_INIT;
	size_t pw, ps;
	int rw, rs;

	rw = demux(0, data, size, size, &whole, &pw);
	rs = demux(0, data, size, cut, &split, &ps);
	CHECK(rw == rs);
	CHECK(whole.len == split.len && !memcmp(whole.s, split.s, whole.len));
	if (!rw)
		CHECK(pw == ps);
	buf_reset(&split);
	CHECK(demux(1, data, size, cut, &split, &ps) == 0);
	buf_release(&whole);
	buf_release(&split);
}

struct progress_run {
	struct buf *out;
	int errors;	/* objects that carried an error */
};

/* a digest of every progress object: the fields the launcher shows */
static void on_progress(const struct docker_progress *p, void *ctx)
{
	struct progress_run *run = ctx;
	struct buf *out = run->out;

	if (p->error)
		run->errors++;

	buf_addf(out, "[%s|%s|%s|%s|%s|%lld/%lld]", p->status ? p->status : "-",
		 p->stream ? p->stream : "-", p->id ? p->id : "-",
		 p->aux_id ? p->aux_id : "-", p->error ? p->error : "-",
		 p->current, p->total);
}

static int jsonlines(const uint8_t *data, size_t size, size_t cut, struct buf *out)
{
	struct docker_jsonlines jl;
	struct buf err = BUF_INIT;
	struct progress_run run = { out, 0 };
	int r;

	docker_jsonlines_init(&jl, on_progress, &run);
	docker_jsonlines_feed(&jl, data, cut);
	docker_jsonlines_feed(&jl, data + cut, size - cut);
	r = docker_jsonlines_finish(&jl, &err);
	CHECK(r == 0 || r == -1);
	/* -1 comes with a message, and an error object always fails the stream */
	CHECK(!r == !err.len);
	if (run.errors)
		CHECK(r == -1);
	CHECK(jl.malformed >= 0);
	buf_addf(out, "{%d|%s|%s|%s|%d}", r, err.s, jl.last_id.s, jl.last_text.s, jl.malformed);
	docker_jsonlines_release(&jl);
	buf_release(&err);
	return r;
}

static void fuzz_jsonlines(const uint8_t *data, size_t size, size_t cut)
{
	struct buf whole = BUF_INIT, split = BUF_INIT;

	jsonlines(data, size, size, &whole);
	jsonlines(data, size, cut, &split);
	/* a line over DOCKER_LINE_MAX may fail in one run and not the other */
	if (size <= DOCKER_LINE_MAX)
		CHECK(whole.len == split.len && !memcmp(whole.s, split.s, whole.len));
	buf_release(&whole);
	buf_release(&split);
}

static void on_line(char *line, size_t len, void *ctx)
{
	struct buf *out = ctx;

	CHECK(len > 0 && line[len] == '\0' && !memchr(line, '\n', len));
	buf_addf(out, "<%zu>", len);
	buf_add(out, line, len);
}

static void lines(const uint8_t *data, size_t size, size_t cut, struct buf *out)
{
	struct docker_lines dl;
	struct buf err = BUF_INIT;
	int r;

	docker_lines_init(&dl, on_line, out);
	r = docker_lines_feed(&dl, data, cut, &err);
	if (!r)
		r = docker_lines_feed(&dl, data + cut, size - cut, &err);
	CHECK(!r == !err.len);
	buf_addf(out, "{%d|%zu}", r, dl.pending.len);
	docker_lines_release(&dl);
	buf_release(&err);
}

static void fuzz_lines(const uint8_t *data, size_t size, size_t cut)
{
	struct buf whole = BUF_INIT, split = BUF_INIT;

	lines(data, size, size, &whole);
	lines(data, size, cut, &split);
	if (size <= DOCKER_LINE_MAX)
		CHECK(whole.len == split.len && !memcmp(whole.s, split.s, whole.len));
	buf_release(&whole);
	buf_release(&split);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	size_t cut;

	if (!size)
		return 0;
	/* the first byte is the cut, 0..255 scaled over the rest of the input */
	cut = (size_t)data[0] * (size - 1) / 255;
	data++;
	size--;
	fuzz_demux(data, size, cut);
	fuzz_jsonlines(data, size, cut);
	fuzz_lines(data, size, cut);
	return 0;
}
