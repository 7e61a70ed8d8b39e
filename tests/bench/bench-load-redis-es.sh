#!/bin/bash
# bench-load-redis-es: the redis loader against `redis-cli --pipe` of the same
# commands (RESP written by python from the CSV), and elasticsearch bulk
# indexing (the loader, and the es_bulk client posting the same ~1 MB bodies)
# against curl posting those bodies with xargs -P 4. Same data, one run.
# Prints rates and ratios, asserts nothing. Needs the stack up (pancake up).
set -eu
cd "$(dirname "$0")/../.."
P=./pancake
LC=tests/tools/load-check
ES=http://127.0.0.1:9200
ds=bench-load
idx=pk-bench-load-movies
users=${BENCH_USERS:-6040} items=${BENCH_ITEMS:-100000} ratings=${BENCH_RATINGS:-1000000}
tmp=$(mktemp -d "${TMPDIR:-/tmp}/pancake-bench-load-XXXXXX")
cleanup() {
	redis-cli --scan --pattern "pk:$ds:*" | xargs -r -n 1000 redis-cli DEL >/dev/null 2>&1 || true
	curl -s -XDELETE "$ES/$idx" >/dev/null 2>&1 || true
	rm -rf "$tmp"
}
trap cleanup EXIT
now() { date +%s.%N; }
calc() { awk "BEGIN { printf \"%.2f\", $1 }"; }
make -s tests/tools/load-check >/dev/null
$P data gen --users "$users" --items "$items" --ratings "$ratings" --seed 1 --out "$tmp/d" >/dev/null
echo "data: $users users, $items items, $ratings ratings"

# the same commands as load-redis.c, as RESP, and the bulk bodies, from the CSV
python3 - "$tmp/d" "$tmp" "$ds" <<'PY'
import csv, sys, collections, json, re, time
d, out, ds = sys.argv[1:4]
cnt = collections.Counter(); halves = collections.Counter(); byuser = collections.defaultdict(list)
for r in csv.DictReader(open(d + "/ratings.csv")):
    m = int(r["movieId"]); cnt[m] += 1; halves[m] += round(float(r["rating"]) * 2)
    byuser[int(r["userId"])].append(m)
movies = [(int(m["movieId"]), m["title"], m["genres"]) for m in csv.DictReader(open(d + "/movies.csv"))]
movies.sort()
f = open(out + "/redis.resp", "wb")
def cmd(*a):
    a = [str(x).encode() for x in a]
    f.write(b"*%d\r\n" % len(a) + b"".join(b"$%d\r\n%s\r\n" % (len(x), x) for x in a))
p = "pk:%s:" % ds
cmd("DEL", p + "popular:loading")
for m, _, _ in movies:
    c = cnt[m]; s = halves[m] / 2
    cmd("HSET", p + "item:%d" % m, "count", c, "sum", "%.1f" % s, "mean", "%.4f" % (s / c if c else 0))
for i in range(0, len(movies), 512):
    a = []
    for m, _, _ in movies[i:i + 512]: a += [cnt[m], m]
    cmd("ZADD", p + "popular:loading", *a)
cmd("RENAME", p + "popular:loading", p + "popular")
for u in sorted(byuser):
    k = p + "user:%d:rated" % u; its = byuser[u]
    cmd("DEL", k)
    for i in range(0, len(its), 512): cmd("SADD", k, *its[i:i + 512])
f.close()
n, body, part = 0, [], 0
def flush():
    global body, part
    if body:
        open("%s/bulk-%03d.ndjson" % (out, part), "w").write("".join(body)); part += 1; body = []
size = 0
for m, t, g in movies:
    y = re.search(r"\((\d{4})\)\s*$", t)
    doc = {"id": str(m), "title": re.sub(r"\s*\(\d{4}\)\s*$", "", t), "genres": [x for x in g.split("|") if x != "(no genres listed)"],
           "rating_count": cnt[m], "rating_mean": round(halves[m] / 2 / cnt[m], 4) if cnt[m] else 0.0}
    if y: doc["year"] = int(y.group(1))
    line = '{"index":{"_id":"%d"}}\n%s\n' % (m, json.dumps(doc)); body.append(line); size += len(line)
    if size >= 1 << 20: flush(); size = 0
flush()
PY
nbodies=$(ls "$tmp"/bulk-*.ndjson | wc -l)
ndocs=$(cat "$tmp"/bulk-*.ndjson | wc -l); ndocs=$((ndocs / 2))

runs=${BENCH_RUNS:-3}
median() { sort -g | awk '{ v[NR] = $1 } END { print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }
wipe_redis() { redis-cli --scan --pattern "pk:$ds:*" | xargs -r -n 1000 redis-cli DEL >/dev/null; }

echo "== redis ($ratings ratings; runs alternate from no keys, medians of $runs)"
: >"$tmp/r.ours"; : >"$tmp/r.pipe"
for r in $(seq 1 "$runs"); do
	wipe_redis
	out=$($LC load redis "$tmp/d" $ds | head -1)
	echo "$out" | sed -n 's/.* in \([0-9.]*\) s:.*/\1/p' >>"$tmp/r.ours"
	wipe_redis
	t0=$(now); redis-cli --pipe < "$tmp/redis.resp" >"$tmp/pipe.out"; t1=$(now)
	calc "$t1 - $t0" >>"$tmp/r.pipe"; echo >>"$tmp/r.pipe"
	echo "  run $r: pancake $(tail -1 "$tmp/r.ours") s, redis-cli --pipe $(grep . "$tmp/r.pipe" | tail -1) s ($(tail -1 "$tmp/pipe.out"))"
done
ours=$(median <"$tmp/r.ours"); pipe=$(grep . "$tmp/r.pipe" | median)
echo "pancake loader: $ours s, $(calc "$ratings / $ours") ratings/s"
echo "redis-cli --pipe: $pipe s, $(calc "$ratings / $pipe") ratings/s"
echo "redis: pancake/redis-cli --pipe = $(calc "$pipe / $ours")x"

echo "== elasticsearch ($ndocs documents in $nbodies bodies of ~1 MB, 4 in flight; medians of $runs)"
# each run starts from a fresh, empty index with the loader's mapping
fresh() {
	curl -s -XDELETE "$ES/$idx" >/dev/null
	curl -s -XPUT "$ES/$idx" -H 'Content-Type: application/json' -d '{"settings":{"number_of_shards":1,"number_of_replicas":0},
"mappings":{"properties":{"id":{"type":"keyword"},"title":{"type":"text","analyzer":"standard"},"genres":{"type":"keyword"},
"year":{"type":"integer"},"rating_count":{"type":"integer"},"rating_mean":{"type":"float"}}}}' >/dev/null
}
: >"$tmp/e.loader"; : >"$tmp/e.client"; : >"$tmp/e.curl"
for r in $(seq 1 "$runs"); do
	fresh
	out=$($LC load elasticsearch "$tmp/d" $ds | head -1)
	echo "$out" | sed -n 's/.* in \([0-9.]*\) s:.*/\1/p' >>"$tmp/e.loader"
	fresh
	out=$($LC es-bulk 9200 $idx "$tmp"/bulk-*.ndjson)
	echo "$out" | sed -n 's/.* in \([0-9.]*\) s.*/\1/p' >>"$tmp/e.client"
	fresh
	t0=$(now)
	ls "$tmp"/bulk-*.ndjson | xargs -P 4 -I{} curl -s -o /dev/null -H 'Content-Type: application/x-ndjson' \
		-XPOST "$ES/$idx/_bulk" --data-binary @{}
	t1=$(now)
	calc "$t1 - $t0" >>"$tmp/e.curl"; echo >>"$tmp/e.curl"
	echo "  run $r: loader (documents built from the ratings, then refresh) $(tail -1 "$tmp/e.loader") s," \
		"es_bulk $(tail -1 "$tmp/e.client") s, curl $(grep . "$tmp/e.curl" | tail -1) s"
done
loader=$(median <"$tmp/e.loader"); client=$(median <"$tmp/e.client"); anchor=$(grep . "$tmp/e.curl" | median)
echo "pancake loader: $loader s, es_bulk (same bodies): $client s, curl xargs -P 4: $anchor s ($(calc "$ndocs / $anchor") docs/s)"
echo "elasticsearch: es_bulk/curl = $(calc "$anchor / $client")x, loader/curl = $(calc "$anchor / $loader")x"
