package dev.kiln.runtime;

import dev.kiln.runtime.fused.FusedKernel;
import dev.kiln.runtime.kernels.Kernel;
import dev.kiln.runtime.kernels.KernelSpec;
import dev.kiln.runtime.kernels.Kernels;
import dev.kiln.runtime.kernels.Parallel;

import dev.kiln.bench.Workloads;
import dev.kiln.graph.DType;
import dev.kiln.graph.HostBuffers;
import dev.kiln.graph.Operation;
import dev.kiln.graph.Output;
import dev.kiln.graph.Shape;
import dev.kiln.graph.TensorType;
import dev.kiln.optimizer.FuseElementwise;
import dev.kiln.optimizer.PassManager;
import dev.kiln.optimizer.Program;
import java.util.List;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import jdk.incubator.vector.FloatVector;
import jdk.incubator.vector.IntVector;
import jdk.incubator.vector.VectorOperators;
import jdk.incubator.vector.VectorSpecies;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Warmup;

/**
 * The design measurement behind the Fused kernel: W3's chain (4,194,304 floats, both cores) through
 * the Fused kernel as the runtime builds it ({@code interpreter}, {@code interpreterSum}: since
 * FusedCodegen, a generated loop), through the block interpreter ({@code rowsSum}), and through a
 * loop written by hand with the same formulas ({@code codegen}, {@code codegenSum}; it calls its
 * per-element helper twice per step and C2 inlines only one of the calls, so it boxes: see
 * docs/optimizer.md). The ...Sum variants fold sum(y), as W3 runs; the others write y.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.SampleTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(1)
public class FusedKernelVsCodegen {
  private static final VectorSpecies<Float> F = FloatVector.SPECIES_PREFERRED;
  private static final int N = Workloads.ElementwiseChain.SIZE;
  private static final int BLOCK = 1024;

  private Kernel kernel;
  private Kernel kernelSum;
  private Kernel rowsSum;
  private Object[] frame;
  private Object[] frameSum;
  private float[] x;
  private float[] y;
  private double[] blockSums;
  private int parts;

  @Setup
  public void setUp() {
    Workloads.ElementwiseChain w = new Workloads.ElementwiseChain();
    Output yOut = w.sum.op().input(0);
    Program p = new Program(w.graph, List.of(yOut), List.of(), Set.of(w.x));
    Operation f = new PassManager(List.of(new FuseElementwise(CpuKernels.registry()))).run(p).graph().operation("fused");
    TensorType t = new TensorType(DType.FLOAT32, Shape.of(N));
    kernel = Kernels.factory("Fused").create(new KernelSpec(f, List.of(t), List.of(t), new int[] {0}, new int[] {1}));
    Program ps = new Program(w.graph, List.of(w.sum), List.of(), Set.of(w.x));
    Operation fs = new PassManager(List.of(new FuseElementwise(CpuKernels.registry()))).run(ps).graph().operation("fused");
    kernelSum = Kernels.factory("Fused").create(new KernelSpec(fs, List.of(t),
        List.of(new TensorType(DType.FLOAT32, Shape.scalar())), new int[] {0}, new int[] {1}));
    rowsSum = FusedKernel.interpreted(new KernelSpec(fs, List.of(t),
        List.of(new TensorType(DType.FLOAT32, Shape.scalar())), new int[] {0}, new int[] {1}));
    x = (float[]) HostBuffers.array(w.xv);
    y = new float[N];
    frame = new Object[] {x, y};
    frameSum = new Object[] {x, new float[1]};
    blockSums = new double[N / BLOCK];
    parts = Parallel.parts(N / BLOCK, BLOCK * 10L);
  }

  @Benchmark
  public Object interpreter() {
    kernel.run(frame);
    return frame[1];
  }

  @Benchmark
  public float interpreterSum() {
    kernelSum.run(frameSum);
    return ((float[]) frameSum[1])[0];
  }

  /** W3's body with its Sum through the block interpreter (the kernel before FusedCodegen). */
  @Benchmark
  public float rowsSum() {
    rowsSum.run(frameSum);
    return ((float[]) frameSum[1])[0];
  }

  @Benchmark
  public Object codegen() {
    Parallel.split(N / BLOCK, parts, (lo, hi) -> {
      for (int b = lo; b < hi; b++) {
        chain(x, y, b * BLOCK, BLOCK, false);
      }
    });
    return y;
  }

  @Benchmark
  public float codegenSum() {
    Parallel.split(N / BLOCK, parts, (lo, hi) -> {
      for (int b = lo; b < hi; b++) {
        blockSums[b] = chain(x, y, b * BLOCK, BLOCK, true);
      }
    });
    double s = 0;
    for (double b : blockSums) {
      s += b;
    }
    return (float) s;
  }

  private static final float LOG2E = 1.44269504088896341f;
  private static final float R = 12582912f;
  private static final int SCALE_BIAS = 127 - Float.floatToRawIntBits(R);
  private static final FloatVector NC1 = FloatVector.broadcast(F, -0.693359375f);
  private static final FloatVector NC2 = FloatVector.broadcast(F, 2.12194440e-4f);
  private static final FloatVector P0 = FloatVector.broadcast(F, 4.9999994040e-01f);
  private static final FloatVector P1 = FloatVector.broadcast(F, 1.6666519642e-01f);
  private static final FloatVector P2 = FloatVector.broadcast(F, 4.1668392718e-02f);
  private static final FloatVector P3 = FloatVector.broadcast(F, 8.3687482402e-03f);
  private static final FloatVector P4 = FloatVector.broadcast(F, 1.3814542908e-03f);
  private static final FloatVector ONE = FloatVector.broadcast(F, 1f);

  /**
   * y = tanh(exp(-x*x)*0.5 + sigmoid(x))*x - 1 for [from, from + n), two vectors per step, all in
   * registers; stores y, or returns the block's sum (float lanes, then double) when {@code sum}.
   */
  private static double chain(float[] x, float[] y, int from, int n, boolean sum) {
    FloatVector acc = FloatVector.zero(F);
    for (int i = from; i < from + n; i += 2 * F.length()) {
      FloatVector v = FloatVector.fromArray(F, x, i);
      FloatVector w = FloatVector.fromArray(F, x, i + F.length());
      FloatVector yv = element(v);
      FloatVector yw = element(w);
      if (sum) {
        acc = acc.add(yv).add(yw);
      } else {
        yv.intoArray(y, i);
        yw.intoArray(y, i + F.length());
      }
    }
    double s = 0;
    for (int k = 0; k < F.length(); k++) {
      s += acc.lane(k);
    }
    return s;
  }

  private static FloatVector element(FloatVector v) {
    FloatVector e1 = exp(v.mul(v).neg());
    FloatVector sig = ONE.div(exp(v.neg()).add(1f));
    FloatVector a = e1.mul(0.5f).add(sig);
    FloatVector t = a.add(a);
    FloatVector kr = t.fma(LOG2E, R);
    FloatVector k = kr.sub(R);
    FloatVector r = k.fma(NC2, k.fma(NC1, t));
    FloatVector em1 = r.fma(P4, P3).fma(r, P2).fma(r, P1).fma(r, P0).fma(r.mul(r), r);
    FloatVector s = kr.reinterpretAsInts().add(SCALE_BIAS).lanewise(VectorOperators.LSHL, 23).reinterpretAsFloats();
    FloatVector u = s.fma(em1, s.sub(1f));
    FloatVector th = u.div(u.add(2f)).blend(a, a.compare(VectorOperators.EQ, 0f));
    if (!v.abs().compare(VectorOperators.LT, 9.3f).allTrue()) {
      throw new IllegalStateException("outside the fast path's range: not in W3's data");
    }
    return th.mul(v).sub(1f);
  }

  private static FloatVector exp(FloatVector t) {
    FloatVector kr = t.fma(LOG2E, R);
    FloatVector k = kr.sub(R);
    FloatVector r = k.fma(NC2, k.fma(NC1, t));
    FloatVector p = r.fma(P4, P3).fma(r, P2).fma(r, P1).fma(r, P0).fma(r.mul(r), r).add(1f);
    return p.mul(kr.reinterpretAsInts().add(SCALE_BIAS).lanewise(VectorOperators.LSHL, 23).reinterpretAsFloats());
  }
}
