/*
 * class: a classroom of stacks on one shared swarm (issue 16). Each
 * attendee of a roster gets a stack of their own: the project
 * <class>-<attendee>, its own overlay network, its ports moved up by
 * CLASS_PORT_STEP per seat, its memory limits; every object carries the
 * io.pancake.class and io.pancake.class.seat labels, so status and down
 * find the class's stacks on the swarm and nothing else. Placement and
 * readiness are core/swarm's.
 */
#ifndef PANCAKE_CLASS_H
#define PANCAKE_CLASS_H

#include <stddef.h>
#include "core/stack.h"
#include "util/buf.h"

#define CLASS_MAX 128            /* attendees in one roster */
#define CLASS_NAME_MAX 32        /* an attendee's or a class's name */
#define CLASS_PORT_STEP 100      /* seat N publishes each port at its usual one + N * 100 */

struct class_roster {
	char name[CLASS_MAX][CLASS_NAME_MAX + 1];
	int n;
};

/* 0 when `name` is a class or attendee name: [a-z0-9][a-z0-9-]*, at most CLASS_NAME_MAX */
int class_name_ok(const char *name);

/*
 * Reads a roster: one attendee per line, blank lines and '#' comments
 * skipped. -1 with `err` naming the file and line for a bad or repeated
 * name, an empty roster or more than CLASS_MAX.
 */
int class_roster_load(const char *file, struct class_roster *r, struct buf *err);

/*
 * Makes `st` (opened with stack_open) the stack of seat `seat` (1-based)
 * of class `klass`: project and network renamed, each published port
 * (the swarm-only members' too) moved up by seat * CLASS_PORT_STEP. -1 with `err` when a port would pass
 * 65535.
 */
int class_seat_stack(struct stack *st, const char *klass, const char *attendee, int seat,
		     struct buf *err);

/*
 * Deploys a stack per attendee (seat = position in the roster) with the
 * class labels: a pre-flight first (names, ports, the swarm's memory for
 * every stack not yet there, with the figures), then all of them at once,
 * then with `wait` each until ready. `st` is a loaded stack to copy the
 * definitions from (its project is not used).
 */
int class_up(struct stack *st, const char *klass, const struct class_roster *r, int wait,
	     int timeout_s, struct buf *err);

struct class_service {
	char service[64];
	int tasks, running, ready;
	char node[128], addr[64];     /* of the first running task */
	char detail[160];
};
struct class_stack {
	char attendee[CLASS_NAME_MAX + 1], project[80];
	int seat;
	struct class_service svc[SERVICE_MAX];
	int nsvc, ready;              /* ready: every service answers */
	/* the attendee's lab progress on this machine, if any */
	char lab[64], step[64];
	int steps_done;
};
/*
 * Every stack of class `klass` on the swarm, by seat, each service probed
 * on its node. new array (free with free)
 */
int class_status(struct stack *st, const char *klass, struct class_stack **out, size_t *n,
		 struct buf *err);

/*
 * Removes the Swarm services and overlay networks of class `klass`: only
 * the attendees in `names` (NULL: all of them). Nothing without the class
 * label is touched. The number of stacks removed goes to `removed`.
 */
int class_down(struct stack *st, const char *klass, const char *const *names, int *removed,
	       struct buf *err);

#endif
