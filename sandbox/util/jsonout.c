/* jsonout: a --json answer on stdout, printed the same way by every command. */
#include "util/jsonout.h"

#include <stdio.h>
#include <stdlib.h>

#include "util/buf.h"

#define JSONOUT_FLAGS (JSON_INDENT(2) | JSON_PRESERVE_ORDER | JSON_REAL_PRECISION(6))

int jsonout_print(json_t *j)
{
	int r = json_dumpf(j, stdout, JSONOUT_FLAGS);

	if (r == 0)
		printf("\n");
	json_decref(j);
	return r < 0 ? -1 : 0;
}

void jsonout_add(struct buf *out, json_t *j)
{
	char *s = json_dumps(j, JSONOUT_FLAGS);

	if (s) {
		buf_addstr(out, s);
		buf_addch(out, '\n');
		free(s);
	}
	json_decref(j);
}
