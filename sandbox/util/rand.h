/* rand: splitmix64, the small generator and mixer the numeric code shares. */
#ifndef PANCAKE_RAND_H
#define PANCAKE_RAND_H

#include <stdint.h>

/* the next value of the sequence `*s` (Steele, Lea and Flood's splitmix64) */
static inline uint64_t splitmix64(uint64_t *s)
{
	uint64_t z = (*s += 0x9e3779b97f4a7c15ULL);
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

/* a well-mixed 64-bit hash of `z` */
static inline uint64_t mix64(uint64_t z)
{
	return splitmix64(&z);
}

#endif
