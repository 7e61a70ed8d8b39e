#!/bin/bash
# bench-screens: the launcher's models and serving screens: its own CPU and
# memory on each beside idle on the home screen, how soon each shows fresh
# figures, and a training run from the models screen beside the same run
# without a screen. Prints figures and ratios, asserts nothing; a step that
# cannot be done stops it with a message and a non-zero exit.
#
#   bash tests/bench/bench-screens.sh
#   BENCH_SECS       each CPU and memory window (default 30)
#   BENCH_FRESH_N    repetitions of each freshness measure (default 5)
#
# Each launcher runs in a 120x40 session of the bench's own tmux server, measured from
# /proc: utime + stime of its own threads (not its children: the training
# is the recommender's), VmRSS and VmHWM. The training run is ML-1M-shaped
# (datasets/generated/ml-1m-s1, made and removed again if absent), explicit,
# rank 100, 100 iterations, registered: about 50 s on two cores. Freshness
# is read off the screen with tmux capture-pane every 20 ms; the iteration
# events' own times come from strace on the recommender (skipped without it).
#
# It uses the default stack (PANCAKE_PROJECT and PANCAKE_*_PORT_* for
# another) and needs redis and kafka up; what it started it stops again
# with the volumes that came with it. Models go to a temporary registry and
# the launchers' state (jobs' logs, servings' announcements) to a temporary
# folder; the host serving sends nothing to Kafka. BENCH_KEEP_STACK=1 leaves
# up what it started, as 'make bench' does.
set -euo pipefail
cd "$(dirname "$0")/../.."
export LC_ALL=C.UTF-8
P=./pancake
R=services/recommender/recommender
S=services/serving/serving
secs=${BENCH_SECS:-30}
fresh_n=${BENCH_FRESH_N:-5}
RPORT=${PANCAKE_REDIS_PORT_6379:-6379}
project=${PANCAKE_PROJECT:-pancake}
SET=ml-1m-s1
SETDIR=datasets/generated/$SET
RANK=100 ITERS=100
tmp=$(mktemp -d "${TMPDIR:-/tmp}/pancake-bench-screens-XXXXXX")
sock=pcbench-screens-$$
export PANCAKE_MODELS=$tmp/models PANCAKE_STATE=$tmp/state
SPID="" WRK="" made_set="" made_gen="" was_up="" vols_before="" project_was_empty=""

die() {
	echo "bench-screens: $*" >&2
	[ -s "$tmp/screen" ] && { echo "--- the last screen ---" >&2; cat "$tmp/screen" >&2; }
	exit 1
}
up_services() {	# the stack's running services, one per line
	$P ps --json --no-probe | python3 -c 'import json, sys
print("\n".join(s["service"] for s in json.load(sys.stdin) if s["running"]))'
}
volumes() { docker volume ls -q --filter "label=io.pancake.project=$project"; }
cleanup() {
	set +e
	[ -n "$WRK" ] && kill "$WRK" 2> /dev/null
	[ -n "$SPID" ] && { kill "$SPID" 2> /dev/null; wait "$SPID" 2> /dev/null; }
	tmux -L "$sock" kill-server 2> /dev/null
	# the services it started, and the volumes that came with them
	now_up=$(up_services)
	started=$(for s in $now_up; do case " $was_up " in *" $s "*) ;; *) echo "$s" ;; esac; done)
	if [ -n "$started" ] && [ -z "${BENCH_KEEP_STACK:-}" ]; then
		if [ "$project_was_empty" = 1 ]; then $P down > /dev/null; else $P down $started > /dev/null; fi
		for v in $(volumes); do
			case " $vols_before " in *" $v "*) ;; *) docker volume rm "$v" > /dev/null ;; esac
		done
	fi
	[ -n "$made_set" ] && rm -rf "$SETDIR"
	[ -n "$made_gen" ] && rmdir datasets/generated 2> /dev/null
	rm -rf "$tmp"
}
trap cleanup EXIT
command -v tmux > /dev/null && command -v wrk > /dev/null || die "it needs tmux and wrk: apt-get install tmux wrk"

make -s -j2 all > "$tmp/make.log" 2>&1 || die "make failed: $(tail -3 "$tmp/make.log")"
ps_json=$($P ps --json --no-probe) || die "pancake ps failed"
was_up=$(echo "$ps_json" | python3 -c 'import json, sys
print(" ".join(s["service"] for s in json.load(sys.stdin) if s["running"]))')
project_was_empty=$(echo "$ps_json" | python3 -c 'import json, sys
print(int(all(s["state"] == "absent" for s in json.load(sys.stdin))))')
vols_before=$(volumes | tr '\n' ' ')
$P up --wait redis kafka > "$tmp/up.log" 2>&1 || die "pancake up redis kafka failed: $(tail -3 "$tmp/up.log")"
if [ ! -d "$SETDIR" ]; then
	[ -d datasets/generated ] || made_gen=1
	made_set=1
	$P data gen --shape ml-1m --seed 1 --out "$SETDIR" > /dev/null || die "data gen failed"
fi

# ---- the screen, read through tmux ----
T() { tmux -L "$sock" "$@"; }
# launch NAME ARGS...: a launcher in a 120x40 terminal of its own; prints its pid
launch() {
	local name=$1 pid i
	shift
	T new-session -d -s "$name" -x 120 -y 40 "exec $PWD/pancake launcher $*"
	for i in $(seq 1 50); do
		pid=$(T display -p -t "$name" '#{pane_pid}' 2> /dev/null || true)
		[ -n "$pid" ] && [ "$(cat "/proc/$pid/comm" 2> /dev/null)" = pancake ] && { echo "$pid"; return; }
		sleep 0.1
	done
	die "the launcher ($*) did not start"
}
capture() { T capture-pane -p -t "$1" > "$tmp/screen" 2> /dev/null || : > "$tmp/screen"; }
# wait_screen NAME SECONDS DESC REGEX
wait_screen() {
	local deadline=$((SECONDS + $2))
	until capture "$1"; grep -Eq "$4" "$tmp/screen"; do
		[ $SECONDS -ge $deadline ] && die "$3 (not within $2 s)"
		sleep 0.2
	done
}
keys() { local name=$1; shift; T send-keys -t "$name" "$@"; }

# ---- the launcher's own cost, from /proc ----
hz=$(getconf CLK_TCK)
ticks() { awk '{ print $14 + $15 }' "/proc/$1/stat"; }	# its own threads, not its children
kib() { awk -v k="$2:" '$1 == k { print $2 }' "/proc/$1/status"; }
# measure PID: "cpu% rss_kib hwm_kib" over $secs
measure() {
	local a b
	a=$(ticks "$1"); sleep "$secs"; b=$(ticks "$1")
	echo "$(echo "($b - $a) * 100 / $hz / $secs" | bc -l) $(kib "$1" VmRSS) $(kib "$1" VmHWM)"
}
mb() { awk -v k="$1" 'BEGIN { printf "%.1f", k * 1024 / 1e6 }'; }
row() {	# LABEL CPU RSS HWM [IDLE_CPU IDLE_RSS]
	printf '  %-44s %6.2f%% of a core  RSS %5s MB  HWM %5s MB' "$1" "$2" "$(mb "$3")" "$(mb "$4")"
	if [ $# -gt 4 ]; then
		awk -v c="$2" -v r="$3" -v ic="$5" -v ir="$6" 'BEGIN {
			printf "\n  %-44s %+6.2f%% of a core      %+5.1f MB  (targets: < 2%%, < 25 MB)", "",
				c - ic, (r - ir) * 1024 / 1e6 }'
	fi
	echo
}

# freshness, read off the screen every 20 ms (capture-pane takes a few ms more)
cat > "$tmp/fresh.py" <<'EOF'
import os, re, signal, statistics, subprocess, sys, time
sock, sess = sys.argv[2], sys.argv[3]
def screen():
    return subprocess.run(["tmux", "-L", sock, "capture-pane", "-p", "-t", sess],
                          capture_output=True, text=True).stdout
if sys.argv[1] == "until":
    # until SOCK SESS REGEX TIMEOUT [CMD...]: seconds from CMD's start to REGEX on screen
    rx, limit, cmd = re.compile(sys.argv[4], re.M), float(sys.argv[5]), sys.argv[6:]
    t0 = time.time()
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL) if cmd else None
    took = None
    while time.time() - t0 < limit:
        if rx.search(screen()):
            took = time.time() - t0
            break
        time.sleep(0.02)
    rc = proc.wait() if proc else 0
    if rc:
        sys.exit("%s exited with %d" % (" ".join(cmd), rc))
    if took is None:
        sys.exit("not on the screen within %g s: %s" % (limit, sys.argv[4]))
    print("%.3f" % took)
elif sys.argv[1] == "iters":
    # iters SOCK SESS PID N TIMEOUT STRACE_OUT: strace PID's writes; for N iteration
    # events, the seconds from its write to its number on the screen
    pid, n, limit, out = int(sys.argv[4]), int(sys.argv[5]), float(sys.argv[6]), sys.argv[7]
    st = subprocess.Popen(["strace", "-f", "-qq", "-ttt", "-s", "80", "-e", "trace=write",
                           "-o", out, "-p", str(pid)], stderr=subprocess.DEVNULL)
    time.sleep(0.3)
    rx = re.compile(r"iteration (\d+)/\d+")
    shown, last, t0 = {}, 0, time.time()
    while time.time() - t0 < limit and len(shown) < n + 3:
        m = rx.search(screen())
        now = time.time()
        if m and int(m.group(1)) > last:
            last = int(m.group(1))
            shown[last] = now
        time.sleep(0.02)
    st.send_signal(signal.SIGINT)
    st.wait()
    wrote = {}
    ev = re.compile(r'^(?:\d+ +)?(\d+\.\d+) write\(\d+, "\{\\"event\\":\\"iter\\",\\"iter\\":(\d+),')
    for line in open(out):
        m = ev.match(line)
        if m:
            wrote.setdefault(int(m.group(2)), float(m.group(1)))
    lat = []
    for k in sorted(wrote):
        # the first screen that shows k or a later one
        seen = [t for i, t in shown.items() if i >= k]
        if seen and len(lat) < n:
            lat.append(max(0.0, min(seen) - wrote[k]))
    if not lat:
        sys.exit("no iteration was both written (strace) and seen on the screen")
    print(" ".join("%.3f" % x for x in lat))
EOF
# pause S: a random while below S seconds, so that a change does not come at the
# same point of the screen's polling cycle each time (it waited for the screen)
pause() { sleep "$(awk -v r=$RANDOM -v s="$1" 'BEGIN { printf "%.3f", r / 32768 * s }')"; }
stats() {	# seconds... -> "min median max (n)"
	python3 -c 'import statistics, sys
v = [float(x) for x in sys.argv[1:]]
print("min %.3f s, median %.3f s, max %.3f s (n=%d)" % (min(v), statistics.median(v), max(v), len(v)))' "$@"
}

# models for the host serving: two variants of the same data, production and candidate
$R train "$SETDIR" --iters 5 --seed 1 --out "$tmp/a.model" --register > "$tmp/train.log" 2>&1 \
	|| die "train a failed: $(tail -3 "$tmp/train.log")"
$R models promote > /dev/null || die "models promote failed"
$R train "$SETDIR" --iters 5 --seed 2 --biases --rank 16 --out "$tmp/b.model" --register >> "$tmp/train.log" 2>&1 \
	|| die "train b failed: $(tail -3 "$tmp/train.log")"

echo "== the launcher's own CPU (its threads, % of one core) and memory over ${secs} s, 120x40"
echo "   (stack: $(up_services | tr '\n' ' ')of project $project; load average before: $(cut -d' ' -f1-3 /proc/loadavg))"

# 1a: the anchor, idle on the home screen
lp=$(launch idle)
wait_screen idle 20 "the home screen did not show the services" "redis"
sleep 8	# its steady refresh
read -r idle_cpu idle_rss idle_hwm <<< "$(measure "$lp")"
row "home screen, idle (the anchor)" "$idle_cpu" "$idle_rss" "$idle_hwm"
T kill-session -t idle

# 1c: the serving screen while a host serving with two variants and a bandit is under load
HP=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
$S --variant a=production --variant b=candidate --policy thompson --port "$HP" --data "$SETDIR" \
	--redis "127.0.0.1:$RPORT" --no-kafka > "$tmp/serving.log" 2>&1 &
SPID=$!
for i in $(seq 1 150); do
	grep -q "^ready:" "$tmp/serving.log" && break
	kill -0 "$SPID" 2> /dev/null || die "the host serving exited: $(tail -3 "$tmp/serving.log")"
	sleep 0.2
done
grep -q "^ready:" "$tmp/serving.log" || die "the host serving is not ready: $(tail -3 "$tmp/serving.log")"
lp=$(launch serving --pane serving)
wait_screen serving 15 "the serving screen did not list the host serving" "host pid $SPID 127\.0\.0\.1:$HP"
for i in 1 2 3 4; do	# the first that answers is watched: the stack's own serving may be up
	capture serving
	grep -q "UP 127\.0\.0\.1:$HP " "$tmp/screen" && break
	keys serving e
	sleep 2.5
done
wait_screen serving 10 "the serving screen does not watch the host serving" "UP 127\.0\.0\.1:$HP "
wait_screen serving 10 "the arms do not show" "^b +[0-9a-f]{12} +thompson"
sleep 5
wrk -t1 -c8 -d$((secs + 4))s -s labs/lib/users.lua "http://127.0.0.1:$HP" > "$tmp/wrk.txt" 2>&1 &
WRK=$!
sleep 2
read -r srv_cpu srv_rss srv_hwm <<< "$(measure "$lp")"
capture serving
shown_rate=$(grep -oE "UP 127\.0\.0\.1:$HP +[0-9.]+ req/s" "$tmp/screen" | awk '{ print $3 }' || true)
wait "$WRK" || die "wrk failed: $(tail -3 "$tmp/wrk.txt")"
WRK=""
row "serving screen, a host serving under wrk" "$srv_cpu" "$srv_rss" "$srv_hwm" "$idle_cpu" "$idle_rss"
printf '  %-44s wrk -t1 -c8: %s req/s (users.lua); the screen said %s req/s at the end\n' "" \
	"$(awk '/^Requests\/sec:/ { printf "%.0f", $2 }' "$tmp/wrk.txt")" "${shown_rate:-?}"

# 2a, on the same screen: from the start of a load to req/s non-zero on it
fa=()
for i in $(seq 1 "$fresh_n"); do
	wait_screen serving 15 "req/s did not come back to 0 after a load" "UP 127\.0\.0\.1:$HP +0\.0 req/s"
	pause 1
	t=$(python3 "$tmp/fresh.py" until "$sock" serving "UP 127\.0\.0\.1:$HP +([1-9][0-9]*|0\.[1-9])[0-9.]* req/s" 10 \
		wrk -t1 -c8 -d2s -s labs/lib/users.lua "http://127.0.0.1:$HP") || die "freshness of the serving screen: $t"
	fa+=("$t")
done
T kill-session -t serving
kill "$SPID"; wait "$SPID" 2> /dev/null || true
SPID=""

# 3, the anchor: the same training run with no screen
train_cli() {	# -> "wall_s s_per_iter cpu_s" (cpu: the recommender's, reaped by pancake)
	python3 - "$tmp/cli.json" "$tmp/cli.err" $P models train "$SET" --rank $RANK --iters $ITERS --json <<'EOF' \
		|| die "pancake models train failed: $(tail -3 "$tmp/cli.err")"
import json, resource, subprocess, sys
with open(sys.argv[1], "w") as out, open(sys.argv[2], "w") as err:
    if subprocess.run(sys.argv[3:], stdout=out, stderr=err).returncode:
        sys.exit(1)
r = resource.getrusage(resource.RUSAGE_CHILDREN)
d = json.loads(open(sys.argv[1]).read().splitlines()[-1])
print("%.1f %.4f %.1f" % (d["seconds"], d["seconds_per_iter"], r.ru_utime + r.ru_stime))
EOF
}
read -r cli1_s cli1_it cli1_cpu <<< "$(train_cli)"

# 1b: the models screen while it charts a training run started from its own form
lp=$(launch models --pane models)
wait_screen models 20 "the models screen did not open" "models: the registry"
wait_screen models 10 "the models screen did not list the registry" "^.? *[0-9a-f]{12} "
keys models t
wait_screen models 5 "t did not open the training form" "train a model"
form_field() {	# FIELD VALUE: Down to the field, Right until its value shows
	local i
	for i in $(seq 1 10); do
		capture models
		grep -Eq "^> $1 " "$tmp/screen" && break
		keys models Down
		sleep 0.1
	done
	for i in $(seq 1 70); do
		capture models
		grep -Eq "^> $1 +< $2 >" "$tmp/screen" && return 0
		keys models Right
		sleep 0.1
	done
	die "the form's $1 did not reach $2"
}
form_field dataset "$SET"
form_field feedback "explicit \(ratings\)"
form_field rank $RANK
form_field lambda "0\.1"
form_field iterations 10
keys models -N $ITERS Right	# it stops at 100
form_field iterations $ITERS
form_field "held out" "0\.2 of the ratings, for the test figures"
form_field register "yes \(becomes the candidate\)"
children() { awk '{ print $16 + $17 }' "/proc/$1/stat"; }	# its reaped children's CPU
cut0=$(children "$lp")
keys models Enter
wait_screen models 60 "the run's first iteration did not show" "iteration [1-9][0-9]*/$ITERS"
# the train RMSE marks ('*') inside the chart: below its legend, above its x axis
chart() {
	capture models
	python3 - "$tmp/screen" <<'EOF'
import re, sys
lines = open(sys.argv[1]).read().splitlines()
it = [re.search(r"iteration (\d+)/", l) for l in lines]
it = [m.group(1) for m in it if m][:1] or ["0"]
top = next((i for i, l in enumerate(lines) if l.startswith("* train rmse")), None)
marks = 0
if top is not None:
    bottom = next((i for i in range(top, len(lines)) if lines[i].lstrip().startswith("++")), len(lines))
    marks = sum(l.count("*") for l in lines[top + 1:bottom])
print(it[0], marks)
EOF
}
read -r it0 marks0 <<< "$(chart)"
read -r mod_cpu mod_rss mod_hwm <<< "$(measure "$lp")"
read -r it1 marks1 <<< "$(chart)"
row "models screen, charting the training" "$mod_cpu" "$mod_rss" "$mod_hwm" "$idle_cpu" "$idle_rss"
printf '  %-44s the chart grew: iteration %s -> %s, train RMSE marks %s -> %s%s\n' "" "$it0" "$it1" \
	"$marks0" "$marks1" "$([ "$it1" = "$ITERS" ] && echo ' (the run ended inside the window)' || true)"
wait_screen models 300 "the run from the screen did not end registered" \
	"trained $SET in [0-9.]+ s: registered [0-9a-f]{12}"
pane_cpu=$(echo "($(children "$lp") - $cut0) / $hz" | bc -l)
pane_s=$(grep -oE "trained $SET in [0-9.]+ s" "$tmp/screen" | head -1 | awk '{ print $4 }')
pane_id=$(grep -oE "trained $SET in [0-9.]+ s: registered [0-9a-f]{12}" "$tmp/screen" | head -1 | awk '{ print $NF }')
pane_it=$($P models show "$pane_id" --json | python3 -c 'import json, sys
print("%.4f" % json.load(sys.stdin)["metrics"]["seconds_per_iter"])')
read -r cli2_s cli2_it cli2_cpu <<< "$(train_cli)"

# 2c: from the recommender writing an iteration event to its number on the screen
fc=""
if command -v strace > /dev/null; then
	keys models t
	wait_screen models 5 "t did not open the form again" "iterations +(< )?$ITERS( |$)"
	keys models Enter
	rp=""
	for i in $(seq 1 250); do
		rp=$(pgrep -P "$lp" -f "recommender train" | head -1 || true)
		[ -n "$rp" ] && break
		sleep 0.02
	done
	[ -n "$rp" ] || die "no recommender under the launcher after Enter"
	fc=$(python3 "$tmp/fresh.py" iters "$sock" models "$rp" "$fresh_n" 120 "$tmp/strace.txt") \
		|| die "the iteration freshness: $fc"
	keys models c
	wait_screen models 20 "c did not cancel the second run" "cancelled after"
fi

# 2b: from `pancake models promote REV` in another shell to production on its row
fb=()
ids=$($P models list --json | python3 -c 'import json, sys
print(" ".join(m["short_id"] for m in json.load(sys.stdin)))')
set -- $ids
for i in $(seq 1 "$fresh_n"); do
	prod=$($P models list --json | python3 -c 'import json, sys
print(([m["short_id"] for m in json.load(sys.stdin) if m["production"]] + [""])[0])')
	next=""
	for id in "$@"; do [ "$id" != "$prod" ] && { next=$id; break; }; done
	[ -n "$next" ] || die "no model to promote besides production $prod"
	set -- $(for id in "$@"; do [ "$id" != "$next" ] && echo "$id"; done) "$next"	# to the back
	pause 2
	t=$(python3 "$tmp/fresh.py" until "$sock" models "$next +prod" 15 $P models promote "$next") \
		|| die "freshness of the models screen: $t"
	fb+=("$t")
done
T kill-session -t models

echo
echo "== freshness: from a change to the screen showing it (target: < 1 s; the screen read every 20 ms)"
printf '  %-44s %s\n' "serving: a load starts -> req/s non-zero" "$(stats "${fa[@]}")"
printf '  %-44s %s\n' "models: promote REV -> production on its row" "$(stats "${fb[@]}")"
if [ -n "$fc" ]; then
	printf '  %-44s %s\n' "models: iteration event written -> shown" "$(stats $fc)"
	printf '  %-44s (times of the writes from strace -ttt on the recommender)\n' ""
else
	printf '  %-44s skipped: no strace here (apt-get install strace)\n' "models: iteration event written -> shown"
fi

echo
echo "== the training run ($SET, explicit, rank $RANK, $ITERS iterations, registered), with and without the screen"
echo "   (wall: the job's start to its end; CPU: the recommender's own, user + system, on two threads)"
printf '  %-44s %6.1f s wall  %6.1f s CPU  %.4f s/iter\n' "pancake models train --json (no screen)" \
	"$cli1_s" "$cli1_cpu" "$cli1_it"
printf '  %-44s %6.1f s wall  %6.1f s CPU  %.4f s/iter\n' "from the models screen (t, Enter)" \
	"$pane_s" "$pane_cpu" "$pane_it"
printf '  %-44s %6.1f s wall  %6.1f s CPU  %.4f s/iter\n' "pancake models train --json, again after" \
	"$cli2_s" "$cli2_cpu" "$cli2_it"
printf '  %-44s %5.2fx wall  %5.2fx CPU  (the screen'"'"'s run over the CLI runs'"'"' mean)\n' "" \
	"$(echo "$pane_s * 2 / ($cli1_s + $cli2_s)" | bc -l)" "$(echo "$pane_cpu * 2 / ($cli1_cpu + $cli2_cpu)" | bc -l)"
echo "   (load average after: $(cut -d' ' -f1-3 /proc/loadavg))"
