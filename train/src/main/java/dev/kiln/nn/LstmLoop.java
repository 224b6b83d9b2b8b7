package dev.kiln.nn;

import dev.kiln.graph.DType;
import dev.kiln.graph.Elementwise;
import dev.kiln.graph.Ops;
import dev.kiln.graph.Output;
import dev.kiln.graph.Primitive;
import dev.kiln.graph.TensorArray;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * An LSTM over a whole sequence as two {@link Ops#whileLoop}s, forward and backward, joined by
 * {@link Ops#customGradient}: {@link LstmSequence}'s computation for a time axis that may be known only
 * when the graph runs. The forward loop writes each step's states, activated gates and tanh(c~) into
 * {@link TensorArray}s; the backward loop walks the steps in reverse reading them, writes each step's
 * gate gradient, and after it {@code dW_hh} is one product of all previous states by all gate
 * gradients.
 */
final class LstmLoop {
  private LstmLoop() {}

  /** The states after every step [T, B, H] each, and the final state [B, H] each. */
  record States(Output hs, Output cs, Output h, Output c) {}

  /** Arrays the forward loop fills: the state before each step, then the activated gates and tanh(c~). */
  private static final int KEPT = 7;

  /**
   * @param xp the projected inputs [T, B, 4H]
   * @param lengths per-example lengths [B]: from its length on, an example's steps keep its state
   */
  static States run(Ops tf, Output xp, Output wHh, Output h0, Output c0, Optional<Output> lengths, double forgetBias,
      int hidden) {
    List<Output> out = tf.customGradient(List.of(xp, wHh, h0, c0),
        in -> forward(tf, in, lengths, forgetBias, hidden),
        (g, in, outs, grads) -> backward(g, in, outs, grads, lengths, hidden));
    return new States(out.get(0), out.get(1), out.get(2), out.get(3));
  }

  private static Output mask(Ops tf, Output t, Output lengths, DType dtype) {
    return tf.reshape(tf.cast(tf.less(t, lengths), dtype), -1, 1);
  }

  /** Outputs: hs, cs [T,B,H]; final h, c [B,H]; then the {@link #KEPT} arrays [T,B,H]. */
  private static List<Output> forward(Ops tf, List<Output> in, Optional<Output> lengths, double forgetBias,
      int hidden) {
    Output xp = in.get(0);
    Output wHh = in.get(1);
    DType dtype = xp.dtype();
    TensorArray inputs = tf.tensorArray(xp);
    Output zeros = tf.zerosLike(tf.slice(xp, new int[] {0, 0, 0}, new int[] {-1, -1, hidden}));
    Output count = inputs.size();
    List<Output> vars = new ArrayList<>(List.of(tf.constant(0), in.get(2), in.get(3)));
    for (int k = 0; k < 2 + KEPT; k++) {
      vars.add(zeros);
    }
    List<Output> done = tf.whileLoop(v -> tf.less(v.get(0), count), v -> {
      Output t = v.get(0);
      Output h = v.get(1);
      Output c = v.get(2);
      Output z = tf.add(inputs.read(t), tf.matmul(h, wHh));
      List<Output> p = tf.split(z, 4, 1);
      Output i = tf.sigmoid(p.get(0));
      Output f = tf.sigmoid(forgetBias == 0 ? p.get(1) : tf.add(p.get(1), tf.constant(forgetBias, dtype)));
      Output gg = tf.tanh(p.get(2));
      Output o = tf.sigmoid(p.get(3));
      Output cc = tf.add(tf.mul(f, c), tf.mul(i, gg));
      Output tc = tf.tanh(cc);
      Output hc = tf.mul(o, tc);
      Output h2 = hc;
      Output c2 = cc;
      if (lengths.isPresent()) {
        Output m = mask(tf, t, lengths.get(), dtype);
        h2 = tf.add(h, tf.mul(m, tf.sub(hc, h)));
        c2 = tf.add(c, tf.mul(m, tf.sub(cc, c)));
      }
      List<Output> values = List.of(h2, c2, h, c, i, f, gg, o, tc);
      List<Output> next = new ArrayList<>(List.of(tf.add(t, tf.constant(1)), h2, c2));
      for (int k = 0; k < values.size(); k++) {
        next.add(tf.tensorArray(v.get(3 + k)).write(t, values.get(k)).flow());
      }
      return next;
    }, vars);
    List<Output> out = new ArrayList<>(List.of(done.get(3), done.get(4), done.get(1), done.get(2)));
    out.addAll(done.subList(5, 5 + KEPT));
    return out;
  }

  /** The gradient {@code g}, or empty when it is a ZerosLike (an output that received no gradient). */
  private static Optional<Output> nonZero(Output g) {
    boolean zeros = Elementwise.primitive(g.op()).filter(p -> p == Primitive.ZEROS_LIKE).isPresent();
    return zeros ? Optional.empty() : Optional.of(g);
  }

  /** Gradients of xp, W_hh, h0, c0 from those of hs, cs and the final h, c (the kept arrays take none). */
  private static List<Output> backward(Ops tf, List<Output> in, List<Output> outs, List<Output> grads,
      Optional<Output> lengths, int hidden) {
    Output xp = in.get(0);
    Output wHh = in.get(1);
    DType dtype = xp.dtype();
    Output one = tf.constant(1, dtype);
    // Outputs that take no gradient (a model that reads only the final h) get zeros: not read per step.
    Optional<TensorArray> dHs = nonZero(grads.get(0)).map(tf::tensorArray);
    Optional<TensorArray> dCs = nonZero(grads.get(1)).map(tf::tensorArray);
    List<TensorArray> kept = outs.subList(4, 4 + KEPT).stream().map(tf::tensorArray).toList();
    Output count = tf.tensorArray(grads.get(0)).size();
    // W_hh^T once, outside the loop: each step's product then reads its operand row by row.
    Output wHhT = tf.transpose(wHh);
    List<Output> vars = List.of(tf.constant(0), grads.get(2), grads.get(3), tf.zerosLike(xp));
    List<Output> done = tf.whileLoop(v -> tf.less(v.get(0), count), v -> {
      Output t = tf.sub(tf.sub(count, tf.constant(1)), v.get(0));
      Output cPrev = kept.get(1).read(t);
      Output i = kept.get(2).read(t);
      Output f = kept.get(3).read(t);
      Output gg = kept.get(4).read(t);
      Output o = kept.get(5).read(t);
      Output tc = kept.get(6).read(t);
      Output dhTotal = dHs.isPresent() ? tf.add(v.get(1), dHs.get().read(t)) : v.get(1);
      Output dcTotal = dCs.isPresent() ? tf.add(v.get(2), dCs.get().read(t)) : v.get(2);
      Output dhc = dhTotal;
      Output dcIn = dcTotal;
      Optional<Output> keep = Optional.empty();
      if (lengths.isPresent()) {
        Output m = mask(tf, t, lengths.get(), dtype);
        dhc = tf.mul(m, dhTotal);
        dcIn = tf.mul(m, dcTotal);
        keep = Optional.of(tf.sub(one, m));
      }
      Output dcc = tf.add(dcIn, tf.mul(tf.mul(dhc, o), tf.sub(one, tf.square(tc))));
      Output dzi = tf.mul(tf.mul(dcc, gg), tf.mul(i, tf.sub(one, i)));
      Output dzf = tf.mul(tf.mul(dcc, cPrev), tf.mul(f, tf.sub(one, f)));
      Output dzg = tf.mul(tf.mul(dcc, i), tf.sub(one, tf.square(gg)));
      Output dzo = tf.mul(tf.mul(dhc, tc), tf.mul(o, tf.sub(one, o)));
      Output dz = tf.concat(List.of(dzi, dzf, dzg, dzo), 1);
      Output dh = tf.matmul(dz, wHhT);
      Output dc = tf.mul(dcc, f);
      if (keep.isPresent()) {
        dh = tf.add(dh, tf.mul(keep.get(), dhTotal));
        dc = tf.add(dc, tf.mul(keep.get(), dcTotal));
      }
      return List.of(tf.add(v.get(0), tf.constant(1)), dh, dc, tf.tensorArray(v.get(3)).write(t, dz).flow());
    }, vars);
    Output dXp = done.get(3);
    Output hPrev = tf.reshape(outs.get(4), -1, hidden);
    Output dWhh = tf.matmul(hPrev, tf.reshape(dXp, -1, 4 * hidden), true, false);
    return List.of(dXp, dWhh, done.get(1), done.get(2));
  }
}
