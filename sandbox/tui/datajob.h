/*
 * datajob: the launcher's data work (generate a dataset, load one into the
 * stack, verify it) on a background thread, one job at a time, so that the
 * screen never waits on a store. The UI reads the fields under
 * datajob_lock(); the job thread and the loaders' threads write them.
 */
#ifndef PANCAKE_TUI_DATAJOB_H
#define PANCAKE_TUI_DATAJOB_H

#include <pthread.h>
#include <stdint.h>
#include "core/dataset.h"
#include "core/load.h"
#include "core/loadrun.h"
#include "util/buf.h"

enum datajob_kind { DJ_NONE, DJ_GENERATE, DJ_LOAD, DJ_VERIFY, DJ_DROP };

enum datajob_phase {
	DJ_IDLE,          /* nothing has run yet */
	DJ_READING,       /* reading (and checking) the dataset's files */
	DJ_RUNNING,       /* generating, loading or counting */
	DJ_DONE,          /* finished, every target fine */
	DJ_FAILED,        /* finished, something failed: see message and targets */
	DJ_STOPPED,       /* cancelled: what is in stays, a re-run resumes */
};

enum datajob_tstate { DT_WAITING, DT_RUNNING, DT_OK, DT_FAILED, DT_STOPPED };

struct datajob_target {
	char name[24];
	char endpoint[80];             /* host:port */
	enum datajob_tstate state;
	uint64_t done, total;          /* ratings, as the loader reports them */
	uint64_t base;                 /* the first count reported: a resume's skip */
	double since;                  /* when `base` was reported */
	double seconds;                /* when finished */
	uint64_t written, skipped, movies;
	struct load_counts have, want; /* verify */
	char message[320];             /* the failure, or the store's count or drop detail */
};

struct datajob {
	/* --- read by the UI under datajob_lock() --- */
	enum datajob_kind kind;
	enum datajob_phase phase;
	char dataset[64];              /* its name */
	char message[640];             /* outcome: a file:line refusal, a skip report... */
	int refused_bad_lines;         /* the read stopped at a bad line (abort mode) */
	int n;
	struct datajob_target t[LOADRUN_MAX];
	uint64_t gen_done, gen_total;  /* DJ_GENERATE */
	double started, finished;      /* monotonic seconds */
	unsigned version;              /* bumped on every change worth a redraw */

	/* --- private to datajob.c --- */
	pthread_mutex_t lock;
	pthread_t thread;
	int have_thread;
	volatile int cancel;
	char dir[512];
	char shape[16];
	uint64_t seed;
	enum dataset_on_error on_error;
};

void datajob_init(struct datajob *j);
/* cancels a running job, waits for it and frees what it holds */
void datajob_release(struct datajob *j);
void datajob_lock(struct datajob *j);
void datajob_unlock(struct datajob *j);

/* 1 while a job is reading or running (call under the lock or not) */
int datajob_busy(const struct datajob *j);

/*
 * Start a job; -1 with a message in `why` when one is already running.
 * load: the dataset in `dir` named `name` into every load target, with
 * on_error as for dataset_read (DS_ABORT refuses a file with a bad line
 * before anything is written). verify: counts every store against it.
 * generate: `shape` ("ml-100k", "ml-1m"...) with `seed` into the
 * generated datasets' folder, named SHAPE-sSEED.
 */
int datajob_load(struct datajob *j, const char *dir, const char *name,
		 enum dataset_on_error on_error, struct buf *why);
int datajob_verify(struct datajob *j, const char *dir, const char *name, struct buf *why);
int datajob_generate(struct datajob *j, const char *shape, uint64_t seed, struct buf *why);
/* drop: removes what loads of `name` put in every store (the files stay) */
int datajob_drop(struct datajob *j, const char *name, struct buf *why);

/* asks the running job to stop soon (a load stops resumable); no wait */
void datajob_cancel(struct datajob *j);

#endif
