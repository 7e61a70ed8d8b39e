/*
 * servingloc: where servings answer: the stack's serving container (the
 * host port its definition publishes) and serving processes run on this
 * host, each of which announces itself with a small file while it listens.
 */
#ifndef PANCAKE_SERVINGLOC_H
#define PANCAKE_SERVINGLOC_H

#include <sys/types.h>
#include "util/buf.h"

#define SERVINGLOC_MAX 16

enum servingloc_kind {
	SERVINGLOC_CONTAINER,    /* the project's serving container */
	SERVINGLOC_HOST,         /* a serving process on this host */
	SERVINGLOC_GIVEN,        /* named by the user (--url HOST:PORT) */
};

struct servingloc {
	enum servingloc_kind kind;
	char host[64];           /* where to ask: loopback for a wildcard bind */
	int port;
	pid_t pid;               /* SERVINGLOC_HOST: its process */
	char project[64];        /* SERVINGLOC_CONTAINER: the project; HOST: PANCAKE_PROJECT
				    when it started ("" none) */
	char label[96];          /* "container h1srv", "host pid 4242": for lists */
};

/*
 * The folder of the announcements, config_state()/serving; new string
 * (free with free).
 */
char *servingloc_dir(void);

/*
 * Announces a serving process listening on bind:port: writes
 * servingloc_dir()/PID (atomically, by rename). 0, or -1 with `err`.
 */
int servingloc_announce(const char *bind, int port, struct buf *err);
/* removes this process's announcement (nothing when there is none) */
void servingloc_withdraw(void);

/*
 * The servings known here, the stack's container first (its definition's
 * published port: services/serving/service.conf with PANCAKE_SERVING_PORT_8080,
 * whether or not it runs), then the announced host processes whose pid is
 * alive, oldest first; an announcement whose process is gone is removed.
 * Fills out[0..max); returns how many. Asks no network and no engine.
 */
int servingloc_list(struct servingloc *out, int max);

/* "HOST:PORT" into `out` (at least 80 bytes) */
void servingloc_addr(const struct servingloc *l, char *out, size_t size);

#endif
