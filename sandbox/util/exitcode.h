/* exitcode: the exit codes every pancake program uses (README lists them). */
#ifndef PANCAKE_EXITCODE_H
#define PANCAKE_EXITCODE_H

enum exit_code {
	RC_OK = 0,            /* it did what was asked */
	RC_FAILED = 1,        /* it ran and failed, or a check found a difference */
	RC_USAGE = 2,         /* bad arguments or a malformed definition: nothing was done */
	RC_NO_ENGINE = 3,     /* no Docker engine answers, or it stalled: nothing was done */
	RC_INTERRUPTED = 130, /* Ctrl-C or SIGTERM: what was done stays, a rerun resumes */
};

#endif
