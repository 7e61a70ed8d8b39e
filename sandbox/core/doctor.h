/*
 * doctor: is this machine ready for the stack? The checks of `pancake
 * doctor` (definitions, engine, API, memory, ports, disk, images) in order,
 * each handed to a callback as soon as it is known. It never prints.
 */
#ifndef PANCAKE_DOCTOR_H
#define PANCAKE_DOCTOR_H

/*
 * A check passes, fails, or could not run; one that could not run is a
 * failure too (an unchecked engine is not a healthy one).
 */
enum doctor_verdict { DOCTOR_OK, DOCTOR_FAIL, DOCTOR_NOT_RUN };

#define DOCTOR_CHECKS_MAX 16
/* free bytes the engine's data root should have for images and volumes */
#define DOCTOR_DISK_WANT (6.0 * 1024 * 1024 * 1024)

struct doctor_check {
	char name[32];               /* "engine", "ports"... */
	enum doctor_verdict v;
	char text[1024];             /* what was found, or why it could not run */
};

/* sees each check as it is added; `c` borrowed, valid during the call */
typedef void (*doctor_fn)(const struct doctor_check *c, void *ctx);

struct doctor {
	struct doctor_check c[DOCTOR_CHECKS_MAX];
	int n;
	/* --- private to doctor.c --- */
	doctor_fn fn;
	void *ctx;
	/* why the engine checks cannot run (no engine, or it stalled); "" while fine */
	char engine_down[512];
};

/*
 * Runs every check into `dr` (memset by it), calling `fn` (may be NULL)
 * for each one as it is known: the definitions first, whatever the engine
 * does, then the engine's, which stop asking an engine that stalled.
 * Returns how many did not pass.
 */
int doctor_run(struct doctor *dr, doctor_fn fn, void *ctx);

#endif
