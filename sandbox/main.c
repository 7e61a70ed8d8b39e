/* main: dispatches `pancake COMMAND` through the command table; nothing else. */
#include "cli.h"
#include "util/xalloc.h"

#include <stdio.h>
#include <string.h>
#include <unistd.h>

const struct command cmd_table[] = {
	{ "up", cmd_up, CMD_NEEDS_ENGINE, "up [--wait | --detach] [--swarm [--replicas N]] [--small] [--timeout S] [SERVICE...]",
	  "Start the stack and wait until each service answers its own protocol.\n"
	  "With SERVICE, only those and what they depend on. Without --wait or --detach\n"
	  "it stays in the foreground and supervises: a service that dies is restarted\n"
	  "with backoff, a crash loop is reported with its last log lines.",
	  "  --wait             return once every service is ready (exit 1 if one is not)\n"
	  "  --detach, -d       return once the containers are started\n"
	  "  --small            use the smaller heap profile (for 8 GB machines)\n"
	  "  --timeout S        readiness timeout per service (default: its definition's)\n"
	  "  --force-recreate   replace the containers even if nothing changed\n"
	  "  --swarm            deploy SERVICE (or all) and what it depends on as Swarm\n"
	  "                     services through the manager DOCKER_HOST names, in\n"
	  "                     dependency order; wait until each answers on its node's\n"
	  "                     published port, and return. A service with volumes is\n"
	  "                     pinned to one node (the one with most memory free the\n"
	  "                     first time, then always that one: its data is there).\n"
	  "                     The images must be on every node: 'pancake images save\n"
	  "                     FILE' here, 'pancake images load FILE' on each node\n"
	  "  --replicas N       with --swarm: N tasks of each service without volumes\n"
	  "                     (serving), at most one per node\n" },
	{ "down", cmd_down, CMD_NEEDS_ENGINE, "down [-v] [--swarm] [SERVICE...]",
	  "Stop and remove the stack's containers and network.\n"
	  "Only resources labelled as this project's are touched. With SERVICE, only\n"
	  "those services' containers.",
	  "  -v, --volumes      also remove the services' data volumes\n"
	  "  --swarm            remove the project's Swarm services and overlay network\n"
	  "                     (all of them; the nodes' volumes are kept)\n" },
	{ "ps", cmd_ps, CMD_NEEDS_ENGINE | CMD_JSON, "ps [--json] [--no-probe] [--swarm]",
	  "Show each service: container state, readiness, uptime and ports.",
	  "  --json             machine-readable output\n"
	  "  --no-probe         do not ask the services whether they are ready\n"
	  "  --swarm            the project's Swarm services: each one's task, its node\n"
	  "                     and state, probed on the node's published port\n" },
	{ "logs", cmd_logs, CMD_NEEDS_ENGINE, "logs [-f] [--tail N] [--swarm] [SERVICE...]",
	  "Show the services' logs, each line prefixed with its service.",
	  "  -f, --follow       keep following new lines\n"
	  "  --tail N           start with the last N lines of each (default 100; -1 all)\n"
	  "  --swarm            the project's Swarm services: every task's lines, through\n"
	  "                     the manager\n" },
	{ "exec", cmd_exec, CMD_NEEDS_ENGINE, "exec SERVICE [--] CMD [ARG...]",
	  "Run a command in a service's container; exits with the command's code.\n"
	  "Output (stdout and stderr together) is printed when the command ends.", "" },
	{ "data", cmd_data, CMD_JSON, "data gen [--shape NAME] [--seed S] [--out DIR] | info NAME|DIR [--json] [--on-error=abort|skip] | list [--json] | fetch NAME | load NAME|DIR [--into T,T] [--full|--replace] [--endpoint T=HOST:PORT] [--json] | verify NAME|DIR [--json] | drop NAME [--from T,T]",
	  "Generate, fetch and inspect datasets, load them into the stack, verify them.\n"
	  "NAME is a fetched dataset ('data list') or a generated one (datasets/generated).\n"
	  "The launcher's data screen (key D) does the same with a progress bar per store.",
	  "  gen                write movies.csv, ratings.csv (ML-latest CSV) and dataset.txt\n"
	  "    --shape NAME     ml-100k, ml-1m (default), ml-10m, ml-20m or ml-25m\n"
	  "    --users N --items N --ratings N   a custom shape (k, M suffixes allowed)\n"
	  "    --seed S         default 1; the same seed writes the same bytes\n"
	  "    --rank R         latent factors (default 8)\n"
	  "    --noise X        sd of the rating noise in stars (default 0.5)\n"
	  "    --threads N      generating threads (default: one per CPU)\n"
	  "    --out DIR        default datasets/generated/SHAPE-sSEED\n"
	  "  info DIR           read a dataset (u.data, ratings.dat or ratings.csv) and summarize it\n"
	  "    --json           machine-readable output\n"
	  "    --on-error=abort stop at the first bad line with FILE:LINE: reason (default)\n"
	  "    --on-error=skip  leave bad lines out and report how many and why\n"
	  "    --format F       auto (default), ml-100k, dat or csv\n"
	  "  list [--json]      the MovieLens datasets pancake knows, which are fetched, and\n"
	  "                     the generated ones\n"
	  "  fetch NAME         download (resuming), check the checksum, unpack into the cache\n"
	  "                     (PANCAKE_DATASETS_URL points at a local mirror)\n"
	  "  load NAME|DIR      load into the stack; a second run duplicates nothing, and an\n"
	  "                     interrupted one (Ctrl-C: exit 130) resumes where it stopped.\n"
	  "                     The stores are the project's own containers, found through\n"
	  "                     the engine (PANCAKE_PROJECT picks the project); with no\n"
	  "                     engine or no such container nothing is written (exit 3 or 1)\n"
	  "    --endpoint T=HOST:PORT  write to that store instead, engine or not (repeatable;\n"
	  "                     also for verify and drop)\n"
	  "    --into T,T       some of: kafka, cassandra, elasticsearch, redis (default: all)\n"
	  "    --on-error=abort refuse a file with bad lines before writing anything (default)\n"
	  "    --on-error=skip  load the good lines, report the bad ones\n"
	  "    --full           rewrite what cassandra's resume marker says is there\n"
	  "    --replace        first drop what the stores hold of NAME (another version of it)\n"
	  "    --json           machine-readable summary on stdout (progress goes nowhere)\n"
	  "  verify NAME|DIR    count what each store holds against the source; exit 1 on a difference\n"
	  "    --into T,T       only those stores\n"
	  "    --json           machine-readable output\n"
	  "  drop NAME          remove what loads of NAME put in the stores (the files stay;\n"
	  "                     kafka's topic only when it holds NAME)\n"
	  "    --from T,T       only those stores (default: all)\n"
	  "    --json           machine-readable output\n" },
	{ "doctor", cmd_doctor, CMD_JSON, "doctor [--json]",
	  "Check the engine (reachable, API version), swarm mode, memory, disk, images, ports and IPVS.",
	  "  --json             machine-readable output\n" },
	{ "images", cmd_images, CMD_NEEDS_ENGINE | CMD_JSON, "images build [--force] [NAME...] | list [--json] | save FILE [NAME...] | load FILE",
	  "Build, list, save or load pancake's images (no registry needed).\n"
	  "The base comes from debootstrap, the JVM services' jars from Maven Central;\n"
	  "a bundle made by 'save' carries them all on a USB stick.",
	  "  build [NAME...]    build the base and service images (unchanged ones are skipped)\n"
	  "  --force            rebuild even when nothing changed\n"
	  "  list [--json]      show the images and their content hashes\n"
	  "  save FILE [NAME..] write the built images (all, or those named) into FILE\n"
	  "  load FILE          load a bundle written by 'save'\n" },
	{ "models", cmd_models, CMD_JSON, "models list | show REV | diff REV REV | promote [REV] | rollback | train NAME|DIR [--implicit] [--rank N] [--lambda X] [--alpha X] [--iters N] [--split X] [--no-register] | publish [REV] [--redis HOST:PORT] [--data NAME|DIR] | foldin [REV] [--redis HOST:PORT] [--kafka HOST:PORT] [--data NAME|DIR] [--for S] [--registry DIR] [--json]",
	  "The recommender's model registry and its jobs: list, show and compare the\n"
	  "trained models, move production, and run training, publishing and fold-in\n"
	  "with their progress as it comes (the launcher's models screen does the same).\n"
	  "Ctrl-C cancels a job: a training moves no ref, a publish leaves\n"
	  "pk:rec:current alone, a fold-in stops after its batch.",
	  "  list               every model, newest first ('recommender models list')\n"
	  "  show REV           one model's parameters and metrics\n"
	  "  diff REV REV       parameters and metrics side by side, with deltas\n"
	  "  promote [REV]      point production at REV (default candidate); prints\n"
	  "                     production before and after\n"
	  "  rollback           point production back at what it was before\n"
	  "  train NAME|DIR     train ALS on a dataset, one line per iteration, and register\n"
	  "                     it (candidate moves)\n"
	  "    --implicit       implicit feedback (ratings as strengths)\n"
	  "    --rank N         factors (default 10)   --iters N   iterations (default 10)\n"
	  "    --lambda X       regularisation (default 0.1)\n"
	  "    --alpha X        implicit confidence (default 1)\n"
	  "    --split X        share held out for the test figures (default 0.2; 0 none)\n"
	  "    --no-register    train and save only\n"
	  "  publish [REV]      every user's and item's list into Redis (default candidate),\n"
	  "                     then pk:rec:current; a progress bar, rate and ETA\n"
	  "  foldin [REV]       fold new ratings from Kafka into REV's lists (default\n"
	  "                     production), events and event-to-Redis p50/p99 each second\n"
	  "    --for S          stop after S seconds (default: at Ctrl-C)\n"
	  "  --data NAME|DIR    publish, foldin: the ratings the model was trained on\n"
	  "                     (default: its dataset, by name)\n"
	  "  --redis HOST:PORT, --kafka HOST:PORT   default: the project's, on 127.0.0.1\n"
	  "  --registry DIR     the registry (default $PANCAKE_MODELS/registry or models/registry)\n"
	  "  --verbose          the recommender's command line and its log's path\n"
	  "  --json             list, show, diff: as 'recommender models --json'; promote,\n"
	  "                     rollback: {\"ref\",\"action\",\"before\",\"after\",...}; jobs: their\n"
	  "                     progress events, one JSON object a line, then one summary\n"
	  "                     {\"state\",\"version\",\"reason\",\"seconds\",\"log\",\"job\",...}\n"
	  "  A job's output goes to a log under the state folder's jobs/.\n" },
	{ "lab", cmd_lab, CMD_JSON, "lab list [--json] | show LAB[/STEP] | start LAB | check [LAB[/STEP]] [--json] | hint [LAB/STEP] | solve [LAB/STEP] | reset [LAB] | next | env [LAB[/STEP]] | test [LAB...] [--tap] [--junit FILE]",
	  "The workshop: labs of steps, each checked against the real stack.\n"
	  "Progress is kept per stack (PANCAKE_PROJECT) in the state folder\n"
	  "(PANCAKE_STATE, else $XDG_STATE_HOME/pancake or ~/.local/state/pancake).\n"
	  "Without LAB/STEP, check, hint and solve are about the current step.",
	  "  list [--json]      the labs, their steps done and the current one\n"
	  "  show LAB[/STEP]    a lab's text and steps, or a step's text, commands and hints\n"
	  "  start LAB          run the setup of its first step not done, and show that step\n"
	  "  check [--json]     is the step done? exit 0 (and it is marked done) or 1 with\n"
	  "                     what is still missing\n"
	  "  hint               reveal the step's next hint\n"
	  "  solve              do the step for you, then check it\n"
	  "  reset [LAB]        cleanup, then setup: the lab is back at its start, its\n"
	  "                     progress forgotten (a corrupt progress file is kept aside)\n"
	  "  next               on to the next step (the current one must be done): its setup\n"
	  "  env [LAB[/STEP]]   the lab's environment as shell exports, for the step's commands:\n"
	  "                     eval \"$(pancake lab env)\" (the launcher's ! opens such a shell)\n"
	  "  test [LAB...]      headless, for CI and lab authors: per step setup, check (must\n"
	  "                     fail), solve, check (must pass); cleanup at the end\n"
	  "    --tap            TAP output\n"
	  "    --junit FILE     also write a JUnit XML report to FILE\n"
	  "  --labs DIR         another track (default $PANCAKE_LABS, else labs/)\n"
	  "  Ctrl-C stops a running action's whole process group; progress stays as it was\n"
	  "  (exit 130). Each action's last output is in the state folder, <lab>/<step>/.\n" },
	{ "serving", cmd_serving, CMD_JSON, "serving status [--url HOST:PORT] [--interval S] [--json] | recommend USER [--k N] [--variant V] [--json] | feedback REQUEST_ID ITEM [--reward R] [--json] | experiment start [--policy P] [--port N] [--variant NAME=REV]... [--json] | experiment stop [--port N] [--json] | simulate [--url HOST:PORT] [--seconds S] [--rate N] [--click NAME=CHANCE]... [--json]",
	  "Watch a serving and try it: its live figures from /metrics, one user's\n"
	  "recommendations with titles and genres, feedback on one of them; start\n"
	  "an experiment's serving on this host and play simulated users against it.\n"
	  "The launcher's serving screen (key V) shows the same, refreshed every\n"
	  "second (x starts and stops its experiment, s simulates users).\n"
	  "Without --url: the first that answers of the stack's serving container\n"
	  "(PANCAKE_SERVING_PORT_8080, default 8080) and the serving processes\n"
	  "running on this host (each announces itself in the state folder).",
	  "  status             up or down and why; req/s and p50/p99 latency per route\n"
	  "                     between two samples of /metrics; answers per source;\n"
	  "                     errors; swaps; the model behind each variant; the\n"
	  "                     experiment's arms: policy or weight, pulls, rewards,\n"
	  "                     reward rate with its 95% interval, selection probability\n"
	  "    --interval S     seconds between the two samples (default 1)\n"
	  "  recommend USER     USER's recommendations, each item with its title and\n"
	  "                     genres from the dataset the model was trained on\n"
	  "    --k N            how many (default 10, at most 100)\n"
	  "    --variant V      from this variant, not the experiment's choice\n"
	  "  feedback REQUEST_ID ITEM   a reward for an answer (its request_id) and item\n"
	  "    --reward R       0 to 1 (default 1: a click)\n"
	  "  experiment start   serving with variants from the registry (default\n"
	  "                     a=production b=candidate) on 127.0.0.1, the project's Redis\n"
	  "                     and Kafka, left running once it is ready; prints its pid,\n"
	  "                     address and log (under the state folder's jobs/)\n"
	  "    --policy P       thompson (default), ab, egreedy or ucb1\n"
	  "    --port N         default: the stack's serving port + 1 (must be free)\n"
	  "    --variant NAME=REV   an arm: a registry revision (production, candidate, an id)\n"
	  "  experiment stop    stop the servings pancake started (found by their\n"
	  "                     announcement; --port N: the one on that port)\n"
	  "  simulate           simulated users, one after the other: each asks for a\n"
	  "                     user's list (users of the model's dataset, else 1..1000) and\n"
	  "                     sends feedback on its first item, a click (reward 1) with a\n"
	  "                     chance per variant, else reward 0; at the end each arm's\n"
	  "                     requests and clicks. Default: the experiment pancake started,\n"
	  "                     else the first serving that answers\n"
	  "    --seconds S      how long (default 30)   --rate N   requests a second (default\n"
	  "                     and at most 50)\n"
	  "    --click NAME=CHANCE  NAME's click chance (0.6 or 60%); other=CHANCE for the\n"
	  "                     rest. Default: the second variant 60%, others 15%\n"
	  "  --url HOST:PORT    this serving, not the ones found\n"
	  "  --json             machine-readable output\n" },
	{ "class", cmd_class, CMD_NEEDS_ENGINE | CMD_JSON,
	  "class up --attendees FILE [--class NAME] [--small] [--detach] [--timeout S] | status [--class NAME] [--json] | down [--class NAME] [ATTENDEE...]",
	  "A classroom on a shared swarm: one stack per attendee, through the swarm\n"
	  "manager DOCKER_HOST names. Attendee NAME of class CLASS (default $PANCAKE_CLASS,\n"
	  "else 'class') gets project CLASS-NAME with its own overlay network; seat N\n"
	  "(its line in the roster) publishes every port at the usual one + N*100\n"
	  "(redis 6479, kafka 9192, ... for seat 1), on the node its task runs on.",
	  "  up                 pre-flight (names, ports, the swarm's memory for every new\n"
	  "                     stack, refused with the figures), deploy every stack,\n"
	  "                     then wait until each is ready (--detach: do not wait)\n"
	  "  --attendees FILE   one attendee per line; '#' comments and blank lines skipped\n"
	  "  status             every stack of the class: readiness per service, its node,\n"
	  "                     and the attendee's lab progress when this machine has it\n"
	  "  down [ATTENDEE...] remove those attendees' stacks (default: the whole class);\n"
	  "                     objects without the class's label are never touched\n" },
	{ "export", cmd_export, 0, "export kubernetes [--out DIR] [--project NAME] [--small]",
	  "Write Kubernetes manifests for the services' definitions, no engine needed:\n"
	  "one NAME.json per service (a v1 List: a StatefulSet with a volume claim and\n"
	  "a headless Service for a member with volumes, else a Deployment and a\n"
	  "Service) and a README.md listing them. Protocol probes Kubernetes lacks\n"
	  "(redis, kafka, cql) become tcpSocket probes, said so in an annotation.\n"
	  "Everything is written beside DIR first, so a failure leaves DIR as it was.\n"
	  "Apply with 'kubectl apply -f DIR' once the images are in a registry the\n"
	  "cluster can pull from.",
	  "  --out DIR          the folder (default k8s); an existing one keeps other files\n"
	  "  --project NAME     the labels' project (default $PANCAKE_PROJECT, else pancake)\n"
	  "  --small            the smaller memory profile (memory.small, heap.small)\n" },
	{ "launcher", cmd_launcher, 0, "launcher [--mono] [--data] [--pane NAME] [--labs DIR]",
	  "Open the terminal launcher: services live, logs, start/stop/restart keys,\n"
	  "(key D) the data screen: datasets, loads with a progress bar per store,\n"
	  "verify, (key L) the labs screen: the workshop's steps, run, check, hint,\n"
	  "solve, and (key V) the serving screen: a serving's live figures and its\n"
	  "experiment (x starts one here, s plays simulated users), a user's\n"
	  "recommendations. It is what 'pancake' with no command opens on a terminal.",
	  "  --mono             no colors\n"
	  "  --data             open on the data screen (--pane data)\n"
	  "  --pane NAME        open on this screen: services, data, labs, serving or models\n"
	  "  --labs DIR         the labs screen's track (default $PANCAKE_LABS, else labs/)\n" },
	{ "help", cmd_help, 0, "help [COMMAND]", "Show the commands, or one command's help.", "" },
	{ NULL, NULL, 0, NULL, NULL, NULL },
};

static void list_commands(FILE *out)
{
	fprintf(out, "usage: pancake [COMMAND] [OPTIONS]\n\n"
		"pancake builds, starts and watches a workshop stack (Kafka, Cassandra,\n"
		"Redis, Elasticsearch) through the Docker Engine API.\n\ncommands:\n");
	command_list(cmd_table, out);
	fprintf(out, "\nWith no command on a terminal, pancake opens the launcher.\n"
		"'pancake COMMAND --help' shows a command's options.\n\n"
		"exit codes (every command):\n"
		"  0    ok\n"
		"  1    failed (or a check found a difference)\n"
		"  2    usage: bad arguments or a malformed definition; nothing was done\n"
		"  3    no docker engine answers (or it stalled); nothing was done\n"
		"  130  interrupted (Ctrl-C); what was done stays, the same command resumes\n");
}

int cmd_help(int argc, char **argv)
{
	if (argc > 2)
		return cli_bad_usage("help", "'help' takes at most one command");
	if (argc > 1)
		return cli_usage(argv[1]);
	list_commands(stdout);
	return RC_OK;
}

int main(int argc, char **argv)
{
	const struct command *c;
	char q[QUOTE_BUF];

	cli_init();
	opterr = 0;		/* commands name the option they refuse themselves */
	if (argc < 2) {
		if (isatty(0) && isatty(1))
			return cmd_launcher(argc, argv);
		list_commands(stderr);
		return RC_USAGE;
	}
	if (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h"))
		return cmd_help(1, argv);
	if (!strcmp(argv[1], "--version")) {
		printf("pancake 0.1\n");
		return RC_OK;
	}
	c = command_find(cmd_table, argv[1]);
	if (!c) {
		fprintf(stderr, "error: %s is not a pancake command\n\n", quote(q, argv[1]));
		list_commands(stderr);
		return RC_USAGE;
	}
	cli_set_command(c->name);
	/*
	 * The command checks its arguments, then its definitions, and only
	 * then connects (cli_docker): a usage error is one whether or not an
	 * engine runs. --json anywhere makes every failure JSON too.
	 */
	if (command_has_word(argc - 1, argv + 1, "--help", "-h"))
		return cli_usage(c->name);
	if ((c->flags & CMD_JSON) && command_has_word(argc - 1, argv + 1, "--json", NULL))
		cli_set_json(1);
	return c->fn(argc - 1, argv + 1);
}
