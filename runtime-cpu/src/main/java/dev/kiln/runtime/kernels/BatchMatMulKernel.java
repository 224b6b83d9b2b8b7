package dev.kiln.runtime.kernels;

import dev.kiln.runtime.blas.Blas;

import dev.kiln.graph.DType;

/**
 * BatchMatMul: a batch of op(a) [m,k] x op(b) [k,n] products whose batch dimensions broadcast. When b
 * is one matrix shared by the whole batch and a is not transposed, the batch is one product of
 * [batch*m, k] x [k, n] on the rank-2 path. Otherwise each product is one sgemm/dgemm on a slice of the
 * operands' arrays (a critical downcall taking an offset). Products below {@link Blas#SINGLE_THREAD_BELOW}
 * split the batch over the cores with BLAS on one thread, since BLAS gains little from splitting such a
 * product and its threads wait on each other when the cores are busy.
 * Tiny products and integers run as Java loops.
 */
public final class BatchMatMulKernel {
  private BatchMatMulKernel() {}


  /** The products of one node: sizes and, per batch entry, the element offsets of a's and b's matrices. */
  record Batch(boolean ta, boolean tb, int m, int k, int n, int count, int[] aOff, int[] bOff) {
    long work() {
      return (long) m * n * k;
    }

    /** Whether a's matrices are consecutive, one per entry, and every entry uses b's one matrix. */
    boolean foldsIntoRows() {
      if (ta) {
        return false;
      }
      for (int i = 0; i < count; i++) {
        if (bOff[i] != 0 || aOff[i] != i * m * k) {
          return false;
        }
      }
      return true;
    }
  }

  static KernelFactory factory() {
    return spec -> {
      DType d = KernelSupport.inDType(spec, 0);
      if (d == DType.BOOL) {
        throw KernelSupport.unsupported(spec, d);
      }
      Batch p = batch(spec);
      int sa = spec.inputSlots()[0];
      int sb = spec.inputSlots()[1];
      int sc = spec.outputSlots()[0];
      int total = p.count() * p.m() * p.n();
      if (total == 0) {
        return frame -> { };
      }
      if (p.k() == 0) {
        return frame -> FillKernels.fill(d, frame[sc], total, 0);
      }
      boolean loop = !d.isFloating() || p.work() <= MatMulKernels.smallProduct() || !Sliced.available(d);
      boolean fold = p.foldsIntoRows() && (!d.isFloating() || (long) p.count() * p.work() > MatMulKernels.smallProduct());
      if (fold) {
        int rows = p.count() * p.m();
        return switch (d) {
          case FLOAT32 -> frame -> Blas.sgemm(false, p.tb(), rows, p.n(), p.k(),
              (float[]) frame[sa], (float[]) frame[sb], (float[]) frame[sc]);
          case FLOAT64 -> frame -> Blas.dgemm(false, p.tb(), rows, p.n(), p.k(),
              (double[]) frame[sa], (double[]) frame[sb], (double[]) frame[sc]);
          case INT32 -> frame -> MatMulKernels.i32(false, p.tb(), rows, p.n(), p.k(),
              (int[]) frame[sa], (int[]) frame[sb], (int[]) frame[sc]);
          case INT64 -> frame -> MatMulKernels.i64(false, p.tb(), rows, p.n(), p.k(),
              (long[]) frame[sa], (long[]) frame[sb], (long[]) frame[sc]);
          case BOOL -> throw KernelSupport.unsupported(spec, d);
          default -> throw NarrowTypes.notLowered(d);
        };
      }
      // Products up to BLAS's own one-thread size split the batch over the cores, each product on one
      // BLAS thread: many small parallel products beat each product split over all the threads.
      boolean byBatch = loop || p.work() < Blas.SINGLE_THREAD_BELOW;
      int parts = byBatch ? Parallel.parts(p.count(), p.work() / 8 + 1) : 1;
      return frame -> {
        Object a = frame[sa];
        Object b = frame[sb];
        Object c = frame[sc];
        Parallel.Range body = (lo, hi) -> {
          for (int i = lo; i < hi; i++) {
            product(p, i, loop, a, b, c);
          }
        };
        if (parts > 1 && !loop) {
          Blas.onOneThread(() -> Parallel.split(p.count(), parts, body));
        } else {
          Parallel.split(p.count(), parts, body);
        }
      };
    };
  }

  private static void product(Batch p, int i, boolean loop, Object a, Object b, Object c) {
    int ao = p.aOff()[i];
    int bo = p.bOff()[i];
    int co = i * p.m() * p.n();
    if (!loop) {
      switch (a) {
        case float[] fa -> Sliced.sgemm(p, fa, ao, (float[]) b, bo, (float[]) c, co);
        case double[] da -> Sliced.dgemm(p, da, ao, (double[]) b, bo, (double[]) c, co);
        default -> throw new AssertionError(a.getClass());
      }
      return;
    }
    int m = p.m();
    int k = p.k();
    int n = p.n();
    boolean ta = p.ta();
    boolean tb = p.tb();
    for (int r = 0; r < m; r++) {
      for (int j = 0; j < n; j++) {
        int o = co + r * n + j;
        switch (c) {
          case float[] fc -> {
            float[] x = (float[]) a;
            float[] y = (float[]) b;
            float s = 0;
            for (int q = 0; q < k; q++) {
              s += x[ao + (ta ? q * m + r : r * k + q)] * y[bo + (tb ? j * k + q : q * n + j)];
            }
            fc[o] = s;
          }
          case double[] dc -> {
            double[] x = (double[]) a;
            double[] y = (double[]) b;
            double s = 0;
            for (int q = 0; q < k; q++) {
              s += x[ao + (ta ? q * m + r : r * k + q)] * y[bo + (tb ? j * k + q : q * n + j)];
            }
            dc[o] = s;
          }
          case int[] ic -> {
            int[] x = (int[]) a;
            int[] y = (int[]) b;
            int s = 0;
            for (int q = 0; q < k; q++) {
              s += x[ao + (ta ? q * m + r : r * k + q)] * y[bo + (tb ? j * k + q : q * n + j)];
            }
            ic[o] = s;
          }
          case long[] lc -> {
            long[] x = (long[]) a;
            long[] y = (long[]) b;
            long s = 0;
            for (int q = 0; q < k; q++) {
              s += x[ao + (ta ? q * m + r : r * k + q)] * y[bo + (tb ? j * k + q : q * n + j)];
            }
            lc[o] = s;
          }
          default -> throw new AssertionError(c.getClass());
        }
      }
    }
  }

  /** The sizes and the broadcast batch offsets, checked against the concrete shapes. */
  static Batch batch(KernelSpec spec) {
    boolean ta = spec.op().attrs().getBool("transpose_a", false);
    boolean tb = spec.op().attrs().getBool("transpose_b", false);
    int[] a = KernelSupport.inDims(spec, 0);
    int[] b = KernelSupport.inDims(spec, 1);
    int[] out = KernelSupport.outDims(spec, 0);
    int ra = a.length;
    int rb = b.length;
    int m = a[ta ? ra - 1 : ra - 2];
    int k = a[ta ? ra - 2 : ra - 1];
    int kb = b[tb ? rb - 1 : rb - 2];
    int n = b[tb ? rb - 2 : rb - 1];
    if (k != kb) {
      throw KernelSupport.error(spec, "inner dimensions differ: %s%s x %s%s", spec.inputs().get(0).shape(),
          ta ? "^T" : "", spec.inputs().get(1).shape(), tb ? "^T" : "");
    }
    int rank = out.length - 2;
    int count = Math.toIntExact(KernelSupport.product(out, 0, rank));
    int[] aOff = new int[count];
    int[] bOff = new int[count];
    int[] aStride = batchStrides(a, rank, m * k);
    int[] bStride = batchStrides(b, rank, k * n);
    for (int i = 0; i < count; i++) {
      int rem = i;
      for (int dd = rank - 1; dd >= 0; dd--) {
        int idx = rem % out[dd];
        rem /= out[dd];
        aOff[i] += idx * aStride[dd];
        bOff[i] += idx * bStride[dd];
      }
    }
    return new Batch(ta, tb, m, k, n, count, aOff, bOff);
  }

  /** Element strides of an operand's batch dimensions aligned to the output's {@code rank} (0 where broadcast). */
  private static int[] batchStrides(int[] dims, int rank, int matrix) {
    int[] s = new int[rank];
    int own = dims.length - 2;
    int acc = matrix;
    for (int dd = rank - 1; dd >= 0; dd--) {
      int e = dd - (rank - own);
      int size = e >= 0 ? dims[e] : 1;
      s[dd] = size == 1 ? 0 : acc;
      acc *= size;
    }
    return s;
  }

  /** Products at element offsets into heap arrays, through {@link Blas#sgemmAt}/{@link Blas#dgemmAt}. */
  public static final class Sliced {
    private Sliced() {}

    public static boolean available(DType d) {
      return Blas.gemmAtAvailable();
    }

    static void sgemm(Batch p, float[] a, int ao, float[] b, int bo, float[] c, int co) {
      Blas.sgemmAt(p.ta(), p.tb(), p.m(), p.n(), p.k(), 1f, a, ao, p.ta() ? p.m() : p.k(), b, bo,
          p.tb() ? p.k() : p.n(), 0f, c, co, p.n());
    }

    static void dgemm(Batch p, double[] a, int ao, double[] b, int bo, double[] c, int co) {
      Blas.dgemmAt(p.ta(), p.tb(), p.m(), p.n(), p.k(), 1.0, a, ao, p.ta() ? p.m() : p.k(), b, bo,
          p.tb() ? p.k() : p.n(), 0.0, c, co, p.n());
    }
  }
}
