/* cmd-doctor: `pancake doctor`: is this machine ready for the stack? (core/doctor.h checks) */
#include "cli.h"
#include "core/doctor.h"
#include "util/jsonout.h"

#include <jansson.h>
#include <stdio.h>
#include <string.h>

static const char *const verdict_words[] = {
	[DOCTOR_OK] = "ok", [DOCTOR_FAIL] = "FAIL", [DOCTOR_NOT_RUN] = "FAIL",
	[DOCTOR_INFO] = "info", [DOCTOR_WARN] = "warn",
};
/* the "level" of --json: ok, info and warn are not failures */
static const char *const level_words[] = {
	[DOCTOR_OK] = "ok", [DOCTOR_FAIL] = "fail", [DOCTOR_NOT_RUN] = "fail",
	[DOCTOR_INFO] = "info", [DOCTOR_WARN] = "warn",
};
static const enum cli_color verdict_colors[] = {
	[DOCTOR_OK] = C_GREEN, [DOCTOR_FAIL] = C_RED, [DOCTOR_NOT_RUN] = C_RED,
	[DOCTOR_INFO] = C_CYAN, [DOCTOR_WARN] = C_YELLOW,
};

/* text mode prints each line as soon as it is known, so a slow engine shows where it is */
static void print_check(const struct doctor_check *c, void *ctx)
{
	struct buf b = BUF_INIT;

	(void)ctx;
	quote_text(&b, c->text);
	printf("%s%-4s%s %-12s %s\n", cli_color(verdict_colors[c->v]),
	       verdict_words[c->v], cli_color(C_RESET), c->name, b.s);
	fflush(stdout);
	buf_release(&b);
}

int cmd_doctor(int argc, char **argv)
{
	struct doctor dr;
	char q[QUOTE_BUF];
	int i, bad, json = 0;

	for (i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--json"))
			json = 1;
		else
			return cli_bad_usage("doctor", "unknown argument %s", quote(q, argv[i]));
	}
	bad = doctor_run(&dr, json ? NULL : print_check, NULL);
	if (json) {
		json_t *o = json_object(), *arr = json_array();

		for (i = 0; i < dr.n; i++) {
			json_t *e = json_object();
			json_object_set_new(e, "check", json_string(dr.c[i].name));
			/* "ok": not a failure, so info and warn lines are ok too */
			json_object_set_new(e, "ok", json_boolean(dr.c[i].v != DOCTOR_FAIL &&
								  dr.c[i].v != DOCTOR_NOT_RUN));
			json_object_set_new(e, "level", json_string(level_words[dr.c[i].v]));
			json_object_set_new(e, "ran", json_boolean(dr.c[i].v != DOCTOR_NOT_RUN));
			json_object_set_new(e, "detail", json_string(dr.c[i].text));
			json_array_append_new(arr, e);
		}
		json_object_set_new(o, "ok", json_boolean(!bad));
		json_object_set_new(o, "checks", arr);
		json_object_set_new(o, "swarm", json_pack("{s:s, s:b, s:i, s:i}", "state", dr.swarm.state,
							  "manager", dr.swarm.manager, "nodes",
							  dr.swarm.nodes, "managers", dr.swarm.managers));
		json_object_set_new(o, "ipvs", json_pack("{s:b, s:s}", "available", dr.ipvs.available,
							 "how", dr.ipvs.how));
		jsonout_print(o);
	} else {
		int warn = 0;

		for (i = 0; i < dr.n; i++)
			warn += dr.c[i].v == DOCTOR_WARN;
		if (bad)
			printf("some checks failed: see above for the way out\n");
		else if (warn)
			printf("all checks passed, with %d warning%s above\n", warn, warn == 1 ? "" : "s");
		else
			printf("all checks passed\n");
	}
	return bad ? RC_FAILED : RC_OK;
}
