#!/bin/bash
# t0770: a load writes only to its own project's stores, found through the
# engine. With another project's name, or with no engine, 'data load',
# 'verify' and 'drop' refuse before writing (or removing) anything, even
# though a store listens on the default port; --endpoint writes to a store
# named by hand, engine or not. Also: 'recommender train --out' into a
# folder that does not exist fails before the first iteration.
. "$(dirname "$0")/lib.sh"
tmp=$(mktemp -d)
ds=t0770set
cleanup() {
	redis-cli --scan --pattern "pk:$ds:*" | xargs -r -n 500 redis-cli DEL >/dev/null 2>&1 || true
	rm -rf "$tmp"
}
trap cleanup EXIT
$PANCAKE up --wait redis > "$tmp/up" 2>&1 || { cat "$tmp/up"; fail "redis up"; }
[ "$(redis-cli PING)" = PONG ] || fail "the project's redis does not answer on 127.0.0.1:6379"
cleanup; mkdir -p "$tmp"
$PANCAKE data gen --users 300 --items 100 --ratings 3000 --seed 7 --out "$tmp/$ds" > /dev/null || fail "data gen"
keys() { redis-cli --scan --pattern "pk:$ds:*" | wc -l; }
[ "$(keys)" -eq 0 ] || fail "keys of $ds before the test"

# another project's name: its stack has no redis, ours is not its store
set +e; out=$(PANCAKE_PROJECT=t0770-stranger $PANCAKE data load "$tmp/$ds" --into redis 2>&1); rc=$?; set -e
echo "$out"
[ $rc -eq 1 ] || fail "a load for another project exited $rc, not 1"
echo "$out" | grep -q "project 't0770-stranger' has no redis container" || fail "the refusal does not name the project"
echo "$out" | grep -q "nothing was written to any store" || fail "the refusal does not say nothing was written"
[ "$(keys)" -eq 0 ] || fail "another project's load wrote $(keys) keys into this project's redis"
pass "another project's load: refused (exit 1), 0 keys written to the redis on 6379"

# no engine at all: nothing can be known, so nothing is written
set +e; out=$(DOCKER_HOST=unix://$tmp/no.sock $PANCAKE data load "$tmp/$ds" --into redis 2>&1); rc=$?; set -e
echo "$out"
[ $rc -eq 3 ] || fail "a load with no engine exited $rc, not 3"
echo "$out" | grep -q -- "--endpoint redis=HOST:PORT" || fail "the no-engine refusal does not name --endpoint"
[ "$(keys)" -eq 0 ] || fail "a load with no engine wrote $(keys) keys"
set +e; out=$(DOCKER_HOST=unix://$tmp/no.sock PANCAKE_PROJECT=t0770-stranger $PANCAKE data load "$tmp/$ds" --json 2>/dev/null); rc=$?; set -e
[ $rc -eq 3 ] && echo "$out" | $PY -c 'import json,sys; assert json.load(sys.stdin)["exit_code"] == 3' \
	|| fail "a --json load with no engine is not a JSON failure with exit 3: $out"
[ "$(keys)" -eq 0 ] || fail "a load with no engine and another name wrote $(keys) keys"
pass "no engine: refused (exit 3, JSON with --json), 0 keys written"

# the project's own load goes through; verify and drop refuse a stranger too
$PANCAKE data load "$tmp/$ds" --into redis > "$tmp/load" 2>&1 || { cat "$tmp/load"; fail "the project's own load"; }
n=$(keys); [ "$n" -gt 0 ] || fail "the project's own load wrote nothing"
set +e; out=$(PANCAKE_PROJECT=t0770-stranger $PANCAKE data drop "$ds" --from redis 2>&1); rc=$?; set -e
[ $rc -eq 1 ] && echo "$out" | grep -q "nothing was removed" || { echo "$out"; fail "another project's drop not refused"; }
[ "$(keys)" -eq "$n" ] || fail "another project's drop removed keys"
set +e; out=$(DOCKER_HOST=unix://$tmp/no.sock $PANCAKE data verify "$tmp/$ds" --into redis 2>&1); rc=$?; set -e
[ $rc -eq 3 ] || { echo "$out"; fail "verify with no engine exited $rc, not 3"; }
pass "the project's load wrote $n keys; a stranger's drop and an engineless verify are refused"

# explicit endpoints are the opt-in: no engine needed, the store named by hand
DOCKER_HOST=unix://$tmp/no.sock $PANCAKE data verify "$tmp/$ds" --into redis --endpoint redis=127.0.0.1:6379 \
	> "$tmp/verify" 2>&1 || { cat "$tmp/verify"; fail "verify with --endpoint"; }
grep -q "^redis .*equal" "$tmp/verify" || fail "verify with --endpoint does not say equal"
set +e; out=$($PANCAKE data load "$tmp/$ds" --endpoint redis=nowhere 2>&1); rc=$?; set -e
[ $rc -eq 2 ] && echo "$out" | grep -q "is not redis=HOST:PORT" || { echo "$out"; fail "a malformed --endpoint not refused"; }
set +e; out=$($PANCAKE data load "$tmp/$ds" --endpoint mysql=127.0.0.1:3306 2>&1); rc=$?; set -e
[ $rc -eq 2 ] && echo "$out" | grep -q "names no store" || { echo "$out"; fail "an --endpoint for no store not refused"; }
pass "--endpoint: verify works with no engine; malformed and unknown endpoints exit 2"

# the recommender checks where its model goes before it trains
mkdir -p "$tmp/models"
set +e; out=$(services/recommender/recommender train "$tmp/$ds" --iters 3 --out "$tmp/no/such/dir/x.model" 2>&1); rc=$?; set -e
echo "$out"
[ $rc -eq 2 ] || fail "train into a missing folder exited $rc, not 2"
echo "$out" | grep -q "its folder '$tmp/no/such/dir' does not exist" || fail "the refusal does not name the folder"
echo "$out" | grep -qi "iter\|ALS" && fail "it trained before refusing the folder"
pass "train --out into a missing folder: refused before training"
