#!/bin/bash
# bench-cql: prepared INSERTs per second into Cassandra, pancake's CQL client
# with 1, 64, 256 and 1024 requests in flight on one connection, against
# python3-cassandra's execute_concurrent_with_args (concurrency 100), same
# table (cqlcheck.bench, truncated before each run), same rows, one run each.
# Not a test: it prints figures and ratios, asserts nothing about time.
set -eu
cd "$(dirname "$0")/../.."
ROWS=${BENCH_ROWS:-200000}
PY=/usr/bin/python3
trap '$PY -c "
from cassandra.cluster import Cluster
c = Cluster([\"127.0.0.1\"], port=9042, protocol_version=4)
c.connect().execute(\"DROP KEYSPACE IF EXISTS cqlcheck\", timeout=60)
c.shutdown()" >/dev/null 2>&1 || true' EXIT

make -s tests/tools/cql-check
declare -A RATE
for w in 1 64 256 1024; do
	line=$(tests/tools/cql-check --bench "$ROWS" --inflight "$w" | grep '^rate ')
	RATE[$w]=${line##*rows_per_s=}
	printf 'pancake cql   %5s in flight  %8s rows/s  (%s)\n' "$w" "${RATE[$w]}" "$line"
done

py=$($PY - "$ROWS" <<'PY'
import datetime, sys, time
from cassandra.cluster import Cluster
from cassandra.concurrent import execute_concurrent_with_args
n = int(sys.argv[1])
c = Cluster(["127.0.0.1"], port=9042, protocol_version=4)
s = c.connect()
s.execute("TRUNCATE cqlcheck.bench", timeout=60)
st = s.prepare("INSERT INTO cqlcheck.bench (user_id, item_id, rating, ts) "
               "VALUES (?, ?, ?, ?)")
epoch = datetime.datetime(1970, 1, 1)
rows = [(i // 100, i % 100, 0.5 + (i % 10) * 0.5,
         epoch + datetime.timedelta(milliseconds=1000000000000 + i))
        for i in range(n)]
t0 = time.monotonic()
res = execute_concurrent_with_args(s, st, rows, concurrency=100,
                                   raise_on_first_error=True)
secs = time.monotonic() - t0
assert sum(1 for r in res if r.success) == n
print("%.0f" % (n / secs))
c.shutdown()
PY
)
printf 'python3-cassandra execute_concurrent_with_args (100)  %8s rows/s\n' "$py"
for w in 1 64 256 1024; do
	printf 'ratio pancake/python  %5s in flight  %.2fx\n' "$w" \
		"$(echo "${RATE[$w]} / $py" | bc -l)"
done
