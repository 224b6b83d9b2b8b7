package dev.kiln.spark;

import java.io.Serializable;
import java.util.List;
import org.apache.spark.BarrierTaskContext;
import scala.collection.Iterator;
import scala.jdk.javaapi.CollectionConverters;

/**
 * One training step on one worker, run in a barrier stage (all workers' tasks start together, and a
 * failed task makes Spark re-run the whole stage): bring the local replica to the previous step
 * (all-gather of the summed slices of the previous step), compute the worker's gradients, put them
 * sliced, wait for every worker's slice of the part it owns, sum the slice this worker owns over all workers, in worker
 * order, and put the sum (reduce-scatter). The replica changes only when a later step's task applies
 * a completed step, so a retried attempt starts from the same weights and computes the same sums.
 */
final class StepTask implements scala.Function1<Iterator<Shard>, Iterator<StepResult>>, Serializable {
  private static final long serialVersionUID = 1L;
  /** How long a worker waits for the others' gradients before failing the step (and so the stage attempt). */
  private static final long EXCHANGE_TIMEOUT_MS = 600_000;

  private final StepProgram program;
  private final String run;
  private final long step;
  private final int workers;
  private final int globalBatch;
  private final Recovery recovery;
  private final long checkpointStep;
  private final FailOnce fault;

  StepTask(StepProgram program, String run, long step, int workers, int globalBatch, Recovery recovery,
      long checkpointStep, FailOnce fault) {
    this.program = program;
    this.run = run;
    this.step = step;
    this.workers = workers;
    this.globalBatch = globalBatch;
    this.recovery = recovery;
    this.checkpointStep = checkpointStep;
    this.fault = fault;
  }

  @Override
  public Iterator<StepResult> apply(Iterator<Shard> shards) {
    BarrierTaskContext ctx = BarrierTaskContext.get();
    Shard shard = shards.next();
    int w = shard.worker();
    if (w != ctx.partitionId()) {
      throw new IllegalStateException("shard of worker " + w + " in partition " + ctx.partitionId());
    }
    BlockExchange exchange = BlockExchange.local();
    // earlier steps' gradient slices are summed already; sums up to the recovery point are in its checkpoint
    exchange.removeLocal(run, n -> n.startsWith("g_") && stepOf(n) < step
        || n.startsWith("s_") && stepOf(n) <= recovery.step());

    long t0 = System.nanoTime();
    long[] gather = new long[1];
    Replica replica = Replicas.at(program, run, step - 1, recovery, workers, exchange, gather);
    byte[] checkpoint = w == 0 && checkpointStep == step - 1 ? replica.checkpoint() : new byte[0];
    long t1 = System.nanoTime();
    int from = shard.firstRow(step);
    Replica.Gradients g = replica.gradients(shard.data(), from, from + shard.rowsPerStep(),
        Replica.weight(program.reduction(), shard.rowsPerStep(), globalBatch));
    long t2 = System.nanoTime();
    Slices slices = new Slices(program.parameterCount(), workers);
    for (int i = 0; i < workers; i++) {
      exchange.put(BlockExchange.gradientBlock(run, step, w, i), g.flat(), slices.from(i), slices.to(i));
    }
    if (fault.step() == step && fault.worker() == w && ctx.stageAttemptNumber() == 0 && ctx.attemptNumber() == 0) {
      throw new IllegalStateException("injected failure: worker " + w + " of step " + step + " mid-exchange");
    }
    long t3 = System.nanoTime();
    // the barrier: wait for every worker's slice w (the first one waited for also covers stragglers)
    long barrier = 0;
    float[] sum = null;
    for (int m = 0; m < workers; m++) {
      long b0 = System.nanoTime();
      float[] part = exchange.await(BlockExchange.gradientBlock(run, step, m, w), ctx, EXCHANGE_TIMEOUT_MS);
      barrier += System.nanoTime() - b0;
      if (sum == null) {
        sum = part;
      } else {
        for (int k = 0; k < sum.length; k++) {
          sum[k] += part[k];
        }
      }
    }
    long t4 = t3 + barrier;
    exchange.put(BlockExchange.sumBlock(run, step, w), sum, 0, sum.length);
    long t5 = System.nanoTime();
    StepResult r = new StepResult(step, w, g.weightedLoss(), checkpoint, gather[0], t1 - t0 - gather[0], t2 - t1, t3 - t2, t4 - t3, t5 - t4);
    return CollectionConverters.asScala(List.of(r).iterator());
  }

  /** The step in a block name after the run: {@code g_<step>_...} or {@code s_<step>_...}. */
  static long stepOf(String name) {
    int end = name.indexOf('_', 2);
    return Long.parseLong(name.substring(2, end));
  }
}
