#!/bin/bash
# t0860: serving built with AddressSanitizer and UBSan (in a copy of the
# tree, leaving this one's objects alone) serves the real Redis and Kafka:
# lists from Redis, the model in memory, a user with no list (what they
# rated asked of Redis), similar and popular items, feedback, metrics,
# refusals, half-closed clients, a model published and loaded on its
# news, a SIGHUP reload; then SIGTERM. It must exit 0 with no leak and no
# sanitizer report. Redis and Kafka are the stack's (PANCAKE_REDIS_PORT_6379,
# PANCAKE_KAFKA_PORT_9092).
. "$(dirname "$0")/lib.sh"
RECO=services/recommender/recommender
HALF=tests/tools/http-halfclose
RPORT=${PANCAKE_REDIS_PORT_6379:-6379}
KPORT=${PANCAKE_KAFKA_PORT_9092:-9092}
P=${T0860_PORT:-18261}
W=$(mktemp -d /tmp/t0860.XXXXXX)
PID="" MINE=""
rcli() { redis-cli -p "$RPORT" "$@"; }
cleanup() {
	[ -z "$PID" ] || kill "$PID" 2>/dev/null || true
	# shellcheck disable=SC2086
	drop_rec_versions "$RPORT" $MINE
	rm -rf "$W"
}
trap cleanup EXIT
export PANCAKE_MODELS=$W/models

make -s "$HALF" "$RECO" || fail "make $HALF $RECO"
tree_copy "$W/tree" || fail "copy the tree"
make -s -j2 -C "$W/tree" SANITIZE=address,undefined services/serving/serving > "$W/make.log" 2>&1 \
	|| { tail -20 "$W/make.log"; fail "build serving with sanitizers"; }
SERV=$W/tree/services/serving/serving
pass "serving built with -fsanitize=address,undefined"

$PANCAKE up --wait redis kafka > "$W/up.log" 2>&1 || { cat "$W/up.log"; fail "redis and kafka up"; }
D=$W/ml-100k-s71
$PANCAKE data gen --shape ml-100k --seed 71 --out "$D" > /dev/null
version() {	# trains $W/$1.model with seed $2; prints its version
	$RECO train "$D" --iters 3 --seed "$2" --out "$W/$1.model" --json 2> /dev/null \
		| $PY -c 'import json,sys; print(json.load(sys.stdin)["version"][:12])'
}
VA=$(version a 71) && VB=$(version b 72) || fail "train"
MINE="$VA $VB"
$RECO publish "$W/a.model" --data "$D" --top 10 --similar 5 --no-current --redis "127.0.0.1:$RPORT" \
	> "$W/pub.log" 2>&1 || { cat "$W/pub.log"; fail "publish A"; }
rcli del "pk:rec:$VA:user:5" > /dev/null	# user 5: no list, so the model answers

# the container's way (no dataset files, the model from redis) and a file beside it
ASAN_OPTIONS=detect_leaks=1:abort_on_error=0 UBSAN_OPTIONS=print_stacktrace=1 \
	$SERV --port "$P" --variant live="redis:$VA" --variant file="$W/a.model" --data none \
	--redis "127.0.0.1:$RPORT" --kafka "127.0.0.1:$KPORT" --impressions "t0860-imp-$$" \
	--feedback-topic "t0860-fb-$$" --watch 1 --cache-ms 500 2> "$W/serving.log" &
PID=$!
wait_for 120 "the sanitizer build on $P ready" curl -sf "http://127.0.0.1:$P/readyz"
get() { curl -s "http://127.0.0.1:$P$1"; }
get '/recommendations/5?k=5&variant=live' | grep -q '"source":"model"' || fail "user 5 from the model"
get '/recommendations/7?k=5&variant=live' | grep -q '"source":"redis"' || fail "user 7 from redis"
for u in 1 2 3 5 7 99999; do	# again: some from the cache
	get "/recommendations/$u?k=5&variant=live" > /dev/null
	get "/recommendations/$u?k=5&variant=file" > /dev/null
	get "/recommendations/$u?k=5" > /dev/null
done
get '/similar/1?k=3' > /dev/null
get '/popular?k=3' > /dev/null
get '/recommendations/7?k=1&k=2' > /dev/null
get '/nope' > /dev/null
get /metrics > /dev/null
rid=$(get '/recommendations/9' | $PY -c 'import json,sys; print(json.load(sys.stdin)["request_id"])')
curl -s -XPOST "http://127.0.0.1:$P/feedback" -d "{\"request_id\":\"$rid\",\"item\":1}" > /dev/null
$HALF --port "$P" --count 200 --parallel 20 --path '/recommendations/7?k=5' > /dev/null
$HALF --port "$P" --count 200 --parallel 20 --path /healthz > /dev/null
wrk -t1 -c8 -d2s "http://127.0.0.1:$P/recommendations/3?k=10" > /dev/null
# a new version on its news: the variant following redis:VA stays, so publish B
# and send the server a SIGHUP too (every variant loaded again, the old state freed)
$RECO publish "$W/b.model" --data "$D" --top 10 --similar 0 --no-current --redis "127.0.0.1:$RPORT" \
	> "$W/pub-b.log" 2>&1 || { cat "$W/pub-b.log"; fail "publish B"; }
kill -HUP "$PID"
wait_for 30 "the reload on SIGHUP" sh -c "curl -s http://127.0.0.1:$P/metrics | grep -q '^pancake_model_swaps_total [1-9]'"
get '/recommendations/7?k=5' > /dev/null
kill -TERM "$PID"
set +e
wait "$PID"
rc=$?
set -e
PID=""
grep -E "LeakSanitizer|AddressSanitizer|runtime error|SUMMARY" "$W/serving.log" | head -20
[ "$rc" = 0 ] || fail "SIGTERM: the sanitizer build exits 0 (got $rc)"
grep -q "LeakSanitizer" "$W/serving.log" && fail "a leak report on exit"
grep -Eq "AddressSanitizer|runtime error" "$W/serving.log" && fail "a sanitizer report"
pass "the sanitizer build served every path and exited 0 on SIGTERM with no leak or sanitizer report"
echo "t0860 passed"
