# t0750: the acceptance run of the loaders on an ML-1M-shaped dataset:
# generate it, start `pancake data load` into all four stores and kill it
# (SIGKILL) half way through cassandra, see verify report the difference,
# load again: it resumes (cassandra skips what its marker says is in, kafka
# what its topic holds) and verify shows equal counts, as do kcat, curl,
# redis-cli and python3-cassandra. A third load changes no count. Then a
# load interrupted with SIGINT (exit 130, "interrupted") resumes too.
. "$(dirname "$0")/lib.sh"
ds=t0750ml1m
tmp=$(mktemp -d)
export PANCAKE_KAFKA_TOPIC=ratings-t0750
loader=""
cleanup() {
	[ -z "$loader" ] || kill -9 "$loader" 2>/dev/null || true
	$PANCAKE data drop "$ds" >/dev/null 2>&1 || true
	rm -rf "$tmp"
}
trap cleanup EXIT
$PY -c 'import cassandra' 2>/dev/null || fail "python3-cassandra is missing (apt-get install python3-cassandra)"
command -v kcat >/dev/null || fail "kcat is missing (apt-get install kcat)"
$PANCAKE data drop "$ds" >/dev/null 2>&1 || true

$PANCAKE data gen --shape ml-1m --seed 11 --out "$tmp/$ds" >/dev/null || fail "data gen --shape ml-1m"
read -r n_ratings n_movies n_users <<EOF
$($PY - "$tmp/$ds" <<'PY'
import csv, sys
rows = list(csv.DictReader(open(sys.argv[1] + "/ratings.csv")))
movies = list(csv.DictReader(open(sys.argv[1] + "/movies.csv")))
print(len(rows), len(movies), len({r["userId"] for r in rows}))
PY
)
EOF
[ "$n_ratings" -ge 1000000 ] || fail "an ML-1M shape has $n_ratings ratings"
pass "generated $ds: $n_ratings ratings, $n_movies movies, $n_users users (counted by python from the CSV)"

# the cassandra resume marker, as python3-cassandra reads it: "done total" or "none"
marker() {
	$PY - "$ds" <<'PY' 2>/dev/null || echo none
import sys
from cassandra.cluster import Cluster
c = Cluster(["127.0.0.1"], port=9042, protocol_version=4)
s = c.connect()
r = s.execute("SELECT done, total FROM pancake.load_markers WHERE dataset=%s", (sys.argv[1],)).one()
print("%d %d" % (r.done, r.total) if r else "none")
c.shutdown()
PY
}
# J FILE EXPR: a value from a `data load --json` summary, e.g. 'kafka.ratings_written'
J() {
	$PY - "$1" "$2" <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
t, f = sys.argv[2].split(".")
print([x for x in d["targets"] if x["target"] == t][0][f])
PY
}
kcat_count() { kcat -b 127.0.0.1:9092 -C -t "$PANCAKE_KAFKA_TOPIC" -e -q | wc -l; }

# 1. a load killed half way through cassandra
$PANCAKE data load "$tmp/$ds" > "$tmp/load1" 2>&1 &
loader=$!
deadline=$((SECONDS + 240))
while :; do
	m=$(marker)
	set -- $m
	if [ "$1" != none ] && [ "$1" -gt 200000 ]; then break; fi
	kill -0 "$loader" 2>/dev/null || { cat "$tmp/load1"; fail "the load ended before it could be killed"; }
	[ $SECONDS -lt $deadline ] || fail "cassandra's marker did not pass 200000 items in 240 s ($m)"
	sleep 0.5
done
kill -9 "$loader"
wait "$loader" 2>/dev/null || true
loader=""
m=$(marker); set -- $m
[ "$1" -lt "$2" ] || fail "the marker says the load was complete ($m) when it was killed"
pass "killed (SIGKILL) with cassandra's marker at $1 of $2 work items"
set +e; $PANCAKE data verify "$tmp/$ds" > "$tmp/verify1" 2>&1; rc=$?; set -e
cat "$tmp/verify1"
[ $rc -eq 1 ] || fail "verify after a killed load exited $rc, not 1"
grep -Eq "^cassandra .*DIFFERENT" "$tmp/verify1" || fail "verify does not show cassandra as different"
pass "verify after the kill: exit 1, cassandra DIFFERENT"

# 2. the same command again resumes
$PANCAKE data load "$tmp/$ds" --json > "$tmp/load2.json" 2>"$tmp/load2.err" || { cat "$tmp/load2.err" "$tmp/load2.json"; fail "resumed load"; }
cw=$(J "$tmp/load2.json" cassandra.ratings_written); cs=$(J "$tmp/load2.json" cassandra.ratings_skipped)
kw=$(J "$tmp/load2.json" kafka.ratings_written); ks=$(J "$tmp/load2.json" kafka.ratings_skipped)
[ "$cs" -gt 0 ] || fail "cassandra resumed from 0: it skipped nothing"
[ $((cw + cs)) -eq "$n_ratings" ] || fail "cassandra wrote $cw and skipped $cs: not $n_ratings"
[ $((kw + ks)) -eq "$n_ratings" ] || fail "kafka wrote $kw and skipped $ks: not $n_ratings"
pass "resumed: cassandra skipped $cs and wrote $cw, kafka skipped $ks and wrote $kw"
$PANCAKE data verify "$tmp/$ds" || fail "verify after the resumed load"
pass "verify after the resume: equal"

# 3. independent clients agree
check_independent() {
	n=$(kcat_count)
	[ "$n" -eq "$n_ratings" ] || fail "kcat counts $n records, want $n_ratings"
	n=$(kcat -b 127.0.0.1:9092 -C -t "$PANCAKE_KAFKA_TOPIC" -e -q -f '%s\n' | cut -d, -f5 | sort -u | wc -l)
	[ "$n" -eq "$n_ratings" ] || fail "kcat sees $n distinct sequence numbers, want $n_ratings"
	c=$(curl -s "127.0.0.1:9200/pk-$ds-movies/_count" | $PY -c 'import json,sys; print(json.load(sys.stdin)["count"])')
	[ "$c" -eq "$n_movies" ] || fail "elasticsearch _count $c, want $n_movies"
	z=$(redis-cli zcard "pk:$ds:popular")
	[ "$z" -eq "$n_movies" ] || fail "redis zcard popular $z, want $n_movies"
	u=$(redis-cli --scan --pattern "pk:$ds:user:*:rated" | wc -l)
	[ "$u" -eq "$n_users" ] || fail "redis has $u user sets, want $n_users"
	set -- $($PY - "$tmp/$ds" "$ds" <<'PY'
import csv, sys
from cassandra.cluster import Cluster
from cassandra.concurrent import execute_concurrent_with_args
d, ds = sys.argv[1], sys.argv[2]
c = Cluster(["127.0.0.1"], port=9042, protocol_version=4)
s = c.connect()
s.default_timeout = 60
users = sorted({int(r["userId"]) for r in csv.DictReader(open(d + "/ratings.csv"))})
q = s.prepare("SELECT COUNT(*) FROM pancake.ratings_by_user WHERE dataset=? AND user=?")
res = execute_concurrent_with_args(s, q, [(ds, u) for u in users], concurrency=100)
print(sum(r.result_or_exc.one()[0] for r in res),
      s.execute("SELECT COUNT(*) FROM pancake.movies WHERE dataset=%s", (ds,)).one()[0])
c.shutdown()
PY
)
	[ "$1" -eq "$n_ratings" ] || fail "python3-cassandra counts $1 ratings by user, want $n_ratings"
	[ "$2" -eq "$n_movies" ] || fail "python3-cassandra counts $2 movies, want $n_movies"
	pass "kcat $n_ratings records ($n_ratings distinct seq), curl _count $c, redis-cli zcard $z and $u user sets, python3-cassandra $1 ratings and $2 movies"
}
check_independent

# 4. a third load sends nothing to kafka or cassandra and changes no count
$PANCAKE data load "$tmp/$ds" --json > "$tmp/load3.json" 2>/dev/null || fail "third load"
[ "$(J "$tmp/load3.json" kafka.ratings_written)" -eq 0 ] || fail "the third load wrote kafka records"
[ "$(J "$tmp/load3.json" cassandra.ratings_written)" -eq 0 ] || fail "the third load wrote cassandra rows"
$PANCAKE data verify "$tmp/$ds" >/dev/null || fail "verify after the third load"
check_independent
pass "third load: kafka and cassandra 0 written, every count unchanged"

# 5. Ctrl-C: cassandra alone, from scratch (--full), interrupted and resumed
$PANCAKE data load "$tmp/$ds" --into cassandra --full > "$tmp/load4" 2>&1 &
loader=$!
deadline=$((SECONDS + 240))
start=$(marker); set -- $start; first=$1
while :; do
	sleep 1
	m=$(marker); set -- $m
	# --full starts at 0: the marker falls below where it was, then grows
	if [ "$1" -lt "$first" ] && [ "$1" -gt 100000 ]; then break; fi
	kill -0 "$loader" 2>/dev/null || { cat "$tmp/load4"; fail "the --full load ended before the interrupt"; }
	[ $SECONDS -lt $deadline ] || fail "the --full load did not get under way in 240 s ($m)"
done
kill -INT "$loader"
rc=0; wait "$loader" || rc=$?
loader=""
cat "$tmp/load4"
[ $rc -eq 130 ] || fail "an interrupted load exited $rc, not 130"
grep -q "^  cassandra      stopped interrupted: [0-9]* of $n_ratings ratings" "$tmp/load4" ||
	fail "the interrupted cassandra load does not say how far it got"
grep -q "^interrupted: run the same command again to resume" "$tmp/load4" || fail "no resume hint"
pass "SIGINT: exit 130, $(grep -o 'interrupted: [0-9]* of [0-9]* ratings' "$tmp/load4")"
$PANCAKE data load "$tmp/$ds" --into cassandra --json > "$tmp/load5.json" 2>/dev/null || fail "load after the interrupt"
cs=$(J "$tmp/load5.json" cassandra.ratings_skipped)
[ "$cs" -gt 0 ] || fail "the load after the interrupt did not resume"
$PANCAKE data verify "$tmp/$ds" >/dev/null || fail "verify after the interrupted load resumed"
pass "resumed after SIGINT (skipped $cs), verify equal"
