#!/bin/bash
# t0890: 'pancake export kubernetes' writes one manifest per service under
# services/ (StatefulSet for members with volumes, Deployment otherwise), each
# validated offline against Kubernetes' published schemas (npm
# kubernetes-models, tests/tools/k8s-validate); the validator rejects a broken
# one; a bad --out fails and leaves nothing behind. No engine needed.
. "$(dirname "$0")/lib.sh"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
VAL=tests/tools/k8s-validate

# the validator's packages: installed once, from npm's cache when it has them
if [ "$(id -u)" = 0 ]; then CACHE=${PANCAKE_CACHE:-/var/cache/pancake}; else CACHE=${PANCAKE_CACHE:-$HOME/.cache/pancake}; fi
if [ ! -d "$VAL/node_modules/kubernetes-models" ] || [ "$VAL/package-lock.json" -nt "$VAL/node_modules/.package-lock.json" ]; then
	command -v npm >/dev/null || fail "npm is not installed: the manifests cannot be validated (apt-get install npm)"
	(cd "$VAL" && npm ci --cache "$CACHE/npm" --prefer-offline --no-audit --no-fund --loglevel=error) \
		|| fail "npm ci in $VAL failed (is the npm registry reachable, or $CACHE/npm filled?)"
fi
validate() { node "$VAL/validate.mjs" "$@"; }

# 1. one file per service, with the expected kinds
out=$($PANCAKE export kubernetes --out "$tmp/k8s" --project t0890 2>&1) || { echo "$out"; fail "export exited $?"; }
n=0
for d in services/*/service.conf; do
	name=$(basename "$(dirname "$d")")
	f="$tmp/k8s/$name.json"
	# Redis's replica and Sentinels are Swarm machinery (swarm.only): not exported
	if grep -q '^swarm.only *= *yes' "$d"; then
		[ ! -e "$f" ] || fail "$name runs on a swarm only, yet has a manifest"
		continue
	fi
	[ -s "$f" ] || fail "no manifest for $name"
	if grep -q '^volume *=' "$d"; then want=StatefulSet; else want=Deployment; fi
	kinds=$(node -e 'const m=JSON.parse(require("fs").readFileSync(process.argv[1]));console.log(m.items.map(i=>i.kind).join(" "))' "$f")
	[ "$kinds" = "Service $want" ] || fail "$name: kinds '$kinds', want 'Service $want'"
	grep -q '"io.pancake.project": "t0890"' "$f" || fail "$name: no io.pancake.project label for --project"
	n=$((n + 1))
done
[ "$n" -ge 5 ] || fail "only $n services under services/"
[ "$(ls "$tmp/k8s"/*.json | wc -l)" = "$n" ] || fail "more manifests than services: $(ls "$tmp/k8s")"
grep -q 'kubectl apply' "$tmp/k8s/README.md" || fail "README.md does not say how to apply"
pass "$n manifests, one per service, StatefulSet for members with volumes, Deployment otherwise"
grep -q '"tcpSocket"' "$tmp/k8s/cassandra.json" && grep -q 'cannot speak' "$tmp/k8s/cassandra.json" \
	|| fail "cassandra's cql probe is not a tcpSocket probe with its annotation"
grep -q '"path": "/readyz"' "$tmp/k8s/serving.json" || fail "serving's http probe lost its path"
pass "probes: cql -> tcpSocket (annotated), http -> httpGet /readyz"

# 2. the validator can fail: a StatefulSet with replicas "two" is rejected
node -e 'const fs=require("fs");const m=JSON.parse(fs.readFileSync(process.argv[1]));m.items[1].spec.replicas="two";fs.writeFileSync(process.argv[2],JSON.stringify(m))' \
	"$tmp/k8s/kafka.json" "$tmp/broken.json"
set +e; res=$(validate "$tmp/broken.json" 2>&1); rc=$?; set -e
[ "$rc" = 1 ] || { echo "$res"; fail "the validator accepted replicas: \"two\" (exit $rc)"; }
echo "$res" | grep -q "broken.json.*replicas" || fail "the validator's refusal names neither the file nor the field: $res"
pass "the validator rejects replicas: \"two\", naming the file and the field"

# 3. every exported manifest validates against the schemas
res=$(validate "$tmp"/k8s/*.json 2>&1) || { echo "$res"; fail "an exported manifest does not validate"; }
echo "$res"
pass "all $n exported manifests validate against kubernetes-models' schemas"

# 4. a bad --out fails clearly and leaves nothing half-done
: > "$tmp/afile"
set +e; res=$($PANCAKE export kubernetes --out "$tmp/afile/k8s" 2>&1); rc=$?; set -e
[ "$rc" = 1 ] || fail "--out under a file exited $rc, want 1: $res"
echo "$res" | grep -q "pick another --out" || fail "the refusal names no way out: $res"
set +e; res=$($PANCAKE export kubernetes --out "$tmp/afile" 2>&1); rc=$?; set -e
[ "$rc" = 1 ] && echo "$res" | grep -q "'$tmp/afile' exists and is not a folder" || fail "--out a file: exit $rc: $res"
[ ! -s "$tmp/afile" ] || fail "the file given as --out was written"
ls -a "$tmp" | grep -q pancake-export && fail "a half-done export folder was left in $tmp"
set +e; res=$($PANCAKE export kubernetes --out "$tmp/k8s" --project 'Not OK' 2>&1); rc=$?; set -e
[ "$rc" = 2 ] || fail "--project 'Not OK' exited $rc, want 2: $res"
pass "bad --out (under a file, a file) exits 1 naming --out, nothing left behind; bad --project exits 2"
