#!/bin/bash
# tests/cluster/t-stack.sh: the whole stack on the three-engine harness
# (issue 16), through pancake only (the harness itself uses curl on the
# Engine API for what pancake does not do: draining a node).
#
#  1. images: `pancake images save` here, `pancake images load` on each node;
#     a node that lacks an image is named by `up --swarm`, which fails fast
#  2. `up --swarm --replicas 2`: all ready, tasks on more than one node;
#     kcat, redis-cli, curl and python3-cassandra answer on the nodes
#  3. drain the node with serving and neither Redis nor Kafka: its serving
#     task moves, and serving on the other node answers every request
#  4. each node's engine stopped and started again: the stack is back to
#     ready and Kafka, Cassandra and Redis still hold what was written
#  5. a class of two stacks; `class down` of one leaves the other
#
# Needs what cluster.sh needs, a built ./pancake, the pancake images on the
# machine's engine, kcat, redis-cli, python3-cassandra. Not in CI.
set -u
cd "$(dirname "$0")/../.." || exit 1
H=tests/cluster/cluster.sh
ROOT=${PCLUSTER_ROOT:-/tmp/pcluster}
MAIN=${PCLUSTER_MAIN_SOCK:-/var/run/docker.sock}
PY=/usr/bin/python3
export PANCAKE_PROJECT=pcstack
export PANCAKE_STATE=$ROOT/state
export DOCKER_HOST=unix://$ROOT/node1/docker.sock
IMAGES="redis kafka cassandra elasticsearch sandbox"
log() { printf '[t-stack %s] %s\n' "$(date +%T)" "$*" >&2; }
fail() { log "FAIL: $*"; exit 1; }
el() { echo "$(( ($(date +%s%N) - $1) / 1000000 )) ms"; }
node_sock() { echo "$ROOT/node$1/docker.sock"; }
api() {	# api METHOD PATH [curl args]: node1's Engine API
	local m=$1 p=$2; shift 2
	curl -sf --unix-socket "$(node_sock 1)" -X "$m" "http://n/v1.41$p" "$@"
}
ps_json() { ./pancake ps --swarm --json; }
# the node (hostname) and address of a service's first running task
where() { ps_json | jq -r --arg s "$1" '[.[] | select(.service==$s and .state=="running")][0] | "\(.node) \(.addr)"'; }
node_num() { echo "${1##*node}"; }   # pcluster-node2 -> 2
set_availability() {	# NODEHOST AVAILABILITY
	local id ver spec
	id=$(api GET /nodes | jq -r --arg h "$1" '.[] | select(.Description.Hostname==$h) | .ID')
	ver=$(api GET "/nodes/$id" | jq .Version.Index)
	spec=$(api GET "/nodes/$id" | jq -c --arg a "$2" '.Spec | .Availability=$a')
	api POST "/nodes/$id/update?version=$ver" -H 'Content-Type: application/json' -d "$spec" >/dev/null
}

[ -x ./pancake ] || fail "./pancake is not built: run make"
for c in kcat redis-cli jq curl; do command -v $c >/dev/null || fail "$c not found"; done
trap 'bash $H down' EXIT
bash $H up && bash $H swarm || fail "harness up/swarm"
mkdir -p "$PANCAKE_STATE"

# ---- 1. images onto the nodes: save here, load there -----------------------
t0=$(date +%s%N)
DOCKER_HOST=unix://$MAIN ./pancake images save "$ROOT/images.tar" $IMAGES >/dev/null ||
	fail "pancake images save (build them: pancake images build)"
log "images saved: $(( $(stat -c %s "$ROOT/images.tar") / 1048576 )) MB in $(el "$t0")"
t0=$(date +%s%N)
for n in 1 2; do
	DOCKER_HOST=unix://$(node_sock $n) ./pancake images load "$ROOT/images.tar" >"$ROOT/load$n.out" 2>&1 &
done
wait
for n in 1 2; do grep -q "^loaded" "$ROOT/load$n.out" || fail "load on node$n: $(tail -3 "$ROOT/load$n.out")"; done
log "images loaded into node1 and node2 in $(el "$t0")"

# node3 has none yet: with node1 and node2 drained, redis can only go there
set_availability pcluster-node1 drain && set_availability pcluster-node2 drain || fail "drain 1,2"
out=$(./pancake up --swarm --timeout 60 redis 2>&1) && fail "up on a node without the image succeeded: $out"
grep -q "swarm node 'pcluster-node3' (10.77.0.13) has no image 'pancake/redis'" <<<"$out" ||
	fail "the refusal does not name the node and image: $out"
log "a node without the image is named: $(grep -o "swarm node 'pcluster-node3'[^:]*" <<<"$out")"
./pancake down --swarm >/dev/null || fail "down after the refusal"
set_availability pcluster-node1 active && set_availability pcluster-node2 active || fail "undrain"
t0=$(date +%s%N)
DOCKER_HOST=unix://$(node_sock 3) ./pancake images load "$ROOT/images.tar" >"$ROOT/load3.out" 2>&1 ||
	fail "load on node3: $(tail -3 "$ROOT/load3.out")"
log "images loaded into node3 in $(el "$t0")"
rm -f "$ROOT/images.tar"

# ---- 2. the whole stack across the nodes ------------------------------------
t0=$(date +%s%N)
./pancake up --swarm --replicas 2 || fail "pancake up --swarm --replicas 2"
log "up --swarm --replicas 2: all ready in $(el "$t0")"
ps=$(ps_json) || fail "ps --swarm"
jq -r '.[] | "  \(.service) #\(.slot) \(.node) \(.addr) \(.state) ready=\(.ready)"' <<<"$ps" >&2
nodes=$(jq '[.[] | select(.state=="running") | .node] | unique | length' <<<"$ps")
[ "$nodes" -ge 2 ] || fail "tasks on $nodes node(s)"
[ "$(jq '[.[] | select(.service=="serving" and .ready==true)] | length' <<<"$ps")" = 2 ] ||
	fail "serving: not 2 ready tasks"
[ "$(jq '[.[] | select(.ready!=true)] | length' <<<"$ps")" = 0 ] || fail "a task is not ready"
log "6 tasks ready on $nodes nodes"

read -r rnode raddr <<<"$(where redis)"
read -r knode kaddr <<<"$(where kafka)"
read -r cnode caddr <<<"$(where cassandra)"
read -r enode eaddr <<<"$(where elasticsearch)"
[ "$(redis-cli -h "$raddr" -p 6379 SET pc:drill kept)" = OK ] || fail "redis-cli SET on $raddr"
kcat -b "$kaddr:9092" -L -m 10 | grep -q "1 brokers" || fail "kcat -L on $kaddr"
for i in 1 2 3 4 5; do echo "drill-$i"; done | kcat -b "$kaddr:9092" -P -t pc-drill -m 20 ||
	fail "kcat -P on $kaddr"
curl -sf "http://$eaddr:9200/_cluster/health?wait_for_status=yellow&timeout=30s" |
	grep -Eq '"status":"(yellow|green)"' || fail "curl _cluster/health on $eaddr"
$PY - "$caddr" <<'PY' || fail "python3-cassandra on $caddr"
import sys
from cassandra.cluster import Cluster
c = Cluster([sys.argv[1]], port=9042)
s = c.connect()
s.execute("CREATE KEYSPACE IF NOT EXISTS drill WITH replication = {'class': 'SimpleStrategy', 'replication_factor': 1}")
s.execute("CREATE TABLE IF NOT EXISTS drill.t (k int PRIMARY KEY, v text)")
s.execute("INSERT INTO drill.t (k, v) VALUES (1, 'kept')")
c.shutdown()
PY
log "independent clients: redis-cli on $rnode, kcat on $knode, curl on $enode, python3-cassandra on $cnode"

check_data() {	# $1: when
	local got
	read -r rnode raddr <<<"$(where redis)"
	read -r knode kaddr <<<"$(where kafka)"
	read -r cnode caddr <<<"$(where cassandra)"
	got=$(redis-cli -h "$raddr" -p 6379 GET pc:drill)
	[ "$got" = kept ] || fail "$1: redis pc:drill is '$got'"
	got=$(kcat -b "$kaddr:9092" -C -t pc-drill -o beginning -e -q -m 30 | grep -c '^drill-')
	[ "$got" = 5 ] || fail "$1: kafka pc-drill holds $got of 5 messages"
	got=$($PY - "$caddr" <<'PY'
import sys
from cassandra.cluster import Cluster
c = Cluster([sys.argv[1]], port=9042)
print(c.connect().execute("SELECT v FROM drill.t WHERE k = 1").one().v)
c.shutdown()
PY
)
	[ "$got" = kept ] || fail "$1: cassandra drill.t row is '$got'"
	log "$1: redis key, 5 kafka messages and the cassandra row are there"
}

# ---- 3. drain: serving moves, the other replica answers every request ------
x=$(jq -r --arg r "$rnode" --arg k "$knode" '[.[] | select(.service=="serving" and .node!=$r and .node!=$k) | .node][0] // empty' <<<"$ps")
[ -n "$x" ] || fail "no node runs serving without redis or kafka: the layout above"
other=$(jq -r --arg x "$x" '[.[] | select(.service=="serving" and .node!=$x) | .addr][0]' <<<"$ps")
n_ok=0 n_bad=0
( end=$((SECONDS + 25)); ok=0 bad=0
  while [ $SECONDS -lt $end ]; do
	if curl -sf -m 2 -o /dev/null "http://$other:8080/readyz"; then ok=$((ok + 1)); else bad=$((bad + 1)); fi
  done; echo "$ok $bad" >"$ROOT/drain-load" ) &
load=$!
sleep 2
t0=$(date +%s%N)
set_availability "$x" drain || fail "drain $x"
for i in $(seq 1 60); do
	moved=$(ps_json | jq --arg x "$x" '[.[] | select(.service=="serving" and .state=="running" and .node!=$x)] | length')
	[ "$moved" = 2 ] && break
	sleep 0.5
done
[ "$moved" = 2 ] || fail "serving did not move off $x: $(ps_json | jq -c '[.[] | select(.service=="serving")]')"
log "drained $x: serving runs on 2 other nodes after $(el "$t0")"
wait $load
read -r n_ok n_bad <"$ROOT/drain-load"
[ "$n_bad" = 0 ] && [ "$n_ok" -gt 0 ] || fail "serving on $other during the drain: $n_ok answered, $n_bad failed"
log "serving on $other during the drain: $n_ok requests, $n_bad failed"
set_availability "$x" active || fail "undrain $x"
./pancake up --swarm --replicas 2 >/dev/null || fail "up after the drain"
log "$x active again; the stack is ready"

# ---- 4. each node's engine stopped and started again -----------------------
for n in 3 2 1; do
	t0=$(date +%s%N)
	before=$(ps_json | jq -c --arg h pcluster-node$n '[.[] | select(.node==$h and .state=="running") | {service, task}]')
	bash $H stop $n || fail "stop node$n"
	bash $H start $n || fail "start node$n"
	# the manager answers again once its engine is back; wait until ready
	for i in $(seq 1 120); do ./pancake ps --swarm --json >/dev/null 2>&1 && break; sleep 1; done
	./pancake up --swarm --replicas 2 --timeout 300 >/dev/null || fail "not ready after node$n's restart"
	log "node$n's engine restarted: the stack ready again after $(el "$t0")"
	# each task that ran there was replaced (not merely still running)
	after=$(ps_json)
	for tk in $(jq -r '.[].task' <<<"$before"); do
		jq -e --arg t "$tk" '[.[] | select(.task==$t and .state=="running")] | length == 0' <<<"$after" >/dev/null ||
			fail "task $tk on node$n still runs after its engine's restart"
	done
	log "node$n ran $(jq -r 'map(.service) | join(", ")' <<<"$before"): each runs as a new task now"
	check_data "after node$n's restart"
done

./pancake down --swarm >/dev/null || fail "down --swarm"
log "down --swarm"

# ---- 5. a class of two ------------------------------------------------------
printf '# drill class\nada\n\nbob  # seat 2\n' >"$ROOT/roster"
t0=$(date +%s%N)
./pancake class up --class drill --small --attendees "$ROOT/roster" || fail "class up"
log "class up (2 stacks, small): ready in $(el "$t0")"
st=$(./pancake class status --class drill --json) || fail "class status"
jq -c '.stacks[] | {attendee, seat, ready, nodes: ([.services[].node] | unique)}' <<<"$st" >&2
[ "$(jq '[.stacks[] | select(.ready)] | length' <<<"$st")" = 2 ] || fail "class status: not 2 ready stacks"
bport=$(( 6379 + 2 * 100 ))
baddr=$(jq -r '.stacks[] | select(.attendee=="bob") | .services[] | select(.service=="redis") | .addr' <<<"$st")
[ "$(redis-cli -h "$baddr" -p $bport PING)" = PONG ] || fail "bob's redis on $baddr:$bport"
./pancake class down --class drill ada || fail "class down ada"
st=$(./pancake class status --class drill --json) || fail "class status after down"
[ "$(jq -r '[.stacks[].attendee] | join(",")' <<<"$st")" = bob ] || fail "after class down ada: $st"
[ "$(jq -r '.stacks[0].ready' <<<"$st")" = true ] || fail "bob's stack is not ready after ada's down"
log "class down ada: bob's stack alone is left, and ready"
./pancake class down --class drill || fail "class down"
left=$(api GET "/services" | jq length)
[ "$left" = 0 ] || fail "$left services left"
log "PASS"
