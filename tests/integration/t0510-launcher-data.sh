#!/bin/bash
# t0510: the launcher's data screen in a real terminal (tmux, 100x30): 'D'
# opens it and lists a generated dataset; Enter loads it with a bar per
# store, each ending "done"; the CLI's verify then agrees; 'v' shows every
# store "equal"; a bad file is refused with its file:line and 'S' loads the
# good lines; 'X' twice drops the dataset; 'q' quits with status 0. Then
# the same at 80x24 without colors.
set -eu
cd "$(dirname "$0")/../.."
. tests/integration/lib.sh

sock="pancake-t0510-$$"
tmp=$(mktemp -d)
gen=datasets/generated
ds=t0510-set
bad=t0510-bad
export PANCAKE_KAFKA_TOPIC=ratings-t0510
cleanup() {
	tmux -L "$sock" kill-server 2>/dev/null || true
	$PANCAKE data drop "$ds" >/dev/null 2>&1 || true
	$PANCAKE data drop "$bad" --from cassandra,elasticsearch,redis >/dev/null 2>&1 || true
	rm -rf "$tmp" "$gen/$ds" "$gen/$bad"
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
	tmux -L "$sock" capture-pane -p -t t0510 >"$tmp/screen" 2>/dev/null || : >"$tmp/screen"
}
# wait_screen SECONDS DESC REGEX: until the screen matches
wait_screen() {
	local deadline=$((SECONDS + $1))
	until capture; grep -Eq "$3" "$tmp/screen"; do
		[ $SECONDS -ge $deadline ] && fail "$2 (not within $1 s)"
		sleep 0.3
	done
}
keys() { tmux -L "$sock" send-keys -t t0510 "$@"; }
# ended DESC: until the launcher's session is gone (20 s at most)
ended() {
	local deadline=$((SECONDS + 20))
	while tmux -L "$sock" has-session -t t0510 2>/dev/null; do
		[ $SECONDS -ge $deadline ] && { capture; fail "$1"; }
		sleep 0.2
	done
}
# select NAME: Up to the top of the list, then Down until NAME is selected
select_set() {
	local i
	for i in $(seq 1 20); do keys Up; done
	for i in $(seq 1 20); do
		sleep 0.3
		capture
		grep -Eq "^> $1 " "$tmp/screen" && return 0
		keys Down
	done
	fail "could not select $1"
}

command -v tmux >/dev/null || fail "tmux is not installed: apt-get install tmux"
cleanup
mkdir -p "$tmp" "$gen"
$PANCAKE data gen --users 1500 --items 800 --ratings 120000 --seed 51 --out "$gen/$ds" >/dev/null || fail "data gen"
# a copy with one bad line: line 91 (after the header and 89 ratings)
mkdir -p "$gen/$bad"
cp "$gen/$ds/movies.csv" "$gen/$bad/"
{ head -90 "$gen/$ds/ratings.csv"; echo "5,not-a-number,4.0,1000000000"; sed -n '91,300p' "$gen/$ds/ratings.csv"; } > "$gen/$bad/ratings.csv"

tmux -L "$sock" new-session -d -s t0510 -x 100 -y 30 \
	"sh -c './pancake launcher; echo \$? >\"$tmp/rc\"'"
wait_screen 60 "the services table" "^kafka +running +ready "
grep -q "D data" "$tmp/screen" || fail "the key bar does not offer 'D data'"

# 1. D: the data screen lists the dataset; select it
keys D
wait_screen 10 "the data screen" "data: datasets and loads"
grep -q "$ds .*generated" "$tmp/screen" || fail "the data screen does not list $ds"
select_set "$ds"
pass "D opens the data screen; $ds is listed and selected"

# 2. Enter: a bar per store, each done
keys Enter
wait_screen 30 "the load under way" "load $ds: (reading|running)"
wait_screen 240 "the load finishing" "load $ds: done in"
for t in kafka cassandra elasticsearch redis; do
	grep -Eq "^$t +\[#+\] done in [0-9.]+ s: 120000 written" "$tmp/screen" || fail "$t does not show a full bar, done, 120000 written"
done
grep -q "load of $ds done in" "$tmp/screen" || fail "the event line does not report the load"
pass "Enter loaded $ds: four full bars, 'done in', 120000 written each; event line says so"
$PANCAKE data verify "$ds" >"$tmp/verify" || { cat "$tmp/verify"; fail "the CLI's verify after the screen's load"; }
pass "pancake data verify $ds (the CLI twin): equal"

# 3. v: every store equal
keys v
wait_screen 60 "verify finishing" "verify $ds: (done|FAILED)"
for t in kafka cassandra elasticsearch redis; do
	grep -Eq "^$t +equal +ratings 120000/120000" "$tmp/screen" || fail "verify does not show $t equal with 120000/120000"
done
pass "v: all four stores 'equal', ratings 120000/120000"

# 4. a bad file: refused with file:line, then S loads the good lines
select_set "$bad"
keys Enter
wait_screen 30 "the refusal" "load $bad: FAILED"
grep -q "ratings.csv:91: " "$tmp/screen" || fail "the refusal does not give ratings.csv:91"
grep -q "nothing was written to any store" "$tmp/screen" || fail "the refusal does not say nothing was written"
grep -q "S loads the good lines" "$tmp/screen" || fail "no hint about S"
[ "$(redis-cli exists "pk:$bad:popular")" -eq 0 ] || fail "redis was written despite the refusal"
pass "a bad line is refused on screen with ratings.csv:91, nothing written"
keys S
wait_screen 120 "the skip load finishing" "load $bad: (done|FAILED) (in|after)"
grep -q "skipped 1 bad line" "$tmp/screen" || fail "the skip load does not report 1 skipped line"
grep -Eq "^redis +\[#+\] done in .*: 299 written" "$tmp/screen" || fail "redis did not get the 299 good lines"
grep -Eq "^cassandra +\[#+\] done in .*: 299 written" "$tmp/screen" || fail "cassandra did not get the 299 good lines"
grep -Eq "^kafka +FAILED" "$tmp/screen" || fail "kafka should refuse: its topic holds $ds"
grep -q "pancake data drop $ds --from kafka" "$tmp/screen" || fail "the kafka refusal does not name the way out"
pass "S: 1 bad line skipped and reported, 299 loaded; kafka's refusal names 'pancake data drop $ds --from kafka'"

# 5. X twice drops the selected dataset
select_set "$ds"
keys X
wait_screen 5 "the drop question" "X again within 5 s drops '$ds'"
keys X
wait_screen 60 "the drop finishing" "drop $ds: done in"
grep -Eq "^kafka +topic ratings-t0510: deleted with its 120000 records" "$tmp/screen" || fail "kafka's topic not dropped"
[ "$(redis-cli --scan --pattern "pk:$ds:*" | wc -l)" -eq 0 ] || fail "redis keys left after the drop"
pass "X, X: $ds dropped (kafka topic deleted, no redis keys left)"

# 6. q quits with 0
keys q
ended "'q' did not end the launcher"
[ "$(cat "$tmp/rc")" = 0 ] || fail "the launcher exited with $(cat "$tmp/rc")"
pass "q: exit status 0"

# 7. 80x24, monochrome, straight onto the data screen: the help lists its keys
tmux -L "$sock" new-session -d -s t0510 -x 80 -y 24 \
	"sh -c 'NO_COLOR=1 ./pancake launcher --data; echo \$? >\"$tmp/rc\"'"
wait_screen 30 "the data screen at 80x24" "data: datasets and loads"
keys '?'
wait_screen 5 "the data screen's help" "pancake launcher keys: data screen"
for k in "load the dataset into kafka" "count what each store holds" "drop the dataset" "back to the services"; do
	grep -q "$k" "$tmp/screen" || fail "the data help does not list '$k'"
done
keys x q
ended "'q' did not end the 80x24 launcher"
pass "--data at 80x24 without colors: the help lists the data keys; q quits"
