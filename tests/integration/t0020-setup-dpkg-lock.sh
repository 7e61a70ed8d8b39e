#!/bin/bash
# t0020: the set-up script waits, with a message and a bound, for another
# package manager that holds the dpkg lock, instead of failing at once with
# apt's exit 100. A test-only package (bc) is removed, the lock is held the
# way apt holds it (a POSIX lock on /var/lib/dpkg/lock-frontend) for a few
# seconds, and setup must wait, then install it again. With a bound shorter
# than the hold it must give up with a clear message.
. "$(dirname "$0")/lib.sh"
tmp=$(mktemp -d)
HOLDER=""
cleanup() {
	[ -z "$HOLDER" ] || kill "$HOLDER" 2>/dev/null || true
	# leave the machine as found: bc installed
	dpkg-query -W -f='${Status}' bc 2>/dev/null | grep -q "ok installed" || \
		DEBIAN_FRONTEND=noninteractive apt-get install -y -q bc >/dev/null 2>&1 || true
	rm -rf "$tmp"
}
trap cleanup EXIT
[ "$(id -u)" = 0 ] || fail "this test changes packages: run it as root"

# hold_lock SECONDS: takes the frontend lock as apt does, in the background
hold_lock() {
	$PY - "$1" "$tmp/held" <<'PY' &
import fcntl, os, sys, time
fd = os.open("/var/lib/dpkg/lock-frontend", os.O_RDWR | os.O_CREAT, 0o640)
fcntl.lockf(fd, fcntl.LOCK_EX)
open(sys.argv[2], "w").close()
time.sleep(float(sys.argv[1]))
PY
	HOLDER=$!
	wait_for 10 "the dpkg lock is held" test -e "$tmp/held"
}

DEBIAN_FRONTEND=noninteractive dpkg -r bc > /dev/null || fail "removing bc"
# 1. a bound shorter than the hold: a clear refusal, not apt's exit 100
rm -f "$tmp/held"; hold_lock 30
set +e; out=$(PANCAKE_LOCK_WAIT=4 sh sandbox/setup.sh deps-test 2>&1); rc=$?; set -e
echo "$out" | tail -5
[ $rc -eq 1 ] || fail "setup exited $rc with the lock held past its bound, not 1"
echo "$out" | grep -q "another package manager .* is running: waiting for it to finish" || fail "no waiting message"
echo "$out" | grep -q "the package lock is still held after 4 s" || fail "no message at the bound"
kill "$HOLDER" 2>/dev/null; wait "$HOLDER" 2>/dev/null || true; HOLDER=""
pass "lock held past the bound: waited, then 'still held after 4 s' (exit 1)"

# 2. a lock released within the bound: setup waits, then installs
rm -f "$tmp/held"; hold_lock 8
set +e; out=$(sh sandbox/setup.sh deps-test 2>&1); rc=$?; set -e
echo "$out" | tail -5
[ $rc -eq 0 ] || fail "setup exited $rc after waiting for the lock"
echo "$out" | grep -q "waiting for it to finish" || fail "setup did not say it was waiting"
echo "$out" | grep -q "the package lock is free" || fail "setup did not say the lock came free"
dpkg-query -W -f='${Status}' bc | grep -q "ok installed" || fail "bc was not installed after the wait"
pass "lock released after 8 s: setup waited, said so, and installed bc"
