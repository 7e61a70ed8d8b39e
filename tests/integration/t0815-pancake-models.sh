#!/bin/bash
# t0815: `pancake models list` without the stack: it shows a registry the
# recommender trained into exactly as `recommender models list` does (the
# JSON compared with jq, the lines byte for byte), finds it the same ways
# (PANCAKE_MODELS, --registry), and a missing registry is an error naming
# where it looked and how to create one, exit 1, in JSON too.
. "$(dirname "$0")/lib.sh"
RECO=services/recommender/recommender
command -v jq >/dev/null || fail "jq is needed to compare the listings"
W=$(mktemp -d /tmp/t0815.XXXXXX)
trap 'rm -rf "$W"' EXIT
export PANCAKE_MODELS=$W/models
REG=$W/models/registry

# 1. no registry yet
rc=0; $PANCAKE models list > "$W/out" 2> "$W/err" || rc=$?
[ $rc = 1 ] || fail "a missing registry exits 1, not $rc"
grep -q "no model registry at '$REG'" "$W/err" && grep -q "recommender train NAME --register" "$W/err" \
	|| fail "the message names the place and the way out: $(cat "$W/err")"
[ ! -s "$W/out" ] || fail "nothing on stdout without --json: $(cat "$W/out")"
rc=0; $PANCAKE models list --json > "$W/out" 2>/dev/null || rc=$?
[ $rc = 1 ] || fail "a missing registry exits 1 under --json too, not $rc"
jq -e --arg reg "$REG" '.exit_code == 1 and (.error | contains($reg))
	and (.hint | contains("recommender train NAME --register"))' "$W/out" >/dev/null \
	|| fail "the JSON failure: $(cat "$W/out")"
rc=0; $PANCAKE models list --registry "$W/elsewhere" 2> "$W/err" >/dev/null || rc=$?
[ $rc = 1 ] && grep -q "no model registry at '$W/elsewhere'" "$W/err" || fail "--registry is where it looks"
pass "a missing registry: exit 1, where and how to create it, in JSON too"

rc=0; $PANCAKE models 2>/dev/null || rc=$?
[ $rc = 2 ] || fail "'models' alone is a usage error, not $rc"
rc=0; $PANCAKE models list extra 2>/dev/null || rc=$?
[ $rc = 2 ] || fail "'models list extra' is a usage error, not $rc"
pass "usage errors exit 2"

# 2. an empty registry: the same line from both
git init -q --bare "$W/empty"
$PANCAKE models list --registry "$W/empty" > "$W/p.txt" || fail "an empty registry lists"
$RECO models list --registry "$W/empty" > "$W/r.txt" || fail "recommender lists an empty registry"
cmp -s "$W/p.txt" "$W/r.txt" || fail "an empty registry differs: $(cat "$W/p.txt") vs $(cat "$W/r.txt")"
grep -q "no models in $W/empty yet" "$W/p.txt" || fail "an empty registry says so: $(cat "$W/p.txt")"
pass "an empty registry: the same line"

# 3. two models, one promoted
$PANCAKE data gen --shape ml-100k --seed 5 --out "$W/d" >/dev/null
$RECO train "$W/d" --biases --rank 4 --iters 2 --register >/dev/null 2>&1 || fail "train a"
$RECO train "$W/d" --implicit --rank 4 --iters 2 --register >/dev/null 2>&1 || fail "train b"
$RECO models promote >/dev/null || fail "promote the candidate"
$PANCAKE models list --json > "$W/p.json" || fail "pancake models list --json exits 0"
$RECO models list --json > "$W/r.json" || fail "recommender models list --json exits 0"
jq -e 'length == 2 and (.[0] | .production and .candidate and (.id | length == 40))
	and (.[1] | (.production | not) and .params.rank == 4 and (.metrics | has("rmse")))' \
	"$W/p.json" >/dev/null || fail "two models, the newest in production: $(cat "$W/p.json")"
[ "$(jq -S . "$W/p.json")" = "$(jq -S . "$W/r.json")" ] || fail "the JSON differs"
cmp -s "$W/p.json" "$W/r.json" || fail "the JSON text differs"
pass "--json: the same models, fields and values as the recommender's"

$PANCAKE models list > "$W/p.txt" || fail "pancake models list exits 0"
$RECO models list > "$W/r.txt" || fail "recommender models list exits 0"
cmp -s "$W/p.txt" "$W/r.txt" || fail "the lines differ: $(diff "$W/p.txt" "$W/r.txt")"
[ "$(wc -l < "$W/p.txt")" = 2 ] && grep -q '\[prod,cand\]' "$W/p.txt" || fail "two lines: $(cat "$W/p.txt")"
pass "the lines: the same as the recommender's"

# 4. --registry instead of PANCAKE_MODELS
unset PANCAKE_MODELS
$PANCAKE models list --json --registry "$REG" > "$W/p2.json" || fail "--registry DIR lists"
cmp -s "$W/p2.json" "$W/r.json" || fail "--registry DIR lists the same"
pass "--registry DIR finds the same registry"
