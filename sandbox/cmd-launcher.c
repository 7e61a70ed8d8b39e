/* cmd-launcher: `pancake launcher [--mono] [--data]`, also `pancake` alone on a terminal. */
#include "cli.h"
#include "tui/launcher.h"
#include "tui/terminal.h"
#include "util/xalloc.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

int cmd_launcher(int argc, char **argv)
{
	struct launcher_opts o;
	struct launcher *l;
	struct docker *d;
	struct stack st;
	struct buf err = BUF_INIT;
	const char *nc = getenv("NO_COLOR");
	char q[QUOTE_BUF];
	int i, ret;

	memset(&o, 0, sizeof(o));
	/* argv[0] is "launcher", or "pancake" when run with no command */
	for (i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--mono"))
			o.mono = 1;
		else if (!strcmp(argv[i], "--data"))
			o.pane = "data";
		else
			return cli_bad_usage("launcher", "unknown argument %s", quote(q, argv[i]));
	}
	if (nc && *nc)
		o.mono = 1;
	if (!isatty(0) || !isatty(1))
		return cli_fail(RC_FAILED, "the launcher needs a terminal: in scripts use 'pancake ps', "
				"'pancake up' and 'pancake logs'");
	if (terminal_check(&err)) {
		ret = cli_fail(RC_FAILED, "%s", err.s);
		buf_release(&err);
		return ret;
	}
	/* the definitions before the screen: a malformed one is a usage error */
	if (stack_open(&st, NULL, PROFILE_DEFAULT, NULL, NULL, &err)) {
		ret = cli_fail(RC_USAGE, "%s", err.s);
		buf_release(&err);
		return ret;
	}
	stack_close(&st);
	/* no word to the engine yet: the launcher waits for it on screen */
	d = stack_engine_new(&err);
	if (!d)
		cli_die(RC_USAGE, "%s", err.s);
	l = launcher_new(&o);
	if (stack_open(&st, d, PROFILE_DEFAULT, launcher_note, l, &err))
		cli_die(RC_USAGE, "%s", err.s);
	ret = launcher_run(l, &st);
	stack_close(&st);
	launcher_free(l);
	stack_engine_free(d);
	buf_release(&err);
	return ret;
}
