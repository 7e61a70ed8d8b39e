/* test-lab: the lab runner's core: definitions and their refusals, progress, timeouts, reports. */
#include "core/lab.h"
#include "core/labprog.h"
#include "core/labrun.h"
#include "util/xalloc.h"
#include "tap.h"

#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

/* ---- front matter: every refusal, FILE:LINE: reason ---- */

static const struct {
	const char *text;
	unsigned flags;
	const char *want;        /* NULL: accepted; else the whole message */
} fronts[] = {
	{ "---\ntitle: T\n---\nbody\n", 0, NULL },
	{ "---\ntitle: T\ncommand: a\ncommand: b\nhint: h\ntimeout: 5\n---\n", LAB_FRONT_STEP, NULL },
	{ "---\r\ntitle: T\r\n---\r\n", 0, NULL },
	{ "---\n\ntitle:   spaced  \n\n---\n", 0, NULL },
	{ "", 0, "F:1: no front matter: the file must start with a '---' line" },
	{ "title: T\n---\n", 0, "F:1: no front matter: the file must start with a '---' line" },
	{ "---\ntitle: T\n", 0, "F:1: front matter not closed: add a '---' line after its last key" },
	{ "---\ntitle: T\nbody text\n---\n", 0,
	  "F:3: expected 'key: value' (or '---' to close the front matter)" },
	{ "---\ntitle: T\ncolour: red\n---\n", LAB_FRONT_STEP,
	  "F:3: unknown key 'colour': use title, command, hint or timeout" },
	{ "---\ntitle: T\ncolour: red\n---\n", 0, "F:3: unknown key 'colour': use title or timeout" },
	{ "---\ntitle: T\nhint: h\n---\n", 0, "F:3: 'hint' belongs in a step's step.md, not in lab.md" },
	{ "---\ntitle: T\ncommand: c\n---\n", 0,
	  "F:3: 'command' belongs in a step's step.md, not in lab.md" },
	{ "---\ntitle: \n---\n", 0, "F:2: empty 'title'" },
	{ "---\ntitle: T\nhint:\n---\n", LAB_FRONT_STEP, "F:3: empty 'hint'" },
	{ "---\ntimeout: 5\n---\n", 0, "F:3: no 'title' in the front matter: add 'title: ...'" },
	{ "---\ntitle: A\ntitle: B\n---\n", 0, "F:3: 'title' given twice (first on line 2)" },
	{ "---\ntitle: A\ntimeout: 5\ntimeout: 6\n---\n", 0,
	  "F:4: 'timeout' given twice (first on line 3)" },
	{ "---\ntitle: A\ntimeout: 0\n---\n", 0,
	  "F:3: timeout '0' is not a whole number of seconds from 1 to 86400" },
	{ "---\ntitle: A\ntimeout: -3\n---\n", 0,
	  "F:3: timeout '-3' is not a whole number of seconds from 1 to 86400" },
	{ "---\ntitle: A\ntimeout: 5s\n---\n", 0,
	  "F:3: timeout '5s' is not a whole number of seconds from 1 to 86400" },
	{ "---\ntitle: A\ntimeout: 99999999999999999999\n---\n", 0,
	  "F:3: timeout '99999999999999999999' is not a whole number of seconds from 1 to 86400" },
};

static void test_front(void)
{
	size_t i;

	for (i = 0; i < ARRAY_SIZE(fronts); i++) {
		struct lab_front f;
		struct buf err = BUF_INIT;
		int r = lab_front_parse(&f, fronts[i].text, strlen(fronts[i].text), "F",
					fronts[i].flags, &err);
		if (!fronts[i].want)
			ok(!r && !err.len, "front matter %zu is accepted (%s)", i, err.s);
		else
			is_str(err.s, fronts[i].want, "front matter %zu is refused", i);
		lab_front_release(&f);
		buf_release(&err);
	}
	{
		struct lab_front f;
		struct buf err = BUF_INIT;
		const char *t = "---\ntitle: T\ncommand: pancake up --wait\ncommand: b: c\nhint: one\n"
				"hint: two\ntimeout: 120\n---\nText: with a colon\n";
		ok(!lab_front_parse(&f, t, strlen(t), "F", LAB_FRONT_STEP, &err), "a full step.md parses");
		is_str(f.title, "T", "its title");
		is_int(f.commands.n, 2, "two commands");
		is_str(f.commands.v[1], "b: c", "a value keeps its own colons");
		is_int(f.hints.n, 2, "two hints, in order");
		is_str(f.hints.v[0], "one", "first hint first");
		is_int(f.timeout_s, 120, "its timeout");
		is_str(f.body, "Text: with a colon\n", "the body after the front matter, as is");
		lab_front_release(&f);
		buf_release(&err);
	}
}

/* ---- a track on disk ---- */

static char tmp[] = "/tmp/test-lab-XXXXXX";

static void put(const char *rel, const char *text, int exec)
{
	char *p = xstrfmt("%s/%s", tmp, rel), *s;
	FILE *f;

	for (s = p + strlen(tmp) + 1; (s = strchr(s, '/')); s++) {
		*s = '\0';
		mkdir(p, 0755);
		*s = '/';
	}
	f = fopen(p, "w");
	fputs(text, f);
	fclose(f);
	chmod(p, exec ? 0755 : 0644);
	free(p);
}

static const char *lab_md = "---\ntitle: L\n---\n";
static const char *step_md = "---\ntitle: S\n---\n";
static const char *check_sh = "#!/bin/sh\nexit 1\n";

/* a good two-step lab in track/ */
static void good_track(const char *track)
{
	char *p;

	p = xstrfmt("%s/01-a/lab.md", track); put(p, lab_md, 0); free(p);
	p = xstrfmt("%s/01-a/01-x/step.md", track); put(p, step_md, 0); free(p);
	p = xstrfmt("%s/01-a/01-x/check", track); put(p, check_sh, 1); free(p);
	p = xstrfmt("%s/01-a/02-y/step.md", track); put(p, step_md, 0); free(p);
	p = xstrfmt("%s/01-a/02-y/check", track); put(p, check_sh, 1); free(p);
	p = xstrfmt("%s/README.md", track); put(p, "not a lab\n", 0); free(p);
	p = xstrfmt("%s/lib/lab.sh", track); put(p, "# not a lab\n", 0); free(p);
}

/* track tN: a good track, then `rel` written (exec or not), or removed when text is NULL */
static const struct {
	const char *rel, *text;
	int exec;
	const char *want;          /* a substring of the refusal, the file named; NULL: accepted */
} tracks[] = {
	{ "02-b/lab.md", NULL, 0, NULL },
	{ "01-a/02-y/check", NULL, 0, "01-a/02-y/check' is missing: every step needs a check script" },
	{ "01-a/02-y/check", "#!/bin/sh\n", 0, "01-a/02-y/check' is not executable: chmod +x it" },
	{ "01-a/02-y/solve", "#!/bin/sh\n", 0, "01-a/02-y/solve' is not executable" },
	{ "01-a/02-y/step.md", NULL, 0, "01-a/02-y/step.md' is missing: every step has one" },
	{ "01-a/lab.md", NULL, 0, "01-a/lab.md' is missing: every lab has one" },
	{ "01-a/02-y/step.md", "---\ntitle: S\nhint: h\nfrob: x\n---\n", 0,
	  "01-a/02-y/step.md:4: unknown key 'frob'" },
	{ "01-a/lab.md", "---\ntitle: L\ntimeout: soon\n---\n", 0,
	  "01-a/lab.md:3: timeout 'soon' is not a whole number" },
	{ "01-b/lab.md", "---\ntitle: L\n---\n", 0, "share the number 01: renumber one" },
	{ "02-empty/lab.md", "---\ntitle: L\n---\n", 0, "02-empty' has no steps" },
	{ "Notes/x", "not a lab", 0, NULL },
	{ "3-short/lab.md", "not a lab", 0, NULL },
};

static void test_track(void)
{
	size_t i;

	for (i = 0; i < ARRAY_SIZE(tracks); i++) {
		char *track = xstrfmt("%s/t%zu", tmp, i), *rel = xstrfmt("t%zu", i), *p;
		struct lab_track t;
		struct buf err = BUF_INIT;
		int r;
		good_track(rel);
		p = xstrfmt("t%zu/%s", i, tracks[i].rel);
		if (tracks[i].text) {
			put(p, tracks[i].text, tracks[i].exec);
		} else {
			char *abs = xstrfmt("%s/%s", tmp, p);
			unlink(abs);
			free(abs);
		}
		r = lab_track_load(&t, track, &err);
		if (!tracks[i].want)
			ok(!r, "track %zu (%s) is accepted: %s", i, tracks[i].rel, err.s);
		else if (!ok(r && strstr(err.s, tracks[i].want), "track %zu (%s) is refused: %s", i,
			     tracks[i].rel, tracks[i].want))
			printf("#   got '%s'\n", err.s);
		lab_track_release(&t);
		buf_release(&err);
		free(p);
		free(rel);
		free(track);
	}
	{
		char *track = xstrfmt("%s/t0", tmp);
		struct lab_track t;
		struct buf err = BUF_INIT;
		const struct lab *l;
		const struct lab_step *s;
		ok(!lab_track_load(&t, track, &err), "the good track loads");
		is_int(t.nlabs, 1, "README.md and lib/ are not labs");
		is_int(t.labs[0].nsteps, 2, "two steps");
		is_int(t.labs[0].steps[0].timeout_s, LAB_TIMEOUT_DEFAULT, "the default timeout");
		ok(t.labs[0].steps[0].has[LAB_CHECK] && !t.labs[0].steps[0].has[LAB_SOLVE],
		   "check found, no solve");
		ok(!lab_find(&t, "01-a/02-y", &l, &s, &err) && s == &t.labs[0].steps[1], "LAB/STEP found");
		ok(!lab_find(&t, "1/2", &l, &s, &err) && s == &t.labs[0].steps[1], "found by numbers");
		ok(!lab_find(&t, "01", &l, &s, &err) && l == &t.labs[0] && !s, "a lab alone");
		buf_reset(&err);
		ok(lab_find(&t, "09-nope", &l, &s, &err) && strstr(err.s, "no lab '09-nope'"),
		   "an unknown lab is named");
		buf_reset(&err);
		ok(lab_find(&t, "01-a/07-z", &l, &s, &err) && strstr(err.s, "no step '07-z' in lab '01-a'"),
		   "an unknown step is named");
		lab_track_release(&t);
		buf_release(&err);
		free(track);
	}
	{
		struct lab_track t;
		struct buf err = BUF_INIT;
		ok(lab_track_load(&t, "/nonexistent/track", &err) &&
		   strstr(err.s, "cannot read the track '/nonexistent/track'") &&
		   strstr(err.s, "--labs"), "a missing track names --labs");
		lab_track_release(&t);
		buf_release(&err);
	}
}

/* ---- progress ---- */

static int mark(struct labprog *p, void *ctx)
{
	struct labprog_step *e = labprog_get(p, "01-a", ctx, 1);
	e->done_at = 1700000000;
	e->hints++;
	return 0;
}

static int cancel(struct labprog *p, void *ctx)
{
	(void)ctx;
	labprog_set_current(p, "x", "y");
	return 7;
}

static void test_progress(void)
{
	char *dir = xstrfmt("%s/state", tmp), *file = xstrfmt("%s/progress.json", dir);
	struct labprog p;
	struct buf err = BUF_INIT;
	struct stat st;
	pid_t kids[2];
	int i, k, status, lost = 0;
	char name[2][16];

	ok(!labprog_read(&p, dir, &err) && !p.n && !p.lab, "no file: no progress");
	labprog_release(&p);
	ok(!labprog_update(dir, mark, "01-x", 0, &err), "an update writes");
	ok(!labprog_read(&p, dir, &err), "and reads back");
	ok(p.n == 1 && p.v[0].done_at == 1700000000 && p.v[0].hints == 1,
	   "the step done, when, and its hints");
	labprog_release(&p);
	is_int(labprog_update(dir, cancel, NULL, 0, &err), 7, "a cancelled update returns its code");
	labprog_read(&p, dir, &err);
	ok(!p.lab, "and wrote nothing");
	labprog_release(&p);
	{
		char *t = xstrfmt("%s.tmp.%ld", file, (long)getpid());
		ok(access(t, F_OK), "no temporary file is left");
		free(t);
	}

	/* two writers, each updating its own steps many times under the lock */
	for (k = 0; k < 2; k++) {
		snprintf(name[k], sizeof(name[k]), "w%d", k);
		kids[k] = fork();
		if (!kids[k]) {
			struct buf e = BUF_INIT;
			for (i = 0; i < 40; i++) {
				char step[48];
				snprintf(step, sizeof(step), "%s-%02d", name[k], i);
				if (labprog_update(dir, mark, step, 0, &e))
					_exit(1);
			}
			_exit(0);
		}
	}
	for (k = 0; k < 2; k++) {
		waitpid(kids[k], &status, 0);
		ok(WIFEXITED(status) && !WEXITSTATUS(status), "writer %d finished", k);
	}
	ok(!labprog_read(&p, dir, &err), "the file after two writers reads");
	for (k = 0; k < 2; k++)
		for (i = 0; i < 40; i++) {
			char step[48];
			snprintf(step, sizeof(step), "%s-%02d", name[k], i);
			lost += !labprog_get(&p, "01-a", step, 0);
		}
	is_int(lost, 0, "neither writer's 80 updates lost one");
	is_int(p.n, 81, "every step is there once");
	labprog_release(&p);

	/* corrupt: refused with the way out; reset keeps it aside */
	put("state/progress.json", "{\"version\": 1, \"labs\": {\"01-a\": [", 0);
	buf_reset(&err);
	ok(labprog_read(&p, dir, &err) && strstr(err.s, "progress.json' is corrupt (line 1") &&
	   strstr(err.s, "remove it, or run 'pancake lab reset'"), "a truncated file is refused: %s",
	   err.s);
	labprog_release(&p);
	buf_reset(&err);
	ok(labprog_update(dir, mark, "z", 0, &err) == -1 && strstr(err.s, "is corrupt"),
	   "an update refuses it too");
	put("state/progress.json", "{\"version\": 1, \"labs\": {\"01-a\": {\"s\": {\"done\": 5}}}}", 0);
	buf_reset(&err);
	ok(labprog_read(&p, dir, &err) && strstr(err.s, "a step's entry is malformed"),
	   "a wrong type is refused");
	labprog_release(&p);
	buf_reset(&err);
	ok(!labprog_update(dir, mark, "z", LABPROG_DISCARD_CORRUPT, &err), "a reset discards it");
	{
		char *aside = xstrfmt("%s.corrupt", file);
		ok(!stat(aside, &st), "keeping it aside");
		free(aside);
	}
	ok(!labprog_read(&p, dir, &err) && p.n == 1, "and starts over");
	labprog_release(&p);
	buf_release(&err);
	free(file);
	free(dir);
}

/* ---- running an action: timeout, process group, interrupt ---- */

static void test_spawn(void)
{
	char *script = xstrfmt("%s/sleeper", tmp), *pidfile = xstrfmt("%s/child.pid", tmp);
	char *body = xstrfmt("#!/bin/sh\necho started\nsleep 100 &\necho $! > %s\necho \"on stdout\"\n"
			     "echo oops >&2\nwait\n", pidfile);
	struct labrun_spawn o;
	struct labrun_result r;
	struct buf err = BUF_INIT, d = BUF_INIT;
	FILE *f;
	long child = 0;
	int alive = 1, i;

	put("sleeper", body, 1);
	memset(&o, 0, sizeof(o));
	o.path = script;
	o.timeout_s = 1;
	o.grace_ms = 300;
	o.log_fd = -1;
	labrun_result_init(&r);
	ok(!labrun_spawn_run(&o, &r, &err), "the sleeper ran");
	is_int(r.end, LABRUN_TIMEDOUT, "past its 1 s timeout it is reported timed out");
	ok(r.seconds >= 1.0 && r.seconds < 5.0, "after about a second (%.2f s)", r.seconds);
	ok(strstr(r.output.s, "started") && strstr(r.output.s, "oops"), "its output was kept");
	is_str(r.line.s, "on stdout", "the last line on stdout");
	labrun_describe(&r, &d);
	is_str(d.s, "timed out after 1 s (its process group was killed)", "described");
	f = fopen(pidfile, "r");
	ok(f && fscanf(f, "%ld", &child) == 1, "the background child's pid was written");
	if (f)
		fclose(f);
	for (i = 0; i < 50 && alive; i++) {
		alive = child > 0 && (!kill((pid_t)child, 0) || errno == EPERM);
		if (alive)
			usleep(20000);
	}
	ok(!alive, "its background child (pid %ld) did not survive", child);
	labrun_result_release(&r);

	/* an interrupt stops it the same way */
	{
		static volatile sig_atomic_t stop = 1;
		o.timeout_s = 0;
		o.stop = &stop;
		labrun_result_init(&r);
		ok(!labrun_spawn_run(&o, &r, &err) && r.end == LABRUN_INTERRUPTED,
		   "a set stop flag interrupts it");
		labrun_result_release(&r);
		o.stop = NULL;
	}
	/* exit codes, and a script that cannot run */
	put("exit3", "#!/bin/sh\necho one\necho last line\nexit 3\n", 1);
	free(script);
	script = xstrfmt("%s/exit3", tmp);
	o.path = script;
	labrun_result_init(&r);
	ok(!labrun_spawn_run(&o, &r, &err) && r.end == LABRUN_EXITED && r.status == 3,
	   "exit 3 is exit 3");
	is_str(r.line.s, "last line", "a check's message is its last line");
	labrun_result_release(&r);
	put("noshebang", "\x7f" "ELF garbage", 1);
	free(script);
	script = xstrfmt("%s/noshebang", tmp);
	o.path = script;
	labrun_result_init(&r);
	ok(!labrun_spawn_run(&o, &r, &err) && r.end == LABRUN_EXITED && r.status == 127 &&
	   strstr(r.output.s, "cannot run"), "an unrunnable file exits 127 saying so");
	labrun_result_release(&r);
	buf_release(&d);
	buf_release(&err);
	free(body);
	free(pidfile);
	free(script);
}

/* ---- reports ---- */

static int run_python(void)
{
	return !system("command -v python3 > /dev/null 2>&1");
}

static void test_reports(void)
{
	struct buf b = BUF_INIT;
	struct labrun_case c[3] = {
		{ "01-a<&>", "01-\"x'", PH_BEFORE, CASE_FAIL, NULL, NULL, 0.5 },
		{ "01-a<&>", "02-y", PH_SOLVE, CASE_SKIP, NULL, NULL, 0 },
		{ "02-b", "01-z", PH_AFTER, CASE_PASS, NULL, NULL, 1.25 },
	};
	char *path = xstrfmt("%s/j.xml", tmp), *cmd;
	FILE *f;

	c[0].reason = xstrdup("passed: the check is broken # not a directive");
	c[0].output = xstrdup("line <1> & \"two\"\n\x1b[31mred\x1b[0m\tTab\n\xff bad byte\n]]>");
	c[1].reason = xstrdup("setup failed");
	c[1].output = xstrdup("");
	c[2].output = xstrdup("");
	labrun_xml_escape(&b, "a&b<c>d\"e'f\ng\x01h", 1);
	is_str(b.s, "a&amp;b&lt;c&gt;d&quot;e&apos;f&#10;gh", "XML attribute escaping");
	buf_reset(&b);
	labrun_xml_escape(&b, "x\ny\x7fz", 0);
	is_str(b.s, "x\nyz", "XML text keeps newlines, drops control characters");
	buf_reset(&b);
	labrun_tap_case(&b, 2, &c[0]);
	ok(!strncmp(b.s, "not ok 2 - 01-a<&>/01-\"x' check before solve passed: the check is broken "
		    "\\# not a directive\n  ---\n  message: \"passed", 100),
	   "a TAP failure line, its '#' escaped, then YAML");
	ok(strstr(b.s, "    line <1> & \"two\"\n") && strstr(b.s, "\n  ...\n"),
	   "the output in a literal block, the block closed");
	ok(!strchr(b.s, '\x1b'), "no escape character reaches the TAP");
	buf_reset(&b);
	labrun_tap_case(&b, 3, &c[1]);
	is_str(b.s, "ok 3 - 01-a<&>/02-y solve # SKIP setup failed\n", "a skip is a TAP SKIP");
	buf_reset(&b);
	labrun_junit(&b, c, 3);
	ok(strstr(b.s, "<testsuite name=\"01-a&lt;&amp;&gt;\" tests=\"2\" failures=\"1\""),
	   "one testsuite per lab, escaped, with its counts");
	ok(strstr(b.s, "<testcase classname=\"02-b\" name=\"01-z check\" time=\"1.250\"/>"),
	   "a passing testcase");
	ok(strstr(b.s, "<failure message=\"passed: the check is broken # not a directive\">line &lt;1&gt;"),
	   "the failure's message and its output");
	ok(strstr(b.s, "]]&gt;") && !strchr(b.s, '\x1b') && strstr(b.s, "\xef\xbf\xbd bad byte"),
	   "CDATA ends, escapes and bytes that are not UTF-8 cannot break it");
	f = fopen(path, "w");
	fputs(b.s, f);
	fclose(f);
	if (run_python()) {
		cmd = xstrfmt("python3 -c 'import sys, xml.dom.minidom as m; "
			      "d = m.parse(sys.argv[1]); "
			      "assert len(d.getElementsByTagName(\"testcase\")) == 3' %s", path);
		ok(!system(cmd), "python's XML parser reads the JUnit document");
		free(cmd);
	} else {
		ok(1, "# SKIP no python3 to parse the JUnit document");
	}
	for (int i = 0; i < 3; i++)
		labrun_case_release(&c[i]);
	buf_release(&b);
	free(path);
}

int main(void)
{
	if (!mkdtemp(tmp))
		return 1;
	test_front();
	test_track();
	test_progress();
	test_spawn();
	test_reports();
	tap_rmtree(tmp);
	return tap_done();
}
