#!/bin/bash
# bench-load-cassandra: ratings per second into Cassandra, `pancake data load
# --into cassandra --full` against the anchor, python3-cassandra's
# execute_concurrent_with_args writing the same two rows per rating (by user
# and by item, the same prepared INSERTs, concurrency 100 and 256) into the
# same tables under another dataset name. Same generated data, one run,
# each side from an empty partition set. Prints figures and ratios, asserts
# nothing. Needs the stack up (pancake up --wait).
set -eu
cd "$(dirname "$0")/../.."
P=./pancake
PY=/usr/bin/python3
users=${BENCH_USERS:-6040} items=${BENCH_ITEMS:-3706} ratings=${BENCH_RATINGS:-100000}
tmp=$(mktemp -d "${TMPDIR:-/tmp}/pancake-bench-cass-XXXXXX")
ours=benchcass
theirs=benchcass-python
cleanup() {
	$P data drop "$ours" --from cassandra >/dev/null 2>&1 || true
	$P data drop "$theirs" --from cassandra >/dev/null 2>&1 || true
	rm -rf "$tmp"
}
trap cleanup EXIT
calc() { awk "BEGIN { printf \"%.2f\", $1 }"; }

$P data drop "$ours" --from cassandra >/dev/null 2>&1 || true
$P data gen --users "$users" --items "$items" --ratings "$ratings" --seed 1 --out "$tmp/$ours" >/dev/null
echo "data: $users users, $items items, $ratings ratings (two rows each: ratings_by_user, ratings_by_item)"

$P data load "$tmp/$ours" --into cassandra --full --json >"$tmp/ours.json" 2>/dev/null
read -r ours_s ours_n <<EOF
$($PY -c 'import json,sys; t=json.load(open(sys.argv[1]))["targets"][0]; print(t["seconds"], t["ratings_written"])' "$tmp/ours.json")
EOF
echo "pancake data load: $ours_n ratings in $ours_s s: $(calc "$ours_n / $ours_s") ratings/s ($(calc "2 * $ours_n / $ours_s") rows/s)"

for conc in 100 256; do
	$P data drop "$theirs" --from cassandra >/dev/null 2>&1 || true
	py=$($PY - "$tmp/$ours/ratings.csv" "$theirs" "$conc" <<'PY'
import csv, datetime, sys, time
from cassandra.cluster import Cluster
from cassandra.concurrent import execute_concurrent_with_args
path, ds, conc = sys.argv[1], sys.argv[2], int(sys.argv[3])
epoch = datetime.datetime(1970, 1, 1)
rows = [(int(r["userId"]), int(r["movieId"]), float(r["rating"]),
         epoch + datetime.timedelta(seconds=int(r["timestamp"])))
        for r in csv.DictReader(open(path))]
c = Cluster(["127.0.0.1"], port=9042, protocol_version=4)
s = c.connect()
bu = s.prepare("INSERT INTO pancake.ratings_by_user (dataset, user, item, rating, ts) VALUES (?, ?, ?, ?, ?)")
bi = s.prepare("INSERT INTO pancake.ratings_by_item (dataset, item, user, rating, ts) VALUES (?, ?, ?, ?, ?)")
t0 = time.monotonic()
a = execute_concurrent_with_args(s, bu, [(ds, u, i, r, t) for u, i, r, t in rows],
                                 concurrency=conc, raise_on_first_error=True)
b = execute_concurrent_with_args(s, bi, [(ds, i, u, r, t) for u, i, r, t in rows],
                                 concurrency=conc, raise_on_first_error=True)
secs = time.monotonic() - t0
assert sum(1 for r in a if r.success) == len(rows) and sum(1 for r in b if r.success) == len(rows)
print("%.3f %d" % (secs, len(rows)))
c.shutdown()
PY
)
	set -- $py
	echo "python3-cassandra execute_concurrent_with_args (concurrency $conc): $2 ratings in $1 s: $(calc "$2 / $1") ratings/s"
	echo "  ratio pancake/python ($conc): $(calc "($ours_n / $ours_s) / ($2 / $1)")x"
done
