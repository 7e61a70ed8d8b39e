/* test-registry: the model registry in a temporary bare repository, cross-checked with the git CLI when there is one. */
#include "model/registry.h"
#include "util/buf.h"
#include "util/xalloc.h"
#include "tap.h"

#include <jansson.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static char tmpdir[] = "/tmp/pancake-test-registry-XXXXXX";
static int have_git;

static void cleanup(void)
{
	tap_rmtree(tmpdir);
}

static int exists(const char *path)
{
	struct stat st;

	return !stat(path, &st);
}

static void put(const char *path, const void *data, size_t len)
{
	FILE *f = fopen(path, "wb");

	if (!f || fwrite(data, 1, len, f) != len || fclose(f))
		die("cannot write '%s'", path);
}

/* deterministic bytes, zeros and all */
static void fill_random(unsigned char *p, size_t n, uint64_t seed)
{
	uint64_t x = seed;
	size_t i;

	for (i = 0; i < n; i++) {
		x ^= x << 13;
		x ^= x >> 7;
		x ^= x << 17;
		p[i] = (unsigned char)(x >> 24);
	}
}

/* runs a shell command; its stdout and stderr into `out` (reset first); the exit status */
static int sh(struct buf *out, const char *cmd)
{
	char chunk[4096];
	size_t got;
	FILE *p;
	int st;

	buf_reset(out);
	if (!(p = popen(cmd, "r")))
		die("cannot run '%s'", cmd);
	while ((got = fread(chunk, 1, sizeof(chunk), p)) > 0)
		buf_add(out, chunk, got);
	st = pclose(p);
	buf_rtrim(out);
	return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

static int git(struct buf *out, const char *dir, const char *args)
{
	char *cmd = xstrfmt("git --git-dir='%s' %s 2>&1", dir, args);
	int rc = sh(out, cmd);

	free(cmd);
	return rc;
}

/* `text` as TAP diagnostics, "# " before every line */
static void diag(const char *text)
{
	const char *nl;

	for (; *text; text = nl + 1) {
		nl = strchr(text, '\n');
		if (!nl) {
			printf("# %s\n", text);
			return;
		}
		printf("# %.*s\n", (int)(nl - text), text);
	}
}

/* the id REV names, or "" */
static const char *id_of(struct registry *r, const char *rev)
{
	static char id[41];
	struct registry_entry e;

	id[0] = '\0';
	if (!registry_show(r, rev, &e, NULL))
		memcpy(id, e.id, sizeof(id));
	registry_entry_release(&e);
	return id;
}

static size_t production_moves(struct registry *r)
{
	char (*ids)[41];
	size_t n;

	if (registry_production_history(r, &ids, &n, NULL))
		return (size_t)-1;
	free(ids);
	return n;
}

static const char params1[] = "{\"algo\": \"als\", \"rank\": 10, \"lambda\": 0.1}";
static const char metrics1[] = "{\"rmse\": 0.861, \"mae\": 0.67, \"users\": 6040, "
			       "\"baseline\": {\"rmse\": 0.95, \"mae\": 0.75}}\n";
static const char params2[] = "{\"algo\": \"als\", \"rank\": 20, \"lambda\": 0.05}";
static const char metrics2[] = "{\"rmse\": 0.855, \"mae\": 0.671, \"users\": 6040, "
			       "\"baseline\": {\"rmse\": 0.94, \"mae\": 0.75}, "
			       "\"ndcg@10\": 0.31}";
static const char params3[] = "{\"algo\": \"als\", \"rank\": 20, \"lambda\": 0.05, "
			      "\"implicit\": true}";
static const char metrics3[] = "{\"rmse\": 0.9, \"mae\": 0.7}";
static const char *summaries[] = {
	"als explicit rank 10 on ml-1m-s1: rmse 0.861",
	"als explicit rank 20 on ml-1m-s1: rmse 0.855",
	"als implicit rank 20 on ml-1m-s1: rmse 0.9",
};

#define BIG (1 << 20)
#define MID (300 * 1024 + 7)

static unsigned char *big, *mid;
static char ids[3][41];

static void test_open_errors(const char *dir)
{
	struct registry *r = NULL;
	struct buf err = BUF_INIT;
	char *full = xstrfmt("%s/full", tmpdir), *junk = xstrfmt("%s/full/notes.txt", tmpdir);
	char *objects = xstrfmt("%s/full/objects", tmpdir);

	is_int(registry_open(&r, dir, 0, &err), REGISTRY_ENOTFOUND,
	       "open without create on a missing directory is ENOTFOUND");
	ok(r == NULL && strstr(err.s, "no model registry at '") && strstr(err.s, dir),
	   "and says there is no registry at the directory: %s", err.s);
	ok(!exists(dir), "and creates nothing");

	buf_reset(&err);
	if (mkdir(full, 0700))
		die("cannot create '%s'", full);
	put(junk, "x", 1);
	is_int(registry_open(&r, full, 1, &err), REGISTRY_EINVAL,
	       "open with create refuses a non-empty directory that is not a registry");
	ok(strstr(err.s, "is not empty") && !exists(objects), "and writes nothing into it: %s",
	   err.s);

	buf_reset(&err);
	is_int(registry_open(&r, "", 1, &err), REGISTRY_EINVAL, "open refuses an empty path");
	buf_release(&err);
	free(full);
	free(junk);
	free(objects);
}

static void test_empty(struct registry *r, const char *dir)
{
	struct registry_entry *list = NULL, e;
	struct buf err = BUF_INIT;
	size_t n = 99;

	is_int(registry_list(r, &list, &n, &err), 0, "list of a new registry succeeds");
	is_int(n, 0, "and is empty");
	registry_list_free(list, n);
	is_int(registry_show(r, "candidate", &e, &err), REGISTRY_ENOTFOUND,
	       "show candidate of a new registry is ENOTFOUND");
	ok(strstr(err.s, "no model 'candidate' in the registry at '") && strstr(err.s, dir) &&
	   strstr(err.s, "'recommender train --register'"),
	   "and names candidate, the registry and how to register one: %s", err.s);
	buf_reset(&err);
	is_int(registry_show(r, "abcd", &e, &err), REGISTRY_ENOTFOUND,
	       "show of an id in an empty registry is ENOTFOUND");
	buf_release(&err);
}

static void test_add(struct registry *r, const char *dir)
{
	struct registry_entry e;
	struct buf err = BUF_INIT;
	char *path = xstrfmt("%s/model3.bin", tmpdir);
	time_t now = time(NULL);
	int rc;

	rc = registry_add(r, "model one\0with a NUL", 20, params1, metrics1, summaries[0], &e,
			  &err);
	is_int(rc, 0, "add model 1 (from bytes) succeeds: %s", err.s);
	memcpy(ids[0], e.id, sizeof(ids[0]));
	ok(strlen(e.id) == 40 && strspn(e.id, "0123456789abcdef") == 40, "its id is 40 hex");
	ok(strlen(e.short_id) == 12 && !strncmp(e.id, e.short_id, 12),
	   "its short id is the id's first 12 digits");
	is_str(e.summary, summaries[0], "its entry has the summary");
	is_int(e.model_size, 20, "its entry has the model's size");
	ok(e.is_candidate && !e.is_production, "it is the candidate, not production");
	ok(e.time >= now - 60 && e.time <= now + 60, "its time is now");
	registry_entry_release(&e);
	is_str(id_of(r, "candidate"), ids[0], "candidate is model 1");

	rc = registry_add(r, big, BIG, params2, metrics2, summaries[1], &e, &err);
	is_int(rc, 0, "add model 2 (1 MiB of random bytes) succeeds: %s", err.s);
	memcpy(ids[1], e.id, sizeof(ids[1]));
	registry_entry_release(&e);
	is_str(id_of(r, "candidate"), ids[1], "candidate moved to model 2");

	put(path, mid, MID);
	rc = registry_add_file(r, path, params3, metrics3, summaries[2], &e, &err);
	is_int(rc, 0, "add model 3 (from a file) succeeds: %s", err.s);
	memcpy(ids[2], e.id, sizeof(ids[2]));
	is_int(e.model_size, MID, "model 3's entry has the file's size");
	registry_entry_release(&e);
	is_str(id_of(r, "candidate"), ids[2], "candidate moved to model 3");
	ok(strcmp(ids[0], ids[1]) && strcmp(ids[1], ids[2]) && strcmp(ids[0], ids[2]),
	   "the three ids differ");
	is_str(id_of(r, "models"), ids[2], "models names the newest");

	buf_reset(&err);
	is_int(registry_show(r, "production", &e, &err), REGISTRY_ENOTFOUND,
	       "show production before any promote is ENOTFOUND");
	ok(strstr(err.s, "no model 'production' in the registry at '") && strstr(err.s, dir) &&
	   strstr(err.s, "promote one first"), "and says to promote one first: %s", err.s);
	buf_reset(&err);
	is_int(registry_rollback(r, &e, &err), REGISTRY_ENOTFOUND,
	       "rollback before any promote is ENOTFOUND");
	ok(strstr(err.s, "promote one first"), "and says to promote one first: %s", err.s);
	is_int(production_moves(r), 0, "production has no history yet");

	buf_reset(&err);
	is_int(registry_add_file(r, "/nonexistent/model.bin", "{}", "{}", "x", NULL, &err),
	       REGISTRY_ENOTFOUND, "add_file of a missing file is ENOTFOUND");
	ok(strstr(err.s, "'/nonexistent/model.bin'"), "and names the file: %s", err.s);
	buf_release(&err);
	free(path);
}

static void test_bad_adds(struct registry *r, const char *dir)
{
	struct buf err = BUF_INIT;
	char *lock = xstrfmt("%s/refs/heads/candidate.lock", dir);
	struct registry_entry *list;
	size_t n;

	is_int(registry_add(r, "m", 1, "{\"rank\": ", "{}", "s", NULL, &err), REGISTRY_EINVAL,
	       "add with params that are not JSON is EINVAL");
	ok(strstr(err.s, "params are not valid JSON"), "and says so: %s", err.s);
	buf_reset(&err);
	is_int(registry_add(r, "m", 1, "{}", "[1, 2]", "s", NULL, &err), REGISTRY_EINVAL,
	       "add with metrics that are not an object is EINVAL");
	buf_reset(&err);
	is_int(registry_add(r, "m", 1, "{}", "{}", "two\nlines", NULL, &err), REGISTRY_EINVAL,
	       "add with a two-line summary is EINVAL");
	buf_reset(&err);
	is_int(registry_add(r, "m", 1, "{}", "{}", "  ", NULL, &err), REGISTRY_EINVAL,
	       "add with a blank summary is EINVAL");

	/* another process holding candidate's lock: nothing may move */
	put(lock, "", 0);
	buf_reset(&err);
	is_int(registry_add(r, "m", 1, "{}", "{}", "locked out", NULL, &err), REGISTRY_ELOCKED,
	       "add while candidate is locked is ELOCKED");
	ok(strstr(err.s, "candidate.lock") && strstr(err.s, "remove that lock file"),
	   "and names the lock file and the way out: %s", err.s);
	unlink(lock);
	is_str(id_of(r, "models"), ids[2], "models did not move after the failed adds");
	is_str(id_of(r, "candidate"), ids[2], "candidate did not move after the failed adds");
	if (!registry_list(r, &list, &n, NULL)) {
		is_int(n, 3, "the registry still holds three models");
		registry_list_free(list, n);
	}
	buf_release(&err);
	free(lock);
}

static void test_list_and_read(struct registry *r)
{
	struct registry_entry *list = NULL, e;
	struct buf err = BUF_INIT, bytes = BUF_INIT;
	size_t n = 0;
	char abbrev[8];

	is_int(registry_list(r, &list, &n, &err), 0, "list succeeds: %s", err.s);
	is_int(n, 3, "list has three models");
	if (n == 3) {
		is_str(list[0].id, ids[2], "list is newest first: model 3");
		is_str(list[1].id, ids[1], "then model 2");
		is_str(list[2].id, ids[0], "then model 1");
		is_str(list[0].summary, summaries[2], "model 3's summary");
		is_str(list[1].summary, summaries[1], "model 2's summary");
		is_str(list[2].summary, summaries[0], "model 1's summary");
		ok(list[0].model_size == MID && list[1].model_size == BIG &&
		   list[2].model_size == 20, "the sizes of model.bin");
		ok(list[0].is_candidate && !list[1].is_candidate && !list[2].is_candidate,
		   "only the newest is the candidate");
		is_str(list[2].params_json, params1, "params.json round-trips byte for byte");
		is_str(list[2].metrics_json, metrics1, "metrics.json round-trips byte for byte");
		ok(list[0].time >= list[1].time && list[1].time >= list[2].time,
		   "commit times do not go backwards");
	}
	registry_list_free(list, n);

	is_int(registry_model(r, ids[1], &bytes, &err), 0, "model bytes of model 2: %s", err.s);
	ok(bytes.len == BIG && !memcmp(bytes.s, big, BIG), "are the 1 MiB exactly");
	buf_reset(&bytes);
	memcpy(abbrev, ids[2], 7);
	abbrev[7] = '\0';
	is_int(registry_model(r, abbrev, &bytes, &err), 0,
	       "model bytes by a 7-digit id of model 3: %s", err.s);
	ok(bytes.len == MID && !memcmp(bytes.s, mid, MID), "are the file's bytes exactly");
	buf_reset(&bytes);
	is_int(registry_model(r, "candidate~2", &bytes, &err), 0, "model bytes of candidate~2");
	ok(bytes.len == 20 && !memcmp(bytes.s, "model one\0with a NUL", 20),
	   "are model 1's, NUL and all");
	buf_release(&bytes);

	is_str(id_of(r, "models~1"), ids[1], "models~1 is model 2");
	is_str(id_of(r, "candidate^"), ids[1], "candidate^ is model 2");
	is_str(id_of(r, "models^1~1"), ids[0], "models^1~1 is model 1");
	is_str(id_of(r, "models~0"), ids[2], "models~0 is model 3");
	memcpy(abbrev, ids[0], 7);
	abbrev[0] = (char)(abbrev[0] >= 'a' ? abbrev[0] - 'a' + 'A' : abbrev[0]);
	is_str(id_of(r, abbrev), ids[0], "an id prefix in upper case works");

	is_int(registry_show(r, "models~3", &e, &err), REGISTRY_ENOTFOUND,
	       "models~3 (past the first model) is ENOTFOUND");
	buf_release(&err);
}

static void test_bad_revs(struct registry *r, const char *dir)
{
	static const char *invalid[] = {
		"abc", "zzzz", "production:model.bin", "HEAD", "models~x", "models^2",
		"models..candidate", "refs/heads/models", "production@{1}", "models~99999999",
		"0123456789012345678901234567890123456789a",
	};
	struct registry_entry e;
	struct buf err = BUF_INIT;
	size_t i;

	is_int(registry_show(r, "deadbeef", &e, &err), REGISTRY_ENOTFOUND,
	       "show of an unknown id is ENOTFOUND");
	ok(strstr(err.s, "no model 'deadbeef' in the registry at '") && strstr(err.s, dir) &&
	   strstr(err.s, "recommender models list"), "and says where to look: %s", err.s);
	for (i = 0; i < ARRAY_SIZE(invalid); i++) {
		buf_reset(&err);
		is_int(registry_show(r, invalid[i], &e, &err), REGISTRY_EINVAL,
		       "'%s' is not accepted as a REV", invalid[i]);
	}
	ok(strstr(err.s, "is not a model in the registry"), "with a message naming the forms: %s",
	   err.s);
	buf_reset(&err);
	is_int(registry_promote(r, "deadbeef", &e, &err), REGISTRY_ENOTFOUND,
	       "promote of an unknown id is ENOTFOUND");
	is_int(production_moves(r), 0, "and production was not created");
	buf_release(&err);
}

static void test_promote_rollback(struct registry *r)
{
	struct registry_entry e;
	struct registry_move *log = NULL;
	struct buf err = BUF_INIT;
	char abbrev[9], (*hist)[41] = NULL, msg[64], target[41];
	size_t n = 0;

	is_int(registry_rollback_target(r, target, &err), REGISTRY_ENOTFOUND,
	       "no production: no rollback target");
	buf_reset(&err);
	is_int(registry_promote(r, NULL, &e, &err), 0, "promote the candidate: %s", err.s);
	is_str(e.id, ids[2], "production is model 3");
	ok(e.is_production && e.is_candidate, "the entry is production and candidate");
	registry_entry_release(&e);
	is_int(registry_promote(r, "candidate", NULL, &err), 0, "promote it again");
	is_int(production_moves(r), 1, "which does not move production");

	memcpy(abbrev, ids[0], 8);
	abbrev[8] = '\0';
	is_int(registry_promote(r, abbrev, &e, &err), 0, "promote model 1 by an 8-digit id: %s",
	       err.s);
	is_str(e.id, ids[0], "production is model 1");
	registry_entry_release(&e);
	is_str(id_of(r, "production"), ids[0], "show production says model 1");
	is_str(id_of(r, "candidate"), ids[2], "candidate stays at model 3");

	is_int(registry_promote(r, "candidate~1", NULL, &err), 0, "promote candidate~1");
	is_str(id_of(r, "production"), ids[1], "production is model 2");

	is_int(registry_production_history(r, &hist, &n, &err), 0, "production history");
	ok(n == 3 && !strcmp(hist[0], ids[1]) && !strcmp(hist[1], ids[0]) &&
	   !strcmp(hist[2], ids[2]), "is models 2, 1, 3, newest first");
	free(hist);

	is_int(registry_rollback_target(r, target, &err), 0, "rollback target: %s", err.s);
	is_str(target, ids[0], "a rollback would go to model 1");
	is_str(id_of(r, "production"), ids[1], "and asking moved nothing");
	is_int(registry_rollback(r, &e, &err), 0, "rollback: %s", err.s);
	is_str(e.id, ids[0], "goes back to model 1");
	ok(e.is_production, "whose entry is production");
	registry_entry_release(&e);
	is_str(id_of(r, "production"), ids[0], "show production agrees");
	is_int(registry_rollback_target(r, target, &err), 0, "rollback target again");
	is_str(target, ids[2], "the next rollback would go to model 3");
	is_int(registry_rollback(r, &e, &err), 0, "rollback again: %s", err.s);
	is_str(e.id, ids[2], "goes back to model 3, the first promoted");
	registry_entry_release(&e);

	is_int(registry_rollback_target(r, target, &err), REGISTRY_ENOHISTORY,
	       "with nowhere to go, the target is ENOHISTORY too");
	ok(!target[0], "and empty");
	buf_reset(&err);
	is_int(registry_rollback(r, &e, &err), REGISTRY_ENOHISTORY,
	       "a third rollback has nowhere to go: ENOHISTORY");
	ok(strstr(err.s, "production has no earlier version to roll back to"),
	   "and says so: %s", err.s);
	is_str(id_of(r, "production"), ids[2], "production stays at model 3");
	is_int(production_moves(r), 5, "and no move was logged (3 promotes, 2 rollbacks)");

	is_int(registry_production_log(r, &log, &n, &err), 0, "production log");
	if (n == 5) {
		snprintf(msg, sizeof(msg), "rollback to %.12s", ids[2]);
		is_str(log[0].message, msg, "the newest reflog message is 'rollback to <short>'");
		snprintf(msg, sizeof(msg), "promote %.12s", ids[1]);
		is_str(log[2].message, msg, "a promote's reflog message is 'promote <short>'");
		is_str(log[0].old_id, ids[0], "a move records the value before it");
		is_str(log[4].old_id, "", "the first move had no value before it");
		ok(log[0].time >= log[4].time && log[4].time > 0, "moves have times");
	} else {
		ok(0, "production log has 5 moves, not %zu", n);
	}
	registry_moves_free(log, n);

	/* promote after rollbacks pushes again: a rollback then undoes just that */
	is_int(registry_promote(r, ids[1], NULL, &err), 0, "promote model 2 again");
	is_int(registry_rollback(r, &e, &err), 0, "and roll it back");
	is_str(e.id, ids[2], "to model 3");
	registry_entry_release(&e);
	is_int(registry_rollback(r, NULL, &err), REGISTRY_ENOHISTORY,
	       "after which there is again no earlier version");
	buf_release(&err);
}

static void test_diff(struct registry *r)
{
	struct buf out = BUF_INIT, err = BUF_INIT;
	json_t *j, *v;
	json_error_t je;
	const char *line;
	char header[64];

	is_int(registry_diff(r, ids[0], ids[1], &out, &err), 0, "diff model 1 model 2: %s", err.s);
	diag(out.s);
	snprintf(header, sizeof(header), "%.12s", ids[0]);
	line = strstr(out.s, header);
	snprintf(header, sizeof(header), "%.12s  ", ids[1]);
	ok(!strncmp(out.s, "key ", 4) && line && line < strchr(out.s, '\n') &&
	   (line = strstr(line, header)) && !strncmp(line + strlen(header), "delta\n", 6),
	   "starts with a header: key, the two short ids, delta");
	line = strstr(out.s, "\nrank ");
	ok(line && strstr(line, "10") && strstr(line, "20") &&
	   strstr(line, "20\n") != NULL, "lists the rank param: 10 then 20, no delta");
	line = strstr(out.s, "\nlambda ");
	ok(line && strstr(line, "0.1") && strstr(line, "0.05"), "lists the lambda param");
	ok(!strstr(out.s, "\nalgo "), "does not list the param that is the same");
	ok(strstr(out.s, "-0.006 (-0.70%)") != NULL, "rmse: delta -0.006 and -0.70%%");
	ok(strstr(out.s, "+0.001 (+0.15%)") != NULL, "mae: delta +0.001 and +0.15%%");
	ok(strstr(out.s, "+0 (+0.00%)") != NULL, "users: an integer delta of +0");
	line = strstr(out.s, "\nndcg@10 ");
	ok(line && strstr(line, "-") && strstr(line, "0.31\n"),
	   "a metric only b has: '-' then 0.31, no delta");
	ok(strstr(out.s, "\nrank ") < strstr(out.s, "\nrmse "), "params come before metrics");
	line = strstr(out.s, "\nbaseline.rmse ");
	ok(line && strstr(line, "0.95") && strstr(line, "0.94") &&
	   strstr(line, "-0.01 (-1.05%)"), "a nested metric is compared as baseline.rmse");
	ok(strstr(out.s, "\nbaseline.mae ") && !strstr(out.s, "{"),
	   "every nested member gets its own line, no JSON left in cells");

	buf_reset(&out);
	is_int(registry_diff_json(r, "models~2", "models~1", &out, &err), 0, "diff --json: %s",
	       err.s);
	diag(out.s);
	j = json_loads(out.s, 0, &je);
	ok(j != NULL, "is valid JSON");
	is_str(json_string_value(json_object_get(j, "a")), ids[0], "a is model 1's full id");
	is_str(json_string_value(json_object_get(j, "b")), ids[1], "b is model 2's full id");
	v = json_object_get(json_object_get(j, "params"), "rank");
	ok(json_array_size(v) == 2 && json_integer_value(json_array_get(v, 0)) == 10 &&
	   json_integer_value(json_array_get(v, 1)) == 20, "params.rank is [10, 20]");
	ok(!json_object_get(json_object_get(j, "params"), "algo"), "params.algo is left out");
	v = json_object_get(json_object_get(j, "metrics"), "rmse");
	ok(strstr(out.s, "\"delta\":-0.006,"), "metrics.rmse.delta prints as -0.006");
	ok(fabs(json_real_value(json_object_get(v, "delta")) + 0.006) < 1e-12 &&
	   fabs(json_real_value(json_object_get(v, "pct")) + 0.6968641) < 1e-6,
	   "metrics.rmse has delta -0.006 and pct -0.697");
	v = json_object_get(json_object_get(j, "metrics"), "ndcg@10");
	ok(json_is_null(json_object_get(v, "a")) && json_is_null(json_object_get(v, "delta")),
	   "metrics.ndcg@10 has a null a and delta");
	v = json_object_get(json_object_get(j, "metrics"), "baseline.rmse");
	ok(fabs(json_real_value(json_object_get(v, "delta")) + 0.01) < 1e-12,
	   "metrics[\"baseline.rmse\"].delta is -0.01");
	v = json_object_get(json_object_get(j, "metrics"), "users");
	ok(json_is_integer(json_object_get(v, "delta")) &&
	   json_integer_value(json_object_get(v, "delta")) == 0, "metrics.users.delta is 0");
	json_decref(j);

	buf_reset(&out);
	buf_reset(&err);
	is_int(registry_diff(r, ids[0], "nope", &out, &err), REGISTRY_EINVAL,
	       "diff against a bad REV fails");
	is_int(out.len, 0, "and writes nothing");
	buf_release(&out);
	buf_release(&err);
}

static void test_reopen(const char *dir)
{
	struct registry *r = NULL;
	struct registry_entry *list = NULL;
	struct buf err = BUF_INIT, bytes = BUF_INIT;
	size_t n = 0;

	is_int(registry_open(&r, dir, 0, &err), 0, "reopen without create: %s", err.s);
	if (!r)
		return;
	is_str(registry_dir(r), dir, "registry_dir is the directory");
	is_str(id_of(r, "production"), ids[2], "production persisted");
	is_str(id_of(r, "candidate"), ids[2], "candidate persisted");
	is_int(registry_list(r, &list, &n, &err), 0, "list after reopen");
	ok(n == 3 && !strcmp(list[2].id, ids[0]), "holds the same three models");
	registry_list_free(list, n);
	is_int(production_moves(r), 7, "production's history persisted");
	is_int(registry_model(r, ids[1], &bytes, &err), 0, "model 2 after reopen");
	ok(bytes.len == BIG && !memcmp(bytes.s, big, BIG), "is still the same 1 MiB");
	buf_release(&bytes);
	registry_close(r);
	buf_release(&err);
}

static void test_git_cli(const char *dir)
{
	struct buf out = BUF_INIT;
	char *expect;

	is_int(git(&out, dir, "rev-parse production"), 0, "git rev-parse production");
	is_str(out.s, ids[2], "names what the registry calls production");
	is_int(git(&out, dir, "rev-parse candidate"), 0, "git rev-parse candidate");
	is_str(out.s, ids[2], "names what the registry calls candidate");
	is_int(git(&out, dir, "fsck --strict --no-dangling"), 0, "git fsck --strict: %s", out.s);
	is_str(out.s, "", "reports nothing");
	git(&out, dir, "log --format=%s models");
	expect = xstrfmt("%s\n%s\n%s", summaries[2], summaries[1], summaries[0]);
	is_str(out.s, expect, "git log models shows the summaries, newest first");
	free(expect);
	git(&out, dir, "log --format='%an <%ae>|%cn <%ce>' -1 models");
	is_str(out.s, "pancake <pancake@localhost>|pancake <pancake@localhost>",
	       "author and committer are pancake");
	git(&out, dir, "ls-tree --name-only models");
	is_str(out.s, "metrics.json\nmodel.bin\nparams.json", "the tree holds the three files");
	git(&out, dir, "show models~1:params.json");
	is_str(out.s, params2, "git reads params.json as written");
	git(&out, dir, "reflog show --format=%gs production | wc -l");
	is_str(out.s, "7", "git sees production's seven moves");
	git(&out, dir, "reflog show --format='%gn <%ge>' -1 production");
	is_str(out.s, "pancake <pancake@localhost>", "reflog entries are by pancake");
	git(&out, dir, "reflog show --format=%gs candidate | wc -l");
	is_str(out.s, "3", "candidate's reflog has the three registrations");
	git(&out, dir, "symbolic-ref HEAD");
	is_str(out.s, "refs/heads/models", "HEAD names models");
	buf_release(&out);
}

/* a registry git made: no reflog setting, packed objects, many models, fixed times */
static void test_git_made(void)
{
	struct registry *r = NULL;
	struct registry_entry *list = NULL, e;
	struct buf out = BUF_INIT, err = BUF_INIT, stream = BUF_INIT, bytes = BUF_INIT;
	char *dir = xstrfmt("%s/made.git", tmpdir), *path = xstrfmt("%s/stream", tmpdir), *cmd;
	char prefix[5] = "", (*hist)[41];
	size_t n = 0, i, j, nh;
	int k;

	/* 1500 models: two of them share their first four hex digits for sure */
	for (k = 0; k < 1500; k++) {
		buf_addf(&stream, "blob\nmark :%d\ndata %d\nm%04d\n", 2 * k + 1, 6, k);
		buf_addf(&stream, "commit refs/heads/models\nmark :%d\ncommitter pancake "
			 "<pancake@localhost> %d +0000\ndata 8\nmodel %02d\nM 100644 :%d "
			 "model.bin\n\n", 2 * k + 2, 1700000000 + k, k % 100, 2 * k + 1);
	}
	put(path, stream.s, stream.len);
	cmd = xstrfmt("git init -q --bare '%s' && git --git-dir='%s' symbolic-ref HEAD "
		      "refs/heads/models && git --git-dir='%s' fast-import --quiet < '%s' 2>&1",
		      dir, dir, dir, path);
	is_int(sh(&out, cmd), 0, "git init --bare and fast-import 1500 models: %s", out.s);
	free(cmd);
	git(&out, dir, "config core.logAllRefUpdates");
	ok(out.len == 0, "git left core.logAllRefUpdates unset");

	is_int(registry_open(&r, dir, 0, &err), 0, "the registry opens it: %s", err.s);
	if (!r)
		goto out;
	is_int(registry_list(r, &list, &n, &err), 0, "and lists it");
	is_int(n, 1500, "all 1500 models");
	for (i = 0; n == 1500 && i < n && !prefix[0]; i++)
		for (j = i + 1; j < n && !prefix[0]; j++)
			if (!strncmp(list[i].id, list[j].id, 4))
				memcpy(prefix, list[i].id, 4);
	ok(prefix[0], "two of them share the prefix '%s'", prefix);
	buf_reset(&err);
	is_int(registry_show(r, prefix, &e, &err), REGISTRY_EAMBIGUOUS,
	       "which is ambiguous as a REV");
	ok(strstr(err.s, "is ambiguous") && strstr(err.s, "give more digits"),
	   "and the message says to give more digits: %s", err.s);
	if (n == 1500) {
		is_str(id_of(r, "models~1499"), list[1499].id, "models~1499 is the first model");
		is_int(registry_model(r, "models~1499", &bytes, &err), 0,
		       "a packed model.bin reads");
		is_str(bytes.s, "m0000\n", "with its bytes");
		is_int(list[0].model_size, 6, "and a packed model's size comes from its header");
		is_str(list[0].params_json, "{}", "a model without params.json reads as {}");
	}
	registry_list_free(list, n);
	buf_reset(&err);
	is_int(registry_promote(r, "models~1", NULL, &err), 0, "promote in it: %s", err.s);
	is_int(registry_promote(r, "models", NULL, &err), 0, "promote again");
	is_int(registry_production_history(r, &hist, &nh, &err), 0, "history");
	is_int(nh, 2, "the registry turned reflogs on, so both moves are logged");
	free(hist);
	is_int(registry_rollback(r, &e, &err), 0, "and rollback works: %s", err.s);
	registry_entry_release(&e);
	registry_close(r);
	git(&out, dir, "config core.logAllRefUpdates");
	is_str(out.s, "true", "core.logAllRefUpdates is now true");
	git(&out, dir, "fsck --strict --no-dangling");
	is_str(out.s, "", "git fsck finds nothing wrong");

	/* a work tree is not a registry */
	free(dir);
	dir = xstrfmt("%s/worktree", tmpdir);
	cmd = xstrfmt("git init -q '%s'", dir);
	sh(&out, cmd);
	free(cmd);
	buf_reset(&err);
	is_int(registry_open(&r, dir, 1, &err), REGISTRY_EINVAL, "a git work tree is refused");
	ok(strstr(err.s, "is a git work tree"), "as a work tree: %s", err.s);
out:
	buf_release(&out);
	buf_release(&err);
	buf_release(&stream);
	buf_release(&bytes);
	free(dir);
	free(path);
}

/* after git gc packs refs and objects, and with a long UTF-8 summary */
static void test_after_gc(const char *dir)
{
	struct registry *r = NULL;
	struct registry_entry e;
	struct buf out = BUF_INIT, err = BUF_INIT, bytes = BUF_INIT;
	char summary[400], *cmd;
	size_t i;

	is_int(git(&out, dir, "gc -q --prune=now"), 0, "git gc: %s", out.s);
	cmd = xstrfmt("test -f '%s/packed-refs' && ! test -e '%s/refs/heads/production'", dir,
		      dir);
	is_int(sh(&out, cmd), 0, "packed the refs");
	free(cmd);
	is_int(registry_open(&r, dir, 0, &err), 0, "the registry opens after gc: %s", err.s);
	if (!r)
		goto out;
	is_str(id_of(r, "production"), ids[2], "production reads from packed-refs");
	is_int(registry_model(r, ids[1], &bytes, &err), 0, "model 2 reads from a pack");
	ok(bytes.len == BIG && !memcmp(bytes.s, big, BIG), "with the same 1 MiB");
	/* "register <12 hex>: x" is 24 bytes, so the 127-byte cut falls inside an é */
	strcpy(summary, "x");
	for (i = 0; i < 60; i++)
		strcat(summary, "\xc3\xa9t\xc3\xa9 ");	/* "été " */
	is_int(registry_add(r, "four", 4, "{}", "{}", summary, &e, &err), 0,
	       "add a fourth model with a long UTF-8 summary: %s", err.s);
	is_str(e.summary, summary, "whose summary round-trips");
	is_str(id_of(r, "models~1"), ids[2], "its parent is model 3 from packed-refs");
	is_str(id_of(r, "candidate"), e.id, "candidate moved to it");
	registry_entry_release(&e);
	is_int(registry_promote(r, NULL, NULL, &err), 0, "promote it");
	is_int(registry_rollback(r, &e, &err), 0, "roll it back");
	is_str(e.id, ids[2], "to model 3");
	registry_entry_release(&e);
	registry_close(r);
	is_int(git(&out, dir, "fsck --strict --no-dangling"), 0, "git fsck after all that");
	is_str(out.s, "", "reports nothing");
	cmd = xstrfmt("git --git-dir='%s' reflog show --format=%%gs -1 models | iconv -f UTF-8 "
		      "-t UTF-8 >/dev/null", dir);
	is_int(sh(&out, cmd), 0, "the cut reflog message of models is valid UTF-8");
	free(cmd);
out:
	buf_release(&out);
	buf_release(&err);
	buf_release(&bytes);
}

int main(void)
{
	struct registry *r = NULL;
	struct buf err = BUF_INIT;
	struct buf out = BUF_INIT;
	char *dir;

	if (!mkdtemp(tmpdir))
		die("cannot create a temporary directory");
	atexit(cleanup);
	/* the git CLI should not read the user's settings into our checks */
	setenv("GIT_CONFIG_NOSYSTEM", "1", 1);
	setenv("GIT_CONFIG_GLOBAL", "/dev/null", 1);
	have_git = sh(&out, "git --version 2>&1") == 0;
	buf_release(&out);
	big = xmalloc(BIG);
	mid = xmalloc(MID);
	fill_random(big, BIG, 0x9e3779b97f4a7c15ULL);
	fill_random(mid, MID, 0xdeadbeefcafef00dULL);
	dir = xstrfmt("%s/sub/registry.git", tmpdir);

	test_open_errors(dir);
	is_int(registry_open(&r, dir, 1, &err), 0, "open with create makes a registry: %s", err.s);
	if (!r)
		return tap_done();
	test_empty(r, dir);
	test_add(r, dir);
	test_bad_adds(r, dir);
	test_list_and_read(r);
	test_bad_revs(r, dir);
	test_promote_rollback(r);
	test_diff(r);
	registry_close(r);
	test_reopen(dir);
	if (have_git) {
		test_git_cli(dir);
		test_git_made();
		test_after_gc(dir);
	} else {
		printf("# no git CLI: skipping the cross-checks\n");
	}
	buf_release(&err);
	free(dir);
	free(big);
	free(mid);
	return tap_done();
}
