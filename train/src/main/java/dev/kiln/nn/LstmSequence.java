package dev.kiln.nn;

import dev.kiln.graph.Ops;
import dev.kiln.graph.Output;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * An LSTM over a whole sequence with its backward pass written out (backpropagation through time),
 * through {@link Ops#customGradient}: the forward keeps each step's activated gates, and the backward
 * walks the steps in reverse computing each step's gate gradient with one product by {@code W_hh^T},
 * then forms {@code dW_hh} as one product of all previous states by all gate gradients and hands the
 * stacked gate gradients back as the projected inputs' gradient (so that {@code dW_ih} is one product
 * too). Differentiating the unrolled steps instead would add one small product per step into
 * {@code dW_hh} and pad each step's slice of the projected inputs to the whole sequence.
 */
final class LstmSequence {
  private LstmSequence() {}

  /** The states after every step, [T, B, H] each (past an example's length, its last state repeated). */
  record States(Output hs, Output cs) {}

  /**
   * @param xp the projected inputs [T, B, 4H]
   * @param masks 0/1 [T, B, 1]: where 0 a step keeps its state
   */
  static States run(Ops tf, Output xp, Output wHh, Output h0, Output c0, Optional<Output> masks, double forgetBias,
      int hidden) {
    int steps = xp.shape().dim(0);
    List<Output> out = tf.customGradient(List.of(xp, wHh, h0, c0),
        in -> forward(tf, in, masks, forgetBias, hidden, steps),
        (g, in, outs, grads) -> backward(g, in, outs, grads, masks, hidden, steps));
    return new States(out.get(0), out.get(1));
  }

  private static Output step(Ops tf, Output x, int t, int width) {
    return tf.reshape(tf.slice(x, new int[] {t, 0, 0}, new int[] {1, -1, -1}), -1, width);
  }

  /** Values per step kept for the backward pass: c, the activated gates i, f, g, o, and tanh(c~). */
  private static final int PER_STEP = 6;

  /**
   * Outputs: hs [T,B,H], cs [T,B,H], then for each step its {@link #PER_STEP} values [B,H], kept as
   * outputs of their own so that the backward pass reads them without slicing a stacked copy.
   */
  private static List<Output> forward(Ops tf, List<Output> in, Optional<Output> masks, double forgetBias, int hidden,
      int steps) {
    Output xp = in.get(0);
    Output wHh = in.get(1);
    Output h = in.get(2);
    Output c = in.get(3);
    List<Output> hs = new ArrayList<>();
    List<Output> cs = new ArrayList<>();
    List<Output> perStep = new ArrayList<>();
    for (int t = 0; t < steps; t++) {
      Output z = tf.add(step(tf, xp, t, 4 * hidden), tf.matmul(h, wHh));
      List<Output> p = tf.split(z, 4, 1);
      Output i = tf.sigmoid(p.get(0));
      Output f = tf.sigmoid(forgetBias == 0 ? p.get(1) : tf.add(p.get(1), tf.constant(forgetBias, z.dtype())));
      Output gg = tf.tanh(p.get(2));
      Output o = tf.sigmoid(p.get(3));
      Output cc = tf.add(tf.mul(f, c), tf.mul(i, gg));
      Output tc = tf.tanh(cc);
      Output hc = tf.mul(o, tc);
      if (masks.isPresent()) {
        Output m = step(tf, masks.get(), t, 1);
        h = tf.add(h, tf.mul(m, tf.sub(hc, h)));
        c = tf.add(c, tf.mul(m, tf.sub(cc, c)));
      } else {
        h = hc;
        c = cc;
      }
      hs.add(h);
      cs.add(c);
      perStep.addAll(List.of(c, i, f, gg, o, tc));
    }
    List<Output> out = new ArrayList<>(List.of(tf.stack(hs, 0), tf.stack(cs, 0)));
    out.addAll(perStep);
    return out;
  }

  /** Gradients of xp, W_hh, h0, c0 from those of hs and cs (the per-step values are internal and take none). */
  private static List<Output> backward(Ops tf, List<Output> in, List<Output> outs, List<Output> grads,
      Optional<Output> masks, int hidden, int steps) {
    Output wHh = in.get(1);
    Output h0 = in.get(2);
    Output c0 = in.get(3);
    Output hs = outs.get(0);
    Output one = tf.constant(1, h0.dtype());
    Output dh = tf.zerosLike(h0);
    Output dc = tf.zerosLike(c0);
    Output[] dz = new Output[steps];
    // W_hh^T once: each step's product then reads its operand row by row.
    Output wHhT = tf.transpose(wHh);
    for (int t = steps - 1; t >= 0; t--) {
      List<Output> a = outs.subList(2 + PER_STEP * t, 2 + PER_STEP * (t + 1));
      Output i = a.get(1);
      Output f = a.get(2);
      Output gg = a.get(3);
      Output o = a.get(4);
      Output tc = a.get(5);
      Output cPrev = t > 0 ? outs.get(2 + PER_STEP * (t - 1)) : c0;
      Output dhTotal = tf.add(dh, step(tf, grads.get(0), t, hidden));
      Output dcTotal = tf.add(dc, step(tf, grads.get(1), t, hidden));
      Output dhc = dhTotal;
      Output dcIn = dcTotal;
      Optional<Output> keep = Optional.empty();
      if (masks.isPresent()) {
        Output m = step(tf, masks.get(), t, 1);
        dhc = tf.mul(m, dhTotal);
        dcIn = tf.mul(m, dcTotal);
        keep = Optional.of(tf.sub(one, m));
      }
      Output dcc = tf.add(dcIn, tf.mul(tf.mul(dhc, o), tf.sub(one, tf.square(tc))));
      Output dzi = tf.mul(tf.mul(dcc, gg), tf.mul(i, tf.sub(one, i)));
      Output dzf = tf.mul(tf.mul(dcc, cPrev), tf.mul(f, tf.sub(one, f)));
      Output dzg = tf.mul(tf.mul(dcc, i), tf.sub(one, tf.square(gg)));
      Output dzo = tf.mul(tf.mul(dhc, tc), tf.mul(o, tf.sub(one, o)));
      dz[t] = tf.concat(List.of(dzi, dzf, dzg, dzo), 1);
      dh = tf.matmul(dz[t], wHhT);
      dc = tf.mul(dcc, f);
      if (keep.isPresent()) {
        dh = tf.add(dh, tf.mul(keep.get(), dhTotal));
        dc = tf.add(dc, tf.mul(keep.get(), dcTotal));
      }
    }
    Output dXp = tf.stack(List.of(dz), 0);
    Output hPrev = steps == 1 ? tf.expandDims(h0, 0) : tf.concat(List.of(tf.expandDims(h0, 0),
        tf.slice(hs, new int[] {0, 0, 0}, new int[] {steps - 1, -1, -1})), 0);
    Output dWhh = tf.matmul(tf.reshape(hPrev, -1, hidden), tf.reshape(dXp, -1, 4 * hidden), true, false);
    return List.of(dXp, dWhh, dh, dc);
  }
}
