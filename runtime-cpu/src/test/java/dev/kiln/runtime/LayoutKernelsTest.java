package dev.kiln.runtime;

import static dev.kiln.runtime.KernelHarness.random;
import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.kiln.graph.DType;
import dev.kiln.graph.Output;
import dev.kiln.graph.Tensor;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

class LayoutKernelsTest {

  @ParameterizedTest
  @EnumSource(DType.class)
  void transposeByAnyPermutation(DType d) {
    Object[][] cases = {
        {new int[] {3, 4}, new int[] {1, 0}},
        {new int[] {2, 3, 4}, new int[] {2, 0, 1}},
        {new int[] {2, 3, 4}, new int[] {0, 2, 1}},
        {new int[] {2, 3, 4}, new int[] {1, 0, 2}},
        {new int[] {2, 3, 4}, new int[] {0, 1, 2}},
        {new int[] {2, 1, 4}, new int[] {2, 1, 0}},
        {new int[] {1, 5}, new int[] {1, 0}},
        {new int[] {2, 3, 4, 5}, new int[] {3, 1, 0, 2}},
        {new int[] {0, 3}, new int[] {1, 0}},
        {new int[] {}, new int[] {}},
        {new int[] {130, 70}, new int[] {1, 0}},
    };
    for (Object[] c : cases) {
      int[] dims = (int[]) c[0];
      int[] perm = (int[]) c[1];
      Tensor x = random(d, 40, dims);
      KernelHarness h = new KernelHarness();
      Output t = h.tf.transpose(h.input(x), perm);
      int[] outDims = t.shape().dims();
      Tensor want = Ref.tensor(d, outDims, i -> {
        int[] o = Ref.unravel(i, outDims);
        int[] idx = new int[dims.length];
        for (int q = 0; q < perm.length; q++) {
          idx[perm[q]] = o[q];
        }
        return x.getDouble(Ref.ravel(idx, dims));
      });
      assertEquals(want, h.run(t));
    }
  }

  @ParameterizedTest
  @EnumSource(DType.class)
  void concatAlongEachAxis(DType d) {
    int[][][] cases = {
        {{2, 3}, {4, 3}, {1, 3}},
        {{2, 3}, {2, 1}, {2, 0}, {2, 2}},
        {{2, 3, 4}, {2, 3, 1}},
        {{5}, {0}, {2}},
    };
    for (int[][] shapes : cases) {
      int rank = shapes[0].length;
      for (int axis = 0; axis < rank; axis++) {
        if (!concatenable(shapes, axis)) {
          continue;
        }
        KernelHarness h = new KernelHarness();
        List<Tensor> xs = new ArrayList<>();
        List<Output> ins = new ArrayList<>();
        for (int i = 0; i < shapes.length; i++) {
          Tensor x = random(d, 50 + i, shapes[i]);
          xs.add(x);
          ins.add(h.input(x));
        }
        Output c = h.tf.concat(ins, axis);
        int[] outDims = c.shape().dims();
        int ax = axis;
        Tensor want = Ref.tensor(d, outDims, i -> {
          int[] o = Ref.unravel(i, outDims);
          int at = o[ax];
          for (Tensor x : xs) {
            int[] xd = x.shape().dims();
            if (at < xd[ax]) {
              o[ax] = at;
              return x.getDouble(Ref.ravel(o, xd));
            }
            at -= xd[ax];
          }
          throw new AssertionError();
        });
        assertEquals(want, h.run(c));
      }
    }
  }

  private static boolean concatenable(int[][] shapes, int axis) {
    for (int[] s : shapes) {
      for (int q = 0; q < s.length; q++) {
        if (q != axis && s[q] != shapes[0][q]) {
          return false;
        }
      }
    }
    return true;
  }

  @ParameterizedTest
  @EnumSource(DType.class)
  void sliceAnyWindow(DType d) {
    int[][][] cases = {
        {{4, 5}, {1, 2}, {2, 3}},
        {{4, 5}, {0, 0}, {-1, -1}},
        {{4, 5}, {1, 0}, {2, -1}},
        {{4, 5}, {0, 1}, {4, 2}},
        {{2, 3, 4}, {1, 1, 0}, {1, 2, 4}},
        {{2, 3, 4}, {0, 1, 1}, {-1, 1, 2}},
        {{6}, {2}, {3}},
        {{6}, {6}, {0}},
        {{}, {}, {}},
        {{3, 1}, {1, 0}, {2, 1}},
    };
    for (int[][] c : cases) {
      int[] dims = c[0];
      int[] begin = c[1];
      Tensor x = random(d, 60, dims);
      KernelHarness h = new KernelHarness();
      Output s = h.tf.slice(h.input(x), begin, c[2]);
      int[] outDims = s.shape().dims();
      Tensor want = Ref.tensor(d, outDims, i -> {
        int[] o = Ref.unravel(i, outDims);
        for (int q = 0; q < o.length; q++) {
          o[q] += begin[q];
        }
        return x.getDouble(Ref.ravel(o, dims));
      });
      assertEquals(want, h.run(s));
    }
  }

  @ParameterizedTest
  @EnumSource(DType.class)
  void padWithZeros(DType d) {
    int[][][] cases = {
        {{2, 3}, {1, 2, 0, 1}},
        {{2, 3}, {0, 0, 0, 0}},
        {{4}, {3, 0}},
        {{2, 1, 2}, {0, 1, 2, 0, 1, 1}},
        {{0, 2}, {1, 1, 0, 1}},
        {{}, {}},
    };
    for (int[][] c : cases) {
      int[] dims = c[0];
      int[] p = c[1];
      Tensor x = random(d, 70, dims);
      KernelHarness h = new KernelHarness();
      Output y = h.tf.pad(h.input(x), p);
      int[] outDims = y.shape().dims();
      Tensor want = Ref.tensor(d, outDims, i -> {
        int[] o = Ref.unravel(i, outDims);
        for (int q = 0; q < o.length; q++) {
          o[q] -= p[2 * q];
          if (o[q] < 0 || o[q] >= dims[q]) {
            return 0.0;
          }
        }
        return x.getDouble(Ref.ravel(o, dims));
      });
      assertEquals(want, h.run(y));
    }
  }

  @ParameterizedTest
  @EnumSource(value = DType.class, names = {"FLOAT32", "FLOAT64", "INT32", "INT64"})
  void oneHotSetsOnValueAndIgnoresOutOfRangeIndices(DType d) {
    for (DType indexType : List.of(DType.INT32, DType.INT64)) {
      Tensor idx = Ref.tensor(indexType, new double[] {0, 3, -1, 2, 4, 1}, 2, 3);
      KernelHarness h = new KernelHarness();
      Output y = h.tf.opBuilder("OneHot").addInput(h.input(idx)).setAttr("depth", 4).setAttr("dtype", d)
          .setAttr("on_value", 5.0).setAttr("off_value", -1.0).build().output(0);
      Tensor want = Ref.tensor(d, new int[] {2, 3, 4}, i -> idx.getDouble(i / 4) == i % 4 ? 5.0 : -1.0);
      assertEquals(want, h.run(y));
    }
    KernelHarness h = new KernelHarness();
    Tensor got = h.run(h.tf.oneHot(h.input(Tensor.zeros(DType.INT32, dev.kiln.graph.Shape.of(0))), 3));
    assertEquals(Tensor.zeros(DType.FLOAT32, dev.kiln.graph.Shape.of(0, 3)), got);
  }
}
