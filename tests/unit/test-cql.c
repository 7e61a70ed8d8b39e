/*
 * test-cql: CQL v4 framing, values, request bodies, result and error
 * decoding (cases in data/cql-frames.test), and the connection against
 * fake peers on socketpairs.
 */
#include "clients/cql.h"
#include "util/buf.h"
#include "util/clock.h"
#include "util/xalloc.h"
#include "tap.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
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
	struct cql_header h = { 0x04, 0, 0x1234, CQL_OP_QUERY, 0x01020304 };
	unsigned char p[CQL_HEADER_LEN];
	static const unsigned char want[CQL_HEADER_LEN] = {
		0x04, 0x00, 0x12, 0x34, 0x07, 0x01, 0x02, 0x03, 0x04 };

	/* decoding is in data/cql-frames.test */
	cql_header_encode(&h, p);
	ok(!memcmp(p, want, sizeof(want)), "header encodes big-endian");
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

	buf_release(&b);
	buf_release(&body);
	buf_release(&err);
}

static void test_name_lookups(void)
{
	is_str(cql_type_name(CQL_TYPE_VARCHAR), "varchar", "type name");
	is_str(cql_error_name(0x2000), "Syntax_error", "error name");
	is_str(cql_error_name(0x7777), "Unknown", "unknown error name");
}

/* ---- the decoders against tests/unit/data/cql-frames.test ---- */

/* the names a case may use for a number; numbers may be written as is */
static const struct {
	const char *name;
	long long v;
} names[] = {
	{ "ok", 0 }, { "refused", -1 }, { "EIO", CQL_EIO },
	{ "EPROTO", CQL_EPROTO }, { "ESERVER", CQL_ESERVER },
	{ "EAUTH", CQL_EAUTH },
	{ "VOID", CQL_RESULT_VOID }, { "ROWS", CQL_RESULT_ROWS },
	{ "SET_KEYSPACE", CQL_RESULT_SET_KEYSPACE },
	{ "PREPARED", CQL_RESULT_PREPARED },
	{ "SCHEMA_CHANGE", CQL_RESULT_SCHEMA_CHANGE },
	{ "GLOBAL_TABLES_SPEC", CQL_ROWS_GLOBAL_TABLES_SPEC },
	{ "HAS_MORE_PAGES", CQL_ROWS_HAS_MORE_PAGES },
	{ "NO_METADATA", CQL_ROWS_NO_METADATA },
	{ "COMPRESSION", CQL_FLAG_COMPRESSION }, { "TRACING", CQL_FLAG_TRACING },
	{ "CUSTOM_PAYLOAD", CQL_FLAG_CUSTOM_PAYLOAD },
	{ "WARNING", CQL_FLAG_WARNING },
	{ "ERROR", CQL_OP_ERROR }, { "READY", CQL_OP_READY },
	{ "AUTHENTICATE", CQL_OP_AUTHENTICATE }, { "RESULT", CQL_OP_RESULT },
	{ "EVENT", CQL_OP_EVENT },
	{ "ONE", CQL_ONE }, { "QUORUM", CQL_QUORUM }, { "ALL", CQL_ALL },
	{ "LOCAL_ONE", CQL_LOCAL_ONE }, { "Unprepared", CQL_ERR_UNPREPARED },
	{ "ascii", CQL_TYPE_ASCII }, { "bigint", CQL_TYPE_BIGINT },
	{ "blob", CQL_TYPE_BLOB }, { "boolean", CQL_TYPE_BOOLEAN },
	{ "counter", CQL_TYPE_COUNTER }, { "double", CQL_TYPE_DOUBLE },
	{ "float", CQL_TYPE_FLOAT }, { "int", CQL_TYPE_INT },
	{ "timestamp", CQL_TYPE_TIMESTAMP }, { "uuid", CQL_TYPE_UUID },
	{ "varchar", CQL_TYPE_VARCHAR }, { "timeuuid", CQL_TYPE_TIMEUUID },
	{ "inet", CQL_TYPE_INET }, { "date", CQL_TYPE_DATE },
	{ "smallint", CQL_TYPE_SMALLINT }, { "tinyint", CQL_TYPE_TINYINT },
	{ "list", CQL_TYPE_LIST }, { "map", CQL_TYPE_MAP },
	{ "unknown", CQL_TYPE_UNKNOWN },
};

struct case_file {
	const char *path;
	int line;
};

__attribute__((noreturn, format(printf, 2, 3)))
static void case_die(const struct case_file *cf, const char *fmt, ...)
{
	struct buf msg = BUF_INIT;
	va_list ap;

	va_start(ap, fmt);
	buf_vaddf(&msg, fmt, ap);
	va_end(ap);
	die("%s:%d: %s", cf->path, cf->line, msg.s);
}

/* "0x10", "-1", "TRACING|WARNING" */
static long long case_num(const struct case_file *cf, const char *tok)
{
	char part[64], *end;
	long long v = 0, one;
	size_t n, i;

	while (*tok) {
		n = strcspn(tok, "|");
		if (!n || n >= sizeof(part))
			case_die(cf, "bad number '%s'", tok);
		memcpy(part, tok, n);
		part[n] = '\0';
		one = strtoll(part, &end, 0);
		if (*end) {
			for (i = 0; i < ARRAY_SIZE(names); i++)
				if (!strcmp(names[i].name, part))
					break;
			if (i == ARRAY_SIZE(names))
				case_die(cf, "unknown name '%s'", part);
			one = names[i].v;
		}
		v |= one;
		tok += n + (tok[n] == '|');
	}
	return v;
}

/* TEXT with \n, \\ and \xHH */
static void case_text(const struct case_file *cf, struct buf *out, const char *s)
{
	char hex[3] = { 0 };

	for (; *s; s++) {
		if (*s != '\\') {
			buf_addch(out, *s);
			continue;
		}
		s++;
		if (*s == 'n') {
			buf_addch(out, '\n');
		} else if (*s == '\\') {
			buf_addch(out, '\\');
		} else if (*s == 'x' && isxdigit((unsigned char)s[1]) &&
			   isxdigit((unsigned char)s[2])) {
			memcpy(hex, s + 1, 2);
			buf_addch(out, (int)strtol(hex, NULL, 16));
			s += 2;
		} else {
			case_die(cf, "bad escape in '%s'", s - 1);
		}
	}
}

static void case_hex(const struct case_file *cf, struct buf *out, const char *s)
{
	char hex[3] = { 0 };

	for (; *s; s++) {
		if (*s == ' ')
			continue;
		if (!isxdigit((unsigned char)s[0]) || !isxdigit((unsigned char)s[1]))
			case_die(cf, "bad hex at '%s'", s);
		memcpy(hex, s, 2);
		buf_addch(out, (int)strtol(hex, NULL, 16));
		s++;
	}
}

/* one building line; `frame_at` is where a frame header went, or -1 */
static void case_build(const struct case_file *cf, struct buf *in, char *line,
		       long *frame_at, int *null_cell)
{
	char *arg, *end, *f[3];
	long times = 1;
	int i;

	times = strtol(line, &end, 10);
	if (end != line && !strncmp(end, " * ", 3))
		line = end + 3;
	else
		times = 1;
	arg = line + strcspn(line, " ");
	if (*arg)
		*arg++ = '\0';
	while (times-- > 0) {
		if (!strcmp(line, "byte")) {
			buf_addch(in, (int)case_num(cf, arg));
		} else if (!strcmp(line, "short")) {
			w16(in, (unsigned)case_num(cf, arg));
		} else if (!strcmp(line, "int")) {
			w32(in, (uint32_t)case_num(cf, arg));
		} else if (!strcmp(line, "long")) {
			w32(in, (uint32_t)((unsigned long long)case_num(cf, arg) >> 32));
			w32(in, (uint32_t)case_num(cf, arg));
		} else if (!strcmp(line, "string") || !strcmp(line, "longstring") ||
			   !strcmp(line, "bytes")) {
			struct buf t = BUF_INIT;

			if (!strcmp(line, "bytes") && !strcmp(arg, "null")) {
				wnull(in);
				continue;
			}
			case_text(cf, &t, arg);
			if (line[0] == 's')
				w16(in, (unsigned)t.len);
			else
				w32(in, (uint32_t)t.len);
			buf_add(in, t.s, t.len);
			buf_release(&t);
		} else if (!strcmp(line, "text")) {
			case_text(cf, in, arg);
		} else if (!strcmp(line, "hex")) {
			case_hex(cf, in, arg);
		} else if (!strcmp(line, "null")) {
			*null_cell = 1;
		} else if (!strcmp(line, "frame")) {
			for (i = 0; i < 3; i++) {
				f[i] = strsep(&arg, " ");
				if (!f[i])
					case_die(cf, "frame wants FLAGS STREAM OPCODE");
			}
			*frame_at = (long)in->len;
			buf_addch(in, 0x84);
			buf_addch(in, (int)case_num(cf, f[0]));
			w16(in, (unsigned)case_num(cf, f[1]) & 0xffff);
			buf_addch(in, (int)case_num(cf, f[2]));
			w32(in, 0);	/* the length, once the body is built */
		} else {
			case_die(cf, "unknown building line '%s'", line);
		}
	}
}

/* what one decoder made of a case's input */
struct decoded {
	int ret, split, code;
	struct buf err, text;
	struct cql_header hdr;
	struct cql_result r;
};

static void hex_of(struct buf *out, const struct buf *b)
{
	size_t i;

	for (i = 0; i < b->len; i++)
		buf_addf(out, "%02x", (unsigned char)b->s[i]);
}

/* a field, named with its indexes taken out ("cols[].name"), as text */
typedef void field_fn(const struct decoded *d, const int *ix, struct buf *out);

#define INT_FIELD(fname, expr) \
	static void fname(const struct decoded *d, const int *ix, struct buf *out) \
	{ (void)ix; buf_addf(out, "%lld", (long long)(expr)); }
#define STR_FIELD(fname, expr) \
	static void fname(const struct decoded *d, const int *ix, struct buf *out) \
	{ (void)ix; buf_addstr(out, (expr)); }

INT_FIELD(f_returns, d->ret)
INT_FIELD(f_split, d->split)
INT_FIELD(f_code, d->code)
INT_FIELD(f_version, d->hdr.version)
INT_FIELD(f_flags, d->hdr.flags)
INT_FIELD(f_stream, d->hdr.stream)
INT_FIELD(f_opcode, d->hdr.opcode)
INT_FIELD(f_length, d->hdr.length)
INT_FIELD(f_kind, d->r.kind)
INT_FIELD(f_rows_flags, d->r.rows_flags)
INT_FIELD(f_error_code, d->r.error_code)
STR_FIELD(f_error, d->err.s)
STR_FIELD(f_text, d->text.s)
STR_FIELD(f_keyspace, d->r.keyspace.s)
STR_FIELD(f_change_type, d->r.change_type.s)
STR_FIELD(f_target, d->r.target.s)
STR_FIELD(f_object, d->r.object.s)
STR_FIELD(f_warnings, d->r.warnings.s)

static void f_paging_state(const struct decoded *d, const int *ix, struct buf *out)
{
	(void)ix;
	hex_of(out, &d->r.paging_state);
}

static void f_prepared_id(const struct decoded *d, const int *ix, struct buf *out)
{
	(void)ix;
	hex_of(out, &d->r.prepared_id);
}

static const struct cql_column *col_at(const struct decoded *d, int i)
{
	return i >= 0 && i < d->r.ncols ? &d->r.cols[i] : NULL;
}

#define COL_FIELD(fname, member) \
	static void fname(const struct decoded *d, const int *ix, struct buf *out) \
	{ const struct cql_column *c = col_at(d, ix[0]); \
	  buf_addstr(out, c ? c->member : "<no such column>"); }
COL_FIELD(f_col_keyspace, keyspace)
COL_FIELD(f_col_table, table)
COL_FIELD(f_col_name, name)
COL_FIELD(f_col_type_name, type_name)

static void f_col_type(const struct decoded *d, const int *ix, struct buf *out)
{
	const struct cql_column *c = col_at(d, ix[0]);

	if (c)
		buf_addf(out, "%d", c->type);
	else
		buf_addstr(out, "<no such column>");
}

static void f_cell(const struct decoded *d, const int *ix, struct buf *out)
{
	if (ix[0] < 0 || ix[0] >= d->r.nrows || !col_at(d, ix[1]))
		buf_addstr(out, "<no such cell>");
	else
		buf_addstr(out, cell_text(&d->r, ix[0], ix[1]));
}

static const struct {
	const char *name;
	int is_int;	/* compared as numbers: the want may be a name */
	field_fn *fn;
} fields[] = {
	{ "returns", 1, f_returns }, { "split", 1, f_split },
	{ "code", 1, f_code }, { "version", 1, f_version },
	{ "flags", 1, f_flags }, { "stream", 1, f_stream },
	{ "opcode", 1, f_opcode }, { "length", 1, f_length },
	{ "kind", 1, f_kind }, { "rows_flags", 1, f_rows_flags },
	{ "error_code", 1, f_error_code }, { "error", 0, f_error },
	{ "text", 0, f_text }, { "keyspace", 0, f_keyspace },
	{ "change_type", 0, f_change_type }, { "target", 0, f_target },
	{ "object", 0, f_object }, { "warnings", 0, f_warnings },
	{ "paging_state", 0, f_paging_state },
	{ "prepared_id", 0, f_prepared_id },
	{ "cols[].keyspace", 0, f_col_keyspace }, { "cols[].table", 0, f_col_table },
	{ "cols[].name", 0, f_col_name }, { "cols[].type", 1, f_col_type },
	{ "cols[].type_name", 0, f_col_type_name }, { "cell[][]", 0, f_cell },
};

/* one check line: "returns CODE", "FIELD = VALUE" or "FIELD ~ VALUE" */
static void case_check(const struct case_file *cf, const char *title,
		       const struct decoded *d, const char *line)
{
	struct buf key = BUF_INIT, got = BUF_INIT, want = BUF_INIT;
	const char *p = line, *value;
	int ix[2] = { -1, -1 }, nix = 0, contains = 0;
	size_t i;

	if (!strncmp(line, "returns ", 8)) {
		buf_addstr(&key, "returns");
		value = line + 8;
	} else {
		for (; *p && *p != ' '; p++) {
			if (*p == '[') {
				if (nix == 2)
					case_die(cf, "too many indexes in '%s'", line);
				ix[nix++] = (int)strtol(p + 1, (char **)&p, 10);
				if (*p != ']')
					case_die(cf, "bad index in '%s'", line);
				buf_addstr(&key, "[]");
				continue;
			}
			buf_addch(&key, *p);
		}
		if (p[0] != ' ' || (p[1] != '=' && p[1] != '~') ||
		    (p[2] && p[2] != ' '))
			case_die(cf, "want 'FIELD = VALUE' or 'FIELD ~ VALUE': '%s'", line);
		contains = p[1] == '~';
		value = p[2] ? p + 3 : p + 2;
	}
	for (i = 0; i < ARRAY_SIZE(fields); i++)
		if (!strcmp(fields[i].name, key.s))
			break;
	if (i == ARRAY_SIZE(fields))
		case_die(cf, "unknown field '%s'", key.s);
	fields[i].fn(d, ix, &got);
	if (fields[i].is_int)
		buf_addf(&want, "%lld", case_num(cf, value));
	else
		case_text(cf, &want, value);
	if (contains)
		ok(strstr(got.s, want.s), "%s: %s (got '%s')", title, line, got.s);
	else
		is_str(got.s, want.s, "%s: %s", title, line);
	buf_release(&key);
	buf_release(&got);
	buf_release(&want);
}

/* runs one decoder over the input built */
static void case_decode(const struct case_file *cf, const char *decoder,
			struct buf *in, long frame_at, int null_cell,
			struct decoded *d)
{
	struct cql_frame f;
	size_t used;

	if (!strcmp(decoder, "header")) {
		if (in->len != CQL_HEADER_LEN)
			case_die(cf, "a header is %d bytes, not %zu", CQL_HEADER_LEN,
				 in->len);
		d->ret = cql_header_decode(&d->hdr, (const unsigned char *)in->s,
					   &d->err);
	} else if (!strcmp(decoder, "result")) {
		d->ret = cql_result_parse(in->s, in->len, &d->r, &d->err);
	} else if (!strcmp(decoder, "error")) {
		d->ret = cql_error_parse(in->s, in->len, &d->code, &d->err);
	} else if (!strcmp(decoder, "frame")) {
		uint32_t n = (uint32_t)(in->len - (size_t)frame_at - CQL_HEADER_LEN);

		if (frame_at < 0)
			case_die(cf, "a frame case wants a 'frame' line");
		for (int k = 0; k < 4; k++)
			in->s[frame_at + 5 + k] = (char)(n >> (24 - 8 * k));
		d->split = cql_frame_split(in->s, in->len, &f, &used, NULL);
		d->ret = d->split == 1 ? cql_response_parse(&f, &d->r, &d->err)
				       : d->split;
	} else if (!strncmp(decoder, "cell ", 5)) {
		struct cql_cell c = { (const unsigned char *)in->s,
				      (int32_t)in->len };

		if (null_cell) {
			c.data = NULL;
			c.len = -1;
		}
		d->ret = cql_cell_text(&c, (int)case_num(cf, decoder + 5), &d->text);
	} else {
		case_die(cf, "unknown decoder '%s'", decoder);
	}
}

/* the cases of cql-frames.test, beside this file; returns how many ran */
static int run_case_file(const char *path)
{
	struct case_file cf = { path, 0 };
	struct buf line = BUF_INIT, in = BUF_INIT, title = BUF_INIT;
	struct buf decoder = BUF_INIT;
	struct decoded d = { 0, 0, 0, BUF_INIT, BUF_INIT, { 0 }, CQL_RESULT_INIT };
	FILE *fp = fopen(path, "r");
	char chunk[4096];
	enum { IDLE, BUILD, CHECK } state = IDLE;
	long frame_at = -1;
	int null_cell = 0, ncases = 0, eof = 0;

	if (!fp) {
		ok(0, "cannot read '%s': %s", path, strerror(errno));
		return 0;
	}
	while (!eof) {
		buf_reset(&line);
		while (fgets(chunk, sizeof(chunk), fp)) {
			buf_addstr(&line, chunk);
			if (line.len && line.s[line.len - 1] == '\n')
				break;
		}
		eof = !line.len;
		cf.line++;
		if (line.len && line.s[line.len - 1] == '\n')
			buf_setlen(&line, line.len - 1);
		if (line.s[0] == '#')
			continue;
		if (!line.len) {	/* a blank line or the end: a case ends */
			if (state == BUILD)
				case_die(&cf, "case '%s' has no '--' line", title.s);
			if (state == CHECK) {
				cql_result_release(&d.r);
				buf_reset(&d.err);
				buf_reset(&d.text);
				ncases++;
			}
			state = IDLE;
			continue;
		}
		if (state == IDLE) {
			char *colon = strstr(line.s, ": ");

			if (!colon)
				case_die(&cf, "want 'DECODER: title', got '%s'", line.s);
			buf_reset(&decoder);
			buf_add(&decoder, line.s, (size_t)(colon - line.s));
			buf_reset(&title);
			buf_addstr(&title, colon + 2);
			buf_reset(&in);
			frame_at = -1;
			null_cell = 0;
			state = BUILD;
		} else if (state == BUILD && !strcmp(line.s, "--")) {
			d.ret = d.split = d.code = 0;
			memset(&d.hdr, 0, sizeof(d.hdr));
			case_decode(&cf, decoder.s, &in, frame_at, null_cell, &d);
			state = CHECK;
		} else if (state == BUILD) {
			case_build(&cf, &in, line.s, &frame_at, &null_cell);
		} else {
			case_check(&cf, title.s, &d, line.s);
		}
	}
	fclose(fp);
	buf_release(&line);
	buf_release(&in);
	buf_release(&title);
	buf_release(&decoder);
	buf_release(&d.err);
	buf_release(&d.text);
	return ncases;
}

static void test_case_file(void)
{
	/* beside this source, as make runs the tests from the top */
	const char *slash = strrchr(__FILE__, '/');
	char *path = xstrfmt("%.*sdata/cql-frames.test",
			     slash ? (int)(slash - __FILE__ + 1) : 0, __FILE__);
	int n = run_case_file(path);

	ok(n > 0, "%d cases read from %s", n, path);
	free(path);
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
	t0 = clock_ms();
	ret = cql_query(c, "SELECT 1", &r, &err);
	is_int(ret, CQL_ETIMEOUT, "silent server times out");
	ok(clock_ms() - t0 < 2000, "within its timeout (%lld ms)",
	   (long long)(clock_ms() - t0));
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

/* ---- values, PREPARE results and request bodies ---- */

static void w64(struct buf *b, uint64_t v)
{
	w32(b, (uint32_t)(v >> 32));
	w32(b, (uint32_t)v);
}

/* a type option; collections take their element options after */
static void wtype(struct buf *b, const char *name, unsigned type)
{
	wstr(b, name);
	w16(b, type);
}

#define NBIND 23

/*
 * Prepared: id 0xdeadbeef; 23 bind markers, one of every type a value
 * can be bound to, partition key at index 0; no result metadata.
 */
static void prepared_body(struct buf *b, int with_result_metadata)
{
	w32(b, CQL_RESULT_PREPARED);
	w16(b, 4);
	buf_add(b, "\xde\xad\xbe\xef", 4);
	w32(b, CQL_ROWS_GLOBAL_TABLES_SPEC);
	w32(b, NBIND);
	w32(b, 1);
	w16(b, 0);
	wstr(b, "ks");
	wstr(b, "all");
	wtype(b, "id", CQL_TYPE_INT);
	wtype(b, "big", CQL_TYPE_BIGINT);
	wtype(b, "f", CQL_TYPE_FLOAT);
	wtype(b, "d", CQL_TYPE_DOUBLE);
	wtype(b, "bo", CQL_TYPE_BOOLEAN);
	wtype(b, "t", CQL_TYPE_VARCHAR);
	wtype(b, "a", CQL_TYPE_ASCII);
	wtype(b, "ts", CQL_TYPE_TIMESTAMP);
	wtype(b, "u", CQL_TYPE_UUID);
	wtype(b, "tu", CQL_TYPE_TIMEUUID);
	wtype(b, "bl", CQL_TYPE_BLOB);
	wtype(b, "ti", CQL_TYPE_TINYINT);
	wtype(b, "si", CQL_TYPE_SMALLINT);
	wtype(b, "vi", CQL_TYPE_VARINT);
	wtype(b, "dt", CQL_TYPE_DATE);
	wtype(b, "tm", CQL_TYPE_TIME);
	wtype(b, "ip", CQL_TYPE_INET);
	wtype(b, "li", CQL_TYPE_LIST); w16(b, CQL_TYPE_INT);
	wtype(b, "st", CQL_TYPE_SET); w16(b, CQL_TYPE_VARCHAR);
	wtype(b, "m", CQL_TYPE_MAP); w16(b, CQL_TYPE_VARCHAR);
	w16(b, CQL_TYPE_INT);
	wtype(b, "nest", CQL_TYPE_MAP); w16(b, CQL_TYPE_VARCHAR);
	w16(b, CQL_TYPE_LIST); w16(b, CQL_TYPE_INT);
	wtype(b, "ud", CQL_TYPE_UDT);
	wstr(b, "ks"); wstr(b, "addr"); w16(b, 1);
	wstr(b, "street"); w16(b, CQL_TYPE_VARCHAR);
	wtype(b, "tup", CQL_TYPE_TUPLE);
	w16(b, 2); w16(b, CQL_TYPE_INT); w16(b, CQL_TYPE_VARCHAR);
	if (!with_result_metadata) {
		w32(b, CQL_ROWS_NO_METADATA);
		w32(b, 0);
		return;
	}
	w32(b, CQL_ROWS_GLOBAL_TABLES_SPEC);
	w32(b, 1);
	wstr(b, "ks");
	wstr(b, "all");
	wtype(b, "big", CQL_TYPE_BIGINT);
}

/* the statement of prepared_body(); new, free with cql_prepared_free() */
static struct cql_prepared *all_types_statement(int with_result_metadata)
{
	struct buf body = BUF_INIT, err = BUF_INIT;
	struct cql_result r = CQL_RESULT_INIT;
	struct cql_prepared *st;

	prepared_body(&body, with_result_metadata);
	if (cql_result_parse(body.s, body.len, &r, &err))
		die("prepared body: %s", err.s);
	st = cql_prepared_from_result(&r, "INSERT INTO ks.all ...");
	buf_release(&body);
	buf_release(&err);
	return st;
}

static void test_prepared_parse(void)
{
	struct buf body = BUF_INIT, err = BUF_INIT;
	struct cql_result r = CQL_RESULT_INIT;
	struct cql_prepared *st;
	size_t n, refused = 0;

	prepared_body(&body, 1);
	is_int(cql_result_parse(body.s, body.len, &r, &err), 0,
	       "Prepared result parses");
	if (err.len)
		printf("# %s\n", err.s);
	is_int(r.kind, CQL_RESULT_PREPARED, "kind Prepared");
	ok(r.prepared_id.len == 4 &&
	   !memcmp(r.prepared_id.s, "\xde\xad\xbe\xef", 4), "prepared id");
	is_int(r.nbind, NBIND, "23 bind markers");
	is_int(r.npk, 1, "one partition key bind marker");
	is_int(r.pk_index[0], 0, "at index 0");
	is_str(r.bind[0].table, "all", "bind markers get the global table");
	is_str(r.bind[20].type_name, "map<varchar, list<int>>",
	       "nested bind type spelled");
	is_int(r.bind[20].ntree, 4, "and its whole shape kept");
	ok(r.bind[20].tree[0] == CQL_TYPE_MAP &&
	   r.bind[20].tree[1] == CQL_TYPE_VARCHAR &&
	   r.bind[20].tree[2] == CQL_TYPE_LIST &&
	   r.bind[20].tree[3] == CQL_TYPE_INT, "in prefix order");
	is_str(r.bind[22].name, "tup", "no desync after the udt options");
	is_int(r.bind[21].ntree, 1, "a udt is one leaf");
	is_int(r.ncols, 1, "result metadata: one column");
	is_str(r.cols[0].name, "big", "result column name");
	cql_result_release(&r);
	ok(!r.bind && !r.pk_index && !r.prepared_id.len,
	   "release frees the bind metadata");

	for (n = 0; n < body.len; n++) {
		if (cql_result_parse(body.s, n, &r, NULL) == CQL_EPROTO &&
		    !r.bind && !r.nbind && !r.pk_index && !r.raw)
			refused++;
		cql_result_release(&r);
	}
	is_int(refused, body.len,
	       "every truncation of a Prepared body is refused and cleaned up");

	st = all_types_statement(1);
	ok(st->id.len == 4 && st->nbind == NBIND && st->npk == 1 &&
	   st->nres == 1 && !strcmp(st->query, "INSERT INTO ks.all ..."),
	   "cql_prepared_from_result takes id, metadata and text");
	cql_prepared_free(st);
	st = all_types_statement(0);
	is_int(st->nres, 0, "no result metadata: nres 0");
	cql_prepared_free(st);

	buf_release(&body);
	buf_release(&err);
}

/* [value] with `n` bytes */
static void wval(struct buf *b, const void *p, int32_t n)
{
	wbytes(b, p, n);
}

static void test_values(void)
{
	struct cql_prepared *st = all_types_statement(0);
	struct cql_value v[NBIND], li[2], set[1], m[2], inner[1], nest[2];
	struct buf got = BUF_INIT, want = BUF_INIT, err = BUF_INIT, e = BUF_INIT;
	struct cql_cell cell;
	size_t at;
	int i;

	v[0] = cql_int(42);
	v[1] = cql_int(INT64_C(-9000000000));
	v[2] = cql_real(1.5);
	v[3] = cql_real(0.1);
	v[4] = cql_bool(1);
	v[5] = cql_text("h\xc3\xa9llo");
	v[6] = cql_text("abc");
	v[7] = cql_timestamp(INT64_C(1706702400123));
	v[8] = cql_uuid(uuid_bytes);
	v[9] = cql_uuid(uuid_bytes);		/* version 1 */
	v[10] = cql_blob("\x01\x02\x03", 3);
	v[11] = cql_int(-128);
	v[12] = cql_int(-2);
	v[13] = cql_int(128);
	v[14] = cql_int(0);
	v[15] = cql_int(1);
	v[16] = cql_text("127.0.0.1");
	li[0] = cql_int(1);
	li[1] = cql_int(2);
	v[17] = cql_list(li, 2);
	set[0] = cql_text("a");
	v[18] = cql_set(set, 1);
	m[0] = cql_text("x");
	m[1] = cql_int(-1);
	v[19] = cql_map(m, 1);
	inner[0] = cql_int(7);
	nest[0] = cql_text("k");
	nest[1] = cql_list(inner, 1);
	v[20] = cql_map(nest, 1);
	v[21] = cql_raw("\0\0\0\1a", 5);
	v[22] = cql_null();

	w16(&want, NBIND);
	wval(&want, "\0\0\0\x2a", 4);
	wval(&want, "\xff\xff\xff\xfd\xe7\x8e\xe6\x00", 8);
	wval(&want, "\x3f\xc0\0\0", 4);
	wval(&want, "\x3f\xb9\x99\x99\x99\x99\x99\x9a", 8);
	wval(&want, "\1", 1);
	wval(&want, "h\xc3\xa9llo", 6);
	wval(&want, "abc", 3);
	wval(&want, "\x00\x00\x01\x8d\x5f\x63\xea\x7b", 8);
	wval(&want, uuid_bytes, 16);
	wval(&want, uuid_bytes, 16);
	wval(&want, "\x01\x02\x03", 3);
	wval(&want, "\x80", 1);
	wval(&want, "\xff\xfe", 2);
	wval(&want, "\x00\x80", 2);
	wval(&want, "\x80\0\0\0", 4);
	wval(&want, "\0\0\0\0\0\0\0\1", 8);
	wval(&want, "\x7f\0\0\1", 4);
	w32(&want, 20); w32(&want, 2);
	wval(&want, "\0\0\0\1", 4); wval(&want, "\0\0\0\2", 4);
	w32(&want, 9); w32(&want, 1); wval(&want, "a", 1);
	w32(&want, 17); w32(&want, 1); wval(&want, "x", 1);
	wval(&want, "\xff\xff\xff\xff", 4);
	w32(&want, 25); w32(&want, 1); wval(&want, "k", 1);
	w32(&want, 12); w32(&want, 1); wval(&want, "\0\0\0\7", 4);
	wval(&want, "\0\0\0\1a", 5);
	wnull(&want);

	is_int(cql_values_encode(&got, st->bind, st->nbind, v, NBIND, &err), 0,
	       "23 values of every type encode");
	if (err.len)
		printf("# %s\n", err.s);
	is_int(got.len, want.len, "encoded length");
	ok(got.len == want.len && !memcmp(got.s, want.s, want.len),
	   "encoded bytes match the spec, byte for byte");
	for (i = 0; i < (int)got.len && i < (int)want.len; i++)
		if (got.s[i] != want.s[i]) {
			printf("# first difference at byte %d\n", i);
			break;
		}

	/* a collection cell reads back through its column's type */
	{
		static const int cols[] = { 17, 18, 19, 20 };
		static const char *const texts[] = {
			"[1, 2]", "{'a'}", "{'x': -1}", "{'k': [7]}",
		};
		struct buf one = BUF_INIT, txt = BUF_INIT;

		for (i = 0; i < 4; i++) {
			buf_reset(&one);
			buf_reset(&txt);
			cql_value_encode(&one, &st->bind[cols[i]], &v[cols[i]],
					 NULL);
			cell.data = (const unsigned char *)one.s + 4;
			cell.len = (int32_t)one.len - 4;
			cql_column_text(&st->bind[cols[i]], &cell, &txt);
			is_str(txt.s, texts[i], "%s reads back as %s",
			       st->bind[cols[i]].type_name, texts[i]);
		}
		set[0] = cql_text("it's");
		buf_reset(&one);
		buf_reset(&txt);
		cql_value_encode(&one, &st->bind[18], &v[18], NULL);
		cell.data = (const unsigned char *)one.s + 4;
		cell.len = (int32_t)one.len - 4;
		cql_column_text(&st->bind[18], &cell, &txt);
		is_str(txt.s, "{'it''s'}", "quotes doubled inside collections");
		buf_addstr(&txt, "|");
		cell.len -= 2;
		is_int(cql_column_text(&st->bind[18], &cell, &txt), -1,
		       "a cut collection is refused");
		is_str(txt.s, "{'it''s'}|", "and appends nothing");
		set[0] = cql_text("a");
		buf_release(&one);
		buf_release(&txt);
	}

	/* varint, unset */
	{
		static const struct { int64_t v; const char *b; int n; } vi[] = {
			{ 0, "\x00", 1 }, { 127, "\x7f", 1 }, { 128, "\x00\x80", 2 },
			{ -1, "\xff", 1 }, { -128, "\x80", 1 },
			{ -129, "\xff\x7f", 2 },
			{ INT64_MIN, "\x80\0\0\0\0\0\0\0", 8 },
		};
		struct cql_value x;
		size_t k;
		int good = 0;

		for (k = 0; k < ARRAY_SIZE(vi); k++) {
			buf_reset(&got);
			x = cql_int(vi[k].v);
			cql_value_encode(&got, &st->bind[13], &x, NULL);
			if (got.len == 4 + (size_t)vi[k].n &&
			    !memcmp(got.s + 4, vi[k].b, (size_t)vi[k].n))
				good++;
			else
				printf("# varint %lld wrong\n", (long long)vi[k].v);
		}
		is_int(good, ARRAY_SIZE(vi), "varints use the fewest bytes");
		buf_reset(&got);
		x = cql_unset();
		cql_value_encode(&got, &st->bind[0], &x, NULL);
		ok(got.len == 4 && !memcmp(got.s, "\xff\xff\xff\xfe", 4),
		   "unset is length -2");
	}

	/* refusals: the message names the marker, `out` is left as it was */
	{
		static const struct {
			int col;
			struct cql_value v;
			const char *msg;
		} bad[] = {
			{ 0, { .kind = CQL_V_TEXT, .u.s = { "1", 1 } },
			  "cannot bind to 'id' (int): got text, want int" },
			{ 0, { .kind = CQL_V_INT, .u.i = INT64_C(2147483648) },
			  "2147483648 is out of range for int" },
			{ 11, { .kind = CQL_V_INT, .u.i = 200 },
			  "200 is out of range for tinyint" },
			{ 6, { .kind = CQL_V_TEXT, .u.s = { "h\xc3\xa9", 3 } },
			  "byte 1 is not ASCII" },
			{ 9, { .kind = CQL_V_UUID },
			  "a version 0 uuid is not a timeuuid" },
			{ 16, { .kind = CQL_V_TEXT, .u.s = { "nope", 4 } },
			  "'nope' is not an IP address" },
			{ 15, { .kind = CQL_V_INT, .u.i = -1 },
			  "-1 ns is not a time of day" },
			{ 19, { .kind = CQL_V_LIST },
			  "(map<varchar, int>): got list, want map" },
			{ 21, { .kind = CQL_V_INT, .u.i = 1 },
			  "only cql_raw() values bind to this type" },
			{ 4, { .kind = CQL_V_INT, .u.i = 1 },
			  "got integer, want boolean" },
		};
		size_t k;

		for (k = 0; k < ARRAY_SIZE(bad); k++) {
			buf_reset(&got);
			buf_addstr(&got, "keep");
			buf_reset(&e);
			is_int(cql_value_encode(&got, &st->bind[bad[k].col],
						&bad[k].v, &e), CQL_EVALUE,
			       "refused: %s", e.s);
			ok(strstr(e.s, bad[k].msg) && got.len == 4,
			   "message has '%s', nothing appended", bad[k].msg);
		}
		li[1] = cql_null();
		buf_reset(&e);
		at = got.len;
		is_int(cql_value_encode(&got, &st->bind[17], &v[17], &e),
		       CQL_EVALUE, "null inside a list refused: %s", e.s);
		ok(strstr(e.s, "a null element inside a collection") &&
		   got.len == at, "says so, appends nothing");
		li[1] = cql_int(2);
		li[0] = cql_text("one");
		buf_reset(&e);
		cql_value_encode(&got, &st->bind[17], &v[17], &e);
		ok(strstr(e.s, "'li' (list<int>): got text, want int"),
		   "a wrong element type names the column: %s", e.s);
		li[0] = cql_int(1);
	}

	buf_reset(&e);
	buf_reset(&got);
	is_int(cql_values_encode(&got, st->bind, st->nbind, v, NBIND - 1, &e),
	       CQL_EVALUE, "22 values for 23 markers refused");
	is_str(e.s, "cannot bind 22 values: the statement has 23 bind markers",
	       "count message");
	ok(got.len == 0, "nothing appended");
	v[5] = cql_int(5);
	buf_reset(&e);
	cql_values_encode(&got, st->bind, st->nbind, v, NBIND, &e);
	is_str(e.s, "cannot bind value 6 to 't' (varchar): got integer, "
	       "want varchar", "which value, which marker, which types");
	ok(got.len == 0, "a bad value in the middle appends nothing");

	cql_prepared_free(st);
	buf_release(&got);
	buf_release(&want);
	buf_release(&err);
	buf_release(&e);
}

/* Prepared id 0x0102, markers (k int, v varchar); result: one int column */
static struct cql_prepared *kv_statement(int with_result)
{
	struct buf b = BUF_INIT;
	struct cql_result r = CQL_RESULT_INIT;
	struct cql_prepared *st;

	w32(&b, CQL_RESULT_PREPARED);
	w16(&b, 2);
	buf_add(&b, "\x01\x02", 2);
	w32(&b, CQL_ROWS_GLOBAL_TABLES_SPEC);
	w32(&b, 2);
	w32(&b, 1);
	w16(&b, 0);
	wstr(&b, "ks");
	wstr(&b, "kv");
	wtype(&b, "k", CQL_TYPE_INT);
	wtype(&b, "v", CQL_TYPE_VARCHAR);
	if (with_result) {
		w32(&b, CQL_ROWS_GLOBAL_TABLES_SPEC);
		w32(&b, 1);
		wstr(&b, "ks");
		wstr(&b, "kv");
		wtype(&b, "k", CQL_TYPE_INT);
	} else {
		w32(&b, CQL_ROWS_NO_METADATA);
		w32(&b, 0);
	}
	if (cql_result_parse(b.s, b.len, &r, NULL))
		die("kv statement does not parse");
	st = cql_prepared_from_result(&r, "INSERT INTO ks.kv (k, v) VALUES (?, ?)");
	buf_release(&b);
	return st;
}

static void test_request_bodies(void)
{
	struct cql_prepared *st = kv_statement(1), *nov = kv_statement(0);
	struct cql_params p = CQL_PARAMS_INIT;
	struct cql_batch b = CQL_BATCH_INIT(CQL_BATCH_LOGGED);
	struct buf got = BUF_INIT, want = BUF_INIT, err = BUF_INIT;
	struct cql_value v[2] = { cql_int(7), cql_text("seven") };

	/* EXECUTE with every parameter */
	p.consistency = CQL_QUORUM;
	p.page_size = 100;
	p.paging_state = "\x01\x02";
	p.paging_state_len = 2;
	p.serial_consistency = CQL_LOCAL_SERIAL;
	p.timestamp = 1234567;
	is_int(cql_execute_encode(&got, st, v, 2, &p, &err), 0,
	       "EXECUTE body encodes");
	w16(&want, 2); buf_add(&want, "\x01\x02", 2);
	w16(&want, CQL_QUORUM);
	buf_addch(&want, 0x3f);	/* values, skip metadata, page size, state,
				   serial, timestamp */
	w16(&want, 2);
	wval(&want, "\0\0\0\7", 4);
	wval(&want, "seven", 5);
	w32(&want, 100);
	wbytes(&want, "\x01\x02", 2);
	w16(&want, CQL_LOCAL_SERIAL);
	w64(&want, 1234567);
	ok(got.len == want.len && !memcmp(got.s, want.s, want.len),
	   "EXECUTE body bytes: id, consistency, flags 0x3f, values, page "
	   "size, paging state, serial consistency, timestamp");

	/* and as a frame */
	buf_reset(&want);
	cql_frame_encode(&want, 300, CQL_OP_EXECUTE, got.s, got.len);
	ok(!memcmp(want.s, "\x04\x00\x01\x2c\x0a\x00\x00\x00", 8) &&
	   (unsigned char)want.s[8] == got.len &&
	   !memcmp(want.s + 9, got.s, got.len), "EXECUTE frame header");

	/* no result metadata: no skip; default parameters */
	buf_reset(&got);
	buf_reset(&want);
	is_int(cql_execute_encode(&got, nov, v, 2, NULL, &err), 0,
	       "EXECUTE with default parameters");
	w16(&want, 2); buf_add(&want, "\x01\x02", 2);
	w16(&want, CQL_ONE);
	buf_addch(&want, 0x01);
	w16(&want, 2);
	wval(&want, "\0\0\0\7", 4);
	wval(&want, "seven", 5);
	ok(got.len == want.len && !memcmp(got.s, want.s, want.len),
	   "EXECUTE body bytes: ONE, flags 0x01 (values only)");
	buf_reset(&got);
	is_int(cql_execute_encode(&got, nov, v, 1, NULL, &err), CQL_EVALUE,
	       "EXECUTE with a value missing refused");
	is_int(got.len, 0, "nothing appended");

	/* QUERY */
	buf_reset(&got);
	buf_reset(&want);
	p = (struct cql_params)CQL_PARAMS_INIT;
	p.consistency = CQL_LOCAL_ONE;
	p.page_size = 50;
	cql_query_encode(&got, "SELECT 1", &p);
	w32(&want, 8); buf_addstr(&want, "SELECT 1");
	w16(&want, CQL_LOCAL_ONE);
	buf_addch(&want, 0x04);
	w32(&want, 50);
	ok(got.len == want.len && !memcmp(got.s, want.s, want.len),
	   "QUERY body bytes: LOCAL_ONE, page size 50");

	/* BATCH: a prepared statement, a text statement */
	buf_reset(&got);
	buf_reset(&want);
	is_int(cql_batch_add(&b, st, v, 2, &err), 0, "batch add prepared");
	cql_batch_add_query(&b, "DELETE FROM ks.kv WHERE k = 1");
	is_int(cql_batch_add(&b, st, v, 1, &err), CQL_EVALUE,
	       "batch add with a value missing refused");
	is_int(b.n, 2, "two statements");
	is_int(b.nstmts, 1, "one distinct prepared statement");
	p = (struct cql_params)CQL_PARAMS_INIT;
	p.consistency = CQL_LOCAL_QUORUM;
	p.timestamp = 99;
	cql_batch_encode(&got, &b, &p);
	buf_addch(&want, CQL_BATCH_LOGGED);
	w16(&want, 2);
	buf_addch(&want, 1);
	w16(&want, 2); buf_add(&want, "\x01\x02", 2);
	w16(&want, 2);
	wval(&want, "\0\0\0\7", 4);
	wval(&want, "seven", 5);
	buf_addch(&want, 0);
	w32(&want, 29); buf_addstr(&want, "DELETE FROM ks.kv WHERE k = 1");
	w16(&want, 0);
	w16(&want, CQL_LOCAL_QUORUM);
	buf_addch(&want, 0x20);
	w64(&want, 99);
	ok(got.len == want.len && !memcmp(got.s, want.s, want.len),
	   "BATCH body bytes: type, count, kind 1 + id + values, kind 0 + "
	   "text, consistency, flags, timestamp");
	cql_batch_release(&b);
	is_int(b.n, 0, "batch released");
	is_int(b.type, CQL_BATCH_LOGGED, "keeps its type");

	buf_reset(&got);
	cql_prepare_encode(&got, "SELECT 1");
	ok(got.len == 12 && !memcmp(got.s, "\0\0\0\x08SELECT 1", 12),
	   "PREPARE body is a long string");

	cql_prepared_free(st);
	cql_prepared_free(nov);
	buf_release(&got);
	buf_release(&want);
	buf_release(&err);
}

static void test_error_names(void)
{
	is_str(cql_error_name(CQL_ERR_WRITE_TIMEOUT), "Write_timeout",
	       "Write_timeout named");
	is_str(cql_error_name(CQL_ERR_IS_BOOTSTRAPPING), "Is_bootstrapping",
	       "Is_bootstrapping named");
	ok(cql_error_retryable(CQL_ERR_UNAVAILABLE) &&
	   cql_error_retryable(CQL_ERR_OVERLOADED) &&
	   cql_error_retryable(CQL_ERR_IS_BOOTSTRAPPING) &&
	   cql_error_retryable(CQL_ERR_WRITE_TIMEOUT) &&
	   cql_error_retryable(CQL_ERR_READ_TIMEOUT),
	   "transient errors are retryable");
	ok(!cql_error_retryable(CQL_ERR_SYNTAX) &&
	   !cql_error_retryable(CQL_ERR_INVALID) &&
	   !cql_error_retryable(CQL_ERR_UNPREPARED) &&
	   !cql_error_retryable(CQL_ERR_WRITE_FAILURE) &&
	   !cql_error_retryable(CQL_ERR_SERVER),
	   "the others are not");
	is_str(cql_consistency_name(CQL_LOCAL_ONE), "LOCAL_ONE",
	       "consistency name");
	is_int(cql_consistency_parse("quorum"), CQL_QUORUM,
	       "consistency parsed, any case");
	is_int(cql_consistency_parse("most"), -1, "unknown consistency");
}

static void test_cell_helpers(void)
{
	struct cql_cell c;
	unsigned char u[16];
	int64_t v = 0;

	c.data = (const unsigned char *)"\xff\xfe";
	c.len = 2;
	ok(!cql_cell_int(&c, &v) && v == -2, "smallint cell as int64");
	c.data = (const unsigned char *)"\0\0\0\0\0\0\x27\x10";
	c.len = 8;
	ok(!cql_cell_int(&c, &v) && v == 10000, "bigint cell as int64");
	c.len = 3;
	is_int(cql_cell_int(&c, &v), -1, "3 bytes are no integer");
	c.data = NULL;
	c.len = -1;
	is_int(cql_cell_int(&c, &v), -1, "null is no integer");
	ok(!cql_uuid_parse("123e4567-e89b-12d3-a456-426614174000", u) &&
	   !memcmp(u, uuid_bytes, 16), "uuid parsed");
	is_int(cql_uuid_parse("123e4567e89b-12d3-a456-426614174000", u), -1,
	       "uuid without its dash refused");
	is_int(cql_uuid_parse("123e4567-e89b-12d3-a456-4266141740001", u), -1,
	       "uuid with a digit too many refused");
}

/* ---- many requests on one connection, against fake peers ---- */

static void send_frame(int fd, int flags, int stream, int opcode,
		       const struct buf *body)
{
	struct buf out = BUF_INIT;

	wframe(&out, flags, stream, opcode, body);
	if (write(fd, out.s, out.len) != (ssize_t)out.len)
		_exit(3);
	buf_release(&out);
}

static void peer_startup(int fd)
{
	struct buf req = BUF_INIT, body = BUF_INIT;
	int op, stream = read_request(fd, &op, &req);

	if (stream < 0 || op != CQL_OP_STARTUP)
		_exit(2);
	send_frame(fd, 0, stream, CQL_OP_READY, &body);
	buf_release(&req);
}

static pid_t start_peer(void (*fn)(int fd), int *client_fd)
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
		peer_startup(sv[1]);
		fn(sv[1]);
		_exit(0);
	}
	close(sv[1]);
	*client_fd = sv[0];
	return pid;
}

static int peer_status(pid_t pid)
{
	int status = -1;

	waitpid(pid, &status, 0);
	return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

/* a Rows body with one varchar cell */
static void one_cell_rows(struct buf *b, const char *text)
{
	w32(b, CQL_RESULT_ROWS);
	w32(b, CQL_ROWS_GLOBAL_TABLES_SPEC);
	w32(b, 1);
	wstr(b, "ks");
	wstr(b, "t");
	wtype(b, "c", CQL_TYPE_VARCHAR);
	w32(b, 1);
	wbytes(b, text, (int32_t)strlen(text));
}

#define NOOO 8

/* reads 8 QUERYs, answers them last first, after an event */
static void peer_reverse(int fd)
{
	struct buf req = BUF_INIT, body = BUF_INIT, out = BUF_INIT;
	int streams[NOOO], op, i;
	char q[NOOO][16];
	uint32_t n;

	for (i = 0; i < NOOO; i++) {
		streams[i] = read_request(fd, &op, &req);
		if (streams[i] < 0 || op != CQL_OP_QUERY)
			_exit(2);
		n = (uint32_t)(unsigned char)req.s[3];
		snprintf(q[i], sizeof(q[i]), "%.*s", (int)n, req.s + 4);
	}
	buf_reset(&body);
	wstr(&body, "SCHEMA_CHANGE");
	wstr(&body, "CREATED"); wstr(&body, "KEYSPACE"); wstr(&body, "x");
	wframe(&out, 0, 0xffff, CQL_OP_EVENT, &body);
	for (i = NOOO - 1; i >= 0; i--) {
		buf_reset(&body);
		one_cell_rows(&body, q[i]);
		wframe(&out, 0, streams[i], CQL_OP_RESULT, &body);
	}
	write_split(fd, &out, out.len / 2 + 3);
	read_request(fd, &op, &req);	/* until the client closes */
}

struct seen {
	int n, order[NOOO], matched, failed;
};

struct ooo_ctx {
	struct seen *s;
	int i;
};

static void ooo_cb(void *ctx, int status, struct cql_result *res,
		   const char *err)
{
	struct ooo_ctx *o = ctx;
	char want[16];

	(void)err;
	if (status || res->nrows != 1) {
		o->s->failed++;
		return;
	}
	snprintf(want, sizeof(want), "q%d", o->i);
	if ((size_t)cql_result_cell(res, 0, 0)->len == strlen(want) &&
	    !memcmp(cql_result_cell(res, 0, 0)->data, want, strlen(want)))
		o->s->matched++;
	o->s->order[o->s->n++] = o->i;
}

static void test_out_of_order(void)
{
	struct seen s = { 0, { 0 }, 0, 0 };
	struct ooo_ctx ctx[NOOO];
	struct buf err = BUF_INIT;
	struct cql_conn *c;
	char q[16];
	int fd, i, ret;
	pid_t pid = start_peer(peer_reverse, &fd);

	c = cql_conn_attach(fd, "fake", 2000);
	is_int(cql_startup(c, &err), 0, "STARTUP");
	for (i = 0; i < NOOO; i++) {
		ctx[i].s = &s;
		ctx[i].i = i;
		snprintf(q, sizeof(q), "q%d", i);
		ret = cql_submit_query(c, q, NULL, ooo_cb, &ctx[i], &err);
		if (ret)
			break;
	}
	is_int(cql_inflight(c), NOOO, "8 requests in flight at once");
	is_int(cql_drain(c, &err), 0, "drained");
	if (err.len)
		printf("# %s\n", err.s);
	is_int(s.n, NOOO, "8 answers");
	is_int(s.matched, NOOO, "each matched to its request by stream id");
	ok(s.order[0] == NOOO - 1 && s.order[NOOO - 1] == 0,
	   "in the order they came (last first), an event skipped");
	is_int(cql_inflight(c), 0, "nothing in flight after");
	cql_close(c);
	is_int(peer_status(pid), 0, "peer saw 8 well-formed QUERYs");
	buf_release(&err);
}

/* never more than 4 requests outstanding; answers each round in full */
static void peer_bounded(int fd)
{
	struct buf req = BUF_INIT, body = BUF_INIT, out = BUF_INIT;
	int streams[64], n, total = 0, op;
	struct pollfd p;

	w32(&body, CQL_RESULT_VOID);
	while (total < 20) {
		n = 0;
		for (;;) {
			p.fd = fd;
			p.events = POLLIN;
			if (poll(&p, 1, n ? 150 : 5000) <= 0)
				break;
			streams[n] = read_request(fd, &op, &req);
			if (streams[n] < 0)
				_exit(2);
			if (++n > 4)
				_exit(5);	/* the bound was not kept */
		}
		if (!n)
			_exit(6);
		total += n;
		buf_reset(&out);
		while (n--)
			wframe(&out, 0, streams[n], CQL_OP_RESULT, &body);
		if (write(fd, out.s, out.len) < 0)
			_exit(3);
	}
	read_request(fd, &op, &req);
}

struct tally {
	int ok, failed, ebusy, chained;
	struct cql_conn *c;
	struct buf first;
};

static void tally_done(void *ctx, int status, struct cql_result *res,
		       const char *err)
{
	struct tally *t = ctx;

	(void)res;
	if (status) {
		if (!t->failed++)
			buf_addstr(&t->first, err);
		return;
	}
	t->ok++;
}

static void test_bounded(void)
{
	struct tally t = { 0, 0, 0, 0, NULL, BUF_INIT };
	struct buf err = BUF_INIT;
	struct cql_conn *c;
	int fd, i, most = 0;
	pid_t pid = start_peer(peer_bounded, &fd);

	c = cql_conn_attach(fd, "fake", 5000);
	cql_startup(c, &err);
	cql_set_max_inflight(c, 4);
	for (i = 0; i < 20; i++) {
		if (cql_submit_query(c, "INSERT", NULL, tally_done, &t, &err))
			break;
		if (cql_inflight(c) > most)
			most = cql_inflight(c);
	}
	is_int(i, 20, "20 submitted to a connection limited to 4");
	is_int(cql_drain(c, &err), 0, "drained");
	is_int(t.ok, 20, "20 answered");
	is_int(most, 4, "never more than 4 in flight");
	cql_close(c);
	is_int(peer_status(pid), 0, "peer never saw more than 4 outstanding");
	buf_release(&err);
	buf_release(&t.first);
}

/* answers each request at once, in order */
static void peer_echo(int fd)
{
	struct buf req = BUF_INIT, body = BUF_INIT;
	int stream, op;

	w32(&body, CQL_RESULT_VOID);
	while ((stream = read_request(fd, &op, &req)) >= 0)
		send_frame(fd, 0, stream, CQL_OP_RESULT, &body);
}

static void chain_done(void *ctx, int status, struct cql_result *res,
		       const char *err)
{
	struct tally *t = ctx;
	struct buf e = BUF_INIT;

	tally_done(ctx, status, res, err);
	if (t->chained++)
		return;
	/* from a callback: one fits (its own stream was freed), not two */
	if (cql_submit_query(t->c, "C", NULL, tally_done, t, &e))
		t->failed++;
	if (cql_submit_query(t->c, "D", NULL, tally_done, t, &e) == CQL_EBUSY)
		t->ebusy++;
	buf_release(&e);
}

static void test_submit_from_callback(void)
{
	struct tally t = { 0, 0, 0, 0, NULL, BUF_INIT };
	struct buf err = BUF_INIT;
	int fd;
	pid_t pid = start_peer(peer_echo, &fd);

	t.c = cql_conn_attach(fd, "fake", 5000);
	cql_startup(t.c, &err);
	cql_set_max_inflight(t.c, 2);
	cql_submit_query(t.c, "A", NULL, chain_done, &t, &err);
	cql_submit_query(t.c, "B", NULL, tally_done, &t, &err);
	is_int(cql_drain(t.c, &err), 0, "drained");
	is_int(t.ok, 3, "A, B and C (sent from A's callback) answered");
	is_int(t.ebusy, 1, "D, beyond the limit inside a callback, is CQL_EBUSY");
	cql_close(t.c);
	peer_status(pid);
	buf_release(&err);
	buf_release(&t.first);
}

/* reads 5 requests, answers one, then hangs up on the other 4 */
static void peer_reset(int fd)
{
	struct buf req = BUF_INIT, body = BUF_INIT;
	int op, i, first = -1, s;

	for (i = 0; i < 5; i++) {
		s = read_request(fd, &op, &req);
		if (s < 0)
			_exit(2);
		if (first < 0)
			first = s;
	}
	w32(&body, CQL_RESULT_VOID);
	send_frame(fd, 0, first, CQL_OP_RESULT, &body);
	/* half a frame, then gone */
	if (write(fd, "\x84\x00\x00", 3) < 0)
		_exit(3);
	_exit(0);
}

static void test_reset_in_flight(void)
{
	struct tally t = { 0, 0, 0, 0, NULL, BUF_INIT };
	struct buf err = BUF_INIT;
	struct cql_conn *c;
	int fd, i, ret;
	pid_t pid = start_peer(peer_reset, &fd);

	c = cql_conn_attach(fd, "fake", 5000);
	cql_startup(c, &err);
	for (i = 0; i < 5; i++)
		cql_submit_query(c, "INSERT", NULL, tally_done, &t, &err);
	ret = cql_drain(c, &err);
	is_int(ret, CQL_EIO, "drain reports the lost connection");
	ok(strstr(err.s, "closed the connection") &&
	   strstr(err.s, "4 requests in flight failed"),
	   "says so: %s", err.s);
	is_int(t.ok, 1, "the answered request succeeded");
	is_int(t.failed, 4, "each of the 4 others failed, none hangs");
	ok(strstr(t.first.s, "cassandra at 'fake' closed the connection"),
	   "with a clear message: %s", t.first.s);
	is_int(cql_conn_broken(c), CQL_EIO, "the connection is broken");
	buf_reset(&err);
	is_int(cql_submit_query(c, "X", NULL, tally_done, &t, &err), CQL_EIO,
	       "a later submit fails at once");
	ok(strstr(err.s, "closed the connection"), "with the same reason");
	is_int(t.failed, 4, "and calls no callback");
	buf_reset(&err);
	is_int(cql_poll(c, 100, &err), CQL_EIO, "poll says broken too");
	cql_close(c);
	peer_status(pid);
	buf_release(&err);
	buf_release(&t.first);
}

/* answers the first request late, then checks the next used another id */
static void peer_late(int fd)
{
	struct buf req = BUF_INIT, body = BUF_INIT;
	struct timespec late = { 0, 400 * 1000 * 1000 };
	int op, a, b;

	a = read_request(fd, &op, &req);
	nanosleep(&late, NULL);
	w32(&body, CQL_RESULT_VOID);
	send_frame(fd, 0, a, CQL_OP_RESULT, &body);
	b = read_request(fd, &op, &req);
	if (b < 0 || b == a)
		_exit(7);	/* a timed-out request's id was reused */
	buf_reset(&body);
	one_cell_rows(&body, "fresh");
	send_frame(fd, 0, b, CQL_OP_RESULT, &body);
	read_request(fd, &op, &req);
}

static void test_late_answer(void)
{
	struct tally t = { 0, 0, 0, 0, NULL, BUF_INIT };
	struct cql_result r = CQL_RESULT_INIT;
	struct buf err = BUF_INIT;
	struct cql_conn *c;
	int fd, ret;
	pid_t pid = start_peer(peer_late, &fd);

	c = cql_conn_attach(fd, "fake", 5000);
	cql_startup(c, &err);
	cql_set_timeout(c, 150);
	cql_submit_query(c, "SLOW", NULL, tally_done, &t, &err);
	cql_drain(c, &err);
	is_int(t.failed, 1, "a request past its deadline completes");
	ok(strstr(t.first.s, "timed out after 150 ms"), "as timed out: %s",
	   t.first.s);
	cql_set_timeout(c, 5000);
	ret = cql_query(c, "NEXT", &r, &err);
	is_int(ret, 0, "the next request works");
	ok(r.nrows == 1 && r.cells[0].len == 5,
	   "and gets its own answer, not the late one");
	cql_result_release(&r);
	cql_close(c);
	is_int(peer_status(pid), 0, "the late request's stream was not reused "
	       "before its answer came");
	buf_release(&err);
	buf_release(&t.first);
}

/* reads everything, answers nothing */
static void peer_mute(int fd)
{
	struct buf req = BUF_INIT;
	int op;

	while (read_request(fd, &op, &req) >= 0)
		;
}

static void test_all_streams_timed_out(void)
{
	struct tally t = { 0, 0, 0, 0, NULL, BUF_INIT };
	struct buf err = BUF_INIT;
	struct cql_conn *c;
	int fd, ret;
	pid_t pid = start_peer(peer_mute, &fd);

	c = cql_conn_attach(fd, "fake", 5000);
	cql_startup(c, &err);
	cql_set_max_inflight(c, 2);
	cql_set_timeout(c, 100);
	cql_submit_query(c, "A", NULL, tally_done, &t, &err);
	cql_submit_query(c, "B", NULL, tally_done, &t, &err);
	is_int(cql_drain(c, &err), 0, "drain returns once both timed out");
	is_int(t.failed, 2, "both completed as timed out");
	is_int(cql_conn_broken(c), 0, "the connection still counts as up");
	ret = cql_submit_query(c, "C", NULL, tally_done, &t, &err);
	is_int(ret, CQL_ETIMEOUT, "with every stream waiting on a timed-out "
	       "request, the next submit fails");
	ok(strstr(err.s, "answered none of the last 2 requests"),
	   "says why: %s", err.s);
	is_int(cql_conn_broken(c), CQL_ETIMEOUT, "and the connection is "
	       "declared broken, so a loader reconnects");
	cql_close(c);
	kill(pid, SIGTERM);
	waitpid(pid, NULL, 0);
	buf_release(&err);
	buf_release(&t.first);
}

/* Prepared answer with `id` for the kv statement */
static void send_prepared(int fd, int stream, const char *id)
{
	struct buf body = BUF_INIT;

	w32(&body, CQL_RESULT_PREPARED);
	w16(&body, (unsigned)strlen(id));
	buf_addstr(&body, id);
	w32(&body, CQL_ROWS_GLOBAL_TABLES_SPEC);
	w32(&body, 2);
	w32(&body, 1);
	w16(&body, 0);
	wstr(&body, "ks");
	wstr(&body, "kv");
	wtype(&body, "k", CQL_TYPE_INT);
	wtype(&body, "v", CQL_TYPE_VARCHAR);
	w32(&body, CQL_ROWS_NO_METADATA);
	w32(&body, 0);
	send_frame(fd, 0, stream, CQL_OP_RESULT, &body);
	buf_release(&body);
}

static void send_unprepared(int fd, int stream, const char *id)
{
	struct buf body = BUF_INIT;

	w32(&body, CQL_ERR_UNPREPARED);
	wstr(&body, "Prepared query not found");
	w16(&body, (unsigned)strlen(id));
	buf_addstr(&body, id);
	send_frame(fd, 0, stream, CQL_OP_ERROR, &body);
	buf_release(&body);
}

/* has `id` as a [short bytes] somewhere */
static int has_id(const struct buf *b, const char *id)
{
	size_t n = strlen(id), i;

	for (i = 0; i + 2 + n <= b->len; i++)
		if (!b->s[i] && (size_t)(unsigned char)b->s[i + 1] == n &&
		    !memcmp(b->s + i + 2, id, n))
			return 1;
	return 0;
}

static void peer_reprepare(int fd)
{
	struct buf req = BUF_INIT, body = BUF_INIT, first = BUF_INIT;
	int s, op;

	/* PREPARE: id AAAA */
	s = read_request(fd, &op, &req);
	if (op != CQL_OP_PREPARE)
		_exit(2);
	send_prepared(fd, s, "AAAA");
	/* EXECUTE AAAA: forgotten; PREPARE again: now BBBB */
	s = read_request(fd, &op, &req);
	if (op != CQL_OP_EXECUTE || !has_id(&req, "AAAA"))
		_exit(10);
	buf_add(&first, req.s + 6, req.len - 6);
	send_unprepared(fd, s, "AAAA");
	s = read_request(fd, &op, &req);
	if (op != CQL_OP_PREPARE)
		_exit(11);
	send_prepared(fd, s, "BBBB");
	/* the same EXECUTE again, under the new id */
	s = read_request(fd, &op, &req);
	if (op != CQL_OP_EXECUTE || !has_id(&req, "BBBB") ||
	    req.len - 6 != first.len || memcmp(req.s + 6, first.s, first.len))
		_exit(12);
	w32(&body, CQL_RESULT_VOID);
	send_frame(fd, 0, s, CQL_OP_RESULT, &body);

	/* a BATCH naming BBBB: forgotten, prepared again as CCCC */
	s = read_request(fd, &op, &req);
	if (op != CQL_OP_BATCH || !has_id(&req, "BBBB"))
		_exit(13);
	send_unprepared(fd, s, "BBBB");
	s = read_request(fd, &op, &req);
	if (op != CQL_OP_PREPARE)
		_exit(14);
	send_prepared(fd, s, "CCCC");
	s = read_request(fd, &op, &req);
	if (op != CQL_OP_BATCH || !has_id(&req, "CCCC") || has_id(&req, "BBBB"))
		_exit(15);
	send_frame(fd, 0, s, CQL_OP_RESULT, &body);

	/* forgotten twice: the client gives up after one re-PREPARE */
	s = read_request(fd, &op, &req);
	send_unprepared(fd, s, "CCCC");
	s = read_request(fd, &op, &req);
	if (op != CQL_OP_PREPARE)
		_exit(16);
	send_prepared(fd, s, "CCCC");
	s = read_request(fd, &op, &req);
	if (op != CQL_OP_EXECUTE)
		_exit(17);
	send_unprepared(fd, s, "CCCC");
	read_request(fd, &op, &req);
}

static void test_reprepare(void)
{
	struct cql_result r = CQL_RESULT_INIT;
	struct cql_batch b = CQL_BATCH_INIT(CQL_BATCH_UNLOGGED);
	struct buf err = BUF_INIT;
	struct cql_prepared *st = NULL;
	struct cql_value v[2] = { cql_int(1), cql_text("one") };
	struct cql_conn *c;
	int fd, ret;
	pid_t pid = start_peer(peer_reprepare, &fd);

	c = cql_conn_attach(fd, "fake", 5000);
	cql_startup(c, &err);
	ret = cql_prepare(c, "INSERT INTO ks.kv (k, v) VALUES (?, ?)", &st,
			  &err);
	is_int(ret, 0, "PREPARE answered");
	if (ret) {
		printf("# %s\n", err.s);
		cql_close(c);
		peer_status(pid);
		return;
	}
	ok(st->nbind == 2 && !strcmp(st->bind[1].name, "v"),
	   "statement with 2 bind markers");
	ret = cql_execute(c, st, v, 2, NULL, &r, &err);
	is_int(ret, 0, "EXECUTE after Unprepared: prepared again, sent again");
	if (ret)
		printf("# %s\n", err.s);
	ok(st->id.len == 4 && !memcmp(st->id.s, "BBBB", 4),
	   "the statement took the new id");
	cql_batch_add(&b, st, v, 2, NULL);
	ret = cql_batch_execute(c, &b, NULL, &r, &err);
	is_int(ret, 0, "BATCH after Unprepared: its id replaced, sent again");
	ok(!memcmp(st->id.s, "CCCC", 4), "the statement took the new id");
	buf_reset(&err);
	ret = cql_execute(c, st, v, 2, NULL, &r, &err);
	is_int(ret, CQL_ESERVER, "Unprepared twice: given up after one retry");
	is_int(r.error_code, CQL_ERR_UNPREPARED, "with the server's error");
	ok(strstr(err.s, "(Unprepared)"), "message: %s", err.s);
	cql_result_release(&r);
	cql_batch_release(&b);
	cql_prepared_free(st);
	cql_close(c);
	is_int(peer_status(pid), 0, "peer saw the same values under the new ids");
	buf_release(&err);
}

/* answers EXECUTE with rows sent without metadata */
static void peer_skip_metadata(int fd)
{
	struct buf req = BUF_INIT, body = BUF_INIT;
	int s, op;

	s = read_request(fd, &op, &req);
	if (op != CQL_OP_EXECUTE || !(req.s[6] & 0x02))
		_exit(8);	/* skip_metadata not asked for */
	w32(&body, CQL_RESULT_ROWS);
	w32(&body, CQL_ROWS_NO_METADATA);
	w32(&body, 1);
	w32(&body, 1);
	wbytes(&body, "\0\0\0\x09", 4);
	send_frame(fd, 0, s, CQL_OP_RESULT, &body);
	read_request(fd, &op, &req);
}

static void test_skip_metadata(void)
{
	struct cql_prepared *st = kv_statement(1);
	struct cql_result r = CQL_RESULT_INIT;
	struct buf err = BUF_INIT, txt = BUF_INIT;
	struct cql_value v[2] = { cql_int(9), cql_text("x") };
	struct cql_conn *c;
	int fd;
	pid_t pid = start_peer(peer_skip_metadata, &fd);

	c = cql_conn_attach(fd, "fake", 5000);
	cql_startup(c, &err);
	is_int(cql_execute(c, st, v, 2, NULL, &r, &err), 0,
	       "EXECUTE with skip_metadata");
	ok(r.ncols == 1 && !strcmp(r.cols[0].name, "k") &&
	   r.cols[0].type == CQL_TYPE_INT, "rows get the statement's columns");
	if (r.nrows == 1)
		cql_column_text(&r.cols[0], cql_result_cell(&r, 0, 0), &txt);
	is_str(txt.s, "9", "and decode by them");
	cql_result_release(&r);
	cql_close(c);
	is_int(peer_status(pid), 0, "the request asked to skip the metadata");
	cql_prepared_free(st);
	buf_release(&err);
	buf_release(&txt);
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
	t0 = clock_ms();
	is_int(cql_probe("127.0.0.1", port, 300, NULL, &err), CQL_ETIMEOUT,
	       "probe of a listener that never answers times out");
	ok(clock_ms() - t0 < 2000, "probe bounded by its timeout");
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
	test_malformed();
	test_case_file();
	test_name_lookups();
	test_prepared_parse();
	test_values();
	test_request_bodies();
	test_error_names();
	test_cell_helpers();
	test_conn();
	test_out_of_order();
	test_bounded();
	test_submit_from_callback();
	test_reset_in_flight();
	test_late_answer();
	test_all_streams_timed_out();
	test_reprepare();
	test_skip_metadata();
	test_tcp();
	return tap_done();
}
