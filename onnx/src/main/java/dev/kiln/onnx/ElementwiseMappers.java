package dev.kiln.onnx;

import dev.kiln.graph.DType;
import dev.kiln.graph.Ops;
import dev.kiln.graph.Output;
import java.util.List;
import java.util.Map;
import java.util.function.BiFunction;

/** Elementwise operators: ONNX's broadcasting is NumPy's, as Kiln's. */
final class ElementwiseMappers {
  private ElementwiseMappers() {}

  static void register(Map<String, Mapper> m) {
    unary(m, "Abs", (o, x) -> o.abs(x));
    unary(m, "Neg", (o, x) -> o.neg(x));
    unary(m, "Sqrt", (o, x) -> o.sqrt(x));
    unary(m, "Exp", (o, x) -> o.exp(x));
    unary(m, "Log", (o, x) -> o.log(x));
    unary(m, "Sin", (o, x) -> o.sin(x));
    unary(m, "Cos", (o, x) -> o.cos(x));
    unary(m, "Tan", (o, x) -> o.tan(x));
    unary(m, "Atan", (o, x) -> o.atan(x));
    unary(m, "Tanh", (o, x) -> o.tanh(x));
    unary(m, "Sigmoid", (o, x) -> o.sigmoid(x));
    unary(m, "Relu", (o, x) -> o.relu(x));
    unary(m, "Erf", (o, x) -> o.erf(x));
    unary(m, "Floor", (o, x) -> o.floor(x));
    unary(m, "Ceil", (o, x) -> o.ceil(x));
    unary(m, "Round", (o, x) -> o.round(x));
    unary(m, "Reciprocal", (o, x) -> o.reciprocal(x));
    unary(m, "Sign", (o, x) -> o.sign(x));
    unary(m, "Softplus", (o, x) -> o.softplus(x));
    unary(m, "Not", (o, x) -> o.logicalNot(x));
    unary(m, "Identity", (o, x) -> o.identity(x));
    unary(m, "Softsign", (o, x) -> o.div(x, o.add(c(o, 1, x), o.abs(x))));
    unary(m, "Sinh", (o, x) -> o.mul(c(o, 0.5, x), o.sub(o.exp(x), o.exp(o.neg(x)))));
    unary(m, "Cosh", (o, x) -> o.mul(c(o, 0.5, x), o.add(o.exp(x), o.exp(o.neg(x)))));
    unary(m, "Asinh", (o, x) -> o.log(o.add(x, o.sqrt(o.add(o.square(x), c(o, 1, x))))));
    unary(m, "Acosh", (o, x) -> o.log(o.add(x, o.sqrt(o.sub(o.square(x), c(o, 1, x))))));
    unary(m, "Atanh", (o, x) -> o.mul(c(o, 0.5, x), o.log(o.div(o.add(c(o, 1, x), x), o.sub(c(o, 1, x), x)))));
    unary(m, "Asin", ElementwiseMappers::asin);
    unary(m, "Acos", (o, x) -> o.sub(c(o, Math.PI / 2, x), asin(o, x)));
    unary(m, "Mish", (o, x) -> o.mul(x, o.tanh(o.softplus(x))));
    unary(m, "IsNaN", (o, x) -> o.notEqual(x, x));
    m.put("IsInf", n -> {
      Output x = n.in(0);
      boolean neg = n.attrInt("detect_negative", 1) != 0;
      boolean pos = n.attrInt("detect_positive", 1) != 0;
      Ops o = n.ops;
      Output p = o.equal(x, c(o, Double.POSITIVE_INFINITY, x));
      Output q = o.equal(x, c(o, Double.NEGATIVE_INFINITY, x));
      n.out(pos && neg ? o.logicalOr(p, q) : pos ? p : neg ? q : o.logicalAnd(p, q));
    });
    m.put("Elu", n -> n.out(elu(n.ops, n.in(0), n.attrFloat("alpha", 1f))));
    m.put("Selu", n -> {
      Output x = n.in(0);
      n.out(n.ops.mul(c(n.ops, n.attrFloat("gamma", 1.05070102214813232421875f), x),
          elu(n.ops, x, n.attrFloat("alpha", 1.67326319217681884765625f))));
    });
    m.put("Celu", n -> {
      Ops o = n.ops;
      Output x = n.in(0);
      double a = n.attrFloat("alpha", 1f);
      n.out(o.add(o.maximum(c(o, 0, x), x),
          o.minimum(c(o, 0, x), o.mul(c(o, a, x), o.expm1(o.div(x, c(o, a, x)))))));
    });
    m.put("LeakyRelu", n -> n.out(n.ops.leakyRelu(n.in(0), n.attrFloat("alpha", 0.01f))));
    m.put("ThresholdedRelu", n -> {
      Output x = n.in(0);
      n.out(n.ops.select(n.ops.greater(x, c(n.ops, n.attrFloat("alpha", 1f), x)), x, n.ops.zerosLike(x)));
    });
    m.put("HardSigmoid", n -> n.out(hardSigmoid(n.ops, n.in(0), n.attrFloat("alpha", 0.2f), n.attrFloat("beta", 0.5f))));
    m.put("HardSwish", n -> n.out(n.ops.mul(n.in(0), hardSigmoid(n.ops, n.in(0), 1.0 / 6, 0.5))));
    m.put("PRelu", n -> {
      Output x = n.in(0);
      n.out(n.ops.select(n.ops.less(x, c(n.ops, 0, x)), n.ops.mul(x, n.in(1)), x));
    });
    m.put("Shrink", n -> {
      Ops o = n.ops;
      Output x = n.in(0);
      double bias = n.attrFloat("bias", 0f);
      double lambd = n.attrFloat("lambd", 0.5f);
      n.out(o.select(o.less(x, c(o, -lambd, x)), o.add(x, c(o, bias, x)),
          o.select(o.greater(x, c(o, lambd, x)), o.sub(x, c(o, bias, x)), o.zerosLike(x))));
    });

    binary(m, "Add", Ops::add);
    binary(m, "Sub", Ops::sub);
    binary(m, "Mul", Ops::mul);
    binary(m, "Div", Ops::div);
    binary(m, "Equal", Ops::equal);
    binary(m, "Less", Ops::less);
    binary(m, "Greater", Ops::greater);
    binary(m, "LessOrEqual", Ops::lessEqual);
    binary(m, "GreaterOrEqual", Ops::greaterEqual);
    binary(m, "And", Ops::logicalAnd);
    binary(m, "Or", Ops::logicalOr);
    binary(m, "Xor", Ops::notEqual);
    m.put("Pow", n -> {
      Output x = n.in(0);
      Output y = n.in(1);
      n.out(n.ops.pow(x, y.dtype() == x.dtype() ? y : n.ops.cast(y, x.dtype())));
    });
    m.put("Mod", n -> {
      Ops o = n.ops;
      Output a = n.in(0);
      Output b = n.in(1);
      boolean fmod = n.attrInt("fmod", 0) != 0;
      if (a.dtype().isFloating()) {
        n.out(fmod ? o.truncateMod(a, b) : o.mod(a, b));
        return;
      }
      // Kiln's Mod and TruncateMod take floats: integers go through float64, exact below 2^53.
      Output fa = o.cast(a, DType.FLOAT64);
      Output fb = o.cast(b, DType.FLOAT64);
      n.out(o.cast(fmod ? o.truncateMod(fa, fb) : o.mod(fa, fb), a.dtype()));
    });
    variadic(m, "Max", Ops::maximum);
    variadic(m, "Min", Ops::minimum);
    variadic(m, "Sum", Ops::add);
    m.put("Mean", n -> {
      List<Output> xs = n.inputs();
      Output s = xs.get(0);
      for (int i = 1; i < xs.size(); i++) {
        s = n.ops.add(s, xs.get(i));
      }
      n.out(n.ops.div(s, c(n.ops, xs.size(), s)));
    });
    m.put("Where", n -> n.out(n.ops.select(n.in(0), n.in(1), n.in(2))));
    m.put("Clip", ElementwiseMappers::clip);
    m.put("Cast", n -> {
      DType to = Tensors.dtype((int) n.attrInt("to", 0), n.label() + " attribute 'to'");
      Output x = n.in(0);
      n.out(x.dtype() == to ? n.ops.identity(x) : n.ops.cast(x, to));
    });
    m.put("CastLike", n -> {
      Output x = n.in(0);
      DType to = n.in(1).dtype();
      n.out(x.dtype() == to ? n.ops.identity(x) : n.ops.cast(x, to));
    });
  }

  /** A scalar constant of x's element type. */
  static Output c(Ops o, double v, Output like) {
    return o.constant(v, like.dtype());
  }

  private static Output asin(Ops o, Output x) {
    return o.atan(o.div(x, o.sqrt(o.sub(c(o, 1, x), o.square(x)))));
  }

  static Output elu(Ops o, Output x, double alpha) {
    return o.select(o.greater(x, c(o, 0, x)), x, o.mul(c(o, alpha, x), o.expm1(x)));
  }

  static Output hardSigmoid(Ops o, Output x, double alpha, double beta) {
    Output y = o.add(o.mul(c(o, alpha, x), x), c(o, beta, x));
    return o.minimum(o.maximum(y, c(o, 0, x)), c(o, 1, x));
  }

  private static void clip(Node n) {
    Ops o = n.ops;
    Output x = n.in(0);
    Output y = x;
    if (n.opset < 11) {
      if (n.hasAttr("min")) {
        y = o.maximum(y, c(o, n.attrFloat("min", 0f), x));
      }
      if (n.hasAttr("max")) {
        y = o.minimum(y, c(o, n.attrFloat("max", 0f), x));
      }
    } else {
      if (n.has(1)) {
        y = o.maximum(y, n.in(1));
      }
      if (n.has(2)) {
        y = o.minimum(y, n.in(2));
      }
    }
    n.out(y == x ? o.identity(x) : y);
  }

  private static void unary(Map<String, Mapper> m, String type, BiFunction<Ops, Output, Output> f) {
    m.put(type, n -> n.out(f.apply(n.ops, n.in(0))));
  }

  private interface Binary {
    Output apply(Ops o, Output x, Output y);
  }

  private static void binary(Map<String, Mapper> m, String type, Binary f) {
    m.put(type, n -> n.out(f.apply(n.ops, n.in(0), n.in(1))));
  }

  private static void variadic(Map<String, Mapper> m, String type, Binary f) {
    m.put(type, n -> {
      List<Output> xs = n.inputs();
      Output s = xs.get(0);
      for (int i = 1; i < xs.size(); i++) {
        s = f.apply(n.ops, s, xs.get(i));
      }
      n.out(xs.size() == 1 ? n.ops.identity(s) : s);
    });
  }

}
