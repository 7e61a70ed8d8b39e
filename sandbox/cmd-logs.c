/*
 * cmd-logs: `pancake logs [-f] [--swarm] [SERVICE...]`, prefixed and colored
 * per service; with --swarm, each Swarm service's tasks.
 */
#include "cli.h"
#include "core/swarm.h"
#include "util/xalloc.h"

#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

static pthread_mutex_t out_lock = PTHREAD_MUTEX_INITIALIZER;
static volatile int cancel;

struct follower {
	struct stack *st;
	const struct service *svc;
	char id[80];
	int tty, width, swarm;
	struct stack_logs_opts o;
	struct buf partial;
	int ret;
	struct buf err;
};

/* prints whole lines with the prefix; keeps a partial line for later */
static void on_frame(int stream, const char *data, size_t len, void *ctx)
{
	struct follower *f = ctx;
	char *nl;

	(void)stream;
	buf_add(&f->partial, data, len);
	pthread_mutex_lock(&out_lock);
	while ((nl = memchr(f->partial.s, '\n', f->partial.len))) {
		printf("%s%-*s |%s %.*s\n", cli_service_color(f->svc->name), f->width, f->svc->name,
		       cli_color(C_RESET), (int)(nl - f->partial.s), f->partial.s);
		buf_consume(&f->partial, (size_t)(nl - f->partial.s) + 1);
	}
	fflush(stdout);
	pthread_mutex_unlock(&out_lock);
}

static void *follow_main(void *p)
{
	struct follower *f = p;

	f->ret = f->swarm ? swarm_logs(f->st, f->svc->name, &f->o, on_frame, f, &f->err)
			  : stack_logs(f->st, f->id, &f->o, on_frame, f, &f->err);
	if (f->partial.len) {
		buf_addch(&f->partial, '\n');
		on_frame(1, "", 0, f);
	}
	return NULL;
}

static void on_sigint(int sig)
{
	(void)sig;
	cancel = 1;
}

int cmd_logs(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "follow", no_argument, NULL, 'f' },
		{ "tail", required_argument, NULL, 't' },
		{ "swarm", no_argument, NULL, 'S' },
		{ NULL, 0, NULL, 0 },
	};
	struct service_status ss[SERVICE_MAX];
	struct follower fs[SERVICE_MAX];
	pthread_t th[SERVICE_MAX];
	struct stack st;
	struct buf err = BUF_INIT;
	int follow = 0, tail = 100, swarm = 0, c, k, n = 0, width = 0, ret = 0, i;
	char *end, q[QUOTE_BUF];
	long t;

	optind = 1;
	while ((c = getopt_long(argc, argv, "f", opts, NULL)) != -1) {
		if (c == 'f') {
			follow = 1;
		} else if (c == 'S') {
			swarm = 1;
		} else if (c == 't') {
			errno = 0;
			t = strtol(optarg, &end, 10);
			if (*end || !*optarg || errno || t < -1 || t > 1000000)
				return cli_bad_usage("logs", "--tail wants a count of lines (-1: all), got %s",
						     quote(q, optarg));
			tail = (int)t;
		} else {
			return cli_bad_option("logs", argv);
		}
	}
	cli_load_stack(&st, PROFILE_DEFAULT, 0);
	if (swarm)
		stack_use_swarm_members(&st);
	for (i = optind; i < argc; i++)
		if (stack_find(&st, argv[i]) < 0) {
			stack_close(&st);
			return cli_bad_usage("logs", "no service named %s", quote(q, argv[i]));
		}
	cli_connect_stack(&st);
	if (swarm && swarm_check(&st, &err)) {
		ret = cli_fail(RC_FAILED, "%s", err.s);
		goto out;
	}
	memset(ss, 0, sizeof(ss));
	if (!swarm && stack_status(&st, ss, 0, &err)) {
		ret = cli_fail(RC_FAILED, "%s", err.s);
		goto out;
	}
	for (k = 0; k < st.n; k++)
		if ((int)strlen(st.svcs[k].name) > width)
			width = (int)strlen(st.svcs[k].name);
	if (follow) {
		struct sigaction sa;
		memset(&sa, 0, sizeof(sa));
		sa.sa_handler = on_sigint;
		sigaction(SIGINT, &sa, NULL);
		sigaction(SIGTERM, &sa, NULL);
	}
	for (k = 0; k < st.n; k++) {
		int want = optind >= argc;
		for (i = optind; i < argc; i++)
			if (!strcmp(argv[i], st.svcs[k].name))
				want = 1;
		if (!want)
			continue;
		if (!swarm && !ss[k].exists) {
			if (optind < argc)
				fprintf(stderr, "%s: no container (start it with 'pancake up %s')\n",
					st.svcs[k].name, st.svcs[k].name);
			continue;
		}
		memset(&fs[n], 0, sizeof(fs[n]));
		fs[n].st = &st;
		fs[n].svc = &st.svcs[k];
		fs[n].width = width;
		fs[n].swarm = swarm;
		snprintf(fs[n].id, sizeof(fs[n].id), "%s", ss[k].id);
		fs[n].o.follow = follow;
		fs[n].o.tail = tail;
		fs[n].o.cancel = &cancel;
		buf_init(&fs[n].partial, 0);
		buf_init(&fs[n].err, 0);
		n++;
	}
	if (!n) {
		ret = cli_fail(RC_FAILED, "no service has a container: start the stack with 'pancake up'");
		goto out;
	}
	for (i = 0; i < n; i++)
		pthread_create(&th[i], NULL, follow_main, &fs[i]);
	for (i = 0; i < n; i++) {
		pthread_join(th[i], NULL);
		if (fs[i].ret && fs[i].ret != STACK_ECANCELED) {
			struct buf m = BUF_INIT;
			buf_addf(&m, "%s: %s", fs[i].svc->name, fs[i].err.s);
			cli_print_error(m.s);
			buf_release(&m);
			ret = RC_FAILED;
		}
		buf_release(&fs[i].partial);
		buf_release(&fs[i].err);
	}
out:
	stack_close(&st);
	buf_release(&err);
	return ret;
}
