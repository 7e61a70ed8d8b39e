# t0470: a service that never gets ready fails with its last 20 log lines; the others are left as they were.
. "$(dirname "$0")/lib.sh"
home=$(mktemp -d)
proj=pcktest470
trap 'PANCAKE_PROJECT=$proj PANCAKE_HOME=$home $PANCAKE down -v >/dev/null 2>&1 || true; rm -rf "$home"' EXIT
mkdir -p "$home/services/redis" "$home/services/stuck"
cat > "$home/services/redis/service.conf" <<'CONF'
image = pancake/redis
port = 16391:6379
probe = redis
ready_timeout = 60
CONF
# redis-server speaks RESP, not CQL: it runs but never passes a CQL probe
cat > "$home/services/stuck/service.conf" <<'CONF'
image = pancake/redis
port = 16392:6379
probe = cql
ready_timeout = 8
CONF
set +e
out=$(PANCAKE_PROJECT=$proj PANCAKE_HOME=$home $PANCAKE up --wait 2>&1); rc=$?
set -e
echo "$out"
[ $rc -ne 0 ] || fail "up --wait succeeded with a service that is never ready"
echo "$out" | grep -q "service 'stuck' was not ready after 8 s" || fail "no clear readiness failure"
echo "$out" | grep -q "its last 20 log lines" || fail "no log lines shown"
echo "$out" | grep -q "| .*Ready to accept connections" || fail "the service's own log lines are missing"
pass "never-ready service reported with its own log lines"
[ "$(PANCAKE_PROJECT=$proj PANCAKE_HOME=$home $PANCAKE ps --json | $PY -c 'import json,sys; print([r for r in json.load(sys.stdin) if r["service"]=="redis"][0]["ready"])')" = True ] \
	|| fail "the other service (redis) was disturbed"
pass "the other service is still running and ready"
