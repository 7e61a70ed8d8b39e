#!/bin/bash
# t0810: the recommender against the real Kafka and Redis. Train on an
# ML-1M-shaped dataset, register, promote and publish; redis-cli sees every
# user's list under the model's version. Then fold-in: a rating produced
# with kcat changes that user's list while the consumer runs, a new user
# gets a list, a malformed record is skipped, and offsets are committed
# (a restart with the same group folds nothing in again).
. "$(dirname "$0")/lib.sh"
RECO=services/recommender/recommender
W=$(mktemp -d /tmp/t0810.XXXXXX)
TOPIC=t0810-ratings
FPID=
cleanup() {
	[ -n "$FPID" ] && kill "$FPID" 2>/dev/null
	rm -rf "$W"
}
trap cleanup EXIT
export PANCAKE_MODELS=$W/models PANCAKE_KAFKA_TOPIC=$TOPIC

$PANCAKE up --wait kafka redis > "$W/up.log" 2>&1 || { cat "$W/up.log"; fail "kafka and redis up"; }
$PANCAKE data gen --shape ml-1m --seed 11 --out "$W/ml-1m-s11" > /dev/null
D=$W/ml-1m-s11
# the topic with the dataset's history, as 'data load' leaves it
$PANCAKE data drop ml-1m-s11 --from kafka > /dev/null 2>&1 || true
$PANCAKE data load "$D" --into kafka > "$W/load.log" 2>&1 || { cat "$W/load.log"; fail "load into kafka"; }

$RECO train "$D" --biases --iters 6 --out "$W/m.model" --register --json > "$W/train.json" \
	|| fail "train on ml-1m"
$RECO models promote > /dev/null || fail "promote"
$RECO publish production --data "$D" --top 10 --similar 5 --json > "$W/pub.json" || fail "publish production"
V=$(redis-cli get pk:rec:current)
$PY - "$W/pub.json" "$V" <<'EOF' || fail "publish summary"
import json, sys
d = json.load(open(sys.argv[1]))
assert d["version"] == sys.argv[2], (d["version"], sys.argv[2])
assert d["users"] == 6040 and d["lists"] == 6040 + d["items"], d
EOF
pass "published model $V; pk:rec:current points at it"

users=$(redis-cli --scan --pattern "pk:rec:$V:user:*" | wc -l)
[ "$users" = 6040 ] || fail "redis-cli counts 6040 user lists (got $users)"
[ "$(redis-cli zcard "pk:rec:$V:user:42")" = 10 ] || fail "a list holds the top 10"
[ "$(redis-cli zcard "pk:rec:$V:similar:1")" = 5 ] || fail "5 similar items"
[ "$(redis-cli hget "pk:rec:$V:meta" dataset)" = ml-1m-s11 ] || fail "meta names the dataset"
# the user's rated items are left out of their list
rated=$(awk -F, 'NR > 1 && $1 == 42 { print $2 }' "$D/ratings.csv" | sort -u)
for i in $(redis-cli zrevrange "pk:rec:$V:user:42" 0 -1); do
	echo "$rated" | grep -qx "$i" && fail "item $i rated by user 42 is recommended to them"
done
pass "redis-cli: 6040 lists of 10, similar items, meta, rated items left out"

# a second model: promote moves production to it, rollback moves it back
REG=$W/models/registry
first=$(git --git-dir="$REG" rev-parse refs/heads/production)
$RECO train "$D" --iters 3 --out "$W/m2.model" --register > /dev/null 2>&1 || fail "train a second model"
$RECO models promote > /dev/null || fail "promote the second"
second=$(git --git-dir="$REG" rev-parse refs/heads/production)
[ "$second" != "$first" ] && [ "$second" = "$(git --git-dir="$REG" rev-parse refs/heads/candidate)" ] \
	|| fail "production moved to the second model"
$RECO models rollback > /dev/null || fail "rollback"
[ "$(git --git-dir="$REG" rev-parse refs/heads/production)" = "$first" ] || fail "rollback restores the first"
pass "ML-1M models: promote and rollback move production"

# fold-in
$RECO foldin production --data "$D" --topic $TOPIC --group t0810-$$ --top 10 --json \
	> "$W/fold.json" 2> "$W/fold.err" &
FPID=$!
wait_for 60 "fold-in consumer ready" grep -q '^ready:' "$W/fold.err"
before=$(redis-cli zrevrange "pk:rec:$V:user:42" 0 -1 | tr '\n' ' ')
top=$(redis-cli zrevrange "pk:rec:$V:user:42" 0 0)
echo "42,$top,0.5,1700000000,900000001,ml-1m-s11" | kcat -P -b 127.0.0.1:9092 -t $TOPIC -k 42
changed() { [ "$(redis-cli zrevrange "pk:rec:$V:user:42" 0 -1 | tr '\n' ' ')" != "$before" ]; }
wait_for 30 "user 42's list changes after their rating of item $top" changed
redis-cli zrevrange "pk:rec:$V:user:42" 0 -1 | grep -qx "$top" && fail "the rated item left the list"
[ "$(redis-cli zcard "pk:rec:$V:user:42")" = 10 ] || fail "still 10 after the fold-in"

echo "not a rating" | kcat -P -b 127.0.0.1:9092 -t $TOPIC -k x
printf '%s\n' "999999,1,5,1700000000,900000002,ml-1m-s11" "999999,2,4.5,1700000000,900000003,ml-1m-s11" \
	| kcat -P -b 127.0.0.1:9092 -t $TOPIC -k 999999
wait_for 30 "a new user (999999) gets a list" sh -c "[ \"\$(redis-cli zcard pk:rec:$V:user:999999)\" = 10 ]"
redis-cli zrevrange "pk:rec:$V:user:999999" 0 -1 | grep -qx -e 1 -e 2 && fail "the new user's rated items are left out"
kill -INT $FPID
wait $FPID || fail "fold-in exits 0 on SIGINT"
FPID=
$PY - "$W/fold.json" <<'EOF' || fail "fold-in summary"
import json, sys
d = json.load(open(sys.argv[1]))
assert d["events"] == 3 and d["malformed"] == 1 and d["new_users"] == 1, d
lat = d["latency_ms"]
assert lat["count"] == 4 and 0 <= lat["p50"] <= lat["p99"] <= lat["max"], lat
print("ok: event to redis p50 %.1f ms, p99 %.1f ms" % (lat["p50"], lat["p99"]))
EOF
grep -q "partition .* offset .*not a rating" "$W/fold.err" || fail "the malformed record is named"
pass "fold-in: a rating changes the list, a new user gets one, a malformed record is skipped"

# committed offsets: the same group resumes after what it did
$RECO foldin production --data "$D" --topic $TOPIC --group t0810-$$ --duration 8 --json \
	> "$W/fold2.json" 2> "$W/fold2.err" || fail "second fold-in run"
$PY -c 'import json,sys; d=json.load(open(sys.argv[1])); assert d["events"] == 0 and d["malformed"] == 0, d' \
	"$W/fold2.json" || fail "nothing is folded in twice by the same group"
# a new group that starts at the beginning sees the history and the new records
$RECO foldin production --data "$D" --topic $TOPIC --group t0810b-$$ --from-beginning \
	--max-events 1000 --json > "$W/fold3.json" 2> "$W/fold3.err" || fail "from-beginning run"
$PY -c 'import json,sys; d=json.load(open(sys.argv[1])); assert d["events"] == 1000, d' \
	"$W/fold3.json" || fail "from the beginning: 1000 events"
pass "committed offsets: a restart folds in nothing again; --from-beginning replays"

$PANCAKE data drop ml-1m-s11 --from kafka > /dev/null 2>&1 || true

# training input from cassandra: the same ratings give the same factors as the files
$PANCAKE up --wait cassandra > "$W/up2.log" 2>&1 || { cat "$W/up2.log"; fail "cassandra up"; }
$PANCAKE data gen --shape ml-100k --seed 12 --out "$W/ml-100k-s12" > /dev/null
$PANCAKE data load "$W/ml-100k-s12" --into cassandra > "$W/load2.log" 2>&1 \
	|| { cat "$W/load2.log"; fail "load ml-100k-s12 into cassandra"; }
$RECO train "$W/ml-100k-s12" --split none --iters 4 --out "$W/f.model" --json > "$W/f.json" \
	|| fail "train from the files"
$RECO train ml-100k-s12 --from cassandra --split none --iters 4 --out "$W/c.model" --json \
	> "$W/c.json" || fail "train --from cassandra"
$PY - "$W/f.json" "$W/c.json" "$W/f.model" "$W/c.model" <<'EOF2' || fail "cassandra and files agree"
import json, sys
f, c = json.load(open(sys.argv[1])), json.load(open(sys.argv[2]))
assert f["train_ratings"] == c["train_ratings"] == 100000, (f["train_ratings"], c["train_ratings"])
a, b = open(sys.argv[3], "rb").read(), open(sys.argv[4], "rb").read()
# the header differs (time, fingerprint); the ids and factors must not
assert len(a) == len(b) and a[256:] == b[256:], "factors differ"
print("ok: 100000 ratings from cassandra, identical factors")
EOF2
out=$($RECO train no-such-dataset --from cassandra 2>&1) && fail "an absent dataset in cassandra is refused"
echo "$out" | grep -q "holds no ratings of 'no-such-dataset'" || fail "absent dataset message: $out"
$PANCAKE data drop ml-100k-s12 --from cassandra > /dev/null 2>&1 || true
pass "train --from cassandra: the same ratings and factors as from the files"
echo "t0810 passed"
