/*
 * server: libmicrohttpd, one daemon per worker thread, each thread an
 * event loop over its daemon, its own Redis connection and a doorbell the
 * acceptor rings with new connections. A request takes a reference to the
 * current state (the variants), so a swap never pulls a model from under
 * it: the old state is freed by its last reader. A request that needs a
 * list from Redis waits suspended; the asks of all requests that came in
 * one pass of the loop go out in one write. A Redis that fails is left
 * alone for a second while the model in memory answers.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <jansson.h>
#include <math.h>
#include <microhttpd.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cblas.h>

#include "clients/kafka.h"
#include "core/catalog.h"
#include "core/servingloc.h"
#include "clients/redis.h"
#include "ledger.h"
#include "model/keys.h"
#include "route.h"
#include "server.h"
#include "variant.h"
#include "util/clock.h"
#include "util/xalloc.h"
#include "util/sig.h"

#define NV (SERVER_MAX_VARIANTS + 1)	/* metrics: the variants and "none" */
static const double buckets_ms[] = { 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 25, 50, 100, 250, 1000 };
#define NB (int)(sizeof(buckets_ms) / sizeof(buckets_ms[0]))
enum source { SRC_REDIS, SRC_CACHE, SRC_MODEL, SRC_POPULAR, SRC_COUNT };
static const char *const source_names[SRC_COUNT] = { "redis", "cache", "model", "popular" };

/* the variants in use; freed by whoever drops the last reference */
struct state {
	int refs;			/* under S.lock */
	int n;
	struct variant v[SERVER_MAX_VARIANTS];
};

static struct {
	const struct server_opts *o;
	struct dataset ds;
	struct state *cur;
	pthread_mutex_t lock;		/* cur and its refs */
	struct bandit bandit;
	struct ledger ledger;
	struct kafka_producer *imp, *fb;
	pthread_mutex_t kafka_lock;
	char instance[9];		/* request ids: INSTANCE-SEQ */
	char waiting[256];		/* why no model is loaded (under lock) ... */
	double waiting_at;		/* ... as of then */
	char loading[13];		/* a version announced and being loaded (under lock) */
	double loading_at;		/* when it was announced */
	volatile int stop, reload, draining;
	volatile int leaving;		/* stopping after --drain-grace: /readyz 503, the rest answered */
	int stop_workers;		/* atomic: workers and acceptor end */
	int topics_ok;			/* the Kafka topics exist (the ticker's) */
	int inflight;			/* atomic */
	/* metrics, updated with atomics */
	uint64_t requests[ROUTE_COUNT + 1][NV][3];	/* + 1: refused before routing */		/* 2xx, 4xx, 5xx */
	uint64_t lat[ROUTE_COUNT + 1][NV][NB + 1];
	uint64_t lat_sum_us[ROUTE_COUNT + 1][NV];
	uint64_t sources[NV][SRC_COUNT];
	uint64_t redis_errors, kafka_errors, swaps, swap_failures;
	uint64_t redis_batches, redis_lists;		/* round trips, lists asked */
	uint64_t half_closed;				/* requests of clients that were done */
	uint64_t feedback[4];				/* ok, unknown, expired, duplicate */
} S;

static int64_t wall_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

void server_opts_default(struct server_opts *o)
{
	memset(o, 0, sizeof(*o));
	o->bind = "127.0.0.1";
	o->port = 8080;
	o->threads = 2;
	o->policy = BANDIT_THOMPSON;
	o->epsilon = 0.1;
	o->impressions_topic = "impressions";
	o->feedback_topic = "feedback";
	o->window_s = 600;
	o->watch_s = 2;
	o->max_connections = 1024;
	o->idle_timeout_s = 30;
	o->max_body = 16 * 1024;
	o->max_header = 16 * 1024;
	o->cache_ms = 1000;
}

/* ---- state ---- */

static struct state *state_get(void)
{
	pthread_mutex_lock(&S.lock);
	struct state *st = S.cur;
	if (st)
		st->refs++;
	pthread_mutex_unlock(&S.lock);
	return st;
}

static void state_put(struct state *st)
{
	int last;

	if (!st)
		return;
	pthread_mutex_lock(&S.lock);
	last = --st->refs == 0;
	pthread_mutex_unlock(&S.lock);
	if (last) {
		for (int i = 0; i < st->n; i++)
			variant_release(&st->v[i]);
		free(st);
	}
}

static void state_swap(struct state *st)
{
	pthread_mutex_lock(&S.lock);
	struct state *old = S.cur;
	st->refs = 1;		/* the server's own reference */
	S.cur = st;
	pthread_mutex_unlock(&S.lock);
	state_put(old);
}

/*
 * Builds a new state: variants whose revision still names the commit
 * they were loaded from are shared by copy-on-load (loaded again only
 * when `force` or their commit moved). 1 when nothing changed, 0 when
 * swapped, -1 with `err` (the old state stays).
 */
static int state_reload(int force, struct buf *err)
{
	const struct server_opts *o = S.o;
	struct state *old = state_get(), *st = xcalloc(1, sizeof(*st));
	int changed = old == NULL || force;
	char commit[SERVER_MAX_VARIANTS][41];

	for (int i = 0; i < o->nvariants; i++) {
		if (variant_resolve(o->revs[i], o->registry, commit[i], err))
			goto fail;
		if (old && strcmp(commit[i], old->v[i].commit))
			changed = 1;
	}
	if (!changed) {
		state_put(old);
		free(st);
		return 1;
	}
	for (int i = 0; i < o->nvariants; i++) {
		if (variant_load(&st->v[i], o->names[i], o->revs[i], o->registry, &S.ds, err))
			goto fail;
		st->n = i + 1;
	}
	state_put(old);
	state_swap(st);
	return 0;
fail:
	for (int i = 0; i < st->n; i++)
		variant_release(&st->v[i]);
	free(st);
	state_put(old);
	return -1;
}

/*
 * ---- workers ----
 * Each worker thread runs one MHD daemon (no listening socket of its
 * own: the acceptor hands it connections) and its own Redis connection,
 * in one event loop. A request whose list is not cached is asked of
 * Redis and its connection suspended; the asks made while MHD ran go out
 * together, and each answer resumes its request, all on the worker's own
 * thread: under load one round trip carries many lists, idle it costs one
 * round trip and no thread hand-off. A worker without Redis (down, or
 * not connected yet) answers from the model at once while the ticker
 * connects it again, at most once a second.
 */
#define MAX_WORKERS 256
#define WORKER_FDS 256

/* one thing asked of Redis; lives in the request, owned by the worker while asked */
struct job {
	struct job *next;
	struct MHD_Connection *conn;
	struct req *rq;		/* the request it lives in */
	int answered;		/* the answer (or Redis's failure) is in */
	int suspended;		/* its connection waits suspended: resume it when answered */
	int orphan;		/* the connection closed while asked: free the request then */
	int rated;		/* 0: a published list (ZREVRANGE); 1: what the user rated */
	char key[96];
	int k;
	int n;			/* out: the list's length, 0: none, -1: Redis failed */
	uint32_t ids[ROUTE_K_MAX];
	float scores[ROUTE_K_MAX];
	uint32_t *rated_ids;	/* out, for `rated`: the item ids (the request frees them) */
	size_t nrated;
};

/* a request, from its URI to its answer (see "Half-closed clients" for the calls) */
struct req {
	char uri[ROUTE_URI_MAX + 2];
	size_t urilen;
	int seen;
	int in;			/* handler calls since the whole request was in */
	int suspended;		/* by us, for an ask or a kick; cleared on the next call */
	int resumed;		/* resumed once: the library reads the socket after the answer */
	int half_closed;	/* the client was done when the request was in */
	struct req *next_kick;
	struct MHD_Connection *conn;
	struct buf body;
	int body_too_big;
	double t0;
	/* a list asked of Redis: what the answer is built on */
	int waiting;
	struct route rt;
	struct state *st;	/* a reference, dropped once answered */
	int arm;
	double prob;
	int status;		/* what the answer said */
	struct job job;
};

struct worker {
	int id;
	struct MHD_Daemon *d;
	pthread_t th;
	int started;
	int ep, bell;			/* its epoll; an eventfd the acceptor rings */
	pthread_mutex_t lock;
	int fds[WORKER_FDS], nfds;	/* under lock: accepted, for MHD to take */
	int conns;			/* atomic: its connections */
	/* Redis, the worker's own */
	struct redis_conn *redis;
	struct redis_conn *fresh;	/* atomic: a connection the ticker made */
	int want_redis;			/* atomic: the ticker should make one */
	int64_t retry_us;		/* the ticker's: not before then */
	int redis_events;		/* what `ep` watches on its fd */
	struct job *asks, **asks_tail;	/* asked while MHD ran, not sent yet */
	struct job *sent, **sent_tail;	/* sent, answered in this order */
	int64_t deadline_us;		/* the oldest sent ask's */
	int resumed;			/* connections resumed since MHD last ran */
	struct req *kicks;		/* suspended, to be resumed after this pass */
};

static struct worker workers[MAX_WORKERS];
static int nworkers;
static __thread struct worker *tl_worker;

/*
 * ---- half-closed clients ----
 * A client may send its request and shut its sending side at once (HTTP/1.0
 * tools, some proxies). libmicrohttpd 0.9.75 mishandles that FIN in the
 * epoll mode the workers use, in two ways (its connection.c and daemon.c):
 *
 * - It watches sockets edge-triggered and takes a read shorter than its
 *   buffer for "nothing left": when the request's last bytes and the FIN
 *   came before one edge, the read takes the bytes, the FIN stays unread
 *   and no edge follows. The answer goes out, then the connection waits
 *   for the idle timeout (the client, reading to the end, waits with it).
 * - A connection suspended in the handler call that follows the read of
 *   its request keeps the "reading" mark it had then (states are not
 *   updated while suspended), and a resumed connection is marked
 *   readable. So on resume it reads first, and a FIN read there (the
 *   request complete, the answer not sent) closes the connection without
 *   the answer: a list asked of Redis for a half-closed client was lost.
 *
 * So: the handler never suspends in that first call. An ask of Redis is
 * queued and the request parks (no answer, not suspended: the library
 * marks it blocked, not reading, and calls the handler again in its next
 * pass), and suspends in that next call; its resume then answers before
 * any read. A request whose client is done (client_done: only the FIN is
 * left on the socket) parks, is suspended in the next call and resumed
 * at once (a kick), and is answered after the resume: a resumed
 * connection is marked readable, so after the answer the library reads
 * the FIN and closes, having answered any pipelined requests it had read.
 */

/* 1 when the client has sent all it will: the FIN is all that is left on its socket */
static int client_done(struct MHD_Connection *conn)
{
	const union MHD_ConnectionInfo *ci =
		MHD_get_connection_info(conn, MHD_CONNECTION_INFO_CONNECTION_FD);
	char c;

	return ci && recv(ci->connect_fd, &c, 1, MSG_PEEK | MSG_DONTWAIT) == 0;
}

static void req_free(struct req *rq)
{
	free(rq->job.rated_ids);
	buf_release(&rq->body);
	free(rq);
}

/* suspends `rq` (never in the first call once it is in): its handler's next call follows a resume */
static void req_suspend(struct MHD_Connection *conn, struct req *rq)
{
	MHD_suspend_connection(conn);
	rq->suspended = 1;
}

/* suspends `rq` and resumes it after this pass of the library (a kick) */
static void worker_kick(struct worker *w, struct MHD_Connection *conn, struct req *rq)
{
	rq->conn = conn;
	req_suspend(conn, rq);
	rq->next_kick = w->kicks;
	w->kicks = rq;
}

static void worker_resume_kicks(struct worker *w)
{
	for (struct req *rq = w->kicks, *next; rq; rq = next) {
		next = rq->next_kick;	/* rq may be answered and freed once MHD runs */
		MHD_resume_connection(rq->conn);
		w->resumed = 1;
	}
	w->kicks = NULL;
}

/* `j`'s answer (or Redis's failure) is in: its request goes on */
static void job_done(struct worker *w, struct job *j)
{
	j->answered = 1;
	if (j->orphan) {
		req_free(j->rq);
	} else if (j->suspended) {
		/* the request may be answered and freed once MHD runs */
		j->suspended = 0;
		MHD_resume_connection(j->conn);
		w->resumed = 1;
	}
}

static void on_connection(void *cls, struct MHD_Connection *conn, void **socket_context,
			  enum MHD_ConnectionNotificationCode toe)
{
	(void)conn;
	(void)socket_context;
	if (toe == MHD_CONNECTION_NOTIFY_CLOSED)
		__atomic_fetch_sub((int *)cls, 1, __ATOMIC_RELAXED);
}

/* answers every ask with "Redis failed" and drops the connection */
static void worker_redis_failed(struct worker *w)
{
	struct job *lists[2] = { w->sent, w->asks };

	if (w->redis) {
		epoll_ctl(w->ep, EPOLL_CTL_DEL, redis_fd(w->redis), NULL);
		redis_close(w->redis);
		w->redis = NULL;
		w->redis_events = 0;
	}
	for (int l = 0; l < 2; l++)
		for (struct job *j = lists[l], *next; j; j = next) {
			next = j->next;
			j->n = -1;
			job_done(w, j);
		}
	w->sent = w->asks = NULL;
	w->sent_tail = &w->sent;
	w->asks_tail = &w->asks;
	__atomic_store_n(&w->retry_us, clock_us() + 1000000, __ATOMIC_RELAXED);
	__atomic_store_n(&w->want_redis, 1, __ATOMIC_RELEASE);
	__atomic_fetch_add(&S.redis_errors, 1, __ATOMIC_RELAXED);
}

/* watches Redis's fd for what the connection waits on */
static void worker_redis_watch(struct worker *w)
{
	int want = EPOLLIN | (redis_want_write(w->redis) ? EPOLLOUT : 0);

	if (want == w->redis_events)
		return;
	struct epoll_event ev = { .events = (uint32_t)want, .data.u32 = 2 };
	epoll_ctl(w->ep, w->redis_events ? EPOLL_CTL_MOD : EPOLL_CTL_ADD, redis_fd(w->redis), &ev);
	w->redis_events = want;
}

/* sends what waits, takes the answers that came, each resuming its request */
static void worker_redis_read(struct worker *w)
{
	struct buf err = BUF_INIT;
	int r = redis_io(w->redis, &err);

	while (r >= 0 && w->sent) {
		struct job *j = w->sent;
		struct redis_ztop q = { .key = j->key, .k = j->k, .ids = j->ids, .scores = j->scores };
		if (j->rated) {
			r = redis_members_answer(w->redis, &j->rated_ids, &j->nrated, &err);
			q.n = r == 1 ? (int)j->nrated : 0;
		} else {
			r = redis_ztop_answer(w->redis, &q, &err);
		}
		if (r == 0)
			break;
		if (r == REDIS_ECMD) {	/* a key that is no list: that request only */
			__atomic_fetch_add(&S.redis_errors, 1, __ATOMIC_RELAXED);
			r = 1;
		}
		if (r < 0)
			break;
		w->sent = j->next;
		if (!w->sent)
			w->sent_tail = &w->sent;
		j->n = q.n;
		job_done(w, j);
		w->deadline_us = clock_us() + 100 * 1000;
	}
	if (r < 0)
		worker_redis_failed(w);
	else
		worker_redis_watch(w);
	buf_release(&err);
}

/* sends the asks MHD's handlers queued, in one write */
static void worker_redis_send(struct worker *w)
{
	struct buf err = BUF_INIT;
	int n = 0;

	if (!w->asks)
		return;
	for (struct job *j = w->asks; j; j = j->next, n++)
		if (j->rated ? redis_members_ask(w->redis, j->key, &err)
		    : redis_ztop_ask(w->redis, j->key, j->k, &err))
			break;
	if (!w->sent)
		w->deadline_us = clock_us() + 100 * 1000;
	*w->sent_tail = w->asks;
	w->sent_tail = w->asks_tail;
	w->asks = NULL;
	w->asks_tail = &w->asks;
	__atomic_fetch_add(&S.redis_batches, 1, __ATOMIC_RELAXED);
	__atomic_fetch_add(&S.redis_lists, (uint64_t)n, __ATOMIC_RELAXED);
	if (err.len)
		worker_redis_failed(w);
	else
		worker_redis_read(w);	/* sends, and takes what came back already */
	buf_release(&err);
}

/* the connections the acceptor handed over, to MHD (on this thread) */
static void worker_take_fds(struct worker *w)
{
	int fds[WORKER_FDS], n;
	uint64_t rung;

	if (read(w->bell, &rung, sizeof(rung)) < 0 && errno != EAGAIN)
		return;
	pthread_mutex_lock(&w->lock);
	n = w->nfds;
	memcpy(fds, w->fds, sizeof(int) * (size_t)n);
	w->nfds = 0;
	pthread_mutex_unlock(&w->lock);
	for (int i = 0; i < n; i++) {
		struct sockaddr_storage sa;
		socklen_t len = sizeof(sa);
		if (getpeername(fds[i], (struct sockaddr *)&sa, &len)) {
			close(fds[i]);	/* gone already */
			__atomic_fetch_sub(&w->conns, 1, __ATOMIC_RELAXED);
			continue;
		}
		/* MHD closes it if it cannot take it */
		if (MHD_add_connection(w->d, fds[i], (struct sockaddr *)&sa, len) != MHD_YES)
			__atomic_fetch_sub(&w->conns, 1, __ATOMIC_RELAXED);
	}
}

static void *worker_loop(void *arg)
{
	struct worker *w = arg;
	const union MHD_DaemonInfo *di = MHD_get_daemon_info(w->d, MHD_DAEMON_INFO_EPOLL_FD);
	struct epoll_event ev = { .events = EPOLLIN, .data.u32 = 0 }, evs[8];

	tl_worker = w;
	epoll_ctl(w->ep, EPOLL_CTL_ADD, di->epoll_fd, &ev);
	ev.data.u32 = 1;
	epoll_ctl(w->ep, EPOLL_CTL_ADD, w->bell, &ev);
	while (!__atomic_load_n(&S.stop_workers, __ATOMIC_ACQUIRE)) {
		MHD_UNSIGNED_LONG_LONG mhd_ms = 0;
		int timeout = 100;
		if (MHD_get_timeout(w->d, &mhd_ms) == MHD_YES && mhd_ms < (MHD_UNSIGNED_LONG_LONG)timeout)
			timeout = (int)mhd_ms;
		if (w->sent) {
			int64_t left = (w->deadline_us - clock_us()) / 1000;
			if (left < timeout)
				timeout = left > 0 ? (int)left : 0;
		}
		int n = epoll_wait(w->ep, evs, 8, timeout), redis_ready = 0;
		for (int i = 0; i < n; i++) {
			if (evs[i].data.u32 == 1)
				worker_take_fds(w);
			else if (evs[i].data.u32 == 2)
				redis_ready = 1;
		}
		/* a connection the ticker made for us */
		if (!w->redis && __atomic_load_n(&w->fresh, __ATOMIC_ACQUIRE)) {
			w->redis = __atomic_exchange_n(&w->fresh, NULL, __ATOMIC_ACQ_REL);
			worker_redis_watch(w);
		}
		if (w->redis && (w->sent || redis_ready))
			worker_redis_read(w);	/* answers, or Redis hung up */
		if (w->sent && clock_us() >= w->deadline_us)
			worker_redis_failed(w);		/* no answer within 100 ms */
		do {
			w->resumed = 0;
			MHD_run(w->d);		/* requests, answers, resumed ones */
			if (w->redis)
				worker_redis_send(w);	/* may answer some at once */
			worker_resume_kicks(w);
		} while (w->resumed);
	}
	/* the asks still out are answered from memory, kicked requests too */
	for (int pass = 0; pass < 100 && (pass == 0 || w->resumed); pass++) {
		if (w->sent || w->asks)
			worker_redis_failed(w);
		w->resumed = 0;
		MHD_run(w->d);
		worker_resume_kicks(w);
	}
	redis_close(w->redis);
	w->redis = NULL;
	variant_thread_release();
	return NULL;
}

/*
 * This worker's Redis for a request's list, or NULL: no Redis, or not
 * connected yet (the ticker is asked to), or it failed a moment ago.
 */
static struct worker *worker_redis(void)
{
	struct worker *w = tl_worker;

	if (!w || !S.o->redis_host)
		return NULL;
	if (!w->redis) {
		__atomic_store_n(&w->want_redis, 1, __ATOMIC_RELEASE);
		return NULL;
	}
	return w;
}

/*
 * Queues `j` (key and k filled in) for request `rq`; the request waits
 * suspended until it is answered: from now on when `now`, else from the
 * handler's next call (parked: see "half-closed clients").
 */
static void worker_ask(struct worker *w, struct MHD_Connection *conn, struct req *rq,
		       struct job *j, int now)
{
	j->conn = conn;
	j->rq = rq;
	j->next = NULL;
	j->n = -1;
	j->answered = j->orphan = 0;
	j->suspended = now;
	free(j->rated_ids);
	j->rated_ids = NULL;
	j->nrated = 0;
	if (now)
		req_suspend(conn, rq);
	*w->asks_tail = j;
	w->asks_tail = &j->next;
}

/* the ticker's part: connects the workers that want Redis (blocking, here) */
static void workers_connect_redis(void)
{
	struct buf err = BUF_INIT;

	for (int i = 0; i < nworkers && S.o->redis_host; i++) {
		struct worker *w = &workers[i];
		if (!__atomic_load_n(&w->want_redis, __ATOMIC_ACQUIRE) ||
		    __atomic_load_n(&w->fresh, __ATOMIC_ACQUIRE) ||
		    clock_us() < __atomic_load_n(&w->retry_us, __ATOMIC_RELAXED))
			continue;
		struct redis_conn *c = NULL;
		buf_reset(&err);
		if (redis_connect_nearest(&c, &S.o->redis_addrs, 100, 16, NULL, &err)) {
			__atomic_store_n(&w->retry_us, clock_us() + 1000000, __ATOMIC_RELAXED);
			__atomic_fetch_add(&S.redis_errors, 1, __ATOMIC_RELAXED);
			continue;
		}
		__atomic_store_n(&w->want_redis, 0, __ATOMIC_RELAXED);
		__atomic_store_n(&w->fresh, c, __ATOMIC_RELEASE);
		/* wake it: the loop looks for `fresh` after each wait */
		uint64_t one = 1;
		if (write(w->bell, &one, sizeof(one)) < 0)
			continue;
	}
	buf_release(&err);
}

/*
 * ---- a cache of answers ----
 * Direct-mapped and shared by the workers (a spin lock per slot, held
 * for a copy), lists of up to CACHE_K items from Redis or the model, kept
 * --cache-ms (default 1 s): a list fold-in rewrites is served stale for
 * at most that long. A new model version never hits an old entry.
 */
#define CACHE_BITS 14
#define CACHE_K 20
struct cache_slot {
	int lock;		/* __atomic_test_and_set */
	int16_t k, n;
	uint32_t user;
	uint64_t vkey;		/* the variant's version, hashed; 0: empty */
	double expires;
	uint32_t ids[CACHE_K];
	float scores[CACHE_K];
};
static struct cache_slot *cache;	/* 1 << CACHE_BITS, made by server_run */

static uint64_t version_key(const char *v)
{
	uint64_t h = 1469598103934665603ULL;
	for (; *v; v++)
		h = (h ^ (unsigned char)*v) * 1099511628211ULL;
	return h | 1;
}

static struct cache_slot *cache_lock(uint64_t vkey, uint32_t user)
{
	uint64_t h = (vkey ^ user) * 0x9e3779b97f4a7c15ULL;
	struct cache_slot *c = &cache[h >> (64 - CACHE_BITS)];
	while (__atomic_test_and_set(&c->lock, __ATOMIC_ACQUIRE))
		;
	return c;
}

static void cache_unlock(struct cache_slot *c)
{
	__atomic_clear(&c->lock, __ATOMIC_RELEASE);
}

static int cache_get(uint64_t vkey, uint32_t user, int k, double now, uint32_t *ids,
		     float *scores)
{
	int n = -1;

	if (!cache || k > CACHE_K)
		return -1;
	struct cache_slot *c = cache_lock(vkey, user);
	if (c->vkey == vkey && c->user == user && c->k == k && now < c->expires) {
		n = c->n;
		memcpy(ids, c->ids, sizeof(uint32_t) * (size_t)n);
		memcpy(scores, c->scores, sizeof(float) * (size_t)n);
	}
	cache_unlock(c);
	return n;
}

static void cache_put(uint64_t vkey, uint32_t user, int k, double now, const uint32_t *ids,
		      const float *scores, int n)
{
	if (!cache || k > CACHE_K || n > CACHE_K)
		return;
	struct cache_slot *c = cache_lock(vkey, user);
	c->vkey = vkey;
	c->user = user;
	c->k = (int16_t)k;
	c->n = (int16_t)n;
	c->expires = now + S.o->cache_ms / 1000.0;
	memcpy(c->ids, ids, sizeof(uint32_t) * (size_t)n);
	memcpy(c->scores, scores, sizeof(float) * (size_t)n);
	cache_unlock(c);
}

/* forgets the answers of `n` users for the version hashed to vkey (their lists were replaced) */
static void cache_forget(uint64_t vkey, const uint32_t *users, size_t n)
{
	for (size_t i = 0; cache && i < n; i++) {
		struct cache_slot *c = cache_lock(vkey, users[i]);
		if (c->vkey == vkey && c->user == users[i])
			c->vkey = 0;
		cache_unlock(c);
	}
}

/* ---- events to Kafka (never blocking a request for long) ---- */

static void event(struct kafka_producer *p, const char *topic, const char *key,
		  const struct buf *value)
{
	struct buf err = BUF_INIT;

	if (!p)
		return;
	pthread_mutex_lock(&S.kafka_lock);
	if (kafka_produce(p, topic, -1, key, strlen(key), value->s, value->len, NULL, 0, &err))
		__atomic_fetch_add(&S.kafka_errors, 1, __ATOMIC_RELAXED);
	pthread_mutex_unlock(&S.kafka_lock);
	buf_release(&err);
}

/* ---- responses ---- */


static enum MHD_Result reply(struct MHD_Connection *conn, int status, const char *type,
			     struct buf *body)
{
	struct MHD_Response *r = MHD_create_response_from_buffer(body->len, body->s,
								 MHD_RESPMEM_MUST_COPY);
	MHD_add_response_header(r, "Content-Type", type);
	MHD_add_response_header(r, "Cache-Control", "no-store");
	enum MHD_Result ret = MHD_queue_response(conn, (unsigned)status, r);
	MHD_destroy_response(r);
	return ret;
}

static enum MHD_Result reply_error(struct MHD_Connection *conn, int status, const char *msg)
{
	json_t *j = json_pack("{s:s, s:i}", "error", msg, "status", status);
	char *s = j ? json_dumps(j, JSON_COMPACT) : NULL;
	struct buf b = BUF_INIT;
	/* route quotes what clients sent as ASCII; should a message still not be UTF-8 */
	buf_addstr(&b, s ? s : "{\"error\":\"(the message is not UTF-8)\"}");
	buf_addch(&b, '\n');
	enum MHD_Result ret = reply(conn, status, "application/json", &b);
	buf_release(&b);
	free(s);
	json_decref(j);
	return ret;
}

static void items_json(struct buf *b, const uint32_t *ids, const float *scores, int n)
{
	buf_addstr(b, "\"items\":[");
	for (int i = 0; i < n; i++) {
		buf_addstr(b, i ? ",{\"item\":" : "{\"item\":");
		buf_addu64(b, ids[i]);
		buf_addstr(b, ",\"score\":");
		buf_addg6(b, isfinite(scores[i]) ? scores[i] : 0.0);	/* %.6g */
		buf_addch(b, '}');
	}
	buf_addch(b, ']');
}

static void count(int kind, int arm, int status, double t0)
{
	int v = arm >= 0 && arm < SERVER_MAX_VARIANTS ? arm : SERVER_MAX_VARIANTS;
	int cls = status < 400 ? 0 : status < 500 ? 1 : 2;
	double ms = (clock_s() - t0) * 1000;
	int b = 0;

	while (b < NB && ms > buckets_ms[b])
		b++;
	__atomic_fetch_add(&S.requests[kind][v][cls], 1, __ATOMIC_RELAXED);
	__atomic_fetch_add(&S.lat[kind][v][b], 1, __ATOMIC_RELAXED);
	__atomic_fetch_add(&S.lat_sum_us[kind][v], (uint64_t)(ms * 1000), __ATOMIC_RELAXED);
}

/* ---- routes ---- */

/*
 * The answer to /recommendations from a list of n items (n <= 0: Redis
 * has none, or failed) from `src`: what Redis lacks, the model scores,
 * and what the model cannot score, popular items fill.
 */
static enum MHD_Result recommendations_answer(struct MHD_Connection *conn, struct req *rq,
					      uint32_t *ids, float *scores, int n,
					      enum source src)
{
	const struct route *rt = &rq->rt;
	const struct variant *v = &rq->st->v[rq->arm];
	uint64_t vkey = version_key(v->version);

	if (n > 0 && src == SRC_REDIS)
		cache_put(vkey, rt->id, rt->k, clock_s(), ids, scores, n);
	if (n <= 0) {
		src = SRC_MODEL;
		n = variant_recommend(v, rt->id, rt->k, rq->job.rated_ids, rq->job.nrated, ids, scores);
		if (n > 0)
			cache_put(vkey, rt->id, rt->k, clock_s(), ids, scores, n);
	}
	if (n < 0) {
		src = SRC_POPULAR;
		n = variant_popular(v, rt->k, ids, scores);
	}
	__atomic_fetch_add(&S.sources[rq->arm][src], 1, __ATOMIC_RELAXED);

	uint64_t seq = ledger_open(&S.ledger, rq->arm, wall_ms());
	struct buf b = BUF_INIT;
	/* the hot path's answer: no printf */
	uint64_t p4 = (uint64_t)nearbyint((rq->prob > 0 ? rq->prob : 0) * 10000);
	char frac[4] = { (char)('0' + p4 / 1000 % 10), (char)('0' + p4 / 100 % 10),
			 (char)('0' + p4 / 10 % 10), (char)('0' + p4 % 10) };
	buf_grow(&b, 512);
	buf_addstr(&b, "{\"user\":");
	buf_addu64(&b, rt->id);
	buf_addstr(&b, ",\"request_id\":\"");
	buf_addstr(&b, S.instance);
	buf_addch(&b, '-');
	buf_addu64(&b, seq);
	buf_addstr(&b, "\",\"variant\":\"");
	buf_addstr(&b, v->name);
	buf_addstr(&b, "\",\"version\":\"");
	buf_addstr(&b, v->version);
	buf_addstr(&b, "\",\"source\":\"");
	buf_addstr(&b, source_names[src]);
	buf_addstr(&b, "\",\"probability\":");
	buf_addu64(&b, p4 / 10000);	/* %.4f of 0..1 */
	buf_addch(&b, '.');
	buf_add(&b, frac, 4);
	buf_addch(&b, ',');
	items_json(&b, ids, scores, n);
	buf_addstr(&b, "}\n");
	if (S.imp) {
		struct buf ev = BUF_INIT;
		char k[16];
		buf_add(&ev, b.s, b.len - 2);
		buf_addf(&ev, ",\"ts\":%lld}", (long long)wall_ms());
		snprintf(k, sizeof(k), "%u", rt->id);
		event(S.imp, S.o->impressions_topic, k, &ev);
		buf_release(&ev);
	}
	enum MHD_Result ret = reply(conn, 200, "application/json", &b);
	buf_release(&b);
	return ret;
}

/* the answer to /similar from n items (n <= 0: none in Redis) */
static enum MHD_Result similar_answer(struct MHD_Connection *conn, struct req *rq,
				      uint32_t *ids, float *scores, int n)
{
	const struct variant *v = &rq->st->v[0];
	enum source src = SRC_REDIS;

	if (n <= 0) {
		src = SRC_MODEL;
		n = variant_similar(v, rq->rt.id, rq->rt.k, ids, scores);
	}
	if (n < 0) {
		rq->status = 404;
		return reply_error(conn, 404, "no such item in the model");
	}
	struct buf b = BUF_INIT;
	buf_addf(&b, "{\"item\":%u,\"variant\":\"%s\",\"version\":\"%s\",\"source\":\"%s\",",
		 rq->rt.id, v->name, v->version, source_names[src]);
	items_json(&b, ids, scores, n);
	buf_addstr(&b, "}\n");
	enum MHD_Result ret = reply(conn, 200, "application/json", &b);
	buf_release(&b);
	return ret;
}

/*
 * Redis has no list for this user. A server with no dataset files (a
 * container) asks Redis what the user rated (the set 'pancake data load'
 * keeps), so the model's answer leaves it out: 1 when asked (suspended).
 */
static int ask_rated(struct MHD_Connection *conn, struct req *rq)
{
	const struct variant *v = &rq->st->v[rq->arm];
	struct worker *w;

	if (variant_knows_rated(v) || model_user_index(&v->m, rq->rt.id) < 0 ||
	    !(w = worker_redis()))
		return 0;
	keys_data_rated(rq->job.key, sizeof(rq->job.key), v->m.dataset, rq->rt.id);
	rq->job.rated = 1;
	worker_ask(w, conn, rq, &rq->job, 1);	/* called after the first call: suspend now */
	return 1;
}

/*
 * /recommendations and /similar: answered from the cache or, with no
 * Redis, at once; else the list is asked of Redis and *asked is 1 (the
 * request keeps rq->st until answered; it waits suspended from now on
 * when `now`, else from the handler's next call).
 */
static enum MHD_Result list_route(struct MHD_Connection *conn, struct req *rq, int now,
				  int *asked)
{
	uint32_t ids[ROUTE_K_MAX];
	float scores[ROUTE_K_MAX];
	const struct route *rt = &rq->rt;
	struct state *st = rq->st;
	struct worker *w;
	int n;

	*asked = 0;
	rq->arm = 0;
	rq->prob = 1;
	rq->status = 200;
	if (rt->kind == ROUTE_RECOMMENDATIONS) {
		if (rt->variant[0]) {
			int arm;
			for (arm = 0; arm < st->n && strcmp(st->v[arm].name, rt->variant); arm++)
				;
			if (arm == st->n) {
				rq->arm = -1;
				rq->status = 400;
				return reply_error(conn, 400, "no such variant (see /metrics for the "
						   "names)");
			}
			rq->arm = arm;
		} else {
			rq->arm = bandit_choose(&S.bandit, rt->id, &rq->prob);
		}
		const struct variant *v = &st->v[rq->arm];
		n = cache_get(version_key(v->version), rt->id, rt->k, clock_s(), ids, scores);
		if (n >= 0)
			return recommendations_answer(conn, rq, ids, scores, n, SRC_CACHE);
		keys_rec_user(rq->job.key, sizeof(rq->job.key), v->version, rt->id);
	} else {
		keys_rec_similar(rq->job.key, sizeof(rq->job.key), st->v[0].version, rt->id);
	}
	rq->job.k = rt->k;
	if ((w = worker_redis())) {
		worker_ask(w, conn, rq, &rq->job, now);
		*asked = 1;
		return MHD_YES;
	}
	return rt->kind == ROUTE_SIMILAR ? similar_answer(conn, rq, ids, scores, -1)
		: recommendations_answer(conn, rq, ids, scores, -1, SRC_REDIS);
}

static enum MHD_Result popular(struct MHD_Connection *conn, const struct route *rt,
			       struct state *st)
{
	uint32_t ids[ROUTE_K_MAX];
	float scores[ROUTE_K_MAX];
	int n = variant_popular(&st->v[0], rt->k, ids, scores);
	struct buf b = BUF_INIT;

	buf_addf(&b, "{\"dataset\":\"%s\",", st->v[0].m.dataset);
	items_json(&b, ids, scores, n);
	buf_addstr(&b, "}\n");
	enum MHD_Result ret = reply(conn, 200, "application/json", &b);
	buf_release(&b);
	return ret;
}

/* POST /feedback {"request_id": "...", "item": N, "reward": R} */
static enum MHD_Result feedback(struct MHD_Connection *conn, struct req *rq, struct state *st,
				int *arm_out, int *status)
{
	struct feedback f;
	struct route_error re;
	int arm = -1;

	*status = 400;
	if (route_feedback(rq->body.s, rq->body.len, &f, &re))
		return reply_error(conn, re.status, re.message);
	double r = f.reward;
	int ls = strcmp(f.instance, S.instance) ? LEDGER_UNKNOWN
		 : ledger_feedback(&S.ledger, f.seq, wall_ms(), &arm);
	if (ls == LEDGER_OK) {
		bandit_reward(&S.bandit, arm, r);
		__atomic_fetch_add(&S.feedback[0], 1, __ATOMIC_RELAXED);
	}
	*arm_out = arm;
	if (S.fb) {
		struct buf ev = BUF_INIT;
		buf_addf(&ev, "{\"request_id\":\"%s\",\"item\":%lld,\"reward\":%g,\"attributed\":%s,"
			 "\"variant\":\"%s\",\"ts\":%lld}", f.request_id, (long long)f.item, r,
			 ls == LEDGER_OK ? "true" : "false",
			 arm >= 0 && arm < st->n ? st->v[arm].name : "", (long long)wall_ms());
		event(S.fb, S.o->feedback_topic, f.request_id, &ev);
		buf_release(&ev);
	}
	switch (ls) {
	case LEDGER_OK: {
		struct buf b = BUF_INIT;
		buf_addf(&b, "{\"attributed\":true,\"variant\":\"%s\",\"reward\":%g}\n",
			 arm < st->n ? st->v[arm].name : "", r);
		*status = 200;
		enum MHD_Result ret = reply(conn, 200, "application/json", &b);
		buf_release(&b);
		return ret;
	}
	case LEDGER_DUPLICATE:
		__atomic_fetch_add(&S.feedback[3], 1, __ATOMIC_RELAXED);
		*status = 409;
		return reply_error(conn, 409, "feedback for this request was already counted");
	case LEDGER_EXPIRED:
		__atomic_fetch_add(&S.feedback[2], 1, __ATOMIC_RELAXED);
		*status = 410;
		return reply_error(conn, 410, "the attribution window of this request has closed");
	default:
		__atomic_fetch_add(&S.feedback[1], 1, __ATOMIC_RELAXED);
		*status = 404;
		return reply_error(conn, 404, "no such request id (served by this server and "
				   "within the window)");
	}
}

/* st is NULL while no model is loaded: the counters alone, no variant */
static enum MHD_Result metrics(struct MHD_Connection *conn, struct state *st)
{
	struct buf b = BUF_INIT;
	struct bandit_arm arms[BANDIT_MAX_ARMS];
	static const char *const cls[3] = { "2xx", "4xx", "5xx" };
	const char *vname[NV];
	int nv = st ? st->n : 0;	/* no model loaded yet: the counters alone */

	for (int v = 0; v < NV; v++)
		vname[v] = v < nv ? st->v[v].name : "none";
	buf_addstr(&b, "# HELP pancake_requests_total Requests by route, variant and status class.\n"
		   "# TYPE pancake_requests_total counter\n");
	for (int r = 0; r <= ROUTE_COUNT; r++)
		for (int v = 0; v < NV; v++)
			for (int c = 0; c < 3; c++)
				if (S.requests[r][v][c])
					buf_addf(&b, "pancake_requests_total{route=\"%s\",variant=\"%s\","
						 "status=\"%s\"} %llu\n", route_name(r), vname[v], cls[c],
						 (unsigned long long)S.requests[r][v][c]);
	buf_addstr(&b, "# HELP pancake_request_seconds Request latency by route and variant.\n"
		   "# TYPE pancake_request_seconds histogram\n");
	for (int r = 0; r <= ROUTE_COUNT; r++)
		for (int v = 0; v < NV; v++) {
			uint64_t total = 0;
			for (int i = 0; i <= NB; i++)
				total += S.lat[r][v][i];
			if (!total)
				continue;
			uint64_t cum = 0;
			for (int i = 0; i < NB; i++) {
				cum += S.lat[r][v][i];
				buf_addf(&b, "pancake_request_seconds_bucket{route=\"%s\",variant=\"%s\","
					 "le=\"%g\"} %llu\n", route_name(r), vname[v], buckets_ms[i] / 1000,
					 (unsigned long long)cum);
			}
			buf_addf(&b, "pancake_request_seconds_bucket{route=\"%s\",variant=\"%s\",le=\"+Inf\"} "
				 "%llu\npancake_request_seconds_sum{route=\"%s\",variant=\"%s\"} %.6f\n"
				 "pancake_request_seconds_count{route=\"%s\",variant=\"%s\"} %llu\n",
				 route_name(r), vname[v], (unsigned long long)total, route_name(r), vname[v],
				 S.lat_sum_us[r][v] / 1e6, route_name(r), vname[v],
				 (unsigned long long)total);
		}
	buf_addstr(&b, "# HELP pancake_recommendations_source_total Where answers came from.\n"
		   "# TYPE pancake_recommendations_source_total counter\n");
	for (int v = 0; v < nv; v++)
		for (int s = 0; s < SRC_COUNT; s++)
			buf_addf(&b, "pancake_recommendations_source_total{variant=\"%s\",source=\"%s\"} "
				 "%llu\n", vname[v], source_names[s], (unsigned long long)S.sources[v][s]);
	int n = bandit_snapshot(&S.bandit, arms);
	buf_addf(&b, "# HELP pancake_arm_pulls_total Requests each arm served.\n"
		 "# TYPE pancake_arm_pulls_total counter\n");
	for (int i = 0; i < n; i++)
		buf_addf(&b, "pancake_arm_pulls_total{variant=\"%s\",policy=\"%s\"} %llu\n",
			 arms[i].name, bandit_policy_name(S.bandit.policy),
			 (unsigned long long)arms[i].pulls);
	if (S.bandit.policy == BANDIT_AB) {
		/* the bandits move their shares themselves: only A/B has weights */
		buf_addstr(&b, "# HELP pancake_arm_weight A/B weight of each arm (relative).\n"
			   "# TYPE pancake_arm_weight gauge\n");
		for (int i = 0; i < n; i++)
			buf_addf(&b, "pancake_arm_weight{variant=\"%s\"} %g\n", arms[i].name,
				 arms[i].weight);
	}
	buf_addstr(&b, "# HELP pancake_arm_rewards_total Summed rewards per arm.\n"
		   "# TYPE pancake_arm_rewards_total counter\n");
	for (int i = 0; i < n; i++)
		buf_addf(&b, "pancake_arm_rewards_total{variant=\"%s\"} %.3f\n", arms[i].name,
			 arms[i].successes);
	buf_addstr(&b, "# HELP pancake_arm_no_reward_total Pulls that closed without reward.\n"
		   "# TYPE pancake_arm_no_reward_total counter\n");
	for (int i = 0; i < n; i++)
		buf_addf(&b, "pancake_arm_no_reward_total{variant=\"%s\"} %.3f\n", arms[i].name,
			 arms[i].failures);
	buf_addstr(&b, "# HELP pancake_arm_probability Last selection probability per arm.\n"
		   "# TYPE pancake_arm_probability gauge\n");
	for (int i = 0; i < n; i++)
		buf_addf(&b, "pancake_arm_probability{variant=\"%s\"} %.4f\n", arms[i].name,
			 arms[i].prob);
	static const char *const fbn[4] = { "attributed", "unknown", "expired", "duplicate" };
	buf_addstr(&b, "# HELP pancake_feedback_total Feedback by outcome.\n"
		   "# TYPE pancake_feedback_total counter\n");
	for (int i = 0; i < 4; i++)
		buf_addf(&b, "pancake_feedback_total{outcome=\"%s\"} %llu\n", fbn[i],
			 (unsigned long long)S.feedback[i]);
	buf_addf(&b, "# HELP pancake_feedback_open Requests waiting for feedback.\n"
		 "# TYPE pancake_feedback_open gauge\npancake_feedback_open %llu\n",
		 (unsigned long long)ledger_open_count(&S.ledger));
	buf_addf(&b, "# HELP pancake_redis_batches_total Round trips to Redis for lists.\n"
		 "# TYPE pancake_redis_batches_total counter\npancake_redis_batches_total %llu\n"
		 "# HELP pancake_redis_lists_total Lists asked of Redis (many per round trip "
		 "under load).\n# TYPE pancake_redis_lists_total counter\n"
		 "pancake_redis_lists_total %llu\n", (unsigned long long)S.redis_batches,
		 (unsigned long long)S.redis_lists);
	buf_addf(&b, "# HELP pancake_http_half_closed_total Requests whose client had shut its "
		 "sending side once it had sent them.\n"
		 "# TYPE pancake_http_half_closed_total counter\n"
		 "pancake_http_half_closed_total %llu\n", (unsigned long long)S.half_closed);
	buf_addf(&b, "# TYPE pancake_redis_errors_total counter\npancake_redis_errors_total %llu\n"
		 "# TYPE pancake_kafka_errors_total counter\npancake_kafka_errors_total %llu\n"
		 "# TYPE pancake_model_swaps_total counter\npancake_model_swaps_total %llu\n"
		 "# TYPE pancake_model_swap_failures_total counter\n"
		 "pancake_model_swap_failures_total %llu\n",
		 (unsigned long long)S.redis_errors, (unsigned long long)S.kafka_errors,
		 (unsigned long long)S.swaps, (unsigned long long)S.swap_failures);
	buf_addstr(&b, "# HELP pancake_model_info The model version each variant serves.\n"
		   "# TYPE pancake_model_info gauge\n");
	for (int v = 0; v < nv; v++)
		buf_addf(&b, "pancake_model_info{variant=\"%s\",version=\"%s\",rev=\"%s\","
			 "dataset=\"%s\",rank=\"%u\"} 1\n", st->v[v].name, st->v[v].version,
			 st->v[v].rev, st->v[v].m.dataset, st->v[v].m.rank);
	enum MHD_Result ret = reply(conn, 200, "text/plain; version=0.0.4", &b);
	buf_release(&b);
	return ret;
}

/* ---- libmicrohttpd callbacks ---- */

static void *on_uri(void *cls, const char *uri, struct MHD_Connection *conn)
{
	struct req *rq = xmalloc(sizeof(*rq));	/* not zeroed: 3 KB per request */
	size_t len = strlen(uri);

	(void)cls;
	(void)conn;
	rq->seen = rq->body_too_big = rq->waiting = 0;
	rq->in = rq->suspended = rq->resumed = rq->half_closed = 0;
	rq->st = NULL;
	rq->job.rated = 0;
	rq->job.rated_ids = NULL;
	rq->job.nrated = 0;
	rq->t0 = clock_s();
	rq->urilen = len > ROUTE_URI_MAX + 1 ? ROUTE_URI_MAX + 1 : len;
	memcpy(rq->uri, uri, rq->urilen);
	buf_init(&rq->body, 0);
	__atomic_fetch_add(&S.inflight, 1, __ATOMIC_RELAXED);
	return rq;
}

static void on_done(void *cls, struct MHD_Connection *conn, void **con_cls,
		    enum MHD_RequestTerminationCode why)
{
	struct req *rq = *con_cls;

	(void)cls;
	(void)conn;
	(void)why;
	if (!rq)
		return;
	state_put(rq->st);	/* closed while waiting for Redis */
	rq->st = NULL;
	if (rq->waiting && !rq->job.answered)
		rq->job.orphan = 1;	/* closed while parked: freed with the answer */
	else
		req_free(rq);
	*con_cls = NULL;
	__atomic_fetch_sub(&S.inflight, 1, __ATOMIC_RELAXED);
}

/*
 * A call of a request with a list asked of Redis: waits suspended for the
 * answer (parked, the first call after the ask), or answers. A request
 * answered while parked, never resumed, is kicked first if its client is
 * done (see "half-closed clients").
 */
static enum MHD_Result list_answer(struct MHD_Connection *conn, struct req *rq)
{
	enum MHD_Result ret;

	if (!rq->job.answered) {
		rq->job.suspended = 1;
		req_suspend(conn, rq);
		return MHD_YES;
	}
	if (!rq->resumed && client_done(conn)) {
		worker_kick(tl_worker, conn, rq);
		return MHD_YES;
	}
	rq->waiting = 0;
	if (rq->rt.kind == ROUTE_RECOMMENDATIONS && !rq->job.rated && rq->job.n == 0 &&
	    ask_rated(conn, rq)) {
		rq->waiting = 1;	/* no list: what the user rated, then the model */
		return MHD_YES;
	}
	if (rq->rt.kind == ROUTE_SIMILAR)
		ret = similar_answer(conn, rq, rq->job.ids, rq->job.scores, rq->job.n);
	else if (rq->job.rated)
		ret = recommendations_answer(conn, rq, rq->job.ids, rq->job.scores, -1, SRC_MODEL);
	else
		ret = recommendations_answer(conn, rq, rq->job.ids, rq->job.scores, rq->job.n,
					     SRC_REDIS);
	state_put(rq->st);
	rq->st = NULL;
	count(rq->rt.kind, rq->arm, rq->status, rq->t0);
	return ret;
}

/*
 * Why no model is loaded, true when read: what the last look found and
 * how long ago, or the announced version being loaded.
 */
static void waiting_why(char *out, size_t size)
{
	pthread_mutex_lock(&S.lock);
	if (S.loading[0])
		snprintf(out, size, "loading model %s, announced %.2f s ago", S.loading,
			 clock_s() - S.loading_at);
	else if (S.waiting[0])
		snprintf(out, size, "as of %.1f s ago, %s (a model loads as soon as it is "
			 "published)", clock_s() - S.waiting_at, S.waiting);
	else
		snprintf(out, size, "starting");
	pthread_mutex_unlock(&S.lock);
}

static enum MHD_Result framing_field(void *cls, enum MHD_ValueKind kind, const char *key,
				     size_t key_size, const char *value, size_t value_size)
{
	(void)kind;
	route_framing_field(cls, key, key_size, value ? value : "", value ? value_size : 0);
	return MHD_YES;
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *conn, const char *url,
				  const char *method, const char *version,
				  const char *upload_data, size_t *upload_data_size, void **con_cls)
{
	struct req *rq = *con_cls;
	struct route rt;
	struct route_error re;
	int arm = -1, status = 200;
	enum MHD_Result ret;

	(void)cls;
	(void)url;
	if (!rq)
		return MHD_NO;
	if (!rq->seen) {
		/*
		 * Answer from the second call on, once MHD knows the whole request
		 * (and any body) was read: a response queued in the first call
		 * makes MHD close the connection instead of keeping it alive,
		 * which is what a request framed unsoundly gets (RFC 9112).
		 */
		struct route_framing fr;
		rq->seen = 1;
		route_framing_init(&fr);
		MHD_get_connection_values_n(conn, MHD_HEADER_KIND, framing_field, &fr);
		if (route_framing_check(&fr, version, &re)) {
			count(ROUTE_COUNT, -1, re.status, rq->t0);
			return reply_error(conn, re.status, re.message);
		}
		return MHD_YES;
	}
	if (*upload_data_size) {
		if (rq->body.len + *upload_data_size > S.o->max_body)
			rq->body_too_big = 1;
		else
			buf_add(&rq->body, upload_data, *upload_data_size);
		*upload_data_size = 0;
		return MHD_YES;
	}
	/* the whole request is in (see "half-closed clients" for the calls) */
	int first = rq->in++ == 0;
	if (rq->suspended) {
		rq->suspended = 0;
		rq->resumed = 1;
	}
	if (rq->waiting)
		return list_answer(conn, rq);
	if (first && client_done(conn)) {
		rq->half_closed = 1;
		__atomic_fetch_add(&S.half_closed, 1, __ATOMIC_RELAXED);
		return MHD_YES;		/* parked: called again in the library's next pass */
	}
	if (rq->half_closed && !rq->resumed) {
		worker_kick(tl_worker, conn, rq);
		return MHD_YES;
	}
	if (route_parse(method, rq->uri, rq->urilen, &rt, &re)) {
		ret = reply_error(conn, re.status, re.message);
		count(ROUTE_COUNT, -1, re.status, rq->t0);
		return ret;
	}
	if (rq->body_too_big) {
		count(rt.kind, -1, 413, rq->t0);
		return reply_error(conn, 413, "the body is larger than the server takes");
	}
	if (rt.kind == ROUTE_HEALTHZ) {
		struct buf b = BUF_INIT;
		buf_addstr(&b, "{\"status\":\"ok\"}\n");
		ret = reply(conn, 200, "application/json", &b);
		buf_release(&b);
		count(rt.kind, -1, 200, rq->t0);
		return ret;
	}
	if (rt.kind == ROUTE_READYZ && S.leaving && !S.draining) {
		/* a balancer stops sending here; what it sends meanwhile is answered */
		count(rt.kind, -1, 503, rq->t0);
		return reply_error(conn, 503, "leaving: requests are still answered for the "
				   "drain grace, then it shuts down");
	}
	struct state *st = state_get();
	if (!st && !S.draining && rt.kind == ROUTE_READYZ && S.o->wait_for_model) {
		/* ready to serve a model as soon as one is published */
		struct buf b = BUF_INIT;
		char why[sizeof(S.waiting) + 128];
		waiting_why(why, sizeof(why));
		json_t *j = json_pack("{s:s, s:n, s:s}", "status", "ready", "version", "waiting", why);
		char *js = json_dumps(j, JSON_COMPACT);
		buf_addstr(&b, js);
		buf_addch(&b, '\n');
		free(js);
		json_decref(j);
		ret = reply(conn, 200, "application/json", &b);
		buf_release(&b);
		count(rt.kind, -1, 200, rq->t0);
		return ret;
	}
	if (!st && rt.kind == ROUTE_METRICS) {
		/* a monitor sees a serving waiting for its model as up, with no variant */
		ret = metrics(conn, NULL);
		count(rt.kind, -1, 200, rq->t0);
		return ret;
	}
	if (!st || S.draining) {
		char why[sizeof(S.waiting) + 192], now[sizeof(S.waiting) + 128];
		state_put(st);
		waiting_why(now, sizeof(now));
		snprintf(why, sizeof(why), "no model loaded yet: %s", now);
		count(rt.kind, -1, 503, rq->t0);
		return reply_error(conn, 503, S.draining ? "shutting down" : why);
	}
	switch (rt.kind) {
	case ROUTE_READYZ: {
		struct buf b = BUF_INIT;
		buf_addf(&b, "{\"status\":\"ready\",\"variants\":%d,\"version\":\"%s\"}\n", st->n,
			 st->v[0].version);
		ret = reply(conn, 200, "application/json", &b);
		buf_release(&b);
		break;
	}
	case ROUTE_RECOMMENDATIONS:
	case ROUTE_SIMILAR: {
		int asked;
		rq->rt = rt;
		rq->st = st;
		ret = list_route(conn, rq, !first, &asked);
		if (asked) {
			rq->waiting = 1;
			return ret;	/* counted when answered; rq->st is dropped then */
		}
		rq->st = NULL;
		arm = rq->arm;
		status = rq->status;
		break;
	}
	case ROUTE_POPULAR:
		ret = popular(conn, &rt, st);
		break;
	case ROUTE_FEEDBACK:
		ret = feedback(conn, rq, st, &arm, &status);
		break;
	case ROUTE_METRICS:
	default:
		ret = metrics(conn, st);
		break;
	}
	state_put(st);
	count(rt.kind, arm, status, rq->t0);
	return ret;
}

/* ---- the background: expiry, Kafka polls, registry watch ---- */

static void on_closed(int arm, void *ctx)
{
	(void)ctx;
	bandit_reward(&S.bandit, arm, 0);
}

static void on_signal(int sig)
{
	if (sig == SIGHUP)
		S.reload = 1;
	else
		S.stop = 1;
}

/* makes the two topics; 0 once they exist (S.topics_ok), else -1 with `err` */
static int ensure_topics(struct buf *err)
{
	if (S.topics_ok || !S.imp)
		return 0;
	if (kafka_topic_ensure(S.imp, S.o->impressions_topic, 1, NULL, err) < 0 ||
	    kafka_topic_ensure(S.fb, S.o->feedback_topic, 1, NULL, err) < 0)
		return -1;
	S.topics_ok = 1;
	return 0;
}

/*
 * ---- news ----
 * publish and fold-in announce on KEYS_CHANNEL what they moved. The
 * ticker listens (its own connection) and learns a published version at
 * once rather than at its next look (--watch, kept: a message can be
 * missed, as while the connection is down), and forgets the cached
 * answers of users whose lists fold-in replaced.
 */

/* a message taken: 1 when the variants should be looked at now */
static int news_take(const char *msg, size_t len)
{
	static struct keys_news n;	/* the ticker's, 4 KB */

	if (keys_news_parse(msg, len, &n))
		return 0;
	if (n.kind == KEYS_NEWS_LISTS) {
		cache_forget(version_key(n.version), n.users, n.nusers);
		return 0;
	}
	pthread_mutex_lock(&S.lock);
	memcpy(S.loading, n.version, sizeof(S.loading));
	S.loading_at = clock_s();
	pthread_mutex_unlock(&S.lock);
	return 1;
}

/*
 * Waits up to 100 ms for news on `*sub`, connecting it (at most once a
 * second) when there is none: 1 when the variants should be looked at
 * now (news of a version, or a new subscription: news may have been
 * missed meanwhile).
 */
static int news_wait(struct redis_conn **sub, double *retry_at, struct buf *msg)
{
	struct buf err = BUF_INIT;
	int check = 0, r;

	if (!*sub && S.o->redis_host && clock_s() >= *retry_at) {
		if (redis_connect_nearest(sub, &S.o->redis_addrs, 500, 16, NULL, &err) ||
		    redis_subscribe(*sub, KEYS_CHANNEL, &err)) {
			redis_close(*sub);
			*sub = NULL;
			*retry_at = clock_s() + 1;
			__atomic_fetch_add(&S.redis_errors, 1, __ATOMIC_RELAXED);
		} else {
			check = 1;
		}
	}
	if (!*sub) {
		usleep(100 * 1000);
		buf_release(&err);
		return check;
	}
	for (int wait = 100; (r = redis_message(*sub, wait, msg, &err)) == 1; wait = 0)
		check |= news_take(msg->s, msg->len);
	if (r < 0) {
		redis_close(*sub);
		*sub = NULL;
		*retry_at = clock_s() + 1;
		__atomic_fetch_add(&S.redis_errors, 1, __ATOMIC_RELAXED);
	}
	buf_release(&err);
	return check;
}

static void *ticker(void *arg)
{
	double next_watch = clock_s() + S.o->watch_s, next_topics = clock_s() + 5, next_sub = 0;
	struct buf err = BUF_INIT, msg = BUF_INIT;
	struct redis_conn *sub = NULL;

	(void)arg;
	while (!S.stop) {
		int news = news_wait(&sub, &next_sub, &msg);	/* the loop's 100 ms */
		ledger_expire(&S.ledger, wall_ms());
		workers_connect_redis();	/* those whose Redis failed, once a second */
		/* kafka came up after us: make the topics now (every 5 s) */
		if (S.imp && !S.topics_ok && clock_s() >= next_topics) {
			next_topics = clock_s() + 5;
			buf_reset(&err);
			/* admin calls only, no topic handle: safe beside produce, and a
			   slow broker must not hold the lock requests take */
			if (ensure_topics(&err) == 0 && !S.o->quiet)
				fprintf(stderr, "serving: kafka topics %s and %s are there\n",
					S.o->impressions_topic, S.o->feedback_topic);
		}
		pthread_mutex_lock(&S.kafka_lock);
		if (S.imp)
			kafka_producer_poll(S.imp, 0);
		if (S.fb)
			kafka_producer_poll(S.fb, 0);
		pthread_mutex_unlock(&S.kafka_lock);
		int force = S.reload;
		int empty = S.cur == NULL;	/* waiting for a model: look every watch */
		if (force || news || (S.o->watch_s > 0 && clock_s() >= next_watch)) {
			force |= empty;
			S.reload = 0;
			next_watch = clock_s() + S.o->watch_s;
			buf_reset(&err);
			int r = state_reload(force, &err);
			if (r == 0) {
				S.swaps++;
				struct state *st = state_get();
				if (!S.o->quiet && st)
					for (int i = 0; i < st->n; i++)
						fprintf(stderr, "serving: variant %s now serves model %s "
							"(%s)\n", st->v[i].name, st->v[i].version,
							st->v[i].rev);
				state_put(st);
			} else if (r < 0 && empty) {
				pthread_mutex_lock(&S.lock);
				snprintf(S.waiting, sizeof(S.waiting), "%s", err.s);
				S.waiting_at = clock_s();
				pthread_mutex_unlock(&S.lock);
			} else if (r < 0) {
				S.swap_failures++;
				fprintf(stderr, "serving: warning: reloading failed, the models in use "
					"stay: %s\n", err.s);
			}
			pthread_mutex_lock(&S.lock);
			S.loading[0] = '\0';	/* looked: what it found is what S.waiting says */
			pthread_mutex_unlock(&S.lock);
		}
	}
	redis_close(sub);
	buf_release(&msg);
	buf_release(&err);
	return NULL;
}

/*
 * ---- connections ----
 * An acceptor thread takes each connection and hands it to the worker
 * with the fewest. (MHD's own thread pool let one worker accept them all
 * while the others idled: one busy core, and its queue in the latency.)
 */
static int listen_fd = -1, have_acceptor;
static pthread_t acceptor_th;

static void *acceptor(void *arg)
{
	unsigned rr = 0;

	(void)arg;
	while (!__atomic_load_n(&S.stop_workers, __ATOMIC_ACQUIRE)) {
		struct pollfd p = { .fd = listen_fd, .events = POLLIN };
		if (poll(&p, 1, 100) <= 0)
			continue;
		int fd = accept4(listen_fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
		if (fd < 0) {
			if (errno == EMFILE || errno == ENFILE || errno == ENOBUFS || errno == ENOMEM)
				usleep(10 * 1000);	/* out of descriptors: let some close */
			continue;
		}
		int total = 0, least = INT32_MAX;
		struct worker *best = &workers[0];
		for (int i = 0; i < nworkers; i++) {
			struct worker *w = &workers[(rr + (unsigned)i) % (unsigned)nworkers];
			int n = __atomic_load_n(&w->conns, __ATOMIC_RELAXED);
			total += n;
			if (n < least) {
				least = n;
				best = w;
			}
		}
		rr++;
		if (total >= S.o->max_connections) {
			close(fd);	/* over --max-connections */
			continue;
		}
		/* counted now, uncounted when MHD says it closed */
		pthread_mutex_lock(&best->lock);
		int queued = best->nfds < WORKER_FDS;
		if (queued)
			best->fds[best->nfds++] = fd;
		pthread_mutex_unlock(&best->lock);
		if (!queued) {
			close(fd);	/* that worker is far behind */
			continue;
		}
		__atomic_fetch_add(&best->conns, 1, __ATOMIC_RELAXED);
		uint64_t one = 1;
		if (write(best->bell, &one, sizeof(one)) < 0)
			continue;
	}
	return NULL;
}

/* the listening socket, the workers and the acceptor; -1 with the reason printed */
static int listen_start(const struct sockaddr_in *addr)
{
	const struct server_opts *o = S.o;
	int one = 1;

	listen_fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (listen_fd < 0 || setsockopt(listen_fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) ||
	    bind(listen_fd, (const struct sockaddr *)addr, sizeof(*addr)) ||
	    listen(listen_fd, 1024)) {
		error("cannot listen on %s:%d: %s: is the port in use? (pick "
			"another with --port)", o->bind, o->port, strerror(errno));
		return -1;
	}
	for (nworkers = 0; nworkers < o->threads && nworkers < MAX_WORKERS; nworkers++) {
		struct worker *w = &workers[nworkers];
		memset(w, 0, sizeof(*w));
		w->id = nworkers;
		w->asks_tail = &w->asks;
		w->sent_tail = &w->sent;
		w->want_redis = o->redis_host != NULL;
		pthread_mutex_init(&w->lock, NULL);
		w->ep = epoll_create1(EPOLL_CLOEXEC);
		w->bell = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
		w->d = MHD_start_daemon(
			MHD_USE_EPOLL | MHD_USE_NO_LISTEN_SOCKET | MHD_USE_TURBO |
			MHD_ALLOW_SUSPEND_RESUME | MHD_USE_ERROR_LOG,
			0, NULL, NULL, on_request, NULL,
			MHD_OPTION_CONNECTION_LIMIT, (unsigned)o->max_connections,
			MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)o->idle_timeout_s,
			MHD_OPTION_CONNECTION_MEMORY_LIMIT, o->max_header,
			MHD_OPTION_URI_LOG_CALLBACK, on_uri, NULL,
			MHD_OPTION_NOTIFY_COMPLETED, on_done, NULL,
			MHD_OPTION_NOTIFY_CONNECTION, on_connection, &w->conns,
			MHD_OPTION_END);
		if (w->ep < 0 || w->bell < 0 || !w->d) {
			error("cannot start HTTP worker %d: %s", nworkers + 1,
				strerror(errno));
			nworkers++;	/* workers_stop releases it */
			return -1;
		}
	}
	/* connect them before the first request rather than on it */
	workers_connect_redis();
	for (int i = 0; i < nworkers; i++) {
		if (pthread_create(&workers[i].th, NULL, worker_loop, &workers[i])) {
			error("cannot start HTTP worker %d: %s", i + 1,
				strerror(errno));
			return -1;
		}
		workers[i].started = 1;
	}
	if (pthread_create(&acceptor_th, NULL, acceptor, NULL)) {
		error("cannot start the acceptor thread: %s", strerror(errno));
		return -1;
	}
	have_acceptor = 1;
	return 0;
}

/* no new connections, the workers' loops ended (what waits on Redis answered), MHD stopped */
static void workers_stop(void)
{
	__atomic_store_n(&S.stop_workers, 1, __ATOMIC_RELEASE);
	if (have_acceptor)
		pthread_join(acceptor_th, NULL);
	have_acceptor = 0;
	if (listen_fd >= 0)
		close(listen_fd);
	listen_fd = -1;
	for (int i = 0; i < nworkers; i++) {
		struct worker *w = &workers[i];
		if (w->started)
			pthread_join(w->th, NULL);
		for (int f = 0; f < w->nfds; f++)
			close(w->fds[f]);
		if (w->d)
			MHD_stop_daemon(w->d);
		redis_close(w->redis);
		redis_close(w->fresh);
		if (w->ep >= 0)
			close(w->ep);
		if (w->bell >= 0)
			close(w->bell);
		pthread_mutex_destroy(&w->lock);
	}
	nworkers = 0;
}

/* the dataset NAME|DIR names (as 'pancake data' does); -1 with the reason printed */
static int read_dataset(const char *arg, struct dataset *ds)
{
	struct buf err = BUF_INIT;
	char *name = NULL, *dir = catalog_resolve(arg, &name);
	int ret = -1;

	dataset_init(ds);
	if (!dir)
		error("no dataset '%s' (the ratings the model was trained on): "
			"name its folder with --data", arg);
	else if (dataset_read(ds, dir, DS_AUTO, DS_SKIP, NULL, &err))
		error("%s", err.s);
	else
		ret = 0;
	free(dir);
	free(name);
	buf_release(&err);
	return ret;
}

int server_run(const struct server_opts *o)
{
	struct buf err = BUF_INIT;
	pthread_t tick;
	int ret = 1, have_tick = 0, announced = 0;
	char *name = NULL;

	memset(&S, 0, sizeof(S));
	S.o = o;
	pthread_mutex_init(&S.lock, NULL);
	pthread_mutex_init(&S.kafka_lock, NULL);
	openblas_set_num_threads(1);
	variant_redis(o->redis_host ? &o->redis_addrs : NULL);
	snprintf(S.instance, sizeof(S.instance), "%08x",
		 (unsigned)(wall_ms() ^ (getpid() * 2654435761u)));
	bandit_init(&S.bandit, o->policy, o->epsilon, (uint64_t)wall_ms());
	for (int i = 0; i < o->nvariants; i++)
		bandit_add(&S.bandit, o->names[i], o->weights[i]);
	ledger_init(&S.ledger, 1 << 20, (int64_t)(o->window_s * 1000), on_closed, NULL);

	/* the dataset: what users rated, and the popular items */
	dataset_init(&S.ds);
	if (o->data && !strcmp(o->data, "none")) {
		/* no files (a container): lists come from Redis, popular items too */
	} else if (o->data) {
		name = xstrdup(o->data);
	} else {
		/* the first model says which dataset it was trained on */
		struct variant probe;
		struct dataset none;
		dataset_init(&none);
		if (variant_load(&probe, o->names[0], o->revs[0], o->registry, &none, &err)) {
			error("%s", err.s);
			goto out;
		}
		name = xstrdup(probe.m.dataset);
		variant_release(&probe);
	}
	if (name && read_dataset(name, &S.ds))
		goto out;
	if (state_reload(1, &err)) {
		if (!o->wait_for_model) {
			error("%s", err.s);
			goto out;
		}
		/* up and ready for traffic; the ticker loads the model when it appears */
		fprintf(stderr, "serving: waiting for a model: %s\n", err.s);
		pthread_mutex_lock(&S.lock);
		snprintf(S.waiting, sizeof(S.waiting), "%s", err.s);
		S.waiting_at = clock_s();
		pthread_mutex_unlock(&S.lock);
		buf_reset(&err);
	}
	if (o->kafka) {
		/* a full queue (kafka down a long while) drops events, never stalls a request */
		struct kafka_producer_opts ko = { .timeout_ms = 5000, .linger_ms = 5,
						  .delivery_timeout_ms = 30000, .queue_wait_ms = -1,
						  .client_id = "pancake-serving" };
		S.imp = kafka_producer_new(o->kafka, &ko, &err);
		S.fb = S.imp ? kafka_producer_new(o->kafka, &ko, &err) : NULL;
		if (!S.imp || !S.fb) {
			error("%s", err.s);
			goto out;
		}
		/* the producer never auto-creates topics: make them, or say why not */
		if (ensure_topics(&err)) {
			fprintf(stderr, "serving: warning: %s: impressions and feedback wait in the "
				"producer's queue until kafka answers (the background tries again)\n",
				err.s);
			buf_reset(&err);
		}
	}

	sig_catch(on_signal, 1);	/* SIGHUP: reload */
	signal(SIGPIPE, SIG_IGN);

	struct sockaddr_in addr;
	memset(&addr, 0, sizeof(addr));
	addr.sin_family = AF_INET;
	addr.sin_port = htons((uint16_t)o->port);
	if (inet_pton(AF_INET, o->bind, &addr.sin_addr) != 1) {
		error("--bind '%s' is not an IPv4 address", o->bind);
		goto out;
	}
	if (o->cache_ms > 0)
		cache = xcalloc((size_t)1 << CACHE_BITS, sizeof(*cache));
	if (listen_start(&addr))
		goto out;
	/* found by the launcher and `pancake serving` while it listens */
	if (servingloc_announce(o->bind, o->port, &err) == 0)
		announced = 1;
	else if (!o->quiet)
		fprintf(stderr, "serving: warning: %s: the launcher will not list this serving\n",
			err.s);
	buf_reset(&err);
	if (pthread_create(&tick, NULL, ticker, NULL) == 0)
		have_tick = 1;
	{
		struct state *st = state_get();
		if (!o->quiet)
			fprintf(stderr, "ready: serving on http://%s:%d with %d variant(s) (%s), first "
				"model %s, redis %s, kafka %s\n", o->bind, o->port, o->nvariants,
				bandit_policy_name(o->policy), st ? st->v[0].version : "(waiting)",
				o->redis_host ? "on" : "off", o->kafka ? "on" : "off");
		state_put(st);
	}
	while (!S.stop)
		pause();

	/* leave: readyz says 503 while the rest is answered, for balancers to notice */
	if (o->drain_grace_s > 0) {
		S.leaving = 1;
		if (!o->quiet)
			fprintf(stderr, "leaving: /readyz answers 503, requests are answered for "
				"%.1f s more\n", o->drain_grace_s);
		double grace_end = clock_s() + o->drain_grace_s;
		while (clock_s() < grace_end)
			usleep(20 * 1000);
	}
	/* drain: readyz says 503, in-flight requests finish, then close */
	S.draining = 1;
	double until = clock_s() + 10;
	while (__atomic_load_n(&S.inflight, __ATOMIC_RELAXED) > 0 && clock_s() < until)
		usleep(10 * 1000);
	ret = 0;
out:
	if (announced)
		servingloc_withdraw();
	S.stop = 1;
	if (have_tick)
		pthread_join(tick, NULL);
	workers_stop();
	free(cache);
	cache = NULL;
	if (S.imp) {
		kafka_producer_flush(S.imp, 2000, &err);
		kafka_producer_free(S.imp);
	}
	if (S.fb) {
		kafka_producer_flush(S.fb, 2000, &err);
		kafka_producer_free(S.fb);
	}
	if (S.cur)
		state_put(S.cur);
	ledger_release(&S.ledger);
	bandit_release(&S.bandit);
	dataset_release(&S.ds);
	variant_redis(NULL);
	free(name);
	buf_release(&err);
	return ret;
}
