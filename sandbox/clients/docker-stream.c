/* docker-stream: the byte framings of Docker Engine API streams, with no I/O. */
#include "clients/docker-stream.h"
#include "util/xalloc.h"

#include <jansson.h>
#include <string.h>

void docker_demux_init(struct docker_demux *dm, int raw, docker_frame_fn fn, void *ctx)
{
	dm->raw = raw;
	dm->fn = fn;
	dm->ctx = ctx;
	buf_init(&dm->pending, 0);
}

/*
 * The header's size is unsigned and big-endian; reading it as a signed int
 * breaks on frames of 2 GiB and more, which we refuse anyway. We parse from
 * `pending` plus the new bytes without copying whole frames when we can.
 */
int docker_demux_feed(struct docker_demux *dm, const void *data, size_t len, struct buf *err)
{
	const unsigned char *p;
	size_t avail;

	if (dm->raw) {
		if (len)
			dm->fn(DOCKER_STDOUT, data, len, dm->ctx);
		return 0;
	}
	buf_add(&dm->pending, data, len);
	p = (const unsigned char *)dm->pending.s;
	avail = dm->pending.len;
	while (avail >= 8) {
		unsigned stream = p[0];
		size_t size = (size_t)p[4] << 24 | (size_t)p[5] << 16 |
			      (size_t)p[6] << 8 | (size_t)p[7];

		if (stream > DOCKER_SYSERR || p[1] || p[2] || p[3]) {
			buf_addf(err, "malformed stream frame header (stream byte %u): "
				 "is the container running with a TTY?", stream);
			return -1;
		}
		if (size > DOCKER_FRAME_MAX) {
			buf_addf(err, "stream frame of %zu bytes is over the %u-byte limit",
				 size, DOCKER_FRAME_MAX);
			return -1;
		}
		if (avail - 8 < size)
			break;
		if (size)
			dm->fn(stream == DOCKER_STDIN ? DOCKER_STDOUT : (int)stream,
			       (const char *)p + 8, size, dm->ctx);
		p += 8 + size;
		avail -= 8 + size;
	}
	buf_consume(&dm->pending, dm->pending.len - avail);
	return 0;
}

size_t docker_demux_pending(const struct docker_demux *dm)
{
	return dm->pending.len;
}

void docker_demux_release(struct docker_demux *dm)
{
	buf_release(&dm->pending);
}

void docker_lines_init(struct docker_lines *dl, docker_line_fn fn, void *ctx)
{
	dl->fn = fn;
	dl->ctx = ctx;
	buf_init(&dl->pending, 0);
}

int docker_lines_feed(struct docker_lines *dl, const void *data, size_t len, struct buf *err)
{
	size_t start = 0, i;

	buf_add(&dl->pending, data, len);
	for (i = 0; i < dl->pending.len; i++) {
		if (dl->pending.s[i] != '\n')
			continue;
		dl->pending.s[i] = '\0';
		if (i > start)
			dl->fn(dl->pending.s + start, i - start, dl->ctx);
		start = i + 1;
	}
	buf_consume(&dl->pending, start);
	if (dl->pending.len > DOCKER_LINE_MAX) {
		buf_addf(err, "stream line longer than %u bytes", DOCKER_LINE_MAX);
		return -1;
	}
	return 0;
}

void docker_lines_release(struct docker_lines *dl)
{
	buf_release(&dl->pending);
}

static const char *jstr(json_t *o, const char *key)
{
	const char *s = json_string_value(json_object_get(o, key));
	return s && *s ? s : NULL;
}

static void progress_line(char *line, size_t len, void *ctx)
{
	struct docker_jsonlines *jl = ctx;
	struct docker_progress p;
	json_t *o, *detail, *pd;

	o = json_loadb(line, len, 0, NULL);
	if (!json_is_object(o)) {
		/* not JSON: some engines print plain text on failure */
		json_decref(o);
		jl->malformed++;
		if (!jl->error.len) {
			/* up to a NUL: the message is read back as a C string */
			buf_add(&jl->error, line, strnlen(line, len));
			buf_rtrim(&jl->error);
		}
		return;
	}
	memset(&p, 0, sizeof(p));
	p.status = jstr(o, "status");
	p.stream = jstr(o, "stream");
	p.id = jstr(o, "id");
	p.aux_id = jstr(json_object_get(o, "aux"), "ID");
	detail = json_object_get(o, "errorDetail");
	p.error = jstr(detail, "message");
	if (!p.error)
		p.error = jstr(o, "error");
	if (!p.error && json_object_get(o, "error"))
		p.error = "unknown error in progress stream";
	pd = json_object_get(o, "progressDetail");
	p.current = json_integer_value(json_object_get(pd, "current"));
	p.total = json_integer_value(json_object_get(pd, "total"));

	if (p.error && !jl->error.len) {
		buf_addstr(&jl->error, p.error);
		buf_rtrim(&jl->error);
		/* a blank message must still fail the stream */
		if (!jl->error.len)
			buf_addstr(&jl->error, "unknown error in progress stream");
	}
	if (p.aux_id) {
		buf_reset(&jl->last_id);
		buf_addstr(&jl->last_id, p.aux_id);
	}
	if (p.stream || p.status) {
		struct buf t = BUF_INIT;
		buf_addstr(&t, p.stream ? p.stream : p.status);
		buf_rtrim(&t);
		if (t.len) {
			buf_reset(&jl->last_text);
			buf_addstr(&jl->last_text, t.s);
		}
		buf_release(&t);
	}
	if (jl->fn)
		jl->fn(&p, jl->ctx);
	json_decref(o);
}

void docker_jsonlines_init(struct docker_jsonlines *jl, docker_progress_fn fn, void *ctx)
{
	jl->fn = fn;
	jl->ctx = ctx;
	buf_init(&jl->pending, 0);
	buf_init(&jl->error, 0);
	buf_init(&jl->last_id, 0);
	buf_init(&jl->last_text, 0);
	jl->malformed = 0;
}

int docker_jsonlines_feed(struct docker_jsonlines *jl, const void *data, size_t len)
{
	struct docker_lines dl = { progress_line, jl, jl->pending };
	struct buf err = BUF_INIT;
	int r = docker_lines_feed(&dl, data, len, &err);

	jl->pending = dl.pending;
	if (r && !jl->error.len)
		buf_addstr(&jl->error, err.s);
	buf_release(&err);
	return r;
}

int docker_jsonlines_finish(struct docker_jsonlines *jl, struct buf *err)
{
	if (jl->pending.len) {
		/* a last object without its newline */
		struct buf rest = BUF_INIT;
		buf_addstr(&rest, jl->pending.s);
		buf_reset(&jl->pending);
		progress_line(rest.s, rest.len, jl);
		buf_release(&rest);
	}
	if (jl->error.len) {
		buf_addstr(err, jl->error.s);
		return -1;
	}
	return 0;
}

void docker_jsonlines_release(struct docker_jsonlines *jl)
{
	buf_release(&jl->pending);
	buf_release(&jl->error);
	buf_release(&jl->last_id);
	buf_release(&jl->last_text);
}
