/*
 * ledger: which arm served which request, so feedback can be attributed
 * by request id within a window. Request ids are sequence numbers, and
 * the sequence number names the ring slot: no hash table. A window that
 * closes without feedback is reported as no reward. Thread-safe.
 */
#ifndef PANCAKE_LEDGER_H
#define PANCAKE_LEDGER_H

#include <pthread.h>
#include <stdint.h>

struct ledger_entry {
	uint64_t seq;		/* 0: never used */
	int64_t t_ms;		/* when the request was served */
	int arm;
	int state;		/* LEDGER_OPEN or LEDGER_DONE */
};

enum { LEDGER_OPEN = 1, LEDGER_DONE = 2 };

/* what ledger_feedback says */
enum ledger_status {
	LEDGER_OK = 0,
	LEDGER_UNKNOWN = -1,	/* never served, or so old its slot was reused */
	LEDGER_EXPIRED = -2,	/* its window closed */
	LEDGER_DUPLICATE = -3,	/* feedback already attributed */
};

/* called with the arm of each request whose window closed without feedback */
typedef void (*ledger_closed_fn)(int arm, void *ctx);

struct ledger {
	struct ledger_entry *ring;
	uint64_t cap;		/* slots: requests that can be open at once */
	uint64_t next;		/* the next sequence number (starts at 1) */
	uint64_t oldest;	/* the oldest sequence number not yet closed */
	int64_t window_ms;
	ledger_closed_fn closed;
	void *ctx;
	pthread_mutex_t lock;
};

void ledger_init(struct ledger *l, uint64_t cap, int64_t window_ms, ledger_closed_fn fn,
		 void *ctx);
void ledger_release(struct ledger *l);
/* records a served request; returns its sequence number (its request id) */
uint64_t ledger_open(struct ledger *l, int arm, int64_t now_ms);
/* attributes feedback to request `seq`: LEDGER_OK with *arm, or why not */
int ledger_feedback(struct ledger *l, uint64_t seq, int64_t now_ms, int *arm);
/* closes every window older than now - window_ms; returns how many */
uint64_t ledger_expire(struct ledger *l, int64_t now_ms);
/* requests waiting for feedback */
uint64_t ledger_open_count(struct ledger *l);

#endif
