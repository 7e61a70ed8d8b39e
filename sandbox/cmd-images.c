/* cmd-images: `pancake images build|list|save|load`. */
#include "cli.h"
#include "core/images.h"
#include "util/jsonout.h"
#include "util/xalloc.h"

#include <jansson.h>
#include <stdio.h>
#include <string.h>

struct build_view {
	int verbose;
	int transient;           /* a build line is shown in place, with no newline */
};

/* the in-place line of build output goes before anything else is printed */
static void clear_transient(struct build_view *v)
{
	if (v->transient)
		printf("\r\033[K");
	v->transient = 0;
}

static void on_note(const struct images_note *n, void *ctx)
{
	struct build_view *v = ctx;
	struct buf t = BUF_INIT;

	quote_text(&t, n->text);
	if (n->phase != IMAGES_OUTPUT)
		clear_transient(v);
	switch (n->phase) {
	case IMAGES_START:
		printf("%s%s%s %s\n", cli_color(C_BOLD), n->image, cli_color(C_RESET), t.s);
		break;
	case IMAGES_SKIP:
		printf("  %s%s%s\n", cli_color(C_GREEN), t.s, cli_color(C_RESET));
		break;
	case IMAGES_STEP:
		printf("  %s\n", t.s);
		break;
	case IMAGES_OUTPUT:
		if (v->verbose) {
			printf("  %s| %s%s\n", cli_color(C_DIM), t.s, cli_color(C_RESET));
		} else if (cli_tty()) {
			printf("\r\033[K  %s| %.70s%s", cli_color(C_DIM), t.s, cli_color(C_RESET));
			v->transient = 1;
		}
		break;
	case IMAGES_DONE:
		printf("  %sbuilt%s %.19s in %.0f s\n", cli_color(C_GREEN), cli_color(C_RESET), t.s,
		       n->elapsed);
		break;
	}
	fflush(stdout);
	buf_release(&t);
}

static int images_build_cmd(int argc, char **argv)
{
	struct build_view v = { 0, 0 };
	struct buf err = BUF_INIT;
	const char **only = NULL;
	char q[QUOTE_BUF];
	int force = 0, i, n = 0, ret;

	only = xcalloc((size_t)argc + 1, sizeof(*only));
	for (i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--force")) {
			force = 1;
		} else if (!strcmp(argv[i], "--verbose") || !strcmp(argv[i], "-v")) {
			v.verbose = 1;
		} else if (argv[i][0] == '-') {
			free(only);
			return cli_bad_usage("images", "unknown option %s", quote(q, argv[i]));
		} else {
			only[n++] = argv[i];
		}
	}
	if (!cli_tty())
		v.verbose = 1;
	ret = images_build(cli_docker(), n ? only : NULL, force, on_note, &v, &err);
	if (ret) {
		clear_transient(&v);
		cli_fail(RC_FAILED, "%s", err.s);
	}
	free(only);
	buf_release(&err);
	return ret ? RC_FAILED : RC_OK;
}

static int images_list_cmd(int argc, char **argv)
{
	struct image_row rows[IMAGES_MAX];
	struct buf err = BUF_INIT;
	int json = 0, n, i;
	char q[QUOTE_BUF];

	for (i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--json"))
			json = 1;
		else
			return cli_bad_usage("images", "'images list' takes only --json, not %s",
					     quote(q, argv[i]));
	}
	n = images_list(cli_docker(), rows, IMAGES_MAX, &err);
	if (n < 0) {
		cli_fail(RC_FAILED, "%s", err.s);
		buf_release(&err);
		return RC_FAILED;
	}
	if (json) {
		json_t *arr = json_array();
		for (i = 0; i < n; i++) {
			json_t *o = json_object();
			json_object_set_new(o, "name", json_string(rows[i].name));
			json_object_set_new(o, "tag", json_string(rows[i].tag));
			json_object_set_new(o, "built", json_boolean(rows[i].id[0]));
			json_object_set_new(o, "id", rows[i].id[0] ? json_string(rows[i].id) : json_null());
			json_object_set_new(o, "content_hash", rows[i].hash[0] ? json_string(rows[i].hash) : json_null());
			json_object_set_new(o, "size", json_integer(rows[i].size));
			json_object_set_new(o, "created", json_integer(rows[i].created));
			json_array_append_new(arr, o);
		}
		jsonout_print(arr);
	} else {
		printf("%-14s %-28s %-14s %-10s %s\n", "NAME", "TAG", "ID", "SIZE", "CONTENT HASH");
		for (i = 0; i < n; i++) {
			char size[32] = "-";
			if (rows[i].id[0])
				human_bytes(size, sizeof(size), (double)rows[i].size);
			printf("%-14s %-28s %-14.12s %-10s %.12s\n", rows[i].name, rows[i].tag,
			       rows[i].id[0] ? rows[i].id + 7 : "(not built)", size,
			       rows[i].hash[0] ? rows[i].hash : "-");
		}
	}
	buf_release(&err);
	return 0;
}

int cmd_images(int argc, char **argv)
{
	struct buf err = BUF_INIT;
	char q[QUOTE_BUF];
	int ret;

	if (argc < 2)
		return cli_bad_usage("images", "which? build, list, save or load");
	if (!strcmp(argv[1], "build"))
		return images_build_cmd(argc - 1, argv + 1);
	if (!strcmp(argv[1], "list") || !strcmp(argv[1], "ls"))
		return images_list_cmd(argc - 1, argv + 1);
	if (!strcmp(argv[1], "save") || !strcmp(argv[1], "load")) {
		struct build_view v = { 1, 0 };
		if (argc < 3 || (argv[1][0] == 'l' && argc != 3))
			return cli_bad_usage("images", "'%s' takes a FILE", argv[1]);
		if (argv[1][0] == 's') {
			printf("saving %s to '%s'...\n", argc > 3 ? "the named images" : "every pancake image",
			       argv[2]);
			fflush(stdout);
			ret = images_save(cli_docker(), argv[2],
					  argc > 3 ? (const char *const *)argv + 3 : NULL, &err);
		} else {
			ret = images_load(cli_docker(), argv[2], on_note, &v, &err);
		}
		if (ret)
			cli_fail(RC_FAILED, "%s", err.s);
		else
			printf("%s '%s'\n", argv[1][0] == 's' ? "saved" : "loaded", argv[2]);
		buf_release(&err);
		return ret ? RC_FAILED : RC_OK;
	}
	return cli_bad_usage("images", "unknown images command %s: use build, list, save or load",
			     quote(q, argv[1]));
}
