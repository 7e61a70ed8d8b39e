/*
 * load: moves a dataset into the stack's stores, one module per target
 * (load-kafka.c, load-cassandra.c, load-elasticsearch.c, load-redis.c), and
 * counts what each store holds against the source. Re-running a load never
 * duplicates: keyed upserts, and for Kafka a load marker to resume from.
 */
#ifndef PANCAKE_LOAD_H
#define PANCAKE_LOAD_H

#include <stdint.h>
#include "core/dataset.h"
#include "util/strvec.h"
#include "util/buf.h"

/* called from the target's own thread; keep it cheap */
typedef void (*load_progress_fn)(const char *target, uint64_t done, uint64_t total,
				 void *ctx);

struct load_opts {
	const char *dataset;     /* the dataset's name: keys, marker, index names */
	const char *host;        /* 127.0.0.1 */
	int port;                /* the target's published host port */
	int timeout_ms;          /* per network call */
	int inflight;            /* concurrent requests/batches; 0: the target's default */
	load_progress_fn progress;
	void *ctx;
	volatile int *cancel;    /* stop soon (Ctrl-C) when it becomes nonzero */
	int full;                /* rewrite what a resume marker says is there
				    (cassandra); kafka always resumes from its topic */
	/* for loadrun: "T=HOST:PORT" stores named by hand; the others are found
	   through the engine (loadrun_endpoint). NULL: none. Borrowed. */
	const struct strvec *endpoints;
};

struct load_result {
	uint64_t ratings_written;   /* records sent and acknowledged this run */
	uint64_t ratings_rewritten; /* of those, written over the same data the store
				       already held: an idempotent overwrite, no duplicate */
	uint64_t ratings_skipped;   /* already there (resume), not sent again */
	uint64_t movies_written;
	double seconds;
};

struct load_counts {
	/* what the store holds for this dataset; -1 where the store keeps no such thing */
	int64_t ratings;
	int64_t movies;
	int64_t users;
	char detail[160];            /* e.g. "topic ratings: 1000209 records" */
};

/* what load returns when o->cancel stopped it: what is in stays, a re-run resumes */
#define LOAD_INTERRUPTED (-2)

/*
 * Every target has the same three entry points. load_X loads `ds` (all of
 * it: each target is idempotent, so a second run changes no count) and
 * returns 0, LOAD_INTERRUPTED or -1 with `err` set; count_X reports what
 * the store holds. A target that cannot be reached
 * fails with a message naming it and the way out, and no other target is
 * affected.
 */
struct load_target {
	const char *name;
	int default_port;
	int (*load)(const struct dataset *ds, const struct load_opts *o,
		    struct load_result *res, struct buf *err);
	int (*count)(const struct dataset *ds, const struct load_opts *o,
		     struct load_counts *c, struct buf *err);
	/* what a complete load of `ds` must count, for verify */
	void (*expect)(const struct dataset *ds, struct load_counts *c);
	/*
	 * Removes what loads of dataset `name` put in the store (no files
	 * needed: the store knows its keys) and says what in `detail`. 0 also
	 * when there was nothing; -1 with `err` when the store cannot be
	 * reached or holds something it will not remove.
	 */
	int (*drop)(const char *name, const struct load_opts *o, char *detail, size_t size,
		    struct buf *err);
};

#endif
