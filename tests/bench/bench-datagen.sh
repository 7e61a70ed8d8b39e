#!/bin/bash
# bench-datagen: `pancake data gen` of an ML-20M shape (ratings/s, MB/s) and
# `pancake data info` reading it back, each beside an anchor measured in the
# same run on the same disk: dd writing as many bytes from /dev/zero, and
# `wc -l` reading the same ratings.csv. Prints figures, asserts nothing.
set -eu
cd "$(dirname "$0")/../.."
P=./pancake
shape=${BENCH_SHAPE:-ml-20m}
tmp=$(mktemp -d "${TMPDIR:-/tmp}/pancake-bench-datagen-XXXXXX")
trap 'rm -rf "$tmp"' EXIT
now() { date +%s.%N; }
calc() { awk "BEGIN { printf \"%.2f\", $1 }"; }

t0=$(now)
$P data gen --shape "$shape" --seed 1 --out "$tmp/d" >/dev/null
t1=$(now)
ratings=$(awk -F' = ' '$1 == "ratings" { print $2 }' "$tmp/d/dataset.txt")
bytes=$(cat "$tmp/d/ratings.csv" "$tmp/d/movies.csv" | wc -c)
gen=$(calc "$t1 - $t0")

t0=$(now)
dd if=/dev/zero of="$tmp/zero" bs=4M count=$(( (bytes + 4194303) / 4194304 )) status=none
t1=$(now)
rm -f "$tmp/zero"
dd_s=$(calc "$t1 - $t0")

t0=$(now)
$P data info "$tmp/d" --json >"$tmp/info.json"
t1=$(now)
info=$(calc "$t1 - $t0")
read_s=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["read_seconds"])' "$tmp/info.json")

t0=$(now)
wc -l <"$tmp/d/ratings.csv" >/dev/null
t1=$(now)
wc_s=$(calc "$t1 - $t0")

mb=$(calc "$bytes / 1e6")
printf 'data gen %s: %s ratings, %s MB in %s s: %s M ratings/s, %s MB/s\n' "$shape" "$ratings" \
	"$mb" "$gen" "$(calc "$ratings / $gen / 1e6")" "$(calc "$mb / $gen")"
printf '  anchor dd (same bytes from /dev/zero): %s s, %s MB/s; gen/dd time ratio %s\n' \
	"$dd_s" "$(calc "$mb / $dd_s")" "$(calc "$gen / $dd_s")"
printf 'data info (read back, CSV): %s s for the command, %s s in dataset_read: %s M ratings/s, %s MB/s\n' \
	"$info" "$read_s" "$(calc "$ratings / $read_s / 1e6")" "$(calc "$mb / $read_s")"
printf '  anchor wc -l ratings.csv: %s s, %s MB/s; read/wc time ratio %s\n' \
	"$wc_s" "$(calc "$mb / $wc_s")" "$(calc "$read_s / $wc_s")"
