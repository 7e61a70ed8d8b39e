# t0050: the program never runs the docker CLI: no exec of it in the sources, and
# none in a traced run of the commands that talk to the engine.
. "$(dirname "$0")/lib.sh"
if grep -rnE '"docker"|"/usr/(local/)?bin/docker"|popen\(|system\("docker' sandbox/ --include=*.c --include=*.h \
	| grep -v 'clients/docker' ; then
	fail "a source file seems to start the docker CLI"
fi
pass "no source file starts the docker CLI"
command -v strace >/dev/null || fail "strace is not installed (sandbox/setup.sh test installs it)"
for cmd in "doctor" "ps --json" "images list" "logs --tail 1 redis"; do
	# shellcheck disable=SC2086
	strace -f -qq -e trace=execve -o /tmp/t0050.trace $PANCAKE $cmd >/dev/null 2>&1 || true
	if grep -E 'execve\("[^"]*docker"' /tmp/t0050.trace; then
		fail "'pancake $cmd' executed the docker CLI"
	fi
	[ "$(grep -c execve /tmp/t0050.trace)" -ge 1 ] || fail "strace saw nothing for 'pancake $cmd'"
done
pass "traced doctor, ps, images list and logs: no docker CLI executed"
