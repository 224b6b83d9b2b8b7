package dev.kiln.runtime;

import dev.kiln.runtime.fused.FusedCodegen;
import dev.kiln.runtime.fused.FusedKernel;
import dev.kiln.runtime.kernels.KernelSpec;
import dev.kiln.runtime.kernels.Kernels;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.kiln.graph.DType;
import dev.kiln.graph.Elementwise;
import dev.kiln.graph.Graph;
import dev.kiln.graph.Operation;
import dev.kiln.graph.OperationBuilder;
import dev.kiln.graph.Ops;
import dev.kiln.graph.Output;
import dev.kiln.graph.Shape;
import dev.kiln.graph.Subgraph;
import dev.kiln.graph.Tensor;
import dev.kiln.graph.TensorType;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.function.BiFunction;
import java.util.function.Function;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * Fused bodies compiled to one loop (FusedCodegen) against the same kernel run row by row: the same
 * bits for every element, with partial vectors, several blocks, scalars, results, reductions, and
 * lanes outside the fast formulas' ranges; bodies with other ops stay interpreted.
 */
class FusedCodegenTest {
  @BeforeEach
  void needsTheVectorApi() {
    assumeTrue(FusedCodegen.ENABLED, "generated loops need --add-modules jdk.incubator.vector");
  }

  private static Subgraph body(int inputs, List<Shape> shapes, Function<List<Output>, List<Output>> build) {
    Graph b = new Graph();
    List<Output> params = new ArrayList<>();
    for (int i = 0; i < inputs; i++) {
      params.add(b.opBuilder("Parameter", "p" + i).setAttr("dtype", DType.FLOAT32).setAttr("shape", shapes.get(i))
          .build().output(0));
    }
    return new Subgraph(b, params, build.apply(params));
  }

  private static Operation fused(KernelHarness h, Subgraph body, Output... inputs) {
    OperationBuilder ob = h.graph.opBuilder("Fused", "f" + h.graph.operations().size());
    for (Output in : inputs) {
      ob.addInput(in);
    }
    return ob.addSubgraph(body).build();
  }

  private static FusedKernel kernel(Operation f) {
    List<TensorType> in = new ArrayList<>();
    int[] inSlots = new int[f.numInputs()];
    for (int i = 0; i < f.numInputs(); i++) {
      in.add(f.input(i).type());
      inSlots[i] = i;
    }
    int[] outSlots = new int[f.numOutputs()];
    for (int j = 0; j < outSlots.length; j++) {
      outSlots[j] = in.size() + j;
    }
    return (FusedKernel) Kernels.factory("Fused").create(new KernelSpec(f, in, f.outputTypes(), inSlots, outSlots));
  }

  private static FusedKernel kernel(Operation f, SessionOptions.FusedKernelOptions options) {
    List<TensorType> in = new ArrayList<>();
    int[] inSlots = new int[f.numInputs()];
    for (int i = 0; i < f.numInputs(); i++) {
      in.add(f.input(i).type());
      inSlots[i] = i;
    }
    return (FusedKernel) Kernels.factory("Fused").create(new KernelSpec(f, in, f.outputTypes(), inSlots,
        new int[] {in.size()}, options));
  }

  @Test
  void aSessionsFusedKernelOptionsChooseGeneratedOrInterpretedAndTheBlock() {
    int n = 5000;
    KernelHarness h = new KernelHarness();
    Output x = h.input(Tensor.of(data(7, n), n));
    Operation f = fused(h, body(1, List.of(Shape.of(n)), p -> {
      Ops tf = Ops.create(p.get(0).graph());
      return List.of(tf.sigmoid(tf.mul(p.get(0), tf.constant(2f))));
    }), x);
    SessionOptions.FusedKernelOptions d = SessionOptions.FusedKernelOptions.defaults();
    FusedKernel generated = kernel(f, d);
    assertTrue(generated.codegen);
    assertEquals(d.generatedBlockElements(), generated.blockElements());
    FusedKernel off = kernel(f, d.withGenerateLoops(false));
    assertFalse(off.codegen);
    assertEquals(d.blockElements(), off.blockElements());
    assertFalse(kernel(f, new SessionOptions.FusedKernelOptions(true, n + 1, 64, 512)).codegen, "too few elements");
    assertEquals(512, kernel(f, new SessionOptions.FusedKernelOptions(true, 16, 64, 512)).blockElements());
    assertEquals(64, kernel(f, new SessionOptions.FusedKernelOptions(false, 16, 64, 512)).blockElements());
  }

  private static boolean generated(Operation f) {
    return kernel(f).codegen;
  }

  /** Runs f generated and interpreted and checks every output element's bits. */
  private static void sameBits(KernelHarness h, Operation f) {
    assertTrue(generated(f), "the body compiles to a loop");
    List<Tensor> gen = h.runAll(f);
    List<Tensor> rows = h.runAll(f, FusedKernel::interpreted);
    assertEquals(rows.size(), gen.size());
    for (int j = 0; j < gen.size(); j++) {
      float[] g = gen.get(j).toFloatArray();
      float[] r = rows.get(j).toFloatArray();
      assertEquals(r.length, g.length);
      for (int i = 0; i < g.length; i++) {
        assertEquals(Float.floatToIntBits(r[i]), Float.floatToIntBits(g[i]), "output " + j + " element " + i
            + ": interpreted " + r[i] + ", generated " + g[i]);
      }
    }
  }

  /** Normal values, with every 13th lane one of NaN, +-inf, +-0, huge, tiny, near the fast ranges' edges. */
  private static float[] data(long seed, int n) {
    float[] a = KernelHarness.randomF32(seed, n).toFloatArray();
    float[] specials = {Float.NaN, Float.POSITIVE_INFINITY, Float.NEGATIVE_INFINITY, 0f, -0f, 1e30f, -1e30f, 1e-40f,
        86.9f, 87.1f, -87.1f, -100f, 8.99f, 9.01f, -9.5f, 89f, -104f};
    for (int i = 0, k = 0; i < n; i += 13, k++) {
      a[i] = specials[k % specials.length];
    }
    return a;
  }

  @Test
  void w3sChainAndItsSumOverBlocksAndAPartialVector() {
    int n = 2 * SessionOptions.FusedKernelOptions.defaults().generatedBlockElements() + 16 * 3 + 5;
    KernelHarness h = new KernelHarness();
    Output x = h.input(Tensor.of(data(1, n), n));
    Operation f = fused(h, body(1, List.of(Shape.of(n)), p -> {
      Ops tf = Ops.create(p.get(0).graph());
      Output e = tf.exp(tf.neg(tf.mul(p.get(0), p.get(0))));
      Output a = tf.add(tf.mul(e, tf.constant(0.5f)), tf.sigmoid(p.get(0)));
      Output y = tf.sub(tf.mul(tf.tanh(a), p.get(0)), tf.constant(1f));
      return List.of(y, tf.reduceSum(y));
    }), x);
    sameBits(h, f);
  }

  @Test
  void everyOpWithScalarsAndOutOfRangeLanes() {
    int n = SessionOptions.FusedKernelOptions.defaults().generatedBlockElements() + 7;
    KernelHarness h = new KernelHarness();
    Output a = h.input(Tensor.of(data(2, n), n));
    Output b = h.input(Tensor.of(data(3, n), n));
    Output s = h.input(Tensor.scalar(-2.5f));
    Operation f = fused(h, body(3, List.of(Shape.of(n), Shape.of(n), Shape.scalar()), p -> {
      Ops tf = Ops.create(p.get(0).graph());
      Output x = p.get(0);
      Output y = p.get(1);
      return List.of(tf.exp(x), tf.sigmoid(y), tf.tanh(tf.mul(x, p.get(2))), tf.div(x, y), tf.maximum(x, y),
          tf.minimum(y, p.get(2)), tf.square(tf.sub(y, x)), tf.neg(tf.add(x, tf.constant(3f))));
    }), a, b, s);
    sameBits(h, f);
  }

  @Test
  void moreTranscendentalOpsThanOneLoopTakesPassValuesThroughRegisters() {
    int n = 3 * SessionOptions.FusedKernelOptions.defaults().generatedBlockElements() + 9;
    KernelHarness h = new KernelHarness();
    Output a = h.input(Tensor.of(data(5, n), n));
    Output b = h.input(Tensor.of(data(6, n), n));
    // 5 transcendental ops: two loops; e1, t and the sum's input cross from the first to the second
    Operation f = fused(h, body(2, List.of(Shape.of(n), Shape.of(n)), p -> {
      Ops tf = Ops.create(p.get(0).graph());
      Output e1 = tf.exp(tf.mul(p.get(0), tf.constant(0.1f)));
      Output s1 = tf.sigmoid(tf.sub(e1, p.get(1)));
      Output t = tf.tanh(tf.add(s1, p.get(0)));
      Output e2 = tf.exp(tf.neg(t));
      Output s2 = tf.sigmoid(tf.mul(e2, e1));
      Output y = tf.add(tf.mul(s2, t), p.get(1));
      return List.of(y, e1, tf.reduceSum(tf.square(y)));
    }), a, b);
    sameBits(h, f);
  }

  @Test
  void equalBodiesShareOneGeneratedClassAndOthersDoNot() {
    KernelHarness h = new KernelHarness();
    Output a = h.input(Tensor.of(data(7, 300), 300));
    Operation f1 = fused(h, body(1, List.of(Shape.of(300)), p -> List.of(Ops.create(p.get(0).graph()).exp(p.get(0)))), a);
    Operation f2 = fused(h, body(1, List.of(Shape.of(300)), p -> List.of(Ops.create(p.get(0).graph()).exp(p.get(0)))), a);
    Operation f3 = fused(h, body(1, List.of(Shape.of(300)), p -> List.of(Ops.create(p.get(0).graph()).tanh(p.get(0)))), a);
    assertTrue(kernel(f1).generated() != null, "generated");
    assertTrue(kernel(f1).generated() == kernel(f2).generated(), "the same body: one generated loop");
    assertTrue(kernel(f1).generated() != kernel(f3).generated(), "exp and tanh: two");
  }

  @Test
  void bodiesWithOtherOpsStayInterpreted() {
    int n = 300;
    KernelHarness h = new KernelHarness();
    Output a = h.input(Tensor.of(data(4, n), n));
    Operation f = fused(h, body(1, List.of(Shape.of(n)), p -> {
      Ops tf = Ops.create(p.get(0).graph());
      return List.of(tf.pow(tf.exp(p.get(0)), p.get(0)));
    }), a);
    assertFalse(generated(f), "Pow has no generated form");
    Operation softplus = fused(h, Elementwise.lower(body(1, List.of(Shape.of(n)),
        p -> List.of(Ops.create(p.get(0).graph()).softplus(p.get(0))))), a);
    assertFalse(generated(softplus), "Softplus lowers to Log, which has no generated form");

    // a chain longer than MAX_OPS (one method that C2 might not compile) stays with the interpreter
    Operation chain = fused(h, body(1, List.of(Shape.of(n)), p -> {
      Ops tf = Ops.create(p.get(0).graph());
      Output y = p.get(0);
      for (int i = 0; i <= FusedCodegen.MAX_OPS; i++) {
        y = tf.mul(y, tf.constant(1.0001f));
      }
      return List.of(y);
    }), a);
    assertFalse(generated(chain), "a body of " + (FusedCodegen.MAX_OPS + 1) + " ops");

    // a small iteration space (no whole vectors to loop over) stays interpreted; one more element is generated
    int small = SessionOptions.FusedKernelOptions.defaults().generateMinElements() - 1;
    Output b = h.input(Tensor.of(data(4, small), small));
    assertFalse(generated(fused(h, body(1, List.of(Shape.of(small)), p -> List.of(Ops.create(p.get(0).graph()).exp(p.get(0)))), b)));
    Output c = h.input(Tensor.of(data(4, small + 1), small + 1));
    assertTrue(generated(fused(h, body(1, List.of(Shape.of(small + 1)), p -> List.of(Ops.create(p.get(0).graph()).exp(p.get(0)))), c)));
  }

  @Test
  void comparisonsSelectAndConstantsLikeARelusGradient() {
    int n = SessionOptions.FusedKernelOptions.defaults().generatedBlockElements() + 16 * 2 + 3;
    KernelHarness h = new KernelHarness();
    Output a = h.input(Tensor.of(data(8, n), n));
    Output b = h.input(Tensor.of(data(9, n), n));
    Output s = h.input(Tensor.scalar(0.25f));
    // relu's gradient (select(h > 0, g, 0)), each comparison (NaN lanes compare false, but != true),
    // a scalar operand, onesLike, and a select whose value is reduced
    Operation f = fused(h, body(3, List.of(Shape.of(n), Shape.of(n), Shape.scalar()), p -> {
      Ops tf = Ops.create(p.get(0).graph());
      Output x = p.get(0);
      Output y = p.get(1);
      Output relu = tf.select(tf.greater(x, tf.constant(0f)), y, tf.zerosLike(y));
      return List.of(relu,
          tf.select(tf.greaterEqual(x, y), x, tf.onesLike(y)),
          tf.select(tf.less(x, p.get(2)), tf.exp(y), y),
          tf.select(tf.lessEqual(p.get(2), y), tf.neg(x), tf.zerosLike(x)),
          tf.select(tf.equal(x, y), x, tf.onesLike(x)),
          tf.select(tf.notEqual(x, x), tf.zerosLike(x), x),
          tf.reduceSum(tf.select(tf.greater(y, x), y, x)));
    }), a, b, s);
    sameBits(h, f);
  }

  @Test
  void aComparisonWhoseMaskWouldOutliveItsLoopStaysInterpreted() {
    int n = 300;
    KernelHarness h = new KernelHarness();
    Output a = h.input(Tensor.of(data(10, n), n));
    // four transcendental ops: the Select in the second loop would need the first loop's mask
    Operation f = fused(h, body(1, List.of(Shape.of(n)), p -> {
      Ops tf = Ops.create(p.get(0).graph());
      Output x = p.get(0);
      Output c = tf.greater(x, tf.constant(0f));
      Output t = tf.exp(tf.sigmoid(tf.tanh(tf.exp(x))));
      return List.of(tf.select(c, t, x));
    }), a);
    assertFalse(generated(f), "a mask cannot cross loops");
    List<Tensor> gen = h.runAll(f);
    List<Tensor> rows = h.runAll(f, FusedKernel::interpreted);
    assertEquals(rows, gen);
    // a comparison that is itself a result (a bool output) also stays interpreted
    Operation g = fused(h, body(1, List.of(Shape.of(n)), p -> {
      Ops tf = Ops.create(p.get(0).graph());
      return List.of(tf.greater(p.get(0), tf.constant(0f)));
    }), a);
    assertFalse(generated(g), "a bool result");
  }

  /**
   * Lanes of every scale: NaN, +-inf, +-0, halves (round's ties), floats next to integers, 2^23 and
   * its neighbours, subnormals, huge values, the trig and log fast ranges' edges, and random values
   * from 1e-3 to 1e9 of either sign.
   */
  private static float[] wideData(long seed, int n) {
    float[] specials = {Float.NaN, Float.POSITIVE_INFINITY, Float.NEGATIVE_INFINITY, 0f, -0f, 0.5f, -0.5f, 1.5f,
        -1.5f, 2.5f, -2.5f, 0.49999997f, -0.49999997f, Math.nextDown(1f), -Math.nextDown(1f), 8388607.5f,
        -8388607.5f, 8388608f, -8388609f, 1e-40f, -1e-40f, Float.MIN_VALUE, 3e38f, -3e38f, 524287.9f, 524288f,
        -524288f, 1f, -1f, 3f, 28.5f, -28.5f, 0.7f, -0.7f, 89f, -104f};
    Random r = new Random(seed);
    float[] a = new float[n];
    for (int i = 0; i < n; i++) {
      a[i] = i % 3 == 0 ? specials[r.nextInt(specials.length)]
          : (float) ((r.nextBoolean() ? 1 : -1) * Math.pow(10, -3 + 12 * r.nextDouble()));
    }
    return a;
  }

  /** A body of one op over p0 (and p1), built with Ops and lowered to primitives as the fuser does. */
  private static Operation lowered(KernelHarness h, int n, int inputs, BiFunction<Ops, List<Output>, Output> op) {
    List<Output> ins = new ArrayList<>();
    List<Shape> shapes = new ArrayList<>();
    for (int i = 0; i < inputs; i++) {
      ins.add(h.input(Tensor.of(wideData(10 + i, n), n)));
      shapes.add(Shape.of(n));
    }
    Subgraph body = Elementwise.lower(body(inputs, shapes, p -> List.of(op.apply(Ops.create(p.get(0).graph()), p))));
    return fused(h, body, ins.toArray(Output[]::new));
  }

  @Test
  void elementwiseOpsLoweredToPrimitivesGiveTheInterpretersBits() {
    // several blocks and a partial vector
    int n = 2 * SessionOptions.FusedKernelOptions.defaults().generatedBlockElements() + 16 * 3 + 5;
    // (Softplus, Elu, Selu, Log1p, Expm1 and Tan lower to log, sin or cos, which have no generated form)
    List<BiFunction<Ops, List<Output>, Output>> ops = List.of(
        (tf, p) -> tf.erf(p.get(0)), (tf, p) -> tf.erfc(p.get(0)), (tf, p) -> tf.leakyRelu(p.get(0)),
        (tf, p) -> tf.atan(p.get(0)),
        (tf, p) -> tf.floor(p.get(0)), (tf, p) -> tf.ceil(p.get(0)), (tf, p) -> tf.round(p.get(0)),
        (tf, p) -> tf.clip(p.get(0), -2.5, 3.0), (tf, p) -> tf.abs(p.get(0)));
    for (int k = 0; k < ops.size(); k++) {
      KernelHarness h = new KernelHarness();
      Operation f = lowered(h, n, 1, ops.get(k));
      sameBits(h, f);
    }
    KernelHarness h = new KernelHarness();
    sameBits(h, lowered(h, n, 2, (tf, p) -> tf.floorDiv(p.get(0), p.get(1))));
  }

  @Test
  void roundingPrimitivesMatchMathOnEveryEdgeLane() {
    // independent of the interpreter: Math.floor, ceil and rint, bit for bit
    int n = SessionOptions.FusedKernelOptions.defaults().generatedBlockElements() + 11;
    float[] x = wideData(7, n);
    KernelHarness h = new KernelHarness();
    Output in = h.input(Tensor.of(x, n));
    Operation f = fused(h, body(1, List.of(Shape.of(n)), p -> {
      Ops tf = Ops.create(p.get(0).graph());
      return List.of(tf.floor(p.get(0)), tf.ceil(p.get(0)), tf.round(p.get(0)));
    }), in);
    assertTrue(generated(f));
    List<float[]> out = h.runAll(f).stream().map(Tensor::toFloatArray).toList();
    for (int i = 0; i < n; i++) {
      float[] want = {(float) Math.floor(x[i]), (float) Math.ceil(x[i]), (float) Math.rint(x[i])};
      for (int j = 0; j < 3; j++) {
        assertEquals(Float.floatToIntBits(want[j]), Float.floatToIntBits(out.get(j)[i]),
            "output " + j + " of " + x[i]);
      }
    }
  }

  @Test
  void sqrtIsGeneratedAndCorrectlyRoundedOnEveryEdgeLane() {
    // independent of the interpreter: the float rounding of Math.sqrt of the widened value, bit for bit
    int n = SessionOptions.FusedKernelOptions.defaults().generatedBlockElements() + 13;
    float[] x = data(11, n);
    for (int i = 0; i < n; i += 7) {
      x[i] = Math.abs(x[i]) * (i % 3 == 0 ? 1e-38f : 1e20f); // subnormal and huge squares
    }
    KernelHarness h = new KernelHarness();
    Output in = h.input(Tensor.of(x, n));
    Operation f = fused(h, body(1, List.of(Shape.of(n)), p -> {
      Ops tf = Ops.create(p.get(0).graph());
      return List.of(tf.add(tf.sqrt(p.get(0)), tf.constant(1e-8f)));
    }), in);
    assertTrue(generated(f), "Sqrt has a generated form");
    float[] out = h.runAll(f).get(0).toFloatArray();
    for (int i = 0; i < n; i++) {
      float want = (float) Math.sqrt(x[i]) + 1e-8f;
      assertEquals(Float.floatToIntBits(want), Float.floatToIntBits(out[i]), "sqrt of " + x[i]);
    }
    sameBits(h, f);
  }

  @Test
  void aBodyOverFewerElementsThanAVectorRunsPlainRowsWithTheSameValues() {
    // Adam's bias corrections: a chain on the step count, one element; a vector's worth runs vector rows
    for (int n : new int[] {1, FusedKernel.VECTOR_MIN_ELEMENTS}) {
      KernelHarness h = new KernelHarness();
      float[] t = new float[n];
      for (int i = 0; i < n; i++) {
        t[i] = 1 + 37 * i;
      }
      Output in = h.input(Tensor.of(t, n));
      Operation f = fused(h, body(1, List.of(Shape.of(n)), p -> {
        Ops tf = Ops.create(p.get(0).graph());
        Output bc = tf.sub(tf.constant(1f), tf.pow(tf.constant(0.999f), p.get(0)));
        return List.of(tf.div(tf.constant(1e-3f), tf.sqrt(bc)));
      }), in);
      assertEquals(n >= FusedKernel.VECTOR_MIN_ELEMENTS, kernel(f).vectorRows, n + " elements");
      float[] out = h.runAll(f).get(0).toFloatArray();
      for (int i = 0; i < n; i++) {
        double want = 1e-3 / Math.sqrt(1 - Math.pow(0.999, t[i]));
        assertEquals(want, out[i], 1e-5 * want, "step " + t[i]);
      }
    }
  }
}
