package dev.kiln.onnx;

import static dev.kiln.onnx.OnnxModelTest.FLOAT;
import static dev.kiln.onnx.OnnxModelTest.INT64;
import static dev.kiln.onnx.OnnxModelTest.random;
import static dev.kiln.onnx.OnnxWriter.in;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import dev.kiln.graph.Shape;
import dev.kiln.graph.Tensor;
import dev.kiln.runtime.Session;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.Test;

/** Reshape/Expand/ConstantOfShape targets computed from shapes whose batch dimension is a dim_param. */
class SymbolicShapeTest {
  private static final int[] BATCHES = {1, 7};

  private static float[] run(OnnxModel m, float[] x, int... dims) {
    try (Session s = new Session(m.graph())) {
      Tensor y = s.run(Map.of(m.input("x"), Tensor.of(x, dims)), m.output("y")).get(0);
      return y.toFloatArray();
    }
  }

  private static Tensor runTensor(OnnxModel m, float[] x, int... dims) {
    try (Session s = new Session(m.graph())) {
      return s.run(Map.of(m.input("x"), Tensor.of(x, dims)), m.output("y")).get(0);
    }
  }

  /** PyTorch's x.view(x.size(0), -1) before a linear layer: Shape -> Gather(0) -> Unsqueeze -> Concat -> Reshape. */
  @Test
  void flattenThroughTheInputsOwnShape() {
    Random r = new Random(11);
    float[] w = random(r, 24 * 5, 0.5);
    OnnxModel m = new OnnxWriter()
        .input("x", FLOAT, "N", 2, 3, 4)
        .output("y", FLOAT, "N", 5)
        .initializer("W", Tensor.of(w, 24, 5))
        .initializer("zero", Tensor.scalar(0L))
        .initializer("axes0", Tensor.of(new long[] {0}, 1))
        .initializer("minus1", Tensor.of(new long[] {-1}, 1))
        .node("Relu", "act", in("x"), in("a"))
        .node("Shape", "shape", in("a"), in("s"))
        .node("Gather", "batch", in("s", "zero"), in("b"))
        .node("Unsqueeze", "batch1", in("b", "axes0"), in("b1"))
        .node("Concat", "target", in("b1", "minus1"), in("t"), "axis", 0L)
        .node("Reshape", "flat", in("a", "t"), in("f"))
        .node("MatMul", "fc", in("f", "W"), in("y"))
        .load(ImportOptions.defaults());
    assertEquals(Shape.of(-1, 5), m.output("y").shape());
    for (int batch : BATCHES) {
      float[] x = random(r, batch * 24, 1);
      float[] y = run(m, x, batch, 2, 3, 4);
      assertEquals(batch * 5, y.length);
      for (int i = 0; i < batch; i++) {
        for (int j = 0; j < 5; j++) {
          double e = 0;
          for (int k = 0; k < 24; k++) {
            e += Math.max(0, x[i * 24 + k]) * w[k * 5 + j];
          }
          assertEquals(e, y[i * 5 + j], 1e-4, "batch " + batch + " [" + i + "," + j + "]");
        }
      }
    }
  }

  /** Slice(Shape, 0, 1) and Cast, concatenated with constants: [N, 6, 4] from [N, 2, 3, 4]; opset 11 Unsqueeze. */
  @Test
  void sliceCastAndConstantEntries() {
    OnnxModel m = new OnnxWriter().opset(11)
        .input("x", FLOAT, "N", 2, 3, 4)
        .output("y", FLOAT, "N", 6, 4)
        .initializer("s0", Tensor.of(new long[] {0}, 1))
        .initializer("s1", Tensor.of(new long[] {1}, 1))
        .initializer("rest", Tensor.of(new long[] {6, 4}, 2))
        .node("Shape", "shape", in("x"), in("s"))
        .node("Slice", "first", in("s", "s0", "s1"), in("b"))
        .node("Cast", "cast", in("b"), in("c"), "to", 7L)
        .node("Concat", "target", in("c", "rest"), in("t"), "axis", 0L)
        .node("Reshape", "view", in("x", "t"), in("y"))
        .load(ImportOptions.defaults());
    assertEquals(Shape.of(-1, 6, 4), m.output("y").shape());
    Random r = new Random(12);
    for (int batch : BATCHES) {
      float[] x = random(r, batch * 24, 1);
      Tensor y = runTensor(m, x, batch, 2, 3, 4);
      assertEquals(Shape.of(batch, 6, 4), y.shape());
      assertArrayEquals(x, y.toFloatArray()); // a reshape keeps the row-major order
    }
  }

  /** Expand [N,1] to [N,3] by the input's own batch, and ConstantOfShape of the input's whole shape. */
  @Test
  void expandAndConstantOfShapeByTheInputsOwnShape() {
    OnnxModel m = new OnnxWriter()
        .input("x", FLOAT, "N", 1)
        .output("y", FLOAT, "N", 3)
        .initializer("zero", Tensor.of(new long[] {0}, 1))
        .initializer("three", Tensor.of(new long[] {3}, 1))
        .node("Shape", "shape", in("x"), in("s"))
        .node("Gather", "batch", in("s", "zero"), in("b"))
        .node("Concat", "target", in("b", "three"), in("t"), "axis", 0L)
        .node("Expand", "wide", in("x", "t"), in("e"))
        .node("ConstantOfShape", "fill", in("t"), in("c"), "value", Tensor.of(new float[] {2.5f}, 1))
        .node("Add", "sum", in("e", "c"), in("y"))
        .load(ImportOptions.defaults());
    Random r = new Random(13);
    for (int batch : BATCHES) {
      float[] x = random(r, batch, 1);
      float[] y = run(m, x, batch, 1);
      float[] want = new float[batch * 3];
      for (int i = 0; i < want.length; i++) {
        want[i] = x[i / 3] + 2.5f;
      }
      assertArrayEquals(want, y, 1e-6f);
    }
  }

  @Test
  void targetsThatNeedRunTimeValuesAreRefusedNamingTheNode() {
    // The target is fed: truly data-dependent.
    UnsupportedOnnxException fed = assertThrows(UnsupportedOnnxException.class, () -> new OnnxWriter()
        .input("x", FLOAT, "N", 3)
        .input("t", INT64, 2)
        .output("y", FLOAT, 3, "M")
        .node("Reshape", "dyn", in("x", "t"), in("y"))
        .load(ImportOptions.defaults()));
    assertEquals("test.onnx: node 'dyn' (Reshape): input 1 't' (shape) must be a constant or computed from static "
        + "shapes, but it depends on run-time data", fed.getMessage());

    // Another tensor's unknown batch: the element count cannot be proved equal at import.
    UnsupportedOnnxException other = assertThrows(UnsupportedOnnxException.class, () -> new OnnxWriter()
        .input("x", FLOAT, "N", 6)
        .input("z", FLOAT, "M", 2)
        .output("y", FLOAT, "M", 3, 2)
        .initializer("zero", Tensor.of(new long[] {0}, 1))
        .initializer("rest", Tensor.of(new long[] {-1, 2}, 2))
        .node("Shape", "shape", in("z"), in("s"))
        .node("Gather", "batch", in("s", "zero"), in("b"))
        .node("Concat", "target", in("b", "rest"), in("t"), "axis", 0L)
        .node("Reshape", "view", in("x", "t"), in("y"))
        .load(ImportOptions.defaults()));
    assertEquals("test.onnx: node 'view' (Reshape): shape entry 0 is dimension 0 of 'z', unknown until run time and "
        + "not a dimension of the input [?,6], so the element count cannot be checked at import", other.getMessage());

    // A shape value used as data.
    UnsupportedOnnxException data = assertThrows(UnsupportedOnnxException.class, () -> new OnnxWriter()
        .input("x", FLOAT, "N", 6)
        .output("y", INT64, 2)
        .node("Shape", "shape", in("x"), in("s"))
        .node("Neg", "neg", in("s"), in("y"))
        .load(ImportOptions.defaults()));
    assertEquals("test.onnx: node 'neg' (Neg): input 's' is the shape value [dimension 0 of 'x', 6], unknown until "
        + "run time; Kiln computes shapes at import, and takes such a value only as a Reshape, Expand or "
        + "ConstantOfShape target built from the input's own dimensions", data.getMessage());
  }
}
