/* cmd-launcher: `pancake launcher [--mono] [--data] [--pane NAME] [--labs DIR]`, also `pancake` alone on a terminal. */
#include "cli.h"
#include "tui/launcher.h"
#include "tui/pane.h"
#include "tui/terminal.h"
#include "util/xalloc.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* 0 when `name` is a pane's; else -1 with *names listing them (static) */
static int known_pane(const char *name, const char **names)
{
	static char list[256];
	size_t i, used = 0;

	for (i = 0; i < npanes; i++)
		if (!strcmp(panes[i].ops->name, name))
			return 0;
	list[0] = '\0';
	for (i = 0; i < npanes && used < sizeof(list); i++)
		used += (size_t)snprintf(list + used, sizeof(list) - used, "%s%s", i ? ", " : "",
					 panes[i].ops->name);
	*names = list;
	return -1;
}

int cmd_launcher(int argc, char **argv)
{
	struct launcher_opts o;
	struct launcher *l;
	struct docker *d;
	struct stack st;
	struct buf err = BUF_INIT;
	const char *nc = getenv("NO_COLOR");
	char q[QUOTE_BUF];
	const char *names = NULL;
	int i, ret;

	memset(&o, 0, sizeof(o));
	/* argv[0] is "launcher", or "pancake" when run with no command */
	for (i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--mono"))
			o.mono = 1;
		else if (!strcmp(argv[i], "--data"))
			o.pane = "data";
		else if (!strcmp(argv[i], "--pane") || !strcmp(argv[i], "--labs")) {
			if (i + 1 >= argc)
				return cli_bad_usage("launcher", "%s wants a %s after it", argv[i],
						     argv[i][2] == 'p' ? "screen's name" : "folder");
			*(argv[i][2] == 'p' ? &o.pane : &o.labs) = argv[i + 1];
			i++;
		} else if (!strncmp(argv[i], "--pane=", 7))
			o.pane = argv[i] + 7;
		else if (!strncmp(argv[i], "--labs=", 7))
			o.labs = argv[i] + 7;
		else
			return cli_bad_usage("launcher", "unknown argument %s", quote(q, argv[i]));
	}
	if (o.pane && known_pane(o.pane, &names))
		return cli_bad_usage("launcher", "unknown screen %s for --pane: %s", quote(q, o.pane),
				     names);
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
