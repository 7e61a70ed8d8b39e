/*
 * labspane: the launcher's labs screen: the track with each lab's progress,
 * the selected step's text, commands and hints, and the running or last
 * action's output, live. Actions (run, check, solve, reset) run on a thread
 * of their own through core/labrun; this pane only starts, stops and draws.
 */
#include "core/config.h"
#include "core/lab.h"
#include "core/labprog.h"
#include "core/labrun.h"
#include "tui/colors.h"
#include "tui/markdown.h"
#include "tui/pane.h"
#include "tui/table.h"
#include "tui/text.h"
#include "util/clock.h"
#include "util/xalloc.h"

#include <curses.h>
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define LABS_RING 500            /* output lines kept on screen (the logs keep all) */
#define LABS_LINE_MAX 512        /* bytes of one output line kept */
#define LABS_POLL_S 3.0          /* progress (another launcher's, the CLI's) reread at most this often */
#define LABS_CMDS_SHOWN 3        /* command rows above the text */

enum labs_act { LA_NONE, LA_RUN, LA_CHECK, LA_SOLVE, LA_RESET };
enum labs_phase { LP_IDLE, LP_RUNNING, LP_DONE, LP_FAILED, LP_STOPPED };

static const char *const act_words[] = {
	[LA_NONE] = "", [LA_RUN] = "run", [LA_CHECK] = "check", [LA_SOLVE] = "solve",
	[LA_RESET] = "reset",
};

struct labs_line {
	char *text;
	int is_stderr;
};

struct labspane {
	char *dir;                   /* the track's folder */
	struct lab_track track;
	int track_ok;
	struct buf refusal;          /* why the track is refused: FILE:LINE: reason */
	struct labrun run;
	int run_open;
	struct labprog prog;         /* as last read (UI thread) */
	struct buf prog_err;         /* a corrupt progress file */
	struct stat prog_st;         /* of progress.json when last read */
	double prog_at;              /* when it was last looked at */
	int prog_stale;              /* reread at the next turn */

	size_t lab, step;            /* the selection */
	int text_top;                /* the text's first line shown */
	int text_rows;               /* its height when last drawn */
	struct markdown md;          /* the selected step's text, rendered */
	size_t md_lab, md_step;
	int md_width;
	int confirm;                 /* 's' or 'r' waits for a y; 0: none */

	/* --- the action: written by its thread, read by the UI, under lock --- */
	pthread_mutex_t lock;
	pthread_t thread;
	int have_thread;
	volatile sig_atomic_t stop;
	enum labs_act act;
	enum labs_phase phase;
	size_t act_lab, act_step;
	int setup_first;             /* the step is not the current one yet: its setup runs first */
	char status[400];            /* how it ended, in one line */
	double started, finished;
	struct labs_line ring[LABS_RING];
	size_t nlines;               /* lines ever added since the action began */
	unsigned version;

	/* --- the UI thread's view of the action --- */
	unsigned seen_version;
	enum labs_phase seen_phase;
};

static const char *tick(void)
{
	/* a check mark where the locale shows one */
	return strcmp(text_ellipsis(), "...") ? "\xe2\x9c\x93" : "(ok)";
}

static void on_line(const char *line, int is_stderr, void *ctx);

/* ---- the track and the progress (UI thread) ---- */

static void load_track(struct labspane *p)
{
	lab_track_release(&p->track);
	buf_reset(&p->refusal);
	p->track_ok = !lab_track_load(&p->track, p->dir, &p->refusal);
	if (p->track_ok && !p->track.nlabs) {
		buf_addf(&p->refusal, "no labs in '%s': a lab is a folder NN-name with a lab.md "
			 "(see labs/README.md); --labs DIR or PANCAKE_LABS names another track",
			 p->track.dir);
		p->track_ok = 0;
	}
	/* the last action's names must still be in the track */
	if (!p->track_ok || p->act_lab >= p->track.nlabs ||
	    p->act_step >= p->track.labs[p->act_lab].nsteps) {
		pthread_mutex_lock(&p->lock);
		p->act = LA_NONE;
		p->act_lab = p->act_step = 0;
		p->phase = p->seen_phase = LP_IDLE;
		pthread_mutex_unlock(&p->lock);
	}
	if (!p->track_ok)
		return;
	if (p->lab >= p->track.nlabs)
		p->lab = 0;
	if (p->step >= p->track.labs[p->lab].nsteps)
		p->step = 0;
	p->md_width = 0;
}

static struct labprog_step *prog_of(struct labspane *p, size_t lab, size_t step)
{
	const struct lab *l = &p->track.labs[lab];

	return labprog_get(&p->prog, l->name, l->steps[step].name, 0);
}

static int is_done(struct labspane *p, size_t lab, size_t step)
{
	struct labprog_step *e = prog_of(p, lab, step);

	return e && e->done_at;
}

static size_t done_in(struct labspane *p, size_t lab)
{
	size_t i, n = 0;

	for (i = 0; i < p->track.labs[lab].nsteps; i++)
		n += is_done(p, lab, i);
	return n;
}

/* the first step of a lab not done, else its last */
static size_t first_open(struct labspane *p, size_t lab)
{
	size_t i, n = p->track.labs[lab].nsteps;

	for (i = 0; i < n; i++)
		if (!is_done(p, lab, i))
			return i;
	return n - 1;
}

/* the current step (last started) in the track: 1 with its indexes */
static int current(struct labspane *p, size_t *lab, size_t *step)
{
	size_t i, j;

	if (!p->prog.lab || !p->prog.step)
		return 0;
	for (i = 0; i < p->track.nlabs; i++) {
		const struct lab *l = &p->track.labs[i];

		if (strcmp(l->name, p->prog.lab))
			continue;
		for (j = 0; j < l->nsteps; j++)
			if (!strcmp(l->steps[j].name, p->prog.step)) {
				*lab = i;
				*step = j;
				return 1;
			}
	}
	return 0;
}

static char *prog_file(struct labspane *p)
{
	return xstrfmt("%s/%s", p->run.state, LABPROG_FILE);
}

/* rereads progress.json when it changed (or `force`); 1 when it was read */
static int read_progress(struct labspane *p, int force)
{
	char *file;
	struct stat st;
	int same;

	if (!p->run_open)
		return 0;
	file = prog_file(p);
	memset(&st, 0, sizeof(st));
	if (stat(file, &st) && errno != ENOENT)
		memset(&st, 0, sizeof(st));
	free(file);
	p->prog_at = clock_s();
	same = st.st_ino == p->prog_st.st_ino && st.st_size == p->prog_st.st_size &&
	       st.st_mtim.tv_sec == p->prog_st.st_mtim.tv_sec &&
	       st.st_mtim.tv_nsec == p->prog_st.st_mtim.tv_nsec;
	if (same && !force)
		return 0;
	p->prog_st = st;
	labprog_release(&p->prog);
	labprog_init(&p->prog);
	buf_reset(&p->prog_err);
	if (labprog_read(&p->prog, p->run.state, &p->prog_err)) {
		labprog_release(&p->prog);
		labprog_init(&p->prog);
	}
	return 1;
}

/* the labrun needs the stack's ports: the first turn of the loop has them */
static void open_run(struct labspane *p, struct pane_ctx *c)
{
	size_t lab, step;

	if (p->run_open || !p->track_ok || !c->m->st)
		return;
	labrun_init(&p->run, &p->track, config_home(), config_state(), config_project(),
		    c->m->st->svcs, c->m->st->n);
	p->run.on_line = on_line;
	p->run.ctx = p;
	p->run.stop = &p->stop;
	p->run_open = 1;
	read_progress(p, 1);
	/* open on the current step, else the first one not done */
	if (current(p, &lab, &step)) {
		p->lab = lab;
		p->step = step;
	} else {
		p->lab = 0;
		p->step = first_open(p, 0);
	}
}

/* the home pane's line: "labs: 3/11 done, current 04-kafka/02-offsets: L opens them" */
static void home_note(struct labspane *p, struct pane_ctx *c)
{
	size_t i, done = 0, lab, step;

	if (!p->track_ok) {
		/* no track folder at all (a home without labs): nothing to say at home */
		if (access(p->dir, F_OK))
			c->home_note[0] = '\0';
		else
			snprintf(c->home_note, sizeof(c->home_note), "labs: the track is refused: L says why");
		return;
	}
	if (!p->run_open)
		return;
	if (p->prog_err.len) {
		snprintf(c->home_note, sizeof(c->home_note), "labs: the progress file is corrupt: "
			 "L, then r resets");
		return;
	}
	for (i = 0; i < p->track.nlabs; i++)
		done += done_in(p, i) == p->track.labs[i].nsteps;
	if (current(p, &lab, &step))
		snprintf(c->home_note, sizeof(c->home_note), "labs: %zu/%zu done, current %s/%s: "
			 "L opens them", done, p->track.nlabs, p->track.labs[lab].name,
			 p->track.labs[lab].steps[step].name);
	else
		snprintf(c->home_note, sizeof(c->home_note), "labs: %zu/%zu done: L opens the workshop",
			 done, p->track.nlabs);
}

/* ---- the action's thread ---- */

static void add_line(struct labspane *p, const char *text, int is_stderr)
{
	struct labs_line *l;

	pthread_mutex_lock(&p->lock);
	l = &p->ring[p->nlines % LABS_RING];
	free(l->text);
	l->text = xstrndup(text, LABS_LINE_MAX);
	l->is_stderr = is_stderr;
	p->nlines++;
	p->version++;
	pthread_mutex_unlock(&p->lock);
}

__attribute__((format(printf, 2, 3)))
static void say(struct labspane *p, const char *fmt, ...)
{
	struct buf b = BUF_INIT;
	va_list ap;

	va_start(ap, fmt);
	buf_vaddf(&b, fmt, ap);
	va_end(ap);
	add_line(p, b.s, 0);
	buf_release(&b);
}

static void on_line(const char *line, int is_stderr, void *ctx)
{
	add_line(ctx, line, is_stderr);
}

/* 0 done, 1 stopped, -1 failed with `why` */
static int must(struct labspane *p, const struct lab *l, const struct lab_step *s,
		enum lab_action a, struct buf *why)
{
	struct labrun_result res;
	struct buf how = BUF_INIT;
	int ret = 0;

	if (!s->has[a])
		return 0;
	say(p, "running %s of %s/%s (timeout %d s)...", lab_action_name(a), l->name, s->name,
	    s->timeout_s);
	labrun_result_init(&res);
	if (labrun_action(&p->run, l, s, a, &res, why)) {
		ret = -1;
	} else if (res.end == LABRUN_INTERRUPTED) {
		ret = 1;
	} else if (!labrun_ok(&res)) {
		char *log = labrun_log(&p->run, l, s, a);

		labrun_describe(&res, &how);
		buf_addf(why, "%s of %s/%s failed (%s); its output is above and in '%s'",
			 lab_action_name(a), l->name, s->name, how.s, log);
		free(log);
		ret = -1;
	}
	labrun_result_release(&res);
	buf_release(&how);
	return ret;
}

/* the step's setup, then it is the current one: 0, 1 stopped, -1 failed */
static int start_step(struct labspane *p, const struct lab *l, const struct lab_step *s,
		      struct buf *why)
{
	struct labprog_change ch = { l->name, s->name, 1, 0, 0, 0, 0, 0 };
	int ret = must(p, l, s, LAB_SETUP, why);

	if (!ret && labprog_update(p->run.state, labprog_change_apply, &ch, 0, why))
		ret = -1;
	return ret;
}

/* the check; marks the step done when it passes. 0 passed, 2 not yet, 1 stopped, -1 failed */
static int check(struct labspane *p, const struct lab *l, const struct lab_step *s,
		 struct buf *why)
{
	struct labprog_change ch = { l->name, s->name, 0, 1, 0, 0, 0, 0 };
	struct labrun_result res;
	struct buf msg = BUF_INIT;
	int ret;

	say(p, "checking %s/%s...", l->name, s->name);
	labrun_result_init(&res);
	if (labrun_action(&p->run, l, s, LAB_CHECK, &res, why)) {
		ret = -1;
		goto out;
	}
	if (res.end == LABRUN_INTERRUPTED) {
		ret = 1;
		goto out;
	}
	if (res.line.len)
		buf_addstr(&msg, res.line.s);
	else if (res.end != LABRUN_EXITED)
		labrun_describe(&res, &msg);
	if (labrun_ok(&res)) {
		if (labprog_update(p->run.state, labprog_change_apply, &ch, 0, why)) {
			ret = -1;
			goto out;
		}
		buf_addf(why, "done %s %s/%s%s%s: n goes to the next step", tick(), l->name, s->name,
			 msg.len ? ": " : "", msg.s);
		ret = 0;
	} else {
		buf_addf(why, "not yet: %s", msg.len ? msg.s : "the check says no, but not why");
		ret = 2;
	}
out:
	labrun_result_release(&res);
	buf_release(&msg);
	return ret;
}

/* the step's commands in one shell, as the attendee would type them */
static int run_commands(struct labspane *p, const struct lab *l, const struct lab_step *s,
			struct buf *why)
{
	struct labrun_result res;
	struct buf how = BUF_INIT;
	int ret = 0;

	if (!s->front.commands.n) {
		buf_addf(why, "%s/%s has no command to run: do what its text says, then c checks it",
			 l->name, s->name);
		return 0;
	}
	labrun_result_init(&res);
	if (labrun_commands(&p->run, l, s, &res, why)) {
		ret = -1;
	} else if (res.end == LABRUN_INTERRUPTED) {
		ret = 1;
	} else if (!labrun_ok(&res)) {
		labrun_describe(&res, &how);
		buf_addf(why, "the last command failed (%s): c checks the step, h shows a hint, "
			 "s solves it", how.s);
		ret = -1;
	} else {
		buf_addf(why, "ran %s/%s's command%s: c checks the step", l->name, s->name,
			 s->front.commands.n > 1 ? "s" : "");
	}
	labrun_result_release(&res);
	buf_release(&how);
	return ret;
}

static int reset_lab(struct labspane *p, const struct lab *l, struct buf *why)
{
	struct labprog_change ch = { l->name, l->steps[0].name, 1, 0, 0, 0, 1, 0 };
	size_t i;
	int ret;

	for (i = l->nsteps; i-- > 0;)
		if ((ret = must(p, l, &l->steps[i], LAB_CLEANUP, why)))
			return ret;
	if (labrun_clear_scratch(&p->run, l, why))
		return -1;
	if ((ret = must(p, l, &l->steps[0], LAB_SETUP, why)))
		return ret;
	if (labprog_update(p->run.state, labprog_change_apply, &ch, LABPROG_DISCARD_CORRUPT,
			   why))
		return -1;
	buf_addf(why, "%s is back at its start: %s/%s", l->name, l->name, l->steps[0].name);
	return 0;
}

static void *action_main(void *arg)
{
	struct labspane *p = arg;
	const struct lab *l = &p->track.labs[p->act_lab];
	const struct lab_step *s = &l->steps[p->act_step];
	struct buf why = BUF_INIT;
	enum labs_phase end;
	int ret = 0;

	if (p->setup_first && p->act != LA_CHECK && p->act != LA_RESET)
		ret = start_step(p, l, s, &why);
	if (!ret) {
		switch (p->act) {
		case LA_RUN: ret = run_commands(p, l, s, &why); break;
		case LA_CHECK: ret = check(p, l, s, &why); break;
		case LA_SOLVE:
			ret = must(p, l, s, LAB_SOLVE, &why);
			if (!ret)
				ret = check(p, l, s, &why);
			break;
		case LA_RESET: ret = reset_lab(p, l, &why); break;
		case LA_NONE: break;
		}
	}
	end = ret == 1 ? LP_STOPPED : ret == 0 ? LP_DONE : LP_FAILED;
	if (ret == 1) {
		buf_reset(&why);
		buf_addf(&why, "%s of %s/%s stopped (its process group too); the progress is as it was",
			 act_words[p->act], l->name, s->name);
	}
	pthread_mutex_lock(&p->lock);
	snprintf(p->status, sizeof(p->status), "%s", why.s);
	p->phase = end;
	p->finished = clock_s();
	p->version++;
	pthread_mutex_unlock(&p->lock);
	buf_release(&why);
	return NULL;
}

static int busy_now(struct labspane *p)
{
	int ret;

	pthread_mutex_lock(&p->lock);
	ret = p->phase == LP_RUNNING;
	pthread_mutex_unlock(&p->lock);
	return ret;
}

/* starts `act` on the selected step; -1 with the reason on the events line */
static int start(struct labspane *p, struct pane_ctx *c, enum labs_act act)
{
	size_t lab, step, i;
	int cur;

	if (!p->track_ok || !p->run_open) {
		poller_event(c->m, NOTE_INFO, "labs", "%s", p->track_ok ? "the labs are not ready yet" :
			     "the track is refused: fix what the screen names, then L again");
		return -1;
	}
	if (busy_now(p)) {
		poller_event(c->m, NOTE_INFO, "labs", "the %s of %s/%s is running: x stops it",
			     act_words[p->act], p->track.labs[p->act_lab].name,
			     p->track.labs[p->act_lab].steps[p->act_step].name);
		return -1;
	}
	if (p->have_thread)
		pthread_join(p->thread, NULL);
	p->have_thread = 0;
	cur = current(p, &lab, &step);
	pthread_mutex_lock(&p->lock);
	for (i = 0; i < LABS_RING; i++) {
		free(p->ring[i].text);
		p->ring[i].text = NULL;
	}
	p->nlines = 0;
	p->act = act;
	p->act_lab = p->lab;
	p->act_step = p->step;
	p->setup_first = !cur || lab != p->lab || step != p->step;
	p->phase = LP_RUNNING;
	p->status[0] = '\0';
	p->started = clock_s();
	p->finished = 0;
	p->stop = 0;
	p->version++;
	pthread_mutex_unlock(&p->lock);
	if (pthread_create(&p->thread, NULL, action_main, p)) {
		pthread_mutex_lock(&p->lock);
		p->phase = LP_FAILED;
		snprintf(p->status, sizeof(p->status), "cannot start a thread: %s", strerror(errno));
		pthread_mutex_unlock(&p->lock);
		return -1;
	}
	p->have_thread = 1;
	return 0;
}

/* ---- the shell ---- */

/* the user's shell in the selected lab's environment, the screen suspended meanwhile */
static void shell(struct labspane *p, struct pane_ctx *c)
{
	const struct lab *l = &p->track.labs[p->lab];
	const struct lab_step *s = &l->steps[p->step];
	struct strvec env = STRVEC_INIT;
	struct sigaction ign, old_ttou, old_int, old_quit;
	const char *sh = getenv("SHELL");
	int status;
	pid_t pid;

	if (!sh || !*sh || access(sh, X_OK))
		sh = "/bin/sh";
	labrun_environ(&p->run, l, s, &env);
	memset(&ign, 0, sizeof(ign));
	ign.sa_handler = SIG_IGN;
	def_prog_mode();
	endwin();
	printf("\na shell in the environment of %s/%s (LAB_SCRATCH and the ports are set); "
	       "exit goes back to the launcher\n", l->name, s->name);
	fflush(stdout);
	sigaction(SIGTTOU, &ign, &old_ttou);
	sigaction(SIGINT, &ign, &old_int);
	sigaction(SIGQUIT, &ign, &old_quit);
	pid = fork();
	if (!pid) {
		char *const argv[] = { (char *)sh, NULL };
		sigset_t none;

		/* the terminal's foreground is the shell's: its Ctrl-C is not the launcher's */
		setpgid(0, 0);
		tcsetpgrp(0, getpid());
		signal(SIGTTOU, SIG_DFL);
		signal(SIGINT, SIG_DFL);
		signal(SIGQUIT, SIG_DFL);
		signal(SIGTERM, SIG_DFL);
		signal(SIGHUP, SIG_DFL);
		signal(SIGPIPE, SIG_DFL);
		sigemptyset(&none);
		sigprocmask(SIG_SETMASK, &none, NULL);
		if (chdir(p->run.home))
			fprintf(stderr, "cannot enter '%s': %s\n", p->run.home, strerror(errno));
		execve(sh, argv, env.v);
		fprintf(stderr, "cannot run '%s': %s\n", sh, strerror(errno));
		_exit(127);
	}
	if (pid > 0) {
		setpgid(pid, pid);
		tcsetpgrp(0, pid);
		while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
			;
		tcsetpgrp(0, getpgrp());
	}
	sigaction(SIGQUIT, &old_quit, NULL);
	sigaction(SIGINT, &old_int, NULL);
	sigaction(SIGTTOU, &old_ttou, NULL);
	reset_prog_mode();
	clearok(curscr, TRUE);
	refresh();
	if (pid < 0)
		poller_event(c->m, NOTE_INFO, "labs", "cannot start a shell: %s", strerror(errno));
	strvec_clear(&env);
	p->prog_stale = 1;
}

/* ---- keys ---- */

/* a key answers a pending question: 1 when it was one (and not a yes) */
static int settled(struct labspane *p, struct pane_ctx *c)
{
	if (!p->confirm)
		return 0;
	poller_event(c->m, NOTE_INFO, "labs", "%s cancelled", p->confirm == 's' ? "solve" : "reset");
	p->confirm = 0;
	return 1;
}

static int ready(struct labspane *p, struct pane_ctx *c)
{
	return !settled(p, c) && p->track_ok && p->run_open;
}

static void select_lab(struct labspane *p, size_t lab)
{
	size_t cl, cs;

	p->lab = lab;
	p->step = current(p, &cl, &cs) && cl == lab ? cs : first_open(p, lab);
	p->text_top = 0;
}

static void key_up(void *pane, struct pane_ctx *c)
{
	struct labspane *p = pane;

	if (ready(p, c) && p->lab > 0)
		select_lab(p, p->lab - 1);
}

static void key_down(void *pane, struct pane_ctx *c)
{
	struct labspane *p = pane;

	if (ready(p, c) && p->lab + 1 < p->track.nlabs)
		select_lab(p, p->lab + 1);
}

static void key_next(void *pane, struct pane_ctx *c)
{
	struct labspane *p = pane;

	if (!ready(p, c))
		return;
	p->text_top = 0;
	if (p->step + 1 < p->track.labs[p->lab].nsteps)
		p->step++;
	else if (p->lab + 1 < p->track.nlabs)
		select_lab(p, p->lab + 1);
	else
		poller_event(c->m, NOTE_INFO, "labs", "this is the track's last step");
}

static void key_prev(void *pane, struct pane_ctx *c)
{
	struct labspane *p = pane;

	if (!ready(p, c))
		return;
	p->text_top = 0;
	if (p->step > 0) {
		p->step--;
	} else if (p->lab > 0) {
		p->lab--;
		p->step = p->track.labs[p->lab].nsteps - 1;
	}
}

static void key_run(void *pane, struct pane_ctx *c)
{
	if (ready(pane, c))
		start(pane, c, LA_RUN);
}

static void key_check(void *pane, struct pane_ctx *c)
{
	if (ready(pane, c))
		start(pane, c, LA_CHECK);
}

static void key_hint(void *pane, struct pane_ctx *c)
{
	struct labspane *p = pane;
	const struct lab *l;
	const struct lab_step *s;
	struct labprog_change ch = { NULL, NULL, 0, 0, 1, 0, 0, 0 };
	struct buf err = BUF_INIT;

	if (!ready(p, c))
		return;
	l = &p->track.labs[p->lab];
	s = &l->steps[p->step];
	if (!s->front.hints.n) {
		poller_event(c->m, NOTE_INFO, "labs", "%s/%s has no hints: s solves it", l->name, s->name);
		return;
	}
	ch.lab = l->name;
	ch.step = s->name;
	ch.hints_max = (int)s->front.hints.n;
	if (labprog_update(p->run.state, labprog_change_apply, &ch, 0, &err))
		poller_event(c->m, NOTE_INFO, "labs", "%s", err.s);
	else if (ch.hints == ch.hints_max && prog_of(p, p->lab, p->step) &&
		 prog_of(p, p->lab, p->step)->hints == ch.hints)
		poller_event(c->m, NOTE_INFO, "labs", "no more hints for %s/%s: s solves it", l->name,
			     s->name);
	buf_release(&err);
	read_progress(p, 1);
}

static void key_solve(void *pane, struct pane_ctx *c)
{
	struct labspane *p = pane;

	if (!ready(p, c))
		return;
	if (busy_now(p))
		start(p, c, LA_SOLVE);   /* refused: says what runs */
	else
		p->confirm = 's';
}

static void key_reset(void *pane, struct pane_ctx *c)
{
	struct labspane *p = pane;

	if (!ready(p, c))
		return;
	if (busy_now(p))
		start(p, c, LA_RESET);   /* refused: says what runs */
	else
		p->confirm = 'r';
}

static void key_yes(void *pane, struct pane_ctx *c)
{
	struct labspane *p = pane;
	int what = p->confirm;

	p->confirm = 0;
	if (what == 's')
		start(p, c, LA_SOLVE);
	else if (what == 'r')
		start(p, c, LA_RESET);
	else
		poller_event(c->m, NOTE_INFO, "labs", "nothing to say yes to: s solves, r resets");
}

static void key_stop(void *pane, struct pane_ctx *c)
{
	struct labspane *p = pane;

	if (settled(p, c))
		return;
	if (busy_now(p))
		p->stop = 1;
	else
		poller_event(c->m, NOTE_INFO, "labs", "nothing is running to stop");
}

static void key_shell(void *pane, struct pane_ctx *c)
{
	if (ready(pane, c))
		shell(pane, c);
}

static void key_page_up(void *pane, struct pane_ctx *c)
{
	struct labspane *p = pane;

	if (settled(p, c))
		return;
	p->text_top -= p->text_rows > 2 ? p->text_rows - 1 : 1;
	if (p->text_top < 0)
		p->text_top = 0;
}

static void key_page_down(void *pane, struct pane_ctx *c)
{
	struct labspane *p = pane;

	if (settled(p, c))
		return;
	p->text_top += p->text_rows > 2 ? p->text_rows - 1 : 1;
}

static const struct pane_key keys[] = {
	{ KEY_UP,    "Up k",      NULL,    key_up,        "select the previous lab" },
	{ 'k',       NULL,        NULL,    key_up,        NULL },
	{ KEY_DOWN,  "Down j",    NULL,    key_down,      "select the next lab" },
	{ 'j',       NULL,        NULL,    key_down,      NULL },
	{ KEY_RIGHT, "Right n",   NULL,    key_next,      "the next step (Tab too), after a lab's last the next lab" },
	{ 'n',       NULL,        NULL,    key_next,      NULL },
	{ '\t',      NULL,        NULL,    key_next,      NULL },
	{ KEY_LEFT,  "Left",      NULL,    key_prev,      "the previous step" },
	{ KEY_BTAB,  NULL,        NULL,    key_prev,      NULL },
	{ '\r',      "Enter",     "run",   key_run,       "start the step (its setup) and run its commands, output live" },
	{ KEY_ENTER, NULL,        NULL,    key_run,       NULL },
	{ '\n',      NULL,        NULL,    key_run,       NULL },
	{ 'c',       "c",         "check", key_check,     "check the step: what is missing, or done (marked done)" },
	{ 'h',       "h",         "hint",  key_hint,      "show the step's next hint" },
	{ 's',       "s",         "solve", key_solve,     "let pancake do the step, then check it (asks first)" },
	{ 'r',       "r",         "reset", key_reset,     "the lab back at its start, its progress forgotten (asks first)" },
	{ 'y',       "y",         NULL,    key_yes,       "yes to the solve or reset asked about (any other key: no)" },
	{ 'x',       "x",         "stop",  key_stop,      "stop the running action and everything it started" },
	{ '!',       "!",         "shell", key_shell,     "a shell in the lab's environment; exit comes back here" },
	{ KEY_PPAGE, "PgUp PgDn", NULL,    key_page_up,   "scroll the step's text" },
	{ KEY_NPAGE, NULL,        NULL,    key_page_down, NULL },
};

/* ---- drawing (UI thread, under the poller's lock) ---- */

static attr_t style_attr(unsigned style)
{
	attr_t a = colors_attr(UI_NORMAL);

	if (style & MD_HEADING)
		a = colors_attr(UI_PANE) | A_BOLD;
	if (style & MD_CODE)
		a = colors_attr(UI_GOOD);
	if (style & MD_STRONG)
		a |= A_BOLD;
	if (style & MD_EM)
		a |= A_UNDERLINE;
	return a;
}

static void draw_md_line(int y, int x, int w, const struct markdown_line *l)
{
	size_t k;

	for (k = 0; k < l->nspans && w > 0; k++) {
		char *piece = xstrndup(l->text + l->spans[k].off, l->spans[k].len);
		int used = table_put(y, x, piece, w, style_attr(l->spans[k].style));

		x += used;
		w -= used;
		free(piece);
	}
}

/* the step's text, then the lab's, rendered for `w` columns when the selection or width changed */
static void render(struct labspane *p, int w)
{
	const struct lab *l = &p->track.labs[p->lab];
	const struct lab_step *s = &l->steps[p->step];
	struct buf about = BUF_INIT;

	if (p->md_width == w && p->md_lab == p->lab && p->md_step == p->step)
		return;
	markdown_release(&p->md);
	buf_addf(&about, "%s\n\n# About %s: %s\n\n%s", s->front.body, l->name, l->front.title,
		 l->front.body);
	markdown_render(&p->md, about.s, w);
	buf_release(&about);
	p->md_width = w;
	p->md_lab = p->lab;
	p->md_step = p->step;
}

/* the labs, then the selected lab's steps, in the left column */
static void draw_list(struct labspane *p, int y, int rows, int w)
{
	const struct lab *sl = &p->track.labs[p->lab];
	size_t cl = 0, cs = 0, i, top;
	int cur = current(p, &cl, &cs), lab_rows, r;
	char text[160], count[16];

	lab_rows = rows - (int)sl->nsteps - 1;
	if (lab_rows < rows / 2)
		lab_rows = rows / 2;
	if (lab_rows > (int)p->track.nlabs)
		lab_rows = (int)p->track.nlabs;
	top = p->lab >= (size_t)lab_rows ? p->lab - (size_t)lab_rows + 1 : 0;
	for (r = 0, i = top; r < lab_rows && i < p->track.nlabs; r++, i++) {
		const struct lab *l = &p->track.labs[i];
		size_t done = done_in(p, i);
		int sel = i == p->lab;
		attr_t a = sel ? colors_attr(UI_SELECTED) : colors_attr(UI_NORMAL);

		if (sel)
			mvhline(y + r, 0, ' ' | a, w);
		snprintf(count, sizeof(count), " %zu/%zu", done, l->nsteps);
		snprintf(text, sizeof(text), "%s%.2s %s", cur && cl == i ? ">" : " ", l->name,
			 l->front.title);
		table_fit(y + r, 0, text, w - (int)strlen(count), a);
		table_put(y + r, w - (int)strlen(count), count, (int)strlen(count),
			  sel ? a : colors_attr(done == l->nsteps ? UI_GOOD : UI_DIM));
	}
	y += lab_rows + 1;
	rows -= lab_rows + 1;
	top = p->step >= (size_t)(rows > 0 ? rows : 1) ? p->step - (size_t)rows + 1 : 0;
	for (r = 0, i = top; r < rows && i < sl->nsteps; r++, i++) {
		int sel = i == p->step;
		attr_t a = sel ? colors_attr(UI_SELECTED) : colors_attr(UI_NORMAL);

		if (sel)
			mvhline(y + r, 0, ' ' | a, w);
		snprintf(text, sizeof(text), "%s[%s] %.2s %s", cur && cl == p->lab && cs == i ? ">" : " ",
			 is_done(p, p->lab, i) ? "x" : " ", sl->steps[i].name, sl->steps[i].front.title);
		table_fit(y + r, 0, text, w, a);
	}
}

/* the step: its title, commands and hints revealed, then its text scrolled */
static void draw_step(struct labspane *p, int y, int x, int rows, int w)
{
	const struct lab *l = &p->track.labs[p->lab];
	const struct lab_step *s = &l->steps[p->step];
	struct labprog_step *e = prog_of(p, p->lab, p->step);
	size_t cl, cs, i;
	char text[600];
	int r = 0, hints = e ? e->hints : 0, cur = current(p, &cl, &cs) && cl == p->lab &&
						       cs == p->step;

	snprintf(text, sizeof(text), "%s step %zu/%zu: %s%s", l->name, p->step + 1, l->nsteps,
		 s->front.title, e && e->done_at ? "  (done)" : cur ? "  (current)" : "");
	table_fit(y + r++, x, text, w, colors_attr(e && e->done_at ? UI_GOOD : UI_NORMAL) | A_BOLD);
	for (i = 0; i < s->front.commands.n && r < rows; i++) {
		if (i == LABS_CMDS_SHOWN - 1 && s->front.commands.n > LABS_CMDS_SHOWN) {
			snprintf(text, sizeof(text), "  ... and %zu more (Enter runs them all)",
				 s->front.commands.n - i);
			table_fit(y + r++, x, text, w, colors_attr(UI_DIM));
			break;
		}
		snprintf(text, sizeof(text), "$ %s", s->front.commands.v[i]);
		table_fit(y + r++, x, text, w, colors_attr(UI_GOOD) | A_BOLD);
	}
	for (i = 0; i < (size_t)hints && i < s->front.hints.n && r < rows; i++) {
		snprintf(text, sizeof(text), "hint %zu/%zu: %s", i + 1, s->front.hints.n,
			 s->front.hints.v[i]);
		r += table_wrap(y + r, x, text, w, rows - r < 2 ? rows - r : 2, colors_attr(UI_WAIT));
	}
	if (r < rows)
		r++;
	render(p, w);
	p->text_rows = rows - r;
	if (p->text_top > (int)p->md.n - p->text_rows)
		p->text_top = (int)p->md.n - p->text_rows;
	if (p->text_top < 0)
		p->text_top = 0;
	for (i = (size_t)p->text_top; i < p->md.n && r < rows; i++, r++) {
		if (r == rows - 1 && i + 1 < p->md.n) {
			table_fit(y + r, x, "... PgDn shows more", w, colors_attr(UI_DIM));
			break;
		}
		draw_md_line(y + r, x, w, &p->md.v[i]);
	}
}

/* the question, the running action or how it ended: one line */
static void draw_status(struct labspane *p, int y)
{
	const struct lab *l = &p->track.labs[p->lab];
	char text[512], secs[32];
	enum ui_color color = UI_DIM;
	double now = clock_s();

	if (p->confirm) {
		if (p->confirm == 's')
			snprintf(text, sizeof(text), "solve %s/%s (pancake does the step)? y goes on, "
				 "any other key: no", l->name, l->steps[p->step].name);
		else
			snprintf(text, sizeof(text), "reset %s? y: its cleanups run, its scratch and "
				 "progress go; any other key: no", l->name);
		table_fit(y, 0, text, COLS, colors_attr(UI_WAIT) | A_BOLD);
		return;
	}
	pthread_mutex_lock(&p->lock);
	switch (p->phase) {
	case LP_IDLE:
		snprintf(text, sizeof(text), "Enter runs the step's commands, c checks it, h shows a "
			 "hint, s solves it, ! opens a shell");
		break;
	case LP_RUNNING:
		snprintf(secs, sizeof(secs), "%.0f s", now - p->started);
		snprintf(text, sizeof(text), "%s of %s/%s running for %s: x stops it",
			 act_words[p->act], p->track.labs[p->act_lab].name,
			 p->track.labs[p->act_lab].steps[p->act_step].name, secs);
		color = UI_WAIT;
		break;
	case LP_DONE:
		snprintf(text, sizeof(text), "%s", p->status);
		color = UI_GOOD;
		break;
	case LP_FAILED:
		snprintf(text, sizeof(text), "%s", p->status);
		color = UI_BAD;
		break;
	case LP_STOPPED:
		snprintf(text, sizeof(text), "%s", p->status);
		color = UI_WAIT;
		break;
	}
	pthread_mutex_unlock(&p->lock);
	table_fit(y, 0, text, COLS, colors_attr(color) | (p->phase == LP_IDLE ? 0 : A_BOLD));
}

static void draw_output(struct labspane *p, int y, int rows)
{
	char title[160];
	size_t first, i;

	pthread_mutex_lock(&p->lock);
	if (p->act == LA_NONE)
		snprintf(title, sizeof(title), "output");
	else if (p->act == LA_RESET)
		snprintf(title, sizeof(title), "output: reset of %s", p->track.labs[p->act_lab].name);
	else
		snprintf(title, sizeof(title), "output: %s of %s/%s", act_words[p->act],
			 p->track.labs[p->act_lab].name, p->track.labs[p->act_lab].steps[p->act_step].name);
	table_rule(y, title, NULL, colors_attr(UI_PANE));
	y++;
	rows--;
	if (rows <= 0)
		goto out;
	if (!p->nlines) {
		table_fit(y, 1, p->act == LA_NONE ? "what an action prints shows here as it comes" :
			  "(nothing printed yet)", COLS - 2, colors_attr(UI_DIM));
		goto out;
	}
	first = p->nlines > (size_t)rows ? p->nlines - (size_t)rows : 0;
	if (p->nlines > LABS_RING && first < p->nlines - LABS_RING)
		first = p->nlines - LABS_RING;
	for (i = first; i < p->nlines; i++, y++) {
		const struct labs_line *l = &p->ring[i % LABS_RING];

		table_fit(y, 0, l->text, COLS, colors_attr(l->is_stderr ? UI_STDERR : UI_NORMAL));
	}
out:
	pthread_mutex_unlock(&p->lock);
}

static void draw(void *pane, struct pane_ctx *c, int y, int rows)
{
	struct labspane *p = pane;
	char right[64];
	int top, out, lw, i;
	size_t done = 0, n;

	(void)c;
	if (rows < 2)
		return;
	if (!p->track_ok) {
		table_rule(y, "labs: the track is refused", NULL, colors_attr(UI_PANE));
		table_wrap(y + 1, 0, p->refusal.s, COLS, rows - 1, colors_attr(UI_BAD));
		return;
	}
	if (!p->run_open) {
		table_rule(y, "labs", NULL, colors_attr(UI_PANE));
		table_fit(y + 1, 1, "reading the track...", COLS - 2, colors_attr(UI_DIM));
		return;
	}
	for (n = 0; n < p->track.nlabs; n++)
		done += done_in(p, n) == p->track.labs[n].nsteps;
	snprintf(right, sizeof(right), "%zu/%zu labs done", done, p->track.nlabs);
	table_rule(y, "labs: the workshop", right, colors_attr(UI_PANE));
	y++;
	rows--;
	if (p->prog_err.len && rows > 1) {
		i = table_wrap(y, 0, p->prog_err.s, COLS, 2, colors_attr(UI_BAD));
		y += i;
		rows -= i;
	}
	/* the output gets a third, the status a line, the rest the lab */
	out = rows >= 12 ? (rows - 2) / 3 + 1 : rows >= 6 ? 3 : 0;
	top = rows - out - 1;
	if (top < 1)
		return;
	lw = COLS / 3 < 22 ? 22 : COLS / 3 > 34 ? 34 : COLS / 3;
	draw_list(p, y, top, lw);
	for (i = 0; i < top; i++)
		mvaddch(y + i, lw, ACS_VLINE | colors_attr(UI_DIM));
	draw_step(p, y, lw + 2, top, COLS - lw - 2);
	draw_status(p, y + top);
	if (out)
		draw_output(p, y + top + 1, out);
}

/* ---- life cycle ---- */

static void *new(struct pane_ctx *c)
{
	struct labspane *p = xcalloc(1, sizeof(*p));

	pthread_mutex_init(&p->lock, NULL);
	buf_init(&p->refusal, 0);
	buf_init(&p->prog_err, 0);
	labprog_init(&p->prog);
	markdown_init(&p->md);
	p->dir = c->labs && *c->labs ? xstrdup(c->labs) : xstrfmt("%s/labs", config_home());
	load_track(p);
	return p;
}

static void free_pane(void *pane)
{
	struct labspane *p = pane;
	size_t i;

	p->stop = 1;
	if (p->have_thread)
		pthread_join(p->thread, NULL);
	for (i = 0; i < LABS_RING; i++)
		free(p->ring[i].text);
	if (p->run_open)
		labrun_release(&p->run);
	lab_track_release(&p->track);
	labprog_release(&p->prog);
	markdown_release(&p->md);
	buf_release(&p->refusal);
	buf_release(&p->prog_err);
	free(p->dir);
	pthread_mutex_destroy(&p->lock);
	free(p);
}

/* coming in again: a fixed track shows (when nothing runs), and the newest progress */
static void enter(void *pane, struct pane_ctx *c)
{
	struct labspane *p = pane;

	p->confirm = 0;
	if (!busy_now(p)) {
		if (p->have_thread)
			pthread_join(p->thread, NULL);
		p->have_thread = 0;
		load_track(p);
	}
	open_run(p, c);
	p->prog_stale = 1;
}

static int changed(void *pane, struct pane_ctx *c)
{
	struct labspane *p = pane;
	int news = 0, finished = 0;
	char status[400] = "";

	if (!p->run_open && p->track_ok && c->m->st) {
		open_run(p, c);
		news = 1;
	}
	pthread_mutex_lock(&p->lock);
	if (p->version != p->seen_version)
		news = 1;
	if (p->phase != p->seen_phase && p->phase != LP_RUNNING && p->seen_phase == LP_RUNNING) {
		finished = 1;
		snprintf(status, sizeof(status), "%s", p->status);
	}
	p->seen_version = p->version;
	p->seen_phase = p->phase;
	pthread_mutex_unlock(&p->lock);
	if (finished) {
		poller_event(c->m, NOTE_INFO, "labs", "%s", status);
		p->prog_stale = 1;
		/* a lab reset is back at its first step */
		if (p->act == LA_RESET && p->phase == LP_DONE) {
			p->lab = p->act_lab;
			p->step = 0;
			p->text_top = 0;
		}
	}
	if (p->run_open && (p->prog_stale || clock_s() - p->prog_at >= LABS_POLL_S)) {
		news |= read_progress(p, p->prog_stale);
		p->prog_stale = 0;
	}
	home_note(p, c);
	return news;
}

static int busy(void *pane, char *what, size_t size)
{
	struct labspane *p = pane;
	int ret;

	pthread_mutex_lock(&p->lock);
	ret = p->phase == LP_RUNNING;
	if (ret)
		snprintf(what, size, "stopping the %s of %s/%s (its process group too)",
			 act_words[p->act], p->track.labs[p->act_lab].name,
			 p->track.labs[p->act_lab].steps[p->act_step].name);
	pthread_mutex_unlock(&p->lock);
	return ret;
}

static void cancel(void *pane)
{
	struct labspane *p = pane;

	p->stop = 1;
}

const struct pane_ops labs_pane = {
	.name = "labs",
	.title = "labs screen",
	.about = "the labs screen: the workshop's steps, run, check, hint, solve",
	.full = 1,
	.new = new,
	.free = free_pane,
	.enter = enter,
	.draw = draw,
	.changed = changed,
	.busy = busy,
	.cancel = cancel,
	.keys = keys,
	.nkeys = ARRAY_SIZE(keys),
};
