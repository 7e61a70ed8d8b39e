/*
 * k8s: a service definition as Kubernetes objects (JSON through jansson,
 * which kubectl reads as it reads YAML).
 */
#include "core/k8s.h"
#include "core/config.h"
#include "util/xalloc.h"

#include <jansson.h>
#include <stdio.h>
#include <string.h>

enum k8s_workload k8s_workload_of(const struct service *s)
{
	return s->nvolumes > 0 ? K8S_STATEFULSET : K8S_DEPLOYMENT;
}

const char *k8s_kind_name(enum k8s_workload w)
{
	return w == K8S_STATEFULSET ? "StatefulSet" : "Deployment";
}

/*
 * pancake's probes against what Kubernetes can run: an HTTP check stays
 * one; Elasticsearch's "yellow or better" is asked of the server itself
 * (wait_for_status answers 408 until then); Redis, Kafka and CQL speak
 * protocols Kubernetes lacks, so only their port is checked.
 */
static const struct {
	enum probe_kind probe;
	const char *kind;
	const char *path;       /* NULL: the definition's probe.path */
	int weaker;
} probe_map[] = {
	{ PROBE_HTTP, "httpGet", NULL, 0 },
	{ PROBE_ES, "httpGet", "/_cluster/health?wait_for_status=yellow&timeout=1s", 0 },
	{ PROBE_REDIS, "tcpSocket", "", 1 },
	{ PROBE_KAFKA, "tcpSocket", "", 1 },
	{ PROBE_CQL, "tcpSocket", "", 1 },
};

void k8s_probe_of(const struct service *s, struct k8s_probe *p)
{
	size_t i;

	memset(p, 0, sizeof(*p));
	p->port = s->probe_port ? s->probe_port : (s->nports ? s->ports[0].container_port : 0);
	for (i = 0; i < sizeof(probe_map) / sizeof(probe_map[0]); i++) {
		if (probe_map[i].probe != s->probe)
			continue;
		p->kind = probe_map[i].kind;
		p->weaker = probe_map[i].weaker;
		snprintf(p->path, sizeof(p->path), "%s",
			 probe_map[i].path ? probe_map[i].path : s->probe_path);
		break;
	}
	if (!p->kind || !p->port) {
		p->kind = NULL;
		snprintf(p->note, sizeof(p->note), "no readiness probe: the definition has none");
	} else if (p->weaker) {
		snprintf(p->note, sizeof(p->note),
			 "pancake's probe is %s, a protocol Kubernetes cannot speak: "
			 "tcpSocket on %d only checks that the port accepts",
			 probe_kind_name(s->probe), p->port);
	} else {
		snprintf(p->note, sizeof(p->note), "pancake's probe is %s: httpGet %s on %d",
			 probe_kind_name(s->probe), p->path, p->port);
	}
}

int k8s_valid_name(const char *name)
{
	size_t i, n = strlen(name);

	if (n == 0 || n > 63 || name[0] == '-' || name[n - 1] == '-')
		return 0;
	for (i = 0; i < n; i++)
		if (!((name[i] >= 'a' && name[i] <= 'z') || (name[i] >= '0' && name[i] <= '9') ||
		      name[i] == '-'))
			return 0;
	return 1;
}

/* a Kubernetes quantity: "1Gi", "1280Mi", or bytes */
static json_t *quantity(int64_t bytes)
{
	char q[32];

	if (bytes % (1LL << 30) == 0)
		snprintf(q, sizeof(q), "%lldGi", (long long)(bytes >> 30));
	else if (bytes % (1LL << 20) == 0)
		snprintf(q, sizeof(q), "%lldMi", (long long)(bytes >> 20));
	else
		snprintf(q, sizeof(q), "%lld", (long long)bytes);
	return json_string(q);
}

static json_t *labels(const struct service *s, const char *project)
{
	json_t *l = json_object();

	json_object_set_new(l, "app.kubernetes.io/name", json_string(s->name));
	json_object_set_new(l, "app.kubernetes.io/instance", json_sprintf("%s-%s", project, s->name));
	json_object_set_new(l, "app.kubernetes.io/component", json_string(s->name));
	json_object_set_new(l, "app.kubernetes.io/part-of", json_string(project));
	json_object_set_new(l, "app.kubernetes.io/managed-by", json_string("pancake"));
	json_object_set_new(l, LABEL_PROJECT, json_string(project));
	json_object_set_new(l, LABEL_SERVICE, json_string(s->name));
	return l;
}

/* what selects the pods: stable across exports (labels may grow) */
static json_t *selector_labels(const struct service *s, const char *project)
{
	json_t *l = json_object();

	json_object_set_new(l, LABEL_PROJECT, json_string(project));
	json_object_set_new(l, LABEL_SERVICE, json_string(s->name));
	return l;
}

static json_t *annotations(const struct service *s, const struct k8s_probe *p)
{
	json_t *a = json_object();
	size_t i;

	if (s->description)
		json_object_set_new(a, "io.pancake.description", json_string(s->description));
	json_object_set_new(a, "io.pancake.definition", json_sprintf("services/%s/service.conf", s->name));
	json_object_set_new(a, "io.pancake.probe", json_string(p->note));
	if (s->depends.n) {
		struct buf b = BUF_INIT;

		for (i = 0; i < s->depends.n; i++)
			buf_addf(&b, "%s%s", i ? " " : "", s->depends.v[i]);
		/* Kubernetes starts everything at once; the dependent waits itself */
		json_object_set_new(a, "io.pancake.depends", json_string(b.s));
		buf_release(&b);
	}
	if (s->nvolumes)
		json_object_set_new(a, "io.pancake.storage",
				    json_string("the definition names no size; each volume asks for "
						K8S_VOLUME_SIZE " of the cluster's default storage class"));
	return a;
}

static json_t *metadata(const char *name, const struct service *s, const char *project,
			const struct k8s_probe *p)
{
	json_t *m = json_object();

	json_object_set_new(m, "name", json_string(name));
	json_object_set_new(m, "labels", labels(s, project));
	if (p)
		json_object_set_new(m, "annotations", annotations(s, p));
	return m;
}

static json_t *env_var(const char *name, const char *value)
{
	json_t *e = json_object();

	json_object_set_new(e, "name", json_string(name));
	json_object_set_new(e, "value", json_string(value));
	return e;
}

static json_t *probe_json(const struct k8s_probe *p)
{
	json_t *pr = json_object(), *h = json_object();

	json_object_set_new(h, "port", json_integer(p->port));
	if (!strcmp(p->kind, "httpGet"))
		json_object_set_new(h, "path", json_string(p->path));
	json_object_set_new(pr, p->kind, h);
	json_object_set_new(pr, "periodSeconds", json_integer(5));
	json_object_set_new(pr, "timeoutSeconds", json_integer(3));
	json_object_set_new(pr, "failureThreshold", json_integer(3));
	return pr;
}

static json_t *container(const struct service *s, enum heap_profile profile,
			 const struct k8s_probe *p)
{
	json_t *c = json_object(), *env = json_array(), *ports = json_array();
	json_t *res, *mounts;
	size_t i;
	int k;

	json_object_set_new(c, "name", json_string(s->name));
	json_object_set_new(c, "image", json_string(s->image));
	/* the image's own entrypoint stays: Docker's Cmd is Kubernetes' args */
	if (s->command.n) {
		json_t *args = json_array();

		for (i = 0; i < s->command.n; i++)
			json_array_append_new(args, json_string(s->command.v[i]));
		json_object_set_new(c, "args", args);
	}
	for (i = 0; i < s->env.n; i++) {
		const char *eq = strchr(s->env.v[i], '=');
		char *key = xstrndup(s->env.v[i], eq ? (size_t)(eq - s->env.v[i]) : strlen(s->env.v[i]));

		json_array_append_new(env, env_var(key, eq ? eq + 1 : ""));
		free(key);
	}
	/* what `up` adds (stack.c), so the images behave as they do there */
	if (s->heap[profile][0])
		json_array_append_new(env, env_var("PANCAKE_HEAP", s->heap[profile]));
	json_array_append_new(env, env_var("PANCAKE_HOSTNAME", s->name));
	for (k = 0; k < s->nports; k++) {
		char key[32], val[16];
		json_t *cp = json_object();

		snprintf(key, sizeof(key), "PANCAKE_PORT_%d", s->ports[k].container_port);
		snprintf(val, sizeof(val), "%d", s->ports[k].container_port);
		json_array_append_new(env, env_var(key, val));
		json_object_set_new(cp, "name", json_sprintf("p%d", s->ports[k].container_port));
		json_object_set_new(cp, "containerPort", json_integer(s->ports[k].container_port));
		json_object_set_new(cp, "protocol", json_string("TCP"));
		json_array_append_new(ports, cp);
	}
	json_object_set_new(c, "env", env);
	json_object_set_new(c, "ports", ports);
	if (s->memory[profile]) {
		json_t *req = json_object(), *lim = json_object();

		/* the JVMs' heaps are sized to the limit: ask for all of it */
		res = json_object();
		json_object_set_new(req, "memory", quantity(s->memory[profile]));
		json_object_set_new(lim, "memory", quantity(s->memory[profile]));
		json_object_set_new(res, "requests", req);
		json_object_set_new(res, "limits", lim);
		json_object_set_new(c, "resources", res);
	}
	if (p->kind)
		json_object_set_new(c, "readinessProbe", probe_json(p));
	if (s->nvolumes) {
		mounts = json_array();
		for (k = 0; k < s->nvolumes; k++) {
			json_t *m = json_object();

			json_object_set_new(m, "name", json_string(s->volumes[k].name));
			json_object_set_new(m, "mountPath", json_string(s->volumes[k].target));
			json_array_append_new(mounts, m);
		}
		json_object_set_new(c, "volumeMounts", mounts);
	}
	return c;
}

static json_t *volume_claims(const struct service *s, const char *project)
{
	json_t *claims = json_array();
	int k;

	for (k = 0; k < s->nvolumes; k++) {
		json_t *pvc = json_object(), *spec = json_object(), *modes = json_array();
		json_t *req = json_object(), *res = json_object();

		json_object_set_new(pvc, "apiVersion", json_string("v1"));
		json_object_set_new(pvc, "kind", json_string("PersistentVolumeClaim"));
		json_object_set_new(pvc, "metadata", metadata(s->volumes[k].name, s, project, NULL));
		json_array_append_new(modes, json_string("ReadWriteOnce"));
		json_object_set_new(spec, "accessModes", modes);
		json_object_set_new(req, "storage", json_string(K8S_VOLUME_SIZE));
		json_object_set_new(res, "requests", req);
		json_object_set_new(spec, "resources", res);
		json_object_set_new(pvc, "spec", spec);
		json_array_append_new(claims, pvc);
	}
	return claims;
}

static json_t *workload(const struct service *s, const char *project,
			enum heap_profile profile, const struct k8s_probe *p)
{
	enum k8s_workload w = k8s_workload_of(s);
	json_t *o = json_object(), *spec = json_object(), *sel = json_object();
	json_t *tmpl = json_object(), *pspec = json_object(), *cs = json_array();

	json_object_set_new(o, "apiVersion", json_string("apps/v1"));
	json_object_set_new(o, "kind", json_string(k8s_kind_name(w)));
	json_object_set_new(o, "metadata", metadata(s->name, s, project, p));
	json_object_set_new(spec, "replicas", json_integer(1));
	json_object_set_new(sel, "matchLabels", selector_labels(s, project));
	json_object_set_new(spec, "selector", sel);
	if (w == K8S_STATEFULSET)
		json_object_set_new(spec, "serviceName", json_string(s->name));
	json_object_set_new(tmpl, "metadata", metadata(s->name, s, project, p));
	json_object_del(json_object_get(tmpl, "metadata"), "name");
	json_array_append_new(cs, container(s, profile, p));
	json_object_set_new(pspec, "containers", cs);
	if (s->stop_timeout_s)
		json_object_set_new(pspec, "terminationGracePeriodSeconds",
				    json_integer(s->stop_timeout_s));
	json_object_set_new(tmpl, "spec", pspec);
	json_object_set_new(spec, "template", tmpl);
	if (w == K8S_STATEFULSET)
		json_object_set_new(spec, "volumeClaimTemplates", volume_claims(s, project));
	json_object_set_new(o, "spec", spec);
	return o;
}

static json_t *service_obj(const struct service *s, const char *project)
{
	json_t *o = json_object(), *spec = json_object(), *ports = json_array();
	int k;

	json_object_set_new(o, "apiVersion", json_string("v1"));
	json_object_set_new(o, "kind", json_string("Service"));
	json_object_set_new(o, "metadata", metadata(s->name, s, project, NULL));
	/* headless for a StatefulSet: its name resolves to the pod, any port */
	if (k8s_workload_of(s) == K8S_STATEFULSET)
		json_object_set_new(spec, "clusterIP", json_string("None"));
	json_object_set_new(spec, "selector", selector_labels(s, project));
	for (k = 0; k < s->nports; k++) {
		json_t *sp = json_object();

		json_object_set_new(sp, "name", json_sprintf("p%d", s->ports[k].container_port));
		json_object_set_new(sp, "port", json_integer(s->ports[k].container_port));
		json_object_set_new(sp, "targetPort", json_integer(s->ports[k].container_port));
		json_object_set_new(sp, "protocol", json_string("TCP"));
		json_array_append_new(ports, sp);
	}
	json_object_set_new(spec, "ports", ports);
	json_object_set_new(o, "spec", spec);
	return o;
}

char *k8s_manifest(const struct service *s, const char *project,
		   enum heap_profile profile, struct buf *err)
{
	struct k8s_probe p;
	json_t *list, *items;
	char *text;
	int k;

	if (!k8s_valid_name(s->name)) {
		buf_addf(err, "service '%s': not a Kubernetes name (lowercase letters, digits "
			 "and '-', at most 63): rename its folder under services/", s->name);
		return NULL;
	}
	if (!k8s_valid_name(project)) {
		buf_addf(err, "project '%s': not a Kubernetes label value here (lowercase letters, "
			 "digits and '-', at most 63): pass another with --project", project);
		return NULL;
	}
	for (k = 0; k < s->nvolumes; k++)
		if (!k8s_valid_name(s->volumes[k].name)) {
			buf_addf(err, "service '%s': volume '%s' is not a Kubernetes name: "
				 "rename it in %s", s->name, s->volumes[k].name, s->path);
			return NULL;
		}
	if (s->nports == 0) {
		buf_addf(err, "service '%s': no port, so no Service to reach it: add a 'port' "
			 "line to %s", s->name, s->path);
		return NULL;
	}
	k8s_probe_of(s, &p);
	list = json_object();
	items = json_array();
	json_object_set_new(list, "apiVersion", json_string("v1"));
	json_object_set_new(list, "kind", json_string("List"));
	json_array_append_new(items, service_obj(s, project));
	json_array_append_new(items, workload(s, project, profile, &p));
	json_object_set_new(list, "items", items);
	text = json_dumps(list, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
	json_decref(list);
	if (!text)
		die("out of memory");
	return text;
}

char *k8s_file_name(const struct service *s)
{
	return xstrfmt("%s.json", s->name);
}

char *k8s_readme(const struct service *svcs, int n, const char *project,
		 enum heap_profile profile)
{
	struct buf b = BUF_INIT;
	int i;

	buf_addf(&b, "# Kubernetes manifests for project '%s'\n\n", project);
	buf_addf(&b, "Written by `pancake export kubernetes` from services/*/service.conf "
		 "(%s memory profile). One file per service, each a v1 List:\n\n",
		 profile == PROFILE_SMALL ? "the small" : "the default");
	for (i = 0; i < n; i++) {
		char *f = k8s_file_name(&svcs[i]);

		buf_addf(&b, "- `%s`: %s and %sService `%s`\n", f,
			 k8s_kind_name(k8s_workload_of(&svcs[i])),
			 k8s_workload_of(&svcs[i]) == K8S_STATEFULSET ? "headless " : "",
			 svcs[i].name);
		free(f);
	}
	buf_addstr(&b, "\nApply them with `kubectl apply -f .` (this file is not a manifest and\n"
		   "kubectl skips it). The images (pancake/...) must first be pushed to a\n"
		   "registry the cluster can pull from, and the names in these files changed\n"
		   "to match. Each volume asks for " K8S_VOLUME_SIZE " of the default storage class.\n");
	return buf_detach(&b, NULL);
}
