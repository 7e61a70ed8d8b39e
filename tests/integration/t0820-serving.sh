#!/bin/bash
# t0820: the serving binary against the real Redis and Kafka. Answers equal
# what the recommender published; the in-memory path agrees with Redis for
# the same model; unknown users get popular items; feedback is attributed
# and a bandit sends most traffic to the clearly better variant; a model
# swap under wrk load loses no request; malformed and oversized requests
# get a 4xx; a dead Redis falls back to the model; impressions reach Kafka.
# Redis and Kafka are the stack's: PANCAKE_REDIS_PORT_6379 and
# PANCAKE_KAFKA_PORT_9092 move them (with PANCAKE_PROJECT, another stack).
. "$(dirname "$0")/lib.sh"
RECO=services/recommender/recommender
SERV=services/serving/serving
RPORT=${PANCAKE_REDIS_PORT_6379:-6379}
KPORT=${PANCAKE_KAFKA_PORT_9092:-9092}
redis-cli() { command redis-cli -p "$RPORT" "$@"; }
W=$(mktemp -d /tmp/t0820.XXXXXX)
PIDS=""
cleanup() {
	for p in $PIDS; do kill "$p" 2>/dev/null || true; done
	[ -z "${LOADED:-}" ] || $PANCAKE data drop "$LOADED" --from redis > /dev/null 2>&1 || true
	rm -rf "$W"
}
trap cleanup EXIT
export PANCAKE_MODELS=$W/models
REG=$W/models/registry
IMP=t0820-impressions-$$
FB=t0820-feedback-$$

# start_server PORT LOG ARGS...: runs serving in the background, waits for ready
start_server() {
	port=$1 log=$2; shift 2
	$SERV --port "$port" --data "$D" --impressions $IMP --feedback-topic $FB "$@" 2> "$log" &
	PIDS="$PIDS $!"
	LAST=$!
	wait_for 60 "serving on $port ready" curl -sf "http://127.0.0.1:$port/readyz"
}
get() { curl -s "http://127.0.0.1:$1$2"; }
status() { curl -s -o /dev/null -w '%{http_code}' "$@"; }

$PANCAKE up --wait kafka redis > "$W/up.log" 2>&1 || { cat "$W/up.log"; fail "kafka and redis up"; }
$PANCAKE data gen --shape ml-100k --seed 21 --out "$W/ml-100k-s21" > /dev/null
D=$W/ml-100k-s21
$RECO train "$D" --biases --iters 6 --out "$W/a.model" --register > /dev/null 2>&1 || fail "train a"
$RECO models promote > /dev/null || fail "promote"
$RECO publish production --data "$D" --top 20 --similar 10 > /dev/null 2>&1 || fail "publish"
V=$(redis-cli get pk:rec:current)

start_server 18201 "$W/s1.log" --variant main=production --watch 1 --cache-ms 0
P=18201 S1=$LAST
body=$(get $P '/recommendations/7?k=10')
echo "$body" | $PY -c '
import json, subprocess, sys
d = json.load(sys.stdin); v = sys.argv[1]
want = subprocess.run(["redis-cli", "-p", sys.argv[2], "zrevrange", "pk:rec:%s:user:7" % v, "0", "9"],
                      capture_output=True, text=True).stdout.split()
got = [str(i["item"]) for i in d["items"]]
assert d["source"] == "redis" and d["version"] == v, d
assert got == want, (got, want)
assert d["variant"] == "main" and d["request_id"] and 0 < d["probability"] <= 1
' "$V" "$RPORT" || fail "recommendations equal the published list: $body"
pass "GET /recommendations/7 returns the list the recommender published ($V)"

# the in-memory path for the same model: delete the list, ask again
before=$(get $P '/recommendations/7?k=10')
redis-cli del "pk:rec:$V:user:7" > /dev/null
after=$(get $P '/recommendations/7?k=10')
$PY - "$before" "$after" <<'EOF' || fail "in-memory agrees with redis"
import json, sys
a, b = json.loads(sys.argv[1]), json.loads(sys.argv[2])
assert b["source"] == "model", b["source"]
assert [i["item"] for i in a["items"]] == [i["item"] for i in b["items"]]
assert all(abs(x["score"] - y["score"]) < 1e-4 for x, y in zip(a["items"], b["items"]))
EOF
pass "with no list in Redis the model in memory gives the same items and scores"

# a server with no dataset files (as in the container) asks Redis what the
# user rated, once 'pancake data load' has put it there
HEAVY=$($PY - "$D" <<'EOF'
import collections, csv, sys
c = collections.Counter(r["userId"] for r in csv.DictReader(open(sys.argv[1] + "/ratings.csv")))
print(c.most_common(1)[0][0])
EOF
)
redis-cli del "pk:rec:$V:user:$HEAVY" > /dev/null
host=$(get $P "/recommendations/$HEAVY?k=10")
start_server 18207 "$W/s7.log" --variant main=production --watch 0 --cache-ms 0 --data none
rated_in() {	# JSON: how many of its items user $HEAVY rated
	$PY - "$D" "$HEAVY" "$1" <<'EOF'
import csv, json, sys
rated = {r["movieId"] for r in csv.DictReader(open(sys.argv[1] + "/ratings.csv")) if r["userId"] == sys.argv[2]}
d = json.loads(sys.argv[3]); assert d["source"] == "model", d
print(sum(str(i["item"]) in rated for i in d["items"]))
EOF
}
LOADED=$(basename "$D")
$PANCAKE data drop "$LOADED" --from redis > /dev/null 2>&1 || true	# a run killed before its cleanup
n0=$(rated_in "$(get 18207 "/recommendations/$HEAVY?k=10")") || fail "no-files answer"
[ "$n0" -gt 0 ] || fail "user $HEAVY's unfiltered top 10 holds something they rated (else this check proves nothing)"
$PANCAKE data load "$D" --into redis > "$W/load.log" 2>&1 || { cat "$W/load.log"; fail "data load into redis"; }
box=$(get 18207 "/recommendations/$HEAVY?k=10")
[ "$(rated_in "$box")" = 0 ] || fail "with the rated set in redis nothing rated is recommended: $box"
$PY - "$host" "$box" <<'EOF' || fail "the no-files server agrees with the one that read the files"
import json, sys
a, b = json.loads(sys.argv[1]), json.loads(sys.argv[2])
assert [i["item"] for i in a["items"]] == [i["item"] for i in b["items"]], (a, b)
EOF
kill $LAST
$PANCAKE data drop "$LOADED" --from redis > /dev/null || fail "data drop $LOADED"
LOADED=
pass "without dataset files the model's answer leaves out what Redis says user $HEAVY rated ($n0 of 10 were rated before the data load), as with the files"
get $P '/recommendations/987654?k=5' | $PY -c '
import json,sys; d=json.load(sys.stdin); assert d["source"]=="popular" and len(d["items"])==5, d' \
	|| fail "unknown user: popular"
get $P '/similar/1?k=4' | $PY -c '
import json,sys; d=json.load(sys.stdin); assert d["source"]=="redis" and len(d["items"])==4, d' \
	|| fail "similar items from redis"
get $P '/popular?k=3' | $PY -c 'import json,sys; assert len(json.load(sys.stdin)["items"])==3' \
	|| fail "popular"
pass "unknown user gets popular items; /similar and /popular answer"

# the per-worker cache: a second ask within --cache-ms is served from it,
# a later one from redis again
start_server 18205 "$W/s5.log" --variant main=production --watch 0 --cache-ms 700 --threads 1
src() { get 18205 "/recommendations/$1?k=10" | $PY -c 'import json,sys; print(json.load(sys.stdin)["source"])'; }
[ "$(src 11)" = redis ] && [ "$(src 11)" = cache ] || fail "the second ask comes from the cache"
sleep 1
[ "$(src 11)" = redis ] || fail "after --cache-ms the list comes from redis again"
kill -TERM $LAST; wait $LAST || true
pass "the cache answers a repeated ask within --cache-ms, redis after it"

# feedback
rid=$(get $P '/recommendations/9' | $PY -c 'import json,sys; print(json.load(sys.stdin)["request_id"])')
[ "$(status -XPOST "http://127.0.0.1:$P/feedback" -d "{\"request_id\":\"$rid\",\"item\":1,\"reward\":1}")" = 200 ] \
	|| fail "feedback attributed"
[ "$(status -XPOST "http://127.0.0.1:$P/feedback" -d "{\"request_id\":\"$rid\",\"item\":1,\"reward\":1}")" = 409 ] \
	|| fail "duplicate feedback is 409"
[ "$(status -XPOST "http://127.0.0.1:$P/feedback" -d '{"request_id":"00000000-5","reward":1}')" = 404 ] \
	|| fail "unknown request id is 404"
get $P /metrics | grep -q 'pancake_feedback_total{outcome="attributed"} 1' || fail "metrics count it"
pass "feedback: attributed, duplicate 409, unknown 404, counted in /metrics"

# malformed and oversized requests: a 4xx, and the server lives on
for u in '/recommendations/abc' '/recommendations/1?k=0' '/recommendations/1?k=x' '/nope' \
	 '/recommendations/99999999999' '/recommendations/1?variant=zzz'; do
	s=$(status "http://127.0.0.1:$P$u")
	case $s in 4??) ;; *) fail "$u gives a 4xx (got $s)" ;; esac
done
s=$(status "http://127.0.0.1:$P/recommendations/$(head -c 3000 /dev/zero | tr '\0' 1)")
case $s in 4??) ;; *) fail "a 3000-byte path gives a 4xx (got $s)" ;; esac
s=$(status -H "X-Big: $(head -c 20000 /dev/zero | tr '\0' a)" "http://127.0.0.1:$P/healthz")
case $s in 4??|000) ;; *) fail "a 20 KB header is refused (got $s)" ;; esac
head -c 40000 /dev/zero | tr '\0' ' ' > "$W/big.json"
[ "$(status -XPOST --data-binary @"$W/big.json" "http://127.0.0.1:$P/feedback")" = 413 ] || fail "a 40 KB body is 413"
[ "$(status -XPOST "http://127.0.0.1:$P/feedback" -d '{"request_id": 5')" = 400 ] || fail "truncated JSON is 400"
[ "$(status -XPOST "http://127.0.0.1:$P/feedback" -d '{"request_id":"x-1","reward":7}')" = 400 ] || fail "reward 7 is 400"
[ "$(status -XDELETE "http://127.0.0.1:$P/popular")" = 405 ] || fail "DELETE is 405"
get $P '/recommendations/1?k=0' | $PY -c 'import json,sys; assert "error" in json.load(sys.stdin)' \
	|| fail "errors are JSON"
[ "$(status "http://127.0.0.1:$P/healthz")" = 200 ] || fail "still healthy after the bad requests"
pass "malformed paths, ids, queries, JSON and oversized URIs, headers and bodies: 4xx, server alive"

# a swap under load: wrk while a new model is promoted; no non-2xx response
$RECO train "$D" --biases --iters 3 --seed 5 --out "$W/b.model" --register > /dev/null 2>&1 || fail "train b"
wrk -t2 -c16 -d8s "http://127.0.0.1:$P/recommendations/3?k=10" > "$W/wrk.txt" 2>&1 &
WRK=$!
sleep 2
$RECO models promote > /dev/null || fail "promote b"
wait $WRK
cat "$W/wrk.txt" | grep -E 'Requests/sec|requests in'
grep -q 'Non-2xx' "$W/wrk.txt" && fail "non-2xx responses during the swap: $(grep Non-2xx "$W/wrk.txt")"
grep -q 'Socket errors' "$W/wrk.txt" && fail "socket errors during the swap: $(grep 'Socket errors' "$W/wrk.txt")"
get $P /metrics | grep -q '^pancake_model_swaps_total [1-9]' || fail "the swap happened"
# under load one round trip to Redis carries the lists of many requests
get $P /metrics | $PY -c '
import re, sys
t = sys.stdin.read()
b = int(re.search(r"^pancake_redis_batches_total (\d+)", t, re.M).group(1))
n = int(re.search(r"^pancake_redis_lists_total (\d+)", t, re.M).group(1))
print("redis: %d lists in %d round trips (%.1f each)" % (n, b, n / max(b, 1)))
assert b > 0 and n / b > 1.5, (n, b)
' || fail "lists asked of Redis are pipelined under load"
new=$(get $P '/readyz' | $PY -c 'import json,sys; print(json.load(sys.stdin)["version"])')
[ "$new" != "$V" ] || fail "the new model serves after the swap"
pass "a promote under wrk load swapped the model ($V -> $new) with zero non-2xx responses"
kill -TERM $S1; wait $S1 || fail "SIGTERM drains and exits 0"

# a model straight from redis: redis:current follows what publish makes current
start_server 18206 "$W/s6.log" --variant live=redis:current --watch 1
ver() { get 18206 /readyz | $PY -c 'import json,sys; print(json.load(sys.stdin)["version"])'; }
[ "$(ver)" = "$(redis-cli get pk:rec:current)" ] || fail "redis:current loads the current model"
$RECO publish "$W/b.model" --data "$D" --top 10 --similar 0 > /dev/null 2>&1 || fail "publish b"
now=$(redis-cli get pk:rec:current)
wait_for 20 "the server follows pk:rec:current to $now" sh -c "[ \"\$(curl -s http://127.0.0.1:18206/readyz | $PY -c 'import json,sys; print(json.load(sys.stdin)[\"version\"])')\" = $now ]"
get 18206 '/recommendations/7?k=5' | grep -q "\"version\":\"$now\",\"source\":\"redis\"" \
	|| fail "answers come from the new version's lists"
kill -TERM $LAST; wait $LAST || true
pass "redis:current: the model file stored by publish, followed as publish moves the pointer"

# a primary and its replicas: the nearest that answers is read from (a dead
# first address is passed over); --drain-grace: after SIGTERM, /readyz says 503
# while requests are still answered, then it exits
start_server 18207 "$W/s7.log" --variant live=redis:current --redis "127.0.0.1:1,127.0.0.1:$RPORT" \
	--drain-grace 2
get 18207 '/recommendations/7?k=5' | grep -q '"source":"redis"' ||
	fail "with a dead first address the lists come from the second: $(get 18207 '/recommendations/7?k=5')"
kill -TERM $LAST
sleep 0.5
[ "$(status http://127.0.0.1:18207/readyz)" = 503 ] || fail "during the drain grace /readyz is 503"
[ "$(status 'http://127.0.0.1:18207/recommendations/7?k=5')" = 200 ] ||
	fail "during the drain grace requests are answered"
kill -0 $LAST 2>/dev/null || fail "it left before the grace ended"
wait $LAST || fail "it exits 0 after the grace"
pass "--redis A,B reads from the one that answers; --drain-grace answers on while /readyz says 503"

# a bandit: variant good pays 40% of the time, bad 5%; good ends with most traffic
start_server 18202 "$W/s2.log" --variant bad="$W/a.model" --variant good="$W/b.model" \
	--policy thompson --watch 0
$PY - 18202 <<'EOF' || fail "thompson sampling moves traffic to the better variant"
import json, random, sys, urllib.request
port = int(sys.argv[1]); rnd = random.Random(3); late = {"good": 0, "bad": 0}
for i in range(800):
    d = json.load(urllib.request.urlopen("http://127.0.0.1:%d/recommendations/%d" % (port, i + 1)))
    if i >= 600: late[d["variant"]] += 1
    if rnd.random() < (0.40 if d["variant"] == "good" else 0.05):
        req = urllib.request.Request("http://127.0.0.1:%d/feedback" % port, method="POST",
            data=json.dumps({"request_id": d["request_id"], "item": d["items"][0]["item"], "reward": 1}).encode())
        urllib.request.urlopen(req).read()
print("ok: last 200 requests:", late)
assert late["good"] > 150, late
EOF
pass "thompson: the better variant serves most of the last 200 requests"
kill -TERM $LAST; wait $LAST || true

# redis down: the model in memory answers
start_server 18203 "$W/s3.log" --variant main="$W/a.model" --redis 127.0.0.1:1 --watch 0
get 18203 '/recommendations/7?k=5' | $PY -c '
import json,sys; d=json.load(sys.stdin); assert d["source"]=="model" and len(d["items"])==5, d' \
	|| fail "redis down: in memory"
get 18203 /metrics | grep -q '^pancake_redis_errors_total [1-9]' || fail "redis errors counted"
pass "with redis unreachable the model in memory answers and the errors are counted"
kill -TERM $LAST; wait $LAST || true

# impressions reached kafka
n=$(kcat -C -b "127.0.0.1:$KPORT" -t $IMP -e -q 2>/dev/null | grep -c '"request_id"')
[ "$n" -gt 800 ] || fail "impressions in kafka (got $n)"
kcat -C -b "127.0.0.1:$KPORT" -t $FB -e -q 2>/dev/null | grep -q '"attributed":true' || fail "feedback in kafka"
pass "impressions ($n) and feedback were produced to kafka"

# a port in use
start_server 18204 "$W/s4.log" --variant main="$W/a.model" --no-redis --no-kafka --watch 0
if out=$($SERV --port 18204 --variant main="$W/a.model" --no-redis --no-kafka --data "$D" 2>&1); then
	fail "a second server on a used port fails"
fi
echo "$out" | grep -q "port in use" || fail "port-in-use message: $out"
kill -TERM $LAST; wait $LAST || true
pass "a port in use: a clear message and a non-zero exit"
echo "t0820 passed"
