/*
 * labrun: runs a track's step scripts (setup, check, solve, cleanup) in the
 * lab environment, each in its own process group with a timeout, keeps
 * their output, and drives the headless lab test and its TAP/JUnit reports.
 */
#ifndef PANCAKE_LABRUN_H
#define PANCAKE_LABRUN_H

#include <signal.h>
#include "core/lab.h"
#include "core/service.h"
#include "util/buf.h"
#include "util/strvec.h"

#define LABRUN_OUTPUT_MAX (256 << 10)  /* output kept in memory (the log has all) */
#define LABRUN_GRACE_MS 2000           /* SIGTERM to SIGKILL of a group */

/* one line of an action's output as it comes (no newline); strings borrowed */
typedef void (*labrun_line_fn)(const char *line, int is_stderr, void *ctx);
/* an action of a step is about to run (so that no wait is silent) */
typedef void (*labrun_start_fn)(const struct lab *l, const struct lab_step *s,
				enum lab_action a, void *ctx);

/* how an action ended */
enum labrun_end {
	LABRUN_EXITED,        /* with `status` */
	LABRUN_SIGNALED,      /* killed by signal `status`, not by us */
	LABRUN_TIMEDOUT,      /* past its timeout: its group was killed */
	LABRUN_INTERRUPTED,   /* *stop was set (Ctrl-C): its group was killed */
	LABRUN_ABSENT,        /* the step has no such script: a success */
};

struct labrun_result {
	enum labrun_end end;
	int status;
	int timeout_s;
	double seconds;
	struct buf output;    /* stdout and stderr as they came, the first LABRUN_OUTPUT_MAX */
	struct buf line;      /* the last non-empty line on stdout (a check's message) */
};
void labrun_result_init(struct labrun_result *r);
void labrun_result_release(struct labrun_result *r);
/* it ended with exit 0 (or there was no script) */
int labrun_ok(const struct labrun_result *r);
/* "exit 1", "timed out after 120 s", "interrupted", "killed by signal 9" into `out` */
void labrun_describe(const struct labrun_result *r, struct buf *out);

/* running one program: the low level, for actions and tests */
struct labrun_spawn {
	const char *path;              /* executed as is */
	char *const *argv;             /* its arguments, argv[0] first; NULL: none */
	char *const *envp;             /* the whole environment */
	const char *cwd;               /* NULL: ours */
	int timeout_s;                 /* 0: none */
	int grace_ms;                  /* 0: LABRUN_GRACE_MS */
	int log_fd;                    /* >= 0: everything it prints is written here too */
	labrun_line_fn on_line;        /* may be NULL */
	void *ctx;
	volatile sig_atomic_t *stop;   /* may be NULL; nonzero: stop it now */
};
/*
 * Runs `o->path` in a new process group (stdin /dev/null) and waits for
 * it. Past its timeout, or once *stop is set, the whole group gets SIGTERM
 * and after grace_ms SIGKILL. 0 with `r` filled (whatever the program's
 * exit), or -1 with `err` when it could not be started.
 */
int labrun_spawn_run(const struct labrun_spawn *o, struct labrun_result *r, struct buf *err);

/* a track run on one stack */
struct labrun {
	const struct lab_track *track;   /* borrowed */
	char *state;                     /* <state>/labs/<project> */
	struct strvec env;               /* K=V every action gets, on top of environ */
	char *home;
	volatile sig_atomic_t *stop;     /* may be NULL */
	labrun_line_fn on_line;          /* may be NULL: actions' output as it comes */
	labrun_start_fn on_start;        /* may be NULL: before each action that has a script */
	void *ctx;                       /* for both */
	int grace_ms;                    /* 0: LABRUN_GRACE_MS */
};
/*
 * Prepares the environment of lab-format.md: the binaries under `home`, the
 * project, the services' host ports (from `svcs`, overrides applied; a
 * service not among them gets its usual port), LAB_DATASET, the state
 * folder under `state_root` (config_state()). Release with labrun_release.
 */
void labrun_init(struct labrun *r, const struct lab_track *t, const char *home,
		 const char *state_root, const char *project, const struct service *svcs,
		 int nsvcs);
void labrun_release(struct labrun *r);

/* where things are kept; new strings (free) */
char *labrun_scratch(const struct labrun *r, const struct lab *l);
char *labrun_log(const struct labrun *r, const struct lab *l, const struct lab_step *s,
		 enum lab_action a);
/* empties a lab's scratch folder (creating it); 0 or -1 with `err` */
int labrun_clear_scratch(const struct labrun *r, const struct lab *l, struct buf *err);
/*
 * pancake's own variables of that environment alone ("K=V": the ports, the
 * binaries, LAB_*, PATH, PANCAKE_MODELS), appended to `out`: what
 * `pancake lab env` exports into an attendee's shell
 */
void labrun_vars(const struct labrun *r, const struct lab *l, const struct lab_step *s,
		 struct strvec *out);
/* the environment an action of `s` runs with (`s` NULL: the lab's); appended to `env` */
void labrun_environ(const struct labrun *r, const struct lab *l, const struct lab_step *s,
		    struct strvec *env);

/*
 * Runs one action of a step with its timeout, its output to
 * <state>/<lab>/<step>/<action>.log (and r->on_line). A step without that
 * script ends LABRUN_ABSENT. 0 with `res` filled, or -1 with `err`.
 */
int labrun_action(const struct labrun *r, const struct lab *l, const struct lab_step *s,
		  enum lab_action a, struct labrun_result *res, struct buf *err);

/*
 * Runs a step's commands as the attendee would type them into one shell:
 * one `sh -c` script, so a variable set or a job started by one command is
 * there for the next (`wait` included); each is echoed as "$ COMMAND"
 * before it runs and followed by "(exit N)" when it fails, and the next
 * runs all the same (some commands show a refusal); the script ends as
 * the last one did. In the
 * environment, folder, process group and timeout of its scripts, its
 * output to <state>/<lab>/<step>/command.log (and r->on_line; r->on_start
 * is not called). What a command leaves in the background goes on after
 * the script (with its output cut: redirect it). 0 with `res` filled, or
 * -1 with `err`.
 */
int labrun_commands(const struct labrun *r, const struct lab *l, const struct lab_step *s,
		    struct labrun_result *res, struct buf *err);
/* the script labrun_commands runs for `s`, into `out` */
void labrun_commands_script(const struct lab_step *s, struct buf *out);

/* ---- the headless lab test ---- */
enum labrun_phase { PH_SETUP, PH_BEFORE, PH_SOLVE, PH_AFTER, PH_CLEANUP, PH_N };
/* "setup", "check before solve", "solve", "check", "cleanup" */
const char *labrun_phase_name(enum labrun_phase p);

enum labrun_verdict { CASE_PASS, CASE_FAIL, CASE_SKIP };
struct labrun_case {
	const char *lab, *step;          /* borrowed from the track */
	enum labrun_phase phase;
	enum labrun_verdict verdict;
	char *reason;                    /* fail or skip: why; else NULL */
	char *output;                    /* the action's output ("" if none) */
	double seconds;
};
void labrun_case_release(struct labrun_case *c);
/* called once per case as it is decided; the case is borrowed for the call */
typedef void (*labrun_case_fn)(const struct labrun_case *c, void *ctx);
/* how many cases a lab's test has: PH_N per step */
size_t labrun_test_count(const struct lab *l);
/*
 * Tests a lab: its scratch emptied, then per step in order setup, check
 * (must fail), solve, check (must pass); a failure skips the rest of that
 * step; then cleanup of every step in reverse. Progress is not touched.
 * Returns the number of failed cases, or -1 when *stop was set (the cases
 * so far were delivered, the rest not run).
 */
int labrun_test(const struct labrun *r, const struct lab *l, labrun_case_fn fn, void *ctx);

/* ---- reports ---- */
/* `s` for XML text (`attr`: for an attribute value): & < > " ' escaped,
 * control characters other than tab and newline dropped */
void labrun_xml_escape(struct buf *out, const char *s, int attr);
/* one TAP line for case number `num`, with a YAML block for a failure */
void labrun_tap_case(struct buf *out, int num, const struct labrun_case *c);
/* a whole JUnit document: one testsuite per lab, one testcase per case */
void labrun_junit(struct buf *out, const struct labrun_case *cases, size_t n);

#endif
