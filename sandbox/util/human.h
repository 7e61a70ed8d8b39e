/* human: numbers for people: "1.2 GiB", "3m 12s", "3.2M". */
#ifndef PANCAKE_HUMAN_H
#define PANCAKE_HUMAN_H

#include <stddef.h>

void human_bytes(char *out, size_t size, double bytes);
void human_duration(char *out, size_t size, long long seconds);
/* a count with k/M/G (x1000) for large values: "870k", "3.2M" */
void human_count(char *out, size_t size, double n);

#endif
