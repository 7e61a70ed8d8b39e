/* test-model: the model file round trip and every way a file is refused. */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "model/model.h"
#include "tap.h"
#include "util/xalloc.h"

static void fill(struct model *m, uint32_t flags)
{
	model_alloc(m, 7, 50, 30, flags);
	for (uint32_t u = 0; u < m->nusers; u++)
		m->user_ids[u] = 3 + 2 * u;
	for (uint32_t i = 0; i < m->nitems; i++)
		m->item_ids[i] = 10 + 5 * i;
	for (size_t e = 0; e < (size_t)m->nusers * m->rank; e++)
		m->user_factors[e] = (float)e * 0.25f - 3;
	for (size_t e = 0; e < (size_t)m->nitems * m->rank; e++)
		m->item_factors[e] = (float)e * -0.125f + 1;
	if (flags & MODEL_BIASES) {
		for (uint32_t u = 0; u < m->nusers; u++)
			m->user_bias[u] = u * 0.01f;
		for (uint32_t i = 0; i < m->nitems; i++)
			m->item_bias[i] = -(float)i * 0.02f;
	}
	m->lambda = 0.05f;
	m->alpha = 0;
	m->mean = 3.58f;
	m->iters = 12;
	m->seed = 42;
	m->trained_at = 1700000000;
	m->dataset_fingerprint = 0x1234567890abcdefULL;
	strcpy(m->dataset, "ml-1m-s1");
	strcpy(m->solver, "cholesky");
}

static int same(const struct model *a, const struct model *b)
{
	return a->rank == b->rank && a->nusers == b->nusers && a->nitems == b->nitems &&
	       a->flags == b->flags && a->lambda == b->lambda && a->mean == b->mean &&
	       a->iters == b->iters && a->seed == b->seed && a->trained_at == b->trained_at &&
	       a->dataset_fingerprint == b->dataset_fingerprint &&
	       !strcmp(a->dataset, b->dataset) && !strcmp(a->solver, b->solver) &&
	       !memcmp(a->user_ids, b->user_ids, 4 * a->nusers) &&
	       !memcmp(a->item_ids, b->item_ids, 4 * a->nitems) &&
	       !memcmp(a->user_factors, b->user_factors, 4 * (size_t)a->nusers * a->rank) &&
	       !memcmp(a->item_factors, b->item_factors, 4 * (size_t)a->nitems * a->rank) &&
	       (!(a->flags & MODEL_BIASES) ||
		(!memcmp(a->user_bias, b->user_bias, 4 * a->nusers) &&
		 !memcmp(a->item_bias, b->item_bias, 4 * a->nitems)));
}

int main(void)
{
	struct model m, back;
	struct buf bytes = BUF_INIT, err = BUF_INIT;
	char dir[] = "/tmp/test-model-XXXXXX", path[64], ver[13];

	for (int biased = 0; biased <= 1; biased++) {
		fill(&m, biased ? MODEL_BIASES : 0);
		buf_reset(&bytes);
		model_encode(&m, &bytes);
		is_int(bytes.len, MODEL_HEADER_SIZE + (50 + 30) * 4 + (50 + 30) * 7 * 4 +
		       (biased ? (50 + 30) * 4 : 0), "encode (biases %d): header plus arrays", biased);
		ok(model_decode(&back, bytes.s, bytes.len, "mem", &err) == 0,
		   "decode (biases %d): accepted (%s)", biased, err.s);
		ok(same(&m, &back), "decode (biases %d): every field and array round-trips", biased);
		is_str(back.checksum, m.checksum, "decode (biases %d): the same checksum", biased);
		model_release(&back);
		model_release(&m);
	}

	fill(&m, MODEL_BIASES);
	ok(mkdtemp(dir) != NULL, "a temporary folder");
	snprintf(path, sizeof(path), "%s/m.model", dir);
	ok(model_save(&m, path, &err) == 0, "save: written (%s)", err.s);
	ok(model_load(&back, path, &err) == 0 && same(&m, &back), "load: what was saved");
	model_version(&back, ver);
	is_int(strlen(ver), 12, "version: 12 hex digits of the checksum");
	ok(!strncmp(ver, m.checksum, 12), "version: the checksum's prefix");
	is_int(model_user_index(&back, 3 + 2 * 17), 17, "user index by id");
	is_int(model_user_index(&back, 4), -1, "an unknown user id has no index");
	is_int(model_item_index(&back, 10 + 5 * 29), 29, "item index by id (the last)");
	model_release(&back);
	model_release(&m);

	/* flip one bit in the factors: the checksum catches it */
	buf_reset(&bytes);
	fill(&m, 0);
	model_encode(&m, &bytes);
	bytes.s[MODEL_HEADER_SIZE + 400] ^= 0x10;
	buf_reset(&err);
	ok(model_decode(&back, bytes.s, bytes.len, "flipped", &err) < 0 &&
	   strstr(err.s, "checksum") && strstr(err.s, "'flipped'"),
	   "a flipped bit is refused: %s", err.s);
	bytes.s[MODEL_HEADER_SIZE + 400] ^= 0x10;
	/* a changed header field too */
	bytes.s[40] ^= 1;
	buf_reset(&err);
	ok(model_decode(&back, bytes.s, bytes.len, "hdr", &err) < 0 && strstr(err.s, "checksum"),
	   "a changed header field is refused: %s", err.s);
	bytes.s[40] ^= 1;
	buf_reset(&err);
	ok(model_decode(&back, bytes.s, bytes.len - 100, "short", &err) < 0 &&
	   strstr(err.s, "truncated"), "a truncated file is refused: %s", err.s);
	buf_reset(&err);
	ok(model_decode(&back, bytes.s, 100, "tiny", &err) < 0 && strstr(err.s, "truncated"),
	   "a file shorter than the header is refused: %s", err.s);
	buf_reset(&err);
	ok(model_decode(&back, "user,item,rating\n1,2,3\n", 23, "ratings.csv", &err) < 0 &&
	   strstr(err.s, "not a pancake model"), "another file is not a model: %s", err.s);
	bytes.s[8] = 9;
	buf_reset(&err);
	ok(model_decode(&back, bytes.s, bytes.len, "future", &err) < 0 &&
	   strstr(err.s, "version 9"), "a newer version is named: %s", err.s);
	model_release(&m);

	/* a truncated file on disk, as a crash mid-copy would leave */
	FILE *f = fopen(path, "r+");
	ok(f && ftruncate(fileno(f), 1000) == 0, "truncate the saved file");
	if (f)
		fclose(f);
	buf_reset(&err);
	ok(model_load(&back, path, &err) < 0 && strstr(err.s, "truncated") &&
	   strstr(err.s, path), "loading it names the file: %s", err.s);
	buf_reset(&err);
	ok(model_load(&back, "/nonexistent/m.model", &err) < 0 && strstr(err.s, "cannot read"),
	   "a missing file: %s", err.s);
	unlink(path);
	rmdir(dir);
	buf_release(&bytes);
	buf_release(&err);
	return tap_done();
}
