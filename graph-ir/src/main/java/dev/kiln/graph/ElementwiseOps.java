package dev.kiln.graph;

import static dev.kiln.graph.AttrDef.optional;
import static dev.kiln.graph.AttrDef.required;

import dev.kiln.graph.AttrDef.Constraint;
import dev.kiln.graph.ElementwiseOp.Typing;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Optional;
import java.util.Set;

/**
 * Elementwise op types defined by {@link ElementwiseOp}: the primitives devices implement, and the
 * composites written over them, each with its gradient (TensorFlow's semantics and names). The
 * expansions evaluate in the input's dtype and are accurate to float32 (a few ulp); the tests hold
 * each against a float64 reference.
 */
final class ElementwiseOps {
  private ElementwiseOps() {}

  /** One gradient entry per input, each nullable (no gradient to that input). */
  @FunctionalInterface
  private interface Grad {
    Output[] apply(Ops tf, Operation op, Output g);
  }

  static void define(List<OpDef> defs) {
    Set<DType> fl = Infer.FLOAT;
    // The primitives whose gradients BuiltinGradients registers.
    for (Primitive p : List.of(Primitive.NEG, Primitive.SQUARE, Primitive.ABS, Primitive.SIGN, Primitive.RELU)) {
      defs.add(ElementwiseOp.primitive(p, Infer.NUMERIC, Typing.SAME, false));
    }
    defs.add(ElementwiseOp.primitive(Primitive.ZEROS_LIKE, Infer.ALL, Typing.SAME, false));
    defs.add(ElementwiseOp.primitive(Primitive.ONES_LIKE, Infer.ALL, Typing.SAME, false));
    for (Primitive p : List.of(Primitive.SQRT, Primitive.RSQRT, Primitive.RECIPROCAL, Primitive.EXP, Primitive.LOG,
        Primitive.SIN, Primitive.COS, Primitive.SIGMOID, Primitive.TANH)) {
      defs.add(ElementwiseOp.primitive(p, fl, Typing.SAME, false));
    }
    defs.add(ElementwiseOp.primitive(Primitive.LOGICAL_NOT, Infer.BOOL, Typing.SAME, false));
    defs.add(ElementwiseOp.primitive(Primitive.CAST, Infer.ALL, Typing.CAST, false));
    for (Primitive p : List.of(Primitive.ADD, Primitive.MUL, Primitive.MAXIMUM, Primitive.MINIMUM)) {
      defs.add(ElementwiseOp.primitive(p, Infer.NUMERIC, Typing.SAME, true));
    }
    for (Primitive p : List.of(Primitive.SUB, Primitive.DIV, Primitive.POW)) {
      defs.add(ElementwiseOp.primitive(p, Infer.NUMERIC, Typing.SAME, false));
    }
    for (Primitive p : List.of(Primitive.LESS, Primitive.LESS_EQUAL, Primitive.GREATER, Primitive.GREATER_EQUAL)) {
      defs.add(ElementwiseOp.primitive(p, Infer.NUMERIC, Typing.COMPARE, false));
    }
    defs.add(ElementwiseOp.primitive(Primitive.EQUAL, Infer.ALL, Typing.COMPARE, true));
    defs.add(ElementwiseOp.primitive(Primitive.NOT_EQUAL, Infer.ALL, Typing.COMPARE, true));
    defs.add(ElementwiseOp.primitive(Primitive.LOGICAL_AND, Infer.BOOL, Typing.SAME, true));
    defs.add(ElementwiseOp.primitive(Primitive.LOGICAL_OR, Infer.BOOL, Typing.SAME, true));
    defs.add(ElementwiseOp.primitive(Primitive.SELECT, Infer.ALL, Typing.SELECT, false));
    defs.add(ElementwiseOp.primitive(Primitive.ADD_N, Infer.NUMERIC, Typing.SUM, true));

    defs.add(ElementwiseOp.primitive(Primitive.FLOOR, fl, Optional.of(GradientFunction.NONE)));
    defs.add(ElementwiseOp.primitive(Primitive.CEIL, fl, Optional.of(GradientFunction.NONE)));
    defs.add(ElementwiseOp.primitive(Primitive.ROUND, fl, Optional.of(GradientFunction.NONE)));
    defs.add(ElementwiseOp.primitive(Primitive.TRUNCATE_MOD, fl, grad((tf, op, g) -> arr(
        unbroadcast(tf, g, op.input(0), op),
        unbroadcast(tf, tf.neg(tf.mul(g, truncate(tf, tf.div(op.input(0), op.input(1))))), op.input(1), op)))));

    defs.add(unary("Erf", ElementwiseOps::erf,
        (tf, op, g) -> arr(tf.mul(g, tf.mul(c(tf, TWO_OVER_SQRT_PI, g), tf.exp(tf.neg(tf.square(op.input(0)))))))));
    defs.add(unary("Erfc", ElementwiseOps::erfc,
        (tf, op, g) -> arr(tf.mul(g, tf.mul(c(tf, -TWO_OVER_SQRT_PI, g), tf.exp(tf.neg(tf.square(op.input(0)))))))));
    defs.add(unary("Softplus", ElementwiseOps::softplus, (tf, op, g) -> arr(tf.mul(g, tf.sigmoid(op.input(0))))));
    defs.add(unary("Elu", (tf, x) -> tf.select(positive(tf, x), x, expm1(tf, x)),
        (tf, op, g) -> arr(tf.select(positive(tf, op.input(0)), g,
            tf.mul(g, tf.add(op.output(0), c(tf, 1, g)))))));
    defs.add(unary("Selu", (tf, x) -> tf.mul(c(tf, SELU_SCALE, x),
            tf.select(positive(tf, x), x, tf.mul(c(tf, SELU_ALPHA, x), expm1(tf, x)))),
        (tf, op, g) -> arr(tf.select(positive(tf, op.input(0)), tf.mul(g, c(tf, SELU_SCALE, g)),
            tf.mul(g, tf.add(op.output(0), c(tf, SELU_SCALE * SELU_ALPHA, g)))))));
    defs.add(ElementwiseOp.composite("LeakyRelu", 1, fl,
        AttrSchema.of(optional("alpha", AttrType.FLOAT, 0.2).constrained(Constraint.finite())),
        (tf, x, a) -> tf.select(positive(tf, x.get(0)), x.get(0),
            tf.mul(c(tf, a.getDouble("alpha"), x.get(0)), x.get(0))),
        grad((tf, op, g) -> arr(tf.select(positive(tf, op.input(0)), g,
            tf.mul(g, c(tf, op.attrs().getDouble("alpha"), g)))))));
    defs.add(unary("Log1p", ElementwiseOps::log1p, (tf, op, g) -> arr(tf.div(g, tf.add(op.input(0), c(tf, 1, g))))));
    defs.add(unary("Expm1", ElementwiseOps::expm1, (tf, op, g) -> arr(tf.mul(g, tf.exp(op.input(0))))));
    defs.add(unary("Atan", ElementwiseOps::atan,
        (tf, op, g) -> arr(tf.div(g, tf.add(c(tf, 1, g), tf.square(op.input(0)))))));
    defs.add(unary("Tan", (tf, x) -> tf.div(tf.sin(x), tf.cos(x)),
        (tf, op, g) -> arr(tf.div(g, tf.square(tf.cos(op.input(0)))))));
    defs.add(ElementwiseOp.composite("Mod", 2, fl, AttrSchema.none(), (tf, x, a) -> mod(tf, x.get(0), x.get(1)),
        grad((tf, op, g) -> arr(unbroadcast(tf, g, op.input(0), op),
            unbroadcast(tf, tf.neg(tf.mul(g, tf.floorDiv(op.input(0), op.input(1)))), op.input(1), op)))));
    defs.add(ElementwiseOp.composite("FloorDiv", 2, fl, AttrSchema.none(),
        (tf, x, a) -> tf.floor(tf.div(x.get(0), x.get(1))), Optional.of(GradientFunction.NONE)));
    defs.add(ElementwiseOp.composite("Clip", 1, Infer.NUMERIC,
        AttrSchema.of(required("min", AttrType.FLOAT), required("max", AttrType.FLOAT)),
        (tf, x, a) -> tf.minimum(tf.maximum(x.get(0), c(tf, a.getDouble("min"), x.get(0))),
            c(tf, a.getDouble("max"), x.get(0))),
        grad((tf, op, g) -> {
          Output x = op.input(0);
          Output inside = tf.logicalAnd(tf.greaterEqual(x, c(tf, op.attrs().getDouble("min"), x)),
              tf.lessEqual(x, c(tf, op.attrs().getDouble("max"), x)));
          return arr(tf.select(inside, g, tf.zerosLike(g)));
        })));
  }

  // ---------------------------------------------------------------- expansions

  static final double TWO_OVER_SQRT_PI = 1.1283791670955126;
  static final double SELU_ALPHA = 1.6732632423543772848170429916717;
  static final double SELU_SCALE = 1.0507009873554804934193349852946;

  /** erf(x) = x * sum_n ERF_TAYLOR[n] x^2n: its Maclaurin series, used for |x| < 0.5. */
  private static final double[] ERF_TAYLOR = erfTaylor(8);

  /**
   * erfc(a) = t exp(-a^2 + P(t)), t = 1 / (1 + a/2), for a >= 0: the Chebyshev fit of Numerical
   * Recipes (erfcc), relative error under 1.2e-7.
   */
  private static final double[] ERFC_FIT = {-1.26551223, 1.00002368, 0.37409196, 0.09678418, -0.18628806,
      0.27886807, -1.13520398, 1.48851587, -0.82215223, 0.17087277};

  private static double[] erfTaylor(int terms) {
    double[] a = new double[terms];
    double factorial = 1;
    for (int n = 0; n < terms; n++) {
      factorial *= Math.max(n, 1);
      a[n] = (n % 2 == 0 ? 1 : -1) * TWO_OVER_SQRT_PI / (factorial * (2 * n + 1));
    }
    return a;
  }

  private static Output erf(Ops tf, Output x) {
    Output a = tf.abs(x);
    Output outer = tf.sub(c(tf, 1, x), erfcPositive(tf, a));
    return tf.select(tf.less(a, c(tf, 0.5, x)), erfSeries(tf, x),
        tf.select(tf.less(x, c(tf, 0, x)), tf.neg(outer), outer));
  }

  private static Output erfc(Ops tf, Output x) {
    Output a = tf.abs(x);
    Output e = erfcPositive(tf, a);
    return tf.select(tf.less(a, c(tf, 0.5, x)), tf.sub(c(tf, 1, x), erfSeries(tf, x)),
        tf.select(tf.less(x, c(tf, 0, x)), tf.sub(c(tf, 2, x), e), e));
  }

  private static Output erfSeries(Ops tf, Output x) {
    return tf.mul(x, horner(tf, tf.square(x), ERF_TAYLOR));
  }

  /**
   * erfc(a) for a >= 0 (NaN propagates). a^2 = h^2 + (a - h)(a + h) with h = floor(16a)/16, whose
   * square is exact, so exp(-a^2) = exp(-h^2) exp(-(a - h)(a + h)) keeps full precision where a^2
   * rounded would lose |a^2| ulp; a is capped where erfc underflows in float64.
   */
  private static Output erfcPositive(Ops tf, Output a) {
    Output x = tf.minimum(a, c(tf, 28, a));
    Output t = tf.div(c(tf, 1, x), tf.add(c(tf, 1, x), tf.mul(c(tf, 0.5, x), x)));
    Output h = tf.div(tf.floor(tf.mul(x, c(tf, 16, x))), c(tf, 16, x));
    Output low = tf.mul(tf.sub(x, h), tf.add(x, h));
    Output e = tf.mul(tf.exp(tf.neg(tf.square(h))), tf.exp(tf.sub(horner(tf, t, ERFC_FIT), low)));
    return tf.mul(t, e);
  }

  /** sum_k coefficients[k] z^k. */
  private static Output horner(Ops tf, Output z, double[] coefficients) {
    Output r = c(tf, coefficients[coefficients.length - 1], z);
    for (int k = coefficients.length - 2; k >= 0; k--) {
      r = tf.add(tf.mul(r, z), c(tf, coefficients[k], z));
    }
    return r;
  }

  /** max(x, 0) + log1p(exp(-|x|)): no overflow, and exact for large |x|. */
  private static Output softplus(Ops tf, Output x) {
    return tf.add(tf.maximum(x, c(tf, 0, x)), log1p(tf, tf.exp(tf.neg(tf.abs(x)))));
  }

  /**
   * log(1 + x) as log(u) * x / (u - 1), u = 1 + x: the rounding of u cancels out (Goldberg's
   * formula); x itself where u rounds to 1, and infinity for infinity.
   */
  static Output log1p(Ops tf, Output x) {
    Output u = tf.add(c(tf, 1, x), x);
    Output d = tf.sub(u, c(tf, 1, x));
    Output r = tf.select(tf.equal(d, c(tf, 0, x)), x, tf.mul(tf.log(u), tf.div(x, d)));
    return tf.select(tf.equal(u, c(tf, Double.POSITIVE_INFINITY, x)), u, r);
  }

  /**
   * exp(x) - 1 as (u - 1) * x / log(u), u = exp(x) (Kahan's formula): x where u rounds to 1, -1 where
   * u - 1 does, infinity where u overflows.
   */
  static Output expm1(Ops tf, Output x) {
    Output u = tf.exp(x);
    Output um1 = tf.sub(u, c(tf, 1, x));
    Output r = tf.select(tf.equal(um1, c(tf, 0, x)), x,
        tf.select(tf.equal(um1, c(tf, -1, x)), um1, tf.mul(um1, tf.div(x, tf.log(u)))));
    return tf.select(tf.equal(u, c(tf, Double.POSITIVE_INFINITY, x)), u, r);
  }

  /**
   * atan by Cephes' reduction: |x| > tan(3pi/8) takes pi/2 + atan(-1/|x|), |x| > tan(pi/8) takes
   * pi/4 + atan((|x| - 1)/(|x| + 1)), then an odd polynomial on |t| <= tan(pi/8); the sign and -0 of x
   * are put back.
   */
  private static Output atan(Ops tf, Output x) {
    Output a = tf.abs(x);
    Output big = tf.greater(a, c(tf, 2.414213562373095, x));
    Output mid = tf.greater(a, c(tf, 0.4142135623730950, x));
    Output t = tf.select(big, tf.div(c(tf, -1, x), a),
        tf.select(mid, tf.div(tf.sub(a, c(tf, 1, x)), tf.add(a, c(tf, 1, x))), a));
    Output y0 = tf.select(big, c(tf, Math.PI / 2, x), tf.select(mid, c(tf, Math.PI / 4, x), c(tf, 0, x)));
    Output z = tf.square(t);
    Output p = horner(tf, z, new double[] {-3.33329491539e-1, 1.99777106478e-1, -1.38776856032e-1, 8.05374449538e-2});
    Output y = tf.add(tf.add(tf.mul(tf.mul(p, z), t), t), y0);
    return tf.select(tf.less(x, c(tf, 0, x)), tf.neg(y), tf.select(tf.equal(x, c(tf, 0, x)), x, y));
  }

  /** TensorFlow's FloorMod on floats: fmod, moved by the divisor where the signs differ. */
  private static Output mod(Ops tf, Output x, Output y) {
    Output r = tf.truncateMod(x, y);
    Output zero = c(tf, 0, r);
    Output fix = tf.logicalAnd(tf.notEqual(r, zero), tf.notEqual(tf.less(r, zero), tf.less(y, zero)));
    return tf.select(fix, tf.add(r, y), r);
  }

  /** x rounded toward zero. */
  private static Output truncate(Ops tf, Output x) {
    return tf.select(tf.less(x, c(tf, 0, x)), tf.ceil(x), tf.floor(x));
  }

  // ---------------------------------------------------------------- helpers

  /** A float op of one input without attributes. */
  private static ElementwiseOp unary(String type, Unary f, Grad g) {
    return ElementwiseOp.composite(type, 1, Infer.FLOAT, AttrSchema.none(), (tf, x, a) -> f.apply(tf, x.get(0)), grad(g));
  }

  @FunctionalInterface
  private interface Unary {
    Output apply(Ops tf, Output x);
  }

  private static Output positive(Ops tf, Output x) {
    return tf.greater(x, c(tf, 0, x));
  }

  private static Output c(Ops tf, double v, Output like) {
    return tf.constant(v, like.dtype());
  }

  private static Output[] arr(Output... gs) {
    return gs;
  }

  private static Output unbroadcast(Ops tf, Output g, Output x, Operation op) {
    return BuiltinGradients.unbroadcast(tf, g, x, op);
  }

  private static Optional<GradientFunction> grad(Grad f) {
    return Optional.of((tf, op, grads) -> {
      Optional<Output> g = grads.get(0);
      if (g.isEmpty()) {
        return Collections.nCopies(op.numInputs(), Optional.empty());
      }
      List<Optional<Output>> out = new ArrayList<>();
      for (Output o : f.apply(tf, op, g.get())) {
        out.add(Optional.ofNullable(o));
      }
      return out;
    });
  }
}
