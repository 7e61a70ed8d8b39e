/*
 * class: a stack per attendee on a shared swarm. Names and ports are pure;
 * up, status and down go through core/swarm with the class labels.
 */
#include "core/class.h"
#include "clients/docker.h"
#include "core/config.h"
#include "core/labprog.h"
#include "core/swarm.h"
#include "util/xalloc.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int class_name_ok(const char *name)
{
	size_t i, n = strlen(name);

	if (!n || n > CLASS_NAME_MAX || !isalnum((unsigned char)name[0]))
		return -1;
	for (i = 0; i < n; i++)
		if (!(islower((unsigned char)name[i]) || isdigit((unsigned char)name[i]) ||
		      name[i] == '-'))
			return -1;
	return 0;
}

int class_roster_load(const char *file, struct class_roster *r, struct buf *err)
{
	FILE *f = fopen(file, "r");
	char line[512];
	int lineno = 0, i, ret = -1;

	memset(r, 0, sizeof(*r));
	if (!f) {
		buf_addf(err, "cannot read the roster '%s': %s; give a file with one attendee "
			 "name per line", file, strerror(errno));
		return -1;
	}
	while (fgets(line, sizeof(line), f)) {
		char *p = line, *end;

		lineno++;
		if (!strchr(line, '\n') && !feof(f)) {
			buf_addf(err, "%s:%d: the line is too long for a name", file, lineno);
			goto out;
		}
		if ((end = strchr(p, '#')))
			*end = '\0';
		while (isspace((unsigned char)*p))
			p++;
		end = p + strlen(p);
		while (end > p && isspace((unsigned char)end[-1]))
			*--end = '\0';
		if (!*p)
			continue;
		if (class_name_ok(p)) {
			buf_addf(err, "%s:%d: '%.40s' is not an attendee name: use lower-case letters, "
				 "digits and '-', at most %d, starting with a letter or digit",
				 file, lineno, p, CLASS_NAME_MAX);
			goto out;
		}
		for (i = 0; i < r->n; i++)
			if (!strcmp(r->name[i], p)) {
				buf_addf(err, "%s:%d: '%s' is in the roster twice (seat %d already)",
					 file, lineno, p, i + 1);
				goto out;
			}
		if (r->n == CLASS_MAX) {
			buf_addf(err, "%s:%d: more than %d attendees: split the class in two", file,
				 lineno, CLASS_MAX);
			goto out;
		}
		snprintf(r->name[r->n++], sizeof(r->name[0]), "%s", p);
	}
	if (ferror(f)) {
		buf_addf(err, "cannot read the roster '%s': %s", file, strerror(errno));
		goto out;
	}
	if (!r->n) {
		buf_addf(err, "the roster '%s' names no attendee: put one name per line", file);
		goto out;
	}
	ret = 0;
out:
	fclose(f);
	return ret;
}

int class_seat_stack(struct stack *st, const char *klass, const char *attendee, int seat,
		     struct buf *err)
{
	int k, i, all = st->nall > st->n ? st->nall : st->n;

	snprintf(st->project, sizeof(st->project), "%s-%s", klass, attendee);
	snprintf(st->network, sizeof(st->network), "%s-net", st->project);
	/* the swarm-only members too (Redis's replica and Sentinels): all go on the swarm */
	for (k = 0; k < all; k++)
		for (i = 0; i < st->svcs[k].nports; i++) {
			struct service_port *p = &st->svcs[k].ports[i];
			long moved = (long)p->host_port + (long)seat * CLASS_PORT_STEP;
			if (moved > 65535) {
				buf_addf(err, "seat %d ('%s'): %s's port %d would move to %ld, past "
					 "65535; make the class smaller", seat, attendee,
					 st->svcs[k].name, p->host_port, moved);
				return -1;
			}
			p->host_port = (int)moved;
		}
	return 0;
}

/* a copy of `st`'s definitions as seat `seat`; 0 or -1 with `err` */
static int open_seat(struct stack *seat_st, const struct stack *st, const char *klass,
		     const char *attendee, int seat, struct buf *err)
{
	if (stack_open(seat_st, st->d, st->profile, st->fn, st->ctx, err))
		return -1;
	if (class_seat_stack(seat_st, klass, attendee, seat, err)) {
		stack_close(seat_st);
		return -1;
	}
	return 0;
}

static char *class_label(const char *klass)
{
	return xstrfmt("%s=%s", LABEL_CLASS, klass);
}

/* the memory every stack not on the swarm yet will reserve, against what is free */
static int class_preflight(struct stack *st, const char *klass, const struct class_roster *r,
			   struct buf *err)
{
	struct docker_service *all = NULL;
	struct docker_node *nodes = NULL;
	size_t na = 0, nn = 0, i;
	int64_t reserved = 0, need = 0;
	int a, k, fresh = 0, ret = -1;
	char what[96];

	if (docker_nodes_list(st->d, &nodes, &nn, err) ||
	    docker_services_list(st->d, NULL, &all, &na, err))
		goto out;
	for (i = 0; i < na; i++)
		reserved += all[i].reserved * all[i].replicas;
	for (a = 0; a < r->n; a++) {
		char *proj = xstrfmt("%s-%s", klass, r->name[a]);
		int there = 0;

		for (i = 0; i < na && !there; i++) {
			const char *c = kvlist_get(&all[i].labels, LABEL_CLASS);
			const char *p = kvlist_get(&all[i].labels, LABEL_PROJECT);
			there = c && p && !strcmp(c, klass) && !strcmp(p, proj);
		}
		free(proj);
		if (there)
			continue;
		fresh++;
		for (k = 0; k < st->n; k++)
			need += st->svcs[k].memory[st->profile] *
				(st->svcs[k].swarm_replicas ? st->svcs[k].swarm_replicas : 1);
	}
	snprintf(what, sizeof(what), "%d new stack%s of class '%s'", fresh, fresh == 1 ? "" : "s",
		 klass);
	ret = swarm_memory_fits(nodes, nn, reserved, need, what, err);
out:
	docker_services_free(all, na);
	free(nodes);
	return ret;
}

int class_up(struct stack *st, const char *klass, const struct class_roster *r, int wait,
	     int timeout_s, struct buf *err)
{
	int a, pass;

	if (class_name_ok(klass)) {
		buf_addf(err, "'%s' is not a class name: use lower-case letters, digits and '-'",
			 klass);
		return -1;
	}
	if (swarm_check(st, err))
		return -1;
	/* every seat's ports fit, before anything is created */
	for (a = 0; a < r->n; a++) {
		struct stack s;
		if (open_seat(&s, st, klass, r->name[a], a + 1, err))
			return -1;
		stack_close(&s);
	}
	if (class_preflight(st, klass, r, err))
		return -1;
	/* first every stack is deployed, then each is waited for */
	for (pass = 0; pass < (wait ? 2 : 1); pass++)
		for (a = 0; a < r->n; a++) {
			struct swarm_up_opts o = { NULL, pass, timeout_s, 0, klass, a + 1 };
			struct stack s;
			int ret;

			if (open_seat(&s, st, klass, r->name[a], a + 1, err))
				return -1;
			ret = swarm_up(&s, &o, err);
			stack_close(&s);
			if (ret) {
				struct buf m = BUF_INIT;
				buf_addf(&m, "attendee '%s' (seat %d): %s", r->name[a], a + 1, err->s);
				buf_reset(err);
				buf_addstr(err, m.s);
				buf_release(&m);
				return -1;
			}
		}
	return 0;
}

/* the class's stacks on the swarm: attendee and seat, from the labels */
struct seat_row {
	char attendee[CLASS_NAME_MAX + 1];
	int seat;
};

static int class_seats(struct stack *st, const char *klass, struct seat_row **out, size_t *n,
		       struct buf *err)
{
	struct docker_service *svcs = NULL;
	char *label = class_label(klass), *prefix = xstrfmt("%s-", klass);
	size_t ns = 0, i, j;
	int ret = -1;

	*out = NULL;
	*n = 0;
	if (docker_services_list(st->d, label, &svcs, &ns, err))
		goto out;
	*out = xcalloc(ns + 1, sizeof(**out));
	for (i = 0; i < ns; i++) {
		const char *p = kvlist_get(&svcs[i].labels, LABEL_PROJECT);
		const char *seat = kvlist_get(&svcs[i].labels, LABEL_CLASS_SEAT);
		int dup = 0;

		if (!p || strncmp(p, prefix, strlen(prefix)) || !seat)
			continue;
		for (j = 0; j < *n; j++)
			if (!strcmp((*out)[j].attendee, p + strlen(prefix)))
				dup = 1;
		if (dup)
			continue;
		snprintf((*out)[*n].attendee, sizeof((*out)[0].attendee), "%s", p + strlen(prefix));
		(*out)[*n].seat = atoi(seat);
		(*n)++;
	}
	/* by seat */
	for (i = 1; i < *n; i++)
		for (j = i; j > 0 && (*out)[j].seat < (*out)[j - 1].seat; j--) {
			struct seat_row t = (*out)[j];
			(*out)[j] = (*out)[j - 1];
			(*out)[j - 1] = t;
		}
	ret = 0;
out:
	docker_services_free(svcs, ns);
	free(label);
	free(prefix);
	return ret;
}

static void lab_progress(struct class_stack *cs)
{
	char *dir = xstrfmt("%s/labs/%s", config_state(), cs->project);
	struct labprog p;
	struct buf e = BUF_INIT;
	size_t i;

	labprog_init(&p);
	if (labprog_read(&p, dir, &e) == 0) {
		snprintf(cs->lab, sizeof(cs->lab), "%s", p.lab ? p.lab : "");
		snprintf(cs->step, sizeof(cs->step), "%s", p.step ? p.step : "");
		for (i = 0; i < p.n; i++)
			if (p.v[i].done_at)
				cs->steps_done++;
	}
	labprog_release(&p);
	buf_release(&e);
	free(dir);
}

int class_status(struct stack *st, const char *klass, struct class_stack **out, size_t *n,
		 struct buf *err)
{
	struct seat_row *seats = NULL;
	size_t nseats = 0, i, t;
	int ret = -1;

	*out = NULL;
	*n = 0;
	if (swarm_check(st, err) || class_seats(st, klass, &seats, &nseats, err))
		return -1;
	*out = xcalloc(nseats + 1, sizeof(**out));
	for (i = 0; i < nseats; i++) {
		struct class_stack *cs = &(*out)[(*n)++];
		struct swarm_task *ts = NULL;
		size_t nt = 0;
		struct stack s;

		snprintf(cs->attendee, sizeof(cs->attendee), "%s", seats[i].attendee);
		cs->seat = seats[i].seat;
		if (open_seat(&s, st, klass, seats[i].attendee, seats[i].seat, err))
			goto out;
		snprintf(cs->project, sizeof(cs->project), "%s", s.project);
		if (swarm_ps(&s, 1, &ts, &nt, err)) {
			stack_close(&s);
			goto out;
		}
		stack_close(&s);
		for (t = 0; t < nt; t++) {
			struct class_service *sv = NULL;
			int k;

			for (k = 0; k < cs->nsvc; k++)
				if (!strcmp(cs->svc[k].service, ts[t].service))
					sv = &cs->svc[k];
			if (!sv) {
				if (cs->nsvc == SERVICE_MAX)
					continue;
				sv = &cs->svc[cs->nsvc++];
				snprintf(sv->service, sizeof(sv->service), "%s", ts[t].service);
			}
			sv->tasks++;
			if (!strcmp(ts[t].state, "running"))
				sv->running++;
			if (ts[t].ready)
				sv->ready++;
			if (!sv->node[0] && ts[t].node[0]) {
				snprintf(sv->node, sizeof(sv->node), "%s", ts[t].node);
				snprintf(sv->addr, sizeof(sv->addr), "%s", ts[t].addr);
			}
			if (!sv->detail[0] || !ts[t].ready)
				snprintf(sv->detail, sizeof(sv->detail), "%s", ts[t].detail);
		}
		free(ts);
		cs->ready = cs->nsvc > 0;
		for (t = 0; t < (size_t)cs->nsvc; t++)
			if (!cs->svc[t].ready)
				cs->ready = 0;
		lab_progress(cs);
	}
	ret = 0;
out:
	if (ret) {
		free(*out);
		*out = NULL;
		*n = 0;
	}
	free(seats);
	return ret;
}

int class_down(struct stack *st, const char *klass, const char *const *names, int *removed,
	       struct buf *err)
{
	struct seat_row *seats = NULL;
	size_t nseats = 0, i;
	int ret = -1;

	*removed = 0;
	if (swarm_check(st, err) || class_seats(st, klass, &seats, &nseats, err))
		return -1;
	if (names)
		for (; *names; names++) {
			for (i = 0; i < nseats; i++)
				if (!strcmp(seats[i].attendee, *names))
					break;
			if (i == nseats) {
				buf_addf(err, "class '%s' has no stack for '%s' on this swarm; 'pancake "
					 "class status --class %s' lists them", klass, *names, klass);
				goto out;
			}
			seats[i].seat = -seats[i].seat;  /* marked */
		}
	for (i = 0; i < nseats; i++) {
		struct stack s;
		int r;

		if (names && seats[i].seat > 0)
			continue;
		if (stack_open(&s, st->d, st->profile, st->fn, st->ctx, err))
			goto out;
		snprintf(s.project, sizeof(s.project), "%s-%s", klass, seats[i].attendee);
		r = swarm_down(&s, err);
		stack_close(&s);
		if (r)
			goto out;
		(*removed)++;
	}
	ret = 0;
out:
	free(seats);
	return ret;
}
