/* publish: Redis keys of a published model and the list writes. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "publish.h"
#include "util/xalloc.h"

void publish_user_key(char *out, size_t size, const char *version, uint32_t user)
{
	snprintf(out, size, "pk:rec:%s:user:%u", version, user);
}

void publish_similar_key(char *out, size_t size, const char *version, uint32_t item)
{
	snprintf(out, size, "pk:rec:%s:similar:%u", version, item);
}

void publish_model_key(char *out, size_t size, const char *version)
{
	snprintf(out, size, "pk:rec:%s:model", version);
}

#define LIST_MAX 1000

int publish_list(struct redis_conn *c, const char *key, const uint32_t *items,
		 const float *scores, int n, struct buf *err)
{
	const char *multi[] = { "MULTI" }, *exec[] = { "EXEC" }, *del[] = { "DEL", key };
	const char *argv[2 + 2 * LIST_MAX];
	char num[LIST_MAX][2][24];
	int ret;

	if (n > LIST_MAX)
		n = LIST_MAX;
	argv[0] = "ZADD";
	argv[1] = key;
	for (int i = 0; i < n; i++) {
		snprintf(num[i][0], sizeof(num[i][0]), "%.7g", scores[i]);
		snprintf(num[i][1], sizeof(num[i][1]), "%u", items[i]);
		argv[2 + 2 * i] = num[i][0];
		argv[3 + 2 * i] = num[i][1];
	}
	if ((ret = redis_append(c, 1, multi, NULL, err)) ||
	    (ret = redis_append(c, 2, del, NULL, err)) ||
	    (n > 0 && (ret = redis_append(c, 2 + 2 * n, argv, NULL, err))) ||
	    (ret = redis_append(c, 1, exec, NULL, err)))
		return ret;
	return 0;
}

void publish_rated(const struct model *m, const struct dataset *ds, struct csr *out,
		   uint64_t *unknown)
{
	struct triple *t = xmalloc(sizeof(*t) * (ds->nratings ? ds->nratings : 1));
	size_t n = 0;

	*unknown = 0;
	for (size_t e = 0; e < ds->nratings; e++) {
		int64_t u = model_user_index(m, ds->ratings[e].user);
		int64_t i = model_item_index(m, ds->ratings[e].item);
		if (u < 0 || i < 0) {
			(*unknown)++;
			continue;
		}
		t[n++] = (struct triple){ (uint32_t)u, (uint32_t)i,
					  ds->ratings[e].halves * 0.5f };
	}
	csr_build(out, m->nusers, m->nitems, t, n);
	free(t);
}

float *publish_unit_items(const struct model *m)
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
