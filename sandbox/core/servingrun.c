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
#include <time.h>
#include <unistd.h>

#include <jansson.h>

#include "core/catalog.h"
#include "core/config.h"
#include "core/service.h"
#include "model/registry.h"
#include "util/clock.h"
#include "util/quote.h"
#include "util/strvec.h"
#include "util/xalloc.h"

#define BIND "127.0.0.1"
/* free waits this long for a stopped serving, a little past the SIGKILL */
#define FREE_WAIT_S (SERVINGRUN_KILL_AFTER_S + 1)
#define LOG_TAIL 4096

const char *const servingrun_policies[] = { "thompson", "ab", "egreedy", "ucb1", NULL };

int servingrun_policy_ok(const char *p)
{
	for (int i = 0; servingrun_policies[i]; i++)
		if (!strcmp(p, servingrun_policies[i]))
			return 1;
	return 0;
}

struct servingrun {
	pid_t pid;
	int port;
	enum servingrun_state state;
	int reaped, status;
	int stopping, killed;
	int changed;
	double stop_at;
	char *log, *reason, *announce;
	char addr[80];
};

/* ---- the plan ---- */

/* the serving program: $SERVING, else beside pancake (new string) */
static char *serving_path(void)
{
	const char *e = getenv("SERVING");

	if (e && *e)
		return xstrdup(e);
	return xstrfmt("%s/services/serving/serving", config_home());
}

/*
 * "127.0.0.1:PORT" where the project publishes `service`'s `cport`, from
 * its definition and PANCAKE_<SERVICE>_PORT_<N>: files only, as modeljob
 * finds the recommender's Redis and Kafka.
 */
static int project_endpoint(const char *service, int cport, char *out, size_t size,
			    struct buf *err)
{
	char *path = xstrfmt("%s/services/%s/service.conf", config_home(), service);
	struct service s;
	int hp, ret = -1;

	memset(&s, 0, sizeof(s));
	if (service_load(&s, service, path, err) || service_apply_env(&s, err))
		goto out;
	hp = service_host_port(&s, cport);
	snprintf(out, size, "127.0.0.1:%d", hp > 0 ? hp : cport);
	ret = 0;
out:
	service_release(&s);
	free(path);
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
	char *prog = serving_path(), *dir = NULL, *name = NULL, q[QUOTE_BUF], dataset[64] = "";
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

	if (o->redis)
		snprintf(p->redis, sizeof(p->redis), "%s", o->redis);
	else if (project_endpoint("redis", 6379, p->redis, sizeof(p->redis), err))
		goto out;
	if (o->kafka)
		snprintf(p->kafka, sizeof(p->kafka), "%s", o->kafka);
	else if (project_endpoint("kafka", 9092, p->kafka, sizeof(p->kafka), err))
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

/* <state>/jobs/experiment-YYYYmmdd-HHMMSS-PID-N.log (new string), or NULL with `err` */
static char *new_log(struct buf *err)
{
	static unsigned seq;
	char *dir = xstrfmt("%s/jobs", config_state()), stamp[32];
	time_t now = time(NULL);
	struct tm tm;
	char *path = NULL;

	if (config_mkdirs(dir) < 0) {
		buf_addf(err, "cannot create '%s' for serving's log: %s (set PANCAKE_STATE to a "
			 "writable folder)", dir, strerror(errno));
		goto out;
	}
	localtime_r(&now, &tm);
	strftime(stamp, sizeof(stamp), "%Y%m%d-%H%M%S", &tm);
	path = xstrfmt("%s/experiment-%s-%ld-%u.log", dir, stamp, (long)getpid(), ++seq);
out:
	free(dir);
	return path;
}

/* in the child, between fork and exec: async-signal-safe calls only */
static void child(char *const argv[], char *const envp[], int log_fd, int detach)
{
	static const int reset[] = { SIGPIPE, SIGINT, SIGTERM, SIGQUIT, SIGHUP, SIGCHLD };
	struct sigaction sa;
	sigset_t none;
	int devnull, l;

	if (detach)
		setsid();
	else
		setpgid(0, 0);
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = SIG_DFL;
	for (size_t i = 0; i < ARRAY_SIZE(reset); i++)
		sigaction(reset[i], &sa, NULL);
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
	l = fcntl(log_fd, F_DUPFD_CLOEXEC, 10);
	devnull = open("/dev/null", O_RDONLY | O_CLOEXEC);
	if (l < 0 || devnull < 0 || dup2(devnull, 0) < 0 || dup2(l, 1) < 0 || dup2(l, 2) < 0)
		_exit(127);
	close_range(3, ~0u, 0);
	execve(argv[0], argv, envp);
	{
		static const char msg[] = "error: cannot run serving\n";
		ssize_t ignored = write(2, msg, sizeof(msg) - 1);
		(void)ignored;
	}
	_exit(127);
}

int servingrun_start(struct servingrun **out, const struct servingrun_plan *p, int detach,
		     struct buf *err)
{
	extern char **environ;
	struct strvec args = STRVEC_INIT, env = STRVEC_INIT;
	struct buf head = BUF_INIT;
	char *log = new_log(err);
	int log_fd = -1, ret = -1;
	struct servingrun *r;
	pid_t pid;

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

	log_fd = open(log, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (log_fd < 0) {
		buf_addf(err, "cannot write serving's log '%s': %s", log, strerror(errno));
		goto out;
	}
	buf_addstr(&head, "$");
	for (size_t i = 0; i < args.n; i++)
		buf_addf(&head, " %s", args.v[i]);
	buf_addch(&head, '\n');
	if (write(log_fd, head.s, head.len) != (ssize_t)head.len) {
		buf_addf(err, "cannot write serving's log '%s': %s", log, strerror(errno));
		goto out;
	}
	pid = fork();
	if (pid < 0) {
		buf_addf(err, "cannot start serving: fork: %s", strerror(errno));
		goto out;
	}
	if (pid == 0)
		child((char *const *)args.v, (char *const *)env.v, log_fd, detach);
	/* both sides set the group, so a stop right away reaches it (a session: the child's own) */
	if (!detach)
		setpgid(pid, pid);
	r = xcalloc(1, sizeof(*r));
	r->pid = pid;
	r->port = p->port;
	r->state = SERVINGRUN_STARTING;
	r->log = log;
	log = NULL;
	r->reason = xstrdup("");
	{
		char *d = servingloc_dir();
		r->announce = xstrfmt("%s/%ld", d, (long)pid);
		free(d);
	}
	snprintf(r->addr, sizeof(r->addr), "%s:%d", p->bind, p->port);
	*out = r;
	ret = 0;
out:
	if (log_fd >= 0)
		close(log_fd);
	free(log);
	strvec_clear(&args);
	strvec_clear(&env);
	buf_release(&head);
	return ret;
}

/* ---- polling ---- */

/* the newest non-empty line of the log that is not its command line (new string) */
static char *log_last_line(const char *path)
{
	char tail[LOG_TAIL + 1], *end, *start;
	ssize_t n = 0;
	off_t size;
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	if (fd < 0)
		return xstrdup("");
	size = lseek(fd, 0, SEEK_END);
	if (size > 0 && lseek(fd, size > LOG_TAIL ? size - LOG_TAIL : 0, SEEK_SET) >= 0)
		n = read(fd, tail, LOG_TAIL);
	close(fd);
	tail[n > 0 ? n : 0] = '\0';
	end = tail + strlen(tail);
	while (end > tail && (end[-1] == '\n' || end[-1] == '\r' || end[-1] == ' '))
		*--end = '\0';
	start = strrchr(tail, '\n');
	start = start ? start + 1 : tail;
	if (start == tail && n < LOG_TAIL && *start == '$')
		return xstrdup("");
	return xstrdup(start);
}

static void set_reason(struct servingrun *r)
{
	char *line;

	free(r->reason);
	if (r->stopping && (WIFSIGNALED(r->status) || (WIFEXITED(r->status) &&
						       WEXITSTATUS(r->status) == 0))) {
		r->reason = xstrdup(r->killed ? "stopped (killed: it did not stop within 10 s)" :
				    "stopped");
		return;
	}
	line = log_last_line(r->log);
	if (*line) {
		r->reason = line;
		return;
	}
	free(line);
	if (WIFEXITED(r->status))
		r->reason = xstrfmt("exited with status %d", WEXITSTATUS(r->status));
	else if (WIFSIGNALED(r->status))
		r->reason = xstrfmt("killed by signal %d", WTERMSIG(r->status));
	else
		r->reason = xstrdup("ended, how is not known");
}

/* waitpid without waiting; 1 once reaped */
static int reap(struct servingrun *r)
{
	pid_t got;

	if (r->reaped)
		return 1;
	do
		got = waitpid(r->pid, &r->status, WNOHANG);
	while (got < 0 && errno == EINTR);
	if (got == 0)
		return 0;
	if (got < 0)	/* ECHILD: reaped elsewhere (SIGCHLD ignored) */
		r->status = 0;
	r->reaped = 1;
	return 1;
}

int servingrun_poll(struct servingrun *r)
{
	struct stat st;
	int was = r->state;

	if (r->state != SERVINGRUN_ENDED && reap(r)) {
		r->state = SERVINGRUN_ENDED;
		set_reason(r);
		/* a SIGKILL leaves its announcement: not a serving any more */
		unlink(r->announce);
	} else if (r->state == SERVINGRUN_STARTING && stat(r->announce, &st) == 0) {
		r->state = SERVINGRUN_READY;
	}
	if (r->state != SERVINGRUN_ENDED && r->stopping && !r->killed &&
	    clock_s() - r->stop_at >= SERVINGRUN_KILL_AFTER_S) {
		killpg(r->pid, SIGKILL);
		r->killed = 1;
	}
	return (int)r->state != was;
}

enum servingrun_state servingrun_state(const struct servingrun *r)
{
	return r->state;
}

int servingrun_stopping(const struct servingrun *r)
{
	return r->stopping;
}

const char *servingrun_reason(const struct servingrun *r)
{
	return r->reason;
}

pid_t servingrun_pid(const struct servingrun *r)
{
	return r->pid;
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
	if (r->reaped || r->stopping)
		return;
	r->stopping = 1;
	r->stop_at = clock_s();
	killpg(r->pid, SIGTERM);
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
	double until;

	if (!r)
		return;
	if (!r->reaped) {
		servingrun_stop(r);
		until = clock_s() + FREE_WAIT_S;
		while (!reap(r) && clock_s() < until) {
			if (!r->killed && clock_s() - r->stop_at >= SERVINGRUN_KILL_AFTER_S) {
				killpg(r->pid, SIGKILL);
				r->killed = 1;
			}
			usleep(20000);
		}
		if (!r->reaped)
			killpg(r->pid, SIGKILL);
		if (r->killed || !r->reaped)
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
