#!/bin/bash
# t0990: the workshop track (labs/) headless on the real stack: 'pancake lab
# test' over every lab, each step's check proven to fail after its setup and
# to pass after its solve, cleanups at the end of each lab. The TAP must be
# what prove accepts and the JUnit report (kept in tests/out/labs.junit.xml)
# well-formed, with one testcase per step and phase and no failure.
. "$(dirname "$0")/lib.sh"
tmp=$(mktemp -d)
# the track's dataset stays loaded for an attendee; a test leaves the stack
# as it found it (a topic holds one dataset: the README's ml-1m load needs
# 'ratings' free)
trap '$PANCAKE data drop lab-100k > /dev/null 2>&1; rm -rf "$tmp"' EXIT
# the attendee's progress is not the test's: its own state folder
export PANCAKE_STATE="$tmp/state"
unset PANCAKE_LABS PANCAKE_MODELS PANCAKE_LAB_DATASET
junit=tests/out/labs.junit.xml
mkdir -p tests/out

nlabs=$($PANCAKE lab list --json | jq 'length')
nsteps=$($PANCAKE lab list --json | jq '[.[].steps] | add')
[ "${nlabs:-0}" -ge 11 ] || fail "the track has ${nlabs:-no} labs, want at least 11"
pass "the track: $nlabs labs, $nsteps steps"

set +e
$PANCAKE lab test --tap --junit "$junit" > "$tmp/tap" 2> "$tmp/err"
rc=$?
set -e
grep -E '^not ok' -A8 "$tmp/tap" | head -60
[ "$rc" = 0 ] || { tail -20 "$tmp/err"; fail "lab test exited $rc"; }
# four phases per step (setup, check before solve, solve, check) and its cleanup
want=$((nsteps * 5))
got=$(grep -c '^ok ' "$tmp/tap")
[ "$got" = "$want" ] || fail "$got cases passed, want $want (5 per step)"
if command -v prove > /dev/null; then
	prove -e cat "$tmp/tap" > "$tmp/prove" 2>&1 || { cat "$tmp/prove"; fail "prove refuses the TAP"; }
fi
pass "lab test: $got cases passed, every check failed before its solve and passed after"

$PY - "$junit" "$want" <<'EOF' || fail "the JUnit report"
import sys, xml.etree.ElementTree as ET
root = ET.parse(sys.argv[1]).getroot()
cases = list(root.iter("testcase"))
bad = [c.get("name") for c in cases if list(c)]
if len(cases) != int(sys.argv[2]) or bad or root.get("failures") != "0":
    sys.exit("%d testcases (want %s), failed or skipped: %s" % (len(cases), sys.argv[2], bad[:5]))
EOF
pass "JUnit report well-formed: $want testcases, none failed, kept in $junit"
