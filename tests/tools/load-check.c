/*
 * load-check: drives the Redis and Elasticsearch loaders and their clients
 * against the real services for t0710 and the load benchmark.
 *   load-check load TARGET DIR NAME [PORT]    load, print rate and counts
 *   load-check count TARGET DIR NAME [PORT]   print counts and what is
 *       expected; exit 1 when they differ
 *   load-check es-bad-item PORT INDEX         bulk a document whose year is
 *       not a number; exit 0 when the error is reported with its _id
 *   load-check es-bulk PORT INDEX FILE...     post NDJSON bulk bodies (the
 *       benchmark's files) with 4 in flight; prints docs/s
 * TARGET is redis or elasticsearch.
 */
#include "clients/es.h"
#include "core/dataset.h"
#include "core/load-targets.h"
#include "util/buf.h"
#include "util/clock.h"
#include "util/xalloc.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const struct load_target *target(const char *name)
{
	if (!strcmp(name, "redis"))
		return &load_target_redis;
	if (!strcmp(name, "elasticsearch"))
		return &load_target_elasticsearch;
	die("unknown target '%s': use redis or elasticsearch", name);
}

static void print_counts(const char *what, const struct load_counts *c)
{
	printf("%s ratings=%" PRId64 " movies=%" PRId64 " users=%" PRId64
	       " (%s)\n", what, c->ratings, c->movies, c->users, c->detail);
}

static int cmd_load_count(int load, int argc, char **argv)
{
	const struct load_target *t;
	struct dataset ds;
	struct load_opts o = { 0 };
	struct load_result res;
	struct load_counts got, want;
	struct buf err = BUF_INIT;
	int ret = 0;

	if (argc < 3)
		die("usage: load-check load|count TARGET DIR NAME [PORT]");
	t = target(argv[0]);
	dataset_init(&ds);
	if (dataset_read(&ds, argv[1], DS_AUTO, DS_ABORT, NULL, &err))
		die("%s", err.s);
	o.dataset = argv[2];
	o.host = "127.0.0.1";
	o.port = argc > 3 ? atoi(argv[3]) : t->default_port;
	o.timeout_ms = 10000;
	if (load) {
		if (t->load(&ds, &o, &res, &err)) {
			printf("%s load failed: %s\n", t->name, err.s);
			ret = 1;
			goto out;
		}
		printf("%s loaded %" PRIu64 " ratings, %" PRIu64 " movies in "
		       "%.3f s: %.0f ratings/s, %.0f movies/s\n", t->name,
		       res.ratings_written, res.movies_written, res.seconds,
		       res.ratings_written / (res.seconds > 0 ? res.seconds : 1e-9),
		       res.movies_written / (res.seconds > 0 ? res.seconds : 1e-9));
	}
	if (t->count(&ds, &o, &got, &err)) {
		printf("%s count failed: %s\n", t->name, err.s);
		ret = 1;
		goto out;
	}
	t->expect(&ds, &want);
	print_counts("counted ", &got);
	print_counts("expected", &want);
	if (got.ratings != want.ratings || got.movies != want.movies ||
	    got.users != want.users) {
		printf("%s counts differ from the source\n", t->name);
		ret = 1;
	}
out:
	buf_release(&err);
	dataset_release(&ds);
	return ret;
}

static int cmd_bad_item(int argc, char **argv)
{
	struct buf body = BUF_INIT, err = BUF_INIT;
	struct es_bulk *b;
	char *base;
	int ret;

	if (argc < 2)
		die("usage: load-check es-bad-item PORT INDEX");
	base = xstrfmt("http://127.0.0.1:%s", argv[0]);
	buf_addstr(&body, "{\"index\":{\"_id\":\"1\"}}\n{\"id\":\"1\",\"year\":1999}\n"
		   "{\"index\":{\"_id\":\"bad-7\"}}\n{\"id\":\"bad-7\",\"year\":\"nineteen\"}\n");
	b = es_bulk_new(base, argv[1], 4, 10000);
	ret = es_bulk_send(b, &body, 2, &err);
	if (!ret)
		ret = es_bulk_finish(b, &err);
	printf("bulk status %d, acked %" PRIu64 ": %s\n", ret,
	       es_bulk_acked(b), err.s);
	es_bulk_free(b);
	free(base);
	buf_release(&body);
	ret = ret == ES_EITEM && strstr(err.s, "bad-7") &&
	      strstr(err.s, "parsing_exception") ? 0 : 1;
	buf_release(&err);
	return ret;
}

static int cmd_bulk(int argc, char **argv)
{
	struct buf err = BUF_INIT;
	struct es_bulk *b;
	char *base;
	size_t docs = 0;
	double t0;
	int ret = 0;

	if (argc < 3)
		die("usage: load-check es-bulk PORT INDEX FILE...");
	base = xstrfmt("http://127.0.0.1:%s", argv[0]);
	b = es_bulk_new(base, argv[1], 4, 60000);
	t0 = clock_s();
	for (int i = 2; i < argc && !ret; i++) {
		struct buf body = BUF_INIT;
		size_t lines = 0;

		if (buf_read_file(&body, argv[i], 64u << 20))
			die("cannot read '%s'", argv[i]);
		for (size_t k = 0; k < body.len; k++)
			lines += body.s[k] == '\n';
		docs += lines / 2;
		ret = es_bulk_send(b, &body, lines / 2, &err);
		buf_release(&body);
	}
	if (!ret)
		ret = es_bulk_finish(b, &err);
	if (ret)
		printf("bulk failed: %s\n", err.s);
	else
		printf("%zu docs in %.3f s: %.0f docs/s\n", docs, clock_s() - t0,
		       docs / (clock_s() - t0));
	es_bulk_free(b);
	free(base);
	buf_release(&err);
	return ret ? 1 : 0;
}

int main(int argc, char **argv)
{
	if (argc < 2)
		die("usage: load-check load|count|es-bad-item|es-bulk ...");
	if (!strcmp(argv[1], "load") || !strcmp(argv[1], "count"))
		return cmd_load_count(!strcmp(argv[1], "load"), argc - 2,
				      argv + 2);
	if (!strcmp(argv[1], "es-bad-item"))
		return cmd_bad_item(argc - 2, argv + 2);
	if (!strcmp(argv[1], "es-bulk"))
		return cmd_bulk(argc - 2, argv + 2);
	die("unknown subcommand '%s'", argv[1]);
}
