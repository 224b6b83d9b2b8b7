package dev.kiln.runtime;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import dev.kiln.graph.DType;
import dev.kiln.graph.Graph;
import dev.kiln.graph.Ops;
import dev.kiln.graph.Output;
import dev.kiln.graph.Shape;
import dev.kiln.graph.Tensor;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.Test;

/**
 * The array ops (gathers, scatters, tile, broadcastTo, cumsum, topK, range, argMin and the Ops
 * composites) against float64 reference loops written here, their gradients through
 * GradientChecker, and their run-time index errors.
 */
class ArrayOpsTest {
  private static final double TOL = 1e-7;

  static Tensor random(long seed, int... dims) {
    Random r = new Random(seed);
    double[] v = new double[Math.toIntExact(Shape.of(dims).numElements())];
    for (int i = 0; i < v.length; i++) {
      v[i] = r.nextGaussian();
    }
    return Tensor.of(v, dims);
  }

  static Tensor run(Graph g, Map<Output, Tensor> feeds, Output y) {
    try (Session s = new Session(g)) {
      return s.run(feeds, y).get(0);
    }
  }

  static void assertClose(double[] expected, double[] actual, double tol) {
    assertEquals(expected.length, actual.length, "element count");
    for (int i = 0; i < expected.length; i++) {
      assertEquals(expected[i], actual[i], tol * Math.max(1, Math.abs(expected[i])), "element " + i);
    }
  }

  // ---------------------------------------------------------------- gather

  @Test
  void gatherAlongEachAxisMatchesReference() {
    int[] dims = {3, 4, 5};
    Tensor params = random(1, dims);
    int[] idx = {2, 0, 2, 1, 3, 0};
    for (int axis = 0; axis < 3; axis++) {
      Graph g = new Graph();
      Ops tf = Ops.create(g);
      Output p = tf.placeholder("p", DType.FLOAT64, Shape.of(dims));
      int bound = dims[axis];
      int[] ind = java.util.Arrays.stream(idx).map(i -> i % bound).toArray();
      Output i = tf.placeholder("i", DType.INT32, Shape.of(2, 3));
      Output y = tf.gather(p, i, axis);
      double[] got = run(g, Map.of(p, params, i, Tensor.of(ind, 2, 3)), y).toDoubleArray();
      double[] x = params.toDoubleArray();
      int outer = 1;
      for (int d = 0; d < axis; d++) {
        outer *= dims[d];
      }
      int inner = 1;
      for (int d = axis + 1; d < 3; d++) {
        inner *= dims[d];
      }
      double[] ref = new double[outer * ind.length * inner];
      for (int o = 0; o < outer; o++) {
        for (int k = 0; k < ind.length; k++) {
          for (int j = 0; j < inner; j++) {
            ref[(o * ind.length + k) * inner + j] = x[(o * bound + ind[k]) * inner + j];
          }
        }
      }
      assertClose(ref, got, 0);
    }
  }

  /** Enough rows that the gather splits over the cores; a bad index in the second part still fails clearly. */
  @Test
  void aLargeGatherMatchesReference() {
    Graph g = new Graph();
    Ops tf = Ops.create(g);
    int rows = 1000;
    int dim = 64;
    float[] table = new float[rows * dim];
    for (int i = 0; i < table.length; i++) {
      table[i] = i * 0.5f;
    }
    int[] ids = new int[3000];
    for (int i = 0; i < ids.length; i++) {
      ids[i] = (i * 7919) % rows;
    }
    Output p = tf.constant(Tensor.of(table, rows, dim));
    Output i = tf.placeholder("i", DType.INT32, Shape.of(ids.length));
    Output y = tf.withName("big").gather(p, i, 0);
    float[] got = run(g, Map.of(i, Tensor.of(ids, ids.length)), y).toFloatArray();
    for (int k = 0; k < ids.length; k++) {
      for (int j = 0; j < dim; j++) {
        assertEquals(table[ids[k] * dim + j], got[k * dim + j], 0);
      }
    }
    ids[2999] = rows;
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
        () -> run(g, Map.of(i, Tensor.of(ids, ids.length)), y));
    assertEquals("Gather 'big': index 1000 (element 2999 of indices) is out of range [0, 1000) for axis 0 of params"
        + " [1000,64]", e.getMessage());
  }

  @Test
  void gatherGradientSumsRepeatedIndices() {
    for (int axis = 0; axis < 2; axis++) {
      Graph g = new Graph();
      Ops tf = Ops.create(g);
      Output p = tf.placeholder("p", DType.FLOAT64, Shape.of(4, 3));
      Output i = tf.placeholder("i", DType.INT64, Shape.of(5));
      Output y = tf.gather(p, i, axis);
      GradientChecker.check(y, Map.of(p, random(2, 4, 3)), Map.of(i, Tensor.of(new long[] {1, 0, 1, 2, 1}, 5)))
          .assertWithin(TOL);
    }
  }

  @Test
  void gatherOfAFedIndexOutOfRangeFailsNamingIndexAndBound() {
    Graph g = new Graph();
    Ops tf = Ops.create(g);
    Output p = tf.placeholder("p", DType.FLOAT32, Shape.of(5, 2));
    Output i = tf.placeholder("i", DType.INT32, Shape.of(3));
    Output y = tf.withName("emb").gather(p, i, 0);
    Tensor params = Tensor.zeros(DType.FLOAT32, Shape.of(5, 2));
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
        () -> run(g, Map.of(p, params, i, Tensor.of(new int[] {1, 5, 0}, 3)), y));
    assertEquals("Gather 'emb': index 5 (element 1 of indices) is out of range [0, 5) for axis 0 of params [5,2]",
        e.getMessage());
    e = assertThrows(IllegalArgumentException.class,
        () -> run(g, Map.of(p, params, i, Tensor.of(new int[] {0, 0, -1}, 3)), y));
    assertEquals("Gather 'emb': index -1 (element 2 of indices) is out of range [0, 5) for axis 0 of params [5,2]",
        e.getMessage());
  }

  @Test
  void gatherOfAConstantIndexOutOfRangeFailsWhenBuilt() {
    Ops tf = Ops.create(new Graph());
    Output p = tf.placeholder("p", DType.FLOAT32, Shape.of(4, 2));
    Output i = tf.constant(Tensor.of(new int[] {0, 7}, 2));
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
        () -> tf.withName("g").gather(p, i, 1));
    assertEquals("Gather 'g': index 7 (element 1 of indices) is out of range [0, 2) for axis 1 of params [4,2]",
        e.getMessage());
  }

  // ---------------------------------------------------------------- gatherNd / scatterNd

  @Test
  void gatherNdAndScatterNdMatchReference() {
    Graph g = new Graph();
    Ops tf = Ops.create(g);
    Tensor params = random(3, 3, 4, 2);
    Output p = tf.placeholder("p", DType.FLOAT64, Shape.of(3, 4, 2));
    int[] tuples = {2, 1, 0, 3, 2, 1};
    Output i = tf.constant(Tensor.of(tuples, 3, 2));
    Output y = tf.gatherNd(p, i);
    assertEquals(Shape.of(3, 2), y.shape());
    double[] x = params.toDoubleArray();
    double[] ref = new double[6];
    for (int t = 0; t < 3; t++) {
      for (int j = 0; j < 2; j++) {
        ref[t * 2 + j] = x[(tuples[2 * t] * 4 + tuples[2 * t + 1]) * 2 + j];
      }
    }
    assertClose(ref, run(g, Map.of(p, params), y).toDoubleArray(), 0);

    Output u = tf.placeholder("u", DType.FLOAT64, Shape.of(3, 2));
    Output s = tf.scatterNd(i, u, Shape.of(3, 4, 2));
    Tensor upd = random(4, 3, 2);
    double[] sref = new double[24];
    double[] uv = upd.toDoubleArray();
    for (int t = 0; t < 3; t++) {
      for (int j = 0; j < 2; j++) {
        sref[(tuples[2 * t] * 4 + tuples[2 * t + 1]) * 2 + j] += uv[t * 2 + j];
      }
    }
    assertClose(sref, run(g, Map.of(u, upd), s).toDoubleArray(), 0);
    GradientChecker.check(y, Map.of(p, params)).assertWithin(TOL);
    GradientChecker.check(s, Map.of(u, upd)).assertWithin(TOL);
  }

  @Test
  void scatterNdAddsRepeatedTuples() {
    Graph g = new Graph();
    Ops tf = Ops.create(g);
    Output i = tf.constant(Tensor.of(new long[] {1, 3, 1}, 3, 1));
    Output u = tf.constant(Tensor.of(new double[] {1, 2, 4}, 3));
    double[] got = run(g, Map.of(), tf.scatterNd(i, u, Shape.of(5))).toDoubleArray();
    assertArrayEquals(new double[] {0, 5, 0, 2, 0}, got);
  }

  @Test
  void gatherNdOfAFedTupleOutOfRangeFailsNamingTheDimension() {
    Graph g = new Graph();
    Ops tf = Ops.create(g);
    Output p = tf.placeholder("p", DType.FLOAT32, Shape.of(3, 4));
    Output i = tf.placeholder("i", DType.INT32, Shape.of(2, 2));
    Output y = tf.withName("nd").gatherNd(p, i);
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> run(g,
        Map.of(p, Tensor.zeros(DType.FLOAT32, Shape.of(3, 4)), i, Tensor.of(new int[] {0, 1, 2, 4}, 2, 2)), y));
    assertEquals("GatherNd 'nd': index 4 (element 3 of indices) is out of range [0, 4) for dimension 1 of [3,4]",
        e.getMessage());
  }

  // ---------------------------------------------------------------- tile, broadcastTo

  @Test
  void tileAndBroadcastToMatchReferenceWithGradients() {
    Graph g = new Graph();
    Ops tf = Ops.create(g);
    Tensor xv = random(5, 2, 1, 3);
    Output x = tf.placeholder("x", DType.FLOAT64, Shape.of(2, 1, 3));
    Output t = tf.tile(x, 2, 3, 2);
    assertEquals(Shape.of(4, 3, 6), t.shape());
    double[] xs = xv.toDoubleArray();
    double[] ref = new double[4 * 3 * 6];
    for (int a = 0; a < 4; a++) {
      for (int b = 0; b < 3; b++) {
        for (int c = 0; c < 6; c++) {
          ref[(a * 3 + b) * 6 + c] = xs[(a % 2) * 3 + c % 3];
        }
      }
    }
    assertClose(ref, run(g, Map.of(x, xv), t).toDoubleArray(), 0);
    GradientChecker.check(t, Map.of(x, xv)).assertWithin(TOL);

    Output b = tf.broadcastTo(x, Shape.of(4, 2, 5, 3));
    double[] bref = new double[4 * 2 * 5 * 3];
    for (int i = 0; i < 4; i++) {
      for (int j = 0; j < 2; j++) {
        for (int k = 0; k < 5; k++) {
          for (int l = 0; l < 3; l++) {
            bref[((i * 2 + j) * 5 + k) * 3 + l] = xs[j * 3 + l];
          }
        }
      }
    }
    assertClose(bref, run(g, Map.of(x, xv), b).toDoubleArray(), 0);
    GradientChecker.check(b, Map.of(x, xv)).assertWithin(TOL);
    // A single element repeated along the last axis.
    Output s = tf.broadcastTo(tf.constant(Tensor.of(new double[] {7}, 1)), Shape.of(2, 5));
    assertArrayEquals(new double[] {7, 7, 7, 7, 7, 7, 7, 7, 7, 7}, run(g, Map.of(), s).toDoubleArray());
  }

  // ---------------------------------------------------------------- cumsum

  @Test
  void cumsumInEveryModeMatchesReferenceWithGradients() {
    Tensor xv = random(6, 3, 4, 2);
    double[] xs = xv.toDoubleArray();
    int[] dims = {3, 4, 2};
    for (int axis = 0; axis < 3; axis++) {
      for (boolean exclusive : new boolean[] {false, true}) {
        for (boolean reverse : new boolean[] {false, true}) {
          Graph g = new Graph();
          Ops tf = Ops.create(g);
          Output x = tf.placeholder("x", DType.FLOAT64, Shape.of(dims));
          Output y = tf.cumsum(x, axis, exclusive, reverse);
          int[] strides = {8, 2, 1};
          double[] ref = new double[24];
          for (int e = 0; e < 24; e++) {
            int pos = (e / strides[axis]) % dims[axis];
            int lineStart = e - pos * strides[axis];
            double s = 0;
            for (int q = 0; q < dims[axis]; q++) {
              boolean counted = reverse ? (exclusive ? q > pos : q >= pos) : (exclusive ? q < pos : q <= pos);
              if (counted) {
                s += xs[lineStart + q * strides[axis]];
              }
            }
            ref[e] = s;
          }
          assertClose(ref, run(g, Map.of(x, xv), y).toDoubleArray(), 1e-12);
          GradientChecker.check(y, Map.of(x, xv)).assertWithin(TOL);
        }
      }
    }
  }

  @Test
  void cumsumOfIntegers() {
    Graph g = new Graph();
    Ops tf = Ops.create(g);
    Output y = tf.cumsum(tf.constant(Tensor.of(new long[] {1, 2, 3, 4}, 4)), 0, true, false);
    assertArrayEquals(new long[] {0, 1, 3, 6}, run(g, Map.of(), y).toLongArray());
  }

  // ---------------------------------------------------------------- topK, argMin, range

  @Test
  void topKMatchesASortWithTiesToTheLowerIndex() {
    Graph g = new Graph();
    Ops tf = Ops.create(g);
    float[] v = {3, 1, 4, 1, 5, 9, 2, 6, 5, 3, 5, 8, 9, 7, 9, 3, 2, 3};
    Output x = tf.constant(Tensor.of(v, 2, 9));
    List<Output> top = tf.topK(x, 4);
    try (Session s = new Session(g)) {
      List<Tensor> r = s.run(Map.of(), top.get(0), top.get(1));
      float[] vals = r.get(0).toFloatArray();
      int[] idx = r.get(1).toIntArray();
      for (int row = 0; row < 2; row++) {
        Integer[] order = new Integer[9];
        for (int i = 0; i < 9; i++) {
          order[i] = i;
        }
        int base = row * 9;
        java.util.Arrays.sort(order, (a, b) -> v[base + a] != v[base + b]
            ? Float.compare(v[base + b], v[base + a]) : Integer.compare(a, b));
        for (int j = 0; j < 4; j++) {
          assertEquals(order[j], idx[row * 4 + j], "row " + row + " pick " + j);
          assertEquals(v[base + order[j]], vals[row * 4 + j]);
        }
      }
    }
  }

  @Test
  void unsortedTopKGivesTheSameEntriesInIndexOrder() {
    Graph g = new Graph();
    Ops tf = Ops.create(g);
    float[] v = {3, 1, 4, 1, 5, 9, 2, 6, 5, 3, 5, 8, 9, 7, 9, 3, 2, 3};
    Output x = tf.constant(Tensor.of(v, 2, 9));
    List<Output> top = tf.topK(x, 4, false);
    assertEquals(false, top.get(0).op().attrs().getBool("sorted"));
    try (Session s = new Session(g)) {
      List<Tensor> r = s.run(Map.of(), top.get(0), top.get(1));
      float[] vals = r.get(0).toFloatArray();
      int[] idx = r.get(1).toIntArray();
      for (int row = 0; row < 2; row++) {
        Integer[] order = new Integer[9];
        for (int i = 0; i < 9; i++) {
          order[i] = i;
        }
        int base = row * 9;
        java.util.Arrays.sort(order, (a, b) -> v[base + a] != v[base + b]
            ? Float.compare(v[base + b], v[base + a]) : Integer.compare(a, b));
        Integer[] picked = java.util.Arrays.copyOf(order, 4);
        java.util.Arrays.sort(picked);
        for (int j = 0; j < 4; j++) {
          assertEquals(picked[j], idx[row * 4 + j], "row " + row + " pick " + j);
          assertEquals(v[base + picked[j]], vals[row * 4 + j]);
        }
      }
    }
    Output x64 = tf.placeholder("x64", DType.FLOAT64, Shape.of(3, 5));
    GradientChecker.check(tf.topK(x64, 3, false).get(0), Map.of(x64, random(8, 3, 5))).assertWithin(TOL);
  }

  @Test
  void topKGradientGoesToThePickedElements() {
    Graph g = new Graph();
    Ops tf = Ops.create(g);
    Output x = tf.placeholder("x", DType.FLOAT64, Shape.of(3, 5));
    GradientChecker.check(tf.topK(x, 2).get(0), Map.of(x, random(7, 3, 5))).assertWithin(TOL);
  }

  @Test
  void argMinAndRange() {
    Graph g = new Graph();
    Ops tf = Ops.create(g);
    double[] v = {3, -1, 4, -1, 5, -9, 2, 6};
    Output x = tf.constant(Tensor.of(v, 2, 4));
    assertArrayEquals(new long[] {1, 1}, run(g, Map.of(), tf.argMin(x, 1)).toLongArray());
    assertArrayEquals(new long[] {0, 1, 1, 0}, run(g, Map.of(), tf.argMin(x, 0)).toLongArray());
    assertArrayEquals(new int[] {0, 1, 2, 3, 4}, run(g, Map.of(), tf.range(5)).toIntArray());
    double[] r = run(g, Map.of(), tf.range(1, -1, -0.5, DType.FLOAT64)).toDoubleArray();
    assertArrayEquals(new double[] {1, 0.5, 0, -0.5}, r);
  }

  // ---------------------------------------------------------------- composites

  @Test
  void splitStackUnstackRoundTrip() {
    Graph g = new Graph();
    Ops tf = Ops.create(g);
    Tensor xv = random(8, 2, 6);
    Output x = tf.placeholder("x", DType.FLOAT64, Shape.of(2, 6));
    List<Output> parts = tf.split(x, 3, 1);
    assertEquals(Shape.of(2, 2), parts.get(0).shape());
    List<Output> uneven = tf.split(x, new int[] {1, 5}, 1);
    assertEquals(Shape.of(2, 5), uneven.get(1).shape());
    Output back = tf.concat(parts, 1);
    assertClose(xv.toDoubleArray(), run(g, Map.of(x, xv), back).toDoubleArray(), 0);
    List<Output> rows = tf.unstack(x, 0);
    assertEquals(Shape.of(6), rows.get(1).shape());
    Output stacked = tf.stack(List.of(rows.get(1), rows.get(0)), 1);
    assertEquals(Shape.of(6, 2), stacked.shape());
    double[] xs = xv.toDoubleArray();
    double[] ref = new double[12];
    for (int i = 0; i < 6; i++) {
      ref[2 * i] = xs[6 + i];
      ref[2 * i + 1] = xs[i];
    }
    assertClose(ref, run(g, Map.of(x, xv), stacked).toDoubleArray(), 0);
    GradientChecker.check(tf.mul(parts.get(1), parts.get(2)), Map.of(x, xv)).assertWithin(TOL);
    GradientChecker.check(stacked, Map.of(x, xv)).assertWithin(TOL);
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> tf.split(x, 4, 1));
    assertEquals("split of 'x': axis 1 of [2,6] (size 6) does not divide into 4 equal parts", e.getMessage());
  }

  @Test
  void whereOneHotAlongAnAxisAndClipping() {
    Graph g = new Graph();
    Ops tf = Ops.create(g);
    Output cond = tf.constant(Tensor.of(new boolean[] {true, false, true}, 3));
    Output a = tf.constant(Tensor.of(new double[] {1, 2, 3, 4, 5, 6}, 2, 3));
    Output w = tf.where(cond, a, tf.constant(0.0));
    assertArrayEquals(new double[] {1, 0, 3, 4, 0, 6}, run(g, Map.of(), w).toDoubleArray());

    Output idx = tf.constant(Tensor.of(new int[] {2, 0, 1, 5}, 2, 2));
    Output hot = tf.oneHot(idx, 3, 1, DType.FLOAT64, 1, 0);
    assertEquals(Shape.of(2, 3, 2), hot.shape());
    double[] h = run(g, Map.of(), hot).toDoubleArray();
    int[] iv = {2, 0, 1, 5};
    for (int i = 0; i < 2; i++) {
      for (int d = 0; d < 3; d++) {
        for (int j = 0; j < 2; j++) {
          assertEquals(iv[i * 2 + j] == d ? 1.0 : 0.0, h[(i * 3 + d) * 2 + j], "at " + i + "," + d + "," + j);
        }
      }
    }
    Output lo = tf.constant(Tensor.of(new double[] {2, 2, 2}, 3));
    double[] clipped = run(g, Map.of(), tf.clipByValue(a, lo, tf.constant(5.0))).toDoubleArray();
    assertArrayEquals(new double[] {2, 2, 3, 4, 5, 5}, clipped);
    assertArrayEquals(new double[] {2, 2, 3, 4, 4, 4}, run(g, Map.of(), tf.clipByValue(a, 2, 4)).toDoubleArray());
  }

  @Test
  void clipByGlobalNormScalesAllValuesByOneFactor() {
    Graph g = new Graph();
    Ops tf = Ops.create(g);
    Tensor av = random(9, 2, 3);
    Tensor bv = random(10, 4);
    Output a = tf.placeholder("a", DType.FLOAT64, Shape.of(2, 3));
    Output b = tf.placeholder("b", DType.FLOAT64, Shape.of(4));
    double sq = 0;
    for (double v : av.toDoubleArray()) {
      sq += v * v;
    }
    for (double v : bv.toDoubleArray()) {
      sq += v * v;
    }
    double norm = Math.sqrt(sq);
    for (double clip : new double[] {norm / 2, norm * 2}) {
      List<Output> c = tf.clipByGlobalNorm(List.of(a, b), clip);
      double f = clip / Math.max(norm, clip);
      double[] ra = av.toDoubleArray().clone();
      for (int i = 0; i < ra.length; i++) {
        ra[i] *= f;
      }
      assertClose(ra, run(g, Map.of(a, av, b, bv), c.get(0)).toDoubleArray(), 1e-12);
      assertEquals(norm, run(g, Map.of(a, av, b, bv), tf.globalNorm(List.of(a, b))).getDouble(0), 1e-12);
      GradientChecker.check(c.get(1), Map.of(a, av, b, bv)).assertWithin(1e-6);
    }
  }
}
