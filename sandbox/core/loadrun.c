/*
 * loadrun: runs several load targets at once, each in its own thread, so a
 * slow or failing store never holds up the others, and verifies counts.
 */
#include "core/loadrun.h"
#include "core/load-targets.h"
#include "core/config.h"
#include "core/service.h"
#include "util/xalloc.h"

#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

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

int loadrun_endpoint(const struct load_target *t, char *host, size_t size, int *port,
		     struct buf *err)
{
	char *path = xstrfmt("%s/services/%s/service.conf", config_home(), t->name);
	struct service s;
	struct stat st;
	int hp, ret = 0;

	snprintf(host, size, "127.0.0.1");
	*port = t->default_port;
	/* no definition (a library user outside the tree): the defaults */
	if (stat(path, &st))
		goto out;
	memset(&s, 0, sizeof(s));
	if (service_load(&s, t->name, path, err) || service_apply_env(&s, err)) {
		ret = -1;
		goto release;
	}
	hp = service_host_port(&s, t->default_port);
	if (hp > 0) {
		int i;

		*port = hp;
		for (i = 0; i < s.nports; i++)
			if (s.ports[i].host_port == hp && s.ports[i].host_ip[0] &&
			    strcmp(s.ports[i].host_ip, "0.0.0.0"))
				snprintf(host, size, "%s", s.ports[i].host_ip);
	}
release:
	service_release(&s);
out:
	free(path);
	return ret;
}

int loadrun_prepare(struct loadrun_item *items, const struct load_target *const *ts,
		    int n, const struct load_opts *base, struct buf *err)
{
	int i;

	if (n > LOADRUN_MAX)
		BUG("too many load targets");
	for (i = 0; i < n; i++) {
		memset(&items[i], 0, sizeof(items[i]));
		items[i].t = ts[i];
		items[i].o = *base;
		if (loadrun_endpoint(ts[i], items[i].host, sizeof(items[i].host),
				     &items[i].o.port, err)) {
			buf_addf(err, " (the %s target's definition)", ts[i]->name);
			return -1;
		}
		items[i].o.host = items[i].host;
	}
	return 0;
}

struct job {
	const struct dataset *ds;
	struct loadrun_item *it;
};

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void *run_one(void *p)
{
	struct job *j = p;
	double t0 = now();

	j->it->ret = j->it->t->load(j->ds, &j->it->o, &j->it->res, &j->it->err);
	if (!j->it->res.seconds)
		j->it->res.seconds = now() - t0;
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
	int i, bad = 0;

	for (i = 0; i < n; i++) {
		struct load_opts o = *base;
		char host[64];

		buf_init(&rows[i].err, 0);
		memset(&rows[i].want, 0, sizeof(rows[i].want));
		memset(&rows[i].have, 0, sizeof(rows[i].have));
		rows[i].have.ratings = rows[i].have.movies = rows[i].have.users = -1;
		rows[i].t->expect(ds, &rows[i].want);
		if (loadrun_endpoint(rows[i].t, host, sizeof(host), &o.port, &rows[i].err)) {
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
	return bad;
}
