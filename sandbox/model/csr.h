/*
 * csr: a sparse matrix in compressed sparse rows, what training, top-k
 * exclusion and the items each user rated are held in.
 */
#ifndef PANCAKE_CSR_H
#define PANCAKE_CSR_H

#include <stddef.h>
#include <stdint.h>

/* Compressed sparse rows: row r holds idx/val[ptr[r] .. ptr[r + 1]). */
struct csr {
	uint32_t nrows, ncols;
	uint64_t *ptr;		/* nrows + 1 */
	uint32_t *idx;		/* column of each entry, ascending within a row */
	float *val;
};

struct triple {
	uint32_t row, col;
	float val;
};

/*
 * Builds `m` (new, csr_release) from `n` triples with row < nrows and
 * col < ncols; columns end up sorted within each row. Two passes, no
 * sort of the whole array.
 */
void csr_build(struct csr *m, uint32_t nrows, uint32_t ncols, const struct triple *t,
	       size_t n);
/* the transpose of `a` into `t` (new) */
void csr_transpose(struct csr *t, const struct csr *a);
void csr_release(struct csr *m);
static inline uint64_t csr_nnz(const struct csr *m) { return m->ptr[m->nrows]; }

#endif
