/*
 * lab: a workshop track read from its folder (labs/NN-name/lab.md, their
 * steps NN-name/step.md and scripts), every refusal before anything runs.
 */
#ifndef PANCAKE_LAB_H
#define PANCAKE_LAB_H

#include <stddef.h>
#include "util/buf.h"
#include "util/strvec.h"

#define LAB_TIMEOUT_DEFAULT 300   /* seconds, when neither lab nor step says */
#define LAB_TIMEOUT_MAX 86400
#define LAB_FILE_MAX (1 << 20)    /* a lab.md or step.md larger is refused */

/* what a step's scripts do; the script file is named after it */
enum lab_action { LAB_SETUP, LAB_CHECK, LAB_SOLVE, LAB_CLEANUP, LAB_NACTIONS };
/* "setup", "check", "solve", "cleanup" */
const char *lab_action_name(enum lab_action a);

/* a lab.md or step.md: its front matter and the Markdown after it */
struct lab_front {
	char *title;
	struct strvec commands;   /* in file order */
	struct strvec hints;      /* in file order */
	int timeout_s;            /* 0: not given */
	char *body;               /* the text after the closing '---' */
};
enum lab_front_flags {
	LAB_FRONT_STEP = 1 << 0,  /* step.md: 'command' and 'hint' allowed */
};
/*
 * Parses `len` bytes of `text` (need not be NUL-terminated). 0, or -1 with
 * "FILE:LINE: reason" in `err` (`file` names it). Release with
 * lab_front_release either way. flags: enum lab_front_flags.
 */
int lab_front_parse(struct lab_front *f, const char *text, size_t len, const char *file,
		    unsigned flags, struct buf *err);
void lab_front_release(struct lab_front *f);

struct lab_step {
	char *name;               /* "01-up" */
	char *dir;                /* the step's folder */
	struct lab_front front;
	int timeout_s;            /* the step's, else the lab's, else the default */
	int has[LAB_NACTIONS];    /* the script exists (check always does) */
};

struct lab {
	char *name;               /* "01-stack" */
	char *dir;
	struct lab_front front;
	struct lab_step *steps;
	size_t nsteps;
};

struct lab_track {
	char *dir;                /* absolute */
	struct lab *labs;         /* ordered by number */
	size_t nlabs;
};

/*
 * Reads the whole track in `dir`: every lab, step and script. 0, or -1
 * with `err` ("FILE:LINE: reason", or the missing or non-executable file
 * named). A folder with no lab in it is a track of none. Release with
 * lab_track_release either way.
 */
int lab_track_load(struct lab_track *t, const char *dir, struct buf *err);
void lab_track_release(struct lab_track *t);

/*
 * Finds "LAB" or "LAB/STEP" (a lab or step is named in full, or by its
 * number: "01/02"). Sets *lab, and *step when the spec names one (else
 * NULL). 0, or -1 with `err` naming what is unknown. Borrowed from `t`.
 */
int lab_find(const struct lab_track *t, const char *spec, const struct lab **lab,
	     const struct lab_step **step, struct buf *err);
/* the script of a step's action; new (free) */
char *lab_script(const struct lab_step *s, enum lab_action a);

#endif
