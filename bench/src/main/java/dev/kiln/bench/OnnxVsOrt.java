package dev.kiln.bench;

import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtSession;
import com.google.protobuf.ByteString;
import dev.kiln.graph.Output;
import dev.kiln.graph.Tensor;
import dev.kiln.onnx.OnnxModel;
import dev.kiln.onnx.proto.OnnxProto.AttributeProto;
import dev.kiln.onnx.proto.OnnxProto.GraphProto;
import dev.kiln.onnx.proto.OnnxProto.ModelProto;
import dev.kiln.onnx.proto.OnnxProto.NodeProto;
import dev.kiln.onnx.proto.OnnxProto.OperatorSetIdProto;
import dev.kiln.onnx.proto.OnnxProto.TensorProto;
import dev.kiln.onnx.proto.OnnxProto.TensorShapeProto;
import dev.kiln.onnx.proto.OnnxProto.TypeProto;
import dev.kiln.onnx.proto.OnnxProto.ValueInfoProto;
import dev.kiln.runtime.Session;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.FloatBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Map;
import java.util.Random;

/**
 * Inference of two ONNX models, written here, in Kiln (imported with {@link OnnxModel}) and in ONNX
 * Runtime's Java API (CPU, intra-op threads = available processors, sequential execution, all graph
 * optimizations), batch 1 and 64, one process: an MLP 784-1024-1024-10 (Gemm transB, Relu) and a small CNN
 * (the W5 network in NCHW: conv 5x5x32 pad 2, relu, max-pool 2, conv 5x5x64 pad 2, relu, max-pool 2,
 * flatten, dense 1024 relu, dense 10), both with a dynamic batch dimension and seeded random weights.
 * One timed iteration is a run that feeds the batch and copies the logits out; Kiln's runs and ONNX
 * Runtime's are timed in separate blocks. Checks that both give
 * the same logits first, then prints
 * {@code RESULT <model> <impl>:b<batch> <median ms> ms/batch <samples/s>} and the load average.
 * {@code java -cp benchmarks.jar dev.kiln.bench.OnnxVsOrt [iterations [warmup]]} (default 200 / 50).
 */
public final class OnnxVsOrt {
  private OnnxVsOrt() {}

  public static void main(String[] args) throws Exception {
    int iters = args.length > 0 ? Integer.parseInt(args[0]) : 200;
    int warmup = args.length > 1 ? Integer.parseInt(args[1]) : 50;
    Path dir = Path.of("bench", "target", "onnx");
    Files.createDirectories(dir);
    Path mlp = dir.resolve("mlp.onnx");
    Path cnn = dir.resolve("cnn.onnx");
    Files.write(mlp, mlp().toByteArray());
    Files.write(cnn, cnn().toByteArray());
    System.out.println("load average before: " + Files.readString(Path.of("/proc/loadavg")).strip());
    int threads = Runtime.getRuntime().availableProcessors();
    OrtEnvironment env = OrtEnvironment.getEnvironment();
    System.out.println("onnxruntime " + env.getVersion() + ", intra-op threads " + threads);
    for (Path model : new Path[] {mlp, cnn}) {
      long[] sample = model == mlp ? new long[] {784} : new long[] {1, 28, 28};
      OnnxModel km = OnnxModel.load(model);
      try (Session ks = new Session(km.graph());
          OrtSession.SessionOptions so = new OrtSession.SessionOptions()) {
        so.setIntraOpNumThreads(threads);
        so.setInterOpNumThreads(1);
        so.setExecutionMode(OrtSession.SessionOptions.ExecutionMode.SEQUENTIAL);
        so.setOptimizationLevel(OrtSession.SessionOptions.OptLevel.ALL_OPT);
        try (OrtSession os = env.createSession(model.toString(), so)) {
          for (int b : new int[] {1, 64}) {
            bench(model.getFileName().toString().replace(".onnx", ""), km, ks, env, os, b, sample, iters, warmup);
          }
        }
      }
    }
    System.out.println("load average after: " + Files.readString(Path.of("/proc/loadavg")).strip());
  }

  private static void bench(String name, OnnxModel km, Session ks, OrtEnvironment env, OrtSession os, int b,
      long[] sample, int iters, int warmup) throws Exception {
    int per = (int) Arrays.stream(sample).reduce(1, (a, c) -> a * c);
    float[] x = new float[b * per];
    Random r = new Random(7);
    for (int i = 0; i < x.length; i++) {
      x[i] = (float) r.nextGaussian();
    }
    long[] shape = new long[sample.length + 1];
    shape[0] = b;
    System.arraycopy(sample, 0, shape, 1, sample.length);
    int[] ishape = Arrays.stream(shape).mapToInt(v -> (int) v).toArray();
    Tensor xt = Tensor.of(x, ishape);
    Output in = km.inputs().get(0);
    Output out = km.outputs().get(0);
    Map<Output, Tensor> feed = Map.of(in, xt);
    FloatBuffer buf = ByteBuffer.allocateDirect(x.length * 4).order(ByteOrder.nativeOrder()).asFloatBuffer();
    buf.put(x).rewind();
    String ortIn = os.getInputNames().iterator().next();
    try (OnnxTensor t = OnnxTensor.createTensor(env, buf, shape)) {
      Map<String, OnnxTensor> ortFeed = Map.of(ortIn, t);
      float[] kiln = ks.run(feed, out).get(0).toFloatArray();
      float[] ort;
      try (OrtSession.Result res = os.run(ortFeed)) {
        FloatBuffer fb = ((OnnxTensor) res.get(0)).getFloatBuffer();
        ort = new float[fb.remaining()];
        fb.get(ort);
      }
      double diff = 0;
      double scale = 0;
      for (int i = 0; i < ort.length; i++) {
        diff = Math.max(diff, Math.abs(kiln[i] - ort[i]));
        scale = Math.max(scale, Math.abs(ort[i]));
      }
      if (kiln.length != ort.length || diff > 1e-4 * Math.max(1, scale)) {
        throw new IllegalStateException(name + " b" + b + ": Kiln and ONNX Runtime differ by " + diff);
      }
      // Each runtime's runs in a block of their own: ONNX Runtime's pool keeps spinning for a while after
      // a run, so a Kiln run right after one would share its cores with ONNX Runtime's idle threads.
      Thread.sleep(200);
      double[] kt = new double[iters];
      for (int i = 0; i < warmup + iters; i++) {
        long t0 = System.nanoTime();
        ks.run(feed, out).get(0).toFloatArray();
        if (i >= warmup) {
          kt[i - warmup] = (System.nanoTime() - t0) / 1e6;
        }
      }
      double[] ot = new double[iters];
      for (int i = 0; i < warmup + iters; i++) {
        long t0 = System.nanoTime();
        try (OrtSession.Result res = os.run(ortFeed)) {
          ((OnnxTensor) res.get(0)).getFloatBuffer();
        }
        if (i >= warmup) {
          ot[i - warmup] = (System.nanoTime() - t0) / 1e6;
        }
      }
      Thread.sleep(200);
      report(name, "kiln", b, kt, diff);
      report(name, "onnxruntime", b, ot, diff);
    }
  }

  private static void report(String name, String impl, int b, double[] ms, double diff) {
    double[] s = ms.clone();
    Arrays.sort(s);
    double median = s[s.length / 2];
    System.out.printf("RESULT\t%s\t%s:b%d\t%.3f\tms/batch\t%.0f samples/s\tp10 %.3f p90 %.3f, max |kiln-ort| %.2g%n",
        name, impl, b, median, b / median * 1000, s[s.length / 10], s[s.length * 9 / 10], diff);
  }

  // ---------------------------------------------------------------- the models

  static ModelProto mlp() {
    Random r = new Random(13);
    GraphProto.Builder g = GraphProto.newBuilder().setName("mlp")
        .addInput(value("x", "batch", 784)).addOutput(value("logits", "batch", 10));
    int[] dims = {784, 1024, 1024, 10};
    String prev = "x";
    for (int l = 0; l < 3; l++) {
      g.addInitializer(weights(r, "W" + l, Math.sqrt(2.0 / dims[l]), dims[l + 1], dims[l]));
      g.addInitializer(weights(r, "b" + l, 0.01, dims[l + 1]));
      String h = l == 2 ? "logits" : "h" + l;
      g.addNode(node("Gemm", "fc" + l, new String[] {prev, "W" + l, "b" + l}, l == 2 ? h : h + "_lin")
          .addAttribute(intAttr("transB", 1)));
      if (l < 2) {
        g.addNode(node("Relu", "relu" + l, new String[] {h + "_lin"}, h));
      }
      prev = h;
    }
    return model(g);
  }

  static ModelProto cnn() {
    Random r = new Random(51);
    GraphProto.Builder g = GraphProto.newBuilder().setName("cnn")
        .addInput(value("x", "batch", 1, 28, 28)).addOutput(value("logits", "batch", 10));
    g.addInitializer(weights(r, "k1", 0.2, 32, 1, 5, 5)).addInitializer(weights(r, "c1", 0.01, 32));
    g.addInitializer(weights(r, "k2", 0.05, 64, 32, 5, 5)).addInitializer(weights(r, "c2", 0.01, 64));
    g.addInitializer(weights(r, "W1", Math.sqrt(2.0 / 3136), 1024, 3136)).addInitializer(weights(r, "b1", 0.01, 1024));
    g.addInitializer(weights(r, "W2", Math.sqrt(1.0 / 1024), 10, 1024)).addInitializer(weights(r, "b2", 0.01, 10));
    g.addNode(node("Conv", "conv1", new String[] {"x", "k1", "c1"}, "a1").addAttribute(ints("pads", 2, 2, 2, 2)));
    g.addNode(node("Relu", "relu1", new String[] {"a1"}, "r1"));
    g.addNode(node("MaxPool", "pool1", new String[] {"r1"}, "p1")
        .addAttribute(ints("kernel_shape", 2, 2)).addAttribute(ints("strides", 2, 2)));
    g.addNode(node("Conv", "conv2", new String[] {"p1", "k2", "c2"}, "a2").addAttribute(ints("pads", 2, 2, 2, 2)));
    g.addNode(node("Relu", "relu2", new String[] {"a2"}, "r2"));
    g.addNode(node("MaxPool", "pool2", new String[] {"r2"}, "p2")
        .addAttribute(ints("kernel_shape", 2, 2)).addAttribute(ints("strides", 2, 2)));
    g.addNode(node("Flatten", "flat", new String[] {"p2"}, "f"));
    g.addNode(node("Gemm", "fc1", new String[] {"f", "W1", "b1"}, "d1").addAttribute(intAttr("transB", 1)));
    g.addNode(node("Relu", "relu3", new String[] {"d1"}, "r3"));
    g.addNode(node("Gemm", "fc2", new String[] {"r3", "W2", "b2"}, "logits").addAttribute(intAttr("transB", 1)));
    return model(g);
  }

  private static ModelProto model(GraphProto.Builder g) {
    return ModelProto.newBuilder().setIrVersion(8).setProducerName("kiln-bench")
        .addOpsetImport(OperatorSetIdProto.newBuilder().setVersion(13)).setGraph(g).build();
  }

  private static NodeProto.Builder node(String op, String name, String[] in, String out) {
    NodeProto.Builder n = NodeProto.newBuilder().setOpType(op).setName(name).addOutput(out);
    for (String i : in) {
      n.addInput(i);
    }
    return n;
  }

  private static AttributeProto intAttr(String name, long v) {
    return AttributeProto.newBuilder().setName(name).setType(AttributeProto.AttributeType.INT).setI(v).build();
  }

  private static AttributeProto ints(String name, long... v) {
    AttributeProto.Builder a = AttributeProto.newBuilder().setName(name).setType(AttributeProto.AttributeType.INTS);
    for (long x : v) {
      a.addInts(x);
    }
    return a.build();
  }

  private static TensorProto weights(Random r, String name, double scale, long... dims) {
    int n = (int) Arrays.stream(dims).reduce(1, (a, b) -> a * b);
    ByteBuffer b = ByteBuffer.allocate(4 * n).order(ByteOrder.LITTLE_ENDIAN);
    for (int i = 0; i < n; i++) {
      b.putFloat((float) (r.nextGaussian() * scale));
    }
    TensorProto.Builder t = TensorProto.newBuilder().setName(name).setDataType(1).setRawData(ByteString.copyFrom(b.array()));
    for (long d : dims) {
      t.addDims(d);
    }
    return t.build();
  }

  private static ValueInfoProto value(String name, String batch, int... dims) {
    TensorShapeProto.Builder s = TensorShapeProto.newBuilder().addDim(TensorShapeProto.Dimension.newBuilder().setDimParam(batch));
    for (int d : dims) {
      s.addDim(TensorShapeProto.Dimension.newBuilder().setDimValue(d));
    }
    return ValueInfoProto.newBuilder().setName(name)
        .setType(TypeProto.newBuilder().setTensorType(TypeProto.Tensor.newBuilder().setElemType(1).setShape(s))).build();
  }
}
