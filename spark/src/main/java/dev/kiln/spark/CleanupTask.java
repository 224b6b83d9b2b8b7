package dev.kiln.spark;

import java.util.Iterator;
import org.apache.spark.api.java.function.VoidFunction;

/** After a run: removes its blocks and its replica from the executor that runs this task. */
record CleanupTask(String run) implements VoidFunction<Iterator<Shard>> {
  @Override
  public void call(Iterator<Shard> shards) {
    BlockExchange.local().removeLocal(run, name -> true);
    Replicas.release(run);
  }
}
