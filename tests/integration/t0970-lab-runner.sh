#!/bin/bash
# t0970: the lab runner on a track made here (--labs, PANCAKE_LABS), no stack
# needed: a good lab passes 'lab test' in TAP and JUnit, a check that passes
# before its solve is reported broken, malformed tracks are refused with
# FILE:LINE before anything runs, a timeout and Ctrl-C kill the action's whole
# process group, progress across start/check/hint/next/reset and its --json,
# and PANCAKE_PROJECT keeps stacks apart.
. "$(dirname "$0")/lib.sh"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
export PANCAKE_STATE="$tmp/state" PANCAKE_PROJECT=t0970 PANCAKE_REDIS_PORT_6379=16379
unset PANCAKE_LABS PANCAKE_MODELS PANCAKE_LAB_DATASET

# run DESC WANT_RC CMD...: output in $out
run() {
	d=$1 want=$2; shift 2
	set +e; out=$("$@" 2>&1); rc=$?; set -e
	[ "$rc" = "$want" ] || { echo "$out"; fail "$d: exit $rc, want $want"; }
}
# step DIR TITLE CHECK SOLVE [EXTRA FRONT MATTER]: a step whose scripts touch only LAB_SCRATCH
step() {
	mkdir -p "$1"
	printf -- '---\ntitle: %s\ncommand: touch "$LAB_SCRATCH/%s"\nhint: look in LAB_SCRATCH\nhint: touch it\n%b---\nDo it.\n' \
		"$2" "$3" "${5:-}" > "$1/step.md"
	printf '#!/bin/sh\n[ -f "$LAB_SCRATCH/%s" ] || { echo "no %s in the scratch folder"; exit 1; }\n' "$3" "$3" > "$1/check"
	printf '#!/bin/sh\necho "solving %s"\ntouch "$LAB_SCRATCH/%s"\n' "$4" "$4" > "$1/solve"
	chmod +x "$1/check" "$1/solve"
}
lab() { mkdir -p "$1"; printf -- '---\ntitle: %s\n---\nA lab.\n' "$2" > "$1/lab.md"; }

# a good track: 01-good (2 steps, setup and cleanup too), 02-broken (check always passes)
T="$tmp/track"
lab "$T/01-good" "Good"
step "$T/01-good/01-one" "One" a a
step "$T/01-good/02-two" "Two" b b
cat > "$T/01-good/01-one/setup" <<'EOF'
#!/bin/sh
env | grep -E '^(PANCAKE|RECOMMENDER|SERVING|PANCAKE_PROJECT|REDIS_PORT|KAFKA_PORT|CASSANDRA_PORT|ES_PORT|SERVING_PORT|LAB_DATASET|LAB_TRACK|LAB_DIR|LAB_STEP_DIR|LAB_SCRATCH|PANCAKE_MODELS)=' > "$LAB_SCRATCH/env"
pwd > "$LAB_SCRATCH/cwd"
echo "setup ran" >> "$LAB_SCRATCH/setups"
EOF
printf '#!/bin/sh\nrm -f "$LAB_SCRATCH/a" "$LAB_SCRATCH/b"\necho cleaned >> "$LAB_SCRATCH/cleanups"\n' > "$T/01-good/01-one/cleanup"
chmod +x "$T/01-good/01-one/setup" "$T/01-good/01-one/cleanup"
mkdir -p "$T/lib"; echo "# shared helpers" > "$T/lib/lab.sh"; echo "the track" > "$T/README.md"

# (a) lab test: TAP that prove accepts, JUnit that parses, the closing line
run "lab test --tap of a good lab" 0 $PANCAKE lab test 01-good --tap --labs "$T"
echo "$out" | head -2 | tr '\n' ' ' | grep -q "^TAP version 13 1..10 $" || fail "no TAP header and plan: $out"
echo "$out" | grep -q "^ok 1 - 01-good/01-one setup$" || fail "no setup case: $out"
echo "$out" | grep -q "^ok 2 - 01-good/01-one check before solve$" || fail "no check-before case: $out"
echo "$out" | grep -q "^ok 10 - 01-good/01-one cleanup$" || fail "cleanups are not last, in reverse: $out"
echo "$out" | grep -q "10 passed, 0 failed" || fail "no closing line: $out"
if command -v prove > /dev/null; then
	echo "$out" > "$tmp/good.tap"
	prove -e cat "$tmp/good.tap" > "$tmp/prove.out" 2>&1 || { cat "$tmp/prove.out"; fail "prove refuses the TAP"; }
	pass "prove accepts the TAP"
fi
run "lab test --junit" 0 $PANCAKE lab test --junit "$tmp/good.xml" --labs "$T" 01-good
$PY - "$tmp/good.xml" <<'EOF' || fail "the JUnit report does not parse or has the wrong shape"
import sys, xml.etree.ElementTree as E
r = E.parse(sys.argv[1]).getroot()
s = r.find("testsuite")
assert r.tag == "testsuites" and s.get("name") == "01-good", r
assert s.get("tests") == "10" and s.get("failures") == "0", s.attrib
names = [c.get("name") for c in s.findall("testcase")]
assert names[0] == "01-one setup" and names[1] == "01-one check before solve", names
EOF
pass "a good lab passes 'lab test' in TAP and JUnit"

# the environment of lab-format.md
env_of() { grep "^$1=" "$PANCAKE_STATE/labs/t0970/01-good/scratch/env" | cut -d= -f2-; }
# (lab test empties the scratch first, then runs the setup: the env file is this run's)
[ "$(env_of PANCAKE)" = "$(pwd)/pancake" ] || fail "PANCAKE is $(env_of PANCAKE)"
[ "$(env_of RECOMMENDER)" = "$(pwd)/services/recommender/recommender" ] || fail "RECOMMENDER is $(env_of RECOMMENDER)"
[ "$(env_of SERVING)" = "$(pwd)/services/serving/serving" ] || fail "SERVING is $(env_of SERVING)"
[ "$(env_of REDIS_PORT)" = 16379 ] || fail "REDIS_PORT ignores PANCAKE_REDIS_PORT_6379: $(env_of REDIS_PORT)"
[ "$(env_of KAFKA_PORT)" = 9092 ] && [ "$(env_of ES_PORT)" = 9200 ] && [ "$(env_of SERVING_PORT)" = 8080 ] \
	&& [ "$(env_of CASSANDRA_PORT)" = 9042 ] || fail "the default ports are wrong"
[ "$(env_of PANCAKE_PROJECT)" = t0970 ] || fail "PANCAKE_PROJECT is $(env_of PANCAKE_PROJECT)"
[ "$(env_of LAB_TRACK)" = "$(cd "$T" && pwd -P)" ] || fail "LAB_TRACK is $(env_of LAB_TRACK)"
[ "$(env_of LAB_STEP_DIR)" = "$(cd "$T" && pwd -P)/01-good/01-one" ] || fail "LAB_STEP_DIR is $(env_of LAB_STEP_DIR)"
[ "$(env_of LAB_SCRATCH)" = "$PANCAKE_STATE/labs/t0970/01-good/scratch" ] || fail "LAB_SCRATCH is $(env_of LAB_SCRATCH)"
[ "$(env_of PANCAKE_MODELS)" = "$PANCAKE_STATE/labs/t0970/models" ] || fail "PANCAKE_MODELS is $(env_of PANCAKE_MODELS)"
[ "$(env_of LAB_DATASET)" = "$(pwd)/datasets/generated/lab-100k" ] || fail "LAB_DATASET is $(env_of LAB_DATASET)"
[ "$(cat "$PANCAKE_STATE/labs/t0970/01-good/scratch/cwd")" = "$(pwd -P)" ] || fail "actions do not run in the project's top folder"
[ -s "$PANCAKE_STATE/labs/t0970/01-good/01-one/solve.log" ] || fail "the solve's output is not kept"
pass "actions get the lab environment, run in the top folder, their output kept"

# (b) a check that passes before its solve is a broken check: exit 1
lab "$T/02-broken" "Broken"
step "$T/02-broken/01-pre" "Pre" c c
printf '#!/bin/sh\necho "all good <already>"\nexit 0\n' > "$T/02-broken/01-pre/check"
run "lab test of a broken check" 1 $PANCAKE lab test 02-broken --tap --labs "$T"
echo "$out" | grep -q "^not ok 2 - 02-broken/01-pre check before solve passed: the check is broken$" \
	|| fail "the broken check is not named: $out"
echo "$out" | grep -q "^ok 3 - 02-broken/01-pre solve # SKIP" || fail "the rest of the step is not skipped: $out"
echo "$out" | grep -q "1 failed" || fail "no failure counted: $out"
run "lab test --junit of a broken check" 1 $PANCAKE lab test 02-broken --junit "$tmp/broken.xml" --labs "$T"
$PY - "$tmp/broken.xml" <<'EOF' || fail "the broken check's JUnit failure is wrong"
import sys, xml.etree.ElementTree as E
f = E.parse(sys.argv[1]).getroot().find("testsuite/testcase/failure")
assert f.get("message") == "passed: the check is broken", f.attrib
assert "all good <already>" in f.text, f.text
EOF
pass "a check passing before its solve is reported broken, exit 1, in TAP and JUnit"
rm -rf "$T/02-broken"

# (c) malformed tracks are refused, FILE:LINE or the file named, before anything runs
bad() {	# bad DESC WANT: a copy of the good track with one change made by the caller in $B
	run "$1" 2 $PANCAKE lab test --labs "$B"
	echo "$out" | grep -qF -- "$2" || fail "$1: no '$2' in: $out"
	[ ! -e "$PANCAKE_STATE/labs/t0970/01-good/scratch/setups" ] || fail "$1: a setup ran before the refusal"
}
B="$tmp/bad"
rm -rf "$PANCAKE_STATE"
cp -r "$T" "$B"; lab "$B/02-later" "Later"; step "$B/02-later/01-x" "X" x x
printf -- '---\ntitle: X\nhint: h\ncolour: red\n---\n' > "$B/02-later/01-x/step.md"
bad "an unknown key" "$B/02-later/01-x/step.md:4: unknown key 'colour'"
printf -- '---\ntitle: X\ntimeout: soon\n---\n' > "$B/02-later/01-x/step.md"
bad "a bad timeout" "$B/02-later/01-x/step.md:3: timeout 'soon' is not a whole number"
printf -- 'title: X\n' > "$B/02-later/01-x/step.md"
bad "no front matter" "$B/02-later/01-x/step.md:1: no front matter"
printf -- '---\ntitle: X\n---\n' > "$B/02-later/01-x/step.md"; chmod -x "$B/02-later/01-x/check"
bad "a check that is not executable" "'$B/02-later/01-x/check' is not executable"
rm "$B/02-later/01-x/check"
bad "no check" "'$B/02-later/01-x/check' is missing"
rm "$B/02-later/01-x/step.md"
bad "no step.md" "'$B/02-later/01-x/step.md' is missing"
run "start on a malformed track" 2 $PANCAKE lab start 01-good --labs "$B"
[ ! -e "$PANCAKE_STATE/labs/t0970/01-good/scratch/setups" ] || fail "lab start ran a setup on a malformed track"
run "an unknown lab" 2 $PANCAKE lab test 07-nope --labs "$T"
echo "$out" | grep -q "no lab '07-nope'" || fail "an unknown lab is not named: $out"
run "an unknown step" 2 $PANCAKE lab show 01-good/09-nope --labs "$T"
echo "$out" | grep -q "no step '09-nope' in lab '01-good'" || fail "an unknown step is not named: $out"
pass "malformed tracks, unknown labs and steps are refused before anything runs"

# (d) a timeout kills the action's whole process group; so does Ctrl-C
S="$tmp/slow"
lab "$S/01-slow" "Slow"
step "$S/01-slow/01-wait" "Wait" w w "timeout: 1\n"
printf '#!/bin/bash\nsleep 100 &\necho $! > "$LAB_SCRATCH/child"\nwait\n' > "$S/01-slow/01-wait/setup"
chmod +x "$S/01-slow/01-wait/setup"
run "a setup past its timeout" 1 $PANCAKE lab start 01-slow --labs "$S"
echo "$out" | grep -q "timed out after 1 s (its process group was killed)" || fail "the timeout is not reported: $out"
child=$(cat "$PANCAKE_STATE/labs/t0970/01-slow/scratch/child")
sleep 0.2
kill -0 "$child" 2> /dev/null && fail "the setup's child $child survived its timeout"
run "progress after a timed-out start" 0 $PANCAKE lab list --json --labs "$S"
echo "$out" | $PY -c 'import json,sys; l=json.load(sys.stdin); assert l[0]["current_step"] is None, l' \
	|| fail "a failed setup changed the progress: $out"
sed -i 's/timeout: 1/timeout: 60/' "$S/01-slow/01-wait/step.md"
rm -f "$PANCAKE_STATE/labs/t0970/01-slow/scratch/child"
$PANCAKE lab start 01-slow --labs "$S" > "$tmp/int.out" 2>&1 &
pid=$!
for _ in $(seq 100); do [ -s "$PANCAKE_STATE/labs/t0970/01-slow/scratch/child" ] && break; sleep 0.1; done
[ -s "$PANCAKE_STATE/labs/t0970/01-slow/scratch/child" ] || { cat "$tmp/int.out"; fail "the slow setup did not start"; }
child=$(cat "$PANCAKE_STATE/labs/t0970/01-slow/scratch/child")
kill -INT "$pid"
set +e; wait "$pid"; rc=$?; set -e
[ "$rc" = 130 ] || { cat "$tmp/int.out"; fail "Ctrl-C during a setup exits $rc, want 130"; }
grep -q "interrupted: progress is as it was" "$tmp/int.out" || fail "the interrupt is not said: $(cat "$tmp/int.out")"
sleep 0.2
kill -0 "$child" 2> /dev/null && fail "the setup's child $child survived Ctrl-C"
[ ! -e "$PANCAKE_STATE/labs/t0970/progress.json" ] || grep -q '"current": null' "$PANCAKE_STATE/labs/t0970/progress.json" \
	|| fail "Ctrl-C changed the progress"
pass "a timeout and Ctrl-C kill the action with its child, progress as it was"

# (e) progress: start, check, hint, solve, next, reset, --json
export PANCAKE_LABS="$T"
run "check before any start" 1 $PANCAKE lab check
echo "$out" | grep -q "no lab started" || fail "check with nothing started: $out"
run "start" 0 $PANCAKE lab start 01-good
echo "$out" | grep -q "01-good/01-one: One" || fail "start does not show the step: $out"
run "check, not done" 1 $PANCAKE lab check
echo "$out" | grep -q "no a in the scratch folder" || fail "check does not print its line: $out"
run "check --json, not done" 1 $PANCAKE lab check --json
echo "$out" | $PY -c 'import json,sys; o=json.load(sys.stdin)
assert o["lab"] == "01-good" and o["step"] == "01-one" and o["passed"] is False, o
assert o["message"] == "no a in the scratch folder" and o["timed_out"] is False, o' || fail "check --json: $out"
run "next before done" 1 $PANCAKE lab next
echo "$out" | grep -q "is not done yet" || fail "next on an open step: $out"
run "hint 1" 0 $PANCAKE lab hint
echo "$out" | grep -q "^hint 1/2: look in LAB_SCRATCH$" || fail "first hint: $out"
run "hint 2" 0 $PANCAKE lab hint
echo "$out" | grep -q "^hint 2/2: touch it$" || fail "second hint: $out"
touch "$PANCAKE_STATE/labs/t0970/01-good/scratch/a"
run "check, done" 0 $PANCAKE lab check --json
echo "$out" | $PY -c 'import json,sys; assert json.load(sys.stdin)["passed"] is True' || fail "check --json passed: $out"
run "next" 0 $PANCAKE lab next
echo "$out" | grep -q "01-good/02-two: Two" || fail "next does not show the next step: $out"
run "solve" 0 $PANCAKE lab solve
echo "$out" | grep -q "solving b" || fail "solve's output is not shown as it runs: $out"
run "list --json" 0 $PANCAKE lab list --json
echo "$out" | $PY -c 'import json,sys; l=json.load(sys.stdin)
assert l == [{"lab": "01-good", "title": "Good", "steps": 2, "done": 2, "current_step": "02-two"}], l' \
	|| fail "list --json after two steps: $out"
$PY - "$PANCAKE_STATE/labs/t0970/progress.json" <<'EOF' || fail "progress.json lacks when and hints"
import json, sys
p = json.load(open(sys.argv[1]))
s = p["labs"]["01-good"]["01-one"]
assert s["hints"] == 2 and s["done"].endswith("Z"), s
EOF
run "next at the track's end" 0 $PANCAKE lab next
echo "$out" | grep -q "last step" || fail "next at the end: $out"
run "reset" 0 $PANCAKE lab reset
echo "$out" | grep -q "01-good is back at its start" || fail "reset: $out"
[ "$(cat "$PANCAKE_STATE/labs/t0970/01-good/scratch/setups")" = "setup ran" ] || fail "reset did not empty the scratch, then run the setup"
run "list after reset" 0 $PANCAKE lab list --json
echo "$out" | $PY -c 'import json,sys; l=json.load(sys.stdin); assert l[0]["done"] == 0 and l[0]["current_step"] == "01-one", l' \
	|| fail "reset did not forget the progress: $out"
echo '{"version": 1, "labs": {' > "$PANCAKE_STATE/labs/t0970/progress.json"
run "a corrupt progress file" 1 $PANCAKE lab list
echo "$out" | grep -q "progress.json' is corrupt" && echo "$out" | grep -q "pancake lab reset" || fail "corrupt: $out"
run "reset of a corrupt file" 0 $PANCAKE lab reset
[ -e "$PANCAKE_STATE/labs/t0970/progress.json.corrupt" ] || fail "the corrupt file was not kept aside"
run "list after that" 0 $PANCAKE lab list
pass "progress across start, check, hint, next, solve, reset; --json shapes; a corrupt file refused with a way out"

# lab env: the lab's environment as exports an attendee's shell can eval
run "lab env" 0 $PANCAKE lab env 01-good/01-one
got=$(bash -c 'eval "$1"; echo "$LAB_SCRATCH|$LAB_LIB|$REDIS_PORT|$(command -v recommender)"' _ "$out")
[ "$got" = "$PANCAKE_STATE/labs/t0970/01-good/scratch|$PWD/labs/lib|16379|$PWD/services/recommender/recommender" ] \
	|| fail "eval of lab env gives '$got'"
pass "eval \"\$(pancake lab env)\" gives a shell the lab's scratch, helpers, ports and binaries"

# (f) PANCAKE_PROJECT separates progress
run "another project's list" 0 env PANCAKE_PROJECT=t0970b $PANCAKE lab list --json
echo "$out" | $PY -c 'import json,sys; l=json.load(sys.stdin); assert l[0]["current_step"] is None and l[0]["done"] == 0, l' \
	|| fail "another project sees this one's progress: $out"
run "start on the other project" 0 env PANCAKE_PROJECT=t0970b $PANCAKE lab start 01-good
[ -e "$PANCAKE_STATE/labs/t0970b/progress.json" ] || fail "the other project's progress is not in its own folder"
run "this project's list" 0 $PANCAKE lab list --json
pass "each PANCAKE_PROJECT has its own progress"

# usage
run "no subcommand" 2 $PANCAKE lab
run "unknown subcommand" 2 $PANCAKE lab frob
run "unknown option" 2 $PANCAKE lab list --frob
run "--json where there is none" 2 $PANCAKE lab start 01-good --json
run "--tap outside test" 2 $PANCAKE lab list --tap
pass "usage errors exit 2"
