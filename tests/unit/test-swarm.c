/* test-swarm: service definitions as Swarm ServiceSpecs (core/swarm.c, pure translation). */
#include "core/config.h"
#include "core/service.h"
#include "core/swarm.h"
#include "util/buf.h"
#include "util/xalloc.h"
#include "defs.h"
#include "tap.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static char tmpdir[] = "/tmp/pancake-test-swarm-XXXXXX";

/* loads a definition from `text`; 0 or -1 (err printed) */
static int load(struct service *s, const char *name, const char *text)
{
	return def_load(s, tmpdir, name, text);
}

static const struct swarm_place pinned = { "n2id", "10.77.0.12", 1, NULL, 0 };

static json_t *spec_of(const struct service *s, const char *project, enum heap_profile p,
		       const struct swarm_place *pl)
{
	char *text = swarm_service_spec(s, project, p, pl);
	json_t *j = json_loads(text, 0, NULL);

	free(text);
	return j;
}

static const char *str(json_t *o, const char *key)
{
	json_t *v = json_object_get(o, key);

	return json_is_string(v) ? json_string_value(v) : NULL;
}

static json_t *at(json_t *o, const char *a, const char *b)
{
	return json_object_get(json_object_get(o, a), b);
}

static int has_str(json_t *arr, const char *want)
{
	size_t i;
	json_t *v;

	json_array_foreach(arr, i, v)
		if (json_is_string(v) && !strcmp(json_string_value(v), want))
			return 1;
	return 0;
}

static void test_stateful(void)
{
	struct service s;
	json_t *j, *task, *cs, *m, *port, *net;

	if (!ok(!load(&s, "redis",
		      "image = pancake/redis\nport = 6379\nvolume = data:/var/lib/redis\n"
		      "memory = 256m\nmemory.small = 192m\nprobe = redis\nenv = A=1\n"
		      "stop_timeout = 10\n"), "redis: definition loads"))
		return;
	j = spec_of(&s, "demo", PROFILE_DEFAULT, &pinned);
	if (!ok(j, "redis: the spec is JSON")) {
		service_release(&s);
		return;
	}
	is_str(str(j, "Name"), "demo-redis", "service named <project>-<service>");
	is_str(str(json_object_get(j, "Labels"), LABEL_PROJECT), "demo", "project label on the service");
	is_str(str(json_object_get(j, "Labels"), LABEL_SERVICE), "redis", "service label on the service");
	ok(str(json_object_get(j, "Labels"), LABEL_CONFIG_HASH), "config hash label on the service");
	task = json_object_get(j, "TaskTemplate");
	cs = json_object_get(task, "ContainerSpec");
	is_str(str(cs, "Image"), "pancake/redis", "image from the definition");
	is_str(str(json_object_get(cs, "Labels"), LABEL_PROJECT), "demo", "project label on the task's container");
	ok(has_str(json_object_get(cs, "Env"), "A=1"), "env from the definition");
	ok(has_str(json_object_get(cs, "Env"), "PANCAKE_PORT_6379=6379"), "PANCAKE_PORT_ as on the local stack");
	ok(!json_object_get(cs, "Args"), "no command: no Args (the image's)");
	is_int(json_integer_value(json_object_get(cs, "StopGracePeriod")), 10000000000LL, "stop_timeout in ns");
	m = json_array_get(json_object_get(cs, "Mounts"), 0);
	is_str(str(m, "Type"), "volume", "a volume is a named volume mount");
	is_str(str(m, "Source"), "demo-redis-data", "volume named <project>-<service>-<name>");
	is_str(str(m, "Target"), "/var/lib/redis", "volume target");
	is_int(json_integer_value(at(json_object_get(task, "Resources"), "Limits", "MemoryBytes")),
	       256 << 20, "memory limit");
	is_int(json_integer_value(at(json_object_get(task, "Resources"), "Reservations", "MemoryBytes")),
	       256 << 20, "memory reservation");
	ok(has_str(at(task, "Placement", "Constraints"), "node.id==n2id"),
	   "a service with volumes is pinned to its node (node.id==)");
	is_int(json_integer_value(at(task, "Placement", "MaxReplicas")), 1,
	       "a published host-mode port: at most one task per node");
	ok(has_str(json_object_get(cs, "Env"), "PANCAKE_EXTERNAL_HOST=10.77.0.12"),
	   "the pinned node's address as PANCAKE_EXTERNAL_HOST");
	is_str(str(json_object_get(j, "Labels"), LABEL_SWARM_PLACE), "node=n2id replicas=1",
	       "the place label");
	ok(!str(json_object_get(j, "Labels"), LABEL_CLASS), "no class: no class label");
	net = json_array_get(json_object_get(task, "Networks"), 0);
	is_str(str(net, "Target"), "demo-swarm-net", "the project's overlay network");
	ok(has_str(json_object_get(net, "Aliases"), "redis"), "reachable by its short name");
	is_int(json_integer_value(at(json_object_get(j, "Mode"), "Replicated", "Replicas")), 1, "one replica");
	is_str(str(json_object_get(j, "EndpointSpec"), "Mode"), "dnsrr", "endpoint mode dnsrr (no IPVS)");
	port = json_array_get(at(j, "EndpointSpec", "Ports"), 0);
	is_str(str(port, "PublishMode"), "host", "ports published in host mode");
	is_int(json_integer_value(json_object_get(port, "TargetPort")), 6379, "target port");
	is_int(json_integer_value(json_object_get(port, "PublishedPort")), 6379, "published port");
	json_decref(j);
	j = spec_of(&s, "demo", PROFILE_SMALL, &pinned);
	is_int(json_integer_value(at(at(j, "TaskTemplate", "Resources"), "Limits", "MemoryBytes")),
	       192 << 20, "small profile: its memory limit");
	json_decref(j);
	service_release(&s);
}

static void test_stateless(void)
{
	struct service s;
	json_t *j, *task, *args;

	if (!ok(!load(&s, "web", "image = pancake/web\nport = 8080\ncommand = web --port 8080\nprobe = http\nprobe.path = /healthz\n"),
		"web: definition loads"))
		return;
	j = spec_of(&s, "demo", PROFILE_DEFAULT, NULL);
	task = json_object_get(j, "TaskTemplate");
	args = at(task, "ContainerSpec", "Args");
	is_int(json_array_size(args), 3, "the command becomes Args, word by word");
	is_str(json_string_value(json_array_get(args, 0)), "web", "Args[0]");
	ok(!at(task, "Placement", "Constraints"), "no volumes, no place: no constraint");
	is_int(json_integer_value(at(task, "Placement", "MaxReplicas")), 1, "one task per node");
	ok(!json_object_get(json_object_get(task, "Resources"), "Limits"), "no memory: no limit");
	is_str(str(json_object_get(j, "Labels"), LABEL_SWARM_PLACE), "node=any replicas=1",
	       "no place: node=any replicas=1");
	json_decref(j);
	{
		struct swarm_place three = { NULL, NULL, 3, "ws1", 4 };
		j = spec_of(&s, "demo", PROFILE_DEFAULT, &three);
		is_int(json_integer_value(at(json_object_get(j, "Mode"), "Replicated", "Replicas")), 3,
		       "--replicas 3: three replicas");
		is_str(str(json_object_get(j, "Labels"), LABEL_CLASS), "ws1", "the class label");
		is_str(str(json_object_get(j, "Labels"), LABEL_CLASS_SEAT), "4", "the seat label");
		is_str(str(json_object_get(j, "Labels"), LABEL_SWARM_PLACE), "node=any replicas=3",
		       "the place label counts the replicas");
		ok(!has_str(at(j, "TaskTemplate", "ContainerSpec") ? json_object_get(
			at(j, "TaskTemplate", "ContainerSpec"), "Env") : NULL, "PANCAKE_EXTERNAL_HOST="),
		   "not pinned: no external host");
		json_decref(j);
	}
	service_release(&s);
}

static struct docker_node mknode(const char *id, const char *state, const char *avail,
				 int64_t gib)
{
	struct docker_node n;

	memset(&n, 0, sizeof(n));
	snprintf(n.id, sizeof(n.id), "%s", id);
	snprintf(n.hostname, sizeof(n.hostname), "host-%s", id);
	snprintf(n.state, sizeof(n.state), "%s", state);
	snprintf(n.availability, sizeof(n.availability), "%s", avail);
	n.memory = gib << 30;
	return n;
}

static void test_pick_and_memory(void)
{
	struct docker_node nodes[4];
	int64_t reserved[4] = { 0, 0, 0, 0 };
	struct buf err = BUF_INIT;

	nodes[0] = mknode("a", "ready", "active", 8);
	nodes[1] = mknode("b", "ready", "active", 8);
	nodes[2] = mknode("c", "down", "active", 64);
	nodes[3] = mknode("d", "ready", "drain", 64);
	is_int(swarm_pick_node(nodes, 4, reserved, 1LL << 30), 0, "equal room: the first node");
	reserved[0] = 2LL << 30;
	is_int(swarm_pick_node(nodes, 4, reserved, 1LL << 30), 1, "the node with most room left");
	reserved[1] = 7LL << 30;
	is_int(swarm_pick_node(nodes, 4, reserved, 1LL << 30), 0, "b is nearly full: a again");
	is_int(swarm_pick_node(nodes, 4, reserved, 7LL << 30), -1,
	       "nothing fits: -1 (a down node and a drained one do not count)");
	is_int(swarm_memory_fits(nodes, 4, 0, 16LL << 30, "x", &err), 0,
	       "16 GiB fit in two 8 GiB nodes");
	is_int(swarm_memory_fits(nodes, 4, 1LL << 30, 16LL << 30, "two stacks", &err), -1,
	       "16 GiB do not fit beside 1 GiB reserved");
	ok(strstr(err.s, "two stacks") && strstr(err.s, "16.00 GiB") && strstr(err.s, "15.00 GiB left") &&
	   strstr(err.s, "--small"), "the refusal gives the figures and the ways out");
	buf_reset(&err);
	is_int(swarm_memory_fits(nodes, 4, 100LL << 30, -5, "x", &err), 0,
	       "a smaller reservation than before always fits");
	buf_release(&err);
}

int main(void)
{
	if (!mkdtemp(tmpdir))
		die("cannot create '%s'", tmpdir);
	test_stateful();
	test_stateless();
	test_pick_and_memory();
	tap_rmtree(tmpdir);
	return tap_done();
}
