/*
 * cmd-models: `pancake models`: the model registry (list, show, diff, promote,
 * rollback) and the recommender's jobs (train, publish, foldin) run as
 * core/modeljob children, each event shown as it comes.
 */
#include "cli.h"
#include "core/config.h"
#include "core/modeljob.h"
#include "model/registry.h"
#include "util/clock.h"
#include "util/jsonout.h"
#include "util/sig.h"
#include "util/xalloc.h"

#include <errno.h>
#include <math.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* the options, each a bit, so that a verb names those it takes */
enum models_opt {
	MO_REGISTRY = 1 << 0, MO_JSON = 1 << 1, MO_VERBOSE = 1 << 2, MO_IMPLICIT = 1 << 3,
	MO_RANK = 1 << 4, MO_LAMBDA = 1 << 5, MO_ALPHA = 1 << 6, MO_ITERS = 1 << 7,
	MO_SPLIT = 1 << 8, MO_NOREG = 1 << 9, MO_REDIS = 1 << 10, MO_KAFKA = 1 << 11,
	MO_FOR = 1 << 12,
	MO_DATA = 1 << 13,
};

static const struct option long_opts[] = {
	{ "registry", 1, NULL, 'r' }, { "json", 0, NULL, 'j' }, { "verbose", 0, NULL, 'v' },
	{ "implicit", 0, NULL, 'I' }, { "rank", 1, NULL, 'k' }, { "lambda", 1, NULL, 'l' },
	{ "alpha", 1, NULL, 'a' }, { "iters", 1, NULL, 'n' }, { "split", 1, NULL, 's' },
	{ "no-register", 0, NULL, 'N' }, { "redis", 1, NULL, 'R' }, { "kafka", 1, NULL, 'K' },
	{ "for", 1, NULL, 'f' }, { "data", 1, NULL, 'd' }, { NULL, 0, NULL, 0 },
};

/* getopt's letter -> the option's bit and name */
static const struct {
	int c;
	unsigned bit;
	const char *name;
} opt_bits[] = {
	{ 'r', MO_REGISTRY, "--registry" }, { 'j', MO_JSON, "--json" },
	{ 'v', MO_VERBOSE, "--verbose" }, { 'I', MO_IMPLICIT, "--implicit" },
	{ 'k', MO_RANK, "--rank" }, { 'l', MO_LAMBDA, "--lambda" }, { 'a', MO_ALPHA, "--alpha" },
	{ 'n', MO_ITERS, "--iters" }, { 's', MO_SPLIT, "--split" },
	{ 'N', MO_NOREG, "--no-register" }, { 'R', MO_REDIS, "--redis" },
	{ 'K', MO_KAFKA, "--kafka" }, { 'f', MO_FOR, "--for" }, { 'd', MO_DATA, "--data" },
};

struct models_opts {
	unsigned given;
	const char *registry, *redis, *kafka, *data;
	int json, verbose;
	struct modeljob_train t;
	double for_s;
	int nargs;
	char **args;
};

/* ---- the registry ---- */

static const char *registry_of(const struct models_opts *o)
{
	return o->registry ? o->registry : config_registry();
}

static int open_registry(struct registry **r, const char *dir)
{
	struct buf err = BUF_INIT;
	int ret = registry_open(r, dir, 0, &err);

	if (ret == REGISTRY_ENOTFOUND)
		ret = cli_fail(RC_FAILED, "no model registry at '%s'; 'recommender train NAME "
			       "--register' creates it, or name another with --registry DIR or "
			       "PANCAKE_MODELS", dir);
	else if (ret)
		ret = cli_fail(RC_FAILED, "%s", err.s);
	buf_release(&err);
	return ret;
}

static int models_list(struct models_opts *o)
{
	struct registry *r = NULL;
	struct registry_entry *all = NULL;
	struct buf err = BUF_INIT, out = BUF_INIT;
	size_t n = 0;
	int ret;

	ret = open_registry(&r, registry_of(o));
	if (ret)
		goto out;
	if (registry_list(r, &all, &n, &err)) {
		ret = cli_fail(RC_FAILED, "%s", err.s);
		goto out;
	}
	registry_list_render(all, n, registry_dir(r), o->json ? REGISTRY_LIST_JSON
			     : *cli_color(C_YELLOW) ? REGISTRY_LIST_COLOR : 0, &out);
	fputs(out.s, stdout);
	ret = RC_OK;
out:
	registry_list_free(all, n);
	if (r)
		registry_close(r);
	buf_release(&out);
	buf_release(&err);
	return ret;
}

static int models_show(struct models_opts *o)
{
	struct registry *r = NULL;
	struct registry_entry e;
	struct buf err = BUF_INIT, line = BUF_INIT;
	int ret;

	memset(&e, 0, sizeof(e));
	ret = open_registry(&r, registry_of(o));
	if (ret)
		goto out;
	if (registry_show(r, o->args[0], &e, &err)) {
		ret = cli_fail(RC_FAILED, "%s", err.s);
		goto out;
	}
	/* what `recommender models show` prints, in both forms */
	if (o->json) {
		jsonout_print(registry_entry_json(&e));
	} else {
		registry_entry_line(&e, *cli_color(C_YELLOW) ? REGISTRY_LIST_COLOR : 0, &line);
		fputs(line.s, stdout);
		printf("commit %s, model.bin %zu bytes\nparams: %s\nmetrics: %s\n", e.id,
		       e.model_size, e.params_json, e.metrics_json);
	}
	ret = RC_OK;
out:
	registry_entry_release(&e);
	if (r)
		registry_close(r);
	buf_release(&line);
	buf_release(&err);
	return ret;
}

static int models_diff(struct models_opts *o)
{
	struct registry *r = NULL;
	struct buf err = BUF_INIT, out = BUF_INIT;
	int ret;

	ret = open_registry(&r, registry_of(o));
	if (ret)
		goto out;
	if (o->json ? registry_diff_json(r, o->args[0], o->args[1], &out, &err)
		    : registry_diff(r, o->args[0], o->args[1], &out, &err)) {
		ret = cli_fail(RC_FAILED, "%s", err.s);
		goto out;
	}
	fputs(out.s, stdout);
	if (out.len && out.s[out.len - 1] != '\n')
		putchar('\n');
	ret = RC_OK;
out:
	if (r)
		registry_close(r);
	buf_release(&out);
	buf_release(&err);
	return ret;
}

/* the commit a ref names into `id` ("" when it names none yet) */
static void ref_id(struct registry *r, const char *ref, char id[41])
{
	struct registry_entry e;
	struct buf err = BUF_INIT;

	memset(&e, 0, sizeof(e));
	id[0] = '\0';
	if (!registry_show(r, ref, &e, &err))
		memcpy(id, e.id, 41);
	registry_entry_release(&e);
	buf_release(&err);
}

/* promote [REV] and rollback: production before and after */
static int models_move(struct models_opts *o, int promote)
{
	struct registry *r = NULL;
	struct registry_entry e;
	struct buf err = BUF_INIT;
	char before[41];
	int ret;

	memset(&e, 0, sizeof(e));
	ret = open_registry(&r, registry_of(o));
	if (ret)
		goto out;
	ref_id(r, "production", before);
	if (promote ? registry_promote(r, o->nargs ? o->args[0] : NULL, &e, &err)
		    : registry_rollback(r, &e, &err)) {
		ret = cli_fail(RC_FAILED, "%s", err.s);
		goto out;
	}
	if (o->json) {
		json_t *j = json_pack("{s:s, s:s, s:o, s:s, s:s, s:s}", "ref", "production",
				      "action", promote ? "promote" : "rollback",
				      "before", *before ? json_string(before) : json_null(),
				      "after", e.id, "short_id", e.short_id, "summary", e.summary);
		jsonout_print(j);
	} else {
		printf("production: %.12s -> %s (%s)\n", *before ? before : "(none)", e.short_id,
		       e.summary);
	}
	ret = RC_OK;
out:
	registry_entry_release(&e);
	if (r)
		registry_close(r);
	buf_release(&err);
	return ret;
}

static int models_promote(struct models_opts *o)
{
	return models_move(o, 1);
}

static int models_rollback(struct models_opts *o)
{
	return models_move(o, 0);
}

/* ---- the jobs ---- */

static volatile sig_atomic_t stop_asked;

static void on_stop(int sig)
{
	(void)sig;
	stop_asked = 1;
}

/* one job being shown */
struct run {
	const struct models_opts *o;
	struct modeljob *j;
	double started, shown_at;
	int bar;			/* a progress bar holds stderr's line */
	int by_user;			/* Ctrl-C (not --for) stopped it */
	double iter_seconds;
	int iters;
};

static void fmt_ms(char *out, size_t size, double ms)
{
	if (isnan(ms))
		snprintf(out, size, "-");
	else
		snprintf(out, size, "%.1f ms", ms);
}

static void clear_bar(struct run *run)
{
	if (run->bar) {
		fprintf(stderr, "\r\033[K");
		run->bar = 0;
	}
}

/* one event in text */
static void show_event(struct run *run, const struct progress_event *ev)
{
	double now = clock_s();
	char a[32], b[32];

	switch (ev->kind) {
	case PROGRESS_START:
		printf("%s: %s\n", ev->job, ev->what);
		break;
	case PROGRESS_ITER:
		printf("  iter %3d/%d  %6.3f s  loss %.5f", ev->iter, ev->iters, ev->seconds,
		       ev->loss);
		if (!isnan(ev->train_rmse))
			printf("  train rmse %.4f", ev->train_rmse);
		if (!isnan(ev->test_rmse))
			printf("  test rmse %.4f", ev->test_rmse);
		if (!isnan(ev->ndcg))
			printf("  ndcg %.4f", ev->ndcg);
		printf("\n");
		break;
	case PROGRESS_PUBLISH: {
		int pct = ev->total ? (int)(100 * ev->done / ev->total) : 100;

		snprintf(a, sizeof(a), isnan(ev->rate) ? "-" : "%.0f", ev->rate);
		snprintf(b, sizeof(b), isnan(ev->eta) ? "-" : "%.1f s", ev->eta);
		if (isatty(2)) {
			int width = 30, fill = width * pct / 100;

			fprintf(stderr, "\r  [%.*s%*s] %3d%%  %llu/%llu lists  %s lists/s  ETA %s\033[K",
				fill, "##############################", width - fill, "", pct,
				(unsigned long long)ev->done, (unsigned long long)ev->total, a, b);
			run->bar = 1;
		} else if (now - run->shown_at >= 1 || ev->done == ev->total) {
			printf("  %llu/%llu lists (%d%%)  %s lists/s  ETA %s\n",
			       (unsigned long long)ev->done, (unsigned long long)ev->total, pct, a, b);
			run->shown_at = now;
		}
		break;
	}
	case PROGRESS_FOLDIN:
		fmt_ms(a, sizeof(a), ev->p50_ms);
		fmt_ms(b, sizeof(b), ev->p99_ms);
		printf("  %5.0f s  %llu rating(s) folded in  event to redis p50 %s  p99 %s\n",
		       now - run->started, (unsigned long long)ev->events, a, b);
		break;
	case PROGRESS_DONE:
	case PROGRESS_ERROR:
		break;	/* the summary says it */
	}
	fflush(stdout);
}

static void show_json(const struct progress_event *ev)
{
	struct buf line = BUF_INIT;

	progress_format(ev, &line);
	fputs(line.s, stdout);
	fflush(stdout);
	buf_release(&line);
}

/*
 * Polls the job until it ends, showing each event; Ctrl-C (and --for's
 * end, when `deadline` > 0) cancel it, and the loop goes on until it has
 * ended. 0, or -1 when a progress line was malformed.
 */
static int follow(struct run *run, double deadline)
{
	struct buf err = BUF_INIT;
	int cancelled = 0, ret = 0;

	stop_asked = 0;
	sig_catch(on_stop, 1);
	while (modeljob_state(run->j) == MODELJOB_RUNNING) {
		struct pollfd p = { .fd = modeljob_fd(run->j), .events = POLLIN };
		size_t n, i;
		int r;

		if (!cancelled && (stop_asked || (deadline > 0 && clock_s() >= deadline))) {
			run->by_user = stop_asked;
			modeljob_cancel(run->j);
			cancelled = 1;
		}
		/* a short wait: the cancel's SIGKILL and --for are looked at in time */
		poll(p.fd >= 0 ? &p : NULL, p.fd >= 0 ? 1 : 0, 200);
		r = modeljob_poll(run->j, &err);
		if (r < 0) {
			ret = -1;
			break;
		}
		/* the newest r events (a long fold-in drops its oldest ones) */
		n = modeljob_nevents(run->j);
		for (i = n - ((size_t)r < n ? (size_t)r : n); i < n; i++) {
			const struct progress_event *ev = modeljob_event(run->j, i);

			if (ev->kind == PROGRESS_ITER) {
				run->iter_seconds += ev->seconds;
				run->iters++;
			}
			if (run->o->json)
				show_json(ev);
			else
				show_event(run, ev);
		}
	}
	clear_bar(run);
	signal(SIGINT, SIG_DFL);
	signal(SIGTERM, SIG_DFL);
	signal(SIGHUP, SIG_DFL);
	buf_release(&err);
	return ret;
}

static const char *state_name(enum modeljob_state s)
{
	static const char *const names[] = {
		[MODELJOB_RUNNING] = "running", [MODELJOB_DONE] = "done",
		[MODELJOB_FAILED] = "failed", [MODELJOB_CANCELLED] = "cancelled",
	};
	return names[s];
}

/* the --json summary: one object on one line after the events */
static void print_summary(struct run *run, json_t *extra)
{
	const struct progress_event *done = modeljob_last(run->j, PROGRESS_DONE);
	json_t *j = json_pack("{s:s, s:s, s:s, s:f, s:s}", "state",
			      state_name(modeljob_state(run->j)), "version",
			      done ? done->version : "", "reason", modeljob_reason(run->j),
			      "seconds", clock_s() - run->started, "log", modeljob_log(run->j));
	char *text;

	json_object_update(j, extra);
	json_decref(extra);
	text = json_dumps(j, JSON_COMPACT | JSON_PRESERVE_ORDER | JSON_REAL_PRECISION(6));
	if (text)
		puts(text);
	free(text);
	json_decref(j);
}

static int start_failed(struct buf *err)
{
	int ret = cli_fail(RC_FAILED, "%s", err->s);

	buf_release(err);
	return ret;
}

static void verbose_start(const struct run *run)
{
	struct buf log = BUF_INIT;

	if (!run->o->verbose)
		return;
	buf_read_file(&log, modeljob_log(run->j), 64 << 10);
	fprintf(stderr, "%.*s", (int)strcspn(log.s, "\n") + 1, log.s);
	fprintf(stderr, "log: %s (pid %ld)\n", modeljob_log(run->j), (long)modeljob_pid(run->j));
	buf_release(&log);
}

static int models_train(struct models_opts *o)
{
	struct run run = { .o = o };
	struct registry *r = NULL;
	struct buf err = BUF_INIT;
	char before[41] = "", after[41] = "";
	const struct progress_event *done;
	int ret;

	o->t.dataset = o->args[0];
	o->t.registry = registry_of(o);
	/* candidate before, to say honestly whether a cancel moved it */
	if (!registry_open(&r, o->t.registry, 0, &err)) {
		ref_id(r, "candidate", before);
		registry_close(r);
		r = NULL;
	}
	buf_reset(&err);
	if (modeljob_train_start(&run.j, &o->t, NULL, &err))
		return start_failed(&err);
	run.started = clock_s();
	verbose_start(&run);
	ret = follow(&run, 0);
	if (!registry_open(&r, o->t.registry, 0, &err)) {
		ref_id(r, "candidate", after);
		registry_close(r);
	}
	done = modeljob_last(run.j, PROGRESS_DONE);
	if (o->json) {
		print_summary(&run, json_pack("{s:s, s:i, s:f, s:s, s:b}", "job", "train",
					      "iterations", run.iters, "seconds_per_iter",
					      run.iters ? run.iter_seconds / run.iters : 0.0,
					      "candidate", after, "moved", strcmp(before, after) != 0));
	}
	if (ret < 0 || modeljob_state(run.j) == MODELJOB_FAILED) {
		ret = cli_fail(RC_FAILED, "training failed: %s; its log: %s", modeljob_reason(run.j),
			       modeljob_log(run.j));
	} else if (modeljob_state(run.j) == MODELJOB_CANCELLED) {
		if (!o->json) {
			if (strcmp(before, after))
				printf("cancelled too late: it registered %.12s, and candidate moved\n",
				       after);
			else
				printf("cancelled after %d iteration(s): no registry ref moved\n",
				       run.iters);
		}
		ret = RC_INTERRUPTED;
	} else {
		if (!o->json)
			printf("%s (%d iterations, %.4f s per iteration)\n",
			       done ? done->message : "trained", run.iters,
			       run.iters ? run.iter_seconds / run.iters : 0.0);
		ret = RC_OK;
	}
	modeljob_free(run.j);
	buf_release(&err);
	return ret;
}

static int models_publish(struct models_opts *o)
{
	struct modeljob_publish p = {
		.rev = o->nargs ? o->args[0] : NULL, .registry = registry_of(o), .redis = o->redis,
		.data = o->data,
	};
	struct run run = { .o = o };
	struct buf err = BUF_INIT;
	const struct progress_event *done, *last;
	int ret;

	if (modeljob_publish_start(&run.j, &p, NULL, &err))
		return start_failed(&err);
	run.started = clock_s();
	verbose_start(&run);
	ret = follow(&run, 0);
	done = modeljob_last(run.j, PROGRESS_DONE);
	last = modeljob_last(run.j, PROGRESS_PUBLISH);
	if (o->json)
		print_summary(&run, json_pack("{s:s, s:I, s:f}", "job", "publish", "lists",
					      (json_int_t)(last ? last->done : 0), "rate",
					      last && !isnan(last->rate) ? last->rate : 0.0));
	if (ret < 0 || modeljob_state(run.j) == MODELJOB_FAILED) {
		ret = cli_fail(RC_FAILED, "publishing failed: %s; its log: %s",
			       modeljob_reason(run.j), modeljob_log(run.j));
	} else if (modeljob_state(run.j) == MODELJOB_CANCELLED && !done) {
		if (!o->json)
			printf("cancelled: %s\n", *modeljob_reason(run.j) ? modeljob_reason(run.j)
			       : "pk:rec:current was not moved");
		ret = RC_INTERRUPTED;
	} else {
		if (!o->json)
			printf("published model %s: %llu lists in %.2f s (%.0f lists/s); "
			       "pk:rec:current -> %s\n", done ? done->version : "?",
			       (unsigned long long)(last ? last->done : 0), clock_s() - run.started,
			       last && !isnan(last->rate) ? last->rate : 0.0,
			       done ? done->version : "?");
		ret = RC_OK;
	}
	modeljob_free(run.j);
	buf_release(&err);
	return ret;
}

static int models_foldin(struct models_opts *o)
{
	struct modeljob_foldin f = {
		.rev = o->nargs ? o->args[0] : NULL, .registry = registry_of(o),
		.redis = o->redis, .kafka = o->kafka, .data = o->data,
	};
	struct run run = { .o = o };
	struct buf err = BUF_INIT;
	const struct progress_event *done, *last;
	char a[32], b[32];
	int ret;

	if (modeljob_foldin_start(&run.j, &f, NULL, &err))
		return start_failed(&err);
	run.started = clock_s();
	verbose_start(&run);
	if (!o->json)
		fprintf(stderr, "folding in until Ctrl-C%s\n", o->for_s > 0 ? " or --for's end" : "");
	ret = follow(&run, o->for_s > 0 ? run.started + o->for_s : 0);
	done = modeljob_last(run.j, PROGRESS_DONE);
	last = modeljob_last(run.j, PROGRESS_FOLDIN);
	if (o->json)
		print_summary(&run, json_pack("{s:s, s:I}", "job", "foldin", "events",
					      (json_int_t)(last ? last->events : 0)));
	/* fold-in is stopped by a signal: a "done" line says it stopped well */
	if (ret < 0 || !done) {
		ret = cli_fail(RC_FAILED, "fold-in failed: %s; its log: %s", *modeljob_reason(run.j)
			       ? modeljob_reason(run.j) : "it ended without saying so",
			       modeljob_log(run.j));
	} else {
		if (!o->json) {
			fmt_ms(a, sizeof(a), last ? last->p50_ms : NAN);
			fmt_ms(b, sizeof(b), last ? last->p99_ms : NAN);
			printf("%s into model %s; event to redis p50 %s, p99 %s (the last 10 s)\n",
			       done->message, done->version, a, b);
		}
		ret = RC_OK;
	}
	modeljob_free(run.j);
	buf_release(&err);
	return ret;
}

/* ---- the verbs ---- */

static const struct verb {
	const char *name;
	int (*fn)(struct models_opts *o);
	int min_args, max_args;
	unsigned opts;
} verbs[] = {
	{ "list", models_list, 0, 0, MO_REGISTRY | MO_JSON },
	{ "show", models_show, 1, 1, MO_REGISTRY | MO_JSON },
	{ "diff", models_diff, 2, 2, MO_REGISTRY | MO_JSON },
	{ "promote", models_promote, 0, 1, MO_REGISTRY | MO_JSON },
	{ "rollback", models_rollback, 0, 0, MO_REGISTRY | MO_JSON },
	{ "train", models_train, 1, 1, MO_REGISTRY | MO_JSON | MO_VERBOSE | MO_IMPLICIT |
	  MO_RANK | MO_LAMBDA | MO_ALPHA | MO_ITERS | MO_SPLIT | MO_NOREG },
	{ "publish", models_publish, 0, 1, MO_REGISTRY | MO_JSON | MO_VERBOSE | MO_REDIS |
	  MO_DATA },
	{ "foldin", models_foldin, 0, 1, MO_REGISTRY | MO_JSON | MO_VERBOSE | MO_REDIS |
	  MO_KAFKA | MO_FOR | MO_DATA },
};

/* a number for `opt` within [lo, hi] (whole when `whole`); -1 after the usage error */
static int number(const char *opt, const char *s, double lo, double hi, int whole, double *out)
{
	char *end, q[QUOTE_BUF];
	double v;

	errno = 0;
	v = strtod(s, &end);
	if (errno || end == s || *end || !isfinite(v) || v < lo || v > hi ||
	    (whole && v != floor(v))) {
		cli_bad_usage("models", "%s wants %s from %g to %g, not %s", opt,
			      whole ? "a whole number" : "a number", lo, hi, quote(q, s));
		return -1;
	}
	*out = v;
	return 0;
}

static int parse(int argc, char **argv, struct models_opts *o)
{
	double v;
	size_t i;
	int c;

	o->t.lambda = o->t.alpha = o->t.split = -1;
	o->t.do_register = 1;
	optind = 1;
	while ((c = getopt_long(argc, argv, "", long_opts, NULL)) != -1) {
		for (i = 0; i < ARRAY_SIZE(opt_bits); i++)
			if (opt_bits[i].c == c)
				o->given |= opt_bits[i].bit;
		switch (c) {
		case 'r': o->registry = optarg; break;
		case 'j': o->json = 1; break;
		case 'v': o->verbose = 1; break;
		case 'I': o->t.implicit = 1; break;
		case 'N': o->t.do_register = 0; break;
		case 'R': o->redis = optarg; break;
		case 'K': o->kafka = optarg; break;
		case 'd': o->data = optarg; break;
		case 'k':
			if (number("--rank", optarg, 1, 1024, 1, &v)) return -1;
			o->t.rank = (int)v;
			break;
		case 'n':
			if (number("--iters", optarg, 1, 10000, 1, &v)) return -1;
			o->t.iters = (int)v;
			break;
		case 'l':
			if (number("--lambda", optarg, 0, 1e6, 0, &o->t.lambda)) return -1;
			break;
		case 'a':
			if (number("--alpha", optarg, 1e-9, 1e9, 0, &o->t.alpha)) return -1;
			break;
		case 's':
			if (number("--split", optarg, 0, 0.99, 0, &o->t.split)) return -1;
			break;
		case 'f':
			if (number("--for", optarg, 0.1, 1e7, 0, &o->for_s)) return -1;
			break;
		default:
			cli_bad_option("models", argv);
			return -1;
		}
	}
	return 0;
}

int cmd_models(int argc, char **argv)
{
	struct models_opts o;
	const struct verb *v = NULL;
	char q[QUOTE_BUF];
	size_t i;

	memset(&o, 0, sizeof(o));
	if (parse(argc, argv, &o))
		return RC_USAGE;
	if (optind >= argc)
		return cli_bad_usage("models", "which? list, show, diff, promote, rollback, train, "
				     "publish or foldin");
	for (i = 0; i < ARRAY_SIZE(verbs); i++)
		if (!strcmp(verbs[i].name, argv[optind]))
			v = &verbs[i];
	if (!v)
		return cli_bad_usage("models", "unknown models command %s: use list, show, diff, "
				     "promote, rollback, train, publish or foldin",
				     quote(q, argv[optind]));
	o.args = argv + optind + 1;
	o.nargs = argc - optind - 1;
	if (o.nargs > v->max_args)
		return cli_bad_usage("models", "unexpected argument %s for 'models %s'",
				     quote(q, o.args[v->max_args]), v->name);
	if (o.nargs < v->min_args)
		return cli_bad_usage("models", "'models %s' wants %s", v->name,
				     v->min_args == 2 ? "two revisions (REV REV)"
				     : !strcmp(v->name, "train") ? "a dataset (NAME or folder)"
				     : "a revision (REV)");
	for (i = 0; i < ARRAY_SIZE(opt_bits); i++)
		if ((o.given & opt_bits[i].bit) && !(v->opts & opt_bits[i].bit))
			return cli_bad_usage("models", "%s is not an option of 'models %s'",
					     opt_bits[i].name, v->name);
	if ((o.given & MO_ALPHA) && !o.t.implicit)
		return cli_bad_usage("models", "--alpha is for implicit feedback: add --implicit");
	return v->fn(&o);
}
