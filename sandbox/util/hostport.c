/* hostport: "HOST:PORT" (see hostport.h). */
#include "util/hostport.h"

#include <stdlib.h>
#include <string.h>

int hostport_parse(const char *s, char *host, size_t size, int *port)
{
	const char *colon = strrchr(s, ':');
	char *end;
	long p;

	if (!colon || colon == s || (size_t)(colon - s) >= size)
		return HOSTPORT_EHOST;
	p = strtol(colon + 1, &end, 10);
	if (end == colon + 1 || *end || p < 1 || p > 65535)
		return HOSTPORT_EPORT;
	memcpy(host, s, (size_t)(colon - s));
	host[colon - s] = '\0';
	*port = (int)p;
	return 0;
}
