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
#     task moves, and serving on the other node answers every request;
#     then serving scaled 2 -> 3 -> 1 -> 2 under a balanced load, no failure
#  4. each node's engine stopped and started again: the stack is back to
#     ready and Kafka, Cassandra and Redis still hold what was written
#  5. the Redis primary's node stopped under a serving load: Sentinel
#     promotes the replica, serving fails no request, every published list
#     is on the new primary, and the old primary comes back as a replica
#  6. a class of two stacks; `class down` of one leaves the other
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
# PCLUSTER_KEEP=1 leaves the harness up after a failure, to look at it
trap '[ "${PCLUSTER_KEEP:-}" = 1 ] && [ "${passed:-0}" != 1 ] || bash $H down' EXIT
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

# node3 has none yet: with node1 and node2 drained, kafka can only go there
set_availability pcluster-node1 drain && set_availability pcluster-node2 drain || fail "drain 1,2"
out=$(./pancake up --swarm --timeout 60 kafka 2>&1) && fail "up on a node without the image succeeded: $out"
grep -q "swarm node 'pcluster-node3' (10.77.0.13) has no image 'pancake/kafka'" <<<"$out" ||
	fail "the refusal does not name the node and image: $out"
log "a node without the image is named: $(grep -o "swarm node 'pcluster-node3'[^:]*" <<<"$out")"
# redis brings its replica, which must not share redis's node: refused before anything is made
out=$(./pancake up --swarm --timeout 60 redis 2>&1) && fail "redis and its replica on one node: $out"
grep -q "apart from the node of 'redis' (swarm.apart)" <<<"$out" || fail "the replica's refusal says: $out"
log "redis and its replica cannot share the one active node: refused before anything was made"
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
log "$(jq length <<<"$ps") tasks ready on $nodes nodes"
./pancake logs --swarm --tail 50 redis-sentinel | grep -q "+monitor master pancake" ||
	fail "logs --swarm redis-sentinel lacks the Sentinels' +monitor line"
log "logs --swarm: the Sentinels' lines, '+monitor master pancake' among them"

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

# a model, published through the primary the Sentinels name: serving answers from it
sentinel_primary() {	# NODEADDR: what the Sentinel on that node names the primary
	redis-cli -h "$1" -p 26379 SENTINEL get-master-addr-by-name pancake | tr '\n' ' ' | sed 's/ $//'
}
read -r paddr pport <<<"$(sentinel_primary "$raddr")"
[ -n "$paddr" ] || fail "no Sentinel names the primary"
set=datasets/generated/lab-100k
[ -f "$set/ratings.csv" ] || ./pancake data gen --shape ml-100k --seed 1 --out "$set" >/dev/null ||
	fail "generate lab-100k"
PANCAKE_MODELS=$ROOT/models ./services/recommender/recommender train "$set" --iters 5 --rank 16 \
	--out "$ROOT/drill.model" --json >/dev/null || fail "recommender train"
pub=$(./services/recommender/recommender publish "$ROOT/drill.model" --data "$set" \
	--redis "$paddr:$pport" --json) || fail "recommender publish: $pub"
ver=$(jq -r .version <<<"$pub")
[ "$(redis-cli -h "$paddr" -p "$pport" WAIT 1 5000)" -ge 1 ] || fail "the replica did not take the lists"
lists=$(redis-cli -h "$paddr" -p "$pport" --scan --pattern "pk:rec:$ver:user:*" | wc -l)
[ "$lists" -gt 0 ] || fail "publish wrote no list"
log "published $ver through the primary: $lists lists, on the replica too (WAIT 1)"
for a in $(jq -r '.[] | select(.service=="serving") | .addr' <<<"$ps"); do
	for i in $(seq 1 60); do
		curl -sf "http://$a:8080/readyz" | grep -q "$ver" && break
		sleep 0.5
	done
	curl -sf "http://$a:8080/recommendations/1" | grep -q '"source":"redis"' ||
		fail "serving on $a does not answer from Redis: $(curl -s "http://$a:8080/recommendations/1")"
done
log "both servings answer from the published lists"

# ---- 3. drain: serving moves, the other replica answers every request ------
x=$(jq -r --arg r "$rnode" --arg k "$knode" '[.[] | select(.service=="serving" and .node!=$r and .node!=$k) | .node][0] // empty' <<<"$ps")
[ -n "$x" ] || fail "no node runs serving without redis or kafka: the layout above"
other=$(jq -r --arg x "$x" '[.[] | select(.service=="serving" and .node!=$x) | .addr][0]' <<<"$ps")
n_ok=0 n_bad=0
( end=$((SECONDS + 25)); ok=0 bad=0
  while [ $SECONDS -lt $end ]; do
	if curl -sf -m 2 -o /dev/null "http://$other:8080/recommendations/1"; then ok=$((ok + 1)); else bad=$((bad + 1)); fi
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

# ---- 3b. serving scaled 2 -> 3 -> 1 -> 2 under a balanced load --------------
# no routing mesh here: balance.py is the balancer (it polls each node's
# /readyz); a task being stopped answers 3 s more while its /readyz says 503
/usr/bin/python3 tests/cluster/balance.py 50 8080 '/recommendations/{i}' \
	10.77.0.11 10.77.0.12 10.77.0.13 >"$ROOT/balance.json" &
bal=$!
sleep 4
for n in 3 1 2; do
	t0=$(date +%s%N)
	./pancake up --swarm --replicas $n serving >/dev/null || fail "up --swarm --replicas $n serving"
	for i in $(seq 1 60); do
		got=$(ps_json | jq '[.[] | select(.service=="serving" and .state=="running")] | length')
		[ "$got" = $n ] && break
		sleep 0.5
	done
	[ "$got" = $n ] || fail "serving has $got running tasks, want $n"
	log "serving scaled to $n: $got running after $(el "$t0")"
	sleep 6
done
wait $bal
bj=$(cat "$ROOT/balance.json")
log "balanced load through the scaling: $(jq -c '{ok, failed, per_node}' <<<"$bj")"
[ "$(jq .failed <<<"$bj")" = 0 ] && [ "$(jq .ok <<<"$bj")" -gt 0 ] ||
	fail "requests failed while serving scaled: $(jq -c . <<<"$bj")"
[ "$(jq '.per_node | map(select(. > 0)) | length' <<<"$bj")" = 3 ] ||
	fail "the load did not reach all three nodes: $(jq -c .per_node <<<"$bj")"

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

# ---- 5. the Redis primary's node lost under a serving load -------------------
ps=$(ps_json)
read -r paddr pport <<<"$(sentinel_primary 10.77.0.11)"
[ -n "$paddr" ] || fail "no Sentinel names the primary"
pnode=$(jq -r --arg a "$paddr" '[.[] | select(.addr==$a)][0].node' <<<"$ps")
pn=$(node_num "$pnode")
# the restarts above may have left the replica resyncing: wait until it acknowledges a write
for i in $(seq 1 60); do
	redis-cli -h "$paddr" -p "$pport" SET pc:drill:sync "$i" >/dev/null
	[ "$(redis-cli -h "$paddr" -p "$pport" WAIT 1 1000)" -ge 1 ] 2>/dev/null && break
done
read -r raddr rport <<<"$(redis-cli -h "$paddr" -p "$pport" ROLE | sed -n '3,4p' | tr '\n' ' ')"
[ -n "$raddr" ] || fail "the primary $paddr:$pport has no replica in step: $(redis-cli -h "$paddr" -p "$pport" ROLE | tr '\n' ' ')"
log "Sentinel: primary $paddr:$pport ($pnode), replica $raddr:$rport"
lists=$(redis-cli -h "$paddr" -p "$pport" --scan --pattern "pk:rec:$ver:user:*" | wc -l)
[ "$(redis-cli -h "$paddr" -p "$pport" WAIT 1 5000)" -ge 1 ] || fail "the replica is not in step"
# serving on a node the drill keeps, once it serves that version
saddr=$(jq -r --arg p "$pnode" '[.[] | select(.service=="serving" and .node!=$p and .state=="running")][0].addr // empty' <<<"$ps")
[ -n "$saddr" ] || fail "no serving task off the primary's node"
for i in $(seq 1 60); do
	curl -sf "http://$saddr:8080/readyz" | grep -q "$ver" && break
	sleep 0.5
done
curl -sf "http://$saddr:8080/recommendations/1" | grep -q '"source":"redis"' ||
	fail "serving on $saddr does not answer from Redis: $(curl -s "http://$saddr:8080/recommendations/1")"
# a bounded load (one request at a time) for 30 s; the node goes at 3 s
( end=$((SECONDS + 30)); ok=0 bad=0 u=1
  while [ $SECONDS -lt $end ]; do
	code=$(curl -s -m 2 -o /dev/null -w '%{http_code}' "http://$saddr:8080/recommendations/$u")
	if [ "$code" = 200 ]; then ok=$((ok + 1)); else bad=$((bad + 1)); echo "$code" >>"$ROOT/redis-bad"; fi
	u=$(( u % 900 + 1 ))
  done; echo "$ok $bad" >"$ROOT/redis-load" ) &
load=$!
sleep 3
t0=$(date +%s%N)
bash $H stop "$pn" || fail "stop $pnode"
survivor=$(jq -r --arg p "$pnode" '[.[] | select(.service=="redis-sentinel" and .node!=$p)][0].addr' <<<"$ps")
for i in $(seq 1 120); do
	now=$(sentinel_primary "$survivor")
	[ "$now" = "$raddr $rport" ] && break
	sleep 0.25
done
[ "$now" = "$raddr $rport" ] || fail "Sentinel did not promote the replica: it names '$now'"
log "$pnode stopped: Sentinel names $raddr:$rport the primary after $(el "$t0")"
wait $load
read -r n_ok n_bad <"$ROOT/redis-load"
[ "$n_bad" = 0 ] && [ "$n_ok" -gt 0 ] ||
	fail "serving on $saddr: $n_ok answered, $n_bad failed ($(sort "$ROOT/redis-bad" | uniq -c | tr '\n' ' '))"
log "serving on $saddr under load through the failover: $n_ok requests, $n_bad failed"
role=$(redis-cli -h "$raddr" -p "$rport" ROLE 2>&1 | head -1)
[ "$role" = master ] || fail "$raddr:$rport is not a primary: ROLE says '$role'"
after=$(redis-cli -h "$raddr" -p "$rport" --scan --pattern "pk:rec:$ver:user:*" | wc -l)
[ "$after" = "$lists" ] || fail "the new primary holds $after of $lists lists"
[ "$(redis-cli -h "$raddr" -p "$rport" GET pk:rec:current)" = "$ver" ] || fail "pk:rec:current moved"
log "the new primary holds all $after lists and pk:rec:current = $ver"
t0=$(date +%s%N)
bash $H start "$pn" || fail "start $pnode"
for i in $(seq 1 120); do ./pancake ps --swarm --json >/dev/null 2>&1 && break; sleep 1; done
./pancake up --swarm --replicas 2 --timeout 300 >/dev/null || fail "not ready after $pnode came back"
role=$(redis-cli -h "$paddr" -p "$pport" ROLE | head -1)
[ "$role" = slave ] || fail "the old primary $paddr:$pport came back as '$role', not a replica"
[ "$(redis-cli -h "$paddr" -p "$pport" GET pk:rec:current)" = "$ver" ] || fail "the old primary lacks pk:rec:current"
log "$pnode back after $(el "$t0"): the old primary is a replica of $raddr:$rport"

./pancake down --swarm >/dev/null || fail "down --swarm"
log "down --swarm"

# ---- 6. a class of two ------------------------------------------------------
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
passed=1
log "PASS"
