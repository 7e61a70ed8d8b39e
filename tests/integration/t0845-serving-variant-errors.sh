#!/bin/bash
# t0845: each mistake in serving's --variant gets its own true message, and
# usage errors exit 2, other failures 1: a model file that is not there, a
# directory, a revision with no registry and one the registry does not
# know, a weight that is no number above 0, two variants of one name, a
# --bind that is no address. A redis:VERSION that starts with a digit is a
# version, not a weight. No service is needed (--no-redis --no-kafka).
. "$(dirname "$0")/lib.sh"
RECO=services/recommender/recommender
SERV=services/serving/serving
W=$(mktemp -d /tmp/t0845.XXXXXX)
trap 'rm -rf "$W"' EXIT
export PANCAKE_MODELS=$W/models
D=$W/ml-100k-s61
$PANCAKE data gen --shape ml-100k --seed 61 --out "$D" > /dev/null
$RECO train "$D" --iters 2 --out "$W/a.model" > /dev/null 2>&1 || fail "train"

# run RC TEXT ARGS...: serving with ARGS exits RC and says TEXT
run() {
	want=$1 says=$2; shift 2
	set +e
	out=$(timeout 30 $SERV --no-redis --no-kafka --watch 0 --port 18259 --data "$D" "$@" 2>&1)
	rc=$?
	set -e
	echo "  [$rc] $(echo "$out" | head -1)"
	[ "$rc" = "$want" ] || fail "serving $* exits $want (got $rc): $out"
	echo "$out" | grep -qF -- "$says" || fail "serving $* says \"$says\": $out"
}
run 1 "no model file '$W/missing.model': no such file or directory" --variant main="$W/missing.model"
run 1 "'$W' is not a model file: it is a directory" --variant main="$W"
run 1 "no model registry at '$W/models/registry'" --variant main=production
run 2 "a variant's weight is a number > 0, not '-3'" --variant a="$W/a.model:-3"
run 2 "a variant's weight is a number > 0, not '0'" --variant a="$W/a.model:0"
run 2 "variant 'a' is given twice" --variant a="$W/a.model" --variant b="$W/a.model:2" \
	--variant a="$W/a.model"
run 2 "--bind is an IPv4 address, not 'nowhere'" --variant a="$W/a.model" --bind nowhere
run 1 "'redis:2d33f020ab57' needs redis" --variant a=redis:2d33f020ab57:2
pass "a missing file, a directory, no registry: their own messages, exit 1; a bad weight, a name twice, a bad --bind: exit 2"

$RECO train "$D" --iters 2 --out "$W/b.model" --register > /dev/null 2>&1 || fail "train --register"
run 1 "'prodution' is not a model in the registry" --variant main=prodution
run 1 "no model 'abcdef12' in the registry" --variant main=abcdef12
pass "a revision the registry does not know is named as such"
echo "t0845 passed"
