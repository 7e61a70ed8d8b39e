/*
 * cmd-class: `pancake class up|status|down`, a stack per attendee on a
 * shared swarm (core/class).
 */
#include "cli.h"
#include "core/class.h"
#include "core/swarm.h"
#include "util/jsonout.h"
#include "util/xalloc.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* --class NAME, else $PANCAKE_CLASS, else "class" */
static const char *default_class(void)
{
	const char *c = getenv("PANCAKE_CLASS");

	return c && *c ? c : "class";
}

static int class_up_cmd(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "attendees", required_argument, NULL, 'a' },
		{ "class", required_argument, NULL, 'c' },
		{ "small", no_argument, NULL, 's' },
		{ "detach", no_argument, NULL, 'd' },
		{ "timeout", required_argument, NULL, 't' },
		{ NULL, 0, NULL, 0 },
	};
	struct class_roster *r = xcalloc(1, sizeof(*r));
	const char *file = NULL, *klass = default_class();
	enum heap_profile profile = PROFILE_DEFAULT;
	struct buf err = BUF_INIT;
	struct stack st;
	int detach = 0, timeout_s = 0, c, ret = RC_OK;
	char *end, q[QUOTE_BUF];
	long t;

	optind = 1;
	while ((c = getopt_long(argc, argv, "a:c:d", opts, NULL)) != -1) {
		switch (c) {
		case 'a': file = optarg; break;
		case 'c': klass = optarg; break;
		case 's': profile = PROFILE_SMALL; break;
		case 'd': detach = 1; break;
		case 't':
			t = strtol(optarg, &end, 10);
			if (*end || !*optarg || t < 1 || t > 86400) {
				free(r);
				return cli_bad_usage("class", "--timeout wants seconds (1 to 86400), got %s",
						     quote(q, optarg));
			}
			timeout_s = (int)t;
			break;
		default:
			free(r);
			return cli_bad_option("class", argv);
		}
	}
	if (!file || optind < argc) {
		free(r);
		return cli_bad_usage("class", "'class up' wants --attendees FILE (one name per line) "
				     "and nothing else");
	}
	if (class_name_ok(klass)) {
		free(r);
		return cli_bad_usage("class", "%s is not a class name: lower-case letters, digits "
				     "and '-'", quote(q, klass));
	}
	if (class_roster_load(file, r, &err)) {
		ret = cli_fail(RC_USAGE, "%s", err.s);
		goto out;
	}
	cli_open_stack(&st, profile, 1);
	printf("class '%s': %d attendee%s, one stack each on the swarm at %s\n", klass, r->n,
	       r->n == 1 ? "" : "s", stack_endpoint(&st));
	fflush(stdout);
	if (class_up(&st, klass, r, !detach, timeout_s, &err))
		ret = cli_fail(RC_FAILED, "%s", err.s);
	else
		printf("%s%s%s\n", cli_color(C_GREEN),
		       detach ? "deployed; 'pancake class status' shows readiness"
			      : "every attendee's stack is ready", cli_color(C_RESET));
	stack_close(&st);
out:
	free(r);
	buf_release(&err);
	return ret;
}

static json_t *stack_json(const struct class_stack *cs)
{
	json_t *o = json_object(), *svcs = json_array(), *lab = json_null();
	int k;

	json_object_set_new(o, "attendee", json_string(cs->attendee));
	json_object_set_new(o, "seat", json_integer(cs->seat));
	json_object_set_new(o, "project", json_string(cs->project));
	json_object_set_new(o, "ready", json_boolean(cs->ready));
	for (k = 0; k < cs->nsvc; k++) {
		const struct class_service *sv = &cs->svc[k];
		json_array_append_new(svcs, json_pack("{s:s,s:i,s:i,s:i,s:s,s:s,s:s}",
						      "service", sv->service, "tasks", sv->tasks,
						      "running", sv->running, "ready", sv->ready,
						      "node", sv->node, "addr", sv->addr,
						      "detail", sv->detail));
	}
	json_object_set_new(o, "services", svcs);
	if (cs->lab[0] || cs->steps_done)
		lab = json_pack("{s:s,s:s,s:i}", "lab", cs->lab, "step", cs->step,
				"steps_done", cs->steps_done);
	json_object_set_new(o, "lab", lab);
	return o;
}

static int class_status_cmd(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "class", required_argument, NULL, 'c' },
		{ "json", no_argument, NULL, 'j' },
		{ NULL, 0, NULL, 0 },
	};
	const char *klass = default_class();
	struct class_stack *v = NULL;
	struct buf err = BUF_INIT;
	struct stack st;
	size_t n = 0, i;
	int json = 0, c, k, ret = RC_OK;

	optind = 1;
	while ((c = getopt_long(argc, argv, "c:", opts, NULL)) != -1) {
		switch (c) {
		case 'c': klass = optarg; break;
		case 'j': json = 1; break;
		default: return cli_bad_option("class", argv);
		}
	}
	if (optind < argc)
		return cli_bad_usage("class", "'class status' takes only --class and --json");
	cli_open_stack(&st, PROFILE_DEFAULT, 0);
	if (class_status(&st, klass, &v, &n, &err)) {
		ret = cli_fail(RC_FAILED, "%s", err.s);
		goto out;
	}
	if (json) {
		json_t *o = json_object(), *arr = json_array();
		for (i = 0; i < n; i++)
			json_array_append_new(arr, stack_json(&v[i]));
		json_object_set_new(o, "class", json_string(klass));
		json_object_set_new(o, "stacks", arr);
		jsonout_print(o);
		goto out;
	}
	printf("%-4s %-16s %-6s %-44s %s\n", "SEAT", "ATTENDEE", "READY", "SERVICES (ready/tasks, node)",
	       "LAB");
	for (i = 0; i < n; i++) {
		struct buf line = BUF_INIT;
		for (k = 0; k < v[i].nsvc; k++)
			buf_addf(&line, "%s%s %d/%d", k ? ", " : "", v[i].svc[k].service,
				 v[i].svc[k].ready, v[i].svc[k].tasks);
		printf("%-4d %-16s %s%-6s%s %-44s %s", v[i].seat, v[i].attendee,
		       cli_color(v[i].ready ? C_GREEN : C_RED), v[i].ready ? "ready" : "no",
		       cli_color(C_RESET), line.s, v[i].lab[0] ? v[i].lab : "-");
		if (v[i].lab[0])
			printf("/%s (%d done)", v[i].step, v[i].steps_done);
		printf("\n");
		for (k = 0; k < v[i].nsvc; k++)
			if (v[i].svc[k].ready < v[i].svc[k].tasks || !v[i].svc[k].tasks)
				printf("     %s%s: %s%s\n", cli_color(C_DIM), v[i].svc[k].service,
				       v[i].svc[k].detail[0] ? v[i].svc[k].detail : "no task running",
				       cli_color(C_RESET));
		buf_release(&line);
	}
	if (!n)
		printf("(class '%s' has no stack on this swarm: 'pancake class up --attendees FILE')\n",
		       klass);
out:
	free(v);
	stack_close(&st);
	buf_release(&err);
	return ret;
}

static int class_down_cmd(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "class", required_argument, NULL, 'c' },
		{ NULL, 0, NULL, 0 },
	};
	const char *klass = default_class();
	struct buf err = BUF_INIT;
	struct stack st;
	int c, removed = 0, ret = RC_OK;

	optind = 1;
	while ((c = getopt_long(argc, argv, "c:", opts, NULL)) != -1) {
		switch (c) {
		case 'c': klass = optarg; break;
		default: return cli_bad_option("class", argv);
		}
	}
	cli_open_stack(&st, PROFILE_DEFAULT, 1);
	if (class_down(&st, klass, optind < argc ? (const char *const *)argv + optind : NULL,
		       &removed, &err))
		ret = cli_fail(RC_FAILED, "%s", err.s);
	else
		printf("removed %d stack%s of class '%s' (the nodes keep their volumes)\n", removed,
		       removed == 1 ? "" : "s", klass);
	stack_close(&st);
	buf_release(&err);
	return ret;
}

int cmd_class(int argc, char **argv)
{
	char q[QUOTE_BUF];

	if (argc < 2)
		return cli_bad_usage("class", "which? up, status or down");
	if (!strcmp(argv[1], "up"))
		return class_up_cmd(argc - 1, argv + 1);
	if (!strcmp(argv[1], "status"))
		return class_status_cmd(argc - 1, argv + 1);
	if (!strcmp(argv[1], "down"))
		return class_down_cmd(argc - 1, argv + 1);
	return cli_bad_usage("class", "unknown class command %s: use up, status or down",
			     quote(q, argv[1]));
}
