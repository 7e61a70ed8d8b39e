/*
 * server: the HTTP API on libmicrohttpd: routes, the variants in use
 * (swapped atomically), Redis first and the model in memory second,
 * experiments, feedback, Kafka events and Prometheus metrics.
 */
#ifndef PANCAKE_SERVER_H
#define PANCAKE_SERVER_H

#include <stdint.h>
#include "bandit.h"
#include "clients/redis.h"
#include "core/dataset.h"

#define SERVER_MAX_VARIANTS BANDIT_MAX_ARMS

struct server_opts {
	const char *bind;		/* "127.0.0.1" */
	int port;
	int threads;			/* worker threads, a Redis connection each */
	const char *names[SERVER_MAX_VARIANTS];	/* arm names */
	const char *revs[SERVER_MAX_VARIANTS];	/* registry REVs or model files */
	double weights[SERVER_MAX_VARIANTS];
	int nvariants;
	enum bandit_policy policy;
	double epsilon;
	const char *registry;		/* the registry's directory */
	const char *data;		/* the dataset (NULL: the first model's) */
	const char *redis_host;		/* NULL: no Redis (in memory only); the first of: */
	int redis_port;
	struct redis_addrs redis_addrs;	/* a primary and replicas: the nearest is asked */
	const char *kafka;		/* bootstrap, NULL: no events */
	const char *impressions_topic, *feedback_topic;
	double window_s;		/* feedback attribution window */
	double watch_s;			/* registry poll interval; 0: only on SIGHUP */
	int max_connections, idle_timeout_s;
	size_t max_body, max_header;
	int wait_for_model;		/* start without a model, load it when it appears */
	double drain_grace_s;		/* on SIGTERM: /readyz 503, requests answered this long */
	int cache_ms;			/* keep answers this long; 0: off */
	int quiet;
};

void server_opts_default(struct server_opts *o);

/* runs until SIGINT/SIGTERM (drains), reloading on SIGHUP; the exit code */
int server_run(const struct server_opts *o);

#endif
