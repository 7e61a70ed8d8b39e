#!/bin/bash
# t0460: the command line's conventions, engine or not: arguments and
# definitions are checked before connecting (usage errors exit 2 whatever
# the engine does, no engine exits 3), 'help nosuch' is refused, --json
# failures are JSON on stdout, colour is decided per stream, echoed input is
# escaped, definitions are checked together (repeated fields, one port
# published twice, no services), doctor gives up on a stalled engine and
# counts what it could not check as failed, and engine errors are in words.
. "$(dirname "$0")/lib.sh"
tmp=$(mktemp -d)
PIDS=""
cleanup() {
	for p in $PIDS; do kill "$p" 2>/dev/null || true; done
	rm -rf "$tmp"
}
trap cleanup EXIT
NOENG="unix://$tmp/no-such.sock"
# broken engines (tests/integration/broken-engine.py): one per mode
broken_engines "$tmp" ping-stall garbage malformed http500

# run DESC WANT_RC CMD...: runs CMD, output in $out, fails unless it exits WANT_RC
run() {
	d=$1 want=$2; shift 2
	set +e; out=$("$@" 2>&1); rc=$?; set -e
	[ "$rc" = "$want" ] || { echo "$out"; fail "$d: exit $rc, want $want"; }
}

# 1. usage errors are usage errors, engine or not; no engine is its own code
for eng in "$NOENG" "unix:///var/run/docker.sock"; do
	for args in "up --frob" "exec" "logs --tail abc" "down --frob" "ps --frob" \
		"images list --frob" "doctor --frob" "logs nosuch" "exec nosuch ls" "up nosuch" \
		"data load" "data list --frob" "help nosuch"; do
		# shellcheck disable=SC2086
		run "'pancake $args' with DOCKER_HOST=$eng" 2 env DOCKER_HOST="$eng" $PANCAKE $args
		echo "$out" | grep -q "cannot reach docker" && fail "'$args' asked the engine before checking its arguments"
	done
done
pass "13 kinds of bad arguments exit 2 with and without an engine, before connecting"
run "ps with no engine" 3 env DOCKER_HOST="$NOENG" $PANCAKE ps
echo "$out" | grep -q "there is no socket at '$tmp/no-such.sock'" || fail "no-engine message does not say the socket is missing: $out"
echo "$out" | grep -q "docker port 80" && fail "no-engine message quotes curl's placeholder host: $out"
run "garbage engine" 3 env DOCKER_HOST="unix://$tmp/garbage.sock" $PANCAKE ps
echo "$out" | grep -q "is not a Docker engine" || fail "a non-HTTP answer is not said in words: $out"
echo "$out" | grep -qi "HTTP/0.9" && fail "curl's words leak: $out"
run "engine answering 500" 1 env DOCKER_HOST="unix://$tmp/http500.sock" $PANCAKE ps
echo "$out" | grep -qF "(HTTP 500 from GET /containers/json); the engine itself failed" \
	|| fail "an HTTP 500 names no way out: $out"
echo "$out" | grep -q "%7B\|%22\|filters=" && fail "the request's encoded filters leak into the message: $out"
pass "no engine exits 3 naming the missing socket; a non-engine and an HTTP 500 are said in words"

# 2. the exit-code table, in --help
$PANCAKE --help 2>&1 | grep -q "3    no docker engine" || fail "'pancake --help' has no exit-code table"
$PANCAKE ps --help | grep -q "exit codes: 0 ok, 1 failed, 2 usage" || fail "'ps --help' has no exit codes"
pass "the exit codes are in --help"

# 3. definitions are checked before connecting, and together
home="$tmp/home"
mkdir -p "$home"
cp -r services "$home/services"
printf 'heap = 1g\nheap = 2g\n' >> "$home/services/kafka/service.conf"
run "repeated field, no engine" 2 env PANCAKE_HOME="$home" DOCKER_HOST="$NOENG" $PANCAKE ps
echo "$out" | grep -Eq "services/kafka/service.conf:[0-9]+: field 'heap': given again \(first on line [0-9]+\)" \
	|| fail "a repeated field is not refused with both lines: $out"
cp services/kafka/service.conf "$home/services/kafka/service.conf"
# a value holding ESC [2J and a title sequence is echoed escaped
printf 'probe.path = \033[2J\033]0;owned\007\n' >> "$home/services/redis/service.conf"
run "escape sequence in a definition" 2 env PANCAKE_HOME="$home" $PANCAKE up
printf '%s' "$out" | grep -q "$(printf '\033')" && fail "the definition's ESC reached the terminal"
printf '%s' "$out" | grep -q "$(printf '\007')" && fail "the definition's BEL reached the terminal"
echo "$out" | grep -qF '\x1b[2J\x1b]0;owned\x07' || fail "the echoed value is not shown escaped: $out"
cp services/redis/service.conf "$home/services/redis/service.conf"
# the recommender and serving echo what they were given through the same sink
for prog in "services/recommender/recommender train" "services/serving/serving --variant a="; do
	set +e; out=$(${prog}"$(printf 'x\033[2J\033]0;owned\007')" 2>&1); set -e
	printf '%s' "$out" | grep -q "$(printf '\033')" && fail "$prog echoed a raw ESC: $out"
	echo "$out" | grep -qF '\x1b[2J\x1b]0;owned\x07' || fail "$prog did not show its argument escaped: $out"
done
# two services publishing one host port
echo "port = 127.0.0.1:6379:7000" >> "$home/services/kafka/service.conf"
run "one host port published twice" 2 env PANCAKE_HOME="$home" $PANCAKE up --wait
echo "$out" | grep -q "host port 127.0.0.1:6379 is published by" || fail "a port clash is not named: $out"
run "doctor with a port clash" 1 env PANCAKE_HOME="$home" $PANCAKE doctor
echo "$out" | grep -Eq "^FAIL definitions .*published by" || fail "doctor passes two services on one port: $out"
cp services/kafka/service.conf "$home/services/kafka/service.conf"
# no services at all
mkdir -p "$tmp/empty/services"
run "no services" 2 env PANCAKE_HOME="$tmp/empty" $PANCAKE ps
run "doctor with no services" 1 env PANCAKE_HOME="$tmp/empty" $PANCAKE doctor
echo "$out" | grep -Eq "^FAIL definitions .*no service definitions" || fail "doctor passes a stack of no services: $out"
pass "a repeated field, an escape sequence, a port clash and no services are refused before connecting"

# 4. --json failures are JSON on stdout, with the same exit code
json_error() {	# CMD... : stdout must be {"error", "hint", "exit_code"} matching the exit code
	set +e; "$@" > "$tmp/json" 2> "$tmp/stderr"; rc=$?; set -e
	$PY - "$tmp/json" "$rc" <<'PY' || { cat "$tmp/json" "$tmp/stderr"; fail "'$*' did not print its failure as JSON"; }
import json, sys
d = json.load(open(sys.argv[1]))
assert d["error"] and "hint" in d and d["exit_code"] == int(sys.argv[2]) != 0, d
PY
}
json_error env DOCKER_HOST="$NOENG" $PANCAKE ps --json
json_error env DOCKER_HOST="$NOENG" $PANCAKE images list --json
json_error env DOCKER_HOST="$NOENG" $PANCAKE data load "$tmp" --json
mkdir -p "$tmp/bad-ds"
printf 'userId,movieId,rating,timestamp\n1,2,oops,3\n' > "$tmp/bad-ds/ratings.csv"
printf 'movieId,title,genres\n2,Two (1999),Drama\n' > "$tmp/bad-ds/movies.csv"
json_error $PANCAKE data info "$tmp/bad-ds" --json
grep -q "ratings.csv:2" "$tmp/json" || fail "data info's JSON error does not name FILE:LINE"
json_error $PANCAKE data info "$tmp/nowhere" --json
$PANCAKE data list --json | $PY -c 'import json,sys; d=json.load(sys.stdin); assert d["catalog"] and "generated" in d' \
	|| fail "data list --json"
pass "ps, images list, data load and data info fail as JSON with their exit code; data list --json"

# 5. colour per stream: a terminal on stdout does not colour a redirected stderr
command -v script >/dev/null || fail "script (bsdutils) is needed for a terminal"
script -qec "DOCKER_HOST='$NOENG' $PANCAKE ps 2>'$tmp/err.log'" /dev/null > /dev/null || true
grep -q "error:" "$tmp/err.log" || fail "ps wrote no error to the log"
grep -q "$(printf '\033')" "$tmp/err.log" && fail "escape codes in a redirected stderr"
coloured() {	# ENV...: does doctor's stdout on a terminal carry colour?
	env "$@" script -qec "DOCKER_HOST='unix://$tmp/garbage.sock' $PANCAKE doctor" /dev/null > "$tmp/tty" || true
	grep -q "$(printf '\033')\[3" "$tmp/tty"
}
coloured TERM=xterm || fail "no colour on a terminal"
coloured TERM=xterm NO_COLOR= || fail "an empty NO_COLOR turned colour off"
coloured TERM=xterm NO_COLOR=1 && fail "NO_COLOR=1 left colour on"
coloured TERM=dumb && fail "TERM=dumb left colour on"
pass "colour: per stream, an empty NO_COLOR keeps it, NO_COLOR=1 and TERM=dumb drop it"

# 6. doctor: a stalled engine is asked once; what could not run fails
start=$(date +%s)
run "doctor on a stalled engine" 1 env DOCKER_HOST="unix://$tmp/ping-stall.sock" timeout 120 $PANCAKE doctor
secs=$(( $(date +%s) - start ))
echo "$out"
echo "$out" | grep -q "^FAIL api .*did not answer GET /version within 30 s: the engine is stalled" \
	|| fail "doctor does not say the engine stalled"
for c in engine-info swarm memory ports disk images; do
	echo "$out" | grep -Eq "^FAIL $c +could not run: the engine is stalled" || fail "$c is not a failure that could not run"
done
# six calls of 30 s each took 180 s before: one is enough
[ "$secs" -lt 100 ] || fail "doctor took $secs s on a stalled engine"
run "doctor on a malformed engine" 1 env DOCKER_HOST="unix://$tmp/malformed.sock" $PANCAKE doctor --json
$PY - <<PY || fail "doctor --json passes checks it could not run: $out"
import json
d = json.loads('''$out''')
names = [c["check"] for c in d["checks"]]
assert not d["ok"], d
assert "api" in names and "disk" in names, names
assert all(not c["ok"] for c in d["checks"] if c["check"] in ("api", "disk", "images")), d
PY
pass "doctor: a stalled engine ends in ${secs}s with one stall and six checks that could not run; malformed /version fails api and disk"
