/* run: starts helper programs (debootstrap, mvn, tar) and collects their output. */
#include "util/run.h"
#include "util/xalloc.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define RUN_TAIL_MAX 4096

static void keep_tail(struct buf *tail, const char *line)
{
	if (!tail)
		return;
	buf_addstr(tail, line);
	buf_addch(tail, '\n');
	if (tail->len > RUN_TAIL_MAX) {
		char *nl = memchr(tail->s + tail->len - RUN_TAIL_MAX, '\n', RUN_TAIL_MAX);
		buf_consume(tail, nl ? (size_t)(nl - tail->s) + 1 : tail->len - RUN_TAIL_MAX);
	}
}

int run_have(const char *prog)
{
	const char *path = getenv("PATH");
	struct buf b = BUF_INIT;
	int found = 0;

	if (strchr(prog, '/'))
		return access(prog, X_OK) == 0;
	while (path && *path && !found) {
		const char *colon = strchr(path, ':');
		size_t n = colon ? (size_t)(colon - path) : strlen(path);
		buf_reset(&b);
		buf_add(&b, path, n);
		buf_addf(&b, "/%s", prog);
		found = access(b.s, X_OK) == 0;
		path = colon ? colon + 1 : NULL;
	}
	buf_release(&b);
	return found;
}

int run_command(const char *const argv[], const struct run_opts *opts,
		struct buf *tail, struct buf *err)
{
	struct run_opts none = { NULL, NULL, NULL, -1, 0 };
	struct buf pending = BUF_INIT;
	int pfd[2], status, ret = -1;
	time_t deadline;
	pid_t pid;

	if (!opts)
		opts = &none;
	if (pipe2(pfd, O_CLOEXEC)) {
		buf_addf(err, "cannot start '%s': %s", argv[0], strerror(errno));
		return -1;
	}
	pid = fork();
	if (pid < 0) {
		buf_addf(err, "cannot start '%s': %s", argv[0], strerror(errno));
		close(pfd[0]);
		close(pfd[1]);
		return -1;
	}
	if (!pid) {
		int devnull = open("/dev/null", O_RDONLY);
		if (devnull >= 0)
			dup2(devnull, 0);
		dup2(opts->stdout_fd >= 0 ? opts->stdout_fd : pfd[1], 1);
		dup2(pfd[1], 2);
		if (opts->dir && chdir(opts->dir))
			_exit(126);
		execvp(argv[0], (char *const *)argv);
		fprintf(stderr, "cannot run '%s': %s\n", argv[0], strerror(errno));
		_exit(127);
	}
	close(pfd[1]);
	deadline = opts->timeout_s ? time(NULL) + opts->timeout_s : 0;
	for (;;) {
		struct pollfd p = { pfd[0], POLLIN, 0 };
		char chunk[4096];
		ssize_t n;
		char *nl;
		int r = poll(&p, 1, 1000);

		if (r < 0 && errno != EINTR)
			break;
		if (deadline && time(NULL) > deadline) {
			kill(pid, SIGKILL);
			buf_addf(err, "'%s' did not finish within %d s and was stopped",
				 argv[0], opts->timeout_s);
			waitpid(pid, &status, 0);
			goto out;
		}
		if (r <= 0)
			continue;
		n = read(pfd[0], chunk, sizeof(chunk));
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		buf_add(&pending, chunk, (size_t)n);
		while ((nl = memchr(pending.s, '\n', pending.len))) {
			*nl = '\0';
			keep_tail(tail, pending.s);
			if (opts->on_line)
				opts->on_line(pending.s, opts->ctx);
			buf_consume(&pending, (size_t)(nl - pending.s) + 1);
		}
	}
	if (pending.len) {
		keep_tail(tail, pending.s);
		if (opts->on_line)
			opts->on_line(pending.s, opts->ctx);
	}
	while (waitpid(pid, &status, 0) < 0)
		if (errno != EINTR) {
			buf_addf(err, "cannot wait for '%s': %s", argv[0], strerror(errno));
			goto out;
		}
	if (WIFEXITED(status))
		ret = WEXITSTATUS(status);
	else
		buf_addf(err, "'%s' was killed by signal %d", argv[0], WTERMSIG(status));
out:
	close(pfd[0]);
	buf_release(&pending);
	return ret;
}

int run_remove_tree(const char *path, struct buf *err)
{
	const char *argv[] = { "rm", "-rf", "--one-file-system", path, NULL };
	struct buf tail = BUF_INIT;
	int rc = run_command(argv, NULL, &tail, err);

	if (rc > 0)
		buf_addf(err, "cannot remove '%s': %s", path, tail.s);
	buf_release(&tail);
	return rc ? -1 : 0;
}
