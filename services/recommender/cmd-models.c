/* models: the registry's commands: list, show, promote, rollback, diff. */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "rec.h"
#include "model/registry.h"
#include "util/xalloc.h"
#include "util/jsonout.h"

/* the line `models list` shows for `e`, on stdout */
static void print_entry_line(const struct registry_entry *e)
{
	struct buf line = BUF_INIT;

	registry_entry_line(e, *rec_color("\033[33m") ? REGISTRY_LIST_COLOR : 0, &line);
	fputs(line.s, stdout);
	buf_release(&line);
}

static int fail(struct buf *err)
{
	error("%s", err->s);
	return 1;
}

int cmd_models(int argc, char **argv)
{
	static const struct option longs[] = {
		{ "registry", 1, NULL, 'r' }, { "json", 0, NULL, 'j' }, { NULL, 0, NULL, 0 },
	};
	const char *registry = NULL;
	struct registry *r = NULL;
	struct registry_entry e;
	struct buf err = BUF_INIT, out = BUF_INIT;
	int json = 0, c, ret = 1;

	memset(&e, 0, sizeof(e));
	while ((c = getopt_long(argc, argv, "", longs, NULL)) != -1) {
		if (c == 'r')
			registry = optarg;
		else if (c == 'j')
			json = 1;
		else
			return rec_bad_usage("models", "unknown option");
	}
	if (optind >= argc)
		return rec_bad_usage("models", "models wants list, show, promote, rollback or diff");
	const char *verb = argv[optind];
	int nargs = argc - optind - 1;
	char **args = argv + optind + 1;
	if ((!strcmp(verb, "list") && nargs) || (!strcmp(verb, "show") && nargs != 1) ||
	    (!strcmp(verb, "promote") && nargs > 1) || (!strcmp(verb, "rollback") && nargs) ||
	    (!strcmp(verb, "diff") && nargs != 2))
		return rec_bad_usage("models", "wrong arguments for 'models %s'", verb);
	if (strcmp(verb, "list") && strcmp(verb, "show") && strcmp(verb, "promote") &&
	    strcmp(verb, "rollback") && strcmp(verb, "diff"))
		return rec_bad_usage("models", "unknown models command '%s'", verb);

	if (registry_open(&r, rec_registry_dir(registry), 0, &err)) {
		error("%s", err.s);
		fprintf(stderr, "hint: 'recommender train NAME --register' creates it\n");
		goto out;
	}
	if (!strcmp(verb, "list")) {
		struct registry_entry *all;
		size_t n;
		if (registry_list(r, &all, &n, &err)) {
			ret = fail(&err);
			goto out;
		}
		registry_list_render(all, n, registry_dir(r),
				     json ? REGISTRY_LIST_JSON
				     : *rec_color("\033[33m") ? REGISTRY_LIST_COLOR : 0, &out);
		fputs(out.s, stdout);
		registry_list_free(all, n);
	} else if (!strcmp(verb, "show")) {
		if (registry_show(r, args[0], &e, &err)) {
			ret = fail(&err);
			goto out;
		}
		if (json) {
			jsonout_print(registry_entry_json(&e));
		} else {
			print_entry_line(&e);
			printf("commit %s, model.bin %zu bytes\nparams: %s\nmetrics: %s\n", e.id,
			       e.model_size, e.params_json, e.metrics_json);
		}
	} else if (!strcmp(verb, "promote") || !strcmp(verb, "rollback")) {
		int promote = !strcmp(verb, "promote");
		int rr = promote ? registry_promote(r, nargs ? args[0] : NULL, &e, &err)
				 : registry_rollback(r, &e, &err);
		if (rr) {
			ret = fail(&err);
			goto out;
		}
		if (json) {
			json_t *j = registry_entry_json(&e);
			json_object_set_new(j, "action", json_string(verb));
			jsonout_print(j);
		} else {
			printf("production -> %s (%s)\n", e.short_id, e.summary);
		}
	} else {
		int rr = json ? registry_diff_json(r, args[0], args[1], &out, &err)
			      : registry_diff(r, args[0], args[1], &out, &err);
		if (rr) {
			ret = fail(&err);
			goto out;
		}
		fputs(out.s, stdout);
		if (out.len && out.s[out.len - 1] != '\n')
			putchar('\n');
	}
	ret = 0;
out:
	registry_entry_release(&e);
	if (r)
		registry_close(r);
	buf_release(&out);
	buf_release(&err);
	return ret;
}
