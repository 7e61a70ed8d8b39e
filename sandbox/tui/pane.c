/*
 * pane: the table of the launcher's panes, the one place a screen is wired
 * in. A new pane is its file (const struct pane_ops NAME_pane) and the two
 * lines that name it here, as tmux's cmd.c lists its commands.
 */
#include "tui/pane.h"
#include "util/xalloc.h"

extern const struct pane_ops services_pane;
extern const struct pane_ops data_pane;

const struct pane_entry panes[] = {
	{ &services_pane, 0 },
	{ &data_pane,     'D' },
};
const size_t npanes = ARRAY_SIZE(panes);
