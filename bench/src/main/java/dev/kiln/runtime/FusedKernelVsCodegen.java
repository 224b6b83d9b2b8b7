package dev.kiln.runtime;

import dev.kiln.bench.Workloads;
import dev.kiln.graph.DType;
import dev.kiln.graph.HostBuffers;
import dev.kiln.graph.Operation;
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
import jdk.incubator.vector.VectorMask;
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
 * the block interpreter ({@code interpreter}: FusedKernel alone, no Session, no Sum) against the loop
 * a code generator would emit for this body ({@code codegen}: one pass, every value in vector
 * registers, the same polynomials), written out by hand. The gap is what generated code could gain.
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

  private Kernel kernel;
  private Object[] frame;
  private float[] x;
  private float[] y;
  private int parts;

  @Setup
  public void setUp() {
    Workloads.ElementwiseChain w = new Workloads.ElementwiseChain();
    Program p = new Program(w.graph, List.of(w.sum), List.of(), Set.of(w.x));
    Program fused = new PassManager(List.of(new FuseElementwise())).run(p);
    Operation f = fused.graph().operation("fused");
    TensorType t = new TensorType(DType.FLOAT32, Shape.of(N));
    kernel = Kernels.factory("Fused").create(new KernelSpec(f, List.of(t), List.of(t), new int[] {0}, new int[] {1}));
    x = (float[]) HostBuffers.array(w.xv);
    y = new float[N];
    frame = new Object[] {x, y};
    parts = Parallel.parts(N / 1024, 1024L * 10);
  }

  @Benchmark
  public Object interpreter() {
    kernel.run(frame);
    return frame[1];
  }

  @Benchmark
  public Object codegen() {
    Parallel.split(N / F.length(), parts, (lo, hi) -> chain(x, y, lo * F.length(), hi * F.length()));
    return y;
  }

  private static final float LOG2E = 1.44269504088896341f;
  private static final float C1 = 0.693359375f;
  private static final float C2 = -2.12194440e-4f;
  private static final float R = 12582912f;
  private static final int RB = Float.floatToRawIntBits(R);
  private static final FloatVector NC1 = FloatVector.broadcast(F, -C1);
  private static final FloatVector NC2 = FloatVector.broadcast(F, -C2);
  private static final FloatVector E0 = FloatVector.broadcast(F, 1.9875691500E-4f);
  private static final FloatVector E1 = FloatVector.broadcast(F, 1.3981999507E-3f);
  private static final FloatVector E2 = FloatVector.broadcast(F, 8.3334519073E-3f);
  private static final FloatVector E3 = FloatVector.broadcast(F, 4.1665795894E-2f);
  private static final FloatVector E4 = FloatVector.broadcast(F, 1.6666665459E-1f);
  private static final FloatVector E5 = FloatVector.broadcast(F, 5.0000001201E-1f);
  private static final FloatVector T0 = FloatVector.broadcast(F, -5.70498872745E-3f);
  private static final FloatVector T1 = FloatVector.broadcast(F, 2.06390887954E-2f);
  private static final FloatVector T2 = FloatVector.broadcast(F, -5.37397155531E-2f);
  private static final FloatVector T3 = FloatVector.broadcast(F, 1.33314422036E-1f);
  private static final FloatVector T4 = FloatVector.broadcast(F, -3.33332819422E-1f);

  /** y = tanh(exp(-x*x)*0.5 + sigmoid(x))*x - 1 for [from, to), everything in registers. */
  private static void chain(float[] x, float[] y, int from, int to) {
    for (int i = from; i < to; i += F.length()) {
      FloatVector v = FloatVector.fromArray(F, x, i);
      // exp(-x*x)
      FloatVector xc = v.mul(v).neg().max(-104f);
      FloatVector kr = xc.mul(LOG2E).add(R);
      FloatVector k = kr.sub(R);
      FloatVector r = k.fma(NC2, k.fma(NC1, xc));
      FloatVector p = r.fma(E0, E1).fma(r, E2).fma(r, E3).fma(r, E4).fma(r, E5).fma(r.mul(r), r).add(1f);
      IntVector ki = kr.reinterpretAsInts().sub(RB);
      IntVector k1 = ki.lanewise(VectorOperators.ASHR, 1);
      FloatVector e1 = p.mul(k1.add(127).lanewise(VectorOperators.LSHL, 23).reinterpretAsFloats())
          .mul(ki.sub(k1).add(127).lanewise(VectorOperators.LSHL, 23).reinterpretAsFloats());
      // sigmoid(x)
      xc = v.abs().neg().max(-104f);
      kr = xc.mul(LOG2E).add(R);
      k = kr.sub(R);
      r = k.fma(NC2, k.fma(NC1, xc));
      p = r.fma(E0, E1).fma(r, E2).fma(r, E3).fma(r, E4).fma(r, E5).fma(r.mul(r), r).add(1f);
      ki = kr.reinterpretAsInts().sub(RB);
      k1 = ki.lanewise(VectorOperators.ASHR, 1);
      FloatVector e2 = p.mul(k1.add(127).lanewise(VectorOperators.LSHL, 23).reinterpretAsFloats())
          .mul(ki.sub(k1).add(127).lanewise(VectorOperators.LSHL, 23).reinterpretAsFloats());
      FloatVector sig = e2.blend(1f, v.compare(VectorOperators.GE, 0f)).div(e2.add(1f));
      FloatVector a = e1.mul(0.5f).add(sig);
      // tanh(a), a > 0 here but kept general
      FloatVector aa = a.abs();
      FloatVector z = a.mul(a);
      FloatVector small = z.fma(T0, T1).fma(z, T2).fma(z, T3).fma(z, T4).mul(z).fma(a, a);
      xc = aa.add(aa).min(89f);
      kr = xc.mul(LOG2E).add(R);
      k = kr.sub(R);
      r = k.fma(NC2, k.fma(NC1, xc));
      p = r.fma(E0, E1).fma(r, E2).fma(r, E3).fma(r, E4).fma(r, E5).fma(r.mul(r), r).add(1f);
      ki = kr.reinterpretAsInts().sub(RB);
      k1 = ki.lanewise(VectorOperators.ASHR, 1);
      FloatVector e3 = p.mul(k1.add(127).lanewise(VectorOperators.LSHL, 23).reinterpretAsFloats())
          .mul(ki.sub(k1).add(127).lanewise(VectorOperators.LSHL, 23).reinterpretAsFloats());
      FloatVector big = FloatVector.broadcast(F, 1f).sub(FloatVector.broadcast(F, 2f).div(e3.add(1f)));
      big = big.blend(big.neg(), a.compare(VectorOperators.LT, 0f));
      FloatVector t = big.blend(small, aa.compare(VectorOperators.LT, 0.625f));
      t.mul(v).sub(1f).intoArray(y, i);
    }
  }
}
