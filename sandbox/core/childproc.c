/*
 * childproc: a program beside pancake run as a polled child: its path, the
 * project's endpoints, its log under jobs/, fork and exec, reap and stop.
 */
#include "core/childproc.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "core/config.h"
#include "core/service.h"
#include "util/clock.h"
#include "util/xalloc.h"

/* the tail of the log read for the last line */
#define LOG_TAIL 4096

char *childproc_program(const char *var, const char *rel)
{
	const char *e = getenv(var);

	if (e && *e)
		return xstrdup(e);
	return xstrfmt("%s/%s", config_home(), rel);
}

int childproc_endpoint(const char *service, int cport, struct buf *out, struct buf *err)
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

/* ---- logs ---- */

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

/* the oldest logs in `dir` go, so that a new one makes CHILDPROC_LOGS_KEPT */
static void prune_logs(const char *dir)
{
	struct dirent **all = NULL;
	int n = scandir(dir, &all, is_log, older_first), i;

	for (i = 0; i < n; i++) {
		if (i <= n - CHILDPROC_LOGS_KEPT) {
			char *path = xstrfmt("%s/%s", dir, all[i]->d_name);
			unlink(path);	/* best effort: a log is not worth failing a child */
			free(path);
		}
		free(all[i]);
	}
	free(all);
}

char *childproc_log_new(const char *job, const char *whose, enum childproc_log_flags flags,
			struct buf *err)
{
	static unsigned seq;	/* two logs named in one second differ */
	char *dir = xstrfmt("%s/jobs", config_state()), stamp[32];
	time_t now = time(NULL);
	struct tm tm;
	char *path = NULL;

	if (config_mkdirs(dir) < 0) {
		buf_addf(err, "cannot create '%s' for %s log: %s (set PANCAKE_STATE to a "
			 "writable folder)", dir, whose, strerror(errno));
		goto out;
	}
	if (flags & CHILDPROC_LOG_PRUNE)
		prune_logs(dir);
	localtime_r(&now, &tm);
	strftime(stamp, sizeof(stamp), "%Y%m%d-%H%M%S", &tm);
	path = xstrfmt("%s/%s-%s-%ld-%u.log", dir, job, stamp, (long)getpid(), ++seq);
out:
	free(dir);
	return path;
}

char *childproc_log_last_line(const char *path)
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

char *childproc_status_reason(int status)
{
	if (WIFEXITED(status))
		return xstrfmt("exited with status %d", WEXITSTATUS(status));
	if (WIFSIGNALED(status))
		return xstrfmt("killed by signal %d", WTERMSIG(status));
	return xstrdup("ended, how is not known");
}

char *childproc_reason(const char *log, int status)
{
	char *line = childproc_log_last_line(log);

	if (*line)
		return line;
	free(line);
	return childproc_status_reason(status);
}

/* ---- starting ---- */

/* in the child, between fork and exec: async-signal-safe calls only */
static void child(const struct childproc_exec *x, char *const envp[], int log_fd,
		  const char *msg, size_t msglen)
{
	static const int reset[] = { SIGPIPE, SIGINT, SIGTERM, SIGQUIT, SIGHUP, SIGCHLD };
	struct sigaction sa;
	sigset_t none;
	int devnull, w = -1, l;
	size_t i;

	if (x->flags & CHILDPROC_SESSION)
		setsid();
	else
		setpgid(0, 0);
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = SIG_DFL;
	for (i = 0; i < ARRAY_SIZE(reset); i++)
		sigaction(reset[i], &sa, NULL);
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
	/* out of the way of 0..3 first, whatever numbers they had */
	if (x->extra_fd >= 0 && (w = fcntl(x->extra_fd, F_DUPFD_CLOEXEC, 10)) < 0)
		_exit(127);
	l = fcntl(log_fd, F_DUPFD_CLOEXEC, 10);
	devnull = open("/dev/null", O_RDONLY | O_CLOEXEC);
	if (l < 0 || devnull < 0 || dup2(devnull, 0) < 0 || dup2(l, 1) < 0 || dup2(l, 2) < 0 ||
	    (w >= 0 && dup2(w, CHILDPROC_EXTRA_FD) < 0))
		_exit(127);
	/* nothing else of the parent's (sockets, the terminal's files) goes along */
	close_range(w >= 0 ? CHILDPROC_EXTRA_FD + 1 : 3, ~0u, 0);
	execve(x->argv[0], x->argv, envp);
	{
		ssize_t ignored = write(2, msg, msglen);
		(void)ignored;
	}
	_exit(127);
}

int childproc_start(struct childproc *c, const struct childproc_exec *x, struct buf *err)
{
	extern char **environ;
	struct buf head = BUF_INIT;
	char *msg = NULL;
	int log_fd, ret = -1;
	size_t i;
	pid_t pid;

	memset(c, 0, sizeof(*c));
	log_fd = open(x->log, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (log_fd < 0) {
		buf_addf(err, "cannot write %s log '%s': %s", x->whose, x->log, strerror(errno));
		goto out;
	}
	/* the command first, so the log says what ran */
	buf_addstr(&head, "$");
	for (i = 0; x->argv[i]; i++)
		buf_addf(&head, " %s", x->argv[i]);
	buf_addch(&head, '\n');
	if (write(log_fd, head.s, head.len) != (ssize_t)head.len) {
		buf_addf(err, "cannot write %s log '%s': %s", x->whose, x->log, strerror(errno));
		goto out;
	}
	/* made before the fork: the child may not allocate */
	msg = xstrfmt("error: cannot run %s\n", x->what);
	pid = fork();
	if (pid < 0) {
		buf_addf(err, "cannot start %s: fork: %s", x->what, strerror(errno));
		goto out;
	}
	if (pid == 0)
		child(x, x->envp ? x->envp : environ, log_fd, msg, strlen(msg));
	/* both sides set the group, so a stop right away reaches it (a session: the child's own) */
	if (!(x->flags & CHILDPROC_SESSION))
		setpgid(pid, pid);
	c->pid = pid;
	c->kill_after = x->kill_after;
	ret = 0;
out:
	if (log_fd >= 0)
		close(log_fd);
	free(msg);
	buf_release(&head);
	return ret;
}

/* ---- reaping and stopping ---- */

int childproc_reap(struct childproc *c)
{
	pid_t r;

	if (c->reaped)
		return 1;
	do
		r = waitpid(c->pid, &c->status, WNOHANG);
	while (r < 0 && errno == EINTR);
	if (r == 0)
		return 0;
	if (r < 0)	/* ECHILD: someone else reaped it (SIGCHLD ignored) */
		c->status = 0;
	c->reaped = 1;
	return 1;
}

void childproc_stop(struct childproc *c)
{
	if (c->reaped || c->stopping)
		return;
	c->stopping = 1;
	c->stop_at = clock_s();
	killpg(c->pid, SIGTERM);
}

void childproc_tick(struct childproc *c)
{
	if (!c->reaped && c->stopping && !c->killed && clock_s() - c->stop_at >= c->kill_after) {
		killpg(c->pid, SIGKILL);
		c->killed = 1;
	}
}

void childproc_wait(struct childproc *c, double max_s)
{
	double until;

	if (c->reaped)
		return;
	childproc_stop(c);
	until = clock_s() + max_s;
	while (!childproc_reap(c) && clock_s() < until) {
		childproc_tick(c);
		usleep(20000);
	}
	if (!c->reaped)	/* a last try; a zombie then is the init's to reap */
		killpg(c->pid, SIGKILL);
}
