/*
 * model: the launcher's background threads and the snapshot they share with
 * the UI. Every Docker, probe and stats call happens here, never on the UI
 * thread; the lock is never held across one of them.
 */
#include "tui/model.h"

#include "clients/docker.h"
#include "util/clock.h"
#include "util/xalloc.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

/* a log stream that failed is tried again after this long */
#define LOG_RETRY_S 5

void model_lock(struct model *m)
{
	pthread_mutex_lock(&m->lock);
}

void model_unlock(struct model *m)
{
	pthread_mutex_unlock(&m->lock);
}

/* waits on m->wake for at most `s` seconds (0: until woken); lock held */
static void wait_s(struct model *m, double s)
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

/* waits on m->wake until clock_s() reaches `t` or the model stops; lock held */
static void wait_until(struct model *m, double t)
{
	double now;

	while (!m->stop && (now = clock_s()) < t)
		wait_s(m, t - now);
}

void model_init(struct model *m)
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
static void add_event(struct model *m, enum stack_note_kind kind, const char *service,
		      const char *text)
{
	struct model_event *e;
	const struct model_event *last = model_event_at(m, 0);
	size_t len = strcspn(text, "\n");

	/* a start reports every change of its probe's answer: keep the latest */
	if (last && kind == NOTE_WAITING && last->kind == NOTE_WAITING &&
	    !strcmp(last->service, service ? service : ""))
		e = &m->events[(m->event_next + MODEL_EVENTS - 1) % MODEL_EVENTS];
	else {
		e = &m->events[m->event_next];
		m->event_next = (m->event_next + 1) % MODEL_EVENTS;
		if (m->nevents < MODEL_EVENTS)
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

const struct model_event *model_event_at(const struct model *m, int i)
{
	if (i < 0 || i >= m->nevents)
		return NULL;
	return &m->events[(m->event_next + MODEL_EVENTS - 1 - i) % MODEL_EVENTS];
}

void model_note(const struct stack_note *n, void *ctx)
{
	struct model *m = ctx;

	model_lock(m);
	add_event(m, n->kind, n->service, n->text);
	pthread_cond_broadcast(&m->wake);   /* a change: the poller looks again */
	m->poke = n->kind == NOTE_READY || n->kind == NOTE_DIED || n->kind == NOTE_STOP ||
		  n->kind == NOTE_START || n->kind == NOTE_FAILED || m->poke;
	model_unlock(m);
}

void model_event(struct model *m, enum stack_note_kind kind, const char *service,
		 const char *fmt, ...)
{
	struct buf b = BUF_INIT;
	va_list ap;

	va_start(ap, fmt);
	buf_vaddf(&b, fmt, ap);
	va_end(ap);
	model_lock(m);
	add_event(m, kind, service, b.s);
	model_unlock(m);
	buf_release(&b);
}

/* ---- the log ring ---- */

const struct model_line *model_log_at(const struct model *m, int i)
{
	if (i < 0 || i >= m->nlog)
		return NULL;
	return &m->log[(m->log_next + MODEL_LOG_LINES - m->nlog + i) % MODEL_LOG_LINES];
}

static void clear_log(struct model *m)
{
	int i;

	for (i = 0; i < MODEL_LOG_LINES; i++) {
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
static void push_line(struct model *m, int stream, const char *s, size_t len)
{
	struct model_line *l = &m->log[m->log_next];

	free(l->text);
	l->text = sanitize(s, len);
	l->stream = stream;
	m->log_next = (m->log_next + 1) % MODEL_LOG_LINES;
	if (m->nlog < MODEL_LOG_LINES)
		m->nlog++;
	m->log_added++;
	m->version++;
}

static void on_frame(int stream, const char *data, size_t len, void *ctx)
{
	struct model *m = ctx;
	struct buf *p;
	size_t i;

	if (stream != DOCKER_STDERR)
		stream = DOCKER_STDOUT;
	model_lock(m);
	if (m->log_cancel || m->stop)
		goto out;
	p = &m->partial[stream];
	for (i = 0; i < len; i++) {
		if (data[i] == '\n') {
			push_line(m, stream, p->s, p->len);
			buf_reset(p);
		} else if (p->len < MODEL_LOG_LINE_MAX) {
			buf_addch(p, data[i]);
		}
	}
out:
	model_unlock(m);
}

static void *follower_main(void *p)
{
	struct model *m = p;
	double retry_at = 0;
	int retry_err = 0;

	model_lock(m);
	while (!m->stop) {
		struct docker_logs_opts o;
		struct docker_container c;
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
			push_line(m, DOCKER_STDOUT, "--- started again ---", 21);
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
		model_unlock(m);

		memset(&o, 0, sizeof(o));
		o.follow = 1;
		o.stdout_ = o.stderr_ = 1;
		o.tail = MODEL_LOG_TAIL;
		o.since = since;
		o.cancel = &m->log_cancel;
		if (!docker_container_inspect(m->st->d, id, &c, &err)) {
			o.tty = c.tty;
			docker_container_release(&c);
		}
		buf_reset(&err);
		ret = docker_container_logs(m->st->d, id, &o, on_frame, m, &err);

		model_lock(m);
		if (m->log_cancel || ret == DOCKER_ECANCELED) {
			m->log_following = -1;      /* a new selection: start afresh */
			m->log_key[0] = '\0';
		} else {
			for (i = 1; i < 3; i++)
				if (m->partial[i].len) {
					push_line(m, i, m->partial[i].s, m->partial[i].len);
					buf_reset(&m->partial[i]);
				}
			retry_err = ret && ret != DOCKER_ENOTFOUND;
			if (retry_err)
				snprintf(m->log_state, sizeof(m->log_state), "%.*s: trying again",
					 (int)strcspn(err.s, "\n"), err.s);
			retry_at = clock_s() + LOG_RETRY_S;
		}
		m->version++;
		buf_release(&err);
	}
	model_unlock(m);
	return NULL;
}

void model_follow(struct model *m, int k)
{
	model_lock(m);
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
	model_unlock(m);
}

/* ---- the poller ---- */

/* one container's stats: the engine answers them on its 1 s tick, so all
 * containers are asked at once rather than one after the other */
struct stats_job {
	struct docker *d;
	char id[80];
	int64_t started_at;
	struct docker_stats s;
	int ok;
	pthread_t th;
};

static void *stats_main(void *p)
{
	struct stats_job *j = p;
	struct buf e = BUF_INIT;

	j->ok = !docker_container_stats(j->d, j->id, &j->s, &e);
	buf_release(&e);
	return NULL;
}

/* publishes a status; cpu and memory stay while the container is the same */
static void publish_status(struct model *m, const struct service_status *ss, int probe,
			   unsigned seq)
{
	int k;

	for (k = 0; k < m->n; k++) {
		struct model_row *r = &m->rows[k];
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
 * tried again MODEL_REFRESH_S after this try began (at once after a ping
 * that timed out). Returns 0 once connected.
 */
static int connect_engine(struct model *m)
{
	struct buf err = BUF_INIT;
	double began = clock_s();
	int ret;

	model_unlock(m);
	ret = docker_connect(m->st->d, &err);
	model_lock(m);
	if (ret) {
		snprintf(m->error, sizeof(m->error), "%.*s", (int)strcspn(err.s, "\n"), err.s);
	} else {
		m->connected = 1;
		m->error[0] = '\0';
	}
	m->version++;
	buf_release(&err);
	if (ret)
		wait_until(m, began + MODEL_REFRESH_S);
	return ret;
}

/*
 * Once the engine has answered a status: the heap profile the running
 * containers were made with (so that a start or restart from the launcher
 * does not replace them with the other one), and the supervisor. Lock held,
 * released meanwhile; tried again on the next poll when it fails.
 */
static void start_supervising(struct model *m, const struct service_status *ss)
{
	struct supervisor *sv;
	struct buf err = BUF_INIT;
	int k;

	for (k = 0; k < m->n; k++)
		if (ss[k].exists && !strcmp(ss[k].profile, "small"))
			m->st->profile = PROFILE_SMALL;
	model_unlock(m);
	sv = supervisor_start(m->st, &err);
	model_lock(m);
	m->sv = sv;
	if (!sv && !m->stop && !m->sv_failed) {
		model_unlock(m);
		model_event(m, NOTE_FAILED, NULL, "cannot supervise the stack: %.*s",
			    (int)strcspn(err.s, "\n"), err.s);
		model_lock(m);
		m->sv_failed = 1;
	}
	buf_release(&err);
}

/* nothing under way: every running service is ready, no job; lock held */
static int steady(const struct model *m)
{
	int k;

	if (m->acting || m->nqueue || m->error[0] || !m->probed)
		return 0;
	for (k = 0; k < m->n; k++) {
		const struct model_row *r = &m->rows[k];
		if (r->busy || (r->st.running && !r->st.ready) || r->sup.next_try_in > 0)
			return 0;
	}
	return 1;
}

static void *poller_main(void *p)
{
	struct model *m = p;
	struct docker_stats prev[SERVICE_MAX];
	char prev_id[SERVICE_MAX][80];
	int64_t prev_start[SERVICE_MAX];
	int probe = 0, k;

	memset(prev_id, 0, sizeof(prev_id));
	memset(prev_start, 0, sizeof(prev_start));
	model_lock(m);
	while (!m->stop) {
		struct service_status ss[SERVICE_MAX];
		struct supervise_state sup[SERVICE_MAX];
		struct stats_job jobs[SERVICE_MAX];
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
		model_unlock(m);
		ret = stack_status(m->st, ss, probe, &err);
		model_lock(m);
		if (!ret && !m->sv)
			start_supervising(m, ss);
		model_unlock(m);
		memset(sup, 0, sizeof(sup));
		if (m->sv)
			supervisor_snapshot(m->sv, sup);
		model_lock(m);
		for (k = 0; k < m->n; k++)
			m->rows[k].sup = sup[k];
		if (ret) {
			snprintf(m->error, sizeof(m->error), "%.*s", (int)strcspn(err.s, "\n"), err.s);
			m->version++;
		} else {
			publish_status(m, ss, probe, seq);
		}
		model_unlock(m);
		buf_release(&err);

		for (k = 0; k < m->n; k++) {
			jobs[k].ok = 0;
			jobs[k].id[0] = '\0';
			if (ret || !ss[k].running)
				continue;
			jobs[k].d = m->st->d;
			jobs[k].started_at = ss[k].started_at;
			snprintf(jobs[k].id, sizeof(jobs[k].id), "%s", ss[k].id);
			if (pthread_create(&jobs[k].th, NULL, stats_main, &jobs[k]))
				jobs[k].id[0] = '\0';
		}
		for (k = 0; k < m->n; k++)
			if (jobs[k].id[0])
				pthread_join(jobs[k].th, NULL);

		model_lock(m);
		for (k = 0; k < m->n; k++) {
			struct model_row *r = &m->rows[k];
			if (!jobs[k].ok) {
				prev_id[k][0] = '\0';
				continue;
			}
			if (strcmp(r->st.id, jobs[k].id) || r->st.started_at != jobs[k].started_at)
				continue;           /* replaced or restarted meanwhile */
			r->have_mem = 1;
			r->mem = docker_stats_mem_used(&jobs[k].s);
			r->mem_limit = jobs[k].s.mem_limit;
			/* CPU needs two samples of the same run of the same container */
			if (!strcmp(prev_id[k], jobs[k].id) && prev_start[k] == jobs[k].started_at) {
				r->cpu = docker_stats_cpu_percent(&prev[k], &jobs[k].s);
				r->have_cpu = 1;
			}
			prev[k] = jobs[k].s;
			snprintf(prev_id[k], sizeof(prev_id[k]), "%s", jobs[k].id);
			prev_start[k] = jobs[k].started_at;
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
			double t_max = began + (steady(m) ? MODEL_REFRESH_IDLE_S : MODEL_REFRESH_S);
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
	model_unlock(m);
	return NULL;
}

/* ---- the actor ---- */

static const char *const action_words[] = {
	[ACT_START] = "start", [ACT_STOP] = "stop", [ACT_RESTART] = "restart",
	[ACT_START_ALL] = "start",
};

static void job_text(const struct model *m, const struct model_job *j, char *out, size_t size)
{
	if (j->action == ACT_START_ALL)
		snprintf(out, size, "start of all services");
	else
		snprintf(out, size, "%s of '%s'", action_words[j->action], m->st->svcs[j->k].name);
}

static void set_busy(struct model *m, int k, enum model_busy b)
{
	model_lock(m);
	m->rows[k].busy = b;
	m->rows[k].settle = 0;
	m->poke = 1;
	m->version++;
	pthread_cond_broadcast(&m->wake);
	model_unlock(m);
}

/* reports a failure unless the stack already did (NOTE_FAILED for it) */
static void report_failure(struct model *m, const struct model_job *j, const struct buf *err)
{
	const char *svc = j->action == ACT_START_ALL ? NULL : m->st->svcs[j->k].name;
	const struct model_event *last;
	char what[96];
	int noted;

	model_lock(m);
	last = model_event_at(m, 0);
	noted = last && last->kind == NOTE_FAILED && svc && !strcmp(last->service, svc);
	model_unlock(m);
	if (noted)
		return;
	job_text(m, j, what, sizeof(what));
	model_event(m, NOTE_FAILED, svc, "%s failed: %.*s", what, (int)strcspn(err->s, "\n"), err->s);
}

static void run_job(struct model *m, struct supervisor *sv, const struct model_job *j)
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

		model_lock(m);
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
		model_unlock(m);
		if (!nstart) {
			model_event(m, NOTE_INFO, NULL, "every service is already running");
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
	struct model *m = p;
	int k;

	model_lock(m);
	while (!m->stop) {
		struct model_job j;
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
		model_unlock(m);
		run_job(m, sv, &j);
		model_lock(m);
		m->acting = 0;
		for (k = 0; k < m->n; k++)
			if (m->rows[k].busy != BUSY_NONE && m->rows[k].busy != BUSY_QUEUED &&
			    (j.action == ACT_START_ALL || k == j.k))
				m->rows[k].settle = m->poll_seq + 1;
		m->poke = 1;
		m->version++;
		pthread_cond_broadcast(&m->wake);
	}
	model_unlock(m);
	return NULL;
}

int model_queue(struct model *m, enum model_action a, int k, struct buf *why)
{
	static const char *const busy_words[] = {
		[BUSY_NONE] = "", [BUSY_QUEUED] = "waiting its turn",
		[BUSY_STARTING] = "starting", [BUSY_STOPPING] = "stopping",
		[BUSY_RESTARTING] = "restarting",
	};
	int i, ret = -1;

	model_lock(m);
	if (m->nqueue == MODEL_QUEUE) {
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
	model_unlock(m);
	return ret;
}

/* ---- life cycle ---- */

void model_start(struct model *m, struct stack *st)
{
	int k;

	model_lock(m);
	m->st = st;
	m->n = st->n;
	for (k = 0; k < st->n; k++) {
		m->rows[k].st.svc = &st->svcs[k];
		snprintf(m->rows[k].st.state, sizeof(m->rows[k].st.state), "?");
	}
	model_unlock(m);
	pthread_create(&m->poller, NULL, poller_main, m);
	pthread_create(&m->actor, NULL, actor_main, m);
	pthread_create(&m->follower, NULL, follower_main, m);
	m->started = 1;
}

int model_busy_text(struct model *m, char *out, size_t size)
{
	int busy;

	model_lock(m);
	busy = m->acting;
	if (busy)
		job_text(m, &m->current, out, size);
	else if (size)
		out[0] = '\0';
	model_unlock(m);
	return busy;
}

void model_stop(struct model *m)
{
	if (!m->started)
		return;
	model_lock(m);
	m->stop = 1;
	m->log_cancel = 1;
	m->nqueue = 0;
	pthread_cond_broadcast(&m->wake);
	/* a job under way is let finish (the launcher says so), unless the
	 * engine is stuck; nothing else is waited for */
	while (m->acting && docker_silence_s(m->st->d) < MODEL_STALLED_S)
		wait_s(m, 0.25);
	model_unlock(m);
	docker_abort(m->st->d);
	pthread_join(m->actor, NULL);
	pthread_join(m->poller, NULL);
	pthread_join(m->follower, NULL);
	supervisor_stop(m->sv);
	m->sv = NULL;
	m->started = 0;
}

void model_release(struct model *m)
{
	int i;

	model_stop(m);
	for (i = 0; i < MODEL_LOG_LINES; i++)
		free(m->log[i].text);
	for (i = 0; i < 3; i++)
		buf_release(&m->partial[i]);
	pthread_cond_destroy(&m->wake);
	pthread_mutex_destroy(&m->lock);
}
