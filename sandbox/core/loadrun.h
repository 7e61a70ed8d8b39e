/*
 * loadrun: runs several load targets at once, each in its own thread, so a
 * slow or failing store never holds up the others, and verifies counts.
 */
#ifndef PANCAKE_LOADRUN_H
#define PANCAKE_LOADRUN_H

#include "core/load.h"

#define LOADRUN_MAX 8

/* the known targets, in display order; NULL-terminated, static */
extern const struct load_target *const load_targets[];
/* a target by name, or NULL */
const struct load_target *loadrun_find(const char *name);

struct loadrun_item {
	const struct load_target *t;   /* borrowed */
	struct load_opts o;            /* per target: port, progress */
	struct load_result res;
	struct buf err;                /* empty when it worked */
	int ret;
};

/* loads `ds` into every item at once; returns the number that failed */
int loadrun_all(const struct dataset *ds, struct loadrun_item *items, int n);

struct verify_row {
	const struct load_target *t;
	struct load_counts want, have;
	int ok;                        /* every count the store keeps matches */
	struct buf err;                /* could not count: why */
};
/* counts every target; returns the number that differ or failed */
int loadrun_verify(const struct dataset *ds, struct verify_row *rows, int n,
		   const struct load_opts *base);

#endif
