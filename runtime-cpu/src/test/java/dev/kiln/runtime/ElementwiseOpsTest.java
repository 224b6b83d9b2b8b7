package dev.kiln.runtime;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.kiln.graph.DType;
import dev.kiln.graph.Graph;
import dev.kiln.graph.Ops;
import dev.kiln.graph.Output;
import dev.kiln.graph.Shape;
import dev.kiln.graph.Tensor;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.function.BiFunction;
import java.util.function.DoubleBinaryOperator;
import java.util.function.DoubleUnaryOperator;
import java.util.stream.Stream;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * The elementwise ops defined by their expansion into primitives, against float64 references over
 * sweeps and edge values (0, -0, tiny, huge, infinities, NaN): unfused (a node run as a Fused
 * kernel of its expansion), fused by the optimizer (generated loop where the body allows, and the
 * interpreter), in float32 within a bound in ulps and in float64 within a relative bound; and their
 * gradients through GradientChecker.
 */
class ElementwiseOpsTest {
  record Unary(String name, BiFunction<Ops, Output, Output> op, DoubleUnaryOperator ref, int ulps, double lo,
      double hi) {
    @Override
    public String toString() {
      return name;
    }
  }

  record Binary(String name, BiFunction<Ops, List<Output>, Output> op, DoubleBinaryOperator ref, int ulps) {
    @Override
    public String toString() {
      return name;
    }
  }

  static final double SELU_ALPHA = 1.6732632423543772848170429916717;
  static final double SELU_SCALE = 1.0507009873554804934193349852946;

  static List<Unary> unaries() {
    return List.of(
        new Unary("Erf", Ops::erf, ElementwiseOpsTest::erf, 4, -3, 3),
        new Unary("Erfc", Ops::erfc, ElementwiseOpsTest::erfc, 6, -3, 3),
        new Unary("Softplus", Ops::softplus, x -> Math.max(x, 0) + Math.log1p(Math.exp(-Math.abs(x))), 4, -4, 4),
        new Unary("Elu", Ops::elu, x -> x > 0 ? x : Math.expm1(x), 4, -3, 3),
        new Unary("Selu", Ops::selu, x -> SELU_SCALE * (x > 0 ? x : SELU_ALPHA * Math.expm1(x)), 4, -3, 3),
        new Unary("LeakyRelu", Ops::leakyRelu, x -> x > 0 ? x : 0.2 * x, 1, -3, 3),
        new Unary("LeakyRelu alpha 0.01", (tf, x) -> tf.leakyRelu(x, 0.01), x -> x > 0 ? x : 0.01 * x, 1, -3, 3),
        new Unary("Log1p", Ops::log1p, Math::log1p, 4, -0.9, 3),
        new Unary("Expm1", Ops::expm1, Math::expm1, 4, -3, 3),
        new Unary("Floor", Ops::floor, Math::floor, 0, Double.NaN, Double.NaN),
        new Unary("Ceil", Ops::ceil, Math::ceil, 0, Double.NaN, Double.NaN),
        new Unary("Round", Ops::round, Math::rint, 0, Double.NaN, Double.NaN),
        new Unary("Atan", Ops::atan, Math::atan, 4, -4, 4),
        new Unary("Tan", Ops::tan, Math::tan, 6, -1.4, 1.4),
        new Unary("Clip", (tf, x) -> tf.clip(x, -1.5, 2), x -> Math.min(Math.max(x, -1.5), 2), 0, -3, 3));
  }

  static List<Binary> binaries() {
    return List.of(
        new Binary("Mod", (tf, a) -> tf.mod(a.get(0), a.get(1)), ElementwiseOpsTest::floorMod, 1),
        new Binary("FloorDiv", (tf, a) -> tf.floorDiv(a.get(0), a.get(1)), (x, y) -> Math.floor((float) (x / y)), 0));
  }

  /** Float32 test points: edge values, then sweeps of magnitudes and of a linear range. */
  static float[] points() {
    List<Float> p = new ArrayList<>(List.of(0f, -0f, Float.MIN_VALUE, -Float.MIN_VALUE, 1e-30f, -1e-30f, 1e-8f,
        -1e-8f, 0.5f, -0.5f, 1.5f, -1.5f, 2.5f, -2.5f, 1f, -1f, 10f, -10f, 30f, -30f, 88f, -88f, 100f, -100f, 1e10f,
        -1e10f, Float.MAX_VALUE, -Float.MAX_VALUE, Float.POSITIVE_INFINITY, Float.NEGATIVE_INFINITY, Float.NaN));
    for (int i = 0; i <= 2000; i++) {
      float m = (float) Math.pow(10, -8 + 10.0 * i / 2000);
      p.add(m);
      p.add(-m);
    }
    for (int i = 0; i <= 2000; i++) {
      p.add(-12f + 24f * i / 2000);
    }
    float[] a = new float[p.size()];
    for (int i = 0; i < a.length; i++) {
      a[i] = p.get(i);
    }
    return a;
  }

  static Stream<Arguments> unaryCases() {
    return unaries().stream().flatMap(u -> Stream.of(Arguments.of(u, false), Arguments.of(u, true)));
  }

  @ParameterizedTest(name = "{0} optimized={1}")
  @MethodSource("unaryCases")
  void unaryMatchesFloat64Reference(Unary u, boolean optimize) {
    float[] x = points();
    Graph g = new Graph();
    Ops tf = Ops.create(g);
    Output in = tf.placeholder("x", DType.FLOAT32, Shape.of(x.length));
    Output one = tf.placeholder("one", DType.FLOAT32, Shape.scalar());
    Output y = u.op().apply(tf, tf.mul(in, one)); // the Mul fuses with the op when optimizing
    float[] got = run(g, optimize, Map.of(in, Tensor.of(x, x.length), one, Tensor.scalar(1f)), y).toFloatArray();
    double worst = 0;
    for (int i = 0; i < x.length; i++) {
      if (u.name().equals("Tan") && Math.abs(x[i]) > 1e4) {
        continue; // the fused float32 sin and cos reduce huge arguments inexactly, Tan with them
      }
      worst = Math.max(worst, check(u.name(), x[i], u.ref().applyAsDouble(x[i]), got[i], u.ulps()));
    }
    System.out.printf("%s float32 (optimize=%s): max error %.2f ulp%n", u.name(), optimize, worst);
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("unaries")
  void unaryFloat64(Unary u) {
    float[] p = points();
    double[] x = new double[p.length];
    for (int i = 0; i < x.length; i++) {
      x[i] = p[i] * (1 + 1e-9 * (i % 7)); // off the float grid
    }
    Graph g = new Graph();
    Ops tf = Ops.create(g);
    Output in = tf.placeholder("x", DType.FLOAT64, Shape.of(x.length));
    double[] got = run(g, true, Map.of(in, Tensor.of(x, x.length)), u.op().apply(tf, in)).toDoubleArray();
    double worst = 0;
    double where = 0;
    for (int i = 0; i < x.length; i++) {
      double want = u.ref().applyAsDouble(x[i]);
      int k = i;
      if (Double.isNaN(want) || Double.isInfinite(want) || want == 0) {
        assertEquals(want, got[i], 0, () -> u.name() + " at " + x[k]);
        continue;
      }
      if (Math.abs(want) < 1e-300) {
        continue; // subnormal: only absolute accuracy
      }
      double rel = Math.abs(got[i] - want) / Math.max(Math.abs(want), Double.MIN_NORMAL);
      if (rel > worst) {
        worst = rel;
        where = x[i];
      }
    }
    System.out.printf("%s float64: max relative error %.3g at %s%n", u.name(), worst, where);
    assertTrue(worst <= 4e-7, u.name() + " float64 relative error " + worst);
  }

  static Stream<Arguments> binaryCases() {
    return binaries().stream().flatMap(b -> Stream.of(Arguments.of(b, false), Arguments.of(b, true)));
  }

  @ParameterizedTest(name = "{0} optimized={1}")
  @MethodSource("binaryCases")
  void binaryMatchesFloat64Reference(Binary b, boolean optimize) {
    float[] xs = points();
    float[] ys = {0.3f, -0.3f, 1f, -1f, 7.5f, -7.5f, 1e-3f, -1e-3f, 0f, -0f, Float.POSITIVE_INFINITY,
        Float.NEGATIVE_INFINITY, Float.NaN, 3e7f, -3e7f};
    int n = xs.length * ys.length;
    float[] x = new float[n];
    float[] y = new float[n];
    for (int i = 0; i < n; i++) {
      x[i] = xs[i / ys.length];
      y[i] = ys[i % ys.length];
    }
    Graph g = new Graph();
    Ops tf = Ops.create(g);
    Output a = tf.placeholder("x", DType.FLOAT32, Shape.of(n));
    Output d = tf.placeholder("y", DType.FLOAT32, Shape.of(n));
    Output one = tf.placeholder("one", DType.FLOAT32, Shape.scalar());
    Output out = b.op().apply(tf, List.of(tf.mul(a, one), d));
    float[] got = run(g, optimize, Map.of(a, Tensor.of(x, n), d, Tensor.of(y, n), one, Tensor.scalar(1f)), out)
        .toFloatArray();
    for (int i = 0; i < n; i++) {
      check(b.name() + "(" + x[i] + ", " + y[i] + ")", x[i], b.ref().applyAsDouble(x[i], y[i]), got[i], b.ulps());
    }
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("unaries")
  void unaryGradient(Unary u) {
    if (Double.isNaN(u.lo())) {
      return; // piecewise constant: no gradient (GradientsTest-style checks below)
    }
    Graph g = new Graph();
    Ops tf = Ops.create(g);
    Output x = tf.placeholder("x", DType.FLOAT64, Shape.of(3, 5));
    double[] v = new double[15];
    Random r = new Random(u.name().hashCode());
    for (int i = 0; i < v.length; i++) {
      double t;
      do {
        t = u.lo() + (u.hi() - u.lo()) * r.nextDouble();
      } while (Math.abs(t) < 0.05 || Math.abs(t + 1.5) < 0.05 || Math.abs(t - 2) < 0.05); // off the kinks
      v[i] = t;
    }
    GradientChecker.check(u.op().apply(tf, x), Map.of(x, Tensor.of(v, 3, 5))).assertWithin(1e-6);
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("binaries")
  void binaryGradient(Binary b) {
    if (b.name().equals("FloorDiv")) {
      return; // piecewise constant, no gradient as in TensorFlow
    }
    Graph g = new Graph();
    Ops tf = Ops.create(g);
    Output x = tf.placeholder("x", DType.FLOAT64, Shape.of(3, 4));
    Output y = tf.placeholder("y", DType.FLOAT64, Shape.of(4));
    double[] xv = new double[12];
    double[] yv = {0.7, -1.3, 2.1, -0.45};
    Random r = new Random(5);
    for (int i = 0; i < xv.length; i++) {
      double q;
      do {
        xv[i] = -5 + 10 * r.nextDouble();
        q = xv[i] / yv[i % 4];
      } while (Math.abs(q - Math.rint(q)) < 0.05); // off the jumps
    }
    GradientChecker.check(b.op().apply(tf, List.of(x, y)), Map.of(x, Tensor.of(xv, 3, 4), y, Tensor.of(yv, 4)))
        .assertWithin(1e-6);
  }

  private static Tensor run(Graph g, boolean optimize, Map<Output, Tensor> feeds, Output y) {
    try (Session s = new Session(g, SessionOptions.builder().optimize(optimize).build())) {
      return s.run(feeds, y).get(0);
    }
  }

  /** Checks got against want rounded to float within ulps of it; returns the error in ulps. */
  private static double check(String what, float x, double want, float got, int ulps) {
    float w = (float) want;
    if (Float.isNaN(w) || Float.isInfinite(w)) {
      assertEquals(w, got, 0, () -> what + " at " + x);
      return 0;
    }
    double err = Math.abs(got - want) / Math.ulp(Math.max(Math.abs(w), Float.MIN_NORMAL));
    assertTrue(err <= ulps + 0.5, () -> what + " at " + x + ": got " + got + ", want " + want + " (" + err + " ulp)");
    return err;
  }

  // ---------------------------------------------------------------- float64 references

  /** TensorFlow's FloorMod: fmod, moved by the divisor where the signs differ. */
  static double floorMod(double x, double y) {
    double r = x % y;
    return r != 0 && (r < 0) != (y < 0) ? r + y : r;
  }

  static double erf(double x) {
    return Math.abs(x) < 2.5 ? erfSeries(x) : Math.signum(x) * (1 - erfcFraction(Math.abs(x)));
  }

  static double erfc(double x) {
    if (Double.isNaN(x)) {
      return x;
    }
    if (x < 0) {
      return 2 - erfc(-x);
    }
    return x < 2.5 ? 1 - erfSeries(x) : erfcFraction(x);
  }

  /** The Maclaurin series, to full double precision for |x| < 2.5. */
  private static double erfSeries(double x) {
    double sum = 0;
    double term = x; // (-1)^n x^(2n+1) / n!
    for (int n = 0; n < 200; n++) {
      double t = term / (2 * n + 1);
      sum += t;
      if (Math.abs(t) < 1e-18 * Math.abs(sum)) {
        break;
      }
      term *= -x * x / (n + 1);
    }
    return sum * 2 / Math.sqrt(Math.PI);
  }

  /** erfc(x) for x >= 2.5: its continued fraction, evaluated from the 120th level back. */
  private static double erfcFraction(double x) {
    if (Double.isInfinite(x)) {
      return 0;
    }
    double f = x;
    for (int k = 120; k >= 1; k--) {
      f = x + (k / 2.0) / f;
    }
    return Math.exp(-x * x) / (f * Math.sqrt(Math.PI));
  }
}
