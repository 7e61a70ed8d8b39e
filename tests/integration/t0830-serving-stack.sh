#!/bin/bash
# t0830: the serving container as a stack member. `pancake up --wait` starts
# it from pancake/sandbox with the rest and it is ready (waiting for a model);
# once the recommender publishes, it loads the model from Redis by itself and
# a request returns the published recommendations; ps and the engine agree.
. "$(dirname "$0")/lib.sh"
RECO=services/recommender/recommender
W=$(mktemp -d /tmp/t0830.XXXXXX)
trap 'rm -rf "$W"' EXIT
export PANCAKE_MODELS=$W/models

$PANCAKE up --wait > "$W/up.log" 2>&1 || { cat "$W/up.log"; fail "up --wait with serving"; }
[ "$(service_field serving ready)" = True ] || fail "ps says serving is ready"
docker ps --filter label=io.pancake.service=serving --format '{{.Image}}' | grep -qx 'pancake/sandbox' \
	|| fail "the serving container runs pancake/sandbox"
curl -sf http://127.0.0.1:8080/healthz > /dev/null || fail "healthz on 127.0.0.1:8080"
pass "up --wait started the serving container from pancake/sandbox and it is ready"

$PANCAKE data gen --shape ml-100k --seed 31 --out "$W/ml-100k-s31" > /dev/null
D=$W/ml-100k-s31
$RECO train "$D" --biases --iters 5 --out "$W/m.model" --register > /dev/null 2>&1 || fail "train"
$RECO publish "$W/m.model" --data "$D" --top 10 --similar 5 > /dev/null 2>&1 || fail "publish"
V=$(redis-cli get pk:rec:current)
ver() { curl -s http://127.0.0.1:8080/readyz | $PY -c 'import json,sys; print(json.load(sys.stdin)["version"])'; }
wait_for 30 "the container loads model $V from redis" sh -c "[ \"\$(curl -s http://127.0.0.1:8080/readyz | $PY -c 'import json,sys; print(json.load(sys.stdin)[\"version\"])')\" = $V ]"
body=$(curl -s 'http://127.0.0.1:8080/recommendations/12?k=10')
echo "$body" | $PY -c '
import json, subprocess, sys
d = json.load(sys.stdin); v = sys.argv[1]
want = subprocess.run(["redis-cli", "zrevrange", "pk:rec:%s:user:12" % v, "0", "9"],
                      capture_output=True, text=True).stdout.split()
assert d["version"] == v and d["source"] in ("redis", "cache"), d
assert [str(i["item"]) for i in d["items"]] == want, (d["items"], want)
' "$V" || fail "the container returns the published list: $body"
pass "a request to the stack's serving returns the recommendations the recommender published ($V)"
curl -s http://127.0.0.1:8080/metrics | grep -q "pancake_model_info{variant=\"production\",version=\"$V\"" \
	|| fail "metrics name the model"
pass "the container's /metrics names the model it serves"
echo "t0830 passed"
