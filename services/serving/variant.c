/* variant: a model in memory and what answering with it needs. */
#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <cblas.h>

#include "clients/redis.h"
#include "core/rated.h"
#include "model/keys.h"
#include "model/registry.h"
#include "model/topk.h"
#include "variant.h"
#include "util/xalloc.h"

/* the Redis servers (a primary and its replicas): the nearest that answers is asked */
static struct redis_addrs redis_at;
static const char *redis_host;   /* the first, for messages; NULL: no Redis */
static int redis_port;

void variant_redis(const struct redis_addrs *a)
{
	if (a && a->n) {
		redis_at = *a;
		redis_host = redis_at.host[0];
		redis_port = redis_at.port[0];
	} else {
		memset(&redis_at, 0, sizeof(redis_at));
		redis_host = NULL;
		redis_port = 0;
	}
}

/* "redis:current" or "redis:VERSION": the version it names now, into out[13] */
static int redis_version(const char *rev, char *out, struct buf *err)
{
	struct redis_conn *c = NULL;
	struct buf v = BUF_INIT;
	const char *what = rev + 6;
	int ret = -1;

	if (strcmp(what, "current")) {
		size_t n = strlen(what);
		if (n != 12 || strspn(what, "0123456789abcdef") != 12) {
			buf_addf(err, "'%s' names no model: use redis:current or redis:VERSION (12 hex "
				 "digits, as in pk:rec:VERSION:*)", rev);
			return -1;
		}
		memcpy(out, what, 13);
		return 0;
	}
	if (!redis_host) {
		buf_addf(err, "'%s' needs redis: leave out --no-redis", rev);
		return -1;
	}
	if (redis_connect_nearest(&c, &redis_at, 2000, 0, NULL, err))
		return -1;
	int r = redis_get(c, KEYS_CURRENT, &v, err);
	if (r == 1)
		buf_addf(err, "no model is published in redis at %s:%d (%s is not set): run "
			 "'recommender publish MODEL'", redis_host, redis_port, KEYS_CURRENT);
	else if (r == 0 && (v.len != 12 || strspn(v.s, "0123456789abcdef") != 12))
		buf_addf(err, "%s in redis is '%.40s', not a model version", KEYS_CURRENT, v.s);
	else if (r == 0) {
		memcpy(out, v.s, 13);
		ret = 0;
	}
	redis_close(c);
	buf_release(&v);
	return ret;
}

static int redis_model(struct variant *v, struct buf *err)
{
	struct redis_conn *c = NULL;
	struct buf bytes = BUF_INIT, label = BUF_INIT;
	char key[64];
	int ret = -1;

	if (!redis_host) {
		buf_addf(err, "'%s' needs redis: leave out --no-redis", v->rev);
		return -1;
	}
	keys_rec_model(key, sizeof(key), v->commit);
	if (redis_connect_nearest(&c, &redis_at, 10000, 0, NULL, err))
		return -1;
	int r = redis_get(c, key, &bytes, err);
	if (r == 1)
		buf_addf(err, "redis at %s:%d has no %s: model %s is not published there ('recommender "
			 "publish MODEL' stores it)", redis_host, redis_port, key, v->commit);
	else if (r == 0) {
		buf_addf(&label, "%s in redis", key);
		ret = model_decode(&v->m, bytes.s, bytes.len, label.s, err);
	}
	redis_close(c);
	buf_release(&bytes);
	buf_release(&label);
	return ret;
}

int variant_resolve(const char *rev, const char *registry, char commit[41], struct buf *err)
{
	struct stat st;

	if (!strncmp(rev, "redis:", 6))
		return redis_version(rev, commit, err);
	struct registry *r = NULL;
	struct registry_entry e;
	struct buf why = BUF_INIT;
	int ret, found = stat(rev, &st) == 0, file_errno = errno;

	commit[0] = '\0';
	if (found && S_ISREG(st.st_mode))
		return 0;
	/* a path ('/' or '.') is never a registry revision: say what the file is not */
	if (found || strpbrk(rev, "/.")) {
		if (found)
			buf_addf(err, "'%s' is not a model file: it is a %s", rev,
				 S_ISDIR(st.st_mode) ? "directory" : "special file");
		else
			buf_addf(err, "no model file '%s': %c%s", rev,
				 tolower((unsigned char)strerror(file_errno)[0]), strerror(file_errno) + 1);
		return -1;
	}
	memset(&e, 0, sizeof(e));
	if ((ret = registry_open(&r, registry, 0, &why)) == 0 &&
	    (ret = registry_show(r, rev, &e, &why)) == 0)
		memcpy(commit, e.id, 41);
	if (ret)
		buf_addf(err, "%s (nor is there a model file '%s' here)", why.s, rev);
	registry_entry_release(&e);
	if (r)
		registry_close(r);
	buf_release(&why);
	return ret ? -1 : 0;
}

static int load_model(struct variant *v, const char *rev, const char *registry,
		      struct buf *err)
{
	struct registry *r = NULL;
	struct buf bytes = BUF_INIT, label = BUF_INIT;
	struct stat st;
	int ret = -1;

	if (!strncmp(rev, "redis:", 6))
		return redis_model(v, err);
	if (stat(rev, &st) == 0 && S_ISREG(st.st_mode))
		return model_load(&v->m, rev, err);
	if (registry_open(&r, registry, 0, err) || registry_model(r, v->commit, &bytes, err))
		goto out;
	buf_addf(&label, "%s (%.12s in the registry at %s)", rev, v->commit, registry);
	ret = model_decode(&v->m, bytes.s, bytes.len, label.s, err);
out:
	if (r)
		registry_close(r);
	buf_release(&bytes);
	buf_release(&label);
	return ret;
}

static int by_count(const void *a, const void *b)
{
	const uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
	return (x < y) - (x > y);
}

int variant_load(struct variant *v, const char *name, const char *rev, const char *registry,
		 const struct dataset *ds, struct buf *err)
{
	uint64_t unknown;

	memset(v, 0, sizeof(*v));
	snprintf(v->name, sizeof(v->name), "%s", name);
	snprintf(v->rev, sizeof(v->rev), "%s", rev);
	if (variant_resolve(rev, registry, v->commit, err) || load_model(v, rev, registry, err))
		return -1;
	model_version(&v->m, v->version);
	rated_build(&v->m, ds, &v->rated, &unknown);
	v->unit = topk_unit_items(&v->m);
	v->item_t = xmalloc(sizeof(float) * ((size_t)v->m.nitems * v->m.rank + 1));
	for (uint32_t i = 0; i < v->m.nitems; i++)
		for (uint32_t a = 0; a < v->m.rank; a++)
			v->item_t[(size_t)a * v->m.nitems + i] = v->m.item_factors[(size_t)i * v->m.rank + a];

	/* no ratings here (a container): the popularity 'data load' kept in Redis */
	if (ds->nratings == 0 && redis_host) {
		struct redis_conn *c = NULL;
		struct buf e2 = BUF_INIT;
		char key[128];
		keys_data_popular(key, sizeof(key), v->m.dataset);
		if (redis_connect_nearest(&c, &redis_at, 2000, 0, NULL, &e2) == 0)
			redis_ztop(c, key, VARIANT_POPULAR, v->popular, v->popular_score, &v->npopular,
				   &e2);
		redis_close(c);
		buf_release(&e2);
		return 0;
	}
	/* the most rated items: count << 32 | index, sorted descending */
	uint32_t *cnt = xcalloc(v->m.nitems + 1, sizeof(uint32_t));
	for (uint64_t e = 0; e < csr_nnz(&v->rated); e++)
		cnt[v->rated.idx[e]]++;
	uint64_t *order = xmalloc(sizeof(uint64_t) * (v->m.nitems + 1));
	for (uint32_t i = 0; i < v->m.nitems; i++)
		order[i] = (uint64_t)cnt[i] << 32 | (UINT32_MAX - i);
	qsort(order, v->m.nitems, sizeof(uint64_t), by_count);
	for (uint32_t j = 0; j < v->m.nitems && j < VARIANT_POPULAR; j++) {
		uint32_t i = UINT32_MAX - (uint32_t)(order[j] & UINT32_MAX);
		v->popular[j] = v->m.item_ids[i];
		v->popular_score[j] = (float)(order[j] >> 32);
		v->npopular++;
	}
	free(order);
	free(cnt);
	return 0;
}

void variant_release(struct variant *v)
{
	model_release(&v->m);
	csr_release(&v->rated);
	free(v->unit);
	free(v->item_t);
	memset(v, 0, sizeof(*v));
}

/* per-thread scratch, grown to the largest model seen */
static __thread float *tl_scores;
static __thread uint8_t *tl_mask;
static __thread uint32_t tl_size, *tl_top;
static __thread float *tl_best;

static void scratch(uint32_t nitems)
{
	if (nitems + 1 <= tl_size)
		return;
	free(tl_scores);
	free(tl_mask);
	free(tl_top);
	free(tl_best);
	tl_size = nitems + 1;
	tl_scores = xmalloc(sizeof(float) * tl_size);
	tl_mask = xcalloc(tl_size, 1);
	tl_top = xmalloc(sizeof(uint32_t) * 1024);
	tl_best = xmalloc(sizeof(float) * 1024);
}

void variant_thread_release(void)
{
	free(tl_scores);
	free(tl_mask);
	free(tl_top);
	free(tl_best);
	tl_scores = tl_best = NULL;
	tl_mask = NULL;
	tl_top = NULL;
	tl_size = 0;
}

static int select_top(const struct variant *v, int k, uint32_t *ids, float *scores)
{
	int n = topk_select(tl_scores, v->m.nitems, tl_mask, k > 1000 ? 1000 : k, tl_top, tl_best);
	for (int j = 0; j < n; j++) {
		ids[j] = v->m.item_ids[tl_top[j]];
		scores[j] = tl_best[j];
	}
	return n;
}

/* marks (on 1) or clears (0) what model user u rated and the item ids `also` in tl_mask */
static void leave_out(const struct variant *v, int64_t u, const uint32_t *also, size_t nalso,
		      uint8_t on)
{
	if (csr_nnz(&v->rated) > 0)
		for (uint64_t e = v->rated.ptr[u]; e < v->rated.ptr[u + 1]; e++)
			tl_mask[v->rated.idx[e]] = on;
	for (size_t a = 0; a < nalso; a++) {
		int64_t i = model_item_index(&v->m, also[a]);
		if (i >= 0)
			tl_mask[i] = on;
	}
}

int variant_recommend(const struct variant *v, uint32_t user, int k, const uint32_t *also,
		      size_t nalso, uint32_t *ids, float *scores)
{
	const struct model *m = &v->m;
	int64_t u = model_user_index(m, user);

	if (u < 0)
		return -1;
	/*
	 * scores = biases + sum_a x[a] * Y^T[a]: contiguous axpys over the
	 * items, which the compiler vectorises. For ranks of 10 to 64 this ran
	 * faster than OpenBLAS's sgemv on the row-major factors (short rows).
	 */
	const float *x = m->user_factors + (size_t)u * m->rank;
	float *sc = tl_scores;
	scratch(m->nitems);
	sc = tl_scores;
	if (m->flags & MODEL_BIASES) {
		float c = m->mean + m->user_bias[u];
		for (uint32_t i = 0; i < m->nitems; i++)
			sc[i] = c + m->item_bias[i];
	} else {
		memset(sc, 0, sizeof(float) * m->nitems);
	}
	for (uint32_t a = 0; a < m->rank; a++) {
		const float *col = v->item_t + (size_t)a * m->nitems;
		float xa = x[a];
		for (uint32_t i = 0; i < m->nitems; i++)
			sc[i] += xa * col[i];
	}
	leave_out(v, u, also, nalso, 1);
	int n = select_top(v, k, ids, scores);
	leave_out(v, u, also, nalso, 0);
	return n;
}

int variant_knows_rated(const struct variant *v)
{
	return csr_nnz(&v->rated) > 0;
}

int variant_similar(const struct variant *v, uint32_t item, int k, uint32_t *ids, float *scores)
{
	const struct model *m = &v->m;
	int64_t i = model_item_index(m, item);

	if (i < 0)
		return -1;
	scratch(m->nitems);
	cblas_sgemv(CblasRowMajor, CblasNoTrans, (int)m->nitems, (int)m->rank, 1.0f, v->unit,
		    (int)m->rank, v->unit + (size_t)i * m->rank, 1, 0.0f, tl_scores, 1);
	tl_mask[i] = 1;
	int n = select_top(v, k, ids, scores);
	tl_mask[i] = 0;
	return n;
}

int variant_popular(const struct variant *v, int k, uint32_t *ids, float *scores)
{
	int n = k < v->npopular ? k : v->npopular;
	memcpy(ids, v->popular, sizeof(uint32_t) * (size_t)n);
	memcpy(scores, v->popular_score, sizeof(float) * (size_t)n);
	return n;
}
