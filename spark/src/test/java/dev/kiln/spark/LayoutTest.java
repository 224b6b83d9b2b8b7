package dev.kiln.spark;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

/** How batches and parameters are cut among workers. */
class LayoutTest {
  @Test
  void slicesCoverTheVectorContiguouslyWithNearEqualSizes() {
    for (int size = 0; size <= 50; size++) {
      for (int parts = 1; parts <= 12; parts++) {
        Slices s = new Slices(size, parts);
        assertEquals(0, s.from(0));
        assertEquals(size, s.to(parts - 1));
        for (int i = 0; i < parts; i++) {
          int n = s.to(i) - s.from(i);
          assertTrue(n == size / parts || n == size / parts + 1, size + "/" + parts + " slice " + i + ": " + n);
          if (i > 0) {
            assertEquals(s.to(i - 1), s.from(i));
          }
        }
      }
    }
  }

  @Test
  void eachBatchPositionBelongsToTheWorkerWhoseSliceHoldsIt() {
    for (int batch = 1; batch <= 40; batch++) {
      for (int workers = 1; workers <= batch; workers++) {
        Slices s = new Slices(batch, workers);
        for (int j = 0; j < workers; j++) {
          for (int t = s.from(j); t < s.to(j); t++) {
            assertEquals(j, Shards.workerOf(t, batch, workers), "position " + t + " of " + batch + ", " + workers);
          }
        }
      }
    }
  }

  @Test
  void stepsCycleThroughTheBatchesOfAnEpoch() {
    Shard shard = new Shard(0, 5, 3, null);
    assertEquals(0, shard.firstRow(1));
    assertEquals(10, shard.firstRow(3));
    assertEquals(0, shard.firstRow(4));
    assertEquals(5, shard.firstRow(8));
    assertThrows(IllegalArgumentException.class, () -> Shards.batchesPerEpoch(9, 10));
    assertEquals(2, Shards.batchesPerEpoch(29, 10));
  }

  @Test
  void blockNamesCarryTheirStep() {
    String run = "abc";
    String prefix = "kiln_" + run + "_";
    assertEquals(12, StepTask.stepOf(BlockExchange.gradientBlock(run, 12, 3, 1).substring(prefix.length())));
    assertEquals(7, StepTask.stepOf(BlockExchange.sumBlock(run, 7, 0).substring(prefix.length())));
  }
}
