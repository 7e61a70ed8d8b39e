/*
 * modeljob: one of the recommender's jobs (train, publish, fold-in) run as a
 * child process in its own process group, its progress events read off a
 * pipe (model/progress.h) and its stderr kept in a log file. Nothing here
 * waits: the caller polls (the launcher from its loop, `pancake models` in
 * a loop of its own). The recommender is found beside pancake
 * (services/recommender/recommender under config's home) or at $RECOMMENDER.
 */
#ifndef PANCAKE_MODELJOB_H
#define PANCAKE_MODELJOB_H

#include <stddef.h>
#include <sys/types.h>
#include "model/progress.h"
#include "util/buf.h"

/* a training run: what the launcher's form and `pancake models train` ask */
struct modeljob_train {
	const char *dataset;	/* a dataset name the catalog knows or a ratings path */
	int implicit;		/* implicit feedback (alpha) instead of explicit ratings */
	int rank;		/* 0: the recommender's default */
	double lambda;		/* < 0: default */
	double alpha;		/* implicit only; < 0: default */
	int iters;		/* 0: default */
	double split;		/* fraction held out for the test figures; < 0: default */
	int do_register;	/* commit to the registry (candidate moves) */
	const char *registry;	/* NULL: config_registry() */
};

/* publishing a registered model to Redis */
struct modeljob_publish {
	const char *rev;	/* NULL: "candidate" */
	const char *registry;	/* NULL: config_registry() */
	const char *redis;	/* host:port; NULL: the project's Redis on loopback */
	const char *data;	/* the model's ratings (a name or folder); NULL: its dataset's name */
};

/* folding ratings from Kafka into a published model's lists */
struct modeljob_foldin {
	const char *rev;	/* NULL: "production" */
	const char *registry;	/* NULL: config_registry() */
	const char *redis;	/* host:port; NULL: the project's */
	const char *kafka;	/* host:port; NULL: the project's */
	const char *data;	/* the model's ratings (a name or folder); NULL: its dataset's name */
};

enum modeljob_state {
	MODELJOB_RUNNING,
	MODELJOB_DONE,		/* exited 0 */
	MODELJOB_FAILED,	/* exited non-zero or reported an error */
	MODELJOB_CANCELLED,	/* modeljob_cancel was called, and it has ended */
};

struct modeljob;

/*
 * Starts a job: 0 with *out new (free with modeljob_free), or -1 with `err`
 * saying why (no recommender, a bad parameter, fork failed). The child's
 * stdout and stderr go to `log` (NULL: a file under config_state()'s jobs/);
 * its argv is what `pancake models ... --verbose` prints. The jobs/ folder
 * keeps the newest 100 logs: starting a job removes older ones.
 */
int modeljob_train_start(struct modeljob **out, const struct modeljob_train *t,
			 const char *log, struct buf *err);
int modeljob_publish_start(struct modeljob **out, const struct modeljob_publish *p,
			   const char *log, struct buf *err);
int modeljob_foldin_start(struct modeljob **out, const struct modeljob_foldin *f,
			  const char *log, struct buf *err);

/* the pipe's read end, for poll(2); -1 once it closed */
int modeljob_fd(const struct modeljob *j);

/*
 * Reads whatever the pipe holds without waiting and reaps the child when it
 * has ended: the number of new events (0 none), or -1 when a line was
 * malformed (the job is then FAILED and killed; `err` says where).
 */
int modeljob_poll(struct modeljob *j, struct buf *err);

enum modeljob_state modeljob_state(const struct modeljob *j);

/* every event so far, oldest first; borrowed, valid until the next poll or free */
size_t modeljob_nevents(const struct modeljob *j);
const struct progress_event *modeljob_event(const struct modeljob *j, size_t i);
/* the newest event of `kind`, or NULL; borrowed as above */
const struct progress_event *modeljob_last(const struct modeljob *j, enum progress_kind kind);

/*
 * Why it ended, once it has: the error event's message, else the log's last
 * non-empty line, else "exited with status N" / "killed by signal N";
 * borrowed, valid until free. "" while it runs or when it succeeded.
 */
const char *modeljob_reason(const struct modeljob *j);
/* borrowed: the log file's path; the child's pid */
const char *modeljob_log(const struct modeljob *j);
pid_t modeljob_pid(const struct modeljob *j);

/*
 * Asks it to stop: SIGTERM to its process group (the recommender stops at
 * the next iteration or batch and moves no ref); SIGKILL if it is still
 * there 5 s later, at a later poll. Returns at once.
 */
void modeljob_cancel(struct modeljob *j);

/* cancels it if it runs, waits for it (at most 6 s), frees it; NULL is fine */
void modeljob_free(struct modeljob *j);

#endif
