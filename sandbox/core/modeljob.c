/*
 * modeljob: the recommender run as a polled child: fork and exec in its own
 * process group, progress lines off a non-blocking pipe, its output in a log.
 */
#include "core/modeljob.h"

#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "core/catalog.h"
#include "core/childproc.h"
#include "core/config.h"
#include "util/quote.h"
#include "util/strvec.h"
#include "util/xalloc.h"

/* the descriptor the child writes its events to (--progress-fd) */
#define CHILD_FD CHILDPROC_EXTRA_FD
/* SIGTERM, then SIGKILL this much later; free waits a little longer */
#define KILL_AFTER_S 5.0
#define FREE_WAIT_S 6.0
/*
 * Events kept: a training's every iteration (the recommender allows 10000)
 * fits; past this a long fold-in keeps its first event and drops the
 * oldest half of the rest, so a job running for days stays small.
 */
#define EVENTS_MAX 10240

struct modeljob {
	struct childproc proc;		/* its stopping is a cancel */
	int fd;				/* the pipe's read end, -1 once closed */
	enum modeljob_state state;
	struct buf partial;		/* a line read in part */
	size_t lineno;			/* lines read, for messages */
	struct progress_event *ev;
	size_t nev, alloc;
	char *log, *reason;
};

/* ---- starting ---- */

/* starts `args` (args->v[0] the program) with its events on a pipe and its output in the log */
static int start(struct modeljob **out, const char *job, struct strvec *args,
		 const char *log, struct buf *err)
{
	struct modeljob *j = NULL;
	int fds[2] = { -1, -1 };
	char *path = log ? xstrdup(log) : childproc_log_new(job, "the job's", CHILDPROC_LOG_PRUNE,
							    err);
	struct childproc_exec x = {
		.argv = args->v, .log = path, .whose = "the job's", .what = "the recommender",
		.kill_after = KILL_AFTER_S,
	};
	struct childproc proc;

	*out = NULL;
	if (!path)
		goto fail;
	if (pipe2(fds, O_CLOEXEC) < 0) {
		buf_addf(err, "cannot make a pipe for the job: %s", strerror(errno));
		goto fail;
	}
	x.extra_fd = fds[1];
	if (childproc_start(&proc, &x, err))
		goto fail;
	close(fds[1]);
	fcntl(fds[0], F_SETFL, fcntl(fds[0], F_GETFL) | O_NONBLOCK);
	j = xcalloc(1, sizeof(*j));
	j->proc = proc;
	j->fd = fds[0];
	j->state = MODELJOB_RUNNING;
	buf_init(&j->partial, 0);
	j->log = path;
	j->reason = xstrdup("");
	*out = j;
	return 0;
fail:
	if (fds[0] >= 0)
		close(fds[0]);
	if (fds[1] >= 0)
		close(fds[1]);
	free(path);
	return -1;
}

/* the recommender's path as args->v[0], or -1 with `err` when it cannot be run */
static int push_recommender(struct strvec *args, struct buf *err)
{
	char *prog = childproc_program("RECOMMENDER", "services/recommender/recommender");

	if (access(prog, X_OK) < 0) {
		buf_addf(err, "no recommender at '%s': build it with 'make', or name it with "
			 "RECOMMENDER=PATH", prog);
		free(prog);
		return -1;
	}
	strvec_push_nodup(args, prog);
	return 0;
}

int modeljob_train_start(struct modeljob **out, const struct modeljob_train *t,
			 const char *log, struct buf *err)
{
	struct strvec args = STRVEC_INIT;
	char *dir = NULL, *name = NULL, q[QUOTE_BUF];
	int ret = -1;

	*out = NULL;
	if (!t->dataset || !*t->dataset) {
		buf_addstr(err, "training needs a dataset: a name ('pancake data list') or a folder");
		goto out;
	}
	if (t->rank < 0 || t->rank > 1024 || t->iters < 0 || t->iters > 10000) {
		buf_addf(err, "rank %d or iterations %d out of range: rank 1 to 1024, iterations "
			 "1 to 10000 (0: the default)", t->rank, t->iters);
		goto out;
	}
	if ((t->lambda >= 0 && !isfinite(t->lambda)) || t->lambda > 1e6 ||
	    (t->alpha >= 0 && !(isfinite(t->alpha) && t->alpha > 0 && t->alpha <= 1e9)) ||
	    !(t->split < 1)) {
		buf_addstr(err, "lambda, alpha or split out of range: lambda 0 to 1e6, alpha above "
			   "0, split from 0 to below 1 (negative: the default)");
		goto out;
	}
	if (t->alpha >= 0 && !t->implicit) {
		buf_addstr(err, "alpha is for implicit feedback: leave it out, or train implicit");
		goto out;
	}
	dir = catalog_resolve(t->dataset, &name);
	if (!dir) {
		buf_addf(err, "no dataset %s: give a folder, a fetched dataset ('pancake data "
			 "list') or a generated one ('pancake data gen')", quote(q, t->dataset));
		goto out;
	}
	if (push_recommender(&args, err))
		goto out;
	strvec_push(&args, "train");
	strvec_push(&args, dir);
	if (t->implicit)
		strvec_push(&args, "--implicit");
	if (t->rank > 0)
		strvec_pushf(&args, "--rank=%d", t->rank);
	if (t->lambda >= 0)
		strvec_pushf(&args, "--lambda=%.9g", t->lambda);
	if (t->alpha >= 0)
		strvec_pushf(&args, "--alpha=%.9g", t->alpha);
	if (t->iters > 0)
		strvec_pushf(&args, "--iters=%d", t->iters);
	if (t->split == 0)
		strvec_push(&args, "--split=none");
	else if (t->split > 0)
		strvec_pushf(&args, "--split=random:%.9g", t->split);
	if (t->do_register)
		strvec_push(&args, "--register");
	strvec_pushf(&args, "--registry=%s", t->registry ? t->registry : config_registry());
	strvec_pushf(&args, "--progress-fd=%d", CHILD_FD);
	ret = start(out, "train", &args, log, err);
out:
	strvec_clear(&args);
	free(dir);
	free(name);
	return ret;
}

int modeljob_publish_start(struct modeljob **out, const struct modeljob_publish *p,
			   const char *log, struct buf *err)
{
	struct strvec args = STRVEC_INIT;
	struct buf redis = BUF_INIT;
	int ret = -1;

	*out = NULL;
	if (p->redis)
		buf_addstr(&redis, p->redis);
	else if (childproc_endpoint("redis", 6379, &redis, err))
		goto out;
	if (push_recommender(&args, err))
		goto out;
	strvec_push(&args, "publish");
	strvec_push(&args, p->rev && *p->rev ? p->rev : "candidate");
	strvec_pushf(&args, "--registry=%s", p->registry ? p->registry : config_registry());
	strvec_pushf(&args, "--redis=%s", redis.s);
	if (p->data)
		strvec_pushf(&args, "--data=%s", p->data);
	strvec_pushf(&args, "--progress-fd=%d", CHILD_FD);
	ret = start(out, "publish", &args, log, err);
out:
	strvec_clear(&args);
	buf_release(&redis);
	return ret;
}

int modeljob_foldin_start(struct modeljob **out, const struct modeljob_foldin *f,
			  const char *log, struct buf *err)
{
	struct strvec args = STRVEC_INIT;
	struct buf redis = BUF_INIT, kafka = BUF_INIT;
	int ret = -1;

	*out = NULL;
	if (f->redis)
		buf_addstr(&redis, f->redis);
	else if (childproc_endpoint("redis", 6379, &redis, err))
		goto out;
	if (f->kafka)
		buf_addstr(&kafka, f->kafka);
	else if (childproc_endpoint("kafka", 9092, &kafka, err))
		goto out;
	if (push_recommender(&args, err))
		goto out;
	strvec_push(&args, "foldin");
	strvec_push(&args, f->rev && *f->rev ? f->rev : "production");
	strvec_pushf(&args, "--registry=%s", f->registry ? f->registry : config_registry());
	strvec_pushf(&args, "--redis=%s", redis.s);
	strvec_pushf(&args, "--kafka=%s", kafka.s);
	if (f->data)
		strvec_pushf(&args, "--data=%s", f->data);
	strvec_pushf(&args, "--progress-fd=%d", CHILD_FD);
	ret = start(out, "foldin", &args, log, err);
out:
	strvec_clear(&args);
	buf_release(&redis);
	buf_release(&kafka);
	return ret;
}

/* ---- reading and reaping ---- */

static void add_event(struct modeljob *j, const struct progress_event *ev)
{
	if (j->nev == EVENTS_MAX) {
		size_t drop = (EVENTS_MAX - 1) / 2;

		memmove(j->ev + 1, j->ev + 1 + drop, sizeof(*j->ev) * (j->nev - 1 - drop));
		j->nev -= drop;
	}
	ALLOC_GROW(j->ev, j->nev + 1, j->alloc);
	j->ev[j->nev++] = *ev;
}

/* why it ended, once it has: see modeljob_reason */
static void set_reason(struct modeljob *j)
{
	const struct progress_event *e = modeljob_last(j, PROGRESS_ERROR);

	if (*j->reason)
		return;	/* a malformed line said it already */
	free(j->reason);
	if (e && *e->message) {
		j->reason = xstrdup(e->message);
		return;
	}
	if (j->state == MODELJOB_DONE) {
		j->reason = xstrdup("");
		return;
	}
	j->reason = childproc_reason(j->log, j->proc.status);
}

/*
 * A malformed line: the job is failed and stopped as a cancel stops it
 * (SIGTERM, SIGKILL later), so a registry write in progress finishes.
 */
static int malformed(struct modeljob *j, struct buf *why, struct buf *err)
{
	free(j->reason);
	j->reason = xstrfmt("line %zu of the job's progress: %s", j->lineno, why->s);
	if (err)
		buf_addstr(err, j->reason);
	j->state = MODELJOB_FAILED;
	modeljob_cancel(j);
	close(j->fd);
	j->fd = -1;
	buf_reset(&j->partial);
	return -1;
}

/* one whole line (without its newline); 1 an event, 0 blank, -1 malformed */
static int take_line(struct modeljob *j, const char *line, size_t len, struct buf *err)
{
	struct progress_event ev;
	struct buf why = BUF_INIT;
	int ret;

	j->lineno++;
	if (!len)
		return 0;
	if (progress_parse(line, len, &ev, &why)) {
		ret = malformed(j, &why, err);
		buf_release(&why);
		return ret;
	}
	add_event(j, &ev);
	return 1;
}

/*
 * Reads what the pipe holds now, splitting it into lines; a line longer
 * than PROGRESS_LINE_MAX is refused before it is complete. The number of
 * events, or -1.
 */
static int read_pipe(struct modeljob *j, struct buf *err)
{
	char chunk[4096];
	int events = 0;

	while (j->fd >= 0) {
		ssize_t n = read(j->fd, chunk, sizeof(chunk));
		size_t at = 0;

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			break;	/* EAGAIN: nothing more now */
		if (n == 0) {
			/* the writer is gone: a last line without its newline still counts */
			if (j->partial.len) {
				int r = take_line(j, j->partial.s, j->partial.len, err);

				if (r < 0)
					return -1;
				events += r;
				buf_reset(&j->partial);
			}
			close(j->fd);
			j->fd = -1;
			break;
		}
		while (at < (size_t)n) {
			char *nl = memchr(chunk + at, '\n', (size_t)n - at);
			size_t len = nl ? (size_t)(nl - chunk) - at : (size_t)n - at;
			int r;

			if (j->partial.len + len >= PROGRESS_LINE_MAX) {
				struct buf why = BUF_INIT;

				j->lineno++;
				buf_addf(&why, "a line over %d bytes", PROGRESS_LINE_MAX - 1);
				r = malformed(j, &why, err);
				buf_release(&why);
				return r;
			}
			buf_add(&j->partial, chunk + at, len);
			at += len;
			if (!nl)
				break;
			at++;
			r = take_line(j, j->partial.s, j->partial.len, err);
			buf_reset(&j->partial);
			if (r < 0)
				return -1;
			events += r;
		}
	}
	return events;
}

/* the state once it has been reaped */
static void settle(struct modeljob *j)
{
	const struct progress_event *last = j->nev ? &j->ev[j->nev - 1] : NULL;

	if (j->state != MODELJOB_RUNNING)
		return;
	if (j->proc.stopping)
		j->state = MODELJOB_CANCELLED;
	else if (WIFEXITED(j->proc.status) && WEXITSTATUS(j->proc.status) == 0 &&
		 !(last && last->kind == PROGRESS_ERROR))
		j->state = MODELJOB_DONE;
	else
		j->state = MODELJOB_FAILED;
	set_reason(j);
}

int modeljob_poll(struct modeljob *j, struct buf *err)
{
	int events = 0, r;

	if (j->fd >= 0) {
		r = read_pipe(j, err);
		if (r < 0)
			return -1;
		events += r;
	}
	if (!j->proc.reaped && childproc_reap(&j->proc)) {
		/* what it wrote before it ended is read before it is settled */
		r = read_pipe(j, err);
		if (r < 0)
			return -1;
		events += r;
		if (j->fd >= 0) {
			close(j->fd);
			j->fd = -1;
		}
		settle(j);
	}
	childproc_tick(&j->proc);
	return events;
}

enum modeljob_state modeljob_state(const struct modeljob *j)
{
	return j->state;
}

int modeljob_fd(const struct modeljob *j)
{
	return j->fd;
}

size_t modeljob_nevents(const struct modeljob *j)
{
	return j->nev;
}

const struct progress_event *modeljob_event(const struct modeljob *j, size_t i)
{
	return i < j->nev ? &j->ev[i] : NULL;
}

const struct progress_event *modeljob_last(const struct modeljob *j, enum progress_kind kind)
{
	size_t i = j->nev;

	while (i--)
		if (j->ev[i].kind == kind)
			return &j->ev[i];
	return NULL;
}

const char *modeljob_reason(const struct modeljob *j)
{
	return j->reason;
}

const char *modeljob_log(const struct modeljob *j)
{
	return j->log;
}

pid_t modeljob_pid(const struct modeljob *j)
{
	return j->proc.pid;
}

void modeljob_cancel(struct modeljob *j)
{
	childproc_stop(&j->proc);
}

void modeljob_free(struct modeljob *j)
{
	if (!j)
		return;
	childproc_wait(&j->proc, FREE_WAIT_S);
	if (j->fd >= 0)
		close(j->fd);
	buf_release(&j->partial);
	free(j->ev);
	free(j->log);
	free(j->reason);
	free(j);
}
