#!/bin/bash
# bench-swarm: pancake's swarm mode on the three-engine harness (issue 16),
# each figure beside its anchor from the same run.
#
#  1. startup: `pancake up --swarm` (the whole stack with its swarm-only
#     members, Redis's replica and three Sentinels: 7 services, 9 tasks; its
#     own probes) against `docker stack deploy` of the same definitions as a
#     compose v3.8 file (tests/bench/stack-from-definitions.py: same images,
#     env, swarm.command, swarm.replicas, ports, dnsrr, memory, volumes,
#     overlay aliases, stateful members pinned by hostname to the nodes
#     pancake chose with PANCAKE_EXTERNAL_HOST, compose healthchecks), runs
#     interleaved, fresh volumes each run. Both sides are timed by one
#     external poll: redis-cli PING (redis on 6379, its replica on 6380, each
#     Sentinel on 26379), kcat -L, curl _cluster/health, python3-cassandra
#     connecting, curl /readyz, each at the address of the node its task
#     runs on (Engine API /tasks and /nodes).
#  2. serving: /recommendations with a published model (wrk -t1 -c8 -d8s per
#     serving), one replica on this machine's engine against one and three
#     replicas on the swarm. The three nodes share this machine's cores: that
#     measures the cluster's overhead, not a speed-up.
#
# Not a test: it prints figures and asserts nothing about time; a step that
# fails stops it. Runs its own harness (PCLUSTER_NS=pb, 10.78.0.0/24,
# /tmp/pbench), its own projects and ports on the machine's engine, and
# removes all it made. The docker CLI is used for the anchor only. Needs
# root and what tests/cluster/cluster.sh needs, a built ./pancake, the pancake
# images on the machine's engine, docker, wrk, kcat, redis-cli, curl, jq,
# python3-cassandra. BENCH_SWARM_RUNS (default 3) startup runs per side.
set -euo pipefail
cd "$(dirname "$0")/../.."
export PCLUSTER_NS=pb PCLUSTER_NET=10.78.0 PCLUSTER_ROOT=/tmp/pbench
H=tests/cluster/cluster.sh
ROOT=$PCLUSTER_ROOT
MAIN=unix:///var/run/docker.sock
MGR=unix://$ROOT/node1/docker.sock
R=services/recommender/recommender
PY=/usr/bin/python3
runs=${BENCH_SWARM_RUNS:-3}
dur=${BENCH_SWARM_SECONDS:-8}
conns=${BENCH_SWARM_CONNS:-8}
IMAGES="redis kafka cassandra elasticsearch sandbox"
SERVICES="redis redis-replica redis-sentinel kafka cassandra elasticsearch serving"
STATEFUL="redis redis-replica kafka cassandra elasticsearch"
# the members the serving rows deploy: serving reads the nearest of the
# replica and the primary on a swarm (its swarm.command)
SERVING_STACK="redis redis-replica redis-sentinel kafka serving"
tmp=$(mktemp -d /tmp/pancake-bench-swarm-XXXXXX)
export PANCAKE_STATE=$tmp/state PANCAKE_MODELS=$tmp/models
# the one-machine serving: its own project and ports on the machine's engine
LOCAL=pbench1
LOCAL_PORTS="PANCAKE_REDIS_PORT_6379=16379 PANCAKE_KAFKA_PORT_9092=19092 PANCAKE_SERVING_PORT_8080=18080"
step="starting"
harness_up="" local_up=""

log() { printf '[bench-swarm %s] %s\n' "$(date +%T)" "$*" >&2; }
die() { log "FAILED while $step: $*"; exit 1; }
now() { date +%s.%N; }
since() { echo "$(now) - $1" | bc; }
load1() { cut -d' ' -f1 /proc/loadavg; }
# pancake against the swarm's manager, or against the machine's engine as $LOCAL
sw() { DOCKER_HOST=$MGR ./pancake "$@"; }
loc() { env DOCKER_HOST=$MAIN PANCAKE_PROJECT=$LOCAL $LOCAL_PORTS ./pancake "$@"; }
node_sock() { echo "$ROOT/node$1/docker.sock"; }
api() {	# N METHOD PATH [curl args]: node N's Engine API
	local n=$1 m=$2 p=$3; shift 3
	curl -sf --unix-socket "$(node_sock "$n")" -X "$m" "http://n/v1.41$p" "$@"
}

cleanup() {
	local rc=$?
	set +e
	trap - EXIT
	[ -z "$local_up" ] || loc down -v > /dev/null 2>&1
	[ -z "$harness_up" ] || bash $H down > /dev/null 2>&1
	rm -rf "$tmp"
	[ $rc -eq 0 ] || echo "bench-swarm: FAILED while $step (exit $rc); everything it started is removed" >&2
	exit $rc
}
trap cleanup EXIT
trap 'exit 130' INT TERM
[ "$(id -u)" = 0 ] || die "it must run as root (the harness makes namespaces and engines)"
[ -x ./pancake ] && [ -x $R ] || die "./pancake is not built: run make"
for c in docker wrk kcat redis-cli curl jq bc; do
	command -v $c > /dev/null || die "$c not found"
done
$PY -c 'import cassandra' 2> /dev/null || die "python3-cassandra not found (apt-get install python3-cassandra)"
ip netns list | grep -q '^pb-' && die "pb-* namespaces exist: a bench-swarm is running, or run PCLUSTER_NS=pb PCLUSTER_NET=10.78.0 PCLUSTER_ROOT=/tmp/pbench bash $H down"

# ---- the harness, swarmed, with the images on every node --------------------
step="bringing the harness up"
harness_up=1
bash $H up && bash $H swarm || die "harness up/swarm"
mkdir -p "$PANCAKE_STATE"
step="copying the images to the nodes"
t0=$(now)
DOCKER_HOST=$MAIN ./pancake images save "$ROOT/images.tar" $IMAGES > /dev/null ||
	die "pancake images save (build them: pancake images build)"
log "images saved: $(( $(stat -c %s "$ROOT/images.tar") / 1048576 )) MB in $(since "$t0") s"
t0=$(now)
for n in 1 2 3; do
	DOCKER_HOST=unix://$(node_sock $n) ./pancake images load "$ROOT/images.tar" > "$tmp/load$n.out" 2>&1 &
done
wait
for n in 1 2 3; do grep -q '^loaded' "$tmp/load$n.out" || die "load on node$n: $(tail -3 "$tmp/load$n.out")"; done
rm -f "$ROOT/images.tar"
log "images loaded into 3 nodes in $(since "$t0") s"

# node id -> address, and node hostname -> address
api 1 GET /nodes | jq -r '.[] | "\(.ID) \(.Status.Addr) \(.Description.Hostname)"' > "$tmp/nodes"
[ "$(wc -l < "$tmp/nodes")" = 3 ] || die "not 3 nodes: $(cat "$tmp/nodes")"

# ---- the external poll, the same for both sides -----------------------------
# addrs SERVICE: the node addresses of the tasks of the swarm service meant
# to run, one a line, in node order
addrs() {
	local ids id
	ids=$(api 1 GET /tasks -G --data-urlencode "filters={\"service\":[\"$1\"],\"desired-state\":[\"running\"]}" |
		jq -r '.[] | select(.NodeID != null and .NodeID != "") | .NodeID' | sort -u) || return 1
	for id in $ids; do awk -v id="$id" '$1 == id { print $2 }' "$tmp/nodes"; done
}
# the tasks a service has on both sides: its definition's swarm.replicas, else 1
tasks_of() {
	local n
	n=$(sed -n 's/^swarm\.replicas *= *\([0-9]*\).*/\1/p' "services/$1/service.conf")
	echo "${n:-1}"
}
ping_at() { [ "$(timeout 3 redis-cli -h "$1" -p "$2" PING 2> /dev/null)" = PONG ]; }
probe() {	# KIND ADDR: 0 when an independent client gets its answer
	case $1 in
	redis) ping_at "$2" 6379 ;;
	redis-replica) ping_at "$2" 6380 ;;
	redis-sentinel) ping_at "$2" 26379 ;;
	kafka) timeout 4 kcat -b "$2:9092" -L -m 2 2> /dev/null | grep -q ' 1 brokers' ;;
	elasticsearch) curl -sf -m 2 "http://$2:9200/_cluster/health" | grep -Eq '"status":"(yellow|green)"' ;;
	cassandra) timeout 8 $PY -c 'import sys
from cassandra.cluster import Cluster
c = Cluster([sys.argv[1]], port=9042, connect_timeout=2)
c.connect(); c.shutdown()' "$2" > /dev/null 2>&1 ;;
	serving) curl -sf -m 2 -o /dev/null "http://$2:8080/readyz" ;;
	esac
}
# poll KIND SWARMNAME T0 OUT: the seconds from T0 until every task of the
# service (tasks_of) answers on its node, into OUT with the nodes
poll() {
	local a x ok want end=$(( $(date +%s) + 400 ))
	want=$(tasks_of "$1")
	while [ "$(date +%s)" -lt "$end" ]; do
		a=$(addrs "$2" || true)
		if [ -n "$a" ] && [ "$(echo "$a" | wc -l)" -ge "$want" ]; then
			ok=1
			for x in $a; do probe "$1" "$x" || { ok=""; break; }; done
			if [ -n "$ok" ]; then
				echo "$(since "$3") $(echo $a | tr ' ' +)" > "$4"
				return 0
			fi
		fi
		sleep 0.25
	done
	echo "nan -" > "$4"
}
# poll_all PREFIX SEP T0: one poller per service; their figures in $tmp/poll.<service>
POLLERS=""
poll_all() {
	local s
	POLLERS=""
	for s in $SERVICES; do
		rm -f "$tmp/poll.$s"
		poll "$s" "$1$2$s" "$3" "$tmp/poll.$s" &
		POLLERS="$POLLERS $!"
	done
}
# polled TOOL RUN: prints the poll's figures, one line per service and the total
polled() {
	local s t a pid max=0
	for pid in $POLLERS; do wait "$pid"; done
	for s in $SERVICES; do
		read -r t a < "$tmp/poll.$s"
		[ "$t" != nan ] || die "$1 run $2: $s never answered its client within 400 s"
		echo "$1 $2 $s $t $a"
		max=$(echo "if ($t > $max) $t else $max" | bc)
	done
	echo "$1 $2 all $max -"
}
# gone PREFIX: wait until no node runs a container of that stack; then drop its volumes
gone() {
	local n i v left
	for i in $(seq 1 240); do
		left=0
		for n in 1 2 3; do
			left=$(( left + $(api $n GET '/containers/json?all=1' |
				jq --arg p "$1" '[.[] | select((.Labels["com.docker.swarm.service.name"] // "") | startswith($p))] | length') ))
		done
		[ $left = 0 ] && break
		sleep 0.5
	done
	[ $left = 0 ] || die "containers of $1 still on the nodes after 120 s"
	for n in 1 2 3; do
		for v in $(api $n GET /volumes | jq -r --arg p "$1" '.Volumes[]?.Name | select(startswith($p))'); do
			api $n DELETE "/volumes/$v" > /dev/null || die "cannot remove volume $v on node$n"
		done
	done
	# the overlay network goes with the stack (docker stack rm removes it as well)
	for i in $(seq 1 60); do
		[ "$(api 1 GET /networks | jq --arg p "$1" '[.[] | select(.Name | startswith($p))] | length')" = 0 ] && return 0
		sleep 0.5
	done
	die "the network of $1 is still there after 30 s"
}

# ---- 1. startup: pancake up --swarm against docker stack deploy -------------
pancake_run() {	# RUN
	local p=pbs$1 t0 t1
	step="timing pancake up --swarm (run $1)"
	log "run $1: pancake up --swarm, project $p (load $(load1))"
	t0=$(now)
	poll_all "$p" - "$t0"
	PANCAKE_PROJECT=$p sw up --swarm --timeout 400 > "$tmp/up.$1.log" 2>&1 ||
		die "pancake up --swarm: $(tail -5 "$tmp/up.$1.log")"
	t1=$(since "$t0")
	polled pancake "$1" >> "$tmp/startup"
	echo "pancake $1 own $t1 -" >> "$tmp/startup"
	PANCAKE_PROJECT=$p sw ps --swarm --json > "$tmp/ps.$1.json" || die "ps --swarm"
	step="removing pancake's run $1"
	PANCAKE_PROJECT=$p sw down --swarm > /dev/null || die "pancake down --swarm"
	gone "$p-"
}
anchor_run() {	# RUN
	local a=pba$1 t0 i st
	step="timing docker stack deploy (run $1)"
	log "run $1: docker stack deploy, stack $a (load $(load1))"
	t0=$(now)
	poll_all "$a" _ "$t0"
	DOCKER_HOST=$MGR docker stack deploy --detach=true --resolve-image never \
		-c "$tmp/stack.yml" "$a" > "$tmp/deploy.$1.log" 2>&1 ||
		die "docker stack deploy: $(tail -5 "$tmp/deploy.$1.log")"
	echo "anchor $1 deploy-returned $(since "$t0") -" >> "$tmp/startup"
	# swarm's own view: every task running (a task with a healthcheck is
	# "starting" until the check passes)
	for i in $(seq 1 1600); do
		st=$(api 1 GET /tasks -G --data-urlencode "filters={\"label\":[\"com.docker.stack.namespace=$a\"],\"desired-state\":[\"running\"]}" |
			jq '[.[] | select(.Status.State == "running")] | length')
		[ "$st" = "$ntasks" ] && break
		sleep 0.25
	done
	[ "$st" = "$ntasks" ] || die "stack $a: $st of $ntasks tasks running (healthy) after 400 s"
	echo "anchor $1 healthy $(since "$t0") -" >> "$tmp/startup"
	polled anchor "$1" >> "$tmp/startup"
	step="removing the anchor's run $1"
	DOCKER_HOST=$MGR docker stack rm "$a" > /dev/null 2>&1 || die "docker stack rm $a"
	gone "${a}_"
}

: > "$tmp/startup"
for i in $(seq 1 "$runs"); do
	if [ $((i % 2)) = 1 ]; then pancake_run "$i"; fi
	if [ "$i" = 1 ]; then
		# the anchor's members with volumes go where pancake put them
		places=""
		for s in $STATEFUL; do
			nd=$(jq -r --arg s "$s" '[.[] | select(.service == $s)][0].node' "$tmp/ps.1.json")
			ad=$(awk -v h="$nd" '$3 == h { print $2 }' "$tmp/nodes")
			[ -n "$ad" ] || die "no node for $s in pancake's run 1: $(jq -c . "$tmp/ps.1.json"); nodes: $(cat "$tmp/nodes")"
			places="$places $s=$nd,$ad"
		done
		$PY tests/bench/stack-from-definitions.py . "$tmp/stack.yml" $places ||
			die "writing the compose file"
		ntasks=$(jq '[.services[].deploy.replicas] | add' "$tmp/stack.yml")
		nsvcs=$(jq '.services | length' "$tmp/stack.yml")
		a=$(jq -r '.services | keys[]' "$tmp/stack.yml" | xargs)
		b=$(jq -r '.[].service' "$tmp/ps.1.json" | sort -u | xargs)
		[ "$a" = "$b" ] || die "the compose file has the services '$a', pancake deployed '$b'"
		log "placement of both sides:$places; $nsvcs services, $ntasks tasks"
	fi
	anchor_run "$i"
	if [ $((i % 2)) = 0 ]; then pancake_run "$i"; fi
done

$PY - "$tmp/startup" "$SERVICES" "$nsvcs" "$ntasks" <<'PY'
import statistics as st, sys
rows = [l.split() for l in open(sys.argv[1])]
svcs = sys.argv[2].split()
nsvcs, ntasks = sys.argv[3:5]
def get(tool, what):
    return [float(r[3]) for r in rows if r[0] == tool and r[2] == what]
def where(tool, what):
    return sorted(set(r[4] for r in rows if r[0] == tool and r[2] == what))
n = len(get("pancake", "all"))
print(f"\n== startup on 3 nodes, {nsvcs} services ({ntasks} tasks): from the command to every task")
print(f"   answering its own client (redis-cli PING: redis 6379, replica 6380, each of the 3 Sentinels")
print(f"   26379; kcat -L, curl _cluster/health, python3-cassandra, curl /readyz; each at its task's")
print(f"   node; {n} runs per side, interleaved; seconds)")
print("  %-8s %-14s %s   median" % ("side", "service", "  ".join("run%-4d" % (i + 1) for i in range(n))))
for tool in ("pancake", "anchor"):
    for s in svcs + ["all"]:
        v = get(tool, s)
        print("  %-8s %-14s %s   %6.1f  %s" % (tool, s, "  ".join("%7.1f" % x for x in v), st.median(v),
              "" if s == "all" else "at " + ",".join(where(tool, s))))
own = get("pancake", "own"); hl = get("anchor", "healthy"); dr = get("anchor", "deploy-returned")
print("  %-23s %s   %6.1f" % ("pancake up returned", "  ".join("%7.1f" % x for x in own), st.median(own)))
print("  %-23s %s   %6.1f" % ("stack deploy returned", "  ".join("%7.1f" % x for x in dr), st.median(dr)))
print("  %-23s %s   %6.1f" % (f"stack: {ntasks} tasks healthy", "  ".join("%7.1f" % x for x in hl), st.median(hl)))
p, a = st.median(get("pancake", "all")), st.median(get("anchor", "all"))
print(f"  all ready, median: pancake up --swarm {p:.1f} s, docker stack deploy {a:.1f} s;"
      f" ratio anchor/pancake {a / p:.2f}x")
PY

# ---- 2. serving: one machine, then 1 and 3 replicas on the swarm ------------
step="generating a dataset and training a model"
d=$tmp/ml-100k
./pancake data gen --shape ml-100k --seed 1 --out "$d" > /dev/null || die "data gen"
nusers=$(cut -d, -f1 "$d/ratings.csv" | tail -n +2 | sort -un | tail -1)
$R train "$d" --iters 5 --out "$tmp/model" > "$tmp/train.log" 2>&1 || die "train: $(tail -3 "$tmp/train.log")"
cat > "$tmp/users.lua" <<EOF
-- random users of the dataset (1..$nusers), 10 items each
math.randomseed(7)
request = function()
  return wrk.format("GET", "/recommendations/" .. math.random(1, $nusers) .. "?k=10")
end
EOF
publish() {	# REDIS-HOST:PORT
	$R publish "$tmp/model" --data "$d" --top 10 --similar 0 --redis "$1" > "$tmp/pub.log" 2>&1 ||
		die "publish to $1: $(tail -3 "$tmp/pub.log")"
}
modeled() {	# HOST:PORT: wait until serving there follows a published model
	local i
	for i in $(seq 1 120); do
		curl -sf -m 2 "http://$1/readyz" | grep -q '"version":"' && return 0
		sleep 0.5
	done
	die "serving at $1 did not load the published model in 60 s"
}
settle() { sleep "${BENCH_SWARM_SETTLE:-5}"; }	# the JVMs' start-up work done, the same for every row
wrk_at() {	# HOST:PORT OUT: wrk -t1 in the background
	wrk -t1 -c"$conns" -d"${dur}s" --latency -s "$tmp/users.lua" "http://$1/" > "$2" 2>&1 &
}
figures() {	# WRK-OUTPUT...: "rate p99_us errors" summed (rates, errors) and worst (p99)
	$PY - "$@" <<'PY'
import re, sys
rate = p99 = err = 0
for f in sys.argv[1:]:
    t = open(f).read()
    m = re.search(r"Requests/sec:\s+([\d.]+)", t)
    if not m:
        sys.exit("no figures in wrk's output: " + t[-300:])
    rate += float(m.group(1))
    v, u = re.search(r"\s99%\s+([\d.]+)(us|ms|s)", t).groups()
    p99 = max(p99, float(v) * {"us": 1, "ms": 1e3, "s": 1e6}[u])
    bad = re.search(r"Non-2xx or 3xx responses: (\d+)", t)
    e = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", t)
    err += (int(bad.group(1)) if bad else 0) + (sum(map(int, e.groups())) if e else 0)
print("%.0f %.0f %d" % (rate, p99, err))
PY
}
: > "$tmp/serving"
row() {	# LABEL LOAD-BEFORE WRK-OUTPUT...
	local label=$1 before=$2 r
	shift 2
	r=$(figures "$@") || die "wrk ($label): $r"
	echo "$label|$r|$before" >> "$tmp/serving"
	log "serving, $label: $r (req/s, p99 us, errors)"
}

step="one serving on this machine's engine (project $LOCAL)"
local_up=1
loc up --wait redis kafka serving > "$tmp/local-up.log" 2>&1 || die "$(tail -5 "$tmp/local-up.log")"
publish 127.0.0.1:16379
modeled 127.0.0.1:18080
curl -sf "http://127.0.0.1:18080/recommendations/1?k=10" | grep -q '"source":"redis"' ||
	die "serving does not answer from redis: $(curl -s "http://127.0.0.1:18080/recommendations/1?k=10")"
cip=$(loc exec serving hostname -i | awk '{ print $1 }')
[ -n "$cip" ] || die "no address for the serving container"
settle; lb=$(load1); wrk_at "$cip:8080" "$tmp/w.local"; wait
row "1 replica, one machine (container address)" "$lb" "$tmp/w.local"
lb=$(load1); wrk_at 127.0.0.1:18080 "$tmp/w.proxy"; wait
row "1 replica, one machine (127.0.0.1, docker-proxy)" "$lb" "$tmp/w.proxy"
loc down -v > /dev/null 2>&1 || die "down -v of $LOCAL"
local_up=""

step="serving on the swarm, 1 replica"
export PANCAKE_PROJECT=pbt
sw up --swarm --replicas 1 $SERVING_STACK > "$tmp/sw-up.log" 2>&1 || die "$(tail -5 "$tmp/sw-up.log")"
sw ps --swarm --json > "$tmp/ps.t.json"
raddr=$(jq -r '[.[] | select(.service == "redis")][0].addr' "$tmp/ps.t.json")
publish "$raddr:6379"
saddr=$(jq -r '[.[] | select(.service == "serving" and .state == "running")][0].addr' "$tmp/ps.t.json")
modeled "$saddr:8080"
layout1="redis at $raddr, its replica at $(jq -r '[.[] | select(.service == "redis-replica")][0].addr' "$tmp/ps.t.json"), kafka at $(jq -r '[.[] | select(.service == "kafka")][0].addr' "$tmp/ps.t.json"), serving at $saddr"
settle; lb=$(load1); wrk_at "$saddr:8080" "$tmp/w.sw1"; wait
row "1 replica on the swarm" "$lb" "$tmp/w.sw1"

step="serving on the swarm, 3 replicas"
sw up --swarm --replicas 3 $SERVING_STACK > "$tmp/sw-up3.log" 2>&1 || die "$(tail -5 "$tmp/sw-up3.log")"
saddrs=$(sw ps --swarm --json | jq -r '.[] | select(.service == "serving" and .state == "running") | .addr' | sort -u)
[ "$(echo "$saddrs" | wc -l)" = 3 ] || die "serving runs on $(echo "$saddrs" | wc -l) nodes, not 3: $saddrs"
outs=""
for a in $saddrs; do modeled "$a:8080"; done
settle; lb=$(load1)
for a in $saddrs; do wrk_at "$a:8080" "$tmp/w.sw3.$a"; outs="$outs $tmp/w.sw3.$a"; done
wait
row "3 replicas on the swarm (3 wrk at once, summed)" "$lb" $outs
sw down --swarm > /dev/null || die "down --swarm"

$PY - "$tmp/serving" "$conns" "$dur" "$nusers" "$layout1" <<'PY'
import sys
rows = [l.rstrip("\n").split("|") for l in open(sys.argv[1])]
conns, dur, nusers, layout = sys.argv[2:]
print(f"\n== serving GET /recommendations/USER?k=10, published model (ml-100k shape, random users of {nusers}),")
print(f"   wrk -t1 -c{conns} -d{dur}s per serving; ratios to one replica on one machine (container address)")
base = float(rows[0][1].split()[0])
for label, fig, load in rows:
    rate, p99, err = fig.split()
    print("  %-50s %8.0f req/s  %5.2fx  p99 %7.0f us  errors %s  load before %s" %
          (label, float(rate), float(rate) / base, float(p99), err, load))
print(f"  (swarm, 1 replica: {layout}; with 3 the p99 is the worst of the three wrk)")
print("  The three nodes are network namespaces on this one 2-core machine: more replicas")
print("  add no cores, so these figures measure the cluster's overhead (overlay, more")
print("  processes on the same cores), not a speed-up.")
PY
step="taking the harness down"
