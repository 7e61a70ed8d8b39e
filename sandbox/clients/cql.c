/*
 * cql: CQL native protocol v4 framing, value encoding, response decoding
 * and a connection that keeps many requests in flight, each bounded by a
 * deadline.
 */
#include "clients/cql.h"
#include "util/clock.h"
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
#include <strings.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

/* Caps on what one response can make us allocate or recurse into. */
#define CQL_COLUMNS_MAX		65536
#define CQL_TYPE_DEPTH_MAX	32
#define CQL_READ_CHUNK		65536
/* reads per poll before the writes get their turn again */
#define CQL_READS_PER_POLL	8
/* queued request bytes that make a submit write them out at once */
#define CQL_FLUSH_AT		65536
/* streams kept for the re-PREPAREs a connection sends by itself */
#define CQL_INTERNAL_STREAMS	4

/* query parameter flags */
enum {
	QP_VALUES = 0x01,
	QP_SKIP_METADATA = 0x02,
	QP_PAGE_SIZE = 0x04,
	QP_PAGING_STATE = 0x08,
	QP_SERIAL = 0x10,
	QP_TIMESTAMP = 0x20,
};

enum slot_state { SLOT_FREE, SLOT_BUSY, SLOT_ORPHAN };

/*
 * One stream id and the request on it. A request that timed out becomes
 * an orphan: its id is not reused until its late answer comes, or that
 * answer would be taken for the next request's.
 */
struct slot {
	int state;		/* enum slot_state */
	int opcode;
	int internal;		/* a re-PREPARE sent by the connection itself */
	int retried;		/* prepared again once already */
	int answered;		/* its answer came; it waits for a re-PREPARE */
	int parent;		/* internal: the stream that waits for it */
	int budget_ms;
	int64_t deadline;
	cql_done_fn *done;
	void *ctx;
	struct cql_prepared **stmts;	/* borrowed */
	int nstmts;
	size_t stmts_alloc;
	struct buf body;	/* EXECUTE, BATCH: kept to send again */
	struct buf old_id;	/* internal: the id the server did not know */
	struct cql_prepared *reprep;	/* internal: the statement */
};

struct cql_conn {
	int fd;
	int timeout_ms;
	char *peer;		/* "host:port", for messages */
	struct buf rbuf;	/* bytes read; frames before rpos are done */
	size_t rpos;
	struct buf wbuf;	/* request frames not yet written */
	struct buf scratch;	/* a request body being encoded */
	struct slot *slots;	/* indexed by stream id; 0 is never used */
	int nslots;
	int *free_ids;		/* a stack of free stream ids */
	int nfree;
	int max_inflight;
	int user_busy;		/* the caller's requests, orphans included */
	int user_live;		/* the caller's requests waiting for answers */
	int internal_busy;
	int64_t next_expiry;	/* no deadline of a busy slot is earlier */
	long completed;
	int io_errno;		/* a write failed; the next poll reports it */
	int broken;		/* 0, or the enum cql_status it failed with */
	struct buf why;		/* and why */
	int in_callback;
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

static void add_be64(struct buf *b, uint64_t v)
{
	add_be32(b, (uint32_t)(v >> 32));
	add_be32(b, (uint32_t)v);
}

/* [long string] */
static void add_long_string(struct buf *b, const char *s, size_t n)
{
	if (n > CQL_FRAME_MAX)
		BUG("cql [long string] of %zu bytes", n);
	add_be32(b, (uint32_t)n);
	buf_add(b, s, n);
}

/* [short bytes] */
static void add_short_bytes(struct buf *b, const void *p, size_t n)
{
	if (n > 0xffff)
		BUG("cql [short bytes] longer than 65535 bytes");
	add_be16(b, (uint16_t)n);
	buf_add(b, p, n);
}

static unsigned rd_u8(struct rd *r, const char *what)
{
	const unsigned char *q = rd_take(r, 1, what);

	return q ? q[0] : 0;
}

/* [short bytes] appended to `out` */
static void rd_short_bytes(struct rd *r, struct buf *out, const char *what)
{
	unsigned n = rd_u16(r, what);
	const unsigned char *q = rd_take(r, n, what);

	if (q)
		buf_add(out, q, n);
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

int cql_error_retryable(int code)
{
	switch (code) {
	case CQL_ERR_UNAVAILABLE:
	case CQL_ERR_OVERLOADED:
	case CQL_ERR_IS_BOOTSTRAPPING:
	case CQL_ERR_WRITE_TIMEOUT:
	case CQL_ERR_READ_TIMEOUT:
		return 1;
	default:
		return 0;
	}
}

static const char *const consistency_names[] = {
	"ANY", "ONE", "TWO", "THREE", "QUORUM", "ALL", "LOCAL_QUORUM",
	"EACH_QUORUM", "SERIAL", "LOCAL_SERIAL", "LOCAL_ONE",
};

const char *cql_consistency_name(int cl)
{
	if (cl < 0 || (size_t)cl >= ARRAY_SIZE(consistency_names))
		return "UNKNOWN";
	return consistency_names[cl];
}

int cql_consistency_parse(const char *name)
{
	size_t i;

	for (i = 0; i < ARRAY_SIZE(consistency_names); i++)
		if (!strcasecmp(name, consistency_names[i]))
			return (int)i;
	return -1;
}

static const char *const value_kind_names[] = {
	[CQL_V_NULL] = "null",
	[CQL_V_UNSET] = "unset",
	[CQL_V_INT] = "integer",
	[CQL_V_REAL] = "real",
	[CQL_V_BOOL] = "boolean",
	[CQL_V_TEXT] = "text",
	[CQL_V_BLOB] = "blob",
	[CQL_V_UUID] = "uuid",
	[CQL_V_TIMESTAMP] = "timestamp",
	[CQL_V_LIST] = "list",
	[CQL_V_SET] = "set",
	[CQL_V_MAP] = "map",
	[CQL_V_RAW] = "raw",
};

const char *cql_value_kind_name(int kind)
{
	if (kind < 0 || (size_t)kind >= ARRAY_SIZE(value_kind_names))
		return "unknown";
	return value_kind_names[kind];
}

/* ---- results ---- */

void cql_result_init(struct cql_result *res)
{
	struct cql_result blank = CQL_RESULT_INIT;

	*res = blank;
}

static void columns_free(struct cql_column *cols, int n)
{
	int i;

	for (i = 0; cols && i < n; i++) {
		free(cols[i].keyspace);
		free(cols[i].table);
		free(cols[i].name);
		free(cols[i].type_name);
	}
	free(cols);
}

static void column_copy(struct cql_column *dst, const struct cql_column *src)
{
	*dst = *src;
	dst->keyspace = xstrdup(src->keyspace);
	dst->table = xstrdup(src->table);
	dst->name = xstrdup(src->name);
	dst->type_name = xstrdup(src->type_name);
}

void cql_result_release(struct cql_result *res)
{
	columns_free(res->cols, res->ncols);
	columns_free(res->bind, res->nbind);
	free(res->pk_index);
	free(res->cells);
	free(res->raw);
	buf_release(&res->paging_state);
	buf_release(&res->keyspace);
	buf_release(&res->change_type);
	buf_release(&res->target);
	buf_release(&res->object);
	buf_release(&res->warnings);
	buf_release(&res->prepared_id);
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

/* a column's type ids in prefix order; see struct cql_column */
struct tree {
	uint16_t *ids;
	int n;
	int over;
};

static void tree_push(struct tree *t, int id)
{
	if (!t)
		return;
	if (t->n < CQL_TYPE_TREE_MAX)
		t->ids[t->n++] = (uint16_t)id;
	else
		t->over = 1;
}

/*
 * An [option]: a type id and, for custom, collection, UDT and tuple
 * types, the options that follow it. All of them must be consumed even
 * though only the outer id is kept, or every later column is misread.
 * `name` collects a CQL-like spelling such as "map<varchar, list<int>>";
 * `t` (may be NULL) the ids of collections, down to their leaves.
 */
static int rd_type(struct rd *r, struct buf *name, struct tree *t, int depth)
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
	if (type_is_primitive(id) || id == CQL_TYPE_CUSTOM ||
	    id >= CQL_TYPE_LIST)
		tree_push(t, id);
	switch (id) {
	case CQL_TYPE_CUSTOM:
		buf_addch(name, '\'');
		rd_string_buf(r, name, "custom type class");
		buf_addch(name, '\'');
		break;
	case CQL_TYPE_LIST:
	case CQL_TYPE_SET:
		buf_addstr(name, id == CQL_TYPE_LIST ? "list<" : "set<");
		rd_type(r, name, t, depth + 1);
		buf_addch(name, '>');
		break;
	case CQL_TYPE_MAP:
		buf_addstr(name, "map<");
		rd_type(r, name, t, depth + 1);
		buf_addstr(name, ", ");
		rd_type(r, name, t, depth + 1);
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
			rd_type(r, &skip, NULL, depth + 1);
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
			rd_type(r, name, NULL, depth + 1);
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
 * [<global_table_spec>] then `ncols` col_specs, each
 * [<ks><table>]<name><type option>, into cols[] (allocated by the caller,
 * zeroed). After a failure the columns left stay NULL.
 */
static void rd_col_specs(struct rd *r, int global, int ncols,
			 struct cql_column *cols)
{
	char *gks = NULL, *gtable = NULL;
	int i;

	if (global) {
		gks = rd_string(r, "global keyspace");
		gtable = rd_string(r, "global table");
	}
	for (i = 0; i < ncols && !r->failed; i++) {
		struct cql_column *col = &cols[i];
		struct buf tn = BUF_INIT;
		struct tree t = { col->tree, 0, 0 };

		col->keyspace = gks ? xstrdup(gks) : rd_string(r, "keyspace");
		col->table = gtable ? xstrdup(gtable) : rd_string(r, "table");
		col->name = rd_string(r, "column name");
		col->type = rd_type(r, &tn, &t, 0);
		col->type_name = buf_detach(&tn, NULL);
		col->ntree = t.over ? 0 : t.n;
	}
	free(gks);
	free(gtable);
}

/* a count of columns or key indexes, within CQL_COLUMNS_MAX */
static int rd_count(struct rd *r, const char *what)
{
	int32_t n = rd_i32(r, what);

	if (r->failed)
		return 0;
	if (n < 0 || n > CQL_COLUMNS_MAX) {
		rd_fail(r, "%s %" PRId32 " out of range", what, n);
		return 0;
	}
	return n;
}

/*
 * Rows metadata (also a Prepared result's result metadata):
 * <flags><columns_count>[<paging_state>][<global ks><global table>]
 * <col_spec>*  (the specs are absent with no_metadata)
 */
static void rd_rows_metadata(struct rd *r, struct cql_result *res)
{
	int32_t flags = rd_i32(r, "rows flags");
	int32_t len;
	int ncols, i;
	const unsigned char *q;

	if (r->failed)
		return;
	ncols = (int)rd_i32(r, "column count");
	if (r->failed)
		return;
	if (ncols < 0 || ncols > CQL_COLUMNS_MAX) {
		rd_fail(r, "column count %d out of range", ncols);
		return;
	}
	res->rows_flags = flags;
	if (flags & CQL_ROWS_HAS_MORE_PAGES) {
		q = rd_bytes(r, &len, "paging state");
		if (q)
			buf_add(&res->paging_state, q, (size_t)len);
	}
	if (!(flags & CQL_ROWS_NO_METADATA) && (size_t)ncols > rd_left(r) / 4) {
		rd_fail(r, "%d column specs need more than the %zu bytes left",
			ncols, rd_left(r));
		return;
	}
	res->cols = xcalloc(ncols ? (size_t)ncols : 1, sizeof(*res->cols));
	res->ncols = ncols;
	if (!(flags & CQL_ROWS_NO_METADATA)) {
		rd_col_specs(r, flags & CQL_ROWS_GLOBAL_TABLES_SPEC, ncols,
			     res->cols);
		return;
	}
	for (i = 0; i < ncols; i++) {
		struct cql_column *col = &res->cols[i];

		col->keyspace = xstrdup("");
		col->table = xstrdup("");
		col->name = xstrdup("");
		col->type = CQL_TYPE_UNKNOWN;
		col->type_name = xstrdup("unknown");
	}
}

/* Rows: <metadata><rows_count> then rows_count * columns_count [bytes] */
static void parse_rows(struct rd *r, struct cql_result *res)
{
	int32_t nrows, len;
	size_t i, ncells, ncols;

	rd_rows_metadata(r, res);
	nrows = rd_i32(r, "row count");
	if (r->failed)
		return;
	if (nrows < 0) {
		rd_fail(r, "row count %" PRId32 " is negative", nrows);
		return;
	}
	/* every cell takes at least its 4-byte length: check before calloc */
	ncols = (size_t)res->ncols;
	ncells = (size_t)nrows * ncols;
	if (ncols && ncells / ncols != (size_t)nrows) {
		rd_fail(r, "row count %" PRId32 " overflows", nrows);
		return;
	}
	if (ncells > rd_left(r) / 4) {
		rd_fail(r, "%" PRId32 " rows of %zu cells need more than the "
			"%zu bytes left", nrows, ncols, rd_left(r));
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
 * Prepared: <id><metadata><result_metadata>, where <metadata> is
 * <flags><columns_count><pk_count><pk_index: short>*[<global spec>]
 * <col_spec>* and <result_metadata> is Rows metadata.
 */
static void parse_prepared(struct rd *r, struct cql_result *res)
{
	int32_t flags;
	int ncols, npk, i;

	rd_short_bytes(r, &res->prepared_id, "prepared id");
	flags = rd_i32(r, "bind metadata flags");
	ncols = rd_count(r, "bind marker count");
	npk = rd_count(r, "partition key count");
	if (r->failed)
		return;
	if ((size_t)npk > rd_left(r) / 2 ||
	    (size_t)ncols > (rd_left(r) - (size_t)npk * 2) / 4) {
		rd_fail(r, "%d bind markers and %d key indexes need more than "
			"the %zu bytes left", ncols, npk, rd_left(r));
		return;
	}
	res->pk_index = xcalloc(npk ? (size_t)npk : 1, sizeof(*res->pk_index));
	for (i = 0; i < npk; i++) {
		res->pk_index[i] = (int)rd_u16(r, "partition key index");
		if (res->pk_index[i] >= ncols)
			rd_fail(r, "partition key index %d of %d bind markers",
				res->pk_index[i], ncols);
	}
	res->npk = npk;
	res->bind = xcalloc(ncols ? (size_t)ncols : 1, sizeof(*res->bind));
	res->nbind = ncols;
	rd_col_specs(r, flags & CQL_ROWS_GLOBAL_TABLES_SPEC, ncols, res->bind);
	rd_rows_metadata(r, res);
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
		parse_prepared(&r, res);
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

/* " [consistency QUORUM: ..." for the codes whose extra fields say more */
static void error_extras(struct rd *r, int32_t code, struct buf *out)
{
	unsigned cl, i, n;
	int32_t a, b, fails = 0;
	unsigned present;
	struct buf s1 = BUF_INIT, s2 = BUF_INIT;

	switch (code) {
	case CQL_ERR_UNAVAILABLE:
		cl = rd_u16(r, "consistency");
		a = rd_i32(r, "required");
		b = rd_i32(r, "alive");
		buf_addf(out, " [consistency %s: %" PRId32 " of %" PRId32
			 " required replicas alive]",
			 cql_consistency_name((int)cl), b, a);
		break;
	case CQL_ERR_WRITE_TIMEOUT:
	case CQL_ERR_WRITE_FAILURE:
		cl = rd_u16(r, "consistency");
		a = rd_i32(r, "received");
		b = rd_i32(r, "blockfor");
		if (code == CQL_ERR_WRITE_FAILURE)
			fails = rd_i32(r, "failures");
		rd_string_buf(r, &s1, "write type");
		buf_addf(out, " [consistency %s: %" PRId32 " of %" PRId32
			 " replicas acknowledged, ", cql_consistency_name((int)cl),
			 a, b);
		if (code == CQL_ERR_WRITE_FAILURE)
			buf_addf(out, "%" PRId32 " failed, ", fails);
		buf_addf(out, "write type %s]", s1.s);
		break;
	case CQL_ERR_READ_TIMEOUT:
	case CQL_ERR_READ_FAILURE:
		cl = rd_u16(r, "consistency");
		a = rd_i32(r, "received");
		b = rd_i32(r, "blockfor");
		if (code == CQL_ERR_READ_FAILURE)
			fails = rd_i32(r, "failures");
		present = rd_u8(r, "data present");
		buf_addf(out, " [consistency %s: %" PRId32 " of %" PRId32
			 " replicas answered, ", cql_consistency_name((int)cl),
			 a, b);
		if (code == CQL_ERR_READ_FAILURE)
			buf_addf(out, "%" PRId32 " failed, ", fails);
		buf_addf(out, "data %s]", present ? "present" : "missing");
		break;
	case CQL_ERR_FUNCTION_FAILURE:
		rd_string_buf(r, &s1, "keyspace");
		rd_string_buf(r, &s2, "function");
		buf_addf(out, " [function %s.%s(", s1.s, s2.s);
		n = rd_u16(r, "argument count");
		for (i = 0; i < n && !r->failed; i++) {
			buf_reset(&s1);
			rd_string_buf(r, &s1, "argument type");
			buf_addf(out, "%s%s", i ? ", " : "", s1.s);
		}
		buf_addstr(out, ")]");
		break;
	case CQL_ERR_ALREADY_EXISTS:
		rd_string_buf(r, &s1, "keyspace");
		rd_string_buf(r, &s2, "table");
		if (s2.len)
			buf_addf(out, " [table %s.%s]", s1.s, s2.s);
		else
			buf_addf(out, " [keyspace %s]", s1.s);
		break;
	case CQL_ERR_UNPREPARED:
		rd_short_bytes(r, &s1, "unknown id");
		buf_addstr(out, " [statement id 0x");
		for (i = 0; i < s1.len; i++)
			buf_addf(out, "%02x", (unsigned char)s1.s[i]);
		buf_addch(out, ']');
		break;
	}
	buf_release(&s1);
	buf_release(&s2);
}

/* the message and the start of the extra fields, or -1 */
static int rd_error_head(struct rd *r, const void *body, size_t len,
			 int32_t *code, const unsigned char **msg, unsigned *n)
{
	rd_init(r, body, len);
	*code = rd_i32(r, "error code");
	*n = rd_u16(r, "error message");
	*msg = rd_take(r, *n, "error message");
	return r->failed ? -1 : 0;
}

int cql_error_parse(const void *body, size_t len, int *code, struct buf *err)
{
	struct rd r;
	int32_t c;
	unsigned n;
	const unsigned char *msg;
	struct buf extra = BUF_INIT;

	if (rd_error_head(&r, body, len, &c, &msg, &n)) {
		malformed(err, "ERROR", &r);
		return CQL_EPROTO;
	}
	if (code)
		*code = c;
	if (err) {
		/* extra fields the server left out are left out here too */
		error_extras(&r, c, &extra);
		buf_addf(err, "cassandra error 0x%04" PRIx32 " (%s): %.*s%s",
			 (uint32_t)c, cql_error_name(c), (int)n,
			 (const char *)msg, r.failed ? "" : extra.s);
	}
	buf_release(&extra);
	return CQL_ESERVER;
}

/* Unprepared's unknown id into `id`, when the body has one */
static void error_unprepared_id(const void *body, size_t len, struct buf *id)
{
	struct rd r;
	int32_t c;
	unsigned n;
	const unsigned char *msg;

	if (rd_error_head(&r, body, len, &c, &msg, &n) ||
	    c != CQL_ERR_UNPREPARED)
		return;
	rd_short_bytes(&r, id, "unknown id");
	if (r.failed)
		buf_reset(id);
}

int cql_response_parse(const struct cql_frame *f, struct cql_result *res,
		       struct buf *err)
{
	struct rd r;
	unsigned i, n;
	int32_t len;
	int ret;

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
		ret = cql_error_parse(r.p, rd_left(&r), &res->error_code, err);
		if (ret == CQL_ESERVER && res->error_code == CQL_ERR_UNPREPARED)
			error_unprepared_id(r.p, rd_left(&r),
					    &res->prepared_id);
		return ret;
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


/* the index just past the subtree at tree[pos], or -1 when cut short */
static int subtree_end(const uint16_t *t, int n, int pos)
{
	if (pos < 0 || pos >= n)
		return -1;
	switch (t[pos]) {
	case CQL_TYPE_LIST:
	case CQL_TYPE_SET:
		return subtree_end(t, n, pos + 1);
	case CQL_TYPE_MAP:
		return subtree_end(t, n, subtree_end(t, n, pos + 1));
	default:
		return pos + 1;
	}
}

static int is_text_type(int type)
{
	return type == CQL_TYPE_VARCHAR || type == CQL_TYPE_ASCII;
}

/* a collection element; text types quoted as cqlsh does, ' doubled */
static int render(const uint16_t *t, int nt, int pos, const unsigned char *p,
		  int32_t len, int quote, struct buf *out);

static int render_collection(const uint16_t *t, int nt, int pos,
			     const unsigned char *p, size_t n, struct buf *out)
{
	struct rd r;
	int32_t count, i, elen;
	int id = t[pos], kpos = pos + 1, vpos = -1;
	const unsigned char *e;

	if (id == CQL_TYPE_MAP) {
		vpos = subtree_end(t, nt, kpos);
		if (vpos < 0 || subtree_end(t, nt, vpos) < 0)
			return -1;
	}
	rd_init(&r, p, n);
	count = rd_i32(&r, "element count");
	if (r.failed || count < 0 || (size_t)count > rd_left(&r) / 4)
		return -1;
	buf_addch(out, id == CQL_TYPE_LIST ? '[' : '{');
	for (i = 0; i < count && !r.failed; i++) {
		if (i)
			buf_addstr(out, ", ");
		e = rd_bytes(&r, &elen, "element");
		if (r.failed || render(t, nt, kpos, e, elen, 1, out))
			return -1;
		if (id != CQL_TYPE_MAP)
			continue;
		buf_addstr(out, ": ");
		e = rd_bytes(&r, &elen, "map value");
		if (r.failed || render(t, nt, vpos, e, elen, 1, out))
			return -1;
	}
	if (r.failed || rd_left(&r))
		return -1;
	buf_addch(out, id == CQL_TYPE_LIST ? ']' : '}');
	return 0;
}

static int render(const uint16_t *t, int nt, int pos, const unsigned char *p,
		  int32_t len, int quote, struct buf *out)
{
	struct cql_cell cell = { p, len };
	size_t i;
	int id;

	if (pos < 0 || pos >= nt)
		return -1;
	id = t[pos];
	if (len < 0 || !p)
		return cql_cell_text(&cell, id, out);
	if (id == CQL_TYPE_LIST || id == CQL_TYPE_SET || id == CQL_TYPE_MAP)
		return render_collection(t, nt, pos, p, (size_t)len, out);
	if (!quote || !is_text_type(id))
		return cql_cell_text(&cell, id, out);
	buf_addch(out, '\'');
	for (i = 0; i < (size_t)len; i++) {
		if (p[i] == '\'')
			buf_addch(out, '\'');
		buf_addch(out, p[i]);
	}
	buf_addch(out, '\'');
	return 0;
}

int cql_column_text(const struct cql_column *col, const struct cql_cell *cell,
		    struct buf *out)
{
	size_t at = out->len;

	if (!col->ntree || cell->len < 0 || !cell->data)
		return cql_cell_text(cell, col->type, out);
	if (render(col->tree, col->ntree, 0, cell->data, cell->len, 0, out)) {
		buf_setlen(out, at);
		return -1;
	}
	return 0;
}

int cql_cell_int(const struct cql_cell *cell, int64_t *v)
{
	const unsigned char *p = cell->data;

	if (!p)
		return -1;
	switch (cell->len) {
	case 1:
		*v = (int8_t)p[0];
		return 0;
	case 2:
		*v = (int16_t)get_be16(p);
		return 0;
	case 4:
		*v = (int32_t)get_be32(p);
		return 0;
	case 8:
		*v = (int64_t)get_be64(p);
		return 0;
	default:
		return -1;
	}
}

static int hexval(int ch)
{
	if (ch >= '0' && ch <= '9')
		return ch - '0';
	if (ch >= 'a' && ch <= 'f')
		return ch - 'a' + 10;
	if (ch >= 'A' && ch <= 'F')
		return ch - 'A' + 10;
	return -1;
}

int cql_uuid_parse(const char *s, unsigned char out[16])
{
	int i, hi, lo;

	for (i = 0; i < 16; i++) {
		if ((i == 4 || i == 6 || i == 8 || i == 10) && *s++ != '-')
			return -1;
		hi = hexval((unsigned char)s[0]);
		lo = hi < 0 ? -1 : hexval((unsigned char)s[1]);
		if (lo < 0)
			return -1;
		out[i] = (unsigned char)(hi << 4 | lo);
		s += 2;
	}
	return *s ? -1 : 0;
}

/* ---- values ---- */

/* where a value being encoded goes, for messages */
struct enc {
	const struct cql_column *col;
	int index;		/* 1-based bind marker, or 0 */
	struct buf *err;
};

__attribute__((format(printf, 2, 3)))
static int enc_fail(const struct enc *e, const char *fmt, ...)
{
	va_list ap;

	if (!e->err)
		return CQL_EVALUE;
	buf_addstr(e->err, "cannot bind ");
	if (e->index)
		buf_addf(e->err, "value %d ", e->index);
	buf_addf(e->err, "to '%s' (%s): ", e->col->name, e->col->type_name);
	va_start(ap, fmt);
	buf_vaddf(e->err, fmt, ap);
	va_end(ap);
	return CQL_EVALUE;
}

static int enc_kind(const struct enc *e, const struct cql_value *v, int type)
{
	return enc_fail(e, "got %s, want %s", cql_value_kind_name(v->kind),
			cql_type_name(type));
}

/* an int64 that must fit `bytes` bytes, big-endian two's complement */
static int enc_intn(struct buf *out, const struct enc *e, int64_t v,
		    int bytes, int type)
{
	unsigned char p[8];
	int64_t lo = bytes == 8 ? INT64_MIN : -((int64_t)1 << (bytes * 8 - 1));
	int64_t hi = bytes == 8 ? INT64_MAX : ((int64_t)1 << (bytes * 8 - 1)) - 1;
	int i;

	if (v < lo || v > hi)
		return enc_fail(e, "%" PRId64 " is out of range for %s", v,
				cql_type_name(type));
	for (i = 0; i < bytes; i++)
		p[i] = (unsigned char)((uint64_t)v >> ((bytes - 1 - i) * 8));
	buf_add(out, p, (size_t)bytes);
	return 0;
}

/* varint: the fewest bytes whose top bit still carries the sign */
static void enc_varint(struct buf *out, int64_t v)
{
	unsigned char p[8];
	int i, start = 0;

	for (i = 0; i < 8; i++)
		p[i] = (unsigned char)((uint64_t)v >> ((7 - i) * 8));
	while (start < 7 &&
	       ((p[start] == 0x00 && !(p[start + 1] & 0x80)) ||
		(p[start] == 0xff && (p[start + 1] & 0x80))))
		start++;
	buf_add(out, p + start, (size_t)(8 - start));
}

static int enc_body(struct buf *out, const struct enc *e, const uint16_t *t,
		    int nt, int pos, const struct cql_value *v);

/* [value]: an int length, then the bytes; -1 null, -2 not set */
static int enc_value(struct buf *out, const struct enc *e, const uint16_t *t,
		     int nt, int pos, const struct cql_value *v, int top)
{
	size_t at = out->len, n;
	int ret;

	switch (v->kind) {
	case CQL_V_NULL:
	case CQL_V_UNSET:
		if (!top)
			return enc_fail(e, "a %s element inside a collection",
					cql_value_kind_name(v->kind));
		add_be32(out, v->kind == CQL_V_NULL ? 0xffffffffu
						    : 0xfffffffeu);
		return 0;
	case CQL_V_RAW:
		if (v->u.s.len > INT32_MAX)
			return enc_fail(e, "%zu bytes", v->u.s.len);
		add_be32(out, (uint32_t)v->u.s.len);
		buf_add(out, v->u.s.p, v->u.s.len);
		return 0;
	}
	add_be32(out, 0);
	ret = enc_body(out, e, t, nt, pos, v);
	if (ret) {
		buf_setlen(out, at);
		return ret;
	}
	n = out->len - at - 4;
	if (n > INT32_MAX) {
		buf_setlen(out, at);
		return enc_fail(e, "%zu bytes", n);
	}
	put_be32((unsigned char *)out->s + at, (uint32_t)n);
	return 0;
}

static int enc_collection(struct buf *out, const struct enc *e,
			  const uint16_t *t, int nt, int pos,
			  const struct cql_value *v)
{
	int id = t[pos], kpos = pos + 1, vpos = -1, i, per, ret;

	if (id == CQL_TYPE_MAP) {
		if (v->kind != CQL_V_MAP)
			return enc_kind(e, v, id);
		vpos = subtree_end(t, nt, kpos);
	} else if (v->kind != CQL_V_LIST && v->kind != CQL_V_SET) {
		return enc_kind(e, v, id);
	}
	per = id == CQL_TYPE_MAP ? 2 : 1;
	if (v->u.coll.n < 0 || (v->u.coll.n && !v->u.coll.items))
		return enc_fail(e, "a %s of %d elements",
				cql_value_kind_name(v->kind), v->u.coll.n);
	add_be32(out, (uint32_t)v->u.coll.n);
	for (i = 0; i < v->u.coll.n * per; i++) {
		ret = enc_value(out, e, t, nt, i % per ? vpos : kpos,
				&v->u.coll.items[i], 0);
		if (ret)
			return ret;
	}
	return 0;
}

/* the bytes of a value (no length) for the type at tree[pos] */
static int enc_body(struct buf *out, const struct enc *e, const uint16_t *t,
		    int nt, int pos, const struct cql_value *v)
{
	int id = pos >= 0 && pos < nt ? t[pos] : CQL_TYPE_UNKNOWN;
	unsigned char addr[16];
	char tmp[INET6_ADDRSTRLEN];
	size_t i;
	uint64_t u;
	float f;
	double d;

	switch (id) {
	case CQL_TYPE_ASCII:
	case CQL_TYPE_VARCHAR:
		if (v->kind != CQL_V_TEXT)
			return enc_kind(e, v, id);
		if (id == CQL_TYPE_ASCII)
			for (i = 0; i < v->u.s.len; i++)
				if (((const unsigned char *)v->u.s.p)[i] > 0x7f)
					return enc_fail(e, "byte %zu is not "
							"ASCII", i);
		buf_add(out, v->u.s.p, v->u.s.len);
		return 0;
	case CQL_TYPE_BLOB:
		if (v->kind != CQL_V_BLOB)
			return enc_kind(e, v, id);
		buf_add(out, v->u.s.p, v->u.s.len);
		return 0;
	case CQL_TYPE_INET:
		if (v->kind == CQL_V_BLOB &&
		    (v->u.s.len == 4 || v->u.s.len == 16)) {
			buf_add(out, v->u.s.p, v->u.s.len);
			return 0;
		}
		if (v->kind != CQL_V_TEXT)
			return enc_kind(e, v, id);
		snprintf(tmp, sizeof(tmp), "%.*s", (int)v->u.s.len,
			 (const char *)v->u.s.p);
		if (v->u.s.len < sizeof(tmp) && inet_pton(AF_INET, tmp, addr) == 1) {
			buf_add(out, addr, 4);
			return 0;
		}
		if (v->u.s.len < sizeof(tmp) && inet_pton(AF_INET6, tmp, addr) == 1) {
			buf_add(out, addr, 16);
			return 0;
		}
		return enc_fail(e, "'%s' is not an IP address", tmp);
	case CQL_TYPE_BOOLEAN:
		if (v->kind != CQL_V_BOOL)
			return enc_kind(e, v, id);
		buf_addch(out, v->u.i ? 1 : 0);
		return 0;
	case CQL_TYPE_TINYINT:
	case CQL_TYPE_SMALLINT:
	case CQL_TYPE_INT:
	case CQL_TYPE_BIGINT:
	case CQL_TYPE_COUNTER:
		if (v->kind != CQL_V_INT)
			return enc_kind(e, v, id);
		return enc_intn(out, e, v->u.i,
				id == CQL_TYPE_TINYINT ? 1 :
				id == CQL_TYPE_SMALLINT ? 2 :
				id == CQL_TYPE_INT ? 4 : 8, id);
	case CQL_TYPE_VARINT:
		if (v->kind != CQL_V_INT)
			return enc_kind(e, v, id);
		enc_varint(out, v->u.i);
		return 0;
	case CQL_TYPE_FLOAT:
	case CQL_TYPE_DOUBLE:
		if (v->kind == CQL_V_INT)
			d = (double)v->u.i;
		else if (v->kind == CQL_V_REAL)
			d = v->u.d;
		else
			return enc_kind(e, v, id);
		if (id == CQL_TYPE_FLOAT) {
			uint32_t u32;

			f = (float)d;
			memcpy(&u32, &f, 4);
			add_be32(out, u32);
		} else {
			memcpy(&u, &d, 8);
			add_be64(out, u);
		}
		return 0;
	case CQL_TYPE_TIMESTAMP:
		if (v->kind != CQL_V_TIMESTAMP && v->kind != CQL_V_INT)
			return enc_kind(e, v, id);
		add_be64(out, (uint64_t)v->u.i);
		return 0;
	case CQL_TYPE_DATE:
		/* days since the epoch, centred on 2^31 */
		if (v->kind != CQL_V_INT)
			return enc_kind(e, v, id);
		if (v->u.i < INT32_MIN || v->u.i > INT32_MAX)
			return enc_fail(e, "%" PRId64 " days is out of range",
					v->u.i);
		add_be32(out, (uint32_t)(v->u.i + ((int64_t)1 << 31)));
		return 0;
	case CQL_TYPE_TIME:
		if (v->kind != CQL_V_INT)
			return enc_kind(e, v, id);
		if (v->u.i < 0 || v->u.i > INT64_C(86399999999999))
			return enc_fail(e, "%" PRId64 " ns is not a time of "
					"day", v->u.i);
		add_be64(out, (uint64_t)v->u.i);
		return 0;
	case CQL_TYPE_UUID:
	case CQL_TYPE_TIMEUUID:
		if (v->kind != CQL_V_UUID)
			return enc_kind(e, v, id);
		if (id == CQL_TYPE_TIMEUUID && (v->u.uuid[6] >> 4) != 1)
			return enc_fail(e, "a version %d uuid is not a "
					"timeuuid (version 1)",
					v->u.uuid[6] >> 4);
		buf_add(out, v->u.uuid, 16);
		return 0;
	case CQL_TYPE_LIST:
	case CQL_TYPE_SET:
	case CQL_TYPE_MAP:
		return enc_collection(out, e, t, nt, pos, v);
	default:
		return enc_fail(e, "only cql_raw() values bind to this type");
	}
}

int cql_value_encode(struct buf *out, const struct cql_column *col,
		     const struct cql_value *v, struct buf *err)
{
	struct enc e = { col, 0, err };

	return enc_value(out, &e, col->tree, col->ntree, 0, v, 1);
}

int cql_values_encode(struct buf *out, const struct cql_column *bind,
		      int nbind, const struct cql_value *vals, int n,
		      struct buf *err)
{
	size_t at = out->len;
	int i, ret;

	if (n != nbind) {
		if (err)
			buf_addf(err, "cannot bind %d value%s: the statement "
				 "has %d bind marker%s", n, n == 1 ? "" : "s",
				 nbind, nbind == 1 ? "" : "s");
		return CQL_EVALUE;
	}
	if (n > 0xffff) {
		if (err)
			buf_addf(err, "cannot bind %d values: 65535 at most", n);
		return CQL_EVALUE;
	}
	add_be16(out, (uint16_t)n);
	for (i = 0; i < n; i++) {
		struct enc e = { &bind[i], i + 1, err };

		ret = enc_value(out, &e, bind[i].tree, bind[i].ntree, 0,
				&vals[i], 1);
		if (ret) {
			buf_setlen(out, at);
			return ret;
		}
	}
	return 0;
}

/* ---- requests ---- */

static const struct cql_params default_params = CQL_PARAMS_INIT;

static int params_flags(const struct cql_params *p)
{
	return (p->page_size > 0 ? QP_PAGE_SIZE : 0) |
	       (p->paging_state ? QP_PAGING_STATE : 0) |
	       (p->serial_consistency ? QP_SERIAL : 0) |
	       (p->timestamp > 0 ? QP_TIMESTAMP : 0);
}

/* what follows the values in <query_parameters> */
static void add_params_tail(struct buf *b, const struct cql_params *p)
{
	if (p->page_size > 0)
		add_be32(b, (uint32_t)p->page_size);
	if (p->paging_state) {
		if (p->paging_state_len > INT32_MAX)
			BUG("cql paging state of %zu bytes",
			    p->paging_state_len);
		add_be32(b, (uint32_t)p->paging_state_len);
		buf_add(b, p->paging_state, p->paging_state_len);
	}
	if (p->serial_consistency)
		add_be16(b, (uint16_t)p->serial_consistency);
	if (p->timestamp > 0)
		add_be64(b, (uint64_t)p->timestamp);
}

void cql_query_encode(struct buf *body, const char *cql,
		      const struct cql_params *p)
{
	if (!p)
		p = &default_params;
	add_long_string(body, cql, strlen(cql));
	add_be16(body, (uint16_t)p->consistency);
	buf_addch(body, params_flags(p));
	add_params_tail(body, p);
}

void cql_prepare_encode(struct buf *body, const char *cql)
{
	add_long_string(body, cql, strlen(cql));
}

int cql_execute_encode(struct buf *body, const struct cql_prepared *st,
		       const struct cql_value *vals, int n,
		       const struct cql_params *p, struct buf *err)
{
	size_t at = body->len;
	int flags, ret;

	if (!p)
		p = &default_params;
	flags = params_flags(p) | (st->nbind ? QP_VALUES : 0) |
		(st->nres ? QP_SKIP_METADATA : 0);
	add_short_bytes(body, st->id.s, st->id.len);
	add_be16(body, (uint16_t)p->consistency);
	buf_addch(body, flags);
	ret = cql_values_encode(body, st->bind, st->nbind, vals, n, err);
	if (ret) {
		buf_setlen(body, at);
		return ret;
	}
	if (!st->nbind)
		buf_setlen(body, body->len - 2);	/* no <n> either */
	add_params_tail(body, p);
	return 0;
}

void cql_batch_init(struct cql_batch *b, int type)
{
	memset(b, 0, sizeof(*b));
	b->type = type;
	buf_init(&b->queries, 0);
}

void cql_batch_reset(struct cql_batch *b)
{
	b->n = 0;
	b->nstmts = 0;
	buf_reset(&b->queries);
}

void cql_batch_release(struct cql_batch *b)
{
	int type = b->type;

	buf_release(&b->queries);
	free(b->stmts);
	cql_batch_init(b, type);
}

static int batch_full(const struct cql_batch *b, struct buf *err)
{
	if (b->n < 0xffff)
		return 0;
	if (err)
		buf_addstr(err, "cannot add to a batch of 65535 statements: "
			   "send it and start another");
	return 1;
}

int cql_batch_add(struct cql_batch *b, struct cql_prepared *st,
		  const struct cql_value *vals, int n, struct buf *err)
{
	size_t at = b->queries.len;
	int i, ret;

	if (batch_full(b, err))
		return CQL_EVALUE;
	buf_addch(&b->queries, 1);
	add_short_bytes(&b->queries, st->id.s, st->id.len);
	ret = cql_values_encode(&b->queries, st->bind, st->nbind, vals, n,
				err);
	if (ret) {
		buf_setlen(&b->queries, at);
		return ret;
	}
	b->n++;
	for (i = 0; i < b->nstmts; i++)
		if (b->stmts[i] == st)
			return 0;
	ALLOC_GROW(b->stmts, (size_t)b->nstmts + 1, b->alloc);
	b->stmts[b->nstmts++] = st;
	return 0;
}

void cql_batch_add_query(struct cql_batch *b, const char *cql)
{
	if (batch_full(b, NULL))
		BUG("cql batch of 65535 statements");
	buf_addch(&b->queries, 0);
	add_long_string(&b->queries, cql, strlen(cql));
	add_be16(&b->queries, 0);
	b->n++;
}

void cql_batch_encode(struct buf *body, const struct cql_batch *b,
		      const struct cql_params *p)
{
	if (!p)
		p = &default_params;
	buf_addch(body, b->type);
	add_be16(body, (uint16_t)b->n);
	buf_add(body, b->queries.s, b->queries.len);
	add_be16(body, (uint16_t)p->consistency);
	buf_addch(body, (p->serial_consistency ? QP_SERIAL : 0) |
		  (p->timestamp > 0 ? QP_TIMESTAMP : 0));
	if (p->serial_consistency)
		add_be16(body, (uint16_t)p->serial_consistency);
	if (p->timestamp > 0)
		add_be64(body, (uint64_t)p->timestamp);
}

/*
 * A request body with every prepared id `old` replaced by `new`, for a
 * statement the server prepared again under another id. EXECUTE starts
 * with the id; BATCH has it in each prepared <query_i>. Returns 0, or -1
 * when the body does not parse (it was built here, so that is a bug).
 */
static int body_replace_id(int opcode, const struct buf *in, struct buf *out,
			   const struct buf *old, const struct buf *new)
{
	struct rd r;
	unsigned n, i, k, kind, len, nv;
	int32_t vlen;
	const unsigned char *q, *mark;

	rd_init(&r, in->s, in->len);
	if (opcode == CQL_OP_EXECUTE) {
		len = rd_u16(&r, "id");
		q = rd_take(&r, len, "id");
		if (!q || len != old->len || memcmp(q, old->s, len))
			return -1;
		add_short_bytes(out, new->s, new->len);
		buf_add(out, r.p, rd_left(&r));
		return 0;
	}
	buf_addch(out, (int)rd_u8(&r, "type"));
	n = rd_u16(&r, "count");
	add_be16(out, (uint16_t)n);
	for (i = 0; i < n && !r.failed; i++) {
		kind = rd_u8(&r, "kind");
		buf_addch(out, (int)kind);
		if (kind == 0) {
			len = (unsigned)rd_i32(&r, "query");
			q = rd_take(&r, len, "query");
			if (q)
				add_long_string(out, (const char *)q, len);
		} else {
			len = rd_u16(&r, "id");
			q = rd_take(&r, len, "id");
			if (q && len == old->len && !memcmp(q, old->s, len))
				add_short_bytes(out, new->s, new->len);
			else if (q)
				add_short_bytes(out, q, len);
		}
		mark = r.p;
		nv = rd_u16(&r, "value count");
		for (k = 0; k < nv && !r.failed; k++)
			rd_bytes(&r, &vlen, "value");
		if (!r.failed)
			buf_add(out, mark, (size_t)(r.p - mark));
	}
	if (r.failed)
		return -1;
	buf_add(out, r.p, rd_left(&r));
	return 0;
}

/* ---- prepared statements ---- */

/* moves the id and metadata of a Prepared result into `st` */
static void prepared_take(struct cql_prepared *st, struct cql_result *res)
{
	buf_release(&st->id);
	columns_free(st->bind, st->nbind);
	free(st->pk_index);
	columns_free(st->res, st->nres);
	st->id = res->prepared_id;
	res->prepared_id = (struct buf)BUF_INIT;
	st->bind = res->bind;
	st->nbind = res->nbind;
	res->bind = NULL;
	res->nbind = 0;
	st->pk_index = res->pk_index;
	st->npk = res->npk;
	res->pk_index = NULL;
	res->npk = 0;
	st->res_flags = res->rows_flags;
	if (res->rows_flags & CQL_ROWS_NO_METADATA) {
		st->res = NULL;
		st->nres = 0;
	} else {
		st->res = res->cols;
		st->nres = res->ncols;
		res->cols = NULL;
		res->ncols = 0;
	}
	cql_result_release(res);
}

struct cql_prepared *cql_prepared_from_result(struct cql_result *res,
					      const char *query)
{
	struct cql_prepared *st;

	if (res->kind != CQL_RESULT_PREPARED)
		BUG("cql result of kind %d is not Prepared", res->kind);
	st = xcalloc(1, sizeof(*st));
	buf_init(&st->id, 0);
	st->query = xstrdup(query);
	prepared_take(st, res);
	return st;
}

void cql_prepared_free(struct cql_prepared *st)
{
	if (!st)
		return;
	buf_release(&st->id);
	free(st->query);
	columns_free(st->bind, st->nbind);
	free(st->pk_index);
	columns_free(st->res, st->nres);
	free(st);
}

/* Rows sent without metadata (skip_metadata) get the statement's */
static void fill_columns(struct cql_result *res, const struct cql_prepared *st)
{
	int i;

	for (i = 0; i < res->ncols; i++) {
		struct cql_column *col = &res->cols[i];

		free(col->keyspace);
		free(col->table);
		free(col->name);
		free(col->type_name);
		column_copy(col, &st->res[i]);
	}
}

/* ---- the connection ---- */

/* One public call's time budget: an absolute deadline and its size. */
struct op {
	int64_t deadline;
	int budget_ms;
};

static struct op op_start(int timeout_ms)
{
	struct op o;

	o.budget_ms = timeout_ms;
	o.deadline = timeout_ms > 0 ? clock_ms() + timeout_ms : INT64_MAX;
	return o;
}

static int op_left(const struct op *o)
{
	int64_t d;

	if (o->deadline == INT64_MAX)
		return -1;
	d = o->deadline - clock_ms();
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

static int timed_out(struct buf *err, const char *peer, int budget_ms,
		     const char *doing)
{
	if (err)
		buf_addf(err, "timed out after %d ms %s cassandra at '%s': "
			 "is it still starting?", budget_ms, doing, peer);
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

/* ---- streams ---- */

static void slots_grow(struct cql_conn *c, int want)
{
	int i, old = c->nslots;

	if (want <= old)
		return;
	c->slots = xrealloc(c->slots, (size_t)want * sizeof(*c->slots));
	c->free_ids = xrealloc(c->free_ids, (size_t)want * sizeof(int));
	memset(c->slots + old, 0, (size_t)(want - old) * sizeof(*c->slots));
	/* pushed high to low so that the lowest ids go out first */
	for (i = want - 1; i >= old; i--) {
		buf_init(&c->slots[i].body, 0);
		buf_init(&c->slots[i].old_id, 0);
		if (i)
			c->free_ids[c->nfree++] = i;
	}
	c->nslots = want;
}

static int slot_take(struct cql_conn *c, int internal)
{
	struct slot *s;
	int id;

	if (!c->nfree)
		BUG("cql connection out of stream ids");
	id = c->free_ids[--c->nfree];
	s = &c->slots[id];
	s->state = SLOT_BUSY;
	s->internal = internal;
	s->retried = 0;
	s->answered = 0;
	s->parent = 0;
	s->nstmts = 0;
	s->done = NULL;
	s->ctx = NULL;
	s->reprep = NULL;
	buf_reset(&s->body);
	buf_reset(&s->old_id);
	if (internal) {
		c->internal_busy++;
	} else {
		c->user_busy++;
		c->user_live++;
	}
	return id;
}

static void slot_free(struct cql_conn *c, int id)
{
	struct slot *s = &c->slots[id];

	if (s->state == SLOT_FREE)
		BUG("cql stream %d freed twice", id);
	if (s->internal) {
		c->internal_busy--;
	} else {
		c->user_busy--;
		if (s->state == SLOT_BUSY)
			c->user_live--;
	}
	s->state = SLOT_FREE;
	/* keep the memory of small bodies; give back the big ones */
	if (s->body.alloc > 65536)
		buf_release(&s->body);
	c->free_ids[c->nfree++] = id;
}

/* frees the slot, then calls its callback: the callback may submit */
static void complete(struct cql_conn *c, int id, int status,
		     struct cql_result *res, const char *msg)
{
	cql_done_fn *done = c->slots[id].done;
	void *ctx = c->slots[id].ctx;

	slot_free(c, id);
	c->completed++;
	if (!done)
		return;
	c->in_callback++;
	done(ctx, status, res, msg ? msg : "");
	c->in_callback--;
}

/*
 * The connection is lost (or unusable): every request in flight is
 * completed with `status` and the same message, and it stays broken.
 */
__attribute__((format(printf, 3, 4)))
static void conn_fail(struct cql_conn *c, int status, const char *fmt, ...)
{
	struct cql_result empty = CQL_RESULT_INIT;
	va_list ap;
	int id, n = c->user_live;

	if (c->broken)
		return;
	c->broken = status;
	va_start(ap, fmt);
	buf_vaddf(&c->why, fmt, ap);
	va_end(ap);
	if (n)
		buf_addf(&c->why, " (%d request%s in flight failed)", n,
			 n == 1 ? "" : "s");
	if (c->fd >= 0)
		close(c->fd);
	c->fd = -1;
	buf_release(&c->wbuf);
	buf_release(&c->rbuf);
	c->rpos = 0;
	for (id = 1; id < c->nslots; id++) {
		struct slot *s = &c->slots[id];

		if (s->state == SLOT_BUSY && !s->internal) {
			complete(c, id, status, &empty, c->why.s);
			cql_result_release(&empty);
		} else if (s->state != SLOT_FREE) {
			slot_free(c, id);
		}
	}
}

static int report_broken(const struct cql_conn *c, struct buf *err)
{
	if (err)
		buf_addstr(err, c->why.s);
	return c->broken;
}

/* ---- writing ---- */

/* writes what the socket takes now; an error waits for the next poll */
static void flush(struct cql_conn *c)
{
	size_t off = 0;
	ssize_t n;

	while (off < c->wbuf.len && !c->io_errno) {
		n = send(c->fd, c->wbuf.s + off, c->wbuf.len - off,
			 MSG_NOSIGNAL);
		if (n > 0)
			off += (size_t)n;
		else if (n < 0 && errno == EINTR)
			continue;
		else if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			break;
		else
			c->io_errno = n < 0 ? errno : EPIPE;
	}
	buf_consume(&c->wbuf, off);
}

/* queues a frame on stream `id` */
static void queue_frame(struct cql_conn *c, int id, int opcode,
			const void *body, size_t len)
{
	cql_frame_encode(&c->wbuf, (int16_t)id, opcode, body, len);
	if (c->wbuf.len >= CQL_FLUSH_AT)
		flush(c);
}

/* ---- reading ---- */

static int start_reprepare(struct cql_conn *c, int id,
			   const struct buf *unknown)
{
	struct slot *s = &c->slots[id], *t;
	struct cql_prepared *st = NULL;
	int i, tid;

	for (i = 0; i < s->nstmts; i++)
		if (s->stmts[i]->id.len == unknown->len &&
		    !memcmp(s->stmts[i]->id.s, unknown->s, unknown->len))
			st = s->stmts[i];
	if (!st || !st->query || !*st->query ||
	    c->internal_busy >= CQL_INTERNAL_STREAMS)
		return 0;
	tid = slot_take(c, 1);
	t = &c->slots[tid];
	t->opcode = CQL_OP_PREPARE;
	t->parent = id;
	t->reprep = st;
	t->deadline = s->deadline;
	t->budget_ms = s->budget_ms;
	buf_add(&t->old_id, unknown->s, unknown->len);
	s->retried = 1;
	s->answered = 1;
	buf_reset(&c->scratch);
	cql_prepare_encode(&c->scratch, st->query);
	queue_frame(c, tid, CQL_OP_PREPARE, c->scratch.s, c->scratch.len);
	return 1;
}

/* the answer to a re-PREPARE: send the waiting request again, or fail it */
static void reprepared(struct cql_conn *c, int tid, int ret,
		       struct cql_result *res, struct buf *msg)
{
	struct slot *t = &c->slots[tid];
	int pid = t->parent;
	struct slot *p = &c->slots[pid];
	struct cql_prepared *st = t->reprep;
	struct buf body = BUF_INIT, why = BUF_INIT, old = t->old_id;

	t->old_id = (struct buf)BUF_INIT;
	slot_free(c, tid);
	if (p->state == SLOT_ORPHAN) {
		/* it timed out meanwhile; its one answer already came */
		slot_free(c, pid);
		goto out;
	}
	if (p->state != SLOT_BUSY || !p->answered)
		goto out;	/* only a confused server gets here */
	if (!ret && res->kind != CQL_RESULT_PREPARED) {
		buf_addstr(msg, "the answer to PREPARE is not a Prepared result");
		ret = CQL_EPROTO;
	}
	if (ret) {
		buf_addf(&why, "cannot prepare '%s' again after cassandra "
			 "forgot it: %s", st->query, msg->s);
		complete(c, pid, ret, res, why.s);
		goto out;
	}
	if (res->prepared_id.len != old.len ||
	    memcmp(res->prepared_id.s, old.s, old.len)) {
		if (body_replace_id(p->opcode, &p->body, &body, &old,
				    &res->prepared_id))
			BUG("cql cannot re-read its own request");
		buf_release(&p->body);
		p->body = body;
		body = (struct buf)BUF_INIT;
	}
	prepared_take(st, res);
	p->answered = 0;
	queue_frame(c, pid, p->opcode, p->body.s, p->body.len);
out:
	buf_release(&old);
	buf_release(&body);
	buf_release(&why);
}

static void handle_frame(struct cql_conn *c, const struct cql_frame *f)
{
	struct cql_result res = CQL_RESULT_INIT;
	struct buf msg = BUF_INIT;
	int id = f->hdr.stream, ret;
	struct slot *s;

	/* events (-1) and answers to nothing we sent are skipped */
	if (id <= 0 || id >= c->nslots || c->slots[id].state == SLOT_FREE)
		return;
	s = &c->slots[id];
	if (s->internal) {
		ret = cql_response_parse(f, &res, &msg);
		reprepared(c, id, ret, &res, &msg);
		goto out;
	}
	/* a second answer while its re-PREPARE is out: not ours to take */
	if (s->answered)
		return;
	if (s->state == SLOT_ORPHAN) {
		slot_free(c, id);
		return;
	}
	ret = cql_response_parse(f, &res, &msg);
	if (ret == CQL_ESERVER && res.error_code == CQL_ERR_UNPREPARED &&
	    !s->retried && start_reprepare(c, id, &res.prepared_id))
		goto out;
	if (!ret && res.kind == CQL_RESULT_ROWS &&
	    (res.rows_flags & CQL_ROWS_NO_METADATA) &&
	    s->opcode == CQL_OP_EXECUTE && s->nstmts == 1 &&
	    s->stmts[0]->nres == res.ncols)
		fill_columns(&res, s->stmts[0]);
	complete(c, id, ret, &res, msg.s);
out:
	cql_result_release(&res);
	buf_release(&msg);
}

/* every whole frame in rbuf, in order */
static void dispatch(struct cql_conn *c)
{
	struct buf msg = BUF_INIT;
	struct cql_frame f;
	size_t used = 0;
	int ret;

	while (!c->broken) {
		ret = cql_frame_split(c->rbuf.s + c->rpos,
				      c->rbuf.len - c->rpos, &f, &used, &msg);
		if (!ret)
			break;
		if (ret < 0) {
			conn_fail(c, CQL_EPROTO, "cassandra at '%s': %s",
				  c->peer, msg.s);
			break;
		}
		/* callbacks only write: the frame stays where it is */
		c->rpos += used;
		handle_frame(c, &f);
	}
	buf_release(&msg);
	if (!c->broken && c->rpos) {
		buf_consume(&c->rbuf, c->rpos);
		c->rpos = 0;
	}
}

static void read_some(struct cql_conn *c)
{
	ssize_t n;
	int i;

	for (i = 0; i < CQL_READS_PER_POLL && !c->broken; i++) {
		buf_grow(&c->rbuf, CQL_READ_CHUNK);
		n = recv(c->fd, c->rbuf.s + c->rbuf.len,
			 c->rbuf.alloc - c->rbuf.len - 1, 0);
		if (n > 0) {
			buf_setlen(&c->rbuf, c->rbuf.len + (size_t)n);
			dispatch(c);
			continue;
		}
		if (n == 0) {
			conn_fail(c, CQL_EIO, "cassandra at '%s' closed the "
				  "connection: is it restarting? connect "
				  "again and resend", c->peer);
			return;
		}
		if (errno == EINTR)
			continue;
		if (errno == EAGAIN || errno == EWOULDBLOCK)
			return;
		{
			struct buf e = BUF_INIT;

			add_errno(&e, errno);
			conn_fail(c, CQL_EIO, "cannot read from cassandra at "
				  "'%s': %s; did it restart? connect again "
				  "and resend", c->peer, e.s);
			buf_release(&e);
		}
		return;
	}
}

/* requests past their deadline complete with CQL_ETIMEOUT */
static void expire(struct cql_conn *c)
{
	struct cql_result empty = CQL_RESULT_INIT;
	struct buf msg = BUF_INIT;
	int64_t now = clock_ms();
	cql_done_fn *done;
	void *ctx;
	int id;

	if (now < c->next_expiry)
		return;
	/* callbacks may submit: they lower it again */
	c->next_expiry = INT64_MAX;
	for (id = 1; id < c->nslots && !c->broken; id++) {
		struct slot *s = &c->slots[id];

		if (s->state != SLOT_BUSY)
			continue;
		if (s->deadline > now) {
			if (s->deadline < c->next_expiry)
				c->next_expiry = s->deadline;
			continue;
		}
		/*
		 * Its id stays taken until its late answer comes (or, when
		 * that came and a re-PREPARE is out, until the re-PREPARE's).
		 */
		done = s->done;
		ctx = s->ctx;
		s->state = SLOT_ORPHAN;
		if (s->internal)
			continue;
		c->user_live--;
		c->completed++;
		if (!done)
			continue;
		buf_reset(&msg);
		timed_out(&msg, c->peer, s->budget_ms, "waiting for");
		c->in_callback++;
		done(ctx, CQL_ETIMEOUT, &empty, msg.s);
		c->in_callback--;
		cql_result_release(&empty);
	}
	buf_release(&msg);
}

/*
 * One round: write what is queued, wait for the socket up to `wait_ms`
 * (-1: until the next deadline), read and dispatch, expire. Returns the
 * requests completed, or the connection's failure.
 */
static long pump(struct cql_conn *c, int wait_ms)
{
	struct pollfd pfd;
	long before = c->completed;
	int64_t left;
	int timeout, n;

	if (c->broken)
		return c->broken;
	flush(c);
	if (!c->io_errno) {
		timeout = wait_ms;
		if (c->next_expiry != INT64_MAX) {
			left = c->next_expiry - clock_ms();
			left = left < 0 ? 0 : left > INT_MAX ? INT_MAX : left;
			if (timeout < 0 || left < timeout)
				timeout = (int)left;
		}
		pfd.fd = c->fd;
		pfd.events = POLLIN | (c->wbuf.len ? POLLOUT : 0);
		pfd.revents = 0;
		n = poll(&pfd, 1, timeout);
		if (n > 0 && (pfd.revents & POLLOUT))
			flush(c);
		if (n > 0 && (pfd.revents & (POLLIN | POLLHUP | POLLERR)))
			read_some(c);
	}
	if (c->io_errno && !c->broken) {
		struct buf e = BUF_INIT;

		add_errno(&e, c->io_errno);
		conn_fail(c, CQL_EIO, "cannot write to cassandra at '%s': "
			  "%s; did it restart? connect again and resend",
			  c->peer, e.s);
		buf_release(&e);
	}
	if (!c->broken)
		expire(c);
	if (c->broken)
		return c->broken;
	return c->completed - before;
}

/* waits until a new request of the caller's may take a stream */
static int wait_stream(struct cql_conn *c, struct buf *err)
{
	long ret;

	for (;;) {
		if (c->broken)
			return report_broken(c, err);
		if (c->user_busy < c->max_inflight)
			return 0;
		if (c->in_callback) {
			if (err)
				buf_addf(err, "no free stream to cassandra at "
					 "'%s' for a request sent from a "
					 "callback (%d in flight): raise the "
					 "limit or send it later", c->peer,
					 c->user_busy);
			return CQL_EBUSY;
		}
		if (!c->user_live) {
			/* a server that answers nothing is as good as gone */
			conn_fail(c, CQL_ETIMEOUT, "cassandra at '%s' answered "
				  "none of the last %d requests in time: is it "
				  "overloaded or gone? connect again",
				  c->peer, c->user_busy);
			return report_broken(c, err);
		}
		ret = pump(c, -1);
		if (ret < 0)
			return report_broken(c, err);
	}
}

/* takes a stream (there is one: wait_stream() said so) and queues */
static void send_request(struct cql_conn *c, int opcode, const void *body,
			 size_t len, struct cql_prepared *const *stmts,
			 int nstmts, cql_done_fn *done, void *ctx,
			 const struct op *o)
{
	int id = slot_take(c, 0), i;
	struct slot *s = &c->slots[id];

	s->opcode = opcode;
	s->done = done;
	s->ctx = ctx;
	s->deadline = o->deadline;
	s->budget_ms = o->budget_ms;
	if (nstmts) {
		ALLOC_GROW(s->stmts, (size_t)nstmts, s->stmts_alloc);
		for (i = 0; i < nstmts; i++)
			s->stmts[i] = stmts[i];
		s->nstmts = nstmts;
		buf_add(&s->body, body, len);
	}
	if (o->deadline < c->next_expiry)
		c->next_expiry = o->deadline;
	queue_frame(c, id, opcode, body, len);
}

int cql_submit(struct cql_conn *c, int opcode, const void *body, size_t len,
	       struct cql_prepared *const *stmts, int nstmts,
	       cql_done_fn *done, void *ctx, struct buf *err)
{
	struct op o = op_start(c->timeout_ms);
	int ret = wait_stream(c, err);

	if (ret)
		return ret;
	if (len > CQL_FRAME_MAX) {
		if (err)
			buf_addf(err, "request of %zu bytes is too big for "
				 "cassandra: split it", len);
		return CQL_EVALUE;
	}
	send_request(c, opcode, body, len, stmts, nstmts, done, ctx, &o);
	return 0;
}

int cql_submit_query(struct cql_conn *c, const char *cql,
		     const struct cql_params *p, cql_done_fn *done, void *ctx,
		     struct buf *err)
{
	int ret = wait_stream(c, err);

	if (ret)
		return ret;
	buf_reset(&c->scratch);
	cql_query_encode(&c->scratch, cql, p);
	return cql_submit(c, CQL_OP_QUERY, c->scratch.s, c->scratch.len,
			  NULL, 0, done, ctx, err);
}

int cql_submit_execute(struct cql_conn *c, struct cql_prepared *st,
		       const struct cql_value *vals, int n,
		       const struct cql_params *p, cql_done_fn *done,
		       void *ctx, struct buf *err)
{
	int ret = wait_stream(c, err);

	if (ret)
		return ret;
	buf_reset(&c->scratch);
	ret = cql_execute_encode(&c->scratch, st, vals, n, p, err);
	if (ret)
		return ret;
	return cql_submit(c, CQL_OP_EXECUTE, c->scratch.s, c->scratch.len,
			  &st, 1, done, ctx, err);
}

int cql_submit_batch(struct cql_conn *c, const struct cql_batch *b,
		     const struct cql_params *p, cql_done_fn *done, void *ctx,
		     struct buf *err)
{
	int ret = wait_stream(c, err);

	if (ret)
		return ret;
	buf_reset(&c->scratch);
	cql_batch_encode(&c->scratch, b, p);
	return cql_submit(c, CQL_OP_BATCH, c->scratch.s, c->scratch.len,
			  b->stmts, b->nstmts, done, ctx, err);
}

static void no_callbacks_here(const struct cql_conn *c, const char *what)
{
	if (c->in_callback)
		BUG("%s called from a cql callback", what);
}

int cql_poll(struct cql_conn *c, int timeout_ms, struct buf *err)
{
	long ret;

	no_callbacks_here(c, "cql_poll");
	if (c->broken)
		return report_broken(c, err);
	ret = pump(c, timeout_ms < 0 ? 0 : timeout_ms);
	if (ret < 0)
		return report_broken(c, err);
	return ret > INT_MAX ? INT_MAX : (int)ret;
}

int cql_drain(struct cql_conn *c, struct buf *err)
{
	no_callbacks_here(c, "cql_drain");
	while (c->user_live && !c->broken)
		pump(c, -1);
	if (c->broken)
		return report_broken(c, err);
	return 0;
}

int cql_inflight(const struct cql_conn *c)
{
	return c->user_live;
}

int cql_conn_broken(const struct cql_conn *c)
{
	return c->broken;
}

void cql_set_max_inflight(struct cql_conn *c, int n)
{
	if (n < 1 || n > CQL_INFLIGHT_MAX)
		BUG("cql in-flight limit %d outside 1..%d", n,
		    CQL_INFLIGHT_MAX);
	c->max_inflight = n;
	slots_grow(c, n + CQL_INTERNAL_STREAMS + 1);
}

void cql_set_timeout(struct cql_conn *c, int timeout_ms)
{
	c->timeout_ms = timeout_ms;
}

/* ---- blocking calls: a submit and a wait ---- */

struct waiter {
	int done;
	int status;
	struct cql_result *res;		/* takes the answer; may be NULL */
	struct buf *err;
};

static void waiter_done(void *ctx, int status, struct cql_result *res,
			const char *msg)
{
	struct waiter *w = ctx;

	w->done = 1;
	w->status = status;
	if (w->res) {
		cql_result_release(w->res);
		*w->res = *res;
		cql_result_init(res);
	}
	if (status && w->err)
		buf_addstr(w->err, msg);
}

static int run(struct cql_conn *c, int opcode, const struct buf *body,
	       struct cql_prepared *const *stmts, int nstmts,
	       struct cql_result *res, const struct op *o, struct buf *err)
{
	struct waiter w = { 0, 0, res, err };
	int ret;

	no_callbacks_here(c, "a blocking cql call");
	ret = wait_stream(c, err);
	if (ret)
		return ret;
	send_request(c, opcode, body->s, body->len, stmts, nstmts,
		     waiter_done, &w, o);
	/* conn_fail() completes every request, this one included */
	while (!w.done)
		pump(c, -1);
	return w.status;
}

static int run_now(struct cql_conn *c, int opcode, const struct buf *body,
		   struct cql_prepared *const *stmts, int nstmts,
		   struct cql_result *res, struct buf *err)
{
	struct op o = op_start(c->timeout_ms);

	return run(c, opcode, body, stmts, nstmts, res, &o, err);
}

int cql_query_params(struct cql_conn *c, const char *cql,
		     const struct cql_params *p, struct cql_result *res,
		     struct buf *err)
{
	struct buf body = BUF_INIT;
	size_t n = strlen(cql);
	int ret;

	cql_result_release(res);
	if (n > CQL_FRAME_MAX - 64) {
		if (err)
			buf_addf(err, "query of %zu bytes is too long for "
				 "cassandra: split it", n);
		return CQL_EVALUE;
	}
	cql_query_encode(&body, cql, p);
	ret = run_now(c, CQL_OP_QUERY, &body, NULL, 0, res, err);
	buf_release(&body);
	return ret;
}

int cql_query(struct cql_conn *c, const char *cql, struct cql_result *res,
	      struct buf *err)
{
	return cql_query_params(c, cql, NULL, res, err);
}

int cql_prepare(struct cql_conn *c, const char *cql,
		struct cql_prepared **out, struct buf *err)
{
	struct buf body = BUF_INIT;
	struct cql_result res = CQL_RESULT_INIT;
	int ret;

	*out = NULL;
	if (strlen(cql) > CQL_FRAME_MAX - 64) {
		if (err)
			buf_addstr(err, "statement too long for cassandra");
		return CQL_EVALUE;
	}
	cql_prepare_encode(&body, cql);
	ret = run_now(c, CQL_OP_PREPARE, &body, NULL, 0, &res, err);
	if (!ret && res.kind != CQL_RESULT_PREPARED) {
		if (err)
			buf_addf(err, "cassandra at '%s' answered PREPARE with "
				 "a result of kind %d, not Prepared", c->peer,
				 res.kind);
		ret = CQL_EPROTO;
	}
	if (!ret)
		*out = cql_prepared_from_result(&res, cql);
	cql_result_release(&res);
	buf_release(&body);
	return ret;
}

int cql_execute(struct cql_conn *c, struct cql_prepared *st,
		const struct cql_value *vals, int n,
		const struct cql_params *p, struct cql_result *res,
		struct buf *err)
{
	struct buf body = BUF_INIT;
	int ret;

	cql_result_release(res);
	ret = cql_execute_encode(&body, st, vals, n, p, err);
	if (!ret)
		ret = run_now(c, CQL_OP_EXECUTE, &body, &st, 1, res, err);
	buf_release(&body);
	return ret;
}

int cql_batch_execute(struct cql_conn *c, const struct cql_batch *b,
		      const struct cql_params *p, struct cql_result *res,
		      struct buf *err)
{
	struct buf body = BUF_INIT;
	int ret;

	cql_result_release(res);
	cql_batch_encode(&body, b, p);
	ret = run_now(c, CQL_OP_BATCH, &body, b->stmts, b->nstmts, res, err);
	buf_release(&body);
	return ret;
}

int cql_foreach_page(struct cql_conn *c, const char *cql,
		     struct cql_prepared *st, const struct cql_value *vals,
		     int n, const struct cql_params *p,
		     int (*page)(void *ctx, struct cql_result *res),
		     void *ctx, struct buf *err)
{
	struct cql_params q = p ? *p : default_params;
	struct cql_result res = CQL_RESULT_INIT;
	struct buf state = BUF_INIT;
	int ret, more;

	if (q.page_size <= 0)
		q.page_size = 5000;
	q.paging_state = NULL;
	for (;;) {
		ret = st ? cql_execute(c, st, vals, n, &q, &res, err)
			 : cql_query_params(c, cql, &q, &res, err);
		if (ret)
			break;
		if (res.kind != CQL_RESULT_ROWS) {
			if (err)
				buf_addf(err, "'%s' returned no rows to page "
					 "through", st ? st->query : cql);
			ret = CQL_EPROTO;
			break;
		}
		more = (res.rows_flags & CQL_ROWS_HAS_MORE_PAGES) &&
		       res.paging_state.len;
		buf_reset(&state);
		buf_add(&state, res.paging_state.s, res.paging_state.len);
		ret = page(ctx, &res);
		if (ret || !more)
			break;
		q.paging_state = state.s;
		q.paging_state_len = state.len;
	}
	cql_result_release(&res);
	buf_release(&state);
	return ret;
}

/* ---- connecting ---- */

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
	c->next_expiry = INT64_MAX;
	buf_init(&c->rbuf, 0);
	buf_init(&c->wbuf, 0);
	buf_init(&c->scratch, 0);
	buf_init(&c->why, 0);
	cql_set_max_inflight(c, CQL_INFLIGHT_DEFAULT);
	return c;
}

void cql_close(struct cql_conn *c)
{
	int i;

	if (!c)
		return;
	no_callbacks_here(c, "cql_close");
	if (!c->broken)
		conn_fail(c, CQL_EIO, "the connection to cassandra at '%s' "
			  "was closed", c->peer);
	for (i = 0; i < c->nslots; i++) {
		buf_release(&c->slots[i].body);
		buf_release(&c->slots[i].old_id);
		free(c->slots[i].stmts);
	}
	free(c->slots);
	free(c->free_ids);
	free(c->peer);
	buf_release(&c->rbuf);
	buf_release(&c->wbuf);
	buf_release(&c->scratch);
	buf_release(&c->why);
	free(c);
}

static int startup_op(struct cql_conn *c, const struct op *o, struct buf *err)
{
	struct buf body = BUF_INIT;
	int ret;

	add_be16(&body, 1);		/* [string map] of one entry */
	add_string(&body, "CQL_VERSION");
	add_string(&body, "3.0.0");
	ret = run(c, CQL_OP_STARTUP, &body, NULL, 0, NULL, o, err);
	buf_release(&body);
	return ret;
}

int cql_startup(struct cql_conn *c, struct buf *err)
{
	struct op o = op_start(c->timeout_ms);

	return startup_op(c, &o, err);
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
				timed_out(err, peer, o->budget_ms, "connecting to");
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
	/* a probe always ends: a non-positive timeout is not "forever" here */
	struct op o = op_start(timeout_ms > 0 ? timeout_ms : 100);
	struct cql_conn *c = NULL;
	struct cql_result res = CQL_RESULT_INIT;
	struct buf body = BUF_INIT;
	const struct cql_cell *cell;
	int ret;

	ret = connect_op(&c, host, port, timeout_ms, &o, err);
	if (ret)
		goto out;
	cql_query_encode(&body, "SELECT release_version FROM system.local",
			 NULL);
	ret = run(c, CQL_OP_QUERY, &body, NULL, 0, &res, &o, err);
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
	buf_release(&body);
	cql_close(c);
	return ret;
}
