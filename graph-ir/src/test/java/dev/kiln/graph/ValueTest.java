package dev.kiln.graph;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** Shape, DType, TensorType, Tensor and Attrs are values. */
class ValueTest {
  @Test
  void shapesAreEqualWhenTheirDimensionsAre() {
    assertEquals(Shape.of(-1, 100), Shape.of(-1, 100));
    assertEquals(Shape.of(-1, 100).hashCode(), Shape.of(-1, 100).hashCode());
    assertNotEquals(Shape.of(-1, 100), Shape.of(100, 100));
    assertNotEquals(Shape.of(1), Shape.scalar());
    assertEquals(Shape.scalar(), Shape.of());
    assertNotEquals(Shape.unknown(), Shape.unknownDims(0));
    assertNotEquals(Shape.unknown(), Shape.scalar());
    assertEquals(Shape.unknownDims(2), Shape.of(-1, -1));
    assertEquals("[?,1000]", Shape.of(-1, 1000).toString());
    assertEquals("[64,1000]", Shape.of(64, 1000).toString());
    assertEquals("[]", Shape.scalar().toString());
    assertEquals("[*]", Shape.unknown().toString());
  }

  @Test
  void shapeAccessors() {
    Shape s = Shape.of(2, -1, 4);
    assertEquals(3, s.rank());
    assertEquals(-1, Shape.unknown().rank());
    assertEquals(2, s.dim(0));
    assertEquals(-1, s.dim(1));
    assertEquals(4, s.dim(-1));
    assertEquals(2, s.dim(-3));
    assertTrue(s.hasKnownRank());
    assertFalse(Shape.unknown().hasKnownRank());
    IndexOutOfBoundsException oob = assertThrows(IndexOutOfBoundsException.class, () -> s.dim(3));
    assertEquals("dimension 3 out of range for shape [2,?,4]", oob.getMessage());
    oob = assertThrows(IndexOutOfBoundsException.class, () -> s.dim(-4));
    assertEquals("dimension -4 out of range for shape [2,?,4]", oob.getMessage());
    IllegalStateException e = assertThrows(IllegalStateException.class, () -> Shape.unknown().dim(0));
    assertEquals("shape of unknown rank has no dimension 0", e.getMessage());
    e = assertThrows(IllegalStateException.class, () -> Shape.unknown().dims());
    assertEquals("shape of unknown rank has no dimensions", e.getMessage());
    int[] d = s.dims();
    d[0] = 99;
    assertEquals(2, s.dim(0));
    int[] src = {3, 4};
    Shape fromArray = Shape.of(src);
    src[0] = 7;
    assertEquals(Shape.of(3, 4), fromArray);
    assertFalse(s.isFullyDefined());
    assertTrue(Shape.of(2, 3).isFullyDefined());
    assertTrue(Shape.scalar().isFullyDefined());
    assertFalse(Shape.unknown().isFullyDefined());
    assertEquals(-1, s.numElements());
    assertEquals(24, Shape.of(2, 3, 4).numElements());
    assertEquals(1, Shape.scalar().numElements());
    assertEquals(0, Shape.of(5, 0).numElements());
    assertEquals(4_294_967_296L, Shape.of(65536, 65536).numElements());
    assertEquals(Shape.of(2, 5, 4), s.withDim(1, 5));
  }

  @Test
  void shapeCompatibilityAndMerging() {
    assertTrue(Shape.of(-1, 3).isCompatibleWith(Shape.of(2, 3)));
    assertTrue(Shape.of(2, 3).isCompatibleWith(Shape.unknown()));
    assertFalse(Shape.of(2, 3).isCompatibleWith(Shape.of(3, 3)));
    assertFalse(Shape.of(3).isCompatibleWith(Shape.of(3, 1)));
    assertEquals(Shape.of(2, 3), Shape.of(-1, 3).mergeWith(Shape.of(2, -1)));
    assertEquals(Shape.of(2, -1), Shape.unknown().mergeWith(Shape.of(2, -1)));
    assertEquals(Shape.of(2, -1), Shape.of(2, -1).mergeWith(Shape.unknown()));
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
        () -> Shape.of(2).mergeWith(Shape.of(3)));
    assertEquals("shapes [2] and [3] are not compatible", e.getMessage());
    assertEquals(Shape.of(4, 2, 3), Shape.broadcast(Shape.of(4, 1, 3), Shape.of(2, 1)));
    assertEquals(Shape.of(-1, 3), Shape.broadcast(Shape.of(-1, 1), Shape.of(3)));
    assertEquals(Shape.unknown(), Shape.broadcast(Shape.unknown(), Shape.of(3)));
    assertNull(Shape.broadcast(Shape.of(2), Shape.of(3)));
  }

  @Test
  void dtypes() {
    assertEquals("f32", DType.FLOAT32.shortName());
    assertEquals("bool", DType.BOOL.shortName());
    assertEquals(8, DType.INT64.byteSize());
    assertEquals(4, DType.FLOAT32.byteSize());
    assertTrue(DType.FLOAT64.isFloating());
    assertFalse(DType.INT32.isFloating());
    assertTrue(DType.INT32.isInteger());
    assertFalse(DType.BOOL.isNumeric());
    assertTrue(DType.INT64.isNumeric());
    assertSame(DType.FLOAT32, DType.fromName("f32"));
    assertSame(DType.INT64, DType.fromName("INT64"));
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> DType.fromName("float"));
    assertEquals("unknown dtype 'float' (expected one of f32, f64, i32, i64, bool, f16, bf16, i8, u8, i16)", e.getMessage());
  }

  @Test
  void tensorTypes() {
    TensorType t = new TensorType(DType.FLOAT32, Shape.of(-1, 1000));
    assertEquals("f32[?,1000]", t.toString());
    assertEquals(new TensorType(DType.FLOAT32, Shape.of(-1, 1000)), t);
    assertNotEquals(new TensorType(DType.FLOAT64, Shape.of(-1, 1000)), t);
    assertEquals("bool[*]", new TensorType(DType.BOOL, Shape.unknown()).toString());
    NullPointerException e = assertThrows(NullPointerException.class, () -> new TensorType(null, Shape.scalar()));
    assertEquals("dtype", e.getMessage());
  }

  @Test
  void tensorFactoriesAndGetters() {
    float[] data = {1, 2, 3, 4};
    Tensor t = Tensor.of(data, 2, 2);
    data[0] = 100;
    assertEquals(DType.FLOAT32, t.dtype());
    assertEquals(Shape.of(2, 2), t.shape());
    assertEquals(4, t.size());
    float[] v = t.toFloatArray();
    assertArrayEquals(new float[] {1, 2, 3, 4}, v);
    v[1] = 100;
    assertArrayEquals(new float[] {1, 2, 3, 4}, t.toFloatArray());
    assertArrayEquals(new double[] {1, 2, 3, 4}, t.toDoubleArray());
    assertEquals(new TensorType(DType.FLOAT32, Shape.of(2, 2)), t.type());
    assertEquals(3.0, t.getDouble(2));

    assertEquals(2f, Tensor.scalar(2f).floatValue());
    assertEquals(Shape.scalar(), Tensor.scalar(2f).shape());
    assertEquals(2.5, Tensor.scalar(2.5).doubleValue());
    assertEquals(2.5f, Tensor.scalar(2.5).floatValue());
    assertEquals(7.0, Tensor.scalar(7).doubleValue());
    assertEquals(7, Tensor.scalar(7).intValue());
    assertEquals(Long.MAX_VALUE, Tensor.scalar(Long.MAX_VALUE).longValue());
    assertTrue(Tensor.scalar(true).booleanValue());
    assertEquals(1.0, Tensor.scalar(true).getDouble(0));
    assertEquals(3f, Tensor.of(new float[] {3}, 1, 1).floatValue());
    assertEquals(Shape.scalar(), Tensor.of(new float[] {5}).shape());

    assertArrayEquals(new double[] {1.5, -2}, Tensor.of(new double[] {1.5, -2}, 2).toDoubleArray());
    assertArrayEquals(new double[] {1, -2}, Tensor.of(new int[] {1, -2}, 2).toDoubleArray());
    assertArrayEquals(new double[] {1, -2}, Tensor.of(new long[] {1, -2}, 2, 1).toDoubleArray());
    assertArrayEquals(new int[] {1, -2}, Tensor.of(new int[] {1, -2}, 2).toIntArray());
    assertArrayEquals(new long[] {5}, Tensor.of(new long[] {5}, 1).toLongArray());
    assertArrayEquals(new boolean[] {true, false}, Tensor.of(new boolean[] {true, false}, 2).toBooleanArray());
    assertEquals(DType.BOOL, Tensor.of(new boolean[] {true}, 1).dtype());
    assertEquals(Shape.of(3, 0), Tensor.of(new float[0], 3, 0).shape());

    Tensor z = Tensor.zeros(DType.INT64, Shape.of(2, 3));
    assertArrayEquals(new long[6], z.toLongArray());
    assertArrayEquals(new boolean[2], Tensor.zeros(DType.BOOL, Shape.of(2)).toBooleanArray());
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
        () -> Tensor.zeros(DType.FLOAT32, Shape.of(-1)));
    assertEquals("a tensor's shape must be fully defined, got [?]", e.getMessage());
  }

  @Test
  void tensorGettersRefuseTheWrongKind() {
    Tensor ints = Tensor.of(new int[] {1, 2}, 2);
    IllegalStateException e = assertThrows(IllegalStateException.class, ints::toFloatArray);
    assertEquals("toFloatArray: tensor is INT32, not FLOAT32 (or FLOAT16, BFLOAT16)", e.getMessage());
    e = assertThrows(IllegalStateException.class, ints::floatValue);
    assertEquals("floatValue: tensor of shape [2] is not a single value", e.getMessage());
    e = assertThrows(IllegalStateException.class, ints::doubleValue);
    assertEquals("doubleValue: tensor of shape [2] is not a single value", e.getMessage());
    e = assertThrows(IllegalStateException.class, () -> Tensor.scalar(true).toDoubleArray());
    assertEquals("toDoubleArray: tensor is BOOL, not numeric", e.getMessage());
    e = assertThrows(IllegalStateException.class, () -> Tensor.scalar(1).booleanValue());
    assertEquals("booleanValue: tensor is i32[], not a single BOOL", e.getMessage());
  }

  @Test
  void tensorsAreEqualWhenTypeAndValuesAre() {
    Tensor a = Tensor.of(new float[] {1, 2, 3, 4}, 2, 2);
    assertEquals(Tensor.of(new float[] {1, 2, 3, 4}, 2, 2), a);
    assertEquals(Tensor.of(new float[] {1, 2, 3, 4}, 2, 2).hashCode(), a.hashCode());
    assertNotEquals(Tensor.of(new float[] {1, 2, 3, 4}, 4), a);
    assertNotEquals(Tensor.of(new float[] {1, 2, 3, 5}, 2, 2), a);
    assertNotEquals(Tensor.of(new int[] {1}, 1), Tensor.of(new long[] {1}, 1));
    assertNotEquals(Tensor.of(new double[] {1}, 1), Tensor.of(new float[] {1}, 1));
    Tensor nan = Tensor.scalar(Float.NaN);
    assertEquals(nan, Tensor.of(new float[] {Float.NaN})); // NaN values compare equal, as in Float.equals
    assertEquals("Tensor(f32[2,2]: 1.0, 2.0, 3.0, 4.0)", a.toString());
    assertEquals("Tensor(bool[]: true)", Tensor.scalar(true).toString());
    assertEquals("Tensor(i32[10]: 0, 1, 2, 3, 4, 5, 6, 7, ...)",
        Tensor.of(new int[] {0, 1, 2, 3, 4, 5, 6, 7, 8, 9}, 10).toString());
  }

  @Test
  void hostBuffersShareStorageWithoutCopying() {
    float[] data = {1, 2, 3};
    Tensor t = HostBuffers.adopt(DType.FLOAT32, Shape.of(3), data);
    assertSame(data, HostBuffers.array(t));
    assertArrayEquals(new float[] {1, 2, 3}, t.toFloatArray());
    assertArrayEquals(new int[4], (int[]) HostBuffers.allocate(DType.INT32, 4));
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
        () -> HostBuffers.adopt(DType.FLOAT32, Shape.of(4), data));
    assertEquals("storage float[] does not match f32[4]", e.getMessage());
    e = assertThrows(IllegalArgumentException.class, () -> HostBuffers.adopt(DType.INT32, Shape.of(3), data));
    assertEquals("storage float[] does not match i32[3]", e.getMessage());
    NullPointerException npe = assertThrows(NullPointerException.class,
        () -> HostBuffers.adopt(DType.INT32, Shape.of(3), null));
    assertEquals("HostBuffers.adopt: storage array is null", npe.getMessage());
  }

  @Test
  void attrsNormalizeAndSortTheirValues() {
    Attrs a = Attrs.builder().set("b", 2).set("a", 1.5f).set("c", new int[] {1, 2}).set("d", new long[] {3})
        .set("e", List.of(4, 5L)).set("f", true).set("g", "s").set("h", DType.INT32).set("i", Shape.of(2)).build();
    assertEquals(List.of("a", "b", "c", "d", "e", "f", "g", "h", "i"), List.copyOf(a.asMap().keySet()));
    assertEquals(2L, a.asMap().get("b"));
    assertEquals(1.5, a.getDouble("a"));
    assertEquals(2, a.getInt("b"));
    assertEquals(List.of(1L, 2L), a.getLongs("c"));
    assertArrayEquals(new int[] {1, 2}, a.getInts("c"));
    assertEquals(List.of(3L), a.getLongs("d"));
    assertEquals(List.of(4L, 5L), a.getLongs("e"));
    assertTrue(a.getBool("f"));
    assertFalse(a.getBool("zzz", false));
    assertEquals("s", a.getString("g"));
    assertEquals(DType.INT32, a.getDType("h"));
    assertEquals(Shape.of(2), a.getShape("i"));
    assertTrue(a.has("a"));
    assertTrue(a.find("nope").isEmpty());
    assertEquals("{a=1.5, b=2, c=[1, 2], d=[3], e=[4, 5], f=true, g=s, h=INT32, i=[2]}", a.toString());

    Attrs same = Attrs.builder().set("c", List.of(1L, 2L)).set("b", 2L).build();
    Attrs other = Attrs.builder().set("b", 2).set("c", new int[] {1, 2}).build();
    assertEquals(same, other);
    assertEquals(same.hashCode(), other.hashCode());
    assertNotEquals(same, Attrs.builder().set("b", 3).set("c", new int[] {1, 2}).build());
    assertEquals(Attrs.empty(), Attrs.builder().build());
    assertEquals(same, same.toBuilder().build());
    assertEquals(Map.of("b", 2L), Attrs.builder().set("b", 2).build().asMap());
    assertThrows(UnsupportedOperationException.class, () -> a.asMap().put("z", 1L));
    assertThrows(UnsupportedOperationException.class, () -> a.getLongs("c").set(0, 9L));

    IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> a.getLong("nope"));
    assertEquals("missing attribute 'nope'", e.getMessage());
    e = assertThrows(IllegalArgumentException.class, () -> a.getLong("a"));
    assertEquals("attribute 'a' must be Long, got Double", e.getMessage());
    e = assertThrows(IllegalArgumentException.class, () -> a.getLongs("b"));
    assertEquals("attribute 'b' must be List, got Long", e.getMessage());
    e = assertThrows(IllegalArgumentException.class, () -> a.getShape("c"));
    assertEquals("attribute 'c' must be Shape, got List", e.getMessage());
    Attrs big = Attrs.builder().set("n", 1L << 31).set("ns", new long[] {1, -(1L << 40)}).build();
    e = assertThrows(IllegalArgumentException.class, () -> big.getInt("n"));
    assertEquals("attribute 'n': 2147483648 does not fit in an int", e.getMessage());
    e = assertThrows(IllegalArgumentException.class, () -> big.getInts("ns"));
    assertEquals("attribute 'ns': -1099511627776 does not fit in an int", e.getMessage());
  }

  @Test
  void aLentTensorReadsTheRuntimesArrayOnlyWhileItsLoanIsOpen() {
    float[] storage = {1, 2, 3, 4};
    boolean[] open = {true};
    Tensor t = HostBuffers.lend(DType.FLOAT32, Shape.of(2, 2), storage, () -> {
      if (!open[0]) {
        throw new IllegalStateException("loan ended");
      }
    });
    assertSame(storage, HostBuffers.array(t), "no copy");
    assertArrayEquals(new float[] {1, 2, 3, 4}, t.toFloatArray());
    storage[3] = 5; // the runtime's writes show until the loan ends (it writes only while none is open)
    assertEquals(5.0, t.getDouble(3));
    assertEquals(Tensor.of(new float[] {1, 2, 3, 5}, 2, 2), t);
    open[0] = false;
    for (org.junit.jupiter.api.function.Executable read : List.<org.junit.jupiter.api.function.Executable>of(
        t::toFloatArray, t::toDoubleArray, () -> t.getDouble(0), t::toString, t::hashCode,
        () -> t.equals(Tensor.of(new float[] {1, 2, 3, 5}, 2, 2)), () -> HostBuffers.array(t))) {
      assertEquals("loan ended", assertThrows(IllegalStateException.class, read).getMessage());
    }
    assertEquals(Shape.of(2, 2), t.shape(), "type and shape stay readable");
    assertThrows(NullPointerException.class, () -> HostBuffers.lend(DType.FLOAT32, Shape.of(1), new float[1], null));
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
        () -> HostBuffers.lend(DType.FLOAT32, Shape.of(3), new float[2], () -> {}));
    assertEquals("storage float[] does not match f32[3]", e.getMessage());
  }
}
