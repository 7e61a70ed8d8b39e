#!/bin/bash
# t0995: a newcomer goes through the whole workshop track in the launcher,
# on the real stack, with only the keys its help lists: on the labs screen
# (L), for every step Enter runs the step's commands as written, c checks
# it and must say done, n goes on to the next step (and the next lab). So
# each step's commands, run in one shell as an attendee types them, really
# do the step. Its own progress folder; the steps' cleanups run at the end.
. "$(dirname "$0")/lib.sh"
. tests/integration/lib-tmux.sh
state=$(mktemp -d)
export PANCAKE_STATE=$state
unset PANCAKE_LABS PANCAKE_MODELS PANCAKE_LAB_DATASET
# what the steps leave running (a supervisor, fold-in, a serving) goes with
# their cleanups, last lab first, as 'lab test' runs them
cleanup() {
	tui_cleanup
	for lab in $($PANCAKE lab list --json 2> /dev/null | jq -r '.[].lab' | sort -r); do
		for step in $(ls -d "labs/$lab"/[0-9][0-9]-*/ 2> /dev/null | sort -r); do
			step=$(basename "$step")
			[ -x "labs/$lab/$step/cleanup" ] || continue
			( eval "$($PANCAKE lab env "$lab/$step")" && "labs/$lab/$step/cleanup" ) > /dev/null 2>&1
		done
	done
	# the track's dataset stays loaded for an attendee, not after a test
	$PANCAKE data drop lab-100k > /dev/null 2>&1
	rm -rf "$state"
}
trap cleanup EXIT

nsteps=$($PANCAKE lab list --json | jq '[.[].steps] | add')
[ "${nsteps:-0}" -gt 0 ] || fail "no steps in the track"
tui_start 120 40 "./pancake launcher"
tui_wait 20 "the launcher did not start" "labs: 0/[0-9]+ done.*L opens"
tui_keys L
tui_wait 10 "L did not open the labs screen" "labs: the workshop"
# the line above the output rule says how the last action ended
status() { tui_capture; grep -B1 "── output" "$tui_tmp/screen" | head -1; }
# until_status SECONDS REGEX BEFORE: the status left BEFORE and matches REGEX
until_status() {
	local deadline=$((SECONDS + $1)) st
	while [ $SECONDS -lt $deadline ]; do
		st=$(status)
		[ "$st" != "$3" ] && echo "$st" | grep -qE "$2" && return 0
		sleep 0.5
	done
	return 1
}
for k in $(seq 1 "$nsteps"); do
	tui_capture
	where=$(grep -oE '[0-9]{2}-[a-z-]+ step [0-9]+/[0-9]+' "$tui_tmp/screen" | head -1)
	before=$(status)
	tui_keys Enter
	until_status 400 "ran [0-9a-z/-]+'s command|command failed|has no command" "$before" \
		|| fail "$where: Enter's run did not end"
	ran=$(status)
	tui_keys c
	until_status 120 "done ✓|not yet" "$ran" || fail "$where: c did not answer"
	st=$(status)
	echo "$st" | grep -q "done ✓" || fail "$where: after its commands ($ran) the check says: $st"
	echo "  $where: $st"
	tui_keys n
	sleep 1
done
tui_capture
done_labs=$($PANCAKE lab list --json | jq '[.[] | select(.done == .steps)] | length')
all=$($PANCAKE lab list --json | jq 'length')
[ "$done_labs" = "$all" ] || fail "$done_labs of $all labs done after the walk"
pass "every step of the $all labs done in the launcher with Enter, c and n alone"
tui_keys q
tui_ended 30 "q did not end the launcher"
