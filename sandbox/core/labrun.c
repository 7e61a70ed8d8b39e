/* labrun: step scripts in their own process group with a timeout, the lab environment, the lab test and its reports. */
#include "core/labrun.h"
#include "core/config.h"
#include "util/clock.h"
#include "util/run.h"
#include "util/xalloc.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

extern char **environ;

void labrun_result_init(struct labrun_result *r)
{
	memset(r, 0, sizeof(*r));
	buf_init(&r->output, 0);
	buf_init(&r->line, 0);
}

void labrun_result_release(struct labrun_result *r)
{
	buf_release(&r->output);
	buf_release(&r->line);
}

int labrun_ok(const struct labrun_result *r)
{
	return r->end == LABRUN_ABSENT || (r->end == LABRUN_EXITED && !r->status);
}

void labrun_describe(const struct labrun_result *r, struct buf *out)
{
	switch (r->end) {
	case LABRUN_EXITED: buf_addf(out, "exit %d", r->status); break;
	case LABRUN_SIGNALED: buf_addf(out, "killed by signal %d", r->status); break;
	case LABRUN_TIMEDOUT:
		buf_addf(out, "timed out after %d s (its process group was killed)", r->timeout_s);
		break;
	case LABRUN_INTERRUPTED: buf_addstr(out, "interrupted (its process group was stopped)"); break;
	case LABRUN_ABSENT: buf_addstr(out, "no script"); break;
	}
}

/* ---- one program in its own process group ---- */

struct stream {
	int fd;
	int is_stderr;
	struct buf pending;   /* a line not yet ended */
};

static void emit_line(const struct labrun_spawn *o, struct labrun_result *r, struct stream *s,
		      const char *line, size_t n)
{
	char *l = xstrndup(line, n);

	if (n && l[n - 1] == '\r')
		l[n - 1] = '\0';
	if (!s->is_stderr && *l) {
		buf_reset(&r->line);
		buf_addstr(&r->line, l);
	}
	if (o->on_line)
		o->on_line(l, s->is_stderr, o->ctx);
	free(l);
}

static void take(const struct labrun_spawn *o, struct labrun_result *r, struct stream *s,
		 const char *data, size_t n)
{
	const char *nl;
	size_t room = LABRUN_OUTPUT_MAX - r->output.len;

	/* the log is a convenience: a full disk does not stop the action */
	if (o->log_fd >= 0) {
		ssize_t w = write(o->log_fd, data, n);
		(void)w;
	}
	buf_add(&r->output, data, n < room ? n : room);
	buf_add(&s->pending, data, n);
	while ((nl = memchr(s->pending.s, '\n', s->pending.len))) {
		size_t len = (size_t)(nl - s->pending.s);
		emit_line(o, r, s, s->pending.s, len);
		buf_consume(&s->pending, len + 1);
	}
	if (s->pending.len > 65536) {	/* a line that never ends is cut */
		emit_line(o, r, s, s->pending.s, s->pending.len);
		buf_reset(&s->pending);
	}
}

static void finish_stream(const struct labrun_spawn *o, struct labrun_result *r, struct stream *s)
{
	if (s->pending.len)
		emit_line(o, r, s, s->pending.s, s->pending.len);
	buf_reset(&s->pending);
	if (s->fd >= 0)
		close(s->fd);
	s->fd = -1;
}

/* 1 while a process of group `pgid` is alive */
static int group_alive(pid_t pgid)
{
	return !kill(-pgid, 0) || errno == EPERM;
}

int labrun_spawn_run(const struct labrun_spawn *o, struct labrun_result *r, struct buf *err)
{
	struct stream st[2] = { { -1, 0, BUF_INIT }, { -1, 1, BUF_INIT } };
	int out[2] = { -1, -1 }, erp[2] = { -1, -1 }, devnull, status = 0, exited = 0, i;
	int grace = o->grace_ms > 0 ? o->grace_ms : LABRUN_GRACE_MS;
	enum labrun_end killing = LABRUN_EXITED;
	double t0 = clock_s(), kill_at = 0, exit_at = 0, give_up = 0;
	char *const alone[] = { (char *)o->path, NULL };
	char *const *argv = o->argv ? o->argv : alone;
	pid_t pid;

	r->timeout_s = o->timeout_s;
	devnull = open("/dev/null", O_RDONLY | O_CLOEXEC);
	if (devnull < 0 || pipe2(out, O_CLOEXEC) || pipe2(erp, O_CLOEXEC)) {
		buf_addf(err, "cannot run '%s': %s", o->path, strerror(errno));
		goto fail;
	}
	pid = fork();
	if (pid < 0) {
		buf_addf(err, "cannot run '%s': %s", o->path, strerror(errno));
		goto fail;
	}
	if (!pid) {
		sigset_t none;
		setpgid(0, 0);
		signal(SIGINT, SIG_DFL);
		signal(SIGTERM, SIG_DFL);
		signal(SIGHUP, SIG_DFL);
		signal(SIGPIPE, SIG_DFL);
		sigemptyset(&none);
		sigprocmask(SIG_SETMASK, &none, NULL);
		dup2(devnull, 0);
		dup2(out[1], 1);
		dup2(erp[1], 2);
		if (o->cwd && chdir(o->cwd)) {
			dprintf(2, "cannot enter '%s': %s\n", o->cwd, strerror(errno));
			_exit(126);
		}
		execve(o->path, argv, o->envp ? o->envp : environ);
		dprintf(2, "cannot run '%s': %s\n", o->path, strerror(errno));
		_exit(127);
	}
	setpgid(pid, pid);	/* both sides: no race with an early kill */
	close(devnull);
	close(out[1]);
	close(erp[1]);
	st[0].fd = out[0];
	st[1].fd = erp[0];
	for (;;) {
		struct pollfd pf[2];
		nfds_t n = 0;
		double now;
		for (i = 0; i < 2; i++) {
			if (st[i].fd >= 0) {
				pf[n].fd = st[i].fd;
				pf[n].events = POLLIN;
				pf[n].revents = 0;
				n++;
			}
		}
		if (n && poll(pf, n, 50) > 0) {
			for (i = 0; i < (int)n; i++) {
				struct stream *s = pf[i].fd == st[0].fd ? &st[0] : &st[1];
				char chunk[8192];
				ssize_t got;
				if (!(pf[i].revents & (POLLIN | POLLHUP | POLLERR)))
					continue;
				got = read(s->fd, chunk, sizeof(chunk));
				if (got > 0)
					take(o, r, s, chunk, (size_t)got);
				else if (got == 0 || errno != EINTR)
					finish_stream(o, r, s);
			}
		} else if (!n) {
			usleep(20000);
		}
		now = clock_s();
		if (!exited && waitpid(pid, &status, WNOHANG) == pid) {
			exited = 1;
			exit_at = now;
		}
		if (killing == LABRUN_EXITED && !exited) {
			if (o->stop && *o->stop)
				killing = LABRUN_INTERRUPTED;
			else if (o->timeout_s > 0 && now - t0 >= o->timeout_s)
				killing = LABRUN_TIMEDOUT;
			if (killing != LABRUN_EXITED) {
				kill(-pid, SIGTERM);
				kill_at = now + grace / 1000.0;
			}
		}
		if (killing != LABRUN_EXITED) {
			/* the leader may be gone and its children not: the group is what ends */
			if (kill_at && (now >= kill_at || (exited && !group_alive(pid)))) {
				kill(-pid, SIGKILL);
				kill_at = 0;
				give_up = now + 1.0;
			}
			if (!kill_at && exited && (!group_alive(pid) || now >= give_up))
				break;
			continue;
		}
		/* what it left in the background may hold the pipes: read a little more, then go */
		if (exited && ((st[0].fd < 0 && st[1].fd < 0) || now - exit_at > 0.3))
			break;
	}
	for (i = 0; i < 2; i++) {
		finish_stream(o, r, &st[i]);
		buf_release(&st[i].pending);
	}
	r->seconds = clock_s() - t0;
	if (killing != LABRUN_EXITED) {
		r->end = killing;
		r->status = WIFEXITED(status) ? WEXITSTATUS(status) : WTERMSIG(status);
	} else if (WIFEXITED(status)) {
		r->end = LABRUN_EXITED;
		r->status = WEXITSTATUS(status);
	} else {
		r->end = LABRUN_SIGNALED;
		r->status = WTERMSIG(status);
	}
	return 0;
fail:
	for (i = 0; i < 2; i++) {
		if (out[i] >= 0)
			close(out[i]);
		if (erp[i] >= 0)
			close(erp[i]);
	}
	if (devnull >= 0)
		close(devnull);
	return -1;
}

/* ---- the lab environment ---- */

static const struct {
	const char *var, *service;
	int port;
} port_vars[] = {
	{ "REDIS_PORT", "redis", 6379 },
	{ "KAFKA_PORT", "kafka", 9092 },
	{ "CASSANDRA_PORT", "cassandra", 9042 },
	{ "ES_PORT", "elasticsearch", 9200 },
	{ "SERVING_PORT", "serving", 8080 },
};

void labrun_init(struct labrun *r, const struct lab_track *t, const char *home,
		 const char *state_root, const char *project, const struct service *svcs,
		 int nsvcs)
{
	const char *e, *path = getenv("PATH");
	size_t i;
	int j;

	memset(r, 0, sizeof(*r));
	r->track = t;
	r->home = xstrdup(home);
	r->state = xstrfmt("%s/labs/%s", state_root, project);
	strvec_init(&r->env);
	strvec_pushf(&r->env, "PANCAKE=%s/pancake", home);
	strvec_pushf(&r->env, "RECOMMENDER=%s/services/recommender/recommender", home);
	strvec_pushf(&r->env, "SERVING=%s/services/serving/serving", home);
	strvec_pushf(&r->env, "PANCAKE_PROJECT=%s", project);
	for (i = 0; i < ARRAY_SIZE(port_vars); i++) {
		int port = port_vars[i].port;
		for (j = 0; j < nsvcs; j++) {
			if (!strcmp(svcs[j].name, port_vars[i].service)) {
				int hp = service_host_port(&svcs[j], port_vars[i].port);
				if (hp > 0)
					port = hp;
			}
		}
		strvec_pushf(&r->env, "%s=%d", port_vars[i].var, port);
	}
	e = getenv("PANCAKE_LAB_DATASET");
	if (e && *e)
		strvec_pushf(&r->env, "LAB_DATASET=%s", e);
	else
		strvec_pushf(&r->env, "LAB_DATASET=%s/datasets/generated/lab-100k", home);
	strvec_pushf(&r->env, "LAB_TRACK=%s", t->dir);
	/* pancake's own helpers, for a track kept elsewhere too */
	strvec_pushf(&r->env, "LAB_LIB=%s/labs/lib", home);
	/* the track's registry, one per stack, kept across labs */
	e = getenv("PANCAKE_MODELS");
	if (e && *e)
		strvec_pushf(&r->env, "PANCAKE_MODELS=%s", e);
	else
		strvec_pushf(&r->env, "PANCAKE_MODELS=%s/models", r->state);
	strvec_pushf(&r->env, "PATH=%s:%s/services/recommender:%s/services/serving%s%s", home,
		     home, home, path && *path ? ":" : "", path ? path : "");
}

void labrun_release(struct labrun *r)
{
	strvec_clear(&r->env);
	free(r->state);
	free(r->home);
	memset(r, 0, sizeof(*r));
}

char *labrun_scratch(const struct labrun *r, const struct lab *l)
{
	return xstrfmt("%s/%s/scratch", r->state, l->name);
}

char *labrun_log(const struct labrun *r, const struct lab *l, const struct lab_step *s,
		 enum lab_action a)
{
	return xstrfmt("%s/%s/%s/%s.log", r->state, l->name, s->name, lab_action_name(a));
}

int labrun_clear_scratch(const struct labrun *r, const struct lab *l, struct buf *err)
{
	char *dir = labrun_scratch(r, l);
	struct stat st;
	int ret = -1;

	if (!stat(dir, &st) && run_remove_tree(dir, err))
		goto out;
	if (config_mkdirs(dir)) {
		buf_addf(err, "cannot create '%s': %s", dir, strerror(errno));
		goto out;
	}
	ret = 0;
out:
	free(dir);
	return ret;
}

/* `kv` ("K=V") sets the variable named by `entry` ("K=...") */
static int same_key(const char *kv, const char *entry)
{
	size_t n = strcspn(kv, "=");
	return !strncmp(kv, entry, n) && entry[n] == '=';
}

void labrun_vars(const struct labrun *r, const struct lab *l, const struct lab_step *s,
		 struct strvec *out)
{
	size_t i;

	for (i = 0; i < r->env.n; i++)
		strvec_push(out, r->env.v[i]);
	strvec_pushf(out, "LAB_DIR=%s", l->dir);
	strvec_push_nodup(out, xstrfmt("LAB_SCRATCH=%s/%s/scratch", r->state, l->name));
	if (s)
		strvec_pushf(out, "LAB_STEP_DIR=%s", s->dir);
}

void labrun_environ(const struct labrun *r, const struct lab *l, const struct lab_step *s,
		    struct strvec *env)
{
	struct strvec mine = STRVEC_INIT;
	char **e;
	size_t i;

	labrun_vars(r, l, s, &mine);
	for (e = environ; e && *e; e++) {
		int ours = 0;
		for (i = 0; i < mine.n && !ours; i++)
			ours = same_key(mine.v[i], *e);
		if (!ours)
			strvec_push(env, *e);
	}
	for (i = 0; i < mine.n; i++)
		strvec_push(env, mine.v[i]);
	strvec_clear(&mine);
}

/* runs `argv` (argv[0] the program) in the environment of `s` with its timeout, output to `log` */
static int run_step(const struct labrun *r, const struct lab *l, const struct lab_step *s,
		    char *log, char *const *argv, struct labrun_result *res, struct buf *err,
		    enum lab_action a)
{
	struct strvec env = STRVEC_INIT;
	struct labrun_spawn o;
	char *slash, *scratch = NULL;
	int ret = -1, fd = -1;

	slash = strrchr(log, '/');
	*slash = '\0';
	if (config_mkdirs(log)) {
		buf_addf(err, "cannot create '%s': %s", log, strerror(errno));
		goto out;
	}
	*slash = '/';
	scratch = labrun_scratch(r, l);
	if (config_mkdirs(scratch)) {
		buf_addf(err, "cannot create '%s': %s", scratch, strerror(errno));
		goto out;
	}
	fd = open(log, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0) {
		buf_addf(err, "cannot write '%s': %s", log, strerror(errno));
		goto out;
	}
	labrun_environ(r, l, s, &env);
	if (r->on_start && a < LAB_NACTIONS)
		r->on_start(l, s, a, r->ctx);
	memset(&o, 0, sizeof(o));
	o.path = argv[0];
	o.argv = argv;
	o.envp = env.v;
	o.cwd = r->home;
	o.timeout_s = s->timeout_s;
	o.grace_ms = r->grace_ms;
	o.log_fd = fd;
	o.on_line = r->on_line;
	o.ctx = r->ctx;
	o.stop = r->stop;
	ret = labrun_spawn_run(&o, res, err);
out:
	if (fd >= 0)
		close(fd);
	strvec_clear(&env);
	free(scratch);
	return ret;
}

int labrun_action(const struct labrun *r, const struct lab *l, const struct lab_step *s,
		  enum lab_action a, struct labrun_result *res, struct buf *err)
{
	char *log = labrun_log(r, l, s, a), *script = lab_script(s, a);
	char *const argv[] = { script, NULL };
	int ret = 0;

	res->timeout_s = s->timeout_s;
	if (!s->has[a])
		res->end = LABRUN_ABSENT;
	else
		ret = run_step(r, l, s, log, argv, res, err, a);
	free(script);
	free(log);
	return ret;
}

/* `text` in single quotes for sh */
static void sh_quote(struct buf *out, const char *text)
{
	buf_addch(out, '\'');
	for (; *text; text++) {
		if (*text == '\'')
			buf_addstr(out, "'\\''");
		else
			buf_addch(out, *text);
	}
	buf_addch(out, '\'');
}

void labrun_commands_script(const struct lab_step *s, struct buf *out)
{
	size_t i;

	/* as typed at a prompt: a command that fails (some are meant to) does
	 * not stop the next, and says how it ended */
	for (i = 0; i < s->front.commands.n; i++) {
		buf_addstr(out, "printf '%s\\n' ");
		sh_quote(out, s->front.commands.v[i]);
		buf_addf(out, "\n%s\nrc=$?; [ $rc = 0 ] || echo \"(exit $rc)\"\n",
			 s->front.commands.v[i]);
	}
	buf_addstr(out, "exit $rc\n");
}

int labrun_commands(const struct labrun *r, const struct lab *l, const struct lab_step *s,
		    struct labrun_result *res, struct buf *err)
{
	char *log = xstrfmt("%s/%s/%s/command.log", r->state, l->name, s->name);
	struct buf script = BUF_INIT;
	char *argv[] = { "/bin/sh", "-c", NULL, NULL };
	int ret;

	labrun_commands_script(s, &script);
	argv[2] = script.s;
	res->timeout_s = s->timeout_s;
	ret = run_step(r, l, s, log, argv, res, err, LAB_NACTIONS);
	buf_release(&script);
	free(log);
	return ret;
}

/* ---- the headless lab test ---- */

static const char *const phase_names[PH_N] = {
	[PH_SETUP] = "setup", [PH_BEFORE] = "check before solve", [PH_SOLVE] = "solve",
	[PH_AFTER] = "check", [PH_CLEANUP] = "cleanup",
};
/* the action each phase runs */
static const enum lab_action phase_action[PH_N] = {
	[PH_SETUP] = LAB_SETUP, [PH_BEFORE] = LAB_CHECK, [PH_SOLVE] = LAB_SOLVE,
	[PH_AFTER] = LAB_CHECK, [PH_CLEANUP] = LAB_CLEANUP,
};

const char *labrun_phase_name(enum labrun_phase p)
{
	return p < PH_N ? phase_names[p] : "?";
}

void labrun_case_release(struct labrun_case *c)
{
	free(c->reason);
	free(c->output);
	c->reason = c->output = NULL;
}

size_t labrun_test_count(const struct lab *l)
{
	return l->nsteps * PH_N;
}

/* why a result that should have passed did not: "failed: exit 1: LINE" */
static char *failure(const struct labrun_result *res)
{
	struct buf b = BUF_INIT;

	buf_addstr(&b, "failed: ");
	labrun_describe(res, &b);
	if (res->end == LABRUN_EXITED && res->line.len)
		buf_addf(&b, ": %s", res->line.s);
	return buf_detach(&b, NULL);
}

/* runs one phase into `c`; -1: could not run, 1: interrupted */
static int run_phase(const struct labrun *r, const struct lab *l, const struct lab_step *s,
		     struct labrun_case *c)
{
	struct labrun_result res;
	struct buf err = BUF_INIT;
	int ret = 0;

	labrun_result_init(&res);
	if (labrun_action(r, l, s, phase_action[c->phase], &res, &err)) {
		c->verdict = CASE_FAIL;
		c->reason = xstrfmt("could not run: %s", err.s);
		c->output = xstrdup("");
		goto out;
	}
	c->seconds = res.seconds;
	c->output = xstrdup(res.output.s);
	if (res.end == LABRUN_INTERRUPTED) {
		ret = 1;
		goto out;
	}
	if (c->phase == PH_BEFORE) {
		/* the check must say "not yet": exit 1, in time */
		if (res.end == LABRUN_EXITED && res.status) {
			c->verdict = CASE_PASS;
		} else if (labrun_ok(&res)) {
			c->verdict = CASE_FAIL;
			c->reason = xstrdup("passed: the check is broken");
		} else {
			c->verdict = CASE_FAIL;
			c->reason = failure(&res);
		}
	} else {
		c->verdict = labrun_ok(&res) ? CASE_PASS : CASE_FAIL;
		if (c->verdict == CASE_FAIL)
			c->reason = failure(&res);
	}
out:
	labrun_result_release(&res);
	buf_release(&err);
	return ret;
}

static int deliver(struct labrun_case *c, labrun_case_fn fn, void *ctx)
{
	int failed = c->verdict == CASE_FAIL;

	fn(c, ctx);
	labrun_case_release(c);
	return failed;
}

int labrun_test(const struct labrun *r, const struct lab *l, labrun_case_fn fn, void *ctx)
{
	struct buf err = BUF_INIT;
	int failed = 0, scratch_ok;
	size_t i;

	scratch_ok = !labrun_clear_scratch(r, l, &err);
	for (i = 0; i < l->nsteps; i++) {
		const struct lab_step *s = &l->steps[i];
		const char *broke = NULL;
		enum labrun_phase p;
		for (p = PH_SETUP; p < PH_CLEANUP; p++) {
			struct labrun_case c = { l->name, s->name, p, CASE_SKIP, NULL, NULL, 0 };
			if (!scratch_ok) {
				c.verdict = CASE_FAIL;
				c.reason = xstrfmt("could not run: %s", err.s);
				c.output = xstrdup("");
				failed += deliver(&c, fn, ctx);
				continue;
			}
			if (broke) {
				c.reason = xstrfmt("%s failed", broke);
				c.output = xstrdup("");
				deliver(&c, fn, ctx);
				continue;
			}
			if (run_phase(r, l, s, &c)) {
				labrun_case_release(&c);
				failed = -1;
				goto out;
			}
			if (c.verdict == CASE_FAIL)
				broke = labrun_phase_name(p);
			failed += deliver(&c, fn, ctx);
		}
	}
	for (i = l->nsteps; i-- > 0;) {
		struct labrun_case c = { l->name, l->steps[i].name, PH_CLEANUP, CASE_SKIP, NULL, NULL, 0 };
		if (run_phase(r, l, &l->steps[i], &c)) {
			labrun_case_release(&c);
			failed = -1;
			goto out;
		}
		failed += deliver(&c, fn, ctx);
	}
out:
	buf_release(&err);
	return failed;
}

/* ---- reports ---- */

/* length of the valid UTF-8 sequence at `s`, or 0 */
static size_t utf8_len(const unsigned char *s)
{
	size_t n, i;
	unsigned cp;

	if (s[0] < 0x80)
		return 1;
	if ((s[0] & 0xe0) == 0xc0) { n = 2; cp = s[0] & 0x1f; }
	else if ((s[0] & 0xf0) == 0xe0) { n = 3; cp = s[0] & 0x0f; }
	else if ((s[0] & 0xf8) == 0xf0) { n = 4; cp = s[0] & 0x07; }
	else return 0;
	for (i = 1; i < n; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		cp = cp << 6 | (s[i] & 0x3f);
	}
	if ((n == 2 && cp < 0x80) || (n == 3 && cp < 0x800) || (n == 4 && cp < 0x10000) ||
	    cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff) || cp == 0xfffe || cp == 0xffff)
		return 0;
	return n;
}

void labrun_xml_escape(struct buf *out, const char *s, int attr)
{
	const unsigned char *p = (const unsigned char *)s;

	while (*p) {
		size_t n;
		switch (*p) {
		case '&': buf_addstr(out, "&amp;"); p++; continue;
		case '<': buf_addstr(out, "&lt;"); p++; continue;
		case '>': buf_addstr(out, "&gt;"); p++; continue;
		case '"': buf_addstr(out, "&quot;"); p++; continue;
		case '\'': buf_addstr(out, "&apos;"); p++; continue;
		case '\n': buf_addstr(out, attr ? "&#10;" : "\n"); p++; continue;
		case '\t': buf_addstr(out, attr ? "&#9;" : "\t"); p++; continue;
		default: break;
		}
		if (*p < 0x20 || *p == 0x7f) {	/* XML 1.0 has no place for them */
			p++;
			continue;
		}
		n = utf8_len(p);
		if (!n) {
			buf_addstr(out, "\xef\xbf\xbd");	/* U+FFFD for a byte that is not UTF-8 */
			p++;
			continue;
		}
		buf_add(out, p, n);
		p += n;
	}
}

/* text on one TAP line: no newline, control character or directive '#' */
static void tap_text(struct buf *out, const char *s)
{
	for (; *s; s++) {
		if (*s == '#')
			buf_addstr(out, "\\#");
		else if ((unsigned char)*s < 0x20 || *s == 0x7f)
			buf_addch(out, ' ');
		else
			buf_addch(out, *s);
	}
}

/* a YAML double-quoted scalar */
static void yaml_quoted(struct buf *out, const char *s)
{
	buf_addch(out, '"');
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;
		if (c == '"' || c == '\\')
			buf_addf(out, "\\%c", c);
		else if (c == '\n')
			buf_addstr(out, "\\n");
		else if (c < 0x20 || c == 0x7f)
			buf_addf(out, "\\x%02x", c);
		else
			buf_addch(out, (char)c);
	}
	buf_addch(out, '"');
}

void labrun_tap_case(struct buf *out, int num, const struct labrun_case *c)
{
	const char *p;

	buf_addf(out, "%s %d - ", c->verdict == CASE_FAIL ? "not ok" : "ok", num);
	tap_text(out, c->lab);
	buf_addch(out, '/');
	tap_text(out, c->step);
	buf_addf(out, " %s", labrun_phase_name(c->phase));
	if (c->verdict == CASE_SKIP) {
		buf_addstr(out, " # SKIP ");
		tap_text(out, c->reason ? c->reason : "");
	} else if (c->verdict == CASE_FAIL && c->reason) {
		buf_addch(out, ' ');
		tap_text(out, c->reason);
	}
	buf_addch(out, '\n');
	if (c->verdict != CASE_FAIL)
		return;
	buf_addstr(out, "  ---\n  message: ");
	yaml_quoted(out, c->reason ? c->reason : "");
	buf_addf(out, "\n  duration_s: %.3f\n", c->seconds);
	if (c->output && *c->output) {
		buf_addstr(out, "  output: |-\n");
		for (p = c->output; *p;) {
			size_t n = strcspn(p, "\n");
			const char *q;
			buf_addstr(out, "    ");
			for (q = p; q < p + n; q++)
				if ((unsigned char)*q >= 0x20 && *q != 0x7f)
					buf_addch(out, *q);
				else if (*q == '\t')
					buf_addch(out, ' ');
			buf_addch(out, '\n');
			p += n;
			if (*p)
				p++;
		}
	}
	buf_addstr(out, "  ...\n");
}

void labrun_junit(struct buf *out, const struct labrun_case *cases, size_t n)
{
	size_t i, j, fails = 0, skips = 0;

	for (i = 0; i < n; i++) {
		fails += cases[i].verdict == CASE_FAIL;
		skips += cases[i].verdict == CASE_SKIP;
	}
	buf_addstr(out, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
	buf_addf(out, "<testsuites name=\"pancake lab test\" tests=\"%zu\" failures=\"%zu\" "
		 "skipped=\"%zu\">\n", n, fails, skips);
	for (i = 0; i < n; i = j) {
		size_t f = 0, sk = 0;
		double t = 0;
		for (j = i; j < n && !strcmp(cases[j].lab, cases[i].lab); j++) {
			f += cases[j].verdict == CASE_FAIL;
			sk += cases[j].verdict == CASE_SKIP;
			t += cases[j].seconds;
		}
		buf_addstr(out, "  <testsuite name=\"");
		labrun_xml_escape(out, cases[i].lab, 1);
		buf_addf(out, "\" tests=\"%zu\" failures=\"%zu\" errors=\"0\" skipped=\"%zu\" "
			 "time=\"%.3f\">\n", j - i, f, sk, t);
		for (; i < j; i++) {
			const struct labrun_case *c = &cases[i];
			buf_addstr(out, "    <testcase classname=\"");
			labrun_xml_escape(out, c->lab, 1);
			buf_addstr(out, "\" name=\"");
			labrun_xml_escape(out, c->step, 1);
			buf_addf(out, " %s\" time=\"%.3f\"", labrun_phase_name(c->phase), c->seconds);
			if (c->verdict == CASE_PASS) {
				buf_addstr(out, "/>\n");
				continue;
			}
			buf_addstr(out, ">\n      <");
			buf_addstr(out, c->verdict == CASE_FAIL ? "failure" : "skipped");
			buf_addstr(out, " message=\"");
			labrun_xml_escape(out, c->reason ? c->reason : "", 1);
			if (c->verdict == CASE_FAIL) {
				buf_addstr(out, "\">");
				labrun_xml_escape(out, c->output ? c->output : "", 0);
				buf_addstr(out, "</failure>\n");
			} else {
				buf_addstr(out, "\"/>\n");
			}
			buf_addstr(out, "    </testcase>\n");
		}
		buf_addstr(out, "  </testsuite>\n");
	}
	buf_addstr(out, "</testsuites>\n");
}
