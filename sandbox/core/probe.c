/* probe: asks a service, in its own protocol, whether it is ready. */
#include "core/probe.h"
#include "clients/cql.h"
#include "clients/es.h"
#include "clients/kafka.h"
#include "clients/redis.h"
#include "util/xalloc.h"

#include <string.h>

static const char *probe_host(const struct service *s)
{
	int i;

	for (i = 0; i < s->nports; i++)
		if (s->ports[i].container_port == s->probe_port &&
		    strcmp(s->ports[i].host_ip, "0.0.0.0") && strcmp(s->ports[i].host_ip, "::"))
			return s->ports[i].host_ip;
	return "127.0.0.1";
}

enum probe_result probe_service(const struct service *s, int timeout_ms, struct buf *detail)
{
	const char *host = probe_host(s);
	int port = service_host_port(s, s->probe_port);
	struct buf err = BUF_INIT, v = BUF_INIT;
	int ready = 0, answered = 0, r;

	if (timeout_ms < 100)
		timeout_ms = 100;
	switch (s->probe) {
	case PROBE_REDIS:
		ready = redis_probe(host, port, timeout_ms, &err) == 0;
		if (ready)
			buf_addstr(detail, "PING answered PONG");
		break;
	case PROBE_KAFKA: {
		struct kafka_meta md;
		char *bootstrap = xstrfmt("%s:%d", host, port);
		memset(&md, 0, sizeof(md));
		r = kafka_probe(bootstrap, timeout_ms, &md, &err);
		ready = r == 0 && md.brokers > 0;
		answered = r == 0;
		if (ready)
			buf_addf(detail, "metadata: %d broker(s), %d topic(s)", md.brokers, md.topics);
		else if (!err.len)
			buf_addstr(&err, "metadata lists no broker yet");
		free(bootstrap);
		break;
	}
	case PROBE_CQL:
		r = cql_probe(host, port, timeout_ms, &v, &err);
		ready = r == 0;
		/* it answered the query, with no row or no version yet */
		answered = r == CQL_EPROTO && strstr(err.s, "still starting");
		if (ready)
			buf_addf(detail, "release_version %s", v.s);
		break;
	case PROBE_ES: {
		struct es_health h;
		char *url = xstrfmt("http://%s:%d", host, port);
		memset(&h, 0, sizeof(h));
		r = es_health(url, "yellow", timeout_ms, &h, &err);
		ready = r == 0 && (!strcmp(h.status, "yellow") || !strcmp(h.status, "green"));
		answered = r == 0;
		if (ready)
			buf_addf(detail, "cluster health %s", h.status);
		else if (!err.len)
			buf_addf(&err, "cluster health %s", *h.status ? h.status : "unknown");
		free(url);
		break;
	}
	case PROBE_HTTP: {
		struct es_health h;
		char *url = xstrfmt("http://%s:%d", host, port);
		ready = es_http_ok(url, s->probe_path, timeout_ms, &err) == 0;
		(void)h;
		if (ready)
			buf_addf(detail, "GET %s answered 2xx", s->probe_path);
		free(url);
		break;
	}
	case PROBE_NONE:
		ready = 1;
		break;
	}
	if (!ready)
		buf_addstr(detail, err.len ? err.s : "not ready");
	buf_release(&err);
	buf_release(&v);
	return ready ? PROBE_READY : answered ? PROBE_NOT_READY : PROBE_NO_ANSWER;
}
