#!/bin/bash
# t0550: the launcher and the terminal it is given. TERM=dumb (no cursor
# addressing) is refused at once with a message on stderr naming 'pancake ps'
# and 'pancake logs', a non-zero status, and the terminal's settings as they
# were; an empty NO_COLOR keeps the colours (only a non-empty one turns them
# off). Needs the engine only (its own project, no containers).
set -eu
. "$(dirname "$0")/lib.sh"
. tests/integration/lib-tmux.sh
trap tui_cleanup EXIT

export PANCAKE_PROJECT=t0550

# 1. TERM=dumb: refused, the terminal left as it was
tui_start 80 24 "stty -g >$tui_tmp/stty-before; TERM=dumb ./pancake launcher"
tui_ended 10 "TERM=dumb: the launcher did not refuse the terminal"
tui_capture
rc=$(cat "$tui_tmp/rc")
[ "$rc" != 0 ] || fail "TERM=dumb: exit status 0, not a refusal"
grep -q "pancake ps" "$tui_tmp/err" && grep -q "pancake logs" "$tui_tmp/err" ||
	fail "TERM=dumb: the message does not point at 'pancake ps' and 'pancake logs': $(cat "$tui_tmp/err")"
grep -q "dumb" "$tui_tmp/err" || fail "TERM=dumb: the message does not name the terminal: $(cat "$tui_tmp/err")"
pass "TERM=dumb refused (status $rc): $(cat "$tui_tmp/err")"
tmux -L "$tui_sock" kill-server 2>/dev/null || true
tui_start 80 24 "stty -g >$tui_tmp/stty-before; TERM=dumb ./pancake launcher; stty -g >$tui_tmp/stty-after"
tui_ended 10 "TERM=dumb (second run): the launcher did not end"
sleep 0.3
cmp -s "$tui_tmp/stty-before" "$tui_tmp/stty-after" || fail "TERM=dumb: the terminal settings changed"
tui_capture
if grep -q "q quit" "$tui_tmp/screen"; then fail "TERM=dumb: the launcher drew its screen"; fi
pass "TERM=dumb: terminal settings unchanged, nothing drawn"
tmux -L "$tui_sock" kill-server 2>/dev/null || true

# 2. NO_COLOR: empty keeps the colours, non-empty turns them off
# colours_in: whether the title bar is drawn with colour escapes (SGR 30-47)
colours_in() {
	tmux -L "$tui_sock" capture-pane -e -p -t tui | head -2 | grep -Eq $'\e\\[([0-9;]*;)?(3[0-7]|4[0-7])[;m]'
}
for nc in empty set; do
	if [ $nc = empty ]; then
		tui_start 80 24 "NO_COLOR= ./pancake launcher"
	else
		tui_start 80 24 "NO_COLOR=1 ./pancake launcher"
	fi
	tui_wait 10 "NO_COLOR $nc: the services table" "^kafka "
	if [ $nc = empty ]; then
		colours_in || fail "an empty NO_COLOR turned the colours off"
		pass "NO_COLOR='' keeps the colours"
	else
		if colours_in; then fail "NO_COLOR=1 left colours on"; fi
		pass "NO_COLOR=1 turns them off"
	fi
	tui_keys q
	tui_ended 10 "NO_COLOR $nc: q did not end the launcher"
	tmux -L "$tui_sock" kill-server 2>/dev/null || true
done
echo "PASS t0550-launcher-terminal"
