/*
 * labprog: an attendee's progress through the track on one stack
 * (progress.json in the stack's lab state folder), updated atomically.
 */
#ifndef PANCAKE_LABPROG_H
#define PANCAKE_LABPROG_H

#include <stddef.h>
#include <stdint.h>
#include "util/buf.h"

#define LABPROG_FILE "progress.json"
#define LABPROG_MAX (4 << 20)      /* a larger progress file is refused as corrupt */

struct labprog_step {
	char *lab, *step;
	int64_t done_at;           /* unix seconds; 0: not done */
	int hints;                 /* hints revealed */
};

struct labprog {
	char *lab, *step;          /* the current step (last started), or NULL */
	struct labprog_step *v;    /* in no particular order */
	size_t n, alloc;
};

void labprog_init(struct labprog *p);
void labprog_release(struct labprog *p);

/*
 * Reads `dir`/progress.json into `p` (a missing file: no progress). 0, or
 * -1 with `err`: unreadable, or corrupt (the message names the file and
 * the way out).
 */
int labprog_read(struct labprog *p, const char *dir, struct buf *err);

enum labprog_flags {
	LABPROG_DISCARD_CORRUPT = 1 << 0, /* a corrupt file is kept aside as
					     progress.json.corrupt and the
					     update starts from nothing */
};
/* changes `p`; nonzero cancels the update (nothing is written) */
typedef int (*labprog_fn)(struct labprog *p, void *ctx);
/*
 * Read-modify-write under an exclusive lock on `dir`/progress.lock, so two
 * launchers on one stack lose neither's change; written to a temporary file
 * then renamed, so a reader sees the old file or the new, never half.
 * Creates `dir`. Returns fn's nonzero value, 0, or -1 with `err`.
 */
int labprog_update(const char *dir, labprog_fn fn, void *ctx, unsigned flags,
		   struct buf *err);

/*
 * The changes the commands and the labs screen make, for labprog_update
 * with labprog_change_apply as `fn` and the change as `ctx`: forget a
 * lab's progress, make a step current, mark it done, reveal one more hint
 * (up to hints_max); `hints` comes back with the hints revealed after it.
 */
struct labprog_change {
	const char *lab, *step;
	int set_current, mark_done, add_hint, hints_max, forget;
	int hints;                 /* out */
};
int labprog_change_apply(struct labprog *p, void *ctx);

/* the entry of a step; NULL, or with `create` a new empty one; borrowed */
struct labprog_step *labprog_get(struct labprog *p, const char *lab, const char *step,
				 int create);
/* forgets every step of `lab` (and the current step if it is in `lab`) */
void labprog_forget(struct labprog *p, const char *lab);
/* sets the current step (copied) */
void labprog_set_current(struct labprog *p, const char *lab, const char *step);

#endif
