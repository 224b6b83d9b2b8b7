package dev.kiln.nn;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import dev.kiln.graph.DType;
import dev.kiln.graph.Graph;
import dev.kiln.graph.Ops;
import dev.kiln.graph.Output;
import dev.kiln.graph.Shape;
import dev.kiln.graph.Tensor;
import dev.kiln.runtime.GradientChecker;
import dev.kiln.runtime.Session;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;
import org.junit.jupiter.api.Test;

/**
 * The recurrent cells, DynamicRnn and the layers on top against {@link RnnReference}'s float64 loops:
 * outputs zero past each example's length, final states at its own last step; gradients checked
 * numerically for every cell.
 */
class RecurrentTest {
  static final int B = 3;
  static final int T = 5;
  static final int IN = 4;
  static final int H = 3;
  static final int[] LENGTHS = {5, 2, 0};

  private final Graph g = new Graph();
  private final Ops tf = Ops.create(g);

  static double[] randoms(long seed, int n, double scale) {
    Random r = new Random(seed);
    double[] v = new double[n];
    for (int i = 0; i < n; i++) {
      v[i] = r.nextGaussian() * scale;
    }
    return v;
  }

  static RnnReference.Weights weights(RnnReference.Kind kind, long seed, int in, int hidden) {
    int cols = (kind == RnnReference.Kind.LSTM ? 4 : kind == RnnReference.Kind.GRU ? 3 : 1) * hidden;
    return new RnnReference.Weights(randoms(seed, in * cols, 0.6), randoms(seed + 1, hidden * cols, 0.6),
        randoms(seed + 2, cols, 0.5), randoms(seed + 3, cols, 0.5));
  }

  static RnnCell cell(RnnReference.Kind kind, RnnReference.Weights w, int in, int hidden, double forgetBias) {
    int cols = w.bIh().length;
    Tensor wIh = Tensor.of(w.wIh(), in, cols);
    Tensor wHh = Tensor.of(w.wHh(), hidden, cols);
    Tensor bIh = Tensor.of(w.bIh(), cols);
    Tensor bHh = Tensor.of(w.bHh(), cols);
    return switch (kind) {
      case LSTM -> new LstmCell(in, hidden).withForgetBias(forgetBias).withInitialWeights(wIh, wHh, bIh, bHh);
      case GRU -> new GruCell(in, hidden).withInitialWeights(wIh, wHh, bIh, bHh);
      case RNN -> new SimpleRnnCell(in, hidden).withInitialWeights(wIh, wHh, bIh, bHh);
    };
  }

  static void assertOutputs(double[][][] want, double[] got, String what) {
    for (int b = 0; b < want.length; b++) {
      for (int t = 0; t < want[b].length; t++) {
        for (int j = 0; j < want[b][t].length; j++) {
          assertEquals(want[b][t][j], got[(b * want[b].length + t) * want[b][t].length + j], 1e-12,
              what + "[" + b + "," + t + "," + j + "]");
        }
      }
    }
  }

  static void assertState(double[][] want, double[] got, String what) {
    for (int b = 0; b < want.length; b++) {
      for (int j = 0; j < want[b].length; j++) {
        assertEquals(want[b][j], got[b * want[b].length + j], 1e-12, what + "[" + b + "," + j + "]");
      }
    }
  }

  @ParameterizedTest
  @EnumSource(RnnReference.Kind.class)
  void dynamicRnnMatchesTheFloat64LoopWithPerExampleLengths(RnnReference.Kind kind) {
    RnnReference.Weights w = weights(kind, 10 + kind.ordinal(), IN, H);
    double forgetBias = kind == RnnReference.Kind.LSTM ? 1.0 : 0;
    Output x = tf.placeholder("x", DType.FLOAT64, Shape.of(-1, T, IN));
    Output lengths = tf.placeholder("lengths", DType.INT32, Shape.of(-1));
    RnnCell c = cell(kind, w, IN, H, forgetBias);
    DynamicRnn rnn = DynamicRnn.over(c).withLengths(lengths);
    // The loop (the default) and the unrolled steps, each against the reference.
    List<DynamicRnn.Result> forms = List.of(rnn.run(tf, x), rnn.unrolled().run(tf, x));
    double[] xv = randoms(1, B * T * IN, 1);
    RnnReference.Run want = new RnnReference(kind, IN, H, forgetBias, w).run(xv, B, T, LENGTHS, false);
    try (Session s = new Session(g)) {
      s.run(tf.globalVariablesInitializer());
      for (DynamicRnn.Result r : forms) {
        assertEquals(Shape.of(-1, T, H), r.outputs().shape());
        List<Output> fetches = new ArrayList<>(List.of(r.outputs()));
        fetches.addAll(r.finalState());
        List<Tensor> got = s.run(Map.of(x, Tensor.of(xv, B, T, IN), lengths, Tensor.of(LENGTHS, B)),
            fetches.toArray(Output[]::new));
        assertOutputs(want.outputs(), got.get(0).toDoubleArray(), "outputs");
        for (int k = 0; k < c.stateCount(); k++) {
          assertState(want.state()[k], got.get(1 + k).toDoubleArray(), "state " + k);
        }
      }
    }
  }

  @ParameterizedTest
  @EnumSource(RnnReference.Kind.class)
  void unrolledGradientsAgreeWithFiniteDifferences(RnnReference.Kind kind) {
    int t = 3;
    int[] lengths = {3, 1};
    RnnReference.Weights w = weights(kind, 20 + kind.ordinal(), 2, 2);
    Output x = tf.placeholder("x", DType.FLOAT64, Shape.of(2, t, 2));
    Output h0 = tf.placeholder("h0", DType.FLOAT64, Shape.of(2, 2));
    Output len = tf.placeholder("lengths", DType.INT32, Shape.of(2));
    RnnCell c = cell(kind, w, 2, 2, 0.5);
    List<Output> init = new ArrayList<>(List.of(h0));
    if (c.stateCount() == 2) {
      init.add(tf.mul(h0, tf.constant(0.5, DType.FLOAT64)));
    }
    DynamicRnn.Result r = DynamicRnn.over(c).withLengths(len).withInitialState(init).unrolled().run(tf, x);
    // Every output and state tensor reaches y, so each one's gradient is checked.
    List<Output> parts = new ArrayList<>(List.of(tf.reshape(r.outputs(), -1)));
    r.finalState().forEach(s -> parts.add(tf.reshape(s, -1)));
    Output y = tf.concat(parts, 0);
    Map<Output, Tensor> xs = new LinkedHashMap<>();
    xs.put(x, Tensor.of(randoms(3, 2 * t * 2, 1), 2, t, 2));
    xs.put(h0, Tensor.of(randoms(4, 4, 0.5), 2, 2));
    try (Session s = new Session(g)) {
      s.run(tf.globalVariablesInitializer());
      for (var v : c.trainableVariables()) {
        xs.put(v, s.variableValue(v));
      }
    }
    GradientChecker.check(y, xs, Map.of(len, Tensor.of(lengths, 2))).assertWithin(1e-7);
  }

  @ParameterizedTest
  @EnumSource(RnnReference.Kind.class)
  void withAnUnknownTimeAxisTheStepsRunInAWhileLoopForAnyNumberOfSteps(RnnReference.Kind kind) {
    RnnReference.Weights w = weights(kind, 110 + kind.ordinal(), IN, H);
    Output x = tf.placeholder("x", DType.FLOAT64, Shape.of(-1, -1, IN));
    Output lengths = tf.placeholder("lengths", DType.INT32, Shape.of(-1));
    RnnCell c = cell(kind, w, IN, H, 0);
    DynamicRnn.Result r = DynamicRnn.over(c).withLengths(lengths).run(tf, x);
    assertEquals(Shape.of(-1, -1, H), r.outputs().shape());
    assertEquals(1, g.operations().stream().filter(op -> op.type().equals("While")).count());
    RnnReference ref = new RnnReference(kind, IN, H, 0, w);
    try (Session s = new Session(g)) {
      s.run(tf.globalVariablesInitializer());
      // One graph, one plan per fed shape: 5 steps with the usual lengths, then 2 steps.
      for (int steps : new int[] {T, 2}) {
        int[] lens = steps == T ? LENGTHS : new int[] {1, 2, 0};
        double[] xv = randoms(11 + steps, B * steps * IN, 1);
        RnnReference.Run want = ref.run(xv, B, steps, lens, false);
        List<Output> fetches = new ArrayList<>(List.of(r.outputs()));
        fetches.addAll(r.finalState());
        List<Tensor> got = s.run(Map.of(x, Tensor.of(xv, B, steps, IN), lengths, Tensor.of(lens, B)),
            fetches.toArray(Output[]::new));
        assertEquals(Shape.of(B, steps, H), got.get(0).shape());
        assertOutputs(want.outputs(), got.get(0).toDoubleArray(), "outputs, " + steps + " steps");
        for (int k = 0; k < c.stateCount(); k++) {
          assertState(want.state()[k], got.get(1 + k).toDoubleArray(), "state " + k + ", " + steps + " steps");
        }
      }
    }
  }

  @ParameterizedTest
  @EnumSource(RnnReference.Kind.class)
  void inALoopEveryCellHasGradientsForARunTimeNumberOfSteps(RnnReference.Kind kind) {
    RnnReference.Weights w = weights(kind, 130 + kind.ordinal(), 2, 2);
    Output x = tf.placeholder("x", DType.FLOAT64, Shape.of(2, -1, 2));
    Output h0 = tf.placeholder("h0", DType.FLOAT64, Shape.of(2, 2));
    Output len = tf.placeholder("lengths", DType.INT32, Shape.of(2));
    RnnCell c = cell(kind, w, 2, 2, 0.5);
    List<Output> init = c.stateCount() == 2 ? List.of(h0, tf.mul(h0, tf.constant(0.5, DType.FLOAT64))) : List.of(h0);
    DynamicRnn.Result r = DynamicRnn.over(c).withLengths(len).withInitialState(init).run(tf, x);
    // The number of steps is unknown when y is built: the outputs enter y summed over time (squared,
    // so that every step's output has its own gradient).
    List<Output> parts = new ArrayList<>(List.of(tf.reduceSum(tf.square(r.outputs()), new int[] {1}, false)));
    parts.addAll(r.finalState());
    Output y = tf.concat(parts, 1);
    for (int steps : new int[] {3, 1}) {
      Map<Output, Tensor> xs = new LinkedHashMap<>();
      xs.put(x, Tensor.of(randoms(13 + steps, 2 * steps * 2, 1), 2, steps, 2));
      xs.put(h0, Tensor.of(randoms(14, 4, 0.5), 2, 2));
      try (Session s = new Session(g)) {
        s.run(tf.globalVariablesInitializer());
        for (var v : c.trainableVariables()) {
          xs.put(v, s.variableValue(v));
        }
      }
      GradientChecker.check(y, xs, Map.of(len, Tensor.of(new int[] {steps, 1}, 2))).assertWithin(1e-7);
    }
  }

  /** Only the final h is read (a classifier on the last state): the per-step outputs take no gradient. */
  @Test
  void inALoopAnLstmReadOnlyThroughItsFinalHHasGradients() {
    RnnReference.Weights w = weights(RnnReference.Kind.LSTM, 140, 2, 3);
    Output x = tf.placeholder("x", DType.FLOAT64, Shape.of(-1, 2, 2));
    Output len = tf.placeholder("lengths", DType.INT32, Shape.of(2));
    RnnCell c = cell(RnnReference.Kind.LSTM, w, 2, 3, 0.5);
    Output y = tf.tanh(DynamicRnn.over(c).timeMajor().withLengths(len).run(tf, x).finalOutput());
    for (int steps : new int[] {4, 1}) {
      Map<Output, Tensor> xs = new LinkedHashMap<>();
      xs.put(x, Tensor.of(randoms(17 + steps, steps * 2 * 2, 1), steps, 2, 2));
      try (Session s = new Session(g)) {
        s.run(tf.globalVariablesInitializer());
        for (var v : c.trainableVariables()) {
          xs.put(v, s.variableValue(v));
        }
      }
      GradientChecker.check(y, xs, Map.of(len, Tensor.of(new int[] {steps, steps - 1}, 2))).assertWithin(1e-7);
    }
  }

  @Test
  void gradientsFlowThroughStackedBidirectionalLayersWithLengths() {
    Output x = tf.placeholder("x", DType.FLOAT64, Shape.of(2, 3, 2));
    Output len = tf.placeholder("lengths", DType.INT32, Shape.of(2));
    Bidirectional bi = new Bidirectional(cell(RnnReference.Kind.LSTM, weights(RnnReference.Kind.LSTM, 140, 2, 2), 2, 2,
        0), cell(RnnReference.Kind.GRU, weights(RnnReference.Kind.GRU, 150, 2, 2), 2, 2, 0));
    StackedRnn top = new StackedRnn(List.of(cell(RnnReference.Kind.RNN, weights(RnnReference.Kind.RNN, 160, 4, 2), 4, 2,
        0)));
    DynamicRnn.Result r = top.run(tf, bi.run(tf, x, len).outputs(), len);
    Output y = tf.concat(List.of(tf.reshape(r.outputs(), -1), tf.reshape(r.finalState().get(0), -1)), 0);
    Map<Output, Tensor> xs = new LinkedHashMap<>();
    xs.put(x, Tensor.of(randoms(15, 12, 1), 2, 3, 2));
    try (Session s = new Session(g)) {
      s.run(tf.globalVariablesInitializer());
      for (var v : bi.trainableVariables()) {
        xs.put(v, s.variableValue(v));
      }
      for (var v : top.trainableVariables()) {
        xs.put(v, s.variableValue(v));
      }
    }
    GradientChecker.check(y, xs, Map.of(len, Tensor.of(new int[] {2, 3}, 2))).assertWithin(1e-7);
  }

  @Test
  void theLoopAndTheUnrolledStepsAgreeOnAKnownTimeAxis() {
    RnnReference.Weights w = weights(RnnReference.Kind.LSTM, 120, IN, H);
    Output x = tf.placeholder("x", DType.FLOAT64, Shape.of(T, -1, IN));
    Output lengths = tf.placeholder("lengths", DType.INT32, Shape.of(-1));
    RnnCell c = cell(RnnReference.Kind.LSTM, w, IN, H, 0.5);
    DynamicRnn rnn = DynamicRnn.over(c).timeMajor().withLengths(lengths);
    DynamicRnn.Result unrolled = rnn.unrolled().run(tf, x);
    DynamicRnn.Result looped = rnn.run(tf, x);
    try (Session s = new Session(g)) {
      s.run(tf.globalVariablesInitializer());
      List<Tensor> got = s.run(Map.of(x, Tensor.of(randoms(12, T * B * IN, 1), T, B, IN), lengths,
          Tensor.of(LENGTHS, B)), unrolled.outputs(), looped.outputs(), unrolled.finalState().get(1),
          looped.finalState().get(1));
      double[] a = got.get(0).toDoubleArray();
      double[] b = got.get(1).toDoubleArray();
      for (int i = 0; i < a.length; i++) {
        assertEquals(a[i], b[i], 1e-13, "output " + i);
      }
      for (int i = 0; i < B * H; i++) {
        assertEquals(got.get(2).getDouble(i), got.get(3).getDouble(i), 1e-13, "c " + i);
      }
    }
  }

  @Test
  void bidirectionalRunsTheBackwardCellOverEachExamplesOwnStepsReversed() {
    RnnReference.Weights wf = weights(RnnReference.Kind.LSTM, 30, IN, H);
    RnnReference.Weights wb = weights(RnnReference.Kind.GRU, 40, IN, 2);
    // An unknown time axis: both directions run in loops, the reversal computed from x.
    Output x = tf.placeholder("x", DType.FLOAT64, Shape.of(-1, -1, IN));
    Output lengths = tf.placeholder("lengths", DType.INT32, Shape.of(-1));
    Bidirectional bi = new Bidirectional(cell(RnnReference.Kind.LSTM, wf, IN, H, 0),
        cell(RnnReference.Kind.GRU, wb, IN, 2, 0));
    DynamicRnn.Result r = bi.run(tf, x, lengths);
    assertEquals(Shape.of(-1, -1, H + 2), r.outputs().shape());
    double[] xv = randoms(5, B * T * IN, 1);
    RnnReference.Run fw = new RnnReference(RnnReference.Kind.LSTM, IN, H, 0, wf).run(xv, B, T, LENGTHS, false);
    RnnReference.Run bw = new RnnReference(RnnReference.Kind.GRU, IN, 2, 0, wb).run(xv, B, T, LENGTHS, true);
    double[][][] want = new double[B][T][H + 2];
    for (int b = 0; b < B; b++) {
      for (int t = 0; t < T; t++) {
        System.arraycopy(fw.outputs()[b][t], 0, want[b][t], 0, H);
        System.arraycopy(bw.outputs()[b][t], 0, want[b][t], H, 2);
      }
    }
    try (Session s = new Session(g)) {
      s.run(tf.globalVariablesInitializer());
      List<Tensor> got = s.run(Map.of(x, Tensor.of(xv, B, T, IN), lengths, Tensor.of(LENGTHS, B)),
          r.outputs(), r.finalState().get(0), r.finalState().get(1), r.finalState().get(2));
      assertOutputs(want, got.get(0).toDoubleArray(), "outputs");
      assertState(fw.state()[0], got.get(1).toDoubleArray(), "forward h");
      assertState(fw.state()[1], got.get(2).toDoubleArray(), "forward c");
      assertState(bw.state()[0], got.get(3).toDoubleArray(), "backward h");
    }
    assertEquals(8, bi.trainableVariables().size());
  }

  @Test
  void bidirectionalWithoutLengthsReversesTheWholeSequence() {
    RnnReference.Weights wf = weights(RnnReference.Kind.RNN, 50, IN, H);
    RnnReference.Weights wb = weights(RnnReference.Kind.RNN, 60, IN, H);
    Output x = tf.placeholder("x", DType.FLOAT64, Shape.of(T, -1, IN));
    Output y = new Bidirectional(cell(RnnReference.Kind.RNN, wf, IN, H, 0), cell(RnnReference.Kind.RNN, wb, IN, H, 0))
        .timeMajor().apply(tf, x);
    double[] xv = randoms(6, B * T * IN, 1);
    // The reference takes batch-major inputs: transpose the time-major values.
    double[] batchMajor = new double[xv.length];
    for (int t = 0; t < T; t++) {
      for (int b = 0; b < B; b++) {
        System.arraycopy(xv, (t * B + b) * IN, batchMajor, (b * T + t) * IN, IN);
      }
    }
    int[] full = {T, T, T};
    RnnReference.Run fw = new RnnReference(RnnReference.Kind.RNN, IN, H, 0, wf).run(batchMajor, B, T, full, false);
    RnnReference.Run bw = new RnnReference(RnnReference.Kind.RNN, IN, H, 0, wb).run(batchMajor, B, T, full, true);
    try (Session s = new Session(g)) {
      s.run(tf.globalVariablesInitializer());
      double[] got = s.run(Map.of(x, Tensor.of(xv, T, B, IN)), y).get(0).toDoubleArray();
      for (int t = 0; t < T; t++) {
        for (int b = 0; b < B; b++) {
          for (int j = 0; j < H; j++) {
            assertEquals(fw.outputs()[b][t][j], got[(t * B + b) * 2 * H + j], 1e-12);
            assertEquals(bw.outputs()[b][t][j], got[(t * B + b) * 2 * H + H + j], 1e-12);
          }
        }
      }
    }
  }

  @Test
  void stackedLayersFeedEachLayerTheOutputsOfTheOneBelow() {
    RnnReference.Weights w1 = weights(RnnReference.Kind.LSTM, 70, IN, H);
    RnnReference.Weights w2 = weights(RnnReference.Kind.GRU, 80, H, 2);
    Output x = tf.placeholder("x", DType.FLOAT64, Shape.of(-1, T, IN));
    Output lengths = tf.placeholder("lengths", DType.INT32, Shape.of(-1));
    StackedRnn stack = new StackedRnn(List.of(cell(RnnReference.Kind.LSTM, w1, IN, H, 0),
        cell(RnnReference.Kind.GRU, w2, H, 2, 0)));
    DynamicRnn.Result r = stack.run(tf, x, lengths);
    double[] xv = randoms(7, B * T * IN, 1);
    RnnReference.Run first = new RnnReference(RnnReference.Kind.LSTM, IN, H, 0, w1).run(xv, B, T, LENGTHS, false);
    double[] mid = new double[B * T * H];
    for (int b = 0; b < B; b++) {
      for (int t = 0; t < T; t++) {
        System.arraycopy(first.outputs()[b][t], 0, mid, (b * T + t) * H, H);
      }
    }
    RnnReference.Run second = new RnnReference(RnnReference.Kind.GRU, H, 2, 0, w2).run(mid, B, T, LENGTHS, false);
    try (Session s = new Session(g)) {
      s.run(tf.globalVariablesInitializer());
      List<Tensor> got = s.run(Map.of(x, Tensor.of(xv, B, T, IN), lengths, Tensor.of(LENGTHS, B)),
          r.outputs(), r.finalState().get(1), r.finalState().get(2));
      assertOutputs(second.outputs(), got.get(0).toDoubleArray(), "outputs");
      assertState(first.state()[1], got.get(1).toDoubleArray(), "layer 0 c");
      assertState(second.state()[0], got.get(2).toDoubleArray(), "layer 1 h");
    }
  }

  @Test
  void aCellStepMatchesTheReferenceStep() {
    RnnReference.Weights w = weights(RnnReference.Kind.LSTM, 90, IN, H);
    Output x = tf.placeholder("x", DType.FLOAT64, Shape.of(B, IN));
    Output h = tf.placeholder("h", DType.FLOAT64, Shape.of(B, H));
    Output c = tf.placeholder("c", DType.FLOAT64, Shape.of(B, H));
    List<Output> next = cell(RnnReference.Kind.LSTM, w, IN, H, 0).call(tf, x, List.of(h, c));
    double[] xv = randoms(8, B * IN, 1);
    double[] hv = randoms(9, B * H, 1);
    double[] cv = randoms(10, B * H, 1);
    RnnReference ref = new RnnReference(RnnReference.Kind.LSTM, IN, H, 0, w);
    try (Session s = new Session(g)) {
      s.run(tf.globalVariablesInitializer());
      List<Tensor> got = s.run(Map.of(x, Tensor.of(xv, B, IN), h, Tensor.of(hv, B, H), c, Tensor.of(cv, B, H)),
          next.get(0), next.get(1));
      for (int b = 0; b < B; b++) {
        double[][] want = ref.step(java.util.Arrays.copyOfRange(xv, b * IN, b * IN + IN),
            new double[][] {java.util.Arrays.copyOfRange(hv, b * H, b * H + H),
                java.util.Arrays.copyOfRange(cv, b * H, b * H + H)});
        for (int j = 0; j < H; j++) {
          assertEquals(want[0][j], got.get(0).getDouble(b * H + j), 1e-12);
          assertEquals(want[1][j], got.get(1).getDouble(b * H + j), 1e-12);
        }
      }
    }
  }

  @Test
  void variablesAreCreatedOnceWithTorchsRandomRangeAndNamedUnderTheCellsScope() {
    Output x = tf.placeholder("x", DType.FLOAT32, Shape.of(-1, T, IN));
    LstmCell c = new LstmCell(IN, 16).withSeed(3);
    new Recurrent(c).apply(tf, x);
    new Recurrent(c).apply(tf, x); // shares the weights
    assertEquals(List.of("lstm/w_ih", "lstm/w_hh", "lstm/b_ih", "lstm/b_hh"),
        c.trainableVariables().stream().map(Output::name).map(n -> n.substring(0, n.indexOf(':') < 0 ? n.length()
            : n.indexOf(':'))).toList());
    assertEquals(Shape.of(IN, 64), c.trainableVariables().get(0).shape());
    assertEquals(Shape.of(16, 64), c.trainableVariables().get(1).shape());
    try (Session s = new Session(g)) {
      s.run(tf.globalVariablesInitializer());
      double limit = 1 / Math.sqrt(16);
      double max = 0;
      for (double v : s.variableValue(c.trainableVariables().get(1)).toDoubleArray()) {
        max = Math.max(max, Math.abs(v));
      }
      assertEquals(limit, max, 0.05 * limit, "largest |w_hh| of 1024 draws from U(-1/4, 1/4)");
      for (double v : s.variableValue(c.trainableVariables().get(2)).toDoubleArray()) {
        assertEquals(0, v);
      }
    }
  }

  @Test
  void badInputsFailNamingWhatIsWrong() {
    Output x = tf.placeholder("x", DType.FLOAT32, Shape.of(-1, T, 7));
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
        () -> DynamicRnn.over(new LstmCell(IN, H)).run(tf, x));
    assertEquals("DynamicRnn: inputs 'x' must be [batch, time, 4], got [?,5,7]", e.getMessage());
    Output lengths = tf.placeholder("len", DType.INT64, Shape.of(-1));
    e = assertThrows(IllegalArgumentException.class, () -> DynamicRnn.over(new GruCell(7, H)).withLengths(lengths));
    assertEquals("DynamicRnn: lengths 'len' must be i32[batch], got i64[?]", e.getMessage());
    Output noTime = tf.placeholder("u", DType.FLOAT32, Shape.of(-1, -1, 7));
    e = assertThrows(IllegalArgumentException.class, () -> DynamicRnn.over(new GruCell(7, H)).unrolled().run(tf, noTime));
    assertEquals("DynamicRnn: unrolling needs the time axis of inputs 'u' to have a known size, got [?,?,7]",
        e.getMessage());
    e = assertThrows(IllegalArgumentException.class,
        () -> new StackedRnn(List.of(new LstmCell(IN, H), new GruCell(H + 1, H))));
    assertEquals("StackedRnn: cell 1 (GruCell(4 -> 3)) must take 3 inputs, the hidden size of cell 0 (LstmCell(4 -> 3))",
        e.getMessage());
    LstmCell shared = new LstmCell(IN, H);
    e = assertThrows(IllegalArgumentException.class, () -> new Bidirectional(shared, shared));
    assertEquals("Bidirectional: the two directions need two cells, got the same LstmCell(4 -> 3)", e.getMessage());
    e = assertThrows(IllegalArgumentException.class,
        () -> new LstmCell(IN, H).withInitialWeights(Tensor.of(new float[12], 4, 3), Tensor.of(new float[36], 3, 12)));
    assertEquals("LstmCell: initial w_ih must have shape [4,12], got [4,3]", e.getMessage());
    int before = g.size();
    Output h = tf.placeholder("h", DType.FLOAT32, Shape.of(-1, H));
    Output x2 = tf.placeholder("x2", DType.FLOAT32, Shape.of(-1, IN));
    LstmCell c = new LstmCell(IN, H);
    e = assertThrows(IllegalArgumentException.class, () -> c.call(tf, x2, List.of(h)));
    assertEquals("LstmCell 'lstm': needs 2 state tensors, got 1", e.getMessage());
  }
}
