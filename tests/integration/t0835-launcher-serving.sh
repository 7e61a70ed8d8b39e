#!/bin/bash
# t0835: the launcher's serving screen and `pancake serving` against the real
# stack. A host serving with two variants (production, candidate) and a
# Thompson bandit announces itself and is listed beside the stack's serving
# container; under a bounded load (wrk, 5 s) and feedback the screen's req/s
# becomes non-zero and the arms' pulls move; `serving status --json` agrees
# with /metrics scraped by curl; `u` shows a user's recommendations with
# titles and `f` rewards one (serving counts it); the stack's container,
# stopped, shows as down with a reason and comes back by itself once it is
# started again. A stale announcement is ignored and removed; the host
# serving's is removed when it exits. Uses PANCAKE_PROJECT and the
# PANCAKE_*_PORT_* of the environment, the defaults without them.
. "$(dirname "$0")/lib.sh"
. tests/integration/lib-tmux.sh
REDIS_PORT=${PANCAKE_REDIS_PORT_6379:-6379}
KAFKA_PORT=${PANCAKE_KAFKA_PORT_9092:-9092}
SERVING_PORT=${PANCAKE_SERVING_PORT_8080:-8080}
PROJECT=${PANCAKE_PROJECT:-pancake}
RECO=services/recommender/recommender
SERV=services/serving/serving
W=$(mktemp -d /tmp/t0835.XXXXXX)
NAME=t0835-s35
DATA=datasets/generated/$NAME
SPID=
OLD_CURRENT=
V=
export PANCAKE_MODELS=$W/models PANCAKE_STATE=$W/state
container() { docker ps -aq --filter "label=io.pancake.project=$PROJECT" --filter label=io.pancake.service=serving; }
cleanup() {
	[ -n "$SPID" ] && kill "$SPID" 2> /dev/null
	[ -n "$(container)" ] && docker start "$(container)" > /dev/null 2>&1
	tui_cleanup
	# Redis as it was: the pointer back, this test's published lists gone
	if [ -n "$V" ]; then
		if [ -n "$OLD_CURRENT" ]; then redis-cli -p "$REDIS_PORT" set pk:rec:current "$OLD_CURRENT" > /dev/null
		elif [ "$(redis-cli -p "$REDIS_PORT" get pk:rec:current)" = "$V" ]; then
			redis-cli -p "$REDIS_PORT" del pk:rec:current > /dev/null
		fi
		drop_rec_versions "$REDIS_PORT" "$V"
	fi
	rm -rf "$W" "$DATA"
}
trap cleanup EXIT

$PANCAKE up --wait redis kafka serving > "$W/up.log" 2>&1 || { cat "$W/up.log"; fail "up --wait redis kafka serving"; }
$PANCAKE data gen --shape ml-100k --seed 35 --out "$DATA" > /dev/null || fail "data gen"
$RECO train "$DATA" --iters 3 --seed 1 --out "$W/a.model" --register > "$W/train.log" 2>&1 || fail "train a"
$RECO models promote > /dev/null || fail "promote"
$RECO train "$DATA" --iters 3 --seed 2 --biases --rank 16 --out "$W/b.model" --register >> "$W/train.log" 2>&1 || fail "train b"
# the container follows pk:rec:current: give it a model to serve
OLD_CURRENT=$(redis-cli -p "$REDIS_PORT" get pk:rec:current)
$RECO publish production --redis "127.0.0.1:$REDIS_PORT" > "$W/publish.log" 2>&1 || { cat "$W/publish.log"; fail "publish"; }
V=$(redis-cli -p "$REDIS_PORT" get pk:rec:current)
HP=$($PY -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
$SERV --variant a=production --variant b=candidate --policy thompson --port "$HP" --data "$DATA" \
	--redis "127.0.0.1:$REDIS_PORT" --kafka "127.0.0.1:$KAFKA_PORT" > "$W/serving.log" 2>&1 &
SPID=$!
wait_for 30 "the host serving is ready on $HP" grep -q "^ready:" "$W/serving.log"
grep -qx "port=$HP" "$PANCAKE_STATE/serving/$SPID" || fail "serving announced itself in $PANCAKE_STATE/serving/$SPID"
wait_for 60 "the stack's serving loads the published model" sh -c "curl -sf http://127.0.0.1:$SERVING_PORT/metrics | grep -q pancake_model_info"

# a stale announcement (its pid is gone) is not listed, and removed
sleep 0.1 & dead=$!; wait $dead
printf 'pid=%s\nbind=127.0.0.1\nport=1\nproject=x\n' "$dead" > "$PANCAKE_STATE/serving/$dead"
$PANCAKE serving status --json --url "127.0.0.1:$HP" > "$W/s0.json" || fail "serving status --url"
$PY - "$W/s0.json" "$HP" "$SPID" "$SERVING_PORT" <<'EOF' || fail "status lists the stack's serving and the host one, not the stale one"
import json, sys
d = json.load(open(sys.argv[1])); hp, pid, sp = sys.argv[2], int(sys.argv[3]), sys.argv[4]
eps = d["endpoints"]
assert [e["kind"] for e in eps] == ["given"], eps   # --url: that one only
EOF
$PANCAKE serving status --json > "$W/s1.json" || fail "serving status"
$PY - "$W/s1.json" "$HP" "$SPID" "$SERVING_PORT" <<'EOF' || fail "status lists the stack's serving and the host one, not the stale one"
import json, sys
d = json.load(open(sys.argv[1])); hp, pid, sp = sys.argv[2], int(sys.argv[3]), sys.argv[4]
eps = d["endpoints"]
assert eps[0]["kind"] == "container" and eps[0]["addr"] == "127.0.0.1:" + sp, eps
hosts = [e for e in eps if e["kind"] == "host"]
assert [(e["addr"], e["pid"]) for e in hosts] == [("127.0.0.1:" + hp, pid)], hosts
assert d["up"] is True
EOF
[ -e "$PANCAKE_STATE/serving/$dead" ] && fail "the stale announcement of pid $dead was not removed"
pass "serving status finds the stack's serving and the host one; a stale announcement is ignored and removed"

# the screen: watch the host serving (e cycles from the first that answers)
tui_start 100 40 "./pancake launcher --pane serving"
tui_wait 15 "the screen lists the host serving" "host pid $SPID 127\.0\.0\.1:$HP"
for i in 1 2 3; do
	tui_capture
	grep -q "UP 127\.0\.0\.1:$HP " "$tui_tmp/screen" && break
	tui_keys e
	sleep 2.5
done
tui_wait 10 "e selects the host serving, up" "UP 127\.0\.0\.1:$HP "
tui_wait 10 "its two arms show" "^b +[0-9a-f]{12} +thompson"
pulls() { $PY -c '
import re, sys
n = 0
for l in open(sys.argv[1]):
    m = re.match(r"^[ab] +[0-9a-f]{12} +thompson .* ([0-9]+)\s*$", l)
    if m: n += int(m.group(1))
print(n)' "$tui_tmp/screen"; }
tui_capture
before=$(pulls)

# a bounded load: wrk (or curl) for 5 s on users 1..900, and 40 answers with feedback
cat > "$W/users.lua" <<'EOF'
request = function() return wrk.format("GET", "/recommendations/" .. math.random(1, 900) .. "?k=5") end
EOF
if command -v wrk > /dev/null; then
	wrk -t 1 -c 2 -d 5 -s "$W/users.lua" "http://127.0.0.1:$HP" > "$W/wrk.log" 2>&1 &
else
	# no wrk here: curl in a loop for as long
	(end=$((SECONDS + 5)); while [ $SECONDS -lt $end ]; do
		curl -sf -o /dev/null "http://127.0.0.1:$HP/recommendations/$((RANDOM % 900 + 1))?k=5" || exit 1
	done) > "$W/wrk.log" 2>&1 &
fi
WRK=$!
tui_wait 10 "req/s becomes non-zero under load" "UP 127\.0\.0\.1:$HP  ([1-9][0-9]*|0\.[1-9])[0-9.]* req/s"
for i in $(seq 1 40); do
	read -r id item < <(curl -sf "http://127.0.0.1:$HP/recommendations/$i?k=5" | jq -r '"\(.request_id) \(.items[0].item)"')
	curl -sf -o /dev/null -X POST -d "{\"request_id\":\"$id\",\"item\":$item,\"reward\":$((i % 2))}" \
		"http://127.0.0.1:$HP/feedback" || fail "feedback $i refused"
done
wait "$WRK" || { cat "$W/wrk.log"; fail "wrk"; }
sleep 2.5
tui_capture
after=$(pulls)
[ "$after" -gt "$before" ] || fail "the arms' pulls did not move on screen ($before, then $after)"
pass "the arms' pulls moved on screen under load: $before, then $after"

# the CLI twin agrees with /metrics (no load now: only the scrapes change)
$PANCAKE serving status --json --url "127.0.0.1:$HP" > "$W/s2.json" || fail "serving status after the load"
curl -sf "http://127.0.0.1:$HP/metrics" > "$W/metrics.txt" || fail "curl /metrics"
$PY - "$W/s2.json" "$W/metrics.txt" <<'EOF' || fail "serving status --json disagrees with /metrics"
import json, re, sys
d = json.load(open(sys.argv[1]))
m = {}
for l in open(sys.argv[2]):
    if l.startswith("#") or not l.strip():
        continue
    k, v = l.rsplit(" ", 1)
    m[k] = float(v)
def get(k): return m.get(k, 0.0)
arms = {a["name"]: a for a in d["arms"]}
assert set(arms) == {"a", "b"}, arms
for n, a in arms.items():
    assert a["pulls"] == get('pancake_arm_pulls_total{variant="%s",policy="thompson"}' % n), (n, a)
    assert abs(a["rewards"] - get('pancake_arm_rewards_total{variant="%s"}' % n)) < 1e-6, (n, a)
    assert abs(a["no_reward"] - get('pancake_arm_no_reward_total{variant="%s"}' % n)) < 1e-6, (n, a)
    assert a["policy"] == "thompson" and a["weight"] is None, a
    assert a["rate_lo"] <= (a["rate"] if a["rate"] is not None else 0) <= a["rate_hi"] or a["rate"] is None, a
recs = sum(v for k, v in m.items() if k.startswith('pancake_requests_total{route="recommendations"'))
r = [x for x in d["routes"] if x["route"] == "recommendations"][0]
assert r["requests"] == recs and recs > 40, (r, recs)
assert d["feedback"]["attributed"] == get('pancake_feedback_total{outcome="attributed"}') >= 40, d["feedback"]
src = sum(v for k, v in m.items() if k.startswith("pancake_recommendations_source_total"))
assert sum(d["sources"].values()) == src, (d["sources"], src)
for v in d["variants"]:
    key = [k for k in m if k.startswith('pancake_model_info{variant="%s",version="%s"' % (v["name"], v["version"]))]
    assert key, v
print("pulls", {n: a["pulls"] for n, a in arms.items()}, "recommendations", int(recs))
EOF
pass "serving status --json agrees with /metrics: pulls, rewards, requests, feedback, sources, models"

# u: one user's recommendations with titles; f rewards the selected one
fb0=$(curl -sf "http://127.0.0.1:$HP/metrics" | awk '/outcome="attributed"/ {print $2}')
tui_keys u 1 2
tui_wait 5 "u opens the user prompt" "user id: 12_"
tui_keys Enter
tui_wait 10 "user 12's recommendations show" "^user 12: variant [ab] \(model [0-9a-f]{12}\)"
tui_wait 5 "with titles from the dataset" "titles from dataset $NAME"
tui_capture
grep -Eq "^> 1 +[0-9]+ +[0-9.-]+  .+ \([0-9]{4}\)" "$tui_tmp/screen" || fail "the first item has no title (year)"
tui_keys Down f
tui_wait 10 "f rewards the selected item" "\[rewarded \([ab]\)\]"
fb1=$(curl -sf "http://127.0.0.1:$HP/metrics" | awk '/outcome="attributed"/ {print $2}')
[ "$fb1" -eq $((fb0 + 1)) ] || fail "serving counted $fb0, then $fb1 attributed feedbacks: not one more"
pass "u shows user 12's list with titles, f's reward is counted by serving ($fb0 -> $fb1)"

# the stack's serving: stopped, it shows down with a reason; started, back up
for i in 1 2 3; do
	tui_capture
	grep -q "UP 127\.0\.0\.1:$SERVING_PORT " "$tui_tmp/screen" && break
	tui_keys e
	sleep 2.5
done
tui_wait 10 "e selects the stack's serving, up" "UP 127\.0\.0\.1:$SERVING_PORT "
docker stop "$(container)" > /dev/null || fail "docker stop serving"
tui_wait 20 "the stopped container shows down with a reason" "DOWN 127\.0\.0\.1:$SERVING_PORT: (connection refused|HTTP 503|the connection closed)"
docker start "$(container)" > /dev/null || fail "docker start serving"
tui_wait 60 "it comes back up by itself" "UP 127\.0\.0\.1:$SERVING_PORT "
pass "the stack's serving shows down with the reason while stopped, and up again once started"

tui_keys q
tui_ended 10 "q quits"
kill "$SPID"
wait "$SPID" || true
[ -e "$PANCAKE_STATE/serving/$SPID" ] && fail "serving's announcement stayed after it exited"
SPID=
pass "serving withdrew its announcement on exit"
echo "t0835 passed"
