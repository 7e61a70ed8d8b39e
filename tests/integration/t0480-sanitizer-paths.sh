#!/bin/bash
# t0480: the error paths under AddressSanitizer and LeakSanitizer. A copy of
# the tree is built with SANITIZE=address,undefined and run where commands
# fail (no engine, a broken engine, bad arguments, a load refused) and
# where they work; not one leak report or runtime error is allowed.
. "$(dirname "$0")/lib.sh"
tmp=$(mktemp -d)
PIDS=""
# a home of the test's own whose one service has `command =`, in its own project
idle() { PANCAKE_HOME=$tmp/home PANCAKE_PROJECT=t0480-idle PANCAKE_IDLE_PORT_8080=24480 "$@"; }
cleanup() {
	for p in $PIDS; do kill "$p" 2>/dev/null || true; done
	[ -x "$tmp/src/pancake" ] && idle "$tmp/src/pancake" down > /dev/null 2>&1
	rm -rf "$tmp"
}
trap cleanup EXIT
tree_copy "$tmp/src" || fail "copy the tree"
( cd "$tmp/src" && make -j2 -s SANITIZE=address,undefined pancake ) \
	> "$tmp/build.log" 2>&1 || { tail -20 "$tmp/build.log"; fail "the sanitizer build"; }
( cd "$tmp/src" && make -j2 -s SANITIZE=address,undefined services/recommender/recommender ) \
	>> "$tmp/build.log" 2>&1 || { tail -20 "$tmp/build.log"; fail "the recommender's sanitizer build"; }
pass "pancake and the recommender built with address and undefined-behaviour sanitizers"
A=$tmp/src/pancake
RA=$tmp/src/services/recommender/recommender
export ASAN_OPTIONS=detect_leaks=1:abort_on_error=0 UBSAN_OPTIONS=print_stacktrace=1
broken_engines "$tmp" http500 malformed hangup
$PANCAKE data gen --users 40 --items 30 --ratings 400 --seed 2 --out "$tmp/ds" > /dev/null

n=0
# clean DESC CMD...: runs CMD; its output must hold no sanitizer report
clean() {
	d=$1; shift
	set +e; "$@" > "$tmp/out" 2>&1; set -e
	if grep -qE "LeakSanitizer|AddressSanitizer|runtime error:" "$tmp/out"; then
		grep -A12 -E "LeakSanitizer|AddressSanitizer|runtime error:" "$tmp/out" | head -40
		fail "$d: a sanitizer report"
	fi
	n=$((n + 1))
}
for eng in "unix://$tmp/none.sock" "unix://$tmp/http500.sock" "unix://$tmp/malformed.sock" "unix://$tmp/hangup.sock"; do
	for args in "ps" "ps --json" "logs" "logs redis" "logs --tail 3 kafka" "exec redis ls" "down" \
		"images list" "images list --json" "doctor" "doctor --json" "up --frob" \
		"data load $tmp/ds --into redis" "data verify $tmp/ds --json" "data drop t0480 --from redis"; do
		# shellcheck disable=SC2086
		clean "DOCKER_HOST=$eng pancake $args" env DOCKER_HOST="$eng" "$A" $args
	done
done
pass "$n failing commands (no engine, HTTP 500, malformed JSON, hang-ups): no leak, no runtime error"
n=0
for args in "ps" "ps --json" "logs --tail 5" "doctor" "images list" "data list --json" \
	"data info $tmp/ds" "data info $tmp/nowhere --json" "help nosuch" "exec" "logs --tail x"; do
	# shellcheck disable=SC2086
	clean "pancake $args" "$A" $args
done
PANCAKE_PROJECT=t0480-stranger clean "a refused load" "$A" data load "$tmp/ds" --into redis
pass "$((n + 1)) commands against the real engine: no leak, no runtime error"

# creating a container whose definition has `command =` frees the command
# (its strings once leaked); the image is the sandbox's, which only sleeps here
mkdir -p "$tmp/home/services/idle"
cat > "$tmp/home/services/idle/service.conf" <<'EOF'
# idle: a container that sleeps, created with a command of its own
description = sleeps
image = pancake/sandbox
command = sleep 600
port = 8080
probe = http
memory = 64m
stop_timeout = 1
EOF
n=0
clean "pancake up --detach (a service with a command)" idle "$A" up --detach idle
[ "$(docker inspect -f '{{json .Config.Cmd}}' t0480-idle-idle 2>/dev/null)" = '["sleep","600"]' ] \
	|| fail "up --detach idle: no container t0480-idle-idle running 'sleep 600'"
clean "pancake down (the command's project)" idle "$A" down
[ "$(labelled containers t0480-idle)" = 0 ] || fail "down left t0480-idle's container"
pass "$n commands creating and removing a container with a command: no leak, no runtime error"

# the model registry as pancake and the recommender see it, and the
# recommender's refusals (a bad option once leaked train's iteration list)
n=0
reg=$tmp/registry
for args in "train --frob" "train $tmp/nowhere" "train $tmp/ds --rank 0" "models list --registry $reg" \
	"models show nosuch --registry $reg" "publish" "publish $tmp/nowhere.model --data $tmp/ds" \
	"train $tmp/ds --iters 2 --register --registry $reg --json" "models list --registry $reg --json" \
	"models promote --registry $reg" "models diff --registry $reg production candidate --json"; do
	# shellcheck disable=SC2086
	clean "recommender $args" "$RA" $args
done
for args in "models list --registry $reg" "models list --registry $reg --json" \
	"models list --registry $tmp/nowhere --json" "models frob"; do
	# shellcheck disable=SC2086
	clean "pancake $args" "$A" $args
done
"$A" models list --registry "$reg" --json | jq -e 'length == 1' > /dev/null \
	|| fail "pancake models list: the model the sanitized recommender registered is not there"
pass "$n recommender and models commands, failing and working: no leak, no runtime error"
