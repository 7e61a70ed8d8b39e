/* cmd-models: `pancake models list [--json]`: the model registry, as the recommender lists it. */
#include "cli.h"
#include "core/config.h"
#include "model/registry.h"

#include <stdio.h>
#include <string.h>

static int models_list(const char *dir, int json)
{
	struct registry *r = NULL;
	struct registry_entry *all = NULL;
	struct buf err = BUF_INIT, out = BUF_INIT;
	size_t n = 0;
	int ret;

	ret = registry_open(&r, dir, 0, &err);
	if (ret == REGISTRY_ENOTFOUND) {
		ret = cli_fail(RC_FAILED, "no model registry at '%s'; 'recommender train NAME "
			       "--register' creates it, or name another with --registry DIR or "
			       "PANCAKE_MODELS", dir);
		goto out;
	}
	if (ret || registry_list(r, &all, &n, &err)) {
		ret = cli_fail(RC_FAILED, "%s", err.s);
		goto out;
	}
	registry_list_render(all, n, registry_dir(r), json ? REGISTRY_LIST_JSON
			     : *cli_color(C_YELLOW) ? REGISTRY_LIST_COLOR : 0, &out);
	fputs(out.s, stdout);
	ret = RC_OK;
out:
	registry_list_free(all, n);
	if (r)
		registry_close(r);
	buf_release(&out);
	buf_release(&err);
	return ret;
}

int cmd_models(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "registry", 1, NULL, 'r' }, { "json", 0, NULL, 'j' }, { NULL, 0, NULL, 0 },
	};
	const char *dir = NULL;
	char q[QUOTE_BUF];
	int json = 0, c;

	optind = 1;
	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (c) {
		case 'r': dir = optarg; break;
		case 'j': json = 1; break;
		default: return cli_bad_option("models", argv);
		}
	}
	if (optind >= argc)
		return cli_bad_usage("models", "which? list");
	if (strcmp(argv[optind], "list"))
		return cli_bad_usage("models", "unknown models command %s: use list",
				     quote(q, argv[optind]));
	if (optind + 1 < argc)
		return cli_bad_usage("models", "unexpected argument %s for 'models list'",
				     quote(q, argv[optind + 1]));
	return models_list(dir ? dir : config_registry(), json);
}
