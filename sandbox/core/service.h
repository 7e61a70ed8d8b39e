/*
 * service: stack member definitions read from services/<name>/service.conf,
 * with the file and line of every mistake.
 */
#ifndef PANCAKE_SERVICE_H
#define PANCAKE_SERVICE_H

#include <stdint.h>
#include "util/buf.h"
#include "util/strvec.h"

#define SERVICE_MAX 16

enum probe_kind {
	PROBE_NONE = 0,
	PROBE_REDIS,     /* PING over RESP (hiredis) */
	PROBE_KAFKA,     /* a metadata request (librdkafka) */
	PROBE_CQL,       /* SELECT release_version FROM system.local */
	PROBE_ES,        /* GET /_cluster/health, yellow or better */
	PROBE_HTTP,      /* GET probe_path answers 2xx */
};

struct service_port {
	char host_ip[64];
	int host_port;
	int container_port;
	int line;                /* of its 'port' line, for messages */
};

struct service_volume {
	char *name;      /* short name; the engine's is <project>-<service>-<name> */
	char *target;
};

enum heap_profile { PROFILE_DEFAULT = 0, PROFILE_SMALL = 1 };

struct service {
	char *name;
	char *path;              /* the definition file */
	char *description;
	char *image;
	struct service_port ports[8];
	int nports;
	struct strvec env;       /* K=V, in file order */
	struct strvec command;   /* what the container runs; empty: the image's */
	char heap[2][16];        /* per profile, "" if not a JVM */
	int64_t memory[2];       /* bytes per profile, 0: no limit */
	struct service_volume volumes[4];
	int nvolumes;
	struct strvec depends;
	int depends_line;        /* of the 'depends' line, for messages */
	enum probe_kind probe;
	int probe_port;          /* a container port listed in `ports` */
	char probe_path[128];
	int ready_timeout_s;     /* how long `up --wait` gives it */
	int stop_timeout_s;
	/* on a swarm only (`pancake up --swarm`, core/swarm) */
	int swarm_only;          /* swarm.only = yes: not part of the one-machine stack */
	struct strvec swarm_command; /* swarm.command: what it runs there; empty: `command` */
	int swarm_replicas;      /* swarm.replicas = N: its task count; 0: --replicas or 1 */
	char swarm_apart[64];    /* swarm.apart = NAME: never on the node that holds NAME */
};

/* Reads one definition. 0, or -1 with "FILE:LINE: field 'x': problem". */
int service_load(struct service *s, const char *name, const char *path, struct buf *err);
void service_release(struct service *s);

/*
 * Reads every services/<name>/service.conf under `dir`, sorted by name, and
 * checks them together: at least one service, dependencies (unknown names,
 * cycles), no host address and port published by two of them (a swarm-only
 * member is checked against the swarm-only ones only), the swarm keys, each
 * refusal with FILE:LINE. Fills `out` (up to SERVICE_MAX). Returns the
 * count, or -1 with `err` set.
 */
int service_load_dir(struct service *out, const char *dir, struct buf *err);

/*
 * Applies environment overrides: PANCAKE_<SERVICE>_PORT_<CPORT>=[ip:]port
 * and PANCAKE_BIND=ip for every port. -1 with `err` on a bad value.
 */
int service_apply_env(struct service *s, struct buf *err);

/* the host port a container port is published on, or 0 */
int service_host_port(const struct service *s, int container_port);
/* hash of everything that shapes the container (hex, 64 chars + NUL) */
void service_config_hash(const struct service *s, enum heap_profile p,
			 const char *image_id, char out[65]);
const char *probe_kind_name(enum probe_kind k);
/* "1g", "512m", "1073741824" -> bytes; -1 if malformed */
int64_t parse_size(const char *s);

#endif
