/* cql: a client for Cassandra's CQL native protocol v4 over plain TCP. */
#ifndef PANCAKE_CQL_H
#define PANCAKE_CQL_H

#include <stddef.h>
#include <stdint.h>

#include "util/buf.h"

/*
 * Layers, bottom up:
 *   - pure framing: cql_frame_encode() builds a request frame,
 *     cql_frame_split() finds one whole response frame at the start of a
 *     byte buffer (bytes arrive in any split; nothing is read here);
 *   - pure decoding: cql_response_parse() / cql_result_parse() /
 *     cql_error_parse() turn a response body into a struct cql_result or a
 *     message; unit tests and fuzzers call these on recorded bytes;
 *   - a connection: one socket, a read buffer, a stream id allocator and
 *     one timeout that bounds every connect, write and read.
 * Today a connection runs one request at a time; frames for other streams
 * (server events) are skipped. The stream field is in every frame so that
 * several requests can later be in flight on one connection.
 */

#define CQL_PROTOCOL_VERSION	0x04
#define CQL_RESPONSE_BIT	0x80
#define CQL_HEADER_LEN		9
/* bodies longer than this are refused before anything is allocated */
#define CQL_FRAME_MAX		(256u << 20)
#define CQL_DEFAULT_PORT	9042

/* Return codes: 0 is success, these are the failures. */
enum cql_status {
	CQL_EIO = -1,		/* connect, read or write failed; peer closed */
	CQL_ETIMEOUT = -2,	/* the connection's timeout ran out */
	CQL_EPROTO = -3,	/* malformed, oversized or unexpected frame */
	CQL_ESERVER = -4,	/* the server answered ERROR (see error_code) */
	CQL_EAUTH = -5,		/* the server wants authentication */
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
	CQL_RESULT_PREPARED = 0x0004,	/* recognised, body not decoded yet */
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
	int ncols;
	struct cql_column *cols;
	int nrows;
	struct cql_cell *cells;
	struct buf paging_state;	/* when CQL_ROWS_HAS_MORE_PAGES */
	struct buf keyspace;		/* Set_keyspace; Schema_change */
	struct buf change_type;		/* Schema_change: CREATED, ... */
	struct buf target;		/* Schema_change: KEYSPACE, TABLE, ... */
	struct buf object;		/* Schema_change: table/type/function */
	struct buf warnings;		/* server warnings, one per line */
	int error_code;			/* ERROR frames: e.g. 0x2200 */
	unsigned char *raw;		/* the body the cells point into */
	size_t raw_len;
};

#define CQL_RESULT_INIT { .paging_state = BUF_INIT, .keyspace = BUF_INIT, \
	.change_type = BUF_INIT, .target = BUF_INIT, .object = BUF_INIT, \
	.warnings = BUF_INIT }

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
 * Appends the cell as text: "null"; text types as they are; int, bigint,
 * counter, smallint, tinyint, boolean, float, double, uuid, timeuuid,
 * timestamp (UTC, "2024-01-31T12:00:00.000Z"), date, inet; blobs and
 * types without a text form here as "0x" and hex. Returns 0, or -1 when
 * the byte count does not fit the type (nothing is appended).
 */
int cql_cell_text(const struct cql_cell *cell, int type, struct buf *out);

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
 * it keeps a copy of the body, so `body` may go away afterwards. Returns
 * 0, or CQL_EPROTO with a message in `err` and `res` emptied (but for
 * its warnings).
 */
int cql_result_parse(const void *body, size_t len, struct cql_result *res,
		     struct buf *err);
/*
 * Decodes an ERROR body: sets *code and appends
 * "cassandra error 0x2200 (Invalid): <message>" to `err`. Returns
 * CQL_ESERVER, or CQL_EPROTO when the body is malformed.
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

/* Opaque: a socket, its read buffer and the next stream id. */
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
/* Bounds every later request on `c`. */
void cql_set_timeout(struct cql_conn *c, int timeout_ms);
/*
 * Runs one statement at consistency ONE, with no bound values and no
 * paging (the whole result comes in one frame, at most CQL_FRAME_MAX).
 * `res` must be initialised (CQL_RESULT_INIT); what it held is released
 * first, so one result can serve many queries. Release it with
 * cql_result_release() whatever the return. Returns 0 or a negative
 * enum cql_status; a server ERROR leaves its code in res->error_code.
 */
int cql_query(struct cql_conn *c, const char *cql, struct cql_result *res,
	      struct buf *err);
/* Closes the socket and frees `c`; NULL is fine. */
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
