#!/bin/bash
# bench-load-kafka: 3M ratings (BENCH_SHAPE picks a shape) into Kafka with the pancake loader
# (tests/tools/kafka-load-check) and with the anchor, `kcat -P` with the same
# producer settings (acks=all, idempotence, lz4, linger 20 ms) piping the same
# key and value lines (key = user, value = user,item,stars,timestamp), each into
# a fresh one-partition topic per run, runs alternating, medians compared.
# kcat gets the loader's exact records (values end in ",seq,dataset", what a
# resume reads). Prints figures, asserts nothing.
set -eu
cd "$(dirname "$0")/../.."
CHECK=tests/tools/kafka-load-check
BROKER=127.0.0.1:9092
make -s "$CHECK"
tmp=$(mktemp -d "${TMPDIR:-/tmp}/pancake-bench-kafka-XXXXXX")
ours=bench-pancake-$$
theirs=bench-kcat-$$
trap 'rm -rf "$tmp"' EXIT
now() { date +%s.%N; }
calc() { awk "BEGIN { printf \"%.2f\", $1 }"; }

if [ -n "${BENCH_SHAPE:-}" ]; then
	./pancake data gen --shape "$BENCH_SHAPE" --seed 1 --out "$tmp/d" >/dev/null
else
	# 3M ratings: long enough that connecting and the broker's hiccups do not decide
	./pancake data gen --users 20000 --items 8000 --ratings 3M --seed 1 --out "$tmp/d" >/dev/null
fi
# the anchor's input, made before the clock starts: the very records the
# loader produces, "user<TAB>user,item,stars,ts,seq,dataset"
awk -F, 'NR > 1 { printf "%s\t%s,%s,%.1f,%s,%d,d\n", $1, $1, $2, $3, $4, NR - 2 }' "$tmp/d/ratings.csv" >"$tmp/lines"
n=$(wc -l <"$tmp/lines")

# runs alternate, each into fresh one-partition topics; medians are compared
runs=${BENCH_RUNS:-5}
median() { sort -g | awk '{ v[NR] = $1 } END { print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }
: >"$tmp/ours.s"; : >"$tmp/wall.s"; : >"$tmp/kcat.s"
for r in $(seq 1 "$runs"); do
	export PANCAKE_KAFKA_TOPIC=$ours-$r PANCAKE_KAFKA_PARTITIONS=1
	t0=$(now)
	$CHECK load "$tmp/d" >"$tmp/ours.out"
	t1=$(now)
	ours_load=$(awk '$1 == "written" { print $8 }' "$tmp/ours.out")
	ours_n=$(kcat -b $BROKER -C -t "$PANCAKE_KAFKA_TOPIC" -e -q | wc -l)
	$CHECK delete-topic "$PANCAKE_KAFKA_TOPIC" >/dev/null
	echo "$ours_load" >>"$tmp/ours.s"; calc "$t1 - $t0" >>"$tmp/wall.s"; echo >>"$tmp/wall.s"

	$CHECK create-topic "$theirs-$r" >/dev/null
	t0=$(now)
	kcat -b $BROKER -P -t "$theirs-$r" -K '\t' -X acks=all -X enable.idempotence=true \
		-X compression.codec=lz4 -X linger.ms=20 <"$tmp/lines"
	t1=$(now)
	kcat_n=$(kcat -b $BROKER -C -t "$theirs-$r" -e -q | wc -l)
	$CHECK delete-topic "$theirs-$r" >/dev/null
	calc "$t1 - $t0" >>"$tmp/kcat.s"; echo >>"$tmp/kcat.s"
	printf '  run %d: pancake %s s (%s records), kcat -P %s s (%s records)\n' "$r" "$ours_load" \
		"$ours_n" "$(tail -1 "$tmp/kcat.s")" "$kcat_n"
done
ours_load=$(median <"$tmp/ours.s"); ours_wall=$(grep . "$tmp/wall.s" | median); kcat_s=$(grep . "$tmp/kcat.s" | median)

printf 'kafka load, %s ratings, 1 partition, acks=all, idempotent, lz4; medians of %d runs\n' "$n" "$runs"
printf '  pancake loader: %s s (load; %s s with reading the CSV): %s ratings/s\n' \
	"$ours_load" "$ours_wall" "$(calc "$n / $ours_load")"
printf '  anchor kcat -P: %s s: %s ratings/s\n' "$kcat_s" "$(calc "$n / $kcat_s")"
printf '  ratio pancake/kcat: %s (load time), %s (with reading the CSV)\n' \
	"$(calc "$kcat_s / $ours_load")" "$(calc "$kcat_s / $ours_wall")"
