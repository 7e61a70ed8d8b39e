/*
 * cql: CQL native protocol v4 framing, response decoding and a connection
 * whose every connect, write and read is bounded by a deadline.
 */
#include "clients/cql.h"
#include "util/xalloc.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <math.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

/* Caps on what one response can make us allocate or recurse into. */
#define CQL_COLUMNS_MAX		65536
#define CQL_TYPE_DEPTH_MAX	32
#define CQL_READ_CHUNK		65536

struct cql_conn {
	int fd;
	int timeout_ms;
	int16_t next_stream;	/* 0..32767; negative ids are the server's */
	char *peer;		/* "host:port", for messages */
	struct buf rbuf;	/* bytes read but not yet consumed as frames */
};

/* One public call's time budget: an absolute deadline and its size. */
struct op {
	int64_t deadline;
	int budget_ms;
};

/* ---- byte order ---- */

static uint16_t get_be16(const unsigned char *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

static uint32_t get_be32(const unsigned char *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 |
	       (uint32_t)p[2] << 8 | (uint32_t)p[3];
}

static uint64_t get_be64(const unsigned char *p)
{
	return (uint64_t)get_be32(p) << 32 | get_be32(p + 4);
}

static void put_be16(unsigned char *p, uint16_t v)
{
	p[0] = (unsigned char)(v >> 8);
	p[1] = (unsigned char)v;
}

static void put_be32(unsigned char *p, uint32_t v)
{
	p[0] = (unsigned char)(v >> 24);
	p[1] = (unsigned char)(v >> 16);
	p[2] = (unsigned char)(v >> 8);
	p[3] = (unsigned char)v;
}

static void add_be16(struct buf *b, uint16_t v)
{
	unsigned char p[2];

	put_be16(p, v);
	buf_add(b, p, 2);
}

static void add_be32(struct buf *b, uint32_t v)
{
	unsigned char p[4];

	put_be32(p, v);
	buf_add(b, p, 4);
}

/* [string]: a short length then bytes */
static void add_string(struct buf *b, const char *s)
{
	size_t n = strlen(s);

	if (n > 0xffff)
		BUG("cql [string] longer than 65535 bytes");
	add_be16(b, (uint16_t)n);
	buf_add(b, s, n);
}

/* ---- a bounds-checked reader over a response body ---- */

/*
 * Every read checks the bytes left. The first failure is remembered with
 * its offset and moves `p` to the end, so the reads after it fail too and
 * the caller checks once, at the end, instead of after every field.
 */
struct rd {
	const unsigned char *start, *p, *end;
	size_t fail_at;
	int failed;
	char why[128];
};

static void rd_init(struct rd *r, const void *data, size_t len)
{
	r->start = r->p = data;
	r->end = r->p + len;
	r->fail_at = 0;
	r->failed = 0;
	r->why[0] = '\0';
}

__attribute__((format(printf, 2, 3)))
static void rd_fail(struct rd *r, const char *fmt, ...)
{
	va_list ap;

	if (r->failed)
		return;
	r->failed = 1;
	r->fail_at = (size_t)(r->p - r->start);
	va_start(ap, fmt);
	vsnprintf(r->why, sizeof(r->why), fmt, ap);
	va_end(ap);
	r->p = r->end;
}

static size_t rd_left(const struct rd *r)
{
	return (size_t)(r->end - r->p);
}

static const unsigned char *rd_take(struct rd *r, size_t n, const char *what)
{
	const unsigned char *q;

	if (r->failed)
		return NULL;
	if (rd_left(r) < n) {
		rd_fail(r, "%s truncated", what);
		return NULL;
	}
	q = r->p;
	r->p += n;
	return q;
}

static unsigned rd_u16(struct rd *r, const char *what)
{
	const unsigned char *q = rd_take(r, 2, what);

	return q ? get_be16(q) : 0;
}

static int32_t rd_i32(struct rd *r, const char *what)
{
	const unsigned char *q = rd_take(r, 4, what);

	return q ? (int32_t)get_be32(q) : 0;
}

/* [string] appended to `out` */
static void rd_string_buf(struct rd *r, struct buf *out, const char *what)
{
	unsigned n = rd_u16(r, what);
	const unsigned char *q = rd_take(r, n, what);

	if (q)
		buf_add(out, q, n);
}

/* [string] as a new string (free with free()); "" after a failure */
static char *rd_string(struct rd *r, const char *what)
{
	unsigned n = rd_u16(r, what);
	const unsigned char *q = rd_take(r, n, what);

	return q ? xstrndup((const char *)q, n) : xstrdup("");
}

/* [bytes]: borrowed pointer and length, or NULL and -1 for null */
static const unsigned char *rd_bytes(struct rd *r, int32_t *len,
				     const char *what)
{
	int32_t n = rd_i32(r, what);
	const unsigned char *q;

	*len = -1;
	if (r->failed || n < 0)
		return NULL;
	q = rd_take(r, (size_t)n, what);
	if (q)
		*len = n;
	return q;
}

/* ---- names ---- */

static const struct {
	int id;
	const char *name;
} type_names[] = {
	{ CQL_TYPE_CUSTOM, "custom" },
	{ CQL_TYPE_ASCII, "ascii" },
	{ CQL_TYPE_BIGINT, "bigint" },
	{ CQL_TYPE_BLOB, "blob" },
	{ CQL_TYPE_BOOLEAN, "boolean" },
	{ CQL_TYPE_COUNTER, "counter" },
	{ CQL_TYPE_DECIMAL, "decimal" },
	{ CQL_TYPE_DOUBLE, "double" },
	{ CQL_TYPE_FLOAT, "float" },
	{ CQL_TYPE_INT, "int" },
	{ CQL_TYPE_TIMESTAMP, "timestamp" },
	{ CQL_TYPE_UUID, "uuid" },
	{ CQL_TYPE_VARCHAR, "varchar" },
	{ CQL_TYPE_VARINT, "varint" },
	{ CQL_TYPE_TIMEUUID, "timeuuid" },
	{ CQL_TYPE_INET, "inet" },
	{ CQL_TYPE_DATE, "date" },
	{ CQL_TYPE_TIME, "time" },
	{ CQL_TYPE_SMALLINT, "smallint" },
	{ CQL_TYPE_TINYINT, "tinyint" },
	{ CQL_TYPE_DURATION, "duration" },
	{ CQL_TYPE_LIST, "list" },
	{ CQL_TYPE_MAP, "map" },
	{ CQL_TYPE_SET, "set" },
	{ CQL_TYPE_UDT, "udt" },
	{ CQL_TYPE_TUPLE, "tuple" },
};

const char *cql_type_name(int type)
{
	size_t i;

	for (i = 0; i < ARRAY_SIZE(type_names); i++)
		if (type_names[i].id == type)
			return type_names[i].name;
	return "unknown";
}

static int type_is_primitive(int type)
{
	return type > CQL_TYPE_CUSTOM && type < CQL_TYPE_LIST &&
	       strcmp(cql_type_name(type), "unknown");
}

static const struct {
	int code;
	const char *name;
} error_names[] = {
	{ 0x0000, "Server error" },
	{ 0x000A, "Protocol error" },
	{ 0x0100, "Bad credentials" },
	{ 0x1000, "Unavailable" },
	{ 0x1001, "Overloaded" },
	{ 0x1002, "Is_bootstrapping" },
	{ 0x1003, "Truncate_error" },
	{ 0x1100, "Write_timeout" },
	{ 0x1200, "Read_timeout" },
	{ 0x1300, "Read_failure" },
	{ 0x1400, "Function_failure" },
	{ 0x1500, "Write_failure" },
	{ 0x2000, "Syntax_error" },
	{ 0x2100, "Unauthorized" },
	{ 0x2200, "Invalid" },
	{ 0x2300, "Config_error" },
	{ 0x2400, "Already_exists" },
	{ 0x2500, "Unprepared" },
};

const char *cql_error_name(int code)
{
	size_t i;

	for (i = 0; i < ARRAY_SIZE(error_names); i++)
		if (error_names[i].code == code)
			return error_names[i].name;
	return "Unknown";
}

/* ---- results ---- */

void cql_result_init(struct cql_result *res)
{
	struct cql_result blank = CQL_RESULT_INIT;

	*res = blank;
}

void cql_result_release(struct cql_result *res)
{
	int i;

	for (i = 0; i < res->ncols; i++) {
		free(res->cols[i].keyspace);
		free(res->cols[i].table);
		free(res->cols[i].name);
		free(res->cols[i].type_name);
	}
	free(res->cols);
	free(res->cells);
	free(res->raw);
	buf_release(&res->paging_state);
	buf_release(&res->keyspace);
	buf_release(&res->change_type);
	buf_release(&res->target);
	buf_release(&res->object);
	buf_release(&res->warnings);
	cql_result_init(res);
}

const struct cql_cell *cql_result_cell(const struct cql_result *res,
				       int row, int col)
{
	if (row < 0 || row >= res->nrows || col < 0 || col >= res->ncols)
		BUG("cql cell (%d, %d) outside a %d x %d result",
		    row, col, res->nrows, res->ncols);
	return &res->cells[(size_t)row * (size_t)res->ncols + (size_t)col];
}

/*
 * An [option]: a type id and, for custom, collection, UDT and tuple
 * types, the options that follow it. All of them must be consumed even
 * though only the outer id is kept, or every later column is misread.
 * `name` collects a CQL-like spelling such as "map<varchar, list<int>>".
 */
static int rd_type(struct rd *r, struct buf *name, int depth)
{
	int id = (int)rd_u16(r, "column type");
	unsigned i, n;

	if (r->failed)
		return CQL_TYPE_UNKNOWN;
	if (depth > CQL_TYPE_DEPTH_MAX) {
		rd_fail(r, "column type nested deeper than %d",
			CQL_TYPE_DEPTH_MAX);
		return CQL_TYPE_UNKNOWN;
	}
	switch (id) {
	case CQL_TYPE_CUSTOM:
		buf_addch(name, '\'');
		rd_string_buf(r, name, "custom type class");
		buf_addch(name, '\'');
		break;
	case CQL_TYPE_LIST:
	case CQL_TYPE_SET:
		buf_addstr(name, id == CQL_TYPE_LIST ? "list<" : "set<");
		rd_type(r, name, depth + 1);
		buf_addch(name, '>');
		break;
	case CQL_TYPE_MAP:
		buf_addstr(name, "map<");
		rd_type(r, name, depth + 1);
		buf_addstr(name, ", ");
		rd_type(r, name, depth + 1);
		buf_addch(name, '>');
		break;
	case CQL_TYPE_UDT: {
		struct buf skip = BUF_INIT;

		rd_string_buf(r, name, "udt keyspace");
		buf_addch(name, '.');
		rd_string_buf(r, name, "udt name");
		n = rd_u16(r, "udt field count");
		for (i = 0; i < n && !r->failed; i++) {
			rd_string_buf(r, &skip, "udt field name");
			rd_type(r, &skip, depth + 1);
		}
		buf_release(&skip);
		break;
	}
	case CQL_TYPE_TUPLE:
		buf_addstr(name, "tuple<");
		n = rd_u16(r, "tuple field count");
		for (i = 0; i < n && !r->failed; i++) {
			if (i)
				buf_addstr(name, ", ");
			rd_type(r, name, depth + 1);
		}
		buf_addch(name, '>');
		break;
	default:
		if (!type_is_primitive(id)) {
			/* its options have an unknown shape: stop here */
			r->p -= 2;
			rd_fail(r, "unknown column type 0x%04x", (unsigned)id);
			return CQL_TYPE_UNKNOWN;
		}
		buf_addstr(name, cql_type_name(id));
	}
	return id;
}

/*
 * Rows: <flags><columns_count>[<paging_state>][<global ks><global table>]
 * <col_spec>*  (absent with no_metadata)  <rows_count> <cell>*
 * where a col_spec is [<ks><table>]<name><type option>.
 */
static void parse_rows(struct rd *r, struct cql_result *res)
{
	int32_t flags = rd_i32(r, "rows flags");
	int32_t ncols = rd_i32(r, "column count");
	int32_t nrows, len;
	char *gks = NULL, *gtable = NULL;
	const unsigned char *q;
	size_t i, ncells;

	if (r->failed)
		return;
	if (ncols < 0 || ncols > CQL_COLUMNS_MAX) {
		rd_fail(r, "column count %" PRId32 " out of range", ncols);
		return;
	}
	res->rows_flags = flags;
	if (flags & CQL_ROWS_HAS_MORE_PAGES) {
		q = rd_bytes(r, &len, "paging state");
		if (q)
			buf_add(&res->paging_state, q, (size_t)len);
	}
	/* a col_spec takes at least 4 bytes: check before calloc */
	if (!(flags & CQL_ROWS_NO_METADATA) && (size_t)ncols > rd_left(r) / 4) {
		rd_fail(r, "%" PRId32 " column specs need more than the %zu "
			"bytes left", ncols, rd_left(r));
		return;
	}
	res->cols = xcalloc(ncols ? (size_t)ncols : 1, sizeof(*res->cols));
	res->ncols = ncols;
	if (!(flags & CQL_ROWS_NO_METADATA) &&
	    (flags & CQL_ROWS_GLOBAL_TABLES_SPEC)) {
		gks = rd_string(r, "global keyspace");
		gtable = rd_string(r, "global table");
	}
	/* after a failure the columns left stay NULL: res is released */
	for (i = 0; i < (size_t)ncols && !r->failed; i++) {
		struct cql_column *col = &res->cols[i];
		struct buf tn = BUF_INIT;

		if (flags & CQL_ROWS_NO_METADATA) {
			col->keyspace = xstrdup("");
			col->table = xstrdup("");
			col->name = xstrdup("");
			col->type = CQL_TYPE_UNKNOWN;
			col->type_name = xstrdup("unknown");
			continue;
		}
		col->keyspace = gks ? xstrdup(gks) : rd_string(r, "keyspace");
		col->table = gtable ? xstrdup(gtable) : rd_string(r, "table");
		col->name = rd_string(r, "column name");
		col->type = rd_type(r, &tn, 0);
		col->type_name = buf_detach(&tn, NULL);
	}
	free(gks);
	free(gtable);

	nrows = rd_i32(r, "row count");
	if (r->failed)
		return;
	if (nrows < 0) {
		rd_fail(r, "row count %" PRId32 " is negative", nrows);
		return;
	}
	/* every cell takes at least its 4-byte length: check before calloc */
	ncells = (size_t)nrows * (size_t)ncols;
	if (ncols && ncells / (size_t)ncols != (size_t)nrows) {
		rd_fail(r, "row count %" PRId32 " overflows", nrows);
		return;
	}
	if (ncells > rd_left(r) / 4) {
		rd_fail(r, "%" PRId32 " rows of %" PRId32 " cells need more "
			"than the %zu bytes left", nrows, ncols, rd_left(r));
		return;
	}
	res->cells = xcalloc(ncells ? ncells : 1, sizeof(*res->cells));
	for (i = 0; i < ncells && !r->failed; i++) {
		res->cells[i].data = rd_bytes(r, &len, "cell");
		res->cells[i].len = res->cells[i].data ? len : -1;
	}
	res->nrows = nrows;
}

/*
 * Schema_change: <change_type><target><options>; the options depend on
 * the target: KEYSPACE <ks>; TABLE and TYPE <ks><name>; FUNCTION and
 * AGGREGATE <ks><name><argument types as a [string list]>.
 */
static void parse_schema_change(struct rd *r, struct cql_result *res)
{
	const char *t;
	unsigned i, n;

	rd_string_buf(r, &res->change_type, "change type");
	rd_string_buf(r, &res->target, "change target");
	rd_string_buf(r, &res->keyspace, "keyspace");
	if (r->failed)
		return;
	t = res->target.s;
	if (!strcmp(t, "KEYSPACE"))
		return;
	rd_string_buf(r, &res->object, "changed object");
	if (!strcmp(t, "TABLE") || !strcmp(t, "TYPE"))
		return;
	if (strcmp(t, "FUNCTION") && strcmp(t, "AGGREGATE")) {
		rd_fail(r, "unknown schema change target '%s'", t);
		return;
	}
	n = rd_u16(r, "argument count");
	buf_addch(&res->object, '(');
	for (i = 0; i < n && !r->failed; i++) {
		if (i)
			buf_addstr(&res->object, ", ");
		rd_string_buf(r, &res->object, "argument type");
	}
	buf_addch(&res->object, ')');
}

static void malformed(struct buf *err, const char *what, const struct rd *r)
{
	if (err)
		buf_addf(err, "malformed %s from cassandra: %s at byte %zu "
			 "of %zu; is the server speaking protocol v4?",
			 what, r->why, r->fail_at,
			 (size_t)(r->end - r->start));
}

int cql_result_parse(const void *body, size_t len, struct cql_result *res,
		     struct buf *err)
{
	struct rd r;
	int32_t kind;

	if (len > CQL_FRAME_MAX) {
		if (err)
			buf_addf(err, "cassandra result of %zu bytes exceeds "
				 "the %u byte cap", len, CQL_FRAME_MAX);
		return CQL_EPROTO;
	}
	res->raw = xmalloc(len ? len : 1);
	if (len)
		memcpy(res->raw, body, len);
	res->raw_len = len;
	rd_init(&r, res->raw, len);

	kind = rd_i32(&r, "result kind");
	switch (kind) {
	case CQL_RESULT_VOID:
		break;
	case CQL_RESULT_ROWS:
		parse_rows(&r, res);
		break;
	case CQL_RESULT_SET_KEYSPACE:
		rd_string_buf(&r, &res->keyspace, "keyspace");
		break;
	case CQL_RESULT_PREPARED:
		/* not decoded yet: the body stays in res->raw */
		r.p = r.end;
		break;
	case CQL_RESULT_SCHEMA_CHANGE:
		parse_schema_change(&r, res);
		break;
	default:
		if (r.failed)
			break;
		r.p -= 4;
		rd_fail(&r, "unknown result kind %" PRId32, kind);
	}
	if (!r.failed && rd_left(&r))
		rd_fail(&r, "%zu bytes left over after the result", rd_left(&r));
	if (r.failed) {
		struct buf keep = res->warnings;

		malformed(err, "RESULT", &r);
		res->warnings = (struct buf)BUF_INIT;
		cql_result_release(res);
		res->warnings = keep;
		return CQL_EPROTO;
	}
	res->kind = kind;
	return 0;
}

int cql_error_parse(const void *body, size_t len, int *code, struct buf *err)
{
	struct rd r;
	int32_t c;
	unsigned n;
	const unsigned char *msg;

	rd_init(&r, body, len);
	c = rd_i32(&r, "error code");
	n = rd_u16(&r, "error message");
	msg = rd_take(&r, n, "error message");
	/* code-specific fields may follow: they are not needed for a message */
	if (r.failed) {
		malformed(err, "ERROR", &r);
		return CQL_EPROTO;
	}
	if (code)
		*code = c;
	if (err)
		buf_addf(err, "cassandra error 0x%04" PRIx32 " (%s): %.*s",
			 (uint32_t)c, cql_error_name(c), (int)n,
			 (const char *)msg);
	return CQL_ESERVER;
}

int cql_response_parse(const struct cql_frame *f, struct cql_result *res,
		       struct buf *err)
{
	struct rd r;
	unsigned i, n;
	int32_t len;

	if (f->hdr.flags & CQL_FLAG_COMPRESSION) {
		if (err)
			buf_addstr(err, "compressed frame from cassandra: "
				   "pancake never asks for compression");
		return CQL_EPROTO;
	}
	/* optional prefixes, in this order: tracing id, warnings, payload */
	rd_init(&r, f->body, f->len);
	if (f->hdr.flags & CQL_FLAG_TRACING)
		rd_take(&r, 16, "tracing id");
	if (f->hdr.flags & CQL_FLAG_WARNING) {
		n = rd_u16(&r, "warning count");
		for (i = 0; i < n && !r.failed; i++) {
			if (res->warnings.len)
				buf_addch(&res->warnings, '\n');
			rd_string_buf(&r, &res->warnings, "warning");
		}
	}
	if (f->hdr.flags & CQL_FLAG_CUSTOM_PAYLOAD) {
		n = rd_u16(&r, "custom payload size");
		for (i = 0; i < n && !r.failed; i++) {
			free(rd_string(&r, "custom payload key"));
			rd_bytes(&r, &len, "custom payload value");
		}
	}
	if (r.failed) {
		malformed(err, "frame prefix", &r);
		return CQL_EPROTO;
	}

	switch (f->hdr.opcode) {
	case CQL_OP_RESULT:
		return cql_result_parse(r.p, rd_left(&r), res, err);
	case CQL_OP_ERROR:
		return cql_error_parse(r.p, rd_left(&r), &res->error_code, err);
	case CQL_OP_READY:
		return 0;
	case CQL_OP_AUTHENTICATE: {
		char *cls = rd_string(&r, "authenticator");

		if (err)
			buf_addf(err, "cassandra requires authentication "
				 "('%s'): authentication not supported; use "
				 "AllowAllAuthenticator in cassandra.yaml", cls);
		free(cls);
		return CQL_EAUTH;
	}
	default:
		if (err)
			buf_addf(err, "unexpected opcode 0x%02x from cassandra: "
				 "is the server speaking protocol v4?",
				 f->hdr.opcode);
		return CQL_EPROTO;
	}
}

/* ---- framing ---- */

void cql_header_encode(const struct cql_header *h, unsigned char *out)
{
	out[0] = h->version;
	out[1] = h->flags;
	put_be16(out + 2, (uint16_t)h->stream);
	out[4] = h->opcode;
	put_be32(out + 5, h->length);
}

int cql_header_decode(struct cql_header *h, const unsigned char *p,
		      struct buf *err)
{
	h->version = p[0];
	h->flags = p[1];
	h->stream = (int16_t)get_be16(p + 2);
	h->opcode = p[4];
	h->length = get_be32(p + 5);
	if (h->version != (CQL_PROTOCOL_VERSION | CQL_RESPONSE_BIT)) {
		if (!err)
			;
		else if (h->version & CQL_RESPONSE_BIT)
			buf_addf(err, "cassandra answered in protocol version "
				 "%d: pancake speaks v4 (Cassandra 2.2 or later)",
				 h->version & 0x7f);
		else
			buf_addf(err, "not a CQL response (first byte "
				 "0x%02x): is this port cassandra's native "
				 "transport (9042)?", h->version);
		return CQL_EPROTO;
	}
	if (h->length > CQL_FRAME_MAX) {
		if (err)
			buf_addf(err, "cassandra frame body of %" PRIu32
				 " bytes exceeds the %u byte cap; page the query",
				 h->length, CQL_FRAME_MAX);
		return CQL_EPROTO;
	}
	return 0;
}

void cql_frame_encode(struct buf *out, int16_t stream, int opcode,
		      const void *body, size_t len)
{
	struct cql_header h;
	unsigned char hdr[CQL_HEADER_LEN];

	if (len > CQL_FRAME_MAX)
		BUG("cql request body of %zu bytes", len);
	h.version = CQL_PROTOCOL_VERSION;
	h.flags = 0;
	h.stream = stream;
	h.opcode = (uint8_t)opcode;
	h.length = (uint32_t)len;
	cql_header_encode(&h, hdr);
	buf_add(out, hdr, sizeof(hdr));
	if (len)
		buf_add(out, body, len);
}

int cql_frame_split(const void *data, size_t len, struct cql_frame *f,
		    size_t *used, struct buf *err)
{
	const unsigned char *p = data;
	int ret;

	if (len < CQL_HEADER_LEN)
		return 0;
	/* check the header as soon as it is here, before buffering a body */
	ret = cql_header_decode(&f->hdr, p, err);
	if (ret)
		return ret;
	if (len - CQL_HEADER_LEN < f->hdr.length)
		return 0;
	f->body = p + CQL_HEADER_LEN;
	f->len = f->hdr.length;
	*used = CQL_HEADER_LEN + (size_t)f->hdr.length;
	return 1;
}

/* ---- cell rendering ---- */

/* the shortest "%.Ng" that reads back as the same value */
static void add_real(struct buf *out, double v, int is_float)
{
	char tmp[64];
	int prec;

	if (isnan(v)) {
		buf_addstr(out, "NaN");
		return;
	}
	if (isinf(v)) {
		buf_addstr(out, v < 0 ? "-Infinity" : "Infinity");
		return;
	}
	for (prec = 1; prec <= 17; prec++) {
		snprintf(tmp, sizeof(tmp), "%.*g", prec, v);
		if (is_float ? strtof(tmp, NULL) == (float)v
			     : strtod(tmp, NULL) == v)
			break;
	}
	buf_addstr(out, tmp);
}

static void add_hex(struct buf *out, const unsigned char *p, size_t n)
{
	size_t i;

	buf_addstr(out, "0x");
	for (i = 0; i < n; i++)
		buf_addf(out, "%02x", p[i]);
}

/* UTC date, or date and time with milliseconds; the number if out of range */
static void add_time(struct buf *out, int64_t secs, int ms, int with_time)
{
	struct tm tm;
	time_t t = (time_t)secs;

	if (!gmtime_r(&t, &tm)) {
		buf_addf(out, "%" PRId64, secs);
		return;
	}
	buf_addf(out, "%04d-%02d-%02d", tm.tm_year + 1900, tm.tm_mon + 1,
		 tm.tm_mday);
	if (with_time)
		buf_addf(out, "T%02d:%02d:%02d.%03dZ", tm.tm_hour, tm.tm_min,
			 tm.tm_sec, ms);
}

int cql_cell_text(const struct cql_cell *cell, int type, struct buf *out)
{
	const unsigned char *p = cell->data;
	size_t n = cell->len < 0 ? 0 : (size_t)cell->len;
	char addr[INET6_ADDRSTRLEN];
	uint32_t u32;
	uint64_t u64;
	float f;
	double d;
	int64_t ms, secs;

	if (cell->len < 0 || !p) {
		buf_addstr(out, "null");
		return 0;
	}
	/* an empty value of a fixed-size type is legal in CQL and shown empty */
	if (!n && type != CQL_TYPE_BLOB && type != CQL_TYPE_CUSTOM &&
	    type != CQL_TYPE_UNKNOWN)
		return 0;

	switch (type) {
	case CQL_TYPE_ASCII:
	case CQL_TYPE_VARCHAR:
		buf_add(out, p, n);
		return 0;
	case CQL_TYPE_BOOLEAN:
		if (n != 1)
			return -1;
		buf_addstr(out, p[0] ? "true" : "false");
		return 0;
	case CQL_TYPE_TINYINT:
		if (n != 1)
			return -1;
		buf_addf(out, "%d", (int)(int8_t)p[0]);
		return 0;
	case CQL_TYPE_SMALLINT:
		if (n != 2)
			return -1;
		buf_addf(out, "%d", (int)(int16_t)get_be16(p));
		return 0;
	case CQL_TYPE_INT:
		if (n != 4)
			return -1;
		buf_addf(out, "%" PRId32, (int32_t)get_be32(p));
		return 0;
	case CQL_TYPE_BIGINT:
	case CQL_TYPE_COUNTER:
		if (n != 8)
			return -1;
		buf_addf(out, "%" PRId64, (int64_t)get_be64(p));
		return 0;
	case CQL_TYPE_FLOAT:
		if (n != 4)
			return -1;
		u32 = get_be32(p);
		memcpy(&f, &u32, sizeof(f));
		add_real(out, f, 1);
		return 0;
	case CQL_TYPE_DOUBLE:
		if (n != 8)
			return -1;
		u64 = get_be64(p);
		memcpy(&d, &u64, sizeof(d));
		add_real(out, d, 0);
		return 0;
	case CQL_TYPE_UUID:
	case CQL_TYPE_TIMEUUID:
		if (n != 16)
			return -1;
		buf_addf(out, "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-"
			 "%02x%02x%02x%02x%02x%02x",
			 p[0], p[1], p[2], p[3], p[4], p[5], p[6], p[7],
			 p[8], p[9], p[10], p[11], p[12], p[13], p[14], p[15]);
		return 0;
	case CQL_TYPE_TIMESTAMP:
		if (n != 8)
			return -1;
		ms = (int64_t)get_be64(p);
		secs = ms / 1000;
		if (ms % 1000 < 0)
			secs--;
		add_time(out, secs, (int)(ms - secs * 1000), 1);
		return 0;
	case CQL_TYPE_DATE:
		/* days since the epoch, centred on 2^31 */
		if (n != 4)
			return -1;
		add_time(out, ((int64_t)get_be32(p) - ((int64_t)1 << 31)) *
			 86400, 0, 0);
		return 0;
	case CQL_TYPE_INET:
		if (n != 4 && n != 16)
			return -1;
		if (!inet_ntop(n == 4 ? AF_INET : AF_INET6, p, addr,
			       sizeof(addr)))
			return -1;
		buf_addstr(out, addr);
		return 0;
	default:
		add_hex(out, p, n);
		return 0;
	}
}

/* ---- the connection ---- */

static int64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static struct op op_start(int timeout_ms)
{
	struct op o;

	o.budget_ms = timeout_ms < 0 ? 0 : timeout_ms;
	o.deadline = now_ms() + o.budget_ms;
	return o;
}

static int op_left(const struct op *o)
{
	int64_t d = o->deadline - now_ms();

	return d < 0 ? 0 : d > INT_MAX ? INT_MAX : (int)d;
}

/* strerror() without its capital, for our lowercase messages */
static void add_errno(struct buf *b, int e)
{
	size_t at = b->len;

	buf_addstr(b, strerror(e));
	if (b->len > at && b->s[at] >= 'A' && b->s[at] <= 'Z')
		b->s[at] = (char)(b->s[at] - 'A' + 'a');
}

static int timed_out(struct buf *err, const char *peer, const struct op *o,
		     const char *doing)
{
	if (err)
		buf_addf(err, "timed out after %d ms %s cassandra at '%s': "
			 "is it still starting?", o->budget_ms, doing, peer);
	return CQL_ETIMEOUT;
}

/* 0 when `fd` is ready (or in error: the next call reports it) */
static int wait_fd(int fd, short events, const struct op *o)
{
	struct pollfd p;
	int n;

	for (;;) {
		p.fd = fd;
		p.events = events;
		p.revents = 0;
		n = poll(&p, 1, op_left(o));
		if (n > 0)
			return 0;
		if (n == 0)
			return CQL_ETIMEOUT;
		if (errno != EINTR)
			return CQL_EIO;
	}
}

static int conn_write(struct cql_conn *c, const struct buf *req,
		      const struct op *o, struct buf *err)
{
	size_t off = 0;
	ssize_t n;
	int ret;

	while (off < req->len) {
		n = send(c->fd, req->s + off, req->len - off, MSG_NOSIGNAL);
		if (n > 0) {
			off += (size_t)n;
			continue;
		}
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
			ret = wait_fd(c->fd, POLLOUT, o);
			if (ret == CQL_ETIMEOUT)
				return timed_out(err, c->peer, o, "writing to");
			if (ret)
				goto fail;
			continue;
		}
		goto fail;
	}
	return 0;
fail:
	if (err) {
		buf_addf(err, "cannot write to cassandra at '%s': ", c->peer);
		add_errno(err, errno);
		buf_addstr(err, "; did it restart?");
	}
	return CQL_EIO;
}

/*
 * Reads until c->rbuf starts with a whole frame. The frame borrows from
 * c->rbuf: the caller consumes `*used` bytes once it is done with it.
 */
static int conn_read_frame(struct cql_conn *c, struct cql_frame *f,
			   size_t *used, const struct op *o, struct buf *err)
{
	struct buf msg = BUF_INIT;
	ssize_t n;
	int ret;

	for (;;) {
		ret = cql_frame_split(c->rbuf.s, c->rbuf.len, f, used, &msg);
		if (ret > 0) {
			ret = 0;
			goto out;
		}
		if (ret < 0) {
			if (err)
				buf_addf(err, "cassandra at '%s': %s",
					 c->peer, msg.s);
			goto out;
		}
		buf_grow(&c->rbuf, CQL_READ_CHUNK);
		n = recv(c->fd, c->rbuf.s + c->rbuf.len,
			 c->rbuf.alloc - c->rbuf.len - 1, 0);
		if (n > 0) {
			buf_setlen(&c->rbuf, c->rbuf.len + (size_t)n);
			continue;
		}
		if (n == 0) {
			if (err)
				buf_addf(err, "cassandra at '%s' closed the "
					 "connection: is it still starting?",
					 c->peer);
			ret = CQL_EIO;
			goto out;
		}
		if (errno == EINTR)
			continue;
		if (errno == EAGAIN || errno == EWOULDBLOCK) {
			ret = wait_fd(c->fd, POLLIN, o);
			if (ret == CQL_ETIMEOUT) {
				timed_out(err, c->peer, o, "waiting for");
				goto out;
			}
			if (!ret)
				continue;
		}
		if (err) {
			buf_addf(err, "cannot read from cassandra at '%s': ",
				 c->peer);
			add_errno(err, errno);
			buf_addstr(err, "; is it still starting?");
		}
		ret = CQL_EIO;
		goto out;
	}
out:
	buf_release(&msg);
	return ret;
}

/*
 * Sends one request and decodes the response with the same stream id.
 * Frames for other streams (events, answers to requests that timed out
 * earlier) are skipped, which keeps the connection usable after a timeout.
 */
static int conn_request(struct cql_conn *c, int opcode, const struct buf *body,
			struct cql_result *res, const struct op *o,
			struct buf *err)
{
	struct buf req = BUF_INIT;
	struct cql_frame f;
	size_t used = 0;
	int16_t stream = c->next_stream;
	int ret;

	c->next_stream = (int16_t)((stream + 1) & 0x7fff);
	cql_frame_encode(&req, stream, opcode, body->s, body->len);
	ret = conn_write(c, &req, o, err);
	if (ret)
		goto out;
	for (;;) {
		ret = conn_read_frame(c, &f, &used, o, err);
		if (ret)
			goto out;
		if (f.hdr.stream == stream)
			break;
		buf_consume(&c->rbuf, used);
	}
	/* decoding copies what it keeps, so the frame can be consumed after */
	ret = cql_response_parse(&f, res, err);
	buf_consume(&c->rbuf, used);
out:
	buf_release(&req);
	return ret;
}

struct cql_conn *cql_conn_attach(int fd, const char *peer, int timeout_ms)
{
	struct cql_conn *c = xcalloc(1, sizeof(*c));
	int fl = fcntl(fd, F_GETFL);

	/* reads and writes wait in poll(), never in the system call */
	if (fl >= 0 && !(fl & O_NONBLOCK))
		fcntl(fd, F_SETFL, fl | O_NONBLOCK);
	c->fd = fd;
	c->timeout_ms = timeout_ms;
	c->peer = xstrdup(peer);
	buf_init(&c->rbuf, 0);
	return c;
}

void cql_set_timeout(struct cql_conn *c, int timeout_ms)
{
	c->timeout_ms = timeout_ms;
}

void cql_close(struct cql_conn *c)
{
	if (!c)
		return;
	if (c->fd >= 0)
		close(c->fd);
	free(c->peer);
	buf_release(&c->rbuf);
	free(c);
}

static int startup_op(struct cql_conn *c, const struct op *o, struct buf *err)
{
	struct buf body = BUF_INIT;
	struct cql_result res = CQL_RESULT_INIT;
	int ret;

	add_be16(&body, 1);		/* [string map] of one entry */
	add_string(&body, "CQL_VERSION");
	add_string(&body, "3.0.0");
	ret = conn_request(c, CQL_OP_STARTUP, &body, &res, o, err);
	buf_release(&body);
	cql_result_release(&res);
	return ret;
}

int cql_startup(struct cql_conn *c, struct buf *err)
{
	struct op o = op_start(c->timeout_ms);

	return startup_op(c, &o, err);
}

static int query_op(struct cql_conn *c, const char *cql,
		    struct cql_result *res, const struct op *o,
		    struct buf *err)
{
	struct buf body = BUF_INIT;
	size_t n = strlen(cql);
	int ret;

	cql_result_release(res);
	if (n > CQL_FRAME_MAX - 16) {
		if (err)
			buf_addf(err, "query of %zu bytes is too long for "
				 "cassandra: split it", n);
		return CQL_EPROTO;
	}
	add_be32(&body, (uint32_t)n);	/* [long string] */
	buf_add(&body, cql, n);
	add_be16(&body, CQL_ONE);
	buf_addch(&body, 0);		/* flags: no values, no paging */
	ret = conn_request(c, CQL_OP_QUERY, &body, res, o, err);
	buf_release(&body);
	return ret;
}

int cql_query(struct cql_conn *c, const char *cql, struct cql_result *res,
	      struct buf *err)
{
	struct op o = op_start(c->timeout_ms);

	return query_op(c, cql, res, &o, err);
}

static int tcp_connect(const char *host, int port, const char *peer,
		       const struct op *o, int *fdp, struct buf *err)
{
	struct addrinfo hints, *ai = NULL, *a;
	char portstr[16];
	int fd = -1, ret, e = 0, soerr, one = 1;
	socklen_t sl;

	memset(&hints, 0, sizeof(hints));
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_flags = AI_NUMERICSERV;
	snprintf(portstr, sizeof(portstr), "%d", port);
	ret = getaddrinfo(host, portstr, &hints, &ai);
	if (ret) {
		if (err)
			buf_addf(err, "cannot resolve cassandra host '%s': %s; "
				 "use 127.0.0.1", host, gai_strerror(ret));
		return CQL_EIO;
	}
	ret = CQL_EIO;
	for (a = ai; a; a = a->ai_next) {
		fd = socket(a->ai_family, a->ai_socktype | SOCK_NONBLOCK |
			    SOCK_CLOEXEC, a->ai_protocol);
		if (fd < 0) {
			e = errno;
			continue;
		}
		if (!connect(fd, a->ai_addr, a->ai_addrlen))
			break;
		e = errno;
		if (e == EINPROGRESS) {
			ret = wait_fd(fd, POLLOUT, o);
			if (ret == CQL_ETIMEOUT) {
				timed_out(err, peer, o, "connecting to");
				close(fd);
				fd = -1;
				goto out;
			}
			sl = sizeof(soerr);
			if (!ret && !getsockopt(fd, SOL_SOCKET, SO_ERROR,
						&soerr, &sl) && !soerr)
				break;
			e = ret ? errno : soerr;
			ret = CQL_EIO;
		}
		close(fd);
		fd = -1;
	}
	if (fd < 0) {
		if (err) {
			buf_addf(err, "cannot connect to cassandra at '%s': ",
				 peer);
			add_errno(err, e);
			buf_addstr(err, "; is the container running with its "
				   "port published?");
		}
		ret = CQL_EIO;
		goto out;
	}
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	*fdp = fd;
	ret = 0;
out:
	freeaddrinfo(ai);
	return ret;
}

static int connect_op(struct cql_conn **out, const char *host, int port,
		      int timeout_ms, const struct op *o, struct buf *err)
{
	char *peer = xstrfmt("%s:%d", host, port);
	int fd = -1, ret;

	*out = NULL;
	ret = tcp_connect(host, port, peer, o, &fd, err);
	if (ret)
		goto out;
	*out = cql_conn_attach(fd, peer, timeout_ms);
	ret = startup_op(*out, o, err);
	if (ret) {
		cql_close(*out);
		*out = NULL;
	}
out:
	free(peer);
	return ret;
}

int cql_connect(struct cql_conn **out, const char *host, int port,
		int timeout_ms, struct buf *err)
{
	struct op o = op_start(timeout_ms);

	return connect_op(out, host, port, timeout_ms, &o, err);
}

int cql_probe(const char *host, int port, int timeout_ms,
	      struct buf *version_out, struct buf *err)
{
	struct op o = op_start(timeout_ms);
	struct cql_conn *c = NULL;
	struct cql_result res = CQL_RESULT_INIT;
	const struct cql_cell *cell;
	int ret;

	ret = connect_op(&c, host, port, timeout_ms, &o, err);
	if (ret)
		goto out;
	ret = query_op(c, "SELECT release_version FROM system.local", &res,
		       &o, err);
	if (ret)
		goto out;
	if (res.kind != CQL_RESULT_ROWS || res.nrows < 1 || res.ncols < 1) {
		if (err)
			buf_addf(err, "cassandra at '%s:%d' returned no row "
				 "from 'system.local': is it still starting?",
				 host, port);
		ret = CQL_EPROTO;
		goto out;
	}
	cell = cql_result_cell(&res, 0, 0);
	if (cell->len <= 0) {
		if (err)
			buf_addf(err, "cassandra at '%s:%d' has no "
				 "'release_version' yet: is it still starting?",
				 host, port);
		ret = CQL_EPROTO;
		goto out;
	}
	if (version_out)
		buf_add(version_out, cell->data, (size_t)cell->len);
out:
	cql_result_release(&res);
	cql_close(c);
	return ret;
}
