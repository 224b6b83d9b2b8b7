package dev.kiln.runtime;

import dev.kiln.runtime.kernels.KernelSpec;
import dev.kiln.runtime.kernels.Kernels;

import static dev.kiln.runtime.KernelHarness.random;
import static dev.kiln.runtime.Ref.assertClose;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import dev.kiln.graph.DType;
import dev.kiln.graph.Output;
import dev.kiln.graph.Shape;
import dev.kiln.graph.Tensor;
import dev.kiln.graph.TensorType;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.function.BinaryOperator;
import java.util.function.DoubleBinaryOperator;
import java.util.function.DoubleUnaryOperator;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.EnumSource;
import org.junit.jupiter.params.provider.MethodSource;

class ElementwiseKernelsTest {
  private static final List<DType> NUMERIC = List.of(DType.FLOAT32, DType.FLOAT64, DType.INT32, DType.INT64);

  /** Shape pairs covering every broadcast case the kernels special-case, and some they do not. */
  static final int[][][] SHAPE_PAIRS = {
      {{3, 4}, {3, 4}},             // same shape
      {{}, {3, 4}},                 // scalar - tensor
      {{3, 4}, {}},                 // tensor - scalar
      {{3, 4}, {4}},                // row (bias add)
      {{3, 4}, {3, 1}},             // column
      {{3, 1}, {1, 4}},             // both sides
      {{2, 3, 4}, {3, 1}},          // rank mismatch, column
      {{4}, {2, 3, 4}},             // rank mismatch, left operand smaller
      {{1, 1}, {1}},                // all ones
      {{5, 1, 3}, {1, 1, 3}},       // inner dims of 1
      {{2, 1, 3, 1}, {1, 4, 1, 5}}, // general strided
      {{0, 4}, {4}},                // empty
      {{2, 0}, {2, 1}},             // empty, column
      {{}, {}},                     // scalars
  };

  static Stream<Arguments> shapePairs() {
    List<Arguments> out = new ArrayList<>();
    for (int[][] p : SHAPE_PAIRS) {
      out.add(Arguments.of(Shape.of(p[0]), Shape.of(p[1])));
    }
    return out.stream();
  }

  private static Tensor operand(DType d, long seed, int[] dims, boolean nonZero) {
    Tensor t = random(d, seed, dims);
    if (!nonZero) {
      return t;
    }
    return Ref.tensor(d, dims, i -> {
      double v = t.getDouble(i);
      return d.isFloating() ? (Math.abs(v) < 0.1 ? 0.5 : v) : (v == 0 ? 3.0 : v);
    });
  }

  // ------------------------------------------------------------------------------ binary numeric

  private static final Map<String, DoubleBinaryOperator> ARITH = Map.of(
      "Add", Double::sum,
      "Sub", (a, b) -> a - b,
      "Mul", (a, b) -> a * b,
      "Maximum", Math::max,
      "Minimum", Math::min);

  private static Output binary(KernelHarness h, String type, Output a, Output b) {
    return h.tf.opBuilder(type).addInput(a).addInput(b).build().output(0);
  }

  @ParameterizedTest
  @MethodSource("shapePairs")
  void arithmeticBroadcastsLikeNumPy(Shape sa, Shape sb) {
    for (DType d : NUMERIC) {
      for (var e : ARITH.entrySet()) {
        KernelHarness h = new KernelHarness();
        Tensor a = operand(d, 1, sa.dims(), false);
        Tensor b = operand(d, 2, sb.dims(), false);
        Tensor got = h.run(binary(h, e.getKey(), h.input(a), h.input(b)));
        Tensor want = Ref.binary(a, b, d, d == DType.FLOAT32 ? f32(e.getValue()) : e.getValue());
        assertClose(want, got, 0);
      }
    }
  }

  /** The op rounded to float like float arithmetic (one rounding of the exact result). */
  private static DoubleBinaryOperator f32(DoubleBinaryOperator f) {
    return (a, b) -> (float) f.applyAsDouble(a, b);
  }

  @ParameterizedTest
  @MethodSource("shapePairs")
  void divisionTruncatesIntegersAndDividesFloats(Shape sa, Shape sb) {
    for (DType d : NUMERIC) {
      KernelHarness h = new KernelHarness();
      Tensor a = operand(d, 3, sa.dims(), false);
      Tensor b = operand(d, 4, sb.dims(), true);
      Tensor got = h.run(h.tf.div(h.input(a), h.input(b)));
      DoubleBinaryOperator div = d.isFloating() ? (x, y) -> x / y : (x, y) -> (long) (x / y);
      assertClose(Ref.binary(a, b, d, d == DType.FLOAT32 ? f32(div) : div), got, 0);
    }
  }

  @ParameterizedTest
  @MethodSource("shapePairs")
  void powRaisesPositiveBasesAndIntegerExponents(Shape sa, Shape sb) {
    for (DType d : NUMERIC) {
      KernelHarness h = new KernelHarness();
      Tensor a = Ref.tensor(d, sa.dims(), i -> d.isFloating() ? 0.5 + i % 7 * 0.37 : (double) (i % 7 - 3));
      Tensor b = Ref.tensor(d, sb.dims(), i -> d.isFloating() ? (i % 5 - 2) * 0.75 : (double) (i % 4));
      Tensor got = h.run(h.tf.pow(h.input(a), h.input(b)));
      assertClose(Ref.binary(a, b, d, d == DType.FLOAT32 ? f32(Math::pow) : Math::pow), got, 1e-15);
    }
  }

  @Test
  void integerDivisionByZeroNamesTheNode() {
    KernelHarness h = new KernelHarness();
    Output q = h.tf.withName("q").div(h.input(Tensor.of(new int[] {1, 2}, 2)), h.input(Tensor.of(new int[] {1, 0}, 2)));
    ArithmeticException e = assertThrows(ArithmeticException.class, () -> h.run(q));
    assertEquals("Div 'q': integer division by zero", e.getMessage());
  }

  @Test
  void integerDivisionByZeroOnTheParallelPathKeepsItsMessage() {
    int n = 200_000;
    int[] divisors = new int[n];
    java.util.Arrays.fill(divisors, 3);
    divisors[n - 5] = 0; // in the last part, which another thread runs
    KernelHarness h = new KernelHarness();
    Output q = h.tf.withName("q").div(h.input(KernelHarness.randomI32(1, 100, n)), h.input(Tensor.of(divisors, n)));
    ArithmeticException e = assertThrows(ArithmeticException.class, () -> h.run(q));
    assertEquals("Div 'q': integer division by zero", e.getMessage());
  }

  @Test
  void integerPowWithNegativeExponentIsAnError() {
    KernelHarness h = new KernelHarness();
    Output p = h.tf.withName("p").pow(h.input(Tensor.of(new long[] {2, -1}, 2)), h.input(Tensor.of(new long[] {-1, -3}, 2)));
    ArithmeticException e = assertThrows(ArithmeticException.class, () -> h.run(p));
    assertEquals("Pow 'p': integers cannot be raised to a negative power, got exponent -1", e.getMessage());
    KernelHarness ok = new KernelHarness();
    Tensor r = ok.run(ok.tf.pow(ok.input(Tensor.of(new long[] {1, -1, -1}, 3)), ok.input(Tensor.of(new long[] {-5, -3, -2}, 3))));
    assertEquals(Tensor.of(new long[] {1, -1, 1}, 3), r);
  }

  // ------------------------------------------------------------------------------ comparisons

  private static final Map<String, BinaryOperator<Double>> COMPARE = Map.of(
      "Less", (a, b) -> a < b ? 1.0 : 0.0,
      "LessEqual", (a, b) -> a <= b ? 1.0 : 0.0,
      "Greater", (a, b) -> a > b ? 1.0 : 0.0,
      "GreaterEqual", (a, b) -> a >= b ? 1.0 : 0.0,
      "Equal", (a, b) -> a.doubleValue() == b.doubleValue() ? 1.0 : 0.0,
      "NotEqual", (a, b) -> a.doubleValue() != b.doubleValue() ? 1.0 : 0.0);

  @ParameterizedTest
  @MethodSource("shapePairs")
  void comparisonsBroadcastAndGiveBool(Shape sa, Shape sb) {
    for (DType d : NUMERIC) {
      for (var e : COMPARE.entrySet()) {
        KernelHarness h = new KernelHarness();
        // Few distinct values, so that equal pairs occur; one NaN for the floats.
        Tensor a = Ref.tensor(d, sa.dims(), i -> d.isFloating() && i == 1 ? Double.NaN : (double) (i * 7 % 5 - 2));
        Tensor b = Ref.tensor(d, sb.dims(), i -> (double) (i * 3 % 4 - 1));
        Tensor got = h.run(binary(h, e.getKey(), h.input(a), h.input(b)));
        assertClose(Ref.binary(a, b, DType.BOOL, (x, y) -> e.getValue().apply(x, y)), got, 0);
      }
    }
  }

  @ParameterizedTest
  @MethodSource("shapePairs")
  void logicalOpsAndBoolEqualityBroadcast(Shape sa, Shape sb) {
    Map<String, DoubleBinaryOperator> ops = Map.of(
        "LogicalAnd", (a, b) -> a != 0 && b != 0 ? 1 : 0,
        "LogicalOr", (a, b) -> a != 0 || b != 0 ? 1 : 0,
        "Equal", (a, b) -> a == b ? 1 : 0,
        "NotEqual", (a, b) -> a != b ? 1 : 0);
    for (var e : ops.entrySet()) {
      KernelHarness h = new KernelHarness();
      Tensor a = KernelHarness.randomBool(5, sa.dims());
      Tensor b = KernelHarness.randomBool(6, sb.dims());
      Tensor got = h.run(binary(h, e.getKey(), h.input(a), h.input(b)));
      assertClose(Ref.binary(a, b, DType.BOOL, e.getValue()), got, 0);
    }
  }

  // ------------------------------------------------------------------------------ unary

  private static final Map<String, DoubleUnaryOperator> FLOAT_UNARY = Map.ofEntries(
      Map.entry("Neg", x -> -x),
      Map.entry("Square", x -> x * x),
      Map.entry("Abs", Math::abs),
      Map.entry("Sign", Math::signum),
      Map.entry("Relu", x -> x > 0 ? x : 0),
      Map.entry("Sqrt", Math::sqrt),
      Map.entry("Rsqrt", x -> 1 / Math.sqrt(x)),
      Map.entry("Reciprocal", x -> 1 / x),
      Map.entry("Exp", Math::exp),
      Map.entry("Log", Math::log),
      Map.entry("Sin", Math::sin),
      Map.entry("Cos", Math::cos),
      Map.entry("Sigmoid", x -> 1 / (1 + Math.exp(-x))),
      Map.entry("Tanh", Math::tanh));

  @ParameterizedTest
  @EnumSource(value = DType.class, names = {"FLOAT32", "FLOAT64"})
  void floatUnaryOpsMatchMath(DType d) {
    double[] special = {0, -0.0, 1, -1, 0.5, -2.5, 30, -30, 100, -100, Double.POSITIVE_INFINITY,
        Double.NEGATIVE_INFINITY, Double.NaN, 1e-3, 7.25};
    for (int[] dims : new int[][] {{3, 5}, {}, {0, 3}, {15}}) {
      Tensor x = Ref.tensor(d, dims, i -> special[i % special.length]);
      for (var e : FLOAT_UNARY.entrySet()) {
        KernelHarness h = new KernelHarness();
        Tensor got = h.run(h.tf.opBuilder(e.getKey()).addInput(h.input(x)).build().output(0));
        double[] want = new double[x.size()];
        for (int i = 0; i < want.length; i++) {
          double v = e.getValue().applyAsDouble(x.getDouble(i));
          want[i] = d == DType.FLOAT32 ? (float) v : v;
        }
        // Float rsqrt/reciprocal/sigmoid round twice in the kernel.
        assertClose(Ref.tensor(d, want, dims), got, d == DType.FLOAT32 ? 2e-7 : 1e-15);
      }
    }
  }

  @Test
  void floatTanhRoundsLikeMathTanh() {
    int n = 200_001;
    KernelHarness h = new KernelHarness();
    Tensor x = Ref.tensor(DType.FLOAT32, new int[] {n}, i -> i == 0 ? 1e-30 : -20 + 40.0 * i / n);
    Tensor got = h.run(h.tf.tanh(h.input(x)));
    for (int i = 0; i < n; i++) {
      float want = (float) Math.tanh(x.getDouble(i));
      assertEquals(want, (float) got.getDouble(i), Math.ulp(want), "tanh(" + x.getDouble(i) + ")");
    }
  }

  @ParameterizedTest
  @EnumSource(value = DType.class, names = {"INT32", "INT64"})
  void integerUnaryOps(DType d) {
    Map<String, DoubleUnaryOperator> ops = Map.of(
        "Neg", x -> -x, "Square", x -> x * x, "Abs", Math::abs, "Sign", Math::signum, "Relu", x -> Math.max(x, 0));
    Tensor x = KernelHarness.random(d, 7, 4, 6);
    for (var e : ops.entrySet()) {
      KernelHarness h = new KernelHarness();
      Tensor got = h.run(h.tf.opBuilder(e.getKey()).addInput(h.input(x)).build().output(0));
      double[] want = new double[x.size()];
      for (int i = 0; i < want.length; i++) {
        want[i] = e.getValue().applyAsDouble(x.getDouble(i));
      }
      assertClose(Ref.tensor(d, want, 4, 6), got, 0);
    }
  }

  @Test
  void logicalNot() {
    KernelHarness h = new KernelHarness();
    Tensor got = h.run(h.tf.logicalNot(h.input(Tensor.of(new boolean[] {true, false, false}, 3, 1))));
    assertEquals(Tensor.of(new boolean[] {false, true, true}, 3, 1), got);
  }

  // ------------------------------------------------------------------------------ cast, fill

  @Test
  void castConvertsBetweenAllDTypes() {
    double[] values = {0, 1, -1, 2.75, -2.75, 100.5, -0.25, 3};
    for (DType from : DType.values()) {
      for (DType to : DType.values()) {
        KernelHarness h = new KernelHarness();
        Tensor x = Ref.tensor(from, values, 2, 4);
        Tensor got = h.run(h.tf.cast(h.input(x), to));
        double[] want = new double[values.length];
        for (int i = 0; i < want.length; i++) {
          double v = x.getDouble(i);
          want[i] = to == DType.BOOL ? (v != 0 ? 1 : 0) : to.isFloating() ? v : (long) v;
        }
        assertClose(Ref.tensor(to, want, 2, 4), got, 0);
      }
    }
  }

  @Test
  void castSaturatesAndWrapsLikeJava() {
    KernelHarness h = new KernelHarness();
    Tensor got = h.run(h.tf.cast(h.input(Tensor.of(new float[] {Float.NaN, 1e10f, -1e10f, -3.9f}, 4)), DType.INT32));
    assertEquals(Tensor.of(new int[] {0, Integer.MAX_VALUE, Integer.MIN_VALUE, -3}, 4), got);
    KernelHarness h2 = new KernelHarness();
    Tensor wrapped = h2.run(h2.tf.cast(h2.input(Tensor.of(new long[] {1L << 32 | 5, -1}, 2)), DType.INT32));
    assertEquals(Tensor.of(new int[] {5, -1}, 2), wrapped);
  }

  @ParameterizedTest
  @EnumSource(DType.class)
  void zerosOnesAndFill(DType d) {
    for (int[] dims : new int[][] {{2, 3}, {}, {0}, {4, 1}}) {
      Tensor x = random(d, 8, dims);
      KernelHarness h = new KernelHarness();
      Output in = h.input(x);
      assertEquals(Ref.tensor(d, new double[x.size()], dims), h.run(h.tf.zerosLike(in)));
      double[] ones = new double[x.size()];
      java.util.Arrays.fill(ones, 1);
      assertEquals(Ref.tensor(d, ones, dims), h.run(h.tf.onesLike(in)));
      Tensor v = Ref.tensor(d, new double[] {d == DType.BOOL ? 1 : -3}, new int[0]);
      double[] filled = new double[x.size()];
      java.util.Arrays.fill(filled, v.getDouble(0));
      assertEquals(Ref.tensor(d, filled, dims), h.run(h.tf.fill(Shape.of(dims), h.input(v))));
    }
  }

  // ------------------------------------------------------------------------------ select, addN

  @ParameterizedTest
  @EnumSource(DType.class)
  void selectBroadcastsThreeWays(DType d) {
    int[][][] cases = {
        {{3, 4}, {3, 4}, {3, 4}},
        {{37, 29}, {37, 29}, {37, 29}}, // same shapes: vector blocks and a tail
        {{3, 1}, {1, 4}, {}},
        {{4}, {3, 4}, {3, 1}},
        {{}, {2, 3}, {2, 3}},
        {{2, 1, 3}, {4, 1}, {3}},
        {{0, 2}, {2}, {}},
        {{600, 200}, {600, 200}, {}},   // parallel path
    };
    for (int[][] c : cases) {
      KernelHarness h = new KernelHarness();
      Tensor cond = KernelHarness.randomBool(9, c[0]);
      Tensor x = random(d, 10, c[1]);
      Tensor y = random(d, 11, c[2]);
      Tensor got = h.run(h.tf.select(h.input(cond), h.input(x), h.input(y)));
      int[] dims = Ref.broadcastDims(Ref.broadcastDims(c[0], c[1]), c[2]);
      Tensor want = Ref.tensor(d, dims, i -> {
        int[] idx = Ref.unravel(i, dims);
        return cond.getDouble(Ref.broadcastSource(idx, c[0])) != 0
            ? x.getDouble(Ref.broadcastSource(idx, c[1])) : y.getDouble(Ref.broadcastSource(idx, c[2]));
      });
      assertClose(want, got, 0);
    }
  }

  @ParameterizedTest
  @EnumSource(value = DType.class, names = {"FLOAT32", "FLOAT64", "INT32", "INT64"})
  void addNSumsAllInputs(DType d) {
    for (int[] dims : new int[][] {{3, 4}, {}, {0, 2}, {300, 300}}) {
      KernelHarness h = new KernelHarness();
      List<Tensor> xs = List.of(random(d, 1, dims), random(d, 2, dims), random(d, 3, dims));
      List<Output> ins = xs.stream().map(h::input).toList();
      Tensor got = h.run(h.tf.addN(ins));
      Tensor want = Ref.tensor(d, dims, i -> {
        double s = 0;
        for (Tensor t : xs) {
          s = d == DType.FLOAT32 ? (float) (s + t.getDouble(i)) : s + t.getDouble(i);
        }
        return s;
      });
      assertClose(want, got, 0);
    }
  }

  // ------------------------------------------------------------------------------ large: threads

  @Test
  void largeOperandsTakeTheParallelPathAndStayCorrect() {
    int[][][] cases = {{{300, 1000}, {1000}}, {{300, 1000}, {300, 1}}, {{300, 1000}, {300, 1000}},
        {{}, {70_001}}, {{3, 70_001}, {3, 1}}};
    for (int[][] c : cases) {
      KernelHarness h = new KernelHarness();
      Tensor a = KernelHarness.randomF32(12, c[0]);
      Tensor b = KernelHarness.randomF32(13, c[1]);
      Tensor got = h.run(h.tf.sub(h.input(a), h.input(b)));
      assertClose(Ref.binary(a, b, DType.FLOAT32, f32((x, y) -> x - y)), got, 0);
      KernelHarness h2 = new KernelHarness();
      Tensor less = h2.run(h2.tf.less(h2.input(a), h2.input(b)));
      assertClose(Ref.binary(a, b, DType.BOOL, (x, y) -> x < y ? 1 : 0), less, 0);
    }
    KernelHarness h = new KernelHarness();
    Tensor x = KernelHarness.randomF64(14, 257, 1001);
    Tensor got = h.run(h.tf.tanh(h.input(x)));
    assertClose(Ref.tensor(DType.FLOAT64, x.shape().dims(), i -> Math.tanh(x.getDouble(i))), got, 0);
  }

  // ------------------------------------------------------------------------------ errors

  @Test
  void unsupportedDTypeNamesOpNodeAndDType() {
    KernelHarness h = new KernelHarness();
    Output x = h.input(Tensor.of(new int[] {1, 4}, 2));
    Output y = h.tf.withName("root").sqrt(h.tf.cast(x, DType.FLOAT32));
    // A plan never asks for this, but a kernel must still refuse a dtype it has no loop for.
    KernelSpec spec = new KernelSpec(y.op(), List.of(new TensorType(DType.INT32, Shape.of(2))),
        List.of(new TensorType(DType.INT32, Shape.of(2))), new int[] {0}, new int[] {1});
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> Kernels.factory("Sqrt").create(spec));
    assertEquals("Sqrt 'root': no CPU kernel for dtype i32", e.getMessage());
  }

  @Test
  void inconsistentPlanShapesAreRefusedWithTheNodeName() {
    KernelHarness h = new KernelHarness();
    Output y = h.tf.withName("bias").add(h.input(KernelHarness.randomF32(1, 3, 4)), h.input(KernelHarness.randomF32(2, 4)));
    TensorType f = new TensorType(DType.FLOAT32, Shape.of(3, 4));
    KernelSpec spec = new KernelSpec(y.op(), List.of(f, new TensorType(DType.FLOAT32, Shape.of(5))), List.of(f),
        new int[] {0, 1}, new int[] {2});
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> Kernels.factory("Add").create(spec));
    assertEquals("Add 'bias': input shapes [3,4], [5] do not broadcast to output shape [3,4]", e.getMessage());
  }
}
