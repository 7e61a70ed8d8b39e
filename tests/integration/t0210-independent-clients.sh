# t0210: the services answer independent clients on the published 127.0.0.1 ports.
. "$(dirname "$0")/lib.sh"
kcat -b 127.0.0.1:9092 -L -m 10 | grep -q "1 brokers" || fail "kcat -L"
pass "kcat -L lists 1 broker"
echo "pancake-check" | kcat -b 127.0.0.1:9092 -P -t t0210 -m 10 || fail "kcat -P"
kcat -b 127.0.0.1:9092 -C -t t0210 -o beginning -c 1 -e -m 20 | grep -q pancake-check || fail "kcat -C"
pass "kcat produced and consumed a message"
[ "$(redis-cli -h 127.0.0.1 -p 6379 PING)" = PONG ] || fail "redis-cli PING"
pass "redis-cli PING answers PONG"
curl -sf '127.0.0.1:9200/_cluster/health?wait_for_status=yellow&timeout=30s' | grep -Eq '"status":"(yellow|green)"' \
	|| fail "curl _cluster/health"
pass "curl _cluster/health is yellow or green"
$PY - <<'PY' || fail "python3-cassandra query"
from cassandra.cluster import Cluster
c = Cluster(["127.0.0.1"], port=9042)
s = c.connect()
v = s.execute("SELECT release_version FROM system.local").one().release_version
assert v.startswith("5.0"), v
c.shutdown()
PY
pass "python3-cassandra: SELECT release_version answers 5.0.x"
