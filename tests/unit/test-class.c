/* test-class: rosters, names and seat ports of a classroom (core/class.c, the pure parts). */
#include "core/class.h"
#include "core/service.h"
#include "util/buf.h"
#include "util/xalloc.h"
#include "defs.h"
#include "tap.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static char tmpdir[] = "/tmp/pancake-test-class-XXXXXX";

static char *write_file(const char *name, const char *text)
{
	char *path = xstrfmt("%s/%s", tmpdir, name);
	FILE *f = fopen(path, "w");

	if (!f || fputs(text, f) < 0 || fclose(f))
		die("cannot write '%s'", path);
	return path;
}

/* loads `text` as a roster; 0 or -1, the error into `err` */
static int roster(const char *text, struct class_roster *r, struct buf *err)
{
	char *path = write_file("roster", text);
	int ret;

	buf_reset(err);
	ret = class_roster_load(path, r, err);
	free(path);
	return ret;
}

static void test_names(void)
{
	ok(!class_name_ok("ada"), "ada is a name");
	ok(!class_name_ok("team-7"), "team-7 is a name");
	ok(!class_name_ok("7up"), "a digit may start a name");
	ok(class_name_ok(""), "empty is not");
	ok(class_name_ok("-x"), "a leading '-' is not");
	ok(class_name_ok("Ada"), "upper case is not");
	ok(class_name_ok("a_b"), "'_' is not");
	ok(class_name_ok("a b"), "a space is not");
	ok(class_name_ok("abcdefghijabcdefghijabcdefghijabc"), "33 characters are too many");
	ok(!class_name_ok("abcdefghijabcdefghijabcdefghijab"), "32 are not");
}

static void test_roster(void)
{
	struct class_roster *r = xcalloc(1, sizeof(*r));
	struct buf err = BUF_INIT;
	char big[CLASS_MAX * 8 + 64];
	size_t used = 0;
	int i;

	ok(!roster("# workshop 3\nada\n\n  bob   # late\ncy-2\n", r, &err), "a roster loads");
	is_int(r->n, 3, "three attendees, comments and blank lines skipped");
	is_str(r->name[0], "ada", "seat 1: ada");
	is_str(r->name[1], "bob", "seat 2: bob, spaces and comment trimmed");
	is_str(r->name[2], "cy-2", "seat 3: cy-2");
	ok(roster("ada\nbob\nada\n", r, &err) == -1, "a name twice is refused");
	ok(strstr(err.s, "roster:3:") && strstr(err.s, "twice") && strstr(err.s, "seat 1"),
	   "... naming the line and the first seat: %s", err.s);
	ok(roster("ada\nBob Smith\n", r, &err) == -1, "a bad name is refused");
	ok(strstr(err.s, "roster:2:") && strstr(err.s, "lower-case"), "... with its line and the rule");
	ok(roster("# nobody\n\n", r, &err) == -1, "an empty roster is refused");
	ok(strstr(err.s, "no attendee"), "... saying so");
	for (i = 0; i <= CLASS_MAX; i++)
		used += (size_t)snprintf(big + used, sizeof(big) - used, "a%d\n", i);
	ok(roster(big, r, &err) == -1, "more than CLASS_MAX attendees are refused");
	ok(strstr(err.s, "split the class"), "... with the way out");
	buf_reset(&err);
	ok(class_roster_load("/nonexistent/roster", r, &err) == -1 && strstr(err.s, "/nonexistent/roster"),
	   "a missing file is named");
	buf_release(&err);
	free(r);
}

static void test_seat(void)
{
	struct stack st;
	struct buf err = BUF_INIT;

	memset(&st, 0, sizeof(st));
	def_load(&st.svcs[0], tmpdir, "redis", "image = pancake/redis\nport = 6379\nprobe = redis\n");
	if (!ok(st.svcs[0].nports == 1, "redis loads"))
		return;
	if (!ok(!def_load(&st.svcs[1], tmpdir, "kafka", "image = pancake/kafka\nport = 9092\nprobe = kafka\n"),
		"kafka loads"))
		return;
	if (!ok(!def_load(&st.svcs[2], tmpdir, "sentinel", "image = pancake/redis\nport = 26379\n"
			  "probe = redis\nswarm.only = yes\n"), "a swarm-only member loads"))
		return;
	st.n = 2;
	st.nall = 3;
	ok(!class_seat_stack(&st, "ws", "ada", 3, &err), "seat 3");
	is_str(st.project, "ws-ada", "project <class>-<attendee>");
	is_str(st.network, "ws-ada-net", "its own network");
	is_int(st.svcs[0].ports[0].host_port, 6379 + 300, "redis published at 6379 + 3*100");
	is_int(st.svcs[1].ports[0].host_port, 9092 + 300, "kafka published at 9092 + 3*100");
	is_int(st.svcs[0].ports[0].container_port, 6379, "the container port stays");
	is_int(st.svcs[2].ports[0].host_port, 26379 + 300, "a swarm-only member's port moves too");
	ok(class_seat_stack(&st, "ws", "bob", 600, &err) == -1, "a port past 65535 is refused");
	ok(strstr(err.s, "65535") && strstr(err.s, "bob"), "... naming the seat: %s", err.s);
	service_release(&st.svcs[0]);
	service_release(&st.svcs[1]);
	service_release(&st.svcs[2]);
	buf_release(&err);
}

int main(void)
{
	if (!mkdtemp(tmpdir))
		die("cannot create '%s'", tmpdir);
	test_names();
	test_roster();
	test_seat();
	tap_rmtree(tmpdir);
	return tap_done();
}
