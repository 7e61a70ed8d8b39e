# t0120: a failed image build shows the build's own error line and names the definition.
. "$(dirname "$0")/lib.sh"
home=$(mktemp -d)
trap 'rm -rf "$home"; docker image rm pancake/broken:latest >/dev/null 2>&1 || true' EXIT
mkdir -p "$home/images/base" "$home/images/broken" "$home/services"
cp images/base/packages "$home/images/base/"
cat > "$home/images/broken/Dockerfile" <<'DF'
FROM pancake/base:bookworm
RUN echo "pancake-t0120-marker" && exit 3
DF
set +e
out=$(PANCAKE_HOME=$home $PANCAKE images build broken 2>&1); rc=$?
set -e
echo "$out"
[ $rc -ne 0 ] || fail "a failing build succeeded"
echo "$out" | grep -q "image 'broken' failed to build: The command '/bin/sh -c echo \"pancake-t0120-marker\" && exit 3' returned a non-zero code: 3" \
	|| fail "the build's own error line is not shown"
echo "$out" | grep -q "images/broken/Dockerfile" || fail "the definition is not named"
pass "failed build: the engine's error line and the Dockerfile are shown"
docker image inspect pancake/broken:latest >/dev/null 2>&1 && fail "a half-built image was tagged"
pass "no image was tagged for the failed build"
set +e
out=$(PANCAKE_HOME=$home $PANCAKE images build nosuch 2>&1); rc=$?
set -e
[ $rc -ne 0 ] && echo "$out" | grep -q "no image named 'nosuch'" || fail "unknown image name not refused"
pass "unknown image name refused"
