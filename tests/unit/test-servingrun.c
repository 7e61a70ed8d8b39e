/*
 * test-servingrun: core/servingrun.c's plan against a temporary registry
 * (no production, no candidate, both; a port in use; a bad policy) and
 * its child against stand-in servings (a shell script that announces
 * itself, or fails): ready on its announcement, stopped by SIGTERM or, when
 * it ignores that, by SIGKILL; a failure's reason from its log's last line.
 */
#include "tap.h"
#include "core/servingrun.h"
#include "model/registry.h"
#include "util/clock.h"
#include "util/xalloc.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

static char tmp[] = "/tmp/test-servingrun-XXXXXX";

/* the stand-in serving: FAKE_MODE says what it does */
static const char fake[] =
	"#!/bin/sh\n"
	"case \"$FAKE_MODE\" in\n"
	"ok)\n"
	"  echo \"args: $*\"\n"
	"  [ \"$PANCAKE_SERVINGRUN\" = 1 ] || exit 9\n"
	"  mkdir -p \"$PANCAKE_STATE/serving\"\n"
	"  printf 'pid=%s\\nbind=127.0.0.1\\nport=1\\nproject=\\n' $$ > \"$PANCAKE_STATE/serving/$$\"\n"
	"  trap 'rm -f \"$PANCAKE_STATE/serving/$$\"; exit 0' TERM\n"
	"  while :; do sleep 0.05; done ;;\n"
	"stubborn)\n"
	"  trap '' TERM\n"
	"  while :; do sleep 0.05; done ;;\n"
	"fail)\n"
	"  echo 'error: no model production in the registry' >&2\n"
	"  exit 1 ;;\n"
	"esac\n";

/* polls until `state` or `secs` pass; 1 when reached */
static int wait_state(struct servingrun *r, enum servingrun_state state, double secs)
{
	double until = clock_s() + secs;

	while (clock_s() < until) {
		servingrun_poll(r);
		if (servingrun_state(r) == state)
			return 1;
		usleep(20000);
	}
	return 0;
}

static void test_plan(const char *reg_dir)
{
	struct servingrun_opts o = { .registry = reg_dir, .redis = "127.0.0.1:6379",
				     .kafka = "127.0.0.1:9092", .port = 47999 };
	struct servingrun_plan p;
	struct buf err = BUF_INIT, d = BUF_INIT;
	struct registry *reg;
	struct registry_entry e1, e2;
	int fd, one = 1;
	struct sockaddr_in a;

	ok(servingrun_plan(&p, &o, &err) == -1 && strstr(err.s, "no model registry") &&
	   strstr(err.s, "pancake models train"), "no registry: refused, saying how to make a model "
	   "(%s)", err.s);

	if (registry_open(&reg, reg_dir, 1, &err))
		die("registry: %s", err.s);
	if (registry_add(reg, "m1", 2, "{\"dataset\":\"no-such-set\"}", NULL, "first", &e1, &err))
		die("registry_add: %s", err.s);
	buf_reset(&err);
	ok(servingrun_plan(&p, &o, &err) == -1 && strstr(err.s, "no production model") &&
	   strstr(err.s, "pancake models promote") && strstr(err.s, "p on the models screen"),
	   "a candidate only: refused, saying production is missing and how to promote (%s)", err.s);
	if (registry_promote(reg, NULL, NULL, &err) ||
	    registry_add(reg, "m2", 2, "{\"dataset\":\"other\"}", NULL, "second", &e2, &err))
		die("registry: %s", err.s);
	buf_reset(&err);
	ok(servingrun_plan(&p, &o, &err) == 0, "production and candidate: planned (%s)", err.s);
	servingrun_describe(&p, &d);
	{
		char want[256];
		snprintf(want, sizeof(want), "serving a=production (%s) vs b=candidate (%s), thompson, "
			 "on 127.0.0.1:47999", e1.short_id, e2.short_id);
		is_str(d.s, want, "the question names both models, the policy and the address");
	}
	is_str(p.data, "none", "the production model's dataset is not here: --data none");
	is_str(p.redis, "127.0.0.1:6379", "redis as given");

	o.policy = "greedy";
	buf_reset(&err);
	ok(servingrun_plan(&p, &o, &err) == -1 && strstr(err.s, "thompson, ab, egreedy or ucb1"),
	   "an unknown policy is refused, listing the known ones");
	o.policy = "ucb1";
	o.variants[0] = "c=candidate~1";
	o.variants[1] = "d=deadbeef";
	o.nvariants = 2;
	buf_reset(&err);
	ok(servingrun_plan(&p, &o, &err) == -1 && strstr(err.s, "'deadbeef'"),
	   "a model the registry lacks is refused, named (%s)", err.s);
	o.variants[1] = "c=production";
	buf_reset(&err);
	ok(servingrun_plan(&p, &o, &err) == -1 && strstr(err.s, "named twice"),
	   "a variant named twice is refused");
	o.nvariants = 1;
	buf_reset(&err);
	ok(servingrun_plan(&p, &o, &err) == 0 && p.nvariants == 1 && !strcmp(p.ids[0], e1.short_id),
	   "c=candidate~1 names the first model");
	o.nvariants = 0;
	o.policy = NULL;

	/* a port in use */
	fd = socket(AF_INET, SOCK_STREAM, 0);
	memset(&a, 0, sizeof(a));
	a.sin_family = AF_INET;
	inet_pton(AF_INET, "127.0.0.1", &a.sin_addr);
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (bind(fd, (struct sockaddr *)&a, sizeof(a)) || listen(fd, 1))
		die("cannot listen for the test");
	socklen_t len = sizeof(a);
	getsockname(fd, (struct sockaddr *)&a, &len);
	o.port = ntohs(a.sin_port);
	buf_reset(&err);
	{
		char want[64];
		snprintf(want, sizeof(want), "port %d on 127.0.0.1 is in use", o.port);
		ok(servingrun_plan(&p, &o, &err) == -1 && strstr(err.s, want) &&
		   strstr(err.s, "--port N"), "a port in use is refused, named, with the way out (%s)",
		   err.s);
	}
	close(fd);

	registry_entry_release(&e1);
	registry_entry_release(&e2);
	registry_close(reg);
	buf_release(&err);
	buf_release(&d);
}

static void test_child(const char *reg_dir)
{
	struct servingrun_opts o = { .registry = reg_dir, .redis = "127.0.0.1:6379",
				     .kafka = "127.0.0.1:9092", .port = 47998 };
	struct servingrun_plan p;
	struct servingrun *r;
	struct buf err = BUF_INIT, logtext = BUF_INIT;
	struct stat st;
	char *ann;
	double t0;

	if (servingrun_plan(&p, &o, &err))
		die("plan: %s", err.s);
	setenv("FAKE_MODE", "ok", 1);
	ok(servingrun_start(&r, &p, 0, &err) == 0, "started (%s)", err.s);
	ok(servingrun_state(r) == SERVINGRUN_STARTING, "starting until it announces itself");
	ok(wait_state(r, SERVINGRUN_READY, 5), "ready once it announced itself");
	ann = xstrfmt("%s/serving/%ld", tmp, (long)servingrun_pid(r));
	ok(stat(ann, &st) == 0, "its announcement is where servingloc looks");
	is_str(servingrun_addr(r), "127.0.0.1:47998", "its address");
	ok(getpgid(servingrun_pid(r)) == servingrun_pid(r), "in a process group of its own");
	ok(servingrun_find(NULL, 0, 0) == 0, "find with no room finds none");
	servingrun_stop(r);
	ok(wait_state(r, SERVINGRUN_ENDED, 5), "SIGTERM ends it");
	is_str(servingrun_reason(r), "stopped", "the reason of a stop");
	ok(stat(ann, &st) != 0, "its announcement is gone");
	buf_read_file(&logtext, servingrun_log(r), 1 << 16);
	ok(strstr(logtext.s, "--variant=a=production --variant=b=candidate --policy=thompson "
		  "--bind=127.0.0.1 --port=47998 --data=none"), "the log opens with the command");
	servingrun_free(r);
	free(ann);

	setenv("FAKE_MODE", "fail", 1);
	ok(servingrun_start(&r, &p, 0, &err) == 0, "a failing serving starts");
	ok(wait_state(r, SERVINGRUN_ENDED, 5), "and ends");
	is_str(servingrun_reason(r), "error: no model production in the registry",
	       "its reason is the log's last line");
	servingrun_free(r);

	setenv("FAKE_MODE", "stubborn", 1);
	ok(servingrun_start(&r, &p, 0, &err) == 0, "a serving that ignores SIGTERM starts");
	usleep(200000);
	t0 = clock_s();
	servingrun_stop(r);
	servingrun_poll(r);
	ok(servingrun_state(r) != SERVINGRUN_ENDED && servingrun_stopping(r),
	   "a stop does not wait: still there, stopping");
	servingrun_free(r);
	ok(clock_s() - t0 >= SERVINGRUN_KILL_AFTER_S - 0.5, "free sent SIGKILL after %.0f s",
	   SERVINGRUN_KILL_AFTER_S);
	buf_release(&err);
	buf_release(&logtext);
}

int main(void)
{
	char *path, *reg_dir;
	FILE *f;

	if (!mkdtemp(tmp))
		die("mkdtemp");
	path = xstrfmt("%s/fake-serving", tmp);
	f = fopen(path, "w");
	if (!f || fputs(fake, f) < 0 || fclose(f) || chmod(path, 0755))
		die("cannot write %s", path);
	setenv("SERVING", path, 1);
	setenv("PANCAKE_STATE", tmp, 1);
	reg_dir = xstrfmt("%s/registry", tmp);
	test_plan(reg_dir);
	test_child(reg_dir);
	tap_rmtree(tmp);
	free(path);
	free(reg_dir);
	return tap_done();
}
