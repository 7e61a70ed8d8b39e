/*
 * kafka-load-check: drives the Kafka loader (core/load-kafka.c) for the
 * integration test and the benchmark, against 127.0.0.1:9092.
 *   kafka-load-check load DIR      load the dataset in DIR; Ctrl-C (SIGINT)
 *       stops it: prints "written N skipped N total N seconds S", exits 0,
 *       1 on an error, 2 when interrupted
 *   kafka-load-check count DIR     prints "count N expect N: detail"
 *   kafka-load-check delete-topic TOPIC
 *   kafka-load-check create-topic TOPIC   (PANCAKE_KAFKA_PARTITIONS, 1)
 * Options: --port P (9092), --timeout MS (10000). PANCAKE_KAFKA_TOPIC and
 * PANCAKE_KAFKA_PARTITIONS are read by the loader.
 */
#include "clients/kafka.h"
#include "core/dataset.h"
#include "core/load.h"
#include "core/load-targets.h"
#include "util/buf.h"

#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static volatile int cancelled;

static void on_sigint(int sig)
{
	(void)sig;
	cancelled = 1;
}

static int usage(void)
{
	fprintf(stderr, "usage: kafka-load-check load|count DIR | delete-topic|create-topic TOPIC "
		"[--port P] [--timeout MS]\n");
	return 1;
}

int main(int argc, char **argv)
{
	struct load_opts o = { 0 };
	struct dataset ds;
	struct buf err = BUF_INIT;
	struct sigaction sa;
	const char *cmd, *arg;
	int i, ret;

	if (argc < 3)
		return usage();
	cmd = argv[1];
	arg = argv[2];
	o.host = "127.0.0.1";
	o.port = 9092;
	o.timeout_ms = 10000;
	o.cancel = &cancelled;
	for (i = 3; i + 1 < argc; i += 2) {
		if (!strcmp(argv[i], "--port"))
			o.port = atoi(argv[i + 1]);
		else if (!strcmp(argv[i], "--timeout"))
			o.timeout_ms = atoi(argv[i + 1]);
		else
			return usage();
	}

	if (!strcmp(cmd, "delete-topic") || !strcmp(cmd, "create-topic")) {
		struct kafka_producer *p;
		char bootstrap[64];

		snprintf(bootstrap, sizeof(bootstrap), "127.0.0.1:%d", o.port);
		p = kafka_producer_new(bootstrap, NULL, &err);
		if (!p)
			ret = -1;
		else if (!strcmp(cmd, "delete-topic"))
			ret = kafka_topic_delete(p, arg, &err);
		else
			ret = kafka_topic_ensure(p, arg, getenv("PANCAKE_KAFKA_PARTITIONS")
						 ? atoi(getenv("PANCAKE_KAFKA_PARTITIONS")) : 1,
						 NULL, &err) < 1 ? -1 : 0;
		kafka_producer_free(p);
		if (ret)
			printf("error: %s\n", err.s);
		buf_release(&err);
		return ret ? 1 : 0;
	}

	dataset_init(&ds);
	if (dataset_read(&ds, arg, DS_AUTO, DS_ABORT, NULL, &err)) {
		printf("error: %s\n", err.s);
		return 1;
	}
	o.dataset = ds.name;
	if (!strcmp(cmd, "load")) {
		struct load_result res;

		memset(&sa, 0, sizeof(sa));
		sa.sa_handler = on_sigint;
		sigaction(SIGINT, &sa, NULL);
		printf("loading %zu ratings\n", ds.nratings);
		fflush(stdout);
		ret = load_target_kafka.load(&ds, &o, &res, &err);
		printf("written %" PRIu64 " skipped %" PRIu64 " total %zu seconds %.3f\n",
		       res.ratings_written, res.ratings_skipped, ds.nratings, res.seconds);
		if (ret)
			printf("error: %s\n", err.s);
		ret = ret == -2 ? 2 : ret ? 1 : 0;
	} else if (!strcmp(cmd, "count")) {
		struct load_counts c, e;

		ret = load_target_kafka.count(&ds, &o, &c, &err);
		load_target_kafka.expect(&ds, &e);
		if (ret)
			printf("error: %s\n", err.s);
		else
			printf("count %" PRId64 " expect %" PRId64 ": %s\n", c.ratings,
			       e.ratings, c.detail);
		ret = ret ? 1 : 0;
	} else {
		ret = usage();
	}
	dataset_release(&ds);
	buf_release(&err);
	return ret;
}
