package dev.kiln.runtime;

import dev.kiln.graph.DType;
import dev.kiln.graph.Graph;
import dev.kiln.graph.Ops;
import dev.kiln.graph.Output;
import dev.kiln.graph.Tensor;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;

/**
 * Checks symbolic gradients ({@link Ops#gradients}) against central differences in FLOAT64. For a
 * value {@code y} and inputs {@code xs} (fed with the given FLOAT64 values), it differentiates the
 * scalar {@code L = sum(y * W)} for fixed random weights W, so that every element of y counts with a
 * different weight, both symbolically and as {@code (L(x + eps) - L(x - eps)) / 2 eps} for every
 * element of every x. Second derivatives are checked by passing a gradient as {@code y}.
 *
 * <pre>{@code
 * Output x = tf.placeholder("x", DType.FLOAT64, Shape.of(3, 4));
 * Output y = tf.tanh(x);
 * GradientChecker.check(y, Map.of(x, randomTensor)).assertWithin(1e-6);
 * }</pre>
 *
 * The check adds nodes to y's graph (a weight placeholder, L, and its gradients) and runs them in a
 * Session of its own.
 */
public final class GradientChecker {
  private static final double EPS = 1e-5;
  private static final long WEIGHT_SEED = 20240601L;

  private GradientChecker() {}

  /**
   * The largest disagreement found, and where.
   *
   * @param maxAbsError largest |symbolic - numeric| over all elements of all xs
   * @param maxRelError largest |symbolic - numeric| / max(1, |numeric|)
   * @param worst a description of the element with the largest relative error
   */
  public record Result(double maxAbsError, double maxRelError, String worst) {
    /** Throws an AssertionError naming the worst element unless the relative error is within tolerance. */
    public Result assertWithin(double tolerance) {
      if (!(maxRelError <= tolerance)) {
        throw new AssertionError(String.format(
            "gradient check failed: max relative error %.3g > %.3g (max abs error %.3g); worst: %s",
            maxRelError, tolerance, maxAbsError, worst));
      }
      return this;
    }
  }

  /** Checks dy/dx for each x of {@code xs} (keys, fed with their FLOAT64 values). */
  public static Result check(Output y, Map<Output, Tensor> xs) {
    return check(y, xs, Map.of());
  }

  /**
   * As {@link #check(Output, Map)}, with {@code otherFeeds} fed but not differentiated (labels,
   * masks, values of any dtype).
   */
  public static Result check(Output y, Map<Output, Tensor> xs, Map<Output, Tensor> otherFeeds) {
    if (y.dtype() != DType.FLOAT64) {
      throw new IllegalArgumentException("GradientChecker: y '" + y.name() + "' must be f64, got " + y.type());
    }
    if (xs.isEmpty()) {
      throw new IllegalArgumentException("GradientChecker: no xs given");
    }
    Map<Output, Tensor> xValues = new LinkedHashMap<>(xs);
    for (Map.Entry<Output, Tensor> e : xValues.entrySet()) {
      if (e.getKey().dtype() != DType.FLOAT64 || e.getValue().dtype() != DType.FLOAT64) {
        throw new IllegalArgumentException("GradientChecker: x '" + e.getKey().name() + "' and its value must be"
            + " f64, got " + e.getKey().type() + " fed with " + e.getValue().type());
      }
    }
    Graph graph = y.graph();
    // Each check adds its own nodes: a fresh scope keeps their explicit names unique in the graph.
    Ops tf = Ops.create(graph).withSubScope("gradient_check_" + graph.size());
    Output weights = tf.placeholder("weights", DType.FLOAT64, y.shape());
    Output loss = tf.reduceSum(tf.mul(y, weights));
    List<Output> xList = new ArrayList<>(xValues.keySet());
    List<Output> grads = tf.gradients(loss, xList);

    try (Session s = new Session(graph)) {
      Map<Output, Tensor> feeds = new LinkedHashMap<>(otherFeeds);
      feeds.putAll(xValues);
      Tensor yValue = s.run(feeds, y).get(0);
      double[] w = new double[yValue.size()];
      Random r = new Random(WEIGHT_SEED);
      for (int i = 0; i < w.length; i++) {
        w[i] = r.nextGaussian();
      }
      feeds.put(weights, Tensor.of(w, yValue.shape().dims()));
      List<Tensor> symbolic = s.run(feeds, grads.toArray(Output[]::new));

      double maxAbs = 0;
      double maxRel = 0;
      String worst = "none";
      for (int k = 0; k < xList.size(); k++) {
        Output x = xList.get(k);
        Tensor x0 = xValues.get(x);
        double[] base = x0.toDoubleArray();
        double[] sym = symbolic.get(k).toDoubleArray();
        for (int i = 0; i < base.length; i++) {
          double[] shifted = base.clone();
          shifted[i] = base[i] + EPS;
          feeds.put(x, Tensor.of(shifted, x0.shape().dims()));
          double plus = s.run(feeds, loss).get(0).getDouble(0);
          shifted[i] = base[i] - EPS;
          feeds.put(x, Tensor.of(shifted, x0.shape().dims()));
          double minus = s.run(feeds, loss).get(0).getDouble(0);
          double numeric = (plus - minus) / (2 * EPS);
          double abs = Math.abs(sym[i] - numeric);
          double rel = abs / Math.max(1.0, Math.abs(numeric));
          if (Double.isNaN(sym[i]) || Double.isNaN(numeric)) {
            abs = rel = Double.POSITIVE_INFINITY;
          }
          maxAbs = Math.max(maxAbs, abs);
          if (rel > maxRel || worst.equals("none")) {
            maxRel = Math.max(maxRel, rel);
            worst = String.format("d%s/d%s element %d: symbolic %.9g, numeric %.9g", y.name(), x.name(), i,
                sym[i], numeric);
          }
        }
        feeds.put(x, x0);
      }
      return new Result(maxAbs, maxRel, worst);
    }
  }
}
