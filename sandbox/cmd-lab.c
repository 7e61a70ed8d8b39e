/* cmd-lab: `pancake lab list|show|start|check|hint|solve|reset|next|test`: the workshop track. */
#include "cli.h"
#include "core/config.h"
#include "core/lab.h"
#include "core/labprog.h"
#include "core/labrun.h"
#include "util/jsonout.h"
#include "util/sig.h"
#include "util/xalloc.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static volatile sig_atomic_t stop;

static void on_signal(int sig)
{
	(void)sig;
	stop = 1;
}

/* what a `lab` subcommand was given */
struct lab_args {
	const char *labs;          /* --labs DIR, else $PANCAKE_LABS, else <home>/labs */
	int json, tap;
	const char *junit;
	struct strvec words;       /* the positional arguments after the subcommand */
};

struct lab_ctx {
	struct lab_args *a;
	struct lab_track track;
	struct stack st;
	struct labrun run;
	int stack_open, run_open;
};

/* ---- shared ---- */

/* loads the track and the definitions (for the ports); exits RC_USAGE on a bad one */
static int ctx_open(struct lab_ctx *c, struct lab_args *a)
{
	struct buf err = BUF_INIT;
	char *dflt = NULL;
	const char *dir = a->labs;
	int ret = RC_OK;

	memset(c, 0, sizeof(*c));
	c->a = a;
	if (!dir)
		dir = getenv("PANCAKE_LABS");
	if (!dir || !*dir)
		dir = dflt = xstrfmt("%s/labs", config_home());
	if (lab_track_load(&c->track, dir, &err)) {
		ret = cli_fail(RC_USAGE, "%s", err.s);
		goto out;
	}
	cli_load_stack(&c->st, PROFILE_DEFAULT, 0);
	c->stack_open = 1;
	labrun_init(&c->run, &c->track, config_home(), config_state(), config_project(),
		    c->st.svcs, c->st.n);
	c->run_open = 1;
	c->run.stop = &stop;
out:
	free(dflt);
	buf_release(&err);
	return ret;
}

static void ctx_close(struct lab_ctx *c)
{
	if (c->run_open)
		labrun_release(&c->run);
	if (c->stack_open)
		stack_close(&c->st);
	lab_track_release(&c->track);
}

static int read_progress(struct lab_ctx *c, struct labprog *p)
{
	struct buf err = BUF_INIT;
	int ret = RC_OK;

	if (labprog_read(p, c->run.state, &err))
		ret = cli_fail(RC_FAILED, "%s", err.s);
	buf_release(&err);
	return ret;
}

static int step_done(struct labprog *p, const struct lab *l, const struct lab_step *s)
{
	struct labprog_step *e = labprog_get(p, l->name, s->name, 0);
	return e && e->done_at;
}

static size_t steps_done(struct labprog *p, const struct lab *l)
{
	size_t i, n = 0;

	for (i = 0; i < l->nsteps; i++)
		n += step_done(p, l, &l->steps[i]);
	return n;
}

/* the first step of `l` not done, or NULL */
static const struct lab_step *first_open(struct labprog *p, const struct lab *l)
{
	size_t i;

	for (i = 0; i < l->nsteps; i++)
		if (!step_done(p, l, &l->steps[i]))
			return &l->steps[i];
	return NULL;
}

/*
 * The step a command is about: LAB/STEP, LAB (its first open step, else
 * its last), or none given: the current one. RC_OK, or a failure printed.
 */
static int resolve(struct lab_ctx *c, struct labprog *p, const char *spec,
		   const struct lab **l, const struct lab_step **s)
{
	struct buf err = BUF_INIT, cur = BUF_INIT;
	int ret = RC_OK;

	if (!spec) {
		if (!p->lab || !p->step) {
			ret = cli_fail(RC_FAILED, "no lab started on project '%s': 'pancake lab start "
				       "LAB' starts one ('pancake lab list' shows them)",
				       config_project());
			goto out;
		}
		buf_addf(&cur, "%s/%s", p->lab, p->step);
		spec = cur.s;
	}
	if (lab_find(&c->track, spec, l, s, &err)) {
		ret = cli_fail(RC_USAGE, "%s", err.s);
		goto out;
	}
	if (!*s) {
		*s = first_open(p, *l);
		if (!*s)
			*s = &(*l)->steps[(*l)->nsteps - 1];
	}
out:
	buf_release(&cur);
	buf_release(&err);
	return ret;
}

static void print_line(const char *line, int is_stderr, void *ctx)
{
	(void)is_stderr;
	(void)ctx;
	printf("  %s%s%s\n", cli_color(C_DIM), line, cli_color(C_RESET));
	fflush(stdout);
}

static void print_start(const struct lab *l, const struct lab_step *s, enum lab_action a,
			void *ctx)
{
	int json = *(int *)ctx;

	fprintf(json ? stderr : stdout, "running %s of %s/%s (timeout %d s)...\n",
		lab_action_name(a), l->name, s->name, s->timeout_s);
	fflush(json ? stderr : stdout);
}

/*
 * Runs an action, its output shown as it comes (text mode, not for checks).
 * RC_OK with `res` filled, RC_INTERRUPTED, or RC_FAILED printed.
 */
static int run_action(struct lab_ctx *c, const struct lab *l, const struct lab_step *s,
		      enum lab_action a, struct labrun_result *res)
{
	struct buf err = BUF_INIT;
	int ret = RC_OK;

	c->run.on_line = c->a->json || a == LAB_CHECK ? NULL : print_line;
	c->run.on_start = c->a->json || a == LAB_CHECK ? NULL : print_start;
	c->run.ctx = &c->a->json;
	sig_catch(on_signal, 1);
	if (labrun_action(&c->run, l, s, a, res, &err))
		ret = cli_fail(RC_FAILED, "%s", err.s);
	else if (res->end == LABRUN_INTERRUPTED)
		ret = cli_fail(RC_INTERRUPTED, "%s of %s/%s interrupted: progress is as it was; "
			       "run the command again", lab_action_name(a), l->name, s->name);
	signal(SIGINT, SIG_DFL);
	signal(SIGTERM, SIG_DFL);
	signal(SIGHUP, SIG_DFL);
	buf_release(&err);
	return ret;
}

/* an action that must succeed (setup, solve, cleanup): RC_OK or the failure printed */
static int must_run(struct lab_ctx *c, const struct lab *l, const struct lab_step *s,
		    enum lab_action a)
{
	struct labrun_result res;
	struct buf why = BUF_INIT;
	char *log = labrun_log(&c->run, l, s, a);
	int ret;

	labrun_result_init(&res);
	ret = run_action(c, l, s, a, &res);
	if (ret == RC_OK && !labrun_ok(&res)) {
		labrun_describe(&res, &why);
		ret = cli_fail(RC_FAILED, "%s of %s/%s failed (%s); its output is in '%s'",
			       lab_action_name(a), l->name, s->name, why.s, log);
	}
	labrun_result_release(&res);
	buf_release(&why);
	free(log);
	return ret;
}

/* ---- progress changes (run under labprog_update's lock) ---- */

static int change(struct lab_ctx *c, struct labprog_change *ch, unsigned flags)
{
	struct buf err = BUF_INIT;
	int ret = RC_OK;

	if (labprog_update(c->run.state, labprog_change_apply, ch, flags, &err))
		ret = cli_fail(RC_FAILED, "%s", err.s);
	buf_release(&err);
	return ret;
}

/* ---- the subcommands ---- */

static int lab_list(struct lab_ctx *c)
{
	struct labprog p;
	json_t *arr = NULL;
	size_t i;
	int ret;

	if ((ret = read_progress(c, &p)))
		return ret;
	if (c->a->json)
		arr = json_array();
	else if (!c->track.nlabs)
		printf("no labs in '%s'; a lab is a folder NN-name with a lab.md (see labs/README.md)\n",
		       c->track.dir);
	for (i = 0; i < c->track.nlabs; i++) {
		const struct lab *l = &c->track.labs[i];
		size_t done = steps_done(&p, l);
		int current = p.lab && !strcmp(p.lab, l->name);
		if (arr) {
			json_t *o = json_object();
			json_object_set_new(o, "lab", json_string(l->name));
			json_object_set_new(o, "title", json_string(l->front.title));
			json_object_set_new(o, "steps", json_integer((json_int_t)l->nsteps));
			json_object_set_new(o, "done", json_integer((json_int_t)done));
			json_object_set_new(o, "current_step", current ? json_string(p.step)
					    : json_null());
			json_array_append_new(arr, o);
			continue;
		}
		printf("%s%-3s%s %-24s %-40s %zu/%zu%s\n", current ? cli_color(C_BOLD) : "",
		       current ? ">" : "", current ? cli_color(C_RESET) : "", l->name,
		       l->front.title, done, l->nsteps, done == l->nsteps ? " done" : "");
	}
	if (arr)
		jsonout_print(arr);
	labprog_release(&p);
	return RC_OK;
}

static void print_step(struct labprog *p, const struct lab *l, const struct lab_step *s)
{
	struct labprog_step *e = labprog_get(p, l->name, s->name, 0);
	size_t i;

	printf("%s%s/%s: %s%s\n", cli_color(C_BOLD), l->name, s->name, s->front.title,
	       cli_color(C_RESET));
	fputs(s->front.body, stdout);
	if (s->front.body[0] && s->front.body[strlen(s->front.body) - 1] != '\n')
		putchar('\n');
	if (s->front.commands.n)
		printf("\ncommands (their variables: eval \"$(pancake lab env)\" in your shell):\n");
	for (i = 0; i < s->front.commands.n; i++)
		printf("  $ %s\n", s->front.commands.v[i]);
	printf("\nhints: %zu (%d used: 'pancake lab hint')   timeout: %d s\n", s->front.hints.n,
	       e ? e->hints : 0, s->timeout_s);
	if (e && e->done_at) {
		char when[32];
		time_t t = (time_t)e->done_at;
		strftime(when, sizeof(when), "%Y-%m-%d %H:%M", localtime(&t));
		printf("done %s\n", when);
	} else {
		printf("when it is done: 'pancake lab check'\n");
	}
}

static int lab_show(struct lab_ctx *c)
{
	const struct lab *l;
	const struct lab_step *s;
	struct buf err = BUF_INIT;
	struct labprog p;
	size_t i;
	int ret;

	if (c->a->words.n != 1)
		return cli_bad_usage("lab", "'lab show' wants one LAB or LAB/STEP");
	if (lab_find(&c->track, c->a->words.v[0], &l, &s, &err)) {
		ret = cli_fail(RC_USAGE, "%s", err.s);
		buf_release(&err);
		return ret;
	}
	if ((ret = read_progress(c, &p)))
		return ret;
	if (s) {
		print_step(&p, l, s);
	} else {
		printf("%s%s: %s%s\n", cli_color(C_BOLD), l->name, l->front.title, cli_color(C_RESET));
		fputs(l->front.body, stdout);
		printf("\nsteps:\n");
		for (i = 0; i < l->nsteps; i++)
			printf("  [%s] %-24s %s\n", step_done(&p, l, &l->steps[i]) ? "x" : " ",
			       l->steps[i].name, l->steps[i].front.title);
	}
	labprog_release(&p);
	return RC_OK;
}

/* runs the setup of `s`, then makes it the current step and shows it */
static int enter_step(struct lab_ctx *c, struct labprog *p, const struct lab *l,
		      const struct lab_step *s)
{
	struct labprog_change ch = { l->name, s->name, 1, 0, 0, 0, 0, 0 };
	int ret = must_run(c, l, s, LAB_SETUP);

	if (ret)
		return ret;
	if ((ret = change(c, &ch, 0)))
		return ret;
	putchar('\n');
	print_step(p, l, s);
	return RC_OK;
}

static int lab_start(struct lab_ctx *c)
{
	const struct lab *l;
	const struct lab_step *s;
	struct buf err = BUF_INIT;
	struct labprog p;
	int ret;

	if (c->a->words.n != 1)
		return cli_bad_usage("lab", "'lab start' wants one LAB ('pancake lab list' shows them)");
	if (lab_find(&c->track, c->a->words.v[0], &l, &s, &err) || s) {
		ret = s ? cli_bad_usage("lab", "'lab start' takes a lab, not a step: 'pancake lab "
					"start %s'", l->name)
			: cli_fail(RC_USAGE, "%s", err.s);
		buf_release(&err);
		return ret;
	}
	if ((ret = read_progress(c, &p)))
		return ret;
	s = first_open(&p, l);
	if (!s) {
		printf("every step of %s is done; 'pancake lab reset %s' starts it over\n", l->name,
		       l->name);
		ret = RC_OK;
	} else {
		ret = enter_step(c, &p, l, s);
	}
	labprog_release(&p);
	return ret;
}

/* runs the check; marks the step done when it passes. RC_OK, RC_FAILED (printed) */
static int do_check(struct lab_ctx *c, const struct lab *l, const struct lab_step *s)
{
	struct labprog_change ch = { l->name, s->name, 0, 1, 0, 0, 0, 0 };
	struct labrun_result res;
	struct buf msg = BUF_INIT;
	char *log = labrun_log(&c->run, l, s, LAB_CHECK);
	int ret, passed;

	labrun_result_init(&res);
	ret = run_action(c, l, s, LAB_CHECK, &res);
	if (ret)
		goto out;
	passed = labrun_ok(&res);
	if (res.end == LABRUN_EXITED && res.line.len)
		buf_addstr(&msg, res.line.s);
	else if (res.end == LABRUN_EXITED && !passed)
		buf_addf(&msg, "the check says no (exit %d) but not why; see '%s'", res.status, log);
	else if (!passed)
		labrun_describe(&res, &msg);
	if (passed && (ret = change(c, &ch, 0)))
		goto out;
	if (c->a->json) {
		json_t *o = json_object();
		json_object_set_new(o, "lab", json_string(l->name));
		json_object_set_new(o, "step", json_string(s->name));
		json_object_set_new(o, "passed", json_boolean(passed));
		json_object_set_new(o, "message", json_string(msg.s));
		json_object_set_new(o, "timed_out", json_boolean(res.end == LABRUN_TIMEDOUT));
		json_object_set_new(o, "seconds", json_real(res.seconds));
		json_object_set_new(o, "log", json_string(log));
		jsonout_print(o);
	} else if (passed) {
		printf("%sdone%s %s/%s%s%s\n", cli_color(C_GREEN), cli_color(C_RESET), l->name,
		       s->name, msg.len ? ": " : "", msg.s);
		printf("next: 'pancake lab next'\n");
	} else {
		printf("%snot yet%s %s/%s: %s\n", cli_color(C_YELLOW), cli_color(C_RESET), l->name,
		       s->name, msg.s);
	}
	ret = passed ? RC_OK : RC_FAILED;
out:
	labrun_result_release(&res);
	buf_release(&msg);
	free(log);
	return ret;
}

static int with_step(struct lab_ctx *c, const char *verb, const struct lab **l,
		     const struct lab_step **s, struct labprog *p)
{
	int ret;

	if (c->a->words.n > 1)
		return cli_bad_usage("lab", "'lab %s' takes at most one LAB/STEP", verb);
	if ((ret = read_progress(c, p)))
		return ret;
	ret = resolve(c, p, c->a->words.n ? c->a->words.v[0] : NULL, l, s);
	if (ret)
		labprog_release(p);
	return ret;
}

/* the lab's environment as shell exports, for `eval "$(pancake lab env)"` */
static int lab_env(struct lab_ctx *c)
{
	const struct lab *l;
	const struct lab_step *s;
	struct labprog p;
	struct strvec vars = STRVEC_INIT;
	size_t i;
	int ret;

	if ((ret = with_step(c, "env", &l, &s, &p)))
		return ret;
	labrun_vars(&c->run, l, s, &vars);
	printf("# %s/%s: eval \"$(pancake lab env)\" gives this shell the lab's environment\n",
	       l->name, s->name);
	for (i = 0; i < vars.n; i++) {
		const char *v = strchr(vars.v[i], '=');
		if (!v)
			continue;
		printf("export %.*s='", (int)(v - vars.v[i]), vars.v[i]);
		for (v++; *v; v++) {
			if (*v == '\'')
				fputs("'\\''", stdout);
			else
				putchar(*v);
		}
		printf("'\n");
	}
	strvec_clear(&vars);
	labprog_release(&p);
	return RC_OK;
}

static int lab_check(struct lab_ctx *c)
{
	const struct lab *l;
	const struct lab_step *s;
	struct labprog p;
	int ret;

	if ((ret = with_step(c, "check", &l, &s, &p)))
		return ret;
	ret = do_check(c, l, s);
	labprog_release(&p);
	return ret;
}

static int lab_hint(struct lab_ctx *c)
{
	const struct lab *l;
	const struct lab_step *s;
	struct labprog p;
	struct labprog_change ch = { NULL, NULL, 0, 0, 1, 0, 0, 0 };
	int ret, i;

	if ((ret = with_step(c, "hint", &l, &s, &p)))
		return ret;
	if (!s->front.hints.n) {
		printf("%s/%s has no hints; 'pancake lab solve' does the step\n", l->name, s->name);
		goto out;
	}
	ch.lab = l->name;
	ch.step = s->name;
	ch.hints_max = (int)s->front.hints.n;
	if ((ret = change(c, &ch, 0)))
		goto out;
	for (i = 0; i < ch.hints; i++)
		printf("hint %d/%zu: %s\n", i + 1, s->front.hints.n, s->front.hints.v[i]);
	if (ch.hints == ch.hints_max)
		printf("no more hints; 'pancake lab solve' does the step\n");
out:
	labprog_release(&p);
	return ret;
}

static int lab_solve(struct lab_ctx *c)
{
	const struct lab *l;
	const struct lab_step *s;
	struct labprog p;
	int ret;

	if ((ret = with_step(c, "solve", &l, &s, &p)))
		return ret;
	ret = must_run(c, l, s, LAB_SOLVE);
	if (!ret)
		ret = do_check(c, l, s);
	labprog_release(&p);
	return ret;
}

static int lab_reset(struct lab_ctx *c)
{
	const struct lab *l;
	const struct lab_step *s;
	struct labprog p;
	struct buf err = BUF_INIT;
	struct labprog_change ch = { NULL, NULL, 1, 0, 0, 0, 1, 0 };
	size_t i;
	int ret;

	if (c->a->words.n > 1)
		return cli_bad_usage("lab", "'lab reset' takes at most one LAB");
	if (labprog_read(&p, c->run.state, &err)) {
		/* the way out of a corrupt file: keep it aside, start over */
		ret = change(c, &(struct labprog_change){ 0 }, LABPROG_DISCARD_CORRUPT);
		if (!ret)
			printf("%s\nkept it aside; the labs start over\n", err.s);
		buf_release(&err);
		if (ret || !c->a->words.n)
			return ret;
		labprog_init(&p);
	}
	if (!c->a->words.n && !p.lab) {
		labprog_release(&p);
		return cli_bad_usage("lab", "no lab started: which? 'pancake lab reset LAB'");
	}
	ret = resolve(c, &p, c->a->words.n ? c->a->words.v[0] : p.lab, &l, &s);
	if (ret)
		goto out;
	for (i = l->nsteps; i-- > 0;)
		if ((ret = must_run(c, l, &l->steps[i], LAB_CLEANUP)))
			goto out;
	if (labrun_clear_scratch(&c->run, l, &err)) {
		ret = cli_fail(RC_FAILED, "%s", err.s);
		goto out;
	}
	if ((ret = must_run(c, l, &l->steps[0], LAB_SETUP)))
		goto out;
	ch.lab = l->name;
	ch.step = l->steps[0].name;
	if ((ret = change(c, &ch, LABPROG_DISCARD_CORRUPT)))
		goto out;
	printf("%s is back at its start: %s/%s\n", l->name, l->name, l->steps[0].name);
out:
	buf_release(&err);
	labprog_release(&p);
	return ret;
}

static int lab_next(struct lab_ctx *c)
{
	const struct lab *l;
	const struct lab_step *s;
	struct labprog p;
	size_t i;
	int ret;

	if (c->a->words.n)
		return cli_bad_usage("lab", "'lab next' takes no argument");
	if ((ret = read_progress(c, &p)))
		return ret;
	if ((ret = resolve(c, &p, NULL, &l, &s)))
		goto out;
	if (!step_done(&p, l, s)) {
		ret = cli_fail(RC_FAILED, "%s/%s is not done yet: 'pancake lab check' when it is, "
			       "'pancake lab hint' for a hint, or 'pancake lab solve'", l->name, s->name);
		goto out;
	}
	if (s < &l->steps[l->nsteps - 1]) {
		ret = enter_step(c, &p, l, s + 1);
		goto out;
	}
	for (i = (size_t)(l - c->track.labs) + 1; i < c->track.nlabs; i++) {
		const struct lab_step *o = first_open(&p, &c->track.labs[i]);
		if (o) {
			printf("%s is done; on to %s\n", l->name, c->track.labs[i].name);
			ret = enter_step(c, &p, &c->track.labs[i], o);
			goto out;
		}
	}
	printf("%s/%s was the track's last step: well done\n", l->name, s->name);
out:
	labprog_release(&p);
	return ret;
}

/* ---- lab test ---- */

struct test_out {
	int tap;
	int num, passed, failed, skipped;
	struct labrun_case *cases;   /* kept for JUnit */
	size_t n, alloc;
	int keep;
};

static void print_case(const struct labrun_case *c, void *ctx)
{
	struct test_out *t = ctx;
	struct buf b = BUF_INIT;

	t->num++;
	t->passed += c->verdict == CASE_PASS;
	t->failed += c->verdict == CASE_FAIL;
	t->skipped += c->verdict == CASE_SKIP;
	if (t->tap) {
		labrun_tap_case(&b, t->num, c);
		fputs(b.s, stdout);
	} else {
		static const enum cli_color color[] = { C_GREEN, C_RED, C_YELLOW };
		static const char *const word[] = { "PASS", "FAIL", "SKIP" };
		printf("%s%s%s %s/%s %s", cli_color(color[c->verdict]), word[c->verdict],
		       cli_color(C_RESET), c->lab, c->step, labrun_phase_name(c->phase));
		if (c->reason)
			printf(": %s", c->reason);
		printf(" (%.1f s)\n", c->seconds);
		if (c->verdict == CASE_FAIL && c->output[0]) {
			const char *p = c->output;
			while (*p) {
				size_t n = strcspn(p, "\n");
				printf("    | %.*s\n", (int)n, p);
				p += n + (p[n] == '\n');
			}
		}
	}
	fflush(stdout);
	if (t->keep) {
		struct labrun_case *k;
		ALLOC_GROW(t->cases, t->n + 1, t->alloc);
		k = &t->cases[t->n++];
		*k = *c;
		k->reason = c->reason ? xstrdup(c->reason) : NULL;
		k->output = xstrdup(c->output ? c->output : "");
	}
	buf_release(&b);
}

static void test_start(const struct lab *l, const struct lab_step *s, enum lab_action a,
		       void *ctx)
{
	struct test_out *t = ctx;

	printf("%s%s %s of %s/%s (timeout %d s)...\n", t->tap ? "# " : "", "running",
	       lab_action_name(a), l->name, s->name, s->timeout_s);
	fflush(stdout);
}

static int write_junit(const char *path, struct test_out *t)
{
	struct buf b = BUF_INIT;
	FILE *f = fopen(path, "w");
	int ret = RC_OK;

	labrun_junit(&b, t->cases, t->n);
	if (!f || fputs(b.s, f) < 0 || fclose(f)) {
		ret = cli_fail(RC_FAILED, "cannot write the JUnit report '%s': %s", path,
			       strerror(errno));
		if (f)
			fclose(f);
		f = NULL;
	}
	buf_release(&b);
	return ret;
}

static int lab_test(struct lab_ctx *c)
{
	const struct lab **which;
	struct test_out t;
	struct buf err = BUF_INIT;
	size_t i, n = 0, total = 0;
	int ret = RC_OK, interrupted = 0;

	memset(&t, 0, sizeof(t));
	t.tap = c->a->tap;
	t.keep = !!c->a->junit;
	which = xcalloc(c->track.nlabs + c->a->words.n + 1, sizeof(*which));
	for (i = 0; i < c->a->words.n; i++) {
		const struct lab_step *s;
		if (lab_find(&c->track, c->a->words.v[i], &which[n], &s, &err) || s) {
			ret = s ? cli_bad_usage("lab", "'lab test' takes labs, not steps: '%s'",
						which[n]->name)
				: cli_fail(RC_USAGE, "%s", err.s);
			goto out;
		}
		n++;
	}
	if (!c->a->words.n)
		for (i = 0; i < c->track.nlabs; i++)
			which[n++] = &c->track.labs[i];
	if (!n) {
		ret = cli_fail(RC_USAGE, "no labs in '%s' to test", c->track.dir);
		goto out;
	}
	for (i = 0; i < n; i++)
		total += labrun_test_count(which[i]);
	if (t.tap)
		printf("TAP version 13\n1..%zu\n", total);
	c->run.on_start = test_start;
	c->run.ctx = &t;
	sig_catch(on_signal, 1);
	for (i = 0; i < n && !interrupted; i++)
		interrupted = labrun_test(&c->run, which[i], print_case, &t) < 0;
	signal(SIGINT, SIG_DFL);
	if (t.tap)
		printf("# ");
	printf("%d passed, %d failed%s", t.passed, t.failed, t.skipped ? "" : "\n");
	if (t.skipped)
		printf(", %d skipped\n", t.skipped);
	if (c->a->junit && write_junit(c->a->junit, &t))
		ret = RC_FAILED;
	if (interrupted)
		ret = cli_fail(RC_INTERRUPTED, "lab test interrupted: what ran stays as it is");
	else if (t.failed)
		ret = RC_FAILED;
out:
	for (i = 0; i < t.n; i++)
		labrun_case_release(&t.cases[i]);
	free(t.cases);
	free(which);
	buf_release(&err);
	return ret;
}

/* ---- dispatch ---- */

static const struct {
	const char *name;
	int (*fn)(struct lab_ctx *c);
	int json, test;      /* takes --json; takes --tap and --junit */
} lab_cmds[] = {
	{ "list", lab_list, 1, 0 },
	{ "show", lab_show, 0, 0 },
	{ "start", lab_start, 0, 0 },
	{ "check", lab_check, 1, 0 },
	{ "hint", lab_hint, 0, 0 },
	{ "solve", lab_solve, 0, 0 },
	{ "reset", lab_reset, 0, 0 },
	{ "next", lab_next, 0, 0 },
	{ "env", lab_env, 0, 0 },
	{ "test", lab_test, 0, 1 },
};

int cmd_lab(int argc, char **argv)
{
	struct lab_args a;
	struct lab_ctx c;
	const char *sub = NULL;
	char q[QUOTE_BUF];
	size_t k = ARRAY_SIZE(lab_cmds);
	int i, ret;

	memset(&a, 0, sizeof(a));
	strvec_init(&a.words);
	for (i = 1; i < argc; i++) {
		const char *w = argv[i];
		if (!strcmp(w, "--labs") || !strcmp(w, "--junit")) {
			if (i + 1 >= argc) {
				ret = cli_bad_usage("lab", "%s wants a folder or file after it", w);
				goto out;
			}
			*(w[2] == 'l' ? &a.labs : &a.junit) = argv[++i];
		} else if (!strncmp(w, "--labs=", 7)) {
			a.labs = w + 7;
		} else if (!strncmp(w, "--junit=", 8)) {
			a.junit = w + 8;
		} else if (!strcmp(w, "--json")) {
			a.json = 1;
		} else if (!strcmp(w, "--tap")) {
			a.tap = 1;
		} else if (w[0] == '-' && w[1]) {
			ret = cli_bad_usage("lab", "unknown option %s", quote(q, w));
			goto out;
		} else if (!sub) {
			sub = w;
		} else {
			strvec_push(&a.words, w);
		}
	}
	if (!sub) {
		ret = cli_bad_usage("lab", "which? list, show, start, check, hint, solve, reset, "
				    "next, env or test");
		goto out;
	}
	for (k = 0; k < ARRAY_SIZE(lab_cmds); k++)
		if (!strcmp(sub, lab_cmds[k].name))
			break;
	if (k == ARRAY_SIZE(lab_cmds)) {
		ret = cli_bad_usage("lab", "unknown lab command %s: use list, show, start, check, "
				    "hint, solve, reset, next, env or test", quote(q, sub));
		goto out;
	}
	if (a.json && !lab_cmds[k].json) {
		ret = cli_bad_usage("lab", "'lab %s' has no --json", sub);
		goto out;
	}
	if ((a.tap || a.junit) && !lab_cmds[k].test) {
		ret = cli_bad_usage("lab", "--tap and --junit are for 'lab test'");
		goto out;
	}
	if (!strcmp(sub, "list") && a.words.n) {
		ret = cli_bad_usage("lab", "unexpected argument %s for 'lab list'",
				    quote(q, a.words.v[0]));
		goto out;
	}
	ret = ctx_open(&c, &a);
	if (!ret)
		ret = lab_cmds[k].fn(&c);
	ctx_close(&c);
out:
	strvec_clear(&a.words);
	return ret;
}
