/* clock: the monotonic clock, for elapsed times, deadlines and rates. */
#ifndef PANCAKE_CLOCK_H
#define PANCAKE_CLOCK_H

#include <stdint.h>

/*
 * CLOCK_MONOTONIC read four ways. Its zero is arbitrary (boot, usually):
 * only differences between two readings mean anything, and it never jumps
 * when the wall clock is set.
 */
/* seconds, with nanoseconds in the fraction */
double clock_s(void);
/* whole milliseconds */
int64_t clock_ms(void);
/* whole microseconds */
int64_t clock_us(void);
/* nanoseconds */
int64_t clock_ns(void);

#endif
