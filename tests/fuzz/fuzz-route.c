/*
 * fuzz-route: the serving binary's request parsing. The input's first
 * byte picks the method, the rest is the raw URI (path and query) as a
 * client sent it. Parsing must accept or refuse with a 4xx and a message
 * in printable ASCII (it goes into a JSON body), and what it accepts must
 * be in range.
 */
#include "fuzz.h"
#include "route.h"

#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char *const methods[] = { "GET", "POST", "HEAD", "PUT", "DELETE", "" };
	struct route r;
	struct route_error e;

	if (size == 0)
		return 0;
	const char *method = methods[data[0] % 6];
	memset(&e, 0, sizeof(e));
	if (route_parse(method, (const char *)data + 1, size - 1, &r, &e) == 0) {
		CHECK(r.kind < ROUTE_COUNT);
		CHECK(r.k >= 1 && r.k <= ROUTE_K_MAX);
		CHECK(strlen(r.variant) < sizeof(r.variant));
		CHECK(size - 1 <= ROUTE_URI_MAX);
	} else {
		CHECK(e.status >= 400 && e.status < 500);
		CHECK(e.message[0] != '\0' && strlen(e.message) < sizeof(e.message));
		for (const char *c = e.message; *c; c++)
			CHECK(*c >= ' ' && *c < 127);
	}
	return 0;
}
