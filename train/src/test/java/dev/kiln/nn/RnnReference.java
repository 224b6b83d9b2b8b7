package dev.kiln.nn;

import java.util.Arrays;

/**
 * Float64 loops of the recurrent cells' equations, written from their javadoc, as the tests' independent
 * reference: weights in Kiln's layout (w_ih [in, G*H], w_hh [H, G*H], biases [G*H]), inputs batch-major.
 */
final class RnnReference {
  enum Kind { LSTM, GRU, RNN }

  record Weights(double[] wIh, double[] wHh, double[] bIh, double[] bHh) {}

  /** outputs [B][T][H]; state[k][B][H] after each example's own last step. */
  record Run(double[][][] outputs, double[][][] state) {}

  final Kind kind;
  final int in;
  final int hidden;
  final double forgetBias;
  final Weights w;

  RnnReference(Kind kind, int in, int hidden, double forgetBias, Weights w) {
    this.kind = kind;
    this.in = in;
    this.hidden = hidden;
    this.forgetBias = forgetBias;
    this.w = w;
  }

  int gates() {
    return switch (kind) {
      case LSTM -> 4;
      case GRU -> 3;
      case RNN -> 1;
    };
  }

  static double sigmoid(double v) {
    return 1 / (1 + Math.exp(-v));
  }

  /** x [B*T*in] batch-major; lengths per example; reverse: each example runs backwards over its own steps. */
  Run run(double[] x, int batch, int steps, int[] lengths, boolean reverse) {
    int states = kind == Kind.LSTM ? 2 : 1;
    double[][][] out = new double[batch][steps][hidden];
    double[][][] fin = new double[states][batch][];
    for (int b = 0; b < batch; b++) {
      double[][] s = new double[states][hidden];
      for (int k = 0; k < lengths[b]; k++) {
        int t = reverse ? lengths[b] - 1 - k : k;
        double[] xt = Arrays.copyOfRange(x, (b * steps + t) * in, (b * steps + t + 1) * in);
        s = step(xt, s);
        out[b][t] = s[0].clone();
      }
      for (int k = 0; k < states; k++) {
        fin[k][b] = s[k];
      }
    }
    return new Run(out, fin);
  }

  private double[] affine(double[] v, double[] m, double[] bias, int rows) {
    int cols = gates() * hidden;
    double[] r = bias.clone();
    for (int i = 0; i < rows; i++) {
      for (int j = 0; j < cols; j++) {
        r[j] += v[i] * m[i * cols + j];
      }
    }
    return r;
  }

  double[][] step(double[] x, double[][] s) {
    double[] xp = affine(x, w.wIh(), w.bIh(), in);
    double[] hp = affine(s[0], w.wHh(), w.bHh(), hidden);
    int n = hidden;
    double[] h = new double[n];
    switch (kind) {
      case LSTM -> {
        double[] c = new double[n];
        for (int j = 0; j < n; j++) {
          double i = sigmoid(xp[j] + hp[j]);
          double f = sigmoid(xp[n + j] + hp[n + j] + forgetBias);
          double g = Math.tanh(xp[2 * n + j] + hp[2 * n + j]);
          double o = sigmoid(xp[3 * n + j] + hp[3 * n + j]);
          c[j] = f * s[1][j] + i * g;
          h[j] = o * Math.tanh(c[j]);
        }
        return new double[][] {h, c};
      }
      case GRU -> {
        for (int j = 0; j < n; j++) {
          double r = sigmoid(xp[j] + hp[j]);
          double z = sigmoid(xp[n + j] + hp[n + j]);
          double cand = Math.tanh(xp[2 * n + j] + r * hp[2 * n + j]);
          h[j] = (1 - z) * cand + z * s[0][j];
        }
        return new double[][] {h};
      }
      default -> {
        for (int j = 0; j < n; j++) {
          h[j] = Math.tanh(xp[j] + hp[j]);
        }
        return new double[][] {h};
      }
    }
  }
}
