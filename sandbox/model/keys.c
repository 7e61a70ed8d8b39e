/* keys: pancake's Redis key names and the news on pk:rec:announce. */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "clients/redis.h"
#include "model/keys.h"

int keys_data_meta(char *out, size_t size, const char *dataset)
{
	return snprintf(out, size, "pk:%s:meta", dataset);
}

int keys_data_item(char *out, size_t size, const char *dataset, uint32_t item)
{
	return snprintf(out, size, "pk:%s:item:%" PRIu32, dataset, item);
}

int keys_data_popular(char *out, size_t size, const char *dataset)
{
	return snprintf(out, size, "pk:%s:popular", dataset);
}

int keys_data_rated(char *out, size_t size, const char *dataset, uint32_t user)
{
	return snprintf(out, size, "pk:%s:user:%" PRIu32 ":rated", dataset, user);
}

void keys_data_glob(struct buf *out, const char *dataset, enum keys_glob which)
{
	static const char *const rest[] = {
		[KEYS_GLOB_ALL] = ":*",
		[KEYS_GLOB_ITEMS] = ":item:*",
		[KEYS_GLOB_RATED] = ":user:*:rated",
	};

	buf_addstr(out, "pk:");
	redis_glob_escape(out, dataset);
	buf_addstr(out, rest[which]);
}

int keys_rec_user(char *out, size_t size, const char *version, uint32_t user)
{
	return snprintf(out, size, "pk:rec:%s:user:%" PRIu32, version, user);
}

int keys_rec_similar(char *out, size_t size, const char *version, uint32_t item)
{
	return snprintf(out, size, "pk:rec:%s:similar:%" PRIu32, version, item);
}

int keys_rec_model(char *out, size_t size, const char *version)
{
	return snprintf(out, size, "pk:rec:%s:model", version);
}

int keys_rec_meta(char *out, size_t size, const char *version)
{
	return snprintf(out, size, "pk:rec:%s:meta", version);
}

void keys_news_version(char *out, size_t size, const char *version, int current)
{
	snprintf(out, size, "%s %s", current ? "current" : "published", version);
}

void keys_news_lists(struct buf *b, const char *version, const uint32_t *users, size_t n)
{
	buf_addstr(b, "lists ");
	buf_addstr(b, version);
	for (size_t i = 0; i < n && i < KEYS_NEWS_USERS; i++) {
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

int keys_news_parse(const char *msg, size_t len, struct keys_news *n)
{
	size_t i;

	n->nusers = 0;
	if (len > 10 && !memcmp(msg, "published ", 10)) {
		n->kind = KEYS_NEWS_PUBLISHED;
		return len == 22 && !news_version(msg + 10, 12, n->version) ? 0 : -1;
	}
	if (len > 8 && !memcmp(msg, "current ", 8)) {
		n->kind = KEYS_NEWS_CURRENT;
		return len == 20 && !news_version(msg + 8, 12, n->version) ? 0 : -1;
	}
	if (len < 6 || memcmp(msg, "lists ", 6) || news_version(msg + 6, len - 6, n->version))
		return -1;
	n->kind = KEYS_NEWS_LISTS;
	/* " ID" after the version, each a decimal below 2^32 */
	for (i = 18; i < len;) {
		uint64_t v = 0;
		size_t start = ++i;
		if (msg[start - 1] != ' ' || n->nusers == KEYS_NEWS_USERS)
			return -1;
		while (i < len && msg[i] >= '0' && msg[i] <= '9' && i - start < 10)
			v = v * 10 + (uint64_t)(msg[i++] - '0');
		if (i == start || v > UINT32_MAX || (i < len && msg[i] != ' '))
			return -1;
		n->users[n->nusers++] = (uint32_t)v;
	}
	return n->nusers ? 0 : -1;
}
