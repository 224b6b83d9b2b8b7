package dev.kiln.graph;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import org.junit.jupiter.api.Test;

/** The narrow dtypes' public API: factories and accessors, bit patterns, the text format. */
class NarrowTensorTest {
  @Test
  void float16BitPatternsRoundTripAndDecodeAsIeeeBinary16() {
    short[] bits = new short[65536];
    for (int i = 0; i < bits.length; i++) {
      bits[i] = (short) i;
    }
    Tensor t = Tensor.ofFloat16Bits(bits, 65536);
    assertEquals(DType.FLOAT16, t.dtype());
    short[] back = t.toFloat16Bits();
    float[] values = t.toFloatArray();
    for (int i = 0; i < bits.length; i++) {
      int exp = (i >> 10) & 0x1F;
      int frac = i & 0x3FF;
      boolean nan = exp == 0x1F && frac != 0;
      // binary16 by its definition: (-1)^s * 2^(e-15) * (1 + f/1024), subnormals 2^-14 * f/1024.
      double want = exp == 0x1F ? (frac == 0 ? Double.POSITIVE_INFINITY : Double.NaN)
          : exp == 0 ? Math.scalb((double) frac, -24) : Math.scalb(1024.0 + frac, exp - 25);
      want = (i & 0x8000) != 0 ? -want : want;
      if (nan) {
        assertTrue(Float.isNaN(values[i]), "bits " + Integer.toHexString(i));
        assertTrue(Float.isNaN(Float.float16ToFloat(back[i])));
      } else {
        assertEquals(Double.doubleToLongBits(want), Double.doubleToLongBits(values[i]), "bits " + Integer.toHexString(i));
        assertEquals(bits[i], back[i]);
      }
    }
  }

  @Test
  void bfloat16BitPatternsRoundTripAsTheUpperHalfOfAFloat() {
    short[] bits = new short[65536];
    for (int i = 0; i < bits.length; i++) {
      bits[i] = (short) i;
    }
    Tensor t = Tensor.ofBfloat16Bits(bits, 256, 256);
    assertArrayEquals(bits, t.toBfloat16Bits());
    float[] values = t.toFloatArray();
    for (int i = 0; i < bits.length; i++) {
      assertEquals(i << 16, Float.floatToRawIntBits(values[i]));
    }
  }

  @Test
  void floatFactoriesRoundToNearestEven() {
    // 1 + 2^-11 is halfway between float16's 1 and 1 + 2^-10: ties go to the even 1.
    // 1 + 3 * 2^-11 is halfway between 1 + 2^-10 and 1 + 2^-9: the even one is 1 + 2^-9.
    Tensor h = Tensor.ofFloat16(new float[] {1 + 0x1p-11f, 1 + 3 * 0x1p-11f, 65520f, -65519f, 0x1p-25f, 0x1.8p-25f}, 6);
    assertArrayEquals(new float[] {1f, 1 + 0x1p-9f, Float.POSITIVE_INFINITY, -65504f, 0f, 0x1p-24f}, h.toFloatArray());
    // bfloat16 keeps 7 fraction bits: 1 + 2^-8 ties to 1, 1 + 3 * 2^-8 to 1 + 2^-6.
    Tensor b = Tensor.ofBfloat16(new float[] {1 + 0x1p-8f, 1 + 3 * 0x1p-8f, -0f}, 3);
    assertArrayEquals(new float[] {1f, 1 + 0x1p-6f, -0f}, b.toFloatArray());
    assertEquals(Float.floatToRawIntBits(-0f), Float.floatToRawIntBits(b.toFloatArray()[2]));
  }

  @Test
  void integerFactoriesAndAccessors() {
    Tensor i8 = Tensor.ofInt8(new byte[] {-128, -1, 0, 127}, 2, 2);
    assertEquals(DType.INT8, i8.dtype());
    assertArrayEquals(new int[] {-128, -1, 0, 127}, i8.toIntArray());
    assertArrayEquals(new byte[] {-128, -1, 0, 127}, i8.toByteArray());
    Tensor u8 = Tensor.ofUint8(new byte[] {-128, -1, 0, 127}, 4);
    assertArrayEquals(new int[] {128, 255, 0, 127}, u8.toIntArray());
    assertArrayEquals(new byte[] {-128, -1, 0, 127}, u8.toByteArray());
    assertEquals(255.0, u8.getDouble(1));
    Tensor i16 = Tensor.ofInt16(new short[] {Short.MIN_VALUE, 7}, 2);
    assertArrayEquals(new short[] {Short.MIN_VALUE, 7}, i16.toShortArray());
    assertEquals(Tensor.ofInt16(new short[] {-32768, 7}, 2), Tensor.ofNarrowInts(DType.INT16, new int[] {-32768, 7}, 2));
    assertEquals("Tensor(u8[4]: 128, 255, 0, 127)", u8.toString());
  }

  @Test
  void badArgumentsNameTheProblem() {
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
        () -> Tensor.ofNarrowInts(DType.UINT8, new int[] {3, 256}, 2));
    assertEquals("Tensor.ofNarrowInts: value 256 at index 1 is out of range for u8", e.getMessage());
    e = assertThrows(IllegalArgumentException.class, () -> Tensor.ofNarrowInts(DType.INT32, new int[] {1}, 1));
    assertEquals("Tensor.ofNarrowInts: dtype must be i8, u8 or i16, got i32", e.getMessage());
    IllegalStateException s = assertThrows(IllegalStateException.class, () -> Tensor.of(new float[] {1}, 1).toFloat16Bits());
    assertEquals("toFloat16Bits: tensor is FLOAT32, not FLOAT16", s.getMessage());
    s = assertThrows(IllegalStateException.class, () -> Tensor.ofInt16(new short[] {1}, 1).toByteArray());
    assertEquals("toByteArray: tensor is INT16, not INT8 or UINT8", s.getMessage());
    s = assertThrows(IllegalStateException.class, () -> Tensor.ofInt8(new byte[] {1}, 1).toFloatArray());
    assertEquals("toFloatArray: tensor is INT8, not FLOAT32 (or FLOAT16, BFLOAT16)", s.getMessage());
    e = assertThrows(IllegalArgumentException.class, () -> HostBuffers.adopt(DType.INT8, Shape.of(2), new int[] {5, 128}));
    assertEquals("HostBuffers.adopt: element 1 (128) is not a i8 value", e.getMessage());
    e = assertThrows(IllegalArgumentException.class, () -> HostBuffers.adopt(DType.FLOAT16, Shape.of(1), new float[] {0.1f}));
    assertEquals("HostBuffers.adopt: element 0 (0.1) is not a f16 value", e.getMessage());
    NullPointerException n = assertThrows(NullPointerException.class, () -> Tensor.ofInt8(null, 1));
    assertEquals("Tensor.ofInt8: data is null", n.getMessage());
    e = assertThrows(IllegalArgumentException.class, () -> Tensor.ofFloat16(new float[] {1, 2}, 3));
    assertEquals("Tensor.of: 2 values do not fill shape [3] (3 elements)", e.getMessage());
  }

  @Test
  void shortNamesParseAndEveryNameIsListed() {
    for (DType d : DType.values()) {
      assertEquals(d, DType.fromName(d.shortName()));
      assertEquals(d, DType.fromName(d.name()));
    }
    assertEquals(List.of(DType.FLOAT32, DType.FLOAT32, DType.INT32, DType.INT32, DType.INT32),
        List.of(DType.FLOAT16.computeType(), DType.BFLOAT16.computeType(), DType.INT8.computeType(),
            DType.UINT8.computeType(), DType.INT16.computeType()));
  }

  @Test
  void textFormatRoundTripsNarrowConstantsInlineAndInBase64() {
    float[] special = {0f, -0f, Float.NaN, Float.POSITIVE_INFINITY, Float.NEGATIVE_INFINITY, 65504f, 0x1p-24f, 0x1p-14f,
        1 + 0x1p-10f, -3.5f};
    float[] many = new float[40];
    for (int i = 0; i < many.length; i++) {
      many[i] = (i - 20) * 0.37f;
    }
    byte[] bytes = new byte[30];
    for (int i = 0; i < bytes.length; i++) {
      bytes[i] = (byte) (i * 37);
    }
    List<Tensor> values = List.of(
        Tensor.ofFloat16(special, 10), Tensor.ofFloat16(many, 4, 10),
        Tensor.ofBfloat16(special, 10), Tensor.ofBfloat16(many, 40),
        Tensor.ofInt8(new byte[] {-128, 127, 0}, 3), Tensor.ofInt8(bytes, 30),
        Tensor.ofUint8(new byte[] {-1, 0, 5}, 3), Tensor.ofUint8(bytes, 2, 15),
        Tensor.ofInt16(new short[] {-32768, 32767}, 2), Tensor.ofInt16(new short[] {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13,
            14, 15, 16, -17, 18}, 18));
    Graph g = new Graph();
    Ops tf = Ops.create(g);
    for (Tensor t : values) {
      tf.constant(t);
    }
    tf.placeholder("p", DType.BFLOAT16, Shape.of(2));
    String text = g.toText();
    assertTrue(text.contains("dense<f16[10]>["), text);
    assertTrue(text.contains("dense<i8[30]>\""), text);
    assertTrue(text.contains("dtype = bf16"), text);
    Graph back = Graph.parse(text);
    for (int i = 0; i < values.size(); i++) {
      assertEquals(values.get(i), back.operations().get(i).attrs().getTensor("value"), "constant " + i);
    }
    assertEquals(DType.BFLOAT16, back.operation("p").output(0).dtype());
    assertEquals(text, back.toText());
  }

  @Test
  void inlineFloat16TextIsRoundedOnce() {
    // 1.00048828125 = 1 + 2^-11 exactly: a tie, rounded to even (1.0) — not first to float, then to half.
    Graph g = Graph.parse("graph g {\n  %c = Const() {value = dense<f16[2]>[1.00048828125, 1.0004882812500003]}\n}\n");
    assertArrayEquals(new float[] {1f, 1 + 0x1p-10f}, g.operation("c").attrs().getTensor("value").toFloatArray());
  }
}
