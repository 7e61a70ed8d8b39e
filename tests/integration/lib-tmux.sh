# lib-tmux.sh: the launcher in a real terminal for the integration tests
# (sourced after lib.sh, not run). Each test gets its own tmux server, so
# nothing else is touched; the launcher runs in UTF-8 so that the screen
# reads back as it shows (box lines, the ellipsis).
export LC_ALL=C.UTF-8
tui_sock="pancake-$(basename "$0" .sh)-$$"
tui_tmp=$(mktemp -d)

tui_cleanup() {
	tmux -L "$tui_sock" kill-server 2>/dev/null || true
	rm -rf "$tui_tmp"
}

fail() {
	echo "FAIL: $*"
	if [ -s "$tui_tmp/screen" ]; then
		echo "--- last screen ---"
		cat "$tui_tmp/screen"
	fi
	exit 1
}

command -v tmux >/dev/null || fail "tmux is not installed: apt-get install tmux"
[ -x ./pancake ] || fail "./pancake is not built: run 'make'"

# tui_start W H CMD: runs CMD (a shell command) in a W x H terminal; its exit
# status goes to $tui_tmp/rc, its stderr to $tui_tmp/err
tui_start() {
	rm -f "$tui_tmp/rc" "$tui_tmp/err"
	tmux -L "$tui_sock" new-session -d -s tui -x "$1" -y "$2" \
		"sh -c '$3 2>\"$tui_tmp/err\"; echo \$? >\"$tui_tmp/rc\"'"
}
tui_capture() {
	tmux -L "$tui_sock" capture-pane -p -t tui >"$tui_tmp/screen" 2>/dev/null || : >"$tui_tmp/screen"
}
tui_keys() { tmux -L "$tui_sock" send-keys -t tui "$@"; }
tui_resize() { tmux -L "$tui_sock" resize-window -t tui -x "$1" -y "$2"; }
# tui_wait SECONDS DESC REGEX: until the screen matches (fails the test if not)
tui_wait() {
	local deadline=$((SECONDS + $1))
	until tui_capture; grep -Eq "$3" "$tui_tmp/screen"; do
		[ $SECONDS -ge $deadline ] && fail "$2 (not within $1 s)"
		sleep 0.2
	done
}
# tui_ended SECONDS DESC: until the launcher has exited (fails the test if not)
tui_ended() {
	local deadline=$((SECONDS + $1))
	until [ -s "$tui_tmp/rc" ]; do
		[ $SECONDS -ge $deadline ] && { tui_capture; fail "$2 (not within $1 s)"; }
		sleep 0.1
	done
}
