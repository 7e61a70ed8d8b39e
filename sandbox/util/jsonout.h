/* jsonout: the one form of a --json answer, for the launcher and the recommender. */
#ifndef PANCAKE_JSONOUT_H
#define PANCAKE_JSONOUT_H

#include <jansson.h>

/*
 * Prints `j` on stdout indented by two, keys in the order they were set,
 * reals to six significant digits, and a newline after it; steals `j`
 * (dropped even on failure). 0, or -1 when jansson could not write it
 * (then no newline).
 */
int jsonout_print(json_t *j);

struct buf;
/* the same text and newline appended to `out`, for a caller that must not print; steals `j` */
void jsonout_add(struct buf *out, json_t *j);

#endif
