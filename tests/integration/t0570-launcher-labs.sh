#!/bin/bash
# t0570: the launcher's labs screen (L) in a real terminal (tmux, 80x24) on
# a tiny track made here (--labs) whose scripts only touch files in
# $LAB_SCRATCH, so no stack is needed: the home screen shows the track's
# progress; L lists the labs; Up/Down select one; Enter runs the step's
# command with its output live; c shows the failing check's line, then done;
# h reveals hint 1 then 2; s asks and y solves; r asks and y resets; x stops
# a running command's whole process group; ! opens a shell in the lab's
# environment and comes back; a malformed track shows FILE:LINE; --mono,
# a resize and the help fit 80x24.
set -eu
. "$(dirname "$0")/lib.sh"
. tests/integration/lib-tmux.sh
trap tui_cleanup EXIT

track=$tui_tmp/track
state=$tui_tmp/state
mkdir -p "$track/01-files/01-make" "$track/01-files/02-more" "$track/02-second/01-wait"
cat >"$track/01-files/lab.md" <<'EOF'
---
title: Files in the scratch
---
This lab makes **files** in `$LAB_SCRATCH`.

- first one file
- then another
EOF
cat >"$track/01-files/01-make/step.md" <<'EOF'
---
title: Make a file
command: n=3
command: for i in $(seq 1 $n); do echo "iteration $i of $n"; sleep 1; done; touch "$LAB_SCRATCH/made"
hint: touch a file named made in the scratch
hint: touch "$LAB_SCRATCH/made"
timeout: 60
---
Make a file called `made` in the lab's **scratch** folder.
EOF
cat >"$track/01-files/01-make/check" <<'EOF'
#!/bin/sh
[ -e "$LAB_SCRATCH/made" ] || { echo "no file made in the scratch yet"; exit 1; }
EOF
printf '#!/bin/sh\ntouch "$LAB_SCRATCH/made"\n' >"$track/01-files/01-make/solve"
printf '#!/bin/sh\nrm -f "$LAB_SCRATCH/made"\n' >"$track/01-files/01-make/cleanup"
cat >"$track/01-files/02-more/step.md" <<'EOF'
---
title: Another file
command: touch "$LAB_SCRATCH/more"
---
Now one named `more`.
EOF
printf '#!/bin/sh\n[ -e "$LAB_SCRATCH/more" ] || { echo "no file more yet"; exit 1; }\n' \
	>"$track/01-files/02-more/check"
printf '#!/bin/sh\necho solving more; touch "$LAB_SCRATCH/more"\n' >"$track/01-files/02-more/solve"
cat >"$track/02-second/lab.md" <<'EOF'
---
title: The long one
---
A command that runs until it is stopped.
EOF
cat >"$track/02-second/01-wait/step.md" <<'EOF'
---
title: Wait a long time
command: echo waiting started; exec sleep 123.45
---
Stop it with x.
EOF
printf '#!/bin/sh\necho never; exit 1\n' >"$track/02-second/01-wait/check"
chmod +x "$track"/*/*/check "$track"/*/*/solve "$track"/01-files/01-make/cleanup

export PANCAKE_PROJECT=t0570 PANCAKE_STATE=$state
unset PANCAKE_LABS
scratch=$state/labs/t0570/01-files/scratch
launcher="DOCKER_HOST=unix://$tui_tmp/no-engine.sock ./pancake launcher --labs $track"

# a bad --pane is a usage error, before any screen
rc=0
./pancake launcher --pane nosuch >"$tui_tmp/out" 2>&1 || rc=$?
[ $rc = 2 ] || fail "--pane nosuch exited $rc, not 2: $(cat "$tui_tmp/out")"
grep -q "unknown screen 'nosuch' for --pane: services, data, labs" "$tui_tmp/out" ||
	fail "--pane nosuch does not list the screens: $(cat "$tui_tmp/out")"
pass "--pane with an unknown screen: exit 2, the screens listed"

tui_start 80 24 "$launcher"
tui_wait 10 "the home screen does not show the track's progress" "labs: 0/2 done: L opens the workshop"
pass "the home screen shows the track's progress"
tui_keys L
tui_wait 5 "L did not open the labs screen" "labs: the workshop"
tui_wait 5 "the labs are not listed with their progress" "01 Files in the.* +0/2"
grep -Eq "02 The long one +0/1" "$tui_tmp/screen" || fail "the second lab is not listed"
grep -q "01-files step 1/2: Make a file" "$tui_tmp/screen" || fail "the first step is not selected"
grep -q "Make a file called made in the lab's scratch folder." "$tui_tmp/screen" ||
	fail "the step's Markdown text is not shown without its markup"
grep -q "Enter run  c check  h hint  s solve  r reset" "$tui_tmp/screen" ||
	fail "the key bar lacks the labs keys"
pass "L: the labs with their progress, the first step, its text rendered, the keys"

tui_keys Down
tui_wait 5 "Down did not select the second lab" "02-second step 1/1: Wait a long time"
tui_keys Up
tui_wait 5 "Up did not select the first lab again" "01-files step 1/2: Make a file"
pass "Up and Down select a lab"

tui_keys c
tui_wait 10 "c did not show the failing check's line" "not yet: no file made in the scratch yet"
pass "c: the failing check's line"

tui_keys h
tui_wait 5 "h did not reveal the first hint" "hint 1/2: touch a file named made in the scratch"
grep -q "hint 2/2" "$tui_tmp/screen" && fail "the second hint shows after one h"
tui_keys h
tui_wait 5 "a second h did not reveal the second hint" 'hint 2/2: touch "\$LAB_SCRATCH/made"'
pass "h reveals hint 1, then hint 2"

tui_keys Enter
tui_wait 10 "Enter did not show the command's first line" "iteration 1 of 3"
grep -q "running for" "$tui_tmp/screen" || fail "the first line did not show while the command ran"
grep -q "iteration 3 of 3" "$tui_tmp/screen" && fail "the output came all at once, not live"
tui_wait 10 "the commands did not finish" "ran 01-files/01-make's commands: c checks the step"
grep -q '\$ n=3' "$tui_tmp/screen" || fail "the commands were not shown as they ran"
grep -q "iteration 3 of 3" "$tui_tmp/screen" || fail "the command's last line is not shown"
[ -e "$scratch/made" ] || fail "the command did not run in the lab's scratch"
pass "Enter runs the step's commands in one shell (a variable carries over), in the lab's environment, output live"

tui_keys c
tui_wait 10 "c after the command did not say done" "done ✓ 01-files/01-make"
tui_wait 5 "the lab's progress did not move" "01 Files in the.* +1/2"
pass "c: done, and the step is marked done"

tui_keys n
tui_wait 5 "n did not go to the next step" "01-files step 2/2: Another file"
tui_keys s
tui_wait 5 "s did not ask first" "solve 01-files/02-more \(pancake does the step\)\? y goes on"
tui_keys n
tui_wait 5 "a key other than y did not cancel the solve" "^done ✓ 01-files/01-make"
[ -e "$scratch/more" ] && fail "the solve ran although it was cancelled"
tui_keys s
tui_wait 5 "s did not ask again" "y goes on"
tui_keys y
tui_wait 10 "s then y did not solve and check" "done ✓ 01-files/02-more"
grep -q "solving more" "$tui_tmp/screen" || fail "the solve's output is not shown"
tui_wait 5 "the lab is not shown done" "01 Files in the.* +2/2"
pass "s asks, another key cancels, y solves and the check shows done"

tui_keys Escape
tui_wait 5 "the home screen does not show the new progress" \
	"labs: 1/2 done, current 01-files/02-more: L opens them"
pass "the home screen shows the progress made"
tui_keys L
tui_wait 5 "L did not open the labs screen again" "labs: the workshop"

tui_keys r
tui_wait 5 "r did not ask first" "reset 01-files\? y: its cleanups run"
tui_keys y
tui_wait 10 "r then y did not reset the lab" "01-files is back at its start: 01-files/01-make"
tui_wait 5 "the reset lab still shows progress" "01 Files in the.* +0/2"
[ -e "$scratch/made" ] || [ -e "$scratch/more" ] && fail "the reset left the scratch as it was"
grep -q "01-files step 1/2: Make a file" "$tui_tmp/screen" || fail "the reset did not select the lab's first step"
pass "r asks, y resets: cleanups, the scratch emptied, the progress forgotten"

tui_keys '!'
tui_wait 5 "! did not open a shell" "exit goes back to the launcher"
tui_keys 'touch "$LAB_SCRATCH/from-shell"; exit' Enter
tui_wait 10 "the screen did not come back after the shell" "labs: the workshop"
[ -e "$scratch/from-shell" ] || fail "the shell did not have the lab's environment"
pass "! opens a shell in the lab's environment; exit comes back to the screen"

tui_keys Down Enter
tui_wait 10 "the long command did not start" "waiting started"
pgrep -f "sleep 123.45" >/dev/null || fail "the long command is not running"
tui_keys x
tui_wait 10 "x did not stop the command" "run of 02-second/01-wait stopped"
sleep 0.5
pgrep -f "sleep 123.45" >/dev/null && fail "x left the command's process running"
pass "x stops a running command and its process group"

tui_keys Enter
tui_wait 10 "the long command did not start again" "running for"
tui_keys q
tui_ended 20 "q did not end the launcher while a command ran"
[ "$(cat "$tui_tmp/rc")" = 0 ] || fail "the launcher exited $(cat "$tui_tmp/rc") after q"
grep -q "stopping the run of 02-second/01-wait" "$tui_tmp/err" || fail "quitting did not say what it stopped"
sleep 0.5
pgrep -f "sleep 123.45" >/dev/null && fail "quitting left the command's process running"
pass "q while a command runs stops it, says so, exit 0"

# monochrome at 80x24 on the labs screen: the help lists its keys, a resize redraws
tui_start 80 24 "NO_COLOR=1 $launcher --mono --pane labs"
tui_wait 10 "--pane labs did not open on the labs screen" "labs: the workshop"
tui_keys '?'
tui_wait 5 "? did not open the help" "pancake launcher keys: labs screen"
for t in "select the previous lab" "check the step: what is missing, or done (marked done)" \
	"show the step's next hint"; do
	grep -q "$t" "$tui_tmp/screen" || fail "the help at 80x24 lacks '$t'"
done
tui_keys Escape
tui_resize 100 30
tui_wait 5 "the screen did not follow a resize to 100x30" "labs: the workshop.* 0/2 labs done ─+$"
tui_resize 80 24
tui_wait 5 "the screen did not follow a resize back to 80x24" "labs: the workshop"
tui_keys q
tui_ended 10 "q did not end the monochrome launcher"
pass "--mono --pane labs at 80x24: the help, a resize to 100x30 and back"

# a malformed track: its place and reason instead of the screen
printf -- '---\ntitle: Broken\ncolour: red\n---\n' >"$track/02-second/lab.md"
tui_start 80 24 "$launcher --pane labs"
tui_wait 10 "a malformed track is not refused with its place" "02-second/lab.md:3: "
grep -q "labs: the track is refused" "$tui_tmp/screen" || fail "the refusal has no title"
tui_keys Escape
tui_wait 5 "the home screen does not say the track is refused" "labs: the track is refused: L says why"
tui_keys q
tui_ended 10 "q did not end the launcher on a refused track"
pass "a malformed track: FILE:LINE: reason on the labs screen, a note at home"
echo "PASS t0570-launcher-labs"
