/* cql: a client for Cassandra's CQL native protocol v4 over plain TCP. */
#ifndef PANCAKE_CQL_H
#define PANCAKE_CQL_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "util/buf.h"

/*
 * Layers, bottom up:
 *   - pure framing: cql_frame_encode() builds a request frame,
 *     cql_frame_split() finds one whole response frame at the start of a
 *     byte buffer (bytes arrive in any split; nothing is read here);
 *   - pure encoding: typed values (struct cql_value) checked against a
 *     prepared statement's bind metadata and encoded per the spec, and the
 *     bodies of QUERY, EXECUTE and BATCH (cql_*_encode());
 *   - pure decoding: cql_response_parse() / cql_result_parse() /
 *     cql_error_parse() turn a response body into a struct cql_result or a
 *     message; unit tests and fuzzers call these on recorded bytes;
 *   - a connection: one socket, many requests in flight on it (stream ids
 *     1..N), answers matched by stream id in whatever order they come.
 *     cql_submit_*() queue a request with a callback; cql_poll() and
 *     cql_drain() send, read and call the callbacks. The blocking calls
 *     (cql_query(), cql_prepare(), cql_execute(), ...) are a submit and a
 *     wait, and complete other requests' callbacks while they wait.
 * Everything runs on the caller's thread; a connection is not shared
 * between threads.
 */

#define CQL_PROTOCOL_VERSION	0x04
#define CQL_RESPONSE_BIT	0x80
#define CQL_HEADER_LEN		9
/* bodies longer than this are refused before anything is allocated */
#define CQL_FRAME_MAX		(256u << 20)
#define CQL_DEFAULT_PORT	9042
/* requests one connection keeps in flight: default and cap (v4: 32768 ids) */
#define CQL_INFLIGHT_DEFAULT	128
#define CQL_INFLIGHT_MAX	32000
/* a collection type's full shape is kept up to this many nested ids */
#define CQL_TYPE_TREE_MAX	8

/* Return codes: 0 is success, these are the failures. */
enum cql_status {
	CQL_EIO = -1,		/* connect, read or write failed; peer closed */
	CQL_ETIMEOUT = -2,	/* the connection's timeout ran out */
	CQL_EPROTO = -3,	/* malformed, oversized or unexpected frame */
	CQL_ESERVER = -4,	/* the server answered ERROR (see error_code) */
	CQL_EAUTH = -5,		/* the server wants authentication */
	CQL_EVALUE = -6,	/* values do not fit the statement: nothing sent */
	CQL_EBUSY = -7,		/* no free stream inside a callback: nothing sent */
};

enum cql_opcode {
	CQL_OP_ERROR = 0x00,
	CQL_OP_STARTUP = 0x01,
	CQL_OP_READY = 0x02,
	CQL_OP_AUTHENTICATE = 0x03,
	CQL_OP_OPTIONS = 0x05,
	CQL_OP_SUPPORTED = 0x06,
	CQL_OP_QUERY = 0x07,
	CQL_OP_RESULT = 0x08,
	CQL_OP_PREPARE = 0x09,
	CQL_OP_EXECUTE = 0x0A,
	CQL_OP_REGISTER = 0x0B,
	CQL_OP_EVENT = 0x0C,
	CQL_OP_BATCH = 0x0D,
	CQL_OP_AUTH_CHALLENGE = 0x0E,
	CQL_OP_AUTH_RESPONSE = 0x0F,
	CQL_OP_AUTH_SUCCESS = 0x10,
};

enum cql_frame_flags {
	CQL_FLAG_COMPRESSION = 1 << 0,
	CQL_FLAG_TRACING = 1 << 1,
	CQL_FLAG_CUSTOM_PAYLOAD = 1 << 2,
	CQL_FLAG_WARNING = 1 << 3,
};

enum cql_consistency {
	CQL_ANY = 0x0000,
	CQL_ONE = 0x0001,
	CQL_TWO = 0x0002,
	CQL_THREE = 0x0003,
	CQL_QUORUM = 0x0004,
	CQL_ALL = 0x0005,
	CQL_LOCAL_QUORUM = 0x0006,
	CQL_EACH_QUORUM = 0x0007,
	CQL_SERIAL = 0x0008,
	CQL_LOCAL_SERIAL = 0x0009,
	CQL_LOCAL_ONE = 0x000A,
};

/* ERROR codes of protocol v4 (section 9 of the spec). */
enum cql_error_code {
	CQL_ERR_SERVER = 0x0000,
	CQL_ERR_PROTOCOL = 0x000A,
	CQL_ERR_AUTH = 0x0100,
	CQL_ERR_UNAVAILABLE = 0x1000,		/* + cl, required, alive */
	CQL_ERR_OVERLOADED = 0x1001,
	CQL_ERR_IS_BOOTSTRAPPING = 0x1002,
	CQL_ERR_TRUNCATE = 0x1003,
	CQL_ERR_WRITE_TIMEOUT = 0x1100,		/* + cl, received, blockfor, type */
	CQL_ERR_READ_TIMEOUT = 0x1200,		/* + cl, received, blockfor, data */
	CQL_ERR_READ_FAILURE = 0x1300,		/* + ..., failures, data */
	CQL_ERR_FUNCTION_FAILURE = 0x1400,	/* + keyspace, function, args */
	CQL_ERR_WRITE_FAILURE = 0x1500,		/* + ..., failures, write type */
	CQL_ERR_SYNTAX = 0x2000,
	CQL_ERR_UNAUTHORIZED = 0x2100,
	CQL_ERR_INVALID = 0x2200,
	CQL_ERR_CONFIG = 0x2300,
	CQL_ERR_ALREADY_EXISTS = 0x2400,	/* + keyspace, table */
	CQL_ERR_UNPREPARED = 0x2500,		/* + the unknown id */
};

/* Column type ids ([option] ids of the spec). */
enum cql_type {
	CQL_TYPE_CUSTOM = 0x0000,
	CQL_TYPE_ASCII = 0x0001,
	CQL_TYPE_BIGINT = 0x0002,
	CQL_TYPE_BLOB = 0x0003,
	CQL_TYPE_BOOLEAN = 0x0004,
	CQL_TYPE_COUNTER = 0x0005,
	CQL_TYPE_DECIMAL = 0x0006,
	CQL_TYPE_DOUBLE = 0x0007,
	CQL_TYPE_FLOAT = 0x0008,
	CQL_TYPE_INT = 0x0009,
	CQL_TYPE_TIMESTAMP = 0x000B,
	CQL_TYPE_UUID = 0x000C,
	CQL_TYPE_VARCHAR = 0x000D,
	CQL_TYPE_VARINT = 0x000E,
	CQL_TYPE_TIMEUUID = 0x000F,
	CQL_TYPE_INET = 0x0010,
	CQL_TYPE_DATE = 0x0011,
	CQL_TYPE_TIME = 0x0012,
	CQL_TYPE_SMALLINT = 0x0013,
	CQL_TYPE_TINYINT = 0x0014,
	CQL_TYPE_DURATION = 0x0015,
	CQL_TYPE_LIST = 0x0020,
	CQL_TYPE_MAP = 0x0021,
	CQL_TYPE_SET = 0x0022,
	CQL_TYPE_UDT = 0x0030,
	CQL_TYPE_TUPLE = 0x0031,
	CQL_TYPE_UNKNOWN = -1,	/* rows sent with the no_metadata flag */
};

enum cql_result_kind {
	CQL_RESULT_NONE = 0,	/* nothing decoded, or an ERROR frame */
	CQL_RESULT_VOID = 0x0001,
	CQL_RESULT_ROWS = 0x0002,
	CQL_RESULT_SET_KEYSPACE = 0x0003,
	CQL_RESULT_PREPARED = 0x0004,
	CQL_RESULT_SCHEMA_CHANGE = 0x0005,
};

/* Rows metadata flags. */
enum cql_rows_flags {
	CQL_ROWS_GLOBAL_TABLES_SPEC = 1 << 0,
	CQL_ROWS_HAS_MORE_PAGES = 1 << 1,
	CQL_ROWS_NO_METADATA = 1 << 2,
};

struct cql_header {
	uint8_t version;	/* 0x04 request, 0x84 response */
	uint8_t flags;		/* enum cql_frame_flags */
	int16_t stream;
	uint8_t opcode;		/* enum cql_opcode */
	uint32_t length;	/* body length */
};

/* One frame found in a byte buffer; `body` is borrowed from that buffer. */
struct cql_frame {
	struct cql_header hdr;
	const unsigned char *body;
	size_t len;
};

struct cql_column {
	char *keyspace;		/* "" when the server sent no metadata */
	char *table;
	char *name;
	int type;		/* enum cql_type of the outer type */
	char *type_name;	/* e.g. "map<varchar, int>" */
	/*
	 * The type ids in prefix order, e.g. map<varchar, list<int>> is
	 * { MAP, VARCHAR, LIST, INT }; UDT, tuple and custom types are one
	 * leaf id. ntree is 0 when the type has more than CQL_TYPE_TREE_MAX
	 * ids or no metadata came: such columns bind only cql_raw() values.
	 */
	uint16_t tree[CQL_TYPE_TREE_MAX];
	int ntree;
};

/* A value: `len` bytes at `data`, or len == -1 and data == NULL for null. */
struct cql_cell {
	const unsigned char *data;
	int32_t len;
};

/*
 * A decoded response. Everything in it (strings, cells) is owned by the
 * result and valid until cql_result_release(). Cells are row-major:
 * cells[row * ncols + col]; use cql_result_cell().
 */
struct cql_result {
	int kind;			/* enum cql_result_kind */
	int rows_flags;			/* enum cql_rows_flags as sent */
	int ncols;			/* Rows; Prepared: result metadata */
	struct cql_column *cols;
	int nrows;
	struct cql_cell *cells;
	struct buf paging_state;	/* when CQL_ROWS_HAS_MORE_PAGES */
	struct buf keyspace;		/* Set_keyspace; Schema_change */
	struct buf change_type;		/* Schema_change: CREATED, ... */
	struct buf target;		/* Schema_change: KEYSPACE, TABLE, ... */
	struct buf object;		/* Schema_change: table/type/function */
	struct buf warnings;		/* server warnings, one per line */
	struct buf prepared_id;		/* Prepared: the statement id;
					   ERROR Unprepared: the unknown id */
	int nbind;			/* Prepared: bind markers ... */
	struct cql_column *bind;	/* ... and their names and types */
	int npk;			/* Prepared: partition key columns ... */
	int *pk_index;			/* ... as indexes into bind[] */
	int error_code;			/* ERROR frames: e.g. 0x2200 */
	unsigned char *raw;		/* the body the cells point into */
	size_t raw_len;
};

#define CQL_RESULT_INIT { .paging_state = BUF_INIT, .keyspace = BUF_INIT, \
	.change_type = BUF_INIT, .target = BUF_INIT, .object = BUF_INIT, \
	.warnings = BUF_INIT, .prepared_id = BUF_INIT }

void cql_result_init(struct cql_result *res);
/* frees the contents; `res` is left initialised and empty */
void cql_result_release(struct cql_result *res);
/* borrowed, valid until cql_result_release(); BUG()s when out of range */
const struct cql_cell *cql_result_cell(const struct cql_result *res,
				       int row, int col);

/* static string such as "varchar", or "unknown" */
const char *cql_type_name(int type);
/*
 * static string such as "Invalid" for an ERROR code, or "Unknown".
 */
const char *cql_error_name(int code);
/*
 * 1 when the same request, sent again (after a pause), may well succeed:
 * Unavailable, Overloaded, Is_bootstrapping, Write_timeout, Read_timeout.
 * A write that timed out may have been applied: retry only idempotent
 * writes (upserts by primary key are). 0 for everything else.
 */
int cql_error_retryable(int code);
/* static string such as "LOCAL_ONE", or "UNKNOWN" */
const char *cql_consistency_name(int cl);
/* "one", "QUORUM", "local_one", ...: the level, or -1 when unknown */
int cql_consistency_parse(const char *name);

/*
 * Appends the cell as text: "null"; text types as they are; int, bigint,
 * counter, smallint, tinyint, boolean, float, double, uuid, timeuuid,
 * timestamp (UTC, "2024-01-31T12:00:00.000Z"), date, inet; blobs and
 * types without a text form here as "0x" and hex. Returns 0, or -1 when
 * the byte count does not fit the type (nothing is appended).
 */
int cql_cell_text(const struct cql_cell *cell, int type, struct buf *out);
/*
 * The same for a column with its whole type known (col->tree): lists as
 * "[1, 2]", sets as "{'a', 'b'}", maps as "{'a': 1}" (text quoted inside
 * collections, as cqlsh does), other types as cql_cell_text(). Returns 0
 * or -1 (nothing appended) when the bytes do not fit the type.
 */
int cql_column_text(const struct cql_column *col, const struct cql_cell *cell,
		    struct buf *out);
/*
 * An integer cell of 1, 2, 4 or 8 bytes (tinyint ... bigint, counter,
 * timestamp) into *v. Returns 0, or -1 for null or any other size.
 */
int cql_cell_int(const struct cql_cell *cell, int64_t *v);
/* "123e4567-e89b-12d3-a456-426614174000" into 16 bytes; 0 or -1 */
int cql_uuid_parse(const char *s, unsigned char out[16]);

/* ---- values to bind ---- */

enum cql_value_kind {
	CQL_V_NULL,		/* any column: null */
	CQL_V_UNSET,		/* any column: leave as it is (v4 "not set") */
	CQL_V_INT,		/* int, bigint, smallint, tinyint, counter,
				   varint, float, double, timestamp (ms),
				   date (days since 1970), time (ns) */
	CQL_V_REAL,		/* float, double */
	CQL_V_BOOL,		/* boolean */
	CQL_V_TEXT,		/* varchar, ascii (7-bit only), inet ("::1") */
	CQL_V_BLOB,		/* blob, inet (4 or 16 bytes) */
	CQL_V_UUID,		/* uuid; timeuuid (version 1 only) */
	CQL_V_TIMESTAMP,	/* timestamp: milliseconds since 1970 UTC */
	CQL_V_LIST,		/* list or set: the elements */
	CQL_V_SET,		/* list or set: the elements */
	CQL_V_MAP,		/* map: keys and values alternating */
	CQL_V_RAW,		/* any column: bytes already encoded */
};

/*
 * A value to bind, checked against the bind marker's type when a request
 * is encoded. Strings, blobs and collection items are borrowed: they must
 * stay valid until the cql_*_encode(), cql_batch_add() or cql_submit_*()
 * call that takes the value returns (the bytes are copied then).
 */
struct cql_value {
	int kind;			/* enum cql_value_kind */
	union {
		int64_t i;		/* INT, BOOL (0/1), TIMESTAMP */
		double d;		/* REAL */
		struct {
			const void *p;
			size_t len;
		} s;			/* TEXT, BLOB, RAW */
		unsigned char uuid[16];	/* UUID */
		struct {
			const struct cql_value *items;
			int n;		/* elements; MAP: pairs (2n items) */
		} coll;			/* LIST, SET, MAP */
	} u;
};

static inline struct cql_value cql_null(void)
{
	struct cql_value v = { .kind = CQL_V_NULL };
	return v;
}

static inline struct cql_value cql_unset(void)
{
	struct cql_value v = { .kind = CQL_V_UNSET };
	return v;
}

static inline struct cql_value cql_int(int64_t i)
{
	struct cql_value v = { .kind = CQL_V_INT, .u.i = i };
	return v;
}

static inline struct cql_value cql_real(double d)
{
	struct cql_value v = { .kind = CQL_V_REAL, .u.d = d };
	return v;
}

static inline struct cql_value cql_bool(int b)
{
	struct cql_value v = { .kind = CQL_V_BOOL, .u.i = !!b };
	return v;
}

/* `s` is borrowed (see struct cql_value) */
static inline struct cql_value cql_textn(const char *s, size_t len)
{
	struct cql_value v = { .kind = CQL_V_TEXT, .u.s = { s, len } };
	return v;
}

static inline struct cql_value cql_text(const char *s)
{
	return cql_textn(s, strlen(s));
}

static inline struct cql_value cql_blob(const void *p, size_t len)
{
	struct cql_value v = { .kind = CQL_V_BLOB, .u.s = { p, len } };
	return v;
}

static inline struct cql_value cql_raw(const void *p, size_t len)
{
	struct cql_value v = { .kind = CQL_V_RAW, .u.s = { p, len } };
	return v;
}

static inline struct cql_value cql_uuid(const unsigned char id[16])
{
	struct cql_value v = { .kind = CQL_V_UUID };

	memcpy(v.u.uuid, id, 16);
	return v;
}

static inline struct cql_value cql_timestamp(int64_t ms)
{
	struct cql_value v = { .kind = CQL_V_TIMESTAMP, .u.i = ms };
	return v;
}

/* `items` is borrowed (see struct cql_value) */
static inline struct cql_value cql_list(const struct cql_value *items, int n)
{
	struct cql_value v = { .kind = CQL_V_LIST, .u.coll = { items, n } };
	return v;
}

static inline struct cql_value cql_set(const struct cql_value *items, int n)
{
	struct cql_value v = { .kind = CQL_V_SET, .u.coll = { items, n } };
	return v;
}

/* `kv` holds 2 * npairs items: key, value, key, value, ... */
static inline struct cql_value cql_map(const struct cql_value *kv, int npairs)
{
	struct cql_value v = { .kind = CQL_V_MAP, .u.coll = { kv, npairs } };
	return v;
}

/* static string such as "text" for an enum cql_value_kind */
const char *cql_value_kind_name(int kind);

/*
 * Appends one [value] (int length, then the bytes) for a bind marker of
 * type `col`: the value is checked against the type (kind, integer range,
 * ASCII, timeuuid version, collection element types). Returns 0, or
 * CQL_EVALUE with a message naming the column in `err` (may be NULL) and
 * `out` as it was.
 */
int cql_value_encode(struct buf *out, const struct cql_column *col,
		     const struct cql_value *v, struct buf *err);
/*
 * Appends <n: short> and n [value]s for the `nbind` bind markers `bind`.
 * `n` must equal `nbind`. Returns 0, or CQL_EVALUE (message in `err`,
 * `out` as it was).
 */
int cql_values_encode(struct buf *out, const struct cql_column *bind,
		      int nbind, const struct cql_value *vals, int n,
		      struct buf *err);

/* ---- statements and requests ---- */

/*
 * A prepared statement: what the server answered to PREPARE. It belongs
 * to no connection (the id is the server's, the same on every
 * connection, and survives a reconnect); it is shared by all requests
 * that use it and must outlive them. A connection that meets Unprepared
 * prepares `query` again, once, and updates `id` and the metadata here.
 */
struct cql_prepared {
	struct buf id;			/* [short bytes] id */
	char *query;			/* the statement text */
	int nbind;			/* bind markers, in order */
	struct cql_column *bind;
	int npk;			/* partition key bind markers */
	int *pk_index;
	int res_flags;			/* result metadata flags */
	int nres;			/* result columns; 0 unless a SELECT */
	struct cql_column *res;
};

/*
 * A new statement from a decoded Prepared result and its text; steals the
 * result's id and metadata (the result is left released). Free with
 * cql_prepared_free(). BUG()s when res->kind is not Prepared.
 */
struct cql_prepared *cql_prepared_from_result(struct cql_result *res,
					      const char *query);
/* NULL is fine */
void cql_prepared_free(struct cql_prepared *st);

/* How QUERY, EXECUTE and BATCH run; start from CQL_PARAMS_INIT. */
struct cql_params {
	int consistency;		/* enum cql_consistency */
	int serial_consistency;		/* SERIAL or LOCAL_SERIAL; 0: default */
	int page_size;			/* rows per page; 0: no paging */
	const void *paging_state;	/* borrowed; NULL for the first page */
	size_t paging_state_len;
	int64_t timestamp;		/* default timestamp, microseconds;
					   0: the server's */
};

#define CQL_PARAMS_INIT { .consistency = CQL_ONE }

/* Appends a QUERY body: <long string><query parameters> without values. */
void cql_query_encode(struct buf *body, const char *cql,
		      const struct cql_params *p);
/* Appends a PREPARE body: the statement as a [long string]. */
void cql_prepare_encode(struct buf *body, const char *cql);
/*
 * Appends an EXECUTE body for `st` with `vals` (checked against st->bind;
 * n must be st->nbind). Asks the server to skip the result metadata when
 * st->nres > 0 (the connection puts st->res into such results). `p` may
 * be NULL for CQL_PARAMS_INIT. Returns 0, or CQL_EVALUE with a message
 * in `err` and `body` as it was.
 */
int cql_execute_encode(struct buf *body, const struct cql_prepared *st,
		       const struct cql_value *vals, int n,
		       const struct cql_params *p, struct buf *err);

enum cql_batch_type {
	CQL_BATCH_LOGGED = 0,
	CQL_BATCH_UNLOGGED = 1,
	CQL_BATCH_COUNTER = 2,
};

/*
 * A BATCH being built: statements are encoded with their values as they
 * are added. It borrows the prepared statements added to it (they must
 * outlive the batch and the requests that send it).
 */
struct cql_batch {
	int type;			/* enum cql_batch_type */
	int n;				/* statements added */
	struct buf queries;		/* the encoded <query_i>s */
	struct cql_prepared **stmts;	/* distinct statements, for re-prepare */
	int nstmts;
	size_t alloc;
};

#define CQL_BATCH_INIT(t) { .type = (t), .queries = BUF_INIT }

void cql_batch_init(struct cql_batch *b, int type);
/* empties the batch, keeping its type and memory */
void cql_batch_reset(struct cql_batch *b);
void cql_batch_release(struct cql_batch *b);
/*
 * Adds `st` with its values. Returns 0, or CQL_EVALUE (the batch as it
 * was) when the values do not fit or the batch has 65535 statements.
 */
int cql_batch_add(struct cql_batch *b, struct cql_prepared *st,
		  const struct cql_value *vals, int n, struct buf *err);
/* Adds a statement as text, without values. */
void cql_batch_add_query(struct cql_batch *b, const char *cql);
/*
 * Appends the BATCH body; of `p` only the consistency, serial
 * consistency and timestamp apply. `p` may be NULL.
 */
void cql_batch_encode(struct buf *body, const struct cql_batch *b,
		      const struct cql_params *p);

/* ---- pure framing and decoding ---- */

/* Encodes a header into out[0..8]. */
void cql_header_encode(const struct cql_header *h, unsigned char *out);
/*
 * Decodes 9 bytes at `p` into `h`. Returns 0, or CQL_EPROTO with a
 * message in `err` (may be NULL) when the version is not a v4 response or
 * the length is above CQL_FRAME_MAX.
 */
int cql_header_decode(struct cql_header *h, const unsigned char *p,
		      struct buf *err);
/* Appends a whole v4 request frame (header and body) to `out`. */
void cql_frame_encode(struct buf *out, int16_t stream, int opcode,
		      const void *body, size_t len);
/*
 * Looks for one whole response frame at the start of data[0..len).
 * Returns 1 and fills `f` (borrowing from `data`) and `*used` (bytes to
 * consume), 0 when more bytes are needed, or CQL_EPROTO for a bad header.
 */
int cql_frame_split(const void *data, size_t len, struct cql_frame *f,
		    size_t *used, struct buf *err);
/*
 * Decodes a RESULT body (after any tracing id, warnings and custom
 * payload) into `res`, which must be initialised and hold no result yet;
 * it keeps a copy of the body, so `body` may go away afterwards. Prepared
 * results fill prepared_id, bind, pk_index and (result metadata) cols.
 * Returns 0, or CQL_EPROTO with a message in `err` and `res` emptied (but
 * for its warnings).
 */
int cql_result_parse(const void *body, size_t len, struct cql_result *res,
		     struct buf *err);
/*
 * Decodes an ERROR body: sets *code and appends
 * "cassandra error 0x2200 (Invalid): <message>" to `err`, followed by the
 * code's extra fields when it has some, e.g. Write_timeout's
 * " [consistency QUORUM: 1 of 2 replicas acknowledged, write type SIMPLE]".
 * Returns CQL_ESERVER, or CQL_EPROTO when the body is malformed (extra
 * fields that are missing or malformed are left out of the message).
 */
int cql_error_parse(const void *body, size_t len, int *code, struct buf *err);
/*
 * Decodes any response frame: strips the tracing id, warnings (kept in
 * res->warnings) and custom payload the flags announce, then decodes
 * RESULT (0), ERROR (CQL_ESERVER, res->error_code set), READY (0, kind
 * NONE) or AUTHENTICATE (CQL_EAUTH). Compressed frames and other opcodes
 * are CQL_EPROTO.
 */
int cql_response_parse(const struct cql_frame *f, struct cql_result *res,
		       struct buf *err);

/* ---- connections ---- */

/* Opaque: a socket, its buffers and the requests in flight on it. */
struct cql_conn;

/*
 * Connects to host:port (numeric or /etc/hosts names; use 127.0.0.1) and
 * sends STARTUP with CQL_VERSION 3.0.0. `timeout_ms` bounds the connect
 * and STARTUP together and, afterwards, each request. On success *out is new (free with
 * cql_close()); on failure *out is NULL, the return is negative and `err`
 * (may be NULL) says why.
 */
int cql_connect(struct cql_conn **out, const char *host, int port,
		int timeout_ms, struct buf *err);
/*
 * Wraps an already connected stream socket (no STARTUP sent). New (free
 * with cql_close()); steals `fd`. `peer` names the server in messages.
 */
struct cql_conn *cql_conn_attach(int fd, const char *peer, int timeout_ms);
/* Sends STARTUP and waits for READY. */
int cql_startup(struct cql_conn *c, struct buf *err);
/*
 * Bounds every later request on `c`, from its submission to its answer;
 * 0 or less: no bound.
 */
void cql_set_timeout(struct cql_conn *c, int timeout_ms);
/*
 * At most `n` requests (1..CQL_INFLIGHT_MAX) in flight on `c`; default
 * CQL_INFLIGHT_DEFAULT. A request that timed out keeps its stream id
 * (and counts here) until its late answer comes; when every stream waits
 * like that, the connection is declared broken (CQL_ETIMEOUT).
 */
void cql_set_max_inflight(struct cql_conn *c, int n);
/* requests submitted and not yet completed */
int cql_inflight(const struct cql_conn *c);
/*
 * 0 while the connection works; once the peer closed it, it reset, a
 * write failed or a malformed frame came, the enum cql_status it failed
 * with: every request in flight then was completed with that status,
 * and every later call fails at once. Close it and cql_connect() again.
 */
int cql_conn_broken(const struct cql_conn *c);

/*
 * Called exactly once per submitted request, from cql_poll(),
 * cql_drain(), a blocking call or a submit that waits for a free stream:
 * `status` is 0 or a negative enum cql_status, `res` the decoded answer
 * (borrowed: released after the call returns; a callback may take its
 * contents by copying *res and calling cql_result_init(res)); `err` is
 * the message when status != 0, else "". A callback may submit (never
 * waits: CQL_EBUSY when no stream is free) but must not poll, drain, run
 * a blocking call or close the connection.
 */
typedef void cql_done_fn(void *ctx, int status, struct cql_result *res,
			 const char *err);

/*
 * Queue a request. They wait for a free stream (completing others'
 * callbacks meanwhile) when the connection is at its in-flight limit;
 * the bytes go out from there, from cql_poll() and cql_drain(). They
 * return 0 when `done` will be called, or a negative enum cql_status
 * with a message in `err` (may be NULL) when it will not: CQL_EVALUE,
 * CQL_EBUSY, or the connection's failure. `p` may be NULL for
 * CQL_PARAMS_INIT. `st` and the batch's statements are borrowed until
 * `done` runs; the values and the batch only for the call.
 */
int cql_submit_query(struct cql_conn *c, const char *cql,
		     const struct cql_params *p, cql_done_fn *done, void *ctx,
		     struct buf *err);
int cql_submit_execute(struct cql_conn *c, struct cql_prepared *st,
		       const struct cql_value *vals, int n,
		       const struct cql_params *p, cql_done_fn *done,
		       void *ctx, struct buf *err);
int cql_submit_batch(struct cql_conn *c, const struct cql_batch *b,
		     const struct cql_params *p, cql_done_fn *done, void *ctx,
		     struct buf *err);
/*
 * Any request body built with the cql_*_encode() functions. `stmts`
 * (borrowed, like `st` above) are the prepared statements it uses: an
 * Unprepared answer naming one of them is handled by preparing it again
 * and resending the request, once.
 */
int cql_submit(struct cql_conn *c, int opcode, const void *body, size_t len,
	       struct cql_prepared *const *stmts, int nstmts,
	       cql_done_fn *done, void *ctx, struct buf *err);
/*
 * Sends what is queued, waits up to `timeout_ms` (0: not at all) for
 * answers and calls the callbacks of the requests that completed or timed
 * out. Returns how many completed, or the connection's failure (see
 * cql_conn_broken(); the message goes to `err` once, when it fails).
 */
int cql_poll(struct cql_conn *c, int timeout_ms, struct buf *err);
/* Polls until no request is in flight. Returns 0 or the failure. */
int cql_drain(struct cql_conn *c, struct buf *err);

/*
 * The blocking calls: one request, waited for (other requests' callbacks
 * run meanwhile). `res` must be initialised (CQL_RESULT_INIT); what it
 * held is released first, so one result can serve many calls. Release it
 * with cql_result_release() whatever the return. Return 0 or a negative
 * enum cql_status; a server ERROR leaves its code in res->error_code.
 */
/* One statement at consistency ONE, no values, no paging (one frame). */
int cql_query(struct cql_conn *c, const char *cql, struct cql_result *res,
	      struct buf *err);
/* The same with parameters (consistency, a page and its paging state). */
int cql_query_params(struct cql_conn *c, const char *cql,
		     const struct cql_params *p, struct cql_result *res,
		     struct buf *err);
/* On success *out is new (free with cql_prepared_free()), else NULL. */
int cql_prepare(struct cql_conn *c, const char *cql,
		struct cql_prepared **out, struct buf *err);
int cql_execute(struct cql_conn *c, struct cql_prepared *st,
		const struct cql_value *vals, int n,
		const struct cql_params *p, struct cql_result *res,
		struct buf *err);
int cql_batch_execute(struct cql_conn *c, const struct cql_batch *b,
		      const struct cql_params *p, struct cql_result *res,
		      struct buf *err);
/*
 * Runs `cql` (when st is NULL) or `st` with `vals` page after page
 * (p->page_size rows each; 5000 when it is 0) and calls `page` with each
 * Rows result (borrowed for the call). Stops when a page has no more
 * after it, or `page` returns non-zero (returned). Returns 0, that value,
 * or a negative enum cql_status.
 */
int cql_foreach_page(struct cql_conn *c, const char *cql,
		     struct cql_prepared *st, const struct cql_value *vals,
		     int n, const struct cql_params *p,
		     int (*page)(void *ctx, struct cql_result *res),
		     void *ctx, struct buf *err);
/*
 * Closes the socket and frees `c`; NULL is fine. Requests still in flight
 * are completed first, with CQL_EIO.
 */
void cql_close(struct cql_conn *c);

/*
 * Readiness probe: connects, runs SELECT release_version FROM system.local
 * and appends the version (e.g. "5.0.4") to `version_out` (may be NULL).
 * `timeout_ms` bounds the whole probe. Returns 0 or a negative
 * enum cql_status.
 */
int cql_probe(const char *host, int port, int timeout_ms,
	      struct buf *version_out, struct buf *err);

#endif
