/*
 * loadrun: runs several load targets at once, each in its own thread, so a
 * slow or failing store never holds up the others, and verifies counts.
 */
#include "core/loadrun.h"
#include "core/load-targets.h"
#include "core/config.h"
#include "core/service.h"
#include "clients/docker.h"
#include "util/clock.h"
#include "util/hostport.h"
#include "util/quote.h"
#include "util/xalloc.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

const struct load_target *const load_targets[] = {
	&load_target_kafka,
	&load_target_cassandra,
	&load_target_elasticsearch,
	&load_target_redis,
	NULL,
};

const struct load_target *loadrun_find(const char *name)
{
	int i;

	for (i = 0; load_targets[i]; i++)
		if (!strcmp(load_targets[i]->name, name))
			return load_targets[i];
	return NULL;
}

/* one "T=HOST:PORT" of --endpoint: its target, host and port; -1 with `err` */
static int parse_endpoint(const char *e, const struct load_target **t, char *host,
			  size_t size, int *port, struct buf *err)
{
	const char *eq = strchr(e, '=');
	char *name = eq ? xstrndup(e, (size_t)(eq - e)) : NULL;
	char q[QUOTE_BUF];
	int k;

	*t = name ? loadrun_find(name) : NULL;
	free(name);
	if (!*t) {
		buf_addf(err, "endpoint %s names no store: give T=HOST:PORT with T one of ",
			 quote(q, e));
		for (k = 0; load_targets[k]; k++)
			buf_addf(err, "%s%s", k ? ", " : "", load_targets[k]->name);
		return -1;
	}
	if (hostport_parse(eq + 1, host, size, port)) {
		buf_addf(err, "endpoint %s is not %s=HOST:PORT (the port 1 to 65535)", quote(q, e),
			 (*t)->name);
		return -1;
	}
	return 0;
}

/* the --endpoint naming target `t`: 1 found, 0 none, -1 malformed */
static int explicit_endpoint(const struct strvec *given, const struct load_target *t,
			     char *host, size_t size, int *port, struct buf *err)
{
	const struct load_target *named;
	size_t i;

	for (i = 0; given && i < given->n; i++) {
		if (parse_endpoint(given->v[i], &named, host, size, port, err))
			return -1;
		if (named == t)
			return 1;
	}
	return 0;
}

/*
 * Where a stopped container of ours would answer: its definition's port
 * (services/NAME/service.conf with PANCAKE_<SERVICE>_PORT_<PORT>), so the
 * target fails alone, naming it, and the others load.
 */
static int definition_endpoint(const struct load_target *t, char *host, size_t size, int *port,
			       struct buf *err)
{
	char *path = xstrfmt("%s/services/%s/service.conf", config_home(), t->name);
	struct service s;
	int hp, i, ret = 0;

	snprintf(host, size, "127.0.0.1");
	*port = t->default_port;
	memset(&s, 0, sizeof(s));
	if (service_load(&s, t->name, path, err) || service_apply_env(&s, err)) {
		ret = LOADRUN_EUSAGE;
		goto out;
	}
	hp = service_host_port(&s, t->default_port);
	if (hp > 0) {
		*port = hp;
		for (i = 0; i < s.nports; i++)
			if (s.ports[i].host_port == hp && s.ports[i].host_ip[0] &&
			    strcmp(s.ports[i].host_ip, "0.0.0.0"))
				snprintf(host, size, "%s", s.ports[i].host_ip);
	}
out:
	service_release(&s);
	free(path);
	return ret;
}

/*
 * The project's own container for target `t`, through the engine: running,
 * labelled with this project and the target's service, and the host
 * address it publishes the target's port on.
 */
static int project_endpoint(struct docker **d, const struct load_target *t, char *host,
			    size_t size, int *port, struct buf *err)
{
	struct strvec f = STRVEC_INIT;
	struct docker_container *cs = NULL;
	size_t n = 0, i, k;
	int code, ret = LOADRUN_ENOSTACK;

	if (!*d) {
		*d = docker_open(NULL, &code, err);
		if (!*d) {
			buf_addf(err, " (pancake finds the stack's stores through the engine, so that "
				 "nothing is written to a store of another project or program; to "
				 "write to one anyway, name it: --endpoint %s=HOST:PORT)", t->name);
			return LOADRUN_ENOENGINE;
		}
	}
	strvec_pushf(&f, "%s=%s", LABEL_PROJECT, config_project());
	strvec_pushf(&f, "%s=%s", LABEL_SERVICE, t->name);
	if (docker_containers_list(*d, &f, &cs, &n, err)) {
		strvec_clear(&f);
		return -1;
	}
	strvec_clear(&f);
	for (i = 0; i < n; i++) {
		if (!cs[i].running)
			continue;
		for (k = 0; k < cs[i].nports; k++) {
			const struct docker_port *p = &cs[i].ports[k];

			if (p->container_port != t->default_port || p->host_port <= 0)
				continue;
			/* bound to every address: ask on loopback */
			snprintf(host, size, "%s", !p->host_ip[0] || !strcmp(p->host_ip, "0.0.0.0") ||
				 !strcmp(p->host_ip, "::") ? "127.0.0.1" : p->host_ip);
			*port = p->host_port;
			ret = 0;
			goto out;
		}
	}
	if (n) {
		/* ours, but stopped: its target fails alone, saying so, the others load */
		ret = definition_endpoint(t, host, size, port, err);
		goto out;
	}
	buf_addf(err, "project '%s' has no %s container; start it with 'pancake up %s', or load "
		 "into the others with --into (pancake writes only to its own project's stores; "
		 "PANCAKE_PROJECT picks the project, --endpoint %s=HOST:PORT names a store "
		 "yourself)", config_project(), t->name, t->name, t->name);
out:
	docker_containers_free(cs, n);
	return ret;
}

static int locate(struct docker **d, const struct load_target *t, const struct strvec *given,
		  char *host, size_t size, int *port, struct buf *err)
{
	int r = explicit_endpoint(given, t, host, size, port, err);

	if (r)
		return r < 0 ? LOADRUN_EUSAGE : 0;
	return project_endpoint(d, t, host, size, port, err);
}

int loadrun_endpoint(const struct load_target *t, char *host, size_t size, int *port,
		     struct buf *err)
{
	struct docker *d = NULL;
	int ret = locate(&d, t, NULL, host, size, port, err);

	docker_free(d);
	return ret;
}

int loadrun_check_endpoints(const struct strvec *given, struct buf *err)
{
	const struct load_target *t;
	char host[64];
	size_t i;
	int port;

	for (i = 0; given && i < given->n; i++)
		if (parse_endpoint(given->v[i], &t, host, sizeof(host), &port, err))
			return -1;
	return 0;
}

int loadrun_prepare(struct loadrun_item *items, const struct load_target *const *ts,
		    int n, const struct load_opts *base, struct buf *err)
{
	struct docker *d = NULL;
	int i, ret = 0;

	if (n > LOADRUN_MAX)
		BUG("too many load targets");
	for (i = 0; i < n; i++) {
		memset(&items[i], 0, sizeof(items[i]));
		items[i].t = ts[i];
		items[i].o = *base;
		ret = locate(&d, ts[i], base->endpoints, items[i].host, sizeof(items[i].host),
			     &items[i].o.port, err);
		if (ret)
			break;
		items[i].o.host = items[i].host;
	}
	docker_free(d);
	return ret;
}

struct job {
	const struct dataset *ds;
	struct loadrun_item *it;
};

static void *run_one(void *p)
{
	struct job *j = p;
	double t0 = clock_s();

	j->it->ret = j->it->t->load(j->ds, &j->it->o, &j->it->res, &j->it->err);
	if (!j->it->res.seconds)
		j->it->res.seconds = clock_s() - t0;
	if (j->it->on_done)
		j->it->on_done(j->it, j->it->done_ctx);
	return NULL;
}

int loadrun_all(const struct dataset *ds, struct loadrun_item *items, int n)
{
	pthread_t th[LOADRUN_MAX];
	struct job jobs[LOADRUN_MAX];
	int i, failed = 0;

	if (n > LOADRUN_MAX)
		BUG("too many load targets");
	for (i = 0; i < n; i++) {
		jobs[i].ds = ds;
		jobs[i].it = &items[i];
		buf_init(&items[i].err, 0);
		memset(&items[i].res, 0, sizeof(items[i].res));
		pthread_create(&th[i], NULL, run_one, &jobs[i]);
	}
	for (i = 0; i < n; i++) {
		pthread_join(th[i], NULL);
		if (items[i].ret)
			failed++;
	}
	return failed;
}

static int same(int64_t want, int64_t have)
{
	return want < 0 || want == have;
}

int loadrun_verify(const struct dataset *ds, struct verify_row *rows, int n,
		   const struct load_opts *base)
{
	struct docker *d = NULL;
	int i, bad = 0;

	for (i = 0; i < n; i++) {
		struct load_opts o = *base;
		char host[64];

		buf_init(&rows[i].err, 0);
		memset(&rows[i].want, 0, sizeof(rows[i].want));
		memset(&rows[i].have, 0, sizeof(rows[i].have));
		rows[i].have.ratings = rows[i].have.movies = rows[i].have.users = -1;
		rows[i].t->expect(ds, &rows[i].want);
		if (locate(&d, rows[i].t, base->endpoints, host, sizeof(host), &o.port,
			   &rows[i].err)) {
			rows[i].ok = 0;
			bad++;
			continue;
		}
		o.host = host;
		if (rows[i].t->count(ds, &o, &rows[i].have, &rows[i].err)) {
			rows[i].ok = 0;
			bad++;
			continue;
		}
		rows[i].ok = same(rows[i].want.ratings, rows[i].have.ratings) &&
			     same(rows[i].want.movies, rows[i].have.movies) &&
			     same(rows[i].want.users, rows[i].have.users);
		if (!rows[i].ok)
			bad++;
	}
	docker_free(d);
	return bad;
}
