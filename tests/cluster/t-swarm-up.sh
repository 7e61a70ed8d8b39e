#!/bin/bash
# tests/cluster/t-swarm-up.sh: `pancake up --swarm redis` on the three-engine
# harness (issue 16, first cut). Brings the harness up and swarmed, loads
# pancake/redis (exported read-only from the machine's engine) into each
# node, deploys redis through node1, checks `ps --swarm` and a PING on the
# task's node, then `down --swarm` and that nothing labelled is left.
# Needs what cluster.sh needs, a built ./pancake, redis-cli and the
# pancake/redis image on the machine's engine. Not in CI (`make test-cluster`).
set -u
cd "$(dirname "$0")/../.." || exit 1
H=tests/cluster/cluster.sh
ROOT=${PCLUSTER_ROOT:-/tmp/pcluster}
MAIN=${PCLUSTER_MAIN_SOCK:-/var/run/docker.sock}
export PANCAKE_PROJECT=pcswarm
export DOCKER_HOST=unix://$ROOT/node1/docker.sock
log() { printf '[t-swarm-up %s] %s\n' "$(date +%T)" "$*" >&2; }
fail() { log "FAIL: $*"; exit 1; }
el() { echo "$(( ($(date +%s%N) - $1) / 1000000 )) ms"; }
count() {	# KIND: how many objects of the project node1 still has
	curl -s --unix-socket "$ROOT/node1/docker.sock" \
		"http://n/v1.41/$1?filters=%7B%22label%22%3A%5B%22io.pancake.project%3Dpcswarm%22%5D%7D" | jq length
}

[ -x ./pancake ] || fail "./pancake is not built: run make"
command -v redis-cli >/dev/null || fail "redis-cli not found"
trap 'bash $H down' EXIT
bash $H up && bash $H swarm || fail "harness up/swarm"

t0=$(date +%s%N)
tar=$ROOT/pancake-redis.tar
curl -sf --unix-socket "$MAIN" -o "$tar" "http://x/images/pancake%2Fredis/get" ||
	fail "cannot export pancake/redis from $MAIN (build it: pancake images build)"
log "pancake/redis exported: $(( $(stat -c %s "$tar") / 1048576 )) MB in $(el "$t0")"
t0=$(date +%s%N)
for n in 1 2 3; do
	curl -sf --unix-socket "$ROOT/node$n/docker.sock" -X POST -H 'Content-Type: application/x-tar' \
		--data-binary "@$tar" "http://n/v1.41/images/load?quiet=1" >"$ROOT/load$n.out" &
done
wait
for n in 1 2 3; do grep -q 'Loaded image' "$ROOT/load$n.out" || fail "load into node$n: $(cat "$ROOT/load$n.out")"; done
rm -f "$tar"
log "pancake/redis loaded into 3 nodes in $(el "$t0")"

# a worker is not a manager: refused, with the words the brief promises
out=$(DOCKER_HOST=unix://$ROOT/node2/docker.sock ./pancake ps --swarm 2>&1) &&
	fail "ps --swarm on a worker succeeded: $out"
grep -q "this engine is not in swarm mode" <<<"$out" || fail "worker refusal says: $out"
log "a worker is refused: ${out:0:80}..."

t0=$(date +%s%N)
./pancake up --swarm redis || fail "pancake up --swarm redis"
log "up --swarm redis: ready in $(el "$t0")"

ps=$(./pancake ps --swarm --json) || fail "ps --swarm: $ps"
printf '%s\n' "$ps" | jq -c '.[]' >&2
state=$(jq -r '.[] | select(.service=="redis") | .state' <<<"$ps")
addr=$(jq -r '.[] | select(.service=="redis") | .addr' <<<"$ps")
node=$(jq -r '.[] | select(.service=="redis") | .node' <<<"$ps")
[ "$state" = running ] || fail "redis task state '$state', want running"
[[ $node == pcluster-node* ]] || fail "redis task on node '$node'"
pong=$(redis-cli -h "$addr" -p 6379 ping 2>&1)
[ "$pong" = PONG ] || fail "redis-cli -h $addr -p 6379 ping: $pong"
log "redis task running on $node ($addr); redis-cli ping: $pong"

# a second up with the same definition changes nothing
./pancake up --swarm redis 2>&1 | grep -q unchanged || fail "second up did not say unchanged"

t0=$(date +%s%N)
./pancake down --swarm || fail "pancake down --swarm"
for i in $(seq 1 30); do
	s=$(count services) nw=$(count networks)
	[ "$s" = 0 ] && [ "$nw" = 0 ] && break
	sleep 0.5
done
[ "$s" = 0 ] || fail "$s labelled services left"
[ "$nw" = 0 ] || fail "$nw labelled networks left"
log "down --swarm: no labelled service or network left after $(el "$t0")"
log "PASS"
