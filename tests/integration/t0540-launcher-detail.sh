#!/bin/bash
# t0540: the DETAIL column shows a service's probe answer whole, or cut with
# an ellipsis when the column is narrower (100 columns: 10 wide), never a
# bare cut; then with the redis log followed, 'q' quits (status 0). Brings
# up its own redis (project t0540, port 26540) and removes it.
set -eu
. "$(dirname "$0")/lib.sh"
. tests/integration/lib-tmux.sh
export PANCAKE_PROJECT=t0540 PANCAKE_REDIS_PORT_6379=26540
trap 'tui_cleanup; $PANCAKE down -v >/dev/null 2>&1 || true' EXIT

$PANCAKE up --wait redis >"$tui_tmp/up" 2>&1 || { cat "$tui_tmp/up"; fail "pancake up --wait redis (project t0540)"; }
detail=$(service_field redis detail)
[ -n "$detail" ] || fail "ps --json gives redis no detail"

for width in 100 140; do
	tui_start "$width" 30 "./pancake launcher"
	tui_wait 20 "${width} columns: redis running and ready" "^redis +running +ready "
	$PY tests/integration/screen-fit.py "$tui_tmp/screen" --column DETAIL "redis=$detail" ||
		fail "${width} columns: the DETAIL of redis is not '$detail' whole or cut with an ellipsis"
	pass "${width} columns: DETAIL of redis is its probe answer, whole or with an ellipsis"
	tui_keys q
	tui_ended 10 "${width} columns: q did not end the launcher"
done

# q while the log pane follows redis: the stream must not hold up the exit
tui_start 100 30 "./pancake launcher"
tui_wait 20 "redis running and ready" "^redis +running +ready "
for i in 1 2 3 4 5; do
	tui_capture
	grep -q "logs: redis" "$tui_tmp/screen" && break
	tui_keys Down
	sleep 0.3
done
tui_wait 5 "the log pane following redis" "logs: redis .*following"
start=$(date +%s%N)
tui_keys q
tui_ended 10 "q did not end the launcher while following redis's log"
[ "$(cat "$tui_tmp/rc")" = 0 ] || fail "exit status $(cat "$tui_tmp/rc") after q"
pass "q quits while following the log (took $(( ($(date +%s%N) - start) / 1000000 )) ms), status 0"
echo "PASS t0540-launcher-detail"
