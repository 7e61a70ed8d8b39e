/* cmd-doctor: `pancake doctor`: is this machine ready for the stack? */
#include "cli.h"
#include "core/config.h"
#include "core/images.h"
#include "util/xalloc.h"

#include <jansson.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#define DISK_WANT (6.0 * 1024 * 1024 * 1024)

struct check {
	char name[32];
	int ok;
	int warn_only;
	char text[1024];
};

static void add(struct check *c, int *n, const char *name, int ok, int warn_only,
		const char *fmt, ...) __attribute__((format(printf, 6, 7)));

static void add(struct check *c, int *n, const char *name, int ok, int warn_only,
		const char *fmt, ...)
{
	va_list ap;

	snprintf(c[*n].name, sizeof(c[*n].name), "%s", name);
	c[*n].ok = ok;
	c[*n].warn_only = warn_only;
	va_start(ap, fmt);
	vsnprintf(c[*n].text, sizeof(c[*n].text), fmt, ap);
	va_end(ap);
	(*n)++;
}

int cmd_doctor(int argc, char **argv)
{
	struct check c[32];
	struct buf err = BUF_INIT;
	struct docker *d;
	int json = argc > 1 && !strcmp(argv[1], "--json"), n = 0, i, bad = 0, code;

	if (argc > 1 && !json)
		return cli_bad_usage("doctor", "unknown argument '%s'", argv[1]);
	d = docker_open(NULL, &code, &err);
	if (!d) {
		add(c, &n, "engine", 0, 0, "%s", err.s);
	} else {
		struct docker_version v;
		struct docker_info info;
		struct stack st;
		struct service_status ss[SERVICE_MAX];
		struct image_row rows[IMAGES_MAX];
		int64_t need = 0, have = 0, disk = 0;
		int which[SERVICE_MAX], nw = 0, k, nimg;
		char a[32], b[32];

		add(c, &n, "engine", 1, 0, "reachable at %s", docker_endpoint(d));
		if (!docker_version(d, &v, &err))
			add(c, &n, "api", 1, 0, "engine %s speaks API %s; pancake uses %s",
			    v.version, v.api_version, docker_api_version(d));
		buf_reset(&err);
		if (!docker_info(d, &info, &err))
			add(c, &n, "engine-info", 1, 1, "%s, %d CPUs, storage %s, cgroup v%s",
			    info.os, info.ncpu, info.storage_driver, info.cgroup_version);
		buf_reset(&err);
		if (stack_open(&st, d, PROFILE_DEFAULT, NULL, NULL, &err)) {
			add(c, &n, "definitions", 0, 0, "%s", err.s);
		} else {
			add(c, &n, "definitions", 1, 0, "%d services defined in %s/services", st.n, config_home());
			buf_reset(&err);
			for (k = 0; k < st.n; k++)
				which[nw++] = k;
			if (stack_check_memory(&st, which, nw, &need, &have, &err)) {
				add(c, &n, "memory", 0, 0, "%s", err.s);
			} else {
				human_bytes(a, sizeof(a), (double)need);
				human_bytes(b, sizeof(b), (double)have);
				add(c, &n, "memory", 1, 0, "services' limits %s of %s usable", a, b);
			}
			buf_reset(&err);
			/* ports held by our own running containers are not conflicts */
			nw = 0;
			if (!stack_status(&st, ss, 0, &err))
				for (k = 0; k < st.n; k++)
					if (!ss[k].running)
						which[nw++] = k;
			buf_reset(&err);
			if (stack_check_ports(&st, which, nw, &err))
				add(c, &n, "ports", 0, 0, "%s", err.s);
			else
				add(c, &n, "ports", 1, 0, "every published port is free or already the stack's");
			buf_reset(&err);
			stack_close(&st);
		}
		if (!docker_root_free(d, &disk, &err)) {
			human_bytes(a, sizeof(a), (double)disk);
			add(c, &n, "disk", disk >= DISK_WANT, 0, "%s free at the engine's data root%s", a,
			    disk >= DISK_WANT ? "" : ": images and volumes want 6 GiB; free some space");
		} else {
			add(c, &n, "disk", 1, 1, "%s", err.s);
		}
		buf_reset(&err);
		nimg = images_list(d, rows, IMAGES_MAX, &err);
		if (nimg >= 0) {
			int missing = 0;
			struct buf names = BUF_INIT;
			for (k = 0; k < nimg; k++)
				if (!rows[k].id[0]) {
					buf_addf(&names, " %s", rows[k].name);
					missing++;
				}
			if (missing)
				add(c, &n, "images", 0, 0, "not built:%s; run 'pancake images build'", names.s);
			else
				add(c, &n, "images", 1, 0, "all %d images built", nimg);
			buf_release(&names);
		}
		docker_free(d);
	}
	for (i = 0; i < n; i++)
		if (!c[i].ok && !c[i].warn_only)
			bad++;
	if (json) {
		json_t *o = json_object(), *arr = json_array();
		char *s;
		for (i = 0; i < n; i++) {
			json_t *e = json_object();
			json_object_set_new(e, "check", json_string(c[i].name));
			json_object_set_new(e, "ok", json_boolean(c[i].ok));
			json_object_set_new(e, "detail", json_string(c[i].text));
			json_array_append_new(arr, e);
		}
		json_object_set_new(o, "ok", json_boolean(!bad));
		json_object_set_new(o, "checks", arr);
		s = json_dumps(o, JSON_INDENT(2));
		printf("%s\n", s);
		free(s);
		json_decref(o);
	} else {
		for (i = 0; i < n; i++)
			printf("%s%-4s%s %-12s %s\n", cli_color(c[i].ok ? C_GREEN : C_RED),
			       c[i].ok ? "ok" : "FAIL", cli_color(C_RESET), c[i].name, c[i].text);
		printf("%s\n", bad ? "some checks failed: see above for the way out" : "all checks passed");
	}
	buf_release(&err);
	return bad ? 1 : 0;
}
