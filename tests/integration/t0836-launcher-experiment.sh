#!/bin/bash
# t0836: an experiment from the launcher alone, against the real stack. With
# an empty registry, x on the serving screen is refused saying how to make a
# model; two models trained with `pancake models train` on lab-100k, the
# first promoted: x asks "start serving a=production (ID) vs b=candidate
# (ID), thompson, on 127.0.0.1:PORT?" (o cycles the policy), y starts it and
# the screen watches it once it answers; s plays simulated users and the
# arms' pulls move with b's share growing (numbers read off the screen);
# `serving status --json` agrees with /metrics; the CLI refuses the port in
# use and simulates with --json; x, y stops it (no process, no
# announcement); quitting with one running stops it and says so; the CLI's
# detached start is left running until `experiment stop --port`. Uses
# PANCAKE_PROJECT and the PANCAKE_*_PORT_* of the environment, the defaults
# without them; leaves no models, processes or Kafka topics behind.
. "$(dirname "$0")/lib.sh"
. tests/integration/lib-tmux.sh
KAFKA_PORT=${PANCAKE_KAFKA_PORT_9092:-9092}
SERVING_PORT=${PANCAKE_SERVING_PORT_8080:-8080}
PORT=$((SERVING_PORT + 1))
W=$(mktemp -d /tmp/t0836.XXXXXX)
SET=datasets/generated/lab-100k
CHECK=tests/tools/kafka-load-check
made_set=
PIDS=
export PANCAKE_MODELS=$W/models PANCAKE_STATE=$W/state
# running PID: the process is there and not a zombie (a detached serving's
# parent is gone: whoever adopted it reaps it in its own time)
running() { [ -r "/proc/$1/stat" ] && ! sed 's/.*) //' "/proc/$1/stat" 2> /dev/null | grep -q '^Z'; }
topics() { kcat -b "127.0.0.1:$KAFKA_PORT" -L -m 5 2> /dev/null | sed -n 's/^ *topic "\([^"]*\)".*/\1/p' | sort; }
cleanup() {
	tui_cleanup
	for p in $PIDS; do kill "$p" 2> /dev/null || true; done
	# the topics serving made, when they were not there before
	if [ -s "$W/topics.before" ]; then
		for t in impressions feedback; do
			grep -qx "$t" "$W/topics.before" || $CHECK delete-topic "$t" --port "$KAFKA_PORT" > /dev/null 2>&1 || true
		done
	fi
	[ -n "$made_set" ] && rm -rf "$SET"
	rm -rf "$W"
}
trap cleanup EXIT

make -s "$CHECK" || fail "make $CHECK"
command -v kcat > /dev/null || fail "kcat is not installed"
if [ ! -d "$SET" ]; then
	made_set=1
	$PANCAKE data gen --shape ml-100k --seed 1 --out "$SET" > /dev/null || fail "generate lab-100k"
fi
$PANCAKE up --wait redis kafka > "$W/up.log" 2>&1 || { cat "$W/up.log"; fail "redis and kafka up"; }
{ topics; echo "(listed)"; } > "$W/topics.before"
grep -qx "(listed)" "$W/topics.before" || fail "kcat lists no topics on $KAFKA_PORT"

tui_start 160 40 "./pancake launcher --pane serving"
tui_wait 15 "the serving screen opens" "serving: live from /metrics"
tui_wait 5 "the screen says what x does" "x starts an experiment here"
tui_keys x
tui_wait 5 "x with no registry is refused with the way out" "cannot start an experiment: no model registry at"
pass "x with an empty registry: refused, saying how to make a model"

# two models, the first promoted
$PANCAKE models train lab-100k --iters 3 > "$W/train1.log" 2>&1 || { cat "$W/train1.log"; fail "train 1"; }
tui_keys x
tui_wait 5 "x with no production is refused, naming the way" "cannot start an experiment: no production model in the registry"
$PANCAKE models promote > /dev/null || fail "promote"
$PANCAKE models train lab-100k --iters 3 --rank 16 > "$W/train2.log" 2>&1 || { cat "$W/train2.log"; fail "train 2"; }
A=$(git --git-dir="$PANCAKE_MODELS/registry" rev-parse --short=12 production)
B=$(git --git-dir="$PANCAKE_MODELS/registry" rev-parse --short=12 candidate)
[ "$A" != "$B" ] || fail "production and candidate are the same model"
pass "x without production is refused; two models trained, $A production, $B candidate"

# x asks, o cycles the policy, Left back, y starts
tui_keys x
tui_wait 5 "x asks what it will run" "start serving a=production \($A\) vs b=candidate \($B\), thompson, on 127\.0\.0\.1:$PORT\?"
tui_keys o
tui_wait 5 "o picks the next policy" "\($B\), ab, on 127\.0\.0\.1:$PORT\?"
tui_keys Left
tui_wait 5 "Left goes back to thompson" "\($B\), thompson, on 127\.0\.0\.1:$PORT\?"
tui_keys y
tui_wait 30 "the experiment comes up" "experiment up on 127\.0\.0\.1:$PORT, pid [0-9]+ \(x stops it\): a=production vs b=candidate, thompson"
tui_wait 10 "the screen watches it once it answers" "UP 127\.0\.0\.1:$PORT "
tui_capture
SPID=$(grep -oE "experiment up on [^ ]+, pid [0-9]+" "$tui_tmp/screen" | grep -oE "[0-9]+$")
PIDS="$PIDS $SPID"
grep -Eq "host pid $SPID 127\.0\.0\.1:$PORT" "$tui_tmp/screen" || fail "the endpoints do not list host pid $SPID"
grep -qx "port=$PORT" "$PANCAKE_STATE/serving/$SPID" || fail "serving $SPID did not announce port $PORT"
tr '\0' '\n' < "/proc/$SPID/cmdline" > "$W/cmdline"
for a in --variant=a=production --variant=b=candidate --policy=thompson --bind=127.0.0.1 \
	"--port=$PORT" --data=lab-100k "--kafka=127.0.0.1:$KAFKA_PORT"; do
	grep -qx -- "$a" "$W/cmdline" || fail "serving runs without $a: $(tr '\n' ' ' < "$W/cmdline")"
done
ls "$PANCAKE_STATE"/jobs/experiment-*.log > /dev/null 2>&1 || fail "no experiment log under the state's jobs/"
tui_wait 10 "its two arms show" "^b +[0-9a-f]{12} +thompson"
pass "x, o, Left, y: the experiment (pid $SPID) runs a=production vs b=candidate under thompson on $PORT and is watched"

# the port is taken now: the CLI says so, with the way out
if $PANCAKE serving experiment start > "$W/busy.out" 2> "$W/busy.err"; then fail "a second start on $PORT succeeded"; fi
grep -q "port $PORT on 127.0.0.1 is in use by a serving (pid $SPID)" "$W/busy.err" || { cat "$W/busy.err"; fail "the refusal does not name the port and pid"; }
grep -q "pancake serving experiment stop --port $PORT" "$W/busy.err" || fail "the refusal does not say how to stop it"
pass "a second experiment on $PORT is refused, naming pid $SPID and the way out"

# s: simulated users; the pulls move and b's share of them (its bar) grows
# from nothing to most under thompson; printed: pulls, b's share, b's bar
arms() { $PY - "$tui_tmp/screen" <<'EOF'
import re, sys
p, bar = {}, {}
for l in open(sys.argv[1]):
    m = re.match(r"^([ab]) +[0-9a-f]{12} +thompson +\[([#.]+)\] +([0-9]+)% .* ([0-9]+)\s*$", l)
    if m:
        p[m.group(1)] = int(m.group(4))
        bar[m.group(1)] = m.group(2).count("#")
a, b = p.get("a", 0), p.get("b", 0)
print(a + b, (100.0 * b / (a + b)) if a + b else 0.0, bar.get("b", 0))
EOF
}
tui_capture
read -r pulls0 share0 bar0 < <(arms)
[ "$pulls0" -eq 0 ] && [ "$bar0" -eq 0 ] || fail "the arms have pulls before the simulation ($pulls0, bar $bar0)"
tui_keys s
tui_wait 10 "s labels the simulation" "simulated users: b clicks 60%, others 15% "
deadline=$((SECONDS + 20))
while :; do
	tui_capture
	read -r pulls1 share1 bar1 < <(arms)
	[ "$pulls1" -gt 0 ] && break
	[ $SECONDS -ge $deadline ] && fail "the arms' pulls did not move on screen"
	sleep 0.2
done
deadline=$((SECONDS + 30))
while :; do
	sleep 1
	tui_capture
	read -r pulls2 share2 bar2 < <(arms)
	[ "$pulls2" -ge 500 ] && break
	[ $SECONDS -ge $deadline ] && fail "the arms' pulls did not reach 500 on screen ($pulls2)"
done
tui_keys s
tui_wait 10 "s again stops the simulation" "simulated users: b clicks 60%, others 15%  stopped after"
[ "$pulls2" -gt "$pulls1" ] || fail "the pulls did not move ($pulls1, then $pulls2)"
# 60% against 15% over 500 pulls: thompson gives b nearly all of them (ab would give half)
$PY -c "import sys; s0, s2 = map(float, sys.argv[1:3]); b2 = int(sys.argv[3]); sys.exit(0 if s2 > s0 and s2 >= 80 and b2 >= 16 else 1)" \
	"$share0" "$share2" "$bar2" || fail "b's share of the pulls did not grow to most under thompson ($share0%, then $share2%, bar $bar2/20)"
pass "simulated users moved the pulls (0 -> $pulls1 -> $pulls2) and b's share grew ($share0% -> $share1% -> $share2%, its bar 0 -> $bar1 -> $bar2 of 20)"

# the CLI twin agrees with /metrics (nothing else asks now)
$PANCAKE serving status --json --url "127.0.0.1:$PORT" > "$W/status.json" || fail "serving status"
curl -sf "http://127.0.0.1:$PORT/metrics" > "$W/metrics.txt" || fail "curl /metrics"
$PY - "$W/status.json" "$W/metrics.txt" "$pulls2" <<'EOF' || fail "serving status --json disagrees with /metrics"
import json, sys
d = json.load(open(sys.argv[1]))
m = {}
for l in open(sys.argv[2]):
    if l.startswith("#") or not l.strip():
        continue
    k, v = l.rsplit(" ", 1)
    m[k] = float(v)
arms = {a["name"]: a for a in d["arms"]}
assert set(arms) == {"a", "b"} and d["policy"] == "thompson", d
for n, a in arms.items():
    assert a["pulls"] == m['pancake_arm_pulls_total{variant="%s",policy="thompson"}' % n], (n, a)
    assert abs(a["rewards"] - m['pancake_arm_rewards_total{variant="%s"}' % n]) < 1e-6, (n, a)
assert arms["a"]["pulls"] + arms["b"]["pulls"] >= int(sys.argv[3]), arms
assert arms["b"]["pull_share"] > 0.5 and arms["b"]["rate"] > arms["a"]["rate"], arms
print("pulls", {n: a["pulls"] for n, a in arms.items()}, "rates", {n: round(a["rate"], 3) for n, a in arms.items()})
EOF
pass "serving status --json agrees with /metrics: pulls and rewards per arm, b ahead"

# the CLI's simulation, as JSON
$PANCAKE serving simulate --seconds 2 --rate 20 --json > "$W/sim.json" || fail "serving simulate"
$PY - "$W/sim.json" "$PORT" <<'EOF' || fail "serving simulate --json"
import json, sys
d = json.load(open(sys.argv[1]))
assert d["addr"] == "127.0.0.1:" + sys.argv[2], d   # the experiment pancake started, found
assert d["label"] == "simulated users: b clicks 60%, others 15%", d
assert d["users"] == "943 users of lab-100k", d
arms = {a["name"]: a for a in d["arms"]}
assert set(arms) == {"a", "b"} and arms["b"]["chance"] == 0.6 and arms["a"]["chance"] == 0.15, arms
assert d["requests"] == sum(a["requests"] for a in arms.values()) > 0 and d["failed"] == 0, d
assert d["clicks"] == sum(a["clicks"] for a in arms.values()), d
EOF
pass "serving simulate --json: per-arm requests and clicks against the experiment"

# x, y: stopped; no process, no announcement
tui_keys x
tui_wait 5 "x asks before stopping" "stop the experiment's serving on 127\.0\.0\.1:$PORT \(pid $SPID\)\?"
tui_keys y
tui_wait 15 "y stops it" "experiment stopped: stopped"
running "$SPID" && fail "serving $SPID is still running"
[ -e "$PANCAKE_STATE/serving/$SPID" ] && fail "serving $SPID's announcement is still there"
tui_wait 10 "its endpoint is gone from the list" "^e container [^ ]+ 127\.0\.0\.1:$SERVING_PORT *$"
pass "x, y stopped serving $SPID: no process, no announcement, not listed"

# quitting with one running stops it, and says so
tui_keys x
tui_wait 5 "x asks again" "start serving a=production"
tui_keys y
tui_wait 30 "the second experiment comes up" "experiment up on 127\.0\.0\.1:$PORT, pid [0-9]+"
tui_capture
SPID2=$(grep -oE "experiment up on [^ ]+, pid [0-9]+" "$tui_tmp/screen" | grep -oE "[0-9]+$")
PIDS="$PIDS $SPID2"
tui_keys q
tui_ended 20 "q quits with the experiment running"
grep -q "stopping the experiment's serving on 127.0.0.1:$PORT (pid $SPID2)" "$tui_tmp/err" || { cat "$tui_tmp/err"; fail "quitting did not say it stops the experiment"; }
running "$SPID2" && fail "serving $SPID2 outlived the launcher"
[ -e "$PANCAKE_STATE/serving/$SPID2" ] && fail "serving $SPID2's announcement outlived it"
pass "quitting stopped the launcher's experiment (pid $SPID2) and said so"

# the CLI's start is detached: it stays until 'experiment stop'
$PANCAKE serving experiment start --policy ab --json > "$W/start.json" || fail "serving experiment start"
CPID=$($PY -c 'import json, sys; d = json.load(open(sys.argv[1])); print(d["pid"])' "$W/start.json")
PIDS="$PIDS $CPID"
$PY - "$W/start.json" "$PORT" "$A" "$B" <<'EOF' || fail "experiment start --json"
import json, sys
d = json.load(open(sys.argv[1]))
assert d["addr"] == "127.0.0.1:" + sys.argv[2] and d["port"] == int(sys.argv[2]) and d["policy"] == "ab", d
assert [(v["name"], v["rev"], v["version"]) for v in d["variants"]] == [("a", "production", sys.argv[3]), ("b", "candidate", sys.argv[4])], d
assert d["data"] == "lab-100k" and d["log"].endswith(".log"), d
EOF
sleep 1
running "$CPID" || fail "the CLI's experiment did not stay after the command"
$PANCAKE serving experiment stop --port "$PORT" --json > "$W/stop.json" || fail "serving experiment stop"
grep -q "\"pid\": $CPID" "$W/stop.json" || fail "experiment stop does not name pid $CPID"
running "$CPID" && fail "serving $CPID is still running after stop"
[ -e "$PANCAKE_STATE/serving/$CPID" ] && fail "serving $CPID's announcement is still there"
if $PANCAKE serving experiment stop > /dev/null 2> "$W/none.err"; then fail "stop with nothing running succeeded"; fi
grep -q "no serving pancake started is running" "$W/none.err" || fail "stop with nothing running does not say so"
pass "the CLI's experiment (pid $CPID) stays after the command, 'experiment stop --port' ends it"
echo "t0836 passed"
