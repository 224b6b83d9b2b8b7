package dev.kiln.runtime;

import dev.kiln.graph.DType;
import dev.kiln.graph.Graph;
import dev.kiln.graph.Ops;
import dev.kiln.graph.Output;
import dev.kiln.graph.Shape;
import dev.kiln.graph.Tensor;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.function.BiFunction;
import java.util.stream.Stream;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Every differentiable op's gradient against central differences (GradientChecker) on random
 * inputs, broadcasting cases included, and its second derivative: the gradient of
 * {@code sum(y * c)} for a random constant c is itself checked against central differences.
 */
class OpGradientsTest {
  private static final double TOLERANCE = 1e-6;

  /** One input: its shape and the interval its random values are drawn from. */
  record In(Shape shape, double lo, double hi) {}

  /** A named function of the inputs to check. */
  record Case(String name, List<In> inputs, BiFunction<Ops, List<Output>, Output> f) {
    @Override
    public String toString() {
      return name;
    }
  }

  static In in(double lo, double hi, int... dims) {
    return new In(Shape.of(dims), lo, hi);
  }

  static In any(int... dims) {
    return in(-2, 2, dims);
  }

  static Case unary(String name, double lo, double hi, BiFunction<Ops, Output, Output> f) {
    return new Case(name, List.of(in(lo, hi, 3, 4)), (tf, x) -> f.apply(tf, x.get(0)));
  }

  static Case binary(String name, In a, In b, BiFunction<Ops, List<Output>, Output> f) {
    return new Case(name + " " + a.shape() + " " + b.shape(), List.of(a, b), f);
  }

  static Stream<Arguments> cases() {
    List<Case> c = new ArrayList<>();
    c.add(unary("Identity", -2, 2, Ops::identity));
    c.add(unary("Neg", -2, 2, Ops::neg));
    c.add(unary("Square", -2, 2, Ops::square));
    c.add(unary("Sqrt", 0.5, 3, Ops::sqrt));
    c.add(unary("Rsqrt", 0.5, 3, Ops::rsqrt));
    c.add(unary("Reciprocal", 0.5, 3, Ops::reciprocal));
    c.add(unary("Exp", -2, 2, Ops::exp));
    c.add(unary("Log", 0.5, 3, Ops::log));
    c.add(unary("Sin", -3, 3, Ops::sin));
    c.add(unary("Cos", -3, 3, Ops::cos));
    c.add(unary("Abs", 0.2, 2, (tf, x) -> tf.abs(tf.sub(x, tf.constant(1.1)))));
    c.add(unary("Sign", 0.2, 2, (tf, x) -> tf.mul(tf.sign(tf.sub(x, tf.constant(1.1))), x)));
    c.add(unary("Relu", 0.2, 2, (tf, x) -> tf.mul(tf.relu(tf.sub(x, tf.constant(1.1))), x)));
    c.add(unary("Sigmoid", -3, 3, Ops::sigmoid));
    c.add(unary("Tanh", -2, 2, Ops::tanh));
    // StopGradient differs from central differences by design; GradientsTest checks it by hand.
    c.add(unary("ZerosLike OnesLike", -2, 2,
        (tf, x) -> tf.add(tf.mul(tf.onesLike(x), x), tf.zerosLike(tf.exp(x)))));
    c.add(unary("Cast f64 to f64", -2, 2, (tf, x) -> tf.cast(tf.square(x), DType.FLOAT64)));
    c.add(unary("Fill", -2, 2, (tf, x) -> tf.mul(tf.fill(Shape.of(3, 4), tf.reduceSum(tf.square(x))), x)));

    for (In[] s : new In[][] {{any(3, 4), any(3, 4)}, {any(3, 4), any(4)}, {any(3, 1), any(1, 4)},
        {any(), any(2, 3)}, {any(2, 1, 3), any(4, 1)}, {any(1, 1), any(3, 4)}}) {
      c.add(binary("Add", s[0], s[1], (tf, x) -> tf.add(x.get(0), x.get(1))));
      c.add(binary("Sub", s[0], s[1], (tf, x) -> tf.sub(x.get(0), x.get(1))));
      c.add(binary("Mul", s[0], s[1], (tf, x) -> tf.mul(x.get(0), x.get(1))));
      c.add(binary("Maximum", s[0], s[1], (tf, x) -> tf.mul(tf.maximum(x.get(0), x.get(1)), x.get(0))));
      c.add(binary("Minimum", s[0], s[1], (tf, x) -> tf.mul(tf.minimum(x.get(0), x.get(1)), x.get(1))));
      In pos = new In(s[1].shape(), 0.5, 2);
      c.add(binary("Div", s[0], pos, (tf, x) -> tf.div(x.get(0), x.get(1))));
      c.add(binary("Pow", new In(s[0].shape(), 0.5, 2), s[1], (tf, x) -> tf.pow(x.get(0), x.get(1))));
    }
    c.add(binary("Pow by constant", any(3, 4), any(), (tf, x) -> tf.mul(tf.pow(x.get(0), tf.constant(3.0)), x.get(1))));
    c.add(new Case("Select", List.of(any(3, 4), any(4)), (tf, x) -> tf.select(
        tf.greater(tf.constant(Tensor.of(new double[] {1, -1, 1, -1}, 4)), tf.constant(0.0)),
        tf.square(x.get(0)), tf.sin(x.get(1)))));
    c.add(new Case("AddN", List.of(any(2, 3), any(2, 3), any(2, 3)),
        (tf, x) -> tf.addN(List.of(tf.square(x.get(0)), x.get(1), tf.mul(x.get(2), x.get(0))))));
    for (boolean ta : new boolean[] {false, true}) {
      for (boolean tb : new boolean[] {false, true}) {
        In a = ta ? any(4, 3) : any(3, 4);
        In b = tb ? any(2, 4) : any(4, 2);
        c.add(binary("MatMul ta=" + ta + " tb=" + tb, a, b, (tf, x) -> tf.matmul(x.get(0), x.get(1), ta, tb)));
      }
    }
    c.add(binary("MatMul of a square", any(3, 3), any(3, 3),
        (tf, x) -> tf.matmul(tf.matmul(x.get(0), x.get(0)), x.get(1))));
    for (int axis : new int[] {0, -1}) {
      c.add(unary("Softmax axis " + axis, -2, 2, (tf, x) -> tf.softmax(x, axis)));
      c.add(unary("LogSoftmax axis " + axis, -2, 2, (tf, x) -> tf.logSoftmax(x, axis)));
    }
    for (String r : List.of("Sum", "Mean", "Max", "Min", "Prod")) {
      for (int[] axes : new int[][] {{1}, {0, 2}, {-1}, {0, 1, 2}}) {
        for (boolean keep : new boolean[] {false, true}) {
          c.add(new Case(r + " axes " + java.util.Arrays.toString(axes) + " keep=" + keep,
              List.of(in(0.5, 2, 2, 3, 4)), (tf, x) -> tf.mul(reduce(tf, r, x.get(0), axes, keep), tf.sin(
                  reduce(tf, "Sum", x.get(0), axes, keep)))));
        }
      }
    }
    c.add(unary("reduceSum all", -2, 2, (tf, x) -> tf.square(tf.reduceSum(x))));
    c.add(unary("reduceMean all", -2, 2, (tf, x) -> tf.square(tf.reduceMean(x))));
    c.add(binary("ReduceSumLike", any(3, 4), any(4), (tf, x) -> tf.reduceSumLike(tf.mul(x.get(0), x.get(1)), x.get(1))));
    c.add(unary("Reshape", -2, 2, (tf, x) -> tf.square(tf.reshape(x, 2, -1))));
    c.add(binary("ReshapeLike", any(3, 4), any(6, 2), (tf, x) -> tf.mul(tf.reshapeLike(x.get(0), x.get(1)), x.get(1))));
    c.add(unary("ExpandDims", -2, 2, (tf, x) -> tf.square(tf.expandDims(x, 1))));
    c.add(new Case("Squeeze", List.of(any(3, 1, 4)), (tf, x) -> tf.square(tf.squeeze(x.get(0), 1))));
    c.add(new Case("Transpose", List.of(any(2, 3, 4)), (tf, x) -> tf.sin(tf.transpose(x.get(0), 2, 0, 1))));
    c.add(binary("Concat axis 1", any(3, 2), any(3, 4),
        (tf, x) -> tf.square(tf.concat(List.of(x.get(0), x.get(1), x.get(0)), 1))));
    c.add(binary("Concat axis 0", any(2, 3), any(1, 3), (tf, x) -> tf.sin(tf.concat(List.of(x.get(0), x.get(1)), 0))));
    c.add(unary("Slice", -2, 2, (tf, x) -> tf.square(tf.slice(x, new int[] {1, 1}, new int[] {2, -1}))));
    c.add(unary("Pad", -2, 2, (tf, x) -> tf.sin(tf.pad(x, 1, 0, 2, 1))));
    c.add(unary("sin(x*x)", -2, 2, (tf, x) -> tf.sin(tf.mul(x, x))));
    return c.stream().map(k -> Arguments.of(k));
  }

  static Output reduce(Ops tf, String type, Output x, int[] axes, boolean keep) {
    return switch (type) {
      case "Sum" -> tf.reduceSum(x, axes, keep);
      case "Mean" -> tf.reduceMean(x, axes, keep);
      case "Max" -> tf.reduceMax(x, axes, keep);
      case "Min" -> tf.reduceMin(x, axes, keep);
      case "Prod" -> tf.reduceProd(x, axes, keep);
      default -> throw new IllegalArgumentException(type);
    };
  }

  static Tensor random(Random r, In in) {
    double[] v = new double[(int) in.shape().numElements()];
    for (int i = 0; i < v.length; i++) {
      v[i] = in.lo() + (in.hi() - in.lo()) * r.nextDouble();
    }
    return Tensor.of(v, in.shape().dims());
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("cases")
  void firstAndSecondDerivativesMatchCentralDifferences(Case k) {
    Graph g = new Graph();
    Ops tf = Ops.create(g);
    Random r = new Random(k.name().hashCode());
    Map<Output, Tensor> feeds = new LinkedHashMap<>();
    List<Output> xs = new ArrayList<>();
    for (int i = 0; i < k.inputs().size(); i++) {
      Output x = tf.placeholder("x" + i, DType.FLOAT64, k.inputs().get(i).shape());
      xs.add(x);
      feeds.put(x, random(r, k.inputs().get(i)));
    }
    Output y = k.f().apply(tf, xs);
    GradientChecker.check(y, feeds).assertWithin(TOLERANCE);

    // Second order: d/dx of (d sum(y * c) / dx_i) for a fixed random c.
    Output c = tf.constant(random(r, new In(y.shape(), -1, 1)));
    List<Output> firsts = tf.gradients(tf.reduceSum(tf.mul(y, c)), xs);
    for (Output first : firsts) {
      GradientChecker.check(first, feeds).assertWithin(TOLERANCE);
    }
  }
}
