#!/bin/bash
# t0500: the launcher in a real terminal (tmux, 80x24): it shows the four
# services ready, '?' opens the help, 'q' quits with status 0.
# Assumes the stack is up ('pancake up --wait') and ./pancake is built.
set -eu
cd "$(dirname "$0")/../.."

services="kafka cassandra redis elasticsearch serving"
sock="pancake-t0500-$$"          # a private tmux server: nothing else is touched
tmp=$(mktemp -d)

cleanup() {
	tmux -L "$sock" kill-server 2>/dev/null || true
	rm -rf "$tmp"
}
trap cleanup EXIT

fail() {
	echo "FAIL: $*"
	if [ -s "$tmp/screen" ]; then
		echo "--- last screen ---"
		cat "$tmp/screen"
	fi
	exit 1
}

capture() {
	tmux -L "$sock" capture-pane -p -t t0500 >"$tmp/screen" 2>/dev/null || : >"$tmp/screen"
}

command -v tmux >/dev/null || fail "tmux is not installed: apt-get install tmux"
[ -x ./pancake ] || fail "./pancake is not built: run 'make'"

tmux -L "$sock" new-session -d -s t0500 -x 80 -y 24 \
	"sh -c './pancake launcher; echo \$? >\"$tmp/rc\"'"

# 1. every service shows as running and ready
deadline=$((SECONDS + 60))
while :; do
	capture
	missing=""
	for s in $services; do
		grep -Eq "^$s +running +ready " "$tmp/screen" || missing="$missing $s"
	done
	[ -z "$missing" ] && break
	[ $SECONDS -ge $deadline ] && fail "not shown as running and ready within 60 s:$missing"
	sleep 1
done
echo "ok: the table shows$(for s in $services; do printf ' %s' "$s"; done) as running and ready (80x24)"

# 2. the key bar and '?' help overlay
grep -q "q quit" "$tmp/screen" || fail "the key bar does not show 'q quit'"
tmux -L "$sock" send-keys -t t0500 '?'
deadline=$((SECONDS + 5))
until capture; grep -q "pancake launcher keys" "$tmp/screen"; do
	[ $SECONDS -ge $deadline ] && fail "'?' did not open the help overlay"
	sleep 0.2
done
for k in "select the previous service" "stop the service" "restart the service" "quit"; do
	grep -q "$k" "$tmp/screen" || fail "the help does not list '$k'"
done
echo "ok: '?' opens the help listing the keys"
tmux -L "$sock" send-keys -t t0500 x
deadline=$((SECONDS + 5))
while capture; grep -q "pancake launcher keys" "$tmp/screen"; do
	[ $SECONDS -ge $deadline ] && fail "a key did not close the help overlay"
	sleep 0.2
done
echo "ok: any key closes the help"

# 3. 'q' quits: the program exits with 0 and the session ends
tmux -L "$sock" send-keys -t t0500 q
deadline=$((SECONDS + 20))
while tmux -L "$sock" has-session -t t0500 2>/dev/null; do
	[ $SECONDS -ge $deadline ] && { capture; fail "'q' did not end the launcher within 20 s"; }
	sleep 0.2
done
[ -s "$tmp/rc" ] || fail "the launcher's exit status was not recorded"
rc=$(cat "$tmp/rc")
[ "$rc" = 0 ] || fail "the launcher exited with $rc after 'q', not 0"
echo "ok: 'q' quits, exit status 0, session ended"
echo "PASS t0500-launcher-tmux"
