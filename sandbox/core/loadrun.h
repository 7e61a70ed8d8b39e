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

/*
 * Where target `t` answers: the host port its service definition
 * (services/<name>/service.conf, with PANCAKE_<SERVICE>_PORT_<PORT>
 * overrides) publishes its default port on, and 127.0.0.1 unless bound to
 * one address. The defaults when there is no definition; -1 with `err`
 * when the definition or an override is malformed.
 */
int loadrun_endpoint(const struct load_target *t, char *host, size_t size, int *port,
		     struct buf *err);

struct loadrun_item {
	const struct load_target *t;   /* borrowed */
	struct load_opts o;            /* per target: port, progress */
	char host[64];                 /* o.host points here after loadrun_prepare */
	struct load_result res;
	struct buf err;                /* empty when it worked */
	int ret;
	/* called from the target's thread as soon as it has finished (may be NULL) */
	void (*on_done)(const struct loadrun_item *it, void *ctx);
	void *done_ctx;
};

/*
 * Sets items[0..n) up for targets ts[0..n): options copied from `base`,
 * the endpoint from loadrun_endpoint. -1 with `err` naming the target
 * whose definition is malformed.
 */
int loadrun_prepare(struct loadrun_item *items, const struct load_target *const *ts,
		    int n, const struct load_opts *base, struct buf *err);
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
