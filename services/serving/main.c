/* main: `serving` options, then the server. */
#include <arpa/inet.h>
#include <getopt.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/config.h"
#include "core/loadrun.h"
#include "server.h"
#include "util/strvec.h"
#include "util/hostport.h"
#include "util/xalloc.h"

static const char usage[] =
	"usage: serving [--variant NAME=REV[:WEIGHT]]... [--policy P] [--port N] [options]\n"
	"\n"
	"Top-K recommendations over HTTP from Redis (what 'recommender publish' wrote)\n"
	"or from the model in memory, with A/B splits or bandits across model\n"
	"variants, feedback, Kafka events, Prometheus metrics and hot model swaps.\n"
	"\n"
	"  --variant NAME=REV[:W]  a model variant: REV is a registry revision\n"
	"                     (production, candidate, an id), a model file, or\n"
	"                     redis:current (whatever 'recommender publish' made current,\n"
	"                     followed as it moves) or redis:VERSION; W its A/B weight\n"
	"                     (default 1). Repeat for an experiment, one NAME each.\n"
	"                     Default: production=production\n"
	"  --policy P         ab, thompson (default), egreedy or ucb1\n"
	"  --epsilon E        egreedy's exploration share (default 0.1)\n"
	"  --bind ADDR        default 127.0.0.1\n"
	"  --port N           default 8080\n"
	"  --threads N        worker threads, a Redis connection each (default 2)\n"
	"  --redis HOST:PORT[,HOST:PORT...]  default: the stack's redis; several: a\n"
	"                     primary and its replicas, the nearest that answers (fastest\n"
	"                     round trip) is read from; --no-redis scores in memory\n"

	"  --kafka HOST:PORT  impressions and feedback go to Kafka (default: the\n"
	"                     stack's kafka); --no-kafka sends none\n"
	"  --impressions T    topic of impressions (default impressions)\n"
	"  --feedback-topic T topic of feedback (default feedback)\n"
	"  --window S         feedback attribution window in seconds (default 600)\n"
	"  --watch S          look for moved refs every S s (default 2; 0: only on SIGHUP);\n"
	"                     what publish announces on redis is taken at once\n"
	"  --data NAME|DIR    the ratings (default: the first model's dataset); none:\n"
	"                     no files (answers from Redis, popular items from its\n"
	"                     pk:NAME:popular)\n"
	"  --wait-for-model   start without a model: /readyz answers 200 with version\n"
	"                     null, requests 503, until one is published\n"
	"  --registry DIR     default $PANCAKE_MODELS/registry or models/registry\n"
	"  --max-connections N (default 1024)   --idle-timeout S (default 30)\n"
	"  --max-body BYTES   POST body cap (default 16384)\n"
	"  --max-header BYTES request line and headers cap (default 16384)\n"
	"  --cache-ms MS      keep each answer this long (default 1000; 0: ask Redis\n"
	"                     every time); lists of up to 20 items\n"
	"  --drain-grace S    on SIGTERM, answer requests S seconds more while /readyz\n"
	"                     says 503, so a balancer polling it stops sending here\n"
	"                     first (default 0; at most 60)\n"
	"  --quiet            no start-up and swap lines on stderr\n"
	"\n"
	"Routes: GET /recommendations/USER?k=N, /similar/ITEM?k=N, /popular?k=N,\n"
	"POST /feedback {\"request_id\": ID, \"item\": N, \"reward\": 0..1}, GET /healthz,\n"
	"/readyz, /metrics. SIGHUP reloads every variant; SIGTERM drains and exits.\n";

static int bad(const char *fmt, const char *arg)
{
	struct buf msg = BUF_INIT;

	buf_addf(&msg, fmt, arg);
	/* the message sink escapes what the user typed */
	error("%s\n('serving --help' lists the options)", msg.s);
	buf_release(&msg);
	return 2;
}

/* HOST:PORT, or the stack member's endpoint from its service definition; *host new */
static int endpoint(const char *service, const char *given, char **host, int *port)
{
	struct buf err = BUF_INIT;
	char h[64];

	if (given) {
		char hp[256];

		if (hostport_parse(given, hp, sizeof(hp), port))
			return bad("'%s' is not HOST:PORT", given);
		*host = xstrdup(hp);
		return 0;
	}
	const struct load_target *t = loadrun_find(service);
	if (!t || loadrun_endpoint(t, h, sizeof(h), port, &err)) {
		error("%s", err.s);
		buf_release(&err);
		return 1;
	}
	*host = xstrdup(h);
	return 0;
}

/* the options, then the server; what it allocates goes to `own` (freed by main) */
static int run(int argc, char **argv, struct strvec *own)
{
	enum {
		O_VARIANT = 256, O_POLICY, O_EPS, O_BIND, O_PORT, O_THREADS, O_REDIS, O_NOREDIS,
		O_KAFKA, O_NOKAFKA, O_IMP, O_FB, O_WINDOW, O_WATCH, O_DATA, O_REGISTRY,
		O_MAXCONN, O_IDLE, O_MAXBODY, O_MAXHDR, O_QUIET, O_HELP, O_CACHE, O_WAIT, O_GRACE,
	};
	static const struct option longs[] = {
		{ "variant", 1, NULL, O_VARIANT }, { "policy", 1, NULL, O_POLICY },
		{ "epsilon", 1, NULL, O_EPS }, { "bind", 1, NULL, O_BIND },
		{ "port", 1, NULL, O_PORT }, { "threads", 1, NULL, O_THREADS },
		{ "redis", 1, NULL, O_REDIS }, { "no-redis", 0, NULL, O_NOREDIS },
		{ "kafka", 1, NULL, O_KAFKA }, { "no-kafka", 0, NULL, O_NOKAFKA },
		{ "impressions", 1, NULL, O_IMP }, { "feedback-topic", 1, NULL, O_FB },
		{ "window", 1, NULL, O_WINDOW }, { "watch", 1, NULL, O_WATCH },
		{ "data", 1, NULL, O_DATA }, { "registry", 1, NULL, O_REGISTRY },
		{ "max-connections", 1, NULL, O_MAXCONN }, { "idle-timeout", 1, NULL, O_IDLE },
		{ "max-body", 1, NULL, O_MAXBODY }, { "max-header", 1, NULL, O_MAXHDR },
		{ "quiet", 0, NULL, O_QUIET }, { "help", 0, NULL, O_HELP },
		{ "cache-ms", 1, NULL, O_CACHE }, { "wait-for-model", 0, NULL, O_WAIT },
		{ "drain-grace", 1, NULL, O_GRACE },
		{ NULL, 0, NULL, 0 },
	};
	struct server_opts o;
	const char *redis = NULL, *kafka = NULL;
	int no_redis = 0, no_kafka = 0, c;
	char *end;

	server_opts_default(&o);
	while ((c = getopt_long(argc, argv, "h", longs, NULL)) != -1) {
		double d;
		switch (c) {
		case O_VARIANT: {
			char *eq = strchr(optarg, '='), *colon;
			if (!eq || eq == optarg || !eq[1] || o.nvariants == SERVER_MAX_VARIANTS)
				return bad("--variant wants NAME=REV[:WEIGHT] (at most 8), not '%s'",
					   optarg);
			char *name = xstrndup(optarg, (size_t)(eq - optarg)), *rev = xstrdup(eq + 1);
			strvec_push_nodup(own, name);
			strvec_push_nodup(own, rev);
			for (char *p = name; *p; p++)
				if (!((*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') || *p == '-' ||
				      *p == '_') || p - name >= 31)
					return bad("variant names are up to 31 of [a-z0-9_-], not '%s'",
						   optarg);
			for (int i = 0; i < o.nvariants; i++)
				if (!strcmp(o.names[i], name))
					return bad("variant '%s' is given twice: each variant has its own "
						   "name", name);
			double w = 1;
			/*
			 * After the last colon, what starts like a number is the weight
			 * and must be one > 0; redis:'s own colon never is (redis:VERSION
			 * starts with a digit now and then).
			 */
			colon = strrchr(rev, ':');
			if (colon && !(colon == rev + 5 && !strncmp(rev, "redis:", 6)) &&
			    strchr("0123456789+-.", colon[1]) && colon[1]) {
				w = strtod(colon + 1, &end);
				if (*end || !(w > 0) || !isfinite(w))
					return bad("a variant's weight is a number > 0, not '%s'", colon + 1);
				*colon = '\0';
			}
			if (!*rev)
				return bad("--variant wants NAME=REV[:WEIGHT], not '%s'", optarg);
			o.names[o.nvariants] = name;
			o.revs[o.nvariants] = rev;
			o.weights[o.nvariants++] = w;
			break;
		}
		case O_POLICY:
			if (bandit_policy_parse(optarg, &o.policy))
				return bad("--policy is ab, thompson, egreedy or ucb1, not '%s'", optarg);
			break;
		case O_EPS:
			d = strtod(optarg, &end);
			if (*end || !(d >= 0 && d <= 1))
				return bad("--epsilon is a number from 0 to 1, not '%s'", optarg);
			o.epsilon = d;
			break;
		case O_BIND: o.bind = optarg; break;
		case O_PORT:
			o.port = (int)strtol(optarg, &end, 10);
			if (*end || o.port < 1 || o.port > 65535)
				return bad("--port is 1 to 65535, not '%s'", optarg);
			break;
		case O_THREADS:
			o.threads = (int)strtol(optarg, &end, 10);
			if (*end || o.threads < 1 || o.threads > 256)
				return bad("--threads is 1 to 256, not '%s'", optarg);
			break;
		case O_REDIS: redis = optarg; break;
		case O_NOREDIS: no_redis = 1; break;
		case O_KAFKA: kafka = optarg; break;
		case O_NOKAFKA: no_kafka = 1; break;
		case O_IMP: o.impressions_topic = optarg; break;
		case O_FB: o.feedback_topic = optarg; break;
		case O_WINDOW:
			d = strtod(optarg, &end);
			if (*end || !(d > 0 && d <= 86400 * 7))
				return bad("--window is seconds, up to a week, not '%s'", optarg);
			o.window_s = d;
			break;
		case O_WATCH:
			d = strtod(optarg, &end);
			if (*end || !(d >= 0 && d <= 86400))
				return bad("--watch is seconds (0: off), not '%s'", optarg);
			o.watch_s = d;
			break;
		case O_DATA: o.data = optarg; break;
		case O_REGISTRY: o.registry = optarg; break;
		case O_MAXCONN:
			o.max_connections = (int)strtol(optarg, &end, 10);
			if (*end || o.max_connections < 1 || o.max_connections > 100000)
				return bad("--max-connections is 1 to 100000, not '%s'", optarg);
			break;
		case O_IDLE:
			o.idle_timeout_s = (int)strtol(optarg, &end, 10);
			if (*end || o.idle_timeout_s < 1 || o.idle_timeout_s > 3600)
				return bad("--idle-timeout is 1 to 3600 s, not '%s'", optarg);
			break;
		case O_MAXBODY:
			o.max_body = (size_t)strtoul(optarg, &end, 10);
			if (*end || o.max_body < 64 || o.max_body > (1 << 24))
				return bad("--max-body is 64 to 16777216 bytes, not '%s'", optarg);
			break;
		case O_MAXHDR:
			o.max_header = (size_t)strtoul(optarg, &end, 10);
			if (*end || o.max_header < 4096 || o.max_header > (1 << 20))
				return bad("--max-header is 4096 to 1048576 bytes, not '%s'", optarg);
			break;
		case O_CACHE:
			o.cache_ms = (int)strtol(optarg, &end, 10);
			if (*end || o.cache_ms < 0 || o.cache_ms > 3600000)
				return bad("--cache-ms is 0 (off) to 3600000, not '%s'", optarg);
			break;
		case O_WAIT: o.wait_for_model = 1; break;
		case O_GRACE:
			o.drain_grace_s = strtod(optarg, &end);
			if (*end || end == optarg || !(o.drain_grace_s >= 0) || o.drain_grace_s > 60)
				return bad("--drain-grace is 0 to 60 seconds, not '%s'", optarg);
			break;
		case O_QUIET: o.quiet = 1; break;
		case 'h':
		case O_HELP:
			fputs(usage, stdout);
			return 0;
		default:
			return bad("%s", "unknown option");
		}
	}
	if (optind != argc)
		return bad("unexpected argument '%s'", argv[optind]);
	struct in_addr a4;
	if (inet_pton(AF_INET, o.bind, &a4) != 1)
		return bad("--bind is an IPv4 address, not '%s'", o.bind);
	if (o.nvariants == 0) {
		o.names[0] = "production";
		o.revs[0] = "production";
		o.weights[0] = 1;
		o.nvariants = 1;
	}
	if (!o.registry)
		o.registry = config_registry();
	char *rhost = NULL, *khost = NULL;
	int rport = 0, kport = 0;
	if (!no_redis && redis && strchr(redis, ',')) {
		if (redis_addrs_parse(redis, &o.redis_addrs))
			return bad("'%s' is not HOST:PORT[,HOST:PORT...] (at most 4)", redis);
		o.redis_host = o.redis_addrs.host[0];
		o.redis_port = o.redis_addrs.port[0];
	} else if (!no_redis) {
		int r = endpoint("redis", redis, &rhost, &rport);
		if (r)
			return r;
		strvec_push_nodup(own, rhost);
		o.redis_host = rhost;
		o.redis_port = rport;
		snprintf(o.redis_addrs.host[0], sizeof(o.redis_addrs.host[0]), "%s", rhost);
		o.redis_addrs.port[0] = rport;
		o.redis_addrs.n = 1;
	}
	if (!no_kafka) {
		int r = endpoint("kafka", kafka, &khost, &kport);
		if (r)
			return r;
		o.kafka = strvec_pushf(own, "%s:%d", khost, kport);
		free(khost);
	}
	return server_run(&o);
}

int main(int argc, char **argv)
{
	struct strvec own = STRVEC_INIT;
	int ret = run(argc, argv, &own);

	strvec_clear(&own);
	return ret;
}
