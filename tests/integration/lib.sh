# lib.sh: helpers shared by the integration tests (sourced, not run).
set -eu
cd "$(dirname "$0")/../.."
PANCAKE=./pancake
PY=/usr/bin/python3

fail() { echo "FAIL: $*"; exit 1; }
pass() { echo "ok: $*"; }
# expect_ok DESC CMD...: runs CMD, fails the test when it fails
expect_ok() { d=$1; shift; if "$@"; then pass "$d"; else fail "$d (command: $*)"; fi; }

# service_field SERVICE FIELD: a field of `pancake ps --json` for one service
service_field() {
	$PANCAKE ps --json | $PY -c 'import json,sys
for s in json.load(sys.stdin):
    if s["service"] == sys.argv[1]: print(s[sys.argv[2]])' "$1" "$2"
}

# labelled RESOURCE PROJECT: how many containers/networks/volumes carry the project label
labelled() {
	case "$1" in
	containers) docker ps -aq --filter "label=io.pancake.project=$2" | wc -l ;;
	networks) docker network ls -q --filter "label=io.pancake.project=$2" | wc -l ;;
	volumes) docker volume ls -q --filter "label=io.pancake.project=$2" | wc -l ;;
	esac
}

# wait_for SECONDS DESC CMD...: polls CMD until it succeeds (readiness of an
# outside effect, not a timing assertion)
wait_for() {
	t=$1; d=$2; shift 2
	end=$(( $(date +%s) + t ))
	while [ "$(date +%s)" -lt "$end" ]; do
		if "$@" >/dev/null 2>&1; then pass "$d"; return 0; fi
		sleep 1
	done
	fail "$d (not within ${t}s)"
}

# broken_engines DIR MODE...: a broken-engine.py fixture per mode, listening
# on DIR/MODE.sock; their pids are added to $PIDS (the test kills them)
broken_engines() {
	local dir=$1 m; shift
	for m in "$@"; do
		$PY tests/integration/broken-engine.py "$dir/$m.sock" "$m" &
		PIDS="${PIDS:-} $!"
	done
	for m in "$@"; do
		wait_for 10 "broken engine '$m' listens" test -S "$dir/$m.sock"
	done
}

# drop_rec_versions REDIS_PORT VERSION...: removes the published lists of
# the versions a test made (pk:rec:V:*), unless one has become current since
drop_rec_versions() {
	local port=$1 v; shift
	for v in "$@"; do
		[ "$(redis-cli -p "$port" get pk:rec:current)" = "$v" ] && continue
		redis-cli -p "$port" --scan --pattern "pk:rec:$v:*" | xargs -r -n 500 redis-cli -p "$port" del > /dev/null
		redis-cli -p "$port" zrem pk:rec:versions "$v" > /dev/null
	done
}

# tree_copy DIR: the tracked sources into DIR, to build there (a sanitizer
# build, say) without touching this tree's objects
tree_copy() {
	mkdir -p "$1"
	git ls-files -z | tar --null -cf - -T - | tar -xf - -C "$1"
}
