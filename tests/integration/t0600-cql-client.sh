# t0600: the CQL client against the real Cassandra: types, prepared statements,
# paging, batches, errors, re-prepare (tests/tools/cql-check), cross-checked
# with python3-cassandra; then a server restart in the middle of a load.
. "$(dirname "$0")/lib.sh"
CHECK=tests/tools/cql-check
LOG=tests/out/t0600-cql-check.log
LOADLOG=tests/out/t0600-load.log
LOAD_ROWS=200000
mkdir -p tests/out

# the keyspace is ours: dropped however the test ends
drop_keyspace() {
	$PY - <<'PY' >/dev/null 2>&1 || true
from cassandra.cluster import Cluster
c = Cluster(["127.0.0.1"], port=9042, protocol_version=4)
c.connect().execute("DROP KEYSPACE IF EXISTS cqlcheck", timeout=60)
c.shutdown()
PY
}
loader=""
cleanup() {
	[ -z "$loader" ] || kill "$loader" 2>/dev/null || true
	drop_keyspace
}
trap cleanup EXIT

cassandra_ready() { [ "$(service_field cassandra ready)" = True ]; }

make -s "$CHECK" || fail "make $CHECK"
wait_for 300 "cassandra is ready" cassandra_ready

# 1. the checks; the keyspace stays for python to read
$CHECK --keep > "$LOG" 2>&1 || { cat "$LOG"; fail "cql-check reported failures"; }
cat "$LOG"
grep -q "^ok: 0 failure(s)" "$LOG" || fail "cql-check did not finish"
pass "cql-check: every check passed"

# 2. python3-cassandra reads what cql-check wrote
$PY - <<'PY' || fail "python3-cassandra does not read what cql-check wrote"
import datetime, uuid
from cassandra.cluster import Cluster
c = Cluster(["127.0.0.1"], port=9042, protocol_version=4)
s = c.connect("cqlcheck")
n = s.execute("SELECT COUNT(*) FROM rows", timeout=60).one()[0]
assert n == 10003, "rows: %d, cql-check wrote 10003" % n
n = s.execute("SELECT COUNT(*) FROM batched", timeout=60).one()[0]
assert n == 104, "batched: %d, cql-check wrote 104" % n
r = s.execute("SELECT * FROM types WHERE id = 1").one()
want = {
    "i": -123456, "b": -9000000000, "f": 1.5, "d": 0.1, "bo": True,
    "t": "h\u00e9llo, w\u00f6rld \u2713", "v": "it's",
    "ts": datetime.datetime(2024, 1, 31, 12, 0, 0, 123000),
    "u": uuid.UUID("123e4567-e89b-12d3-a456-426614174000"),
    "tu": uuid.UUID("d2177dd0-eaa2-11de-a572-001b779c76e3"),
    "bl": b"\xca\xfe\x00", "n": None, "li": [1, 2, 3],
}
for k, v in want.items():
    got = getattr(r, k)
    assert got == v, "types row 1 column %s: python reads %r, cql-check wrote %r" % (k, got, v)
assert sorted(r.st) == ["a", "b'c"], r.st
assert dict(r.m) == {"x": 1, "y": -2}, r.m
r = s.execute("SELECT * FROM types WHERE id = 2").one()
assert (r.i, r.b, r.f, r.d, r.bo, r.t, r.bl, r.n) == \
    (2147483647, -9223372036854775808, -0.25, 1e300, False, "", b"", 7), r
assert r.li is None and r.st is None and r.m is None, r
r = s.execute("SELECT v FROM rows WHERE id = 1234").one()
assert r.v == "row 1234", r
c.shutdown()
print("python3-cassandra: rows 10003, batched 104, types rows 1 and 2 read as written")
PY
pass "python3-cassandra agrees on counts and on every value of the types rows"
drop_keyspace

# 3. a restart in the middle of a load: the loss is reported, the load
# reconnects, resends what was not acknowledged and ends with every row
$CHECK --load $LOAD_ROWS --rate 8000 > "$LOADLOG" 2>&1 &
loader=$!
wait_for 120 "load under way" grep -q "^progress" "$LOADLOG"
docker restart pancake-cassandra >/dev/null || fail "docker restart pancake-cassandra"
pass "docker restart pancake-cassandra during the load"
st=0
wait "$loader" || st=$?
loader=""
cat "$LOADLOG"
[ "$st" -eq 0 ] || fail "the load did not survive the restart (exit $st)"
grep -q "^connection lost after [0-9]* of $LOAD_ROWS rows acknowledged: " "$LOADLOG" ||
	fail "the load did not report the connection loss"
grep -Eq "closed the connection|cannot read from|cannot write to|requests? in flight failed" "$LOADLOG" ||
	fail "the loss is not explained"
pass "the load reported the lost connection: $(grep -m1 '^connection lost' "$LOADLOG" | cut -c1-160)"
grep -q "^reconnected after" "$LOADLOG" || fail "the load did not reconnect"
grep -q "^count $LOAD_ROWS\$" "$LOADLOG" || fail "cql-check counted $(grep '^count' "$LOADLOG")"
pass "after reconnecting and resending, cql-check counts $LOAD_ROWS rows"
wait_for 300 "cassandra ready again" cassandra_ready
n=$($PY -c '
from cassandra.cluster import Cluster
c = Cluster(["127.0.0.1"], port=9042, protocol_version=4)
print(c.connect().execute("SELECT COUNT(*) FROM cqlcheck.load", timeout=120).one()[0])
c.shutdown()') || fail "python3-cassandra count"
[ "$n" = "$LOAD_ROWS" ] || fail "python3-cassandra counts $n rows in cqlcheck.load, want $LOAD_ROWS"
pass "python3-cassandra counts $LOAD_ROWS rows too: nothing lost, nothing doubled"
