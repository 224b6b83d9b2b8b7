package dev.kiln.runtime;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import dev.kiln.graph.DType;
import dev.kiln.graph.Graph;
import dev.kiln.graph.Operation;
import dev.kiln.graph.OperationBuilder;
import dev.kiln.graph.Ops;
import dev.kiln.graph.Output;
import dev.kiln.graph.Shape;
import dev.kiln.graph.Subgraph;
import dev.kiln.graph.Tensor;
import java.util.ArrayList;
import java.util.List;
import java.util.function.BiFunction;
import org.junit.jupiter.api.Test;

/** Fused bodies that end in reductions, against plain-Java loops written here. */
class FusedReductionTest {
  /**
   * A Fused node over one input of the given type: its body computes y = build(p) and ends in each
   * reduction of {@code reductions} ("Sum:0,1" reduces axes 0 and 1; "Mean:-1:keep" keeps dims);
   * results: the reductions in order, then y when {@code withY}.
   */
  private static Operation fused(KernelHarness h, Output x, BiFunction<Ops, Output, Output> build, boolean withY,
      String... reductions) {
    Graph b = new Graph();
    Ops tf = Ops.create(b);
    Output p = b.opBuilder("Parameter", "p").setAttr("dtype", x.dtype()).setAttr("shape", x.shape()).build().output(0);
    Output y = build.apply(tf, p);
    List<Output> results = new ArrayList<>();
    int k = 0;
    for (String r : reductions) {
      String[] parts = r.split(":");
      List<Long> axes = new ArrayList<>();
      for (String a : parts[1].split(",")) {
        axes.add(Long.parseLong(a));
      }
      results.add(b.opBuilder(parts[0], "r" + k++).addInput(y).setAttr("axes", axes)
          .setAttr("keep_dims", parts.length > 2).build().output(0));
    }
    if (withY) {
      results.add(y);
    }
    OperationBuilder ob = h.graph.opBuilder("Fused", "f").addInput(x);
    return ob.addSubgraph(new Subgraph(b, List.of(p), results)).build();
  }

  private static Output w3(Ops tf, Output x) {
    DType d = x.dtype();
    Output e = tf.exp(tf.neg(tf.mul(x, x)));
    Output a = tf.add(tf.mul(e, tf.constant(0.5, d)), tf.sigmoid(x));
    return tf.sub(tf.mul(tf.tanh(a), x), tf.constant(1.0, d));
  }

  private static double w3(double x) {
    return Math.tanh(Math.exp(-x * x) * 0.5 + 1 / (1 + Math.exp(-x))) * x - 1;
  }

  @Test
  void w3SumOverManyBlocksAndBothCores() {
    for (int n : new int[] {1, 17, 1023, 1024, 1025, 5000, 300_001}) {
      KernelHarness h = new KernelHarness();
      Tensor xv = KernelHarness.randomF32(n, n);
      Operation f = fused(h, h.input(xv), FusedReductionTest::w3, true, "Sum:0");
      List<Tensor> out = h.runAll(f); // runs twice: the same bits both times
      double want = 0;
      double scale = 0;
      for (int i = 0; i < n; i++) {
        want += (float) w3(xv.getDouble(i));
        scale += Math.abs(w3(xv.getDouble(i)));
      }
      assertEquals(want, out.get(0).getDouble(0), 1e-6 * scale, "sum of " + n);
      Ref.assertClose(Ref.tensor(DType.FLOAT32, new int[] {n}, i -> w3(xv.getDouble(i))), out.get(1), 2e-6);
    }
  }

  @Test
  void sumAndMeanOverTheLastAxisAcrossBlockBounds() {
    // Rows shorter than a block, as long, longer, and not dividing it.
    for (int[] dims : new int[][] {{3000, 1}, {500, 3}, {40, 37}, {5, 1024}, {3, 2500}, {2, 7, 300}}) {
      KernelHarness h = new KernelHarness();
      Tensor xv = KernelHarness.randomF64(dims.length * 31L + dims[0], dims);
      int last = dims[dims.length - 1];
      int rows = xv.size() / last;
      Operation f = fused(h, h.input(xv), (tf, p) -> tf.add(tf.mul(p, p), p), false, "Sum:-1", "Mean:-1:keep");
      List<Tensor> out = h.runAll(f);
      for (int r = 0; r < rows; r++) {
        double s = 0;
        for (int c = 0; c < last; c++) {
          double v = xv.getDouble(r * last + c);
          s += v * v + v;
        }
        assertEquals(s, out.get(0).getDouble(r), 1e-12 * Math.max(1, Math.abs(s)) * last, "sum row " + r);
        assertEquals(s / last, out.get(1).getDouble(r), 1e-12 * Math.max(1, Math.abs(s)), "mean row " + r);
      }
      int[] kept = dims.clone();
      kept[kept.length - 1] = 1;
      assertEquals(Shape.of(kept), out.get(1).shape());
    }
  }

  @Test
  void maxAndMinOverTrailingAxesWithNaNAndSignedZeros() {
    int a = 3;
    int b = 40;
    int c = 50;
    float[] x = new float[a * b * c];
    java.util.Random rnd = new java.util.Random(5);
    for (int i = 0; i < x.length; i++) {
      x[i] = (float) rnd.nextGaussian();
    }
    x[17] = Float.NaN;                // row 0 has a NaN
    for (int i = b * c; i < 2 * b * c; i++) {
      x[i] = i % 2 == 0 ? 0f : -0f;   // row 1 is all zeros of both signs
    }
    KernelHarness h = new KernelHarness();
    Tensor xv = Tensor.of(x, a, b, c);
    Operation f = fused(h, h.input(xv), (tf, p) -> tf.neg(p), false, "Max:1,2", "Min:-2,-1");
    List<Tensor> out = h.runAll(f);
    for (int r = 0; r < a; r++) {
      float max = Float.NEGATIVE_INFINITY;
      float min = Float.POSITIVE_INFINITY;
      for (int i = 0; i < b * c; i++) {
        max = Math.max(max, -x[r * b * c + i]);
        min = Math.min(min, -x[r * b * c + i]);
      }
      assertEquals(Float.floatToIntBits(max), Float.floatToIntBits((float) out.get(0).getDouble(r)), "max row " + r);
      assertEquals(Float.floatToIntBits(min), Float.floatToIntBits((float) out.get(1).getDouble(r)), "min row " + r);
    }
    assertEquals(Float.NaN, (float) out.get(0).getDouble(0));
    assertEquals(0f, (float) out.get(0).getDouble(1)); // +0 above -0
    assertEquals(-0f, (float) out.get(1).getDouble(1));
  }

  @Test
  void reductionsOverSizeOneAxesBetweenKeptOnes() {
    // [6,1,5] reduced over axes 1 and 2: the size-1 axis does not break the trailing run.
    KernelHarness h = new KernelHarness();
    Tensor xv = KernelHarness.randomF32(9, 6, 1, 5);
    Operation f = fused(h, h.input(xv), (tf, p) -> tf.exp(p), false, "Sum:1,2", "Prod:2");
    List<Tensor> out = h.runAll(f);
    for (int r = 0; r < 6; r++) {
      double s = 0;
      double p = 1;
      for (int c = 0; c < 5; c++) {
        s += Math.exp(xv.getDouble(r * 5 + c));
        p *= Math.exp(xv.getDouble(r * 5 + c));
      }
      assertEquals(s, out.get(0).getDouble(r), 1e-6 * s);
      assertEquals(p, out.get(1).getDouble(r), 1e-5 * p);
    }
    assertEquals(Shape.of(6), out.get(0).shape());
    assertEquals(Shape.of(6, 1), out.get(1).shape());
  }

  @Test
  void emptyReductionsGiveTheirIdentity() {
    KernelHarness h = new KernelHarness();
    Tensor xv = Tensor.of(new float[0], 4, 0);
    Operation f = fused(h, h.input(xv), (tf, p) -> tf.exp(p), false, "Sum:1", "Mean:1", "Max:0,1", "Min:-1");
    List<Tensor> out = h.runAll(f);
    for (int r = 0; r < 4; r++) {
      assertEquals(0.0, out.get(0).getDouble(r));
      assertEquals(Double.NaN, out.get(1).getDouble(r));
      assertEquals(Double.POSITIVE_INFINITY, out.get(3).getDouble(r));
    }
    assertEquals(Double.NEGATIVE_INFINITY, out.get(2).getDouble(0));
  }

  @Test
  void aReductionOverLeadingAxesOrOfIntegersIsRejected() {
    KernelHarness h = new KernelHarness();
    Output x = h.input(KernelHarness.randomF32(1, 4, 3));
    Operation lead = fused(h, x, (tf, p) -> tf.exp(p), false, "Sum:0");
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> h.runAll(lead));
    assertEquals("Fused 'f': body reduction Sum 'r0' over axes [0] of [4,3]: the fused kernel folds trailing axes only",
        e.getMessage());
    KernelHarness hi = new KernelHarness();
    Output k = hi.input(KernelHarness.randomI32(2, 9, 5));
    Operation ints = fused(hi, k, (tf, p) -> tf.mul(p, p), false, "Sum:0");
    e = assertThrows(IllegalArgumentException.class, () -> hi.runAll(ints));
    assertEquals("Fused 'f': body reduction Sum 'r0' on i32: the fused kernel folds float reductions only", e.getMessage());
  }
}
