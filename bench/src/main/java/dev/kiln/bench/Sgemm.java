package dev.kiln.bench;

import static org.bytedeco.openblas.global.openblas_nolapack.CblasNoTrans;
import static org.bytedeco.openblas.global.openblas_nolapack.CblasRowMajor;
import static org.bytedeco.openblas.global.openblas_nolapack.cblas_sgemm;

import dev.kiln.runtime.Session;
import java.util.concurrent.TimeUnit;
import org.bytedeco.javacpp.FloatPointer;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;

/**
 * sgemm C = A(MxK) . B(KxN), fp32 row-major, through the runtime (A and B fed, MatMul run as a target:
 * no fetch copy) and cblas_sgemm of the same library called directly on the same data in the same
 * process: MKL on Intel CPUs, OpenBLAS elsewhere (the runtime's Blas decides). The direct OpenBLAS
 * call goes to the preset's openblas_nolapack after the runtime has loaded it, so it uses the kernels
 * (core type) the runtime selected.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.SampleTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(1)
public class Sgemm {
  /** M x K x N. */
  @Param({"64x1000x100", "256x784x1024", "1024x1024x1024"})
  public String shape;

  private int m;
  private int k;
  private int n;
  private Workloads.Sgemm w;
  private Session session;
  private Session.Runner runner;
  private FloatPointer a;
  private FloatPointer b;
  private FloatPointer c;
  private boolean mkl;

  @Setup
  public void setUp() {
    String[] p = shape.split("x");
    m = Integer.parseInt(p[0]);
    k = Integer.parseInt(p[1]);
    n = Integer.parseInt(p[2]);
    w = new Workloads.Sgemm(m, k, n);
    session = new Session(w.graph);
    runner = session.runner().feed(w.a, w.av).feed(w.b, w.bv).addTarget(w.c.op());
    runner.run(); // loads the BLAS the runtime's way before the direct benchmark touches it
    mkl = dev.kiln.runtime.BlasInfo.describe().startsWith("MKL");
    a = new FloatPointer((long) m * k).put(w.av.toFloatArray());
    b = new FloatPointer((long) k * n).put(w.bv.toFloatArray());
    c = new FloatPointer((long) m * n);
  }

  @Benchmark
  public void kiln() {
    runner.run();
  }

  /** cblas_sgemm of the library the runtime uses (once MKL is loaded, its cblas symbols win). */
  @Benchmark
  public void direct() {
    if (mkl) {
      org.bytedeco.mkl.global.mkl_rt.cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, m, n, k, 1f, a, k, b, n, 0f, c, n);
    } else {
      cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, m, n, k, 1f, a, k, b, n, 0f, c, n);
    }
  }

  @TearDown
  public void tearDown() {
    session.close();
    a.close();
    b.close();
    c.close();
  }
}
