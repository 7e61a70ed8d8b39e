/* fuzz: what every libFuzzer target in tests/fuzz/ shares with driver.c. */
#ifndef PANCAKE_FUZZ_H
#define PANCAKE_FUZZ_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

/* Runs one input; returns 0. A bug is a crash, a sanitizer report or CHECK. */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* an invariant of the parser under test: abort so the fuzzer keeps the input */
#define CHECK(cond) do { if (!(cond)) { \
	fprintf(stderr, "%s:%d: check failed: %s\n", __FILE__, __LINE__, #cond); \
	abort(); } } while (0)

#endif
