#!/bin/bash
# bench-up: time from `up` to all five services ready, pancake against
# docker-compose v1 (same images, same definitions, compose's own healthchecks
# polled every 500 ms like `compose up --wait`), in one run; how far each
# service's ready time is from its own boot log line; then the memory of the
# whole stack (serving included) after an ML-1M-shaped dataset (BENCH_SHAPE)
# is loaded into every store and a model is trained, published and served.
# Not a test: it prints figures and ratios, asserts nothing about time. It
# fails loudly when a step fails, runs on its own project and ports (the
# user's stack, if any, is never touched) and removes all it made.
set -euo pipefail
cd "$(dirname "$0")/../.."
P=./pancake
R=services/recommender/recommender
runs=${BENCH_RUNS:-2}
shape=${BENCH_SHAPE:-ml-1m}
tmp=$(mktemp -d)
SERVICES="kafka cassandra elasticsearch redis serving"
# our own project and ports: nothing of the default stack is touched
export PANCAKE_PROJECT=pcbench-up PANCAKE_MODELS=$tmp/models
export PANCAKE_KAFKA_PORT_9092=29092 PANCAKE_CASSANDRA_PORT_9042=29042 \
	PANCAKE_ELASTICSEARCH_PORT_9200=29200 PANCAKE_REDIS_PORT_6379=26379 \
	PANCAKE_SERVING_PORT_8080=28080
COMPOSE_OFFSET=21000
step="starting"
cleanup() {
	rc=$?
	docker-compose -p pcbench -f "$tmp/compose.yml" down -v >/dev/null 2>&1 || true
	$P down -v >/dev/null 2>&1 || true
	rm -rf "$tmp"
	if [ $rc -ne 0 ]; then
		echo "bench-up: FAILED while $step (exit $rc); everything it started is removed" >&2
	fi
}
trap cleanup EXIT
for t in docker-compose bc curl; do
	command -v $t >/dev/null || { echo "bench-up needs $t (sh sandbox/setup.sh test installs it)" >&2; exit 1; }
done
now() { date +%s.%N; }
loadavg() { cut -d' ' -f1-3 /proc/loadavg; }

declare -A BOOT=( [kafka]='Kafka Server started' [cassandra]='Startup complete'
                  [elasticsearch]='o.e.n.Node.*started' [redis]='Ready to accept connections'
                  [serving]='ready: serving on|serving on http' )

# boot_at CONTAINER PATTERN: wall time of the service's own "I am up" log line
boot_at() {
	local ts
	ts=$(docker logs --timestamps "$1" 2>&1 | grep -m1 -E "$2" | cut -d' ' -f1 || true)
	if [ -z "$ts" ]; then echo 0; else date -d "$ts" +%s.%N; fi
}
since() {	# BOOT T0: seconds from T0 to the boot line, nan without one (serving runs --quiet)
	if [ "$1" = 0 ]; then echo nan; else echo "$1 - $2" | bc; fi
}

pancake_run() {
	step="taking the bench stack down before a timed run"
	$P down -v >/dev/null 2>&1
	local t0 t1; t0=$(now)
	step="timing 'pancake up --wait'"
	$P up --wait > "$tmp/up.log" 2>&1 || { cat "$tmp/up.log" >&2; return 1; }
	t1=$(now)
	echo "pancake total $(echo "$t1 - $t0" | bc)"
	for s in $SERVICES; do
		local rel boot id
		rel=$(grep -E "\] $s +ready" "$tmp/up.log" | sed -E 's/^\[ *([0-9.]+)s\].*/\1/')
		id=$(docker ps -q --filter "label=io.pancake.project=$PANCAKE_PROJECT" --filter "label=io.pancake.service=$s")
		boot=$(boot_at "$id" "${BOOT[$s]}")
		echo "pancake $s ready $rel boot $(since "$boot" "$t0")"
	done
}

compose_run() {
	step="timing docker-compose up -d and its health polling"
	python3 tests/bench/compose-from-definitions.py . "$tmp/compose.yml" $COMPOSE_OFFSET
	docker-compose -p pcbench -f "$tmp/compose.yml" down -v >/dev/null 2>&1 || true
	local t0 t1 left deadline; t0=$(now)
	docker-compose -p pcbench -f "$tmp/compose.yml" up -d > "$tmp/compose.log" 2>&1 \
		|| { cat "$tmp/compose.log" >&2; return 1; }
	declare -A ready=()
	left=5
	deadline=$(( $(date +%s) + 600 ))
	while [ $left -gt 0 ]; do
		[ "$(date +%s)" -lt "$deadline" ] || { echo "compose: not all healthy within 600 s" >&2; return 1; }
		for s in $SERVICES; do
			[ -n "${ready[$s]:-}" ] && continue
			if [ "$(docker inspect -f '{{.State.Health.Status}}' pcbench_${s}_1 2>/dev/null)" = healthy ]; then
				ready[$s]=$(echo "$(now) - $t0" | bc); left=$((left - 1))
			fi
		done
		sleep 0.5
	done
	t1=$(now)
	echo "compose total $(echo "$t1 - $t0" | bc)"
	for s in $SERVICES; do
		boot=$(boot_at pcbench_${s}_1 "${BOOT[$s]}")
		echo "compose $s ready ${ready[$s]} boot $(since "$boot" "$t0")"
	done
	docker-compose -p pcbench -f "$tmp/compose.yml" down -v >/dev/null 2>&1
}

: > "$tmp/results"
# BENCH_RUNS=0: the memory figures only
for i in $(seq 1 "$runs"); do
	echo "run $i/$runs: pancake up --wait (load average before: $(loadavg))" >&2
	pancake_run | tee -a "$tmp/results" >&2
	$P down -v >/dev/null 2>&1
	echo "run $i/$runs: docker-compose up -d + health polling (load average before: $(loadavg))" >&2
	compose_run | tee -a "$tmp/results" >&2
done

[ "$runs" -eq 0 ] || python3 - "$tmp/results" <<'PY'
import sys, statistics as st
tot = {"pancake": [], "compose": []}; per = {}
for line in open(sys.argv[1]):
    f = line.split()
    if f[1] == "total":
        tot[f[0]].append(float(f[2]))
    else:
        per.setdefault((f[0], f[1]), []).append((float(f[3]), float(f[5])))
p, c = st.median(tot["pancake"]), st.median(tot["compose"])
print(f"\nup -> all five ready (median of {len(tot['pancake'])} runs)")
print(f"  pancake up --wait      {p:6.1f} s")
print(f"  docker-compose + poll  {c:6.1f} s")
print(f"  ratio compose/pancake  {c/p:6.2f}x")
print("\nper service: ready time, own boot line, gap (median)")
for tool in ("pancake", "compose"):
    for s in ("redis", "kafka", "elasticsearch", "cassandra", "serving"):
        v = per[(tool, s)]
        r = st.median(x[0] for x in v); b = st.median(x[1] for x in v)
        print(f"  {tool:8} {s:14} ready {r:6.1f} s  boot line {b:6.1f} s  gap {r-b:+5.2f} s")
PY

# ---- memory of the whole stack after a dataset load, with a model served ----
step="bringing the bench stack up for the memory figures"
$P up --wait > "$tmp/up.log" 2>&1 || { cat "$tmp/up.log" >&2; exit 1; }
step="generating an $shape-shaped dataset"
ds=$tmp/$shape-s1
$P data gen --shape "$shape" --seed 1 --out "$ds" > /dev/null
step="loading it into kafka, cassandra, elasticsearch and redis"
echo "loading $shape into every store (load average before: $(loadavg))" >&2
$P data load "$ds" > "$tmp/load.log" 2>&1 || { cat "$tmp/load.log" >&2; exit 1; }
$P data verify "$ds" > "$tmp/verify.log" 2>&1 || { cat "$tmp/verify.log" >&2; exit 1; }
step="training and publishing a model"
$R train "$ds" --iters 5 --out "$tmp/model" > "$tmp/train.log" 2>&1 \
	|| { cat "$tmp/train.log" >&2; exit 1; }
$R publish "$tmp/model" --data "$ds" > "$tmp/publish.log" 2>&1 \
	|| { cat "$tmp/publish.log" >&2; exit 1; }
step="waiting for serving to load the published model"
for i in $(seq 1 60); do
	curl -sf "http://127.0.0.1:$PANCAKE_SERVING_PORT_8080/readyz" | grep -q '"version":"' && break
	[ "$i" -lt 60 ] || { echo "serving did not load the published model in 60 s" >&2; exit 1; }
	sleep 1
done
step="asking serving for 1000 users' recommendations"
for u in $(seq 1 1000); do
	curl -sf "http://127.0.0.1:$PANCAKE_SERVING_PORT_8080/recommendations/$u?k=10" > /dev/null
done

# cgroup v1 (this machine) or v2: the peak counts the page cache, which the
# kernel takes back under pressure; rss is what the processes hold
cg() {	# ID FILE-v1 FILE-v2
	local v1=/sys/fs/cgroup/memory/docker/$1/$2 v2=/sys/fs/cgroup/system.slice/docker-$1.scope/$3
	if [ -r "$v1" ]; then cat "$v1"; elif [ -r "$v2" ]; then cat "$v2"; else echo 0; fi
}
stat_of() {	# ID KEY-v1 KEY-v2
	local f=/sys/fs/cgroup/memory/docker/$1/memory.stat
	[ -r "$f" ] || f=/sys/fs/cgroup/system.slice/docker-$1.scope/memory.stat
	awk -v a="$2" -v b="$3" '$1 == a || $1 == b { print $2; exit }' "$f"
}
echo
echo "memory per container after the $shape load, training, publishing and 1000 requests (MiB)"
printf '  %-14s %8s %8s %8s %8s %8s\n' service peak rss cache limit "hit limit"
tp=0; tr=0; tl=0
for s in $SERVICES; do
	id=$(docker ps -q --no-trunc --filter "label=io.pancake.project=$PANCAKE_PROJECT" --filter "label=io.pancake.service=$s")
	[ -n "$id" ] || { echo "no running $s container in $PANCAKE_PROJECT" >&2; exit 1; }
	peak=$(cg "$id" memory.max_usage_in_bytes memory.peak)
	lim=$(cg "$id" memory.limit_in_bytes memory.max)
	fails=$(cg "$id" memory.failcnt memory.events | awk '$1 == "max" { print $2; exit } NF == 1 { print $1; exit }')
	rss=$(stat_of "$id" total_rss anon)
	cache=$(stat_of "$id" total_cache file)
	[ "$lim" = max ] && lim=0
	tp=$((tp + peak)); tr=$((tr + rss)); tl=$((tl + lim))
	printf '  %-14s %8d %8d %8d %8d %8s\n' "$s" $((peak / 1048576)) $((rss / 1048576)) \
		$((cache / 1048576)) $((lim / 1048576)) "$([ "${fails:-0}" != 0 ] && echo "yes ($fails)" || echo no)"
done
printf '  %-14s %8d %8d %8s %8d\n' "sum" $((tp / 1048576)) $((tr / 1048576)) "" $((tl / 1048576))
echo "  budget: the whole stack under 3072 MiB of process memory (rss); the peaks count page cache"
echo "  ($(grep -E 'ratings written' "$tmp/load.log" | wc -l) stores loaded; load average after: $(loadavg))"
