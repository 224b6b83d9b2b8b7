package dev.kiln.onnx;

import dev.kiln.graph.DType;
import dev.kiln.graph.Ops;
import dev.kiln.graph.Output;
import java.util.List;
import dev.kiln.graph.Tensor;
import java.util.Map;
import java.util.function.BiFunction;

/** Window functions (constant for a constant size), computed at import in double precision. */
final class SignalMappers {
  private SignalMappers() {}

  static void register(Map<String, Mapper> m) {
    window(m, "HannWindow", (k, n) -> 0.5 - 0.5 * Math.cos(2 * Math.PI * k / n));
    window(m, "HammingWindow", (k, n) -> 25.0 / 46 - (1 - 25.0 / 46) * Math.cos(2 * Math.PI * k / n));
    m.put("DFT", SignalMappers::dft);
    window(m, "BlackmanWindow", (k, n) -> 0.42 - 0.5 * Math.cos(2 * Math.PI * k / n) + 0.08 * Math.cos(4 * Math.PI * k / n));
  }

  private static void window(Map<String, Mapper> m, String type, BiFunction<Double, Double, Double> f) {
    m.put(type, n -> {
      int size = Math.toIntExact(Node.longs(n.requireConst(0, "size"))[0]);
      boolean periodic = n.attrInt("periodic", 1) != 0;
      double denom = periodic ? size : size - 1;
      double[] v = new double[size];
      for (int k = 0; k < size; k++) {
        v[k] = f.apply((double) k, denom);
      }
      DType d = Tensors.dtype((int) n.attrInt("output_datatype", 1), n.label() + " output_datatype");
      n.out(n.ops.cast(n.ops.constant(Tensor.of(v, size)), d));
    });
  }

  /**
   * DFT along one axis of [batch, ..., 1 or 2] (real or complex) input as two products with constant cosine
   * and sine matrices; the signal axis is moved last for them and back after.
   */
  private static void dft(Node n) {
    Ops o = n.ops;
    Output x = n.in(0);
    int r = n.rank(x);
    int axis = n.axis(n.attrInt("axis", 1), r);
    if (axis == r - 1) {
      throw n.error("axis " + axis + " is the real/imaginary axis");
    }
    int len = x.shape().dim(axis);
    if (len < 0 || x.shape().dim(r - 1) < 0) {
      throw n.unsupported("needs a static signal length, got " + x.shape());
    }
    int nfft = n.has(1) ? Math.toIntExact(Node.longs(n.requireConst(1, "dft_length"))[0]) : len;
    boolean inverse = n.attrInt("inverse", 0) != 0;
    boolean onesided = n.attrInt("onesided", 0) != 0;
    int outLen = onesided ? nfft / 2 + 1 : nfft;
    // Move the signal axis next to last: [..., len, 1|2] -> [..., 1|2, len].
    int[] perm = new int[r];
    int p = 0;
    for (int i = 0; i < r; i++) {
      if (i != axis && i != r - 1) {
        perm[p++] = i;
      }
    }
    perm[p++] = r - 1;
    perm[p] = axis;
    Output t = o.transpose(x, perm);
    List<Output> parts = x.shape().dim(r - 1) == 2 ? o.split(t, 2, r - 2) : List.of(t);
    double sign = inverse ? 1 : -1;
    double scale = inverse ? 1.0 / nfft : 1;
    float[] cos = new float[len * outLen];
    float[] sin = new float[len * outLen];
    for (int j = 0; j < len && j < nfft; j++) {
      for (int k = 0; k < outLen; k++) {
        double a = 2 * Math.PI * ((long) j * k % nfft) / nfft;
        cos[j * outLen + k] = (float) (Math.cos(a) * scale);
        sin[j * outLen + k] = (float) (sign * Math.sin(a) * scale);
      }
    }
    Output cm = o.cast(o.constant(Tensor.of(cos, len, outLen)), x.dtype());
    Output sm = o.cast(o.constant(Tensor.of(sin, len, outLen)), x.dtype());
    Output re = parts.get(0);
    Output yRe = NnMappers.matmul(o, re, cm);
    Output yIm = NnMappers.matmul(o, re, sm);
    if (parts.size() == 2) {
      Output im = parts.get(1);
      yRe = o.sub(yRe, NnMappers.matmul(o, im, sm));
      yIm = o.add(yIm, NnMappers.matmul(o, im, cm));
    }
    Output y = o.concat(List.of(yRe, yIm), r - 2);
    int[] back = new int[r];
    for (int i = 0; i < r; i++) {
      back[perm[i]] = i;
    }
    n.out(o.transpose(y, back));
  }
}
