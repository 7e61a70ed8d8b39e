/*
 * fuzz-feedback: the body of POST /feedback, as a client sent it. Parsing
 * must accept or refuse with a 400 and a message; what it accepts must be
 * in range, and its request id must be one the server could have written
 * (it goes into the Kafka event as it is).
 */
#include "fuzz.h"
#include "route.h"

#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct feedback f;
	struct route_error e;

	memset(&e, 0, sizeof(e));
	if (route_feedback((const char *)data, size, &f, &e) == 0) {
		size_t n = strlen(f.request_id);
		CHECK(f.reward >= 0 && f.reward <= 1);
		CHECK(f.item >= -1);
		CHECK(n >= 10 && n < sizeof(f.request_id) && f.request_id[8] == '-');
		for (size_t i = 0; i < n; i++)
			CHECK(i == 8 || (f.request_id[i] >= '0' && f.request_id[i] <= '9') ||
			      (i < 8 && f.request_id[i] >= 'a' && f.request_id[i] <= 'f'));
		CHECK(strlen(f.instance) == 8 && !memcmp(f.instance, f.request_id, 8));
	} else {
		CHECK(e.status == 400);
		CHECK(e.message[0] != '\0' && strlen(e.message) < sizeof(e.message));
		for (const char *c = e.message; *c; c++)
			CHECK(*c >= ' ' && *c < 127);	/* it goes into a JSON body */
	}
	return 0;
}
