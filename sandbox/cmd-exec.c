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
	int k, code = -1, first = 2;

	if (argc < 3)
		return cli_bad_usage("exec", "name a service and a command");
	if (!strcmp(argv[2], "--"))
		first = 3;
	if (first >= argc)
		return cli_bad_usage("exec", "name a command to run");
	cli_open_stack(&st, PROFILE_DEFAULT, 0);
	k = stack_find(&st, argv[1]);
	if (k < 0)
		return cli_bad_usage("exec", "no service named '%s'", argv[1]);
	if (stack_status(&st, ss, 0, &err))
		die("%s", err.s);
	if (!ss[k].running)
		die("service '%s' is not running: start it with 'pancake up %s'", argv[1], argv[1]);
	if (docker_exec(st.d, ss[k].id, (const char *const *)argv + first, &out, &code,
			10 * 60 * 1000, &err))
		die("cannot run '%s' in '%s': %s", argv[first], argv[1], err.s);
	fwrite(out.s, 1, out.len, stdout);
	if (code < 0)
		die("'%s' in '%s' ended without an exit code", argv[first], argv[1]);
	stack_close(&st);
	buf_release(&err);
	buf_release(&out);
	return code;
}
