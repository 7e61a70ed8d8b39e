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

/* the colors of the terminal, or "" when not a terminal or NO_COLOR */
const char *rec_color(const char *code);

#endif
