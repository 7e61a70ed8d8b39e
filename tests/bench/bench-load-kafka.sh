#!/bin/bash
# bench-load-kafka: 1M ratings (ml-1m shape) into Kafka with the pancake loader
# (tests/tools/kafka-load-check) and with the anchor, `kcat -P` with the same
# producer settings (acks=all, idempotence, lz4, linger 20 ms) piping the same
# key and value lines (key = user, value = user,item,stars,timestamp), each into
# a fresh one-partition topic. The loader's values also end in
# ",seq,dataset" (what its resume reads), which kcat's do not. Prints figures, asserts nothing.
set -eu
cd "$(dirname "$0")/../.."
CHECK=tests/tools/kafka-load-check
BROKER=127.0.0.1:9092
make -s "$CHECK"
tmp=$(mktemp -d "${TMPDIR:-/tmp}/pancake-bench-kafka-XXXXXX")
ours=bench-pancake-$$
theirs=bench-kcat-$$
trap '$CHECK delete-topic $ours >/dev/null 2>&1 || true; $CHECK delete-topic $theirs >/dev/null 2>&1 || true; rm -rf "$tmp"' EXIT
now() { date +%s.%N; }
calc() { awk "BEGIN { printf \"%.2f\", $1 }"; }

./pancake data gen --shape "${BENCH_SHAPE:-ml-1m}" --seed 1 --out "$tmp/d" >/dev/null
# the anchor's input, made before the clock starts: "user<TAB>user,item,stars,ts"
awk -F, 'NR > 1 { printf "%s\t%s,%s,%.1f,%s\n", $1, $1, $2, $3, $4 }' "$tmp/d/ratings.csv" >"$tmp/lines"
n=$(wc -l <"$tmp/lines")

export PANCAKE_KAFKA_TOPIC=$ours PANCAKE_KAFKA_PARTITIONS=1
t0=$(now)
$CHECK load "$tmp/d" >"$tmp/ours.out"
t1=$(now)
ours_wall=$(calc "$t1 - $t0")
ours_load=$(awk '$1 == "written" { print $8 }' "$tmp/ours.out")
ours_n=$(kcat -b $BROKER -C -t $ours -e -q | wc -l)

$CHECK create-topic $theirs
t0=$(now)
kcat -b $BROKER -P -t $theirs -K '\t' -X acks=all -X enable.idempotence=true \
	-X compression.codec=lz4 -X linger.ms=20 <"$tmp/lines"
t1=$(now)
kcat_s=$(calc "$t1 - $t0")
kcat_n=$(kcat -b $BROKER -C -t $theirs -e -q | wc -l)

printf 'kafka load, %s ratings, 1 partition, acks=all, idempotent, lz4\n' "$n"
printf '  pancake loader: %s records in %s s (load; %s s with reading the CSV): %s ratings/s\n' \
	"$ours_n" "$ours_load" "$ours_wall" "$(calc "$n / $ours_load")"
printf '  anchor kcat -P: %s records in %s s: %s ratings/s\n' "$kcat_n" "$kcat_s" "$(calc "$n / $kcat_s")"
printf '  ratio pancake/kcat: %s (load time), %s (with reading the CSV)\n' \
	"$(calc "$kcat_s / $ours_load")" "$(calc "$kcat_s / $ours_wall")"
