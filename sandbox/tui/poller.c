/*
 * poller: the launcher's background threads and the snapshot they share with
 * the UI. Every Docker, probe and stats call happens here, never on the UI
 * thread; the lock is never held across one of them.
 */
#include "tui/poller.h"

#include "util/clock.h"
#include "util/xalloc.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

/* a log stream that failed is tried again after this long */
#define LOG_RETRY_S 5

void poller_lock(struct poller *m)
{
	pthread_mutex_lock(&m->lock);
}

void poller_unlock(struct poller *m)
{
	pthread_mutex_unlock(&m->lock);
}

/* waits on m->wake for at most `s` seconds (0: until woken); lock held */
static void wait_s(struct poller *m, double s)
{
	struct timespec ts;

	if (s <= 0) {
		pthread_cond_wait(&m->wake, &m->lock);
		return;
	}
	clock_gettime(CLOCK_MONOTONIC, &ts);
	ts.tv_sec += (time_t)s;
	ts.tv_nsec += (long)((s - (double)(time_t)s) * 1e9);
	if (ts.tv_nsec >= 1000000000L) {
		ts.tv_sec++;
		ts.tv_nsec -= 1000000000L;
	}
	pthread_cond_timedwait(&m->wake, &m->lock, &ts);
}

/* waits on m->wake until clock_s() reaches `t` or the poller stops; lock held */
static void wait_until(struct poller *m, double t)
{
	double now;

	while (!m->stop && (now = clock_s()) < t)
		wait_s(m, t - now);
}

void poller_init(struct poller *m)
{
	pthread_condattr_t ca;
	int i;

	memset(m, 0, sizeof(*m));
	pthread_mutex_init(&m->lock, NULL);
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&m->wake, &ca);
	pthread_condattr_destroy(&ca);
	m->log_service = -1;
	m->log_following = -1;
	for (i = 0; i < 3; i++)
		buf_init(&m->partial[i], 0);
}

/* ---- events ---- */

/* copies the first line of `text`; lock held */
static void add_event(struct poller *m, enum stack_note_kind kind, const char *service,
		      const char *text)
{
	struct poller_event *e;
	const struct poller_event *last = poller_event_at(m, 0);
	size_t len = strcspn(text, "\n");

	/* a start reports every change of its probe's answer: keep the latest */
	if (last && kind == NOTE_WAITING && last->kind == NOTE_WAITING &&
	    !strcmp(last->service, service ? service : ""))
		e = &m->events[(m->event_next + POLLER_EVENTS - 1) % POLLER_EVENTS];
	else {
		e = &m->events[m->event_next];
		m->event_next = (m->event_next + 1) % POLLER_EVENTS;
		if (m->nevents < POLLER_EVENTS)
			m->nevents++;
	}
	e->when = time(NULL);
	e->kind = kind;
	snprintf(e->service, sizeof(e->service), "%s", service ? service : "");
	if (len >= sizeof(e->text))
		len = sizeof(e->text) - 1;
	memcpy(e->text, text, len);
	e->text[len] = '\0';
	/* the crash-loop report ends with log lines the log pane shows better */
	if (kind == NOTE_GIVEUP) {
		char *cut = strstr(e->text, " Last log lines");
		if (cut)
			*cut = '\0';
		len = strlen(e->text);
		snprintf(e->text + len, sizeof(e->text) - len, " fix the cause (see its logs), then press u");
	}
	m->version++;
}

const struct poller_event *poller_event_at(const struct poller *m, int i)
{
	if (i < 0 || i >= m->nevents)
		return NULL;
	return &m->events[(m->event_next + POLLER_EVENTS - 1 - i) % POLLER_EVENTS];
}

void poller_note(const struct stack_note *n, void *ctx)
{
	struct poller *m = ctx;

	poller_lock(m);
	add_event(m, n->kind, n->service, n->text);
	pthread_cond_broadcast(&m->wake);   /* a change: the poller looks again */
	m->poke = n->kind == NOTE_READY || n->kind == NOTE_DIED || n->kind == NOTE_STOP ||
		  n->kind == NOTE_START || n->kind == NOTE_FAILED || m->poke;
	poller_unlock(m);
}

void poller_event(struct poller *m, enum stack_note_kind kind, const char *service,
		 const char *fmt, ...)
{
	struct buf b = BUF_INIT;
	va_list ap;

	va_start(ap, fmt);
	buf_vaddf(&b, fmt, ap);
	va_end(ap);
	poller_lock(m);
	add_event(m, kind, service, b.s);
	poller_unlock(m);
	buf_release(&b);
}

/* ---- the log ring ---- */

const struct poller_line *poller_log_at(const struct poller *m, int i)
{
	if (i < 0 || i >= m->nlog)
		return NULL;
	return &m->log[(m->log_next + POLLER_LOG_LINES - m->nlog + i) % POLLER_LOG_LINES];
}

static void clear_log(struct poller *m)
{
	int i;

	for (i = 0; i < POLLER_LOG_LINES; i++) {
		free(m->log[i].text);
		m->log[i].text = NULL;
	}
	m->nlog = m->log_next = 0;
	m->log_added = 0;
	for (i = 0; i < 3; i++)
		buf_reset(&m->partial[i]);
	m->version++;
}

/* drops terminal escapes and control characters, expands tabs */
static char *sanitize(const char *s, size_t len)
{
	struct buf b = BUF_INIT;
	size_t i = 0;

	buf_grow(&b, len);
	while (i < len) {
		unsigned char c = (unsigned char)s[i];
		if (c == 0x1b) {                  /* ESC [ ... final, ESC ] ... BEL/ST, ESC x */
			i++;
			if (i < len && s[i] == '[') {
				for (i++; i < len && !((unsigned char)s[i] >= 0x40 && (unsigned char)s[i] <= 0x7e); i++)
					;
				i++;
			} else if (i < len && s[i] == ']') {
				for (i++; i < len && s[i] != '\a' && s[i] != 0x1b; i++)
					;
				i += i < len && s[i] == 0x1b ? 2 : 1;
			} else {
				i++;
			}
			continue;
		}
		if (c == '\t') {
			do
				buf_addch(&b, ' ');
			while (b.len % 8);
		} else if (c >= 0x20 && c != 0x7f) {
			buf_addch(&b, (char)c);
		}
		i++;
	}
	return buf_detach(&b, NULL);
}

/* lock held */
static void push_line(struct poller *m, int stream, const char *s, size_t len)
{
	struct poller_line *l = &m->log[m->log_next];

	free(l->text);
	l->text = sanitize(s, len);
	l->stream = stream;
	m->log_next = (m->log_next + 1) % POLLER_LOG_LINES;
	if (m->nlog < POLLER_LOG_LINES)
		m->nlog++;
	m->log_added++;
	m->version++;
}

static void on_frame(int stream, const char *data, size_t len, void *ctx)
{
	struct poller *m = ctx;
	struct buf *p;
	size_t i;

	if (stream != STACK_STDERR)
		stream = STACK_STDOUT;
	poller_lock(m);
	if (m->log_cancel || m->stop)
		goto out;
	p = &m->partial[stream];
	for (i = 0; i < len; i++) {
		if (data[i] == '\n') {
			push_line(m, stream, p->s, p->len);
			buf_reset(p);
		} else if (p->len < POLLER_LOG_LINE_MAX) {
			buf_addch(p, data[i]);
		}
	}
out:
	poller_unlock(m);
}

static void *follower_main(void *p)
{
	struct poller *m = p;
	double retry_at = 0;
	int retry_err = 0;

	poller_lock(m);
	while (!m->stop) {
		struct stack_logs_opts o;
		struct buf err = BUF_INIT;
		char key[sizeof(m->log_key)], id[80];
		int k = m->log_service, same, ret, i;
		int64_t since = 0;

		key[0] = '\0';
		if (k >= 0 && m->polled && m->rows[k].st.exists)
			snprintf(key, sizeof(key), "%s@%lld", m->rows[k].st.id,
				 (long long)m->rows[k].st.started_at);
		if (k >= 0 && m->polled && !m->rows[k].st.exists && !m->log_state[0]) {
			snprintf(m->log_state, sizeof(m->log_state),
				 "'%s' has no container yet: press u to start it",
				 m->st->svcs[k].name);
			m->version++;
		}
		/* a stream that failed, or ended while the container still runs */
		if (retry_at && clock_s() >= retry_at) {
			retry_at = 0;
			if (k == m->log_following && (retry_err || (k >= 0 && m->rows[k].st.running)))
				m->log_following = -1;
		}
		if (!key[0] || (k == m->log_following && !strcmp(key, m->log_key))) {
			wait_s(m, 1.0);
			continue;
		}
		same = k == m->log_following;
		if (same) {
			/* the same service started again: add what it says from now on */
			since = m->rows[k].st.started_at;
			push_line(m, STACK_STDOUT, "--- started again ---", 21);
		} else {
			clear_log(m);
		}
		m->log_following = k;
		snprintf(m->log_key, sizeof(m->log_key), "%s", key);
		snprintf(id, sizeof(id), "%s", m->rows[k].st.id);
		m->log_state[0] = '\0';
		m->log_cancel = 0;
		for (i = 0; i < 3; i++)
			buf_reset(&m->partial[i]);
		poller_unlock(m);

		memset(&o, 0, sizeof(o));
		o.follow = 1;
		o.tail = POLLER_LOG_TAIL;
		o.since = since;
		o.cancel = &m->log_cancel;
		ret = stack_logs(m->st, id, &o, on_frame, m, &err);

		poller_lock(m);
		if (m->log_cancel || ret == STACK_ECANCELED) {
			m->log_following = -1;      /* a new selection: start afresh */
			m->log_key[0] = '\0';
		} else {
			for (i = 1; i < 3; i++)
				if (m->partial[i].len) {
					push_line(m, i, m->partial[i].s, m->partial[i].len);
					buf_reset(&m->partial[i]);
				}
			retry_err = ret && ret != STACK_ENOTFOUND;
			if (retry_err)
				snprintf(m->log_state, sizeof(m->log_state), "%.*s: trying again",
					 (int)strcspn(err.s, "\n"), err.s);
			retry_at = clock_s() + LOG_RETRY_S;
		}
		m->version++;
		buf_release(&err);
	}
	poller_unlock(m);
	return NULL;
}

void poller_follow(struct poller *m, int k)
{
	poller_lock(m);
	if (k != m->log_service) {
		m->log_service = k;
		m->log_state[0] = '\0';
		if (m->log_following >= 0)
			m->log_cancel = 1;
		m->log_following = -1;
		m->log_key[0] = '\0';
		clear_log(m);
		pthread_cond_broadcast(&m->wake);
	}
	poller_unlock(m);
}

/* ---- the poller ---- */

/* publishes a status; cpu and memory stay while the container is the same */
static void publish_status(struct poller *m, const struct service_status *ss, int probe,
			   unsigned seq)
{
	int k;

	for (k = 0; k < m->n; k++) {
		struct poller_row *r = &m->rows[k];
		/* a finished job shows until a status taken after it arrives */
		if (r->settle && seq >= r->settle) {
			r->busy = BUSY_NONE;
			r->settle = 0;
		}
		if (strcmp(r->st.id, ss[k].id) || r->st.started_at != ss[k].started_at ||
		    !ss[k].running)
			r->have_cpu = r->have_mem = 0;
		r->st = ss[k];
	}
	m->polled = 1;
	m->probed |= probe;
	m->polled_at = time(NULL);
	m->error[0] = '\0';
	m->version++;
	pthread_cond_broadcast(&m->wake);   /* the follower may have a container now */
}

/*
 * Pings the engine; lock held, released meanwhile. A failure is shown and
 * tried again POLLER_REFRESH_S after this try began (at once after a ping
 * that timed out). Returns 0 once connected.
 */
static int connect_engine(struct poller *m)
{
	struct buf err = BUF_INIT;
	double began = clock_s();
	int ret;

	poller_unlock(m);
	ret = stack_connect(m->st, &err);
	poller_lock(m);
	if (ret) {
		snprintf(m->error, sizeof(m->error), "%.*s", (int)strcspn(err.s, "\n"), err.s);
	} else {
		m->connected = 1;
		m->error[0] = '\0';
	}
	m->version++;
	buf_release(&err);
	if (ret)
		wait_until(m, began + POLLER_REFRESH_S);
	return ret;
}

/*
 * Once the engine has answered a status: the heap profile the running
 * containers were made with (so that a start or restart from the launcher
 * does not replace them with the other one), and the supervisor. Lock held,
 * released meanwhile; tried again on the next poll when it fails.
 */
static void start_supervising(struct poller *m, const struct service_status *ss)
{
	struct supervisor *sv;
	struct buf err = BUF_INIT;
	int k;

	for (k = 0; k < m->n; k++)
		if (ss[k].exists && !strcmp(ss[k].profile, "small"))
			m->st->profile = PROFILE_SMALL;
	poller_unlock(m);
	sv = supervisor_start(m->st, &err);
	poller_lock(m);
	m->sv = sv;
	if (!sv && !m->stop && !m->sv_failed) {
		poller_unlock(m);
		poller_event(m, NOTE_FAILED, NULL, "cannot supervise the stack: %.*s",
			    (int)strcspn(err.s, "\n"), err.s);
		poller_lock(m);
		m->sv_failed = 1;
	}
	buf_release(&err);
}

/* nothing under way: every running service is ready, no job; lock held */
static int steady(const struct poller *m)
{
	int k;

	if (m->acting || m->nqueue || m->error[0] || !m->probed)
		return 0;
	for (k = 0; k < m->n; k++) {
		const struct poller_row *r = &m->rows[k];
		if (r->busy || (r->st.running && !r->st.ready) || r->sup.next_try_in > 0)
			return 0;
	}
	return 1;
}

static void *poller_main(void *p)
{
	struct poller *m = p;
	struct stack_stats prev[SERVICE_MAX];
	int probe = 0, k;

	memset(prev, 0, sizeof(prev));
	poller_lock(m);
	while (!m->stop) {
		struct service_status ss[SERVICE_MAX];
		struct supervise_state sup[SERVICE_MAX];
		struct stack_stats stats[SERVICE_MAX];
		struct buf err = BUF_INIT;
		double began = clock_s();
		unsigned seq;
		int ret;

		if (!m->connected) {
			connect_engine(m);
			continue;
		}
		seq = ++m->poll_seq;
		m->poke = 0;
		poller_unlock(m);
		ret = stack_status(m->st, ss, probe, &err);
		poller_lock(m);
		if (!ret && !m->sv)
			start_supervising(m, ss);
		poller_unlock(m);
		memset(sup, 0, sizeof(sup));
		if (m->sv)
			supervisor_snapshot(m->sv, sup);
		poller_lock(m);
		for (k = 0; k < m->n; k++)
			m->rows[k].sup = sup[k];
		if (ret) {
			snprintf(m->error, sizeof(m->error), "%.*s", (int)strcspn(err.s, "\n"), err.s);
			m->version++;
		} else {
			publish_status(m, ss, probe, seq);
		}
		poller_unlock(m);
		buf_release(&err);

		if (ret)
			memset(stats, 0, sizeof(stats));
		else
			stack_stats(m->st, ss, stats);

		poller_lock(m);
		for (k = 0; k < m->n; k++) {
			struct poller_row *r = &m->rows[k];
			if (!stats[k].ok) {
				prev[k].ok = 0;
				continue;
			}
			if (strcmp(r->st.id, stats[k].id) || r->st.started_at != stats[k].started_at)
				continue;           /* replaced or restarted meanwhile */
			r->have_mem = 1;
			r->mem = stats[k].mem_used;
			r->mem_limit = stats[k].mem_limit;
			/* CPU needs two samples of the same run of the same container */
			if (prev[k].ok && !strcmp(prev[k].id, stats[k].id) &&
			    prev[k].started_at == stats[k].started_at) {
				r->cpu = stack_cpu_percent(&prev[k], &stats[k]);
				r->have_cpu = 1;
			}
			prev[k] = stats[k];
		}
		m->version++;
		/* the first pass skips the probes to show something at once */
		if (!probe) {
			probe = 1;
			continue;
		}
		/* the next poll: a refresh after this one began, or soon after a poke */
		{
			double t_min = clock_s() + 0.3;
			double t_max = began + (steady(m) ? POLLER_REFRESH_IDLE_S : POLLER_REFRESH_S);
			if (t_max < t_min)
				t_max = t_min;
			for (;;) {
				double now = clock_s();
				if (m->stop || now >= t_max || (m->poke && now >= t_min))
					break;
				wait_s(m, (m->poke ? t_min : t_max) - now);
			}
		}
	}
	poller_unlock(m);
	return NULL;
}

/* ---- the actor ---- */

static const char *const action_words[] = {
	[ACT_START] = "start", [ACT_STOP] = "stop", [ACT_RESTART] = "restart",
	[ACT_START_ALL] = "start",
};

static void job_text(const struct poller *m, const struct poller_job *j, char *out, size_t size)
{
	if (j->action == ACT_START_ALL)
		snprintf(out, size, "start of all services");
	else
		snprintf(out, size, "%s of '%s'", action_words[j->action], m->st->svcs[j->k].name);
}

static void set_busy(struct poller *m, int k, enum poller_busy b)
{
	poller_lock(m);
	m->rows[k].busy = b;
	m->rows[k].settle = 0;
	m->poke = 1;
	m->version++;
	pthread_cond_broadcast(&m->wake);
	poller_unlock(m);
}

/* reports a failure unless the stack already did (NOTE_FAILED for it) */
static void report_failure(struct poller *m, const struct poller_job *j, const struct buf *err)
{
	const char *svc = j->action == ACT_START_ALL ? NULL : m->st->svcs[j->k].name;
	const struct poller_event *last;
	char what[96];
	int noted;

	poller_lock(m);
	last = poller_event_at(m, 0);
	noted = last && last->kind == NOTE_FAILED && svc && !strcmp(last->service, svc);
	poller_unlock(m);
	if (noted)
		return;
	job_text(m, j, what, sizeof(what));
	poller_event(m, NOTE_FAILED, svc, "%s failed: %.*s", what, (int)strcspn(err->s, "\n"), err->s);
}

static void run_job(struct poller *m, struct supervisor *sv, const struct poller_job *j)
{
	struct stack *st = m->st;
	struct supervise_state sup[SERVICE_MAX];
	struct stack_up_opts o;
	struct buf err = BUF_INIT;
	const char *name = j->action == ACT_START_ALL ? NULL : st->svcs[j->k].name;
	const char *only[2] = { name, NULL };
	int ret = 0, k, running[SERVICE_MAX];

	memset(sup, 0, sizeof(sup));
	if (sv)
		supervisor_snapshot(sv, sup);
	memset(&o, 0, sizeof(o));
	o.wait = 1;
	switch (j->action) {
	case ACT_START:
	case ACT_RESTART:
		set_busy(m, j->k, j->action == ACT_START ? BUSY_STARTING : BUSY_RESTARTING);
		/* the supervisor must not restart it behind our back meanwhile */
		if (sv && sup[j->k].watched)
			supervisor_unwatch(sv, name);
		if (j->action == ACT_START) {
			o.only = only;
			ret = stack_up(st, &o, &err);
		} else {
			ret = stack_restart_service(st, name, &err);
		}
		/* what the user started is kept up; a failure stays as it was */
		if (sv && (!ret || sup[j->k].watched))
			supervisor_watch(sv, name);
		break;
	case ACT_STOP:
		set_busy(m, j->k, BUSY_STOPPING);
		if (sv)
			supervisor_unwatch(sv, name);
		ret = stack_stop_service(st, name, &err);
		break;
	case ACT_START_ALL: {
		/* only what is not running: a running service is left alone */
		const char *to_start[SERVICE_MAX + 1];
		int nstart = 0;

		poller_lock(m);
		for (k = 0; k < st->n; k++) {
			running[k] = m->rows[k].st.running;
			if (!running[k]) {
				to_start[nstart++] = st->svcs[k].name;
				m->rows[k].busy = BUSY_STARTING;
				m->rows[k].settle = 0;
			}
		}
		to_start[nstart] = NULL;
		m->version++;
		poller_unlock(m);
		if (!nstart) {
			poller_event(m, NOTE_INFO, NULL, "every service is already running");
			break;
		}
		for (k = 0; k < st->n; k++)
			if (sv && !running[k] && sup[k].watched)
				supervisor_unwatch(sv, st->svcs[k].name);
		o.only = to_start;
		ret = stack_up(st, &o, &err);
		/* supervise what came up, and again what was supervised before */
		{
			struct service_status ss[SERVICE_MAX];
			struct buf e = BUF_INIT;
			int ok = !stack_status(st, ss, 0, &e);
			for (k = 0; sv && k < st->n; k++)
				if (!running[k] && ((ok && ss[k].running) || sup[k].watched))
					supervisor_watch(sv, st->svcs[k].name);
			buf_release(&e);
		}
		break;
	}
	}
	if (ret)
		report_failure(m, j, &err);
	buf_release(&err);
}

static void *actor_main(void *p)
{
	struct poller *m = p;
	int k;

	poller_lock(m);
	while (!m->stop) {
		struct poller_job j;
		struct supervisor *sv;

		/* nothing is done before the engine has said how things stand */
		if (!m->nqueue || !m->polled) {
			wait_s(m, 0);
			continue;
		}
		j = m->queue[0];
		memmove(m->queue, m->queue + 1, sizeof(m->queue[0]) * (size_t)--m->nqueue);
		m->acting = 1;
		m->current = j;
		sv = m->sv;
		poller_unlock(m);
		run_job(m, sv, &j);
		poller_lock(m);
		m->acting = 0;
		for (k = 0; k < m->n; k++)
			if (m->rows[k].busy != BUSY_NONE && m->rows[k].busy != BUSY_QUEUED &&
			    (j.action == ACT_START_ALL || k == j.k))
				m->rows[k].settle = m->poll_seq + 1;
		m->poke = 1;
		m->version++;
		pthread_cond_broadcast(&m->wake);
	}
	poller_unlock(m);
	return NULL;
}

int poller_queue(struct poller *m, enum poller_action a, int k, struct buf *why)
{
	static const char *const busy_words[] = {
		[BUSY_NONE] = "", [BUSY_QUEUED] = "waiting its turn",
		[BUSY_STARTING] = "starting", [BUSY_STOPPING] = "stopping",
		[BUSY_RESTARTING] = "restarting",
	};
	int i, ret = -1;

	poller_lock(m);
	if (m->nqueue == POLLER_QUEUE) {
		buf_addstr(why, "too many actions waiting: let the queued ones finish first");
		goto out;
	}
	if (a == ACT_START_ALL) {
		for (i = 0; i < m->nqueue; i++)
			if (m->queue[i].action == ACT_START_ALL)
				break;
		if (i < m->nqueue || (m->acting && m->current.action == ACT_START_ALL)) {
			buf_addstr(why, "all services are already being started: wait for it to finish");
			goto out;
		}
	} else if (m->rows[k].busy != BUSY_NONE && !m->rows[k].settle) {
		buf_addf(why, "'%s' is already %s: wait for it to finish", m->st->svcs[k].name,
			 busy_words[m->rows[k].busy]);
		goto out;
	}
	m->queue[m->nqueue].action = a;
	m->queue[m->nqueue].k = k;
	m->nqueue++;
	if (a != ACT_START_ALL) {
		m->rows[k].busy = BUSY_QUEUED;
		m->rows[k].settle = 0;
	}
	m->version++;
	pthread_cond_broadcast(&m->wake);
	ret = 0;
out:
	poller_unlock(m);
	return ret;
}

/* ---- life cycle ---- */

void poller_start(struct poller *m, struct stack *st)
{
	int k;

	poller_lock(m);
	m->st = st;
	m->n = st->n;
	for (k = 0; k < st->n; k++) {
		m->rows[k].st.svc = &st->svcs[k];
		snprintf(m->rows[k].st.state, sizeof(m->rows[k].st.state), "?");
	}
	poller_unlock(m);
	pthread_create(&m->poller, NULL, poller_main, m);
	pthread_create(&m->actor, NULL, actor_main, m);
	pthread_create(&m->follower, NULL, follower_main, m);
	m->started = 1;
}

int poller_busy_text(struct poller *m, char *out, size_t size)
{
	int busy;

	poller_lock(m);
	busy = m->acting;
	if (busy)
		job_text(m, &m->current, out, size);
	else if (size)
		out[0] = '\0';
	poller_unlock(m);
	return busy;
}

void poller_stop(struct poller *m)
{
	if (!m->started)
		return;
	poller_lock(m);
	m->stop = 1;
	m->log_cancel = 1;
	m->nqueue = 0;
	pthread_cond_broadcast(&m->wake);
	/* a job under way is let finish (the launcher says so), unless the
	 * engine is stuck; nothing else is waited for */
	while (m->acting && stack_silence_s(m->st) < POLLER_STALLED_S)
		wait_s(m, 0.25);
	poller_unlock(m);
	stack_abort(m->st);
	pthread_join(m->actor, NULL);
	pthread_join(m->poller, NULL);
	pthread_join(m->follower, NULL);
	supervisor_stop(m->sv);
	m->sv = NULL;
	m->started = 0;
}

void poller_release(struct poller *m)
{
	int i;

	poller_stop(m);
	for (i = 0; i < POLLER_LOG_LINES; i++)
		free(m->log[i].text);
	for (i = 0; i < 3; i++)
		buf_release(&m->partial[i]);
	pthread_cond_destroy(&m->wake);
	pthread_mutex_destroy(&m->lock);
}
