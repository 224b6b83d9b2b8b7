package dev.kiln.onnx;

import dev.kiln.graph.Tensor;
import dev.kiln.onnx.proto.OnnxProto.AttributeProto;
import dev.kiln.onnx.proto.OnnxProto.GraphProto;
import dev.kiln.onnx.proto.OnnxProto.ModelProto;
import dev.kiln.onnx.proto.OnnxProto.NodeProto;
import dev.kiln.onnx.proto.OnnxProto.OperatorSetIdProto;
import dev.kiln.onnx.proto.OnnxProto.TensorShapeProto;
import dev.kiln.onnx.proto.OnnxProto.TypeProto;
import dev.kiln.onnx.proto.OnnxProto.ValueInfoProto;

/** A tiny ONNX model writer for tests, on the generated protobuf classes. */
final class OnnxWriter {
  private final GraphProto.Builder graph = GraphProto.newBuilder().setName("test");
  private int opset = 13;

  OnnxWriter opset(int v) {
    opset = v;
    return this;
  }

  /** A float input; a dimension given as a String is symbolic (dim_param), an Integer is fixed. */
  OnnxWriter input(String name, int elemType, Object... dims) {
    graph.addInput(value(name, elemType, dims));
    return this;
  }

  OnnxWriter output(String name, int elemType, Object... dims) {
    graph.addOutput(value(name, elemType, dims));
    return this;
  }

  OnnxWriter initializer(String name, Tensor t) {
    graph.addInitializer(Tensors.toProto(name, t));
    return this;
  }

  /** A node; attrs alternate name and value (Long, Float, long[], String, Tensor). */
  OnnxWriter node(String op, String name, String[] inputs, String[] outputs, Object... attrs) {
    NodeProto.Builder n = NodeProto.newBuilder().setOpType(op).setName(name);
    for (String i : inputs) {
      n.addInput(i);
    }
    for (String o : outputs) {
      n.addOutput(o);
    }
    for (int i = 0; i < attrs.length; i += 2) {
      AttributeProto.Builder a = AttributeProto.newBuilder().setName((String) attrs[i]);
      switch (attrs[i + 1]) {
        case Long l -> a.setType(AttributeProto.AttributeType.INT).setI(l);
        case Float f -> a.setType(AttributeProto.AttributeType.FLOAT).setF(f);
        case long[] ls -> {
          a.setType(AttributeProto.AttributeType.INTS);
          for (long l : ls) {
            a.addInts(l);
          }
        }
        case Tensor t -> a.setType(AttributeProto.AttributeType.TENSOR).setT(Tensors.toProto("", t));
        case GraphProto g -> a.setType(AttributeProto.AttributeType.GRAPH).setG(g);
        case String s -> a.setType(AttributeProto.AttributeType.STRING).setS(com.google.protobuf.ByteString.copyFromUtf8(s));
        default -> throw new IllegalArgumentException("attribute value " + attrs[i + 1]);
      }
      n.addAttribute(a);
    }
    graph.addNode(n);
    return this;
  }

  /** The graph alone, as the body of a control-flow node (its inputs are the body's parameters). */
  GraphProto graph() {
    return graph.build();
  }

  ModelProto build() {
    return ModelProto.newBuilder().setIrVersion(8)
        .addOpsetImport(OperatorSetIdProto.newBuilder().setDomain("").setVersion(opset)).setGraph(graph).build();
  }

  OnnxModel load(ImportOptions options) {
    return OnnxModel.fromProto(build(), "test.onnx", options);
  }

  static ValueInfoProto value(String name, int elemType, Object... dims) {
    TensorShapeProto.Builder s = TensorShapeProto.newBuilder();
    for (Object d : dims) {
      s.addDim(d instanceof String p ? TensorShapeProto.Dimension.newBuilder().setDimParam(p)
          : TensorShapeProto.Dimension.newBuilder().setDimValue((Integer) d));
    }
    return ValueInfoProto.newBuilder().setName(name)
        .setType(TypeProto.newBuilder().setTensorType(TypeProto.Tensor.newBuilder().setElemType(elemType).setShape(s)))
        .build();
  }

  static String[] in(String... names) {
    return names;
  }
}
