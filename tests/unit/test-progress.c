/* test-progress: model/progress.c: every event kind through format and parse, and bad lines. */
#include "tap.h"
#include "model/progress.h"

#include <math.h>
#include <stdlib.h>
#include <unistd.h>

/* formats `ev`, parses the line back into `back`; 0 when both worked */
static int round_trip(const struct progress_event *ev, struct progress_event *back,
		      struct buf *line)
{
	struct buf err = BUF_INIT;
	int r;

	buf_reset(line);
	progress_format(ev, line);
	r = progress_parse(line->s, line->len, back, &err);
	if (r)
		printf("#   %s\n#   line: %s", err.s, line->s);
	buf_release(&err);
	return r;
}

/* NaN == NaN here: an absent figure must come back absent */
static int same(double a, double b)
{
	return (isnan(a) && isnan(b)) || a == b;
}

static void test_kinds(void)
{
	struct progress_event ev, back;
	struct buf line = BUF_INIT;

	progress_init(&ev, PROGRESS_START);
	snprintf(ev.job, sizeof(ev.job), "train");
	snprintf(ev.what, sizeof(ev.what), "als explicit rank 10 on lab-100k");
	ev.total = 10;
	ok(!round_trip(&ev, &back, &line), "start round trip");
	is_str(line.s, "{\"event\":\"start\",\"job\":\"train\",\"total\":10,"
	       "\"what\":\"als explicit rank 10 on lab-100k\"}\n", "start line as documented");
	ok(back.kind == PROGRESS_START && back.total == 10 && !strcmp(back.job, "train") &&
	   !strcmp(back.what, ev.what), "start fields back");

	progress_init(&ev, PROGRESS_ITER);
	ev.iter = 3;
	ev.iters = 10;
	ev.seconds = 0.125;
	ev.loss = 81234.5678;
	ev.train_rmse = 0.812345;
	ev.test_rmse = 0.9123;
	ev.ndcg = 0.04321;
	ok(!round_trip(&ev, &back, &line), "iter round trip");
	ok(back.kind == PROGRESS_ITER && back.iter == 3 && back.iters == 10 &&
	   same(back.seconds, 0.125) && same(back.loss, 81234.5678) &&
	   same(back.train_rmse, 0.812345) && same(back.test_rmse, 0.9123) &&
	   same(back.ndcg, 0.04321), "iter figures back exactly");

	/* implicit with no split: no rmse, no ndcg */
	progress_init(&ev, PROGRESS_ITER);
	ev.iter = 1;
	ev.iters = 5;
	ev.seconds = 2;
	ev.loss = 10;
	ok(!round_trip(&ev, &back, &line), "iter without figures round trip");
	ok(!strstr(line.s, "rmse") && !strstr(line.s, "ndcg") && !strstr(line.s, "NaN") &&
	   !strstr(line.s, "nan"), "NaN figures are left out of the line");
	ok(isnan(back.train_rmse) && isnan(back.test_rmse) && isnan(back.ndcg) &&
	   same(back.loss, 10), "left-out figures read back as NaN");
	ev.loss = INFINITY;
	ok(!round_trip(&ev, &back, &line) && isnan(back.loss), "an infinite figure is left out too");
	ev.loss = 1.7976931348623157e308;
	ok(!round_trip(&ev, &back, &line) && isnan(back.loss),
	   "so is one that would not read back once rounded");

	progress_init(&ev, PROGRESS_PUBLISH);
	ev.done = 1234;
	ev.total = 2567;
	ev.rate = 45678.25;
	ev.eta = 0.5;
	ok(!round_trip(&ev, &back, &line), "publish round trip");
	ok(back.kind == PROGRESS_PUBLISH && back.done == 1234 && back.total == 2567 &&
	   same(back.rate, 45678.25) && same(back.eta, 0.5), "publish fields back");

	progress_init(&ev, PROGRESS_FOLDIN);
	ev.events = 9876543210ull;
	ev.p50_ms = 3.5;
	ev.p99_ms = 41.25;
	ok(!round_trip(&ev, &back, &line), "foldin round trip");
	ok(back.kind == PROGRESS_FOLDIN && back.events == 9876543210ull &&
	   same(back.p50_ms, 3.5) && same(back.p99_ms, 41.25), "foldin fields back");
	progress_init(&ev, PROGRESS_FOLDIN);
	ok(!round_trip(&ev, &back, &line) && isnan(back.p50_ms) && isnan(back.p99_ms) &&
	   back.events == 0, "foldin with no latency yet");

	progress_init(&ev, PROGRESS_DONE);
	snprintf(ev.version, sizeof(ev.version), "0123456789abcdef0123456789abcdef01234567");
	snprintf(ev.message, sizeof(ev.message), "registered: \"candidate\" \\ moved");
	ok(!round_trip(&ev, &back, &line), "done round trip");
	ok(back.kind == PROGRESS_DONE && !strcmp(back.version, ev.version) &&
	   !strcmp(back.message, ev.message), "done fields back, quotes and backslash kept");
	progress_init(&ev, PROGRESS_DONE);
	ok(!round_trip(&ev, &back, &line) && !strcmp(back.version, ""), "done with no version");
	ok(strstr(line.s, "\"version\":\"\"") != NULL, "an empty version is written as \"\"");

	progress_init(&ev, PROGRESS_ERROR);
	snprintf(ev.message, sizeof(ev.message), "interrupted after 2 iteration(s): nothing "
		 "was saved or registered");
	ok(!round_trip(&ev, &back, &line), "error round trip");
	ok(back.kind == PROGRESS_ERROR && !strcmp(back.message, ev.message), "error message back");
	buf_release(&line);
}

/* strings that JSON must escape or cannot hold still give a line that reads back */
static void test_strings(void)
{
	struct progress_event ev, back;
	struct buf line = BUF_INIT;

	progress_init(&ev, PROGRESS_ERROR);
	memset(ev.message, '"', sizeof(ev.message) - 1);
	ev.message[sizeof(ev.message) - 1] = '\0';
	ok(!round_trip(&ev, &back, &line), "a message of 255 quotes round trips");
	ok(line.len <= PROGRESS_LINE_MAX, "and its line fits the cap (%zu bytes)", line.len);
	ok(!strcmp(back.message, ev.message), "every quote back");

	progress_init(&ev, PROGRESS_ERROR);
	snprintf(ev.message, sizeof(ev.message), "bad\xff utf8\tand\nnewline caf\xc3\xa9");
	ok(!round_trip(&ev, &back, &line), "broken UTF-8 and control bytes round trip");
	is_str(back.message, "bad? utf8 and newline caf\xc3\xa9",
	       "broken byte as '?', controls as spaces, good UTF-8 kept");
	ok(!strchr(line.s, '\n') || strchr(line.s, '\n') == line.s + line.len - 1,
	   "the line has one newline, at its end");
	buf_release(&line);
}

struct bad {
	const char *line, *why;
};

static const struct bad bad_lines[] = {
	{ "", "not JSON" },
	{ "not json", "not JSON" },
	{ "{\"event\":\"iter\"", "not JSON" },
	{ "[1,2]", "not a JSON object" },
	{ "{\"iter\":1}", "has no \"event\"" },
	{ "{\"event\":3}", "has no \"event\"" },
	{ "{\"event\":\"finish\"}", "unknown event 'finish'" },
	{ "{\"event\":\"iter\",\"iter\":\"3\"}", "\"iter\" is not a whole number" },
	{ "{\"event\":\"iter\",\"iter\":2.5}", "\"iter\" is not a whole number" },
	{ "{\"event\":\"iter\",\"loss\":\"low\"}", "\"loss\" is not a number" },
	{ "{\"event\":\"iter\",\"loss\":null}", "\"loss\" is not a number" },
	{ "{\"event\":\"publish\",\"done\":-1}", "\"done\" is not a whole number" },
	{ "{\"event\":\"start\",\"job\":7}", "\"job\" is not a string" },
	{ "{\"event\":\"start\",\"job\":\"a very long job name\"}", "\"job\" is longer than 15" },
	{ "{\"event\":\"done\",\"version\":\"0123456789abcdef0123456789abcdef012345678\"}",
	  "\"version\" is longer than 40" },
	{ "{\"event\":\"foldin\",\"p99_ms\":NaN}", "not JSON" },
	{ "{\"event\":\"iter\",\"loss\":1.7976931348623157e308}", "\"loss\" is not a number" },
	{ "{\"event\":\"iter\"} {\"event\":\"iter\"}", "not JSON" },
};

static void test_bad(void)
{
	struct progress_event ev;
	struct buf err = BUF_INIT, line = BUF_INIT;
	size_t i;

	for (i = 0; i < sizeof(bad_lines) / sizeof(bad_lines[0]); i++) {
		buf_reset(&err);
		ok(progress_parse(bad_lines[i].line, strlen(bad_lines[i].line), &ev, &err) == -1,
		   "refused: %s", bad_lines[i].line);
		if (!ok(strstr(err.s, bad_lines[i].why) != NULL, "  says %s", bad_lines[i].why))
			printf("#   said: %s\n", err.s);
	}
	/* too long, though valid JSON */
	buf_addstr(&line, "{\"event\":\"iter\",\"pad\":\"");
	while (line.len < PROGRESS_LINE_MAX + 10)
		buf_addch(&line, 'x');
	buf_addstr(&line, "\"}");
	buf_reset(&err);
	ok(progress_parse(line.s, line.len, &ev, &err) == -1 && strstr(err.s, "at most"),
	   "a line over PROGRESS_LINE_MAX is refused");
	/* unknown members are ignored; with or without the newline */
	ok(!progress_parse("{\"event\":\"iter\",\"iter\":2,\"new\":[1]}\n", 35, &ev, &err) &&
	   ev.iter == 2, "unknown members ignored, newline taken off");
	ok(!progress_parse("{\"event\":\"foldin\",\"events\":4}", 29, &ev, &err) &&
	   ev.events == 4 && isnan(ev.p50_ms), "a line without its newline");
	buf_release(&line);
	buf_release(&err);
}

static void test_write(void)
{
	struct progress_event ev, back;
	struct buf err = BUF_INIT;
	char got[PROGRESS_LINE_MAX + 1];
	int fds[2];
	ssize_t n;

	progress_init(&ev, PROGRESS_PUBLISH);
	ev.done = 5;
	ev.total = 10;
	ok(progress_write(-1, &ev) == -1, "write to no fd: -1");
	if (pipe(fds))
		return;
	ok(progress_write(fds[1], &ev) == 0, "write to a pipe");
	n = read(fds[0], got, sizeof(got) - 1);
	ok(n > 0 && got[n - 1] == '\n', "one whole line read back");
	ok(n > 0 && !progress_parse(got, (size_t)n, &back, &err) && back.done == 5 &&
	   back.total == 10, "it parses");
	close(fds[0]);
	close(fds[1]);
	buf_release(&err);
}

int main(void)
{
	test_kinds();
	test_strings();
	test_bad();
	test_write();
	return tap_done();
}
