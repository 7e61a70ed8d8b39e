#!/bin/bash
# t0565: the launcher's models screen (--pane models) on the real stack,
# driven in tmux with the keys its help lists. From an empty registry: t's
# form trains on lab-100k and the chart grows while it runs (two captures,
# the iteration counter and the loss marks advance), the model appears
# selected; a second one; p promotes (asked first, y), R rolls back, each
# checked with git against the registry and on the screen; P publishes and
# Redis's current pointer is the version shown; F folds in ratings produced
# with kcat and shows the count; c cancels a run and no ref moves.
. "$(dirname "$0")/lib.sh"
. tests/integration/lib-tmux.sh
state=$(mktemp -d /tmp/t0565.XXXXXX)
export PANCAKE_STATE=$state PANCAKE_MODELS=$state/models PANCAKE_KAFKA_TOPIC=t0565-ratings
REG=$PANCAKE_MODELS/registry
RPORT=${PANCAKE_REDIS_PORT_6379:-6379}
KPORT=${PANCAKE_KAFKA_PORT_9092:-9092}
SET=datasets/generated/lab-100k
made_set=
old_current=
published=
cleanup() {
	tui_cleanup
	# Redis as it was: the current pointer back, the lists published here gone
	if [ -n "$published" ]; then
		if [ -n "$old_current" ]; then
			redis-cli -p "$RPORT" set pk:rec:current "$old_current" > /dev/null
		else
			redis-cli -p "$RPORT" del pk:rec:current > /dev/null
		fi
		drop_rec_versions "$RPORT" $published
	fi
	$PANCAKE data drop lab-100k --from kafka > /dev/null 2>&1
	[ -n "$made_set" ] && rm -rf "$SET"
	rm -rf "$state"
}
trap cleanup EXIT

if [ ! -d "$SET" ]; then
	made_set=1
	$PANCAKE data gen --shape ml-100k --seed 1 --out "$SET" > /dev/null || fail "generate lab-100k"
fi
$PANCAKE up --wait redis kafka > "$state/up.log" 2>&1 || { cat "$state/up.log"; fail "redis and kafka up"; }
old_current=$(redis-cli -p "$RPORT" get pk:rec:current)
$PANCAKE data load lab-100k --into kafka > "$state/load.log" 2>&1 || { cat "$state/load.log"; fail "load lab-100k into kafka"; }

rev() { git --git-dir="$REG" rev-parse --verify -q "$1" 2> /dev/null || echo none; }
# the iteration counter on the screen, 0 before the first
iteration() { tui_capture; grep -oE 'iteration [0-9]+/' "$tui_tmp/screen" | grep -oE '[0-9]+' | tail -1 || echo 0; }
# the first series' marks ('*': train RMSE) inside the chart: below its legend, above its x axis
first_marks() {
	tui_capture
	$PY - "$tui_tmp/screen" <<'EOF'
import sys
lines = open(sys.argv[1]).read().splitlines()
top = next(i for i, l in enumerate(lines) if l.startswith("* train rmse"))
bottom = next(i for i in range(top, len(lines)) if lines[i].lstrip().startswith("++"))
print(sum(l.count("*") for l in lines[top + 1:bottom]))
EOF
}

tui_start 100 32 "./pancake launcher --pane models"
tui_wait 20 "the models screen did not open" "models: the registry"
tui_wait 10 "an empty registry is not said" "no models yet"
pass "an empty registry: the screen says so"

# the form: rank 200 and 40 iterations, so the run lasts a while
tui_keys t
tui_wait 5 "t did not open the training form" "train a model"
tui_wait 5 "the form does not default to lab-100k" "dataset +< lab-100k >"
tui_keys Down Down
tui_keys -N 12 Right
tui_wait 5 "Right did not raise the rank to 200" "rank +< 200 >"
tui_keys Down Down Down
tui_keys -N 30 Right
tui_wait 5 "Right did not raise the iterations to 40" "iterations +< 40 >"
tui_keys Enter
tui_wait 60 "the run's first iteration did not show" "iteration [1-9][0-9]*/40"
n1=$(iteration)
m1=$(first_marks)
deadline=$((SECONDS + 60))
until n2=$(iteration); [ "$n2" -ge $((n1 + 3)) ] || [ "$n2" -ge 40 ]; do
	[ $SECONDS -ge $deadline ] && fail "the iteration counter stayed at $n1"
	sleep 0.5
done
m2=$(first_marks)
[ "$m2" -gt "$m1" ] || fail "the chart did not grow: $m1 train RMSE marks at iteration $n1, $m2 at $n2"
pass "the chart grows while it trains: iteration $n1 -> $n2, train RMSE marks $m1 -> $m2"
grep -q "test rmse  x ndcg@10 (right)" "$tui_tmp/screen" || fail "the chart's legend lacks test rmse and ndcg@10"
grep -qE "^ *[0-9.]+\+" "$tui_tmp/screen" || fail "the chart's y axis has no values"
tui_keys g
tui_wait 5 "g did not switch the chart to the loss" "^\* loss  o ndcg@10 \(right\)"
tui_keys g
tui_wait 5 "g did not switch the chart back to the errors" "^\* train rmse  o test rmse"
pass "g switches the chart between the errors and the loss"
tui_wait 120 "the first run did not end registered" "trained lab-100k in [0-9.]+ s: registered [0-9a-f]{12}"
id1=$(grep -oE "registered [0-9a-f]{12}" "$tui_tmp/screen" | head -1 | cut -d' ' -f2)
case "$(rev candidate)" in "$id1"*) ;; *) fail "candidate is $(rev candidate), not the $id1 shown";; esac
tui_wait 10 "the new model is not in the list, selected" "^> $id1 +candidate"
pass "the model appears selected as the candidate: $id1"

# a second, shorter run (the form keeps its values)
tui_keys t
tui_wait 5 "t did not open the form again" "iterations +< 40 >"
tui_keys -N 32 Left
tui_wait 5 "Left did not lower the iterations to 8" "iterations +< 8 >"
tui_keys Enter
# the first run's outcome stays in the events: wait for another id
another() { grep -oE "trained lab-100k in [0-9.]+ s: registered [0-9a-f]{12}" "$tui_tmp/screen" \
	| grep -oE "[0-9a-f]{12}$" | grep -v "^$id1$" | head -1; }
deadline=$((SECONDS + 120))
until tui_capture; id2=$(another); [ -n "$id2" ]; do
	[ $SECONDS -ge $deadline ] && fail "the second run did not end registered"
	sleep 0.5
done
tui_wait 10 "the second model is not in the list, selected" "^> $id2 +candidate"
[ "$(grep -n " $id2 " "$tui_tmp/screen" | head -1 | cut -d: -f1)" -lt \
  "$(grep -n " $id1 " "$tui_tmp/screen" | head -1 | cut -d: -f1)" ] || fail "the newest is not listed first"
pass "a second model: $id2"

# promote the first: asked, then production moves and the list says so
[ "$(rev production)" = none ] || fail "production exists before any promote"
tui_keys Down p
tui_wait 5 "p did not ask" "promote $id1\? production \(none\) -> $id1"
[ "$(rev production)" = none ] || fail "production moved before y"
tui_keys y
tui_wait 10 "the promote did not report" "promoted: production \(none\) -> $id1"
case "$(rev production)" in "$id1"*) ;; *) fail "production is $(rev production) after promoting $id1";; esac
tui_wait 5 "the list does not show $id1 as production" "$id1 +prod"
pass "p y: production -> $id1 (git and the screen)"
tui_keys Up p
tui_wait 5 "p did not ask about $id2" "promote $id2\? production $id1 -> $id2"
tui_keys y
tui_wait 10 "the second promote did not report" "promoted: production $id1 -> $id2"
case "$(rev production)" in "$id2"*) ;; *) fail "production is $(rev production) after promoting $id2";; esac
tui_wait 5 "the list does not show $id2 as production" "$id2 +prod(uction)? cand"
pass "p y: production -> $id2"

# a no leaves it, a yes rolls back
tui_keys R
tui_wait 10 "R did not ask" "roll back\? production $id2 -> $id1"
tui_keys n
tui_wait 5 "n did not cancel the rollback" "rollback cancelled: no ref moved"
case "$(rev production)" in "$id2"*) ;; *) fail "a no moved production";; esac
tui_keys R
tui_wait 10 "R did not ask again" "roll back\? production $id2 -> $id1"
tui_keys y
tui_wait 10 "the rollback did not report" "rolled back: production $id2 -> $id1"
case "$(rev production)" in "$id1"*) ;; *) fail "production is $(rev production) after the rollback";; esac
tui_wait 5 "the list does not show $id1 as production again" "$id1 +prod"
pass "R y: production back to $id1 (git and the screen); n moves nothing"

# publish the production model: the version shown is Redis's current
tui_keys Down P
tui_wait 60 "the publish did not end" "published $id1 in [0-9.]+ s: version [0-9a-f]+ is current"
ver=$(grep -oE "version [0-9a-f]+ is current" "$tui_tmp/screen" | head -1 | cut -d' ' -f2)
published=$ver
grep -qE "lists \[#+\] 100.0%" "$tui_tmp/screen" || fail "the publish's bar is not full"
[ "$(redis-cli -p "$RPORT" get pk:rec:current)" = "$ver" ] \
	|| fail "redis's pk:rec:current is '$(redis-cli -p "$RPORT" get pk:rec:current)', the screen says $ver"
pass "P: published as $ver, redis's current pointer agrees"

# fold-in: ratings produced while it runs are counted on the screen
tui_keys F
tui_wait 30 "F did not start fold-in" "fold-in: [0-9]+ ratings folded|fold-in into production: starting"
deadline=$((SECONDS + 60))
i=0
until tui_capture; grep -qE "fold-in: [1-9][0-9]* ratings folded, event to redis p50 [0-9.]+ ms p99 [0-9.]+ ms" "$tui_tmp/screen"; do
	[ $SECONDS -ge $deadline ] && fail "no rating was counted folded"
	i=$((i + 1))
	echo "7,$((100 + i)),4.5,1700000000,9100000$i,lab-100k" | kcat -P -b "127.0.0.1:$KPORT" -t t0565-ratings -k 7
	sleep 1
done
pass "F: fold-in counts the ratings produced and shows p50/p99"
tui_keys F
tui_wait 20 "F did not stop fold-in" "fold-in stopped after [0-9]+ s: [1-9][0-9]* ratings folded"
pass "F again stops it"

# a cancelled run moves no ref
cand=$(rev candidate)
prod=$(rev production)
tui_keys t
tui_wait 5 "t did not open the form" "iterations +< 8 >"
tui_keys -N 32 Right
tui_wait 5 "Right did not raise the iterations to 40" "iterations +< 40 >"
tui_keys Enter
tui_wait 60 "the run to cancel did not start iterating" "iteration [1-9][0-9]*/40"
tui_keys c
tui_wait 30 "c did not cancel the run" "training lab-100k cancelled after [0-9]+ s: no ref moved"
[ "$(rev candidate)" = "$cand" ] || fail "a cancelled run moved candidate: $cand -> $(rev candidate)"
[ "$(rev production)" = "$prod" ] || fail "a cancelled run moved production"
[ "$(git --git-dir="$REG" rev-list --count models)" = 2 ] || fail "a cancelled run registered a model"
pass "c: the run is cancelled, candidate and production stay"

tui_keys q
tui_ended 20 "q did not end the launcher"
[ "$(cat "$tui_tmp/rc")" = 0 ] || fail "the launcher exited with $(cat "$tui_tmp/rc")"
pgrep -f "recommender (train|foldin).*$state" > /dev/null && fail "a recommender job outlived the launcher"
pass "q quits with status 0, no job left behind"
echo "PASS t0565-launcher-models"
