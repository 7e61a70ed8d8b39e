/*
 * fuzz-cql: CQL v4 response framing and decoding. The input is split into
 * frames as the connection would; each frame goes through
 * cql_response_parse() and its body through cql_result_parse() and
 * cql_error_parse(); every cell of a decoded result is rendered as text.
 * The whole input is also decoded as a bare RESULT and ERROR body, so the
 * body decoders are reached without a valid header in front. Cells are
 * also rendered through their column's whole type, and a Prepared
 * result's bind markers are given a few values to encode.
 */
#include "fuzz.h"
#include "clients/cql.h"
#include "util/xalloc.h"

#include <string.h>

/* every type id cql_cell_text() knows, and two it does not */
static const int cell_types[] = {
	CQL_TYPE_CUSTOM, CQL_TYPE_ASCII, CQL_TYPE_BIGINT, CQL_TYPE_BLOB,
	CQL_TYPE_BOOLEAN, CQL_TYPE_COUNTER, CQL_TYPE_DECIMAL, CQL_TYPE_DOUBLE,
	CQL_TYPE_FLOAT, CQL_TYPE_INT, CQL_TYPE_TIMESTAMP, CQL_TYPE_UUID,
	CQL_TYPE_VARCHAR, CQL_TYPE_VARINT, CQL_TYPE_TIMEUUID, CQL_TYPE_INET,
	CQL_TYPE_DATE, CQL_TYPE_TIME, CQL_TYPE_SMALLINT, CQL_TYPE_TINYINT,
	CQL_TYPE_DURATION, CQL_TYPE_LIST, CQL_TYPE_MAP, CQL_TYPE_SET,
	CQL_TYPE_UDT, CQL_TYPE_TUPLE, CQL_TYPE_UNKNOWN, 0x7fff,
};

/* renders one cell; a failure must leave `out` as it was */
static void cell_text(const struct cql_cell *cell, int type)
{
	struct buf out = BUF_INIT;
	int r;

	buf_addstr(&out, "x");
	r = cql_cell_text(cell, type, &out);
	CHECK(r == 0 || r == -1);
	if (r)
		CHECK(out.len == 1);
	CHECK(strlen(out.s) <= out.len);
	buf_release(&out);
}

/* the same through the column's type tree (collections rendered) */
static void column_text(const struct cql_column *col,
			const struct cql_cell *cell)
{
	struct buf out = BUF_INIT;
	int r;

	buf_addstr(&out, "x");
	r = cql_column_text(col, cell, &out);
	CHECK(r == 0 || r == -1);
	if (r)
		CHECK(out.len == 1);
	buf_release(&out);
}

/* values of every kind against every bind marker: fit or refused cleanly */
static void bind_values(const struct cql_result *res)
{
	static const unsigned char id[16] = { [6] = 0x10 };
	struct cql_value items[2] = { cql_int(1), cql_text("a") };
	struct cql_value vals[] = {
		cql_int(-1), cql_real(0.5), cql_bool(1), cql_text("::1"),
		cql_blob("\1\2\3\4", 4), cql_uuid(id), cql_timestamp(5),
		cql_list(items, 2), cql_set(items, 1), cql_map(items, 1),
		cql_raw("\0", 1), cql_null(), cql_unset(),
	};
	struct buf out = BUF_INIT;
	size_t k;
	int i, r;

	for (i = 0; i < res->nbind; i++) {
		for (k = 0; k < ARRAY_SIZE(vals); k++) {
			buf_reset(&out);
			r = cql_value_encode(&out, &res->bind[i], &vals[k], NULL);
			CHECK(r == 0 || r == CQL_EVALUE);
			if (r)
				CHECK(out.len == 0);
			else
				CHECK(out.len >= 4);
		}
	}
	buf_release(&out);
}

/* the invariants of a decoded result, then every cell as text */
static void check_result(const struct cql_result *res)
{
	int row, col, k;

	CHECK(res->ncols >= 0 && res->nrows >= 0);
	if (res->kind == CQL_RESULT_PREPARED) {
		CHECK(res->bind && res->pk_index && res->cols);
		for (k = 0; k < res->npk; k++)
			CHECK(res->pk_index[k] >= 0 &&
			      res->pk_index[k] < res->nbind);
		for (col = 0; col < res->nbind; col++)
			CHECK(res->bind[col].name && res->bind[col].type_name &&
			      res->bind[col].ntree >= 0 &&
			      res->bind[col].ntree <= CQL_TYPE_TREE_MAX);
		bind_values(res);
		return;
	}
	if (res->kind != CQL_RESULT_ROWS)
		return;
	CHECK(res->cols && res->cells);
	for (col = 0; col < res->ncols; col++)
		CHECK(res->cols[col].keyspace && res->cols[col].table &&
		      res->cols[col].name && res->cols[col].type_name);
	/* rows of no columns (a count the body cannot contradict) hold nothing */
	for (row = 0; res->ncols && row < res->nrows; row++) {
		for (col = 0; col < res->ncols; col++) {
			const struct cql_cell *c = cql_result_cell(res, row, col);

			if (c->len < 0) {
				CHECK(!c->data);
			} else {
				/* cells point into the result's own copy of the body */
				CHECK(c->data >= res->raw &&
				      c->data + c->len <= res->raw + res->raw_len);
			}
			cell_text(c, res->cols[col].type);
			column_text(&res->cols[col], c);
			/* and as every other type, as a caller with a stale schema would */
			k = (row * res->ncols + col) % (int)ARRAY_SIZE(cell_types);
			cell_text(c, cell_types[k]);
		}
	}
}

static void parse_body(const unsigned char *body, size_t len)
{
	struct cql_result res = CQL_RESULT_INIT;
	struct buf err = BUF_INIT;
	int r, code = 0;

	r = cql_result_parse(body, len, &res, &err);
	CHECK(r == 0 || r == CQL_EPROTO);
	if (r) {
		CHECK(err.len && !res.raw && !res.cols && !res.cells && !res.ncols);
	} else {
		CHECK(!err.len && res.kind != CQL_RESULT_NONE && res.raw_len == len);
		check_result(&res);
	}
	cql_result_release(&res);
	CHECK(!res.raw && !res.cols && !res.cells);
	buf_reset(&err);

	r = cql_error_parse(body, len, &code, &err);
	CHECK((r == CQL_ESERVER || r == CQL_EPROTO) && err.len);
	buf_release(&err);
}

static void parse_frame(const struct cql_frame *f)
{
	struct cql_result res = CQL_RESULT_INIT;
	struct buf err = BUF_INIT;
	int r;

	r = cql_response_parse(f, &res, &err);
	CHECK(r == 0 || r == CQL_EPROTO || r == CQL_ESERVER || r == CQL_EAUTH);
	if (r)
		CHECK(err.len);
	else
		check_result(&res);
	cql_result_release(&res);
	buf_release(&err);
	parse_body(f->body, f->len);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const unsigned char *p = data;
	size_t left = size, used;
	struct cql_frame f;
	struct cql_header h;
	struct cql_cell cell;
	int r;

	/* the header codec round-trips whatever it accepts */
	if (size >= CQL_HEADER_LEN && !cql_header_decode(&h, p, NULL)) {
		unsigned char again[CQL_HEADER_LEN];

		cql_header_encode(&h, again);
		CHECK(!memcmp(again, p, CQL_HEADER_LEN));
	}

	/* frames one after the other, as the connection's reader takes them */
	while (left) {
		struct buf err = BUF_INIT;

		used = 0;
		r = cql_frame_split(p, left, &f, &used, &err);
		CHECK(r == 1 || r == 0 || r == CQL_EPROTO);
		CHECK(r >= 0 || err.len);
		buf_release(&err);
		if (r != 1)
			break;
		CHECK(used >= CQL_HEADER_LEN && used <= left);
		CHECK(f.body == p + CQL_HEADER_LEN && f.len == used - CQL_HEADER_LEN);
		parse_frame(&f);
		p += used;
		left -= used;
	}

	parse_body(data, size);

	/* a lone cell: the first byte picks the type, the rest is the value */
	if (size) {
		cell.data = data + 1;
		cell.len = (int32_t)(size - 1);
		cell_text(&cell, cell_types[data[0] % ARRAY_SIZE(cell_types)]);
	}
	return 0;
}
