package dev.kiln.onnx;

import static dev.kiln.onnx.OnnxWriter.in;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.kiln.graph.Shape;
import dev.kiln.graph.Tensor;
import dev.kiln.runtime.Session;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class ControlFlowImportTest {
  static final int FLOAT = 1;
  static final int INT64 = 7;
  static final int BOOL = 9;
  static final float[] W = {1f, -2f, 0.5f};

  /** The body y_out = y_in * 0.5 + w, w an initializer of the enclosing graph; cond_out is given by the caller. */
  static OnnxWriter body(boolean scan) {
    OnnxWriter body = new OnnxWriter()
        .input("i", INT64)
        .input("c", BOOL)
        .input("y_in", FLOAT, 3)
        .output("c_out", BOOL)
        .output("y_out", FLOAT, 3)
        .initializer("half", Tensor.of(new float[] {0.5f}, 1))
        .node("Mul", "decay", in("y_in", "half"), in("h"))
        .node("Add", "step", in("h", "w"), in("y_out"));
    if (scan) {
      // Scans each new y and also the iteration number; passes the condition through.
      return body.output("scan", FLOAT, 3).output("iters", INT64)
          .node("Identity", "copy", in("y_out"), in("scan"))
          .node("Identity", "count", in("i"), in("iters"))
          .node("Identity", "keep", in("c"), in("c_out"));
    }
    // Continues while the iteration number is below the enclosing graph's limit 2.
    return body.node("Less", "more", in("i", "limit"), in("c_out"));
  }

  static float[][] decay(float[] x, int iterations) {
    float[] y = x.clone();
    float[] ys = new float[iterations * 3];
    for (int t = 0; t < iterations; t++) {
      for (int k = 0; k < 3; k++) {
        y[k] = y[k] * 0.5f + W[k];
        ys[t * 3 + k] = y[k];
      }
    }
    return new float[][] {y, ys};
  }

  @Test
  void loopWithScanOutputsStacksOneRowPerIteration() {
    OnnxModel m = new OnnxWriter()
        .input("x", FLOAT, 3)
        .output("y", FLOAT, 3)
        .output("ys", FLOAT, 4, 3)
        .output("is", INT64, 4)
        .initializer("w", Tensor.of(W, 3))
        .initializer("M", Tensor.scalar(4L))
        .node("Loop", "loop", in("M", "", "x"), in("y", "ys", "is"), "body", body(true).graph())
        .load(ImportOptions.defaults());
    float[] x = {4f, 2f, -1f};
    float[][] want = decay(x, 4);
    try (Session s = new Session(m.graph())) {
      List<Tensor> r = s.run(Map.of(m.input("x"), Tensor.of(x, 3)), m.output("y"), m.output("ys"), m.output("is"));
      assertArrayEquals(want[0], r.get(0).toFloatArray(), 1e-6f);
      assertEquals(Shape.of(4, 3), r.get(1).shape());
      assertArrayEquals(want[1], r.get(1).toFloatArray(), 1e-6f);
      assertArrayEquals(new long[] {0, 1, 2, 3}, r.get(2).toLongArray());
    }
  }

  @Test
  void loopStopsOnTheRunTimeTripCountOrTheBodysCondition() {
    OnnxModel m = new OnnxWriter()
        .input("M", INT64)
        .input("x", FLOAT, 3)
        .output("y", FLOAT, 3)
        .initializer("w", Tensor.of(W, 3))
        .initializer("limit", Tensor.scalar(2L))
        .initializer("yes", Tensor.scalar(true))
        .node("Loop", "loop", in("M", "yes", "x"), in("y"), "body", body(false).graph())
        .load(ImportOptions.defaults());
    float[] x = {4f, 2f, -1f};
    try (Session s = new Session(m.graph())) {
      for (long trip : new long[] {0, 1, 2, 5}) {
        // The body's condition is false from iteration 2 on, so at most 3 iterations run.
        float[] want = decay(x, (int) Math.min(trip, 3))[0];
        Tensor y = s.run(Map.of(m.input("M"), Tensor.scalar(trip), m.input("x"), Tensor.of(x, 3)), m.output("y")).get(0);
        assertArrayEquals(want, y.toFloatArray(), 1e-6f, "y after trip count " + trip);
      }
    }
  }

  /** Scan outputs of a loop whose condition stops it early, both known at import: the loop is unrolled. */
  @Test
  void aLoopWhoseConditionFoldsIsUnrolledWithItsScanOutputs() {
    OnnxWriter body = body(false).output("scan", FLOAT, 3).node("Identity", "copy", in("y_out"), in("scan"));
    OnnxModel m = new OnnxWriter()
        .input("x", FLOAT, 3)
        .output("y", FLOAT, 3)
        .output("ys", FLOAT, 3, 3)
        .initializer("w", Tensor.of(W, 3))
        .initializer("limit", Tensor.scalar(2L))
        .initializer("M", Tensor.scalar(5L))
        .node("Loop", "loop", in("M", "", "x"), in("y", "ys"), "body", body.graph())
        .load(ImportOptions.defaults());
    float[] x = {4f, 2f, -1f};
    float[][] want = decay(x, 3);
    assertEquals(Shape.of(3, 3), m.output("ys").shape(), "iterations 0, 1 and 2 run");
    try (Session s = new Session(m.graph())) {
      List<Tensor> r = s.run(Map.of(m.input("x"), Tensor.of(x, 3)), m.output("y"), m.output("ys"));
      assertArrayEquals(want[0], r.get(0).toFloatArray(), 1e-6f);
      assertArrayEquals(want[1], r.get(1).toFloatArray(), 1e-6f);
    }
  }

  @Test
  void scanOutputsOfALoopThatMayStopEarlyAreRefusedWithTheReason() {
    OnnxWriter body = body(false).output("scan", FLOAT, 3).node("Identity", "copy", in("y_out"), in("scan"));
    UnsupportedOnnxException e = assertThrows(UnsupportedOnnxException.class, () -> new OnnxWriter()
        .input("x", FLOAT, 3)
        .input("limit", INT64)
        .output("y", FLOAT, 3)
        .output("ys", FLOAT, 5, 3)
        .initializer("w", Tensor.of(W, 3))
        .initializer("M", Tensor.scalar(5L))
        .node("Loop", "loop", in("M", "", "x"), in("y", "ys"), "body", body.graph())
        .load(ImportOptions.defaults()));
    assertTrue(e.getMessage().contains("node 'loop' (Loop): a loop with scan outputs must run its whole trip count"),
        e.getMessage());
  }

  /** Scan: s_t = s_{t-1} + x_t * w over the rows of x (w of the enclosing graph), scanning every s_t. */
  @Test
  void scanAccumulatesOverTheRowsOfItsInput() {
    var body = new OnnxWriter()
        .input("s_in", FLOAT, 3)
        .input("row", FLOAT, 3)
        .output("s_out", FLOAT, 3)
        .output("s_scan", FLOAT, 3)
        .node("Mul", "weigh", in("row", "w"), in("p"))
        .node("Add", "sum", in("s_in", "p"), in("s_out"))
        .node("Identity", "copy", in("s_out"), in("s_scan"))
        .graph();
    OnnxModel m = new OnnxWriter()
        .opset(11)
        .input("s0", FLOAT, 3)
        .input("x", FLOAT, 4, 3)
        .output("s", FLOAT, 3)
        .output("ss", FLOAT, 4, 3)
        .initializer("w", Tensor.of(W, 3))
        .node("Scan", "scan", in("s0", "x"), in("s", "ss"), "body", body, "num_scan_inputs", 1L)
        .load(ImportOptions.defaults());
    float[] s0 = {1f, 0f, -1f};
    float[] x = new float[12];
    for (int i = 0; i < x.length; i++) {
      x[i] = i * 0.25f - 1f;
    }
    float[] sum = s0.clone();
    float[] all = new float[12];
    for (int t = 0; t < 4; t++) {
      for (int k = 0; k < 3; k++) {
        sum[k] += x[t * 3 + k] * W[k];
        all[t * 3 + k] = sum[k];
      }
    }
    try (Session s = new Session(m.graph())) {
      List<Tensor> r = s.run(Map.of(m.input("s0"), Tensor.of(s0, 3), m.input("x"), Tensor.of(x, 4, 3)),
          m.output("s"), m.output("ss"));
      assertArrayEquals(sum, r.get(0).toFloatArray(), 1e-6f);
      assertArrayEquals(all, r.get(1).toFloatArray(), 1e-6f);
    }
  }

  /** z = If(p) then x + w else x * w, each branch reading x and w of the enclosing graph. */
  @Test
  void ifTakesTheBranchOfItsRunTimeCondition() {
    var thenG = new OnnxWriter().output("a", FLOAT, 3).node("Add", "plus", in("x", "w"), in("a")).graph();
    var elseG = new OnnxWriter().output("b", FLOAT, 3).node("Mul", "times", in("x", "w"), in("b")).graph();
    OnnxModel m = new OnnxWriter()
        .input("p", BOOL)
        .input("x", FLOAT, 3)
        .output("z", FLOAT, 3)
        .initializer("w", Tensor.of(W, 3))
        .node("If", "choose", in("p"), in("z"), "then_branch", thenG, "else_branch", elseG)
        .load(ImportOptions.defaults());
    float[] x = {3f, 1f, -4f};
    try (Session s = new Session(m.graph())) {
      for (boolean p : new boolean[] {true, false}) {
        float[] want = new float[3];
        for (int k = 0; k < 3; k++) {
          want[k] = p ? x[k] + W[k] : x[k] * W[k];
        }
        Tensor z = s.run(Map.of(m.input("p"), Tensor.scalar(p), m.input("x"), Tensor.of(x, 3)), m.output("z")).get(0);
        assertArrayEquals(want, z.toFloatArray(), 0f, "p = " + p);
      }
    }
  }

  /** A condition known at import selects its branch there, so the graph has no If node. */
  @Test
  void ifWithAConstantConditionInlinesItsBranch() {
    var thenG = new OnnxWriter().output("a", FLOAT, 3).node("Add", "plus", in("x", "w"), in("a")).graph();
    var elseG = new OnnxWriter().output("b", FLOAT, 3).node("Mul", "times", in("x", "w"), in("b")).graph();
    OnnxModel m = new OnnxWriter()
        .input("x", FLOAT, 3)
        .output("z", FLOAT, 3)
        .initializer("w", Tensor.of(W, 3))
        .initializer("p", Tensor.scalar(false))
        .node("If", "choose", in("p"), in("z"), "then_branch", thenG, "else_branch", elseG)
        .load(ImportOptions.defaults());
    assertTrue(m.graph().operations().stream().noneMatch(op -> op.type().equals("If")));
    float[] x = {3f, 1f, -4f};
    try (Session s = new Session(m.graph())) {
      Tensor z = s.run(Map.of(m.input("x"), Tensor.of(x, 3)), m.output("z")).get(0);
      assertArrayEquals(new float[] {x[0] * W[0], x[1] * W[1], x[2] * W[2]}, z.toFloatArray(), 0f);
    }
  }

  @Test
  void anUnsupportedOperatorInsideABodyIsReportedWithTheOthers() {
    var thenG = new OnnxWriter().output("a", FLOAT, 3).node("Frobnicate", "odd", in("x"), in("a")).graph();
    var elseG = new OnnxWriter().output("b", FLOAT, 3).node("Identity", "same", in("x"), in("b")).graph();
    UnsupportedOnnxException e = assertThrows(UnsupportedOnnxException.class, () -> new OnnxWriter()
        .input("p", BOOL)
        .input("x", FLOAT, 3)
        .output("z", FLOAT, 3)
        .node("If", "choose", in("p"), in("z"), "then_branch", thenG, "else_branch", elseG)
        .load(ImportOptions.defaults()));
    assertTrue(e.getMessage().contains("Frobnicate x1 (odd)"), e.getMessage());
  }
}
