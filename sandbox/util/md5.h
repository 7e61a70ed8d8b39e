/* md5: RFC 1321 digests, only to check downloads against published .md5 sums. */
#ifndef PANCAKE_MD5_H
#define PANCAKE_MD5_H

#include <stddef.h>
#include <stdint.h>

struct md5 {
	uint32_t h[4];
	uint64_t len;
	unsigned char block[64];
	size_t used;
};

void md5_init(struct md5 *c);
void md5_update(struct md5 *c, const void *data, size_t len);
/* writes 32 hex digits and a NUL */
void md5_hex(struct md5 *c, char out[33]);

#endif
