#!/bin/bash
# bench-labs: the workshop track run headless (`pancake lab test`) with the
# stack already up: seconds per lab and in total, against the target of ten
# minutes on this 2-core machine. Prints figures, asserts nothing; a track
# that fails is reported with its failures and a non-zero exit.
#
#   bash tests/bench/bench-labs.sh [LAB...]     (default: the whole track)
#   PANCAKE_LABS   another track
set -euo pipefail
cd "$(dirname "$0")/../.."
P=./pancake
tmp=$(mktemp -d "${TMPDIR:-/tmp}/pancake-bench-labs-XXXXXX")
trap 'rm -rf "$tmp"' EXIT
die() { echo "bench-labs: $*" >&2; exit 1; }

make -s -j2 all > /dev/null || die "make failed"
$P up --wait > "$tmp/up.log" 2>&1 || die "pancake up failed: $(tail -3 "$tmp/up.log")"
echo "== pancake lab test ${*:-(the whole track)}, the stack up beforehand"
start=$(date +%s.%N)
rc=0
$P lab test "$@" --junit "$tmp/labs.xml" > "$tmp/test.log" 2>&1 || rc=$?
end=$(date +%s.%N)
[ -s "$tmp/labs.xml" ] || die "no JUnit report: $(tail -5 "$tmp/test.log")"
python3 - "$tmp/labs.xml" "$start" "$end" <<'EOF'
import sys, xml.etree.ElementTree as ET
root = ET.parse(sys.argv[1]).getroot()
wall = float(sys.argv[3]) - float(sys.argv[2])
for s in root.iter("testsuite"):
    print("  %-24s %6.1f s  %2s cases, %s failed" % (s.get("name"), float(s.get("time")),
          s.get("tests"), s.get("failures")))
print("  %-24s %6.1f s  (%s cases, %s failed; target 600 s: %.2fx of it)" % ("total, wall clock", wall,
      root.get("tests"), root.get("failures"), wall / 600))
EOF
if [ "$rc" != 0 ]; then
	grep -E "^not ok|FAIL|failed" "$tmp/test.log" | head -20
	die "the track failed (exit $rc)"
fi
