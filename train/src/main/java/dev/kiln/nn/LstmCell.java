package dev.kiln.nn;

import dev.kiln.graph.Ops;
import dev.kiln.graph.Output;
import dev.kiln.graph.Tensor;
import java.util.List;
import java.util.Optional;

/**
 * A long short-term memory cell with PyTorch's gate convention ({@code nn.LSTM}, {@code nn.LSTMCell}):
 * <pre>
 *   [i | f | g | o] = x W_ih + b_ih + h W_hh + b_hh      (four blocks of hidden columns, in this order)
 *   c' = sigmoid(f + forgetBias) * c + sigmoid(i) * tanh(g)
 *   h' = sigmoid(o) * tanh(c')
 * </pre>
 * The state is (h, c). PyTorch's {@code weight_ih_l0} [4H, in] is the transpose of {@code w_ih}
 * [in, 4H], with the same gate order. TensorFlow 1.x's {@code LSTMCell}/{@code BasicLSTMCell} keeps one
 * kernel [in + H, 4H] over {@code concat(x, h)} with blocks in the order i, j (= g), f, o, one bias, and
 * adds {@code forget_bias = 1.0}: its rows {@code [0, in)} are {@code w_ih} and the rest {@code w_hh},
 * each with the middle two column blocks swapped; its bias is {@code b_ih} (with {@code b_hh} zero),
 * and {@link #withForgetBias withForgetBias(1.0)} reproduces the forget bias. The default forget bias
 * is 0, as in PyTorch and Keras.
 */
public final class LstmCell extends CellBase {
  private final double forgetBias;

  public LstmCell(int inputSize, int hiddenSize) {
    this(Spec.of(inputSize, hiddenSize, "lstm"), 0);
  }

  private LstmCell(Spec spec, double forgetBias) {
    super("LstmCell", spec, 4);
    this.forgetBias = forgetBias;
  }

  /** A constant added to the forget gate's pre-activation (TensorFlow's BasicLSTMCell uses 1.0). */
  public LstmCell withForgetBias(double bias) {
    return new LstmCell(spec, bias);
  }

  public LstmCell withSeed(long s) {
    return new LstmCell(spec.withSeed(s), forgetBias);
  }

  public LstmCell named(String scopeBase) {
    return new LstmCell(spec.named(scopeBase), forgetBias);
  }

  /** Starts from these weights (w_ih [in, 4H], w_hh [H, 4H]) and zero biases. */
  public LstmCell withInitialWeights(Tensor wIh, Tensor wHh) {
    return new LstmCell(spec.withInitial(wIh, wHh, Optional.empty(), Optional.empty()), forgetBias);
  }

  /** Starts from these weights and biases. */
  public LstmCell withInitialWeights(Tensor wIh, Tensor wHh, Tensor bIh, Tensor bHh) {
    return new LstmCell(spec.withInitial(wIh, wHh, Optional.of(bIh), Optional.of(bHh)), forgetBias);
  }

  @Override
  public int stateCount() {
    return 2;
  }

  @Override
  public List<Output> step(Ops tf, Output projectedInput, List<Output> state) {
    weights.checkState(state, 2);
    Ops sc = weights.scope(tf);
    Output h = state.get(0);
    Output c = state.get(1);
    Output gates = sc.add(projectedInput, sc.matmul(h, weights.wHh()));
    List<Output> ifgo = sc.split(gates, 4, 1);
    Output f = ifgo.get(1);
    if (forgetBias != 0) {
      f = sc.add(f, sc.constant(forgetBias, f.dtype()));
    }
    Output c2 = sc.add(sc.mul(sc.sigmoid(f), c), sc.mul(sc.sigmoid(ifgo.get(0)), sc.tanh(ifgo.get(2))));
    Output h2 = sc.mul(sc.sigmoid(ifgo.get(3)), sc.tanh(c2));
    return List.of(h2, c2);
  }

  double forgetBias() {
    return forgetBias;
  }

  @Override
  public String toString() {
    return "LstmCell(" + spec.input() + " -> " + spec.hidden() + ")";
  }
}
