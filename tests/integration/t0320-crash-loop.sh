# t0320: a service that keeps crashing is retried with backoff, then given up on
# and reported with its last log lines (a corrupt data file: redis refuses to start).
. "$(dirname "$0")/lib.sh"
home=$(mktemp -d)
proj=pcktest320
export PANCAKE_PROJECT=$proj PANCAKE_HOME=$home
mkdir -p "$home/services/cache"
cat > "$home/services/cache/service.conf" <<'CONF'
image = pancake/redis
port = 16394:6379
volume = data:/var/lib/redis
probe = redis
ready_timeout = 30
CONF
$PANCAKE up > /tmp/t0320-up.log 2>&1 &
sup=$!
trap 'kill -INT $sup 2>/dev/null; wait $sup 2>/dev/null; $PANCAKE down -v >/dev/null 2>&1; rm -rf "$home"' EXIT
wait_for 120 "foreground up supervises the service" grep -q "supervising" /tmp/t0320-up.log
$PANCAKE exec cache -- sh -c 'echo "this is not a manifest" > /var/lib/redis/appendonlydir/appendonly.aof.manifest' \
	|| fail "could not corrupt the AOF manifest"
docker kill "$(docker ps -q --filter label=io.pancake.project=$proj --filter label=io.pancake.service=cache)" >/dev/null
pass "corrupted redis's data and killed it"
wait_for 240 "the supervisor gave up on the crash loop" grep -q "gave up" /tmp/t0320-up.log
cat /tmp/t0320-up.log
n=$(grep -c "cache *restart " /tmp/t0320-up.log || true)
[ "$n" -ge 3 ] || fail "only $n restarts before giving up"
pass "$n restarts with backoff before giving up"
grep -q "crash loop:" /tmp/t0320-up.log || fail "no crash-loop report"
grep -q "  | .*" /tmp/t0320-up.log || fail "the report has no log lines"
grep -qi "manifest" /tmp/t0320-up.log || fail "the log lines do not show redis's own complaint"
pass "the crash loop is reported with the service's own last log lines"
