package dev.kiln.spark;

import java.util.Iterator;
import java.util.List;
import org.apache.spark.api.java.function.FlatMapFunction;

/** After the last step: worker 0 brings its replica to that step and returns its checkpoint. */
record FinishTask(StepProgram program, String run, long step, int workers, Recovery recovery)
    implements FlatMapFunction<Iterator<Shard>, byte[]> {
  @Override
  public Iterator<byte[]> call(Iterator<Shard> shards) {
    if (!shards.hasNext() || shards.next().worker() != 0) {
      return List.<byte[]>of().iterator();
    }
    Replica r = Replicas.at(program, run, step, recovery, workers, BlockExchange.local(), new long[1]);
    return List.of(r.checkpoint()).iterator();
  }
}
