# t0700: data fetch from a loopback mirror: a broken-off download resumes with a
# Range request, the checksum is checked, a bad checksum or no route is refused clearly.
. "$(dirname "$0")/lib.sh"
tmp=$(mktemp -d)
home=$tmp/home
export PANCAKE_CACHE=$tmp/cache
srv=""
trap '[ -n "$srv" ] && kill $srv 2>/dev/null; rm -rf "$tmp"' EXIT
mkdir -p "$home/datasets" "$tmp/www"
$PANCAKE data gen --users 300 --items 200 --ratings 20000 --seed 7 --out "$tmp/mini" >/dev/null || fail "data gen"
(cd "$tmp" && $PY -c 'import zipfile,sys
z = zipfile.ZipFile("www/mini.zip", "w", zipfile.ZIP_STORED)
for f in ("ratings.csv", "movies.csv"):
    z.write("mini/" + f, "mini-set/" + f)
z.close()')
md5=$(md5sum "$tmp/www/mini.zip" | cut -d' ' -f1)
size=$(stat -c %s "$tmp/www/mini.zip")
cat > "$home/datasets/mini.conf" <<CONF
description = a generated test set
url = http://example.invalid/files/mini.zip
format = csv
archive_dir = mini-set
md5 = $md5
CONF
# the server cuts the first full answer after a third of the file
$PY tests/integration/range-server.py "$tmp/www" 18731 $((size / 3)) 2> "$tmp/server.log" &
srv=$!
wait_for 10 "loopback mirror is up" $PY -c 'import socket; socket.create_connection(("127.0.0.1",18731),1)'
export PANCAKE_HOME=$home PANCAKE_DATASETS_URL=http://127.0.0.1:18731/
set +e; out=$($PANCAKE data fetch mini 2>&1); rc=$?; set -e
echo "$out"
[ $rc -ne 0 ] && echo "$out" | grep -q "broke off.*run the command again to resume" || fail "a cut download was not reported as resumable"
[ -s "$PANCAKE_CACHE/datasets/mini.zip.part" ] || fail "no partial file kept"
pass "a cut download keeps its part and says how to resume"
$PANCAKE data fetch mini || fail "resumed fetch"
grep -q "GET /mini.zip range=bytes=[1-9][0-9]*-" "$tmp/server.log" || { cat "$tmp/server.log"; fail "the second request did not ask for a range"; }
[ "$(grep -c 'GET /mini.zip' "$tmp/server.log")" -eq 2 ] || fail "expected two requests (the cut one and the resume)"
[ -f "$PANCAKE_CACHE/datasets/mini/ratings.csv" ] || fail "not unpacked"
cmp "$PANCAKE_CACHE/datasets/mini/ratings.csv" "$tmp/mini/ratings.csv" || fail "unpacked ratings differ from the source"
pass "resumed with a Range request, checksum ok, unpacked identical"
$PANCAKE data info mini --json | $PY -c 'import json,sys; d=json.load(sys.stdin); assert d["ratings"]==20000, d' \
	|| fail "data info by name"
pass "data info reads the fetched set by name (20000 ratings)"
# a wrong checksum is refused and nothing is unpacked
sed -i "s/^md5 = .*/md5 = 00000000000000000000000000000000/" "$home/datasets/mini.conf"
sed -i 's/^archive_dir = .*/archive_dir = mini-set/; s/^description = .*/description = bad sum/' "$home/datasets/mini.conf"
cp "$home/datasets/mini.conf" "$home/datasets/bad.conf"
sed -i 's|/files/mini.zip|/files/mini.zip|' "$home/datasets/bad.conf"
cp "$tmp/www/mini.zip" "$PANCAKE_CACHE/datasets/bad.zip"
set +e; out=$($PANCAKE data fetch bad 2>&1); rc=$?; set -e
echo "$out"
[ $rc -ne 0 ] && echo "$out" | grep -q "does not match its manifest" || fail "bad checksum accepted"
[ ! -e "$PANCAKE_CACHE/datasets/bad" ] || fail "a dataset with a bad checksum was unpacked"
pass "a checksum mismatch is refused and nothing is unpacked"
# no route: a closed loopback port
set +e; out=$(PANCAKE_DATASETS_URL=http://127.0.0.1:1/ $PANCAKE data fetch bad 2>&1); rc=$?; set -e
echo "$out"
[ $rc -ne 0 ] && echo "$out" | grep -q "are you offline" || fail "no-route download not explained"
pass "no route: a clear message with the way out"
