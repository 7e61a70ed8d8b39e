/*
 * doctor: the checks of `pancake doctor`, one after the other; the engine
 * is asked through its own handle, and nothing more once it has stalled.
 * The IPVS check reads this machine's /proc, /sys and /lib/modules only.
 */
#include "core/doctor.h"
#include "clients/docker.h"
#include "core/config.h"
#include "core/images.h"
#include "core/stack.h"
#include "util/human.h"
#include "util/xalloc.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/utsname.h>

static void add(struct doctor *dr, const char *name, enum doctor_verdict v, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

static void add(struct doctor *dr, const char *name, enum doctor_verdict v, const char *fmt, ...)
{
	struct doctor_check *c;
	va_list ap;

	if (dr->n == DOCTOR_CHECKS_MAX)
		BUG("more than %d doctor checks", DOCTOR_CHECKS_MAX);
	c = &dr->c[dr->n++];
	snprintf(c->name, sizeof(c->name), "%s", name);
	c->v = v;
	va_start(ap, fmt);
	vsnprintf(c->text, sizeof(c->text), fmt, ap);
	va_end(ap);
	if (dr->fn)
		dr->fn(c, dr->ctx);
}

/* a check that needs the engine: 0 when it may run, else it is recorded as not run */
static int engine_gone(struct doctor *dr, const char *name)
{
	if (!dr->engine_down[0])
		return 0;
	add(dr, name, DOCTOR_NOT_RUN, "could not run: %s", dr->engine_down);
	return 1;
}

/* after an engine call failed: a stalled engine is asked nothing more */
static void note_engine(struct doctor *dr, int code, const char *why)
{
	if (code == DOCKER_ETIMEDOUT || code == DOCKER_EUNREACH)
		snprintf(dr->engine_down, sizeof(dr->engine_down), "%s",
			 code == DOCKER_ETIMEDOUT ? "the engine is stalled (see above)" : why);
}

/* two services publishing one host address and port can never both start */
static void check_definitions(struct doctor *dr, struct stack *st, int loaded, const char *err)
{
	if (!loaded)
		add(dr, "definitions", DOCTOR_FAIL, "%s", err);
	else
		add(dr, "definitions", DOCTOR_OK, "%d services defined in %s/services, no host port "
		    "published twice", st->n, config_home());
}

/* single-machine use is the default: a swarm is news, not its absence */
static void check_swarm(struct doctor *dr, const struct docker_swarm_info *sw)
{
	struct doctor_swarm *o = &dr->swarm;

	snprintf(o->state, sizeof(o->state), "%s", sw->state[0] ? sw->state : "inactive");
	o->manager = sw->control;
	o->nodes = sw->nodes;
	o->managers = sw->managers;
	if (!strcmp(o->state, "inactive"))
		add(dr, "swarm", DOCTOR_INFO, "inactive: single-machine mode; `pancake up --swarm` needs "
		    "a swarm manager (docker swarm init on the manager node)");
	else if (!strcmp(o->state, "active") && o->manager)
		add(dr, "swarm", DOCTOR_OK, "active, this engine is a manager: %d node%s, %d manager%s",
		    o->nodes, o->nodes == 1 ? "" : "s", o->managers, o->managers == 1 ? "" : "s");
	else if (!strcmp(o->state, "active"))
		add(dr, "swarm", DOCTOR_WARN, "active, but this engine is a worker: `pancake up --swarm` "
		    "needs a manager; point DOCKER_HOST at one (docker node ls there)");
	else
		add(dr, "swarm", DOCTOR_WARN, "%s: this engine is not a working swarm member; see "
		    "'docker info' on it (a locked swarm wants docker swarm unlock)", o->state);
}

static int exists(const char *root, const char *path)
{
	struct stat st;
	char p[4096];

	snprintf(p, sizeof(p), "%s%s", root, path);
	return !stat(p, &st);
}

/* modules.builtin names each built-in module's path, one a line: ".../ipvs/ip_vs.ko" */
static int builtin_has(const char *root, const char *release, const char *module)
{
	char p[4096], line[512];
	size_t ml = strlen(module), n;
	FILE *f;
	int found = 0;

	snprintf(p, sizeof(p), "%s/lib/modules/%s/modules.builtin", root, release);
	f = fopen(p, "r");
	if (!f)
		return 0;
	while (!found && fgets(line, sizeof(line), f)) {
		line[strcspn(line, "\r\n")] = '\0';
		n = strlen(line);
		found = n >= ml && !strcmp(line + n - ml, module) &&
			(n == ml || line[n - ml - 1] == '/');
	}
	fclose(f);
	return found;
}

int doctor_ipvs_probe(const char *root, const char *release, struct doctor_ipvs *out)
{
	static const char *const ext[] = { "", ".xz", ".zst", ".gz" };
	char p[1024];
	size_t i;

	memset(out, 0, sizeof(*out));
	if (!strcmp(root, "/"))
		root = "";
	if (exists(root, "/proc/net/ip_vs"))
		snprintf(out->how, sizeof(out->how), "/proc/net/ip_vs");
	else if (exists(root, "/sys/module/ip_vs"))
		snprintf(out->how, sizeof(out->how), "/sys/module/ip_vs");
	else if (release && release[0]) {
		/* not loaded, but dockerd loads it when a swarm wants it */
		for (i = 0; i < ARRAY_SIZE(ext) && !out->how[0]; i++) {
			snprintf(p, sizeof(p), "/lib/modules/%s/kernel/net/netfilter/ipvs/ip_vs.ko%s",
				 release, ext[i]);
			if (exists(root, p))
				snprintf(out->how, sizeof(out->how), "module file");
		}
		if (!out->how[0] && builtin_has(root, release, "ip_vs.ko"))
			snprintf(out->how, sizeof(out->how), "built in");
	}
	out->available = out->how[0] != '\0';
	return out->available;
}

/* Swarm's virtual IPs and ingress mesh are IPVS; without it pancake does without them */
static void check_ipvs(struct doctor *dr)
{
	struct utsname u;
	const char *release = uname(&u) ? "" : u.release;

	doctor_ipvs_probe("", release, &dr->ipvs);
	if (dr->ipvs.available)
		add(dr, "ipvs", DOCTOR_OK, "this kernel offers IPVS (%s): Swarm's routing mesh (ingress) "
		    "and virtual IPs work", dr->ipvs.how);
	else
		add(dr, "ipvs", DOCTOR_WARN, "this kernel has no IPVS (no /proc/net/ip_vs, /sys/module/"
		    "ip_vs or ip_vs module for %s): Swarm's routing mesh (ingress) and virtual IPs will "
		    "not answer; pancake uses host-mode published ports and dnsrr endpoints instead; a "
		    "kernel with CONFIG_IP_VS (modules ip_vs, ip_vs_rr) adds the routing mesh",
		    release[0] ? release : "this kernel");
}

static void engine_checks(struct doctor *dr, struct stack *st, int loaded)
{
	struct buf err = BUF_INIT;
	struct docker *d;
	struct docker_version v;
	struct docker_info info;
	int code, k, r;
	char a[32], b[32];

	d = docker_open(NULL, &code, &err);
	if (!d) {
		static const char *const rest[] = { "api", "engine-info", "swarm", "memory",
						     "ports", "disk", "images" };
		size_t i;

		add(dr, "engine", DOCTOR_FAIL, "%s", err.s);
		snprintf(dr->engine_down, sizeof(dr->engine_down), "%s",
			 code == DOCKER_ETIMEDOUT ? "the engine is stalled (see 'engine' above)"
						  : "no engine answers (see 'engine' above)");
		for (i = 0; i < ARRAY_SIZE(rest); i++)
			engine_gone(dr, rest[i]);
		buf_release(&err);
		return;
	}
	add(dr, "engine", DOCTOR_OK, "answers at %s", docker_endpoint(d));
	/* one stalled call says enough: the rest would each wait as long */
	r = docker_version(d, &v, &err);
	if (r) {
		add(dr, "api", DOCTOR_FAIL, "%s", err.s);
		note_engine(dr, r, err.s);
	} else if (!v.api_version[0] || !v.version[0]) {
		add(dr, "api", DOCTOR_FAIL, "the engine's /version names no %s: is it a Docker engine?",
		    v.version[0] ? "API version" : "version");
	} else {
		add(dr, "api", DOCTOR_OK, "engine %s speaks API %s; pancake uses %s", v.version,
		    v.api_version, docker_api_version(d));
	}
	buf_reset(&err);
	if (!engine_gone(dr, "engine-info")) {
		r = docker_info(d, &info, &err);
		if (r) {
			add(dr, "engine-info", DOCTOR_FAIL, "%s", err.s);
			note_engine(dr, r, err.s);
		} else {
			add(dr, "engine-info", DOCTOR_OK, "%s, %d CPUs, storage %s, cgroup v%s", info.os,
			    info.ncpu, info.storage_driver, info.cgroup_version);
			check_swarm(dr, &info.swarm);
		}
	}
	/* engine-info failed without stalling: nothing to say of the swarm */
	if (strcmp(dr->swarm.state, "unknown") == 0 && !engine_gone(dr, "swarm"))
		add(dr, "swarm", DOCTOR_NOT_RUN, "could not run: the engine's /info did not answer "
		    "(see 'engine-info' above)");
	buf_reset(&err);
	if (!loaded) {
		add(dr, "memory", DOCTOR_NOT_RUN, "could not run: the definitions are malformed");
		add(dr, "ports", DOCTOR_NOT_RUN, "could not run: the definitions are malformed");
	} else {
		struct service_status ss[SERVICE_MAX];
		int64_t need = 0, have = 0;
		int which[SERVICE_MAX], nw = 0;

		st->d = d;
		for (k = 0; k < st->n; k++)
			which[nw++] = k;
		if (!engine_gone(dr, "memory")) {
			if (stack_check_memory(st, which, nw, &need, &have, &err)) {
				add(dr, "memory", DOCTOR_FAIL, "%s", err.s);
			} else {
				human_bytes(a, sizeof(a), (double)need);
				human_bytes(b, sizeof(b), (double)have);
				add(dr, "memory", DOCTOR_OK, "services' limits %s of %s usable", a, b);
			}
		}
		buf_reset(&err);
		if (!engine_gone(dr, "ports")) {
			/* ports held by our own running containers are not conflicts */
			nw = 0;
			if (stack_status(st, ss, 0, &err)) {
				add(dr, "ports", DOCTOR_NOT_RUN, "could not run: %s", err.s);
			} else {
				for (k = 0; k < st->n; k++)
					if (!ss[k].running)
						which[nw++] = k;
				buf_reset(&err);
				if (stack_check_ports(st, which, nw, &err))
					add(dr, "ports", DOCTOR_FAIL, "%s", err.s);
				else
					add(dr, "ports", DOCTOR_OK, "every published port is free or already "
					    "the stack's");
			}
		}
		buf_reset(&err);
		st->d = NULL;
	}
	if (!engine_gone(dr, "disk")) {
		int64_t disk = 0;

		r = docker_root_free(d, &disk, &err);
		if (r) {
			add(dr, "disk", DOCTOR_NOT_RUN, "could not run: %s", err.s);
			note_engine(dr, r, err.s);
		} else {
			human_bytes(a, sizeof(a), (double)disk);
			add(dr, "disk", disk >= DOCTOR_DISK_WANT ? DOCTOR_OK : DOCTOR_FAIL,
			    "%s free at the engine's data root%s", a,
			    disk >= DOCTOR_DISK_WANT ? "" : ": images and volumes want 6 GiB; free some space");
		}
	}
	buf_reset(&err);
	if (!engine_gone(dr, "images")) {
		struct image_row rows[IMAGES_MAX];
		int nimg = images_list(d, rows, IMAGES_MAX, &err);

		if (nimg < 0) {
			add(dr, "images", DOCTOR_NOT_RUN, "could not run: %s", err.s);
		} else {
			int missing = 0;
			struct buf names = BUF_INIT;

			for (k = 0; k < nimg; k++)
				if (!rows[k].id[0]) {
					buf_addf(&names, " %s", rows[k].name);
					missing++;
				}
			if (missing)
				add(dr, "images", DOCTOR_FAIL, "not built:%s; run 'pancake images build'",
				    names.s);
			else
				add(dr, "images", DOCTOR_OK, "all %d images built", nimg);
			buf_release(&names);
		}
	}
	docker_free(d);
	buf_release(&err);
}

int doctor_run(struct doctor *dr, doctor_fn fn, void *ctx)
{
	struct buf err = BUF_INIT;
	struct stack st;
	int i, bad = 0, loaded;

	memset(dr, 0, sizeof(*dr));
	dr->fn = fn;
	dr->ctx = ctx;
	/* the definitions need no engine: checked first, whatever the engine does */
	loaded = !stack_open(&st, NULL, PROFILE_DEFAULT, NULL, NULL, &err);
	check_definitions(dr, &st, loaded, err.s);
	snprintf(dr->swarm.state, sizeof(dr->swarm.state), "unknown");
	engine_checks(dr, &st, loaded);
	check_ipvs(dr);
	if (loaded)
		stack_close(&st);
	for (i = 0; i < dr->n; i++)
		if (dr->c[i].v == DOCTOR_FAIL || dr->c[i].v == DOCTOR_NOT_RUN)
			bad++;
	buf_release(&err);
	return bad;
}
