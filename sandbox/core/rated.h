/*
 * rated: what each of a model's users rated in a dataset, by model index,
 * for leaving those items out of their lists (publish, fold-in, serving).
 */
#ifndef PANCAKE_RATED_H
#define PANCAKE_RATED_H

#include <stdint.h>
#include "core/dataset.h"
#include "model/csr.h"
#include "model/model.h"

/*
 * Rows: the model's users, columns: its items, values: the stars. Ratings
 * of users or items the model does not know are counted in *unknown and
 * left out. `out` is new (csr_release).
 */
void rated_build(const struct model *m, const struct dataset *ds, struct csr *out,
		 uint64_t *unknown);

#endif
