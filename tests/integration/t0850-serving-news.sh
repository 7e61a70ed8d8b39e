#!/bin/bash
# t0850: serving learns at once what publish and fold-in move, from their
# news on Redis's pk:rec:announce, with its own look (--watch) pushed out
# to an hour so that only the news can do it. A server waiting for a
# version loads it when publish announces it, and while it waits its 503
# says what it found and when, not that nothing is published; a server
# following redis:current moves when publish moves the pointer; a cached
# answer is dropped when fold-in replaces that user's list. Redis and
# Kafka are the stack's (PANCAKE_REDIS_PORT_6379, PANCAKE_KAFKA_PORT_9092).
. "$(dirname "$0")/lib.sh"
RECO=services/recommender/recommender
SERV=services/serving/serving
RPORT=${PANCAKE_REDIS_PORT_6379:-6379}
KPORT=${PANCAKE_KAFKA_PORT_9092:-9092}
P=${T0850_PORT:-18251}
W=$(mktemp -d /tmp/t0850.XXXXXX)
PIDS="" MINE="" OLD=""
rcli() { redis-cli -p "$RPORT" "$@"; }
cleanup() {
	for p in $PIDS; do kill "$p" 2>/dev/null || true; done
	# pk:rec:current back where it was, announced, and the versions made here gone
	if [ -n "$OLD" ]; then
		rcli set pk:rec:current "$OLD" > /dev/null
		rcli publish pk:rec:announce "current $OLD" > /dev/null
	fi
	# shellcheck disable=SC2086
	drop_rec_versions "$RPORT" $MINE
	rm -rf "$W"
}
trap cleanup EXIT
export PANCAKE_MODELS=$W/models
get() { curl -s "http://127.0.0.1:$P$1"; }
field() { $PY -c 'import json,sys; d=json.load(sys.stdin); print(d.get(sys.argv[1]))' "$1"; }

$PANCAKE up --wait redis kafka > "$W/up.log" 2>&1 || { cat "$W/up.log"; fail "redis and kafka up"; }
D=$W/ml-100k-s51
$PANCAKE data gen --shape ml-100k --seed 51 --out "$D" > /dev/null
version() {	# trains $W/$1.model with seed $2; prints its version
	$RECO train "$D" --iters 3 --seed "$2" --out "$W/$1.model" --json 2> /dev/null \
		| $PY -c 'import json,sys; print(json.load(sys.stdin)["version"][:12])'
}
VA=$(version a 51) && VB=$(version b 52) || fail "train"
MINE="$VA $VB"

# waiting for version A, which is not published yet
$SERV --port "$P" --variant live="redis:$VA" --data none --redis "127.0.0.1:$RPORT" --no-kafka \
	--wait-for-model --watch 3600 --cache-ms 600000 2> "$W/s.log" &
S1=$!
PIDS="$PIDS $S1"
wait_for 60 "serving on $P ready (waiting for a model)" curl -sf "http://127.0.0.1:$P/readyz"
[ "$(get /readyz | field version)" = None ] || fail "no model loaded before A is published"
msg=$(get '/recommendations/7?k=5' | field error)
echo "  503 before: $msg"
case $msg in *"as of "*" s ago"*) ;; *) fail "the 503 says when serving looked: $msg" ;; esac
pass "waiting for $VA, a request gets a 503 that says what serving found and when"

$RECO publish "$W/a.model" --data "$D" --top 10 --similar 0 --no-current \
	--redis "127.0.0.1:$RPORT" > "$W/pub-a.log" 2>&1 || { cat "$W/pub-a.log"; fail "publish A"; }
# at once: either A answers, or the 503 says A is loading (never that nothing is published)
body=$(get '/recommendations/7?k=5')
echo "  right after publish: $(echo "$body" | cut -c1-160)"
echo "$body" | $PY -c '
import json, sys
d = json.load(sys.stdin); v = sys.argv[1]
assert d.get("version") == v or ("loading model " + v) in d.get("error", ""), d
' "$VA" || fail "right after publish, A answers or the 503 says it is loading"
wait_for 30 "serving loads $VA on publish's news (its own look is an hour away)" \
	sh -c "curl -s http://127.0.0.1:$P/readyz | grep -q '\"version\":\"$VA\"'"

# a cached answer, then fold-in replaces that user's list
[ "$(get '/recommendations/12?k=5' | field source)" = redis ] || fail "from redis first"
[ "$(get '/recommendations/12?k=5' | field source)" = cache ] || fail "then from the cache"
TOPIC=t0850-ratings-$$
top=$(rcli zrevrange "pk:rec:$VA:user:12" 0 0)
echo "12,$top,0.5,1700000000,900000001,$(basename "$D")" | kcat -P -b "127.0.0.1:$KPORT" -t "$TOPIC" -k 12 \
	|| fail "produce a rating"
$RECO foldin "$W/a.model" --data "$D" --topic "$TOPIC" --group "t0850-$$" --from-beginning \
	--max-events 1 --top 10 --kafka "127.0.0.1:$KPORT" --redis "127.0.0.1:$RPORT" \
	> "$W/foldin.log" 2>&1 || { cat "$W/foldin.log"; fail "foldin"; }
now_list() {	# the answer for user 12 is the list fold-in wrote, from redis
	want=$(rcli zrevrange "pk:rec:$VA:user:12" 0 4 | tr '\n' ' ')
	get '/recommendations/12?k=5' | $PY -c '
import json, sys
d = json.load(sys.stdin)
assert d["source"] == "redis" and " ".join(str(i["item"]) for i in d["items"]) + " " == sys.argv[1], d
' "$want"
}
[ "$(rcli zrevrange "pk:rec:$VA:user:12" 0 0)" != "$top" ] || fail "fold-in replaced user 12's list"
wait_for 30 "the cached answer (kept 10 minutes) gives way to fold-in's list" now_list
kill -TERM $S1; wait $S1 || true

# following redis:current: publish B and move the pointer
OLD=$(rcli get pk:rec:current)
$SERV --port "$P" --variant live=redis:current --data none --redis "127.0.0.1:$RPORT" --no-kafka \
	--wait-for-model --watch 3600 2> "$W/s2.log" &
PIDS="$PIDS $!"
wait_for 60 "a server following redis:current ready" curl -sf "http://127.0.0.1:$P/readyz"
$RECO publish "$W/b.model" --data "$D" --top 10 --similar 0 --redis "127.0.0.1:$RPORT" \
	> "$W/pub-b.log" 2>&1 || { cat "$W/pub-b.log"; fail "publish B"; }
[ "$(rcli get pk:rec:current)" = "$VB" ] || fail "publish B moved pk:rec:current"
wait_for 30 "serving follows pk:rec:current to $VB on the news" \
	sh -c "curl -s http://127.0.0.1:$P/readyz | grep -q '\"version\":\"$VB\"'"
echo "t0850 passed"
