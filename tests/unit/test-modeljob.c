/*
 * test-modeljob: core/modeljob.c against a stand-in recommender (a shell
 * script writing recorded progress bytes, split anywhere): line assembly,
 * malformed and over-long lines, reasons, cancel and the SIGKILL after it.
 */
#include "tap.h"
#include "core/modeljob.h"
#include "util/clock.h"
#include "util/xalloc.h"

#include <dirent.h>
#include <fcntl.h>
#include <errno.h>
#include <math.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

static char tmp[] = "/tmp/test-modeljob-XXXXXX";

/*
 * The stand-in: what it does is FAKE_MODE's. Lines are written in pieces
 * with pauses, so the reader sees halves of lines.
 */
static const char fake[] =
	"#!/bin/sh\n"
	"case \"$FAKE_MODE\" in\n"
	"ok)\n"
	"  echo \"args: $*\"\n"
	"  printf '{\"event\":\"start\",\"job\":\"train\",\"total\":2,\"what\":\"als explicit rank 7 on x\"}\\n{\"event\":\"it' >&3\n"
	"  sleep 0.2\n"
	"  printf 'er\",\"iter\":1,\"iters\":2,\"seconds\":0.5,\"loss\":3.25,\"train_rmse\":0.9}\\n' >&3\n"
	"  sleep 0.1\n"
	"  printf '\\n{\"event\":\"iter\",\"iter\":2,\"iters\":2,\"seconds\":0.25,\"loss\":2.5}\\n{\"event\":\"done\",\"version\":\"abc\",\"message\":\"ok\"}' >&3\n"
	"  exit 0 ;;\n"
	"error)\n"
	"  printf '{\"event\":\"error\",\"message\":\"no dataset here\"}\\n' >&3\n"
	"  echo 'error: something longer' >&2\n"
	"  exit 1 ;;\n"
	"status)\n"
	"  echo 'error: boom, the last line' >&2\n"
	"  echo '' >&2\n"
	"  exit 3 ;;\n"
	"signal)\n"
	"  kill -9 $$ ;;\n"
	"malformed)\n"
	"  printf '{\"event\":\"start\",\"job\":\"train\"}\\n{\"event\":\"iter\",\"loss\":\"low\"}\\n' >&3\n"
	"  sleep 30 ;;\n"
	"long)\n"
	"  head -c 2000 /dev/zero | tr '\\0' x >&3\n"
	"  sleep 30 ;;\n"
	"term)\n"
	"  trap 'printf \"{\\\"event\\\":\\\"error\\\",\\\"message\\\":\\\"interrupted after 1 iteration(s)\\\"}\\n\" >&3; exit 130' TERM\n"
	"  printf '{\"event\":\"start\",\"job\":\"train\",\"total\":9}\\n' >&3\n"
	"  while :; do sleep 0.1; done ;;\n"
	"stubborn)\n"
	"  trap '' TERM\n"
	"  printf '{\"event\":\"start\",\"job\":\"foldin\"}\\n' >&3\n"
	"  while :; do sleep 0.1; done ;;\n"
	"esac\n";

/* polls until it ends or `secs` pass; its state */
static enum modeljob_state wait_end(struct modeljob *j, double secs, int *bad)
{
	double until = clock_s() + secs;
	struct buf err = BUF_INIT;

	while (modeljob_state(j) == MODELJOB_RUNNING && clock_s() < until) {
		struct pollfd p = { .fd = modeljob_fd(j), .events = POLLIN };

		if (p.fd >= 0)
			poll(&p, 1, 100);
		else
			usleep(50000);
		if (modeljob_poll(j, &err) < 0 && bad)
			*bad = 1;
	}
	buf_release(&err);
	return modeljob_state(j);
}

static struct modeljob *train(const char *mode)
{
	struct modeljob_train t = {
		.dataset = tmp, .rank = 7, .lambda = 0.05, .alpha = -1, .iters = 2,
		.split = 0, .do_register = 1, .registry = "/nonexistent/registry",
	};
	struct modeljob *j = NULL;
	struct buf err = BUF_INIT;

	setenv("FAKE_MODE", mode, 1);
	if (modeljob_train_start(&j, &t, NULL, &err))
		printf("#   %s\n", err.s);
	buf_release(&err);
	return j;
}

/* the jobs folder keeps the newest 100 logs: the oldest go as a job starts */
static void test_prune(void)
{
	char *dir = xstrfmt("%s/jobs", tmp), *path;
	struct modeljob *j;
	struct dirent *d;
	DIR *dh;
	int i, n = 0, old = 0;

	for (i = 0; i < 120; i++) {
		path = xstrfmt("%s/train-19990101-%06d-1-1.log", dir, i);
		close(open(path, O_WRONLY | O_CREAT, 0644));
		free(path);
	}
	j = train("ok");
	ok(j != NULL, "a job starts beside 120 old logs");
	modeljob_free(j);
	dh = opendir(dir);
	while (dh && (d = readdir(dh))) {
		if (strstr(d->d_name, ".log"))
			n++;
		if (strstr(d->d_name, "19990101-0000") && atoi(d->d_name + 15) < 30)
			old++;
	}
	if (dh)
		closedir(dh);
	ok(n == 100, "the jobs folder keeps 100 logs (it has %d)", n);
	path = xstrfmt("%s/train-19990101-000119-1-1.log", dir);
	ok(!access(path, F_OK) && !old, "the newest stay, the oldest went");
	free(path);
	free(dir);
}

static void test_ok(void)
{
	struct modeljob *j = train("ok");
	struct buf log = BUF_INIT;
	const struct progress_event *e;

	if (!ok(j, "a train starts"))
		return;
	ok(modeljob_pid(j) > 0 && modeljob_fd(j) >= 0, "it has a pid and a pipe");
	is_int(wait_end(j, 15, NULL), MODELJOB_DONE, "it ends DONE");
	is_int(modeljob_nevents(j), 4, "four events, from lines split anywhere (a blank one skipped)");
	e = modeljob_event(j, 1);
	ok(e && e->kind == PROGRESS_ITER && e->iter == 1 && e->loss == 3.25 &&
	   e->train_rmse == 0.9 && isnan(e->test_rmse), "the first iteration whole, across two writes");
	e = modeljob_last(j, PROGRESS_ITER);
	ok(e && e->iter == 2 && e->loss == 2.5, "modeljob_last finds the newest iteration");
	e = modeljob_last(j, PROGRESS_DONE);
	ok(e && !strcmp(e->version, "abc"), "the done line without its newline still read at the end");
	ok(!modeljob_last(j, PROGRESS_ERROR), "no error event");
	is_str(modeljob_reason(j), "", "no reason when it succeeded");
	is_int(modeljob_fd(j), -1, "the pipe is closed once it ended");
	ok(!buf_read_file(&log, modeljob_log(j), 1 << 20), "its log is under PANCAKE_STATE/jobs");
	ok(!strncmp(modeljob_log(j), tmp, strlen(tmp)), "  (%s)", modeljob_log(j));
	ok(strstr(log.s, " train ") && strstr(log.s, "--rank=7") && strstr(log.s, "--lambda=0.05") &&
	   strstr(log.s, "--iters=2") && strstr(log.s, "--split=none") &&
	   strstr(log.s, "--register") && strstr(log.s, "--registry=/nonexistent/registry") &&
	   strstr(log.s, "--progress-fd=3") && !strstr(log.s, "--alpha") &&
	   !strstr(log.s, "--implicit"), "the recommender's arguments, in the log");
	ok(strstr(log.s, "args: train ") != NULL, "the child's stdout goes to the log");
	modeljob_free(j);
	buf_release(&log);
}

static void test_ends(void)
{
	struct modeljob *j;
	int bad = 0;

	j = train("error");
	is_int(wait_end(j, 15, NULL), MODELJOB_FAILED, "an error event and exit 1: FAILED");
	is_str(modeljob_reason(j), "no dataset here", "the reason is the error event's message");
	modeljob_free(j);

	j = train("status");
	is_int(wait_end(j, 15, NULL), MODELJOB_FAILED, "exit 3 with no events: FAILED");
	is_str(modeljob_reason(j), "error: boom, the last line", "the reason is the log's last line");
	modeljob_free(j);

	j = train("signal");
	is_int(wait_end(j, 15, NULL), MODELJOB_FAILED, "killed, nothing said: FAILED");
	is_str(modeljob_reason(j), "killed by signal 9", "the reason names the signal");
	modeljob_free(j);

	j = train("malformed");
	is_int(wait_end(j, 15, &bad), MODELJOB_FAILED, "a malformed line: FAILED");
	ok(bad, "modeljob_poll said -1");
	ok(strstr(modeljob_reason(j), "line 2") && strstr(modeljob_reason(j), "\"loss\""),
	   "the reason names the line and the member (%s)", modeljob_reason(j));
	is_int(modeljob_nevents(j), 1, "the good line before it was kept");
	{
		pid_t pid = modeljob_pid(j);
		modeljob_free(j);
		ok(kill(pid, 0) < 0 && errno == ESRCH, "the child was stopped and reaped");
	}

	bad = 0;
	j = train("long");
	is_int(wait_end(j, 15, &bad), MODELJOB_FAILED, "a line over the cap: FAILED");
	ok(bad && strstr(modeljob_reason(j), "over 1023 bytes"), "refused before its end (%s)",
	   modeljob_reason(j));
	modeljob_free(j);
}

static void test_cancel(void)
{
	struct modeljob *j;
	struct buf err = BUF_INIT;
	double t0;
	pid_t pid;

	j = train("term");
	while (modeljob_nevents(j) < 1 && wait_end(j, 0.2, NULL) == MODELJOB_RUNNING)
		;
	modeljob_cancel(j);
	is_int(wait_end(j, 15, NULL), MODELJOB_CANCELLED, "cancelled: SIGTERM, it said so, CANCELLED");
	is_str(modeljob_reason(j), "interrupted after 1 iteration(s)", "its error event is the reason");
	modeljob_free(j);

	j = train("stubborn");
	while (modeljob_nevents(j) < 1 && wait_end(j, 0.2, NULL) == MODELJOB_RUNNING)
		;
	pid = modeljob_pid(j);
	t0 = clock_s();
	modeljob_cancel(j);
	ok(modeljob_state(j) == MODELJOB_RUNNING, "cancel returns at once");
	is_int(wait_end(j, 15, NULL), MODELJOB_CANCELLED, "one that ignores SIGTERM ends too");
	ok(clock_s() - t0 >= 4.5, "  by SIGKILL, later polls after the cancel");
	is_str(modeljob_reason(j), "killed by signal 9", "  its reason");
	modeljob_free(j);
	ok(kill(pid, 0) < 0 && errno == ESRCH, "  and it is gone");

	/* free on a running job cancels and waits */
	j = train("term");
	pid = modeljob_pid(j);
	modeljob_free(j);
	ok(kill(pid, 0) < 0 && errno == ESRCH, "free stops a running job and reaps it");
	buf_release(&err);
}

static void test_start(void)
{
	struct modeljob *j = NULL;
	struct buf err = BUF_INIT, log = BUF_INIT;
	struct modeljob_train t = { .dataset = "no-such-dataset-here", .lambda = -1, .alpha = -1,
				    .split = -1 };
	struct modeljob_publish p = { 0 };
	struct modeljob_foldin f = { .rev = "abc123" };
	char *path = xstrfmt("%s/given.log", tmp);

	ok(modeljob_train_start(&j, &t, NULL, &err) == -1 && !j &&
	   strstr(err.s, "no dataset 'no-such-dataset-here'"), "an unknown dataset is refused");
	buf_reset(&err);
	t.dataset = tmp;
	t.rank = 5000;
	ok(modeljob_train_start(&j, &t, NULL, &err) == -1 && strstr(err.s, "rank"),
	   "a rank out of range is refused");
	buf_reset(&err);
	t.rank = 0;
	t.alpha = 2;
	ok(modeljob_train_start(&j, &t, NULL, &err) == -1 && strstr(err.s, "alpha is for implicit"),
	   "alpha without implicit is refused");
	buf_reset(&err);
	t.alpha = -1;
	setenv("RECOMMENDER", "/nonexistent/recommender", 1);
	ok(modeljob_train_start(&j, &t, NULL, &err) == -1 &&
	   strstr(err.s, "no recommender at '/nonexistent/recommender'"), "no recommender: refused");
	buf_reset(&err);

	/* the endpoints: the project's ports from the definitions and the environment */
	{
		char *fakepath = xstrfmt("%s/fake", tmp);
		setenv("RECOMMENDER", fakepath, 1);
		free(fakepath);
	}
	setenv("PANCAKE_REDIS_PORT_6379", "26399", 1);
	setenv("PANCAKE_KAFKA_PORT_9092", "29199", 1);
	setenv("FAKE_MODE", "none", 1);
	ok(!modeljob_publish_start(&j, &p, path, &err), "publish starts");
	wait_end(j, 15, NULL);
	ok(!buf_read_file(&log, path, 1 << 20) && strstr(log.s, " publish candidate ") &&
	   strstr(log.s, "--redis=127.0.0.1:26399") && strstr(log.s, "--progress-fd=3"),
	   "publish: candidate, the project's redis on loopback, the given log");
	is_str(modeljob_log(j), path, "  the log is where it was asked");
	modeljob_free(j);
	buf_reset(&log);
	ok(!modeljob_foldin_start(&j, &f, path, &err), "foldin starts");
	wait_end(j, 15, NULL);
	ok(!buf_read_file(&log, path, 1 << 20) && strstr(log.s, " foldin abc123 ") &&
	   strstr(log.s, "--redis=127.0.0.1:26399") && strstr(log.s, "--kafka=127.0.0.1:29199"),
	   "foldin: the revision asked, the project's redis and kafka");
	modeljob_free(j);
	buf_reset(&log);
	p.rev = "production";
	p.redis = "10.1.2.3:7000";
	ok(!modeljob_publish_start(&j, &p, path, &err), "publish with an endpoint starts");
	wait_end(j, 15, NULL);
	ok(!buf_read_file(&log, path, 1 << 20) && strstr(log.s, " publish production ") &&
	   strstr(log.s, "--redis=10.1.2.3:7000"), "  the given endpoint wins");
	modeljob_free(j);
	modeljob_free(NULL);
	ok(1, "modeljob_free(NULL) is fine");
	free(path);
	buf_release(&log);
	buf_release(&err);
}

int main(void)
{
	char *path, cwd[4096];
	FILE *f;

	if (!mkdtemp(tmp) || !getcwd(cwd, sizeof(cwd)))
		return 1;
	path = xstrfmt("%s/fake", tmp);
	f = fopen(path, "w");
	if (!f)
		return 1;
	fputs(fake, f);
	fclose(f);
	chmod(path, 0755);
	setenv("RECOMMENDER", path, 1);
	setenv("PANCAKE_STATE", tmp, 1);
	/* the source tree, for the services' definitions (read once: config caches it) */
	setenv("PANCAKE_HOME", cwd, 1);
	free(path);

	test_ok();
	test_ends();
	test_cancel();
	test_start();
	test_prune();
	tap_rmtree(tmp);
	return tap_done();
}
