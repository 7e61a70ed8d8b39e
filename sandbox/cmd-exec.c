/* cmd-exec: `pancake exec SERVICE CMD...`: runs a command in a service's container. */
#include "cli.h"
#include "util/xalloc.h"

#include <stdio.h>
#include <string.h>

int cmd_exec(int argc, char **argv)
{
	struct service_status ss[SERVICE_MAX];
	struct stack st;
	struct buf err = BUF_INIT, out = BUF_INIT;
	char q[QUOTE_BUF], q2[QUOTE_BUF];
	int k, code = -1, first = 2, ret;

	if (argc < 2 || argv[1][0] == '-')
		return cli_bad_usage("exec", "name a service and a command");
	if (argc > 2 && !strcmp(argv[2], "--"))
		first = 3;
	if (first >= argc)
		return cli_bad_usage("exec", "name a command to run in %s", quote(q, argv[1]));
	cli_load_stack(&st, PROFILE_DEFAULT, 0);
	k = stack_find(&st, argv[1]);
	if (k < 0) {
		stack_close(&st);
		return cli_bad_usage("exec", "no service named %s", quote(q, argv[1]));
	}
	cli_connect_stack(&st);
	if (stack_status(&st, ss, 0, &err)) {
		ret = cli_fail(RC_FAILED, "%s", err.s);
		goto out;
	}
	if (!ss[k].running) {
		ret = cli_fail(RC_FAILED, "service '%s' is not running: start it with 'pancake up %s'",
			       argv[1], argv[1]);
		goto out;
	}
	if (stack_exec(&st, ss[k].id, (const char *const *)argv + first, &out, &code,
			10 * 60 * 1000, &err)) {
		ret = cli_fail(RC_FAILED, "cannot run %s in '%s': %s", quote(q2, argv[first]),
			       argv[1], err.s);
		goto out;
	}
	fwrite(out.s, 1, out.len, stdout);
	if (code < 0)
		ret = cli_fail(RC_FAILED, "%s in '%s' ended without an exit code",
			       quote(q2, argv[first]), argv[1]);
	else
		ret = code;
out:
	stack_close(&st);
	buf_release(&err);
	buf_release(&out);
	return ret;
}
