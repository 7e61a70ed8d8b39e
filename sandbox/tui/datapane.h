/*
 * datapane: the launcher's data screen: the datasets on this machine, and
 * the running or last job (generate, load with a progress bar per store,
 * verify with a count per store). The work runs in a datajob (datajob.h);
 * this module only draws it and starts or cancels it.
 */
#ifndef PANCAKE_TUI_DATAPANE_H
#define PANCAKE_TUI_DATAPANE_H

#include "core/catalog.h"
#include "tui/datajob.h"
#include "util/buf.h"

#define DATAPANE_SETS 64

struct datapane {
	struct datajob job;
	struct catalog_local sets[DATAPANE_SETS];
	int nsets;
	int sel;                 /* selected dataset */
	int top;                 /* first dataset shown */
	enum datajob_phase seen_phase;
	unsigned seen_version;
	char drop_armed[64];     /* a first X on this dataset ... */
	double drop_armed_at;    /* ... at this time asks for a second */
};

void datapane_init(struct datapane *p);
/* cancels a running job and waits for it (a load stops resumable) */
void datapane_release(struct datapane *p);
/* lists the datasets again, keeping the selection on the same name */
void datapane_refresh(struct datapane *p);

void datapane_up(struct datapane *p);
void datapane_down(struct datapane *p);
/* the selected dataset's name, or NULL when there is none */
const char *datapane_selected(const struct datapane *p);

/*
 * Jobs on the selected dataset (generate makes one). -1 with a message for
 * the user in `why` when there is no dataset or a job is running.
 */
int datapane_load(struct datapane *p, int skip_bad_lines, struct buf *why);
int datapane_verify(struct datapane *p, struct buf *why);
int datapane_generate(struct datapane *p, const char *shape, struct buf *why);
/*
 * Drop asks first: the first call returns 1 with the question in `why`; a
 * second one on the same dataset within DATAPANE_CONFIRM_S starts the job.
 */
#define DATAPANE_CONFIRM_S 5.0
int datapane_drop(struct datapane *p, struct buf *why);
/* -1 with `why` when nothing runs */
int datapane_cancel(struct datapane *p, struct buf *why);

/*
 * Draws the pane in rows y .. y+rows-1 (a rule first). Takes the job's
 * lock; call from the UI thread only.
 */
void datapane_draw(struct datapane *p, int y, int rows);

/*
 * Whether the job changed since the last call (a redraw is due). When it
 * has just finished, `*finished` is set to 1 and `summary` (size bytes)
 * says how it ended, for the event line.
 */
int datapane_changed(struct datapane *p, int *finished, char *summary, size_t size);

#endif
