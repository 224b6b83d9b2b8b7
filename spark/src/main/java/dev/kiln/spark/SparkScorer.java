package dev.kiln.spark;

import dev.kiln.graph.Graph;
import dev.kiln.runtime.Session;
import dev.kiln.train.Saver;
import java.io.Serializable;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.NoSuchElementException;
import java.util.Objects;
import java.util.UUID;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.api.java.function.MapPartitionsFunction;
import org.apache.spark.broadcast.Broadcast;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Encoders;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.api.java.UDF1;
import org.apache.spark.sql.types.ArrayType;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;

/**
 * Batch inference with a Kiln graph on Spark: scores a column of examples (a number or an array of
 * numbers each, as the input placeholder takes one example) into a column of float arrays (the output
 * for each example, flattened). The model is broadcast once as graph text and checkpoint bytes; each
 * executor JVM builds one Session for it and reuses it for every partition and task.
 *
 * <pre>{@code
 * SparkScorer scorer = SparkScorer.of(spark, session, "x", "probabilities").withBatchSize(512);
 * Dataset<Row> scored = scorer.transform(images, "features", "scores");   // batched, mapPartitions
 * scorer.registerUdf(spark, "digit_scores");                              // SQL: digit_scores(features)
 * }</pre>
 */
public final class SparkScorer implements Serializable {
  private static final long serialVersionUID = 1L;
  private static final ArrayType SCORES = DataTypes.createArrayType(DataTypes.FloatType, false);

  private final Broadcast<ScoringModel> model;
  private final int batchSize;

  private SparkScorer(Broadcast<ScoringModel> model, int batchSize) {
    this.model = model;
    this.batchSize = batchSize;
  }

  /**
   * A scorer of {@code session}'s graph with its current variable values, feeding placeholder {@code
   * input} (shape {@code [-1, ...]}) and fetching {@code output} (its first dimension the batch); 256
   * examples per run.
   */
  public static SparkScorer of(SparkSession spark, Session session, String input, String output) {
    Graph g = session.graph();
    FeedSpec.resolve(g, Feed.of(input, "input"));
    g.output(Objects.requireNonNull(output, "SparkScorer: output is null"));
    ScoringModel m = new ScoringModel(UUID.randomUUID().toString(), g.toText(), Saver.toBytes(session), input, output);
    return new SparkScorer(JavaSparkContext.fromSparkContext(spark.sparkContext()).broadcast(m), 256);
  }

  /** The same model scoring {@code size} examples per Session run. */
  public SparkScorer withBatchSize(int size) {
    if (size < 1) {
      throw new IllegalArgumentException("SparkScorer: batch size must be at least 1, got " + size);
    }
    return new SparkScorer(model, size);
  }

  /** {@code data} with column {@code outputColumn} added: the scores of column {@code inputColumn}. */
  public Dataset<Row> transform(Dataset<Row> data, String inputColumn, String outputColumn) {
    StructType schema = data.schema();
    int in = schema.fieldIndex(inputColumn);
    StructType out = schema.add(outputColumn, SCORES, false);
    MapPartitionsFunction<Row, Row> f = rows -> new Batched(rows, in);
    return data.mapPartitions(f, Encoders.row(out));
  }

  /** Scores {@code examples} in batches: for {@code mapPartitions} over values of the input. */
  public Iterator<float[]> score(Iterator<?> examples) {
    ScoringModel.Loaded m = model.value().load();
    return new Iterator<>() {
      private final List<float[]> ready = new ArrayList<>();
      private int next;
      private long seen;

      @Override
      public boolean hasNext() {
        if (next < ready.size()) {
          return true;
        }
        ready.clear();
        next = 0;
        List<Object> batch = new ArrayList<>(batchSize);
        while (batch.size() < batchSize && examples.hasNext()) {
          batch.add(examples.next());
        }
        if (!batch.isEmpty()) {
          ready.addAll(m.score(batch, "examples " + seen + ".." + (seen + batch.size() - 1) + " of the partition"));
          seen += batch.size();
        }
        return !ready.isEmpty();
      }

      @Override
      public float[] next() {
        if (!hasNext()) {
          throw new NoSuchElementException();
        }
        return ready.get(next++);
      }
    };
  }

  /**
   * Registers a SQL function {@code name(column)} that scores one example per call with the executor's
   * shared Session (row at a time: {@link #transform} batches).
   */
  public void registerUdf(SparkSession spark, String name) {
    UDF1<Object, float[]> f = v -> model.value().load().score(java.util.Collections.singletonList(v), "the value")
        .getFirst();
    spark.udf().register(name, f, SCORES);
  }

  /** Rows with their scores appended, scored a batch at a time. */
  private final class Batched implements Iterator<Row> {
    private final Iterator<Row> rows;
    private final List<Row> pending = new ArrayList<>();
    private final Iterator<float[]> scores;
    private int next;

    Batched(Iterator<Row> rows, int column) {
      this.rows = rows;
      Iterator<Object> values = new Iterator<>() {
        @Override
        public boolean hasNext() {
          return Batched.this.rows.hasNext();
        }

        @Override
        public Object next() {
          Row r = Batched.this.rows.next();
          pending.add(r);
          return r.get(column);
        }
      };
      this.scores = score(values);
    }

    @Override
    public boolean hasNext() {
      return scores.hasNext();
    }

    @Override
    public Row next() {
      float[] s = scores.next();
      Row r = pending.get(next++);
      if (next == pending.size()) {
        pending.clear();
        next = 0;
      }
      Object[] values = new Object[r.size() + 1];
      for (int i = 0; i < r.size(); i++) {
        values[i] = r.get(i);
      }
      values[r.size()] = s;
      return RowFactory.create(values);
    }
  }
}
