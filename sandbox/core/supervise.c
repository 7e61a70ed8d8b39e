/*
 * supervise: keeps a stack's services up while pancake runs: a service that
 * dies or stays unready is restarted with exponential backoff, and a crash
 * loop is reported with its last log lines instead of retried forever.
 *
 * State machine per watched service:
 *   OK --die event / not running / unready past its ready_timeout--> WAIT
 *   WAIT --backoff elapsed--> restart (stack_up of that service, --wait)
 *        ready --> OK (backoff doubles per try, reset after 2 minutes ready)
 *        failed --> WAIT, or GIVEN_UP after SUPERVISE_MAX_RESTARTS restarts
 *        within SUPERVISE_WINDOW_S (reported with the last log lines)
 */
#include "core/supervise.h"
#include "clients/docker.h"
#include "core/config.h"
#include "core/probe.h"
#include "util/clock.h"
#include "util/xalloc.h"

#include <string.h>
#include <time.h>

#define WATCHDOG_S 5.0

struct svc_state {
	int watched, given_up, down, restarts;
	int tries;            /* restarts of the current outage */
	double down_since, next_try, backoff, unready_since, ready_since;
	double history[SUPERVISE_MAX_RESTARTS];
	int nhist;
};

struct supervisor {
	struct stack *st;
	pthread_t loop, events;
	pthread_mutex_t lock;
	pthread_cond_t cond;
	volatile int stop;
	struct svc_state s[SERVICE_MAX];
};

static int on_event(const struct docker_event *ev, void *ctx)
{
	struct supervisor *sv = ctx;
	int k;

	if (strcmp(ev->type, "container") || !ev->service)
		return sv->stop;
	if (strcmp(ev->action, "die") && strcmp(ev->action, "oom"))
		return sv->stop;
	k = stack_find(sv->st, ev->service);
	if (k < 0)
		return sv->stop;
	pthread_mutex_lock(&sv->lock);
	if (sv->s[k].watched && !sv->s[k].down) {
		sv->s[k].down = 1;
		sv->s[k].down_since = clock_s();
		pthread_mutex_unlock(&sv->lock);
		stack_note(sv->st, NOTE_DIED, ev->service, "container exited (code %s)",
			   ev->exit_code ? ev->exit_code : "?");
		pthread_mutex_lock(&sv->lock);
		pthread_cond_broadcast(&sv->cond);
	}
	pthread_mutex_unlock(&sv->lock);
	return sv->stop;
}

static void *events_main(void *p)
{
	struct supervisor *sv = p;
	char *label = xstrfmt("%s=%s", LABEL_PROJECT, sv->st->project);

	/* the stream can break (engine restart): follow it again until stopped */
	while (!sv->stop) {
		struct buf e = BUF_INIT;
		docker_events(sv->st->d, label, LABEL_PROJECT, LABEL_SERVICE, 0, on_event, sv,
			      &sv->stop, &e);
		buf_release(&e);
		/* a second before following again; supervisor_stop cuts it short */
		pthread_mutex_lock(&sv->lock);
		if (!sv->stop) {
			struct timespec ts;

			clock_gettime(CLOCK_REALTIME, &ts);
			ts.tv_sec += 1;
			pthread_cond_timedwait(&sv->cond, &sv->lock, &ts);
		}
		pthread_mutex_unlock(&sv->lock);
	}
	free(label);
	return NULL;
}

/* checks the watched services' containers and readiness (the watchdog) */
static void check_all(struct supervisor *sv)
{
	struct service_status ss[SERVICE_MAX];
	struct buf e = BUF_INIT;
	double now = clock_s();
	int k;

	if (stack_status(sv->st, ss, 1, &e)) {
		buf_release(&e);
		return;
	}
	pthread_mutex_lock(&sv->lock);
	for (k = 0; k < sv->st->n; k++) {
		struct svc_state *s = &sv->s[k];
		if (!s->watched || s->given_up || s->down)
			continue;
		if (!ss[k].running) {
			s->down = 1;
			s->down_since = now;
		} else if (ss[k].probed && !ss[k].ready) {
			if (!s->unready_since)
				s->unready_since = now;
			s->ready_since = 0;
			if (now - s->unready_since > sv->st->svcs[k].ready_timeout_s) {
				s->down = 1;
				s->down_since = now;
			}
		} else {
			s->unready_since = 0;
			if (!s->ready_since)
				s->ready_since = now;
			/* two minutes of health forgives earlier trouble */
			if (now - s->ready_since > 120)
				s->backoff = 0;
		}
	}
	pthread_mutex_unlock(&sv->lock);
	buf_release(&e);
}

static void set_watch(struct supervisor *sv, const char *name, int on);

static void restart_one(struct supervisor *sv, int k)
{
	struct stack *st = sv->st;
	const char *name = st->svcs[k].name;
	const char *only[] = { name, NULL };
	struct stack_up_opts o;
	struct buf err = BUF_INIT, logs = BUF_INIT, le = BUF_INIT;
	struct svc_state *s = &sv->s[k];
	double now = clock_s();
	int i, loop;

	/* removed by 'pancake down' or by hand: that was meant, not a crash
	 * (after our own first try, a missing container is ours to recreate) */
	if (!s->tries) {
		struct service_status ss[SERVICE_MAX];
		if (!stack_status(st, ss, 0, &err) && !ss[k].exists) {
			stack_note(st, NOTE_INFO, name, "container was removed; no longer supervised");
			set_watch(sv, name, 0);
			goto out;
		}
		buf_reset(&err);
	}
	pthread_mutex_lock(&sv->lock);
	/* keep the times of the last restarts to spot a crash loop */
	if (s->nhist == SUPERVISE_MAX_RESTARTS) {
		memmove(s->history, s->history + 1, sizeof(double) * (SUPERVISE_MAX_RESTARTS - 1));
		s->nhist--;
	}
	s->history[s->nhist++] = now;
	loop = s->nhist == SUPERVISE_MAX_RESTARTS && now - s->history[0] < SUPERVISE_WINDOW_S;
	if (loop)
		s->given_up = 1;
	pthread_mutex_unlock(&sv->lock);
	if (loop) {
		struct buf msg = BUF_INIT;
		char *line, *save = NULL;
		buf_addf(&msg, "crash loop: down again after %d restarts in %.0f s; not retrying. "
			 "Last log lines:", SUPERVISE_MAX_RESTARTS - 1, now - s->history[0]);
		if (!stack_tail_logs(st, name, 20, &logs, &le))
			for (line = strtok_r(logs.s, "\n", &save); line; line = strtok_r(NULL, "\n", &save))
				buf_addf(&msg, "\n  | %s", line);
		buf_addf(&msg, "\n  fix the cause, then 'pancake up %s'", name);
		stack_note(st, NOTE_GIVEUP, name, "%s", msg.s);
		buf_release(&msg);
		goto out;
	}
	stack_note(st, NOTE_RESTART, name, "restart %d (%.0f s after it went down)", s->restarts + 1,
		   now - s->down_since);
	memset(&o, 0, sizeof(o));
	o.only = only;
	o.wait = 1;
	i = stack_up(st, &o, &err);
	pthread_mutex_lock(&sv->lock);
	s->restarts++;
	s->tries++;
	if (!i) {
		s->tries = 0;
		s->down = 0;
		s->unready_since = 0;
		s->ready_since = clock_s();
	}
	s->backoff = s->backoff ? s->backoff * 2 : 1;
	if (s->backoff > SUPERVISE_BACKOFF_MAX_S)
		s->backoff = SUPERVISE_BACKOFF_MAX_S;
	s->next_try = clock_s() + s->backoff;
	pthread_mutex_unlock(&sv->lock);
out:
	buf_release(&err);
	buf_release(&logs);
	buf_release(&le);
}

static void *loop_main(void *p)
{
	struct supervisor *sv = p;
	double last_check = 0;

	while (!sv->stop) {
		struct timespec ts;
		int k, due = -1;
		double now = clock_s();

		if (now - last_check >= WATCHDOG_S) {
			check_all(sv);
			last_check = clock_s();
		}
		pthread_mutex_lock(&sv->lock);
		for (k = 0; k < sv->st->n && due < 0; k++) {
			struct svc_state *s = &sv->s[k];
			if (s->watched && s->down && !s->given_up) {
				if (!s->next_try || s->next_try < s->down_since)
					s->next_try = s->down_since + (s->backoff ? s->backoff : 1);
				if (clock_s() >= s->next_try)
					due = k;
			}
		}
		if (due < 0) {
			clock_gettime(CLOCK_REALTIME, &ts);
			ts.tv_nsec += 500000000L;
			ts.tv_sec += ts.tv_nsec / 1000000000L;
			ts.tv_nsec %= 1000000000L;
			pthread_cond_timedwait(&sv->cond, &sv->lock, &ts);
		}
		pthread_mutex_unlock(&sv->lock);
		if (due >= 0 && !sv->stop)
			restart_one(sv, due);
	}
	return NULL;
}

struct supervisor *supervisor_start(struct stack *st, struct buf *err)
{
	struct supervisor *sv = xcalloc(1, sizeof(*sv));
	struct service_status ss[SERVICE_MAX];
	int k;

	if (stack_status(st, ss, 0, err)) {
		free(sv);
		return NULL;
	}
	sv->st = st;
	pthread_mutex_init(&sv->lock, NULL);
	pthread_cond_init(&sv->cond, NULL);
	for (k = 0; k < st->n; k++)
		sv->s[k].watched = ss[k].running;
	pthread_create(&sv->events, NULL, events_main, sv);
	pthread_create(&sv->loop, NULL, loop_main, sv);
	return sv;
}

void supervisor_stop(struct supervisor *sv)
{
	if (!sv)
		return;
	sv->stop = 1;
	pthread_mutex_lock(&sv->lock);
	pthread_cond_broadcast(&sv->cond);
	pthread_mutex_unlock(&sv->lock);
	pthread_join(sv->loop, NULL);
	pthread_join(sv->events, NULL);
	pthread_mutex_destroy(&sv->lock);
	pthread_cond_destroy(&sv->cond);
	free(sv);
}

static void set_watch(struct supervisor *sv, const char *name, int on)
{
	int k = stack_find(sv->st, name);

	if (k < 0)
		return;
	pthread_mutex_lock(&sv->lock);
	memset(&sv->s[k], 0, sizeof(sv->s[k]));
	sv->s[k].watched = on;
	pthread_mutex_unlock(&sv->lock);
}

void supervisor_unwatch(struct supervisor *sv, const char *name)
{
	set_watch(sv, name, 0);
}

void supervisor_watch(struct supervisor *sv, const char *name)
{
	set_watch(sv, name, 1);
}

void supervisor_snapshot(struct supervisor *sv, struct supervise_state *out)
{
	double now = clock_s();
	int k;

	pthread_mutex_lock(&sv->lock);
	for (k = 0; k < sv->st->n; k++) {
		out[k].watched = sv->s[k].watched;
		out[k].restarts = sv->s[k].restarts;
		out[k].given_up = sv->s[k].given_up;
		out[k].next_try_in = sv->s[k].down && sv->s[k].next_try > now ? sv->s[k].next_try - now : 0;
	}
	pthread_mutex_unlock(&sv->lock);
}
