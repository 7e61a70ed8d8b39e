/*
 * launcher: the terminal screen of `pancake launcher`: the services live,
 * the selected one's logs, the stack's events, keys to start, stop and
 * restart. Docker is only called from the poller's threads (tui/poller.h).
 */
#ifndef PANCAKE_TUI_LAUNCHER_H
#define PANCAKE_TUI_LAUNCHER_H

#include "core/stack.h"

struct launcher;

struct launcher_opts {
	int mono;              /* no colors, whatever the terminal offers */
	const char *pane;      /* open on this pane (its name, "data"); NULL: the first */
	const char *labs;      /* the workshop track's folder; NULL: $PANCAKE_LABS, else the labs beside pancake */
};

/* new (free with launcher_free); takes notes at once, before launcher_run */
struct launcher *launcher_new(const struct launcher_opts *o);
/* the stack's note callback (stack_open); `ctx` is the launcher */
void launcher_note(const struct stack_note *n, void *ctx);
/*
 * Runs the screen until the user quits (or SIGINT/SIGTERM/SIGHUP). `st`
 * must outlive it; its engine handle need not be connected: the screen is
 * drawn at once and waits for the engine (poller.h), which also starts the
 * supervisor. On return the engine's calls are cut short (stack_abort). The
 * terminal is restored on return and by die(). Returns 0, or 1 with a
 * message on stderr when the terminal cannot be used.
 */
int launcher_run(struct launcher *l, struct stack *st);
void launcher_free(struct launcher *l);

#endif
