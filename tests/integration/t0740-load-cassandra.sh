# t0740: pancake data load into cassandra; verify agrees with python3-cassandra
# (COUNT per user partition), a sample row's rating equals the CSV's, a second
# load changes no count. Cleanup deletes this dataset's partitions.
. "$(dirname "$0")/lib.sh"
tmp=$(mktemp -d)
ds=t0740set
# delete_rows: this dataset's partitions of both ratings tables and its
# movies, with python3-cassandra (the resume marker is left as it is)
delete_rows() {
	$PY - "$tmp/$ds" "$ds" <<'PY'
import csv, sys
from cassandra.cluster import Cluster
d, ds = sys.argv[1], sys.argv[2]
s = Cluster(["127.0.0.1"], port=9042).connect()
rows = list(csv.DictReader(open(d + "/ratings.csv")))
for u in {int(r["userId"]) for r in rows}:
    s.execute("DELETE FROM pancake.ratings_by_user WHERE dataset=%s AND user=%s", (ds, u))
for i in {int(r["movieId"]) for r in rows}:
    s.execute("DELETE FROM pancake.ratings_by_item WHERE dataset=%s AND item=%s", (ds, i))
s.execute("DELETE FROM pancake.movies WHERE dataset=%s", (ds,))
PY
}
cleanup() {
	[ -f "$tmp/$ds/ratings.csv" ] && delete_rows >/dev/null 2>&1 || true
	rm -rf "$tmp"
}
trap cleanup EXIT
$PY -c 'import cassandra' 2>/dev/null || fail "python3-cassandra is missing (apt-get install python3-cassandra)"
$PANCAKE data gen --users 500 --items 300 --ratings 30000 --seed 9 --out "$tmp/$ds" >/dev/null || fail "data gen"

# counts as python3-cassandra sees them: ratings (sum of COUNT(*) per user
# partition), users with rows, ratings_by_item rows, movies; and one sample
# rating from each table next to the CSV's
independent() {
	$PY - "$tmp/$ds" "$ds" <<'PY'
import csv, sys
from cassandra.cluster import Cluster
from cassandra.concurrent import execute_concurrent_with_args
d, ds = sys.argv[1], sys.argv[2]
s = Cluster(["127.0.0.1"], port=9042).connect()
s.default_timeout = 60
rows = list(csv.DictReader(open(d + "/ratings.csv")))
users = sorted({int(r["userId"]) for r in rows})
items = sorted({int(r["movieId"]) for r in rows})
q = s.prepare("SELECT COUNT(*) FROM pancake.ratings_by_user WHERE dataset=? AND user=?")
res = execute_concurrent_with_args(s, q, [(ds, u) for u in users], concurrency=100)
per = [r.result_or_exc.one()[0] for r in res]
q = s.prepare("SELECT COUNT(*) FROM pancake.ratings_by_item WHERE dataset=? AND item=?")
res = execute_concurrent_with_args(s, q, [(ds, i) for i in items], concurrency=100)
by_item = sum(r.result_or_exc.one()[0] for r in res)
movies = s.execute("SELECT COUNT(*) FROM pancake.movies WHERE dataset=%s", (ds,)).one()[0]
r = rows[len(rows) // 2]
u, i, want = int(r["userId"]), int(r["movieId"]), float(r["rating"])
a = s.execute("SELECT rating FROM pancake.ratings_by_user WHERE dataset=%s AND user=%s AND item=%s", (ds, u, i)).one()[0]
b = s.execute("SELECT rating FROM pancake.ratings_by_item WHERE dataset=%s AND item=%s AND user=%s", (ds, i, u)).one()[0]
ok = "same" if a == want and b == want else "differs(%s,%s,%s)" % (a, b, want)
print(sum(per), sum(1 for n in per if n > 0), by_item, movies, ok)
PY
}

check() {
	set -- $(independent) || fail "python3-cassandra query"
	[ "$1" = 30000 ] || fail "python3-cassandra: ratings_by_user holds $1 rows, want 30000"
	[ "$2" = 500 ] || fail "python3-cassandra: $2 user partitions, want 500"
	[ "$3" = 30000 ] || fail "python3-cassandra: ratings_by_item holds $3 rows, want 30000"
	[ "$4" = 300 ] || fail "python3-cassandra: movies holds $4 rows, want 300"
	[ "$5" = same ] || fail "sample rating $5"
	pass "python3-cassandra: $1 ratings by user and by item, $2 users, $4 movies, a sample rating equals the CSV's"
}

$PANCAKE data load "$tmp/$ds" --into cassandra > "$tmp/load1" 2>&1 || { cat "$tmp/load1"; fail "first load"; }
cat "$tmp/load1"
$PANCAKE data verify "$tmp/$ds" --into cassandra || fail "verify after the first load"
pass "load into cassandra; verify: equal"
check
$PANCAKE data load "$tmp/$ds" --into cassandra > "$tmp/load2" 2>&1 || { cat "$tmp/load2"; fail "second load"; }
$PANCAKE data verify "$tmp/$ds" --into cassandra || fail "verify after the second load"
check
pass "a second load changes no count"


# rows removed behind pancake's back (the resume marker stays): the marker's
# spot check sees them gone and the next load writes everything again
delete_rows || fail "deleting the rows with python3-cassandra"
$PY -c '
import sys
from cassandra.cluster import Cluster
s = Cluster(["127.0.0.1"], port=9042).connect()
assert s.execute("SELECT done FROM pancake.load_markers WHERE dataset=%s", (sys.argv[1],)).one() is not None
' "$ds" || fail "the resume marker is gone: the check below would prove nothing"
$PANCAKE data load "$tmp/$ds" --into cassandra > "$tmp/load3" 2>&1 || { cat "$tmp/load3"; fail "load after the rows were deleted"; }
grep -Eq "^  cassandra +30000 ratings written \(30000 new, 0 rewritten in place: nothing duplicated\), 0 already there" "$tmp/load3" || { cat "$tmp/load3"; fail "a stale resume marker was trusted"; }
check
pass "rows deleted behind the marker's back: the next load wrote all 30000 again"
