/* jsonout: a --json answer on stdout, printed the same way by every command. */
#include "util/jsonout.h"

#include <stdio.h>

int jsonout_print(json_t *j)
{
	int r = json_dumpf(j, stdout, JSON_INDENT(2) | JSON_PRESERVE_ORDER | JSON_REAL_PRECISION(6));

	if (r == 0)
		printf("\n");
	json_decref(j);
	return r < 0 ? -1 : 0;
}
