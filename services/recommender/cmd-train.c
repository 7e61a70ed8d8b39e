/*
 * train: reads a dataset, holds some ratings out, trains ALS with figures
 * per iteration, evaluates the model beside the mean-plus-biases baseline,
 * saves it and (with --register) commits it to the registry.
 */
#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "als.h"
#include "core/config.h"
#include "eval.h"
#include "rec.h"
#include "model/registry.h"
#include "util/xalloc.h"
#include "util/jsonout.h"

struct train_opts {
	struct als_params p;
	struct split_spec split;
	int k;
	long eval_users;
	const char *out, *registry;
	int do_register, json;
	int from_cassandra;		/* read the ratings from Cassandra, not files */
	enum dataset_on_error on_error;
};

struct progress {
	const struct train_opts *o;
	const struct train_set *ts;
	json_t *iters;
	double total;
};

static int on_iter(const struct als_iter *it, const struct model *m, void *ctx)
{
	struct progress *pr = ctx;
	struct eval_result er = { 0 };
	double gflops = it->ne_seconds > 0 ? it->ne_flops / it->ne_seconds * 1e-9 : 0;

	pr->total += it->seconds;
	if (pr->ts->ntest && !(m->flags & MODEL_IMPLICIT))
		eval_ratings(m, pr->ts, &er);
	/* ranking figures per iteration on a small sample, for the curve */
	if (pr->ts->ntest)
		eval_ranking(m, pr->ts, pr->o->k, 4.0f, 1000, pr->o->p.seed, pr->o->p.threads, &er);
	json_t *j = json_pack("{s:i, s:f, s:f, s:f, s:f}", "iter", it->iter,
			      "seconds", it->seconds, "loss", it->loss,
			      "normal_equations_seconds", it->ne_seconds,
			      "normal_equations_gflops", gflops);
	if (!(m->flags & MODEL_IMPLICIT)) {
		json_object_set_new(j, "train_rmse", json_real(it->train_rmse));
		if (pr->ts->ntest)
			json_object_set_new(j, "test_rmse", json_real(er.rmse));
	}
	json_object_set_new(j, "normal_equations_blas_seconds", json_real(it->ne_blas_seconds));
	if (pr->ts->ntest) {
		char key[32];
		snprintf(key, sizeof(key), "sample_ndcg@%d", er.k);
		json_object_set_new(j, key, json_real(er.ndcg));
		snprintf(key, sizeof(key), "sample_precision@%d", er.k);
		json_object_set_new(j, key, json_real(er.precision));
	}
	if (it->fixed)
		json_object_set_new(j, "rows_regularised", json_integer((json_int_t)it->fixed));
	json_array_append_new(pr->iters, j);
	if (rec_progress_fd >= 0) {
		struct progress_event ev;

		progress_init(&ev, PROGRESS_ITER);
		ev.iter = it->iter;
		ev.iters = pr->o->p.iters;
		ev.seconds = it->seconds;
		ev.loss = it->loss;
		if (!(m->flags & MODEL_IMPLICIT)) {
			ev.train_rmse = it->train_rmse;
			if (pr->ts->ntest)
				ev.test_rmse = er.rmse;
		}
		if (pr->ts->ntest)
			ev.ndcg = er.ndcg;
		rec_progress(&ev);
	}
	if (!pr->o->json) {
		fprintf(stderr, "  iter %3d/%d  %6.3f s  loss %.5f", it->iter, pr->o->p.iters,
			it->seconds, it->loss);
		if (!(m->flags & MODEL_IMPLICIT)) {
			fprintf(stderr, "  train rmse %.4f", it->train_rmse);
			if (pr->ts->ntest)
				fprintf(stderr, "  test rmse %.4f", er.rmse);
		}
		if (pr->ts->ntest)
			fprintf(stderr, "  ndcg@%d %.4f", er.k, er.ndcg);
		fprintf(stderr, "\n");
	}
	return rec_interrupted;
}

static json_t *metrics_json(const struct eval_result *r, int implicit, int ranking)
{
	json_t *o = json_object();
	if (!implicit) {
		json_object_set_new(o, "rmse", json_real(r->rmse));
		json_object_set_new(o, "mae", json_real(r->mae));
		json_object_set_new(o, "predicted", json_integer((json_int_t)r->predicted));
		json_object_set_new(o, "cold", json_integer((json_int_t)r->cold));
	}
	if (ranking) {
		char key[32];
		snprintf(key, sizeof(key), "precision@%d", r->k);
		json_object_set_new(o, key, json_real(r->precision));
		snprintf(key, sizeof(key), "recall@%d", r->k);
		json_object_set_new(o, key, json_real(r->recall));
		snprintf(key, sizeof(key), "ndcg@%d", r->k);
		json_object_set_new(o, key, json_real(r->ndcg));
		snprintf(key, sizeof(key), "map@%d", r->k);
		json_object_set_new(o, key, json_real(r->map));
		json_object_set_new(o, "ranked_users", json_integer((json_int_t)r->users));
	}
	return o;
}

static json_t *params_json(const struct train_opts *o, const struct model *m)
{
	const struct als_params *p = &o->p;
	const char *split = o->split.kind == SPLIT_RANDOM ? "random"
			    : o->split.kind == SPLIT_TIME ? "time" : "none";
	json_t *j = json_pack("{s:s, s:s, s:i, s:f, s:i, s:b, s:b}", "dataset", m->dataset,
			      "kind", p->implicit ? "implicit" : "explicit", "rank", p->rank,
			      "lambda", p->lambda, "iters", p->iters, "implicit", p->implicit,
			      "biases", p->biases);
	char fpr[17], version[13];
	model_version(m, version);
	snprintf(fpr, sizeof(fpr), "%016llx", (unsigned long long)m->dataset_fingerprint);
	if (p->implicit) {
		json_object_set_new(j, "alpha", json_real(p->alpha));
		json_object_set_new(j, "solver", json_string(m->solver));
		if (p->solver == ALS_CG)
			json_object_set_new(j, "cg_steps", json_integer(p->cg_steps));
	}
	json_object_set_new(j, "seed", json_integer((json_int_t)p->seed));
	json_object_set_new(j, "threads", json_integer(p->threads));
	json_object_set_new(j, "split", json_string(split));
	if (o->split.kind != SPLIT_NONE)
		json_object_set_new(j, "test_fraction", json_real(o->split.frac));
	json_object_set_new(j, "dataset_fingerprint", json_string(fpr));
	json_object_set_new(j, "users", json_integer(m->nusers));
	json_object_set_new(j, "items", json_integer(m->nitems));
	json_object_set_new(j, "model_version", json_string(version));
	return j;
}

static void print_row(const char *label, const struct eval_result *r, int implicit, int ranking)
{
	fprintf(stdout, "  %-10s", label);
	if (!implicit)
		fprintf(stdout, " %8.4f %8.4f", r->rmse, r->mae);
	if (ranking)
		fprintf(stdout, " %8.4f %8.4f %8.4f %8.4f", r->precision, r->recall, r->ndcg,
			r->map);
	fprintf(stdout, "\n");
}

static char *default_out(const char *name)
{
	char *dir = xstrdup(config_models());
	char *path;

	if (config_mkdirs(dir) < 0) {
		free(dir);
		dir = xstrdup(".");
	}
	path = xstrfmt("%s/%s.model", dir, name);
	free(dir);
	return path;
}

static int parse(int argc, char **argv, struct train_opts *o)
{
	enum {
		O_RANK = 256, O_LAMBDA, O_ITERS, O_BIASES, O_IMPLICIT, O_ALPHA, O_SOLVER,
		O_CG, O_THREADS, O_SEED, O_SPLIT, O_K, O_EVAL_USERS, O_OUT, O_REGISTER,
		O_REGISTRY, O_ONERR, O_JSON, O_FROM, O_PROGRESS,
	};
	static const struct option longs[] = {
		{ "rank", 1, NULL, O_RANK }, { "lambda", 1, NULL, O_LAMBDA },
		{ "iters", 1, NULL, O_ITERS }, { "biases", 0, NULL, O_BIASES },
		{ "implicit", 0, NULL, O_IMPLICIT }, { "alpha", 1, NULL, O_ALPHA },
		{ "solver", 1, NULL, O_SOLVER }, { "cg-steps", 1, NULL, O_CG },
		{ "threads", 1, NULL, O_THREADS }, { "seed", 1, NULL, O_SEED },
		{ "split", 1, NULL, O_SPLIT }, { "k", 1, NULL, O_K },
		{ "eval-users", 1, NULL, O_EVAL_USERS }, { "out", 1, NULL, O_OUT },
		{ "register", 0, NULL, O_REGISTER }, { "registry", 1, NULL, O_REGISTRY },
		{ "on-error", 1, NULL, O_ONERR }, { "json", 0, NULL, O_JSON },
		{ "from", 1, NULL, O_FROM }, { "progress-fd", 1, NULL, O_PROGRESS },
		{ NULL, 0, NULL, 0 },
	};
	struct buf err = BUF_INIT;
	const char *split = "random:0.2";
	long l;
	double d;
	int c;

	als_params_default(&o->p);
	o->k = 10;
	o->eval_users = 10000;
	while ((c = getopt_long(argc, argv, "", longs, NULL)) != -1) {
		switch (c) {
		case O_RANK:
			if (rec_int("train", "--rank", optarg, 1, 1024, &l)) return -1;
			o->p.rank = (int)l;
			break;
		case O_LAMBDA:
			if (rec_float("train", "--lambda", optarg, 0, 1e6, &d)) return -1;
			o->p.lambda = (float)d;
			break;
		case O_ITERS:
			if (rec_int("train", "--iters", optarg, 1, 10000, &l)) return -1;
			o->p.iters = (int)l;
			break;
		case O_BIASES: o->p.biases = 1; break;
		case O_IMPLICIT: o->p.implicit = 1; break;
		case O_ALPHA:
			if (rec_float("train", "--alpha", optarg, 1e-9, 1e9, &d)) return -1;
			o->p.alpha = (float)d;
			break;
		case O_SOLVER:
			if (!strcmp(optarg, "cholesky"))
				o->p.solver = ALS_CHOLESKY;
			else if (!strcmp(optarg, "cg"))
				o->p.solver = ALS_CG;
			else {
				rec_bad_usage("train", "--solver is cholesky or cg, not '%s'", optarg);
				return -1;
			}
			break;
		case O_CG:
			if (rec_int("train", "--cg-steps", optarg, 1, 100, &l)) return -1;
			o->p.cg_steps = (int)l;
			break;
		case O_THREADS:
			if (rec_int("train", "--threads", optarg, 1, 256, &l)) return -1;
			o->p.threads = (int)l;
			break;
		case O_SEED:
			if (rec_int("train", "--seed", optarg, 0, 0x7fffffffL, &l)) return -1;
			o->p.seed = (uint64_t)l;
			break;
		case O_SPLIT: split = optarg; break;
		case O_K:
			if (rec_int("train", "--k", optarg, 1, 1000, &l)) return -1;
			o->k = (int)l;
			break;
		case O_EVAL_USERS:
			if (rec_int("train", "--eval-users", optarg, 0, 100000000, &l)) return -1;
			o->eval_users = l;
			break;
		case O_OUT: o->out = optarg; break;
		case O_REGISTER: o->do_register = 1; break;
		case O_REGISTRY: o->registry = optarg; break;
		case O_ONERR:
			if (!strcmp(optarg, "skip"))
				o->on_error = DS_SKIP;
			else if (strcmp(optarg, "abort")) {
				rec_bad_usage("train", "--on-error is abort or skip, not '%s'", optarg);
				return -1;
			}
			break;
		case O_JSON: o->json = 1; break;
		case O_PROGRESS:
			if (rec_progress_open("train", optarg)) return -1;
			break;
		case O_FROM:
			if (!strcmp(optarg, "cassandra"))
				o->from_cassandra = 1;
			else if (strcmp(optarg, "files")) {
				rec_bad_usage("train", "--from is files or cassandra, not '%s'", optarg);
				return -1;
			}
			break;
		default:
			rec_bad_usage("train", "unknown option");
			return -1;
		}
	}
	if (o->p.implicit && o->p.biases) {
		rec_bad_usage("train", "--biases is for explicit ratings; leave it out with --implicit");
		return -1;
	}
	if (split_parse(&o->split, split, &err)) {
		rec_bad_usage("train", "%s", err.s);
		buf_release(&err);
		return -1;
	}
	o->split.seed = o->p.seed;
	if (optind + 1 != argc) {
		rec_bad_usage("train", "train wants one dataset (NAME or folder)");
		return -1;
	}
	return 0;
}

int cmd_train(int argc, char **argv)
{
	struct train_opts o;
	struct dataset ds;
	struct train_set ts;
	struct model m, base;
	struct eval_result em = { 0 }, eb = { 0 };
	struct buf err = BUF_INIT;
	char *name = NULL, *out = NULL;
	uint8_t *marks = NULL;
	json_t *iters = NULL, *params = NULL, *metrics = NULL, *bmetrics = NULL;
	int ret = 1, have_model = 0, have_ts = 0, have_base = 0;

	memset(&o, 0, sizeof(o));
	if (parse(argc, argv, &o))
		return 2;
	iters = json_array();
	/* where the model goes, and the registry, are checked before any training */
	if (o.out && model_check_writable(o.out, &err)) {
		error("%s", err.s);
		ret = 2;
		goto out;
	}
	if (o.do_register) {
		struct registry *reg = NULL;

		if (registry_open(&reg, rec_registry_dir(o.registry), 1, &err)) {
			error("%s (nothing was trained)", err.s);
			goto out;
		}
		registry_close(reg);
	}
	rec_catch_signals();
	if (o.from_cassandra ? rec_read_cassandra(argv[optind], &ds, &name)
			     : rec_read_dataset(argv[optind], o.on_error, &ds, &name))
		goto out;
	if (ds.nratings == 0) {
		error("dataset '%s' has no ratings to train on", name);
		dataset_release(&ds);
		goto out;
	}
	marks = xmalloc(ds.nratings);
	split_mark(&ds, &o.split, marks);
	train_set_build(&ts, &ds, marks);
	have_ts = 1;
	/* rows come back from cassandra in token order: no file fingerprint to match */
	uint64_t fpr = o.from_cassandra ? 0 : dataset_fingerprint(&ds);
	size_t nratings = ds.nratings;
	dataset_release(&ds);
	free(marks);
	marks = NULL;
	if (csr_nnz(&ts.train) == 0) {
		error("the split left no ratings to train on: hold out "
			"less (--split random:0.2) or none (--split none)");
		goto out;
	}

	model_alloc(&m, (uint32_t)o.p.rank, ts.nusers, ts.nitems,
		    o.p.biases ? MODEL_BIASES : 0);
	have_model = 1;
	memcpy(m.user_ids, ts.user_ids, sizeof(uint32_t) * ts.nusers);
	memcpy(m.item_ids, ts.item_ids, sizeof(uint32_t) * ts.nitems);
	snprintf(m.dataset, sizeof(m.dataset), "%s", name);
	m.dataset_fingerprint = fpr;
	m.trained_at = (uint64_t)time(NULL);

	if (!o.json)
		fprintf(stderr, "%s%s ALS%s on %s: %zu ratings (%llu held out), %u users, "
			"%u items, rank %d, lambda %g, %d threads\n", rec_color("\033[1m"),
			o.p.implicit ? "implicit" : "explicit", rec_color("\033[0m"), name,
			nratings, (unsigned long long)ts.ntest, ts.nusers, ts.nitems, o.p.rank,
			o.p.lambda, o.p.threads);
	rec_progress_start("train", (uint64_t)o.p.iters, "als %s rank %d on %s",
			   o.p.implicit ? "implicit" : "explicit", o.p.rank, name);
	struct progress pr = { .o = &o, .ts = &ts, .iters = iters };
	int r = als_train(&m, &ts.train, &ts.train_t, &o.p, on_iter, &pr, &err);
	if (r < 0) {
		error("%s", err.s);
		goto out;
	}
	if (r > 0)
		goto interrupted;

	/* evaluation beside the baseline */
	int ranking = ts.ntest > 0;
	eval_baseline(&base, &ts);
	have_base = 1;
	if (o.p.implicit)
		base.flags |= MODEL_IMPLICIT;	/* the same items count as relevant */
	if (ts.ntest) {
		float relmin = 4.0f;
		if (!o.p.implicit) {
			eval_ratings(&m, &ts, &em);
			eval_ratings(&base, &ts, &eb);
		}
		eval_ranking(&m, &ts, o.k, relmin, (uint32_t)o.eval_users, o.p.seed,
			     o.p.threads, &em);
		eval_ranking(&base, &ts, o.k, relmin, (uint32_t)o.eval_users, o.p.seed,
			     o.p.threads, &eb);
	}

	/* a signal during the evaluation stops it too: nothing saved, no ref moved */
	if (rec_interrupted)
		goto interrupted;
	out = o.out ? xstrdup(o.out) : default_out(name);
	if (model_save(&m, out, &err)) {
		error("%s", err.s);
		goto out;
	}
	params = params_json(&o, &m);
	metrics = metrics_json(&em, o.p.implicit, ranking);
	bmetrics = metrics_json(&eb, o.p.implicit, ranking);
	json_object_set_new(metrics, "seconds_per_iter", json_real(pr.total / m.iters));
	/* flat, so 'models diff' compares every figure */
	const char *bk;
	json_t *bv;
	json_object_foreach(bmetrics, bk, bv) {
		char key[64];
		snprintf(key, sizeof(key), "baseline_%s", bk);
		json_object_set(metrics, key, bv);
	}

	struct registry_entry ent;
	int registered = 0;
	memset(&ent, 0, sizeof(ent));
	if (o.do_register) {
		struct registry *reg = NULL;
		struct buf bytes = BUF_INIT, summary = BUF_INIT;
		char *pj = json_dumps(params, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
		char *mj = json_dumps(metrics, JSON_INDENT(2) | JSON_PRESERVE_ORDER |
				      JSON_REAL_PRECISION(6));
		model_encode(&m, &bytes);
		buf_addf(&summary, "als %s rank %d on %s", o.p.implicit ? "implicit" : "explicit",
			 o.p.rank, name);
		if (ranking && !o.p.implicit)
			buf_addf(&summary, ": rmse %.4f", em.rmse);
		else if (ranking)
			buf_addf(&summary, ": ndcg@%d %.4f", o.k, em.ndcg);
		int rr = registry_open(&reg, rec_registry_dir(o.registry), 1, &err);
		if (!rr)
			rr = registry_add(reg, bytes.s, bytes.len, pj, mj, summary.s, &ent, &err);
		if (reg)
			registry_close(reg);
		free(pj);
		free(mj);
		buf_release(&bytes);
		buf_release(&summary);
		if (rr) {
			error("%s\n(the model file '%s' was written; no registry "
				"ref moved)", err.s, out);
			goto out;
		}
		registered = 1;
	}

	if (o.json) {
		json_t *j = json_object();
		json_object_set_new(j, "model", json_string(out));
		json_object_set_new(j, "version", json_string(m.checksum));
		json_object_set(j, "params", params);
		json_object_set_new(j, "train_ratings", json_integer((json_int_t)csr_nnz(&ts.train)));
		json_object_set_new(j, "test_ratings", json_integer((json_int_t)ts.ntest));
		json_object_set(j, "iterations", iters);
		json_object_set(j, "metrics", metrics);
		struct rusage ru;
		getrusage(RUSAGE_SELF, &ru);
		json_object_set_new(j, "peak_rss_mb", json_real(ru.ru_maxrss / 1024.0));
		if (registered) {
			json_object_set_new(j, "registered", json_string(ent.id));
			json_object_set_new(j, "registry", json_string(rec_registry_dir(o.registry)));
		}
		jsonout_print(j);
	} else {
		printf("%.3f s per iteration; the model went to %s (version %.12s)\n",
		       pr.total / m.iters, out, m.checksum);
		if (ranking) {
			printf("held-out evaluation (%llu ratings", (unsigned long long)ts.ntest);
			if (!o.p.implicit)
				printf(", %llu scored, %llu cold", (unsigned long long)em.predicted,
				       (unsigned long long)em.cold);
			printf("; ranking over %llu users, %s):\n", (unsigned long long)em.users,
			       o.p.implicit ? "every held-out item relevant"
					    : "held-out items rated >= 4 relevant");
			printf("  %-10s", "");
			if (!o.p.implicit)
				printf(" %8s %8s", "RMSE", "MAE");
			printf(" %8s %8s %8s %8s\n", "P@k", "R@k", "NDCG@k", "MAP@k");
			print_row("ALS", &em, o.p.implicit, 1);
			print_row("baseline", &eb, o.p.implicit, 1);
			printf("  (k = %d; baseline = mean + user and item biases)\n", o.k);
		}
		if (registered)
			printf("registered as %s: candidate now points at it "
			       "('recommender models promote' makes it production)\n", ent.short_id);
	}
	if (registered)
		rec_progress_done(ent.id, "registered as %s: candidate now points at it",
				  ent.short_id);
	else
		rec_progress_done("", "the model went to %s (version %.12s); not registered", out,
				  m.checksum);
	if (registered)
		registry_entry_release(&ent);
	ret = 0;
	goto out;
interrupted:
	{
		char msg[128];

		snprintf(msg, sizeof(msg), "interrupted after %u iteration(s): nothing was "
			 "saved or registered", m.iters);
		fprintf(stderr, "%s\n", msg);
		rec_progress_fail(msg);
		ret = 130;
	}
out:
	json_decref(iters);
	json_decref(params);
	json_decref(metrics);
	json_decref(bmetrics);
	if (have_base)
		model_release(&base);
	if (have_model)
		model_release(&m);
	if (have_ts)
		train_set_release(&ts);
	free(marks);
	free(out);
	free(name);
	buf_release(&err);
	return ret;
}
