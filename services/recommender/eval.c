/*
 * eval: splits, the dense training set, and the metrics. Ranking metrics
 * score every item for each evaluated user (topk in blocks) and compare
 * the top k with the user's relevant held-out items.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "eval.h"
#include "model/topk.h"
#include "util/rand.h"
#include "util/xalloc.h"

int split_parse(struct split_spec *s, const char *arg, struct buf *err)
{
	char *end;
	const char *f;

	memset(s, 0, sizeof(*s));
	s->seed = 1;
	if (!strcmp(arg, "none"))
		return 0;
	if (!strncmp(arg, "random:", 7)) {
		s->kind = SPLIT_RANDOM;
		f = arg + 7;
	} else if (!strncmp(arg, "time:", 5)) {
		s->kind = SPLIT_TIME;
		f = arg + 5;
	} else {
		buf_addf(err, "unknown split '%s': use none, random:F or time:F "
			 "(F the share held out, e.g. random:0.2)", arg);
		return -1;
	}
	s->frac = strtod(f, &end);
	if (end == f || *end || !(s->frac > 0 && s->frac < 1)) {
		buf_addf(err, "split '%s': the share held out must be a number between 0 "
			 "and 1, e.g. %.*s0.2", arg, (int)(f - arg), arg);
		return -1;
	}
	return 0;
}

/* uniform in [0, 1) from (seed, user, item): the same in any order or tool */
static double pair_uniform(uint64_t seed, uint32_t user, uint32_t item)
{
	uint64_t h = mix64(mix64(seed) ^ ((uint64_t)user << 32 | item));
	return (h >> 11) / 9007199254740992.0;
}

struct by_time {
	uint32_t ts;
	size_t e;
};

static int by_time_cmp(const void *a, const void *b)
{
	const struct by_time *x = a, *y = b;
	if (x->ts != y->ts)
		return (x->ts > y->ts) - (x->ts < y->ts);
	return (x->e > y->e) - (x->e < y->e);
}

void split_mark(const struct dataset *ds, const struct split_spec *s, uint8_t *marks)
{
	size_t n = ds->nratings;

	memset(marks, 0, n);
	if (s->kind == SPLIT_RANDOM) {
		for (size_t e = 0; e < n; e++)
			marks[e] = pair_uniform(s->seed, ds->ratings[e].user,
						ds->ratings[e].item) < s->frac;
		return;
	}
	if (s->kind != SPLIT_TIME)
		return;
	/* group by user (counting sort), then each user's latest ratings */
	size_t *start = xcalloc((size_t)ds->max_user + 2, sizeof(size_t));
	struct by_time *t = xmalloc((n ? n : 1) * sizeof(*t));
	for (size_t e = 0; e < n; e++)
		start[ds->ratings[e].user + 1]++;
	for (uint32_t u = 0; u <= ds->max_user; u++)
		start[u + 1] += start[u];
	size_t *fill = xmalloc(((size_t)ds->max_user + 1) * sizeof(size_t));
	memcpy(fill, start, ((size_t)ds->max_user + 1) * sizeof(size_t));
	for (size_t e = 0; e < n; e++) {
		size_t at = fill[ds->ratings[e].user]++;
		t[at].ts = ds->ratings[e].ts;
		t[at].e = e;
	}
	for (uint32_t u = 0; u <= ds->max_user; u++) {
		size_t a = start[u], cnt = start[u + 1] - a;
		if (cnt < 2)
			continue;
		qsort(t + a, cnt, sizeof(*t), by_time_cmp);
		size_t hold = (size_t)ceil(cnt * s->frac);
		if (hold >= cnt)
			hold = cnt - 1;
		for (size_t j = cnt - hold; j < cnt; j++)
			marks[t[a + j].e] = 1;
	}
	free(fill);
	free(t);
	free(start);
}

static uint32_t *dense_ids(const uint8_t *seen, uint32_t max, uint32_t *n, uint32_t *map)
{
	uint32_t cnt = 0;
	for (uint32_t id = 0; id <= max; id++)
		cnt += seen[id];
	uint32_t *ids = xmalloc(sizeof(uint32_t) * (cnt ? cnt : 1));
	cnt = 0;
	for (uint32_t id = 0; id <= max; id++)
		if (seen[id]) {
			map[id] = cnt;
			ids[cnt++] = id;
		}
	*n = cnt;
	return ids;
}

void train_set_build(struct train_set *ts, const struct dataset *ds, const uint8_t *marks)
{
	uint8_t *useen = xcalloc((size_t)ds->max_user + 1, 1);
	uint8_t *iseen = xcalloc((size_t)ds->max_item + 1, 1);
	uint32_t *umap = xmalloc(((size_t)ds->max_user + 1) * sizeof(uint32_t));
	uint32_t *imap = xmalloc(((size_t)ds->max_item + 1) * sizeof(uint32_t));
	size_t ntest = 0;

	memset(ts, 0, sizeof(*ts));
	for (size_t e = 0; e < ds->nratings; e++) {
		useen[ds->ratings[e].user] = 1;
		iseen[ds->ratings[e].item] = 1;
		ntest += marks && marks[e];
	}
	ts->user_ids = dense_ids(useen, ds->max_user, &ts->nusers, umap);
	ts->item_ids = dense_ids(iseen, ds->max_item, &ts->nitems, imap);

	size_t ntrain = ds->nratings - ntest;
	struct triple *tr = xmalloc(sizeof(*tr) * (ntrain ? ntrain : 1));
	struct triple *te = xmalloc(sizeof(*te) * (ntest ? ntest : 1));
	size_t a = 0, b = 0;
	for (size_t e = 0; e < ds->nratings; e++) {
		const struct rating *r = &ds->ratings[e];
		struct triple t = { umap[r->user], imap[r->item], r->halves * 0.5f };
		if (marks && marks[e])
			te[b++] = t;
		else
			tr[a++] = t;
	}
	csr_build(&ts->train, ts->nusers, ts->nitems, tr, a);
	csr_transpose(&ts->train_t, &ts->train);
	csr_build(&ts->test, ts->nusers, ts->nitems, te, b);
	ts->ntest = b;
	free(te);
	free(tr);
	free(imap);
	free(umap);
	free(iseen);
	free(useen);
}

int64_t train_set_user(const struct train_set *ts, uint32_t id)
{
	return model_id_find(ts->user_ids, ts->nusers, id);
}

int64_t train_set_item(const struct train_set *ts, uint32_t id)
{
	return model_id_find(ts->item_ids, ts->nitems, id);
}

void train_set_release(struct train_set *ts)
{
	free(ts->user_ids);
	free(ts->item_ids);
	csr_release(&ts->train);
	csr_release(&ts->train_t);
	csr_release(&ts->test);
	memset(ts, 0, sizeof(*ts));
}

/* ---- metrics ---- */

void rank_metrics(const uint32_t *ranked, int n, const uint32_t *rel, int nrel, int k,
		  struct rank_metrics *out)
{
	int hits = 0;
	double dcg = 0, idcg = 0, ap = 0;

	memset(out, 0, sizeof(*out));
	if (nrel <= 0 || k <= 0)
		return;
	for (int j = 0; j < n && j < k; j++)
		if (model_id_find(rel, (uint32_t)nrel, ranked[j]) >= 0) {
			hits++;
			dcg += 1.0 / log2(j + 2.0);
			ap += (double)hits / (j + 1);
		}
	for (int j = 0; j < k && j < nrel; j++)
		idcg += 1.0 / log2(j + 2.0);
	out->precision = (double)hits / k;
	out->recall = (double)hits / nrel;
	out->ndcg = dcg / idcg;
	out->ap = ap / (k < nrel ? k : nrel);
}

static float predict(const struct model *m, uint32_t u, uint32_t i)
{
	const float *x = m->user_factors + (size_t)u * m->rank;
	const float *y = m->item_factors + (size_t)i * m->rank;
	float s = 0;
	for (uint32_t a = 0; a < m->rank; a++)
		s += x[a] * y[a];
	if (m->flags & MODEL_BIASES)
		s += m->mean + m->user_bias[u] + m->item_bias[i];
	return s;
}

void eval_ratings(const struct model *m, const struct train_set *ts, struct eval_result *r)
{
	const struct csr *t = &ts->test;
	double sq = 0, ab = 0;

	r->predicted = r->cold = 0;
	for (uint32_t u = 0; u < t->nrows; u++) {
		int ucold = ts->train.ptr[u + 1] == ts->train.ptr[u];
		for (uint64_t e = t->ptr[u]; e < t->ptr[u + 1]; e++) {
			uint32_t i = t->idx[e];
			if (ucold || ts->train_t.ptr[i + 1] == ts->train_t.ptr[i]) {
				r->cold++;
				continue;
			}
			double d = t->val[e] - predict(m, u, i);
			sq += d * d;
			ab += fabs(d);
			r->predicted++;
		}
	}
	r->rmse = r->predicted ? sqrt(sq / r->predicted) : 0;
	r->mae = r->predicted ? ab / r->predicted : 0;
}

struct rank_ctx {
	const struct train_set *ts;
	float relevant_min;
	int implicit, k;
	uint32_t *rel;
	double p, rc, nd, ap;
	uint64_t users;
};

static int relevant(const struct rank_ctx *c, uint32_t u, uint32_t *out)
{
	const struct csr *t = &c->ts->test;
	int n = 0;
	for (uint64_t e = t->ptr[u]; e < t->ptr[u + 1]; e++)
		if (c->implicit ? t->val[e] > 0 : t->val[e] >= c->relevant_min)
			out[n++] = t->idx[e];
	return n;
}

static int rank_one(uint32_t u, const uint32_t *items, const float *scores, int n, void *ctx)
{
	struct rank_ctx *c = ctx;
	struct rank_metrics rm;
	int nrel = relevant(c, u, c->rel);

	(void)scores;
	rank_metrics(items, n, c->rel, nrel, c->k, &rm);
	c->p += rm.precision;
	c->rc += rm.recall;
	c->nd += rm.ndcg;
	c->ap += rm.ap;
	c->users++;
	return 0;
}

void eval_ranking(const struct model *m, const struct train_set *ts, int k,
		  float relevant_min, uint32_t max_users, uint64_t seed, int threads,
		  struct eval_result *r)
{
	struct rank_ctx c = {
		.ts = ts, .relevant_min = relevant_min, .k = k,
		.implicit = (m->flags & MODEL_IMPLICIT) != 0,
	};
	uint8_t *only = xcalloc(ts->nusers ? ts->nusers : 1, 1);
	uint32_t maxrel = 0, cand = 0;

	for (uint32_t u = 0; u < ts->nusers; u++) {
		uint32_t n = (uint32_t)(ts->test.ptr[u + 1] - ts->test.ptr[u]);
		if (n > maxrel)
			maxrel = n;
	}
	c.rel = xmalloc(sizeof(uint32_t) * (maxrel + 1));
	for (uint32_t u = 0; u < ts->nusers; u++)
		if (ts->train.ptr[u + 1] > ts->train.ptr[u] && relevant(&c, u, c.rel) > 0) {
			only[u] = 1;
			cand++;
		}
	/* a sample of users, by hash, when there are more than asked for */
	if (max_users && cand > max_users) {
		double keep = (double)max_users / cand;
		for (uint32_t u = 0; u < ts->nusers; u++)
			if (only[u] && pair_uniform(seed ^ 0xe7a1ULL, ts->user_ids[u], 0) >= keep)
				only[u] = 0;
	}
	struct topk_query q = {
		.q = m->user_factors, .nq = m->nusers, .qbias = m->user_bias,
		.t = m->item_factors, .nt = m->nitems, .tbias = m->item_bias,
		.rank = (int)m->rank, .offset = (m->flags & MODEL_BIASES) ? m->mean : 0,
		.exclude = &ts->train, .only = only,
	};
	topk_run(&q, k, threads, rank_one, &c);
	r->k = k;
	r->users = c.users;
	r->precision = c.users ? c.p / c.users : 0;
	r->recall = c.users ? c.rc / c.users : 0;
	r->ndcg = c.users ? c.nd / c.users : 0;
	r->map = c.users ? c.ap / c.users : 0;
	free(c.rel);
	free(only);
}

void eval_baseline(struct model *b, const struct train_set *ts)
{
	const struct csr *u = &ts->train, *t = &ts->train_t;
	const double lu = 15, li = 10;	/* damping, in ratings (Koren 2009) */
	double sum = 0;

	model_alloc(b, 1, ts->nusers, ts->nitems, MODEL_BIASES);
	memcpy(b->user_ids, ts->user_ids, sizeof(uint32_t) * ts->nusers);
	memcpy(b->item_ids, ts->item_ids, sizeof(uint32_t) * ts->nitems);
	snprintf(b->solver, sizeof(b->solver), "baseline");
	for (uint64_t e = 0; e < csr_nnz(u); e++)
		sum += u->val[e];
	b->mean = csr_nnz(u) ? (float)(sum / csr_nnz(u)) : 0;
	for (int pass = 0; pass < 4; pass++) {
		for (uint32_t i = 0; i < t->nrows; i++) {
			double s = 0;
			for (uint64_t e = t->ptr[i]; e < t->ptr[i + 1]; e++)
				s += t->val[e] - b->mean - b->user_bias[t->idx[e]];
			b->item_bias[i] = (float)(s / (li + (t->ptr[i + 1] - t->ptr[i])));
		}
		for (uint32_t r = 0; r < u->nrows; r++) {
			double s = 0;
			for (uint64_t e = u->ptr[r]; e < u->ptr[r + 1]; e++)
				s += u->val[e] - b->mean - b->item_bias[u->idx[e]];
			b->user_bias[r] = (float)(s / (lu + (u->ptr[r + 1] - u->ptr[r])));
		}
	}
}
