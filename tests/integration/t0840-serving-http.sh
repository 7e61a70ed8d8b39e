#!/bin/bash
# t0840: the serving binary's HTTP edges, against the real Redis. Requests
# whose client half-closes at once (shutdown(SHUT_WR), as HTTP/1.0 tools and
# some proxies do) are all answered and their connections closed without
# waiting for the idle timeout, on the in-memory and the Redis paths, with
# the FIN late (arriving while Redis is paused) and after pipelined requests.
# Redis is the stack's (PANCAKE_REDIS_PORT_6379 moves it).
. "$(dirname "$0")/lib.sh"
RECO=services/recommender/recommender
SERV=services/serving/serving
HALF=tests/tools/http-halfclose
RPORT=${PANCAKE_REDIS_PORT_6379:-6379}
P=${T0840_PORT:-18241}
W=$(mktemp -d /tmp/t0840.XXXXXX)
PIDS="" V=""
rcli() { redis-cli -p "$RPORT" "$@"; }
cleanup() {
	for p in $PIDS; do kill "$p" 2>/dev/null || true; done
	# the lists this test published, unless something made them current since
	if [ -n "$V" ] && [ "$(rcli get pk:rec:current)" != "$V" ]; then
		rcli --scan --pattern "pk:rec:$V:*" | xargs -r -n 500 redis-cli -p "$RPORT" del > /dev/null
		rcli zrem pk:rec:versions "$V" > /dev/null
	fi
	rm -rf "$W"
}
trap cleanup EXIT
export PANCAKE_MODELS=$W/models

make -s "$HALF" || fail "make $HALF"
$PANCAKE up --wait redis > "$W/up.log" 2>&1 || { cat "$W/up.log"; fail "redis up"; }
D=$W/ml-100k-s41
$PANCAKE data gen --shape ml-100k --seed 41 --out "$D" > /dev/null
$RECO train "$D" --iters 3 --out "$W/a.model" > /dev/null 2>&1 || fail "train"
# the lists under the model's version; pk:rec:current, which the stack's serving follows, stays
$RECO publish "$W/a.model" --data "$D" --top 10 --similar 0 --no-current --json \
	--redis "127.0.0.1:$RPORT" > "$W/pub.json" 2> "$W/pub.log" || { cat "$W/pub.log"; fail "publish"; }
V=$($PY -c 'import json,sys; print(json.load(open(sys.argv[1]))["version"])' "$W/pub.json")

# an idle timeout far above the tool's per-request deadline (10 s): a
# request that needs the timeout to end shows as unanswered or open
$SERV --port "$P" --variant main="$W/a.model" --data "$D" --redis "127.0.0.1:$RPORT" --no-kafka \
	--watch 0 --cache-ms 0 --idle-timeout 120 2> "$W/s.log" &
PIDS="$PIDS $!"
wait_for 60 "serving on $P ready" curl -sf "http://127.0.0.1:$P/readyz"
curl -s "http://127.0.0.1:$P/recommendations/7?k=5" | grep -q '"source":"redis"' \
	|| fail "/recommendations/7 comes from redis (the path checked below)"

# half PATH COUNT [ARGS...]: COUNT half-closed requests, 50 at a time; all
# must be answered 2xx and closed by the server within the deadline
half() {
	path=$1 n=$2; shift 2
	out=$($HALF --port "$P" --path "$path" --count "$n" --parallel 50 --deadline-ms 10000 "$@")
	echo "  $path $*: $out"
	set -- $out
	[ "$4" = "$n" ] && [ "$6" = "$n" ] && [ "$8" = 0 ] && [ "${10}" = 0 ] && [ "${12}" = 0 ]
}
half /healthz 1000 || fail "1000 half-closed GET /healthz: all answered and closed at once"
pass "1000 half-closed GET /healthz (answered from memory) are all answered and closed at once"
half '/recommendations/7?k=5' 1000 || fail "1000 half-closed requests on the redis path"
pass "1000 half-closed GET /recommendations (a list asked of redis each) are all answered and closed at once"
half /healthz 200 --http10 || fail "200 half-closed HTTP/1.0 requests"
pass "200 half-closed HTTP/1.0 requests are answered and closed"

# the FIN 5 ms after the request, while redis is paused 30 ms at a time
# (under serving's 100 ms for an answer): it comes while requests wait
( for _ in $(seq 1 40); do rcli client pause 30 all > /dev/null; sleep 0.06; done ) &
PAUSER=$!
half '/recommendations/7?k=5' 300 --shut-after-ms 5 || { wait $PAUSER; fail "late FINs during redis waits"; }
wait $PAUSER
pass "a FIN that comes while the request waits on redis: all 300 answered and closed"

$PY - "$P" <<'EOF' || fail "pipelined requests then the half-close: all answered, then closed"
import socket, sys
port = int(sys.argv[1])
for round in range(20):
    s = socket.create_connection(("127.0.0.1", port))
    s.sendall(b"".join(b"GET %s HTTP/1.1\r\nHost: t\r\n\r\n" % p
                       for p in (b"/healthz", b"/recommendations/7?k=3", b"/recommendations/9?k=3")))
    s.shutdown(socket.SHUT_WR)
    s.settimeout(10)
    data = b""
    while True:
        b = s.recv(65536)	# a timeout raises: the connection was not closed
        if not b:
            break
        data += b
    s.close()
    assert data.count(b"HTTP/1.1 200 ") == 3, data
EOF
pass "three pipelined requests then the half-close: three answers, then the server closes (20 rounds)"
curl -s "http://127.0.0.1:$P/metrics" | grep '^pancake_http_half_closed_total'

echo "t0840 passed"
