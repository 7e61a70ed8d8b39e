# t0760: a store that is down or killed during `pancake data load`. With redis
# stopped the load fails that target with a message naming it and the way
# out, the other three load in full, and after `pancake up --wait redis` the
# same command completes the set without sending kafka or cassandra anything
# again. With cassandra killed (SIGKILL) and started again mid-load, the
# loader reconnects and resends what was not acknowledged (or, if it was not
# back in time, says so and the next load resumes); verify ends equal.
. "$(dirname "$0")/lib.sh"
ds=t0760set
big=t0760big
tmp=$(mktemp -d)
export PANCAKE_KAFKA_TOPIC=ratings-t0760
loader=""
cleanup() {
	[ -z "$loader" ] || kill -9 "$loader" 2>/dev/null || true
	docker start pancake-redis >/dev/null 2>&1 || true
	$PANCAKE up --wait redis cassandra >/dev/null 2>&1 || true
	$PANCAKE data drop "$ds" >/dev/null 2>&1 || true
	$PANCAKE data drop "$big" --from cassandra >/dev/null 2>&1 || true
	rm -rf "$tmp"
}
trap cleanup EXIT
$PANCAKE data drop "$ds" >/dev/null 2>&1 || true
$PANCAKE data gen --users 800 --items 500 --ratings 60000 --seed 76 --out "$tmp/$ds" >/dev/null || fail "data gen"

# 1. redis down: that target fails, clearly; the others load
docker stop pancake-redis >/dev/null || fail "docker stop pancake-redis"
start=$(date +%s)
set +e; $PANCAKE data load "$tmp/$ds" > "$tmp/load1" 2>&1; rc=$?; set -e
took=$(( $(date +%s) - start ))
cat "$tmp/load1"
[ $rc -eq 1 ] || fail "a load with redis down exited $rc, not 1"
grep -Eq "^  redis +FAILED .*127\.0\.0\.1:6379" "$tmp/load1" || fail "the redis failure does not name 127.0.0.1:6379"
grep -q "^  redis  *FAILED .*pancake up redis" "$tmp/load1" || fail "the redis failure names no way out"
for t in kafka cassandra elasticsearch; do
	grep -Eq "^  $t +60000 ratings written \(60000 new, 0 rewritten in place: nothing duplicated\), 0 already there" "$tmp/load1" || fail "$t did not load all 60000 with redis down"
done
grep -q "1 of 4 target(s) failed; what the others loaded stays" "$tmp/load1" || fail "no summary of the failure"
[ $took -le 40 ] || fail "the load took ${took}s to give up on a stopped redis"
pass "redis stopped: redis FAILED ($(grep -E '^  redis' "$tmp/load1" | sed 's/  */ /g' | cut -c1-90)...), the other three loaded 60000, ${took}s"

# 2. redis back: the same command completes it, sending nothing twice
$PANCAKE up --wait redis >/dev/null || fail "pancake up --wait redis"
$PANCAKE data load "$tmp/$ds" > "$tmp/load2" 2>&1 || { cat "$tmp/load2"; fail "load after redis came back"; }
cat "$tmp/load2"
grep -Eq "^  kafka +0 ratings written \(0 new, 0 rewritten in place: nothing duplicated\), 60000 already there" "$tmp/load2" || fail "kafka records were sent again"
grep -Eq "^  cassandra +0 ratings written \(0 new, 0 rewritten in place: nothing duplicated\), 60000 already there" "$tmp/load2" || fail "cassandra rows were sent again"
grep -Eq "^  redis +60000 ratings written" "$tmp/load2" || fail "redis was not loaded"
$PANCAKE data verify "$tmp/$ds" || fail "verify after redis came back"
[ "$(redis-cli zcard "pk:$ds:popular")" -eq 500 ] || fail "redis-cli zcard is not 500"
pass "redis back: the same command loaded redis only, verify equal, redis-cli zcard 500"

# 3. cassandra killed and started again in the middle of a load
$PANCAKE data gen --users 4000 --items 2000 --ratings 400k --seed 77 --out "$tmp/$big" >/dev/null || fail "data gen big"
$PANCAKE data drop "$big" --from cassandra >/dev/null 2>&1 || true
$PANCAKE data load "$tmp/$big" --into cassandra > "$tmp/load3" 2>&1 &
loader=$!
deadline=$((SECONDS + 120))
until grep -q "^loading" "$tmp/load3"; do
	kill -0 "$loader" 2>/dev/null || { cat "$tmp/load3"; fail "the load ended before it began"; }
	[ $SECONDS -lt $deadline ] || fail "the cassandra load did not begin in 120 s"
	sleep 0.2
done
# well inside the load (about 12 s here); the resume marker lags 12 s behind
# what is acknowledged, so it cannot say when the load is half done
sleep 3
kill -0 "$loader" 2>/dev/null || { cat "$tmp/load3"; fail "the load ended before cassandra was killed"; }
docker kill pancake-cassandra >/dev/null || fail "docker kill pancake-cassandra"
docker start pancake-cassandra >/dev/null || fail "docker start pancake-cassandra"
pass "cassandra killed (SIGKILL) and started again during the load"
rc=0; wait "$loader" || rc=$?
loader=""
cat "$tmp/load3"
if [ $rc -eq 0 ]; then
	grep -Eq "^  cassandra +400000 ratings written" "$tmp/load3" || fail "the load survived but did not write 400000"
	pass "the loader reconnected and finished"
else
	grep -q "connection lost .* and not back within" "$tmp/load3" || fail "the load failed ($rc) without saying the connection was lost"
	$PANCAKE up --wait cassandra >/dev/null || fail "cassandra not ready again"
	$PANCAKE data load "$tmp/$big" --into cassandra > "$tmp/load4" 2>&1 || { cat "$tmp/load4"; fail "the load after the restart"; }
	grep -Eq "^  cassandra +[0-9]+ ratings written \([0-9]+ new, [0-9]+ rewritten in place: nothing duplicated\), [1-9][0-9]* already there" "$tmp/load4" || fail "the next load did not resume"
	pass "the loader gave up clearly; the next load resumed"
fi
$PANCAKE up --wait cassandra >/dev/null || fail "cassandra not ready after the kill"
$PANCAKE data verify "$tmp/$big" --into cassandra || fail "verify after cassandra was killed mid-load"
pass "verify after the kill: cassandra holds exactly the 400000 ratings"
