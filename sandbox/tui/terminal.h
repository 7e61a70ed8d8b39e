/*
 * terminal: whether the terminal the launcher is given can show it, asked
 * of terminfo before anything is drawn (so a refusal leaves it untouched).
 */
#ifndef PANCAKE_TUI_TERMINAL_H
#define PANCAKE_TUI_TERMINAL_H

#include "util/buf.h"

/*
 * 0 when $TERM is known to terminfo and can address the cursor; -1 with a
 * message naming the way out in `why` otherwise (TERM=dumb, an unknown or
 * unset TERM). Writes nothing to the terminal.
 */
int terminal_check(struct buf *why);

#endif
