package dev.kiln.examples;

import dev.kiln.graph.AttrSchema;
import dev.kiln.graph.DType;
import dev.kiln.graph.Graph;
import dev.kiln.graph.OpContext;
import dev.kiln.graph.OpDef;
import dev.kiln.graph.OpRegistry;
import dev.kiln.graph.OpTrait;
import dev.kiln.graph.Ops;
import dev.kiln.graph.Output;
import dev.kiln.graph.Shape;
import dev.kiln.graph.Tensor;
import dev.kiln.graph.TensorType;
import dev.kiln.runtime.CpuKernels;
import dev.kiln.runtime.GradientChecker;
import dev.kiln.runtime.Session;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * A user-defined op, end to end: {@code MySoftplus(x) = log(1 + exp(x))} (a user's copy of the
 * built-in Softplus) gets an op type with its shape inference, a CPU kernel written in Java, and a
 * gradient ({@code g * sigmoid(x)}, built from graph ops so that it can be differentiated again);
 * then it is used like any built-in op.
 */
public final class UserDefinedOp {
  static final String SOFTPLUS = "MySoftplus";

  private UserDefinedOp() {}

  /** The op type: one float input, an output of the same type. */
  static final class SoftplusDef implements OpDef {
    @Override
    public String type() {
      return SOFTPLUS;
    }

    @Override
    public int minInputs() {
      return 1;
    }

    @Override
    public int maxInputs() {
      return 1;
    }

    @Override
    public List<TensorType> infer(OpContext c) {
      if (!c.dtype(0).isFloating()) {
        throw c.error("input 0 must be float (f32 or f64), got %s", c.dtype(0).shortName());
      }
      return List.of(c.input(0));
    }

    @Override
    public Set<OpTrait> traits() {
      return Set.of(OpTrait.ELEMENTWISE);
    }

    /**
     * MySoftplus takes no attributes. An op with some declares them here, e.g.
     * {@code AttrSchema.of(AttrDef.optional("beta", AttrType.FLOAT, 1.0))}; either way a misspelled or
     * mistyped attribute is an error where it is set.
     */
    @Override
    public AttrSchema attrSchema() {
      return AttrSchema.none();
    }
  }

  /** Registers the op type, its kernel and its gradient once per process. */
  static synchronized void register() {
    if (OpRegistry.find(SOFTPLUS).isPresent()) {
      return;
    }
    OpRegistry.register(new SoftplusDef());
    CpuKernels.register(SOFTPLUS, (inputs, attrs) -> {
      Tensor x = inputs.get(0);
      double[] v = x.toDoubleArray();
      for (int i = 0; i < v.length; i++) {
        // log1p(exp(x)) overflows for large x, where softplus(x) is x to double precision.
        v[i] = v[i] > 30 ? v[i] : Math.log1p(Math.exp(v[i]));
      }
      return List.of(x.dtype() == DType.FLOAT64 ? Tensor.of(v, x.shape().dims()) : Tensor.of(toFloat(v), x.shape().dims()));
    });
    OpRegistry.registerGradient(SOFTPLUS,
        (tf, op, grads) -> List.of(grads.get(0).map(g -> tf.mul(g, tf.sigmoid(op.input(0))))));
  }

  private static float[] toFloat(double[] v) {
    float[] f = new float[v.length];
    for (int i = 0; i < v.length; i++) {
      f[i] = (float) v[i];
    }
    return f;
  }

  /** Builds a MySoftplus node, like the built-in methods of {@link Ops}. */
  static Output softplus(Ops tf, Output x) {
    return tf.opBuilder(SOFTPLUS).addInput(x).build().output(0);
  }

  public static void main(String[] args) {
    register();
    Graph g = new Graph();
    Ops tf = Ops.create(g);
    Output x = tf.placeholder("x", DType.FLOAT64, Shape.of(4));
    Output y = softplus(tf, x);
    Output dy = tf.gradients(y, x).get(0);
    Output d2y = tf.gradients(dy, x).get(0);
    double[] xs = {-2, -0.5, 0.5, 2};
    Map<Output, Tensor> feed = Map.of(x, Tensor.of(xs, 4));
    try (Session s = new Session(g)) {
      List<Tensor> r = s.run(feed, y, dy, d2y);
      System.out.println("x                 = " + Arrays.toString(xs));
      System.out.println("softplus(x)       = " + Arrays.toString(r.get(0).toDoubleArray()));
      System.out.println("d softplus / dx   = " + Arrays.toString(r.get(1).toDoubleArray()) + "  (sigmoid(x))");
      System.out.println("d2 softplus / dx2 = " + Arrays.toString(r.get(2).toDoubleArray())
          + "  (sigmoid(x) (1 - sigmoid(x)))");
    }
    System.out.println("gradient check vs central differences: " + GradientChecker.check(y, feed));
  }
}
