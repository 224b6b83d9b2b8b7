package dev.kiln.onnx;

import dev.kiln.graph.DType;
import dev.kiln.graph.Ops;
import dev.kiln.graph.Output;
import dev.kiln.graph.Tensor;
import dev.kiln.onnx.proto.OnnxProto.AttributeProto;
import dev.kiln.onnx.proto.OnnxProto.NodeProto;
import java.util.List;
import java.util.Optional;

/** One ONNX node being mapped: its inputs as Kiln outputs, its attributes, and where its outputs go. */
final class Node {
  final Importer imp;
  final NodeProto proto;
  final Ops ops;
  final int opset;
  private final String label;

  Node(Importer imp, NodeProto proto, int index, Ops ops, int opset) {
    this.imp = imp;
    this.proto = proto;
    this.ops = ops;
    this.opset = opset;
    this.label = "node '" + (proto.getName().isEmpty() ? "#" + index : proto.getName()) + "' (" + proto.getOpType() + ")";
  }

  String label() {
    return label;
  }

  String type() {
    return proto.getOpType();
  }

  int numInputs() {
    return proto.getInputCount();
  }

  boolean has(int i) {
    return i < proto.getInputCount() && !proto.getInput(i).isEmpty();
  }

  Output in(int i) {
    if (!has(i)) {
      throw error("input " + i + " is required but missing");
    }
    return imp.value(proto.getInput(i), this);
  }

  /** Input i's entry-by-entry shape value when it is computed from shapes with dimensions unknown at import. */
  Optional<SymbolicShapes.Sym> symIn(int i) {
    return has(i) ? imp.symbolic(proto.getInput(i)) : Optional.empty();
  }

  /** Input i's value when it is a constant or computed from constants and static shapes. */
  Optional<Tensor> constIn(int i) {
    return has(i) && symIn(i).isEmpty() ? imp.constant(in(i)) : Optional.empty();
  }

  /** Input i as a constant, which Kiln needs as an attribute; an error naming the node otherwise. */
  Tensor requireConst(int i, String what) {
    return constIn(i).orElseThrow(() -> new UnsupportedOnnxException(label + ": input " + i + " '" + proto.getInput(i)
        + "' (" + what + ") must be a constant or computed from static shapes, but it depends on run-time data"
        + symIn(i).map(v -> " (the shape value " + v.describe() + ")").orElse("")));
  }

  long[] constLongs(int i, String what) {
    return longs(requireConst(i, what));
  }

  static long[] longs(Tensor t) {
    return switch (t.dtype()) {
      case INT64 -> t.toLongArray();
      case INT32 -> java.util.Arrays.stream(t.toIntArray()).asLongStream().toArray();
      default -> java.util.Arrays.stream(t.toDoubleArray()).mapToLong(v -> (long) v).toArray();
    };
  }

  int numOutputs() {
    return proto.getOutputCount();
  }

  boolean wantsOutput(int j) {
    return j < proto.getOutputCount() && !proto.getOutput(j).isEmpty();
  }

  void out(int j, Output o) {
    if (wantsOutput(j)) {
      imp.define(proto.getOutput(j), o);
    }
  }

  void out(Output o) {
    out(0, o);
  }

  // ---------------------------------------------------------------- attributes

  Optional<AttributeProto> attr(String name) {
    for (AttributeProto a : proto.getAttributeList()) {
      if (a.getName().equals(name)) {
        if (!a.getRefAttrName().isEmpty()) {
          throw new UnsupportedOnnxException(label + ": attribute '" + name + "' refers to a function attribute");
        }
        return Optional.of(a);
      }
    }
    return Optional.empty();
  }

  boolean hasAttr(String name) {
    return attr(name).isPresent();
  }

  long attrInt(String name, long dflt) {
    return attr(name).map(AttributeProto::getI).orElse(dflt);
  }

  float attrFloat(String name, float dflt) {
    return attr(name).map(AttributeProto::getF).orElse(dflt);
  }

  String attrString(String name, String dflt) {
    return attr(name).map(a -> a.getS().toStringUtf8()).orElse(dflt);
  }

  Optional<long[]> attrInts(String name) {
    return attr(name).map(a -> a.getIntsList().stream().mapToLong(Long::longValue).toArray());
  }

  Optional<float[]> attrFloats(String name) {
    return attr(name).map(a -> {
      float[] f = new float[a.getFloatsCount()];
      for (int i = 0; i < f.length; i++) {
        f[i] = a.getFloats(i);
      }
      return f;
    });
  }

  Optional<Tensor> attrTensor(String name) {
    return attr(name).map(a -> Tensors.fromProto(a.getT(), label + " attribute '" + name + "'"));
  }

  // ---------------------------------------------------------------- helpers

  int rank(Output x) {
    int r = x.shape().rank();
    if (r < 0) {
      throw new UnsupportedOnnxException(label + ": input '" + x.name() + "' needs a known rank");
    }
    return r;
  }

  /** A possibly negative ONNX axis as an index into rank dimensions. */
  int axis(long a, int rank) {
    if (a < -rank || a >= rank) {
      throw error("axis " + a + " is out of range for rank " + rank);
    }
    return (int) (a < 0 ? a + rank : a);
  }

  int[] axes(long[] a, int rank) {
    int[] out = new int[a.length];
    for (int i = 0; i < a.length; i++) {
      out[i] = axis(a[i], rank);
    }
    return out;
  }

  static int[] ints(long[] a) {
    int[] out = new int[a.length];
    for (int i = 0; i < a.length; i++) {
      out[i] = Math.toIntExact(a[i]);
    }
    return out;
  }

  /** A scalar constant of x's element type. */
  Output scalar(double v, DType d) {
    return ops.constant(v, d);
  }

  List<Output> inputs() {
    return java.util.stream.IntStream.range(0, numInputs()).filter(this::has).mapToObj(this::in).toList();
  }

  UnsupportedOnnxException unsupported(String why) {
    return new UnsupportedOnnxException(label + ": " + why);
  }

  OnnxImportException error(String why) {
    return new OnnxImportException(label + ": " + why);
  }
}
