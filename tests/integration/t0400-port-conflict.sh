# t0400: a port in use is refused before anything is created, naming port, service and holder.
. "$(dirname "$0")/lib.sh"
proj=pcktest400
$PY -c 'import socket,time
s=socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("127.0.0.1", 16390)); s.listen(1); time.sleep(120)' &
holder=$!
trap 'kill $holder 2>/dev/null || true' EXIT
wait_for 10 "a python listener holds 127.0.0.1:16390" sh -c "ss -ltn 2>/dev/null | grep -q 127.0.0.1:16390 || $PY -c 'import socket; socket.create_connection((\"127.0.0.1\",16390),1)'"
set +e
out=$(PANCAKE_PROJECT=$proj PANCAKE_REDIS_PORT_6379=16390 $PANCAKE up --wait redis 2>&1); rc=$?
set -e
echo "$out"
[ $rc -ne 0 ] || fail "up succeeded on a busy port"
echo "$out" | grep -q "port 127.0.0.1:16390 for service 'redis' is already in use by process 'python3" \
	|| fail "message does not name port, service and holder"
echo "$out" | grep -q "PANCAKE_REDIS_PORT_6379" || fail "message does not name the way out"
pass "refused with port, service, holder and the way out"
for r in containers networks volumes; do
	[ "$(labelled $r $proj)" -eq 0 ] || fail "$r were created for project $proj"
done
pass "nothing was created (no container, network or volume labelled $proj)"
# memory: a definition whose limit cannot fit is refused with the numbers, before anything is made
home=$(mktemp -d)
mkdir -p "$home/services/big"
cat > "$home/services/big/service.conf" <<'CONF'
image = pancake/redis
port = 16393:6379
memory = 4000g
probe = redis
CONF
set +e
out=$(PANCAKE_PROJECT=$proj PANCAKE_HOME=$home $PANCAKE up --wait 2>&1); rc=$?
set -e
rm -rf "$home"
echo "$out"
[ $rc -ne 0 ] || fail "an impossible memory limit was accepted"
echo "$out" | grep -Eq "memory limits add up to [0-9.]+ GiB \(big [0-9.]+\) but the engine has [0-9.]+ GiB" || fail "memory refusal lacks the numbers"
for r in containers networks volumes; do
	[ "$(labelled $r $proj)" -eq 0 ] || fail "$r were created for project $proj after the memory refusal"
done
pass "memory pre-flight refuses with the numbers and creates nothing"
