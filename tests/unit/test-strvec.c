/*
 * test-strvec: util/strvec, the NULL-terminated list of owned strings
 * (argv for run.c, docker's lists) and kvlist, its small ordered map.
 */
#include "util/strvec.h"
#include "util/xalloc.h"
#include "tap.h"

#include <stdlib.h>

/* v set, v[n] NULL, and every string before it set */
static int terminated(const struct strvec *sv)
{
	size_t i;

	if (!sv->v || sv->v[sv->n])
		return 0;
	for (i = 0; i < sv->n; i++)
		if (!sv->v[i])
			return 0;
	return 1;
}

static void test_init(void)
{
	struct strvec a = STRVEC_INIT, b;

	ok(a.v == strvec_empty && a.n == 0 && a.v[0] == NULL,
	   "STRVEC_INIT is an empty NULL-terminated list, never NULL");
	strvec_init(&b);
	ok(b.v == strvec_empty && b.n == 0 && b.alloc == 0,
	   "strvec_init gives the same");
	strvec_clear(&a);
	ok(a.v == strvec_empty && a.n == 0, "clearing an empty list is harmless");
	is_int(strvec_has(&a, ""), 0, "an empty list has nothing");
}

static void test_push(void)
{
	struct strvec sv = STRVEC_INIT;
	char src[] = "mutable";
	const char *got;
	char name[32];
	int i, all_terminated = 1, all_there = 1;

	got = strvec_push(&sv, src);
	ok(got == sv.v[0] && got != src && !strcmp(got, "mutable"),
	   "strvec_push copies and returns the copy");
	src[0] = 'X';
	is_str(sv.v[0], "mutable", "the copy does not follow the original");
	ok(sv.n == 1 && sv.v[1] == NULL, "n 1, v[1] NULL");
	ok(strvec_empty[0] == NULL, "the shared empty list was not written to");

	for (i = 1; i < 1000; i++) {
		snprintf(name, sizeof(name), "item-%d", i);
		strvec_push(&sv, name);
		if (!terminated(&sv))
			all_terminated = 0;
	}
	ok(all_terminated, "NULL-terminated after each of 1000 pushes");
	is_int(sv.n, 1000, "1000 strings");
	for (i = 1; i < 1000; i++) {
		snprintf(name, sizeof(name), "item-%d", i);
		if (strcmp(sv.v[i], name))
			all_there = 0;
	}
	ok(all_there, "in push order, none lost across growth");
	ok(strvec_has(&sv, "item-999") && strvec_has(&sv, "mutable"),
	   "strvec_has finds the first and the last");
	ok(!strvec_has(&sv, "item-1000") && !strvec_has(&sv, "item-") &&
	   !strvec_has(&sv, ""), "and not a prefix, a neighbour or \"\"");

	strvec_clear(&sv);
	ok(sv.v == strvec_empty && sv.n == 0 && sv.alloc == 0 && sv.v[0] == NULL,
	   "strvec_clear frees and resets to the empty list");
	strvec_push(&sv, "again");
	ok(sv.n == 1 && !strcmp(sv.v[0], "again") && sv.v[1] == NULL,
	   "a cleared list is usable again");
	strvec_clear(&sv);
}

static void test_pushf_nodup(void)
{
	struct strvec sv = STRVEC_INIT;
	char *mine = xstrdup("stolen");
	const char *got;

	got = strvec_pushf(&sv, "%s=%d", "port", 9042);
	ok(got == sv.v[0] && !strcmp(got, "port=9042"),
	   "strvec_pushf formats and returns the new string");
	strvec_pushf(&sv, "%s", "");
	ok(sv.n == 2 && !strcmp(sv.v[1], "") && sv.v[2] == NULL,
	   "an empty formatted string is an entry, not the end");
	strvec_push_nodup(&sv, mine);
	ok(sv.v[2] == mine && sv.v[3] == NULL,
	   "strvec_push_nodup keeps the very pointer (steals it)");
	is_int(strvec_has(&sv, ""), 1, "strvec_has finds \"\" once pushed");
	strvec_clear(&sv);	/* frees `mine`: ASan would see a leak or double free */
	ok(sv.n == 0, "cleared");

	strvec_push_nodup(&sv, xstrdup("first"));
	ok(sv.n == 1 && sv.v != strvec_empty && sv.v[1] == NULL,
	   "push_nodup onto an empty list allocates its own array");
	strvec_clear(&sv);
}

static void test_kvlist(void)
{
	struct kvlist kv = KVLIST_INIT, copy = KVLIST_INIT;
	char key[] = "host", val[] = "localhost";
	char k[16], v[16];
	int i, good = 1;

	ok(kvlist_get(&kv, "host") == NULL, "an empty list has no key");
	kvlist_set(&kv, key, val);
	key[0] = 'X';
	val[0] = 'X';
	is_str(kvlist_get(&kv, "host"), "localhost", "kvlist_set copies both");
	kvlist_set(&kv, "port", "9042");
	kvlist_set(&kv, "host", "cassandra");
	is_int(kv.n, 2, "setting a key again replaces, adds no entry");
	is_str(kvlist_get(&kv, "host"), "cassandra", "the new value");
	ok(!strcmp(kv.keys[0], "host") && !strcmp(kv.keys[1], "port"),
	   "order of first setting kept");
	ok(kvlist_get(&kv, "Host") == NULL && kvlist_get(&kv, "hos") == NULL,
	   "keys match exactly (case, length)");
	kvlist_set(&kv, "empty", "");
	is_str(kvlist_get(&kv, "empty"), "", "an empty value is a value, not NULL");

	for (i = 0; i < 100; i++) {
		snprintf(k, sizeof(k), "k%d", i);
		snprintf(v, sizeof(v), "v%d", i);
		kvlist_set(&kv, k, v);
	}
	for (i = 0; i < 100; i++) {
		snprintf(k, sizeof(k), "k%d", i);
		snprintf(v, sizeof(v), "v%d", i);
		if (!kvlist_get(&kv, k) || strcmp(kvlist_get(&kv, k), v))
			good = 0;
	}
	ok(good && kv.n == 103, "103 keys across growth, each with its value");

	kvlist_set(&copy, "port", "1");
	kvlist_set(&copy, "own", "mine");
	kvlist_copy(&copy, &kv);
	is_int(copy.n, 1 + 103, "kvlist_copy adds the source's keys");
	is_str(kvlist_get(&copy, "port"), "9042", "the source wins on a shared key");
	is_str(kvlist_get(&copy, "own"), "mine", "the destination's own key stays");
	ok(kvlist_get(&copy, "host") != kvlist_get(&kv, "host"),
	   "values are copies, not shared");

	kvlist_clear(&kv);
	ok(kv.n == 0 && kv.keys == NULL && kv.vals == NULL && kv.alloc == 0,
	   "kvlist_clear empties back to KVLIST_INIT");
	is_str(kvlist_get(&copy, "host"), "cassandra", "the copy outlives its source");
	kvlist_clear(&kv);
	ok(kv.n == 0, "clearing twice is harmless");
	kvlist_set(&kv, "a", "b");
	is_str(kvlist_get(&kv, "a"), "b", "a cleared list is usable again");
	kvlist_clear(&kv);
	kvlist_clear(&copy);
}

int main(void)
{
	test_init();
	test_push();
	test_pushf_nodup();
	test_kvlist();
	return tap_done();
}
