#!/bin/bash
# t0800: the recommender without the stack: train and evaluate on a
# generated dataset, beat the baseline, save and register models, promote,
# roll back and diff them (cross-checked with the git CLI), and refuse bad
# input (malformed ratings, an empty split, corrupt and truncated model
# files, unknown refs) with a message and a non-zero exit, moving no ref.
. "$(dirname "$0")/lib.sh"
RECO=services/recommender/recommender
W=$(mktemp -d /tmp/t0800.XXXXXX)
trap 'rm -rf "$W"' EXIT
export PANCAKE_MODELS=$W/models
REG=$W/models/registry

$PANCAKE data gen --shape ml-100k --seed 3 --out "$W/ml-100k-s3" >/dev/null
D=$W/ml-100k-s3

# explicit, with biases, registered
$RECO train "$D" --biases --rank 8 --iters 8 --out "$W/a.model" --register --json > "$W/a.json" \
	|| fail "train --biases exits 0"
$PY - "$W/a.json" <<'EOF' || fail "explicit training figures"
import json, math, sys
d = json.load(open(sys.argv[1]))
m, it = d["metrics"], d["iterations"]
assert len(it) == 8, len(it)
assert all(math.isfinite(i["loss"]) and math.isfinite(i["test_rmse"]) for i in it)
# weighted-lambda ALS is exact per half-step: the objective never rises
assert all(b["loss"] <= a["loss"] * (1 + 1e-4) for a, b in zip(it, it[1:])), [i["loss"] for i in it]
assert m["rmse"] < m["baseline_rmse"], (m["rmse"], m["baseline_rmse"])
assert 0 < m["mae"] < m["rmse"]
for k in ("precision@10", "recall@10", "ndcg@10", "map@10", "baseline_ndcg@10"):
    assert 0 <= m[k] <= 1, k
assert d["test_ratings"] > 0.15 * (d["train_ratings"] + d["test_ratings"])
assert d["params"]["biases"] is True and d["params"]["rank"] == 8
print("ok: rmse %.4f vs baseline %.4f, ndcg@10 %.4f" % (m["rmse"], m["baseline_rmse"], m["ndcg@10"]))
EOF
pass "explicit ALS beats the baseline's RMSE, loss non-increasing, metrics in range"
test -s "$W/a.model" || fail "the model file was written"

# implicit with CG, time split, registered
$RECO train "$D" --implicit --alpha 2 --solver cg --rank 16 --iters 6 --split time:0.2 \
	--out "$W/b.model" --register --json > "$W/b.json" || fail "train --implicit exits 0"
$PY - "$W/b.json" <<'EOF' || fail "implicit training figures"
import json, sys
d = json.load(open(sys.argv[1]))
m = d["metrics"]
assert "rmse" not in m
assert m["ndcg@10"] > m["baseline_ndcg@10"], (m["ndcg@10"], m["baseline_ndcg@10"])
assert d["params"]["solver"] == "cg" and d["params"]["split"] == "time"
print("ok: implicit ndcg@10 %.4f vs baseline %.4f" % (m["ndcg@10"], m["baseline_ndcg@10"]))
EOF
pass "implicit ALS (CG) ranks better than the baseline on a time split"

# the same seed and threads give the same model, bit for bit
$RECO train "$D" --biases --rank 8 --iters 8 --out "$W/a2.model" --json > /dev/null
$PY - "$W/a.model" "$W/a2.model" <<'EOF' || fail "deterministic factors"
import sys
a, b = open(sys.argv[1], "rb").read(), open(sys.argv[2], "rb").read()
# the header's time stamp (offset 56) and checksum (224..256) differ; factors must not
assert len(a) == len(b) and a[256:] == b[256:], "factor bytes differ"
EOF
pass "the same seed trains the same factors"

# registry: two models, candidate is the newest, no production yet
git --git-dir="$REG" rev-parse --verify -q refs/heads/production >/dev/null \
	&& fail "no production before a promote"
cand=$(git --git-dir="$REG" rev-parse refs/heads/candidate)
reg_b=$($PY -c 'import json,sys; print(json.load(open(sys.argv[1]))["registered"])' "$W/b.json")
[ "$cand" = "$reg_b" ] || fail "candidate is the last registered model ($cand vs $reg_b)"
[ "$(git --git-dir="$REG" rev-list --count refs/heads/models)" = 2 ] || fail "two model commits"
git --git-dir="$REG" ls-tree --name-only refs/heads/candidate | sort | tr '\n' ' ' \
	| grep -qx 'metrics.json model.bin params.json ' || fail "a model commit holds three files"
$RECO models list > "$W/list" || fail "models list"
grep -q 'candidate' "$W/list" && grep -q 'als implicit rank 16' "$W/list" || fail "list shows them"
pass "registry: two commits, candidate on the newest, git CLI agrees"

out=$($RECO models rollback 2>&1) && fail "rollback with no production fails"
echo "$out" | grep -q "production" || fail "rollback says why: $out"
$RECO models promote > /dev/null || fail "promote candidate"
[ "$(git --git-dir="$REG" rev-parse refs/heads/production)" = "$cand" ] || fail "production = candidate"
$RECO models promote candidate~1 > /dev/null || fail "promote the older model"
older=$(git --git-dir="$REG" rev-parse refs/heads/candidate~1)
[ "$(git --git-dir="$REG" rev-parse refs/heads/production)" = "$older" ] || fail "production moved back"
$RECO models rollback > /dev/null || fail "rollback"
[ "$(git --git-dir="$REG" rev-parse refs/heads/production)" = "$cand" ] || fail "rollback restores"
if $RECO models rollback >/dev/null 2>&1; then fail "a second rollback has nothing to go back to"; fi
[ "$(git --git-dir="$REG" rev-parse refs/heads/production)" = "$cand" ] || fail "a failed rollback moves nothing"
pass "promote, promote an older one, rollback, and a refused rollback moving nothing"

$RECO models diff candidate~1 candidate > "$W/diff" || fail "models diff"
grep -q '^implicit ' "$W/diff" && grep -q '^ndcg@10 ' "$W/diff" || fail "diff lists params and metrics"
$RECO models diff candidate~1 candidate --json | $PY -c '
import json,sys; d=json.load(sys.stdin); m=d["metrics"]["ndcg@10"]
assert abs(m["b"]-m["a"]-m["delta"]) < 1e-9, m' || fail "diff --json deltas add up"
pass "diff of two versions' metrics (text and JSON)"
$RECO models show production --json | $PY -c '
import json,sys; d=json.load(sys.stdin); assert d["production"] and d["params"]["kind"]=="implicit"' \
	|| fail "show production --json"

# bad input: each a message and a non-zero exit, and no ref moves
before=$(git --git-dir="$REG" for-each-ref --format='%(refname) %(objectname)')
mkdir -p "$W/bad"
cp "$D/movies.csv" "$W/bad/"
{ head -50 "$D/ratings.csv"; echo "1,1,7.5,978300760"; } > "$W/bad/ratings.csv"
out=$($RECO train "$W/bad" --register 2>&1) && fail "a rating of 7.5 is refused"
echo "$out" | grep -q "ratings.csv:51:" || fail "the refusal names file and line: $out"
out=$($RECO train "$W/nonexistent" --register 2>&1) && fail "a missing dataset is refused"
echo "$out" | grep -q "no dataset" || fail "missing dataset message: $out"
{ head -1 "$D/ratings.csv"; } > "$W/bad/ratings.csv"
out=$($RECO train "$W/bad" --register 2>&1) && fail "an empty training set is refused"
echo "$out" | grep -q "no ratings" || fail "empty set message: $out"
out=$($RECO train "$D" --rank 0 2>&1) && fail "rank 0 is refused"
echo "$out" | grep -q -- "--rank" || fail "rank message: $out"
out=$($RECO train "$D" --implicit --biases 2>&1) && fail "--implicit --biases is refused"
out=$($RECO models show deadbeef 2>&1) && fail "an unknown id is refused"
echo "$out" | grep -q "no model .deadbeef. in the registry" || fail "unknown id message: $out"
out=$($RECO models promote nosuchref 2>&1) && fail "an unknown ref is refused"
after=$(git --git-dir="$REG" for-each-ref --format='%(refname) %(objectname)')
[ "$before" = "$after" ] || fail "no ref moved through the failures"
pass "malformed, missing and empty data, bad options and unknown refs refused; no ref moved"

# corrupt and truncated model files
cp "$W/a.model" "$W/flip.model"
printf '\x55' | dd of="$W/flip.model" bs=1 seek=5000 conv=notrunc 2>/dev/null
out=$($RECO publish "$W/flip.model" --redis 127.0.0.1:1 2>&1) && fail "a flipped byte is refused"
echo "$out" | grep -q "checksum" || fail "corrupt model message: $out"
head -c 3000 "$W/a.model" > "$W/short.model"
out=$($RECO foldin "$W/short.model" 2>&1) && fail "a truncated model is refused"
echo "$out" | grep -q "truncated" || fail "truncated model message: $out"
out=$($RECO publish "$D/ratings.csv" 2>&1) && fail "a ratings file is not a model"
echo "$out" | grep -q "not a pancake model" || fail "not-a-model message: $out"
pass "corrupt, truncated and foreign model files refused with the reason"

# unreachable redis and kafka: clear messages, non-zero exits
out=$($RECO publish "$W/a.model" --data "$D" --redis 127.0.0.1:1 2>&1) && fail "publish to a closed port fails"
echo "$out" | grep -q "127.0.0.1:1" || fail "publish names the address: $out"
out=$(timeout 60 $RECO foldin "$W/a.model" --data "$D" --kafka 127.0.0.1:1 2>&1) && fail "foldin without kafka fails"
echo "$out" | grep -q "127.0.0.1:1" || fail "foldin names kafka's address: $out"
pass "unreachable redis and kafka: the address and a non-zero exit"
echo "t0800 passed"
