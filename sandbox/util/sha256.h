/* sha256: content hashes for images and service configurations (FIPS 180-4). */
#ifndef PANCAKE_SHA256_H
#define PANCAKE_SHA256_H

#include <stddef.h>
#include <stdint.h>

struct sha256 {
	uint32_t h[8];
	uint64_t len;
	unsigned char block[64];
	size_t used;
};

void sha256_init(struct sha256 *c);
void sha256_update(struct sha256 *c, const void *data, size_t len);
/* writes 32 bytes */
void sha256_final(struct sha256 *c, unsigned char out[32]);
/* writes 64 hex digits and a NUL */
void sha256_hex(struct sha256 *c, char out[65]);

#endif
