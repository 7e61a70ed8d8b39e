/* test-k8s: service definitions as Kubernetes manifests (kinds, probes, resources, labels). */
#include "core/config.h"
#include "core/k8s.h"
#include "core/service.h"
#include "util/buf.h"
#include "util/xalloc.h"
#include "defs.h"
#include "tap.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static char tmpdir[] = "/tmp/pancake-test-k8s-XXXXXX";

/* loads a definition from `text`; 0 or -1 (err printed) */
static int load(struct service *s, const char *name, const char *text)
{
	return def_load(s, tmpdir, name, text);
}

/* the manifest as JSON; new */
static json_t *manifest(const struct service *s, const char *project, enum heap_profile p)
{
	struct buf err = BUF_INIT;
	char *text = k8s_manifest(s, project, p, &err);
	json_t *j = text ? json_loads(text, 0, NULL) : NULL;

	if (!text)
		printf("# %s\n", err.s);
	free(text);
	buf_release(&err);
	return j;
}

static const char *str_at(json_t *j, const char *path)
{
	json_t *v = json_object_get(j, path);

	return json_is_string(v) ? json_string_value(v) : NULL;
}

/* items[i] of a List */
static json_t *item(json_t *list, size_t i)
{
	return json_array_get(json_object_get(list, "items"), i);
}

static json_t *first_container(json_t *w)
{
	json_t *spec = json_object_get(json_object_get(json_object_get(w, "spec"), "template"), "spec");

	return json_array_get(json_object_get(spec, "containers"), 0);
}

static void test_stateful(void)
{
	struct service s;
	json_t *m, *svc, *w, *c, *probe, *res, *claims, *labels;

	if (!ok(!load(&s, "cassandra",
		      "image = pancake/cassandra\nport = 9042\nvolume = data:/var/lib/cassandra\n"
		      "heap = 768m\nmemory = 1280m\nheap.small = 512m\nmemory.small = 1g\n"
		      "probe = cql\nstop_timeout = 30\n"), "stateful: definition loads"))
		return;
	is_int(k8s_workload_of(&s), K8S_STATEFULSET, "a member with a volume is a StatefulSet");
	m = manifest(&s, "demo", PROFILE_DEFAULT);
	if (!ok(m, "stateful: manifest is JSON")) {
		service_release(&s);
		return;
	}
	is_str(str_at(m, "kind"), "List", "the file is a v1 List");
	svc = item(m, 0);
	w = item(m, 1);
	is_str(str_at(svc, "kind"), "Service", "first item is the Service");
	is_str(str_at(json_object_get(svc, "spec"), "clusterIP"), "None", "its Service is headless");
	is_str(str_at(w, "kind"), "StatefulSet", "second item is the StatefulSet");
	is_str(str_at(json_object_get(w, "spec"), "serviceName"), "cassandra", "serviceName is the headless Service");
	claims = json_object_get(json_object_get(w, "spec"), "volumeClaimTemplates");
	is_int(json_array_size(claims), 1, "one volumeClaimTemplate per volume");
	is_str(str_at(json_object_get(json_array_get(claims, 0), "metadata"), "name"), "data", "the claim is named as the volume");
	c = first_container(w);
	is_str(str_at(c, "image"), "pancake/cassandra", "image from the definition");
	probe = json_object_get(c, "readinessProbe");
	is_int(json_integer_value(json_object_get(json_object_get(probe, "tcpSocket"), "port")), 9042,
	       "cql probe becomes tcpSocket on 9042");
	ok(!json_object_get(probe, "httpGet"), "cql probe is not httpGet");
	ok(strstr(str_at(json_object_get(json_object_get(w, "metadata"), "annotations"), "io.pancake.probe"),
		  "cannot speak") != NULL, "the weaker probe is said so in an annotation");
	res = json_object_get(c, "resources");
	is_str(str_at(json_object_get(res, "limits"), "memory"), "1280Mi", "memory limit from 'memory'");
	is_str(str_at(json_object_get(res, "requests"), "memory"), "1280Mi", "memory request equals the limit");
	is_str(str_at(json_array_get(json_object_get(c, "env"), 0), "name"), "PANCAKE_HEAP", "env[0] is the heap");
	is_str(str_at(json_array_get(json_object_get(c, "env"), 0), "value"), "768m", "PANCAKE_HEAP from 'heap'");
	is_int(json_integer_value(json_object_get(json_object_get(json_object_get(json_object_get(w, "spec"), "template"), "spec"),
						  "terminationGracePeriodSeconds")), 30, "stop_timeout is the grace period");
	labels = json_object_get(json_object_get(w, "metadata"), "labels");
	is_str(str_at(labels, "app.kubernetes.io/part-of"), "demo", "part-of is the project");
	is_str(str_at(labels, LABEL_PROJECT), "demo", "pancake's project label");
	json_decref(m);

	m = manifest(&s, "demo", PROFILE_SMALL);
	c = first_container(item(m, 1));
	is_str(str_at(json_object_get(json_object_get(c, "resources"), "limits"), "memory"), "1Gi",
	       "--small: memory.small is the limit");
	json_decref(m);
	service_release(&s);
}

static void test_serving(void)
{
	struct service s;
	json_t *m, *w, *c, *probe, *args;

	if (!ok(!load(&s, "serving",
		      "image = pancake/sandbox\nport = 8080\nenv = A=b=c\n"
		      "command = serving --port 8080\nmemory = 256m\nprobe = http\nprobe.path = /readyz\n"),
		"serving: definition loads"))
		return;
	m = manifest(&s, "pancake", PROFILE_DEFAULT);
	w = item(m, 1);
	is_str(str_at(w, "kind"), "Deployment", "a member without volumes is a Deployment");
	ok(!json_object_get(json_object_get(item(m, 0), "spec"), "clusterIP"), "its Service is not headless");
	c = first_container(w);
	probe = json_object_get(json_object_get(c, "readinessProbe"), "httpGet");
	is_str(str_at(probe, "path"), "/readyz", "http probe becomes httpGet with its path");
	is_int(json_integer_value(json_object_get(probe, "port")), 8080, "httpGet on the probe port");
	args = json_object_get(c, "args");
	is_int(json_array_size(args), 3, "command becomes args, word by word");
	is_str(json_string_value(json_array_get(args, 0)), "serving", "args[0]");
	ok(!json_object_get(c, "command"), "the image's entrypoint is kept (no command)");
	is_str(str_at(json_array_get(json_object_get(c, "env"), 0), "name"), "A", "env name split at the first '='");
	is_str(str_at(json_array_get(json_object_get(c, "env"), 0), "value"), "b=c", "env value keeps later '='");
	is_str(str_at(json_object_get(json_object_get(c, "resources"), "limits"), "memory"), "256Mi", "256m is 256Mi");
	json_decref(m);
	service_release(&s);
}

static void test_refusals(void)
{
	struct service s;
	struct buf err = BUF_INIT;
	struct k8s_probe p;
	char *text;

	if (ok(!load(&s, "es", "image = x\nport = 9200\nprobe = elasticsearch\n"), "es: definition loads")) {
		k8s_probe_of(&s, &p);
		is_str(p.kind, "httpGet", "elasticsearch probe stays HTTP");
		ok(strstr(p.path, "wait_for_status=yellow") != NULL, "and asks for yellow or better");
		service_release(&s);
	}
	/* service_load refuses such names already; the manifest checks again */
	if (ok(!load(&s, "bad", "image = x\nport = 1\nprobe = redis\n"), "refusals: definition loads")) {
		free(s.name);
		s.name = xstrdup("Bad_Name");
		text = k8s_manifest(&s, "pancake", PROFILE_DEFAULT, &err);
		ok(!text && strstr(err.s, "'Bad_Name': not a Kubernetes name"), "a service name Kubernetes refuses is refused");
		free(text);
		service_release(&s);
	}
	buf_reset(&err);
	if (ok(!load(&s, "ok", "image = x\nport = 1\nprobe = redis\n"), "refusals: second definition loads")) {
		text = k8s_manifest(&s, "My Project", PROFILE_DEFAULT, &err);
		ok(!text && strstr(err.s, "--project"), "a project Kubernetes refuses names --project");
		free(text);
		service_release(&s);
	}
	ok(k8s_valid_name("kafka-1") && !k8s_valid_name("-x") && !k8s_valid_name(""), "DNS-1123 labels");
	buf_release(&err);
}

/* the real definitions: one manifest each, the kinds the README promises */
static void test_real(void)
{
	struct service svcs[SERVICE_MAX];
	struct buf err = BUF_INIT;
	int n = service_load_dir(svcs, "services", &err), i, stateful = 0;

	if (!ok(n > 0, "services/ loads (%s)", n < 0 ? err.s : "ok"))
		return;
	for (i = 0; i < n; i++) {
		json_t *m = manifest(&svcs[i], "pancake", PROFILE_DEFAULT);
		const char *kind = str_at(item(m, 1), "kind");

		ok(m && kind && !strcmp(kind, svcs[i].nvolumes ? "StatefulSet" : "Deployment"),
		   "services/%s is a %s", svcs[i].name, kind ? kind : "(none)");
		stateful += svcs[i].nvolumes > 0;
		json_decref(m);
	}
	ok(stateful >= 4, "kafka, cassandra, elasticsearch and redis keep data (%d stateful)", stateful);
	for (i = 0; i < n; i++)
		service_release(&svcs[i]);
	buf_release(&err);
}

int main(void)
{
	if (!mkdtemp(tmpdir))
		die("cannot create '%s'", tmpdir);
	test_stateful();
	test_serving();
	test_refusals();
	test_real();
	tap_rmtree(tmpdir);
	return tap_done();
}
