/* cmd-ps: `pancake ps [--json] [--swarm]`: each service's state, readiness, uptime, ports. */
#include "cli.h"
#include "core/swarm.h"
#include "util/jsonout.h"
#include "util/xalloc.h"

#include <jansson.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

static void ports_text(const struct service *s, char *out, size_t size)
{
	size_t used = 0;
	int i;

	out[0] = '\0';
	for (i = 0; i < s->nports && used < size; i++)
		used += (size_t)snprintf(out + used, size - used, "%s%s:%d->%d", i ? "," : "",
					 s->ports[i].host_ip, s->ports[i].host_port,
					 s->ports[i].container_port);
}

/* `ps --swarm`: one line (or object) per Swarm service of the project */
static int ps_swarm(struct stack *st, int json, int probe)
{
	struct swarm_task *ts = NULL;
	struct buf err = BUF_INIT;
	size_t n = 0, i;
	int ret = RC_OK;

	if (swarm_ps(st, probe, &ts, &n, &err)) {
		ret = cli_fail(RC_FAILED, "%s", err.s);
		goto out;
	}
	if (json) {
		json_t *arr = json_array();
		for (i = 0; i < n; i++) {
			json_t *o = json_object();
			json_object_set_new(o, "service", json_string(ts[i].service));
			json_object_set_new(o, "slot", json_integer(ts[i].slot));
			json_object_set_new(o, "task", json_string(ts[i].id));
			json_object_set_new(o, "node", json_string(ts[i].node));
			json_object_set_new(o, "addr", json_string(ts[i].addr));
			json_object_set_new(o, "state", json_string(ts[i].state));
			json_object_set_new(o, "desired", json_string(ts[i].desired));
			json_object_set_new(o, "ready", ts[i].probed ? json_boolean(ts[i].ready) : json_null());
			json_object_set_new(o, "detail", json_string(ts[i].detail));
			json_object_set_new(o, "error", json_string(ts[i].error));
			json_array_append_new(arr, o);
		}
		jsonout_print(arr);
	} else {
		printf("%-14s %-18s %-15s %-9s %-6s %s\n", "SERVICE", "NODE", "ADDR", "STATE", "READY", "DETAIL");
		for (i = 0; i < n; i++)
			printf("%s%-14s%s %-18s %-15s %-9s %s%-6s%s %s\n",
			       cli_service_color(ts[i].service), ts[i].service, cli_color(C_RESET),
			       ts[i].node[0] ? ts[i].node : "-", ts[i].addr[0] ? ts[i].addr : "-",
			       ts[i].state,
			       cli_color(ts[i].ready ? C_GREEN : ts[i].probed ? C_RED : C_DIM),
			       !ts[i].probed ? "-" : ts[i].ready ? "ready" : "no", cli_color(C_RESET),
			       ts[i].detail);
		if (!n)
			printf("(no swarm services of this project: 'pancake up --swarm' deploys them)\n");
	}
out:
	free(ts);
	buf_release(&err);
	return ret;
}

int cmd_ps(int argc, char **argv)
{
	struct service_status ss[SERVICE_MAX];
	struct stack st;
	struct buf err = BUF_INIT;
	int json = 0, probe = 1, swarm = 0, i, k, ret = RC_OK;
	time_t now = time(NULL);
	char q[QUOTE_BUF];

	for (i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--json"))
			json = 1;
		else if (!strcmp(argv[i], "--no-probe"))
			probe = 0;
		else if (!strcmp(argv[i], "--swarm"))
			swarm = 1;
		else
			return cli_bad_usage("ps", "unknown argument %s", quote(q, argv[i]));
	}
	cli_open_stack(&st, PROFILE_DEFAULT, 0);
	if (swarm) {
		ret = ps_swarm(&st, json, probe);
		goto out;
	}
	if (stack_status(&st, ss, probe, &err)) {
		ret = cli_fail(RC_FAILED, "%s", err.s);
		goto out;
	}
	if (json) {
		json_t *arr = json_array();
		for (k = 0; k < st.n; k++) {
			json_t *o = json_object(), *ports = json_array();
			const struct service *sv = ss[k].svc;
			json_object_set_new(o, "service", json_string(sv->name));
			json_object_set_new(o, "state", json_string(ss[k].state));
			json_object_set_new(o, "running", json_boolean(ss[k].running));
			json_object_set_new(o, "ready", ss[k].probed ? json_boolean(ss[k].ready) : json_null());
			json_object_set_new(o, "probe", json_string(probe_kind_name(sv->probe)));
			json_object_set_new(o, "detail", json_string(ss[k].detail));
			json_object_set_new(o, "container", ss[k].exists ? json_string(ss[k].id) : json_null());
			json_object_set_new(o, "image", json_string(sv->image));
			json_object_set_new(o, "config_current", ss[k].exists ? json_boolean(ss[k].config_current) : json_null());
			json_object_set_new(o, "started_at", ss[k].started_at ? json_integer(ss[k].started_at) : json_null());
			json_object_set_new(o, "uptime_s", ss[k].running && ss[k].started_at ?
					    json_integer(now - ss[k].started_at) : json_null());
			json_object_set_new(o, "exit_code", ss[k].exists && !ss[k].running ? json_integer(ss[k].exit_code) : json_null());
			for (i = 0; i < sv->nports; i++) {
				json_t *p = json_object();
				json_object_set_new(p, "host_ip", json_string(sv->ports[i].host_ip));
				json_object_set_new(p, "host_port", json_integer(sv->ports[i].host_port));
				json_object_set_new(p, "container_port", json_integer(sv->ports[i].container_port));
				json_array_append_new(ports, p);
			}
			json_object_set_new(o, "ports", ports);
			json_array_append_new(arr, o);
		}
		jsonout_print(arr);
	} else {
		printf("%-14s %-9s %-9s %-9s %-22s %s\n", "SERVICE", "STATE", "READY", "UPTIME", "PORTS", "DETAIL");
		for (k = 0; k < st.n; k++) {
			char ports[96], up[32] = "-";
			const char *ready = !ss[k].probed ? "-" : ss[k].ready ? "ready" : "no";
			ports_text(ss[k].svc, ports, sizeof(ports));
			if (ss[k].running && ss[k].started_at)
				human_duration(up, sizeof(up), (long long)(now - ss[k].started_at));
			printf("%s%-14s%s %-9s %s%-9s%s %-9s %-22s %s%s\n",
			       cli_service_color(ss[k].svc->name), ss[k].svc->name, cli_color(C_RESET),
			       ss[k].state,
			       cli_color(ss[k].ready ? C_GREEN : ss[k].probed ? C_RED : C_DIM), ready,
			       cli_color(C_RESET), up, ports, ss[k].detail,
			       ss[k].exists && !ss[k].config_current ? " (definition changed: 'pancake up' recreates it)" : "");
		}
	}
out:
	stack_close(&st);
	buf_release(&err);
	return ret;
}
