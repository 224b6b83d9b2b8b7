package dev.kiln.examples;

import dev.kiln.graph.Ops;
import dev.kiln.graph.Output;
import java.util.List;

/**
 * The two-layer network of {@link TwoLayerNet} with a ReLU whose gradient is written by hand through
 * {@link Ops#customGradient}: the graph twin of PyTorch's
 *
 * <pre>
 * class MyReLU(torch.autograd.Function):
 *     def forward(ctx, x): ctx.save_for_backward(x); return x.clamp(min=0)
 *     def backward(ctx, grad_output): x, = ctx.saved_tensors; g = grad_output.clone(); g[x &lt; 0] = 0; return g
 * </pre>
 *
 * It trains to the same losses as the built-in version.
 */
public final class TwoLayerCustomRelu {
  private TwoLayerCustomRelu() {}

  public static void main(String[] args) {
    TwoLayerNet.train(TwoLayerNet.STEPS, TwoLayerCustomRelu::relu, System.out::println);
  }

  /**
   * max(x, 0), whose backward zeroes the gradient where x &lt; 0, as MyReLU does. At x == 0 exactly
   * (it happens, in float32, within 500 steps) the gradient passes, the convention of the built-in
   * Maximum's gradient too, so both versions give the same losses bit for bit.
   */
  static Output relu(Ops tf, Output x) {
    return tf.customGradient(List.of(x),
        in -> List.of(tf.maximum(in.get(0), tf.constant(0f))),
        (g, in, out, dOut) -> List.of(
            g.select(g.less(in.get(0), g.constant(0f)), g.zerosLike(dOut.get(0)), dOut.get(0))))
        .get(0);
  }
}
