package dev.kiln.cli;

import static dev.kiln.cli.KilnCliTest.kiln;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.protobuf.ByteString;
import dev.kiln.cli.KilnCliTest.Result;
import dev.kiln.graph.Tensor;
import dev.kiln.onnx.proto.OnnxProto.GraphProto;
import dev.kiln.onnx.proto.OnnxProto.ModelProto;
import dev.kiln.onnx.proto.OnnxProto.NodeProto;
import dev.kiln.onnx.proto.OnnxProto.OperatorSetIdProto;
import dev.kiln.onnx.proto.OnnxProto.TensorProto;
import dev.kiln.onnx.proto.OnnxProto.TensorShapeProto;
import dev.kiln.onnx.proto.OnnxProto.TypeProto;
import dev.kiln.onnx.proto.OnnxProto.ValueInfoProto;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** kiln import and kiln run on ONNX models written here with ONNX's protobuf classes. */
class OnnxCliTest {
  static final float[] W = {0.5f, -1f, 2f, 0.25f, -0.75f, 1.5f}; // [3, 2]
  static final float[] B = {0.1f, -0.2f};

  /** y = Relu(x @ W + b), x [N, 3] with a dynamic batch dimension N. */
  static ModelProto dense() {
    GraphProto g = GraphProto.newBuilder().setName("dense")
        .addInput(value("x", "N", 3))
        .addOutput(value("y", "N", 2))
        .addInitializer(floats("W", W, 3, 2))
        .addInitializer(floats("b", B, 2))
        .addNode(NodeProto.newBuilder().setOpType("MatMul").setName("mm").addInput("x").addInput("W").addOutput("xw"))
        .addNode(NodeProto.newBuilder().setOpType("Add").setName("add").addInput("xw").addInput("b").addOutput("z"))
        .addNode(NodeProto.newBuilder().setOpType("Relu").setName("relu").addInput("z").addOutput("y"))
        .build();
    return ModelProto.newBuilder().setIrVersion(8).addOpsetImport(OperatorSetIdProto.newBuilder().setVersion(13))
        .setGraph(g).build();
  }

  static ValueInfoProto value(String name, String batch, int width) {
    TensorShapeProto shape = TensorShapeProto.newBuilder()
        .addDim(TensorShapeProto.Dimension.newBuilder().setDimParam(batch))
        .addDim(TensorShapeProto.Dimension.newBuilder().setDimValue(width)).build();
    return ValueInfoProto.newBuilder().setName(name)
        .setType(TypeProto.newBuilder().setTensorType(TypeProto.Tensor.newBuilder().setElemType(1).setShape(shape)))
        .build();
  }

  static TensorProto floats(String name, float[] v, long... dims) {
    ByteBuffer b = ByteBuffer.allocate(4 * v.length).order(ByteOrder.LITTLE_ENDIAN);
    b.asFloatBuffer().put(v);
    TensorProto.Builder t = TensorProto.newBuilder().setName(name).setDataType(1).setRawData(ByteString.copyFrom(b.array()));
    for (long d : dims) {
      t.addDims(d);
    }
    return t.build();
  }

  @Test
  void importWritesAGraphThatPrintAndRunTake(@TempDir Path dir) throws Exception {
    Path onnx = dir.resolve("dense.onnx");
    Files.write(onnx, dense().toByteArray());
    Path kg = dir.resolve("dense.kg");
    Result r = kiln("import", onnx.toString(), "--out", kg.toString());
    assertEquals(0, r.code(), r.err());
    assertTrue(r.out().contains("input x: x f32[?,3]"), r.out());
    assertTrue(Files.readString(kg).contains("Placeholder"), "the graph file holds the model");
    assertEquals(0, kiln("print", kg.toString()).code());

    float[] x = {1, 2, 3, -1, 0, 4};
    Path xs = dir.resolve("x.npy");
    NpyIO.write(xs, Tensor.of(x, 2, 3));
    for (Path model : new Path[] {onnx, kg}) {
      Path out = dir.resolve("out_" + model.getFileName());
      String[] args = model == onnx
          ? new String[] {"run", model.toString(), "--feed", "x=" + xs, "--out", out.toString()}
          : new String[] {"run", model.toString(), "--feed", "x=" + xs, "--fetch", r.out().lines()
              .filter(l -> l.contains("output y:")).findFirst().orElseThrow().split(" ")[4].replace(":", ""),
              "--out", out.toString()};
      Result run = kiln(args);
      assertEquals(0, run.code(), run.err());
      try (var files = Files.list(out)) {
        float[] y = NpyIO.read(files.findFirst().orElseThrow()).toFloatArray();
        for (int i = 0; i < 2; i++) {
          for (int j = 0; j < 2; j++) {
            double s = B[j];
            for (int k = 0; k < 3; k++) {
              s += (double) x[i * 3 + k] * W[k * 2 + j];
            }
            assertEquals(Math.max(0, s), y[i * 2 + j], 1e-5, model + " y[" + i + "," + j + "]");
          }
        }
      }
    }
  }

  @Test
  void importReportsEveryUnsupportedOperatorWithItsNodes(@TempDir Path dir) throws Exception {
    GraphProto.Builder g = dense().getGraph().toBuilder().clearNode()
        .addNode(NodeProto.newBuilder().setOpType("Frobnicate").setName("f1").addInput("x").addOutput("a"))
        .addNode(NodeProto.newBuilder().setOpType("Frobnicate").setName("f2").addInput("a").addOutput("b"))
        .addNode(NodeProto.newBuilder().setOpType("Relu").setName("r").addInput("b").addOutput("c"))
        .addNode(NodeProto.newBuilder().setOpType("Gizmo").setName("g1").addInput("c").addOutput("y"));
    Path onnx = dir.resolve("odd.onnx");
    Files.write(onnx, dense().toBuilder().setGraph(g).build().toByteArray());
    Result r = kiln("import", onnx.toString(), "--out", dir.resolve("odd.kg").toString());
    assertEquals(1, r.code(), r.out());
    assertTrue(r.err().contains("3 node(s) of 2 unsupported operator type(s)"), r.err());
    assertTrue(r.err().contains("Frobnicate x2 (f1, f2); Gizmo x1 (g1)"), r.err());
    assertTrue(r.err().startsWith("kiln import: " + onnx + ": 3 node(s)"), "the file named once: " + r.err());
    assertTrue(!Files.exists(dir.resolve("odd.kg")), "nothing written on failure");
  }
}
