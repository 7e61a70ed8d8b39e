# t0300: while `pancake up` supervises, a killed service comes back to ready by itself.
. "$(dirname "$0")/lib.sh"
$PANCAKE up > /tmp/t0300-up.log 2>&1 &
sup=$!
trap 'kill -INT $sup 2>/dev/null; wait $sup 2>/dev/null || true' EXIT
wait_for 300 "foreground up is supervising" grep -q "supervising" /tmp/t0300-up.log
for svc in redis kafka elasticsearch cassandra; do
	old=$(docker ps -q --filter "label=io.pancake.service=$svc" --filter label=io.pancake.project=pancake)
	[ -n "$old" ] || fail "$svc has no running container"
	docker kill "$old" >/dev/null
	pass "docker kill $svc"
	wait_for 300 "$svc restarted by the supervisor and ready" sh -c "grep -q \"$svc.*restart\" /tmp/t0300-up.log && [ \"\$($PANCAKE ps --json | $PY -c 'import json,sys; print([r for r in json.load(sys.stdin) if r[\"service\"]==\"$svc\"][0][\"ready\"])')\" = True ]"
done
kill -INT $sup; wait $sup || fail "up did not exit cleanly on SIGINT"
trap - EXIT
grep -q "stack keeps running" /tmp/t0300-up.log || fail "up did not say the stack keeps running"
pass "Ctrl-C ends supervision and leaves the stack running"
