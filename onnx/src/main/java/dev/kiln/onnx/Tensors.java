package dev.kiln.onnx;

import com.google.protobuf.ByteString;
import dev.kiln.graph.DType;
import dev.kiln.graph.HostBuffers;
import dev.kiln.graph.Shape;
import dev.kiln.graph.Tensor;
import dev.kiln.onnx.proto.OnnxProto.TensorProto;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;

/** Converts between ONNX's TensorProto and Kiln tensors. */
final class Tensors {
  private Tensors() {}

  /** The Kiln type of an ONNX element type, or an {@link UnsupportedOnnxException} naming it. */
  static DType dtype(int onnxType, String where) {
    return switch (onnxType) {
      case 1 -> DType.FLOAT32;
      case 6 -> DType.INT32;
      case 7 -> DType.INT64;
      case 9 -> DType.BOOL;
      case 11 -> DType.FLOAT64;
      case 10 -> DType.FLOAT16;
      case 16 -> DType.BFLOAT16;
      case 3 -> DType.INT8;
      case 2 -> DType.UINT8;
      case 5 -> DType.INT16;
      default -> throw new UnsupportedOnnxException(where + ": element type " + typeName(onnxType)
          + " is not supported (Kiln has float, double, float16, bfloat16, int8, uint8, int16, int32, int64, bool)");
    };
  }

  static int onnxType(DType d) {
    return switch (d) {
      case FLOAT32 -> 1;
      case INT32 -> 6;
      case INT64 -> 7;
      case BOOL -> 9;
      case FLOAT64 -> 11;
      case FLOAT16 -> 10;
      case BFLOAT16 -> 16;
      case INT8 -> 3;
      case UINT8 -> 2;
      case INT16 -> 5;
    };
  }

  static String typeName(int onnxType) {
    TensorProto.DataType t = TensorProto.DataType.forNumber(onnxType);
    return t == null ? "#" + onnxType : t.name();
  }

  static Tensor fromProto(TensorProto p, String where) {
    String what = where + (p.getName().isEmpty() ? "" : " tensor '" + p.getName() + "'");
    if (p.getDataLocation() == TensorProto.DataLocation.EXTERNAL) {
      throw new UnsupportedOnnxException(what + ": external data is not supported");
    }
    DType d = dtype(p.getDataType(), what);
    int[] dims = new int[p.getDimsCount()];
    for (int i = 0; i < dims.length; i++) {
      long v = p.getDims(i);
      if (v < 0 || v > Integer.MAX_VALUE) {
        throw new OnnxImportException(what + ": dimension " + i + " is " + v);
      }
      dims[i] = (int) v;
    }
    Shape shape = Shape.of(dims);
    long n = shape.numElements();
    if (n > Shape.MAX_ELEMENTS) {
      throw new OnnxImportException(what + ": " + n + " elements is too many for a tensor");
    }
    int count = (int) n;
    Object array = HostBuffers.allocate(d, count);
    if (!p.getRawData().isEmpty()) {
      ByteString raw = p.getRawData();
      if (raw.size() != (long) count * d.byteSize()) {
        throw new OnnxImportException(what + ": raw_data has " + raw.size() + " bytes, shape " + shape + " of "
            + d.shortName() + " needs " + (long) count * d.byteSize());
      }
      ByteBuffer b = raw.asReadOnlyByteBuffer().order(ByteOrder.LITTLE_ENDIAN);
      if (d.isNarrow()) {
        HostBuffers.decode(d, b, array, 0, count);
        return HostBuffers.adopt(d, shape, array);
      }
      switch (d) {
        case FLOAT32 -> b.asFloatBuffer().get((float[]) array);
        case FLOAT64 -> b.asDoubleBuffer().get((double[]) array);
        case INT32 -> b.asIntBuffer().get((int[]) array);
        case INT64 -> b.asLongBuffer().get((long[]) array);
        case BOOL -> {
          boolean[] a = (boolean[]) array;
          for (int i = 0; i < count; i++) {
            a[i] = b.get(i) != 0;
          }
        }
      }
      return HostBuffers.adopt(d, shape, array);
    }
    int have = switch (d) {
      case FLOAT32 -> p.getFloatDataCount();
      case FLOAT64 -> p.getDoubleDataCount();
      case INT32, BOOL, FLOAT16, BFLOAT16, INT8, UINT8, INT16 -> p.getInt32DataCount();
      case INT64 -> p.getInt64DataCount();
    };
    if (have != count) {
      throw new OnnxImportException(what + ": holds " + have + " values, shape " + shape + " needs " + count);
    }
    for (int i = 0; i < count; i++) {
      switch (d) {
        case FLOAT32 -> ((float[]) array)[i] = p.getFloatData(i);
        case FLOAT64 -> ((double[]) array)[i] = p.getDoubleData(i);
        case INT32 -> ((int[]) array)[i] = p.getInt32Data(i);
        case BOOL -> ((boolean[]) array)[i] = p.getInt32Data(i) != 0;
        case INT64 -> ((long[]) array)[i] = p.getInt64Data(i);
        // The 16-bit floats' int32_data hold their bit patterns; the narrow integers their values.
        case FLOAT16 -> ((float[]) array)[i] = dev.kiln.graph.Narrowing.fromFloat16Bits((short) p.getInt32Data(i));
        case BFLOAT16 -> ((float[]) array)[i] = dev.kiln.graph.Narrowing.fromBfloat16Bits((short) p.getInt32Data(i));
        case INT8, UINT8, INT16 -> ((int[]) array)[i] = dev.kiln.graph.Narrowing.wrap(d, p.getInt32Data(i));
      }
    }
    return HostBuffers.adopt(d, shape, array);
  }

  /** A TensorProto holding t in raw_data (little-endian), as ONNX's writers store tensors. */
  static TensorProto toProto(String name, Tensor t) {
    DType d = t.dtype();
    int n = t.size();
    ByteBuffer b = ByteBuffer.allocate(n * d.byteSize()).order(ByteOrder.LITTLE_ENDIAN);
    if (d.isNarrow()) {
      HostBuffers.encode(d, HostBuffers.array(t), 0, n, b);
    }
    switch (d) {
      case FLOAT16, BFLOAT16, INT8, UINT8, INT16 -> {} // encoded above
      case FLOAT32 -> b.asFloatBuffer().put(t.toFloatArray());
      case FLOAT64 -> b.asDoubleBuffer().put(t.toDoubleArray());
      case INT32 -> b.asIntBuffer().put(t.toIntArray());
      case INT64 -> b.asLongBuffer().put(t.toLongArray());
      case BOOL -> {
        boolean[] a = t.toBooleanArray();
        for (int i = 0; i < n; i++) {
          b.put(i, (byte) (a[i] ? 1 : 0));
        }
      }
    }
    TensorProto.Builder p = TensorProto.newBuilder().setName(name).setDataType(onnxType(d))
        .setRawData(ByteString.copyFrom(b.array()));
    for (int dim : t.shape().dims()) {
      p.addDims(dim);
    }
    return p.build();
  }
}
