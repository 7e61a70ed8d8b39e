# t0220: exec passes the exit code; logs are prefixed per service; an offline bundle saves and loads.
. "$(dirname "$0")/lib.sh"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
[ "$($PANCAKE exec redis -- redis-cli ping)" = PONG ] || fail "exec redis-cli ping"
pass "exec runs a command in the service's container"
set +e; $PANCAKE exec redis sh -c 'exit 7'; rc=$?; set -e
[ $rc -eq 7 ] || fail "exec exit code $rc, want 7"
pass "exec passes the command's exit code (7)"
$PANCAKE logs --tail 5 redis > "$tmp/logs" || fail "logs redis"
[ "$(wc -l < "$tmp/logs")" -ge 1 ] && ! grep -qv '^redis *|' "$tmp/logs" || fail "logs lines not all prefixed 'redis |'"
pass "logs --tail 5 redis: every line prefixed"
$PANCAKE logs -f --tail 1 > "$tmp/follow" 2>&1 &
lp=$!
wait_for 20 "logs -f prints the four services" sh -c "for s in kafka cassandra redis elasticsearch; do grep -q \"^\$s *|\" $tmp/follow || exit 1; done"
kill -INT $lp; wait $lp || fail "logs -f did not exit cleanly on Ctrl-C"
pass "logs -f follows all four and stops on Ctrl-C"
$PANCAKE images save "$tmp/bundle.tar" redis || fail "images save"
tar -tf "$tmp/bundle.tar" | grep -q '^manifest.json$' || fail "bundle has no manifest.json"
pass "images save wrote a docker-save bundle"
$PANCAKE images load "$tmp/bundle.tar" | grep -q "pancake/redis:latest" || fail "images load"
pass "images load read it back"
head -c 4096 /dev/urandom > "$tmp/junk.tar"
set +e; out=$($PANCAKE images load "$tmp/junk.tar" 2>&1); rc=$?; set -e
echo "$out"
[ $rc -ne 0 ] && echo "$out" | grep -q "cannot load '$tmp/junk.tar'" || fail "a junk bundle was not refused clearly"
pass "a junk bundle is refused with the file named"
