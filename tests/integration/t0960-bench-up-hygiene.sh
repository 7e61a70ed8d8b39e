#!/bin/bash
# t0960: bench-up fails loudly when one of its steps fails and leaves the
# machine as it found it. Its memory phase (BENCH_RUNS=0: no timing runs)
# is made to fail at the load (a Kafka topic name Kafka refuses): the bench
# must exit non-zero naming the step, and no container, volume or network of
# its project (or of its compose project) may be left. Not a timing test.
. "$(dirname "$0")/lib.sh"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
before_default=$(docker ps -q --filter label=io.pancake.project=pancake | sort | tr '\n' ' ')
set +e
BENCH_RUNS=0 BENCH_SHAPE=ml-100k PANCAKE_KAFKA_TOPIC='not a topic!' timeout 900 bash tests/bench/bench-up.sh > "$tmp/out" 2> "$tmp/err"
rc=$?
set -e
tail -5 "$tmp/err"
[ $rc -ne 0 ] || fail "bench-up succeeded although its load could not write to kafka"
grep -q "bench-up: FAILED while loading it into kafka, cassandra, elasticsearch and redis" "$tmp/err" \
	|| fail "bench-up did not say which step failed"
for r in containers volumes networks; do
	n=$(labelled $r pcbench-up)
	[ "$n" -eq 0 ] || fail "bench-up left $n $r of its project behind"
done
[ -z "$(docker ps -aq --filter label=com.docker.compose.project=pcbench)" ] || fail "bench-up left compose containers"
after_default=$(docker ps -q --filter label=io.pancake.project=pancake | sort | tr '\n' ' ')
[ "$before_default" = "$after_default" ] || fail "bench-up touched the default project's containers"
pass "a failed load step: bench-up exits $rc naming the step; nothing of its own left, the default stack untouched"
