/*
 * doctor: is this machine ready for the stack? The checks of `pancake
 * doctor` (definitions, engine, API, swarm, memory, ports, disk, images,
 * ipvs) in order,
 * each handed to a callback as soon as it is known. It never prints.
 */
#ifndef PANCAKE_DOCTOR_H
#define PANCAKE_DOCTOR_H

/*
 * A check passes, fails, or could not run; one that could not run is a
 * failure too (an unchecked engine is not a healthy one). INFO and WARN
 * are not failures: INFO says how the machine is set up (single-machine
 * rather than swarm), WARN what it will not do (no IPVS, no routing mesh).
 */
enum doctor_verdict { DOCTOR_OK, DOCTOR_FAIL, DOCTOR_NOT_RUN, DOCTOR_INFO, DOCTOR_WARN };

#define DOCTOR_CHECKS_MAX 16
/* free bytes the engine's data root should have for images and volumes */
#define DOCTOR_DISK_WANT (6.0 * 1024 * 1024 * 1024)

struct doctor_check {
	char name[32];               /* "engine", "ports"... */
	enum doctor_verdict v;
	char text[1024];             /* what was found, or why it could not run */
};

/* sees each check as it is added; `c` borrowed, valid during the call */
/* the engine's swarm membership, from /info; state "unknown" when it was not asked */
struct doctor_swarm {
	char state[16];              /* "inactive", "active", "pending", "error", "locked" */
	int manager;                 /* this engine can deploy swarm services */
	int nodes, managers;         /* as a manager sees them; 0 elsewhere */
};

/* whether the kernel offers IPVS, which Swarm's virtual IPs and ingress need */
struct doctor_ipvs {
	int available;
	/* where it was found: "/proc/net/ip_vs" (loaded), "/sys/module/ip_vs",
	 * "module file", "built in"; "" when absent */
	char how[32];
};

typedef void (*doctor_fn)(const struct doctor_check *c, void *ctx);

struct doctor {
	struct doctor_check c[DOCTOR_CHECKS_MAX];
	int n;
	struct doctor_swarm swarm;
	struct doctor_ipvs ipvs;
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
 * Returns how many failed or could not run (INFO and WARN are not failures).
 */
int doctor_run(struct doctor *dr, doctor_fn fn, void *ctx);

/*
 * Whether the kernel release `release` (uname -r) offers IPVS, looking only
 * under `root` ("" or "/" for this machine, a fake tree in tests): a loaded
 * module (/proc/net/ip_vs, /sys/module/ip_vs), a module file under
 * /lib/modules/RELEASE, or ip_vs in its modules.builtin. Reads, never loads.
 * Fills `out` (memset by it) and returns out->available.
 */
int doctor_ipvs_probe(const char *root, const char *release, struct doctor_ipvs *out);

#endif
