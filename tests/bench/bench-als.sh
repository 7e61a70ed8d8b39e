#!/bin/bash
# bench-als: the native ALS beside Spark MLlib's ALS (local[2], same
# generated data, same split, rank, lambda and iterations) on an ML-1M and
# an ML-20M shape: seconds per iteration and held-out RMSE, with ratios.
# Then: implicit ALS at rank 64 on the ML-20M shape (Cholesky and CG), the
# normal-equation phase's GFLOP/s against this machine's sgemm peak, peak
# memory, and fold-in's event-to-Redis latency under a steady Kafka stream.
# Prints figures, asserts nothing.
#
#   BENCH_ALS_SHAPES   default "ml-1m ml-20m"
#   BENCH_ALS_ITERS    default 10
#   BENCH_FOLDIN_RATE  events per second of the steady stream (default 200)
#   BENCH_FOLDIN_N     events in it (default 3000)
#   BENCH_NO_SPARK=1   leave Spark out (no Java or Maven here)
set -eu
cd "$(dirname "$0")/../.."
P=./pancake
R=services/recommender/recommender
shapes=${BENCH_ALS_SHAPES:-ml-1m ml-20m}
iters=${BENCH_ALS_ITERS:-10}
rate=${BENCH_FOLDIN_RATE:-200}
nev=${BENCH_FOLDIN_N:-3000}
tmp=$(mktemp -d "${TMPDIR:-/tmp}/pancake-bench-als-XXXXXX")
FPID=
trap '[ -n "$FPID" ] && kill $FPID 2>/dev/null; rm -rf "$tmp"' EXIT
py() { python3 -c "$@"; }
field() { py 'import json,sys
d=json.load(open(sys.argv[1]))
for k in sys.argv[2].split("."): d=d[k]
print(d)' "$1" "$2"; }
calc() { awk "BEGIN { printf \"%.${2:-3}f\", $1 }"; }
# peak RSS in MB of a command, when GNU time is here (else "-")
timed() {
	out=$1; shift
	if [ -x /usr/bin/time ]; then
		/usr/bin/time -f %M -o "$out.rss" "$@"
	else
		echo 0 > "$out.rss"; "$@"
	fi
}
rss_mb() { calc "$(tail -1 "$1.rss") / 1024" 0; }

make -s -j2 all >/dev/null
$R peak --json > "$tmp/peak.json"
peak=$(field "$tmp/peak.json" gflops)
peak1=$(field "$tmp/peak.json" gflops_1_thread)
printf 'sgemm peak here: %.1f GFLOP/s on 2 threads (%.1f on 1)\n' "$peak" "$peak1"

spark=1
if [ "${BENCH_NO_SPARK:-0}" = 1 ] || ! command -v java >/dev/null || ! command -v mvn >/dev/null; then
	spark=0
	echo "Spark left out (BENCH_NO_SPARK=1, or no java/mvn: apt-get install default-jdk-headless maven)"
fi

echo
echo "== explicit ALS, rank 10, lambda 0.1, $iters iterations, random 80/20 split (seed 42)"
for shape in $shapes; do
	d=$tmp/$shape
	$P data gen --shape "$shape" --seed 1 --out "$d" >/dev/null
	$R split "$d" --split random:0.2 --seed 42 --out "$d/split" 2>/dev/null
	timed "$tmp/$shape-ours" $R train "$d" --rank 10 --lambda 0.1 --iters "$iters" \
		--split random:0.2 --seed 42 --threads 2 --eval-users 2000 \
		--out "$tmp/$shape.model" --json > "$tmp/$shape-ours.json" 2>/dev/null
	ours=$(py 'import json,sys
d=json.load(open(sys.argv[1])); it=d["iterations"]
print("%.4f %.4f %d %.1f" % (sum(i["seconds"] for i in it)/len(it), d["metrics"]["rmse"],
      d["test_ratings"], d["peak_rss_mb"]))' "$tmp/$shape-ours.json")
	set -- $ours
	o_sec=$1 o_rmse=$2 o_test=$3 o_rss=$4
	printf '  %-7s pancake: %.3f s/iter, RMSE %.4f (%s held out), peak %s MB\n' "$shape" \
		"$o_sec" "$o_rmse" "$o_test" "$o_rss"
	if [ $spark = 1 ]; then
		timed "$tmp/$shape-spark" bash tests/bench/spark-als.sh "$d/split/train.csv" \
			"$d/split/test.csv" --rank 10 --reg 0.1 --iters "$iters" --threads 2 \
			> "$tmp/$shape-spark.json" 2> "$tmp/$shape-spark.err" \
			|| { tail -5 "$tmp/$shape-spark.err"; echo "  Spark failed"; continue; }
		s_sec=$(field "$tmp/$shape-spark.json" sec_per_iter)
		s_rmse=$(field "$tmp/$shape-spark.json" rmse)
		s_test=$(field "$tmp/$shape-spark.json" test_rows)
		s_nan=$(field "$tmp/$shape-spark.json" nan_predictions)
		printf '  %-7s Spark:   %.3f s/iter, RMSE %.4f (%s held out, %s NaN before drop), peak %s MB\n' \
			"$shape" "$s_sec" "$s_rmse" "$s_test" "$s_nan" "$(rss_mb "$tmp/$shape-spark")"
		printf '  %-7s ratio:   pancake %.1fx faster per iteration; RMSE %+.2f%% of Spark'"'"'s\n' \
			"$shape" "$(calc "$s_sec / $o_sec" 2)" "$(calc "($o_rmse - $s_rmse) / $s_rmse * 100" 3)"
	fi
done

echo
echo "== implicit ALS on the ML-20M shape, rank 64, alpha 1, lambda 0.1, 5 iterations"
d=$tmp/ml-20m
[ -d "$d" ] || $P data gen --shape ml-20m --seed 1 --out "$d" >/dev/null
for solver in cg cholesky; do
	$R train "$d" --implicit --rank 64 --solver "$solver" --iters 5 --threads 2 \
		--eval-users 2000 --out "$tmp/imp-$solver.model" --json > "$tmp/imp-$solver.json" 2>/dev/null
	py 'import json,sys
d=json.load(open(sys.argv[1])); it=d["iterations"]; peak=float(sys.argv[3])
sec=sum(i["seconds"] for i in it)/len(it)
ne=sum(i["normal_equations_seconds"] for i in it); bl=sum(i["normal_equations_blas_seconds"] for i in it)
fl=sum(i["normal_equations_gflops"]*i["normal_equations_seconds"] for i in it)
print("  %-8s %.2f s/iter, ndcg@10 %.4f (baseline %.4f), peak %.0f MB" % (sys.argv[2], sec,
      d["metrics"]["ndcg@10"], d["metrics"]["baseline_ndcg@10"], d["peak_rss_mb"]))
if sys.argv[2] == "cholesky":
    print("  normal equations (gather + syrk): %.1f GFLOP/s = %.0f%% of the sgemm peak;"
          " the syrk part alone %.1f GFLOP/s = %.0f%%" % (fl/ne, 100*fl/ne/peak, fl/bl, 100*fl/bl/peak))
' "$tmp/imp-$solver.json" "$solver" "$peak"
done

echo
echo "== fold-in: event to Redis under a steady stream of $nev ratings at $rate/s"
$P up --wait kafka redis > "$tmp/up.log" 2>&1 || { cat "$tmp/up.log"; exit 1; }
topic=bench-foldin-$$
d=$tmp/ml-1m
[ -d "$d" ] || $P data gen --shape ml-1m --seed 1 --out "$d" >/dev/null
[ -s "$tmp/ml-1m.model" ] || $R train "$d" --iters 5 --out "$tmp/ml-1m.model" >/dev/null 2>&1
$R publish "$tmp/ml-1m.model" --data "$d" --similar 0 --no-current >/dev/null 2>&1
# the topic, made by a first (malformed, skipped) record: the consumer starts after it
echo "0,0,0" | kcat -P -b 127.0.0.1:9092 -t "$topic" 2>/dev/null
$R foldin "$tmp/ml-1m.model" --data "$d" --topic "$topic" --group bench-$$ --top 20 \
	--max-events "$nev" --duration 600 --json > "$tmp/fold.json" 2> "$tmp/fold.err" &
FPID=$!
for _ in $(seq 1 120); do grep -q '^ready:' "$tmp/fold.err" && break; sleep 0.5; done
grep -q '^ready:' "$tmp/fold.err" || { cat "$tmp/fold.err"; exit 1; }
# ratings of random known users and items, paced; librdkafka's linger is 1 ms
py 'import random, sys, time
n, rate = int(sys.argv[1]), float(sys.argv[2])
items = [int(l.split(",")[0]) for l in open(sys.argv[3]).readlines()[1:]]
rnd = random.Random(7); t0 = time.time()
for i in range(n):
    d = t0 + i / rate - time.time()
    if d > 0: time.sleep(d)
    sys.stdout.write("%d,%d,%.1f,%d,%d,bench\n" % (rnd.randint(1, 6040), rnd.choice(items), rnd.randint(1, 10) / 2, int(time.time()), i))
    sys.stdout.flush()' "$nev" "$rate" "$d/movies.csv" | kcat -P -b 127.0.0.1:9092 -t "$topic" -X linger.ms=1 2>/dev/null
wait $FPID || true
FPID=
py 'import json,sys
d=json.load(open(sys.argv[1])); l=d["latency_ms"]
print("  %d ratings folded in: p50 %.1f ms, p90 %.1f ms, p99 %.1f ms, max %.1f ms" % (d["events"], l["p50"], l["p90"], l["p99"], l["max"]))
print("  against Spark Streaming'"'"'s 20 s batches (the 2016 workshop'"'"'s setting, not run here):"
      " p99 %.0fx shorter than one batch interval" % (20000 / max(l["p99"], 0.001)))' "$tmp/fold.json"
