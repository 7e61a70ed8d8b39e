/*
 * servingrec: recommendations with titles. The dataset is named by the
 * variant's pancake_model_info; its movies are read from its files (the
 * same reader `pancake data` uses) and kept, the ratings dropped.
 */
#include "core/servingrec.h"
#include "core/catalog.h"
#include "core/dataset.h"
#include "util/prom.h"
#include "util/quote.h"
#include "util/xalloc.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void servingrec_titles_init(struct servingrec_titles *t)
{
	memset(t, 0, sizeof(*t));
}

static void titles_clear(struct servingrec_titles *t)
{
	for (size_t i = 0; i < t->n; i++)
		free(t->movies[i].title);
	free(t->movies);
	t->movies = NULL;
	t->n = 0;
}

void servingrec_titles_release(struct servingrec_titles *t)
{
	titles_clear(t);
	servingrec_titles_init(t);
}

static void genres_text(uint32_t bits, char *out, size_t size)
{
	size_t used = 0;

	out[0] = '\0';
	for (int g = 0; g < GENRE_COUNT && used < size; g++)
		if (bits & (1u << g) && g != G_NONE)
			used += (size_t)snprintf(out + used, size - used, "%s%s", used ? "|" : "",
						 genre_name((enum genre)g));
}

int servingrec_titles_load(struct servingrec_titles *t, const char *name)
{
	struct dataset ds;
	struct buf err = BUF_INIT;
	char *dir, *resolved = NULL, q[QUOTE_BUF];
	int ret = -1;

	if (t->dataset[0] && !strcmp(t->dataset, name))
		return t->n ? 0 : -1;
	titles_clear(t);
	snprintf(t->dataset, sizeof(t->dataset), "%s", name);
	t->dir[0] = t->note[0] = '\0';
	dataset_init(&ds);
	dir = *name ? catalog_resolve(name, &resolved) : NULL;
	if (!dir) {
		snprintf(t->note, sizeof(t->note), "no titles: dataset %s is not on this machine "
			 "('pancake data list' shows those that are)", quote(q, name));
		goto out;
	}
	snprintf(t->dir, sizeof(t->dir), "%s", dir);
	if (dataset_read(&ds, dir, DS_AUTO, DS_SKIP, NULL, &err)) {
		snprintf(t->note, sizeof(t->note), "no titles: %s", err.s);
		goto out;
	}
	t->movies = xcalloc(ds.nmovies ? ds.nmovies : 1, sizeof(*t->movies));
	for (size_t i = 0; i < ds.nmovies; i++) {
		struct servingrec_movie *m = &t->movies[i];
		m->id = ds.movies[i].id;
		m->title = xstrdup(ds.movies[i].title ? ds.movies[i].title : "");
		m->year = ds.movies[i].year;
		genres_text(ds.movies[i].genres, m->genres, sizeof(m->genres));
	}
	t->n = ds.nmovies;
	if (!t->n)
		snprintf(t->note, sizeof(t->note), "no titles: dataset %s has no movies file", quote(q, name));
	ret = t->n ? 0 : -1;
out:
	dataset_release(&ds);
	buf_release(&err);
	free(resolved);
	free(dir);
	return ret;
}

const struct servingrec_movie *servingrec_movie(const struct servingrec_titles *t, uint32_t id)
{
	size_t lo = 0, hi = t->n;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (t->movies[mid].id == id)
			return &t->movies[mid];
		if (t->movies[mid].id < id)
			lo = mid + 1;
		else
			hi = mid;
	}
	return NULL;
}

/* the dataset of `variant`'s model, from /metrics; "" when it cannot be known */
static void variant_dataset(const char *addr, const char *variant, int timeout_ms, char *out,
			    size_t size)
{
	struct servingapi_result r;
	struct buf body = BUF_INIT;
	struct prom p = PROM_INIT;
	const struct prom_sample *s;
	const char *d;

	out[0] = '\0';
	if (!servingapi_metrics(addr, timeout_ms, &body, &r, NULL) &&
	    !prom_parse(&p, body.s, body.len, NULL) &&
	    (s = prom_find(&p, "pancake_model_info", (const char *[]){ "variant", variant, NULL })) &&
	    (d = prom_label(s, "dataset")))
		snprintf(out, size, "%s", d);
	prom_release(&p);
	buf_release(&body);
}

int servingrec_ask(const char *addr, uint32_t user, int k, const char *variant, int timeout_ms,
		   struct servingrec_titles *t, struct servingrec_answer *out,
		   struct servingapi_result *r, struct buf *err)
{
	int ret;

	memset(out, 0, sizeof(*out));
	ret = servingapi_recommend(addr, user, k, variant, timeout_ms, &out->r, r, err);
	if (ret)
		return ret;
	variant_dataset(addr, out->r.variant, timeout_ms, out->dataset, sizeof(out->dataset));
	if (!out->dataset[0]) {
		char q[QUOTE_BUF];
		titles_clear(t);
		t->dataset[0] = '\0';
		snprintf(t->note, sizeof(t->note), "no titles: /metrics does not say which dataset "
			 "variant %s was trained on", quote(q, out->r.variant));
		return 0;
	}
	if (servingrec_titles_load(t, out->dataset))
		return 0;
	for (int i = 0; i < out->r.n; i++)
		out->movies[i] = servingrec_movie(t, out->r.items[i].item);
	return 0;
}
