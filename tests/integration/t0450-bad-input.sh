# t0450: bad input gets a clear error: malformed definition (file and field), no engine (socket and fix).
. "$(dirname "$0")/lib.sh"
home=$(mktemp -d)
trap 'rm -rf "$home"' EXIT
cp -r services "$home/services"
sed -i 's/^port = 6379$/port = 99999/' "$home/services/redis/service.conf"
set +e
out=$(PANCAKE_HOME=$home $PANCAKE ps 2>&1); rc=$?
set -e
echo "$out"
[ $rc -ne 0 ] || fail "malformed definition accepted"
echo "$out" | grep -Eq "services/redis/service.conf:[0-9]+: field 'port'" || fail "error does not name file, line and field"
pass "malformed definition: file, line and field named"
set +e
out=$(DOCKER_HOST=unix:///tmp/no-such-docker.sock $PANCAKE ps 2>&1); rc=$?
set -e
echo "$out"
[ $rc -ne 0 ] || fail "ps without an engine succeeded"
echo "$out" | grep -q "/tmp/no-such-docker.sock" || fail "no-engine error does not name the socket"
echo "$out" | grep -q "dockerd" || fail "no-engine error does not say how to start one"
pass "no engine: socket and the way to start one named"
set +e
out=$($PANCAKE up --bogus 2>&1); rc=$?
set -e
[ $rc -eq 2 ] && echo "$out" | grep -q "usage: pancake up" || fail "unknown option not refused with usage"
pass "unknown option refused with usage"
for c in up down ps logs doctor images launcher; do
	$PANCAKE $c --help | grep -q "usage: pancake $c" || fail "$c --help"
done
pass "--help on every command"
