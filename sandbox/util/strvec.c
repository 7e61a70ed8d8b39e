/* strvec: a NULL-terminated list of owned strings, and a key/value list. */
#include "util/strvec.h"
#include "util/buf.h"
#include "util/xalloc.h"

#include <stdarg.h>
#include <string.h>

char *strvec_empty[1];

void strvec_init(struct strvec *sv)
{
	sv->v = strvec_empty;
	sv->n = sv->alloc = 0;
}

void strvec_push_nodup(struct strvec *sv, char *s)
{
	if (sv->v == strvec_empty)
		sv->v = NULL;
	ALLOC_GROW(sv->v, sv->n + 2, sv->alloc);
	sv->v[sv->n++] = s;
	sv->v[sv->n] = NULL;
}

const char *strvec_push(struct strvec *sv, const char *s)
{
	strvec_push_nodup(sv, xstrdup(s));
	return sv->v[sv->n - 1];
}

const char *strvec_pushf(struct strvec *sv, const char *fmt, ...)
{
	struct buf b = BUF_INIT;
	va_list ap;

	va_start(ap, fmt);
	buf_vaddf(&b, fmt, ap);
	va_end(ap);
	strvec_push_nodup(sv, buf_detach(&b, NULL));
	return sv->v[sv->n - 1];
}

int strvec_has(const struct strvec *sv, const char *s)
{
	size_t i;

	for (i = 0; i < sv->n; i++)
		if (!strcmp(sv->v[i], s))
			return 1;
	return 0;
}

void strvec_clear(struct strvec *sv)
{
	size_t i;

	if (sv->v != strvec_empty) {
		for (i = 0; i < sv->n; i++)
			free(sv->v[i]);
		free(sv->v);
	}
	strvec_init(sv);
}

void kvlist_set(struct kvlist *kv, const char *key, const char *val)
{
	size_t i;

	for (i = 0; i < kv->n; i++)
		if (!strcmp(kv->keys[i], key)) {
			free(kv->vals[i]);
			kv->vals[i] = xstrdup(val);
			return;
		}
	if (kv->n + 1 > kv->alloc) {
		kv->alloc = kv->alloc * 2 + 8;
		kv->keys = xrealloc(kv->keys, kv->alloc * sizeof(char *));
		kv->vals = xrealloc(kv->vals, kv->alloc * sizeof(char *));
	}
	kv->keys[kv->n] = xstrdup(key);
	kv->vals[kv->n] = xstrdup(val);
	kv->n++;
}

const char *kvlist_get(const struct kvlist *kv, const char *key)
{
	size_t i;

	for (i = 0; i < kv->n; i++)
		if (!strcmp(kv->keys[i], key))
			return kv->vals[i];
	return NULL;
}

void kvlist_copy(struct kvlist *dst, const struct kvlist *src)
{
	size_t i;

	for (i = 0; i < src->n; i++)
		kvlist_set(dst, src->keys[i], src->vals[i]);
}

void kvlist_clear(struct kvlist *kv)
{
	size_t i;

	for (i = 0; i < kv->n; i++) {
		free(kv->keys[i]);
		free(kv->vals[i]);
	}
	free(kv->keys);
	free(kv->vals);
	memset(kv, 0, sizeof(*kv));
}
