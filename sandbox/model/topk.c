/*
 * topk: blocks of BLOCK queries are scored against every target with one
 * sgemm (BLAS single-threaded, one block per worker), then each row keeps
 * its best k in a min-heap. Ties go to the lower target index, so results
 * do not depend on the thread count.
 */
#include <math.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include <cblas.h>
#if defined(__SSE3__) || defined(__x86_64__)
#include <pmmintrin.h>
#include <xmmintrin.h>
#endif

#include "model/topk.h"
#include "util/xalloc.h"

#define BLOCK 64

/* a before b in the final order: higher score, then lower index */
static int better(float sa, uint32_t ia, float sb, uint32_t ib)
{
	return sa > sb || (sa == sb && ia < ib);
}

static void sift_down(float *s, uint32_t *id, int n, int i)
{
	for (;;) {
		int l = 2 * i + 1, r = l + 1, w = i;
		/* the heap's root is the worst kept */
		if (l < n && better(s[w], id[w], s[l], id[l]))
			w = l;
		if (r < n && better(s[w], id[w], s[r], id[r]))
			w = r;
		if (w == i)
			return;
		float ts = s[i]; s[i] = s[w]; s[w] = ts;
		uint32_t ti = id[i]; id[i] = id[w]; id[w] = ti;
		i = w;
	}
}

int topk_select(const float *scores, uint32_t nt, const uint8_t *mask, int k,
		uint32_t *targets, float *best)
{
	int n = 0;

	if (k <= 0)
		return 0;
	for (uint32_t t = 0; t < nt; t++) {
		float s = scores[t];
		/* most targets lose to the worst kept: one compare (NaN falls through) */
		if (n == k && s < best[0])
			continue;
		if ((mask && mask[t]) || isnan(s))
			continue;
		if (n < k) {
			/* grow the heap: sift up */
			int i = n++;
			best[i] = s;
			targets[i] = t;
			while (i > 0) {
				int p = (i - 1) / 2;
				if (!better(best[p], targets[p], best[i], targets[i]))
					break;
				float ts = best[i]; best[i] = best[p]; best[p] = ts;
				uint32_t ti = targets[i]; targets[i] = targets[p]; targets[p] = ti;
				i = p;
			}
		} else if (better(s, t, best[0], targets[0])) {
			best[0] = s;
			targets[0] = t;
			sift_down(best, targets, n, 0);
		}
	}
	/* heap sort: pop the worst to the end */
	for (int end = n - 1; end > 0; end--) {
		float ts = best[0]; best[0] = best[end]; best[end] = ts;
		uint32_t ti = targets[0]; targets[0] = targets[end]; targets[end] = ti;
		sift_down(best, targets, end, 0);
	}
	return n;
}

struct run {
	const struct topk_query *q;
	int k;
	topk_fn fn;
	void *ctx;
	uint32_t next;			/* next block (atomic) */
	int stop;			/* under lock */
	pthread_mutex_t lock;
};

static void *worker(void *arg)
{
	struct run *r = arg;
	const struct topk_query *q = r->q;
	float *scores = xmalloc(sizeof(float) * BLOCK * (size_t)(q->nt ? q->nt : 1));
	uint8_t *mask = xcalloc(q->nt ? q->nt : 1, 1);
	uint32_t *ids = xmalloc(sizeof(uint32_t) * (size_t)r->k);
	float *best = xmalloc(sizeof(float) * (size_t)r->k);

	topk_flush_denormals();

	for (;;) {
		uint32_t b0 = __atomic_fetch_add(&r->next, BLOCK, __ATOMIC_RELAXED);
		if (b0 >= q->nq || __atomic_load_n(&r->stop, __ATOMIC_RELAXED))
			break;
		uint32_t b1 = b0 + BLOCK < q->nq ? b0 + BLOCK : q->nq;
		int rows = (int)(b1 - b0);
		cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, rows, (int)q->nt, q->rank,
			    1.0f, q->q + (size_t)b0 * q->rank, q->rank, q->t, q->rank, 0.0f,
			    scores, (int)q->nt);
		for (uint32_t u = b0; u < b1; u++) {
			float *s = scores + (size_t)(u - b0) * q->nt;
			if (q->only && !q->only[u])
				continue;
			float add = q->offset + (q->qbias ? q->qbias[u] : 0);
			if (add != 0 || q->tbias)
				for (uint32_t t = 0; t < q->nt; t++)
					s[t] += add + (q->tbias ? q->tbias[t] : 0);
			if (q->exclude)
				for (uint64_t e = q->exclude->ptr[u]; e < q->exclude->ptr[u + 1]; e++)
					mask[q->exclude->idx[e]] = 1;
			if (q->exclude_self && u < q->nt)
				mask[u] = 1;
			int n = topk_select(s, q->nt, mask, r->k, ids, best);
			if (q->exclude)
				for (uint64_t e = q->exclude->ptr[u]; e < q->exclude->ptr[u + 1]; e++)
					mask[q->exclude->idx[e]] = 0;
			if (q->exclude_self && u < q->nt)
				mask[u] = 0;
			pthread_mutex_lock(&r->lock);
			if (!r->stop)
				r->stop = r->fn(u, ids, best, n, r->ctx);
			pthread_mutex_unlock(&r->lock);
		}
	}
	free(best);
	free(ids);
	free(mask);
	free(scores);
	return NULL;
}

int topk_run(const struct topk_query *q, int k, int threads, topk_fn fn, void *ctx)
{
	struct run r = { .q = q, .k = k, .fn = fn, .ctx = ctx };
	pthread_t tid[256];
	int started = 0;

	if (k <= 0 || q->nq == 0)
		return 0;
	if (threads > 256)
		threads = 256;
	pthread_mutex_init(&r.lock, NULL);
	for (int i = 1; i < threads; i++) {
		if (pthread_create(&tid[i], NULL, worker, &r))
			break;
		started = i;
	}
	worker(&r);
	for (int i = 1; i <= started; i++)
		pthread_join(tid[i], NULL);
	pthread_mutex_destroy(&r.lock);
	return r.stop;
}

void topk_flush_denormals(void)
{
#if defined(__SSE3__) || defined(__x86_64__)
	/*
	 * Factors that shrink towards zero turn denormal, and x86 computes on
	 * denormals dozens of times slower: an iteration took twice as long as
	 * the one before. Flush them to zero in every thread that solves.
	 */
	_MM_SET_FLUSH_ZERO_MODE(_MM_FLUSH_ZERO_ON);
	_MM_SET_DENORMALS_ZERO_MODE(_MM_DENORMALS_ZERO_ON);
#endif
}

float *topk_unit_items(const struct model *m)
{
	size_t k = m->rank;
	float *y = xmalloc(sizeof(float) * (m->nitems * k + 1));

	for (uint32_t i = 0; i < m->nitems; i++) {
		const float *src = m->item_factors + i * k;
		double norm = 0;
		for (size_t a = 0; a < k; a++)
			norm += (double)src[a] * src[a];
		norm = sqrt(norm);
		for (size_t a = 0; a < k; a++)
			y[i * k + a] = norm > 0 ? (float)(src[a] / norm) : 0;
	}
	return y;
}
