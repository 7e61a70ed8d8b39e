#!/bin/sh
# test-architecture: ARCHITECTURE.md stays true. Every path it names exists,
# every folder of the code is on its map, and the invariants it states hold
# in the sources (layers include only downwards, one owner per external
# library, programs share code only through the library, core never prints).
cd "$(dirname "$0")/../.." || exit 1
pass=0 fail=0 n=0
ok() { n=$((n + 1)); pass=$((pass + 1)); echo "ok $n - $1"; }
not_ok() {	# NAME DETAIL
	n=$((n + 1)); fail=$((fail + 1)); echo "not ok $n - $1"
	printf '%s\n' "$2" | sed 's/^/#   /'
}
check() {	# NAME OFFENDERS: passes when OFFENDERS is empty
	if [ -z "$2" ]; then ok "$1"; else not_ok "$1" "$2"; fi
}
map=ARCHITECTURE.md
[ -f "$map" ] || { echo "not ok 1 - $map exists"; echo "0 passed, 1 failed"; exit 1; }
ok "$map exists"

# 1. every path named in backquotes exists, written whole from the top
# (a trailing / names a folder); placeholders are written without them
missing=$(grep -o '`[^`]*`' "$map" | tr -d '`' | grep -v '[[:space:](),$*<>]' \
	| grep -E '/|^(Makefile|Dockerfile|README\.md)$' | grep -v '^/' | sort -u | while read -r p; do
		case $p in
		*/) [ -d "$p" ] || echo "$p (folder)" ;;
		*) [ -e "$p" ] || echo "$p" ;;
		esac
	done)
check "every path $map names exists" "$missing"

# 2. every folder that holds code, tests or definitions is on the map (the
# labs themselves, labs/NN-name/, are the track's content, not its code)
unmapped=$(find sandbox services tests datasets images labs .ci -maxdepth 1 -mindepth 1 -type d \
	2> /dev/null | grep -v -E '^tests/out$|^datasets/generated$|^labs/[0-9][0-9]-' | sort | while read -r d; do
		grep -q "\`$d/\`" "$map" || echo "$d/"
	done)
check "every folder is on the map (as \`DIR/\`)" "$unmapped"

# 3. layers include only their own or lower ones:
#    util < clients < model < core < tui < the launcher (cmd-*, cli, main)
rank() {
	case $1 in
	sandbox/util/*) echo 0 ;; sandbox/clients/*) echo 1 ;; sandbox/model/*) echo 2 ;;
	sandbox/core/*) echo 3 ;; sandbox/tui/*) echo 4 ;; sandbox/*) echo 5 ;; *) echo 9 ;;
	esac
}
upward=$(for f in sandbox/*.[ch] sandbox/*/*.[ch]; do
	[ -f "$f" ] || continue
	me=$(rank "$f")
	grep -o '^#include "[^"]*"' "$f" | sed 's/#include "\(.*\)"/\1/' | while read -r h; do
		case $h in */*) t=sandbox/$h ;; *) t=$(dirname "$f")/$h ;; esac
		[ "$(rank "$t")" -le "$me" ] || echo "$f includes $h"
	done
done)
check "sandbox's layers include only downwards" "$upward"

# 4. one owner per external library
owners() {	# PATTERN ALLOWED-PREFIX
	grep -rlE "^#include <$1" sandbox services tests/tools 2> /dev/null | grep -v "^$2"
}
check "only sandbox/tui/ includes curses" "$(owners 'n?curses(w/)?(\.h|w\.h)' sandbox/tui/)"
check "only sandbox/clients/ includes libcurl" "$(owners 'curl/' sandbox/clients/)"
check "only sandbox/clients/ includes hiredis" "$(owners 'hiredis' sandbox/clients/)"
check "only sandbox/clients/ includes librdkafka" "$(owners 'librdkafka' sandbox/clients/)"
check "only sandbox/model/ includes libgit2" "$(owners 'git2' sandbox/model/)"
check "commands, screens and programs reach the engine only through the core" \
	"$(grep -nE '"clients/docker(-stream)?\.h"|(^|[^a-z_])docker_[a-z_]+\(' \
		sandbox/*.c sandbox/tui/*.c services/*/*.c 2> /dev/null)"

# 5. programs share code only through the library: a program's sources
# include their own folder's headers or the library's, never another
# program's nor the launcher's (tui/, cli.h, cmd-*)
crossing=$(for f in services/*/*.[ch]; do
	[ -f "$f" ] || continue
	grep -o '^#include "[^"]*"' "$f" | sed 's/#include "\(.*\)"/\1/' | while read -r h; do
		case $h in
		tui/* | cli.h | cmd-*) echo "$f includes the launcher's $h" ;;
		util/* | clients/* | model/* | core/*) [ -e "sandbox/$h" ] || echo "$f includes $h (no such library header)" ;;
		*/*) echo "$f includes $h" ;;
		*) [ -e "$(dirname "$f")/$h" ] || echo "$f includes $h from outside its folder" ;;
		esac
	done
done
grep -nE -- '-I *(services/|\$\([A-Z_]*_DIR\))' Makefile | while IFS= read -r l; do
	# a rule may put one program's folder on its include path, never two
	v=$(echo "$l" | grep -oE -- '-I *(services/[^ ]+|\$\([A-Z_]*_DIR\))' | sort -u | wc -l)
	[ "$v" -le 1 ] || echo "Makefile:$l"
done)
check "programs share code only through the library" "$crossing"

# 6. core, model and clients never print: they return results and messages
prints=$(grep -nE '(^|[^a-z_])(printf|puts|perror|putchar)\(|f(printf|puts|write)\((stdout|stderr)' \
	sandbox/core/*.c sandbox/model/*.c sandbox/clients/*.c 2> /dev/null)
check "core, model and clients never print" "$prints"

echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
