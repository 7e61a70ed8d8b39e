/*
 * docker: a Docker Engine API client over libcurl (unix socket or TCP).
 * The only module that speaks to the engine; it hands back plain structs.
 */
#ifndef PANCAKE_DOCKER_H
#define PANCAKE_DOCKER_H

#include <stdint.h>
#include <stdio.h>
#include "util/buf.h"
#include "util/strvec.h"
#include "clients/docker-stream.h"

/* Cap on a non-streamed response body (inspect, list, ...). */
#define DOCKER_RESP_MAX (32u << 20)
/* Timeout of every call that is not a stream. */
#define DOCKER_TIMEOUT_MS 30000
#define DOCKER_CONNECT_TIMEOUT_MS 5000
#define DOCKER_DEFAULT_SOCKET "/var/run/docker.sock"

enum docker_err {
	DOCKER_OK = 0,
	DOCKER_EFAIL = -1,       /* anything else; message in err */
	DOCKER_ENOTFOUND = -2,   /* HTTP 404 */
	DOCKER_ECONFLICT = -3,   /* HTTP 409 */
	DOCKER_EUNREACH = -4,    /* no engine answers */
	DOCKER_ENOTMODIFIED = -5,/* HTTP 304: already started/stopped */
	DOCKER_ECANCELED = -6,   /* stopped by a cancel flag or docker_abort */
	DOCKER_ETIMEDOUT = -7,   /* it took the request and did not answer in time:
				    a stalled engine; asking again will not help */
};

struct docker; /* opaque; one per process is enough, safe to share across threads */

/*
 * Connects to `host` (unix:///path or tcp://host:port; NULL means
 * $DOCKER_HOST, else the default socket), pings it and negotiates the API
 * version: docker_new then docker_connect. new (free with docker_free); NULL
 * with `err` and *code set when no engine answers.
 */
struct docker *docker_open(const char *host, int *code, struct buf *err);
/*
 * The handle alone, without a word to the engine (a program that must not
 * wait for it, the launcher, connects in the background): calls made before
 * docker_connect use the oldest API version pancake speaks. new (free with
 * docker_free); NULL with `err` for a `host` that is not unix:// or tcp://.
 */
struct docker *docker_new(const char *host, struct buf *err);
/*
 * Pings the engine (within DOCKER_CONNECT_TIMEOUT_MS) and negotiates the API
 * version. Call it before other threads use `d`. 0, or a docker_err with `err`.
 */
int docker_connect(struct docker *d, struct buf *err);
/*
 * Seconds the engine has kept the calls on `d` waiting without a word
 * (streams aside, which may be quiet): counted from the first call it left
 * unanswered, on across calls that timed out, back to 0 once it answers or
 * a call fails at once (nothing listening). For a screen that says the
 * engine is stuck, as a slow probe of a service is not; thread-safe.
 */
double docker_silence_s(struct docker *d);
/*
 * Stops every call on `d` at once, those under way and those to come: they
 * return DOCKER_ECANCELED. For a program that is leaving and must not wait
 * on the engine; `d` is good for nothing else afterwards. Thread-safe.
 */
void docker_abort(struct docker *d);
void docker_free(struct docker *d);
/* borrowed, valid until docker_free: "1.41", "unix:///var/run/docker.sock" */
const char *docker_api_version(const struct docker *d);
const char *docker_endpoint(const struct docker *d);

struct docker_version {
	char version[32], api_version[16], min_api_version[16], os[16], arch[16];
};
struct docker_info {
	int ncpu;
	int64_t mem_total;
	int containers, running, images;
	char server_version[32], storage_driver[32], cgroup_version[8];
	char root_dir[256], os[128];
	/* /info's Swarm: state "inactive", "pending", "active", "error" or "locked"
	 * ("" from an engine that says nothing); nodes and managers are known
	 * only to a manager (control), 0 elsewhere */
	struct docker_swarm_info {
		char state[16];
		int control, nodes, managers;
	} swarm;
};
int docker_version(struct docker *d, struct docker_version *v, struct buf *err);
int docker_info(struct docker *d, struct docker_info *info, struct buf *err);
/* free bytes on the filesystem of the engine's data root (local engines only) */
int docker_root_free(struct docker *d, int64_t *bytes, struct buf *err);

/* ---- images ---- */
struct docker_image {
	char *id;              /* sha256:... */
	struct strvec tags;    /* repo:tag */
	struct kvlist labels;
	int64_t size, created;
};
void docker_image_release(struct docker_image *img);
void docker_images_free(struct docker_image *imgs, size_t n);
/* `label` filter "k" or "k=v", or NULL; new array (free with docker_images_free) */
int docker_images_list(struct docker *d, const char *label,
		       struct docker_image **out, size_t *n, struct buf *err);
/* DOCKER_ENOTFOUND when there is no such image */
int docker_image_inspect(struct docker *d, const char *name,
			 struct docker_image *img, struct buf *err);
/*
 * Builds from a tar context (a file) with the classic builder. `labels` may
 * be NULL. `progress` gets each object of the stream. The image id goes to
 * `id_out` (may be NULL). A failed build's own error line is in `err`.
 */
int docker_image_build(struct docker *d, FILE *context, const char *tag,
		       const struct kvlist *labels, docker_progress_fn progress,
		       void *ctx, struct buf *id_out, struct buf *err);
/* imports a root filesystem tar read from `in` as repo:tag */
int docker_image_import(struct docker *d, FILE *in, const char *repo,
			const char *tag, const struct kvlist *labels,
			docker_progress_fn progress, void *ctx,
			struct buf *id_out, struct buf *err);
int docker_image_tag(struct docker *d, const char *name, const char *repo,
		     const char *tag, struct buf *err);
int docker_image_remove(struct docker *d, const char *name, int force, struct buf *err);
/* writes a `docker save` tarball of `names` to `out` */
int docker_image_save(struct docker *d, const char *const *names, size_t n,
		      FILE *out, struct buf *err);
int docker_image_load(struct docker *d, FILE *in, docker_progress_fn progress,
		      void *ctx, struct buf *err);

/* ---- containers ---- */
struct docker_port {
	int container_port;
	char proto[8];          /* "tcp" */
	char host_ip[64];       /* "127.0.0.1" */
	int host_port;
};
struct docker_mount {
	char *source;           /* volume name */
	char *target;           /* path in the container */
};
struct docker_container_spec {
	const char *name, *image, *hostname;
	struct strvec env;      /* "K=V" */
	struct strvec cmd;      /* empty: the image's */
	struct kvlist labels;
	struct docker_port *ports;
	size_t nports;
	struct docker_mount *mounts;
	size_t nmounts;
	int64_t memory;         /* bytes, 0: no limit */
	const char *network;    /* joined with `hostname` as alias, or NULL */
	int tty;
};
/* creates; the new id goes to `id` */
int docker_container_create(struct docker *d, const struct docker_container_spec *spec,
			    struct buf *id, struct buf *err);
int docker_container_start(struct docker *d, const char *id, struct buf *err);
int docker_container_stop(struct docker *d, const char *id, int timeout_s, struct buf *err);
int docker_container_restart(struct docker *d, const char *id, int timeout_s, struct buf *err);
int docker_container_kill(struct docker *d, const char *id, const char *signal, struct buf *err);
int docker_container_remove(struct docker *d, const char *id, int force,
			    int volumes, struct buf *err);

struct docker_container {
	char *id, *name, *image, *image_id;
	char state[16];          /* created running paused restarting exited dead */
	char status[64];         /* "Up 3 minutes" (list only) */
	int running, exit_code, oom_killed, restart_count, tty, pid;
	int64_t created;         /* unix seconds */
	int64_t started_at, finished_at; /* unix seconds, 0 if never (inspect only) */
	struct kvlist labels;
	struct docker_port *ports;
	size_t nports;
};
void docker_container_release(struct docker_container *c);
void docker_containers_free(struct docker_container *cs, size_t n);
/* all containers (running or not) matching every label filter in `labels` */
int docker_containers_list(struct docker *d, const struct strvec *labels,
			   struct docker_container **out, size_t *n, struct buf *err);
int docker_container_inspect(struct docker *d, const char *id,
			     struct docker_container *c, struct buf *err);
/* waits for the container to stop; `timeout_ms` 0 waits forever */
int docker_container_wait(struct docker *d, const char *id, long timeout_ms,
			  int *exit_code, struct buf *err);

struct docker_stats {
	uint64_t cpu_total, system_cpu;   /* ns, cumulative */
	int online_cpus;
	uint64_t mem_usage, mem_cache, mem_limit, mem_max_usage;
	int64_t read_at;                   /* ms since epoch */
};
/* one-shot stats, no streaming */
int docker_container_stats(struct docker *d, const char *id,
			   struct docker_stats *st, struct buf *err);
/* CPU % between two samples (100 = one core) */
double docker_stats_cpu_percent(const struct docker_stats *prev,
				const struct docker_stats *cur);
/* memory in use, page cache excluded */
uint64_t docker_stats_mem_used(const struct docker_stats *st);

struct docker_logs_opts {
	int follow, stdout_, stderr_, timestamps;
	int tail;                /* < 0: all */
	int64_t since;           /* unix seconds, 0: from the start */
	int tty;                 /* the container has a TTY: raw stream */
	volatile int *cancel;    /* follow stops when *cancel becomes nonzero */
};
/* streams the container's logs to `fn` (demultiplexed) */
int docker_container_logs(struct docker *d, const char *id,
			  const struct docker_logs_opts *o, docker_frame_fn fn,
			  void *ctx, struct buf *err);
/* runs argv in the container, collects stdout+stderr (capped) and the exit code */
int docker_exec(struct docker *d, const char *id, const char *const *argv,
		struct buf *output, int *exit_code, long timeout_ms, struct buf *err);

/* ---- networks and volumes ---- */
struct docker_object {
	char *id, *name;
	struct kvlist labels;
};
void docker_objects_free(struct docker_object *o, size_t n);
int docker_network_create(struct docker *d, const char *name,
			  const struct kvlist *labels, struct buf *id, struct buf *err);
int docker_network_remove(struct docker *d, const char *name, struct buf *err);
int docker_networks_list(struct docker *d, const char *label,
			 struct docker_object **out, size_t *n, struct buf *err);
int docker_network_inspect(struct docker *d, const char *name,
			   struct docker_object *o, struct buf *err);
int docker_volume_create(struct docker *d, const char *name,
			 const struct kvlist *labels, struct buf *err);
int docker_volume_remove(struct docker *d, const char *name, int force, struct buf *err);
int docker_volumes_list(struct docker *d, const char *label,
			struct docker_object **out, size_t *n, struct buf *err);
int docker_volume_inspect(struct docker *d, const char *name,
			  struct docker_object *o, struct buf *err);

/* ---- swarm (issue 16): every call within DOCKER_TIMEOUT_MS ---- */
struct docker_swarm {
	char id[80];
	int64_t created;             /* unix seconds */
};
/*
 * GET /swarm: answers only on a swarm manager. DOCKER_EFAIL with the
 * engine's own words in `err` ("This node is not a swarm manager...")
 * when it is not one.
 */
int docker_swarm_inspect(struct docker *d, struct docker_swarm *sw, struct buf *err);

struct docker_node {
	char id[80], hostname[128];
	char role[16];               /* manager, worker */
	char state[16];              /* ready, down, unknown, disconnected */
	char addr[64];               /* the address the node reported, "10.77.0.12" */
	char availability[16];       /* active, pause, drain */
	int64_t memory;              /* Description.Resources.MemoryBytes, 0 if unknown */
};
/* GET /nodes; new array (free with free()) */
int docker_nodes_list(struct docker *d, struct docker_node **out, size_t *n, struct buf *err);

struct docker_service {
	char *id, *name;
	uint64_t version;            /* Version.Index, for docker_service_update */
	struct kvlist labels;
	int64_t reserved;            /* a task's memory reservation, bytes (0: none) */
	int replicas;                /* Mode.Replicated.Replicas (1 for global) */
};
void docker_services_free(struct docker_service *s, size_t n);
/* GET /services filtered by `label` ("k=v", or NULL); new array (docker_services_free) */
int docker_services_list(struct docker *d, const char *label,
			 struct docker_service **out, size_t *n, struct buf *err);
/*
 * POST /services/create with `spec_json`, a ServiceSpec as JSON text (the
 * caller builds it: core/swarm.c). The new id goes to `id` (may be NULL).
 * DOCKER_ECONFLICT when a service of that name exists.
 */
int docker_service_create(struct docker *d, const char *spec_json, struct buf *id,
			  struct buf *err);
/* GET /services/ID/logs: every task's lines, as docker_container_logs gives a container's */
int docker_service_logs(struct docker *d, const char *id,
			const struct docker_logs_opts *o, docker_frame_fn fn,
			void *ctx, struct buf *err);
/* POST /services/ID/update?version=V with a whole new ServiceSpec */
int docker_service_update(struct docker *d, const char *id, uint64_t version,
			  const char *spec_json, struct buf *err);
/* DELETE /services/ID; DOCKER_ENOTFOUND when there is none */
int docker_service_remove(struct docker *d, const char *id, struct buf *err);

struct docker_task {
	char id[80], service_id[80], node_id[80], container_id[80];
	char state[16];              /* new, pending, ..., running, failed, rejected, ... */
	char desired[16];            /* running, shutdown */
	char message[96];            /* Status.Message */
	char error[256];             /* Status.Err, "" when none */
	int slot;
	int64_t updated;             /* unix seconds of Status.Timestamp */
};
/* GET /tasks?filters={"service":[service]} (id or name); new array (free with free()) */
int docker_tasks_list(struct docker *d, const char *service, struct docker_task **out,
		      size_t *n, struct buf *err);
/* POST /networks/create with driver overlay, attachable, scope swarm */
int docker_overlay_network_create(struct docker *d, const char *name,
				  const struct kvlist *labels, struct buf *id,
				  struct buf *err);

/* ---- events ---- */
struct docker_event {
	const char *type;        /* "container", "network", ... */
	const char *action;      /* "start", "die", "health_status: healthy", ... */
	const char *id;          /* actor id */
	const char *name;        /* actor attribute "name", or NULL */
	const char *exit_code;   /* attribute "exitCode" on die, or NULL */
	const char *project;     /* value of the label given as `label_key`, or NULL */
	const char *service;     /* value of the label given as `service_key`, or NULL */
	int64_t time_ns;
};
/* strings borrowed, valid during the call; return nonzero to stop */
typedef int (*docker_event_fn)(const struct docker_event *ev, void *ctx);
/*
 * Follows the events stream filtered by `label` ("k=v") until `fn` returns
 * nonzero or *cancel becomes nonzero (checked at least every 500 ms).
 * `label_key`/`service_key` name the labels to copy into each event.
 */
int docker_events(struct docker *d, const char *label, const char *label_key,
		  const char *service_key, int64_t since, docker_event_fn fn, void *ctx,
		  volatile int *cancel, struct buf *err);

#endif
