package dev.kiln.spark;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.Iterator;
import java.util.List;
import org.apache.spark.HashPartitioner;
import org.apache.spark.api.java.JavaRDD;
import org.apache.spark.sql.Row;
import org.apache.spark.storage.StorageLevel;
import scala.Tuple2;

/**
 * Lays the examples out for data-parallel steps. The examples' order (their index in the RDD) defines
 * the global batches: step {@code k} of an epoch takes examples {@code [kB, (k+1)B)} (a last, partial
 * batch is left out), the same batches whatever the number of workers; worker {@code j} takes the
 * {@code j}-th of {@code N} near-equal contiguous parts of each batch. One shuffle moves every example
 * to its worker's partition once; the steps then read the cached shards.
 */
final class Shards {
  private Shards() {}

  /** Batches per epoch of {@code examples} examples in batches of {@code batch}. */
  static int batchesPerEpoch(long examples, int batch) {
    long b = examples / batch;
    if (b < 1) {
      throw new IllegalArgumentException("SparkTrainer: " + examples + " examples are fewer than one global batch of "
          + batch);
    }
    return Math.toIntExact(b);
  }

  /** The worker owning position {@code t} of a batch of {@code batch}: the largest j with floor(jB/N) <= t. */
  static int workerOf(int t, int batch, int workers) {
    return (int) (((long) (t + 1) * workers - 1) / batch);
  }

  /**
   * One cached {@link Shard} per worker, partition {@code j} holding worker {@code j}'s; {@code rows}
   * holds one value per feed, in the feeds' order.
   */
  static JavaRDD<Shard> build(JavaRDD<Row> rows, List<FeedSpec> feeds, int batch, int workers, int batchesPerEpoch) {
    long used = (long) batchesPerEpoch * batch;
    Slices parts = new Slices(batch, workers);
    JavaRDD<Shard> shards = rows.zipWithIndex()
        .filter(e -> e._2() < used)
        .mapToPair(e -> new Tuple2<>(workerOf((int) (e._2() % batch), batch, workers), new Tuple2<>(e._2(), e._1())))
        .partitionBy(new HashPartitioner(workers)) // an Integer key j lands in partition j
        .mapPartitionsWithIndex((j, it) -> List.of(shard(j, it, feeds, parts, batchesPerEpoch)).iterator(), true);
    return shards.persist(StorageLevel.MEMORY_AND_DISK());
  }

  private static Shard shard(int worker, Iterator<Tuple2<Integer, Tuple2<Long, Row>>> it, List<FeedSpec> feeds,
      Slices parts, int batchesPerEpoch) {
    List<Tuple2<Long, Row>> rows = new ArrayList<>();
    it.forEachRemaining(e -> rows.add(e._2()));
    rows.sort(Comparator.comparing(Tuple2::_1));
    int perStep = parts.to(worker) - parts.from(worker);
    if (rows.size() != perStep * batchesPerEpoch) {
      throw new IllegalStateException("worker " + worker + " got " + rows.size() + " examples, expected "
          + perStep * batchesPerEpoch);
    }
    ExampleBlock.Builder block = new ExampleBlock.Builder(feeds, rows.size());
    for (Tuple2<Long, Row> r : rows) {
      List<Object> values = new ArrayList<>(feeds.size());
      for (int f = 0; f < feeds.size(); f++) {
        values.add(r._2().get(f));
      }
      block.add(values, "example " + r._1());
    }
    return new Shard(worker, perStep, batchesPerEpoch, block.build());
  }
}
