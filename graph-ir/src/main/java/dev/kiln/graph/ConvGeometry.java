package dev.kiln.graph;

import java.util.List;

/**
 * The spatial arithmetic of a 2-D convolution or pooling node, in TensorFlow's conventions: sizes in
 * logical NHWC order whatever the node's {@code data_format}, filters HWIO ({@code [kh, kw, C/groups,
 * K]}), and SAME padding split with the odd pixel after (bottom/right). A dimension not known while
 * the graph is built is -1, and so are the sizes computed from it.
 *
 * @param nchw whether the node's tensors are laid out NCHW (else NHWC)
 * @param batch N
 * @param inH input height
 * @param inW input width
 * @param inC input channels
 * @param kh window (filter) height
 * @param kw window (filter) width
 * @param outC output channels (K for a convolution, C for pooling)
 * @param groups input channel groups (C / filter's input depth); 1 for pooling
 * @param strideH stride along the height
 * @param strideW stride along the width
 * @param dilH dilation along the height
 * @param dilW dilation along the width
 * @param padTop rows of padding above
 * @param padLeft columns of padding to the left
 * @param outH output height
 * @param outW output width
 */
public record ConvGeometry(boolean nchw, int batch, int inH, int inW, int inC, int kh, int kw, int outC,
    int groups, int strideH, int strideW, int dilH, int dilW, int padTop, int padLeft, int outH, int outW) {

  /** The window's extent along the height once dilated. */
  public int effectiveKh() {
    return (kh - 1) * dilH + 1;
  }

  public int effectiveKw() {
    return (kw - 1) * dilW + 1;
  }

  /** Input channels per group: the filter's input depth. */
  public int groupInC() {
    return inC / groups;
  }

  /** Output channels per group. */
  public int groupOutC() {
    return outC / groups;
  }

  /** Input dims [N,H,W,C] or [N,C,H,W] as the data format lays them out. */
  public int[] inputDims() {
    return layout(nchw, batch, inH, inW, inC);
  }

  /** Output dims [N,H,W,K] or [N,K,H,W] as the data format lays them out. */
  public int[] outputDims() {
    return layout(nchw, batch, outH, outW, outC);
  }

  static int[] layout(boolean nchw, int n, int h, int w, int c) {
    return nchw ? new int[] {n, c, h, w} : new int[] {n, h, w, c};
  }

  /**
   * The geometry of a convolution node of input dims {@code in} and filter dims {@code filter} (both
   * rank 4, -1 for unknown), from its attributes (strides, padding, explicit_paddings, dilations,
   * data_format).
   *
   * @throws IllegalArgumentException naming the attribute or dimension that is wrong (without the
   *     node, which the caller adds)
   */
  public static ConvGeometry convolution(Attrs attrs, int[] in, int[] filter) {
    boolean nchw = nchw(attrs);
    int n = in[0];
    int h = in[nchw ? 2 : 1];
    int w = in[nchw ? 3 : 2];
    int c = in[nchw ? 1 : 3];
    int kh = filter[0];
    int kw = filter[1];
    int fc = filter[2];
    int k = filter[3];
    if (kh == 0 || kw == 0 || fc == 0) {
      throw new IllegalArgumentException("filter dimensions must be > 0, got " + Shape.of(filter));
    }
    int groups = 1;
    if (c >= 0 && fc > 0) {
      if (c % fc != 0) {
        throw new IllegalArgumentException("input depth " + c + " is not a multiple of the filter's input depth "
            + fc + " (filter " + Shape.of(filter) + ", groups = input depth / filter input depth)");
      }
      groups = c / fc;
      if (k >= 0 && k % groups != 0) {
        throw new IllegalArgumentException("filter output depth " + k + " is not a multiple of the " + groups
            + " groups (input depth " + c + " / filter input depth " + fc + ")");
      }
    }
    return spatial(attrs, nchw, n, h, w, c, kh, kw, k, groups, "dilations");
  }

  /** The geometry of a pooling node (ksize, strides, padding, data_format) of input dims {@code in}. */
  public static ConvGeometry pooling(Attrs attrs, int[] in) {
    boolean nchw = nchw(attrs);
    int[] ksize = pair(attrs, "ksize", nchw);
    int c = in[nchw ? 1 : 3];
    return spatial(attrs, nchw, in[0], in[nchw ? 2 : 1], in[nchw ? 3 : 2], c, ksize[0], ksize[1], c, 1, null);
  }

  private static ConvGeometry spatial(Attrs attrs, boolean nchw, int n, int h, int w, int c, int kh, int kw,
      int k, int groups, String dilationAttr) {
    int[] s = pair(attrs, "strides", nchw);
    int[] d = dilationAttr != null && attrs.has(dilationAttr) ? pair(attrs, dilationAttr, nchw) : new int[] {1, 1};
    String padding = attrs.getString("padding");
    int[] pads = explicit(attrs, padding, nchw);
    int[] oh = outSize(h, kh, s[0], d[0], padding, pads[0], pads[1], "height");
    int[] ow = outSize(w, kw, s[1], d[1], padding, pads[2], pads[3], "width");
    return new ConvGeometry(nchw, n, h, w, c, kh, kw, k, groups, s[0], s[1], d[0], d[1], oh[1], ow[1], oh[0], ow[0]);
  }

  /** {output size, padding before} along one spatial axis; -1 for the size when the input's is unknown. */
  private static int[] outSize(int in, int k, int stride, int dilation, String padding, int before, int after,
      String axis) {
    if (k < 0) {
      return new int[] {-1, 0};
    }
    long eff = (long) (k - 1) * dilation + 1;
    if (in < 0) {
      return new int[] {-1, padding.equals("EXPLICIT") ? before : 0};
    }
    return switch (padding) {
      case "SAME" -> {
        long out = (in + stride - 1L) / stride;
        long total = Math.max((out - 1) * stride + eff - in, 0);
        yield new int[] {(int) out, (int) (total / 2)};
      }
      case "VALID" -> {
        if (eff > in) {
          throw new IllegalArgumentException("VALID window of " + axis + " " + k
              + (dilation > 1 ? " (dilated to " + eff + ")" : "") + " is larger than the input's " + axis + " " + in);
        }
        yield new int[] {(int) ((in - eff) / stride + 1), 0};
      }
      default -> {
        long padded = (long) in + before + after;
        if (eff > padded) {
          throw new IllegalArgumentException("window of " + axis + " " + k + " is larger than the padded input's "
              + axis + " " + padded);
        }
        yield new int[] {(int) ((padded - eff) / stride + 1), before};
      }
    };
  }

  /** Whether a node's data_format attribute says NCHW (absent or NHWC: false). */
  public static boolean nchw(Attrs attrs) {
    return attrs.has("data_format") && attrs.getString("data_format").equals("NCHW");
  }

  /**
   * (height, width) of a 2- or 4-entry list attribute; 4 entries are in data_format order, with 1 for
   * the batch and channel entries, as TensorFlow requires.
   */
  static int[] pair(Attrs attrs, String name, boolean nchw) {
    List<Long> v = attrs.getLongs(name);
    long hv;
    long wv;
    if (v.size() == 2) {
      hv = v.get(0);
      wv = v.get(1);
    } else if (v.size() == 4) {
      int n = 0;
      int c = nchw ? 1 : 3;
      if (v.get(n) != 1 || v.get(c) != 1) {
        throw new IllegalArgumentException("attribute '" + name + "' " + v + " must be 1 in the batch and channel"
            + " entries (" + (nchw ? "NCHW" : "NHWC") + " order)");
      }
      hv = v.get(nchw ? 2 : 1);
      wv = v.get(nchw ? 3 : 2);
    } else {
      throw new IllegalArgumentException("attribute '" + name + "' " + v + " must have 2 entries (height, width) or 4 ("
          + (nchw ? "NCHW" : "NHWC") + " order), got " + v.size());
    }
    if (hv < 1 || wv < 1 || hv > Integer.MAX_VALUE || wv > Integer.MAX_VALUE) {
      throw new IllegalArgumentException("attribute '" + name + "' " + v + " must hold sizes >= 1");
    }
    return new int[] {(int) hv, (int) wv};
  }

  /** {top, bottom, left, right} from explicit_paddings (8 entries in data_format order, or 4); zeros otherwise. */
  private static int[] explicit(Attrs attrs, String padding, boolean nchw) {
    List<Long> p = attrs.has("explicit_paddings") ? attrs.getLongs("explicit_paddings") : List.of();
    if (!padding.equals("EXPLICIT")) {
      if (!p.isEmpty()) {
        throw new IllegalArgumentException("explicit_paddings " + p + " given with padding " + padding
            + "; they need padding EXPLICIT");
      }
      return new int[4];
    }
    long[] out = new long[4];
    if (p.size() == 4) {
      for (int i = 0; i < 4; i++) {
        out[i] = p.get(i);
      }
    } else if (p.size() == 8) {
      int hi = nchw ? 2 : 1;
      int wi = nchw ? 3 : 2;
      int ci = nchw ? 1 : 3;
      if (p.get(0) != 0 || p.get(1) != 0 || p.get(2 * ci) != 0 || p.get(2 * ci + 1) != 0) {
        throw new IllegalArgumentException("explicit_paddings " + p + " must be 0 for the batch and channel dimensions");
      }
      out = new long[] {p.get(2 * hi), p.get(2 * hi + 1), p.get(2 * wi), p.get(2 * wi + 1)};
    } else {
      throw new IllegalArgumentException("explicit_paddings " + p + " must have 4 entries (top, bottom, left, right)"
          + " or 8 (a pair per dimension), got " + p.size());
    }
    int[] r = new int[4];
    for (int i = 0; i < 4; i++) {
      if (out[i] < 0 || out[i] > Integer.MAX_VALUE / 2) {
        throw new IllegalArgumentException("explicit_paddings " + p + " must be >= 0");
      }
      r[i] = (int) out[i];
    }
    return r;
  }
}
