/* cmd-down: `pancake down [-v] [SERVICE...]`. */
#include "cli.h"
#include "core/swarm.h"
#include "util/xalloc.h"

#include <stdio.h>
#include <string.h>

int cmd_down(int argc, char **argv)
{
	struct stack st;
	struct buf err = BUF_INIT;
	const char **only = xcalloc((size_t)argc + 1, sizeof(*only));
	char q[QUOTE_BUF];
	int volumes = 0, swarm = 0, i, n = 0, ret;

	for (i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "-v") || !strcmp(argv[i], "--volumes")) {
			volumes = 1;
		} else if (!strcmp(argv[i], "--swarm")) {
			swarm = 1;
		} else if (argv[i][0] == '-') {
			free(only);
			return cli_bad_usage("down", "unknown option %s", quote(q, argv[i]));
		} else {
			only[n++] = argv[i];
		}
	}
	cli_load_stack(&st, PROFILE_DEFAULT, 1);
	for (i = 0; i < n; i++)
		if (stack_find(&st, only[i]) < 0) {
			ret = cli_bad_usage("down", "no service named %s", quote(q, only[i]));
			stack_close(&st);
			free(only);
			return ret;
		}
	if (swarm && (n || volumes)) {
		stack_close(&st);
		free(only);
		return cli_bad_usage("down", "--swarm removes the whole project: no SERVICE, no -v yet");
	}
	cli_connect_stack(&st);
	if (swarm) {
		ret = swarm_down(&st, &err);
		if (ret)
			cli_fail(RC_FAILED, "%s", err.s);
		else
			printf("down: the project's swarm services and network are gone (volumes kept on the nodes)\n");
		goto out;
	}
	ret = stack_down(&st, n ? only : NULL, volumes, &err);
	if (ret)
		cli_fail(RC_FAILED, "%s", err.s);
	else
		printf("down: %s%s\n", n ? "the named services are" : "the stack is",
		       volumes ? " gone, with their volumes" : " gone (data volumes kept; -v removes them)");
out:
	stack_close(&st);
	buf_release(&err);
	free(only);
	return ret ? 1 : 0;
}
