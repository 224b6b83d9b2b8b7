package dev.kiln.onnx;

import dev.kiln.graph.DType;
import dev.kiln.graph.Ops;
import dev.kiln.graph.Output;
import java.util.Map;

/**
 * ONNX's operators on the narrow integer types, composed of Kiln ops: the linear quantization
 * (QuantizeLinear: round half to even, add the zero point, saturate; DequantizeLinear;
 * DynamicQuantizeLinear; MatMulInteger and QLinearMatMul: int32 products of zero-point-shifted
 * operands) and BitShift. Scales and zero points are per tensor, or per channel along {@code axis}
 * when 1-D.
 */
final class QuantMappers {
  private QuantMappers() {}

  static void register(Map<String, Mapper> m) {
    m.put("QuantizeLinear", QuantMappers::quantize);
    m.put("DequantizeLinear", QuantMappers::dequantize);
    m.put("DynamicQuantizeLinear", QuantMappers::dynamicQuantize);
    m.put("MatMulInteger", n -> n.out(integerMatMul(n, 0, 1, 2, 3)));
    m.put("QLinearMatMul", QuantMappers::qlinearMatMul);
    m.put("BitShift", QuantMappers::bitShift);
  }

  /**
   * BitShift on uint8 (the only unsigned type Kiln has): x * 2^y or x / 2^y in int32, with y capped at
   * 8, past which both directions give 0, then wrapped back to uint8.
   */
  private static void bitShift(Node n) {
    Ops o = n.ops;
    Output x = n.in(0);
    if (x.dtype() != DType.UINT8) {
      throw n.unsupported("BitShift of " + x.dtype().shortName() + " (ONNX's unsigned types; Kiln has uint8)");
    }
    String dir = n.attrString("direction", "");
    Output y = o.minimum(o.cast(n.in(1), DType.INT32), o.constant(8, DType.INT32));
    Output p = o.pow(o.constant(2, DType.INT32), y);
    Output xi = o.cast(x, DType.INT32);
    Output r = switch (dir) {
      case "LEFT" -> o.mul(xi, p);
      case "RIGHT" -> o.div(xi, p);
      default -> throw n.error("attribute 'direction' must be LEFT or RIGHT, got '" + dir + "'");
    };
    n.out(o.cast(r, DType.UINT8));
  }

  /** y = saturate(round(x / scale) + zero_point), in the zero point's type (uint8 without one). */
  private static void quantize(Node n) {
    Ops o = n.ops;
    Output x = f32(o, n.in(0));
    DType to = n.has(2) ? n.in(2).dtype() : DType.UINT8;
    requireQuantized(n, to, "y_zero_point");
    Output scale = perAxis(n, n.in(1), x);
    Output q = o.round(o.div(x, scale));
    if (n.has(2)) {
      q = o.add(q, perAxis(n, f32(o, n.in(2)), x));
    }
    n.out(saturate(o, q, to));
  }

  /** y = (x - zero_point) * scale, in float32. */
  private static void dequantize(Node n) {
    Ops o = n.ops;
    Output x = f32(o, n.in(0));
    if (n.has(2)) {
      x = o.sub(x, perAxis(n, f32(o, n.in(2)), x));
    }
    n.out(o.mul(x, perAxis(n, n.in(1), x)));
  }

  /**
   * uint8 quantization of x over the range [min(0, min x), max(0, max x)]: the scale maps it onto
   * 0..255 and the zero point is where 0 lands, rounded and saturated.
   */
  private static void dynamicQuantize(Node n) {
    Ops o = n.ops;
    Output x = n.in(0);
    if (x.dtype() != DType.FLOAT32) {
      throw n.error("input must be float, got " + x.dtype().shortName());
    }
    int[] all = new int[n.rank(x)];
    for (int i = 0; i < all.length; i++) {
      all[i] = i;
    }
    Output zero = o.constant(0f);
    Output lo = o.minimum(zero, o.reduceMin(x, all, false));
    Output hi = o.maximum(zero, o.reduceMax(x, all, false));
    Output scale = o.div(o.sub(hi, lo), o.constant(255f));
    Output zp = saturate(o, o.round(o.sub(zero, o.div(lo, scale))), DType.UINT8);
    Output y = saturate(o, o.add(o.round(o.div(x, scale)), f32(o, zp)), DType.UINT8);
    n.out(0, y);
    n.out(1, scale);
    n.out(2, zp);
  }

  /**
   * (a - a_zero_point) @ (b - b_zero_point) in int32, from inputs {@code ia}, {@code ib} and the zero
   * points {@code iza}, {@code izb} (absent past the node's inputs); a's zero point is per row, b's per
   * column.
   */
  private static Output integerMatMul(Node n, int ia, int ib, int iza, int izb) {
    Ops o = n.ops;
    Output a = o.cast(n.in(ia), DType.INT32);
    Output b = o.cast(n.in(ib), DType.INT32);
    if (n.has(iza)) {
      Output za = o.cast(n.in(iza), DType.INT32);
      // A 1-D zero point of a holds one value per row: it broadcasts down the last axis.
      a = o.sub(a, za.shape().rank() == 1 ? o.expandDims(za, 1) : za);
    }
    if (n.has(izb)) {
      b = o.sub(b, o.cast(n.in(izb), DType.INT32));
    }
    return NnMappers.matmul(o, a, b);
  }

  /**
   * The exact int32 product of the zero-point-shifted operands, rescaled by a_scale * b_scale / y_scale,
   * rounded half to even, shifted by y's zero point and saturated to y's type.
   */
  private static void qlinearMatMul(Node n) {
    Ops o = n.ops;
    DType to = n.in(7).dtype();
    requireQuantized(n, to, "y_zero_point");
    Output ab = o.cast(integerMatMul(n, 0, 3, 2, 5), DType.FLOAT32);
    Output rescale = o.div(o.mul(f32(o, n.in(1)), f32(o, n.in(4))), f32(o, n.in(6)));
    Output q = o.add(o.round(o.mul(ab, rescale)), f32(o, n.in(7)));
    n.out(saturate(o, q, to));
  }


  private static void requireQuantized(Node n, DType d, String what) {
    if (d != DType.UINT8 && d != DType.INT8) {
      throw n.unsupported(what + " of type " + d.shortName() + " (quantization supports uint8 and int8)");
    }
  }

  private static Output f32(Ops o, Output x) {
    return x.dtype() == DType.FLOAT32 ? x : o.cast(x, DType.FLOAT32);
  }

  /** Clamped to {@code to}'s range (x is integral already), then cast. */
  private static Output saturate(Ops o, Output x, DType to) {
    return o.cast(to == DType.UINT8 ? o.clip(x, 0, 255) : o.clip(x, -128, 127), to);
  }

  /** A scale or zero point for x: as it is when a scalar, else its C values laid along attribute {@code axis}. */
  private static Output perAxis(Node n, Output v, Output x) {
    if (v.shape().rank() == 0 || (v.shape().rank() == 1 && v.shape().dim(0) == 1 && n.rank(x) == 0)) {
      return v;
    }
    if (v.shape().rank() != 1) {
      throw n.unsupported("needs a scalar or 1-D scale and zero point, got " + v.shape());
    }
    int r = n.rank(x);
    int axis = n.axis(n.attrInt("axis", 1), r);
    int[] dims = new int[r];
    java.util.Arrays.fill(dims, 1);
    dims[axis] = -1;
    return n.ops.reshape(v, dims);
  }
}
