package dev.kiln.graph;

import static dev.kiln.graph.InferenceSupport.assertType;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;

/**
 * Checks broadcast inference with unknown dimensions against plain NumPy broadcasting of every
 * concrete shape the unknown dimensions could stand for: inference fails exactly when no concrete
 * instance broadcasts, and a result dimension is known exactly when all instances agree on it.
 */
class BroadcastSoundnessTest {
  private static final int[] SIZES = {0, 1, 2, 3};

  /** NumPy broadcasting of concrete shapes, or null. */
  private static int[] concrete(int[] a, int[] b) {
    int r = Math.max(a.length, b.length);
    int[] out = new int[r];
    for (int i = 0; i < r; i++) {
      int x = i < r - a.length ? 1 : a[i - (r - a.length)];
      int y = i < r - b.length ? 1 : b[i - (r - b.length)];
      if (x != y && x != 1 && y != 1) {
        return null;
      }
      out[i] = x == 1 ? y : x;
    }
    return out;
  }

  /** Every concrete shape a partially known one may stand for. */
  private static List<int[]> instances(int[] dims) {
    List<int[]> out = new ArrayList<>();
    out.add(new int[0]);
    for (int d : dims) {
      List<int[]> next = new ArrayList<>();
      for (int[] prefix : out) {
        for (int size : d < 0 ? SIZES : new int[] {d}) {
          int[] longer = java.util.Arrays.copyOf(prefix, prefix.length + 1);
          longer[prefix.length] = size;
          next.add(longer);
        }
      }
      out = next;
    }
    return out;
  }

  private static int[] randomDims(Random rnd) {
    int[] d = new int[rnd.nextInt(4)];
    for (int i = 0; i < d.length; i++) {
      d[i] = rnd.nextInt(5) - 1; // -1 (unknown), 0, 1, 2, 3
    }
    return d;
  }

  @Test
  void inferenceAgreesWithEveryConcreteInstance() {
    Random rnd = new Random(20261123);
    for (int trial = 0; trial < 400; trial++) {
      Ops tf = Ops.create(new Graph());
      int[] a = randomDims(rnd);
      int[] b = randomDims(rnd);
      int rank = Math.max(a.length, b.length);
      // Per result axis: the sizes concrete instances give, or none if no instance broadcasts.
      Integer[] agreed = new Integer[rank];
      boolean[] varies = new boolean[rank];
      boolean any = false;
      for (int[] ca : instances(a)) {
        for (int[] cb : instances(b)) {
          int[] r = concrete(ca, cb);
          if (r == null) {
            continue;
          }
          any = true;
          for (int i = 0; i < rank; i++) {
            if (agreed[i] == null) {
              agreed[i] = r[i];
            } else if (agreed[i] != r[i]) {
              varies[i] = true;
            }
          }
        }
      }
      Output x = tf.placeholder("a", DType.FLOAT32, Shape.of(a));
      Output y = tf.placeholder("b", DType.FLOAT32, Shape.of(b));
      if (!any) {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> tf.add(x, y));
        assertEquals("Add 'Add': shapes " + Shape.of(a) + " and " + Shape.of(b) + " do not broadcast", e.getMessage());
        continue;
      }
      int[] expected = new int[rank];
      for (int i = 0; i < rank; i++) {
        expected[i] = varies[i] ? -1 : agreed[i];
      }
      assertType("f32" + Shape.of(expected), tf.add(x, y));
    }
  }
}
