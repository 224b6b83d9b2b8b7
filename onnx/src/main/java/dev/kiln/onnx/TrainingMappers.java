package dev.kiln.onnx;

import static dev.kiln.onnx.ElementwiseMappers.c;

import dev.kiln.graph.Ops;
import dev.kiln.graph.Output;
import java.util.Map;

/**
 * The optimizer steps of the ai.onnx.preview.training domain (Adagrad, Momentum, Adam): inputs R
 * (learning rate), T (step, needed at import), then the n tensors X, their gradients G and the optimizer
 * states; outputs the new X and the new states.
 */
final class TrainingMappers {
  private static final String DOMAIN = "ai.onnx.preview.training.";

  private TrainingMappers() {}

  static void register(Map<String, Mapper> m) {
    m.put(DOMAIN + "Adagrad", TrainingMappers::adagrad);
    m.put(DOMAIN + "Momentum", TrainingMappers::momentum);
    m.put(DOMAIN + "Adam", TrainingMappers::adam);
  }

  private static long step(Node n) {
    return Node.longs(n.requireConst(1, "T"))[0];
  }

  private static int count(Node n, int states) {
    int k = (n.numInputs() - 2) / (2 + states);
    if (k * (2 + states) + 2 != n.numInputs()) {
      throw n.error(n.numInputs() + " inputs do not split into R, T and " + (2 + states) + " groups");
    }
    return k;
  }

  private static Output regularized(Node n, Output x, Output g) {
    double norm = n.attrFloat("norm_coefficient", 0f);
    return norm == 0 ? g : n.ops.add(n.ops.mul(c(n.ops, norm, x), x), g);
  }

  private static void adagrad(Node n) {
    Ops o = n.ops;
    int k = count(n, 1);
    double decay = n.attrFloat("decay_factor", 0f);
    double eps = n.attrFloat("epsilon", 0f);
    Output r = o.div(n.in(0), c(o, 1 + step(n) * decay, n.in(0)));
    for (int i = 0; i < k; i++) {
      Output x = n.in(2 + i);
      Output g = regularized(n, x, n.in(2 + k + i));
      Output h = o.add(n.in(2 + 2 * k + i), o.square(g));
      Output adaptive = o.add(o.sqrt(h), c(o, eps, x));
      n.out(i, o.sub(x, o.div(o.mul(o.cast(r, x.dtype()), g), adaptive)));
      n.out(k + i, h);
    }
  }

  private static void momentum(Node n) {
    Ops o = n.ops;
    int k = count(n, 1);
    double alpha = n.attrFloat("alpha", 0f);
    double beta = step(n) > 0 ? n.attrFloat("beta", 0f) : 1;
    boolean nesterov = n.attrString("mode", "standard").equals("nesterov");
    for (int i = 0; i < k; i++) {
      Output x = n.in(2 + i);
      Output g = regularized(n, x, n.in(2 + k + i));
      Output v = o.add(o.mul(c(o, alpha, x), n.in(2 + 2 * k + i)), o.mul(c(o, beta, x), g));
      Output r = o.cast(n.in(0), x.dtype());
      Output delta = nesterov ? o.add(g, o.mul(c(o, alpha, x), v)) : v;
      n.out(i, o.sub(x, o.mul(r, delta)));
      n.out(k + i, v);
    }
  }

  private static void adam(Node n) {
    Ops o = n.ops;
    int k = count(n, 2);
    double alpha = n.attrFloat("alpha", 0.9f);
    double beta = n.attrFloat("beta", 0.999f);
    double eps = n.attrFloat("epsilon", 1e-6f);
    double post = n.attrFloat("norm_coefficient_post", 0f);
    long t = step(n);
    double adjust = t > 0 ? Math.sqrt(1 - Math.pow(beta, t)) / (1 - Math.pow(alpha, t)) : 1;
    for (int i = 0; i < k; i++) {
      Output x = n.in(2 + i);
      Output g = regularized(n, x, n.in(2 + k + i));
      Output v = o.add(o.mul(c(o, alpha, x), n.in(2 + 2 * k + i)), o.mul(c(o, 1 - alpha, x), g));
      Output h = o.add(o.mul(c(o, beta, x), n.in(2 + 3 * k + i)), o.mul(c(o, 1 - beta, x), o.square(g)));
      Output r = o.mul(o.cast(n.in(0), x.dtype()), c(o, adjust, x));
      Output xNew = o.sub(x, o.mul(r, o.div(v, o.add(o.sqrt(h), c(o, eps, x)))));
      n.out(i, post == 0 ? xNew : o.mul(c(o, 1 - post, x), xNew));
      n.out(k + i, v);
      n.out(2 * k + i, h);
    }
  }
}
