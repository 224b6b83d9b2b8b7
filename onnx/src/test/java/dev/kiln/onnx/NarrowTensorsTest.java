package dev.kiln.onnx;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.kiln.graph.DType;
import dev.kiln.graph.Tensor;
import dev.kiln.onnx.proto.OnnxProto.TensorProto;
import java.util.List;
import org.junit.jupiter.api.Test;

/** ONNX tensors of the narrow element types: raw data at their own width, and the typed int32_data field. */
class NarrowTensorsTest {
  @Test
  void rawDataRoundTripsAtTheElementWidth() {
    List<Tensor> ts = List.of(Tensor.ofFloat16Bits(new short[] {0x3C00, (short) 0xFC00, 0x0001}, 3),
        Tensor.ofBfloat16Bits(new short[] {0x3F80, (short) 0x8001}, 2, 1), Tensor.ofInt8(new byte[] {-128, 127}, 2),
        Tensor.ofUint8(new byte[] {-1, 0, 9}, 3), Tensor.ofInt16(new short[] {-32768, 5}, 2));
    int[] onnxTypes = {10, 16, 3, 2, 5};
    for (int k = 0; k < ts.size(); k++) {
      Tensor t = ts.get(k);
      TensorProto p = Tensors.toProto("t", t);
      assertEquals(onnxTypes[k], p.getDataType());
      assertEquals(t.size() * t.dtype().byteSize(), p.getRawData().size());
      assertEquals(t, Tensors.fromProto(p, "test"));
    }
    // uint8 255 is the byte 0xFF; float16 1.0 is 00 3C little-endian.
    assertEquals((byte) 0xFF, Tensors.toProto("u", ts.get(3)).getRawData().byteAt(0));
    assertEquals(0x3C, Tensors.toProto("h", ts.get(0)).getRawData().byteAt(1));
  }

  @Test
  void int32DataHoldsBitPatternsForHalfFloatsAndValuesForNarrowIntegers() {
    TensorProto half = TensorProto.newBuilder().setDataType(10).addDims(2).addInt32Data(0x3C00).addInt32Data(0xC000).build();
    assertEquals(Tensor.ofFloat16(new float[] {1, -2}, 2), Tensors.fromProto(half, "test"));
    TensorProto u8 = TensorProto.newBuilder().setDataType(2).addDims(2).addInt32Data(200).addInt32Data(7).build();
    assertEquals(Tensor.ofNarrowInts(DType.UINT8, new int[] {200, 7}, 2), Tensors.fromProto(u8, "test"));
  }
}
