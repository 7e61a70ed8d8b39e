/* strvec: a NULL-terminated list of owned strings, and a key/value list. */
#ifndef PANCAKE_STRVEC_H
#define PANCAKE_STRVEC_H

#include <stddef.h>

/* v is never NULL after STRVEC_INIT; v[n] == NULL. Strings are owned. */
struct strvec {
	char **v;
	size_t n, alloc;
};
extern char *strvec_empty[];
#define STRVEC_INIT { strvec_empty, 0, 0 }

void strvec_init(struct strvec *sv);
/* copies s; returns the copy (borrowed, valid until strvec_clear) */
const char *strvec_push(struct strvec *sv, const char *s);
const char *strvec_pushf(struct strvec *sv, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
/* steals s */
void strvec_push_nodup(struct strvec *sv, char *s);
int strvec_has(const struct strvec *sv, const char *s);
void strvec_clear(struct strvec *sv);

/* An ordered map of owned strings, small enough for linear search. */
struct kvlist {
	char **keys, **vals;
	size_t n, alloc;
};
#define KVLIST_INIT { NULL, NULL, 0, 0 }

/* copies both; replaces an existing key's value */
void kvlist_set(struct kvlist *kv, const char *key, const char *val);
/* borrowed, valid until the key is set again or kvlist_clear */
const char *kvlist_get(const struct kvlist *kv, const char *key);
void kvlist_copy(struct kvlist *dst, const struct kvlist *src);
void kvlist_clear(struct kvlist *kv);

#endif
