#!/bin/bash
# t0817: `pancake models` runs the recommender's jobs on the real stack:
# train on lab-100k with one JSON line per iteration and the registry's
# candidate moved to the reported commit; a train cancelled with Ctrl-C
# after its first iteration moves no ref; promote and rollback move
# production and back (git reads the registry); diff and show say what the
# recommender says; publish points Redis's pk:rec:current at the reported
# version; fold-in counts ratings produced to Kafka while it runs, with
# finite event-to-Redis p50/p99. The project and ports come from the
# environment (PANCAKE_PROJECT, PANCAKE_REDIS_PORT_6379, ...), else the
# defaults. What it made is dropped at the end.
. "$(dirname "$0")/lib.sh"
RECO=services/recommender/recommender
for t in jq kcat redis-cli git; do command -v $t >/dev/null || fail "$t is needed"; done
W=$(mktemp -d /tmp/t0817.XXXXXX)
REDIS_PORT=${PANCAKE_REDIS_PORT_6379:-6379}
KAFKA_PORT=${PANCAKE_KAFKA_PORT_9092:-9092}
RCLI="redis-cli -p $REDIS_PORT"
TOPIC=t0817-ratings
DS=datasets/generated/lab-100k
export PANCAKE_MODELS=$W/models PANCAKE_STATE=$W/state PANCAKE_KAFKA_TOPIC=$TOPIC
REG=$W/models/registry
PID=
MADE_DS=
LOADED=
OLD_CURRENT=
V=
cleanup() {
	[ -n "$PID" ] && kill "$PID" 2>/dev/null && wait "$PID" 2>/dev/null
	[ -n "$LOADED" ] && { $PANCAKE data drop lab-100k --from kafka > /dev/null 2>&1 \
		|| echo "warning: topic $TOPIC was not dropped"; }
	# Redis as it was: the pointer back, this test's version's keys gone
	if [ -n "$V" ]; then
		if [ -n "$OLD_CURRENT" ]; then $RCLI set pk:rec:current "$OLD_CURRENT" > /dev/null
		elif [ "$($RCLI get pk:rec:current)" = "$V" ]; then $RCLI del pk:rec:current > /dev/null; fi
		drop_rec_versions "$REDIS_PORT" "$V"
	fi
	[ -n "$MADE_DS" ] && rm -rf "$DS"
	rm -rf "$W"
}
trap cleanup EXIT
[ -f models/lab-100k.model ] && stat -c %Y models/lab-100k.model > "$W/tree-model.mtime"
if [ ! -f "$DS/ratings.csv" ]; then
	MADE_DS=1
	$PANCAKE data gen --shape ml-100k --seed 1 --out "$DS" > /dev/null || fail "generate lab-100k"
fi
$PANCAKE up --wait redis kafka > "$W/up.log" 2>&1 || { cat "$W/up.log"; fail "redis and kafka up"; }

# 1. training, one JSON line per iteration, then the summary
$PANCAKE models train lab-100k --iters 8 --json > "$W/train.jsonl" 2> "$W/train.err" \
	|| fail "models train exits 0: $(cat "$W/train.err")"
jq -se '[.[] | select(.event == "iter")] | length == 8 and ([.[].iter] == [1,2,3,4,5,6,7,8])
	and all(.[]; .iters == 8 and (.loss | type) == "number" and .loss > 0
		and (.train_rmse | type) == "number" and (.test_rmse | type) == "number"
		and (.ndcg | type) == "number" and .seconds >= 0)
	and (.[-1].loss < .[0].loss)' "$W/train.jsonl" > /dev/null \
	|| fail "8 iter lines, 1..8, with finite figures and a loss that fell: $(cat "$W/train.jsonl")"
[ "$(head -1 "$W/train.jsonl" | jq -r .event)" = start ] || fail "the first line is the start event"
A=$(tail -1 "$W/train.jsonl" | jq -r 'select(.state == "done" and .job == "train") | .version')
[ ${#A} = 40 ] || fail "the summary names the registered commit: $(tail -1 "$W/train.jsonl")"
[ "$(jq -r 'select(.event == "done") | .version' "$W/train.jsonl")" = "$A" ] \
	|| fail "the done event and the summary agree"
[ "$(git --git-dir="$REG" rev-parse candidate)" = "$A" ] || fail "candidate moved to the reported $A"
[ -s "$PANCAKE_MODELS/lab-100k.model" ] || fail "the model file went to \$PANCAKE_MODELS"
if [ -f "$W/tree-model.mtime" ]; then
	[ "$(stat -c %Y models/lab-100k.model)" = "$(cat "$W/tree-model.mtime")" ] \
		|| fail "the tree's models/lab-100k.model was left alone"
else
	[ ! -e models/lab-100k.model ] || fail "no model file written in the tree's models/"
fi
pass "train: 8 iteration lines with a falling loss; candidate is the reported $A; the file in \$PANCAKE_MODELS"
jq -r 'select(.event == "iter") | "\(.iter) \(.loss)"' "$W/train.jsonl" | tr '\n' ' ' | sed 's/^/  loss per iteration: /'; echo

$PANCAKE models train lab-100k --rank 4 --iters 4 --lambda 0.2 > "$W/train2.out" 2>&1 \
	|| fail "a second train: $(cat "$W/train2.out")"
[ "$(grep -c '^  iter ' "$W/train2.out")" = 4 ] || fail "text: one line per iteration: $(cat "$W/train2.out")"
grep -q "^registered as .*candidate now points at it (4 iterations" "$W/train2.out" \
	|| fail "text: the summary: $(tail -1 "$W/train2.out")"
B=$(git --git-dir="$REG" rev-parse candidate)
[ "$B" != "$A" ] || fail "the second train moved candidate"
pass "train in text: an iteration a line, the summary; candidate is $B"

# 2. a cancelled train: Ctrl-C after its first iteration
count=$(git --git-dir="$REG" rev-list --count models)
$PANCAKE models train lab-100k --iters 10000 --json > "$W/cancel.jsonl" 2> "$W/cancel.err" &
PID=$!
wait_for 60 "the long train's first iteration" grep -q '"event":"iter"' "$W/cancel.jsonl"
kill -INT $PID
rc=0; wait $PID || rc=$?; PID=
[ $rc = 130 ] || fail "a cancelled train exits 130, not $rc: $(cat "$W/cancel.err")"
tail -1 "$W/cancel.jsonl" | jq -e '.state == "cancelled" and .moved == false and .version == ""' \
	> /dev/null || fail "the summary says cancelled, nothing moved: $(tail -1 "$W/cancel.jsonl")"
jq -se 'map(select(.event == "error"))[0].message | test("nothing was saved or registered")' \
	"$W/cancel.jsonl" > /dev/null || fail "the recommender said it saved nothing"
[ "$(git --git-dir="$REG" rev-parse candidate)" = "$B" ] || fail "a cancelled train moved candidate"
[ "$(git --git-dir="$REG" rev-list --count models)" = "$count" ] || fail "a cancelled train added a model"
git --git-dir="$REG" rev-parse -q --verify production > /dev/null && fail "production appeared"
pass "Ctrl-C after $(jq -s 'map(select(.event == "iter")) | length' "$W/cancel.jsonl") iteration(s): exit 130, no ref moved"

# 3. promote, then rollback: production moves and comes back
$PANCAKE models promote "$A" --json > "$W/p1.json" || fail "promote A"
jq -e --arg a "$A" '.ref == "production" and .action == "promote" and .before == null and .after == $a' \
	"$W/p1.json" > /dev/null || fail "promote A: $(cat "$W/p1.json")"
$PANCAKE models promote --json > "$W/p2.json" || fail "promote the candidate"
jq -e --arg a "$A" --arg b "$B" '.before == $a and .after == $b' "$W/p2.json" > /dev/null \
	|| fail "promote candidate: $(cat "$W/p2.json")"
[ "$(git --git-dir="$REG" rev-parse production)" = "$B" ] || fail "git: production is B after promote"
$PANCAKE models rollback --json > "$W/rb.json" || fail "rollback"
jq -e --arg a "$A" --arg b "$B" '.action == "rollback" and .before == $b and .after == $a' \
	"$W/rb.json" > /dev/null || fail "rollback: $(cat "$W/rb.json")"
[ "$(git --git-dir="$REG" rev-parse production)" = "$A" ] || fail "git: production is A after rollback"
$PANCAKE models promote "$B" > "$W/p3.out" || fail "promote B in text"
grep -q "^production: ${A:0:12} -> ${B:0:12} " "$W/p3.out" || fail "text: before and after: $(cat "$W/p3.out")"
[ "$(git --git-dir="$REG" rev-parse production)" = "$B" ] || fail "git: production is B again"
pass "promote and rollback: production A -> B -> A -> B, as git sees it"

# 4. diff and show: what the recommender says, and the registry's figures
$PANCAKE models diff "$A" "$B" --json > "$W/d.p" || fail "models diff --json"
$RECO models diff "$A" "$B" --json > "$W/d.r" || fail "recommender models diff --json"
cmp -s "$W/d.p" "$W/d.r" || fail "the diffs differ: $(diff "$W/d.p" "$W/d.r")"
ra=$(git --git-dir="$REG" show "$A:metrics.json" | jq .rmse)
rb=$(git --git-dir="$REG" show "$B:metrics.json" | jq .rmse)
jq -e --arg a "$A" --arg b "$B" --argjson ra "$ra" --argjson rb "$rb" '.a == $a and .b == $b
	and (.metrics.rmse.a - $ra | fabs) < 1e-9 and (.metrics.rmse.b - $rb | fabs) < 1e-9
	and .params.rank == [10, 4]' "$W/d.p" > /dev/null \
	|| fail "the diff holds the registry's rmse ($ra, $rb) and ranks: $(cat "$W/d.p")"
$PANCAKE models diff "$A" "$B" > "$W/dt.p" && $RECO models diff "$A" "$B" > "$W/dt.r" \
	&& cmp -s "$W/dt.p" "$W/dt.r" || fail "the text diffs differ"
$PANCAKE models show "$A" --json > "$W/s.p" && $RECO models show "$A" --json > "$W/s.r" \
	&& cmp -s "$W/s.p" "$W/s.r" || fail "show --json differs from the recommender's"
pass "diff and show: the recommender's bytes; rmse $ra -> $rb as metrics.json has them"

# 5. publish: pk:rec:current is the reported version
OLD_CURRENT=$($RCLI get pk:rec:current)
$PANCAKE models publish "$B" --json > "$W/pub.jsonl" 2> "$W/pub.err" || fail "publish: $(cat "$W/pub.err")"
V=$(tail -1 "$W/pub.jsonl" | jq -r 'select(.state == "done" and .job == "publish") | .version')
[ ${#V} = 12 ] || fail "the summary names the published version: $(tail -1 "$W/pub.jsonl")"
[ "$($RCLI get pk:rec:current)" = "$V" ] || fail "redis: pk:rec:current is $($RCLI get pk:rec:current), not $V"
jq -se 'map(select(.event == "publish")) | length >= 1 and (.[-1].done == .[-1].total)
	and .[-1].total > 0 and all(.[]; .done <= .total)' "$W/pub.jsonl" > /dev/null \
	|| fail "publish events up to done == total: $(cat "$W/pub.jsonl")"
lists=$(tail -1 "$W/pub.jsonl" | jq .lists)
[ "$($RCLI exists "pk:rec:$V:meta")" = 1 ] || fail "redis: the version's meta"
pass "publish: pk:rec:current -> $V, $lists lists at $(tail -1 "$W/pub.jsonl" | jq .rate) lists/s"

# 6. fold-in while ratings are produced to Kafka
LOADED=1
$PANCAKE data load lab-100k --into kafka > "$W/load.log" 2>&1 || { cat "$W/load.log"; fail "load the topic"; }
$PANCAKE models foldin "$B" --for 25 --json --verbose > "$W/fold.jsonl" 2> "$W/fold.err" &
PID=$!
wait_for 10 "fold-in names its log" grep -q '^log: ' "$W/fold.err"
LOG=$(sed -n 's/^log: \(.*\) (pid [0-9]*)$/\1/p' "$W/fold.err")
wait_for 20 "the fold-in consumer is ready" grep -q '^ready:' "$LOG"
# in the loader's record form (a sequence number past the dataset's, its
# name), so that 'data drop' recognises the topic as lab-100k's and empties it
for i in $(seq 1 60); do
	echo "$((i * 7 % 900 + 1)),$((i * 13 % 1500 + 1)),4,$(date +%s),$((900000000 + i)),lab-100k"
done | kcat -P -b "127.0.0.1:$KAFKA_PORT" -t "$TOPIC"
rc=0; wait $PID || rc=$?; PID=
[ $rc = 0 ] || fail "fold-in stopped by --for exits 0, not $rc: $(cat "$W/fold.err")"
jq -se 'map(select(.event == "foldin")) | length >= 2 and (.[-1].events > 0)
	and any(.[]; .events > 0 and (.p50_ms | type) == "number" and (.p99_ms | type) == "number"
		and .p50_ms >= 0 and .p50_ms <= .p99_ms)' "$W/fold.jsonl" > /dev/null \
	|| fail "fold-in events: ratings counted, finite p50 <= p99: $(cat "$W/fold.jsonl")"
jq -se --arg v "$V" 'map(select(.event == "done"))[0].version == $v' "$W/fold.jsonl" > /dev/null \
	|| fail "fold-in's done event names the version"
last=$(jq -sc 'map(select(.event == "foldin" and .p50_ms != null))[-1]' "$W/fold.jsonl")
pass "fold-in: $(jq .events <<< "$last") rating(s) folded, p50 $(jq .p50_ms <<< "$last") ms, p99 $(jq .p99_ms <<< "$last") ms"
echo "t0817 passed"
