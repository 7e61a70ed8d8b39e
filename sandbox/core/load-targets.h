/* load-targets: the loaders, one struct load_target per store (core/load.h). */
#ifndef PANCAKE_LOAD_TARGETS_H
#define PANCAKE_LOAD_TARGETS_H

#include "core/load.h"

extern const struct load_target load_target_redis;
extern const struct load_target load_target_elasticsearch;
extern const struct load_target load_target_kafka;
extern const struct load_target load_target_cassandra;
#endif
