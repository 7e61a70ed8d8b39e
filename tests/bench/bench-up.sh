#!/bin/bash
# bench-up: time from `up` to all four services ready, pancake against
# docker-compose v1 (same images, same definitions, compose's own healthchecks
# polled every 500 ms like `compose up --wait`), in one run; how far each
# service's ready time is from its own boot log line; peak memory of the stack.
# Not a test: it prints figures and ratios, asserts nothing about time.
set -eu
cd "$(dirname "$0")/../.."
P=./pancake
runs=${BENCH_RUNS:-2}
tmp=$(mktemp -d)
trap 'docker-compose -p pcbench -f "$tmp/compose.yml" down -v >/dev/null 2>&1 || true; rm -rf "$tmp"' EXIT
now() { date +%s.%N; }

declare -A BOOT=( [kafka]='Kafka Server started' [cassandra]='Startup complete'
                  [elasticsearch]='o.e.n.Node.*started' [redis]='Ready to accept connections' )

# boot_at CONTAINER PATTERN: wall time of the service's own "I am up" log line
boot_at() {
	docker logs --timestamps "$1" 2>&1 | grep -m1 -E "$2" | cut -d' ' -f1 | xargs -I{} date -d {} +%s.%N
}

pancake_run() {
	$P down -v >/dev/null 2>&1
	local t0 t1; t0=$(now)
	$P up --wait > "$tmp/up.log" 2>&1
	t1=$(now)
	echo "pancake total $(echo "$t1 - $t0" | bc)"
	for s in kafka cassandra elasticsearch redis; do
		local rel boot id
		rel=$(grep -E "\] $s +ready" "$tmp/up.log" | sed -E 's/^\[ *([0-9.]+)s\].*/\1/')
		id=$(docker ps -q --filter label=io.pancake.project=pancake --filter label=io.pancake.service=$s)
		boot=$(boot_at "$id" "${BOOT[$s]}")
		echo "pancake $s ready $rel boot $(echo "$boot - $t0" | bc)"
	done
}

compose_run() {
	python3 tests/bench/compose-from-definitions.py . "$tmp/compose.yml" 0
	docker-compose -p pcbench -f "$tmp/compose.yml" down -v >/dev/null 2>&1 || true
	local t0 t1 left; t0=$(now)
	docker-compose -p pcbench -f "$tmp/compose.yml" up -d >/dev/null 2>&1
	declare -A ready=()
	left=4
	while [ $left -gt 0 ]; do
		for s in kafka cassandra elasticsearch redis; do
			[ -n "${ready[$s]:-}" ] && continue
			if [ "$(docker inspect -f '{{.State.Health.Status}}' pcbench_${s}_1 2>/dev/null)" = healthy ]; then
				ready[$s]=$(echo "$(now) - $t0" | bc); left=$((left - 1))
			fi
		done
		sleep 0.5
	done
	t1=$(now)
	echo "compose total $(echo "$t1 - $t0" | bc)"
	for s in kafka cassandra elasticsearch redis; do
		boot=$(boot_at pcbench_${s}_1 "${BOOT[$s]}")
		echo "compose $s ready ${ready[$s]} boot $(echo "$boot - $t0" | bc)"
	done
	docker-compose -p pcbench -f "$tmp/compose.yml" down -v >/dev/null 2>&1
}

: > "$tmp/results"
for i in $(seq 1 "$runs"); do
	echo "run $i/$runs: pancake up --wait" >&2
	pancake_run | tee -a "$tmp/results" >&2
	$P down -v >/dev/null 2>&1
	echo "run $i/$runs: docker-compose up -d + health polling" >&2
	compose_run | tee -a "$tmp/results" >&2
done

python3 - "$tmp/results" <<'PY'
import sys, statistics as st
tot = {"pancake": [], "compose": []}; per = {}
for line in open(sys.argv[1]):
    f = line.split()
    if f[1] == "total":
        tot[f[0]].append(float(f[2]))
    else:
        per.setdefault((f[0], f[1]), []).append((float(f[3]), float(f[5])))
p, c = st.median(tot["pancake"]), st.median(tot["compose"])
print(f"\nup -> all four ready (median of {len(tot['pancake'])} runs)")
print(f"  pancake up --wait      {p:6.1f} s")
print(f"  docker-compose + poll  {c:6.1f} s")
print(f"  ratio compose/pancake  {c/p:6.2f}x")
print("\nper service: ready time, own boot line, gap (median)")
for tool in ("pancake", "compose"):
    for s in ("redis", "kafka", "elasticsearch", "cassandra"):
        v = per[(tool, s)]
        r = st.median(x[0] for x in v); b = st.median(x[1] for x in v)
        print(f"  {tool:8} {s:14} ready {r:6.1f} s  boot line {b:6.1f} s  gap {r-b:+5.2f} s")
PY

# peak memory: the stack up, a little work through each service, then the
# sum of the containers' cgroup peaks
$P up --wait >/dev/null 2>&1
for i in $(seq 1 20000); do echo "k$i v$i"; done | kcat -b 127.0.0.1:9092 -P -t bench -K' ' >/dev/null 2>&1 || true
for i in $(seq 1 20000); do echo "SET k$i v$i"; done | redis-cli -p 6379 > /dev/null
/usr/bin/python3 - <<'PY' || true
from cassandra.cluster import Cluster
from cassandra.concurrent import execute_concurrent_with_args
s = Cluster(["127.0.0.1"], port=9042).connect()
s.execute("CREATE KEYSPACE IF NOT EXISTS bench WITH replication={'class':'SimpleStrategy','replication_factor':1}")
s.execute("CREATE TABLE IF NOT EXISTS bench.t (k int PRIMARY KEY, v text)")
ps = s.prepare("INSERT INTO bench.t (k, v) VALUES (?, ?)")
execute_concurrent_with_args(s, ps, [(i, "v%d" % i) for i in range(20000)], concurrency=64)
PY
for i in $(seq 1 20); do
	body=""; for j in $(seq 1 500); do body="$body{\"index\":{}}
{\"title\":\"movie $i $j\",\"year\":$((1900 + j % 120))}
"; done
	printf '%s' "$body" | curl -s -H 'Content-Type: application/x-ndjson' -XPOST 127.0.0.1:9200/bench/_bulk --data-binary @- >/dev/null
done
total=0
echo
echo "peak memory per container (cgroup memory.max_usage_in_bytes)"
for s in kafka cassandra elasticsearch redis; do
	id=$(docker ps -q --no-trunc --filter label=io.pancake.project=pancake --filter label=io.pancake.service=$s)
	f=/sys/fs/cgroup/memory/docker/$id/memory.max_usage_in_bytes
	[ -r "$f" ] || f=/sys/fs/cgroup/system.slice/docker-$id.scope/memory.peak
	b=$(cat "$f")
	total=$((total + b))
	printf '  %-14s %6d MiB\n' "$s" $((b / 1048576))
done
printf '  %-14s %6d MiB (target: under 3072 MiB)\n' "sum" $((total / 1048576))
