/* main: dispatches `recommender COMMAND` through the command table. */
#include <stdio.h>
#include <string.h>

#include "rec.h"
#include "util/xalloc.h"

const struct command rec_cmds[] = {
	{ "train", cmd_train, 0,
	  "train NAME|DIR [--rank R] [--lambda L] [--iters N] [--biases | --implicit [--alpha A] [--solver cholesky|cg]] [--split S] [--out FILE] [--register] [--json] [--progress-fd N]",
	  "Train ALS on a dataset, evaluate it on held-out ratings beside the\n"
	  "mean-plus-biases baseline, save the model and register it.",
	  "  --rank R           factors per user and item (default 10)\n"
	  "  --lambda L         regularisation, weighted by each row's ratings (default 0.1)\n"
	  "  --iters N          iterations (default 10)\n"
	  "  --biases           explicit: also learn the mean and user and item biases\n"
	  "  --implicit         treat ratings as strengths (Hu-Koren-Volinsky)\n"
	  "  --alpha A          implicit confidence 1 + A*r (default 1)\n"
	  "  --solver S         implicit: cholesky (exact, default) or cg (warm-started)\n"
	  "  --cg-steps N       conjugate-gradient steps per row (default 3)\n"
	  "  --threads N        workers (default: one per CPU)\n"
	  "  --seed S           initial factors and random split (default 42)\n"
	  "  --split S          none, random:F or time:F (default random:0.2)\n"
	  "  --k K              cut-off of the ranking metrics (default 10)\n"
	  "  --eval-users N     ranking metrics over at most N users (default 10000; 0 all)\n"
	  "  --out FILE         write the model there (default $PANCAKE_MODELS/NAME.model,\n"
	  "                     else models/NAME.model)\n"
	  "  --register         commit the model, its parameters and metrics to the registry\n"
	  "                     and point 'candidate' at it\n"
	  "  --registry DIR     the registry (default $PANCAKE_MODELS/registry or models/registry)\n"
	  "  --on-error=skip    leave bad lines of the dataset out (default: refuse the file)\n"
	  "  --from cassandra   read NAME's ratings from the stack's cassandra (what\n"
	  "                     'pancake data load NAME' put there) instead of its files\n"
	  "  --json             one JSON object on stdout, with every iteration's figures\n"
	  "  --progress-fd N    also write progress events, one JSON line each, to file\n"
	  "                     descriptor N (what 'pancake models' and the launcher read)\n" },
	{ "publish", cmd_publish, 0,
	  "publish MODEL [--data NAME|DIR] [--top N] [--similar N] [--redis HOST:PORT] [--json] [--progress-fd N]",
	  "Write each user's top-N recommendations and each item's similar items to\n"
	  "Redis under the model's version (pk:rec:VERSION:*), then point\n"
	  "pk:rec:current at it. MODEL is a file or a registry revision.",
	  "  --data NAME|DIR    the ratings whose items are left out of each user's list\n"
	  "                     (default: the dataset the model was trained on)\n"
	  "  --top N            recommendations per user (default 20)\n"
	  "  --similar N        similar items per item (default 20; 0: none)\n"
	  "  --redis HOST:PORT  default: the stack's redis\n"
	  "  --no-current       leave pk:rec:current as it is\n"
	  "  --registry DIR     where MODEL revisions are looked up\n"
	  "  --json             machine-readable summary\n"
	  "  --progress-fd N    also write progress events, one JSON line each, to file\n"
	  "                     descriptor N (what 'pancake models' and the launcher read)\n" },
	{ "models", cmd_models, 0,
	  "models list | show REV | promote [REV] | rollback | diff REV REV [--registry DIR] [--json]",
	  "The model registry: a git repository (libgit2, no git needed) with one\n"
	  "commit per trained model and the refs 'candidate' and 'production'.",
	  "  list               every model, newest first, with its metrics\n"
	  "  show REV           one model's parameters and metrics\n"
	  "  promote [REV]      point production at REV (default: candidate)\n"
	  "  rollback           point production back at what it was before\n"
	  "  diff REV REV       parameters and metrics side by side, with deltas\n"
	  "  --registry DIR     default $PANCAKE_MODELS/registry or models/registry\n"
	  "  --json             machine-readable output\n" },
	{ "foldin", cmd_foldin, 0,
	  "foldin MODEL [--data NAME|DIR] [--topic T] [--group G] [--kafka HOST:PORT] [--redis HOST:PORT] [--max-events N] [--duration S] [--json] [--progress-fd N]",
	  "Consume new ratings from Kafka and, for each, solve that user's factors\n"
	  "exactly against the fixed item factors, rescore and rewrite the user's\n"
	  "recommendations in Redis. At-least-once: offsets are committed after the\n"
	  "Redis writes, and each write replaces the whole list.",
	  "  --data NAME|DIR    the ratings users already have (default: the model's dataset)\n"
	  "  --topic T          default ratings (PANCAKE_KAFKA_TOPIC)\n"
	  "  --group G          consumer group (default pancake-foldin); a new group starts\n"
	  "                     at the end of the topic\n"
	  "  --from-beginning   a new group starts at the beginning instead\n"
	  "  --top N            recommendations per user (default 20)\n"
	  "  --max-events N     stop after N ratings\n"
	  "  --duration S       stop after S seconds\n"
	  "  --registry DIR     where MODEL revisions are looked up\n"
	  "  --json             print the latency summary as JSON when it stops\n"
	  "  --progress-fd N    also write progress events, one JSON line each, to file\n"
	  "                     descriptor N (what 'pancake models' and the launcher read)\n" },
	{ "split", cmd_split, 0,
	  "split NAME|DIR --out DIR [--split S] [--seed S]",
	  "Write the train and test ratings of a split as train.csv and test.csv\n"
	  "(user,item,rating), the same split 'train' makes with the same seed:\n"
	  "what other tools (Spark) are given in the benchmarks.",
	  "  --split S          random:F or time:F (default random:0.2)\n"
	  "  --seed S           default 42\n"
	  "  --out DIR          where the two files go\n" },
	{ "peak", cmd_peak, 0,
	  "peak [--threads N] [--size N] [--json]",
	  "Measure this machine's sgemm rate (OpenBLAS, square matrices, best of 3):\n"
	  "the peak the benchmarks compare the normal-equation phase with.",
	  "  --threads N        BLAS threads (default: one per CPU); 1 thread is also shown\n"
	  "  --size N           matrix side (default 3072)\n"
	  "  --json             machine-readable output\n" },
	{ NULL, NULL, 0, NULL, NULL, NULL },
};

/* prints `recommender CMD --help`; 0, or 1 for no such command */
static int usage_one(const char *name)
{
	const struct command *c = command_find(rec_cmds, name);

	if (!c)
		return 1;
	command_usage("recommender", c);
	return 0;
}

static void usage_all(FILE *f)
{
	fprintf(f, "usage: recommender COMMAND [ARGS]\n\n"
		"ALS on OpenBLAS for the workshop's ratings: train, evaluate, publish to\n"
		"Redis, keep a model registry, and fold new ratings in from Kafka.\n\n");
	command_list(rec_cmds, f);
	fprintf(f, "\n'recommender COMMAND --help' tells more.\n");
}

int main(int argc, char **argv)
{
	const struct command *c;

	if (argc < 2) {
		usage_all(stderr);
		return 2;
	}
	if (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h") || !strcmp(argv[1], "help")) {
		if (argc > 2 && !usage_one(argv[2]))
			return 0;
		usage_all(stdout);
		return 0;
	}
	c = command_find(rec_cmds, argv[1]);
	if (!c) {
		error("unknown command '%s'\n", argv[1]);
		usage_all(stderr);
		return 2;
	}
	if (command_has_word(argc - 1, argv + 1, "--help", "-h"))
		return usage_one(c->name);
	int ret = c->fn(argc - 1, argv + 1);
	if (ret)
		rec_progress_fail(NULL);
	return ret;
}
