package dev.kiln.onnx;

import dev.kiln.graph.Ops;
import dev.kiln.graph.Output;
import dev.kiln.graph.Shape;
import dev.kiln.graph.Tensor;
import java.util.Arrays;

/**
 * Resize (and the older Upsample) on a static input shape, one axis at a time: each output position reads
 * n neighbours (1 for nearest, 2 for linear, 4 for cubic) at constant, edge-clamped indices, weighted by
 * constant coefficients, as ONNX's reference implementation computes them.
 */
final class ResizeMapper {
  private ResizeMapper() {}

  record Mode(String mode, String coordinates, String nearest, double cubicA, boolean excludeOutside,
      double extrapolation) {}

  static void resize(Node n) {
    Output x = n.in(0);
    Shape s = x.shape();
    if (!s.isFullyDefined()) {
      throw n.unsupported("needs a static input shape, got " + s);
    }
    int r = s.rank();
    double[] scales = new double[r];
    int[] sizes = new int[r];
    double[] roi = null;
    if (n.opset < 11) {
      scales = Arrays.stream(n.requireConst(1, "scales").toDoubleArray()).toArray();
    } else {
      if (n.has(1) && n.constIn(1).map(t -> t.size() > 0).orElse(true)) {
        roi = n.requireConst(1, "roi").toDoubleArray();
      }
      Tensor sc = n.has(2) ? n.requireConst(2, "scales") : null;
      if (sc != null && sc.size() > 0) {
        scales = sc.toDoubleArray();
      } else {
        long[] sz = n.constLongs(3, "sizes");
        if (n.hasAttr("axes") || n.attrString("keep_aspect_ratio_policy", "stretch").equals("stretch") == false) {
          throw n.unsupported("axes and keep_aspect_ratio_policy are not supported");
        }
        for (int i = 0; i < r; i++) {
          sizes[i] = Math.toIntExact(sz[i]);
          scales[i] = (double) sizes[i] / s.dim(i);
        }
      }
    }
    if (scales.length != r) {
      throw n.error("scales has " + scales.length + " entries for rank " + r);
    }
    for (int i = 0; i < r; i++) {
      if (sizes[i] == 0 && s.dim(i) > 0) {
        sizes[i] = (int) Math.floor(s.dim(i) * scales[i]);
      }
    }
    if (n.attrInt("antialias", 0) != 0) {
      throw n.unsupported("antialias is not supported");
    }
    String dflt = n.opset < 11 ? "asymmetric" : "half_pixel";
    Mode m = new Mode(n.attrString("mode", "nearest"), n.attrString("coordinate_transformation_mode", dflt),
        n.attrString("nearest_mode", n.opset < 11 ? "floor" : "round_prefer_floor"), n.attrFloat("cubic_coeff_a", -0.75f),
        n.attrInt("exclude_outside", 0) != 0, n.attrFloat("extrapolation_value", 0f));
    n.out(apply(n, x, scales, sizes, roi, m));
  }

  static void upsample(Node n) {
    Output x = n.in(0);
    Shape s = x.shape();
    if (!s.isFullyDefined()) {
      throw n.unsupported("needs a static input shape, got " + s);
    }
    double[] scales = n.opset < 9
        ? toDoubles(n.attrFloats("scales").orElseThrow(() -> n.error("attribute 'scales' is missing")))
        : n.requireConst(1, "scales").toDoubleArray();
    int[] sizes = new int[s.rank()];
    for (int i = 0; i < sizes.length; i++) {
      sizes[i] = (int) Math.floor(s.dim(i) * scales[i]);
    }
    String mode = n.attrString("mode", "nearest");
    Mode m = new Mode(mode.equals("bilinear") ? "linear" : mode, "half_pixel", "round_prefer_floor", -0.75, false, 0);
    n.out(apply(n, x, scales, sizes, null, m));
  }

  private static double[] toDoubles(float[] f) {
    double[] d = new double[f.length];
    for (int i = 0; i < f.length; i++) {
      d[i] = f[i];
    }
    return d;
  }

  private static Output apply(Node n, Output x, double[] scales, int[] sizes, double[] roi, Mode m) {
    Ops o = n.ops;
    Shape s = x.shape();
    int r = s.rank();
    Output y = x;
    for (int a = 0; a < r; a++) {
      int in = s.dim(a);
      int out = sizes[a];
      if (in == out && scales[a] == 1.0 && !m.coordinates.equals("tf_crop_and_resize")) {
        continue;
      }
      int taps = switch (m.mode) {
        case "nearest" -> 1;
        case "linear" -> 2;
        case "cubic" -> 4;
        default -> throw n.unsupported("mode '" + m.mode + "' is not supported");
      };
      int[][] idx = new int[taps][out];
      double[][] w = new double[taps][out];
      boolean[] outside = new boolean[out];
      for (int i = 0; i < out; i++) {
        double xo = original(n, m.coordinates, i, scales[a], in, roi == null ? 0 : roi[a], roi == null ? 1 : roi[a + r]);
        if (m.coordinates.equals("tf_crop_and_resize") && (xo < 0 || xo > in - 1)) {
          outside[i] = true;
        }
        int lo = (int) Math.ceil(xo) - 1;
        double ratio = xo - lo;
        double[] c;
        int first;
        switch (m.mode) {
          case "nearest" -> {
            boolean up = switch (m.nearest) {
              case "round_prefer_floor" -> ratio > 0.5;
              case "round_prefer_ceil" -> ratio >= 0.5;
              case "floor" -> ratio == 1;
              case "ceil" -> true;
              default -> throw n.unsupported("nearest_mode '" + m.nearest + "' is not supported");
            };
            c = new double[] {1};
            first = up ? lo + 1 : lo;
          }
          case "linear" -> {
            c = new double[] {1 - ratio, ratio};
            first = lo;
          }
          default -> {
            double aa = m.cubicA;
            double t = ratio;
            double u = 1 - ratio;
            c = new double[] {((aa * (t + 1) - 5 * aa) * (t + 1) + 8 * aa) * (t + 1) - 4 * aa,
                ((aa + 2) * t - (aa + 3)) * t * t + 1,
                ((aa + 2) * u - (aa + 3)) * u * u + 1,
                ((aa * (u + 1) - 5 * aa) * (u + 1) + 8 * aa) * (u + 1) - 4 * aa};
            first = lo - 1;
          }
        }
        if (m.excludeOutside) {
          double sum = 0;
          for (int k = 0; k < taps; k++) {
            int j = first + k;
            if (j < 0 || j >= in) {
              c[k] = 0;
            }
            sum += c[k];
          }
          for (int k = 0; k < taps; k++) {
            c[k] /= sum;
          }
        }
        for (int k = 0; k < taps; k++) {
          idx[k][i] = Math.max(0, Math.min(in - 1, first + k));
          w[k][i] = c[k];
        }
      }
      int[] wshape = new int[r];
      Arrays.fill(wshape, 1);
      wshape[a] = out;
      Output sum = null;
      for (int k = 0; k < taps; k++) {
        Output g = o.gather(y, o.constant(Tensor.of(idx[k], out)), a);
        if (taps > 1) {
          g = o.mul(g, o.cast(o.constant(Tensor.of(w[k], wshape)), x.dtype()));
        }
        sum = sum == null ? g : o.add(sum, g);
      }
      y = sum;
      boolean anyOutside = false;
      for (boolean b : outside) {
        anyOutside |= b;
      }
      if (anyOutside) {
        boolean[] keep = new boolean[out];
        for (int i = 0; i < out; i++) {
          keep[i] = !outside[i];
        }
        y = o.select(o.constant(Tensor.of(keep, wshape)), y, o.constant(m.extrapolation, x.dtype()));
      }
    }
    return y == x ? o.identity(x) : y;
  }

  /** The input coordinate that output position i maps to. */
  private static double original(Node n, String mode, int i, double scale, int in, double roiStart, double roiEnd) {
    double outWidth = scale * in;
    return switch (mode) {
      case "half_pixel" -> (i + 0.5) / scale - 0.5;
      case "pytorch_half_pixel" -> outWidth == 1 ? -0.5 : (i + 0.5) / scale - 0.5;
      case "align_corners" -> outWidth == 1 ? 0 : i * (in - 1) / (outWidth - 1);
      case "asymmetric" -> i / scale;
      case "tf_half_pixel_for_nn" -> (i + 0.5) / scale;
      case "tf_crop_and_resize" -> outWidth == 1 ? (roiEnd - roiStart) * (in - 1) / 2
          : roiStart * (in - 1) + i * (roiEnd - roiStart) * (in - 1) / (outWidth - 1);
      default -> throw n.unsupported("coordinate_transformation_mode '" + mode + "' is not supported");
    };
  }
}
