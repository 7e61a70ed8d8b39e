# t0200: `up --wait` brings all five services to ready; ps --json says so.
. "$(dirname "$0")/lib.sh"
$PANCAKE up --wait || fail "up --wait"
pass "up --wait returned 0"
$PANCAKE ps --json > /tmp/t0200-ps.json
$PY - <<'PY' || fail "ps --json does not show five ready services"
import json
rows = {r["service"]: r for r in json.load(open("/tmp/t0200-ps.json"))}
assert sorted(rows) == ["cassandra", "elasticsearch", "kafka", "redis", "serving"], rows.keys()
for name, r in rows.items():
    assert r["running"] and r["ready"] is True, (name, r)
    assert r["config_current"] is True, (name, r)
    for p in r["ports"]:
        assert p["host_ip"] == "127.0.0.1", (name, p)
PY
pass "ps --json: five services running, ready, published on 127.0.0.1"
# a second up changes nothing
before=$(docker ps -q --filter label=io.pancake.project=pancake | sort | tr '\n' ' ')
$PANCAKE up --wait > /tmp/t0200-up2.log 2>&1 || fail "second up --wait"
after=$(docker ps -q --filter label=io.pancake.project=pancake | sort | tr '\n' ' ')
[ "$before" = "$after" ] || fail "second up replaced containers: '$before' -> '$after'"
grep -q "already running" /tmp/t0200-up2.log || fail "second up did not report running services"
pass "second up kept the same five containers"

# a cold start says 'starting' while a port does not answer yet, never an
# error: its own project and ports, so it always starts cold
cold() { PANCAKE_PROJECT=t0200-cold PANCAKE_KAFKA_PORT_9092=19292 PANCAKE_REDIS_PORT_6379=16292 "$@"; }
trap 'cold $PANCAKE down -v > /dev/null 2>&1 || true' EXIT
cold $PANCAKE down -v > /dev/null 2>&1 || true
cold $PANCAKE up --wait kafka > /tmp/t0200-cold.log 2>&1 || { cat /tmp/t0200-cold.log; fail "cold up --wait kafka"; }
cat /tmp/t0200-cold.log
grep -Eq "kafka +waiting +starting" /tmp/t0200-cold.log || fail "a cold start shows no 'starting' line"
if grep -Ei "cannot reach|connection reset|connection refused|resend|error" /tmp/t0200-cold.log; then
	fail "a probe failing before the first ready is shown as an error"
fi
pass "cold start of kafka: 'starting' while its port does not answer, no alarming probe errors"
