/* hostport: "HOST:PORT", as --redis, --kafka and --endpoint take it. */
#ifndef PANCAKE_HOSTPORT_H
#define PANCAKE_HOSTPORT_H

#include <stddef.h>

#define HOSTPORT_EHOST (-1)   /* no ':', nothing before it, or a host longer than `size` */
#define HOSTPORT_EPORT (-2)   /* the port is not a number from 1 to 65535 */

/* splits `s` at its last ':' into `host` (NUL-terminated) and *port; 0 or HOSTPORT_E* */
int hostport_parse(const char *s, char *host, size_t size, int *port);

#endif
