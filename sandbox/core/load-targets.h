/* load-targets: the loaders, one struct load_target per store (core/load.h). */
#ifndef PANCAKE_LOAD_TARGETS_H
#define PANCAKE_LOAD_TARGETS_H

#include <stddef.h>
#include <stdint.h>

#include "core/load.h"

extern const struct load_target load_target_redis;
extern const struct load_target load_target_elasticsearch;
extern const struct load_target load_target_kafka;
extern const struct load_target load_target_cassandra;

/*
 * The ratings of dataset `name` as Cassandra holds them (pancake.
 * ratings_by_user, read whole and paged), into `ds` (new, dataset_release;
 * no movies): what the recommender trains on with --from cassandra. -1
 * with `err` when Cassandra cannot be reached, holds none of them, or
 * holds a row that is not a rating.
 */
int cassandra_read_ratings(const char *name, const struct load_opts *o, struct dataset *ds,
			   struct buf *err);

#endif
