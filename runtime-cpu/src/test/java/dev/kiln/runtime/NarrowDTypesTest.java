package dev.kiln.runtime;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import dev.kiln.graph.DType;
import dev.kiln.graph.Graph;
import dev.kiln.graph.HostBuffers;
import dev.kiln.graph.Narrowing;
import dev.kiln.graph.Ops;
import dev.kiln.graph.Output;
import dev.kiln.graph.Shape;
import dev.kiln.graph.Tensor;
import java.math.BigDecimal;
import java.math.BigInteger;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.function.BiFunction;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.junit.jupiter.api.Test;

/**
 * The narrow dtypes through Sessions (optimizer on and off): casts between every pair of dtypes,
 * float16/bfloat16 arithmetic rounded once, integer arithmetic wrapping like two's complement — each
 * against {@link NarrowOracle}, computed without Kiln's conversions.
 */
class NarrowDTypesTest {
  /** Edge values: zeros, ties at each format's precision, range limits, subnormals, infinities, NaN. */
  static final double[] EDGES = {0, -0.0, 1, -1, 0.5, 1.5, 2.5, -2.5, -0.75, 127, 128, -128, -129, 255, 256, 300,
      32767, 32768, -32769, 65504, 65519, 65520, 65536, 1e5, -1e10, 3.3e38, 3.4e38, 1e300,
      Double.POSITIVE_INFINITY, Double.NEGATIVE_INFINITY, Double.NaN, 0x1p-24, 0x1p-25, 0x1.8p-25, 0x1p-14, 0x1p-133,
      0x1p-134, 1e-45, 2049, 2051, 1 + 0x1p-11, 1 + 3 * 0x1p-11, 1 + 0x1p-8, 1 + 3 * 0x1p-8, 1 + 0x1p-11 + 0x1p-40,
      -3.9, 7.99, 1e-300};

  private static List<Tensor> run(boolean optimize, Map<Output, Tensor> feeds, Output... fetches) {
    try (Session s = new Session(fetches[0].graph(), SessionOptions.builder().optimize(optimize).build())) {
      return s.run(feeds, fetches);
    }
  }

  /** The source values {@code from} can hold exactly, as a tensor built without Kiln's rounding. */
  private static Tensor source(DType from) {
    List<Double> v = new ArrayList<>();
    for (double x : EDGES) {
      boolean integral = !Double.isNaN(x) && !Double.isInfinite(x) && x == Math.rint(x);
      boolean keep = switch (from) {
        case FLOAT32 -> Double.isNaN(x) || (double) (float) x == x || Double.isInfinite(x) || Math.abs(x) > 3.5e38;
        case FLOAT64 -> true;
        case FLOAT16, BFLOAT16 -> true;
        case INT32 -> integral && x == (int) x;
        case INT64 -> integral && Math.abs(x) < 0x1p53;
        case INT8 -> integral && x >= -128 && x <= 127;
        case UINT8 -> integral && x >= 0 && x <= 255;
        case INT16 -> integral && x >= -32768 && x <= 32767;
        case BOOL -> x == 0 || x == 1;
      };
      if (keep) {
        v.add(x);
      }
    }
    int n = v.size();
    Object a = HostBuffers.allocate(from, n);
    for (int i = 0; i < n; i++) {
      double x = v.get(i);
      switch (a) {
        case float[] f -> f[i] = from.isNarrow() ? NarrowOracle.nearest(from, x) : (float) x;
        case double[] f -> f[i] = x;
        case int[] f -> f[i] = (int) x;
        case long[] f -> f[i] = (long) x;
        case boolean[] f -> f[i] = x != 0;
        default -> throw new AssertionError();
      }
    }
    return HostBuffers.adopt(from, Shape.of(n), a);
  }

  /** What a cast of exact value {@code v} (of dtype {@code from}) to {@code to} gives. */
  private static double expected(DType from, double v, DType to) {
    return switch (to) {
      case BOOL -> v != 0 ? 1 : 0;
      case FLOAT64 -> v;
      case FLOAT32 -> (float) v;
      case FLOAT16, BFLOAT16 -> NarrowOracle.nearest(to, v);
      case INT32 -> from.isFloating() ? (int) v : (int) (long) v;
      case INT64 -> (long) v;
      case INT8, UINT8, INT16 -> from.isFloating() ? NarrowOracle.truncateAndWrap(to, v)
          : NarrowOracle.wrap(to, BigInteger.valueOf((long) v));
    };
  }

  @ParameterizedTest
  @ValueSource(booleans = {true, false})
  void castBetweenEveryPairOfDTypesMatchesTheOracle(boolean optimize) {
    for (DType from : DType.values()) {
      Tensor x = source(from);
      for (DType to : DType.values()) {
        Graph g = new Graph();
        Ops tf = Ops.create(g);
        Output in = tf.placeholder("x", from, x.shape());
        Tensor got = run(optimize, Map.of(in, x), tf.cast(in, to)).get(0);
        assertEquals(to, got.dtype());
        for (int i = 0; i < x.size(); i++) {
          double want = expected(from, x.getDouble(i), to);
          double have = got.getDouble(i);
          assertEquals(Double.doubleToLongBits(want), Double.doubleToLongBits(have),
              from + " -> " + to + " of " + x.getDouble(i) + ": want " + want + ", got " + have);
        }
      }
    }
  }

  @Test
  void roundingFromFloatAndFromDoubleMatchesTheOracle() {
    Random r = new Random(7);
    List<Double> xs = new ArrayList<>();
    for (double e : EDGES) {
      xs.add(e);
    }
    for (int i = 0; i < 20000; i++) {
      // Values over the whole range of both formats, many of them at or next to a tie.
      double x = Math.scalb(1 + r.nextInt(1 << 12) / 4096.0, r.nextInt(300) - 150) * (r.nextBoolean() ? 1 : -1);
      xs.add(i % 3 == 0 ? Math.nextUp(x) : i % 3 == 1 ? Math.nextDown(x) : x);
    }
    for (double x : xs) {
      for (DType d : new DType[] {DType.FLOAT16, DType.BFLOAT16}) {
        float want = NarrowOracle.nearest(d, x);
        assertEquals(Float.floatToIntBits(want), Float.floatToIntBits(Narrowing.toFloat(d, x)), d + " of double " + x);
        float f = (float) x;
        float wantF = NarrowOracle.nearest(d, f);
        float gotF = d == DType.FLOAT16 ? Narrowing.toFloat16(f) : Narrowing.toBfloat16(f);
        assertEquals(Float.floatToIntBits(wantF), Float.floatToIntBits(gotF), d + " of float " + f);
      }
    }
  }

  /** Every pair of values of an 8-bit type as two tensors of 65536 elements. */
  private static Tensor[] allPairs(DType d) {
    int lo = d == DType.UINT8 ? 0 : -128;
    int[] a = new int[65536];
    int[] b = new int[65536];
    for (int i = 0; i < 65536; i++) {
      a[i] = lo + (i >> 8);
      b[i] = lo + (i & 0xFF);
    }
    return new Tensor[] {Tensor.ofNarrowInts(d, a, 65536), Tensor.ofNarrowInts(d, b, 65536)};
  }

  private static void checkBinary(boolean optimize, DType d, Tensor a, Tensor b, BiFunction<Ops, Output[], Output> op,
      BiFunction<BigInteger, BigInteger, BigInteger> exact, String what) {
    Graph g = new Graph();
    Ops tf = Ops.create(g);
    Output x = tf.placeholder("x", d, a.shape());
    Output y = tf.placeholder("y", d, b.shape());
    Tensor got = run(optimize, Map.of(x, a, y, b), op.apply(tf, new Output[] {x, y})).get(0);
    assertEquals(d, got.dtype());
    int[] av = a.toIntArray();
    int[] bv = b.toIntArray();
    int[] gv = got.toIntArray();
    for (int i = 0; i < av.length; i++) {
      int want = NarrowOracle.wrap(d, exact.apply(BigInteger.valueOf(av[i]), BigInteger.valueOf(bv[i])));
      assertEquals(want, gv[i], d + " " + av[i] + " " + what + " " + bv[i]);
    }
  }

  @ParameterizedTest
  @ValueSource(booleans = {true, false})
  void eightBitArithmeticWrapsOnEveryPair(boolean optimize) {
    for (DType d : new DType[] {DType.INT8, DType.UINT8}) {
      Tensor[] p = allPairs(d);
      checkBinary(optimize, d, p[0], p[1], (tf, v) -> tf.add(v[0], v[1]), BigInteger::add, "+");
      checkBinary(optimize, d, p[0], p[1], (tf, v) -> tf.sub(v[0], v[1]), BigInteger::subtract, "-");
      checkBinary(optimize, d, p[0], p[1], (tf, v) -> tf.mul(v[0], v[1]), BigInteger::multiply, "*");
      checkBinary(optimize, d, p[0], p[1], (tf, v) -> tf.maximum(v[0], v[1]), BigInteger::max, "max");
    }
  }

  @Test
  void integerDivisionTruncatesAndWraps() {
    for (DType d : new DType[] {DType.INT8, DType.UINT8, DType.INT16}) {
      Tensor[] p = d == DType.INT16
          ? new Tensor[] {Tensor.ofInt16(new short[] {-32768, -32768, 7, -7, 7, -7, 32767}, 7),
              Tensor.ofInt16(new short[] {-1, 3, 2, 2, -2, -2, -32768}, 7)}
          : allPairs(d);
      int[] bs = p[1].toIntArray();
      int[] keep = java.util.stream.IntStream.range(0, bs.length).filter(i -> bs[i] != 0).toArray();
      Tensor a = Tensor.ofNarrowInts(d, java.util.Arrays.stream(keep).map(i -> p[0].toIntArray()[i]).toArray(), keep.length);
      Tensor b = Tensor.ofNarrowInts(d, java.util.Arrays.stream(keep).map(i -> bs[i]).toArray(), keep.length);
      // ONNX Div on integers truncates toward zero (-128 / -1 wraps to -128).
      checkBinary(false, d, a, b, (tf, v) -> tf.div(v[0], v[1]), BigInteger::divide, "/");
    }
  }

  @Test
  void int16ArithmeticWraps() {
    Tensor a = Tensor.ofInt16(new short[] {32767, -32768, 300, -300, 181, 0}, 6);
    Tensor b = Tensor.ofInt16(new short[] {1, -1, 300, 300, 182, -32768}, 6);
    checkBinary(true, DType.INT16, a, b, (tf, v) -> tf.add(v[0], v[1]), BigInteger::add, "+");
    checkBinary(true, DType.INT16, a, b, (tf, v) -> tf.mul(v[0], v[1]), BigInteger::multiply, "*");
    checkBinary(false, DType.INT16, a, b, (tf, v) -> tf.sub(tf.neg(v[0]), v[1]), (x, y) -> x.negate().subtract(y), "-x-");
  }

  @ParameterizedTest
  @ValueSource(booleans = {true, false})
  void sixteenBitFloatArithmeticIsRoundedOnceOnStore(boolean optimize) {
    Random r = new Random(11);
    for (DType d : new DType[] {DType.FLOAT16, DType.BFLOAT16}) {
      int n = 4000;
      float[] av = new float[n];
      float[] bv = new float[n];
      for (int i = 0; i < n; i++) {
        av[i] = NarrowOracle.nearest(d, Math.scalb(r.nextDouble() * 2 - 1, r.nextInt(14) - 8));
        bv[i] = NarrowOracle.nearest(d, Math.scalb(r.nextDouble() * 2 - 1, r.nextInt(14) - 8));
      }
      av[0] = 2048;
      bv[0] = 1; // 2049 ties between float16's 2048 and 2050: even is 2048
      av[1] = 2048;
      bv[1] = 3; // 2051 ties between 2050 and 2052: even is 2052
      Tensor a = HostBuffers.adopt(d, Shape.of(n), av);
      Tensor b = HostBuffers.adopt(d, Shape.of(n), bv);
      Graph g = new Graph();
      Ops tf = Ops.create(g);
      Output x = tf.placeholder("x", d, a.shape());
      Output y = tf.placeholder("y", d, b.shape());
      List<Tensor> got = run(optimize, Map.of(x, a, y, b), tf.add(x, y), tf.mul(x, y), tf.sub(tf.mul(x, x), y));
      for (int i = 0; i < n; i++) {
        BigDecimal p = new BigDecimal(av[i]);
        BigDecimal q = new BigDecimal(bv[i]);
        float sq = NarrowOracle.nearest(d, p.multiply(p).doubleValue());
        float[] want = {NarrowOracle.nearest(d, p.add(q).doubleValue()), NarrowOracle.nearest(d, p.multiply(q).doubleValue()),
            Float.isInfinite(sq) ? sq : NarrowOracle.nearest(d, new BigDecimal(sq).subtract(q).doubleValue())};
        for (int k = 0; k < 3; k++) {
          assertEquals(Float.floatToIntBits(want[k]), Float.floatToIntBits(got.get(k).toFloatArray()[i]),
              d + " op " + k + " of " + av[i] + ", " + bv[i]);
        }
      }
      if (d == DType.FLOAT16) {
        assertEquals(2048f, got.get(0).toFloatArray()[0]);
        assertEquals(2052f, got.get(0).toFloatArray()[1]);
      }
    }
  }

  @ParameterizedTest
  @ValueSource(booleans = {true, false})
  void constantsFoldAndReductionsWrap(boolean optimize) {
    Graph g = new Graph();
    Ops tf = Ops.create(g);
    Output c = tf.constant(Tensor.ofInt8(new byte[] {100, 100, 100, -7}, 4));
    Output sum = tf.reduceSum(tf.add(c, c));
    Output h = tf.constant(Tensor.ofFloat16(new float[] {65504, 1}, 2));
    Output twice = tf.add(h, h);
    List<Tensor> got = run(optimize, Map.of(), sum, twice);
    assertEquals(DType.INT8, got.get(0).dtype());
    assertEquals(NarrowOracle.wrap(DType.INT8, BigInteger.valueOf(2 * (300 - 7))), got.get(0).toIntArray()[0]);
    assertEquals(Tensor.ofFloat16(new float[] {Float.POSITIVE_INFINITY, 2}, 2), got.get(1));
  }

  @Test
  void aNodeWithABodyOnNarrowDTypesIsRefusedNamingNodeAndDTypes() {
    Graph g = new Graph();
    Ops tf = Ops.create(g);
    Output x = tf.placeholder("x", DType.FLOAT16, Shape.of(3));
    dev.kiln.graph.Operation fused = dev.kiln.graph.Elementwise.asFused(tf.withName("e").exp(x).op());
    dev.kiln.graph.TensorType t = x.type();
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> dev.kiln.runtime.kernels.Kernels.create(
        new dev.kiln.runtime.kernels.KernelSpec(fused, List.of(t), List.of(t), new int[] {0}, new int[] {1})));
    assertEquals("Fused node 'e' on f16: a node with a body cannot compute on narrow dtypes; cast its inputs to f32 or"
        + " i32 first", e.getMessage());
  }

  @Test
  void anOpWithoutNarrowSupportFailsNamingNodeAndDType() {
    Graph g = new Graph();
    Ops tf = Ops.create(g);
    Output x = tf.placeholder("img", DType.UINT8, Shape.of(1, 4, 4, 1));
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
        () -> tf.maxPool(x, new int[] {1, 2, 2, 1}, new int[] {1, 2, 2, 1}, "VALID"));
    assertEquals("MaxPool 'MaxPool': input 0 must be float (f32, f64, f16, bf16), got u8", e.getMessage());
  }
}
