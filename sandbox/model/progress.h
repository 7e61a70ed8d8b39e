/*
 * progress: what a model job (training, publishing, fold-in) reports while
 * it runs, one JSON object per line on a file descriptor its parent gave it
 * (`recommender train|publish|foldin --progress-fd N`), so the launcher and
 * `pancake models` show the program's own figures without reading its text.
 */
#ifndef PANCAKE_PROGRESS_H
#define PANCAKE_PROGRESS_H

#include <stddef.h>
#include <stdint.h>
#include "util/buf.h"

/*
 * The line format (stable: scripts may read it too), one of:
 *   {"event":"start","job":"train","total":N,"what":"als explicit rank 10 on lab-100k"}
 *   {"event":"iter","iter":I,"iters":N,"seconds":S,"loss":L,"train_rmse":R,
 *    "test_rmse":T,"ndcg":G}            (absent figures are left out)
 *   {"event":"publish","done":D,"total":N,"rate":LISTS_PER_S,"eta":SECONDS}
 *   {"event":"foldin","events":E,"p50_ms":A,"p99_ms":B}   (at most once a second)
 *   {"event":"done","version":ID,"message":TEXT}
 *   {"event":"error","message":TEXT}
 * "train" ends with "done" whose version is the registered commit id ("" when
 * not registered) or "error"; a cancelled job ends with "error" whose message
 * says so, or with no end line at all when it was killed.
 */
enum progress_kind {
	PROGRESS_START,
	PROGRESS_ITER,
	PROGRESS_PUBLISH,
	PROGRESS_FOLDIN,
	PROGRESS_DONE,
	PROGRESS_ERROR,
};

#define PROGRESS_LINE_MAX 1024		/* a longer line is refused */

struct progress_event {
	enum progress_kind kind;
	char job[16];			/* start: "train", "publish" or "foldin" */
	char what[160];			/* start: a one-line summary */
	uint64_t total;			/* start: iterations or lists; publish: lists */
	int iter, iters;		/* iter */
	double seconds, loss;		/* iter: this iteration's */
	double train_rmse, test_rmse, ndcg;	/* iter: NaN when absent (implicit, no split) */
	uint64_t done;			/* publish: lists written */
	double rate, eta;		/* publish: lists a second, seconds left */
	uint64_t events;		/* foldin: ratings folded so far */
	double p50_ms, p99_ms;		/* foldin: event to Redis, recent window */
	char version[41];		/* done: a commit id or published version; "" none */
	char message[256];		/* done, error */
};

/* an event of `kind` with every figure NaN or 0 and every string "" */
void progress_init(struct progress_event *ev, enum progress_kind kind);

/* appends `ev` as one line (with its "\n") to `out` */
void progress_format(const struct progress_event *ev, struct buf *out);

/*
 * Writes `ev` as one line to `fd` in one write(2) (a line is under
 * PIPE_BUF, so lines from threads never interleave); -1 when fd < 0 or the
 * write failed (a reader that went away is not the writer's failure: the
 * caller goes on).
 */
int progress_write(int fd, const struct progress_event *ev);

/*
 * Parses one line (without or with its "\n") into `ev`: 0, or -1 with
 * `err` saying what is wrong (not JSON, no or an unknown "event", a figure
 * of the wrong type, a string too long, a line over PROGRESS_LINE_MAX).
 * Unknown members are ignored, so a newer program's lines still read.
 */
int progress_parse(const char *line, size_t len, struct progress_event *ev, struct buf *err);

#endif
