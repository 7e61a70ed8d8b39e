/* run: starts helper programs (debootstrap, mvn, tar) and collects their output. */
#ifndef PANCAKE_RUN_H
#define PANCAKE_RUN_H

#include "util/buf.h"

/* called for each line the program prints on stdout or stderr */
typedef void (*run_line_fn)(const char *line, void *ctx);

struct run_opts {
	const char *dir;         /* working directory, or NULL */
	run_line_fn on_line;     /* may be NULL */
	void *ctx;
	int stdout_fd;           /* >= 0: the program's stdout goes here, not to on_line */
	int timeout_s;           /* 0: none; else the program is killed after it */
};

/*
 * Runs argv[0] (looked up in PATH) and waits for it. The last lines it
 * printed are kept in `tail` (may be NULL) so a failure can show them.
 * Returns the exit status (0..255), or -1 with `err` filled when it could
 * not be started, was killed by a signal or timed out.
 */
int run_command(const char *const argv[], const struct run_opts *opts,
		struct buf *tail, struct buf *err);

/* removes a directory tree (rm -rf on one file system); 0 or -1 with `err` */
int run_remove_tree(const char *path, struct buf *err);

/* 1 if `prog` is an executable in PATH */
int run_have(const char *prog);

#endif
