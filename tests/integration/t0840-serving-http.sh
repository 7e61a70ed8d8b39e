#!/bin/bash
# t0840: the serving binary's HTTP edges, against the real Redis. Requests
# whose client half-closes at once (shutdown(SHUT_WR), as HTTP/1.0 tools and
# some proxies do) are all answered and their connections closed without
# waiting for the idle timeout, on the in-memory and the Redis paths, with
# the FIN late (arriving while Redis is paused) and after pipelined requests.
# Framing RFC 9112 says to refuse gets a 400 (501 for a transfer coding it
# does not know) and a closed connection; a query parameter given twice
# gets a 400; a refused path with bytes that are not ASCII does not kill
# the server. Redis is the stack's (PANCAKE_REDIS_PORT_6379 moves it).
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
	[ -z "$V" ] || drop_rec_versions "$RPORT" "$V"
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

# framing: raw requests; each refusal closes the connection
$PY - "$P" <<'EOF' || fail "framing RFC 9112 refuses gets a 400 and a closed connection"
import json, socket, sys
port = int(sys.argv[1])
def send(req):
    s = socket.create_connection(("127.0.0.1", port))
    s.sendall(req)
    s.settimeout(10)
    data = b""
    while True:
        b = s.recv(65536)	# a timeout raises: the connection was left open
        if not b:
            break
        data += b
    s.close()
    head, _, body = data.partition(b"\r\n\r\n")
    return int(head.split()[1]), body
cases = [
    (b"GET /healthz HTTP/1.1\r\nHost: t\r\nContent-Length: 0\r\nContent-Length: 1\r\n\r\nx", 400, "different values"),
    (b"POST /feedback HTTP/1.1\r\nHost: t\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\n{\"a\":1}", 400, "different values"),
    (b"GET /healthz HTTP/1.1\r\n\r\n", 400, "needs a Host"),
    (b"GET /healthz HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n", 400, "not several"),
    (b"GET /healthz HTTP/1.1\r\nHost: a b\r\n\r\n", 400, "host[:port]"),
    (b"GET /healthz HTTP/1.1\r\nHost : t\r\n\r\n", 400, "not a token"),
    (b"POST /feedback HTTP/1.1\r\nHost: t\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n", 400, "both Transfer-Encoding"),
    (b"POST /feedback HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n", 400, "HTTP/1.0"),
    (b"POST /feedback HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: gzip\r\n\r\n", 501, "'gzip'"),
]
for req, want, says in cases:
    got, body = send(req)
    msg = json.loads(body)["error"]
    assert got == want and says in msg, (req, got, body)
    print("  %d %s" % (got, msg))
# still allowed: HTTP/1.0 without Host, one Content-Length given twice alike
for req in (b"GET /healthz HTTP/1.0\r\n\r\n",
            b"GET /healthz HTTP/1.1\r\nHost: t\r\nContent-Length: 0\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"):
    got, body = send(req)
    assert got == 200, (req, got, body)
EOF
pass "two Content-Length values, no Host or two, a bad Host, a space before a colon, Transfer-Encoding beside Content-Length or in HTTP/1.0: 400; gzip: 501; connections closed"

status() { curl -s -o /dev/null -w '%{http_code}' "$@"; }
[ "$(status "http://127.0.0.1:$P/recommendations/7?k=10&k=20")" = 400 ] || fail "?k=10&k=20 is 400"
[ "$(status "http://127.0.0.1:$P/recommendations/7?variant=main&variant=main")" = 400 ] \
	|| fail "?variant= twice is 400"
curl -s "http://127.0.0.1:$P/recommendations/7?k=10&k=20" | grep -q "given twice" || fail "the message says why"
pass "a query parameter given twice is 400"
$PY - "$P" <<'EOF' || fail "a path with bytes that are not ASCII is refused with a JSON error"
import json, socket, sys
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])))
s.sendall(b"GET /recommendations/\xff\xfe HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n")
s.settimeout(10)
data = b""
while True:
    b = s.recv(65536)
    if not b:
        break
    data += b
head, _, body = data.partition(b"\r\n\r\n")
assert head.split()[1] == b"400", data
print("  " + json.loads(body)["error"])
EOF
[ "$(status "http://127.0.0.1:$P/healthz")" = 200 ] || fail "the server lives on after it"
pass "a path with bytes that are not ASCII gets a 400 whose message quotes them, and the server lives on"
echo "t0840 passed"
