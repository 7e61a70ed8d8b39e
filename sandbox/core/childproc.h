/*
 * childproc: what pancake's polled children share (core/modeljob's
 * recommender jobs, core/servingrun's servings): finding a program beside
 * pancake, the project's endpoints on loopback, a log under
 * config_state()'s jobs/, fork and exec in a group or session of its own
 * with the log as stdout and stderr, reaping without waiting, why it ended,
 * and the stop: SIGTERM now, SIGKILL a while later. Nothing here waits,
 * but childproc_wait; nothing prints.
 */
#ifndef PANCAKE_CHILDPROC_H
#define PANCAKE_CHILDPROC_H

#include <sys/types.h>
#include "util/buf.h"

/* the descriptor the child gets struct childproc_exec's extra_fd as */
#define CHILDPROC_EXTRA_FD 3
/* the newest logs a CHILDPROC_LOG_PRUNE keeps in jobs/, the new one counted */
#define CHILDPROC_LOGS_KEPT 100

/*
 * The program `var` names in the environment (when set and not empty),
 * else config_home()/`rel`: new string (free it). It may not exist.
 */
char *childproc_program(const char *var, const char *rel);

/*
 * Appends "127.0.0.1:PORT" to `out`: where the project publishes
 * `service`'s container port `cport`, from its definition under
 * config_home() and PANCAKE_<SERVICE>_PORT_<N> (`cport` itself when it is
 * not published). Reads files only, fit for a UI thread. 0, or -1 with `err`.
 */
int childproc_endpoint(const char *service, int cport, struct buf *out, struct buf *err);

enum childproc_log_flags {
	CHILDPROC_LOG_PRUNE = 1 << 0,	/* remove the oldest *.log so that the new one makes
					   CHILDPROC_LOGS_KEPT (ordered by what follows the first '-') */
};

/*
 * A new log's path, config_state()/jobs/JOB-YYYYmmdd-HHMMSS-PID-N.log (N
 * counts the logs this process named, so two in one second differ), the
 * folder made: new string (free it), or NULL with `err` ("cannot create
 * DIR for WHOSE log"). `whose`: "the job's", "serving's". The file is not
 * created here.
 */
char *childproc_log_new(const char *job, const char *whose, enum childproc_log_flags flags,
			struct buf *err);

/*
 * The newest non-empty line of the log at `path` (its last 4096 bytes
 * read), "" when there is none, when the file cannot be read, or when that
 * line is the "$ ARGV" it opens with: new string (free it).
 */
char *childproc_log_last_line(const char *path);
/* "exited with status N", "killed by signal N" or "ended, how is not known": new string */
char *childproc_status_reason(int status);
/* why a child ended: its log's last line, else childproc_status_reason: new string */
char *childproc_reason(const char *log, int status);

enum childproc_flags {
	CHILDPROC_SESSION = 1 << 0,	/* a session of its own (setsid), to outlive the
					   caller, instead of a process group of its own */
};

/* what to run and how (borrowed for the call) */
struct childproc_exec {
	char *const *argv;	/* argv[0]: the program's path; NULL-terminated */
	char *const *envp;	/* NULL: the caller's environment */
	const char *log;	/* created or truncated; opens with "$ ARGV...", then the child's
				   stdout and stderr */
	const char *whose;	/* "the job's", "serving's": for messages about the log */
	const char *what;	/* "the recommender", "serving": for messages about starting */
	int extra_fd;		/* -1, or one more descriptor the child gets as CHILDPROC_EXTRA_FD
				   (the caller keeps it and closes it after the call) */
	enum childproc_flags flags;
	double kill_after;	/* seconds from childproc_stop's SIGTERM to the SIGKILL */
};

/*
 * A started child. The caller embeds it and reads it; only the functions
 * below change it. `pid` is its process group's (or session's) id too.
 */
struct childproc {
	pid_t pid;
	int reaped, status;	/* waitpid's status once reaped; 0 when reaped elsewhere */
	int stopping, killed;	/* childproc_stop was called; the SIGKILL was sent */
	double stop_at;		/* clock_s() of the SIGTERM */
	double kill_after;
};

/*
 * Writes the log's first line, forks and execs `x` with stdin from
 * /dev/null, stdout and stderr to the log, signals' dispositions and mask
 * reset, no other descriptor of the caller's. Returns at once: 0 with `c`
 * filled, or -1 with `err` (the log cannot be written, fork failed; a
 * program that cannot be run ends with status 127 and its log says so).
 */
int childproc_start(struct childproc *c, const struct childproc_exec *x, struct buf *err);

/* waitpid without waiting: 1 once it has been reaped (now or before), else 0 */
int childproc_reap(struct childproc *c);
/* SIGTERM to its group, once, unless it has been reaped; returns at once */
void childproc_stop(struct childproc *c);
/* the SIGKILL of a stop that is kill_after old, when it has not been reaped; for each poll */
void childproc_tick(struct childproc *c);
/*
 * Stops it unless reaped, then reaps it, waiting at most `max_s` seconds
 * (the SIGKILL at kill_after as it goes); a last SIGKILL if it is still
 * not reaped. Blocks: for a free, not a poll.
 */
void childproc_wait(struct childproc *c, double max_s);

#endif
