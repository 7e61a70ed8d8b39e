# t0230: DOCKER_HOST=tcp://... is honoured (a loopback TCP forward to the engine's socket).
. "$(dirname "$0")/lib.sh"
command -v socat >/dev/null || fail "socat is not installed (sandbox/setup.sh test installs it)"
socat TCP-LISTEN:23750,bind=127.0.0.1,reuseaddr,fork UNIX-CONNECT:/var/run/docker.sock &
fwd=$!
trap 'kill $fwd 2>/dev/null || true' EXIT
wait_for 10 "tcp forward listening" $PY -c 'import socket; socket.create_connection(("127.0.0.1",23750),1)'
DOCKER_HOST=tcp://127.0.0.1:23750 $PANCAKE doctor --json > /tmp/t0230.json || { cat /tmp/t0230.json; fail "doctor over tcp"; }
grep -q 'answers at tcp://127.0.0.1:23750' /tmp/t0230.json || fail "doctor did not use the tcp endpoint"
pass "doctor reaches the engine over DOCKER_HOST=tcp://"
n=$(DOCKER_HOST=tcp://127.0.0.1:23750 $PANCAKE ps --json | $PY -c 'import json,sys; print(sum(1 for r in json.load(sys.stdin) if r["ready"]))')
[ "$n" -eq 5 ] || fail "ps over tcp sees $n ready services, want 5"
pass "ps over tcp sees the five ready services"
set +e
out=$(DOCKER_HOST=tcp://127.0.0.1:1 $PANCAKE ps 2>&1); rc=$?
set -e
[ $rc -ne 0 ] && echo "$out" | grep -q "cannot reach docker at 'tcp://127.0.0.1:1'" || fail "unreachable tcp engine not reported: $out"
pass "an unreachable tcp engine is named"
