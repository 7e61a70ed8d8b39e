package pancake;

import java.io.PrintStream;
import java.util.Locale;

import org.apache.spark.ml.evaluation.RegressionEvaluator;
import org.apache.spark.ml.recommendation.ALS;
import org.apache.spark.ml.recommendation.ALSModel;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;

import static org.apache.spark.sql.functions.col;
import static org.apache.spark.sql.functions.isnan;

/**
 * The anchor of the ALS benchmark: Spark MLlib's ALS on one machine (local[T]).
 *
 * Reads TRAIN and TEST (CSV without a header, user,item,rating), fits ALS
 * once untimed (warm-up), then once with maxIter=1 and once with maxIter=N,
 * and reports the time per iteration as (t_N - t_1) / (N - 1), so that what
 * every fit does once (turning the cached rows into rating blocks, the
 * shuffles that build them, the final factors) cancels out. Held-out RMSE and
 * MAE are those of the N-iteration model on TEST, rows of users or items
 * unseen in TRAIN dropped.
 *
 * Prints one JSON line on stdout; everything else (Spark's log included)
 * goes to stderr.
 *
 * usage: SparkAls TRAIN TEST [--rank R] [--reg L] [--iters N] [--implicit]
 *                 [--alpha A] [--threads T] [--seed S] [--blocks B]
 */
public final class SparkAls {
    private static final String ENGINE = "spark-mllib-3.5.9";

    private String train;
    private String test;
    private int rank = 10;
    private double reg = 0.1;
    private int iters = 10;
    private boolean implicit = false;
    private double alpha = 1.0;
    private int threads = 2;
    private long seed = 1;
    private int blocks = 0; // 0: one per thread

    public static void main(String[] args) throws Exception {
        // Only the result line may reach stdout: whatever Spark or a library
        // prints on System.out goes to stderr instead.
        PrintStream out = System.out;
        System.setOut(System.err);
        SparkAls a = new SparkAls();
        try {
            a.parse(args);
        } catch (IllegalArgumentException e) {
            System.err.println("spark-als: " + e.getMessage());
            System.err.println("usage: SparkAls TRAIN.csv TEST.csv [--rank R] [--reg L] [--iters N]"
                    + " [--implicit] [--alpha A] [--threads T] [--seed S] [--blocks B]");
            System.exit(2);
        }
        String json = a.run();
        out.println(json);
        out.flush();
    }

    private void parse(String[] args) {
        java.util.List<String> pos = new java.util.ArrayList<>();
        for (int i = 0; i < args.length; i++) {
            String s = args[i];
            if (s.equals("--implicit")) {
                implicit = true;
                continue;
            }
            if (!s.startsWith("--")) {
                pos.add(s);
                continue;
            }
            if (i + 1 >= args.length)
                throw new IllegalArgumentException(s + " needs a value");
            String v = args[++i];
            try {
                switch (s) {
                    case "--rank": rank = Integer.parseInt(v); break;
                    case "--reg": reg = Double.parseDouble(v); break;
                    case "--iters": iters = Integer.parseInt(v); break;
                    case "--alpha": alpha = Double.parseDouble(v); break;
                    case "--threads": threads = Integer.parseInt(v); break;
                    case "--seed": seed = Long.parseLong(v); break;
                    case "--blocks": blocks = Integer.parseInt(v); break;
                    default: throw new IllegalArgumentException("unknown option " + s);
                }
            } catch (NumberFormatException e) {
                throw new IllegalArgumentException(s + ": not a number: " + v);
            }
        }
        if (pos.size() != 2)
            throw new IllegalArgumentException("want TRAIN and TEST, got " + pos.size() + " paths");
        train = pos.get(0);
        test = pos.get(1);
        if (rank < 1 || iters < 1 || threads < 1 || blocks < 0 || reg < 0 || alpha < 0)
            throw new IllegalArgumentException("rank, iters, threads must be >= 1; reg, alpha, blocks >= 0");
        if (blocks == 0)
            blocks = threads;
    }

    private static double seconds(long t0) {
        return (System.nanoTime() - t0) / 1e9;
    }

    private ALS als(int maxIter) {
        return new ALS()
                .setUserCol("user").setItemCol("item").setRatingCol("rating")
                .setRank(rank)
                .setRegParam(reg)
                .setMaxIter(maxIter)
                .setImplicitPrefs(implicit)
                .setAlpha(alpha)
                .setSeed(seed)
                .setNumUserBlocks(blocks)
                .setNumItemBlocks(blocks)
                .setCheckpointInterval(-1)
                .setColdStartStrategy("drop");
    }

    /** Fits and forces both factor tables; returns the seconds taken. (ALS
     *  caches the final factors itself; they are small and left to Spark.) */
    private static double timedFit(ALS als, Dataset<Row> data, ALSModel[] keep) {
        long t0 = System.nanoTime();
        ALSModel m = als.fit(data);
        m.userFactors().count();
        m.itemFactors().count();
        double s = seconds(t0);
        if (keep != null)
            keep[0] = m;
        return s;
    }

    private String run() {
        SparkSession spark = SparkSession.builder().appName("pancake-spark-als").getOrCreate();
        spark.sparkContext().setLogLevel("WARN");
        String master = spark.sparkContext().master();

        StructType schema = new StructType()
                .add("user", DataTypes.IntegerType, false)
                .add("item", DataTypes.IntegerType, false)
                .add("rating", DataTypes.FloatType, false);

        long t0 = System.nanoTime();
        Dataset<Row> tr = spark.read().schema(schema).option("header", "false")
                .option("mode", "FAILFAST").csv(train).cache();
        Dataset<Row> te = spark.read().schema(schema).option("header", "false")
                .option("mode", "FAILFAST").csv(test).cache();
        long trainRows = tr.count();
        long testRows = te.count();
        double loadS = seconds(t0);
        System.err.printf(Locale.ROOT, "spark-als: %s: read %d train, %d test rows in %.2f s%n",
                master, trainRows, testRows, loadS);

        double warmS = timedFit(als(1), tr, null);
        System.err.printf(Locale.ROOT, "spark-als: warm-up fit (1 iteration): %.2f s%n", warmS);
        double fit1S = timedFit(als(1), tr, null);
        System.err.printf(Locale.ROOT, "spark-als: fit 1 iteration: %.2f s%n", fit1S);
        ALSModel[] keep = new ALSModel[1];
        double fitNS = timedFit(als(iters), tr, keep);
        System.err.printf(Locale.ROOT, "spark-als: fit %d iterations: %.2f s%n", iters, fitNS);
        ALSModel model = keep[0];
        Double secPerIter = iters > 1 ? (fitNS - fit1S) / (iters - 1) : null;

        t0 = System.nanoTime();
        // NaN predictions are those of users or items that TRAIN does not
        // have: counted first with the "nan" strategy, then dropped.
        long nan = model.setColdStartStrategy("nan").transform(te)
                .filter(isnan(col("prediction"))).count();
        model.setColdStartStrategy("drop");
        Dataset<Row> pred = model.transform(te).cache();
        long predicted = pred.count();
        Double rmse = null;
        Double mae = null;
        if (predicted > 0) {
            RegressionEvaluator ev = new RegressionEvaluator()
                    .setLabelCol("rating").setPredictionCol("prediction");
            rmse = ev.setMetricName("rmse").evaluate(pred);
            mae = ev.setMetricName("mae").evaluate(pred);
        }
        double evalS = seconds(t0);
        System.err.printf(Locale.ROOT, "spark-als: evaluated %d of %d test rows in %.2f s%n",
                predicted, testRows, evalS);

        StringBuilder j = new StringBuilder("{");
        str(j, "engine", ENGINE);
        str(j, "master", master);
        num(j, "rank", rank);
        num(j, "reg", reg);
        num(j, "iters", iters);
        j.append("\"implicit\":").append(implicit).append(',');
        num(j, "alpha", alpha);
        num(j, "seed", seed);
        num(j, "blocks", blocks);
        num(j, "train_rows", trainRows);
        num(j, "test_rows", testRows);
        num(j, "predicted", predicted);
        num(j, "nan_predictions", nan);
        num(j, "load_s", round(loadS));
        num(j, "warmup_s", round(warmS));
        num(j, "fit_1_s", round(fit1S));
        num(j, "fit_n_s", round(fitNS));
        num(j, "sec_per_iter", secPerIter == null ? null : round(secPerIter));
        num(j, "rmse", rmse);
        num(j, "mae", mae);
        num(j, "eval_s", round(evalS));
        str(j, "blas", dev.ludovic.netlib.blas.BLAS.getInstance().getClass().getSimpleName());
        str(j, "lapack", dev.ludovic.netlib.lapack.LAPACK.getInstance().getClass().getSimpleName());
        str(j, "java", System.getProperty("java.version"));
        num(j, "max_heap_mb", Runtime.getRuntime().maxMemory() >> 20);
        j.setLength(j.length() - 1);
        j.append('}');

        pred.unpersist();
        tr.unpersist();
        te.unpersist();
        spark.stop();
        return j.toString();
    }

    private static Double round(double s) {
        return Math.round(s * 1e4) / 1e4;
    }

    private static void str(StringBuilder j, String k, String v) {
        j.append('"').append(k).append("\":\"");
        for (char c : v.toCharArray()) {
            if (c == '"' || c == '\\')
                j.append('\\').append(c);
            else if (c < 0x20)
                j.append(String.format(Locale.ROOT, "\\u%04x", (int) c));
            else
                j.append(c);
        }
        j.append("\",");
    }

    private static void num(StringBuilder j, String k, Number v) {
        j.append('"').append(k).append("\":");
        if (v == null || (v instanceof Double && (((Double) v).isNaN() || ((Double) v).isInfinite())))
            j.append("null");
        else if (v instanceof Double)
            j.append(String.format(Locale.ROOT, "%.6g", (Double) v).replaceFirst("(\\.\\d*?)0+(e|$)", "$1$2")
                    .replaceFirst("\\.(e|$)", "$1"));
        else
            j.append(v);
        j.append(',');
    }
}
