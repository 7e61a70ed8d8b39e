/*
 * test-childproc: core/childproc.c's pure parts (a log's last line, the
 * reason for a wait status, the program's and the log's names) and a child
 * run through /bin/sh: its log, its extra descriptor, its reap and its stop.
 */
#include "tap.h"
#include "core/childproc.h"
#include "util/xalloc.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

static char tmp[] = "/tmp/test-childproc-XXXXXX";

static char *write_file(const char *name, const char *text)
{
	char *path = xstrfmt("%s/%s", tmp, name);
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
	ssize_t n = write(fd, text, strlen(text));

	(void)n;
	close(fd);
	return path;
}

static void is_last_line(const char *text, const char *want, const char *what)
{
	char *path = write_file("last.log", text), *got = childproc_log_last_line(path);

	is_str(got, want, "%s", what);
	free(got);
	free(path);
}

static void test_last_line(void)
{
	char *big = xmalloc(6001), *got;

	is_last_line("$ prog a b\nfirst\nsecond\n", "second", "the last line");
	is_last_line("$ prog\nerror: boom \r\n\n\n", "error: boom", "blank lines and spaces at the end go");
	is_last_line("$ prog --x\n", "", "the command line alone is no reason");
	is_last_line("", "", "an empty log has none");
	is_last_line("no newline at all", "no newline at all", "one line without its newline");
	got = childproc_log_last_line("/nonexistent/x.log");
	is_str(got, "", "a log that cannot be read has none");
	free(got);
	/* a long log: only the tail is read, and its "$"-line is not the command's */
	memset(big, 'x', 6000);
	big[0] = '$';
	big[6000] = '\0';
	{
		char *path = write_file("big.log", big);

		got = childproc_log_last_line(path);
		ok(strlen(got) == 4096, "a line longer than the tail is its last 4096 bytes (%zu)",
		   strlen(got));
		free(got);
		free(path);
	}
	free(big);
}

static void test_status(void)
{
	char *s;

	s = childproc_status_reason(3 << 8);
	is_str(s, "exited with status 3", "an exit status");
	free(s);
	s = childproc_status_reason(SIGKILL);
	is_str(s, "killed by signal 9", "a signal");
	free(s);
	s = childproc_reason("/nonexistent/x.log", 0);
	is_str(s, "exited with status 0", "no log line: the status");
	free(s);
}

static void test_names(void)
{
	struct buf err = BUF_INIT;
	char *p, *q, *want;

	setenv("CHILDPROC_TEST_PROG", "/opt/prog", 1);
	p = childproc_program("CHILDPROC_TEST_PROG", "services/x/x");
	is_str(p, "/opt/prog", "the variable names the program");
	free(p);
	setenv("CHILDPROC_TEST_PROG", "", 1);
	p = childproc_program("CHILDPROC_TEST_PROG", "services/x/x");
	ok(strlen(p) > 13 && !strcmp(p + strlen(p) - 13, "/services/x/x") && p[0] == '/',
	   "an empty variable: beside pancake (%s)", p);
	free(p);

	p = childproc_log_new("train", "the job's", 0, &err);
	q = childproc_log_new("train", "the job's", 0, &err);
	want = xstrfmt("%s/jobs/train-", tmp);
	ok(p && !strncmp(p, want, strlen(want)) && strlen(p) > 4 &&
	   !strcmp(p + strlen(p) - 4, ".log"), "the log is under the state's jobs/ (%s)", p ? p : "none");
	ok(p && q && strcmp(p, q), "two logs in one second have two names");
	free(p);
	free(q);
	free(want);
	buf_release(&err);
}

static void test_child(void)
{
	char *log = xstrfmt("%s/child.log", tmp), *r;
	char *argv[] = { "/bin/sh", "-c", "echo on-out; echo on-err >&2; echo extra >&3; exit 4",
			 NULL };
	struct childproc_exec x = {
		.argv = argv, .log = log, .whose = "the test's", .what = "sh", .extra_fd = -1,
		.kill_after = 0.2,
	};
	struct childproc c;
	struct buf err = BUF_INIT, text = BUF_INIT;
	int fds[2];
	char got[64] = "";
	ssize_t n;

	if (pipe(fds))
		return;
	x.extra_fd = fds[1];
	ok(!childproc_start(&c, &x, &err) && c.pid > 0, "a child starts");
	close(fds[1]);
	n = read(fds[0], got, sizeof(got) - 1);
	got[n > 0 ? n : 0] = '\0';
	close(fds[0]);
	is_str(got, "extra\n", "its extra descriptor is 3");
	while (!childproc_reap(&c))
		usleep(10000);
	ok(c.reaped && WIFEXITED(c.status) && WEXITSTATUS(c.status) == 4, "it was reaped, status 4");
	buf_read_file(&text, log, 1 << 16);
	ok(!strncmp(text.s, "$ /bin/sh -c echo", 17) && strstr(text.s, "on-out\n") &&
	   strstr(text.s, "on-err\n"), "its log opens with the command, then stdout and stderr");
	r = childproc_reason(log, c.status);
	is_str(r, "on-err", "its reason is the log's last line");
	free(r);

	/* a child that ignores SIGTERM is killed kill_after later */
	argv[2] = "trap '' TERM; sleep 30";
	x.extra_fd = -1;
	ok(!childproc_start(&c, &x, &err), "a stubborn child starts");
	usleep(100000);	/* its trap is set */
	childproc_stop(&c);
	ok(c.stopping && !childproc_reap(&c), "stop returns at once");
	childproc_wait(&c, 5);
	ok(c.reaped && c.killed && WIFSIGNALED(c.status) && WTERMSIG(c.status) == SIGKILL,
	   "it was killed by the SIGKILL after the stop");
	ok(kill(c.pid, 0) < 0 && errno == ESRCH, "and it is gone");

	x.log = "/nonexistent/dir/x.log";
	buf_reset(&err);
	n = childproc_start(&c, &x, &err);
	ok(n && strstr(err.s, "cannot write the test's log '/nonexistent/dir/x.log'"),
	   "a log that cannot be written is refused (%s)", err.s);
	buf_release(&text);
	buf_release(&err);
	free(log);
}

int main(void)
{
	if (!mkdtemp(tmp))
		return 1;
	setenv("PANCAKE_STATE", tmp, 1);
	test_last_line();
	test_status();
	test_names();
	test_child();
	tap_rmtree(tmp);
	return tap_done();
}
