package dev.kiln.onnx;

import dev.kiln.graph.Ops;
import dev.kiln.graph.Output;
import dev.kiln.graph.Shape;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;

/**
 * RNN, GRU and LSTM (forward direction, default activations) unrolled over a static sequence length:
 * each step is matrix products of the step's input and the previous hidden state with the gate weights.
 */
final class RecurrentMappers {
  private RecurrentMappers() {}

  static void register(Map<String, Mapper> m) {
    m.put("RNN", n -> unroll(n, 1));
    m.put("GRU", n -> unroll(n, 3));
    m.put("LSTM", n -> unroll(n, 4));
  }

  private static void unroll(Node n, int gates) {
    Ops o = n.ops;
    String dir = n.attrString("direction", "forward");
    if (!dir.equals("forward") || n.hasAttr("activations") || n.hasAttr("clip")
        || n.attrInt("input_forget", 0) != 0) {
      throw n.unsupported("only the forward direction with default activations, no clip and no input_forget is supported");
    }
    boolean batchFirst = n.attrInt("layout", 0) != 0;
    Output x = n.in(0);
    Shape xs = x.shape();
    if (!xs.isFullyDefined() || xs.rank() != 3) {
      throw n.unsupported("needs a static 3-D input shape, got " + xs);
    }
    int seq = xs.dim(batchFirst ? 1 : 0);
    int batch = xs.dim(batchFirst ? 0 : 1);
    int in = xs.dim(2);
    Shape wshape = n.in(1).shape();
    int hidden = (int) n.attrInt("hidden_size", wshape.dim(1) / gates);
    if (n.has(4)) {
      long[] lens = n.constLongs(4, "sequence_lens");
      if (Arrays.stream(lens).anyMatch(l -> l != seq)) {
        throw n.unsupported("sequence_lens shorter than the sequence are not supported");
      }
    }
    Output w = o.reshape(n.in(1), gates * hidden, in);
    Output r = o.reshape(n.in(2), gates * hidden, hidden);
    Output wb = null;
    Output rb = null;
    if (n.has(3)) {
      List<Output> b = o.split(o.reshape(n.in(3), 2 * gates * hidden), 2, 0);
      wb = b.get(0);
      rb = b.get(1);
    }
    Output h = n.has(5) ? o.reshape(n.in(5), batch, hidden) : o.zerosLike(o.reshape(o.slice(x, new int[] {0, 0, 0},
        new int[] {1, 1, 1}), 1, 1));
    if (!n.has(5)) {
      h = o.broadcastTo(h, Shape.of(batch, hidden));
    }
    Output c = null;
    Output[] peep = null;
    if (gates == 4) {
      c = n.has(6) ? o.reshape(n.in(6), batch, hidden) : o.zerosLike(h);
      if (n.has(7)) {
        List<Output> p = o.split(o.reshape(n.in(7), 3 * hidden), 3, 0);
        peep = p.toArray(Output[]::new);
      }
    }
    boolean linearBeforeReset = n.attrInt("linear_before_reset", 0) != 0;
    List<Output> ys = new ArrayList<>();
    for (int t = 0; t < seq; t++) {
      Output xt = batchFirst
          ? o.reshape(o.slice(x, new int[] {0, t, 0}, new int[] {-1, 1, -1}), batch, in)
          : o.reshape(o.slice(x, new int[] {t, 0, 0}, new int[] {1, -1, -1}), batch, in);
      Output xw = o.matmul(xt, w, false, true);
      if (wb != null) {
        xw = o.add(xw, wb);
      }
      Output hr = o.matmul(h, r, false, true);
      if (rb != null) {
        hr = o.add(hr, rb);
      }
      switch (gates) {
        case 1 -> h = o.tanh(o.add(xw, hr));
        case 3 -> {
          List<Output> xg = o.split(xw, 3, 1);
          List<Output> hg = o.split(hr, 3, 1);
          Output z = o.sigmoid(o.add(xg.get(0), hg.get(0)));
          Output rr = o.sigmoid(o.add(xg.get(1), hg.get(1)));
          Output cand;
          if (linearBeforeReset) {
            cand = o.tanh(o.add(xg.get(2), o.mul(rr, hg.get(2))));
          } else {
            Output rh = o.matmul(o.mul(rr, h), o.slice(r, new int[] {2 * hidden, 0}, new int[] {hidden, -1}), false, true);
            if (rb != null) {
              rh = o.add(rh, o.slice(rb, new int[] {2 * hidden}, new int[] {hidden}));
            }
            cand = o.tanh(o.add(xg.get(2), rh));
          }
          h = o.add(o.mul(o.sub(o.onesLike(z), z), cand), o.mul(z, h));
        }
        default -> {
          List<Output> g = o.split(o.add(xw, hr), 4, 1);
          Output iPre = g.get(0);
          Output oPre = g.get(1);
          Output fPre = g.get(2);
          if (peep != null) {
            iPre = o.add(iPre, o.mul(peep[0], c));
            fPre = o.add(fPre, o.mul(peep[2], c));
          }
          Output i = o.sigmoid(iPre);
          Output f = o.sigmoid(fPre);
          c = o.add(o.mul(f, c), o.mul(i, o.tanh(g.get(3))));
          if (peep != null) {
            oPre = o.add(oPre, o.mul(peep[1], c));
          }
          h = o.mul(o.sigmoid(oPre), o.tanh(c));
        }
      }
      ys.add(h);
    }
    // Y: [seq, 1, batch, hidden], or [batch, seq, 1, hidden] with layout 1; Y_h and Y_c: [1, batch, hidden] or [batch, 1, hidden].
    Output y = o.stack(ys, batchFirst ? 1 : 0);
    n.out(0, o.expandDims(y, batchFirst ? 2 : 1));
    n.out(1, o.expandDims(h, batchFirst ? 1 : 0));
    if (gates == 4) {
      n.out(2, o.expandDims(c, batchFirst ? 1 : 0));
    }
  }
}
