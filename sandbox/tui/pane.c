/*
 * pane: the table of the launcher's panes, the one place a screen is wired
 * in. A new pane is its file (const struct pane_ops NAME_pane) and one line
 * here, PANE(NAME_pane, 'K'), that both declares it and puts it in panes[].
 */
#include "tui/pane.h"
#include "util/xalloc.h"

/* every pane, the home first, in the order of the help: its ops and the key that shows it */
#define PANES(PANE) \
	PANE(services_pane, 0) \
	PANE(data_pane,     'D') \
	PANE(labs_pane,     'L') \
	PANE(serving_pane,  'V') \
	PANE(models_pane,   'M')

#define DECLARE(ops, key) extern const struct pane_ops ops;
#define ROW(ops, key) { &ops, key },

PANES(DECLARE)

const struct pane_entry panes[] = {
	PANES(ROW)
};
const size_t npanes = ARRAY_SIZE(panes);
