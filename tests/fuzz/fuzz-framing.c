/*
 * fuzz-framing: a request's HTTP version and header fields, as a client
 * sent them, through route_framing. The input's first line is the
 * version, each further line a field ("Name: value", split at the first
 * colon). The check must accept, or refuse with a 400 or 501 and a
 * message in printable ASCII (it goes into a JSON body); what it accepts
 * has one Host at most, one Content-Length value, and not both
 * Content-Length and Transfer-Encoding.
 */
#include "fuzz.h"
#include "route.h"

#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *p = (const char *)data, *end = p + size;
	const char *nl = memchr(p, '\n', size);
	char version[32];
	struct route_framing f;
	struct route_error e;
	size_t vlen = (size_t)((nl ? nl : end) - p);

	if (vlen >= sizeof(version) || memchr(p, '\0', vlen))
		return 0;
	memcpy(version, p, vlen);
	version[vlen] = '\0';
	route_framing_init(&f);
	for (p = nl ? nl + 1 : end; p < end;) {
		const char *eol = memchr(p, '\n', (size_t)(end - p));
		if (!eol)
			eol = end;
		const char *colon = memchr(p, ':', (size_t)(eol - p));
		if (colon)
			route_framing_field(&f, p, (size_t)(colon - p), colon + 1,
					    (size_t)(eol - colon - 1));
		else
			route_framing_field(&f, p, (size_t)(eol - p), "", 0);
		p = eol + 1;
	}
	memset(&e, 0, sizeof(e));
	if (route_framing_check(&f, version, &e) == 0) {
		CHECK(f.hosts <= 1 && !f.bad_host && !f.lengths_differ);
		CHECK(!(f.encodings && f.lengths));
		CHECK(!f.bad_name_set && !f.unknown[0]);
	} else {
		CHECK(e.status == 400 || e.status == 501);
		CHECK(e.message[0] != '\0' && strlen(e.message) < sizeof(e.message));
		for (const char *c = e.message; *c; c++)
			CHECK(*c >= ' ' && *c < 127);
	}
	return 0;
}
