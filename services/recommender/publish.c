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

void publish_meta_key(char *out, size_t size, const char *version)
{
	snprintf(out, size, "pk:rec:%s:meta", version);
}

void publish_news_version(char *out, size_t size, const char *version, int current)
{
	snprintf(out, size, "%s %s", current ? "current" : "published", version);
}

void publish_news_lists(struct buf *b, const char *version, const uint32_t *users, size_t n)
{
	buf_addstr(b, "lists ");
	buf_addstr(b, version);
	for (size_t i = 0; i < n && i < PUBLISH_NEWS_USERS; i++) {
		buf_addch(b, ' ');
		buf_addu64(b, users[i]);
	}
}

/* a VERSION: 12 lowercase hex digits, then the end or a space */
static int news_version(const char *s, size_t len, char out[13])
{
	if (len < 12 || (len > 12 && s[12] != ' '))
		return -1;
	for (int i = 0; i < 12; i++)
		if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
			return -1;
	memcpy(out, s, 12);
	out[12] = '\0';
	return 0;
}

int publish_news_parse(const char *msg, size_t len, struct publish_news *n)
{
	size_t i;

	n->nusers = 0;
	if (len > 10 && !memcmp(msg, "published ", 10)) {
		n->kind = NEWS_PUBLISHED;
		return len == 22 && !news_version(msg + 10, 12, n->version) ? 0 : -1;
	}
	if (len > 8 && !memcmp(msg, "current ", 8)) {
		n->kind = NEWS_CURRENT;
		return len == 20 && !news_version(msg + 8, 12, n->version) ? 0 : -1;
	}
	if (len < 6 || memcmp(msg, "lists ", 6) || news_version(msg + 6, len - 6, n->version))
		return -1;
	n->kind = NEWS_LISTS;
	/* " ID" after the version, each a decimal below 2^32 */
	for (i = 18; i < len;) {
		uint64_t v = 0;
		size_t start = ++i;
		if (msg[start - 1] != ' ' || n->nusers == PUBLISH_NEWS_USERS)
			return -1;
		while (i < len && msg[i] >= '0' && msg[i] <= '9' && i - start < 10)
			v = v * 10 + (uint64_t)(msg[i++] - '0');
		if (i == start || v > UINT32_MAX || (i < len && msg[i] != ' '))
			return -1;
		n->users[n->nusers++] = (uint32_t)v;
	}
	return n->nusers ? 0 : -1;
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
