# t0100: images build without a registry; a rebuild with nothing changed skips every image.
. "$(dirname "$0")/lib.sh"
$PANCAKE images build > /tmp/t0100-build.log 2>&1 || { cat /tmp/t0100-build.log; fail "images build"; }
pass "images build"
out=$($PANCAKE images build 2>&1)
n=$(printf '%s\n' "$out" | grep -c "up to date" || true)
[ "$n" -eq 7 ] || { echo "$out"; fail "rebuild skipped $n of 7 images"; }
pass "rebuild with nothing changed: all 7 images up to date"
$PANCAKE images list --json > /tmp/t0100-list.json
$PY - <<'PY' || fail "images list --json"
import json
rows = json.load(open("/tmp/t0100-list.json"))
names = sorted(r["name"] for r in rows)
assert names == ["base", "build", "cassandra", "elasticsearch", "kafka", "redis", "sandbox"], names
for r in rows:
    assert r["built"] and r["content_hash"] and len(r["content_hash"]) == 64, r
PY
pass "images list --json: 7 built images with content hashes"
# the engine agrees, through its own CLI
for i in base:bookworm build:bookworm cassandra:latest elasticsearch:latest kafka:latest redis:latest sandbox:latest; do
	docker image inspect "pancake/$i" --format '{{index .Config.Labels "io.pancake.content-hash"}}' | grep -Eq '^[0-9a-f]{64}$' \
		|| fail "docker CLI sees no content hash on pancake/$i"
done
pass "docker CLI sees the content-hash label on every image"

# the top-level Dockerfile's image: the native binaries run on the slim base
for b in "serving --help" "recommender --help" "pancake --help"; do
	docker run --rm pancake/sandbox:latest $b > /tmp/t0100-run.log 2>&1 \
		|| { cat /tmp/t0100-run.log; fail "pancake/sandbox runs '$b'"; }
	grep -q "usage" /tmp/t0100-run.log || fail "'$b' in pancake/sandbox prints its usage"
done
docker run --rm pancake/sandbox:latest sh -c 'command -v cc || command -v gcc' > /tmp/t0100-cc.log 2>&1 \
	&& fail "the runtime image has no compiler (it is the slim stage)"
pass "pancake/sandbox: serving, recommender and pancake run; no compiler in the runtime stage"

# a rebuild leaves nothing untagged behind (the build stage's image, the
# image it replaced), and its output never glues a step onto a build line
dangling() { docker image ls -q --filter dangling=true | sort -u | wc -l; }
before=$(dangling)
script -qec "$PANCAKE images build --force sandbox" /dev/null > /tmp/t0100-tty.log 2>&1 \
	|| { cat /tmp/t0100-tty.log; fail "images build --force sandbox"; }
after=$(dangling)
[ "$after" -le "$before" ] || { docker image ls --filter dangling=true; fail "the rebuild left $((after - before)) untagged image(s)"; }
grep -q "removed [0-9]* images\? the build left untagged" /tmp/t0100-tty.log || fail "the rebuild does not say it removed its stage"
# on a terminal a build line is drawn in place ("\r\033[K  | ..."); every
# other line must start on a line of its own, never after such a line
$PY - /tmp/t0100-tty.log <<'PY' || fail "a step was glued onto a build output line"
import re, sys
raw = open(sys.argv[1], "rb").read().decode("utf-8", "replace")
raw = re.sub(r"\x1b\[[0-9;]*m", "", raw)          # colours
for line in raw.split("\n"):
    parts = line.split("\r\x1b[K")
    # the last part is what stays on screen: a build line, or a whole line
    for p in parts[:-1]:
        assert p == "" or p.startswith("  | "), repr(line)
    last = parts[-1]
    assert "| " not in last or last.startswith("  | ") or last.strip() == "", repr(line)
    assert not re.search(r"\| .*(removed|built sha256)", last), repr(line)
PY
sed 's/\x1b\[[0-9;]*m//g' /tmp/t0100-tty.log | grep -q "built sha256:[0-9a-f]* in [0-9]* s" \
	|| fail "the build does not say how long it took"
grep -q "about a minute" /tmp/t0100-tty.log && fail "a guessed duration is announced"
pass "a forced rebuild of pancake/sandbox: $before untagged image(s) before, $after after; steps on lines of their own; measured time"
# a forced rebuild that changes nothing makes the same image: it must stay
$PANCAKE images build --force redis > /tmp/t0100-redis.log 2>&1 || { cat /tmp/t0100-redis.log; fail "images build --force redis"; }
for i in redis:latest sandbox:latest; do
	docker image inspect "pancake/$i" > /dev/null 2>&1 || fail "pancake/$i is gone after a forced rebuild"
done
pass "a forced rebuild with nothing changed keeps the image (pancake/redis and pancake/sandbox still there)"
