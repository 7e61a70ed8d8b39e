/* rated: a dataset's ratings as a model's user x item matrix of indices. */
#include <stdlib.h>

#include "core/rated.h"
#include "util/xalloc.h"

void rated_build(const struct model *m, const struct dataset *ds, struct csr *out,
		 uint64_t *unknown)
{
	struct triple *t = xmalloc(sizeof(*t) * (ds->nratings ? ds->nratings : 1));
	size_t n = 0;

	*unknown = 0;
	for (size_t e = 0; e < ds->nratings; e++) {
		int64_t u = model_user_index(m, ds->ratings[e].user);
		int64_t i = model_item_index(m, ds->ratings[e].item);
		if (u < 0 || i < 0) {
			(*unknown)++;
			continue;
		}
		t[n++] = (struct triple){ (uint32_t)u, (uint32_t)i,
					  ds->ratings[e].halves * 0.5f };
	}
	csr_build(out, m->nusers, m->nitems, t, n);
	free(t);
}
