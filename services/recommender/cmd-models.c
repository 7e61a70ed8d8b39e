/* models: the registry's commands: list, show, promote, rollback, diff. */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "rec.h"
#include "model/registry.h"
#include "util/xalloc.h"

static json_t *entry_json(const struct registry_entry *e)
{
	json_t *j = json_pack("{s:s, s:s, s:I, s:s, s:b, s:b, s:I}", "id", e->id,
			      "short_id", e->short_id, "time", (json_int_t)e->time,
			      "summary", e->summary ? e->summary : "",
			      "production", e->is_production, "candidate", e->is_candidate,
			      "model_bytes", (json_int_t)e->model_size);
	json_t *p = json_loads(e->params_json ? e->params_json : "{}", 0, NULL);
	json_t *m = json_loads(e->metrics_json ? e->metrics_json : "{}", 0, NULL);
	json_object_set_new(j, "params", p ? p : json_object());
	json_object_set_new(j, "metrics", m ? m : json_object());
	return j;
}

/* "rmse 0.8612" from a metrics text, or "" */
static void metric_brief(const char *metrics, char *out, size_t size)
{
	json_t *m = json_loads(metrics ? metrics : "{}", 0, NULL);
	const char *keys[] = { "rmse", "ndcg@10", "precision@10" };

	out[0] = '\0';
	for (size_t i = 0; m && i < sizeof(keys) / sizeof(keys[0]); i++) {
		json_t *v = json_object_get(m, keys[i]);
		if (json_is_number(v)) {
			size_t n = strlen(out);
			snprintf(out + n, size - n, "%s%s %.4f", n ? ", " : "", keys[i],
				 json_number_value(v));
		}
	}
	json_decref(m);
}

static void print_entry_line(const struct registry_entry *e)
{
	char when[32], brief[96];
	time_t t = (time_t)e->time;
	struct tm tm;

	localtime_r(&t, &tm);
	strftime(when, sizeof(when), "%Y-%m-%d %H:%M", &tm);
	metric_brief(e->metrics_json, brief, sizeof(brief));
	printf("%s%s%s  %s  %-12s %s%s%s%s\n", rec_color("\033[33m"), e->short_id,
	       rec_color("\033[0m"), when, e->is_production && e->is_candidate ? "[prod,cand]"
	       : e->is_production ? "[production]" : e->is_candidate ? "[candidate]" : "",
	       e->summary ? e->summary : "", *brief ? " (" : "", brief, *brief ? ")" : "");
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
		if (json) {
			json_t *a = json_array();
			for (size_t i = 0; i < n; i++)
				json_array_append_new(a, entry_json(&all[i]));
			rec_print_json(a);
		} else if (!n) {
			printf("no models in %s yet: 'recommender train NAME --register' adds one\n",
			       registry_dir(r));
		} else {
			for (size_t i = 0; i < n; i++)
				print_entry_line(&all[i]);
		}
		registry_list_free(all, n);
	} else if (!strcmp(verb, "show")) {
		if (registry_show(r, args[0], &e, &err)) {
			ret = fail(&err);
			goto out;
		}
		if (json) {
			rec_print_json(entry_json(&e));
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
			json_t *j = entry_json(&e);
			json_object_set_new(j, "action", json_string(verb));
			rec_print_json(j);
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
