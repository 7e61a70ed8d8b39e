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
# what the track loads stays for an attendee, not after a benchmark
trap '$P data drop lab-100k > /dev/null 2>&1; rm -rf "$tmp"' EXIT
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

# the launcher while a long action's output streams into its labs pane: its
# own CPU (its threads, not the action's) against the same launcher idle
echo "== the launcher's labs pane while an action prints 200 lines a second for ${BENCH_STREAM_SECS:=20} s"
track=$tmp/track
mkdir -p "$track/01-stream/01-print"
printf -- '---\ntitle: Streaming\n---\nA lab that prints.\n' > "$track/01-stream/lab.md"
printf -- '---\ntitle: Print\ncommand: i=0; while [ $i -lt %d ]; do echo "line $i of a long action"; i=$((i + 1)); sleep 0.005; done\ntimeout: 600\n---\nPrints.\n' \
	$((BENCH_STREAM_SECS * 200 * 2)) > "$track/01-stream/01-print/step.md"
printf '#!/bin/sh\nexit 1\n' > "$track/01-stream/01-print/check"
chmod +x "$track/01-stream/01-print/check"
tmux kill-session -t pcbench-labs 2> /dev/null || true
trap 'tmux kill-session -t pcbench-labs 2> /dev/null; $P data drop lab-100k > /dev/null 2>&1; rm -rf "$tmp"' EXIT
PANCAKE_STATE=$tmp/state tmux new-session -d -s pcbench-labs -x 120 -y 40 \
	"$PWD/pancake launcher --pane labs --labs $track"
sleep 5
lp=$(pgrep -f "^$PWD/pancake launcher --pane labs" | head -1)
[ -n "$lp" ] || die "the launcher did not start"
hz=$(getconf CLK_TCK)
ticks() { awk '{ print $14 + $15 }' "/proc/$1/stat"; }	# its own threads, not its children
pct() { echo "($2 - $1) * 100 / $hz / $3" | bc -l; }
a=$(ticks "$lp"); sleep "$BENCH_STREAM_SECS"; b=$(ticks "$lp")
idle=$(pct "$a" "$b" "$BENCH_STREAM_SECS")
tmux send-keys -t pcbench-labs Enter
sleep 1
a=$(ticks "$lp"); sleep "$BENCH_STREAM_SECS"; b=$(ticks "$lp")
busy=$(pct "$a" "$b" "$BENCH_STREAM_SECS")
tmux capture-pane -p -t pcbench-labs | grep -q "line [0-9]* of a long action" \
	|| die "the action's output did not show in the pane"
printf '  launcher idle on the labs pane:       %.2f%% of a core\n' "$idle"
printf '  launcher while the output streams:    %.2f%% of a core, %.2f%% beyond idle (target: < 5%%)\n' \
	"$busy" "$(echo "$busy - $idle" | bc -l)"
