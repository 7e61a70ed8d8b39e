/*
 * rec: what the recommender's subcommands share: the command table,
 * option parsing, datasets by name, the stack's endpoints, the registry's
 * place, and interrupts.
 */
#ifndef PANCAKE_REC_H
#define PANCAKE_REC_H

#include <jansson.h>

#include <getopt.h>
#include <stdint.h>
#include "core/dataset.h"
#include "model/model.h"
#include "model/progress.h"
#include "util/buf.h"
#include "util/command.h"

/* the recommender's commands (main.c); no flags */
extern const struct command rec_cmds[];

int cmd_train(int argc, char **argv);
int cmd_eval(int argc, char **argv);
int cmd_publish(int argc, char **argv);
int cmd_models(int argc, char **argv);
int cmd_foldin(int argc, char **argv);
int cmd_split(int argc, char **argv);
int cmd_peak(int argc, char **argv);

/* a usage error with the usage line; 2 */
int rec_bad_usage(const char *name, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* strict numbers: the whole string, within [lo, hi]; -1 with a message printed */
int rec_int(const char *cmd, const char *opt, const char *s, long lo, long hi, long *out);
int rec_float(const char *cmd, const char *opt, const char *s, double lo, double hi,
	      double *out);

/*
 * Reads dataset NAME|DIR (as 'pancake data' names them) into `ds`; *name
 * gets its name (new string). -1 with the reason printed.
 */
int rec_read_dataset(const char *arg, enum dataset_on_error on_error,
		     struct dataset *ds, char **name);

/*
 * Reads dataset NAME's ratings from the stack's Cassandra into `ds`; *name
 * gets NAME (new string). -1 with the reason printed.
 */
int rec_read_cassandra(const char *name, struct dataset *ds, char **out_name);

/*
 * Where a stack member answers, from its service definition (ports and
 * PANCAKE_<SVC>_PORT_<N> overrides): "redis" or "kafka". An explicit
 * "HOST:PORT" wins. -1 with the reason printed.
 */
int rec_endpoint(const char *service, const char *given, char *host, size_t size, int *port);

/* the registry's directory: --registry, $PANCAKE_MODELS/registry, or <home>/models/registry */
const char *rec_registry_dir(const char *given);

/*
 * A model from a file path or a registry revision ("production",
 * "candidate", an id): a path that exists is a file. -1 with the reason
 * printed.
 */
int rec_load_model(const char *arg, const char *registry, struct model *m);

/* SIGINT/SIGTERM set this instead of killing the process */
extern volatile int rec_interrupted;
void rec_catch_signals(void);

/*
 * --progress-fd N: where a command's progress events go, one JSON line
 * each (model/progress.h), for the parent that started it; -1 when not
 * asked. rec_progress_open checks that N is open, ignores SIGPIPE (a
 * reader that went away is not the job's failure: it goes on) and
 * remembers error()'s messages for rec_progress_fail. -1 with the usage
 * printed.
 */
extern int rec_progress_fd;
int rec_progress_open(const char *cmd, const char *arg);
/* writes `ev` when --progress-fd was given */
void rec_progress(const struct progress_event *ev);
/* the "start" line: the job, its total (iterations, lists, 0) and a summary */
void rec_progress_start(const char *job, uint64_t total, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
/* the "done" line, once: the version made (or "") and a one-line message */
void rec_progress_done(const char *version, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
/*
 * The "error" line, unless an end line went already: `message`, or when
 * NULL the first line of the last error() message (main calls it so for
 * every command that failed).
 */
void rec_progress_fail(const char *message);

/* the colors of the terminal, or "" when not a terminal or NO_COLOR */
const char *rec_color(const char *code);

#endif
