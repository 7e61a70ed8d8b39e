/*
 * stack: the running set of service containers of one project. It finds
 * them by label (no state file), brings them up in dependency order with
 * independent services in parallel, waits for readiness and takes them down.
 */
#include "core/stack.h"
#include "clients/docker.h"
#include "core/config.h"
#include "core/probe.h"
#include "util/clock.h"
#include "util/xalloc.h"

#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define LOG_LINES_ON_FAILURE 20
#define GIB (1024.0 * 1024 * 1024)

void stack_note(struct stack *st, enum stack_note_kind k, const char *svc,
		const char *fmt, ...)
{
	struct stack_note n;
	struct buf b = BUF_INIT;
	va_list ap;

	if (!st->fn)
		return;
	va_start(ap, fmt);
	buf_vaddf(&b, fmt, ap);
	va_end(ap);
	n.kind = k;
	n.service = svc;
	n.text = b.s;
	n.elapsed = clock_s() - st->t0;
	pthread_mutex_lock(&st->note_lock);
	st->fn(&n, st->ctx);
	pthread_mutex_unlock(&st->note_lock);
	buf_release(&b);
}

int stack_open(struct stack *st, struct docker *d, enum heap_profile profile,
	       stack_note_fn fn, void *ctx, struct buf *err)
{
	char *dir = xstrfmt("%s/services", config_home());
	int n;

	memset(st, 0, sizeof(*st));
	st->d = d;
	st->profile = profile;
	st->fn = fn;
	st->ctx = ctx;
	st->t0 = clock_s();
	pthread_mutex_init(&st->note_lock, NULL);
	snprintf(st->project, sizeof(st->project), "%s", config_project());
	snprintf(st->network, sizeof(st->network), "%s-net", st->project);
	n = service_load_dir(st->svcs, dir, err);
	free(dir);
	if (n < 0)
		return -1;
	/* the swarm-only members after the others, each side in name order */
	{
		struct service tmp[SERVICE_MAX];
		int i, k = 0;

		for (i = 0; i < n; i++)
			if (!st->svcs[i].swarm_only)
				tmp[k++] = st->svcs[i];
		st->n = k;
		for (i = 0; i < n; i++)
			if (st->svcs[i].swarm_only)
				tmp[k++] = st->svcs[i];
		memcpy(st->svcs, tmp, sizeof(tmp[0]) * (size_t)n);
	}
	st->nall = n;
	return 0;
}

void stack_use_swarm_members(struct stack *st)
{
	st->n = st->nall;
}

void stack_close(struct stack *st)
{
	int i;

	for (i = 0; i < st->nall; i++)
		service_release(&st->svcs[i]);
	pthread_mutex_destroy(&st->note_lock);
	st->n = st->nall = 0;
}

int stack_find(const struct stack *st, const char *name)
{
	int i;

	for (i = 0; i < st->n; i++)
		if (!strcmp(st->svcs[i].name, name))
			return i;
	return -1;
}

char *stack_container_name(const struct stack *st, const struct service *s)
{
	return xstrfmt("%s-%s", st->project, s->name);
}

char *stack_volume_name(const struct stack *st, const struct service *s, const char *vol)
{
	return xstrfmt("%s-%s-%s", st->project, s->name, vol);
}

static void project_filter(const struct stack *st, struct strvec *f, const char *svc)
{
	strvec_pushf(f, "%s=%s", LABEL_PROJECT, st->project);
	if (svc)
		strvec_pushf(f, "%s=%s", LABEL_SERVICE, svc);
}

/* our containers, by service index; others (unknown service labels) ignored */
static int find_containers(struct stack *st, struct docker_container **cs, size_t *n,
			   int *by_svc, struct buf *err)
{
	struct strvec f = STRVEC_INIT;
	size_t i;
	int ret, k;

	for (k = 0; k < st->n; k++)
		by_svc[k] = -1;
	project_filter(st, &f, NULL);
	ret = docker_containers_list(st->d, &f, cs, n, err);
	strvec_clear(&f);
	if (ret)
		return ret;
	for (i = 0; i < *n; i++) {
		const char *svc = kvlist_get(&(*cs)[i].labels, LABEL_SERVICE);
		k = svc ? stack_find(st, svc) : -1;
		if (k >= 0 && by_svc[k] < 0)
			by_svc[k] = (int)i;
	}
	return 0;
}

static void desired_hash(struct stack *st, const struct service *s, char out[65])
{
	struct docker_image img;
	struct buf e = BUF_INIT;

	if (!docker_image_inspect(st->d, s->image, &img, &e)) {
		service_config_hash(s, st->profile, img.id, out);
		docker_image_release(&img);
	} else {
		service_config_hash(s, st->profile, "", out);
	}
	buf_release(&e);
}

int stack_status(struct stack *st, struct service_status *out, int probe, struct buf *err)
{
	struct docker_container *cs = NULL;
	int by_svc[SERVICE_MAX], k;
	size_t n = 0;

	if (find_containers(st, &cs, &n, by_svc, err))
		return -1;
	for (k = 0; k < st->n; k++) {
		struct service_status *s = &out[k];
		memset(s, 0, sizeof(*s));
		s->svc = &st->svcs[k];
		snprintf(s->state, sizeof(s->state), "absent");
		if (by_svc[k] >= 0) {
			struct docker_container *c = &cs[by_svc[k]], full;
			struct buf e = BUF_INIT;
			char want[65];
			const char *have = kvlist_get(&c->labels, LABEL_CONFIG_HASH);
			const char *prof = kvlist_get(&c->labels, LABEL_PROFILE);

			s->exists = 1;
			s->running = c->running;
			snprintf(s->id, sizeof(s->id), "%s", c->id);
			snprintf(s->state, sizeof(s->state), "%s", c->state);
			snprintf(s->profile, sizeof(s->profile), "%s", prof ? prof : "");
			desired_hash(st, s->svc, want);
			s->config_current = have && !strcmp(have, want);
			if (!docker_container_inspect(st->d, c->id, &full, &e)) {
				s->started_at = full.started_at;
				s->exit_code = full.exit_code;
				s->oom_killed = full.oom_killed;
				docker_container_release(&full);
			}
			buf_release(&e);
			if (probe && s->running) {
				struct buf det = BUF_INIT;
				s->probed = 1;
				s->ready = probe_service(s->svc, 2000, &det) == PROBE_READY;
				snprintf(s->detail, sizeof(s->detail), "%s", det.s);
				buf_release(&det);
			}
		}
	}
	docker_containers_free(cs, n);
	return 0;
}

static void collect_frame(int stream, const char *data, size_t len, void *ctx)
{
	(void)stream;
	buf_add(ctx, data, len);
}

static int tail_container(struct stack *st, const char *id, int lines, struct buf *out,
			  struct buf *err)
{
	struct stack_logs_opts o;
	int ret;

	memset(&o, 0, sizeof(o));
	o.tail = lines;
	ret = stack_logs(st, id, &o, collect_frame, out, err);
	buf_rtrim(out);
	return ret;
}

int stack_tail_logs(struct stack *st, const char *name, int lines, struct buf *out,
		    struct buf *err)
{
	struct strvec f = STRVEC_INIT;
	struct docker_container *cs = NULL;
	size_t n = 0;
	int ret;

	project_filter(st, &f, name);
	ret = docker_containers_list(st->d, &f, &cs, &n, err);
	strvec_clear(&f);
	if (ret)
		return ret;
	if (!n) {
		buf_addf(err, "service '%s' has no container: start it with 'pancake up %s'", name, name);
		docker_containers_free(cs, n);
		return -1;
	}
	ret = tail_container(st, cs[0].id, lines, out, err);
	docker_containers_free(cs, n);
	return ret;
}

/* ---- the engine ---- */

struct docker *stack_engine_open(int *down, struct buf *err)
{
	struct docker *d;
	int code = 0;

	d = docker_open(NULL, &code, err);
	*down = !d && (code == DOCKER_EUNREACH || code == DOCKER_ETIMEDOUT);
	return d;
}

struct docker *stack_engine_new(struct buf *err)
{
	return docker_new(NULL, err);
}

void stack_engine_free(struct docker *d)
{
	docker_free(d);
}

int stack_connect(struct stack *st, struct buf *err)
{
	return docker_connect(st->d, err) ? -1 : 0;
}

double stack_silence_s(struct stack *st)
{
	return docker_silence_s(st->d);
}

const char *stack_endpoint(const struct stack *st)
{
	return docker_endpoint(st->d);
}

void stack_abort(struct stack *st)
{
	docker_abort(st->d);
}

/* ---- what a service's container says ---- */

/* the client's codes the callers tell apart, as stack.h names them */
static int stack_code(int ret)
{
	return ret == DOCKER_ECANCELED ? STACK_ECANCELED : ret == DOCKER_ENOTFOUND ? STACK_ENOTFOUND :
	       ret;
}

void stack_logs_to_docker(const struct stack_logs_opts *o, struct docker_logs_opts *lo)
{
	memset(lo, 0, sizeof(*lo));
	lo->follow = o->follow;
	lo->stdout_ = lo->stderr_ = 1;
	lo->tail = o->tail;
	lo->since = o->since;
	lo->cancel = o->cancel;
}

int stack_logs(struct stack *st, const char *id, const struct stack_logs_opts *o,
	       stack_frame_fn fn, void *ctx, struct buf *err)
{
	struct docker_logs_opts lo;
	struct docker_container c;
	struct buf ignored = BUF_INIT;

	stack_logs_to_docker(o, &lo);
	/* a TTY's stream is raw bytes, not frames; if the inspect fails, the
	 * logs call says why */
	if (!docker_container_inspect(st->d, id, &c, &ignored)) {
		lo.tty = c.tty;
		docker_container_release(&c);
	}
	buf_release(&ignored);
	return stack_code(docker_container_logs(st->d, id, &lo, fn, ctx, err));
}

struct stats_job {
	struct docker *d;
	struct stack_stats *out;
	pthread_t th;
	int started;
};

static void *stats_main(void *p)
{
	struct stats_job *j = p;
	struct docker_stats s;
	struct buf e = BUF_INIT;

	if (!docker_container_stats(j->d, j->out->id, &s, &e)) {
		j->out->cpu_total = s.cpu_total;
		j->out->system_cpu = s.system_cpu;
		j->out->online_cpus = s.online_cpus;
		j->out->mem_used = docker_stats_mem_used(&s);
		j->out->mem_limit = s.mem_limit;
		j->out->ok = 1;
	}
	buf_release(&e);
	return NULL;
}

void stack_stats(struct stack *st, const struct service_status *ss, struct stack_stats *out)
{
	struct stats_job jobs[SERVICE_MAX];
	int k;

	for (k = 0; k < st->n; k++) {
		memset(&out[k], 0, sizeof(out[k]));
		jobs[k].started = 0;
		if (!ss[k].running)
			continue;
		snprintf(out[k].id, sizeof(out[k].id), "%s", ss[k].id);
		out[k].started_at = ss[k].started_at;
		jobs[k].d = st->d;
		jobs[k].out = &out[k];
		jobs[k].started = !pthread_create(&jobs[k].th, NULL, stats_main, &jobs[k]);
	}
	for (k = 0; k < st->n; k++)
		if (jobs[k].started)
			pthread_join(jobs[k].th, NULL);
}

double stack_cpu_percent(const struct stack_stats *prev, const struct stack_stats *cur)
{
	struct docker_stats a, b;

	memset(&a, 0, sizeof(a));
	memset(&b, 0, sizeof(b));
	a.cpu_total = prev->cpu_total;
	a.system_cpu = prev->system_cpu;
	a.online_cpus = prev->online_cpus;
	b.cpu_total = cur->cpu_total;
	b.system_cpu = cur->system_cpu;
	b.online_cpus = cur->online_cpus;
	return docker_stats_cpu_percent(&a, &b);
}

int stack_exec(struct stack *st, const char *id, const char *const *argv, struct buf *output,
	       int *exit_code, long timeout_ms, struct buf *err)
{
	return docker_exec(st->d, id, argv, output, exit_code, timeout_ms, err) ? -1 : 0;
}

/* ---- pre-flight ---- */

/* who listens on a TCP port: "process 'java' (pid 42)" or NULL */
static char *port_holder(int port)
{
	static const char *const tables[] = { "/proc/net/tcp", "/proc/net/tcp6" };
	unsigned long inode = 0;
	char line[512], want[32];
	DIR *proc;
	struct dirent *de;
	size_t t;

	for (t = 0; t < ARRAY_SIZE(tables) && !inode; t++) {
		FILE *f = fopen(tables[t], "r");
		if (!f)
			continue;
		while (fgets(line, sizeof(line), f)) {
			char local[128];
			unsigned st, lport;
			unsigned long ino;
			if (sscanf(line, " %*d: %127s %*s %x %*s %*s %*s %*s %*s %lu",
				   local, &st, &ino) != 3)
				continue;
			if (st != 0x0A || !strchr(local, ':'))
				continue;
			if (sscanf(strchr(local, ':') + 1, "%x", &lport) == 1 && (int)lport == port) {
				inode = ino;
				break;
			}
		}
		fclose(f);
	}
	if (!inode)
		return NULL;
	snprintf(want, sizeof(want), "socket:[%lu]", inode);
	proc = opendir("/proc");
	while (proc && (de = readdir(proc))) {
		char *fddir;
		DIR *fds;
		struct dirent *fe;
		if (de->d_name[0] < '1' || de->d_name[0] > '9')
			continue;
		fddir = xstrfmt("/proc/%s/fd", de->d_name);
		fds = opendir(fddir);
		while (fds && (fe = readdir(fds))) {
			char link[64], target[64];
			ssize_t k;
			snprintf(link, sizeof(link), "%.20s/%.20s", fddir, fe->d_name);
			k = readlink(link, target, sizeof(target) - 1);
			if (k > 0) {
				target[k] = '\0';
				if (!strcmp(target, want)) {
					char comm[64] = "?", *path = xstrfmt("/proc/%s/comm", de->d_name);
					FILE *f = fopen(path, "r");
					char *r;
					if (f) {
						if (fgets(comm, sizeof(comm), f))
							comm[strcspn(comm, "\n")] = '\0';
						fclose(f);
					}
					free(path);
					r = xstrfmt("process '%s' (pid %s)", comm, de->d_name);
					closedir(fds);
					closedir(proc);
					free(fddir);
					return r;
				}
			}
		}
		if (fds)
			closedir(fds);
		free(fddir);
	}
	if (proc)
		closedir(proc);
	return xstrdup("a process pancake cannot see (another user or namespace)");
}

/* a container (any) that publishes the port, by name */
static char *container_holding(struct stack *st, int port)
{
	struct docker_container *cs = NULL;
	struct strvec none = STRVEC_INIT;
	struct buf e = BUF_INIT;
	char *r = NULL;
	size_t n = 0, i, k;

	if (docker_containers_list(st->d, &none, &cs, &n, &e) == 0)
		for (i = 0; i < n && !r; i++)
			for (k = 0; k < cs[i].nports && !r; k++)
				if (cs[i].running && cs[i].ports[k].host_port == port)
					r = xstrfmt("container '%s'%s", cs[i].name,
						    kvlist_get(&cs[i].labels, LABEL_PROJECT) ?
						    " (another pancake project)" : "");
	docker_containers_free(cs, n);
	buf_release(&e);
	return r;
}

static int port_free(const char *ip, int port)
{
	struct sockaddr_in a;
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0), one = 1, ok;

	if (fd < 0)
		return 1;
	memset(&a, 0, sizeof(a));
	a.sin_family = AF_INET;
	a.sin_port = htons((uint16_t)port);
	if (inet_pton(AF_INET, ip, &a.sin_addr) != 1)
		a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	ok = bind(fd, (struct sockaddr *)&a, sizeof(a)) == 0 || errno != EADDRINUSE;
	close(fd);
	return ok;
}

int stack_check_ports(struct stack *st, const int *which, int n, struct buf *err)
{
	int i, p, bad = 0;

	for (i = 0; i < n; i++) {
		const struct service *s = &st->svcs[which[i]];
		for (p = 0; p < s->nports; p++) {
			const struct service_port *sp = &s->ports[p];
			char *holder, *var;
			const char *q;
			if (port_free(sp->host_ip, sp->host_port))
				continue;
			holder = container_holding(st, sp->host_port);
			if (!holder)
				holder = port_holder(sp->host_port);
			var = xstrfmt("PANCAKE_%s_PORT_%d", s->name, sp->container_port);
			for (q = var; *q; q++)
				if (*q >= 'a' && *q <= 'z')
					var[q - var] = (char)(*q - 32);
				else if (*q == '-')
					var[q - var] = '_';
			buf_addf(err, "%sport %s:%d for service '%s' is already in use by %s: "
				 "stop it, or publish %s elsewhere with %s=<free port>",
				 bad ? "\n" : "", sp->host_ip, sp->host_port, s->name,
				 holder ? holder : "another program", s->name, var);
			free(holder);
			free(var);
			bad++;
		}
	}
	return bad ? -1 : 0;
}

int stack_check_memory(struct stack *st, const int *which, int n, int64_t *need,
		       int64_t *have, struct buf *err)
{
	struct docker_info info;
	int64_t sum = 0, small = 0, headroom;
	struct buf parts = BUF_INIT;
	int i;

	if (docker_info(st->d, &info, err))
		return -1;
	for (i = 0; i < n; i++) {
		const struct service *s = &st->svcs[which[i]];
		sum += s->memory[st->profile];
		small += s->memory[PROFILE_SMALL];
		buf_addf(&parts, "%s%s %.2f", i ? ", " : "", s->name,
			 (double)s->memory[st->profile] / GIB);
	}
	/* keep room for the engine, the host and pancake itself */
	headroom = info.mem_total / 8 > (int64_t)(GIB / 2) ? info.mem_total / 8 : (int64_t)(GIB / 2);
	if (need)
		*need = sum;
	if (have)
		*have = info.mem_total - headroom;
	if (sum > info.mem_total - headroom) {
		buf_addf(err, "the services' memory limits add up to %.2f GiB (%s) but the engine "
			 "has %.2f GiB, of which %.2f GiB are kept free for the host",
			 (double)sum / GIB, parts.s, (double)info.mem_total / GIB,
			 (double)headroom / GIB);
		if (st->profile == PROFILE_DEFAULT && small <= info.mem_total - headroom)
			buf_addf(err, ": the smaller heap profile needs %.2f GiB and fits; "
				 "run again with --small", (double)small / GIB);
		else
			buf_addstr(err, ": start fewer services (pancake up SERVICE...) or give "
				   "the engine more memory");
		buf_release(&parts);
		return -1;
	}
	buf_release(&parts);
	return 0;
}

/* ---- up ---- */

enum svc_phase { PH_IDLE, PH_PENDING, PH_STARTED, PH_READY, PH_FAILED };

struct up_run {
	struct stack *st;
	const struct stack_up_opts *o;
	pthread_mutex_t lock;
	pthread_cond_t cond;
	enum svc_phase phase[SERVICE_MAX];
	char cid[SERVICE_MAX][80];     /* the container we started */
	int died[SERVICE_MAX];
	int exit_code[SERVICE_MAX];
	struct buf errs;               /* one message per failed service */
	volatile int cancel_events;
	int events_ok;
};

static int on_event(const struct docker_event *ev, void *ctx)
{
	struct up_run *u = ctx;
	int k;

	if (strcmp(ev->type, "container") || strcmp(ev->action, "die") || !ev->service)
		return 0;
	k = stack_find(u->st, ev->service);
	if (k < 0)
		return 0;
	pthread_mutex_lock(&u->lock);
	/* a die of the container we replaced must not count against the new one */
	if (ev->id && !strcmp(ev->id, u->cid[k])) {
		u->died[k] = 1;
		u->exit_code[k] = ev->exit_code ? atoi(ev->exit_code) : -1;
		pthread_cond_broadcast(&u->cond);
	}
	pthread_mutex_unlock(&u->lock);
	return 0;
}

static void *events_thread(void *p)
{
	struct up_run *u = p;
	struct buf e = BUF_INIT;
	char *label = xstrfmt("%s=%s", LABEL_PROJECT, u->st->project);

	docker_events(u->st->d, label, LABEL_PROJECT, LABEL_SERVICE, 0, on_event, u,
		      &u->cancel_events, &e);
	free(label);
	buf_release(&e);
	return NULL;
}

static int ensure_network(struct stack *st, struct buf *err)
{
	struct docker_object o;
	struct kvlist labels = KVLIST_INIT;
	int r = docker_network_inspect(st->d, st->network, &o, err);

	if (!r) {
		const char *p = kvlist_get(&o.labels, LABEL_PROJECT);
		int ours = p && !strcmp(p, st->project);
		free(o.id); free(o.name); kvlist_clear(&o.labels);
		if (!ours) {
			buf_addf(err, "a network named '%s' exists and is not pancake's: remove or "
				 "rename it yourself, or set PANCAKE_PROJECT to another name", st->network);
			return -1;
		}
		return 0;
	}
	if (r != DOCKER_ENOTFOUND)
		return -1;
	buf_reset(err);
	kvlist_set(&labels, LABEL_PROJECT, st->project);
	r = docker_network_create(st->d, st->network, &labels, NULL, err);
	kvlist_clear(&labels);
	if (!r)
		stack_note(st, NOTE_CREATE, NULL, "network %s", st->network);
	return r;
}

static int ensure_volume(struct stack *st, const struct service *s, const char *vol,
			 struct buf *err)
{
	char *name = stack_volume_name(st, s, vol);
	struct docker_object o;
	struct kvlist labels = KVLIST_INIT;
	int r = docker_volume_inspect(st->d, name, &o, err);

	if (!r) {
		const char *p = kvlist_get(&o.labels, LABEL_PROJECT);
		int ours = p && !strcmp(p, st->project);
		free(o.id); free(o.name); kvlist_clear(&o.labels);
		if (!ours)
			buf_addf(err, "a volume named '%s' exists and is not pancake's: pancake will "
				 "not use it; remove or rename it yourself", name);
		free(name);
		return ours ? 0 : -1;
	}
	if (r != DOCKER_ENOTFOUND) {
		free(name);
		return -1;
	}
	buf_reset(err);
	kvlist_set(&labels, LABEL_PROJECT, st->project);
	kvlist_set(&labels, LABEL_SERVICE, s->name);
	r = docker_volume_create(st->d, name, &labels, err);
	kvlist_clear(&labels);
	free(name);
	return r;
}

static int create_container(struct stack *st, const struct service *s, const char *hash,
			    struct buf *id, struct buf *err)
{
	struct docker_container_spec spec;
	struct docker_port ports[8];
	struct docker_mount mounts[4];
	char *name = stack_container_name(st, s);
	size_t i;
	int k, r;

	memset(&spec, 0, sizeof(spec));
	strvec_init(&spec.env);
	strvec_init(&spec.cmd);
	spec.name = name;
	spec.image = s->image;
	spec.hostname = s->name;
	spec.network = st->network;
	for (i = 0; i < s->env.n; i++)
		strvec_push(&spec.env, s->env.v[i]);
	for (i = 0; i < s->command.n; i++)
		strvec_push(&spec.cmd, s->command.v[i]);
	if (s->heap[st->profile][0])
		strvec_pushf(&spec.env, "PANCAKE_HEAP=%s", s->heap[st->profile]);
	strvec_pushf(&spec.env, "PANCAKE_HOSTNAME=%s", s->name);
	for (k = 0; k < s->nports; k++) {
		strvec_pushf(&spec.env, "PANCAKE_PORT_%d=%d", s->ports[k].container_port,
			     s->ports[k].host_port);
		memset(&ports[k], 0, sizeof(ports[k]));
		ports[k].container_port = s->ports[k].container_port;
		ports[k].host_port = s->ports[k].host_port;
		snprintf(ports[k].proto, sizeof(ports[k].proto), "tcp");
		snprintf(ports[k].host_ip, sizeof(ports[k].host_ip), "%s", s->ports[k].host_ip);
	}
	spec.ports = ports;
	spec.nports = (size_t)s->nports;
	for (k = 0; k < s->nvolumes; k++) {
		mounts[k].source = stack_volume_name(st, s, s->volumes[k].name);
		mounts[k].target = s->volumes[k].target;
	}
	spec.mounts = mounts;
	spec.nmounts = (size_t)s->nvolumes;
	spec.memory = s->memory[st->profile];
	kvlist_set(&spec.labels, LABEL_PROJECT, st->project);
	kvlist_set(&spec.labels, LABEL_SERVICE, s->name);
	kvlist_set(&spec.labels, LABEL_CONFIG_HASH, hash);
	kvlist_set(&spec.labels, LABEL_PROFILE, st->profile == PROFILE_SMALL ? "small" : "default");
	r = docker_container_create(st->d, &spec, id, err);
	if (r == DOCKER_ECONFLICT) {
		buf_reset(err);
		buf_addf(err, "a container named '%s' exists and is not pancake's: remove or "
			 "rename it yourself, or set PANCAKE_PROJECT to another name", name);
	} else if (r == DOCKER_ENOTFOUND) {
		struct buf m = BUF_INIT;
		buf_addf(&m, "image '%s' is not built (%s): run 'pancake images build'", s->image, err->s);
		buf_reset(err);
		buf_addstr(err, m.s);
		buf_release(&m);
	}
	for (k = 0; k < s->nvolumes; k++)
		free(mounts[k].source);
	strvec_clear(&spec.env);
	strvec_clear(&spec.cmd);
	kvlist_clear(&spec.labels);
	free(name);
	return r;
}

static void fail_service(struct up_run *u, int k, const char *why, const char *cid)
{
	struct stack *st = u->st;
	struct buf logs = BUF_INIT, e = BUF_INIT, msg = BUF_INIT;

	buf_addf(&msg, "service '%s' %s", st->svcs[k].name, why);
	if (cid && *cid && !tail_container(st, cid, LOG_LINES_ON_FAILURE, &logs, &e) && logs.len) {
		char *line, *save = NULL;
		buf_addf(&msg, "\n  its last %d log lines:", LOG_LINES_ON_FAILURE);
		for (line = strtok_r(logs.s, "\n", &save); line; line = strtok_r(NULL, "\n", &save))
			buf_addf(&msg, "\n  | %s", line);
		buf_addf(&msg, "\n  the other services were left as they were; "
			 "'pancake logs %s' shows more", st->svcs[k].name);
	}
	stack_note(st, NOTE_FAILED, st->svcs[k].name, "%s", msg.s);
	pthread_mutex_lock(&u->lock);
	buf_addf(&u->errs, "%s%s", u->errs.len ? "\n" : "", msg.s);
	u->phase[k] = PH_FAILED;
	pthread_cond_broadcast(&u->cond);
	pthread_mutex_unlock(&u->lock);
	buf_release(&logs);
	buf_release(&e);
	buf_release(&msg);
}

struct svc_job {
	struct up_run *u;
	int k;
	struct docker_container *existing;   /* borrowed, or NULL */
	int need_ready;
};

/* waits until `k` is ready, dies or runs out of time; returns 0 when ready */
static int wait_ready(struct up_run *u, int k, const char *cid, struct buf *why)
{
	struct stack *st = u->st;
	const struct service *s = &st->svcs[k];
	double start = clock_s(), limit = u->o->timeout_s ? u->o->timeout_s : s->ready_timeout_s;
	double pause = 0.2, last_note = 0;
	char last[200] = "", shown[200] = "";

	for (;;) {
		struct buf det = BUF_INIT, e = BUF_INIT;
		struct docker_container c;
		double left = limit - (clock_s() - start);
		int died, code, ready, ret = -1;

		pthread_mutex_lock(&u->lock);
		died = u->died[k];
		code = u->exit_code[k];
		pthread_mutex_unlock(&u->lock);
		/* events say when it dies; inspect covers an events stream that broke */
		if (!died)
			ret = docker_container_inspect(st->d, cid, &c, &e);
		buf_release(&e);
		if (ret == DOCKER_ECANCELED) {
			/* the program is leaving (docker_abort): do not wait on */
			buf_addstr(why, "canceled before it was ready");
			return -1;
		}
		if (!ret) {
			if (!c.running) {
				died = 1;
				code = c.exit_code;
			}
			if (c.oom_killed)
				code = 137;
			docker_container_release(&c);
		}
		if (died) {
			buf_addf(why, "exited with code %d before it was ready%s", code,
				 code == 137 ? " (killed: out of memory? raise 'memory' in its definition)" : "");
			return -1;
		}
		/* never a non-positive timeout: some clients read it as "wait forever" */
		ready = probe_service(s, left > 2 ? 2000 : left > 0.2 ? (int)(left * 1000) : 200, &det);
		if (ready == PROBE_READY) {
			stack_note(st, NOTE_READY, s->name, "%s", det.s);
			buf_release(&det);
			return 0;
		}
		/*
		 * Before its first ready a service that does not answer yet is
		 * starting, not failing: the note says so, and the probe's own
		 * words only when it answered (ES red, no broker yet). The last
		 * probe's words stay for the timeout's message.
		 */
		{
			char now_says[200];

			if (ready == PROBE_NO_ANSWER)
				snprintf(now_says, sizeof(now_says), "starting (its port does not "
					 "answer yet)");
			else
				snprintf(now_says, sizeof(now_says), "starting (%s)", det.s);
			if (strcmp(shown, now_says) && clock_s() - last_note >= 5) {
				snprintf(shown, sizeof(shown), "%s", now_says);
				stack_note(st, NOTE_WAITING, s->name, "%s", now_says);
				last_note = clock_s();
			}
			snprintf(last, sizeof(last), "%s", det.s);
		}
		buf_release(&det);
		if (clock_s() - start >= limit) {
			buf_addf(why, "was not ready after %.0f s (last probe: %s)", limit, last);
			return -1;
		}
		/* a die event wakes us at once; otherwise probe again shortly */
		{
			struct timespec ts;
			clock_gettime(CLOCK_REALTIME, &ts);
			ts.tv_nsec += (long)(pause * 1e9);
			ts.tv_sec += ts.tv_nsec / 1000000000L;
			ts.tv_nsec %= 1000000000L;
			pthread_mutex_lock(&u->lock);
			if (!u->died[k])
				pthread_cond_timedwait(&u->cond, &u->lock, &ts);
			pthread_mutex_unlock(&u->lock);
		}
		if (pause < 1.0)
			pause *= 1.5;
	}
}

static void *svc_thread(void *p)
{
	struct svc_job *j = p;
	struct up_run *u = j->u;
	struct stack *st = u->st;
	const struct service *s = &st->svcs[j->k];
	struct buf err = BUF_INIT, id = BUF_INIT, why = BUF_INIT;
	char hash[65];
	size_t d;
	int v;

	/* dependencies first: each must be ready (compose's service_healthy) */
	for (d = 0; d < s->depends.n; d++) {
		int dk = stack_find(st, s->depends.v[d]);
		pthread_mutex_lock(&u->lock);
		while (u->phase[dk] != PH_READY && u->phase[dk] != PH_FAILED)
			pthread_cond_wait(&u->cond, &u->lock);
		v = u->phase[dk] == PH_FAILED;
		pthread_mutex_unlock(&u->lock);
		if (v) {
			char *why2 = xstrfmt("was not started: its dependency '%s' failed", s->depends.v[d]);
			fail_service(u, j->k, why2, NULL);
			free(why2);
			goto out;
		}
	}
	desired_hash(st, s, hash);
	for (v = 0; v < s->nvolumes; v++)
		if (ensure_volume(st, s, s->volumes[v].name, &err)) {
			fail_service(u, j->k, err.s, NULL);
			goto out;
		}
	if (j->existing) {
		const char *have = kvlist_get(&j->existing->labels, LABEL_CONFIG_HASH);
		if (u->o->force_recreate || !have || strcmp(have, hash)) {
			stack_note(st, NOTE_RECREATE, s->name, "definition changed: replacing container");
			/* a stop that fails is fine when the forced removal works */
			docker_container_stop(st->d, j->existing->id, s->stop_timeout_s, &err);
			buf_reset(&err);
			v = docker_container_remove(st->d, j->existing->id, 1, 0, &err);
			if (v && v != DOCKER_ENOTFOUND) {
				fail_service(u, j->k, err.s, NULL);
				goto out;
			}
			buf_reset(&err);
		} else {
			pthread_mutex_lock(&u->lock);
			snprintf(u->cid[j->k], sizeof(u->cid[0]), "%s", j->existing->id);
			pthread_mutex_unlock(&u->lock);
			buf_addstr(&id, j->existing->id);
			if (j->existing->running) {
				stack_note(st, NOTE_UNCHANGED, s->name, "already running, definition unchanged");
			} else {
				if (docker_container_start(st->d, id.s, &err)) {
					fail_service(u, j->k, err.s, id.s);
					goto out;
				}
				stack_note(st, NOTE_START, s->name, "started");
			}
			goto started;
		}
	}
	if (create_container(st, s, hash, &id, &err)) {
		fail_service(u, j->k, err.s, NULL);
		goto out;
	}
	if (!j->existing)
		stack_note(st, NOTE_CREATE, s->name, "container %.12s", id.s);
	pthread_mutex_lock(&u->lock);
	snprintf(u->cid[j->k], sizeof(u->cid[0]), "%s", id.s);
	u->died[j->k] = 0;
	pthread_mutex_unlock(&u->lock);
	if (docker_container_start(st->d, id.s, &err)) {
		fail_service(u, j->k, err.s, id.s);
		goto out;
	}
	stack_note(st, NOTE_START, s->name, "started");
started:
	pthread_mutex_lock(&u->lock);
	u->phase[j->k] = PH_STARTED;
	pthread_cond_broadcast(&u->cond);
	pthread_mutex_unlock(&u->lock);
	if (!j->need_ready)
		goto out;
	if (wait_ready(u, j->k, id.s, &why)) {
		fail_service(u, j->k, why.s, id.s);
		goto out;
	}
	pthread_mutex_lock(&u->lock);
	u->phase[j->k] = PH_READY;
	pthread_cond_broadcast(&u->cond);
	pthread_mutex_unlock(&u->lock);
out:
	buf_release(&err);
	buf_release(&id);
	buf_release(&why);
	return NULL;
}

static void add_with_deps(const struct stack *st, int k, int *sel)
{
	size_t d;

	if (sel[k])
		return;
	sel[k] = 1;
	for (d = 0; d < st->svcs[k].depends.n; d++)
		add_with_deps(st, stack_find(st, st->svcs[k].depends.v[d]), sel);
}

int stack_select(const struct stack *st, const char *const *only, int *sel, struct buf *err)
{
	const char *const *name;
	int k;

	memset(sel, 0, sizeof(*sel) * SERVICE_MAX);
	if (!only || !*only) {
		for (k = 0; k < st->n; k++)
			sel[k] = 1;
		return 0;
	}
	for (name = only; *name; name++) {
		k = stack_find(st, *name);
		if (k < 0) {
			buf_addf(err, "no service named '%s': known are", *name);
			for (k = 0; k < st->n; k++)
				buf_addf(err, " %s", st->svcs[k].name);
			return -1;
		}
		add_with_deps(st, k, sel);
	}
	return 0;
}

int stack_up(struct stack *st, const struct stack_up_opts *o, struct buf *err)
{
	struct docker_container *cs = NULL;
	struct up_run u;
	struct svc_job jobs[SERVICE_MAX];
	pthread_t th[SERVICE_MAX], ev;
	int sel[SERVICE_MAX] = { 0 }, by_svc[SERVICE_MAX], need_ready[SERVICE_MAX] = { 0 };
	int which[SERVICE_MAX], nwhich = 0, all[SERVICE_MAX], nall = 0, k, ret = -1;
	size_t n = 0;

	st->t0 = clock_s();
	if (stack_select(st, o->only, sel, err))
		return -1;
	if (find_containers(st, &cs, &n, by_svc, err))
		return -1;
	/* pre-flight, before anything is created */
	for (k = 0; k < st->n; k++) {
		int running = by_svc[k] >= 0 && cs[by_svc[k]].running;
		if (sel[k] && !running)
			which[nwhich++] = k;
		if (sel[k] || running)
			all[nall++] = k;
	}
	stack_note(st, NOTE_INFO, NULL, "pre-flight: ports and memory");
	if (stack_check_ports(st, which, nwhich, err) ||
	    stack_check_memory(st, all, nall, NULL, NULL, err))
		goto out;
	if (ensure_network(st, err))
		goto out;

	memset(&u, 0, sizeof(u));
	u.st = st;
	u.o = o;
	pthread_mutex_init(&u.lock, NULL);
	pthread_cond_init(&u.cond, NULL);
	buf_init(&u.errs, 0);
	for (k = 0; k < st->n; k++) {
		size_t d;
		if (!sel[k])
			continue;
		u.phase[k] = PH_PENDING;
		if (o->wait)
			need_ready[k] = 1;
		for (d = 0; d < st->svcs[k].depends.n; d++)
			need_ready[stack_find(st, st->svcs[k].depends.v[d])] = 1;
	}
	pthread_create(&ev, NULL, events_thread, &u);
	for (k = 0; k < st->n; k++) {
		if (!sel[k])
			continue;
		jobs[k].u = &u;
		jobs[k].k = k;
		jobs[k].existing = by_svc[k] >= 0 ? &cs[by_svc[k]] : NULL;
		jobs[k].need_ready = need_ready[k];
		pthread_create(&th[k], NULL, svc_thread, &jobs[k]);
	}
	for (k = 0; k < st->n; k++)
		if (sel[k])
			pthread_join(th[k], NULL);
	u.cancel_events = 1;
	pthread_join(ev, NULL);
	if (u.errs.len)
		buf_addstr(err, u.errs.s);
	else
		ret = 0;
	buf_release(&u.errs);
	pthread_mutex_destroy(&u.lock);
	pthread_cond_destroy(&u.cond);
out:
	docker_containers_free(cs, n);
	return ret;
}

/* ---- down ---- */

struct stop_job {
	struct stack *st;
	const struct docker_container *c;
	int timeout;
	struct buf err;
	int ret;
};

static void *stop_thread(void *p)
{
	struct stop_job *j = p;
	const char *svc = kvlist_get(&j->c->labels, LABEL_SERVICE);

	buf_init(&j->err, 0);
	if (j->c->running) {
		j->ret = docker_container_stop(j->st->d, j->c->id, j->timeout, &j->err);
		if (!j->ret)
			stack_note(j->st, NOTE_STOP, svc, "stopped");
	}
	if (!j->ret) {
		j->ret = docker_container_remove(j->st->d, j->c->id, 1, 0, &j->err);
		if (j->ret == DOCKER_ENOTFOUND)
			j->ret = 0;
		if (!j->ret)
			stack_note(j->st, NOTE_REMOVE, svc, "container %s removed", j->c->name);
	}
	return NULL;
}

static int remove_containers(struct stack *st, const char *const *only, struct buf *err)
{
	struct docker_container *cs = NULL;
	struct strvec f = STRVEC_INIT;
	struct stop_job *jobs;
	pthread_t *th;
	size_t n = 0, i, m = 0;
	int ret;

	project_filter(st, &f, NULL);
	ret = docker_containers_list(st->d, &f, &cs, &n, err);
	strvec_clear(&f);
	if (ret)
		return ret;
	jobs = xcalloc(n + 1, sizeof(*jobs));
	th = xcalloc(n + 1, sizeof(*th));
	for (i = 0; i < n; i++) {
		const char *svc = kvlist_get(&cs[i].labels, LABEL_SERVICE);
		const char *const *o;
		int k = svc ? stack_find(st, svc) : -1, keep = only && *only;
		for (o = only; o && *o; o++)
			if (svc && !strcmp(*o, svc))
				keep = 0;
		if (keep)
			continue;
		jobs[m].st = st;
		jobs[m].c = &cs[i];
		jobs[m].timeout = k >= 0 ? st->svcs[k].stop_timeout_s : 10;
		pthread_create(&th[m], NULL, stop_thread, &jobs[m]);
		m++;
	}
	for (i = 0; i < m; i++) {
		pthread_join(th[i], NULL);
		if (jobs[i].ret) {
			buf_addf(err, "%scannot remove container '%s': %s", ret ? "\n" : "",
				 jobs[i].c->name, jobs[i].err.s);
			ret = -1;
		}
		buf_release(&jobs[i].err);
	}
	free(jobs);
	free(th);
	docker_containers_free(cs, n);
	return ret;
}

int stack_down(struct stack *st, const char *const *only, int volumes, struct buf *err)
{
	struct docker_object *obs = NULL;
	char *label = xstrfmt("%s=%s", LABEL_PROJECT, st->project);
	size_t n = 0, i;
	int ret;

	st->t0 = clock_s();
	ret = remove_containers(st, only, err);
	if (ret || (only && *only))
		goto out;
	if (!docker_networks_list(st->d, label, &obs, &n, err)) {
		for (i = 0; i < n; i++) {
			if (docker_network_remove(st->d, obs[i].id, err) && !ret)
				ret = -1;
			else
				stack_note(st, NOTE_REMOVE, NULL, "network %s removed", obs[i].name);
		}
		docker_objects_free(obs, n);
	} else {
		ret = -1;
	}
	if (volumes && !docker_volumes_list(st->d, label, &obs, &n, err)) {
		for (i = 0; i < n; i++) {
			if (docker_volume_remove(st->d, obs[i].name, 0, err))
				ret = -1;
			else
				stack_note(st, NOTE_REMOVE, NULL, "volume %s removed", obs[i].name);
		}
		docker_objects_free(obs, n);
	}
out:
	free(label);
	return ret;
}

int stack_stop_service(struct stack *st, const char *name, struct buf *err)
{
	struct strvec f = STRVEC_INIT;
	struct docker_container *cs = NULL;
	size_t n = 0, i;
	int k = stack_find(st, name), ret;

	if (k < 0) {
		buf_addf(err, "no service named '%s'", name);
		return -1;
	}
	project_filter(st, &f, name);
	ret = docker_containers_list(st->d, &f, &cs, &n, err);
	strvec_clear(&f);
	for (i = 0; !ret && i < n; i++)
		if (cs[i].running) {
			ret = docker_container_stop(st->d, cs[i].id, st->svcs[k].stop_timeout_s, err);
			if (!ret)
				stack_note(st, NOTE_STOP, name, "stopped");
		}
	docker_containers_free(cs, n);
	return ret;
}

int stack_restart_service(struct stack *st, const char *name, struct buf *err)
{
	const char *only[] = { name, NULL };
	struct stack_up_opts o;
	int ret = stack_stop_service(st, name, err);

	if (ret)
		return ret;
	memset(&o, 0, sizeof(o));
	o.only = only;
	o.wait = 1;
	return stack_up(st, &o, err);
}
