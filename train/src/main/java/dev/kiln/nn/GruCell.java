package dev.kiln.nn;

import dev.kiln.graph.Ops;
import dev.kiln.graph.Output;
import dev.kiln.graph.Tensor;
import java.util.List;
import java.util.Optional;

/**
 * A gated recurrent unit with PyTorch's convention ({@code nn.GRU}, {@code nn.GRUCell}), where the
 * reset gate multiplies the hidden state's product including its bias:
 * <pre>
 *   [r | z | n] blocks of x W_ih + b_ih  and of  h W_hh + b_hh   (three blocks of hidden columns)
 *   r = sigmoid(x_r + h_r),  z = sigmoid(x_z + h_z)
 *   n = tanh(x_n + r * h_n)                    (h_n = h W_hn + b_hn)
 *   h' = (1 - z) * n + z * h
 * </pre>
 * PyTorch's {@code weight_ih_l0} [3H, in] is the transpose of {@code w_ih} [in, 3H], same block order.
 * This is Keras's {@code GRU(reset_after=True)} (the cuDNN form). TensorFlow 1.x's {@code GRUCell}
 * differs: it resets before the product, {@code n = tanh(concat(x, r * h) W_c + b_c)}, and its gate
 * kernel puts r and u (= z) over {@code concat(x, h)}; its weights map onto these only when
 * {@code b_hn} is zero, and even then the two cells compute different functions of h.
 */
public final class GruCell extends CellBase {
  public GruCell(int inputSize, int hiddenSize) {
    this(Spec.of(inputSize, hiddenSize, "gru"));
  }

  private GruCell(Spec spec) {
    super("GruCell", spec, 3);
  }

  public GruCell withSeed(long s) {
    return new GruCell(spec.withSeed(s));
  }

  public GruCell named(String scopeBase) {
    return new GruCell(spec.named(scopeBase));
  }

  /** Starts from these weights (w_ih [in, 3H], w_hh [H, 3H]) and zero biases. */
  public GruCell withInitialWeights(Tensor wIh, Tensor wHh) {
    return new GruCell(spec.withInitial(wIh, wHh, Optional.empty(), Optional.empty()));
  }

  /** Starts from these weights and biases. */
  public GruCell withInitialWeights(Tensor wIh, Tensor wHh, Tensor bIh, Tensor bHh) {
    return new GruCell(spec.withInitial(wIh, wHh, Optional.of(bIh), Optional.of(bHh)));
  }

  @Override
  public int stateCount() {
    return 1;
  }

  /** {@code x W_ih + b_ih} plus b_hh's r and z blocks; b_hn stays inside the reset product. */
  @Override
  public Output projectInputs(Ops tf, Output x) {
    weights.ensure(tf, x);
    Ops sc = weights.scope(tf);
    List<Output> bHh = sc.split(weights.bHh(), new int[] {2 * spec.hidden(), spec.hidden()}, 0);
    Output bias = sc.add(weights.bIh(), sc.concat(List.of(bHh.get(0), sc.zerosLike(bHh.get(1))), 0));
    return sc.add(sc.matmul(x, weights.wIh()), bias);
  }

  @Override
  public List<Output> step(Ops tf, Output projectedInput, List<Output> state) {
    weights.checkState(state, 1);
    Ops sc = weights.scope(tf);
    Output h = state.get(0);
    List<Output> xs = sc.split(projectedInput, 3, 1);
    List<Output> hs = sc.split(sc.matmul(h, weights.wHh()), 3, 1);
    Output bHn = sc.slice(weights.bHh(), new int[] {2 * spec.hidden()}, new int[] {spec.hidden()});
    Output r = sc.sigmoid(sc.add(xs.get(0), hs.get(0)));
    Output z = sc.sigmoid(sc.add(xs.get(1), hs.get(1)));
    Output n = sc.tanh(sc.add(xs.get(2), sc.mul(r, sc.add(hs.get(2), bHn))));
    // (1 - z) * n + z * h written as n + z * (h - n): one fewer op.
    return List.of(sc.add(n, sc.mul(z, sc.sub(h, n))));
  }

  @Override
  public String toString() {
    return "GruCell(" + spec.input() + " -> " + spec.hidden() + ")";
  }
}
