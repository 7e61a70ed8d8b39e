/*
 * loadrun: runs several load targets at once, each in its own thread, so a
 * slow or failing store never holds up the others, and verifies counts.
 */
#ifndef PANCAKE_LOADRUN_H
#define PANCAKE_LOADRUN_H

#include "core/load.h"
#include "util/strvec.h"

#define LOADRUN_MAX 8

/* the known targets, in display order; NULL-terminated, static */
extern const struct load_target *const load_targets[];
/* a target by name, or NULL */
const struct load_target *loadrun_find(const char *name);

/* what finding a store can fail with, beside -1 (the engine failed) */
#define LOADRUN_ENOENGINE (-2)   /* no engine answers: nothing can be known */
#define LOADRUN_ENOSTACK (-3)    /* the project has no such running container */
#define LOADRUN_EUSAGE (-4)      /* a malformed --endpoint */

/*
 * Where target `t` answers: asked of the engine, the project's
 * (PANCAKE_PROJECT's) own container labelled with the target's service,
 * and the host address and port it publishes the target's port on
 * (loopback when bound to every address); a stopped one, its definition's
 * port, where the load then fails alone saying it is down. With no such
 * container, nothing: a load must not write to a store on the default
 * port that another project, or something else, runs. 0, or a LOADRUN_E*
 * code or -1 with `err` saying what and the way out.
 */
int loadrun_endpoint(const struct load_target *t, char *host, size_t size, int *port,
		     struct buf *err);
/*
 * Checks explicit endpoints ("redis=HOST:PORT", what --endpoint gives)
 * before anything connects: each names a known target and a HOST:PORT.
 */
int loadrun_check_endpoints(const struct strvec *given, struct buf *err);

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
 * the endpoint from base->endpoints when it names the target, else from
 * loadrun_endpoint. Fails (a LOADRUN_E* code or -1 with `err`) before
 * anything is written when one target cannot be found.
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
