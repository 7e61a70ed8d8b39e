/*
 * modeljob: the recommender run as a polled child: fork and exec in its own
 * process group, progress lines off a non-blocking pipe, its output in a log.
 */
#include "core/modeljob.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "core/catalog.h"
#include "core/config.h"
#include "core/service.h"
#include "util/clock.h"
#include "util/quote.h"
#include "util/strvec.h"
#include "util/xalloc.h"

/* the descriptor the child writes its events to (--progress-fd) */
#define CHILD_FD 3
/* SIGTERM, then SIGKILL this much later; free waits a little longer */
#define KILL_AFTER_S 5.0
#define FREE_WAIT_S 6.0
/*
 * Events kept: a training's every iteration (the recommender allows 10000)
 * fits; past this a long fold-in keeps its first event and drops the
 * oldest half of the rest, so a job running for days stays small.
 */
#define EVENTS_MAX 10240
/* the tail of the log read for the last line */
#define LOG_TAIL 4096

struct modeljob {
	pid_t pid;
	int fd;				/* the pipe's read end, -1 once closed */
	enum modeljob_state state;
	int reaped, status;		/* waitpid's */
	int cancelled, killed;
	double cancel_at;		/* clock_s() of the SIGTERM */
	struct buf partial;		/* a line read in part */
	size_t lineno;			/* lines read, for messages */
	struct progress_event *ev;
	size_t nev, alloc;
	char *log, *reason;
};

/* ---- finding things ---- */

/* the recommender: $RECOMMENDER, else beside pancake (new string) */
static char *recommender_path(void)
{
	const char *e = getenv("RECOMMENDER");

	if (e && *e)
		return xstrdup(e);
	return xstrfmt("%s/services/recommender/recommender", config_home());
}

/*
 * "127.0.0.1:PORT" where the project publishes `service`'s `cport`, from
 * its definition and PANCAKE_<SERVICE>_PORT_<N> (reading files only: this
 * runs on the launcher's UI thread).
 */
static int project_endpoint(const char *service, int cport, struct buf *out, struct buf *err)
{
	char *path = xstrfmt("%s/services/%s/service.conf", config_home(), service);
	struct service s;
	int hp, ret = -1;

	memset(&s, 0, sizeof(s));
	if (service_load(&s, service, path, err) || service_apply_env(&s, err))
		goto out;
	hp = service_host_port(&s, cport);
	buf_addf(out, "127.0.0.1:%d", hp > 0 ? hp : cport);
	ret = 0;
out:
	service_release(&s);
	free(path);
	return ret;
}

#define MODELJOB_LOGS_KEPT 100

static int older_first(const struct dirent **a, const struct dirent **b)
{
	/* JOB-YYYYmmdd-HHMMSS-...: the stamp after the job's name orders them */
	const char *x = strchr((*a)->d_name, '-'), *y = strchr((*b)->d_name, '-');
	return strcmp(x ? x : (*a)->d_name, y ? y : (*b)->d_name);
}

static int is_log(const struct dirent *d)
{
	size_t n = strlen(d->d_name);
	return n > 4 && !strcmp(d->d_name + n - 4, ".log");
}

/* the oldest logs in `dir` go, so that a new one makes MODELJOB_LOGS_KEPT */
static void prune_logs(const char *dir)
{
	struct dirent **all = NULL;
	int n = scandir(dir, &all, is_log, older_first), i;

	for (i = 0; i < n; i++) {
		if (i <= n - MODELJOB_LOGS_KEPT) {
			char *path = xstrfmt("%s/%s", dir, all[i]->d_name);
			unlink(path);	/* best effort: a log is not worth failing a job */
			free(path);
		}
		free(all[i]);
	}
	free(all);
}

/* the log's default place: <state>/jobs/JOB-YYYYmmdd-HHMMSS-PID-N.log (new string) */
static char *default_log(const char *job, struct buf *err)
{
	static unsigned seq;	/* two jobs started in one second get two logs */
	char *dir = xstrfmt("%s/jobs", config_state()), stamp[32];
	time_t now = time(NULL);
	struct tm tm;
	char *path = NULL;

	if (config_mkdirs(dir) < 0) {
		buf_addf(err, "cannot create '%s' for the job's log: %s (set PANCAKE_STATE to a "
			 "writable folder)", dir, strerror(errno));
		goto out;
	}
	prune_logs(dir);
	localtime_r(&now, &tm);
	strftime(stamp, sizeof(stamp), "%Y%m%d-%H%M%S", &tm);
	path = xstrfmt("%s/%s-%s-%ld-%u.log", dir, job, stamp, (long)getpid(), ++seq);
out:
	free(dir);
	return path;
}

/* ---- starting ---- */

/* in the child, between fork and exec: async-signal-safe calls only */
static void child(const char *prog, char *const argv[], int pipe_w, int log_fd)
{
	static const int reset[] = { SIGPIPE, SIGINT, SIGTERM, SIGQUIT, SIGHUP, SIGCHLD };
	struct sigaction sa;
	sigset_t none;
	int devnull, w, l;
	size_t i;

	setpgid(0, 0);
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = SIG_DFL;
	for (i = 0; i < ARRAY_SIZE(reset); i++)
		sigaction(reset[i], &sa, NULL);
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
	/* out of the way of 0..3 first, whatever numbers they had */
	w = fcntl(pipe_w, F_DUPFD_CLOEXEC, 10);
	l = fcntl(log_fd, F_DUPFD_CLOEXEC, 10);
	devnull = open("/dev/null", O_RDONLY | O_CLOEXEC);
	if (w < 0 || l < 0 || devnull < 0 || dup2(devnull, 0) < 0 || dup2(l, 1) < 0 ||
	    dup2(l, 2) < 0 || dup2(w, CHILD_FD) < 0)
		_exit(127);
	/* nothing else of the parent's (sockets, the terminal's files) goes along */
	close_range(CHILD_FD + 1, ~0u, 0);
	execv(prog, argv);
	{
		static const char msg[] = "error: cannot run the recommender\n";
		ssize_t ignored = write(2, msg, sizeof(msg) - 1);
		(void)ignored;
	}
	_exit(127);
}

/* forks `args` (args->v[0] the program) with its events on a pipe and its output in the log */
static int start(struct modeljob **out, const char *job, struct strvec *args,
		 const char *log, struct buf *err)
{
	struct modeljob *j = NULL;
	int fds[2] = { -1, -1 }, log_fd = -1;
	char *path = log ? xstrdup(log) : default_log(job, err);
	struct buf head = BUF_INIT;
	size_t i;
	pid_t pid;

	*out = NULL;
	if (!path)
		goto fail;
	log_fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (log_fd < 0) {
		buf_addf(err, "cannot write the job's log '%s': %s", path, strerror(errno));
		goto fail;
	}
	/* the command first, so the log says what ran */
	buf_addstr(&head, "$");
	for (i = 0; i < args->n; i++)
		buf_addf(&head, " %s", args->v[i]);
	buf_addch(&head, '\n');
	if (write(log_fd, head.s, head.len) != (ssize_t)head.len) {
		buf_addf(err, "cannot write the job's log '%s': %s", path, strerror(errno));
		goto fail;
	}
	if (pipe2(fds, O_CLOEXEC) < 0) {
		buf_addf(err, "cannot make a pipe for the job: %s", strerror(errno));
		goto fail;
	}
	pid = fork();
	if (pid < 0) {
		buf_addf(err, "cannot start the recommender: fork: %s", strerror(errno));
		goto fail;
	}
	if (pid == 0)
		child(args->v[0], args->v, fds[1], log_fd);
	/* both sides set the group, so a cancel right away reaches it */
	setpgid(pid, pid);
	close(fds[1]);
	close(log_fd);
	fcntl(fds[0], F_SETFL, fcntl(fds[0], F_GETFL) | O_NONBLOCK);
	j = xcalloc(1, sizeof(*j));
	j->pid = pid;
	j->fd = fds[0];
	j->state = MODELJOB_RUNNING;
	buf_init(&j->partial, 0);
	j->log = path;
	j->reason = xstrdup("");
	buf_release(&head);
	*out = j;
	return 0;
fail:
	if (fds[0] >= 0)
		close(fds[0]);
	if (fds[1] >= 0)
		close(fds[1]);
	if (log_fd >= 0)
		close(log_fd);
	free(path);
	buf_release(&head);
	return -1;
}

/* the recommender's path as args->v[0], or -1 with `err` when it cannot be run */
static int push_recommender(struct strvec *args, struct buf *err)
{
	char *prog = recommender_path();

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
	else if (project_endpoint("redis", 6379, &redis, err))
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
	else if (project_endpoint("redis", 6379, &redis, err))
		goto out;
	if (f->kafka)
		buf_addstr(&kafka, f->kafka);
	else if (project_endpoint("kafka", 9092, &kafka, err))
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

/* the newest non-empty line of the log, else "" (new string) */
static char *log_last_line(const char *path)
{
	char tail[LOG_TAIL + 1], *end, *start;
	ssize_t n = 0;
	off_t size;
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	if (fd < 0)
		return xstrdup("");
	size = lseek(fd, 0, SEEK_END);
	if (size > 0 && lseek(fd, size > LOG_TAIL ? size - LOG_TAIL : 0, SEEK_SET) >= 0)
		n = read(fd, tail, LOG_TAIL);
	close(fd);
	tail[n > 0 ? n : 0] = '\0';
	end = tail + strlen(tail);
	while (end > tail && (end[-1] == '\n' || end[-1] == '\r' || end[-1] == ' '))
		*--end = '\0';
	start = strrchr(tail, '\n');
	start = start ? start + 1 : tail;
	/* the command line the log opens with is not a reason */
	if (start == tail && n < LOG_TAIL && *start == '$')
		return xstrdup("");
	return xstrdup(start);
}

/* why it ended, once it has: see modeljob_reason */
static void set_reason(struct modeljob *j)
{
	const struct progress_event *e = modeljob_last(j, PROGRESS_ERROR);
	char *line;

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
	line = log_last_line(j->log);
	if (*line) {
		j->reason = line;
		return;
	}
	free(line);
	if (WIFEXITED(j->status))
		j->reason = xstrfmt("exited with status %d", WEXITSTATUS(j->status));
	else if (WIFSIGNALED(j->status))
		j->reason = xstrfmt("killed by signal %d", WTERMSIG(j->status));
	else
		j->reason = xstrdup("ended, how is not known");
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
	if (j->cancelled)
		j->state = MODELJOB_CANCELLED;
	else if (WIFEXITED(j->status) && WEXITSTATUS(j->status) == 0 &&
		 !(last && last->kind == PROGRESS_ERROR))
		j->state = MODELJOB_DONE;
	else
		j->state = MODELJOB_FAILED;
	set_reason(j);
}

/* waitpid without waiting; 1 when it has been reaped (now or before) */
static int reap(struct modeljob *j)
{
	pid_t r;

	if (j->reaped)
		return 1;
	do
		r = waitpid(j->pid, &j->status, WNOHANG);
	while (r < 0 && errno == EINTR);
	if (r == 0)
		return 0;
	if (r < 0)	/* ECHILD: someone else reaped it (SIGCHLD ignored) */
		j->status = 0;
	j->reaped = 1;
	return 1;
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
	if (!j->reaped && reap(j)) {
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
	if (!j->reaped && j->cancelled && !j->killed &&
	    clock_s() - j->cancel_at >= KILL_AFTER_S) {
		killpg(j->pid, SIGKILL);
		j->killed = 1;
	}
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
	return j->pid;
}

void modeljob_cancel(struct modeljob *j)
{
	if (j->reaped || j->cancelled)
		return;
	j->cancelled = 1;
	j->cancel_at = clock_s();
	killpg(j->pid, SIGTERM);
}

void modeljob_free(struct modeljob *j)
{
	double until;

	if (!j)
		return;
	if (!j->reaped) {
		modeljob_cancel(j);
		until = clock_s() + FREE_WAIT_S;
		while (!reap(j) && clock_s() < until) {
			if (!j->killed && clock_s() - j->cancel_at >= KILL_AFTER_S) {
				killpg(j->pid, SIGKILL);
				j->killed = 1;
			}
			usleep(20000);
		}
		if (!j->reaped)	/* a last try; a zombie then is the init's to reap */
			killpg(j->pid, SIGKILL);
	}
	if (j->fd >= 0)
		close(j->fd);
	buf_release(&j->partial);
	free(j->ev);
	free(j->log);
	free(j->reason);
	free(j);
}
