#!/bin/bash
# bench-serving: the serving binary's /recommendations (the Redis path and
# the in-memory path, random users) against nginx answering every
# /recommendations/ path with a JSON file of the same size, each row driven
# the same way (wrk -t2 -cN -dS with one Lua script of random users), with
# ratios to nginx from the same run. The headline rows have serving's
# answer cache off, so that every request does its work (a round trip to
# Redis, or scoring every item); the cached rows come beside them. Every
# run shows the machine's 1-minute load average before and after it (the
# cores are shared: a busy neighbour shows there). Then p99 at about half
# of the peak rate, latency at fixed rates (open loop), errors across a
# model swap under load, and Redis memory per million users of published
# top-10.
#
# Prints figures, asserts nothing; a step that fails stops it with a
# message and a non-zero exit. It leaves the machine as it found it: its
# servers, nginx, files and the Redis keys it published go, and Redis too
# when the bench started it (BENCH_KEEP_STACK=1 keeps it, as 'make bench'
# does for the benchmarks after it). PANCAKE_PROJECT and
# PANCAKE_REDIS_PORT_6379 run it on another stack.
set -euo pipefail
cd "$(dirname "$0")/../.."
P=./pancake
R=services/recommender/recommender
S=services/serving/serving
PACE=tests/tools/http-pace
dur=${BENCH_SERVING_SECONDS:-10}
conns=${BENCH_SERVING_CONNS:-64}
pace_s=${BENCH_SERVING_PACE_SECONDS:-5}
base=${BENCH_SERVING_PORT_BASE:-18300}
RPORT=${PANCAKE_REDIS_PORT_6379:-6379}
project=${PANCAKE_PROJECT:-pancake}
tmp=$(mktemp -d "${TMPDIR:-/tmp}/pancake-bench-serving-XXXXXX")
PIDS="" MINE="" nginx_conf="" redis_was_up="" project_was_empty="" redis_volume_was=""
export PANCAKE_MODELS=$tmp/models

die() { echo "bench-serving: $*" >&2; exit 1; }
rcli() { redis-cli -p "$RPORT" "$@"; }
cleanup() {
	set +e
	[ -z "$nginx_conf" ] || nginx -c "$nginx_conf" -s stop 2> /dev/null
	for p in $PIDS; do kill "$p" 2> /dev/null; done
	for p in $PIDS; do wait "$p" 2> /dev/null; done
	for v in $MINE; do	# what it published (none of it made current)
		rcli --scan --pattern "pk:rec:$v:*" | xargs -r -n 1000 redis-cli -p "$RPORT" del > /dev/null
		rcli zrem pk:rec:versions "$v" > /dev/null
	done
	if [ "$redis_was_up" = False ] && [ -z "${BENCH_KEEP_STACK:-}" ]; then
		# the bench started redis: stop it, and drop what starting it made
		if [ "$project_was_empty" = 1 ]; then $P down > /dev/null; else $P down redis > /dev/null; fi
		[ -n "$redis_volume_was" ] || docker volume ls -q --filter "label=io.pancake.project=$project" \
			--filter label=io.pancake.service=redis | xargs -r docker volume rm > /dev/null
	fi
	rm -rf "$tmp"
}
trap cleanup EXIT
command -v nginx > /dev/null && command -v wrk > /dev/null || die "it needs wrk and nginx: apt-get install wrk nginx-light"

make -s -j2 all "$PACE" > /dev/null || die "make failed"
# what was running, to leave it so
ps_json=$($P ps --json --no-probe) || die "pancake ps failed"
redis_was_up=$(echo "$ps_json" | python3 -c 'import json,sys
print([s["running"] for s in json.load(sys.stdin) if s["service"] == "redis"][0])')
project_was_empty=$(echo "$ps_json" | python3 -c 'import json,sys
print(int(all(s["state"] == "absent" for s in json.load(sys.stdin))))')
redis_volume_was=$(docker volume ls -q --filter "label=io.pancake.project=$project" \
	--filter label=io.pancake.service=redis)
$P up --wait redis > "$tmp/up.log" 2>&1 || die "pancake up redis failed: $(tail -5 "$tmp/up.log")"
d=$tmp/ml-1m
$P data gen --shape ml-1m --seed 1 --out "$d" > /dev/null || die "data gen failed"
$R train "$d" --biases --iters 5 --out "$tmp/a.model" --register > "$tmp/train.log" 2>&1 \
	|| die "train failed: $(tail -3 "$tmp/train.log")"
$R models promote > /dev/null || die "models promote failed"
# the lists under the model's version, not made current: the stack's serving keeps what it follows
$R publish production --data "$d" --top 10 --similar 0 --no-current --json --redis "127.0.0.1:$RPORT" \
	> "$tmp/pub.json" 2> "$tmp/pub.log" || die "publish failed: $(tail -3 "$tmp/pub.log")"
MINE=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["version"])' "$tmp/pub.json")

cat > "$tmp/users.lua" <<'EOF'
-- random users of the ML-1M shape (1..6040), 10 items each
math.randomseed(7)
request = function()
  return wrk.format("GET", "/recommendations/" .. math.random(1, 6040) .. "?k=10")
end
EOF
# paced: each connection waits `pace` ms between requests
cat > "$tmp/paced.lua" <<'EOF'
math.randomseed(7)
local pace = tonumber(os.getenv("PACE_MS") or "1")
request = function()
  return wrk.format("GET", "/recommendations/" .. math.random(1, 6040) .. "?k=10")
end
delay = function() return pace end
EOF

load1() { cut -d' ' -f1 /proc/loadavg; }
run_wrk() {	# URL SCRIPT [CONNS]: "rate p50_us p99_us errors load_before load_after"
	local url=$1 script=$2 c=${3:-$conns} before after
	before=$(load1)
	wrk -t2 -c"$c" -d"${dur}s" --latency -s "$script" "$url" > "$tmp/wrk.txt" 2>&1 \
		|| die "wrk on $url failed: $(tail -3 "$tmp/wrk.txt")"
	after=$(load1)
	python3 - "$tmp/wrk.txt" "$before" "$after" <<'EOF' || die "wrk on $url: no figures in its output"
import re, sys
t = open(sys.argv[1]).read()
def us(v, u): return float(v) * {"us": 1, "ms": 1e3, "s": 1e6}[u]
rate = float(re.search(r"Requests/sec:\s+([\d.]+)", t).group(1))
p = dict((k, us(v, u)) for k, v, u in re.findall(r"\s(50|99)%\s+([\d.]+)(us|ms|s)", t))
bad = re.search(r"Non-2xx or 3xx responses: (\d+)", t)
err = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", t)
n = (int(bad.group(1)) if bad else 0) + (sum(map(int, err.groups())) if err else 0)
print("%.0f %.0f %.0f %d %s %s" % (rate, p["50"], p["99"], n, sys.argv[2], sys.argv[3]))
EOF
}
# start NAME PORT ARGS...: a serving process, ready, or the bench stops
start() {
	local name=$1 port=$2 i
	shift 2
	$S --port "$port" --data "$d" --no-kafka --quiet "$@" 2> "$tmp/$name.log" &
	PIDS="$PIDS $!"
	for i in $(seq 1 100); do
		curl -sf "http://127.0.0.1:$port/readyz" > /dev/null && return 0
		kill -0 $! 2> /dev/null || break
		sleep 0.2
	done
	die "serving ($name) did not start: $(tail -3 "$tmp/$name.log")"
}

# Redis at its container's address, as the serving container reaches it
# (127.0.0.1 goes through docker-proxy, a user-space copy: measured too)
rip=$($P exec redis hostname -i | awk '{ print $1 }')
[ -n "$rip" ] || die "no address for the redis container"
start redis-cached $((base + 1)) --redis "$rip:6379" --watch 1
start redis $((base + 3)) --redis "$rip:6379" --watch 0 --cache-ms 0
start redis-proxy $((base + 5)) --redis "127.0.0.1:$RPORT" --watch 0
start memory-cached $((base + 2)) --no-redis --watch 0
start memory $((base + 4)) --no-redis --watch 0 --cache-ms 0
curl -s "http://127.0.0.1:$((base + 3))/recommendations/1?k=10" > "$tmp/sample.json"
grep -q '"source":"redis"' "$tmp/sample.json" || die "not from redis: $(cat "$tmp/sample.json")"
size=$(wc -c < "$tmp/sample.json")

# nginx: the same answer, a file of the same size, for every /recommendations/ path
mkdir -p "$tmp/www" "$tmp/nginx"
cp "$tmp/sample.json" "$tmp/www/rec.json"
chmod 755 "$tmp" "$tmp/www"; chmod 644 "$tmp/www/rec.json"	# nginx's workers are not root
cat > "$tmp/nginx/nginx.conf" <<EOF
worker_processes 2;
pid $tmp/nginx/nginx.pid;
error_log $tmp/nginx/error.log;
events { worker_connections 1024; }
http {
  access_log off;
  keepalive_requests 100000;
  client_body_temp_path $tmp/nginx; proxy_temp_path $tmp/nginx; fastcgi_temp_path $tmp/nginx;
  uwsgi_temp_path $tmp/nginx; scgi_temp_path $tmp/nginx;
  server {
    listen 127.0.0.1:$((base + 99)); root $tmp/www; default_type application/json;
    location /recommendations/ { try_files /rec.json =404; }
  }
}
EOF
nginx -c "$tmp/nginx/nginx.conf" || die "nginx did not start"
nginx_conf=$tmp/nginx/nginx.conf
cmp -s "$tmp/sample.json" <(curl -s "http://127.0.0.1:$((base + 99))/recommendations/77?k=10") \
	|| die "nginx does not answer /recommendations/ with the file"

echo "== GET /recommendations/USER?k=10 ($size-byte answers), random users of 6040; every row:"
echo "   wrk -t2 -c$conns -d${dur}s -s users.lua (the same script against nginx and serving)"
echo "   headline, no cache: each request does its work (nginx: send the file; serving: a"
echo "   round trip to redis, or score every item of the model in memory)"
row() {	# LABEL RATE P50 P99 ERRORS LOAD_BEFORE LOAD_AFTER [ANCHOR]
	printf '  %-40s %8.0f req/s  %5.2fx  p50 %6.0f us  p99 %7.0f us  errors %-4s load %s -> %s\n' \
		"$1" "$2" "$(echo "$2 / ${8:-$2}" | bc -l)" "$3" "$4" "$5" "$6" "$7"
}
r=$(run_wrk "http://127.0.0.1:$((base + 99))/" "$tmp/users.lua"); set -- $r
ng=$1; row "nginx, the file" "$@" "$ng"
r=$(run_wrk "http://127.0.0.1:$((base + 3))/" "$tmp/users.lua"); set -- $r
rd_peak=$1; row "serving, redis path" "$@" "$ng"
trips=$(curl -s "http://127.0.0.1:$((base + 3))/metrics" | awk '/^pancake_redis_batches_total/ { b = $2 }
	/^pancake_redis_lists_total/ { n = $2 } END { printf "%.1f", n / (b ? b : 1) }')
r=$(run_wrk "http://127.0.0.1:$((base + 4))/" "$tmp/users.lua"); set -- $r
mem_peak=$1; row "serving, in memory" "$@" "$ng"
echo "   beside: serving's answer cache on (1 s; random users come back within it)"
r=$(run_wrk "http://127.0.0.1:$((base + 1))/" "$tmp/users.lua"); set -- $r
row "serving, redis path, cached" "$@" "$ng"
hits=$(curl -s "http://127.0.0.1:$((base + 1))/metrics" | awk '/source_total.*source="cache"/ { print $2 }')
r=$(run_wrk "http://127.0.0.1:$((base + 2))/" "$tmp/users.lua"); set -- $r
row "serving, in memory, cached" "$@" "$ng"
r=$(run_wrk "http://127.0.0.1:$((base + 5))/" "$tmp/users.lua"); set -- $r
row "serving, redis via docker-proxy, cached" "$@" "$ng"
echo "  (uncached, $trips lists per round trip to redis; cached redis path: $hits answers from the cache)"

echo "== p99 at about half of the peak rate, wrk's way, no cache (closed loop: each connection"
echo "   waits 1 ms after each answer, median of 3 runs; wrk's timers fire on millisecond ticks,"
echo "   so they send in bursts)"
for path in nginx redis in-memory; do
	case $path in
	nginx) port=$((base + 99)) peak=$ng ;;
	redis) port=$((base + 3)) peak=$rd_peak ;;
	*) port=$((base + 4)) peak=$mem_peak ;;
	esac
	half=$((peak / 2))
	# a first guess (about 1000/s per connection), then scaled by what it gave
	c=$(( half / 1000 )); [ $c -lt 1 ] && c=1
	r=$(PACE_MS=1 run_wrk "http://127.0.0.1:$port/" "$tmp/paced.lua" $c); set -- $r
	c=$(python3 -c 'import sys; c, r, h = map(float, sys.argv[1:]); print(max(1, round(c * h / max(r, 1))))' "$c" "$1" "$half")
	# the machine's noise moves p99 between runs: three runs, the medians (errors: all of them)
	: > "$tmp/runs.txt"
	for i in 1 2 3; do
		r=$(PACE_MS=1 run_wrk "http://127.0.0.1:$port/" "$tmp/paced.lua" $c)
		echo "$r" >> "$tmp/runs.txt"
	done
	r=$(python3 -c 'import statistics, sys
rows = [l.split() for l in open(sys.argv[1])]
cols = list(zip(*[[float(x) for x in r[:4]] for r in rows]))
print(" ".join("%.0f" % statistics.median(c) for c in cols[:3]), "%.0f" % sum(cols[3]),
      "/".join("%.0f" % float(r[2]) for r in rows), " ".join(r[4] + "->" + r[5] for r in rows))' "$tmp/runs.txt")
	set -- $r
	printf '  %-9s at %s req/s (half of %s; %s connections): p50 %s us, p99 %s us (runs: %s), errors %s, load %s %s %s\n' \
		"$path" "$1" "$peak" "$c" "$2" "$3" "$5" "$4" "$6" "$7" "$8"
done

echo "== latency at a fixed rate, open loop, no cache (tests/tools/http-pace: request i due at"
echo "   i/rate, latency from when it was due, 50 connections, 2 threads sharing the 2 cores)"
for path in nginx redis in-memory; do
	case $path in
	nginx) port=$((base + 99)) peak=$ng ;;
	redis) port=$((base + 3)) peak=$rd_peak ;;
	*) port=$((base + 4)) peak=$mem_peak ;;
	esac
	for rate in 1000 10000 20000 $((peak / 2)); do
		before=$(load1)
		r=$($PACE --port $port --rate $rate --conns 50 --threads 2 --seconds "$pace_s" \
			--path '/recommendations/{user}?k=10' --users 6040) || die "http-pace on $path failed"
		set -- $r
		[ $# -ge 18 ] || die "http-pace on $path: no figures in '$r'"
		printf '  %-9s %6s req/s%s: p50 %5s us  p90 %6s us  p99 %7s us  p99.9 %7s us  errors %s  load %s -> %s\n' \
			"$path" "$rate" "$([ $rate = $((peak / 2)) ] && echo ' (half of peak)' || echo '               ')" \
			"$6" "$8" "${10}" "${12}" "$(( ${16} + ${18} ))" "$before" "$(load1)"
	done
done

echo "== a model swap under load (promote during wrk, the redis path with its cache)"
$R train "$d" --biases --iters 3 --seed 9 --out "$tmp/b.model" --register > /dev/null 2>&1 || die "train b failed"
( sleep 3; $R models promote > /dev/null ) &
promoter=$!
r=$(run_wrk "http://127.0.0.1:$((base + 1))/" "$tmp/users.lua"); set -- $r
wait $promoter || die "models promote during the load failed"
swaps=$(curl -s "http://127.0.0.1:$((base + 1))/metrics" | awk '/^pancake_model_swaps_total/ { print $2 }')
printf '  %s req/s during the swap; non-2xx and socket errors: %s; swaps: %s; load %s -> %s\n' \
	"$1" "$4" "$swaps" "$5" "$6"

echo "== Redis memory per million users of published top-10 (ML-20M shape, 138,493 users)"
d20=$tmp/ml-20m
$P data gen --shape ml-20m --seed 1 --out "$d20" > /dev/null || die "data gen ml-20m failed"
$R train "$d20" --iters 2 --split none --out "$tmp/m20.model" > /dev/null 2>&1 || die "train ml-20m failed"
used() { rcli info memory | awk -F: '/^used_memory:/ { print $2 }' | tr -d '\r'; }
before=$(used)
$R publish "$tmp/m20.model" --data "$d20" --top 10 --similar 0 --no-current --json \
	--redis "127.0.0.1:$RPORT" > "$tmp/pub20.json" 2> /dev/null || die "publish ml-20m failed"
after=$(used)
v=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["version"])' "$tmp/pub20.json")
MINE="$MINE $v"
blob=$(rcli memory usage "pk:rec:$v:model" | tr -d '\r')
python3 -c 'import sys; b, a, m = map(int, sys.argv[1:]); n = 138493; l = a - b - m
print("  %.1f MB for the lists of %d users: %.0f bytes per user, %.0f MB per million users" % (l / 1e6, n, l / n, l / n))
print("  (besides, the model file publish stores for the serving containers: %.1f MB)" % (m / 1e6))' "$before" "$after" "${blob:-0}"
