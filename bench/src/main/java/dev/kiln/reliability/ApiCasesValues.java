package dev.kiln.reliability;

import dev.kiln.graph.DType;
import dev.kiln.graph.Output;
import dev.kiln.graph.Shape;
import dev.kiln.graph.Tensor;
import java.util.List;
import java.util.Map;

/** Bad Tensor, Shape and DType calls, and shapes whose element count overflows. */
final class ApiCasesValues {
  private static final int K64 = 1 << 16;

  private ApiCasesValues() {}

  static List<ApiCase> all() {
    CaseList c = new CaseList();
    tensors(c);
    shapes(c);
    huge(c);
    return c.list();
  }

  private static void tensors(CaseList c) {
    c.group("tensor");
    Tensor t3 = Tensor.of(new float[] {1, 2, 3}, 3);
    c.one("getDouble(3) of 3 elements", f -> () -> t3.getDouble(3), "3", "index", "bounds", "range");
    c.one("getDouble(-1)", f -> () -> t3.getDouble(-1), "-1", "index", "bounds", "range");
    c.one("getDouble(Integer.MAX_VALUE)", f -> () -> t3.getDouble(Integer.MAX_VALUE), "2147483647", "index");
    c.one("toIntArray() of f32", f -> () -> t3.toIntArray(), "f32", "FLOAT32", "i32", "INT32");
    c.one("toFloatArray() of i32", f -> () -> Tensor.of(new int[] {1}, 1).toFloatArray(), "i32", "INT32", "f32");
    c.one("toBooleanArray() of f32", f -> () -> t3.toBooleanArray(), "bool", "f32", "FLOAT32");
    c.one("floatValue() of [3]", f -> () -> t3.floatValue(), "[3]", "single", "scalar");
    c.one("intValue() of [3]", f -> () -> t3.intValue(), "[3]", "single", "scalar");
    c.one("longValue() of [3]", f -> () -> t3.longValue(), "[3]", "single", "scalar");
    c.one("booleanValue() of f32 scalar", f -> () -> Tensor.scalar(1f).booleanValue(), "bool", "f32");
    c.one("toDoubleArray() of bool", f -> () -> Tensor.of(new boolean[] {true}, 1).toDoubleArray(), "bool", "numeric");
    c.one("Tensor.of((float[]) null, 2)", f -> () -> Tensor.of((float[]) null, 2), "null", "data", "values", "array");
    c.one("Tensor.of((int[]) null)", f -> () -> Tensor.of((int[]) null), "null", "data", "values", "array");
    c.one("Tensor.of(float[5], 2, 3)", f -> () -> Tensor.of(new float[5], 2, 3), "5", "[2,3]");
    c.one("Tensor.of(float[6], 2, -3)", f -> () -> Tensor.of(new float[6], 2, -3), "-3", "dimension");
    c.one("Tensor.of(float[6], 2, -1)", f -> () -> Tensor.of(new float[6], 2, -1), "[2,?]", "defined", "-1");
    c.one("Tensor.of(float[1], (int[]) null)", f -> () -> Tensor.of(new float[1], (int[]) null), "null", "shape", "dims");
    c.one("Tensor.zeros(f32, unknown shape)", f -> () -> Tensor.zeros(DType.FLOAT32, Shape.unknown()), "[*]", "defined", "shape");
    c.one("Tensor.zeros(null, [2])", f -> () -> Tensor.zeros(null, Shape.of(2)), "null", "dtype");
    c.one("Tensor.zeros(f32, null)", f -> () -> Tensor.zeros(DType.FLOAT32, null), "null", "shape");
  }

  private static void shapes(CaseList c) {
    c.group("shape/dtype");
    c.one("Shape.of(2, -5)", f -> () -> Shape.of(2, -5), "-5", "dimension");
    c.one("Shape.of((int[]) null)", f -> () -> Shape.of((int[]) null), "null", "dims", "shape");
    c.one("Shape.unknownDims(-1)", f -> () -> Shape.unknownDims(-1), "-1", "rank");
    c.one("[2,3].dim(2)", f -> () -> Shape.of(2, 3).dim(2), "2", "[2,3]");
    c.one("[2,3].dim(-3)", f -> () -> Shape.of(2, 3).dim(-3), "-3", "[2,3]");
    c.one("unknown().dims()", f -> () -> Shape.unknown().dims(), "unknown", "rank");
    c.one("[2,3].withDim(5, 1)", f -> () -> Shape.of(2, 3).withDim(5, 1), "5", "[2,3]", "dimension");
    c.one("[2,3].mergeWith([3,2])", f -> () -> Shape.of(2, 3).mergeWith(Shape.of(3, 2)), "[2,3]", "[3,2]");
    c.one("[2,3].mergeWith(null)", f -> () -> Shape.of(2, 3).mergeWith(null), "null", "shape");
    c.one("DType.fromName('f16')", f -> () -> DType.fromName("f16"), "f16");
    c.one("DType.fromName(null)", f -> () -> DType.fromName(null), "null", "dtype");
  }

  /** Element counts that do not fit a tensor: an error naming the op or shape, never a wrapped count. */
  private static void huge(CaseList c) {
    c.group("huge shapes");
    c.one("Tensor.of(new float[0], 65536,65536,65536,65536)",
        f -> () -> Tensor.of(new float[0], K64, K64, K64, K64), "65536", "elements", "too");
    c.one("Tensor.zeros(f32, [2^21,2^21,2^21])",
        f -> () -> Tensor.zeros(DType.FLOAT32, Shape.of(1 << 21, 1 << 21, 1 << 21)), "2097152", "elements", "too");
    c.one("Tensor.zeros(f32, [65536,65536])", f -> () -> Tensor.zeros(DType.FLOAT32, Shape.of(K64, K64)), "65536", "elements");
    c.one("Tensor.zeros(i32, [2^31-1, 2])",
        f -> () -> Tensor.zeros(DType.INT32, Shape.of(Integer.MAX_VALUE, 2)), "2147483647", "elements");
    c.custom("Shape [65536 x4].numElements() must not wrap", true,
        f -> () -> Shape.of(K64, K64, K64, K64).numElements(),
        (result, thrown, rel) -> thrown != null ? Classify.apiException(thrown, rel)
            : (Long) result >= (1L << 40) ? Verdict.handled("numElements() = " + result + " (saturated)")
            : Verdict.failed("element count wraps around", "numElements() = " + result + " (2^64 elements)"),
        "65536", "elements");
    c.steps("reduceSum(fill([65536 x4], 1f)): build then run",
        f -> () -> {
          Output s = f.tf.reduceSum(f.tf.fill(Shape.of(K64, K64, K64, K64), f.tf.constant(1f)));
          return f.s.run(Map.of(), s);
        }, "Fill", "65536", "elements");
    c.steps("fill([50000,50000], 1f): build then run",
        f -> () -> f.s.run(Map.of(), f.tf.fill(Shape.of(50000, 50000), f.tf.constant(1f))), "Fill", "50000", "elements");
    c.steps("randomNormal([65536,65536]): build then run",
        f -> () -> f.s.run(Map.of(), f.tf.randomNormal(Shape.of(K64, K64), 7)), "RandomNormal", "65536", "elements");
    c.steps("randomUniform([2^21,2^21,2^21]): build then run",
        f -> () -> f.s.run(Map.of(), f.tf.randomUniform(Shape.of(1 << 21, 1 << 21, 1 << 21), 7)), "RandomUniform", "2097152", "elements");
    c.one("placeholder of shape [65536 x4]",
        f -> () -> f.tf.placeholder("p_huge", DType.FLOAT32, Shape.of(K64, K64, K64, K64)), "p_huge", "65536", "elements");
    c.steps("matmul(f32[65536,8], f32[8,65536]): build then run with feeds",
        f -> () -> {
          Output a = f.tf.placeholder("mm_a", DType.FLOAT32, Shape.of(K64, 8));
          Output b = f.tf.placeholder("mm_b", DType.FLOAT32, Shape.of(8, K64));
          Output p = f.tf.matmul(a, b);
          Tensor z = Tensor.zeros(DType.FLOAT32, Shape.of(K64, 8));
          return f.s.run(Map.of(a, z, b, Tensor.zeros(DType.FLOAT32, Shape.of(8, K64))), p);
        }, "MatMul", "65536", "elements");
    c.steps("oneHot(i32[65536], depth 65536): build then run",
        f -> () -> {
          Output i = f.tf.placeholder("oh_i", DType.INT32, Shape.of(K64));
          return f.s.run(Map.of(i, Tensor.zeros(DType.INT32, Shape.of(K64))), f.tf.oneHot(i, K64));
        }, "OneHot", "65536", "elements");
    c.one("pad(f32[2,3], 0,0,0,Integer.MAX_VALUE)",
        f -> { Output k = f.f32(2, 3); return () -> f.tf.pad(k, 0, 0, 0, Integer.MAX_VALUE); }, "Pad", "paddings");
    c.steps("reshape(fill([65536 x3], 0f), -1): 2^48 elements",
        f -> () -> f.tf.reshape(f.tf.fill(Shape.of(K64, K64, K64), f.tf.constant(0f)), -1),
        "Fill", "Reshape", "65536", "elements");
  }
}
