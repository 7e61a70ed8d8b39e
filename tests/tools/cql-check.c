/*
 * cql-check: the CQL client against a real Cassandra (127.0.0.1:9042):
 * typed values through prepared statements, many requests in flight,
 * paging, batches, server errors and re-preparing. Prints "ok ..." and
 * "FAIL ..." lines and exits 0 or 1. Works in its own keyspace, cqlcheck,
 * dropped at the end unless --keep.
 *   cql-check [--keep]                 the checks
 *   cql-check --load N [--rate R]      N idempotent upserts into
 *       cqlcheck.load that ride out a server restart (reconnect, resend
 *       what was not acknowledged), then a count
 *   cql-check --bench N --inflight W   N upserts into a truncated
 *       cqlcheck.bench; prints the rate only
 */
#include "clients/cql.h"
#include "util/buf.h"
#include "util/clock.h"
#include "util/xalloc.h"

#include <inttypes.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define KS "cqlcheck"

static const char *host = "127.0.0.1";
static int port = CQL_DEFAULT_PORT;
static int failures;

__attribute__((format(printf, 2, 3)))
static int check(int cond, const char *fmt, ...)
{
	va_list ap;

	printf("%s ", cond ? "ok" : "FAIL");
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	printf("\n");
	fflush(stdout);
	if (!cond)
		failures++;
	return cond;
}

/* runs a statement that must work; a failure is reported and counted */
static int run(struct cql_conn *c, const char *cql)
{
	struct cql_result res = CQL_RESULT_INIT;
	struct buf err = BUF_INIT;
	int ret = cql_query(c, cql, &res, &err);

	if (ret)
		check(0, "'%s': %s", cql, err.s);
	cql_result_release(&res);
	buf_release(&err);
	return ret;
}

static struct cql_conn *connect_or_die(int timeout_ms)
{
	struct cql_conn *c = NULL;
	struct buf err = BUF_INIT;

	if (cql_connect(&c, host, port, timeout_ms, &err)) {
		check(0, "connect: %s", err.s);
		exit(1);
	}
	buf_release(&err);
	return c;
}

static struct cql_prepared *prepare_or_die(struct cql_conn *c, const char *q)
{
	struct cql_prepared *st = NULL;
	struct buf err = BUF_INIT;

	if (cql_prepare(c, q, &st, &err)) {
		check(0, "prepare '%s': %s", q, err.s);
		exit(1);
	}
	buf_release(&err);
	return st;
}

/* ---- typed values round-trip ---- */

#define NTYPES 16
static const char *const type_cols[NTYPES] = {
	"id", "i", "b", "f", "d", "bo", "t", "v", "ts", "u", "tu", "bl", "n",
	"li", "st", "m",
};

/* what each row reads back as, by cql_column_text() */
static const char *const want_rows[2][NTYPES] = {
	{ "1", "-123456", "-9000000000", "1.5", "0.1", "true",
	  "h\xc3\xa9llo, w\xc3\xb6rld \xe2\x9c\x93", "it's",
	  "2024-01-31T12:00:00.123Z", "123e4567-e89b-12d3-a456-426614174000",
	  "d2177dd0-eaa2-11de-a572-001b779c76e3", "0xcafe00", "null",
	  "[1, 2, 3]", "{'a', 'b''c'}", "{'x': 1, 'y': -2}" },
	{ "2", "2147483647", "-9223372036854775808", "-0.25", "1e+300",
	  "false", "", "plain", "1969-12-31T23:59:59.999Z",
	  "00000000-0000-0000-0000-000000000000",
	  "00000000-0000-1000-8000-000000000000", "0x", "7", "null", "null",
	  "null" },
};

static void bind_row(int row, struct cql_value *v, struct cql_value *li,
		     struct cql_value *st, struct cql_value *m)
{
	static const unsigned char blob[3] = { 0xca, 0xfe, 0x00 };
	unsigned char u[16], tu[16];

	if (!row) {
		cql_uuid_parse("123e4567-e89b-12d3-a456-426614174000", u);
		cql_uuid_parse("d2177dd0-eaa2-11de-a572-001b779c76e3", tu);
		v[0] = cql_int(1);
		v[1] = cql_int(-123456);
		v[2] = cql_int(INT64_C(-9000000000));
		v[3] = cql_real(1.5);
		v[4] = cql_real(0.1);
		v[5] = cql_bool(1);
		v[6] = cql_text("h\xc3\xa9llo, w\xc3\xb6rld \xe2\x9c\x93");
		v[7] = cql_text("it's");
		v[8] = cql_timestamp(INT64_C(1706702400123));
		v[9] = cql_uuid(u);
		v[10] = cql_uuid(tu);
		v[11] = cql_blob(blob, 3);
		v[12] = cql_null();
		li[0] = cql_int(1);
		li[1] = cql_int(2);
		li[2] = cql_int(3);
		v[13] = cql_list(li, 3);
		st[0] = cql_text("b'c");
		st[1] = cql_text("a");
		v[14] = cql_set(st, 2);
		m[0] = cql_text("y");
		m[1] = cql_int(-2);
		m[2] = cql_text("x");
		m[3] = cql_int(1);
		v[15] = cql_map(m, 2);
		return;
	}
	memset(u, 0, 16);
	memset(tu, 0, 16);
	tu[6] = 0x10;
	tu[8] = 0x80;
	v[0] = cql_int(2);
	v[1] = cql_int(INT32_MAX);
	v[2] = cql_int(INT64_MIN);
	v[3] = cql_real(-0.25);
	v[4] = cql_real(1e300);
	v[5] = cql_bool(0);
	v[6] = cql_text("");
	v[7] = cql_text("plain");
	v[8] = cql_timestamp(-1);
	v[9] = cql_uuid(u);
	v[10] = cql_uuid(tu);
	v[11] = cql_blob("", 0);
	v[12] = cql_int(7);
	v[13] = cql_list(NULL, 0);	/* an empty collection reads as null */
	v[14] = cql_null();
	v[15] = cql_unset();
}

static void compare_row(const struct cql_result *res, int row, int want,
			const char *how)
{
	struct buf got = BUF_INIT;
	int col, bad = 0;

	for (col = 0; col < NTYPES && col < res->ncols; col++) {
		buf_reset(&got);
		if (cql_column_text(&res->cols[col],
				    cql_result_cell(res, row, col), &got))
			buf_addstr(&got, "<undecodable>");
		if (strcmp(got.s, want_rows[want][col])) {
			check(0, "%s: row %d column %s is '%s', want '%s'",
			      how, want + 1, type_cols[col], got.s,
			      want_rows[want][col]);
			bad++;
		}
	}
	check(!bad && res->ncols == NTYPES, "%s: row %d reads back all %d "
	      "columns as written", how, want + 1, NTYPES);
	buf_release(&got);
}

static void check_types(struct cql_conn *c)
{
	struct cql_value v[NTYPES], li[3], st[2], m[4];
	unsigned char uuid4[16];
	struct cql_prepared *ins, *sel;
	struct cql_result res = CQL_RESULT_INIT;
	struct buf err = BUF_INIT;
	int row, ret;

	run(c, "CREATE TABLE " KS ".types (id int PRIMARY KEY, i int, "
	    "b bigint, f float, d double, bo boolean, t text, v varchar, "
	    "ts timestamp, u uuid, tu timeuuid, bl blob, n int, li list<int>, "
	    "st set<text>, m map<text, int>)");
	ins = prepare_or_die(c, "INSERT INTO " KS ".types (id, i, b, f, d, bo, "
			     "t, v, ts, u, tu, bl, n, li, st, m) VALUES (?, ?, "
			     "?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)");
	check(ins->nbind == NTYPES && ins->npk == 1 && ins->pk_index[0] == 0,
	      "PREPARE INSERT: %d bind markers, partition key at index %d",
	      ins->nbind, ins->npk ? ins->pk_index[0] : -1);
	check(!strcmp(ins->bind[15].type_name, "map<varchar, int>") &&
	      !strcmp(ins->bind[13].name, "li"),
	      "bind metadata names and types: %s %s", ins->bind[13].name,
	      ins->bind[15].type_name);
	for (row = 0; row < 2; row++) {
		bind_row(row, v, li, st, m);
		ret = cql_execute(c, ins, v, NTYPES, NULL, &res, &err);
		check(!ret && res.kind == CQL_RESULT_VOID,
		      "prepared INSERT of row %d with every type%s%s", row + 1,
		      ret ? ": " : "", err.s);
		buf_reset(&err);
	}

	sel = prepare_or_die(c, "SELECT id, i, b, f, d, bo, t, v, ts, u, tu, "
			     "bl, n, li, st, m FROM " KS ".types WHERE id = ?");
	check(sel->nres == NTYPES, "PREPARE SELECT: result metadata of %d "
	      "columns (EXECUTE skips the metadata)", sel->nres);
	for (row = 0; row < 2; row++) {
		struct cql_value key = cql_int(row + 1);

		ret = cql_execute(c, sel, &key, 1, NULL, &res, &err);
		if (!check(!ret && res.nrows == 1, "prepared SELECT of row %d%s%s",
			   row + 1, ret ? ": " : "", err.s))
			continue;
		check(!strcmp(res.cols[15].name, "m") &&
		      res.cols[15].type == CQL_TYPE_MAP,
		      "rows without metadata get the statement's columns");
		compare_row(&res, 0, row, "EXECUTE");
	}
	ret = cql_query(c, "SELECT id, i, b, f, d, bo, t, v, ts, u, tu, bl, n, "
			"li, st, m FROM " KS ".types WHERE id = 1", &res, &err);
	if (check(!ret && res.nrows == 1, "QUERY of row 1%s%s", ret ? ": " : "",
		  err.s))
		compare_row(&res, 0, 0, "QUERY");

	/* values that do not fit are refused before anything is sent */
	bind_row(0, v, li, st, m);
	buf_reset(&err);
	ret = cql_execute(c, ins, v, NTYPES - 1, NULL, &res, &err);
	check(ret == CQL_EVALUE && strstr(err.s, "the statement has 16 bind "
					  "markers"), "too few values: %s", err.s);
	buf_reset(&err);
	v[1] = cql_text("12");
	ret = cql_execute(c, ins, v, NTYPES, NULL, &res, &err);
	check(ret == CQL_EVALUE &&
	      strstr(err.s, "value 2 to 'i' (int): got text, want int"),
	      "text for an int column: %s", err.s);
	buf_reset(&err);
	v[1] = cql_int(INT64_C(3000000000));
	ret = cql_execute(c, ins, v, NTYPES, NULL, &res, &err);
	check(ret == CQL_EVALUE && strstr(err.s, "out of range for int"),
	      "3000000000 for an int column: %s", err.s);
	buf_reset(&err);
	v[1] = cql_int(0);
	cql_uuid_parse("8f14e45f-ceea-467a-9575-3a2e2b3c4d5e", uuid4);
	v[10] = cql_uuid(uuid4);
	ret = cql_execute(c, ins, v, NTYPES, NULL, &res, &err);
	check(ret == CQL_EVALUE && strstr(err.s, "not a timeuuid"),
	      "a version 1 uuid for a timeuuid column: %s", err.s);
	buf_reset(&err);
	bind_row(0, v, li, st, m);
	st[0] = cql_int(5);
	ret = cql_execute(c, ins, v, NTYPES, NULL, &res, &err);
	check(ret == CQL_EVALUE && strstr(err.s, "'st' (set<varchar>): got "
					  "integer, want varchar"),
	      "an int inside a set<text>: %s", err.s);

	cql_prepared_free(ins);
	cql_prepared_free(sel);
	cql_result_release(&res);
	buf_release(&err);
}

/* ---- many requests in flight, paging ---- */

struct flight {
	struct cql_conn *c;
	long ok, failed, max_inflight, out_of_order, last;
	struct buf first_error;
};

static void flight_done(void *ctx, int status, struct cql_result *res,
			const char *err)
{
	struct flight *f = ctx;

	(void)res;
	if (status) {
		if (!f->failed++)
			buf_addstr(&f->first_error, err);
		return;
	}
	f->ok++;
}

struct row_ctx {
	struct flight *f;
	long i;
};

static void row_done(void *ctx, int status, struct cql_result *res,
		     const char *err)
{
	struct row_ctx *r = ctx;

	if (r->i < r->f->last)
		r->f->out_of_order++;
	r->f->last = r->i;
	flight_done(r->f, status, res, err);
}

struct counter {
	long rows, pages, sum;
};

static int count_page(void *ctx, struct cql_result *res)
{
	struct counter *k = ctx;
	int64_t id;
	int i;

	k->pages++;
	k->rows += res->nrows;
	for (i = 0; i < res->nrows; i++)
		if (!cql_cell_int(cql_result_cell(res, i, 0), &id))
			k->sum += id;
	return 0;
}

#define NROWS 10000
#define INFLIGHT 256

static void check_inflight_and_paging(struct cql_conn *c)
{
	static struct row_ctx ctxs[NROWS];
	struct flight f = { .first_error = BUF_INIT };
	struct cql_params p = CQL_PARAMS_INIT;
	struct cql_prepared *ins, *sel;
	struct counter k = { 0, 0, 0 };
	struct buf err = BUF_INIT, text = BUF_INIT;
	struct cql_value v[2];
	double t0, secs;
	long i;
	int ret;

	run(c, "CREATE TABLE " KS ".rows (id int PRIMARY KEY, v text)");
	ins = prepare_or_die(c, "INSERT INTO " KS ".rows (id, v) VALUES (?, ?)");
	cql_set_max_inflight(c, INFLIGHT);
	f.c = c;
	t0 = clock_s();
	for (i = 0; i < NROWS; i++) {
		buf_reset(&text);
		buf_addf(&text, "row %ld", i);
		v[0] = cql_int(i);
		v[1] = cql_textn(text.s, text.len);
		ctxs[i].f = &f;
		ctxs[i].i = i;
		ret = cql_submit_execute(c, ins, v, 2, NULL, row_done,
					 &ctxs[i], &err);
		if (ret) {
			check(0, "submit of row %ld: %s", i, err.s);
			break;
		}
		if (cql_inflight(c) > f.max_inflight)
			f.max_inflight = cql_inflight(c);
	}
	ret = cql_drain(c, &err);
	secs = clock_s() - t0;
	check(!ret && f.ok == NROWS && !f.failed,
	      "%d prepared INSERTs with %d in flight: %ld acknowledged, %ld "
	      "failed%s%s", NROWS, INFLIGHT, f.ok, f.failed,
	      f.failed ? ": " : "", f.first_error.s);
	check(f.max_inflight == INFLIGHT, "%ld requests were in flight at "
	      "once on one connection", f.max_inflight);
	printf("insert rate: %.0f rows/s (%d rows, %d in flight, %.2f s); "
	       "%ld answers came out of order\n", NROWS / secs, NROWS,
	       INFLIGHT, secs, f.out_of_order);

	p.page_size = 1000;
	ret = cql_foreach_page(c, "SELECT id FROM " KS ".rows", NULL, NULL, 0,
			       &p, count_page, &k, &err);
	check(!ret && k.rows == NROWS && k.sum == (long)NROWS * (NROWS - 1) / 2,
	      "QUERY paged by 1000: %ld rows in %ld pages, ids sum to %ld",
	      k.rows, k.pages, k.sum);
	check(k.pages >= NROWS / 1000, "the count took %ld pages", k.pages);

	sel = prepare_or_die(c, "SELECT id FROM " KS ".rows");
	memset(&k, 0, sizeof(k));
	ret = cql_foreach_page(c, NULL, sel, NULL, 0, &p, count_page, &k, &err);
	check(!ret && k.rows == NROWS && k.pages >= NROWS / 1000,
	      "EXECUTE paged by 1000: %ld rows in %ld pages", k.rows, k.pages);

	cql_prepared_free(ins);
	cql_prepared_free(sel);
	buf_release(&err);
	buf_release(&text);
	buf_release(&f.first_error);
}

/* ---- batches ---- */

static long count_rows(struct cql_conn *c, const char *table)
{
	struct cql_params p = CQL_PARAMS_INIT;
	struct counter k = { 0, 0, 0 };
	struct buf q = BUF_INIT, err = BUF_INIT;
	int ret;

	p.page_size = 5000;
	buf_addf(&q, "SELECT * FROM %s", table);
	ret = cql_foreach_page(c, q.s, NULL, NULL, 0, &p, count_page, &k,
			       &err);
	if (ret)
		check(0, "count of %s: %s", table, err.s);
	buf_release(&q);
	buf_release(&err);
	return ret ? -1 : k.rows;
}

static void check_batches(struct cql_conn *c)
{
	struct cql_batch b = CQL_BATCH_INIT(CQL_BATCH_LOGGED);
	struct cql_result res = CQL_RESULT_INIT;
	struct buf err = BUF_INIT;
	struct cql_prepared *ins;
	struct cql_value v[2];
	int i, ret;

	run(c, "CREATE TABLE " KS ".batched (id int PRIMARY KEY, v text)");
	ins = prepare_or_die(c, "INSERT INTO " KS ".batched (id, v) VALUES "
			     "(?, ?)");
	for (i = 0; i < 3; i++) {
		v[0] = cql_int(i);
		v[1] = cql_text("logged");
		cql_batch_add(&b, ins, v, 2, NULL);
	}
	cql_batch_add_query(&b, "INSERT INTO " KS ".batched (id, v) VALUES "
			    "(3, 'as text')");
	v[0] = cql_text("x");
	ret = cql_batch_add(&b, ins, v, 2, &err);
	check(ret == CQL_EVALUE && b.n == 4 && strstr(err.s, "'id' (int)"),
	      "a statement with wrong values is not added: %s", err.s);
	buf_reset(&err);
	ret = cql_batch_execute(c, &b, NULL, &res, &err);
	check(!ret && res.kind == CQL_RESULT_VOID,
	      "logged BATCH of 3 prepared statements and 1 text statement%s%s",
	      ret ? ": " : "", err.s);

	cql_batch_release(&b);
	cql_batch_init(&b, CQL_BATCH_UNLOGGED);
	for (i = 100; i < 200; i++) {
		v[0] = cql_int(i);
		v[1] = cql_text("unlogged");
		cql_batch_add(&b, ins, v, 2, NULL);
	}
	buf_reset(&err);
	ret = cql_batch_execute(c, &b, NULL, &res, &err);
	check(!ret, "unlogged BATCH of 100 prepared statements%s%s",
	      ret ? ": " : "", err.s);
	check(count_rows(c, KS ".batched") == 104,
	      "the batches wrote 104 rows");

	cql_batch_release(&b);
	cql_prepared_free(ins);
	cql_result_release(&res);
	buf_release(&err);
}

/* ---- errors and re-preparing ---- */

static void expect_error(struct cql_conn *c, const char *cql, int code,
			 const char *needle)
{
	struct cql_result res = CQL_RESULT_INIT;
	struct buf err = BUF_INIT;
	int ret = cql_query(c, cql, &res, &err);

	check(ret == CQL_ESERVER && res.error_code == code &&
	      strstr(err.s, needle), "'%s' fails with 0x%04x: %s", cql,
	      code, err.s);
	cql_result_release(&res);
	buf_release(&err);
}

/* a copy of `st` whose id the server has never seen */
static struct cql_prepared *forgotten(struct cql_conn *c, const char *q)
{
	struct cql_prepared *st = prepare_or_die(c, q);

	buf_reset(&st->id);
	buf_add(&st->id, "\xab\xab\xab\xab\xab\xab\xab\xab"
		"\xab\xab\xab\xab\xab\xab\xab\xab", 16);
	return st;
}

static void check_errors(struct cql_conn *c)
{
	static const char ins_q[] = "INSERT INTO " KS ".rows (id, v) VALUES (?, ?)";
	struct cql_result res = CQL_RESULT_INIT;
	struct cql_batch b = CQL_BATCH_INIT(CQL_BATCH_UNLOGGED);
	struct buf err = BUF_INIT;
	struct cql_prepared *st, *real;
	struct cql_value v[2];
	int ret;

	expect_error(c, "SELEC * FROM " KS ".rows", CQL_ERR_SYNTAX,
		     "(Syntax_error)");
	expect_error(c, "SELECT * FROM " KS ".nope", CQL_ERR_INVALID,
		     "(Invalid)");
	expect_error(c, "CREATE TABLE " KS ".rows (id int PRIMARY KEY)",
		     CQL_ERR_ALREADY_EXISTS, "[table " KS ".rows]");
	st = NULL;
	ret = cql_prepare(c, "SELECT * FROM " KS ".nope", &st, &err);
	check(ret == CQL_ESERVER && !st && strstr(err.s, "0x2200"),
	      "PREPARE of a missing table: %s", err.s);
	buf_reset(&err);

	/* an id the server does not know: prepared again, sent again */
	real = prepare_or_die(c, ins_q);
	st = forgotten(c, ins_q);
	v[0] = cql_int(NROWS + 1);
	v[1] = cql_text("re-prepared");
	ret = cql_execute(c, st, v, 2, NULL, &res, &err);
	check(!ret && st->id.len == real->id.len &&
	      !memcmp(st->id.s, real->id.s, st->id.len),
	      "EXECUTE of an unknown id is re-prepared and sent again%s%s",
	      ret ? ": " : "", err.s);
	cql_prepared_free(st);
	buf_reset(&err);

	st = forgotten(c, ins_q);
	v[0] = cql_int(NROWS + 2);
	cql_batch_add(&b, st, v, 2, NULL);
	v[0] = cql_int(NROWS + 3);
	cql_batch_add(&b, real, v, 2, NULL);
	ret = cql_batch_execute(c, &b, NULL, &res, &err);
	check(!ret && !memcmp(st->id.s, real->id.s, st->id.len),
	      "BATCH naming an unknown id is re-prepared and sent again%s%s",
	      ret ? ": " : "", err.s);
	buf_reset(&err);
	check(count_rows(c, KS ".rows") == NROWS + 3,
	      "the re-prepared requests wrote their rows");
	cql_batch_release(&b);
	cql_prepared_free(st);

	/* without its text it cannot be prepared again: Unprepared */
	st = forgotten(c, ins_q);
	free(st->query);
	st->query = xstrdup("");
	ret = cql_execute(c, st, v, 2, NULL, &res, &err);
	check(ret == CQL_ESERVER && res.error_code == CQL_ERR_UNPREPARED &&
	      strstr(err.s, "(Unprepared)") &&
	      strstr(err.s, "[statement id 0xabababab"),
	      "EXECUTE of an unknown id without its text: %s", err.s);
	check(!cql_error_retryable(res.error_code) &&
	      cql_error_retryable(CQL_ERR_WRITE_TIMEOUT),
	      "Unprepared is not retryable, Write_timeout is");
	cql_prepared_free(st);
	cql_prepared_free(real);
	cql_result_release(&res);
	buf_release(&err);
}

/* closing with requests in flight completes each with an error */
static void check_close_in_flight(void)
{
	struct flight f = { .first_error = BUF_INIT };
	struct cql_conn *c = connect_or_die(10000);
	struct buf err = BUF_INIT;
	struct cql_result res = CQL_RESULT_INIT;
	int i;

	for (i = 0; i < 10; i++)
		cql_submit_query(c, "SELECT * FROM system.local", NULL,
				 flight_done, &f, &err);
	cql_close(c);
	check(f.failed == 10 && strstr(f.first_error.s, "was closed"),
	      "closing with 10 requests in flight fails each: %s",
	      f.first_error.s);
	c = connect_or_die(10000);
	check(!cql_query(c, "SELECT release_version FROM system.local", &res,
			 &err) && res.nrows == 1, "and connecting again works");
	cql_close(c);
	cql_result_release(&res);
	buf_release(&err);
	buf_release(&f.first_error);
}

/* ---- --load and --bench: many upserts that survive a restart ---- */

struct load {
	struct cql_conn *c;
	struct cql_prepared *st;
	const char *table;
	long n, next, nacked;
	unsigned char *acked;
	long *retry;		/* rows to send again */
	long nretry;
	long errors, transient, lost, server_retries;
	int backoff;
	struct buf last_error, retry_error;
};

static struct load L;

static void load_done(void *ctx, int status, struct cql_result *res,
		      const char *err)
{
	long i = (long)(intptr_t)ctx;

	if (!status) {
		if (!L.acked[i]) {
			L.acked[i] = 1;
			L.nacked++;
		}
		return;
	}
	buf_reset(&L.last_error);
	buf_addstr(&L.last_error, err);
	if (status == CQL_EIO || status == CQL_ETIMEOUT ||
	    (status == CQL_ESERVER && cql_error_retryable(res->error_code))) {
		L.retry[L.nretry++] = i;
		L.transient++;
		if (status == CQL_ESERVER) {
			/* overloaded, unavailable...: give it a moment */
			L.backoff = 1;
			if (!L.server_retries++)
				buf_addstr(&L.retry_error, err);
		}
		return;
	}
	L.errors++;
}

static int load_connect(int quiet)
{
	struct buf err = BUF_INIT, q = BUF_INIT;
	int ret;

	ret = cql_connect(&L.c, host, port, 5000, &err);
	if (!ret) {
		cql_set_max_inflight(L.c, 256);
		cql_set_timeout(L.c, 10000);
		cql_prepared_free(L.st);
		L.st = NULL;
		buf_addf(&q, "INSERT INTO %s (user_id, item_id, rating, ts) "
			 "VALUES (?, ?, ?, ?)", L.table);
		ret = cql_prepare(L.c, q.s, &L.st, &err);
		if (ret) {
			cql_close(L.c);
			L.c = NULL;
		}
	}
	if (ret && !quiet)
		printf("connect: %s\n", err.s);
	buf_release(&err);
	buf_release(&q);
	return ret;
}

/* after a loss: reconnect within 180 s, then everything not acked goes again */
static int load_reconnect(void)
{
	struct buf why = BUF_INIT;
	double t0 = clock_s();

	L.lost++;
	cql_poll(L.c, 0, &why);
	printf("connection lost after %ld of %ld rows acknowledged: %s\n",
	       L.nacked, L.n, why.s);
	buf_release(&why);
	cql_close(L.c);
	L.c = NULL;
	while (clock_s() - t0 < 180) {
		sleep(1);
		if (!load_connect(1)) {
			printf("reconnected after %.1f s; resending the %ld "
			       "rows that failed or were in flight\n",
			       clock_s() - t0, L.nretry);
			fflush(stdout);
			return 0;
		}
	}
	printf("cannot reconnect within 180 s\n");
	return -1;
}

static int load_rows(long n, int inflight, double rate, int progress)
{
	struct cql_params p = CQL_PARAMS_INIT;
	struct cql_value v[4];
	struct buf err = BUF_INIT;
	double t0 = clock_s();
	long i, sent = 0, step = n / 10 ? n / 10 : 1, shown = 0;
	int ret;

	L.n = n;
	L.acked = xcalloc((size_t)n, 1);
	L.retry = xcalloc((size_t)n, sizeof(long));
	cql_set_max_inflight(L.c, inflight);
	while (L.nacked < n && !L.errors) {
		if (cql_conn_broken(L.c)) {
			if (load_reconnect())
				return -1;
			cql_set_max_inflight(L.c, inflight);
			continue;
		}
		if (progress && L.nacked >= shown + step) {
			shown = L.nacked / step * step;
			printf("progress %ld\n", shown);
			fflush(stdout);
		}
		if (L.backoff) {
			cql_poll(L.c, 100, NULL);
			L.backoff = 0;
		}
		if (L.nretry) {
			i = L.retry[--L.nretry];
		} else if (L.next < n) {
			i = L.next++;
		} else {
			cql_drain(L.c, NULL);
			continue;
		}
		while (rate > 0 && sent > rate * (clock_s() - t0) &&
		       !cql_conn_broken(L.c))
			cql_poll(L.c, 1, NULL);
		v[0] = cql_int(i / 100);
		v[1] = cql_int(i % 100);
		v[2] = cql_real(0.5 + (double)(i % 10) * 0.5);
		v[3] = cql_timestamp(INT64_C(1000000000000) + i);
		buf_reset(&err);
		ret = cql_submit_execute(L.c, L.st, v, 4, &p, load_done,
					 (void *)(intptr_t)i, &err);
		if (cql_conn_broken(L.c)) {
			/* lost before it was sent: the loop reconnects */
			L.retry[L.nretry++] = i;
			continue;
		}
		if (ret) {
			printf("submit: %s\n", err.s);
			return -1;
		}
		sent++;
	}
	if (L.errors)
		printf("%ld rows failed: %s\n", L.errors, L.last_error.s);
	buf_release(&err);
	return L.errors ? -1 : 0;
}

static int load_main(long n, double rate, int inflight, int bench)
{
	struct buf q = BUF_INIT;
	double t0, secs;
	long count;

	L.table = bench ? KS ".bench" : KS ".load";
	L.last_error = (struct buf)BUF_INIT;
	L.retry_error = (struct buf)BUF_INIT;
	L.c = connect_or_die(10000);
	run(L.c, "CREATE KEYSPACE IF NOT EXISTS " KS " WITH replication = "
	    "{'class': 'SimpleStrategy', 'replication_factor': 1}");
	buf_addf(&q, "CREATE TABLE IF NOT EXISTS %s (user_id int, item_id int, "
		 "rating float, ts timestamp, PRIMARY KEY (user_id, item_id))",
		 L.table);
	run(L.c, q.s);
	buf_reset(&q);
	buf_addf(&q, "TRUNCATE %s", L.table);
	cql_set_timeout(L.c, 60000);
	run(L.c, q.s);
	cql_close(L.c);
	if (load_connect(0))
		return 1;

	t0 = clock_s();
	if (load_rows(n, inflight, rate, !bench)) {
		check(0, "load of %ld rows", n);
		return 1;
	}
	secs = clock_s() - t0;
	if (bench) {
		printf("rate inflight=%d rows=%ld seconds=%.2f rows_per_s=%.0f\n",
		       inflight, n, secs, n / secs);
		goto out;
	}
	printf("loaded %ld rows in %.1f s (%.0f rows/s) with %ld connection "
	       "loss(es) and %ld resent\n", n, secs, n / secs, L.lost,
	       L.transient);
	if (L.server_retries)
		printf("%ld answers were retryable server errors, the first: "
		       "%s\n", L.server_retries, L.retry_error.s);
	count = count_rows(L.c, L.table);
	printf("count %ld\n", count);
	check(count == n, "load: %ld rows counted, %ld written, after %ld "
	      "connection loss(es)", count, n, L.lost);
out:
	cql_close(L.c);
	cql_prepared_free(L.st);
	free(L.acked);
	free(L.retry);
	buf_release(&L.last_error);
	buf_release(&L.retry_error);
	buf_release(&q);
	return failures ? 1 : 0;
}

int main(int argc, char **argv)
{
	struct cql_conn *c;
	long load = 0, bench = 0;
	double rate = 0;
	int i, keep = 0, inflight = 256;

	progname = "cql-check";
	setvbuf(stdout, NULL, _IOLBF, 0);
	for (i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--keep"))
			keep = 1;
		else if (!strcmp(argv[i], "--load") && i + 1 < argc)
			load = atol(argv[++i]);
		else if (!strcmp(argv[i], "--bench") && i + 1 < argc)
			bench = atol(argv[++i]);
		else if (!strcmp(argv[i], "--rate") && i + 1 < argc)
			rate = atof(argv[++i]);
		else if (!strcmp(argv[i], "--inflight") && i + 1 < argc)
			inflight = atoi(argv[++i]);
		else if (!strcmp(argv[i], "--port") && i + 1 < argc)
			port = atoi(argv[++i]);
		else
			die("usage: cql-check [--keep] [--port P] "
			    "[--load N [--rate R] | --bench N] [--inflight W]");
	}
	if (inflight < 1 || inflight > CQL_INFLIGHT_MAX)
		die("--inflight must be 1..%d", CQL_INFLIGHT_MAX);
	if (load > 0 || bench > 0)
		return load_main(load ? load : bench, rate, inflight, !load);

	c = connect_or_die(10000);
	cql_set_timeout(c, 60000);	/* schema changes can be slow */
	run(c, "DROP KEYSPACE IF EXISTS " KS);
	run(c, "CREATE KEYSPACE " KS " WITH replication = {'class': "
	    "'SimpleStrategy', 'replication_factor': 1}");
	check_types(c);
	check_inflight_and_paging(c);
	check_batches(c);
	check_errors(c);
	check_close_in_flight();
	if (!keep)
		run(c, "DROP KEYSPACE " KS);
	cql_close(c);
	printf("%s: %d failure(s)\n", failures ? "FAIL" : "ok", failures);
	return failures ? 1 : 0;
}
