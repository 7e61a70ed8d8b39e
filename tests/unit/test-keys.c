/*
 * test-keys: the Redis layout's names (a dataset's and a published model's)
 * and the news publish and fold-in announce on pk:rec:announce: written, parsed back, and anything else
 * (truncated, padded, random bytes) refused without reading past it.
 */
#include "model/keys.h"
#include "util/buf.h"
#include "util/rand.h"
#include "util/xalloc.h"
#include "tap.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int parse(const char *msg, struct keys_news *n)
{
	return keys_news_parse(msg, strlen(msg), n);
}

static void test_keys(void)
{
	char k[96];

	keys_rec_user(k, sizeof(k), "0123456789ab", 42);
	is_str(k, "pk:rec:0123456789ab:user:42", "a user's list");
	keys_rec_similar(k, sizeof(k), "0123456789ab", 7);
	is_str(k, "pk:rec:0123456789ab:similar:7", "an item's similar items");
	keys_rec_model(k, sizeof(k), "0123456789ab");
	is_str(k, "pk:rec:0123456789ab:model", "the model file");
	keys_rec_meta(k, sizeof(k), "0123456789ab");
	is_str(k, "pk:rec:0123456789ab:meta", "the meta");
	is_str(KEYS_CHANNEL, "pk:rec:announce", "the channel");
}

static void test_data_keys(void)
{
	char k[96], small[12];
	struct buf b = BUF_INIT;

	is_int(keys_data_meta(k, sizeof(k), "ml-1m"), 13, "a dataset's meta: its length");
	is_str(k, "pk:ml-1m:meta", "a dataset's meta");
	keys_data_item(k, sizeof(k), "ml-1m", 4294967295u);
	is_str(k, "pk:ml-1m:item:4294967295", "an item's hash");
	keys_data_popular(k, sizeof(k), "ml-1m");
	is_str(k, "pk:ml-1m:popular", "the popularity set");
	keys_data_rated(k, sizeof(k), "ml-1m", 42);
	is_str(k, "pk:ml-1m:user:42:rated", "what a user rated");
	ok(keys_data_rated(small, sizeof(small), "ml-1m", 42) >= (int)sizeof(small) &&
	   strlen(small) == sizeof(small) - 1, "too small a buffer: cut, and the length says so");
	keys_data_glob(&b, "a*b", KEYS_GLOB_RATED);
	is_str(b.s, "pk:a\\*b:user:*:rated", "every user's set, the name's glob escaped");
	buf_reset(&b);
	keys_data_glob(&b, "ml-1m", KEYS_GLOB_ITEMS);
	is_str(b.s, "pk:ml-1m:item:*", "every item hash");
	buf_reset(&b);
	keys_data_glob(&b, "ml-1m", KEYS_GLOB_ALL);
	is_str(b.s, "pk:ml-1m:*", "every key of the dataset");
	buf_release(&b);
}

static void test_news(void)
{
	static struct keys_news n;
	char msg[64];
	uint32_t users[] = { 1, 0, 4294967295u, 138493 };
	struct buf b = BUF_INIT;

	keys_news_version(msg, sizeof(msg), "0123456789ab", 1);
	is_str(msg, "current 0123456789ab", "the news of a version made current");
	ok(parse(msg, &n) == 0 && n.kind == KEYS_NEWS_CURRENT && !strcmp(n.version, "0123456789ab"),
	   "parsed back");
	keys_news_version(msg, sizeof(msg), "0123456789ab", 0);
	is_str(msg, "published 0123456789ab", "the news of a version published only");
	ok(parse(msg, &n) == 0 && n.kind == KEYS_NEWS_PUBLISHED && n.nusers == 0, "parsed back");
	keys_news_lists(&b, "00000000beef", users, 4);
	is_str(b.s, "lists 00000000beef 1 0 4294967295 138493", "the news of lists fold-in replaced");
	ok(parse(b.s, &n) == 0 && n.kind == KEYS_NEWS_LISTS && n.nusers == 4 && n.users[2] == 4294967295u &&
	   n.users[3] == 138493 && !strcmp(n.version, "00000000beef"), "parsed back, every user");
	buf_release(&b);

	/* the most users one message holds, and one more */
	uint32_t *many = xmalloc(sizeof(uint32_t) * (KEYS_NEWS_USERS + 1));
	for (uint32_t i = 0; i <= KEYS_NEWS_USERS; i++)
		many[i] = i * 7919;
	keys_news_lists(&b, "0123456789ab", many, KEYS_NEWS_USERS + 1);
	ok(parse(b.s, &n) == 0 && n.nusers == KEYS_NEWS_USERS &&
	   n.users[KEYS_NEWS_USERS - 1] == (KEYS_NEWS_USERS - 1) * 7919u,
	   "a message names %d users at most", KEYS_NEWS_USERS);
	buf_addstr(&b, " 5");
	ok(parse(b.s, &n) < 0, "one more is refused, not overflowed");
	buf_release(&b);
	free(many);

	static const char *const bad[] = {
		"", "current", "current ", "current 0123456789a", "current 0123456789abc",
		"current 0123456789AB", "current  0123456789ab", "published 0123456789ab ",
		"lists 0123456789ab", "lists 0123456789ab ", "lists 0123456789ab 1 ", "lists 0123456789ab 1  2",
		"lists 0123456789ab 4294967296", "lists 0123456789ab 12345678901", "lists 0123456789ab -1",
		"lists 0123456789ab1 2", "lists 0123456789ab 1x", "lists g123456789ab 1", "Lists 0123456789ab 1",
		"moved 0123456789ab",
	};
	int refused = 0;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		if (parse(bad[i], &n) < 0)
			refused++;
		else
			printf("# accepted: '%s'\n", bad[i]);
	}
	is_int(refused, (int)(sizeof(bad) / sizeof(bad[0])), "anything else is refused");
	/* a message is not NUL-terminated where it ends */
	ok(keys_news_parse("current 0123456789abXYZ", 20, &n) == 0, "only len bytes are read");

	/* random bytes, and news with a byte changed: refused or parsed within bounds */
	uint64_t st = 7;
	int fine = 1;
	for (int i = 0; i < 200000 && fine; i++) {
		char m[80];
		size_t len = splitmix64(&st) % sizeof(m);
		if (i & 1) {
			snprintf(m, sizeof(m), "lists 0123456789ab %u %u", (unsigned)i, (unsigned)(i * 3));
			len = strlen(m);
			m[splitmix64(&st) % len] = (char)splitmix64(&st);
		} else {
			for (size_t j = 0; j < len; j++)
				m[j] = (char)splitmix64(&st);
		}
		char *exact = xmalloc(len ? len : 1);	/* no slack: ASan sees an overread */
		memcpy(exact, m, len);
		if (keys_news_parse(exact, len, &n) == 0)
			fine = strlen(n.version) == 12 && n.nusers <= KEYS_NEWS_USERS &&
			       (n.kind == KEYS_NEWS_LISTS) == (n.nusers > 0);
		free(exact);
	}
	ok(fine, "200000 random and damaged messages: refused, or parsed within bounds");
}

int main(void)
{
	test_keys();
	test_data_keys();
	test_news();
	return tap_done();
}
