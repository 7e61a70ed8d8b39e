/* defs.h: a service definition written to a test's folder and loaded (core/service), for unit tests. */
#ifndef PANCAKE_TEST_DEFS_H
#define PANCAKE_TEST_DEFS_H

#include "core/service.h"
#include "util/buf.h"
#include "util/xalloc.h"

#include <stdio.h>
#include <stdlib.h>

/* writes `text` to dir/NAME.conf and loads it into `s`; 0, or -1 with the error printed as "# ..." */
static int def_load(struct service *s, const char *dir, const char *name, const char *text)
{
	char *path = xstrfmt("%s/%s.conf", dir, name);
	struct buf err = BUF_INIT;
	FILE *f = fopen(path, "w");
	int r;

	if (!f || fputs(text, f) < 0 || fclose(f))
		die("cannot write '%s'", path);
	r = service_load(s, name, path, &err);
	if (r)
		printf("# %s\n", err.s);
	buf_release(&err);
	free(path);
	return r;
}

#endif
