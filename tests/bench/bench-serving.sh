#!/bin/bash
# bench-serving: wrk against the serving binary's /recommendations (the
# Redis path and the in-memory path, random users) and against nginx
# serving a static JSON file of the same size, in the same run, with the
# ratio; p99 latency at about half of the peak rate; errors across a model
# swap under load; Redis memory per million users of published top-10.
# Prints figures, asserts nothing.
set -eu
cd "$(dirname "$0")/../.."
P=./pancake
R=services/recommender/recommender
S=services/serving/serving
dur=${BENCH_SERVING_SECONDS:-10}
conns=${BENCH_SERVING_CONNS:-64}
tmp=$(mktemp -d "${TMPDIR:-/tmp}/pancake-bench-serving-XXXXXX")
PIDS=""
trap 'for p in $PIDS; do kill $p 2>/dev/null || true; done; rm -rf "$tmp"' EXIT
export PANCAKE_MODELS=$tmp/models
command -v nginx >/dev/null && command -v wrk >/dev/null || {
	echo "bench-serving needs wrk and nginx: apt-get install wrk nginx-light"; exit 1; }

make -s -j2 all tests/tools/http-pace >/dev/null
PACE=tests/tools/http-pace
pace_s=${BENCH_SERVING_PACE_SECONDS:-5}
$P up --wait redis > "$tmp/up.log" 2>&1 || { cat "$tmp/up.log"; exit 1; }
d=$tmp/ml-1m
$P data gen --shape ml-1m --seed 1 --out "$d" >/dev/null
$R train "$d" --biases --iters 5 --out "$tmp/a.model" --register >/dev/null 2>&1
$R models promote >/dev/null
$R publish production --data "$d" --top 10 --similar 0 >/dev/null 2>&1

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
local static = os.getenv("STATIC")	-- nginx: its file
request = function()
  if static then return wrk.format("GET", static) end
  return wrk.format("GET", "/recommendations/" .. math.random(1, 6040) .. "?k=10")
end
delay = function() return pace end
EOF

run_wrk() {	# URL [SCRIPT] [CONNS]: "rate p50_us p99_us non2xx"
	url=$1 script=${2:-} c=${3:-$conns}
	if [ -n "$script" ]; then
		wrk -t2 -c"$c" -d"${dur}s" --latency -s "$script" "$url" > "$tmp/wrk.txt" 2>&1
	else
		wrk -t2 -c"$c" -d"${dur}s" --latency "$url" > "$tmp/wrk.txt" 2>&1
	fi
	python3 - "$tmp/wrk.txt" <<'EOF'
import re, sys
t = open(sys.argv[1]).read()
def us(v, u): return float(v) * {"us": 1, "ms": 1e3, "s": 1e6}[u]
rate = float(re.search(r"Requests/sec:\s+([\d.]+)", t).group(1))
p = dict((k, us(v, u)) for k, v, u in re.findall(r"\s(50|99)%\s+([\d.]+)(us|ms|s)", t))
bad = re.search(r"Non-2xx or 3xx responses: (\d+)", t)
err = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", t)
n = (int(bad.group(1)) if bad else 0) + (sum(map(int, err.groups())) if err else 0)
print("%.0f %.0f %.0f %d" % (rate, p.get("50", 0), p.get("99", 0), n))
EOF
}

# serving, Redis path: Redis at its container's address, as the serving
# container reaches it over the stack's network (127.0.0.1 goes through
# docker-proxy, a user-space copy: measured too, below)
rip=$($P exec redis hostname -i | awk '{ print $1 }')
$S --port 18301 --data "$d" --no-kafka --quiet --watch 1 --redis "$rip:6379" 2> "$tmp/s1.log" &
PIDS="$PIDS $!"
for _ in $(seq 1 100); do curl -sf http://127.0.0.1:18301/readyz >/dev/null && break; sleep 0.2; done
curl -s 'http://127.0.0.1:18301/recommendations/1?k=10' > "$tmp/sample.json"
grep -q '"source":"redis"' "$tmp/sample.json" || { echo "not from redis: $(cat "$tmp/sample.json")"; exit 1; }
size=$(wc -c < "$tmp/sample.json")

# nginx with a static file of the same size
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
  server { listen 127.0.0.1:18399; root $tmp/www; default_type application/json; }
}
EOF
nginx -c "$tmp/nginx/nginx.conf"
trap 'nginx -c "$tmp/nginx/nginx.conf" -s stop 2>/dev/null; for p in $PIDS; do kill $p 2>/dev/null || true; done; rm -rf "$tmp"' EXIT
sleep 0.5

echo "== /recommendations, k=10 ($size-byte answers), wrk -t2 -c$conns -d${dur}s, random users"
set -- $(run_wrk http://127.0.0.1:18399/rec.json)
ng_rate=$1
printf '  nginx static file:        %8.0f req/s  p50 %5.0f us  p99 %6.0f us  errors %s\n' "$@"
set -- $(run_wrk http://127.0.0.1:18301/ "$tmp/users.lua")
rd_rate=$1
printf '  serving, redis path:      %8.0f req/s  p50 %5.0f us  p99 %6.0f us  errors %s  (1 s cache)\n' "$@"
hits=$(curl -s http://127.0.0.1:18301/metrics | awk '/source_total.*source="cache"/ { print $2 }')
$S --port 18303 --data "$d" --no-kafka --quiet --watch 0 --cache-ms 0 --redis "$rip:6379" \
	2> "$tmp/s3.log" &
PIDS="$PIDS $!"
$S --port 18305 --data "$d" --no-kafka --quiet --watch 0 2> "$tmp/s5.log" &
PIDS="$PIDS $!"
$S --port 18302 --data "$d" --no-kafka --no-redis --quiet --watch 0 2> "$tmp/s2.log" &
PIDS="$PIDS $!"
$S --port 18304 --data "$d" --no-kafka --no-redis --quiet --watch 0 --cache-ms 0 2> "$tmp/s4.log" &
PIDS="$PIDS $!"
for p in 18302 18303 18304 18305; do
	for _ in $(seq 1 100); do curl -sf http://127.0.0.1:$p/readyz >/dev/null && break; sleep 0.2; done
done
set -- $(run_wrk http://127.0.0.1:18303/ "$tmp/users.lua")
rd0_rate=$1
printf '  serving, redis path:      %8.0f req/s  p50 %5.0f us  p99 %6.0f us  errors %s  (no cache)\n' "$@"
trips=$(curl -s http://127.0.0.1:18303/metrics | awk '/^pancake_redis_batches_total/ { b = $2 }
	/^pancake_redis_lists_total/ { n = $2 } END { printf "%.1f", n / (b ? b : 1) }')
set -- $(run_wrk http://127.0.0.1:18305/ "$tmp/users.lua")
printf '  serving, redis path:      %8.0f req/s  p50 %5.0f us  p99 %6.0f us  errors %s  (1 s cache, redis through docker-proxy)\n' "$@"
set -- $(run_wrk http://127.0.0.1:18302/ "$tmp/users.lua")
mem_rate=$1
printf '  serving, in-memory path:  %8.0f req/s  p50 %5.0f us  p99 %6.0f us  errors %s  (1 s cache)\n' "$@"
set -- $(run_wrk http://127.0.0.1:18304/ "$tmp/users.lua")
mem0_rate=$1
printf '  serving, in-memory path:  %8.0f req/s  p50 %5.0f us  p99 %6.0f us  errors %s  (no cache)\n' "$@"
printf '  ratio to nginx: redis path %.2fx (%.2fx without the cache), in-memory path %.2fx (%.2fx)\n' \
	"$(echo "$rd_rate / $ng_rate" | bc -l)" "$(echo "$rd0_rate / $ng_rate" | bc -l)" \
	"$(echo "$mem_rate / $ng_rate" | bc -l)" "$(echo "$mem0_rate / $ng_rate" | bc -l)"
echo "  (cache hits on the redis path: $hits; without the cache, $trips lists per round trip to redis)"

echo "== p99 at about half of the peak rate, wrk's way (closed loop: each connection waits 1 ms"
echo "   after each answer, median of 3 runs; wrk's timers fire on millisecond ticks, so they send in bursts)"
for path in nginx redis in-memory; do
	case $path in
	nginx) port=18399 peak=$ng_rate; export STATIC=/rec.json ;;
	redis) port=18301 peak=$rd_rate; unset STATIC ;;
	*) port=18302 peak=$mem_rate; unset STATIC ;;
	esac
	half=$((peak / 2))
	# a first guess (about 1000/s per connection), then scaled by what it gave
	c=$(( half / 1000 )); [ $c -lt 1 ] && c=1
	set -- $(PACE_MS=1 run_wrk http://127.0.0.1:$port/ "$tmp/paced.lua" $c)
	c=$(python3 -c 'import sys; c, r, h = map(float, sys.argv[1:]); print(max(1, round(c * h / max(r, 1))))' "$c" "$1" "$half")
	# the machine's noise moves p99 between runs: three runs, the medians (errors: all of them)
	for i in 1 2 3; do PACE_MS=1 run_wrk http://127.0.0.1:$port/ "$tmp/paced.lua" $c; done \
		> "$tmp/runs.txt"
	set -- $(python3 -c 'import statistics, sys
rows = [list(map(float, l.split())) for l in open(sys.argv[1])]
cols = list(zip(*rows))
print(" ".join("%.0f" % statistics.median(c) for c in cols[:3]), "%.0f" % sum(cols[3]),
      "/".join("%.0f" % r[2] for r in rows))' "$tmp/runs.txt")
	printf '  %-9s at %s req/s (half of %s; %s connections): p50 %s us, p99 %s us (runs: %s), errors %s\n' \
		"$path" "$1" "$peak" "$c" "$2" "$3" "$5" "$4"
done
unset STATIC

echo "== latency at a fixed rate, open loop (tests/tools/http-pace: request i due at i/rate,"
echo "   latency from when it was due, 50 connections, 2 threads sharing the 2 cores)"
for path in nginx redis in-memory; do
	case $path in
	nginx) port=18399 peak=$ng_rate url=/rec.json ;;
	redis) port=18301 peak=$rd_rate url='/recommendations/{user}?k=10' ;;
	*) port=18302 peak=$mem_rate url='/recommendations/{user}?k=10' ;;
	esac
	for rate in 1000 10000 20000 $((peak / 2)); do
		set -- $($PACE --port $port --rate $rate --conns 50 --threads 2 --seconds "$pace_s" \
			--path "$url" --users 6040)
		printf '  %-9s %6s req/s%s: p50 %5s us  p90 %6s us  p99 %7s us  p99.9 %7s us  errors %s\n' \
			"$path" "$rate" "$([ $rate = $((peak / 2)) ] && echo ' (half of peak)' || echo '               ')" \
			"$6" "$8" "${10}" "${12}" "$(( ${16} + ${18} ))"
	done
done

echo "== a model swap under load (promote during wrk)"
$R train "$d" --biases --iters 3 --seed 9 --out "$tmp/b.model" --register >/dev/null 2>&1
( sleep 3; $R models promote >/dev/null ) &
set -- $(run_wrk http://127.0.0.1:18301/ "$tmp/users.lua")
swaps=$(curl -s http://127.0.0.1:18301/metrics | awk '/^pancake_model_swaps_total/ { print $2 }')
printf '  %s req/s during the swap; non-2xx and socket errors: %s; swaps: %s\n' "$1" "$4" "$swaps"

echo "== Redis memory per million users of published top-10 (ML-20M shape, 138,493 users)"
d20=$tmp/ml-20m
$P data gen --shape ml-20m --seed 1 --out "$d20" >/dev/null
$R train "$d20" --iters 2 --split none --out "$tmp/m20.model" >/dev/null 2>&1
before=$(redis-cli info memory | awk -F: '/^used_memory:/ { print $2 }' | tr -d '\r')
$R publish "$tmp/m20.model" --data "$d20" --top 10 --similar 0 --no-current --json > "$tmp/pub20.json" 2>/dev/null
after=$(redis-cli info memory | awk -F: '/^used_memory:/ { print $2 }' | tr -d '\r')
v=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["version"])' "$tmp/pub20.json")
blob=$(redis-cli memory usage "pk:rec:$v:model" | tr -d '\r')
python3 -c 'import sys; b, a, m = map(int, sys.argv[1:]); n = 138493; l = a - b - m
print("  %.1f MB for the lists of %d users: %.0f bytes per user, %.0f MB per million users" % (l / 1e6, n, l / n, l / n))
print("  (besides, the model file publish stores for the serving containers: %.1f MB)" % (m / 1e6))' "$before" "$after" "${blob:-0}"
redis-cli --scan --pattern "pk:rec:$v:*" | xargs -r -n 1000 redis-cli del >/dev/null
