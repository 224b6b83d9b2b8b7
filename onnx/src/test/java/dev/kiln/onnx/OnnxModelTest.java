package dev.kiln.onnx;

import static dev.kiln.onnx.OnnxWriter.in;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.kiln.graph.Ops;
import dev.kiln.graph.Output;
import dev.kiln.graph.Shape;
import dev.kiln.graph.Tensor;
import dev.kiln.runtime.Session;
import dev.kiln.train.GradientDescent;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class OnnxModelTest {
  static final int FLOAT = 1;
  static final int INT64 = 7;

  static float[] random(Random r, int n, double scale) {
    float[] v = new float[n];
    for (int i = 0; i < n; i++) {
      v[i] = (float) (r.nextGaussian() * scale);
    }
    return v;
  }

  /** An MLP x[N,4] -> Gemm(W1,b1) -> Relu -> MatMul(W2) + b2 -> y[N,1] with a dynamic batch N. */
  static OnnxWriter mlp(Random r) {
    return new OnnxWriter()
        .input("x", FLOAT, "N", 4)
        .input("W1", FLOAT, 4, 8) // an initializer listed among the inputs, as older exporters do
        .output("y", FLOAT, "N", 1)
        .initializer("W1", Tensor.of(random(r, 32, 0.5), 4, 8))
        .initializer("b1", Tensor.of(random(r, 8, 0.1), 8))
        .initializer("W2", Tensor.of(random(r, 8, 0.5), 8, 1))
        .initializer("b2", Tensor.of(new float[] {0f}, 1))
        .node("Gemm", "fc1", in("x", "W1", "b1"), in("h"))
        .node("Relu", "act", in("h"), in("a"))
        .node("MatMul", "fc2", in("a", "W2"), in("p"))
        .node("Add", "bias2", in("p", "b2"), in("y"));
  }

  @Test
  void inputsOutputsAndDynamicBatch(@TempDir Path dir) throws Exception {
    Path file = dir.resolve("mlp.onnx");
    Files.write(file, mlp(new Random(1)).build().toByteArray());
    OnnxModel m = OnnxModel.load(file);
    assertEquals(List.of("x"), m.inputNames(), "initializers are not inputs");
    assertEquals(List.of("y"), m.outputNames());
    assertEquals(Shape.of(-1, 4), m.input("x").shape(), "dim_param N is unknown");
    assertEquals(m.inputs().get(0), m.input("x"));
    assertEquals(m.outputs().get(0), m.output("y"));
    assertTrue(m.initializer().isEmpty(), "constants need no initializer");
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> m.input("z"));
    assertEquals("the model has no input 'z'; its inputs are [x]", e.getMessage());

    // Reference: the same arithmetic in double precision, from the model's own initializers.
    Random r = new Random(1);
    float[] w1 = random(r, 32, 0.5);
    float[] b1 = random(r, 8, 0.1);
    float[] w2 = random(r, 8, 0.5);
    try (Session s = new Session(m.graph())) {
      for (int batch : new int[] {1, 5}) {
        float[] x = random(new Random(batch), batch * 4, 1);
        float[] y = s.run(Map.of(m.input("x"), Tensor.of(x, batch, 4)), m.output("y")).get(0).toFloatArray();
        assertEquals(batch, y.length);
        for (int i = 0; i < batch; i++) {
          double out = 0;
          for (int j = 0; j < 8; j++) {
            double h = b1[j];
            for (int k = 0; k < 4; k++) {
              h += (double) x[i * 4 + k] * w1[k * 8 + j];
            }
            out += Math.max(0, h) * w2[j];
          }
          assertEquals(out, y[i], 1e-5);
        }
      }
    }
  }

  @Test
  void fineTuningWithVariablesLowersTheLoss() {
    OnnxModel m = mlp(new Random(2)).load(ImportOptions.trainable());
    assertTrue(m.initializer().isPresent());
    assertEquals(4, m.graph().variables().size(), "each float initializer is a variable");
    Ops ops = Ops.create(m.graph());
    Output target = ops.placeholder("target", dev.kiln.graph.DType.FLOAT32, Shape.of(-1, 1));
    Output loss = ops.reduceMean(ops.square(ops.sub(m.output("y"), target)));
    var train = new GradientDescent(0.05).minimize(loss);
    // Targets from a fixed linear rule the random network does not compute.
    Random r = new Random(3);
    int n = 32;
    float[] x = random(r, n * 4, 1);
    float[] t = new float[n];
    for (int i = 0; i < n; i++) {
      t[i] = x[i * 4] - 0.5f * x[i * 4 + 1] + 0.25f * x[i * 4 + 3];
    }
    Map<Output, Tensor> feeds = Map.of(m.input("x"), Tensor.of(x, n, 4), target, Tensor.of(t, n, 1));
    try (Session s = new Session(m.graph())) {
      s.run(m.initializer().get());
      double before = s.run(feeds, loss).get(0).floatValue();
      for (int step = 0; step < 200; step++) {
        s.runner().feed(m.input("x"), feeds.get(m.input("x"))).feed(target, feeds.get(target)).addTarget(train).run();
      }
      double after = s.run(feeds, loss).get(0).floatValue();
      assertTrue(after < 0.5 * before, "loss " + before + " -> " + after);
    }
  }

  @Test
  void attributeInputsFoldFromStaticShapesAndOtherwiseNameTheNode() {
    // Reshape's target computed from Shape -> Gather -> Concat, all static: folded at import.
    OnnxModel m = new OnnxWriter()
        .input("x", FLOAT, 2, 3, 4)
        .output("y", FLOAT, 2, 12)
        .initializer("zero", Tensor.of(new long[] {0}, 1))
        .initializer("minus1", Tensor.of(new long[] {-1}, 1))
        .node("Shape", "shape", in("x"), in("s"))
        .node("Gather", "batch", in("s", "zero"), in("b"))
        .node("Concat", "target", in("b", "minus1"), in("t"), "axis", 0L)
        .node("Reshape", "flat", in("x", "t"), in("y"))
        .load(ImportOptions.defaults());
    assertEquals(Shape.of(2, 12), m.output("y").shape());

    UnsupportedOnnxException e = assertThrows(UnsupportedOnnxException.class, () -> new OnnxWriter()
        .input("x", FLOAT, 2, 3)
        .input("t", INT64, 2)
        .output("y", FLOAT, 3, 2)
        .node("Reshape", "dyn", in("x", "t"), in("y"))
        .load(ImportOptions.defaults()));
    assertEquals("test.onnx: node 'dyn' (Reshape): input 1 't' (shape) must be a constant or computed from static "
        + "shapes, but it depends on run-time data", e.getMessage());
  }

  @Test
  void softmaxAxisSemanticsFollowTheOpset() {
    float[] x = random(new Random(4), 24, 1);
    for (int opset : new int[] {11, 13}) {
      OnnxModel m = new OnnxWriter().opset(opset)
          .input("x", FLOAT, 2, 3, 4)
          .output("y", FLOAT, 2, 3, 4)
          .node("Softmax", "sm", in("x"), in("y"), "axis", 1L)
          .load(ImportOptions.defaults());
      float[] y;
      try (Session s = new Session(m.graph())) {
        y = s.run(Map.of(m.input("x"), Tensor.of(x, 2, 3, 4)), m.output("y")).get(0).toFloatArray();
      }
      // opset 11: normalize over the 12 trailing elements of each batch row; opset 13: over axis 1 only.
      for (int b = 0; b < 2; b++) {
        for (int i = 0; i < 3; i++) {
          for (int j = 0; j < 4; j++) {
            double sum = 0;
            for (int k = 0; k < (opset == 11 ? 12 : 3); k++) {
              int idx = opset == 11 ? b * 12 + k : b * 12 + k * 4 + j;
              sum += Math.exp(x[idx]);
            }
            int at = b * 12 + i * 4 + j;
            assertEquals(Math.exp(x[at]) / sum, y[at], 1e-6, "opset " + opset + " at " + at);
          }
        }
      }
    }
  }

  @Test
  void unsupportedOperatorsAreReportedTogetherWithTheirNodes() {
    UnsupportedOnnxException e = assertThrows(UnsupportedOnnxException.class, () -> new OnnxWriter()
        .input("x", FLOAT, 3)
        .output("y", FLOAT, 3)
        .node("NonZero", "nz", in("x"), in("a"))
        .node("Relu", "r", in("a"), in("b"))
        .node("NonZero", "nz2", in("b"), in("c"))
        .node("Unique", "u", in("c"), in("y"))
        .load(ImportOptions.defaults()));
    assertEquals(Map.of("NonZero", List.of("nz", "nz2"), "Unique", List.of("u")), e.operators());
    assertEquals("test.onnx: 3 node(s) of 2 unsupported operator type(s): NonZero x2 (nz, nz2); Unique x1 (u)",
        e.getMessage());
  }

  @Test
  void badFilesFailNamingTheFile(@TempDir Path dir) throws Exception {
    Path file = dir.resolve("junk.onnx");
    Files.write(file, new byte[] {1, 2, 3, 4, 5});
    OnnxImportException e = assertThrows(OnnxImportException.class, () -> OnnxModel.load(file));
    assertTrue(e.getMessage().startsWith(file + ": not an ONNX model"), e.getMessage());
  }
}
