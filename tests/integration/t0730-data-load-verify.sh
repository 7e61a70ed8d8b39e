# t0730: pancake data load into kafka, elasticsearch and redis; verify agrees with
# independent clients; a second load changes no count; bad lines are refused with
# file:line and nothing written, or skipped with an honest report; data drop
# removes the dataset from every store and refuses a topic holding another one.
. "$(dirname "$0")/lib.sh"
tmp=$(mktemp -d)
ds=t0730set
export PANCAKE_KAFKA_TOPIC=ratings-t0730
cleanup() {
	PANCAKE_KAFKA_TOPIC=ratings-t0730 $PANCAKE data drop "$ds" >/dev/null 2>&1 || true
	PANCAKE_KAFKA_TOPIC=ratings-t0730bad $PANCAKE data drop t0730bad >/dev/null 2>&1 || true
	rm -rf "$tmp"
}
trap cleanup EXIT
cleanup; mkdir -p "$tmp"
$PANCAKE data gen --users 600 --items 400 --ratings 40000 --seed 21 --out "$tmp/$ds" >/dev/null || fail "data gen"
$PANCAKE data load "$tmp/$ds" > "$tmp/load1" 2>&1 || { cat "$tmp/load1"; fail "first load"; }
cat "$tmp/load1"
$PANCAKE data verify "$tmp/$ds" || fail "verify after the first load"
pass "load into kafka, cassandra, elasticsearch, redis; verify: equal"
# independent clients
n=$(kcat -b 127.0.0.1:9092 -C -t "$PANCAKE_KAFKA_TOPIC" -e -q -m 30 | wc -l)
[ "$n" -eq 40000 ] || fail "kcat counts $n records, want 40000"
c=$(curl -s "127.0.0.1:9200/pk-$ds-movies/_count" | $PY -c 'import json,sys; print(json.load(sys.stdin)["count"])')
[ "$c" -eq 400 ] || fail "elasticsearch _count $c, want 400"
z=$(redis-cli zcard "pk:$ds:popular")
[ "$z" -eq 400 ] || fail "redis zcard $z, want 400"
want=$($PY -c 'import csv,sys; r=list(csv.DictReader(open(sys.argv[1]))); print(sum(1 for x in r if x["movieId"]=="7"))' "$tmp/$ds/ratings.csv")
have=$(redis-cli hget "pk:$ds:item:7" count)
[ "$have" = "$want" ] || fail "redis count of item 7 is $have, the CSV says $want"
pass "kcat 40000 records, curl _count 400, redis-cli zcard 400, item 7 count $have = CSV"
$PANCAKE data load "$tmp/$ds" > "$tmp/load2" 2>&1 || { cat "$tmp/load2"; fail "second load"; }
cat "$tmp/load2"
grep -q "kafka *0 ratings written (0 new, 0 rewritten in place: nothing duplicated), 40000 already there and skipped" "$tmp/load2" || fail "second load sent kafka records again"
# every store says what a second load did in the same words: redis and
# elasticsearch rewrite in place (idempotent), cassandra resumes past its marker
for t in redis elasticsearch; do
	grep -q "$t *40000 ratings written (0 new, 40000 rewritten in place: nothing duplicated), 0 already there and skipped" "$tmp/load2" \
		|| fail "second load into $t does not say it rewrote 40000 in place"
done
grep -q "cassandra *0 ratings written (0 new, 0 rewritten in place: nothing duplicated), 40000 already there and skipped" "$tmp/load2" \
	|| fail "second load into cassandra does not say all 40000 were already there"
$PANCAKE data verify "$tmp/$ds" >/dev/null || fail "verify after the second load"
n=$(kcat -b 127.0.0.1:9092 -C -t "$PANCAKE_KAFKA_TOPIC" -e -q -m 30 | wc -l)
[ "$n" -eq 40000 ] || fail "after a second load kcat counts $n"
pass "second load: nothing duplicated (kafka skipped all 40000, verify equal)"
# bad input: abort writes nothing, skip loads the good lines and says why
mkdir -p "$tmp/t0730bad"
cp "$tmp/$ds/movies.csv" "$tmp/t0730bad/"
{ head -1 "$tmp/$ds/ratings.csv"; sed -n '2,101p' "$tmp/$ds/ratings.csv"; echo "1,7,9.5,1000000000"; echo "oops"; } > "$tmp/t0730bad/ratings.csv"
export PANCAKE_KAFKA_TOPIC=ratings-t0730bad
set +e; out=$($PANCAKE data load "$tmp/t0730bad" 2>&1); rc=$?; set -e
echo "$out"
[ $rc -ne 0 ] || fail "a file with bad lines was loaded with --on-error=abort"
echo "$out" | grep -q "ratings.csv:102: rating '9.5' is outside 0.5..5" || fail "no file:line reason"
[ "$(redis-cli exists pk:t0730bad:popular)" -eq 0 ] || fail "redis was written to despite the abort"
[ "$(curl -s -o /dev/null -w '%{http_code}' 127.0.0.1:9200/pk-t0730bad-movies)" = 404 ] || fail "an index was made despite the abort"
pass "abort: file:line reason, nothing written to any store"
$PANCAKE data load "$tmp/t0730bad" --on-error=skip --into redis > "$tmp/skip" 2>&1 || { cat "$tmp/skip"; fail "skip load"; }
cat "$tmp/skip"
grep -q "skipped 2 bad line" "$tmp/skip" || fail "skip report does not count 2 bad lines"
[ "$($PANCAKE data verify "$tmp/t0730bad" --into redis --json | $PY -c 'import json,sys; print(json.load(sys.stdin)[0]["ratings"])')" -eq 100 ] \
	|| fail "skip load did not load the 100 good lines"
pass "skip: 100 good lines loaded, 2 bad ones reported"
set +e; out=$($PANCAKE data load "$tmp/$ds" --into nosuch 2>&1); rc=$?; set -e
[ $rc -eq 2 ] && echo "$out" | grep -q "no store named 'nosuch'" || fail "unknown target not refused with a usage error"
pass "unknown target refused"

# another version of the dataset under the same name: every store refuses it
# and keeps what it has; --replace drops the old version and loads the new
export PANCAKE_KAFKA_TOPIC=ratings-t0730
mkdir -p "$tmp/v2"
$PANCAKE data gen --users 600 --items 400 --ratings 30000 --seed 22 --out "$tmp/v2/$ds" >/dev/null || fail "data gen v2"
set +e; $PANCAKE data load "$tmp/v2/$ds" > "$tmp/v2.out" 2>&1; rc=$?; set -e
cat "$tmp/v2.out"
[ $rc -eq 1 ] || fail "loading another version exited $rc, not 1"
grep -Eq "^  kafka +FAILED .*the dataset changed since it was loaded" "$tmp/v2.out" || fail "kafka did not refuse the other version"
for t in cassandra elasticsearch redis; do
	grep -Eq "^  $t +FAILED .*holds another version of dataset '$ds'.*--replace" "$tmp/v2.out" || fail "$t did not refuse the other version"
done
$PANCAKE data verify "$tmp/$ds" >/dev/null || fail "a refused version changed what the stores hold"
pass "another version of $ds: all four refuse and name the way out; the stores still hold the first version"
$PANCAKE data load "$tmp/v2/$ds" --replace > "$tmp/v2r.out" 2>&1 || { cat "$tmp/v2r.out"; fail "load --replace"; }
cat "$tmp/v2r.out"
grep -c "replaced: " "$tmp/v2r.out" | grep -qx 4 || fail "--replace did not report four stores replaced"
$PANCAKE data verify "$tmp/v2/$ds" || fail "verify of the new version after --replace"
n=$(kcat -b 127.0.0.1:9092 -C -t "$PANCAKE_KAFKA_TOPIC" -e -q -m 30 | wc -l)
[ "$n" -eq 30000 ] || fail "kcat counts $n after --replace, want 30000"
$PANCAKE data load "$tmp/$ds" --replace >/dev/null 2>&1 || fail "load --replace back to the first version"
$PANCAKE data verify "$tmp/$ds" >/dev/null || fail "verify of the first version after replacing back"
pass "--replace: the new version loaded and verified (kcat 30000), and back again"

# drop: another dataset's topic is left alone, then everything of $ds goes
export PANCAKE_KAFKA_TOPIC=ratings-t0730
set +e; out=$($PANCAKE data drop t0730other --from kafka 2>&1); rc=$?; set -e
[ $rc -ne 0 ] && echo "$out" | grep -q "holds dataset '$ds', not 't0730other': it was left as it is" \
	|| { echo "$out"; fail "drop of another dataset did not refuse the topic"; }
n=$(kcat -b 127.0.0.1:9092 -C -t "$PANCAKE_KAFKA_TOPIC" -e -q -m 30 | wc -l)
[ "$n" -eq 40000 ] || fail "a refused drop changed the topic ($n records)"
pass "drop refuses a topic that holds another dataset (still 40000 records)"
$PANCAKE data drop "$ds" > "$tmp/drop" 2>&1 || { cat "$tmp/drop"; fail "data drop"; }
cat "$tmp/drop"
set +e; $PANCAKE data verify "$tmp/$ds" --json > "$tmp/after.json"; rc=$?; set -e
[ $rc -eq 1 ] || fail "verify after drop exited $rc, not 1"
$PY - "$tmp/after.json" <<'PY' || fail "verify after drop does not show empty stores"
import json, sys
for t in json.load(open(sys.argv[1])):
    assert t["ratings"] in (0, -1) and t["movies"] in (0, -1), t
PY
[ "$(curl -s -o /dev/null -w '%{http_code}' "127.0.0.1:9200/pk-$ds-movies")" = 404 ] || fail "the index is still there"
[ "$(redis-cli --scan --pattern "pk:$ds:*" | wc -l)" -eq 0 ] || fail "redis keys are still there"
[ "$(kcat -b 127.0.0.1:9092 -L 2>/dev/null | grep -c "topic \"$PANCAKE_KAFKA_TOPIC\" ")" -eq 0 ] \
	|| fail "kcat still lists topic $PANCAKE_KAFKA_TOPIC"
pass "drop: verify sees empty stores, curl 404, no redis keys, no kafka topic"
