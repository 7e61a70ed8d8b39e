/* test-cql: CQL v4 framing, result decoding and the connection's reader. */
#include "clients/cql.h"
#include "util/buf.h"
#include "util/xalloc.h"
#include "tap.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdint.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

/* ---- builders for hand-made response bodies ---- */

static void w16(struct buf *b, unsigned v)
{
	buf_addch(b, (int)(v >> 8 & 0xff));
	buf_addch(b, (int)(v & 0xff));
}

static void w32(struct buf *b, uint32_t v)
{
	w16(b, v >> 16);
	w16(b, v & 0xffff);
}

static void wstr(struct buf *b, const char *s)
{
	w16(b, (unsigned)strlen(s));
	buf_addstr(b, s);
}

static void wbytes(struct buf *b, const void *p, int32_t n)
{
	w32(b, (uint32_t)n);
	if (n > 0)
		buf_add(b, p, (size_t)n);
}

static void wnull(struct buf *b)
{
	w32(b, 0xffffffffu);
}

/* a whole response frame around `body` */
static void wframe(struct buf *out, int flags, int stream, int opcode,
		   const struct buf *body)
{
	buf_addch(out, 0x84);
	buf_addch(out, flags);
	w16(out, (unsigned)stream & 0xffff);
	buf_addch(out, opcode);
	w32(out, (uint32_t)body->len);
	buf_add(out, body->s, body->len);
}

static const unsigned char uuid_bytes[16] = {
	0x12, 0x3e, 0x45, 0x67, 0xe8, 0x9b, 0x12, 0xd3,
	0xa4, 0x56, 0x42, 0x66, 0x14, 0x17, 0x40, 0x00,
};

/*
 * Rows, global table spec, columns:
 *   name varchar, n int, big bigint, id uuid,
 *   tags map<varchar, list<int>>, addr ks.address{street varchar, zip int},
 *   pair tuple<int, varchar>, missing int
 * and two rows; the nested options come before `pair` and `missing`, so a
 * parser that skips them wrongly reads garbage names.
 */
static void rows_body(struct buf *b)
{
	static const unsigned char big[8] = { 0xff, 0xff, 0xff, 0xfd, 0xe7,
					      0x8e, 0xe6, 0x00 };
	static const unsigned char n42[4] = { 0, 0, 0, 42 };
	static const unsigned char nneg[4] = { 0xff, 0xff, 0xff, 0xff };
	static const unsigned char blob[3] = { 1, 2, 3 };

	w32(b, CQL_RESULT_ROWS);
	w32(b, CQL_ROWS_GLOBAL_TABLES_SPEC);
	w32(b, 8);
	wstr(b, "ks");
	wstr(b, "people");
	wstr(b, "name");	w16(b, CQL_TYPE_VARCHAR);
	wstr(b, "n");		w16(b, CQL_TYPE_INT);
	wstr(b, "big");		w16(b, CQL_TYPE_BIGINT);
	wstr(b, "id");		w16(b, CQL_TYPE_UUID);
	wstr(b, "tags");	w16(b, CQL_TYPE_MAP);
	w16(b, CQL_TYPE_VARCHAR);
	w16(b, CQL_TYPE_LIST); w16(b, CQL_TYPE_INT);
	wstr(b, "addr");	w16(b, CQL_TYPE_UDT);
	wstr(b, "ks"); wstr(b, "address"); w16(b, 2);
	wstr(b, "street"); w16(b, CQL_TYPE_VARCHAR);
	wstr(b, "zip"); w16(b, CQL_TYPE_INT);
	wstr(b, "pair");	w16(b, CQL_TYPE_TUPLE);
	w16(b, 2); w16(b, CQL_TYPE_INT); w16(b, CQL_TYPE_VARCHAR);
	wstr(b, "missing");	w16(b, CQL_TYPE_INT);

	w32(b, 2);
	/* row 0 */
	wbytes(b, "alice", 5);
	wbytes(b, n42, 4);
	wbytes(b, big, 8);
	wbytes(b, uuid_bytes, 16);
	wbytes(b, blob, 3);
	wbytes(b, blob, 3);
	wbytes(b, blob, 3);
	wnull(b);
	/* row 1 */
	wbytes(b, "", 0);
	wbytes(b, nneg, 4);
	wnull(b);
	wnull(b);
	wnull(b);
	wnull(b);
	wnull(b);
	wbytes(b, n42, 4);
}

static const char *cell_text(const struct cql_result *r, int row, int col)
{
	static struct buf out = BUF_INIT;

	buf_reset(&out);
	if (cql_cell_text(cql_result_cell(r, row, col), r->cols[col].type,
			  &out))
		return "<bad>";
	return out.s;
}

static void test_header(void)
{
	struct cql_header h = { 0x04, 0, 0x1234, CQL_OP_QUERY, 0x01020304 }, d;
	unsigned char p[CQL_HEADER_LEN];
	static const unsigned char want[CQL_HEADER_LEN] = {
		0x04, 0x00, 0x12, 0x34, 0x07, 0x01, 0x02, 0x03, 0x04 };
	static const unsigned char resp[CQL_HEADER_LEN] = {
		0x84, 0x08, 0xff, 0xff, 0x0c, 0x00, 0x00, 0x00, 0x10 };
	struct buf err = BUF_INIT;

	cql_header_encode(&h, p);
	ok(!memcmp(p, want, sizeof(want)), "header encodes big-endian");

	is_int(cql_header_decode(&d, resp, &err), 0, "response header decodes");
	is_int(d.version, 0x84, "version 0x84");
	is_int(d.flags, CQL_FLAG_WARNING, "flags");
	is_int(d.stream, -1, "stream is signed (event stream -1)");
	is_int(d.opcode, CQL_OP_EVENT, "opcode");
	is_int(d.length, 16, "length");

	p[0] = 0x04;
	is_int(cql_header_decode(&d, p, &err), CQL_EPROTO,
	       "a request header is not a response");
	ok(strstr(err.s, "not a CQL response"), "says so: %s", err.s);
	buf_reset(&err);

	memcpy(p, resp, sizeof(p));
	p[0] = 0x83;
	is_int(cql_header_decode(&d, p, &err), CQL_EPROTO, "v3 refused");
	ok(strstr(err.s, "protocol version 3"), "names the version: %s",
	   err.s);
	buf_reset(&err);

	memcpy(p, resp, sizeof(p));
	p[5] = 0x10;	/* 256 MiB + 16 */
	is_int(cql_header_decode(&d, p, &err), CQL_EPROTO,
	       "length above CQL_FRAME_MAX refused");
	ok(strstr(err.s, "exceeds"), "says it exceeds the cap: %s", err.s);
	buf_release(&err);
}

static void test_encode(void)
{
	struct buf out = BUF_INIT, body = BUF_INIT;

	w16(&body, 1);
	wstr(&body, "CQL_VERSION");
	wstr(&body, "3.0.0");
	cql_frame_encode(&out, 7, CQL_OP_STARTUP, body.s, body.len);
	is_int(out.len, CQL_HEADER_LEN + 22, "STARTUP frame length");
	ok(!memcmp(out.s, "\x04\x00\x00\x07\x01\x00\x00\x00\x16", 9),
	   "STARTUP header bytes");
	ok(!memcmp(out.s + 9, body.s, body.len), "STARTUP body follows");
	buf_release(&out);
	buf_release(&body);
}

static void test_split(void)
{
	struct buf body = BUF_INIT, stream = BUF_INIT, b2 = BUF_INIT;
	struct cql_frame f;
	size_t used = 0, n;
	int ret, all_zero = 1;

	w32(&body, CQL_RESULT_VOID);
	wframe(&stream, 0, 3, CQL_OP_RESULT, &body);
	wstr(&b2, "ks");
	wframe(&stream, 0, 4, CQL_OP_RESULT, &b2);

	for (n = 0; n < CQL_HEADER_LEN + 4; n++)
		if (cql_frame_split(stream.s, n, &f, &used, NULL) != 0)
			all_zero = 0;
	ok(all_zero, "every strict prefix of a frame asks for more bytes");

	ret = cql_frame_split(stream.s, stream.len, &f, &used, NULL);
	is_int(ret, 1, "first of two frames found");
	is_int(used, CQL_HEADER_LEN + 4, "consumes exactly one frame");
	is_int(f.hdr.stream, 3, "first frame's stream");
	is_int(f.len, 4, "first frame's body length");

	ret = cql_frame_split(stream.s + used, stream.len - used, &f, &n,
			      NULL);
	is_int(ret, 1, "second frame found after it");
	is_int(f.hdr.stream, 4, "second frame's stream");
	ok(f.len == 4 && !memcmp(f.body, "\x00\x02ks", 4),
	   "second frame's body");

	/* an oversized header is refused before its body is buffered */
	buf_reset(&stream);
	buf_add(&stream, "\x84\x00\x00\x01\x08\x7f\xff\xff\xff", 9);
	is_int(cql_frame_split(stream.s, stream.len, &f, &used, NULL),
	       CQL_EPROTO, "2 GiB frame refused from its header alone");
	buf_release(&body);
	buf_release(&b2);
	buf_release(&stream);
}

static void test_rows(void)
{
	struct buf body = BUF_INIT, err = BUF_INIT;
	struct cql_result r = CQL_RESULT_INIT;

	rows_body(&body);
	is_int(cql_result_parse(body.s, body.len, &r, &err), 0,
	       "rows result parses");
	if (err.len)
		printf("# %s\n", err.s);
	is_int(r.kind, CQL_RESULT_ROWS, "kind Rows");
	is_int(r.ncols, 8, "8 columns");
	is_int(r.nrows, 2, "2 rows");
	is_str(r.cols[0].keyspace, "ks", "global keyspace applied");
	is_str(r.cols[7].table, "people", "global table applied");
	is_str(r.cols[0].name, "name", "column 0 name");
	is_int(r.cols[1].type, CQL_TYPE_INT, "column 1 type int");
	is_str(r.cols[4].type_name, "map<varchar, list<int>>",
	       "nested map type spelled");
	is_int(r.cols[4].type, CQL_TYPE_MAP, "map's outer type");
	is_str(r.cols[5].type_name, "ks.address", "udt named");
	is_str(r.cols[6].type_name, "tuple<int, varchar>", "tuple spelled");
	is_str(r.cols[6].name, "pair", "no desync after udt options");
	is_str(r.cols[7].name, "missing", "no desync after tuple options");
	is_int(r.cols[7].type, CQL_TYPE_INT, "last column's type");

	is_str(cell_text(&r, 0, 0), "alice", "varchar cell");
	is_str(cell_text(&r, 0, 1), "42", "int cell");
	is_str(cell_text(&r, 0, 2), "-9000000000", "bigint cell");
	is_str(cell_text(&r, 0, 3), "123e4567-e89b-12d3-a456-426614174000",
	       "uuid cell");
	is_str(cell_text(&r, 0, 4), "0x010203", "map cell shown as hex");
	is_int(cql_result_cell(&r, 0, 7)->len, -1, "null cell has len -1");
	ok(!cql_result_cell(&r, 0, 7)->data, "null cell has no data");
	is_str(cell_text(&r, 0, 7), "null", "null cell text");
	is_int(cql_result_cell(&r, 1, 0)->len, 0, "empty varchar len 0");
	is_str(cell_text(&r, 1, 0), "", "empty varchar is empty, not null");
	is_str(cell_text(&r, 1, 1), "-1", "negative int cell");
	is_str(cell_text(&r, 1, 7), "42", "last cell of the last row");

	cql_result_release(&r);
	is_int(r.ncols, 0, "release leaves an empty result");
	ok(r.cols == NULL && r.raw == NULL, "release frees and clears");
	cql_result_release(&r);
	ok(1, "releasing twice is harmless");
	buf_release(&body);
	buf_release(&err);
}

static void test_rows_variants(void)
{
	struct buf b = BUF_INIT, err = BUF_INIT;
	struct cql_result r = CQL_RESULT_INIT;

	/* per-column table spec and a paging state */
	w32(&b, CQL_RESULT_ROWS);
	w32(&b, CQL_ROWS_HAS_MORE_PAGES);
	w32(&b, 1);
	wbytes(&b, "\x01\x02", 2);
	wstr(&b, "system"); wstr(&b, "local");
	wstr(&b, "release_version"); w16(&b, CQL_TYPE_VARCHAR);
	w32(&b, 1);
	wbytes(&b, "5.0.4", 5);
	is_int(cql_result_parse(b.s, b.len, &r, &err), 0,
	       "per-column spec with paging state parses");
	is_str(r.cols[0].keyspace, "system", "per-column keyspace");
	is_str(r.cols[0].table, "local", "per-column table");
	ok(r.rows_flags & CQL_ROWS_HAS_MORE_PAGES, "has_more_pages kept");
	ok(r.paging_state.len == 2 && !memcmp(r.paging_state.s, "\1\2", 2),
	   "paging state kept");
	is_str(cell_text(&r, 0, 0), "5.0.4", "release_version cell");
	cql_result_release(&r);

	/* no_metadata: only the count, no specs */
	buf_reset(&b);
	w32(&b, CQL_RESULT_ROWS);
	w32(&b, CQL_ROWS_NO_METADATA);
	w32(&b, 2);
	w32(&b, 1);
	wbytes(&b, "ab", 2);
	wnull(&b);
	is_int(cql_result_parse(b.s, b.len, &r, &err), 0,
	       "no_metadata rows parse");
	is_int(r.cols[1].type, CQL_TYPE_UNKNOWN, "type unknown");
	is_str(cell_text(&r, 0, 0), "0x6162", "unknown type shown as hex");
	is_str(cell_text(&r, 0, 1), "null", "null without metadata");
	cql_result_release(&r);

	buf_reset(&b);
	w32(&b, CQL_RESULT_VOID);
	is_int(cql_result_parse(b.s, b.len, &r, &err), 0, "void parses");
	is_int(r.kind, CQL_RESULT_VOID, "kind Void");
	cql_result_release(&r);

	buf_reset(&b);
	w32(&b, CQL_RESULT_SET_KEYSPACE);
	wstr(&b, "shop");
	is_int(cql_result_parse(b.s, b.len, &r, &err), 0,
	       "set_keyspace parses");
	is_str(r.keyspace.s, "shop", "keyspace");
	cql_result_release(&r);

	buf_reset(&b);
	w32(&b, CQL_RESULT_SCHEMA_CHANGE);
	wstr(&b, "CREATED"); wstr(&b, "TABLE"); wstr(&b, "shop");
	wstr(&b, "orders");
	is_int(cql_result_parse(b.s, b.len, &r, &err), 0,
	       "schema_change TABLE parses");
	is_str(r.change_type.s, "CREATED", "change type");
	is_str(r.target.s, "TABLE", "target");
	is_str(r.object.s, "orders", "table");
	cql_result_release(&r);

	buf_reset(&b);
	w32(&b, CQL_RESULT_SCHEMA_CHANGE);
	wstr(&b, "DROPPED"); wstr(&b, "FUNCTION"); wstr(&b, "shop");
	wstr(&b, "f"); w16(&b, 2); wstr(&b, "int"); wstr(&b, "text");
	is_int(cql_result_parse(b.s, b.len, &r, &err), 0,
	       "schema_change FUNCTION parses");
	is_str(r.object.s, "f(int, text)", "function with argument types");
	cql_result_release(&r);

	buf_reset(&b);
	w32(&b, CQL_RESULT_SCHEMA_CHANGE);
	wstr(&b, "CREATED"); wstr(&b, "KEYSPACE"); wstr(&b, "shop");
	is_int(cql_result_parse(b.s, b.len, &r, &err), 0,
	       "schema_change KEYSPACE parses");
	is_str(r.keyspace.s, "shop", "changed keyspace");
	cql_result_release(&r);

	is_int(err.len, 0, "no error text for good bodies");
	buf_release(&b);
	buf_release(&err);
}

static void test_error_frames(void)
{
	struct buf body = BUF_INIT, frame = BUF_INIT, err = BUF_INIT;
	struct cql_result r = CQL_RESULT_INIT;
	struct cql_frame f;
	size_t used;
	int code = 0;

	w32(&body, 0x2200);
	wstr(&body, "unconfigured table foo");
	is_int(cql_error_parse(body.s, body.len, &code, &err), CQL_ESERVER,
	       "error body gives CQL_ESERVER");
	is_int(code, 0x2200, "error code");
	is_str(err.s, "cassandra error 0x2200 (Invalid): unconfigured table foo",
	       "error message");
	buf_reset(&err);

	/* the same as a frame, with a warning and a tracing id in front */
	buf_reset(&body);
	buf_add(&body, uuid_bytes, 16);
	w16(&body, 2);
	wstr(&body, "first warning");
	wstr(&body, "second warning");
	w32(&body, 0x1002);
	wstr(&body, "Cannot read from a bootstrapping node");
	w32(&body, 99);		/* code-specific extra field, ignored */
	wframe(&frame, CQL_FLAG_TRACING | CQL_FLAG_WARNING, 0, CQL_OP_ERROR,
	       &body);
	is_int(cql_frame_split(frame.s, frame.len, &f, &used, NULL), 1,
	       "error frame splits");
	is_int(cql_response_parse(&f, &r, &err), CQL_ESERVER,
	       "error frame gives CQL_ESERVER");
	is_int(r.error_code, 0x1002, "error code kept in the result");
	is_str(err.s, "cassandra error 0x1002 (Is_bootstrapping): Cannot read "
	       "from a bootstrapping node", "error frame message");
	is_str(r.warnings.s, "first warning\nsecond warning",
	       "warnings kept, one per line");
	cql_result_release(&r);
	buf_reset(&err);

	/* custom payload before a result */
	buf_reset(&body);
	buf_reset(&frame);
	w16(&body, 1);
	wstr(&body, "k");
	wbytes(&body, "v", 1);
	w32(&body, CQL_RESULT_VOID);
	wframe(&frame, CQL_FLAG_CUSTOM_PAYLOAD, 0, CQL_OP_RESULT, &body);
	cql_frame_split(frame.s, frame.len, &f, &used, NULL);
	is_int(cql_response_parse(&f, &r, &err), 0,
	       "custom payload skipped before a result");
	is_int(r.kind, CQL_RESULT_VOID, "result after the payload");
	cql_result_release(&r);

	buf_reset(&body);
	buf_reset(&frame);
	wstr(&body, "org.apache.cassandra.auth.PasswordAuthenticator");
	wframe(&frame, 0, 0, CQL_OP_AUTHENTICATE, &body);
	cql_frame_split(frame.s, frame.len, &f, &used, NULL);
	is_int(cql_response_parse(&f, &r, &err), CQL_EAUTH,
	       "AUTHENTICATE gives CQL_EAUTH");
	ok(strstr(err.s, "authentication not supported") &&
	   strstr(err.s, "PasswordAuthenticator"),
	   "names the authenticator: %s", err.s);
	buf_reset(&err);

	buf_reset(&frame);
	buf_reset(&body);
	wframe(&frame, CQL_FLAG_COMPRESSION, 0, CQL_OP_RESULT, &body);
	cql_frame_split(frame.s, frame.len, &f, &used, NULL);
	is_int(cql_response_parse(&f, &r, &err), CQL_EPROTO,
	       "compressed frame refused");
	buf_reset(&err);

	buf_reset(&body);
	w32(&body, 0x2200);
	w16(&body, 50);
	buf_addstr(&body, "short");
	is_int(cql_error_parse(body.s, body.len, &code, &err), CQL_EPROTO,
	       "truncated error message refused");
	ok(strstr(err.s, "malformed ERROR"), "says malformed: %s", err.s);

	cql_result_release(&r);
	buf_release(&body);
	buf_release(&frame);
	buf_release(&err);
}

static void test_malformed(void)
{
	struct buf body = BUF_INIT, err = BUF_INIT, b = BUF_INIT;
	struct cql_result r = CQL_RESULT_INIT;
	size_t n, refused = 0, i;
	int ret, bit;
	unsigned seed = 12345;

	rows_body(&body);
	for (n = 0; n < body.len; n++) {
		ret = cql_result_parse(body.s, n, &r, NULL);
		if (ret == CQL_EPROTO && r.kind == CQL_RESULT_NONE &&
		    r.ncols == 0 && r.raw == NULL)
			refused++;
		cql_result_release(&r);
	}
	is_int(refused, body.len,
	       "every truncation of a rows body is refused and cleaned up");

	cql_result_parse(body.s, 30, &r, &err);
	ok(strstr(err.s, "malformed RESULT") && strstr(err.s, "of 30"),
	   "truncation message: %s", err.s);
	cql_result_release(&r);
	buf_reset(&err);

	buf_addch(&body, 0);
	is_int(cql_result_parse(body.s, body.len, &r, &err), CQL_EPROTO,
	       "trailing bytes refused");
	ok(strstr(err.s, "left over"), "says so: %s", err.s);
	cql_result_release(&r);
	buf_reset(&err);
	buf_setlen(&body, body.len - 1);

	/* flipped bits: any answer is fine, crashing or leaking is not */
	for (i = 0; i < 2000; i++) {
		buf_reset(&b);
		buf_add(&b, body.s, body.len);
		seed = seed * 1103515245u + 12345u;
		bit = (int)(seed >> 8) % (int)(b.len * 8);
		b.s[bit / 8] ^= (char)(1 << (bit % 8));
		cql_result_parse(b.s, b.len, &r, NULL);
		cql_result_release(&r);
	}
	ok(1, "2000 bit-flipped bodies decoded without a crash");

	buf_reset(&b);
	w32(&b, CQL_RESULT_ROWS);
	w32(&b, CQL_ROWS_NO_METADATA);
	w32(&b, 5);
	w32(&b, 0x7fffffff);
	is_int(cql_result_parse(b.s, b.len, &r, &err), CQL_EPROTO,
	       "2^31 rows in a 16-byte body refused before allocating");
	cql_result_release(&r);
	buf_reset(&err);

	buf_reset(&b);
	w32(&b, CQL_RESULT_ROWS);
	w32(&b, 0);
	w32(&b, 0x7fffffff);
	is_int(cql_result_parse(b.s, b.len, &r, &err), CQL_EPROTO,
	       "2^31 columns refused");
	cql_result_release(&r);
	buf_reset(&err);

	buf_reset(&b);
	w32(&b, CQL_RESULT_ROWS);
	w32(&b, CQL_ROWS_GLOBAL_TABLES_SPEC);
	w32(&b, 1);
	wstr(&b, "ks"); wstr(&b, "t");
	wstr(&b, "c"); w16(&b, 0x0099);
	w32(&b, 0);
	is_int(cql_result_parse(b.s, b.len, &r, &err), CQL_EPROTO,
	       "unknown type id refused (its options have no known shape)");
	ok(strstr(err.s, "unknown column type 0x0099"), "names it: %s", err.s);
	cql_result_release(&r);
	buf_reset(&err);

	buf_reset(&b);
	w32(&b, CQL_RESULT_ROWS);
	w32(&b, CQL_ROWS_GLOBAL_TABLES_SPEC);
	w32(&b, 1);
	wstr(&b, "ks"); wstr(&b, "t");
	wstr(&b, "c");
	for (i = 0; i < 1000; i++)
		w16(&b, CQL_TYPE_LIST);
	w16(&b, CQL_TYPE_INT);
	w32(&b, 0);
	is_int(cql_result_parse(b.s, b.len, &r, &err), CQL_EPROTO,
	       "a 1000-deep list type refused");
	ok(strstr(err.s, "nested deeper"), "says too deep: %s", err.s);
	cql_result_release(&r);
	buf_reset(&err);

	buf_reset(&b);
	w32(&b, 42);
	is_int(cql_result_parse(b.s, b.len, &r, &err), CQL_EPROTO,
	       "unknown result kind refused");
	cql_result_release(&r);

	is_int(cql_result_parse("", 0, &r, NULL), CQL_EPROTO,
	       "empty body refused");
	cql_result_release(&r);

	buf_release(&b);
	buf_release(&body);
	buf_release(&err);
}

static const char *text_of(int type, const void *p, int32_t len)
{
	static struct buf out = BUF_INIT;
	struct cql_cell c = { p, len };

	buf_reset(&out);
	if (cql_cell_text(&c, type, &out))
		return "<bad>";
	return out.s;
}

static void test_cell_text(void)
{
	is_str(text_of(CQL_TYPE_TIMESTAMP, "\0\0\0\0\0\0\0\0", 8),
	       "1970-01-01T00:00:00.000Z", "timestamp epoch");
	is_str(text_of(CQL_TYPE_TIMESTAMP, "\x00\x00\x01\x8d\x5f\x63\xea\x7b",
		       8), "2024-01-31T12:00:00.123Z"
	       , "timestamp with milliseconds");
	is_str(text_of(CQL_TYPE_TIMESTAMP, "\xff\xff\xff\xff\xff\xff\xff\xff",
		       8), "1969-12-31T23:59:59.999Z", "timestamp -1 ms");
	is_str(text_of(CQL_TYPE_BOOLEAN, "\1", 1), "true", "boolean true");
	is_str(text_of(CQL_TYPE_BOOLEAN, "\0", 1), "false", "boolean false");
	is_str(text_of(CQL_TYPE_DOUBLE, "\x3f\xb9\x99\x99\x99\x99\x99\x9a", 8),
	       "0.1", "double 0.1, shortest form");
	is_str(text_of(CQL_TYPE_FLOAT, "\x3f\xc0\x00\x00", 4), "1.5",
	       "float 1.5");
	is_str(text_of(CQL_TYPE_FLOAT, "\x3d\xcc\xcc\xcd", 4), "0.1",
	       "float 0.1 not widened to 0.100000001");
	is_str(text_of(CQL_TYPE_DOUBLE, "\x7f\xf8\0\0\0\0\0\0", 8), "NaN",
	       "double NaN");
	is_str(text_of(CQL_TYPE_ASCII, "abc", 3), "abc", "ascii");
	is_str(text_of(CQL_TYPE_TIMEUUID, uuid_bytes, 16),
	       "123e4567-e89b-12d3-a456-426614174000", "timeuuid");
	is_str(text_of(CQL_TYPE_SMALLINT, "\xff\xfe", 2), "-2", "smallint");
	is_str(text_of(CQL_TYPE_TINYINT, "\x80", 1), "-128", "tinyint");
	is_str(text_of(CQL_TYPE_COUNTER, "\0\0\0\0\0\0\0\x07", 8), "7",
	       "counter");
	is_str(text_of(CQL_TYPE_DATE, "\x80\x00\x00\x00", 4), "1970-01-01",
	       "date at 2^31 is the epoch");
	is_str(text_of(CQL_TYPE_DATE, "\x80\x00\x4d\x47", 4), "2024-03-01",
	       "date in 2024");
	is_str(text_of(CQL_TYPE_INET, "\x7f\0\0\1", 4), "127.0.0.1", "inet v4");
	is_str(text_of(CQL_TYPE_BLOB, "\xca\xfe", 2), "0xcafe", "blob");
	is_str(text_of(CQL_TYPE_BLOB, "", 0), "0x", "empty blob");
	is_str(text_of(CQL_TYPE_INT, "\0\0\1", 3), "<bad>",
	       "int of 3 bytes refused");
	is_str(text_of(CQL_TYPE_UUID, "\0\1", 2), "<bad>",
	       "uuid of 2 bytes refused");
	is_str(text_of(CQL_TYPE_INT, "", 0), "", "empty int shown empty");
	is_str(text_of(CQL_TYPE_INT, NULL, -1), "null", "null int");
	is_str(cql_type_name(CQL_TYPE_VARCHAR), "varchar", "type name");
	is_str(cql_error_name(0x2000), "Syntax_error", "error name");
	is_str(cql_error_name(0x7777), "Unknown", "unknown error name");
}

/* ---- the connection, against a fake server on a socketpair ---- */

static int read_full(int fd, void *p, size_t n)
{
	size_t off = 0;
	ssize_t r;

	while (off < n) {
		r = read(fd, (char *)p + off, n - off);
		if (r <= 0)
			return -1;
		off += (size_t)r;
	}
	return 0;
}

/* reads one request; returns its stream id or -1; opcode and query out */
static int read_request(int fd, int *opcode, struct buf *body)
{
	unsigned char h[CQL_HEADER_LEN];
	uint32_t len;

	if (read_full(fd, h, sizeof(h)))
		return -1;
	len = (uint32_t)h[5] << 24 | (uint32_t)h[6] << 16 | h[7] << 8 | h[8];
	buf_reset(body);
	buf_grow(body, len);
	if (read_full(fd, body->s, len))
		return -1;
	buf_setlen(body, len);
	*opcode = h[4];
	return h[2] << 8 | h[3];
}

/* a QUERY body: [long string] query, [short] consistency ONE, flags 0 */
static int query_is(const struct buf *req, const char *q)
{
	size_t n = strlen(q);
	const unsigned char *p = (const unsigned char *)req->s;

	return req->len == 4 + n + 3 &&
	       ((uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | p[2] << 8 |
		p[3]) == n &&
	       !memcmp(p + 4, q, n) && p[4 + n] == 0 && p[5 + n] == CQL_ONE &&
	       p[6 + n] == 0;
}

/* writes `b` in two pieces, pausing between them, to split the frame */
static void write_split(int fd, const struct buf *b, size_t first)
{
	struct timespec pause = { 0, 30 * 1000 * 1000 };

	if (write(fd, b->s, first) < 0 ||
	    (nanosleep(&pause, NULL), write(fd, b->s + first,
					    b->len - first)) < 0)
		_exit(3);
}

enum fake_mode { FAKE_GOOD, FAKE_SILENT, FAKE_HANGUP };

static void fake_server(int fd, enum fake_mode mode)
{
	struct buf req = BUF_INIT, out = BUF_INIT, body = BUF_INIT;
	int op, stream;

	stream = read_request(fd, &op, &req);
	if (stream < 0 || op != CQL_OP_STARTUP)
		_exit(2);
	wframe(&out, 0, stream, CQL_OP_READY, &body);
	write_split(fd, &out, 4);	/* header split in two */

	stream = read_request(fd, &op, &req);
	if (stream < 0 || op != CQL_OP_QUERY)
		_exit(2);
	if (mode == FAKE_GOOD && !query_is(&req, "SELECT * FROM ks.people"))
		_exit(4);
	if (mode == FAKE_SILENT) {
		pause();
		_exit(0);
	}
	if (mode == FAKE_HANGUP)
		_exit(0);
	/* a stray frame on another stream comes first and must be skipped */
	buf_reset(&out);
	buf_reset(&body);
	w32(&body, CQL_RESULT_VOID);
	wframe(&out, 0, stream + 100, CQL_OP_RESULT, &body);
	/* the answer: rows whose body is cut after 20 bytes */
	buf_reset(&body);
	rows_body(&body);
	wframe(&out, 0, stream, CQL_OP_RESULT, &body);
	write_split(fd, &out, CQL_HEADER_LEN + 4 + CQL_HEADER_LEN + 20);

	/* a second query, answered with a syntax error */
	stream = read_request(fd, &op, &req);
	if (stream < 0 || !query_is(&req, "SELEC"))
		_exit(2);
	buf_reset(&out);
	buf_reset(&body);
	w32(&body, 0x2000);
	wstr(&body, "line 1:0 no viable alternative");
	wframe(&out, 0, stream, CQL_OP_ERROR, &body);
	write_split(fd, &out, 1);
	read_request(fd, &op, &req);	/* until the client closes */
	_exit(0);
}

static pid_t start_fake(int *client_fd, enum fake_mode mode)
{
	int sv[2];
	pid_t pid;

	if (socketpair(AF_UNIX, SOCK_STREAM, 0, sv))
		die("socketpair: %s", strerror(errno));
	pid = fork();
	if (pid < 0)
		die("fork: %s", strerror(errno));
	if (!pid) {
		close(sv[0]);
		fake_server(sv[1], mode);
	}
	close(sv[1]);
	*client_fd = sv[0];
	return pid;
}

static int64_t mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void test_conn(void)
{
	struct buf err = BUF_INIT;
	struct cql_result r = CQL_RESULT_INIT;
	struct cql_conn *c;
	int fd, status = -1, ret;
	int64_t t0;
	pid_t pid;

	pid = start_fake(&fd, FAKE_GOOD);
	c = cql_conn_attach(fd, "fake", 2000);
	is_int(cql_startup(c, &err), 0, "STARTUP answered by READY in 2 reads");
	ret = cql_query(c, "SELECT * FROM ks.people", &r, &err);
	is_int(ret, 0, "query answered after a stray frame and a split body");
	if (ret)
		printf("# %s\n", err.s);
	is_int(r.nrows, 2, "rows arrived whole");
	if (r.nrows == 2)
		is_str(cell_text(&r, 0, 0), "alice", "first cell");
	ret = cql_query(c, "SELEC", &r, &err);
	is_int(ret, CQL_ESERVER, "server error reported");
	is_int(r.error_code, 0x2000, "its code");
	is_str(err.s, "cassandra error 0x2000 (Syntax_error): line 1:0 no "
	       "viable alternative", "its message");
	cql_result_release(&r);
	cql_close(c);
	waitpid(pid, &status, 0);
	is_int(WIFEXITED(status) ? WEXITSTATUS(status) : -1, 0,
	       "fake server saw well-formed requests");
	buf_reset(&err);

	pid = start_fake(&fd, FAKE_SILENT);
	c = cql_conn_attach(fd, "fake", 300);
	cql_startup(c, &err);
	t0 = mono_ms();
	ret = cql_query(c, "SELECT 1", &r, &err);
	is_int(ret, CQL_ETIMEOUT, "silent server times out");
	ok(mono_ms() - t0 < 2000, "within its timeout (%lld ms)",
	   (long long)(mono_ms() - t0));
	is_str(err.s, "timed out after 300 ms waiting for cassandra at "
	       "'fake': is it still starting?", "timeout message");
	cql_result_release(&r);
	cql_close(c);
	kill(pid, SIGTERM);
	waitpid(pid, NULL, 0);
	buf_reset(&err);

	pid = start_fake(&fd, FAKE_HANGUP);
	c = cql_conn_attach(fd, "fake", 2000);
	cql_startup(c, &err);
	is_int(cql_query(c, "SELECT 1", &r, &err), CQL_EIO,
	       "hang-up is CQL_EIO");
	ok(strstr(err.s, "closed the connection"), "says closed: %s", err.s);
	cql_result_release(&r);
	cql_close(c);
	waitpid(pid, NULL, 0);
	buf_release(&err);
}

/* TCP: a refused port, and a listener that never answers (docker-proxy) */
static void test_tcp(void)
{
	struct buf err = BUF_INIT;
	struct cql_conn *c = (struct cql_conn *)&err;
	struct sockaddr_in a;
	socklen_t al = sizeof(a);
	int s = socket(AF_INET, SOCK_STREAM, 0), port;
	int64_t t0;

	memset(&a, 0, sizeof(a));
	a.sin_family = AF_INET;
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (bind(s, (struct sockaddr *)&a, sizeof(a)) ||
	    getsockname(s, (struct sockaddr *)&a, &al))
		die("bind: %s", strerror(errno));
	port = ntohs(a.sin_port);

	/* bound but not listening: refused */
	is_int(cql_connect(&c, "127.0.0.1", port, 1000, &err), CQL_EIO,
	       "refused connect is CQL_EIO");
	ok(c == NULL, "*out is NULL on failure");
	ok(strstr(err.s, "cannot connect to cassandra at '127.0.0.1:") &&
	   strstr(err.s, "connection refused"), "says refused: %s", err.s);
	buf_reset(&err);

	listen(s, 4);
	t0 = mono_ms();
	is_int(cql_probe("127.0.0.1", port, 300, NULL, &err), CQL_ETIMEOUT,
	       "probe of a listener that never answers times out");
	ok(mono_ms() - t0 < 2000, "probe bounded by its timeout");
	ok(strstr(err.s, "timed out after 300 ms"), "says so: %s", err.s);
	close(s);
	buf_release(&err);
}

int main(void)
{
	test_header();
	test_encode();
	test_split();
	test_rows();
	test_rows_variants();
	test_error_frames();
	test_malformed();
	test_cell_text();
	test_conn();
	test_tcp();
	return tap_done();
}
