#!/bin/bash
# spark-als: the anchor of the ALS benchmark, Spark MLlib 3.5.9's ALS run on
# this machine (master local[T]), to set our native ALS against in the same run.
#
#   bash tests/bench/spark-als.sh TRAIN.csv TEST.csv [--rank R] [--reg L]
#        [--iters N] [--implicit] [--alpha A] [--threads T] [--seed S] [--blocks B]
#
# TRAIN and TEST: CSV without a header, lines user,item,rating (integer ids,
# float rating). Defaults: rank 10, reg 0.1, 10 iterations, explicit, alpha 1,
# 2 threads, seed 1, user and item blocks = threads.
#
# Prints one JSON line on stdout (see tests/bench/spark-als/src/main/java/
# pancake/SparkAls.java for its fields); Maven's and Spark's output go to stderr.
#
# The Maven project beside this script is built on first use (Spark and its
# dependencies, ~300 MB, come into ~/.m2) and again only when its pom.xml or
# sources change; the runtime classpath is kept in spark-als/target/.
#
# Environment:
#   SPARK_ALS_HEAP   the JVM heap, e.g. 6g (default: sized from the input files,
#                    1 GiB plus 24 bytes per input byte, at most 8 GiB)
#   JAVA             the java binary (default: java on PATH)
#   MVN              the mvn binary (default: mvn on PATH)
set -eu

here=$(cd "$(dirname "$0")" && pwd)
proj=$here/spark-als
target=$proj/target
JAVA=${JAVA:-java}
MVN=${MVN:-mvn}

usage() {
    echo "usage: bash tests/bench/spark-als.sh TRAIN.csv TEST.csv [--rank R] [--reg L] [--iters N]" \
        "[--implicit] [--alpha A] [--threads T] [--seed S] [--blocks B]" >&2
    exit 2
}

# Only --threads matters here (the master); every option goes on to the
# program, which checks them all.
threads=2
files=()
args=("$@")
i=0
while [ $i -lt $# ]; do
    a=${args[$i]}
    case $a in
        -h|--help) usage ;;
        --implicit) ;;
        --threads)
            i=$((i + 1)); [ $i -lt $# ] || usage
            threads=${args[$i]} ;;
        --rank|--reg|--iters|--alpha|--seed|--blocks)
            i=$((i + 1)); [ $i -lt $# ] || usage ;;
        --*) echo "spark-als: unknown option $a" >&2; usage ;;
        *) files+=("$a") ;;
    esac
    i=$((i + 1))
done
[ ${#files[@]} -eq 2 ] || usage
case $threads in ''|*[!0-9]*|0) echo "spark-als: --threads wants a positive integer" >&2; exit 2 ;; esac
for f in "${files[@]}"; do
    [ -f "$f" ] && [ -r "$f" ] || { echo "spark-als: cannot read $f" >&2; exit 2; }
done

# Build (once, then whenever pom.xml or anything under src/ is newer than the
# stamp, or a jar of the kept classpath has gone from ~/.m2).
mkdir -p "$target"
exec 9>"$target/.build.lock"
flock 9
stamp=$target/.built
stale=
if [ ! -f "$stamp" ] || [ ! -s "$target/classpath.txt" ] || [ ! -f "$target/spark-als-1.jar" ]; then
    stale=1
elif [ -n "$(find "$proj/pom.xml" "$proj/src" -newer "$stamp" -print -quit)" ]; then
    stale=1
else
    # (classpath.txt has no final newline: read's status is 1 at its end)
    IFS=: read -r -a jars <"$target/classpath.txt" || true
    for j in "${jars[@]}"; do
        [ -f "$j" ] || { stale=1; break; }
    done
fi
if [ -n "$stale" ]; then
    echo "spark-als: building $proj (mvn package)" >&2
    t0=$(date +%s)
    rm -f "$stamp"
    "$MVN" -q -B -Dstyle.color=never -f "$proj/pom.xml" package >&2
    touch "$stamp"
    echo "spark-als: built in $(( $(date +%s) - t0 )) s" >&2
fi
cp="$target/spark-als-1.jar:$(cat "$target/classpath.txt")"
flock -u 9
exec 9>&-

# Heap: the cached rows, the rating blocks ALS builds from them (both sides)
# and the shuffles in between. Generous: ML-20M's 316 MB of CSV (16M + 4M
# rows) gets 8 GiB here and ran in 4 GiB too, peak RSS 4.7 GB at -Xmx8g.
heap=${SPARK_ALS_HEAP:-}
if [ -z "$heap" ]; then
    bytes=$(cat "${files[@]}" | wc -c)
    mb=$(( 1024 + bytes * 24 / 1048576 ))
    [ $mb -le 8192 ] || mb=8192
    heap=${mb}m
fi

tmp=$(mktemp -d "${TMPDIR:-/tmp}/pancake-spark-als-XXXXXX")
pid=
cleanup() {
    if [ -n "$pid" ]; then kill "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true; fi
    rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# Spark 3.5 on Java 17: the module openings Spark's own launcher adds.
jvm=(
    -Xmx"$heap"
    -XX:+IgnoreUnrecognizedVMOptions
    --add-opens=java.base/java.lang=ALL-UNNAMED
    --add-opens=java.base/java.lang.invoke=ALL-UNNAMED
    --add-opens=java.base/java.lang.reflect=ALL-UNNAMED
    --add-opens=java.base/java.io=ALL-UNNAMED
    --add-opens=java.base/java.net=ALL-UNNAMED
    --add-opens=java.base/java.nio=ALL-UNNAMED
    --add-opens=java.base/java.util=ALL-UNNAMED
    --add-opens=java.base/java.util.concurrent=ALL-UNNAMED
    --add-opens=java.base/java.util.concurrent.atomic=ALL-UNNAMED
    --add-opens=java.base/jdk.internal.ref=ALL-UNNAMED
    --add-opens=java.base/sun.nio.ch=ALL-UNNAMED
    --add-opens=java.base/sun.nio.cs=ALL-UNNAMED
    --add-opens=java.base/sun.security.action=ALL-UNNAMED
    --add-opens=java.base/sun.util.calendar=ALL-UNNAMED
    --add-exports=java.base/sun.nio.ch=ALL-UNNAMED
    -Djdk.reflect.useDirectMethodHandle=false
    -Dio.netty.tryReflectionSetAccessible=true
    # The pure-Java BLAS fallback is faster with the vector API, should the
    # system BLAS (libblas.so.3) not load.
    --add-modules=jdk.incubator.vector
    -Djava.io.tmpdir="$tmp"
)
# Spark: local, no UI, loopback only (scratch space: SPARK_LOCAL_DIRS below).
spark=(
    -Dspark.master="local[$threads]"
    -Dspark.app.name=pancake-spark-als
    -Dspark.ui.enabled=false
    -Dspark.ui.showConsoleProgress=false
    -Dspark.driver.host=127.0.0.1
    -Dspark.driver.bindAddress=127.0.0.1
    -Dspark.serializer=org.apache.spark.serializer.KryoSerializer
    -Dspark.sql.shuffle.partitions=$((threads * 2))
    -Dspark.eventLog.enabled=false
)

# One BLAS thread per Spark task thread (Spark's own advice for native BLAS).
export OPENBLAS_NUM_THREADS=1 OMP_NUM_THREADS=1 MKL_NUM_THREADS=1
export SPARK_LOCAL_IP=127.0.0.1 SPARK_LOCAL_HOSTNAME=localhost SPARK_LOCAL_DIRS=$tmp
echo "spark-als: java heap $heap, master local[$threads]" >&2
"$JAVA" "${jvm[@]}" "${spark[@]}" -cp "$cp" pancake.SparkAls "$@" </dev/null &
pid=$!
set +e
wait "$pid"
rc=$?
set -e
pid=
exit $rc
