package dev.kiln.data;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

class MiniBatchesTest {
  /** Row i has features (i, 10 i) and label i, so a batch shows which rows it took. */
  private static Dataset rows(int n) {
    float[] x = new float[2 * n];
    int[] y = new int[n];
    for (int i = 0; i < n; i++) {
      x[2 * i] = i;
      x[2 * i + 1] = 10 * i;
      y[i] = i;
    }
    return new Dataset(x, 2, y);
  }

  private static List<Integer> epochLabels(MiniBatches batches, List<Integer> sizes) {
    List<Integer> seen = new ArrayList<>();
    for (Batch b : batches) {
      sizes.add(b.size());
      float[] x = b.features().toFloatArray();
      int[] y = b.labels().toIntArray();
      for (int i = 0; i < y.length; i++) {
        assertEquals(y[i], x[2 * i], 0f);
        assertEquals(10 * y[i], x[2 * i + 1], 0f);
        seen.add(y[i]);
      }
    }
    return seen;
  }

  @Test
  void eachEpochIsAPermutationInBatches() {
    MiniBatches batches = rows(10).batches(4, 42);
    assertEquals(3, batches.batchesPerEpoch());
    List<Integer> sizes = new ArrayList<>();
    List<Integer> first = epochLabels(batches, sizes);
    assertEquals(List.of(4, 4, 2), sizes);
    assertEquals(List.of(0, 1, 2, 3, 4, 5, 6, 7, 8, 9), first.stream().sorted().toList());
    List<Integer> second = epochLabels(batches, new ArrayList<>());
    assertEquals(List.of(0, 1, 2, 3, 4, 5, 6, 7, 8, 9), second.stream().sorted().toList());
    assertNotEquals(first, second, "successive epochs are shuffled differently");
    assertNotEquals(List.of(0, 1, 2, 3, 4, 5, 6, 7, 8, 9), first, "an epoch is shuffled");
  }

  @Test
  void sameSeedSameOrder() {
    List<Integer> a = epochLabels(rows(50).batches(8, 7), new ArrayList<>());
    List<Integer> b = epochLabels(rows(50).batches(8, 7), new ArrayList<>());
    List<Integer> c = epochLabels(rows(50).batches(8, 8), new ArrayList<>());
    assertEquals(a, b);
    assertNotEquals(a, c);
  }

  @Test
  void dropLastSkipsThePartialBatch() {
    MiniBatches batches = new MiniBatches(rows(10), 4, true, 1);
    assertEquals(2, batches.batchesPerEpoch());
    List<Integer> sizes = new ArrayList<>();
    assertEquals(8, epochLabels(batches, sizes).size());
    assertEquals(List.of(4, 4), sizes);
    var it = batches.iterator();
    it.next();
    it.next();
    assertFalse(it.hasNext());
  }

  @Test
  void badArguments() {
    assertEquals("MiniBatches: batch size must be > 0, got 0",
        assertThrows(IllegalArgumentException.class, () -> rows(3).batches(0, 1)).getMessage());
    assertEquals("Dataset: 3 labels need 6 features of size 2, got 5",
        assertThrows(IllegalArgumentException.class, () -> new Dataset(new float[5], 2, new int[3])).getMessage());
  }

  @Test
  void sliceCopiesRows() {
    Dataset d = rows(5).slice(1, 3);
    assertArrayEquals(new float[] {1, 10, 2, 20}, d.features());
    assertArrayEquals(new int[] {1, 2}, d.labels());
  }
}
