/* cmd-doctor: `pancake doctor`: is this machine ready for the stack? (core/doctor.h checks) */
#include "cli.h"
#include "core/doctor.h"
#include "util/jsonout.h"

#include <jansson.h>
#include <stdio.h>
#include <string.h>

static const char *const verdict_words[] = {
	[DOCTOR_OK] = "ok", [DOCTOR_FAIL] = "FAIL", [DOCTOR_NOT_RUN] = "FAIL",
};

/* text mode prints each line as soon as it is known, so a slow engine shows where it is */
static void print_check(const struct doctor_check *c, void *ctx)
{
	struct buf b = BUF_INIT;

	(void)ctx;
	quote_text(&b, c->text);
	printf("%s%-4s%s %-12s %s\n", cli_color(c->v == DOCTOR_OK ? C_GREEN : C_RED),
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
			json_object_set_new(e, "ok", json_boolean(dr.c[i].v == DOCTOR_OK));
			json_object_set_new(e, "ran", json_boolean(dr.c[i].v != DOCTOR_NOT_RUN));
			json_object_set_new(e, "detail", json_string(dr.c[i].text));
			json_array_append_new(arr, e);
		}
		json_object_set_new(o, "ok", json_boolean(!bad));
		json_object_set_new(o, "checks", arr);
		jsonout_print(o);
	} else {
		printf("%s\n", bad ? "some checks failed: see above for the way out" : "all checks passed");
	}
	return bad ? RC_FAILED : RC_OK;
}
