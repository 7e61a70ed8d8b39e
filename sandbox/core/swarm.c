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
#define SWARM_CRASH_LOOP 3   /* tasks failed during one wait: stop waiting, say why */

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

void swarm_place_label(const struct swarm_place *pl, char *out, size_t size)
{
	snprintf(out, size, "node=%s replicas=%d", pl && pl->node_id ? pl->node_id : "any",
		 pl && pl->replicas > 0 ? pl->replicas : 1);
}

char *swarm_service_spec(const struct service *s, const char *project,
			 enum heap_profile profile, const struct swarm_place *pl)
{
	json_t *spec = json_object(), *task = json_object(), *cs = json_object();
	json_t *env = json_array(), *mounts = json_array(), *res = json_object();
	json_t *ports = json_array(), *ep = json_object(), *nets = json_array();
	json_t *net = json_object(), *labels;
	char hash[65], place[160], *name = swarm_service_name(project, s);
	int replicas = pl && pl->replicas > 0 ? pl->replicas : 1;
	char *netname = swarm_network_name(project), *text;
	size_t i;
	int k;

	service_config_hash(s, profile, "", hash);
	labels = pancake_labels(project, s->name);
	json_object_set_new(labels, LABEL_CONFIG_HASH, json_string(hash));
	json_object_set_new(labels, LABEL_PROFILE,
			    json_string(profile == PROFILE_SMALL ? "small" : "default"));
	swarm_place_label(pl, place, sizeof(place));
	json_object_set_new(labels, LABEL_SWARM_PLACE, json_string(place));
	if (pl && pl->klass) {
		char seat[16];
		snprintf(seat, sizeof(seat), "%d", pl->seat);
		json_object_set_new(labels, LABEL_CLASS, json_string(pl->klass));
		json_object_set_new(labels, LABEL_CLASS_SEAT, json_string(seat));
	}
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
	/* the address clients outside the swarm reach it on (Kafka advertises it) */
	if (pl && pl->node_addr && pl->node_addr[0])
		push_env(env, "PANCAKE_EXTERNAL_HOST=%s", pl->node_addr);
	for (k = 0; k < s->nports; k++)
		push_env(env, "PANCAKE_PORT_%d=%d", s->ports[k].container_port,
			 s->ports[k].host_port);
	json_object_set_new(cs, "Env", env);
	if (s->command.n || s->swarm_command.n) {
		/* Args keep the image's entrypoint, as the container's Cmd does */
		const struct strvec *cmd = s->swarm_command.n ? &s->swarm_command : &s->command;
		json_t *args = json_array();
		for (i = 0; i < cmd->n; i++)
			json_array_append_new(args, json_string(cmd->v[i]));
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
	/* volumes live on one node: a member with volumes stays on it */
	if ((pl && pl->node_id) || s->nports) {
		json_t *plc = json_object();
		if (pl && pl->node_id) {
			char *c = xstrfmt("node.id==%s", pl->node_id);
			json_object_set_new(plc, "Constraints", json_pack("[s]", c));
			free(c);
		}
		/* a host-mode port is taken once per node */
		if (s->nports)
			json_object_set_new(plc, "MaxReplicas", json_integer(1));
		json_object_set_new(task, "Placement", plc);
	}
	json_object_set_new(net, "Target", json_string(netname));
	/* the short name, as on the local stack's network: "redis" */
	json_object_set_new(net, "Aliases", json_pack("[s]", s->name));
	json_array_append_new(nets, net);
	json_object_set_new(task, "Networks", nets);
	json_object_set_new(task, "RestartPolicy", json_pack("{s:s}", "Condition", "any"));
	json_object_set_new(spec, "TaskTemplate", task);
	json_object_set_new(spec, "Mode", json_pack("{s:{s:i}}", "Replicated", "Replicas", replicas));

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
	int r;

	/* a stack on a swarm has its swarm-only members too (Sentinel, replicas) */
	stack_use_swarm_members(st);
	r = docker_swarm_inspect(st->d, &sw, &e);

	if (r == 0) {
		buf_release(&e);
		return 0;
	}
	buf_addf(err, "this engine is not in swarm mode: %s (at '%s'); point DOCKER_HOST at a "
		 "swarm manager's socket, or drop --swarm", e.s, docker_endpoint(st->d));
	buf_release(&e);
	return -1;
}

static char *project_label(const struct stack *st)
{
	return xstrfmt("%s=%s", LABEL_PROJECT, st->project);
}

static int ensure_network(struct stack *st, const char *klass, struct buf *err)
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
		if (klass)
			kvlist_set(&labels, LABEL_CLASS, klass);
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

static int node_usable(const struct docker_node *nd)
{
	return !strcmp(nd->state, "ready") &&
	       (!nd->availability[0] || !strcmp(nd->availability, "active"));
}

int swarm_pick_node(const struct docker_node *nodes, size_t n, const int64_t *reserved,
		    int64_t need)
{
	int64_t best_free = -1;
	int best = -1;
	size_t i;

	for (i = 0; i < n; i++) {
		int64_t left = nodes[i].memory - reserved[i];
		if (!node_usable(&nodes[i]) || left < need)
			continue;
		if (left > best_free) {
			best_free = left;
			best = (int)i;
		}
	}
	return best;
}

static double gib(int64_t b)
{
	return (double)b / (1024.0 * 1024 * 1024);
}

int swarm_memory_fits(const struct docker_node *nodes, size_t n, int64_t reserved,
		      int64_t need, const char *what, struct buf *err)
{
	int64_t total = 0;
	size_t i, up = 0;

	for (i = 0; i < n; i++)
		if (node_usable(&nodes[i])) {
			total += nodes[i].memory;
			up++;
		}
	if (need <= 0 || need <= total - reserved)
		return 0;
	buf_addf(err, "the swarm lacks memory for %s: it reserves %.2f GiB, and the %zu ready, "
		 "active node%s of the swarm have %.2f GiB, of which %.2f GiB is reserved already "
		 "(%.2f GiB left); take a stack down ('pancake down --swarm' in its project), "
		 "add a node, or use --small", what, gib(need), up, up == 1 ? "" : "s", gib(total),
		 gib(reserved), gib(total - reserved > 0 ? total - reserved : 0));
	return -1;
}

/* creates the Swarm service of `s`, or updates it when its definition or place changed */
static int deploy_one(struct stack *st, const struct service *s, const struct swarm_place *pl,
		      const struct docker_service *have, struct buf *err)
{
	char *spec = swarm_service_spec(s, st->project, st->profile, pl);
	char hash[65], place[160];
	int ret;

	service_config_hash(s, st->profile, "", hash);
	swarm_place_label(pl, place, sizeof(place));
	if (have) {
		const char *h = kvlist_get(&have->labels, LABEL_CONFIG_HASH);
		const char *p = kvlist_get(&have->labels, LABEL_SWARM_PLACE);
		if (h && !strcmp(h, hash) && p && !strcmp(p, place)) {
			stack_note(st, NOTE_UNCHANGED, s->name, "swarm service %s unchanged", have->name);
			ret = 0;
		} else {
			ret = docker_service_update(st->d, have->id, have->version, spec, err);
			if (!ret)
				stack_note(st, NOTE_RECREATE, s->name, "%s: swarm service %s updated (%s)",
					   h && !strcmp(h, hash) ? "placement changed" : "definition changed",
					   have->name, place);
		}
	} else {
		ret = docker_service_create(st->d, spec, NULL, err);
		if (!ret)
			stack_note(st, NOTE_CREATE, s->name, "swarm service %s-%s (%s)", st->project,
				   s->name, place);
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
static int wait_one(struct stack *st, const struct service *s, int want, int timeout_s,
		    struct buf *err)
{
	char *name = swarm_service_name(st->project, s);
	double start = clock_s(), limit = timeout_s ? timeout_s : s->ready_timeout_s;
	int64_t began = (int64_t)time(NULL) - 1;
	struct buf why = BUF_INIT, last = BUF_INIT, where = BUF_INIT;
	int ret = -1, stop = 0;

	if (want < 1)
		want = 1;
	for (;;) {
		struct docker_task *ts = NULL;
		struct docker_node *nodes = NULL;
		size_t nt = 0, nn = 0, i;
		const struct docker_node *lacking = NULL;
		int64_t newest = 0;
		int running = 0, good = 0, failures = 0;

		buf_reset(&why);
		buf_reset(&where);
		if (docker_tasks_list(st->d, name, &ts, &nt, &why) == 0 &&
		    docker_nodes_list(st->d, &nodes, &nn, &why) == 0) {
			buf_reset(&why);
			for (i = 0; i < nt; i++) {
				const struct docker_node *nd = node_of(nodes, nn, ts[i].node_id);
				struct buf det = BUF_INIT;

				if ((!strcmp(ts[i].state, "failed") || !strcmp(ts[i].state, "rejected")) &&
				    ts[i].updated >= began)
					failures++;
				/* a rejected task is desired "shutdown" at once: its error still counts */
				if (strcmp(ts[i].desired, "running") || strcmp(ts[i].state, "running")) {
					/* the newest task says why: an older one may have failed before a fix */
					if (ts[i].updated >= newest) {
						newest = ts[i].updated;
						buf_reset(&why);
						lacking = NULL;
						if (ts[i].error[0]) {
							buf_addf(&why, "task %s: %s", ts[i].state, ts[i].error);
							/* rejected since this wait began: not an old attempt */
							if (strcasestr(ts[i].error, "no such image") && nd &&
							    ts[i].updated >= began)
								lacking = nd;
						}
					}
					continue;
				}
				running++;
				if (!nd || !nd->addr[0]) {
					buf_reset(&why);
					buf_addstr(&why, "its node has no address yet");
				} else if (s->probe == PROBE_NONE ||
					   probe_on(s, nd->addr, &det) == PROBE_READY) {
					good++;
					buf_addf(&where, "%s%s (%s)", where.len ? ", " : "", nd->hostname,
						 nd->addr);
				} else {
					buf_reset(&why);
					buf_addf(&why, "on %s: %s", nd->hostname, det.s);
				}
				buf_release(&det);
			}
			if (good >= want) {
				stack_note(st, NOTE_READY, s->name, "on %s", where.s);
				ret = 0;
			} else if (lacking && !running) {
				buf_addf(err, "swarm node '%s' (%s) has no image '%s' for '%s' (%s): "
					 "copy the images to it with 'pancake images save FILE' here and "
					 "'DOCKER_HOST=<its engine> pancake images load FILE' there; the "
					 "service stays and starts once the image is there",
					 lacking->hostname, lacking->addr, s->image, s->name, why.s);
				stack_note(st, NOTE_FAILED, s->name, "node %s has no image %s",
					   lacking->hostname, s->image);
				stop = 1;
			} else if (failures >= SWARM_CRASH_LOOP && good < want) {
				buf_addf(err, "swarm service '%s' keeps failing: %d of its tasks failed "
					 "since this wait began, the last: %s; 'pancake logs --swarm %s' "
					 "shows why (the swarm keeps restarting it)", name, failures,
					 why.len ? why.s : "no error given", s->name);
				stack_note(st, NOTE_FAILED, s->name, "%d tasks failed: %s", failures, why.s);
				stop = 1;
			} else if (!why.len) {
				if (running)
					buf_addf(&why, "%d of %d task%s ready", good, want, want == 1 ? "" : "s");
				else
					buf_addstr(&why, nt ? "no task running yet" : "no task scheduled yet");
			}
		}
		free(ts);
		free(nodes);
		if (!ret || stop)
			break;
		if (strcmp(why.s, last.s)) {
			stack_note(st, NOTE_WAITING, s->name, "%s", why.s);
			buf_reset(&last);
			buf_addstr(&last, why.s);
		}
		if (clock_s() - start >= limit) {
			buf_addf(err, "swarm service '%s' was not ready after %.0f s: %s; "
				 "'pancake ps --swarm' shows its tasks", name, limit, why.s);
			stack_note(st, NOTE_FAILED, s->name, "not ready after %.0f s: %s", limit, why.s);
			break;
		}
		sleep_ms(SWARM_POLL_MS);
	}
	buf_release(&why);
	buf_release(&last);
	buf_release(&where);
	free(name);
	return ret;
}

/* the service named `name` among `svcs`, or NULL; borrowed */
static const struct docker_service *service_named(const struct docker_service *svcs, size_t n,
						  const char *name)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (!strcmp(svcs[i].name, name))
			return &svcs[i];
	return NULL;
}

/* the node a service was pinned to, from its place label "node=ID ..."; into `id` */
static int pinned_node(const struct docker_service *have, char *id, size_t size)
{
	const char *p = have ? kvlist_get(&have->labels, LABEL_SWARM_PLACE) : NULL;
	size_t len;

	if (!p || strncmp(p, "node=", 5) || !strncmp(p + 5, "any", 3))
		return -1;
	p += 5;
	len = strcspn(p, " ");
	if (!len || len >= size)
		return -1;
	memcpy(id, p, len);
	id[len] = '\0';
	return 0;
}

/* the images of the selection are on this engine (the manager): the nodes get theirs from it */
static int images_here(struct stack *st, const int *sel, struct buf *err)
{
	int k;

	for (k = 0; k < st->n; k++) {
		struct docker_image img;
		struct buf e = BUF_INIT;

		if (!sel[k])
			continue;
		memset(&img, 0, sizeof(img));
		if (docker_image_inspect(st->d, st->svcs[k].image, &img, &e)) {
			buf_addf(err, "image '%s' of '%s' is not on this engine (%s): %s; build it "
				 "with 'pancake images build %s' or load it with 'pancake images load "
				 "FILE', then copy it to every node the same way", st->svcs[k].image,
				 st->svcs[k].name, docker_endpoint(st->d), e.s, st->svcs[k].name);
			buf_release(&e);
			return -1;
		}
		docker_image_release(&img);
		buf_release(&e);
	}
	return 0;
}

struct plan {
	const struct docker_service *have;
	struct swarm_place pl;
	char node_id[80], node_addr[64];
};

/*
 * The reservations per node as swarm_pick_node sees them for `s`: the node
 * holding its swarm.apart service counts as full.
 */
static int64_t *apart_from(const struct stack *st, const struct plan *plan,
			   const struct docker_node *nodes, size_t nn, const int64_t *onnode,
			   const struct service *s)
{
	int64_t *r = xcalloc(nn + 1, sizeof(*r));
	int k = s->swarm_apart[0] ? stack_find(st, s->swarm_apart) : -1;
	size_t j;

	memcpy(r, onnode, nn * sizeof(*r));
	for (j = 0; k >= 0 && j < nn; j++)
		if (plan[k].pl.node_id && !strcmp(plan[k].pl.node_id, nodes[j].id))
			r[j] = nodes[j].memory;
	return r;
}

/*
 * Where each selected service goes: a member with volumes on the node its
 * service is pinned to already, else on the node with most memory left; a
 * stateless one with `replicas` tasks. Then whether the swarm's memory
 * holds the new reservations.
 */
static int plan_places(struct stack *st, const struct swarm_up_opts *o, const int *sel,
		       const struct docker_node *nodes, size_t nn,
		       const struct docker_service *all, size_t na, struct plan *plan,
		       struct buf *err)
{
	int64_t *onnode = xcalloc(nn + 1, sizeof(*onnode)), reserved = 0, need = 0;
	size_t i, j;
	int k, ret = -1;

	for (i = 0; i < na; i++) {
		char id[80];
		reserved += all[i].reserved * all[i].replicas;
		if (pinned_node(&all[i], id, sizeof(id)) == 0)
			for (j = 0; j < nn; j++)
				if (!strcmp(nodes[j].id, id))
					onnode[j] += all[i].reserved * all[i].replicas;
	}
	for (k = 0; k < st->n; k++) {
		const struct service *s = &st->svcs[k];
		struct plan *p = &plan[k];
		int64_t mem = s->memory[st->profile];
		char *name;

		if (!sel[k])
			continue;
		name = swarm_service_name(st->project, s);
		p->have = service_named(all, na, name);
		free(name);
		p->pl.klass = o->klass;
		p->pl.seat = o->seat;
		p->pl.replicas = s->nvolumes ? 1 : s->swarm_replicas ? s->swarm_replicas :
				 o->replicas > 0 ? o->replicas : 1;
		if (p->have)
			need -= p->have->reserved * p->have->replicas;
		need += mem * p->pl.replicas;
		if (!s->nvolumes)
			continue;
		if (pinned_node(p->have, p->node_id, sizeof(p->node_id)) == 0) {
			for (j = 0; j < nn; j++)
				if (!strcmp(nodes[j].id, p->node_id))
					snprintf(p->node_addr, sizeof(p->node_addr), "%s", nodes[j].addr);
			if (!p->node_addr[0]) {
				buf_addf(err, "'%s' is pinned to swarm node %s, which has left the swarm; "
					 "its volumes were there: bring that node back, or remove the "
					 "service ('pancake down --swarm') to start afresh elsewhere",
					 s->name, p->node_id);
				goto out;
			}
		} else {
			int64_t *avoid = apart_from(st, plan, nodes, nn, onnode, s);
			int best = swarm_pick_node(nodes, nn, avoid, mem);
			free(avoid);
			if (best < 0) {
				buf_addf(err, "no ready, active swarm node has %.2f GiB of memory left for "
					 "'%s' (its reservation)", gib(mem), s->name);
				if (s->swarm_apart[0])
					buf_addf(err, " apart from the node of '%s' (swarm.apart)",
						 s->swarm_apart);
				buf_addstr(err, ": ");
				for (j = 0; j < nn; j++)
					buf_addf(err, "%s%s %s/%s %.2f of %.2f GiB free", j ? ", " : "",
						 nodes[j].hostname, nodes[j].state, nodes[j].availability,
						 gib(nodes[j].memory - onnode[j]), gib(nodes[j].memory));
				buf_addstr(err, "; add a node, take a stack down, or use --small");
				goto out;
			}
			onnode[best] += mem;
			snprintf(p->node_id, sizeof(p->node_id), "%s", nodes[best].id);
			snprintf(p->node_addr, sizeof(p->node_addr), "%s", nodes[best].addr);
		}
		p->pl.node_id = p->node_id;
		p->pl.node_addr = p->node_addr;
	}
	ret = swarm_memory_fits(nodes, nn, reserved, need, "this stack", err);
out:
	free(onnode);
	return ret;
}

/* every service `k` depends on is marked in `done` (deployed, or ready) */
static int deps_done(const struct stack *st, int k, const int *done)
{
	size_t d;

	for (d = 0; d < st->svcs[k].depends.n; d++) {
		int dk = stack_find(st, st->svcs[k].depends.v[d]);
		if (dk >= 0 && !done[dk])
			return 0;
	}
	return 1;
}

/*
 * On a swarm a swarm-only member comes with what it serves: it is selected
 * once everything it depends on is (redis brings its replica, and the two
 * bring the Sentinels).
 */
static void add_swarm_members(const struct stack *st, int *sel)
{
	int changed = 1, k;
	size_t d;

	while (changed) {
		changed = 0;
		for (k = 0; k < st->n; k++) {
			int all = st->svcs[k].depends.n > 0;
			if (sel[k] || !st->svcs[k].swarm_only)
				continue;
			for (d = 0; d < st->svcs[k].depends.n; d++) {
				int dk = stack_find(st, st->svcs[k].depends.v[d]);
				if (dk < 0 || !sel[dk])
					all = 0;
			}
			if (all) {
				sel[k] = 1;
				changed = 1;
			}
		}
	}
}

int swarm_up(struct stack *st, const struct swarm_up_opts *o, struct buf *err)
{
	struct docker_service *all = NULL;
	struct docker_node *nodes = NULL;
	struct plan plan[SERVICE_MAX];
	int sel[SERVICE_MAX], deployed[SERVICE_MAX] = { 0 }, ready[SERVICE_MAX] = { 0 };
	size_t na = 0, nn = 0;
	int k, ret = -1;

	memset(plan, 0, sizeof(plan));
	st->t0 = clock_s();
	if (swarm_check(st, err) || stack_select(st, o->only, sel, err))
		return -1;
	add_swarm_members(st, sel);
	if (images_here(st, sel, err))
		return -1;
	if (docker_nodes_list(st->d, &nodes, &nn, err) ||
	    docker_services_list(st->d, NULL, &all, &na, err) ||
	    plan_places(st, o, sel, nodes, nn, all, na, plan, err) ||
	    ensure_network(st, o->klass, err))
		goto out;
	/*
	 * In dependency order: a service goes once what it depends on is
	 * deployed and, when waiting, ready. Whatever can go goes at once; only
	 * when nothing can is a dependency waited for, the first one holding a
	 * service back.
	 */
	for (;;) {
		int left = 0, went = 0, waited = 0;

		for (k = 0; k < st->n; k++) {
			const struct service *s = &st->svcs[k];

			if (!sel[k] || deployed[k])
				continue;
			if (!deps_done(st, k, deployed) || (o->wait && !deps_done(st, k, ready))) {
				left++;
				continue;
			}
			if (deploy_one(st, s, &plan[k].pl, plan[k].have, err)) {
				struct buf m = BUF_INIT;
				buf_addf(&m, "cannot deploy '%s' to the swarm: %s", s->name, err->s);
				buf_reset(err);
				buf_addstr(err, m.s);
				buf_release(&m);
				goto out;
			}
			deployed[k] = went = 1;
		}
		if (!left)
			break;
		if (went)
			continue;
		for (k = 0; o->wait && !waited && k < st->n; k++) {
			size_t d;
			if (!sel[k] || deployed[k])
				continue;
			for (d = 0; !waited && d < st->svcs[k].depends.n; d++) {
				int dk = stack_find(st, st->svcs[k].depends.v[d]);
				if (dk < 0 || ready[dk] || !deployed[dk])
					continue;
				if (wait_one(st, &st->svcs[dk], plan[dk].pl.replicas, o->timeout_s, err))
					goto out;
				ready[dk] = waited = 1;
			}
		}
		if (!waited)
			break;   /* not reached: stack_select refuses cycles and unknown names */
	}
	for (k = 0; o->wait && k < st->n; k++)
		if (sel[k] && !ready[k] &&
		    wait_one(st, &st->svcs[k], plan[k].pl.replicas, o->timeout_s, err))
			goto out;
	ret = 0;
out:
	docker_services_free(all, na);
	free(nodes);
	return ret;
}

/* the newest task of a service (none meant to run: the last that failed) */
static const struct docker_task *newest_task(const struct docker_task *ts, size_t n)
{
	const struct docker_task *best = NULL;
	size_t i;

	for (i = 0; i < n; i++)
		if (!best || ts[i].updated > best->updated)
			best = &ts[i];
	return best;
}

static void fill_task(struct stack *st, struct swarm_task *t, const char *svc, int k,
		      const struct docker_task *tk, const struct docker_node *nodes, size_t nn,
		      int probe)
{
	const struct docker_node *nd = node_of(nodes, nn, tk->node_id);

	snprintf(t->service, sizeof(t->service), "%s", svc);
	snprintf(t->id, sizeof(t->id), "%s", tk->id);
	snprintf(t->state, sizeof(t->state), "%s", tk->state);
	snprintf(t->desired, sizeof(t->desired), "%s", tk->desired);
	snprintf(t->error, sizeof(t->error), "%s", tk->error);
	t->slot = tk->slot;
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

int swarm_ps(struct stack *st, int probe, struct swarm_task **out, size_t *n,
	     struct buf *err)
{
	struct docker_service *svcs = NULL;
	struct docker_node *nodes = NULL;
	char *label;
	size_t ns = 0, nn = 0, cap = 0, i, j;
	int ret = -1;

	*out = NULL;
	*n = 0;
	if (swarm_check(st, err))
		return -1;
	label = project_label(st);
	if (docker_services_list(st->d, label, &svcs, &ns, err) ||
	    docker_nodes_list(st->d, &nodes, &nn, err))
		goto out;
	for (i = 0; i < ns; i++) {
		const char *svc = kvlist_get(&svcs[i].labels, LABEL_SERVICE);
		struct docker_task *ts = NULL;
		const struct docker_task *tk;
		size_t nt = 0, shown = 0;
		int k = svc ? stack_find(st, svc) : -1;

		if (!svc)
			svc = svcs[i].name;
		if (docker_tasks_list(st->d, svcs[i].id, &ts, &nt, err))
			goto out;
		for (j = 0; j <= nt; j++) {
			struct swarm_task *t;

			/* each task meant to run; the newest when none is; "absent" when none */
			if (j < nt && strcmp(ts[j].desired, "running"))
				continue;
			if (j == nt && shown)
				break;
			tk = j < nt ? &ts[j] : newest_task(ts, nt);
			if (*n == cap) {
				cap = cap ? 2 * cap : 8;
				*out = xrealloc(*out, cap * sizeof(**out));
			}
			t = &(*out)[(*n)++];
			memset(t, 0, sizeof(*t));
			shown++;
			if (tk) {
				fill_task(st, t, svc, k, tk, nodes, nn, probe);
			} else {
				snprintf(t->service, sizeof(t->service), "%s", svc);
				snprintf(t->state, sizeof(t->state), "absent");
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

int swarm_logs(struct stack *st, const char *name, const struct stack_logs_opts *o,
	       stack_frame_fn fn, void *ctx, struct buf *err)
{
	struct docker_logs_opts lo;
	char *svc = xstrfmt("%s-%s", st->project, name);
	int r;

	stack_logs_to_docker(o, &lo);
	r = docker_service_logs(st->d, svc, &lo, fn, ctx, err);
	free(svc);
	return r == DOCKER_ENOTFOUND ? STACK_ENOTFOUND : r == DOCKER_ECANCELED ? STACK_ECANCELED : r;
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
