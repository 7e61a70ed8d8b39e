# t0720: the Kafka loader (core/load-kafka.c through tests/tools/kafka-load-check):
# a load counted by the loader and by kcat, a re-run that writes nothing, a
# load interrupted with SIGINT that resumes to exactly the source with no
# duplicate sequence number (the fifth field of the value; one and three
# partitions), another dataset refused, and
# an unreachable broker named within the timeout. Each run uses its own
# topics (PANCAKE_KAFKA_TOPIC), deleted at the end.
. "$(dirname "$0")/lib.sh"
CHECK=tests/tools/kafka-load-check
BROKER=127.0.0.1:9092
make -s "$CHECK" || fail "make $CHECK"
command -v kcat >/dev/null || fail "kcat is not installed"
tmp=$(mktemp -d "${TMPDIR:-/tmp}/pancake-t0720-XXXXXX")
run=t0720-$$
topics=""
cleanup() {
	for t in $topics; do $CHECK delete-topic "$t" >/dev/null 2>&1 || true; done
	rm -rf "$tmp"
}
trap cleanup EXIT
use_topic() { export PANCAKE_KAFKA_TOPIC="$run-$1"; topics="$topics $PANCAKE_KAFKA_TOPIC"; }
kcat_count() { kcat -b $BROKER -C -t "$PANCAKE_KAFKA_TOPIC" -e -q | wc -l; }
# distinct seq over the records: value "user,item,stars,ts,seq,dataset"
kcat_distinct_seq() {
	kcat -b $BROKER -C -t "$PANCAKE_KAFKA_TOPIC" -e -q -f '%s\n' \
		| cut -d, -f5 | grep -E '^[0-9]+$' | sort -u | wc -l
}
# field NAME FILE: the number after NAME in the loader's summary line
field() { awk -v k="$1" '$1 == "written" { for (i = 1; i < NF; i++) if ($i == k) print $(i + 1) }' "$2"; }

$PANCAKE data gen --users 500 --items 300 --ratings 50000 --seed 5 --out "$tmp/small" >/dev/null \
	|| fail "data gen small"
$PANCAKE data gen --users 20000 --items 3000 --ratings 2M --seed 5 --out "$tmp/big" >/dev/null \
	|| fail "data gen big"

# a load, counted two ways
use_topic small
$CHECK load "$tmp/small" >"$tmp/load1" 2>&1 || { cat "$tmp/load1"; fail "load of 50000 ratings"; }
[ "$(field written "$tmp/load1")" = 50000 ] || { cat "$tmp/load1"; fail "first load did not write 50000"; }
pass "load: $(grep ^written "$tmp/load1")"
$CHECK count "$tmp/small" >"$tmp/count1"
grep -q "^count 50000 expect 50000: topic $PANCAKE_KAFKA_TOPIC: 50000 records" "$tmp/count1" \
	|| { cat "$tmp/count1"; fail "loader count"; }
n=$(kcat_count); [ "$n" -eq 50000 ] || fail "kcat counts $n records, not 50000"
pass "loader and kcat both count 50000"
kcat -b $BROKER -C -t "$PANCAKE_KAFKA_TOPIC" -e -q -c 1 -f '%k|%s\n' >"$tmp/first"
grep -Eq '^([0-9]+)\|\1,[0-9]+,[0-5]\.[05],[0-9]+,0,small$' "$tmp/first" \
	|| { cat "$tmp/first"; fail "record layout (key user, value user,item,stars,ts,seq,dataset)"; }
pass "record layout: $(cat "$tmp/first")"

# a second load writes nothing
$CHECK load "$tmp/small" >"$tmp/load2" 2>&1 || { cat "$tmp/load2"; fail "second load"; }
[ "$(field written "$tmp/load2")" = 0 ] && [ "$(field skipped "$tmp/load2")" = 50000 ] \
	|| { cat "$tmp/load2"; fail "second load was not 0 written, 50000 skipped"; }
n=$(kcat_count); [ "$n" -eq 50000 ] || fail "after a second load kcat counts $n"
pass "second load: 0 written, 50000 skipped, kcat still counts 50000"

# another dataset is refused, not mixed in
if $CHECK load "$tmp/big" >"$tmp/other" 2>&1; then fail "loading another dataset into the topic worked"; fi
grep -q "holds dataset 'small', not 'big'" "$tmp/other" || { cat "$tmp/other"; fail "refusal message"; }
n=$(kcat_count); [ "$n" -eq 50000 ] || fail "a refused load changed the count to $n"
pass "another dataset refused: $(grep ^error "$tmp/other" | cut -c1-90)..."

# interrupted with SIGINT, then resumed, on one and on three partitions
for parts in 1 3; do
	use_topic "big-$parts"
	export PANCAKE_KAFKA_PARTITIONS=$parts
	$CHECK load "$tmp/big" >"$tmp/int" 2>&1 &
	pid=$!
	# signal once records are arriving (the topic has a last record)
	i=0
	until kcat -b $BROKER -C -t "$PANCAKE_KAFKA_TOPIC" -o -1 -e -q -c 1 2>/dev/null | grep -q .; do
		i=$((i + 1)); [ $i -lt 300 ] || { kill -INT $pid; fail "no record arrived in 30 s"; }
		sleep 0.1
	done
	kill -INT $pid
	rc=0; wait $pid || rc=$?
	[ $rc -eq 2 ] || { cat "$tmp/int"; fail "interrupted load exited $rc, not 2"; }
	done_=$(field written "$tmp/int")
	grep -q "^error: interrupted: $done_ of 2000000 ratings are in kafka topic" "$tmp/int" \
		|| { cat "$tmp/int"; fail "interrupted message"; }
	[ "$done_" -gt 0 ] && [ "$done_" -lt 2000000 ] || { cat "$tmp/int"; fail "partial count $done_"; }
	n=$(kcat_count); [ "$n" -eq "$done_" ] || fail "after the interrupt kcat counts $n, the loader said $done_"
	pass "$parts partition(s): interrupted at $done_ of 2000000, kcat agrees"
	$CHECK load "$tmp/big" >"$tmp/resume" 2>&1 || { cat "$tmp/resume"; fail "resumed load"; }
	[ "$(field skipped "$tmp/resume")" = "$done_" ] \
		&& [ "$(field written "$tmp/resume")" = $((2000000 - done_)) ] \
		|| { cat "$tmp/resume"; fail "resume did not skip $done_ and write the rest"; }
	$CHECK count "$tmp/big" | grep -q "^count 2000000 expect 2000000" || fail "loader count after resume"
	n=$(kcat_count); [ "$n" -eq 2000000 ] || fail "after resume kcat counts $n"
	d=$(kcat_distinct_seq); [ "$d" -eq 2000000 ] || fail "after resume $d distinct seq, not 2000000"
	pass "$parts partition(s): resumed ($(grep ^written "$tmp/resume")); kcat: 2000000 records, 2000000 distinct seq"
done
unset PANCAKE_KAFKA_PARTITIONS

# unreachable broker: a clear message within the timeout
start=$(date +%s)
if $CHECK load "$tmp/small" --port 1 --timeout 3000 >"$tmp/unreach" 2>&1; then fail "load to port 1 worked"; fi
took=$(( $(date +%s) - start ))
grep -q "^error: kafka at '127.0.0.1:1' did not answer a metadata request within 3000 ms" "$tmp/unreach" \
	|| { cat "$tmp/unreach"; fail "unreachable message"; }
grep -q "is the broker running" "$tmp/unreach" || fail "the way out is not named"
[ $took -le 10 ] || fail "unreachable broker took ${took}s to report (timeout 3 s)"
pass "port 1: $(grep ^error "$tmp/unreach" | cut -c1-100)..."
