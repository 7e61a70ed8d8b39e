/* docker-stream: the byte framings of Docker Engine API streams, with no I/O. */
#ifndef PANCAKE_DOCKER_STREAM_H
#define PANCAKE_DOCKER_STREAM_H

#include <stddef.h>
#include "util/buf.h"

/* Largest frame a log/exec stream may announce before we call it garbage. */
#define DOCKER_FRAME_MAX (16u << 20)
/* Longest line of a JSON progress or event stream. */
#define DOCKER_LINE_MAX (1u << 20)

enum docker_stream_id {
	DOCKER_STDIN = 0, DOCKER_STDOUT = 1, DOCKER_STDERR = 2, DOCKER_SYSERR = 3,
};

/* `data` is borrowed, valid during the call only */
typedef void (*docker_frame_fn)(int stream, const char *data, size_t len, void *ctx);

/*
 * Demultiplexes a log, attach or exec stream: 8-byte headers
 * [stream, 0, 0, 0, big-endian uint32 size] then the payload. Frames may be
 * split across feeds at any byte. With `raw` (a container with a TTY) the
 * bytes are passed through as stdout.
 */
struct docker_demux {
	int raw;
	docker_frame_fn fn;
	void *ctx;
	struct buf pending;
};

void docker_demux_init(struct docker_demux *dm, int raw, docker_frame_fn fn, void *ctx);
/* returns 0, or -1 with `err` set when a header is malformed */
int docker_demux_feed(struct docker_demux *dm, const void *data, size_t len, struct buf *err);
/* bytes of an incomplete frame still buffered */
size_t docker_demux_pending(const struct docker_demux *dm);
void docker_demux_release(struct docker_demux *dm);

/* One object of a /build, /images/create or /images/load progress stream. */
struct docker_progress {
	const char *status;    /* "Downloading", "Loaded image: x", ... or NULL */
	const char *stream;    /* build output text, or NULL */
	const char *id;        /* layer id, or NULL */
	const char *aux_id;    /* aux.ID: the built or loaded image id, or NULL */
	const char *error;     /* errorDetail.message or error, or NULL */
	long long current, total;
};
/* all strings borrowed, valid during the call only */
typedef void (*docker_progress_fn)(const struct docker_progress *p, void *ctx);

/*
 * Parses a progress stream: one JSON object per line. A failure arrives as an
 * object with "error"/"errorDetail" inside an HTTP 200 response, so every
 * object is checked; the first error message is kept.
 */
struct docker_jsonlines {
	docker_progress_fn fn;
	void *ctx;
	struct buf pending;
	struct buf error;      /* first error message seen, empty if none */
	struct buf last_id;    /* last aux.ID seen */
	struct buf last_text;  /* last non-empty stream/status line */
	int malformed;
};

void docker_jsonlines_init(struct docker_jsonlines *jl, docker_progress_fn fn, void *ctx);
int docker_jsonlines_feed(struct docker_jsonlines *jl, const void *data, size_t len);
/* 0 when the stream ended cleanly, -1 with `err` set to the stream's error */
int docker_jsonlines_finish(struct docker_jsonlines *jl, struct buf *err);
void docker_jsonlines_release(struct docker_jsonlines *jl);

/*
 * Splits a stream into lines (events). `line` is NUL-terminated, borrowed.
 */
typedef void (*docker_line_fn)(char *line, size_t len, void *ctx);
struct docker_lines {
	docker_line_fn fn;
	void *ctx;
	struct buf pending;
};
void docker_lines_init(struct docker_lines *dl, docker_line_fn fn, void *ctx);
int docker_lines_feed(struct docker_lines *dl, const void *data, size_t len, struct buf *err);
void docker_lines_release(struct docker_lines *dl);

#endif
