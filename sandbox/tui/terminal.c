/* terminal: the launcher's terminal asked of terminfo (its own file: <term.h>'s macros). */
#include "tui/terminal.h"

#include <curses.h>
#include <stdlib.h>
#include <term.h>

int terminal_check(struct buf *why)
{
	const char *term = getenv("TERM");
	const char *cup;
	int err = 0;

	if (!term || !*term || setupterm(NULL, 1, &err) != OK) {
		buf_addf(why, "cannot use the terminal '%s': set TERM to one this system knows "
			 "(e.g. TERM=xterm-256color), or use 'pancake ps' and 'pancake logs'",
			 term ? term : "");
		return -1;
	}
	/* a terminal that cannot move its cursor (dumb, a printer) only scrolls */
	cup = tigetstr("cup");
	del_curterm(cur_term);
	if (!cup || cup == (const char *)-1) {
		buf_addf(why, "the launcher needs a terminal that can move its cursor, and "
			 "TERM='%s' cannot: use 'pancake ps' and 'pancake logs' instead "
			 "(or a terminal such as TERM=xterm-256color)", term);
		return -1;
	}
	return 0;
}
