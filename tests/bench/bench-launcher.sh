#!/bin/bash
# bench-launcher: the launcher's idle cost with the stack up: CPU (% of one
# core over 30 s) and resident memory, against `top` (procps) showing the same
# host in the same tmux size as the anchor. Prints figures, asserts nothing.
set -eu
cd "$(dirname "$0")/../.."
secs=${BENCH_SECS:-30}
./pancake up --wait >/dev/null 2>&1
tmux kill-session -t pcbench-l 2>/dev/null || true
tmux kill-session -t pcbench-t 2>/dev/null || true
trap 'tmux kill-session -t pcbench-l 2>/dev/null; tmux kill-session -t pcbench-t 2>/dev/null; true' EXIT
tmux new-session -d -s pcbench-l -x 120 -y 40 ./pancake launcher
tmux new-session -d -s pcbench-t -x 120 -y 40 top -d 2
sleep 8  # let both reach their steady refresh
lp=$(pgrep -f '^./pancake launcher' | head -1)
tp=$(pgrep -x top | head -1)
hz=$(getconf CLK_TCK)
ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }
a0=$(ticks "$lp"); b0=$(ticks "$tp")
sleep "$secs"
a1=$(ticks "$lp"); b1=$(ticks "$tp")
rss() { awk '/^VmRSS/ {print $2}' "/proc/$1/status"; }
printf 'launcher idle over %ss: CPU %.2f%% of a core, RSS %d KiB (targets: < 1%%, < 20480 KiB)\n' \
	"$secs" "$(echo "($a1 - $a0) * 100 / $hz / $secs" | bc -l)" "$(rss "$lp")"
printf 'top -d 2 (anchor):      CPU %.2f%% of a core, RSS %d KiB\n' \
	"$(echo "($b1 - $b0) * 100 / $hz / $secs" | bc -l)" "$(rss "$tp")"
