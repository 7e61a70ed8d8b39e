/* test-redis-addrs: "HOST:PORT[,HOST:PORT...]" lists of a primary and its replicas (clients/redis). */
#include "clients/redis.h"
#include "tap.h"

#include <string.h>

int main(void)
{
	struct redis_addrs a;

	ok(!redis_addrs_parse("redis:6379", &a) && a.n == 1, "one address");
	is_str(a.host[0], "redis", "its host");
	is_int(a.port[0], 6379, "its port");
	ok(!redis_addrs_parse("redis-replica:6379,redis:6379", &a) && a.n == 2, "two addresses");
	is_str(a.host[0], "redis-replica", "in the order given (first)");
	is_str(a.host[1], "redis", "in the order given (second)");
	ok(!redis_addrs_parse("10.77.0.11:6379,10.77.0.12:6380,10.77.0.13:6381,h:1", &a) && a.n == 4,
	   "four numeric addresses");
	is_int(a.port[2], 6381, "the third's port");
	ok(redis_addrs_parse("a:1,b:2,c:3,d:4,e:5", &a), "five are refused (at most REDIS_ADDRS_MAX)");
	ok(redis_addrs_parse("", &a), "empty is refused");
	ok(redis_addrs_parse("redis", &a), "no port is refused");
	ok(redis_addrs_parse("redis:6379,", &a), "a trailing comma is refused");
	ok(redis_addrs_parse(",redis:6379", &a), "a leading comma is refused");
	ok(redis_addrs_parse("redis:6379,,r:1", &a), "an empty entry is refused");
	ok(redis_addrs_parse("redis:99999", &a), "a port past 65535 is refused");
	return tap_done();
}
