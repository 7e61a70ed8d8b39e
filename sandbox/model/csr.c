/*
 * csr: compressed sparse rows, built from unordered triples in two passes
 * (counts, then a fill), and transposed the same way.
 */
#include <stdlib.h>
#include <string.h>

#include "model/csr.h"
#include "util/xalloc.h"

struct entry {
	uint32_t col;
	float val;
};

static int entry_cmp(const void *a, const void *b)
{
	uint32_t x = ((const struct entry *)a)->col, y = ((const struct entry *)b)->col;
	return (x > y) - (x < y);
}

void csr_build(struct csr *m, uint32_t nrows, uint32_t ncols, const struct triple *t,
	       size_t n)
{
	uint64_t *fill = xcalloc((size_t)nrows + 1, sizeof(uint64_t));
	struct entry *tmp = xmalloc((n ? n : 1) * sizeof(*tmp));

	m->nrows = nrows;
	m->ncols = ncols;
	m->ptr = xcalloc((size_t)nrows + 1, sizeof(uint64_t));
	m->idx = xmalloc((n ? n : 1) * sizeof(uint32_t));
	m->val = xmalloc((n ? n : 1) * sizeof(float));
	for (size_t e = 0; e < n; e++)
		m->ptr[t[e].row + 1]++;
	for (uint32_t r = 0; r < nrows; r++)
		m->ptr[r + 1] += m->ptr[r];
	memcpy(fill, m->ptr, (size_t)nrows * sizeof(uint64_t));
	for (size_t e = 0; e < n; e++) {
		uint64_t at = fill[t[e].row]++;
		tmp[at].col = t[e].col;
		tmp[at].val = t[e].val;
	}
	for (uint32_t r = 0; r < nrows; r++) {
		uint64_t a = m->ptr[r], b = m->ptr[r + 1];
		int sorted = 1;
		for (uint64_t e = a + 1; e < b && sorted; e++)
			sorted = tmp[e - 1].col <= tmp[e].col;
		if (!sorted)
			qsort(tmp + a, b - a, sizeof(*tmp), entry_cmp);
	}
	for (size_t e = 0; e < n; e++) {
		m->idx[e] = tmp[e].col;
		m->val[e] = tmp[e].val;
	}
	free(tmp);
	free(fill);
}

void csr_transpose(struct csr *t, const struct csr *a)
{
	uint64_t nnz = csr_nnz(a);
	uint64_t *fill = xmalloc(((size_t)a->ncols + 1) * sizeof(uint64_t));

	t->nrows = a->ncols;
	t->ncols = a->nrows;
	t->ptr = xcalloc((size_t)a->ncols + 1, sizeof(uint64_t));
	t->idx = xmalloc((nnz ? nnz : 1) * sizeof(uint32_t));
	t->val = xmalloc((nnz ? nnz : 1) * sizeof(float));
	for (uint64_t e = 0; e < nnz; e++)
		t->ptr[a->idx[e] + 1]++;
	for (uint32_t c = 0; c < a->ncols; c++)
		t->ptr[c + 1] += t->ptr[c];
	memcpy(fill, t->ptr, ((size_t)a->ncols + 1) * sizeof(uint64_t));
	/* rows of `a` in order, so each column of `t` comes out sorted */
	for (uint32_t r = 0; r < a->nrows; r++)
		for (uint64_t e = a->ptr[r]; e < a->ptr[r + 1]; e++) {
			uint64_t at = fill[a->idx[e]]++;
			t->idx[at] = r;
			t->val[at] = a->val[e];
		}
	free(fill);
}

void csr_release(struct csr *m)
{
	free(m->ptr);
	free(m->idx);
	free(m->val);
	memset(m, 0, sizeof(*m));
}
