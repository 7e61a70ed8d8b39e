/* ledger: a ring of served requests in time order, closed oldest first. */
#include <stdlib.h>
#include <string.h>

#include "ledger.h"
#include "util/xalloc.h"

void ledger_init(struct ledger *l, uint64_t cap, int64_t window_ms, ledger_closed_fn fn,
		 void *ctx)
{
	memset(l, 0, sizeof(*l));
	l->cap = cap ? cap : 1;
	l->ring = xcalloc(l->cap, sizeof(*l->ring));
	l->next = l->oldest = 1;
	l->window_ms = window_ms;
	l->closed = fn;
	l->ctx = ctx;
	pthread_mutex_init(&l->lock, NULL);
}

void ledger_release(struct ledger *l)
{
	free(l->ring);
	pthread_mutex_destroy(&l->lock);
	memset(l, 0, sizeof(*l));
}

/* closes the oldest entry (under the lock) */
static void close_oldest(struct ledger *l)
{
	struct ledger_entry *e = &l->ring[l->oldest % l->cap];
	if (e->seq == l->oldest && e->state == LEDGER_OPEN && l->closed)
		l->closed(e->arm, l->ctx);
	l->oldest++;
}

uint64_t ledger_open(struct ledger *l, int arm, int64_t now_ms)
{
	pthread_mutex_lock(&l->lock);
	/* full: the oldest window closes early, as no reward */
	if (l->next - l->oldest >= l->cap)
		close_oldest(l);
	uint64_t seq = l->next++;
	struct ledger_entry *e = &l->ring[seq % l->cap];
	e->seq = seq;
	e->t_ms = now_ms;
	e->arm = arm;
	e->state = LEDGER_OPEN;
	pthread_mutex_unlock(&l->lock);
	return seq;
}

int ledger_feedback(struct ledger *l, uint64_t seq, int64_t now_ms, int *arm)
{
	int ret;

	pthread_mutex_lock(&l->lock);
	struct ledger_entry *e = &l->ring[seq % l->cap];
	if (seq == 0 || seq >= l->next || e->seq != seq)
		ret = LEDGER_UNKNOWN;
	else if (e->state == LEDGER_DONE)
		ret = LEDGER_DUPLICATE;
	else if (seq < l->oldest || now_ms - e->t_ms > l->window_ms)
		ret = LEDGER_EXPIRED;
	else {
		e->state = LEDGER_DONE;
		*arm = e->arm;
		ret = LEDGER_OK;
	}
	pthread_mutex_unlock(&l->lock);
	return ret;
}

uint64_t ledger_expire(struct ledger *l, int64_t now_ms)
{
	uint64_t n = 0;

	pthread_mutex_lock(&l->lock);
	while (l->oldest < l->next) {
		struct ledger_entry *e = &l->ring[l->oldest % l->cap];
		if (now_ms - e->t_ms <= l->window_ms)
			break;
		close_oldest(l);
		n++;
	}
	pthread_mutex_unlock(&l->lock);
	return n;
}

uint64_t ledger_open_count(struct ledger *l)
{
	pthread_mutex_lock(&l->lock);
	uint64_t n = l->next - l->oldest;
	pthread_mutex_unlock(&l->lock);
	return n;
}
