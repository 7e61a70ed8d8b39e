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
