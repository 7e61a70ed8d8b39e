/*
 * servingrun: an experiment's serving as a child process: its plan from
 * the registry and the project's definitions, fork and exec in a group of
 * its own, readiness from its announcement, stop by signals.
 */
#include "core/servingrun.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <jansson.h>

#include "core/catalog.h"
#include "core/childproc.h"
#include "core/config.h"
#include "model/registry.h"
#include "util/clock.h"
#include "util/quote.h"
#include "util/strvec.h"
#include "util/xalloc.h"

#define BIND "127.0.0.1"
/* free waits this long for a stopped serving, a little past the SIGKILL */
#define FREE_WAIT_S (SERVINGRUN_KILL_AFTER_S + 1)

const char *const servingrun_policies[] = { "thompson", "ab", "egreedy", "ucb1", NULL };

int servingrun_policy_ok(const char *p)
{
	for (int i = 0; servingrun_policies[i]; i++)
		if (!strcmp(p, servingrun_policies[i]))
			return 1;
	return 0;
}

struct servingrun {
	struct childproc proc;
	int port;
	enum servingrun_state state;
	int changed;
	char *log, *reason, *announce;
	char addr[80];
};

/* ---- the plan ---- */

/* `given` (HOST:PORT), else the project's `service` on loopback, into `out`; 0 or -1 with `err` */
static int endpoint(const char *given, const char *service, int cport, char *out, size_t size,
		    struct buf *err)
{
	struct buf ep = BUF_INIT;
	int ret = 0;

	if (!given) {
		ret = childproc_endpoint(service, cport, &ep, err);
		given = ep.s;
	}
	if (!ret)
		snprintf(out, size, "%s", given);
	buf_release(&ep);
	return ret;
}

/* 0 when nothing listens on BIND:port now (a bind for an instant), else -1 with `err` */
static int port_free(int port, struct buf *err)
{
	struct sockaddr_in a;
	struct servingloc found[SERVINGLOC_MAX];
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0), one = 1, n, e;

	if (fd < 0) {
		buf_addf(err, "cannot make a socket to check port %d: %s", port, strerror(errno));
		return -1;
	}
	memset(&a, 0, sizeof(a));
	a.sin_family = AF_INET;
	a.sin_port = htons((uint16_t)port);
	inet_pton(AF_INET, BIND, &a.sin_addr);
	/* as serving binds: a port left in TIME_WAIT is free */
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	e = bind(fd, (struct sockaddr *)&a, sizeof(a)) ? errno : 0;
	close(fd);
	if (!e)
		return 0;
	if (e != EADDRINUSE) {
		buf_addf(err, "cannot use port %d on %s: %s; choose another port (--port N)", port,
			 BIND, strerror(e));
		return -1;
	}
	n = servingloc_list(found, SERVINGLOC_MAX);
	for (int i = 0; i < n; i++) {
		if (found[i].port != port)
			continue;
		if (found[i].kind == SERVINGLOC_HOST) {
			buf_addf(err, "port %d on %s is in use by a serving (pid %ld): stop it first "
				 "('pancake serving experiment stop --port %d', or x on the serving "
				 "screen if it is the launcher's), or choose another port (--port N)",
				 port, BIND, (long)found[i].pid, port);
			return -1;
		}
		buf_addf(err, "port %d on %s is the stack's serving container's: choose another "
			 "port (--port N)", port, BIND);
		return -1;
	}
	buf_addf(err, "port %d on %s is in use: stop what listens there ('ss -ltnp sport = :%d' "
		 "names it), or choose another port (--port N)", port, BIND, port);
	return -1;
}

/* the dataset a model was trained on, from its params.json ("" unknown) */
static void model_dataset(const char *params_json, char *out, size_t size)
{
	json_t *j = json_loads(params_json, 0, NULL);
	const char *d = json_string_value(json_object_get(j, "dataset"));

	snprintf(out, size, "%s", d ? d : "");
	json_decref(j);
}

/* a rev the registry resolves (not a file, not redis:...) */
static int registry_rev(const char *rev)
{
	return strncmp(rev, "redis:", 6) && !strchr(rev, '/') && !strstr(rev, ".model");
}

/* the way to make a missing model: for the two refs the experiment uses by default */
static void missing(struct buf *err, const char *reg, const char *rev)
{
	char q[QUOTE_BUF];

	if (!strcmp(rev, "production"))
		buf_addf(err, "no production model in the registry '%s': promote one (p on the "
			 "models screen, key M, or 'pancake models promote')", reg);
	else if (!strcmp(rev, "candidate"))
		buf_addf(err, "no candidate model in the registry '%s': train one (t on the models "
			 "screen, key M, or 'pancake models train lab-100k')", reg);
	else
		buf_addf(err, "no model %s in the registry '%s': 'pancake models list' shows them",
			 quote(q, rev), reg);
}

/* NAME=REV into the plan's slot i; -1 with `err` when malformed or twice */
static int add_variant(struct servingrun_plan *p, const char *spec, struct buf *err)
{
	const char *eq = strchr(spec, '=');
	size_t len = eq ? (size_t)(eq - spec) : 0;
	char q[QUOTE_BUF];

	if (p->nvariants == SERVINGRUN_VARIANTS) {
		buf_addf(err, "at most %d variants", SERVINGRUN_VARIANTS);
		return -1;
	}
	if (!eq || !len || len >= sizeof(p->names[0]) || !eq[1] ||
	    strlen(eq + 1) >= sizeof(p->revs[0])) {
		buf_addf(err, "a variant is NAME=REV (a=production, b=candidate, c=1a2b3c4d), not %s",
			 quote(q, spec));
		return -1;
	}
	for (size_t i = 0; i < len; i++)
		if (!((spec[i] >= 'a' && spec[i] <= 'z') || (spec[i] >= '0' && spec[i] <= '9') ||
		      spec[i] == '-' || spec[i] == '_')) {
			buf_addf(err, "a variant's name is made of a-z, 0-9, - and _, not %s",
				 quote(q, spec));
			return -1;
		}
	for (int i = 0; i < p->nvariants; i++)
		if (strlen(p->names[i]) == len && !strncmp(p->names[i], spec, len)) {
			buf_addf(err, "variant %s is named twice: each variant has its own name",
				 quote(q, p->names[i]));
			return -1;
		}
	memcpy(p->names[p->nvariants], spec, len);
	p->names[p->nvariants][len] = '\0';
	snprintf(p->revs[p->nvariants], sizeof(p->revs[0]), "%s", eq + 1);
	p->nvariants++;
	return 0;
}

int servingrun_plan(struct servingrun_plan *p, const struct servingrun_opts *o, struct buf *err)
{
	struct registry *reg = NULL;
	char *prog = childproc_program("SERVING", "services/serving/serving"), *dir = NULL, *name = NULL, q[QUOTE_BUF], dataset[64] = "";
	struct servingloc stack;
	int ret = -1;

	memset(p, 0, sizeof(*p));
	snprintf(p->serving, sizeof(p->serving), "%s", prog);
	snprintf(p->bind, sizeof(p->bind), "%s", BIND);
	snprintf(p->registry, sizeof(p->registry), "%s", o->registry ? o->registry : config_registry());
	snprintf(p->policy, sizeof(p->policy), "%s", o->policy ? o->policy : "thompson");
	if (access(prog, X_OK) < 0) {
		buf_addf(err, "no serving at '%s': build it with 'make', or name it with SERVING=PATH",
			 prog);
		goto out;
	}
	if (!servingrun_policy_ok(p->policy)) {
		buf_addf(err, "the policy is thompson, ab, egreedy or ucb1, not %s", quote(q, p->policy));
		goto out;
	}
	if (!o->nvariants) {
		add_variant(p, "a=production", err);
		add_variant(p, "b=candidate", err);
	}
	for (int i = 0; i < o->nvariants; i++)
		if (add_variant(p, o->variants[i], err))
			goto out;

	/* the port: the stack's serving's + 1 unless given, and free */
	p->port = o->port;
	if (!p->port) {
		servingloc_list(&stack, 1);	/* the stack's container comes first */
		p->port = stack.port + 1;
	}
	if (p->port < 1 || p->port > 65535) {
		buf_addf(err, "the port is 1 to 65535, not %d", p->port);
		goto out;
	}
	if (port_free(p->port, err))
		goto out;

	/* every registry rev names a model now */
	for (int i = 0; i < p->nvariants; i++) {
		struct registry_entry e;
		int r;

		if (!registry_rev(p->revs[i])) {
			snprintf(p->ids[i], sizeof(p->ids[i]), "%.12s", p->revs[i]);
			continue;
		}
		if (!reg) {
			struct buf why = BUF_INIT;
			int r2 = registry_open(&reg, p->registry, 0, &why);
			if (r2 == REGISTRY_ENOTFOUND) {
				buf_addf(err, "no model registry at '%s': train a model first (t on the "
					 "models screen, key M, or 'pancake models train lab-100k')",
					 p->registry);
				buf_release(&why);
				goto out;
			}
			if (r2) {
				buf_addf(err, "%s", why.s);
				buf_release(&why);
				goto out;
			}
			buf_release(&why);
		}
		memset(&e, 0, sizeof(e));
		r = registry_show(reg, p->revs[i], &e, NULL);
		if (r == REGISTRY_ENOTFOUND || r == REGISTRY_EINVAL) {
			missing(err, p->registry, p->revs[i]);
			goto out;
		}
		if (r) {
			buf_addf(err, "cannot read %s from the registry '%s'", quote(q, p->revs[i]),
				 p->registry);
			goto out;
		}
		snprintf(p->ids[i], sizeof(p->ids[i]), "%s", e.short_id);
		if (!dataset[0])
			model_dataset(e.params_json, dataset, sizeof(dataset));
		registry_entry_release(&e);
	}

	/* --data: the first model's dataset when its files are here, else Redis's lists */
	dir = dataset[0] ? catalog_resolve(dataset, &name) : NULL;
	snprintf(p->data, sizeof(p->data), "%s", dir ? dataset : "none");

	if (endpoint(o->redis, "redis", 6379, p->redis, sizeof(p->redis), err) ||
	    endpoint(o->kafka, "kafka", 9092, p->kafka, sizeof(p->kafka), err))
		goto out;
	ret = 0;
out:
	if (reg)
		registry_close(reg);
	free(prog);
	free(dir);
	free(name);
	return ret;
}

void servingrun_describe(const struct servingrun_plan *p, struct buf *out)
{
	buf_addstr(out, "serving ");
	for (int i = 0; i < p->nvariants; i++)
		buf_addf(out, "%s%s=%s (%s)", i ? " vs " : "", p->names[i], p->revs[i], p->ids[i]);
	buf_addf(out, ", %s, on %s:%d", p->policy, p->bind, p->port);
}

/* ---- starting ---- */

int servingrun_start(struct servingrun **out, const struct servingrun_plan *p, int detach,
		     struct buf *err)
{
	extern char **environ;
	struct strvec args = STRVEC_INIT, env = STRVEC_INIT;
	/* jobs/experiment-YYYYmmdd-HHMMSS-PID-N.log; servings prune no logs */
	char *log = childproc_log_new("experiment", "serving's", 0, err);
	struct childproc_exec x = {
		.log = log, .whose = "serving's", .what = "serving", .extra_fd = -1,
		.flags = detach ? CHILDPROC_SESSION : 0, .kill_after = SERVINGRUN_KILL_AFTER_S,
	};
	struct childproc proc;
	int ret = -1;
	struct servingrun *r;

	*out = NULL;
	if (!log)
		goto out;
	strvec_push(&args, p->serving);
	for (int i = 0; i < p->nvariants; i++)
		strvec_pushf(&args, "--variant=%s=%s", p->names[i], p->revs[i]);
	strvec_pushf(&args, "--policy=%s", p->policy);
	strvec_pushf(&args, "--bind=%s", p->bind);
	strvec_pushf(&args, "--port=%d", p->port);
	strvec_pushf(&args, "--data=%s", p->data);
	strvec_pushf(&args, "--registry=%s", p->registry);
	strvec_pushf(&args, "--redis=%s", p->redis);
	strvec_pushf(&args, "--kafka=%s", p->kafka);
	/* the environment as it is, and the mark that pancake started it */
	for (char **e = environ; *e; e++)
		if (strncmp(*e, SERVINGRUN_ENV "=", sizeof(SERVINGRUN_ENV)))
			strvec_push(&env, *e);
	strvec_push(&env, SERVINGRUN_ENV "=1");

	x.argv = args.v;
	x.envp = env.v;
	if (childproc_start(&proc, &x, err))
		goto out;
	r = xcalloc(1, sizeof(*r));
	r->proc = proc;
	r->port = p->port;
	r->state = SERVINGRUN_STARTING;
	r->log = log;
	log = NULL;
	r->reason = xstrdup("");
	{
		char *d = servingloc_dir();
		r->announce = xstrfmt("%s/%ld", d, (long)proc.pid);
		free(d);
	}
	snprintf(r->addr, sizeof(r->addr), "%s:%d", p->bind, p->port);
	*out = r;
	ret = 0;
out:
	free(log);
	strvec_clear(&args);
	strvec_clear(&env);
	return ret;
}

/* ---- polling ---- */

static void set_reason(struct servingrun *r)
{
	int st = r->proc.status;

	free(r->reason);
	if (r->proc.stopping && (WIFSIGNALED(st) || (WIFEXITED(st) && WEXITSTATUS(st) == 0))) {
		r->reason = xstrdup(r->proc.killed ? "stopped (killed: it did not stop within 10 s)" :
				    "stopped");
		return;
	}
	r->reason = childproc_reason(r->log, st);
}

int servingrun_poll(struct servingrun *r)
{
	struct stat st;
	int was = r->state;

	if (r->state != SERVINGRUN_ENDED && childproc_reap(&r->proc)) {
		r->state = SERVINGRUN_ENDED;
		set_reason(r);
		/* a SIGKILL leaves its announcement: not a serving any more */
		unlink(r->announce);
	} else if (r->state == SERVINGRUN_STARTING && stat(r->announce, &st) == 0) {
		r->state = SERVINGRUN_READY;
	}
	childproc_tick(&r->proc);
	return (int)r->state != was;
}

enum servingrun_state servingrun_state(const struct servingrun *r)
{
	return r->state;
}

int servingrun_stopping(const struct servingrun *r)
{
	return r->proc.stopping;
}

const char *servingrun_reason(const struct servingrun *r)
{
	return r->reason;
}

pid_t servingrun_pid(const struct servingrun *r)
{
	return r->proc.pid;
}

const char *servingrun_log(const struct servingrun *r)
{
	return r->log;
}

const char *servingrun_addr(const struct servingrun *r)
{
	return r->addr;
}

int servingrun_port(const struct servingrun *r)
{
	return r->port;
}

void servingrun_stop(struct servingrun *r)
{
	childproc_stop(&r->proc);
}

static void release(struct servingrun *r)
{
	free(r->log);
	free(r->reason);
	free(r->announce);
	free(r);
}

void servingrun_free(struct servingrun *r)
{
	if (!r)
		return;
	if (!r->proc.reaped) {
		childproc_wait(&r->proc, FREE_WAIT_S);
		/* a SIGKILL leaves its announcement */
		if (r->proc.killed || !r->proc.reaped)
			unlink(r->announce);
	}
	release(r);
}

void servingrun_release(struct servingrun *r)
{
	if (r)
		release(r);
}

/* ---- the ones started before ---- */

/* 1 when process `pid` carries SERVINGRUN_ENV=1 in its environment */
static int marked(pid_t pid)
{
	char *path = xstrfmt("/proc/%ld/environ", (long)pid);
	struct buf env = BUF_INIT;
	int yes = 0;

	if (!buf_read_file(&env, path, 1 << 20))
		for (size_t at = 0; at < env.len; at += strlen(env.s + at) + 1)
			if (!strcmp(env.s + at, SERVINGRUN_ENV "=1"))
				yes = 1;
	buf_release(&env);
	free(path);
	return yes;
}

int servingrun_find(struct servingloc *out, int max, int port)
{
	struct servingloc all[SERVINGLOC_MAX];
	int n = servingloc_list(all, SERVINGLOC_MAX), got = 0;

	for (int i = 0; i < n && got < max; i++)
		if (all[i].kind == SERVINGLOC_HOST && (!port || all[i].port == port) &&
		    marked(all[i].pid))
			out[got++] = all[i];
	return got;
}

/* gone: no such process, or a zombie waiting for its parent */
static int gone(pid_t pid)
{
	char *path = xstrfmt("/proc/%ld/stat", (long)pid);
	struct buf st = BUF_INIT;
	int dead;

	if (kill(pid, 0) && errno == ESRCH) {
		dead = 1;
	} else if (buf_read_file(&st, path, 4096)) {
		dead = errno == ENOENT;
	} else {
		const char *paren = strrchr(st.s, ')');
		dead = paren && paren[1] == ' ' && paren[2] == 'Z';
	}
	buf_release(&st);
	free(path);
	return dead;
}

int servingrun_kill(const struct servingloc *l, struct buf *err)
{
	char *d = servingloc_dir(), *ann = xstrfmt("%s/%ld", d, (long)l->pid);
	double until = clock_s() + SERVINGRUN_KILL_AFTER_S;
	int group = getpgid(l->pid) == l->pid, ret = -1;

	if ((group ? killpg(l->pid, SIGTERM) : kill(l->pid, SIGTERM)) && errno != ESRCH) {
		buf_addf(err, "cannot stop serving pid %ld: %s", (long)l->pid, strerror(errno));
		goto out;
	}
	while (!gone(l->pid) && clock_s() < until)
		usleep(50000);
	if (!gone(l->pid)) {
		if (group)
			killpg(l->pid, SIGKILL);
		else
			kill(l->pid, SIGKILL);
		until = clock_s() + 1;
		while (!gone(l->pid) && clock_s() < until)
			usleep(20000);
		if (!gone(l->pid)) {
			buf_addf(err, "serving pid %ld did not end after SIGKILL", (long)l->pid);
			goto out;
		}
	}
	unlink(ann);
	ret = 0;
out:
	free(ann);
	free(d);
	return ret;
}
