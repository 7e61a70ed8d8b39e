/*
 * swarm: the stack's services as Docker Swarm services (issue 16, first
 * cut). The spec translation is pure; the rest asks the manager.
 */
#include "core/swarm.h"
#include "clients/docker.h"
#include "core/config.h"
#include "core/probe.h"
#include "util/clock.h"
#include "util/xalloc.h"

#include <jansson.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define SWARM_POLL_MS 500
#define SWARM_PROBE_MS 2000

static void sleep_ms(long ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };

	nanosleep(&ts, NULL);
}

char *swarm_network_name(const char *project)
{
	return xstrfmt("%s-swarm-net", project);
}

char *swarm_service_name(const char *project, const struct service *s)
{
	return xstrfmt("%s-%s", project, s->name);
}

static json_t *pancake_labels(const char *project, const char *service)
{
	json_t *l = json_object();

	json_object_set_new(l, LABEL_PROJECT, json_string(project));
	if (service)
		json_object_set_new(l, LABEL_SERVICE, json_string(service));
	return l;
}

static void push_env(json_t *env, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void push_env(json_t *env, const char *fmt, ...)
{
	struct buf b = BUF_INIT;
	va_list ap;

	va_start(ap, fmt);
	buf_vaddf(&b, fmt, ap);
	va_end(ap);
	json_array_append_new(env, json_string(b.s));
	buf_release(&b);
}

char *swarm_service_spec(const struct service *s, const char *project,
			 enum heap_profile profile)
{
	json_t *spec = json_object(), *task = json_object(), *cs = json_object();
	json_t *env = json_array(), *mounts = json_array(), *res = json_object();
	json_t *ports = json_array(), *ep = json_object(), *nets = json_array();
	json_t *net = json_object(), *labels;
	char hash[65], *name = swarm_service_name(project, s);
	char *netname = swarm_network_name(project), *text;
	size_t i;
	int k;

	service_config_hash(s, profile, "", hash);
	labels = pancake_labels(project, s->name);
	json_object_set_new(labels, LABEL_CONFIG_HASH, json_string(hash));
	json_object_set_new(labels, LABEL_PROFILE,
			    json_string(profile == PROFILE_SMALL ? "small" : "default"));
	json_object_set_new(spec, "Name", json_string(name));
	json_object_set_new(spec, "Labels", labels);

	/* the image and the environment the local stack gives the container */
	json_object_set_new(cs, "Image", json_string(s->image));
	json_object_set_new(cs, "Hostname", json_string(s->name));
	json_object_set_new(cs, "Labels", pancake_labels(project, s->name));
	for (i = 0; i < s->env.n; i++)
		json_array_append_new(env, json_string(s->env.v[i]));
	if (s->heap[profile][0])
		push_env(env, "PANCAKE_HEAP=%s", s->heap[profile]);
	push_env(env, "PANCAKE_HOSTNAME=%s", s->name);
	for (k = 0; k < s->nports; k++)
		push_env(env, "PANCAKE_PORT_%d=%d", s->ports[k].container_port,
			 s->ports[k].host_port);
	json_object_set_new(cs, "Env", env);
	if (s->command.n) {
		/* Args keep the image's entrypoint, as the container's Cmd does */
		json_t *args = json_array();
		for (i = 0; i < s->command.n; i++)
			json_array_append_new(args, json_string(s->command.v[i]));
		json_object_set_new(cs, "Args", args);
	}
	for (k = 0; k < s->nvolumes; k++) {
		json_t *m = json_object(), *vo = json_object();
		char *vol = xstrfmt("%s-%s-%s", project, s->name, s->volumes[k].name);

		json_object_set_new(m, "Type", json_string("volume"));
		json_object_set_new(m, "Source", json_string(vol));
		json_object_set_new(m, "Target", json_string(s->volumes[k].target));
		json_object_set_new(vo, "Labels", pancake_labels(project, s->name));
		json_object_set_new(m, "VolumeOptions", vo);
		json_array_append_new(mounts, m);
		free(vol);
	}
	json_object_set_new(cs, "Mounts", mounts);
	json_object_set_new(cs, "StopGracePeriod",
			    json_integer((json_int_t)s->stop_timeout_s * 1000000000));
	json_object_set_new(task, "ContainerSpec", cs);

	if (s->memory[profile]) {
		json_t *lim = json_object(), *rsv = json_object();
		json_object_set_new(lim, "MemoryBytes", json_integer(s->memory[profile]));
		json_object_set_new(rsv, "MemoryBytes", json_integer(s->memory[profile]));
		json_object_set_new(res, "Limits", lim);
		json_object_set_new(res, "Reservations", rsv);
	}
	json_object_set_new(task, "Resources", res);
	/* volumes live on one node: pin stateful services (first cut: the managers) */
	if (s->nvolumes) {
		json_t *pl = json_object(), *cons = json_array();
		json_array_append_new(cons, json_string(SWARM_STATEFUL_CONSTRAINT));
		json_object_set_new(pl, "Constraints", cons);
		json_object_set_new(task, "Placement", pl);
	}
	json_object_set_new(net, "Target", json_string(netname));
	/* the short name, as on the local stack's network: "redis" */
	json_object_set_new(net, "Aliases", json_pack("[s]", s->name));
	json_array_append_new(nets, net);
	json_object_set_new(task, "Networks", nets);
	json_object_set_new(task, "RestartPolicy", json_pack("{s:s}", "Condition", "any"));
	json_object_set_new(spec, "TaskTemplate", task);
	json_object_set_new(spec, "Mode", json_pack("{s:{s:i}}", "Replicated", "Replicas", 1));

	/* dnsrr: the default VIP mode and the ingress mesh need IPVS */
	json_object_set_new(ep, "Mode", json_string("dnsrr"));
	for (k = 0; k < s->nports; k++)
		json_array_append_new(ports, json_pack("{s:s,s:i,s:i,s:s}", "Protocol", "tcp",
						       "TargetPort", s->ports[k].container_port,
						       "PublishedPort", s->ports[k].host_port,
						       "PublishMode", "host"));
	json_object_set_new(ep, "Ports", ports);
	json_object_set_new(spec, "EndpointSpec", ep);

	text = json_dumps(spec, JSON_COMPACT | JSON_SORT_KEYS);
	if (!text)
		die("out of memory");
	json_decref(spec);
	free(name);
	free(netname);
	return text;
}

int swarm_check(struct stack *st, struct buf *err)
{
	struct docker_swarm sw;
	struct buf e = BUF_INIT;
	int r = docker_swarm_inspect(st->d, &sw, &e);

	if (r == 0) {
		buf_release(&e);
		return 0;
	}
	buf_addf(err, "this engine is not in swarm mode: %s (at '%s'); point DOCKER_HOST at a "
		 "swarm manager's socket, or drop --swarm", e.s, docker_endpoint(st->d));
	buf_release(&e);
	return -1;
}

static int wanted(const char *const *only, const char *name)
{
	size_t i;

	if (!only)
		return 1;
	for (i = 0; only[i]; i++)
		if (!strcmp(only[i], name))
			return 1;
	return 0;
}

static char *project_label(const struct stack *st)
{
	return xstrfmt("%s=%s", LABEL_PROJECT, st->project);
}

static int ensure_network(struct stack *st, struct buf *err)
{
	char *name = swarm_network_name(st->project), *label = project_label(st);
	struct docker_object *nets = NULL;
	struct kvlist labels = { 0 };
	size_t n = 0, i;
	int ret = docker_networks_list(st->d, label, &nets, &n, err), found = 0;

	for (i = 0; !ret && i < n; i++)
		if (!strcmp(nets[i].name, name))
			found = 1;
	if (!ret && !found) {
		kvlist_set(&labels, LABEL_PROJECT, st->project);
		ret = docker_overlay_network_create(st->d, name, &labels, NULL, err);
		if (!ret)
			stack_note(st, NOTE_CREATE, NULL, "overlay network %s", name);
	}
	kvlist_clear(&labels);
	docker_objects_free(nets, n);
	free(label);
	free(name);
	return ret ? -1 : 0;
}

/* creates the Swarm service of `s`, or updates it when its definition changed */
static int deploy_one(struct stack *st, const struct service *s,
		      const struct docker_service *have, struct buf *err)
{
	char *spec = swarm_service_spec(s, st->project, st->profile);
	char hash[65];
	int ret;

	service_config_hash(s, st->profile, "", hash);
	if (have) {
		const char *h = kvlist_get(&have->labels, LABEL_CONFIG_HASH);
		if (h && !strcmp(h, hash)) {
			stack_note(st, NOTE_UNCHANGED, s->name, "swarm service %s unchanged", have->name);
			ret = 0;
		} else {
			ret = docker_service_update(st->d, have->id, have->version, spec, err);
			if (!ret)
				stack_note(st, NOTE_RECREATE, s->name,
					   "definition changed: swarm service %s updated", have->name);
		}
	} else {
		ret = docker_service_create(st->d, spec, NULL, err);
		if (!ret)
			stack_note(st, NOTE_CREATE, s->name, "swarm service %s-%s", st->project,
				   s->name);
	}
	free(spec);
	return ret ? -1 : 0;
}

/* the address of node `id` among `nodes`, or NULL; borrowed */
static const struct docker_node *node_of(const struct docker_node *nodes, size_t n,
					 const char *id)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (!strcmp(nodes[i].id, id))
			return &nodes[i];
	return NULL;
}

/* probes `s` on the published ports of node address `addr` */
static enum probe_result probe_on(const struct service *s, const char *addr,
				  struct buf *detail)
{
	struct service there = *s;   /* shallow: only ports change, nothing is freed */
	int k;

	for (k = 0; k < there.nports; k++)
		snprintf(there.ports[k].host_ip, sizeof(there.ports[k].host_ip), "%s", addr);
	return probe_service(&there, SWARM_PROBE_MS, detail);
}

/*
 * Waits until a task of `s` runs and answers its probe through the
 * published port on its node; -1 with `err` (the task's own error when
 * the engine gave one) at the deadline.
 */
static int wait_one(struct stack *st, const struct service *s, int timeout_s, struct buf *err)
{
	char *name = swarm_service_name(st->project, s);
	double start = clock_s(), limit = timeout_s ? timeout_s : s->ready_timeout_s;
	struct buf why = BUF_INIT, last = BUF_INIT;
	int ret = -1;

	for (;;) {
		struct docker_task *ts = NULL;
		struct docker_node *nodes = NULL;
		size_t nt = 0, nn = 0, i;
		const struct docker_task *run = NULL;

		buf_reset(&why);
		if (docker_tasks_list(st->d, name, &ts, &nt, &why) == 0 &&
		    docker_nodes_list(st->d, &nodes, &nn, &why) == 0) {
			buf_reset(&why);
			for (i = 0; i < nt; i++) {
				if (!strcmp(ts[i].state, "running") && !strcmp(ts[i].desired, "running"))
					run = &ts[i];
				else if (ts[i].error[0] && !run) {
					buf_reset(&why);
					buf_addf(&why, "task %s: %s", ts[i].state, ts[i].error);
				}
			}
			if (run) {
				const struct docker_node *nd = node_of(nodes, nn, run->node_id);
				if (!nd || !nd->addr[0]) {
					buf_addstr(&why, "its node has no address yet");
				} else if (s->probe == PROBE_NONE ||
					   probe_on(s, nd->addr, &why) == PROBE_READY) {
					stack_note(st, NOTE_READY, s->name, "on %s (%s): %s", nd->hostname,
						   nd->addr, s->probe == PROBE_NONE ? "running" : why.s);
					ret = 0;
				}
			} else if (!why.len) {
				buf_addstr(&why, nt ? "no task running yet" : "no task scheduled yet");
			}
		}
		free(ts);
		free(nodes);
		if (!ret)
			break;
		if (strcmp(why.s, last.s)) {
			stack_note(st, NOTE_WAITING, s->name, "%s", why.s);
			buf_reset(&last);
			buf_addstr(&last, why.s);
		}
		if (clock_s() - start >= limit) {
			buf_addf(err, "swarm service '%s' was not ready after %.0f s: %s; "
				 "'pancake ps --swarm' shows its task", name, limit, why.s);
			stack_note(st, NOTE_FAILED, s->name, "not ready after %.0f s: %s", limit, why.s);
			break;
		}
		sleep_ms(SWARM_POLL_MS);
	}
	buf_release(&why);
	buf_release(&last);
	free(name);
	return ret;
}

int swarm_up(struct stack *st, const char *const *only, int wait, int timeout_s,
	     struct buf *err)
{
	struct docker_service *have = NULL;
	char *label = NULL;
	size_t nh = 0, j;
	int k, ret = -1;

	if (swarm_check(st, err))
		return -1;
	if (ensure_network(st, err))
		goto out;
	label = project_label(st);
	if (docker_services_list(st->d, label, &have, &nh, err))
		goto out;
	for (k = 0; k < st->n; k++) {
		const struct service *s = &st->svcs[k];
		const struct docker_service *h = NULL;
		char *name;

		if (!wanted(only, s->name))
			continue;
		name = swarm_service_name(st->project, s);
		for (j = 0; j < nh; j++)
			if (!strcmp(have[j].name, name))
				h = &have[j];
		free(name);
		if (deploy_one(st, s, h, err)) {
			struct buf m = BUF_INIT;
			buf_addf(&m, "cannot deploy '%s' to the swarm: %s", s->name, err->s);
			buf_reset(err);
			buf_addstr(err, m.s);
			buf_release(&m);
			goto out;
		}
	}
	if (wait)
		for (k = 0; k < st->n; k++)
			if (wanted(only, st->svcs[k].name) &&
			    wait_one(st, &st->svcs[k], timeout_s, err))
				goto out;
	ret = 0;
out:
	docker_services_free(have, nh);
	free(label);
	return ret;
}

/* the task of a service to show: the running one, else the newest */
static const struct docker_task *shown_task(const struct docker_task *ts, size_t n)
{
	const struct docker_task *best = NULL;
	size_t i;

	for (i = 0; i < n; i++) {
		if (!strcmp(ts[i].state, "running") && !strcmp(ts[i].desired, "running"))
			return &ts[i];
		if (!best || ts[i].updated > best->updated)
			best = &ts[i];
	}
	return best;
}

int swarm_ps(struct stack *st, int probe, struct swarm_task **out, size_t *n,
	     struct buf *err)
{
	struct docker_service *svcs = NULL;
	struct docker_node *nodes = NULL;
	char *label;
	size_t ns = 0, nn = 0, i;
	int ret = -1;

	*out = NULL;
	*n = 0;
	if (swarm_check(st, err))
		return -1;
	label = project_label(st);
	if (docker_services_list(st->d, label, &svcs, &ns, err) ||
	    docker_nodes_list(st->d, &nodes, &nn, err))
		goto out;
	*out = xcalloc(ns + 1, sizeof(**out));
	for (i = 0; i < ns; i++) {
		struct swarm_task *t = &(*out)[(*n)++];
		const char *svc = kvlist_get(&svcs[i].labels, LABEL_SERVICE);
		struct docker_task *ts = NULL;
		const struct docker_task *tk;
		size_t nt = 0;
		int k = svc ? stack_find(st, svc) : -1;

		snprintf(t->service, sizeof(t->service), "%s", svc ? svc : svcs[i].name);
		snprintf(t->state, sizeof(t->state), "absent");
		if (docker_tasks_list(st->d, svcs[i].id, &ts, &nt, err))
			goto out;
		tk = shown_task(ts, nt);
		if (tk) {
			const struct docker_node *nd = node_of(nodes, nn, tk->node_id);
			snprintf(t->state, sizeof(t->state), "%s", tk->state);
			snprintf(t->desired, sizeof(t->desired), "%s", tk->desired);
			snprintf(t->error, sizeof(t->error), "%s", tk->error);
			if (nd) {
				snprintf(t->node, sizeof(t->node), "%s", nd->hostname);
				snprintf(t->addr, sizeof(t->addr), "%s", nd->addr);
			}
			if (probe && k >= 0 && nd && nd->addr[0] && !strcmp(tk->state, "running")) {
				struct buf det = BUF_INIT;
				t->probed = 1;
				t->ready = probe_on(&st->svcs[k], nd->addr, &det) == PROBE_READY;
				snprintf(t->detail, sizeof(t->detail), "%s", det.s);
				buf_release(&det);
			} else if (tk->error[0]) {
				snprintf(t->detail, sizeof(t->detail), "%.159s", tk->error);
			}
		}
		free(ts);
	}
	ret = 0;
out:
	if (ret) {
		free(*out);
		*out = NULL;
		*n = 0;
	}
	docker_services_free(svcs, ns);
	free(nodes);
	free(label);
	return ret;
}

int swarm_down(struct stack *st, struct buf *err)
{
	struct docker_service *svcs = NULL;
	struct docker_object *nets = NULL;
	char *label;
	size_t ns = 0, nn = 0, i;
	int ret = -1, r;

	if (swarm_check(st, err))
		return -1;
	label = project_label(st);
	if (docker_services_list(st->d, label, &svcs, &ns, err))
		goto out;
	for (i = 0; i < ns; i++) {
		r = docker_service_remove(st->d, svcs[i].id, err);
		if (r && r != DOCKER_ENOTFOUND)
			goto out;
		buf_reset(err);
		stack_note(st, NOTE_REMOVE, kvlist_get(&svcs[i].labels, LABEL_SERVICE),
			   "swarm service %s", svcs[i].name);
	}
	/* the network goes once the tasks that use it are gone: try for a while */
	if (docker_networks_list(st->d, label, &nets, &nn, err))
		goto out;
	for (i = 0; i < nn; i++) {
		double start = clock_s();
		while ((r = docker_network_remove(st->d, nets[i].id, err)) != 0 &&
		       r != DOCKER_ENOTFOUND && clock_s() - start < 30) {
			buf_reset(err);
			sleep_ms(SWARM_POLL_MS);
		}
		if (r && r != DOCKER_ENOTFOUND)
			goto out;
		buf_reset(err);
		stack_note(st, NOTE_REMOVE, NULL, "network %s", nets[i].name);
	}
	ret = 0;
out:
	docker_services_free(svcs, ns);
	docker_objects_free(nets, nn);
	free(label);
	return ret;
}
