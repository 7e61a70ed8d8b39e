/*
 * test-servingsim: the simulated users' pure part: the click rule (its
 * default, named chances, the second arm, the label), the draws' share,
 * and the pacing that caps the rate without bursting to catch up.
 */
#include "tap.h"
#include "core/servingsim.h"

#include <math.h>

static void test_rule(void)
{
	struct servingsim_rule r;
	struct buf b = BUF_INIT, err = BUF_INIT;
	char arms[3][32] = { "a", "b", "c" };

	servingsim_rule_default(&r);
	ok(r.n == 0 && r.other == 0.15 && r.second == 0.60, "the default: second 60%%, others 15%%");
	servingsim_rule_label(&r, &b);
	is_str(b.s, "every variant clicks 15%", "unresolved, with no second arm: one chance for all");
	servingsim_rule_resolve(&r, arms, 1);
	ok(r.n == 0, "one arm only: nobody is second");
	servingsim_rule_resolve(&r, arms, 3);
	ok(servingsim_chance(&r, "b") == 0.60, "the second arm of three clicks 60%%");
	ok(servingsim_chance(&r, "a") == 0.15 && servingsim_chance(&r, "c") == 0.15,
	   "the others 15%%");
	servingsim_rule_label(&r, &b);
	is_str(b.s, "b clicks 60%, others 15%", "the label says the rule");

	servingsim_rule_default(&r);
	ok(servingsim_rule_add(&r, "a=0.3", &err) == 0, "a=0.3 is taken");
	ok(servingsim_rule_add(&r, "c=45%", &err) == 0, "c=45%% is taken");
	ok(servingsim_rule_add(&r, "other=0.05", &err) == 0, "other=0.05 is taken");
	ok(servingsim_rule_add(&r, "a=0.35", &err) == 0, "a named again replaces its chance");
	servingsim_rule_resolve(&r, arms, 3);
	ok(r.n == 2, "named chances are not resolved to the second arm");
	ok(fabs(servingsim_chance(&r, "a") - 0.35) < 1e-12 && fabs(servingsim_chance(&r, "c") - 0.45) < 1e-12 &&
	   servingsim_chance(&r, "b") == 0.05, "named chances and the other one");
	servingsim_rule_label(&r, &b);
	is_str(b.s, "a clicks 35%, c clicks 45%, others 5%", "the label of a named rule");

	static const char *const bad[] = { "a", "=0.5", "a=", "a=1.5", "a=-0.1", "a=x", "a=50%%",
					   "a=0.5x" };
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		buf_reset(&err);
		ok(servingsim_rule_add(&r, bad[i], &err) == -1 && strstr(err.s, "VARIANT=CHANCE"),
		   "'%s' is refused, saying the form", bad[i]);
	}
	buf_release(&b);
	buf_release(&err);
}

static void test_draw(void)
{
	uint64_t rng = 42;
	int n = 20000, hits = 0, zero = 0, one = 0;

	for (int i = 0; i < n; i++)
		hits += servingsim_draw(0.6, &rng);
	ok(hits > 0.57 * n && hits < 0.63 * n, "a 60%% chance clicks about 60%% of %d (%d)", n, hits);
	for (int i = 0; i < 1000; i++) {
		zero += servingsim_draw(0, &rng);
		one += servingsim_draw(1, &rng);
	}
	ok(zero == 0 && one == 1000, "chance 0 never clicks, chance 1 always does");
}

static void test_pacing(void)
{
	double due = 100, now = 100;
	int i;

	for (i = 0; i < 50; i++)
		due = servingsim_next_due(due, now, 50);
	ok(fabs(due - 101) < 1e-9, "50 a second: the 51st request is due a second after the first");
	/* a slow serving: 0.5 s behind still catches up, over a second behind does not burst */
	ok(fabs(servingsim_next_due(100, 100.5, 50) - 100.02) < 1e-9, "half a second behind: "
	   "the schedule holds");
	ok(servingsim_next_due(100, 103, 50) == 103, "three seconds behind: due now, no burst");
	ok(fabs(servingsim_next_due(100, 100, 0.5) - 102) < 1e-9, "a rate under one a second");
}

static void test_refused(void)
{
	struct servingsim_opts o = { .addr = "127.0.0.1:1", .seconds = 1, .rate = 10 };
	struct servingsim_stats st;
	struct buf err = BUF_INIT;

	servingsim_rule_default(&o.rule);
	ok(servingsim_run(&o, NULL, NULL, NULL, &st, &err) == -1 && strstr(err.s, "is down") &&
	   strstr(err.s, "127.0.0.1:1") && st.done && st.requests == 0,
	   "nothing listening: refused at once, naming the address (%s)", err.s);
	buf_reset(&err);
	o.rate = 51;
	ok(servingsim_run(&o, NULL, NULL, NULL, &st, &err) == -1 && strstr(err.s, "at most"),
	   "over 50 a second is refused");
	buf_release(&err);
}

int main(void)
{
	test_rule();
	test_draw();
	test_pacing();
	test_refused();
	return tap_done();
}
