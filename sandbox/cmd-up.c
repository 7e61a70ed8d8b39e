/*
 * cmd-up: `pancake up [--wait|--detach] [SERVICE...]`, supervising in the
 * foreground; with --swarm [--replicas N], as Swarm services instead.
 */
#include "cli.h"
#include "core/supervise.h"
#include "core/swarm.h"
#include "util/xalloc.h"
#include "util/sig.h"

#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

static volatile sig_atomic_t interrupted;

static void on_signal(int sig)
{
	(void)sig;
	interrupted = 1;
}

int cmd_up(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "wait", no_argument, NULL, 'w' },
		{ "detach", no_argument, NULL, 'd' },
		{ "small", no_argument, NULL, 's' },
		{ "timeout", required_argument, NULL, 't' },
		{ "force-recreate", no_argument, NULL, 'f' },
		{ "swarm", no_argument, NULL, 'S' },
		{ "replicas", required_argument, NULL, 'r' },
		{ NULL, 0, NULL, 0 },
	};
	struct stack_up_opts o;
	struct stack st;
	struct buf err = BUF_INIT;
	enum heap_profile profile = PROFILE_DEFAULT;
	int detach = 0, swarm = 0, replicas = 0, explicit_wait, c, ret, i;
	char *end, q[QUOTE_BUF];
	long t;

	memset(&o, 0, sizeof(o));
	optind = 1;
	while ((c = getopt_long(argc, argv, "wd", opts, NULL)) != -1) {
		switch (c) {
		case 'w': o.wait = 1; break;
		case 'd': detach = 1; break;
		case 's': profile = PROFILE_SMALL; break;
		case 'f': o.force_recreate = 1; break;
		case 'S': swarm = 1; break;
		case 'r':
			t = strtol(optarg, &end, 10);
			if (*end || !*optarg || t < 1 || t > 64)
				return cli_bad_usage("up", "--replicas wants a count (1 to 64), got %s",
						     quote(q, optarg));
			replicas = (int)t;
			break;
		case 't':
			t = strtol(optarg, &end, 10);
			if (*end || !*optarg || t < 1 || t > 86400)
				return cli_bad_usage("up", "--timeout wants seconds (1 to 86400), got %s",
						     quote(q, optarg));
			o.timeout_s = (int)t;
			break;
		default:
			return cli_bad_option("up", argv);
		}
	}
	if (o.wait && detach)
		return cli_bad_usage("up", "--wait and --detach do not go together");
	if (replicas && !swarm)
		return cli_bad_usage("up", "--replicas runs several tasks of a service on a swarm: "
				     "add --swarm");
	o.only = optind < argc ? (const char *const *)argv + optind : NULL;
	explicit_wait = o.wait;
	/* the foreground mode waits for readiness before it supervises */
	if (!detach)
		o.wait = 1;
	cli_load_stack(&st, profile, 1);
	/* on a swarm the swarm-only members (redis-replica...) can be named too */
	if (swarm)
		stack_use_swarm_members(&st);
	for (i = optind; i < argc; i++)
		if (stack_find(&st, argv[i]) < 0) {
			stack_close(&st);
			return cli_bad_usage("up", "no service named %s", quote(q, argv[i]));
		}
	cli_connect_stack(&st);
	if (swarm) {
		/* no supervision: the swarm restarts its tasks itself */
		struct swarm_up_opts so = { o.only, !detach, o.timeout_s, replicas, NULL, 0 };

		ret = swarm_up(&st, &so, &err);
		if (ret)
			cli_fail(RC_FAILED, "%s", err.s);
		else if (detach)
			printf("deployed; 'pancake ps --swarm' shows readiness\n");
		else
			printf("%sall requested swarm services are ready%s\n", cli_color(C_GREEN),
			       cli_color(C_RESET));
		stack_close(&st);
		buf_release(&err);
		return ret ? RC_FAILED : 0;
	}
	ret = stack_up(&st, &o, &err);
	if (ret) {
		cli_fail(RC_FAILED, "%s", err.s);
		stack_close(&st);
		buf_release(&err);
		return RC_FAILED;
	}
	if (explicit_wait || detach) {
		if (detach)
			printf("started; 'pancake ps' shows readiness\n");
		else
			printf("%sall requested services are ready%s\n", cli_color(C_GREEN),
			       cli_color(C_RESET));
		stack_close(&st);
		buf_release(&err);
		return 0;
	}
	{
		struct supervisor *sv;

		sig_catch(on_signal, 0);
		sv = supervisor_start(&st, &err);
		if (!sv) {
			cli_fail(RC_FAILED, "%s", err.s);
			stack_close(&st);
			buf_release(&err);
			return RC_FAILED;
		}
		printf("%sready; supervising (Ctrl-C stops supervising and leaves the stack running; "
		       "'pancake down' stops it)%s\n", cli_color(C_GREEN), cli_color(C_RESET));
		fflush(stdout);
		while (!interrupted)
			pause();
		printf("\nstopping supervision; the stack keeps running\n");
		supervisor_stop(sv);
	}
	stack_close(&st);
	buf_release(&err);
	return 0;
}
