#!/bin/bash
# t0560: the pane table (sandbox/tui/pane.c) is the one place a launcher
# screen is wired in. Every pane a file under sandbox/tui/ defines is in the
# table; in a real terminal (tmux, 160x60, no engine needed) each pane's '?'
# help lists every key of its own table with its text, the key of every
# other pane with what that pane is, and the frame's keys; its key bar shows
# its own labels and the other panes' names; the key or Esc goes back home.
set -eu
. "$(dirname "$0")/lib.sh"
. tests/integration/lib-tmux.sh
trap tui_cleanup EXIT

# PANE KEY FILE per line, in the table's order; KEY is "" for the home pane
$PY - >"$tui_tmp/panes" <<'EOF'
import glob, re, sys
table = open("sandbox/tui/pane.c").read()
entries = re.findall(r"^\s*PANE\((\w+),\s*('(.)'|0)\)", table, re.M)
defined = {}
for f in glob.glob("sandbox/tui/*.c"):
    for name in re.findall(r"^const struct pane_ops (\w+) = \{", open(f).read(), re.M):
        defined[name] = f
listed = [e[0] for e in entries]
for name in sorted(defined):
    if name not in listed:
        sys.exit("FAIL: %s defines the pane '%s' but panes[] in sandbox/tui/pane.c does not list it"
                 % (defined[name], name))
for name, _, key in entries:
    if name not in defined:
        sys.exit("FAIL: panes[] lists '%s', which no file under sandbox/tui/ defines" % name)
    print(name, key or "-", defined[name])
EOF
[ -s "$tui_tmp/panes" ] || fail "no pane found in sandbox/tui/pane.c"
pass "every pane defined under sandbox/tui/ is in panes[]: $(cut -d' ' -f1 "$tui_tmp/panes" | tr '\n' ' ')"

# expect FILE PANE: the lines the help of PANE must show ("KEY<TAB>TEXT"),
# then "bar<TAB>LABEL" for its key bar; from the pane files and the table
expect() {
	$PY - "$tui_tmp/panes" "$1" >"$tui_tmp/expect" <<'EOF'
import re, sys
panes = [l.split() for l in open(sys.argv[1])]
cur = [p for p in panes if p[0] == sys.argv[2]][0]
def field(src, f):
    m = re.search(r"\.%s = \"([^\"]*)\"" % f, src)
    return m.group(1) if m else None
src = open(cur[2]).read()
for name, bar, text in re.findall(
        r'^\s*\{\s*[^,]+,\s*"([^"]+)",\s*(NULL|"[^"]*"),\s*\w+,\s*"([^"]*)"\s*\},', src, re.M):
    print("help\t%s\t%s" % (name, text))
    if bar != "NULL":
        print("bar\t%s %s" % (name.split()[0], bar.strip('"')))
for p in panes:
    if p == cur:
        continue
    other = open(p[2]).read()
    key = cur[1] + " Esc" if p[1] == "-" else p[1]
    print("help\t%s\t%s" % (key, field(other, "about")))
    print("bar\t%s %s" % (key.split()[0], field(other, "name")))
print("help\t? F1\tshow or hide this help")
print("help\tq F10\tquit (the stack keeps running, unsupervised)")
EOF
}

# check PANE: its help and key bar against what its file and the table say
check() {
	expect "$1"
	tui_keys '?'
	tui_wait 5 "'?' did not open the help of pane '$1'" "pancake launcher keys"
	$PY - "$tui_tmp/expect" "$tui_tmp/screen" <<'EOF' || fail "the help or key bar of pane '$1'"
import re, sys
screen = open(sys.argv[2]).read().splitlines()
bad = 0
for kind, *rest in (l.rstrip("\n").split("\t") for l in open(sys.argv[1])):
    if kind == "help":
        key, text = rest
        pat = re.compile(r"\u2502 %s +%s +\u2502" % (re.escape(key), re.escape(text)))
        if not any(pat.search(l) for l in screen):
            print("FAIL: the help lacks '%s  %s'" % (key, text)); bad = 1
    elif not any(rest[0] in l for l in screen[-1:]):
        print("FAIL: the key bar lacks '%s'" % rest[0]); bad = 1
sys.exit(bad)
EOF
	pass "pane '$1': the help lists its $(grep -c '^help' "$tui_tmp/expect") keys, the key bar its labels"
	tui_keys x
	tui_wait 5 "a key did not close the help of pane '$1'" "q quit"
}

export PANCAKE_PROJECT=t0560
# name_of FILE: the pane's name, its label in the other panes' key bars
name_of() { sed -n 's/^[[:space:]]*\.name = "\([^"]*\)".*/\1/p' "$1"; }
home=$(name_of "$(head -1 "$tui_tmp/panes" | cut -d' ' -f3)")
# no engine: the panes draw at once, whatever the engine does
# wide enough for the longest key bar (the labs pane's, with a switch per pane)
tui_start 160 60 "DOCKER_HOST=unix://$tui_tmp/no-engine.sock ./pancake launcher"
tui_wait 10 "the launcher did not draw" "q quit"
while read -r name key file; do
	if [ "$key" != - ]; then
		tui_keys "$key"
		tui_wait 5 "'$key' did not switch to pane '$name' (its key bar names '$key $home')" "$key $home  "
	fi
	check "$name"
	if [ "$key" != - ]; then
		tui_keys Escape
		tui_wait 5 "Esc did not go back home from pane '$name'" "$key $(name_of "$file")  "
	fi
done <"$tui_tmp/panes"
tui_keys q
tui_ended 20 "'q' did not end the launcher"
[ "$(cat "$tui_tmp/rc")" = 0 ] || fail "the launcher exited with $(cat "$tui_tmp/rc") after 'q', not 0"
pass "'q' quits, exit status 0"
echo "PASS t0560-launcher-panes"
