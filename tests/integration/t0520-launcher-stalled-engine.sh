#!/bin/bash
# t0520: the launcher with a stalled engine (a fixture that accepts the
# connection and never answers; then one that answers GET /_ping and stalls
# on everything else): it draws at once, says it is waiting for the engine,
# and 'q' quits (status 0) within 5 s whatever the engine does. Needs no
# engine and no containers.
set -eu
. "$(dirname "$0")/lib.sh"
. tests/integration/lib-tmux.sh
trap 'tui_cleanup; [ -z "${engine:-}" ] || kill "$engine" 2>/dev/null || true' EXIT

sockpath="$tui_tmp/engine.sock"

for mode in silent ping; do
	engine=""
	if [ $mode = ping ]; then
		$PY tests/integration/broken-engine.py "$sockpath" ping-stall &
	else
		$PY tests/integration/broken-engine.py "$sockpath" silent &
	fi
	engine=$!
	for i in $(seq 1 50); do [ -S "$sockpath" ] && break; sleep 0.1; done
	[ -S "$sockpath" ] || fail "the stalled engine fixture did not listen on $sockpath"

	tui_start 80 24 "DOCKER_HOST=unix://$sockpath PANCAKE_PROJECT=t0520 ./pancake launcher"
	# 1. the screen is drawn at once, in a waiting state (not blank until a timeout)
	tui_wait 3 "$mode engine: the launcher's screen with the services" "^kafka "
	grep -q "waiting for the engine" "$tui_tmp/screen" || fail "$mode engine: the screen does not say it is waiting for the engine"
	grep -q "q quit" "$tui_tmp/screen" || fail "$mode engine: no key bar"
	pass "$mode engine: drawn at once, 'waiting for the engine'"
	# 2. it says how long the engine has kept it waiting
	tui_wait 10 "$mode engine: how long the engine has not answered" "docker at .unix://$sockpath. has not answered for [0-9]+ s"
	pass "$mode engine: the screen says the engine does not answer"
	# 3. the help works meanwhile, and q quits promptly with status 0
	tui_keys '?'
	tui_wait 3 "$mode engine: '?' opens the help" "pancake launcher keys"
	tui_keys x
	sleep 0.3
	start=$SECONDS
	tui_keys q
	tui_ended 5 "$mode engine: 'q' did not end the launcher"
	[ "$(cat "$tui_tmp/rc")" = 0 ] || fail "$mode engine: exit status $(cat "$tui_tmp/rc") after q, not 0 (stderr: $(cat "$tui_tmp/err"))"
	pass "$mode engine: q quit within 5 s (took about $((SECONDS - start)) s), status 0"
	tmux -L "$tui_sock" kill-server 2>/dev/null || true
	kill "$engine" 2>/dev/null || true
	wait "$engine" 2>/dev/null || true
	rm -f "$sockpath"
done
echo "PASS t0520-launcher-stalled-engine"
