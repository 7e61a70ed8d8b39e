# t0710: the redis and elasticsearch loaders against the running stack: counts
# by the loaders and by independent clients (redis-cli, curl) agree with the
# source, a second load changes nothing, an unreachable elasticsearch and a
# per-item bulk error are reported clearly.
. "$(dirname "$0")/lib.sh"
tmp=$(mktemp -d)
ds=t0710
idx=pk-t0710-movies
bad=pk-t0710-bad
ES=http://127.0.0.1:9200
cleanup() {
	redis-cli --scan --pattern "pk:$ds:*" | xargs -r -n 500 redis-cli DEL >/dev/null 2>&1 || true
	curl -s -XDELETE "$ES/$idx" >/dev/null 2>&1 || true
	curl -s -XDELETE "$ES/$bad" >/dev/null 2>&1 || true
	rm -rf "$tmp"
}
trap cleanup EXIT
make -s tests/tools/load-check >/dev/null || fail "build tests/tools/load-check"
LC=tests/tools/load-check
[ "$(redis-cli PING)" = PONG ] || fail "redis is not up on 127.0.0.1:6379 (pancake up)"
curl -sf "$ES/_cluster/health" >/dev/null || fail "elasticsearch is not up on $ES (pancake up)"
cleanup; tmp=$(mktemp -d)
$PANCAKE data gen --users 500 --items 300 --ratings 30000 --seed 3 --out "$tmp/d" >/dev/null || fail "data gen"

# what the source says, computed independently from the CSV
$PY - "$tmp/d" > "$tmp/expect" <<'PY'
import csv, sys, collections
d = sys.argv[1]
cnt = collections.Counter(); tot = collections.Counter(); users = set()
for r in csv.DictReader(open(d + "/ratings.csv")):
    cnt[r["movieId"]] += 1; tot[r["movieId"]] += float(r["rating"]); users.add(r["userId"])
movies = list(csv.DictReader(open(d + "/movies.csv")))
top = max(cnt, key=lambda k: (cnt[k], k))
drama = sum(1 for m in movies if "Drama" in m["genres"].split("|"))
print(sum(cnt.values()), len(movies), len(users), top, cnt[top], "%.4f" % (tot[top] / cnt[top]), drama)
PY
read n_ratings n_movies n_users top top_count top_mean n_drama < "$tmp/expect"
echo "source: $n_ratings ratings, $n_movies movies, $n_users users; item $top: $top_count ratings, mean $top_mean; $n_drama Drama"

check_all() {
	# the loaders' own counts (exit 1 when they differ from the dataset)
	$LC count redis "$tmp/d" $ds || fail "redis counts differ from the source"
	$LC count elasticsearch "$tmp/d" $ds || fail "elasticsearch counts differ from the source"
	# redis-cli
	[ "$(redis-cli ZCARD pk:$ds:popular)" = "$n_movies" ] || fail "ZCARD popular != $n_movies"
	[ "$(redis-cli HGET pk:$ds:item:$top count)" = "$top_count" ] || fail "HGET item:$top count != $top_count"
	[ "$(redis-cli HGET pk:$ds:item:$top mean)" = "$top_mean" ] || fail "HGET item:$top mean != $top_mean"
	[ "$(redis-cli ZSCORE pk:$ds:popular $top)" = "$top_count" ] || fail "ZSCORE popular $top != $top_count"
	nu=$(redis-cli --scan --pattern "pk:$ds:user:*:rated" | wc -l)
	[ "$nu" = "$n_users" ] || fail "redis has $nu user sets, not $n_users"
	sum=$(redis-cli --scan --pattern "pk:$ds:user:*:rated" | sed 's/^/SCARD /' | redis-cli | paste -sd+ | bc)
	[ "$sum" = "$n_ratings" ] || fail "SCARD over user sets sums to $sum, not $n_ratings"
	pass "redis-cli: ZCARD $n_movies, item $top count/mean, $nu user sets holding $sum ratings"
	# curl
	c=$(curl -s "$ES/$idx/_count" | $PY -c 'import json,sys; print(json.load(sys.stdin)["count"])')
	[ "$c" = "$n_movies" ] || fail "curl _count $c != $n_movies"
	g=$(curl -s -H 'Content-Type: application/json' "$ES/$idx/_count" \
		-d '{"query":{"term":{"genres":"Drama"}}}' | $PY -c 'import json,sys; print(json.load(sys.stdin)["count"])')
	[ "$g" = "$n_drama" ] || fail "term query genres=Drama counts $g, the CSV $n_drama"
	doc=$(curl -s "$ES/$idx/_doc/$top" | $PY -c 'import json,sys; s=json.load(sys.stdin)["_source"]; print(s["rating_count"], "%.4f" % s["rating_mean"])')
	[ "$doc" = "$top_count $top_mean" ] || fail "document $top has '$doc', the CSV '$top_count $top_mean'"
	pass "curl: _count $c, genres=Drama $g, document $top rating count and mean match the CSV"
}

$LC load redis "$tmp/d" $ds || fail "redis load"
$LC load elasticsearch "$tmp/d" $ds || fail "elasticsearch load"
check_all
keys1=$(redis-cli --scan --pattern "pk:$ds:*" | wc -l)
v1=$(curl -s "$ES/$idx/_doc/$top" | $PY -c 'import json,sys; print(json.load(sys.stdin)["_version"])')
# a second load of the same data: same keys, same counts, no new documents
$LC load redis "$tmp/d" $ds || fail "second redis load"
$LC load elasticsearch "$tmp/d" $ds || fail "second elasticsearch load"
check_all
keys2=$(redis-cli --scan --pattern "pk:$ds:*" | wc -l)
[ "$keys1" = "$keys2" ] || fail "redis key count changed on a re-run: $keys1 -> $keys2"
v2=$(curl -s "$ES/$idx/_doc/$top" | $PY -c 'import json,sys; print(json.load(sys.stdin)["_version"])')
[ "$v2" -gt "$v1" ] || fail "document $top was not rewritten (version $v1 -> $v2)"
pass "a second load rewrote in place: $keys2 redis keys, document $top version $v1 -> $v2, counts unchanged"

# elasticsearch unreachable: the message names the URL and the way out
set +e; out=$($LC load elasticsearch "$tmp/d" $ds 1 2>&1); rc=$?; set -e
echo "$out"
[ $rc -ne 0 ] && echo "$out" | grep -q "cannot reach elasticsearch at 'http://127.0.0.1:1'.*is the container running" \
	|| fail "unreachable elasticsearch not reported with its URL"
pass "unreachable elasticsearch: clear message naming the URL"
# redis unreachable likewise
set +e; out=$($LC load redis "$tmp/d" $ds 1 2>&1); rc=$?; set -e
echo "$out"
[ $rc -ne 0 ] && echo "$out" | grep -q "cannot reach redis at '127.0.0.1:1'" || fail "unreachable redis not reported"
pass "unreachable redis: clear message naming the address"

# a per-item error inside a 200 bulk answer is detected, with the item's _id
curl -s -XPUT "$ES/$bad" -H 'Content-Type: application/json' \
	-d '{"settings":{"number_of_replicas":0},"mappings":{"properties":{"year":{"type":"integer"}}}}' >/dev/null
set +e; out=$($LC es-bad-item 9200 $bad 2>&1); rc=$?; set -e
echo "$out"
[ $rc -eq 0 ] || fail "a bulk item error was not reported with its _id and type"
pass "bulk item error detected: _id bad-7, type and reason quoted"

# an error reply inside the pipeline fails the load and quotes the command
redis-cli DEL pk:$ds:item:$top >/dev/null; redis-cli RPUSH pk:$ds:item:$top x >/dev/null
set +e; out=$($LC load redis "$tmp/d" $ds 2>&1); rc=$?; set -e
echo "$out"
[ $rc -ne 0 ] && echo "$out" | grep -q "refused 'HSET pk:$ds:item:$top .*WRONGTYPE" || fail "a redis error reply was not reported with its command"
pass "a redis error reply fails the load and names the command"
