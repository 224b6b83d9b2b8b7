package dev.kiln.cuda;

import dev.kiln.graph.DType;
import dev.kiln.graph.Graph;
import dev.kiln.graph.HostBuffers;
import dev.kiln.graph.Ops;
import dev.kiln.graph.Output;
import dev.kiln.graph.Shape;
import dev.kiln.graph.Tensor;
import java.util.Arrays;
import java.util.List;
import java.util.Map;

/**
 * What loads on this machine, one line each (scripts/gpu-check.sh reads it): the driver and
 * device, NVRTC, nvcc, cuBLAS (checked on a small product), and one generated kernel end to end.
 * Exit status 0 when a device runs a generated kernel correctly.
 */
public final class CudaProbe {
  private CudaProbe() {}

  public static void main(String[] args) {
    System.out.println("driver: " + (CudaAvailable.isAvailable() ? "ok" : CudaAvailable.reason()));
    System.out.println("nvrtc: " + (Nvrtc.available() ? "ok (libnvrtc.so.12 loads)" : "not loadable"));
    System.out.println("nvcc: " + PtxCompiler.findNvcc().map(Object::toString).orElse("not found"));
    if (!CudaAvailable.isAvailable()) {
      System.exit(1);
    }
    int status = 0;
    try (CudaContext ctx = CudaContext.open(0)) {
      System.out.println("device: " + ctx.description);
      System.out.println("ptx arch: " + ctx.compiler.arch() + ", cache " + PtxCompiler.defaultCacheDir());
      Graph g = new Graph();
      Ops tf = Ops.create(g);
      Output a = tf.placeholder("a", DType.FLOAT32, Shape.of(2, 3));
      Output b = tf.placeholder("b", DType.FLOAT32, Shape.of(3, 2));
      Output c = tf.matmul(a, b);
      Output e = tf.add(tf.square(a), tf.constant(1f));
      Tensor av = Tensor.of(new float[] {1, 2, 3, 4, 5, 6}, 2, 3);
      Tensor bv = Tensor.of(new float[] {1, 0, 0, 1, 1, 1}, 3, 2);
      try (CudaSession s = new CudaSession(g, new CudaDevice(ctx))) {
        List<Tensor> out = s.run(Map.of(a, av, b, bv), c, e);
        float[] prod = (float[]) HostBuffers.array(out.get(0));
        float[] ew = (float[]) HostBuffers.array(out.get(1));
        boolean prodOk = Arrays.equals(prod, new float[] {4, 5, 10, 11});
        boolean ewOk = Arrays.equals(ew, new float[] {2, 5, 10, 17, 26, 37});
        String result = prodOk ? "ok" : "WRONG " + Arrays.toString(prod);
        System.out.println("cublas: " + (ctx.gemm.hasCublas() ? result + " (" + ctx.gemm.description() + ")"
            : "not loadable (" + ctx.gemm.description() + ": " + result + ")"));
        System.out.println("generated kernel: " + (ewOk ? "ok" : "WRONG " + Arrays.toString(ew)));
        status = prodOk && ewOk ? 0 : 3;
      }
    } catch (RuntimeException | LinkageError ex) {
      System.out.println("failed: " + ex);
      status = 4;
    }
    System.exit(status);
  }
}
