#!/bin/bash
# t0880: every shell snippet of README.md runs verbatim, in order, after the
# run command (the stack up, 'pancake' on the PATH): each ```sh block but the
# two set-up commands themselves (CI runs those) must exit 0. A snippet that
# names a program the run command does not install fails here first.
. "$(dirname "$0")/lib.sh"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
# the registry the README's commands write goes to a scratch folder
export PANCAKE_MODELS=$tmp/models
# where the run command leaves a newcomer: the whole stack up
$PANCAKE up --wait > "$tmp/up.log" 2>&1 || { cat "$tmp/up.log"; fail "the stack is not up"; }
command -v pancake >/dev/null || fail "'pancake' is not on the PATH: the run command links it into /usr/local/bin"
[ "$(readlink -f "$(command -v pancake)")" = "$(readlink -f ./pancake)" ] \
	|| fail "'pancake' on the PATH is not this tree's ($(command -v pancake))"
$PY - README.md "$tmp" <<'PY' || fail "extracting the README's snippets"
import re, sys
text = open(sys.argv[1]).read()
blocks = re.findall(r"^```sh\n(.*?)^```", text, re.S | re.M)
n = 0
for b in blocks:
    if "sandbox/setup.sh" in b:
        continue
    n += 1
    open("%s/snippet-%02d.sh" % (sys.argv[2], n), "w").write(b)
print("%d snippets" % n)
assert n >= 3, "the README has fewer snippets than it should"
PY
for f in "$tmp"/snippet-*.sh; do
	echo "--- $(basename "$f")"
	cat "$f"
	# verbatim: a fresh bash, errors stop it, from the clone's folder
	if ! timeout 900 bash -eo pipefail "$f" > "$f.out" 2>&1; then
		tail -30 "$f.out"
		fail "README snippet $(basename "$f") failed"
	fi
	tail -3 "$f.out"
	pass "README snippet $(basename "$f" .sh) ran verbatim"
done
