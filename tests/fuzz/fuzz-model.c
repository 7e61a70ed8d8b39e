/*
 * fuzz-model: the model file parser. Each input is decoded as it is (the
 * checksum nearly always refuses it) and again with its checksum made
 * right, so the header and size checks behind it are reached too. A
 * model that is accepted must encode back to the same size and arrays
 * (the header's reserved bytes and string padding are not kept).
 */
#include "fuzz.h"
#include "model/model.h"
#include "util/sha256.h"
#include "util/xalloc.h"

#include <string.h>

static void decode(const uint8_t *data, size_t size)
{
	struct model m;
	struct buf err = BUF_INIT, again = BUF_INIT;

	if (model_decode(&m, data, size, "fuzz", &err) == 0) {
		CHECK(err.len == 0);
		model_encode(&m, &again);
		CHECK(again.len == size && !memcmp(again.s + MODEL_HEADER_SIZE,
						   data + MODEL_HEADER_SIZE, size - MODEL_HEADER_SIZE));
		model_release(&m);
	} else {
		CHECK(err.len > 0);
	}
	buf_release(&again);
	buf_release(&err);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	decode(data, size);
	if (size >= MODEL_HEADER_SIZE && size < ((size_t)64 << 20)) {
		uint8_t *fixed = xmalloc(size);
		struct sha256 c;
		memcpy(fixed, data, size);
		memset(fixed + 224, 0, 32);
		sha256_init(&c);
		sha256_update(&c, fixed, size);
		sha256_final(&c, fixed + 224);
		decode(fixed, size);
		free(fixed);
	}
	return 0;
}
