#!/bin/bash
# bench-compare: this tree against an older revision, side by side in one
# run, for a change that should not move the figures (a refactor): ALS
# seconds per iteration, serving's requests per second on the Redis path,
# and the launcher's idle CPU and memory. The two builds take turns, so that
# a busy neighbour hits both columns alike. Prints figures, asserts nothing.
#
#   bash tests/bench/bench-compare.sh REV      (REV: a commit, tag or branch)
#   BENCH_COMPARE_RUNS   turns of each measure (default 3; medians shown)
#   BENCH_SECS           wrk's length (default 20)
#   BENCH_IDLE_SECS      the launchers' idle window (default 60)
#   BENCH_COMPARE_SHAPE  the dataset shape ALS trains on (default ml-10m)
#
# It uses the default stack (PANCAKE_PROJECT for another): Redis for
# serving, then the whole stack under the launchers, as bench-launcher does;
# what it started it stops again, and the volumes that came with it go. REV
# is built in a temporary git worktree; models go to a temporary registry.
set -euo pipefail
cd "$(dirname "$0")/../.."
rev=${1:?usage: bench-compare.sh REV (the older revision to compare against)}
runs=${BENCH_COMPARE_RUNS:-3}
secs=${BENCH_SECS:-20}
idle=${BENCH_IDLE_SECS:-60}
shape=${BENCH_COMPARE_SHAPE:-ml-10m}
base=${BENCH_SERVING_PORT_BASE:-18400}
RPORT=${PANCAKE_REDIS_PORT_6379:-6379}
P=./pancake
tmp=$(mktemp -d "${TMPDIR:-/tmp}/pancake-bench-compare-XXXXXX")
old=$tmp/old
PIDS="" MINE="" was_up="" vols_before=""
project=${PANCAKE_PROJECT:-pancake}
export PANCAKE_MODELS=$tmp/models

die() { echo "bench-compare: $*" >&2; exit 1; }
up_services() {	# the stack's running services, one per line
	$P ps --json --no-probe | python3 -c 'import json, sys
print("\n".join(s["service"] for s in json.load(sys.stdin) if s["running"]))'
}
volumes() { docker volume ls -q --filter "label=io.pancake.project=$project"; }
cleanup() {
	set +e
	for p in $PIDS; do kill "$p" 2> /dev/null; done
	for p in $PIDS; do wait "$p" 2> /dev/null; done
	tmux kill-session -t pcbench-cmp-new 2> /dev/null
	tmux kill-session -t pcbench-cmp-old 2> /dev/null
	if [ -n "$MINE" ]; then
		redis-cli -p "$RPORT" --scan --pattern "pk:rec:$MINE:*" \
			| xargs -r -n 1000 redis-cli -p "$RPORT" del > /dev/null
		redis-cli -p "$RPORT" zrem pk:rec:versions "$MINE" > /dev/null
	fi
	# the services it started, and the volumes that came with them
	now_up=$(up_services)
	started=$(for s in $now_up; do case " $was_up " in *" $s "*) ;; *) echo "$s" ;; esac; done)
	if [ -n "$started" ]; then
		$P down $started > /dev/null
		for v in $(volumes); do
			case " $vols_before " in *" $v "*) ;; *) docker volume rm "$v" > /dev/null ;; esac
		done
	fi
	git worktree remove --force "$old" 2> /dev/null
	rm -rf "$tmp"
}
trap cleanup EXIT
command -v wrk > /dev/null && command -v tmux > /dev/null || die "it needs wrk and tmux: apt-get install wrk tmux"
oldrev=$(git rev-parse --short "$rev^{commit}") || die "no such revision '$rev'"
was_up=$(up_services | tr '\n' ' ') || die "pancake ps failed"
vols_before=$(volumes | tr '\n' ' ')

echo "building this tree ($(git rev-parse --short HEAD)$(git diff --quiet HEAD || echo ', with changes')) and $oldrev"
make -s -j2 all > /dev/null || die "make failed in this tree"
git worktree add --detach "$old" "$oldrev" > /dev/null 2>&1 || die "git worktree add $oldrev failed"
make -s -C "$old" -j2 all > "$tmp/old-build.log" 2>&1 || die "make failed for $oldrev: $(tail -3 "$tmp/old-build.log")"

median() { sort -n | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }
show() {	# LABEL UNIT NEW OLD
	awk -v l="$1" -v u="$2" -v n="$3" -v o="$4" 'BEGIN {
		c = o + 0 == 0 ? "    -  " : sprintf("%+6.1f%%", (n - o) * 100 / o)
		printf "  %-34s %10s %10s  %s  (%s)\n", l, n, o, c, u }'
}
echo
printf '  %-34s %10s %10s  %7s\n' "" "this tree" "$oldrev" "change"

# ALS: explicit, rank 10, 10 iterations, two threads
d=$tmp/ml-1m
$P data gen --shape ml-1m --seed 1 --out "$d" > /dev/null || die "data gen failed"
da=$tmp/$shape
[ "$shape" = ml-1m ] || $P data gen --shape "$shape" --seed 1 --out "$da" > /dev/null \
	|| die "data gen --shape $shape failed"
als() {	# TREE: mean seconds per iteration of one training
	"$1/services/recommender/recommender" train "$da" --rank 10 --lambda 0.1 --iters 10 \
		--split random:0.2 --seed 42 --threads 2 --eval-users 2000 --out "$tmp/als.model" \
		--json 2> /dev/null | python3 -c 'import json, sys
it = json.load(sys.stdin)["iterations"]; print("%.4f" % (sum(i["seconds"] for i in it) / len(it)))'
}
: > "$tmp/als.new"; : > "$tmp/als.old"
for _ in $(seq 1 "$runs"); do
	als . >> "$tmp/als.new" || die "training (this tree) failed"
	als "$old" >> "$tmp/als.old" || die "training ($oldrev) failed"
done
show "ALS s/iter ($shape, rank 10)" "median of $runs, lower is better" \
	"$(median < "$tmp/als.new")" "$(median < "$tmp/als.old")"

# serving, the Redis path, no cache: both servers on the same published lists
$P up --wait redis > "$tmp/up.log" 2>&1 || die "pancake up redis failed: $(tail -3 "$tmp/up.log")"
R=services/recommender/recommender
$R train "$d" --biases --iters 5 --out "$tmp/a.model" --register > "$tmp/train.log" 2>&1 \
	|| die "train failed: $(tail -3 "$tmp/train.log")"
$R models promote > /dev/null || die "models promote failed"
$R publish production --data "$d" --top 10 --similar 0 --no-current --json \
	--redis "127.0.0.1:$RPORT" > "$tmp/pub.json" 2> "$tmp/pub.log" || die "publish failed: $(tail -3 "$tmp/pub.log")"
MINE=$(python3 -c 'import json, sys; print(json.load(open(sys.argv[1]))["version"])' "$tmp/pub.json")
rip=$($P exec redis hostname -i | awk '{ print $1 }')
[ -n "$rip" ] || die "no address for the redis container"
serve() {	# TREE PORT
	"$1/services/serving/serving" --port "$2" --data "$d" --no-kafka --quiet \
		--redis "$rip:6379" --watch 0 --cache-ms 0 2> "$tmp/serving-$2.log" &
	PIDS="$PIDS $!"
	for _ in $(seq 1 100); do
		curl -sf "http://127.0.0.1:$2/readyz" > /dev/null && break
		sleep 0.2
	done
	curl -s "http://127.0.0.1:$2/recommendations/1?k=10" | grep -q '"source":"redis"' \
		|| die "serving on $2 does not answer from redis: $(tail -3 "$tmp/serving-$2.log")"
}
serve . $((base + 1))
serve "$old" $((base + 2))
cat > "$tmp/users.lua" <<'EOF'
math.randomseed(7)
request = function()
  return wrk.format("GET", "/recommendations/" .. math.random(1, 6040) .. "?k=10")
end
EOF
rate() {	# PORT: requests per second
	wrk -t2 -c64 -d"${secs}s" -s "$tmp/users.lua" "http://127.0.0.1:$1/" \
		| awk '/^Requests\/sec:/ { print $2 }'
}
: > "$tmp/srv.new"; : > "$tmp/srv.old"
for _ in $(seq 1 "$runs"); do
	rate $((base + 1)) >> "$tmp/srv.new"
	rate $((base + 2)) >> "$tmp/srv.old"
done
show "serving req/s (redis path, no cache)" "median of $runs, higher is better" \
	"$(median < "$tmp/srv.new")" "$(median < "$tmp/srv.old")"
for p in $PIDS; do kill "$p" 2> /dev/null; wait "$p" 2> /dev/null || true; done
PIDS=""

# the launcher at idle: both at once, same size, the whole stack up, same window
$P up --wait > "$tmp/up.log" 2>&1 || die "pancake up failed: $(tail -3 "$tmp/up.log")"
tmux kill-session -t pcbench-cmp-new 2> /dev/null || true
tmux kill-session -t pcbench-cmp-old 2> /dev/null || true
tmux new-session -d -s pcbench-cmp-new -x 120 -y 40 "$PWD/pancake launcher"
tmux new-session -d -s pcbench-cmp-old -x 120 -y 40 "$old/pancake launcher"
sleep 8
np=$(pgrep -f "^$PWD/pancake launcher" | head -1)
op=$(pgrep -f "^$old/pancake launcher" | head -1)
[ -n "$np" ] && [ -n "$op" ] || die "a launcher did not start"
# CPU time of every thread, dead ones too (utime + stime), in clock ticks:
# a tick is 10 ms, so the window is long enough for 0.02% steps
hz=$(getconf CLK_TCK)
ticks() { awk '{ print $14 + $15 }' "/proc/$1/stat"; }
rss() { awk '/^VmRSS/ { print $2 }' "/proc/$1/status"; }
n0=$(ticks "$np"); o0=$(ticks "$op")
sleep "$idle"
n1=$(ticks "$np"); o1=$(ticks "$op")
show "launcher idle CPU, % of a core" "over ${idle}s, lower is better" \
	"$(printf '%.3f' "$(echo "($n1 - $n0) * 100 / $hz / $idle" | bc -l)")" \
	"$(printf '%.3f' "$(echo "($o1 - $o0) * 100 / $hz / $idle" | bc -l)")"
show "launcher RSS, KiB" "after ${idle}s idle, lower is better" "$(rss "$np")" "$(rss "$op")"
