package dev.kiln.runtime.kernels;

import dev.kiln.graph.DType;
import dev.kiln.graph.HostBuffers;
import dev.kiln.graph.Shape;
import java.util.List;

/**
 * Reductions: Sum, Mean, Max, Min, Prod over axes (keep_dims or not) and ReduceSumLike. The output is
 * treated as an operand broadcast over the input's shape (size 1 on reduced axes), so one
 * {@link BroadcastPlan} walks the input in memory order: a row either accumulates element by element
 * into the output (kept innermost axis, vectorizable) or folds into one output element (reduced
 * innermost axis). Empty reductions give the identity: 0 for Sum, 1 for Prod, -inf / +inf (integer
 * MIN/MAX_VALUE) for Max / Min, NaN for a float Mean and 0 for an integer Mean.
 */
final class ReduceKernels {
  private ReduceKernels() {}

  enum Op { SUM, PROD, MAX, MIN }

  /** Sum, Mean (op SUM, mean true), Max, Min, Prod with the axes and keep_dims attributes. */
  static KernelFactory reduce(Op op, boolean mean) {
    return spec -> {
      int[] x = KernelSupport.inDims(spec, 0);
      List<Long> axes = spec.op().attrs().getLongs("axes");
      int[] kept = x.clone();
      for (long a : axes) {
        kept[KernelSupport.axis(a, x.length)] = 1;
      }
      return create(spec, op, mean, x, kept);
    };
  }

  /** ReduceSumLike(x, like): sums x down to like's shape, which broadcasts to x's. */
  static KernelFactory sumLike() {
    return spec -> create(spec, Op.SUM, false, KernelSupport.inDims(spec, 0), KernelSupport.inDims(spec, 1));
  }

  private static Kernel create(KernelSpec spec, Op op, boolean mean, int[] x, int[] kept) {
    DType d = KernelSupport.inDType(spec, 0);
    if (d == DType.BOOL) {
      throw KernelSupport.unsupported(spec, d);
    }
    BroadcastPlan plan;
    try {
      plan = BroadcastPlan.of(x, kept);
    } catch (IllegalArgumentException e) {
      throw KernelSupport.error(spec, "cannot sum %s down to %s", spec.inputs().get(0).shape(), Shape.of(kept));
    }
    int outN = KernelSupport.size(spec.outputs().get(0));
    int segment = trailingSegment(x, kept);
    if (d.isFloating() && op != Op.PROD && segment > 1) {
      String type = mean ? "Mean" : switch (op) {
        case SUM -> "Sum";
        case MAX -> "Max";
        default -> "Min";
      };
      return new SegmentKernel(spec, new SegmentedReduction(0, type, d, -1, new int[] {0}, segment, false),
          KernelSupport.size(spec.inputs().get(0)), outN);
    }
    int cols = ColumnSumKernel.leadingColumns(x, kept);
    if (d.isFloating() && op == Op.SUM && !mean && cols > 0) {
      return new ColumnSumKernel(spec, d == DType.FLOAT64, KernelSupport.size(spec.inputs().get(0)) / cols, cols);
    }
    return new ReduceKernel(spec, d, op, mean ? count(x, kept) : -1, plan, outN);
  }

  /**
   * The elements folded into each output element when the reduced axes of {@code x} (those where
   * {@code kept}, aligned right, is 1) all come after its kept ones, dims of 1 aside; else 0.
   */
  static int trailingSegment(int[] x, int[] kept) {
    long segment = 1;
    boolean seenReduced = false;
    for (int i = 0; i < x.length; i++) {
      int k = i - (x.length - kept.length);
      boolean reduced = k < 0 || (kept[k] == 1 && x[i] != 1);
      if (x[i] == 1) {
        continue;
      }
      if (reduced) {
        segment *= x[i];
        seenReduced = true;
      } else if (seenReduced) {
        return 0;
      }
    }
    return segment > Integer.MAX_VALUE ? 0 : (int) segment;
  }

  /**
   * A float Sum/Mean/Max/Min over trailing axes (a full reduction, or one over the last axes): a
   * vectorized fold of blocks of the input split over the cores, the blocks' partial values combined
   * in block order, so the result is the same whatever the split ({@link SegmentedReduction}).
   */
  private static final class SegmentKernel implements Kernel {
    private static final int BLOCK = 1 << 14;
    private final SegmentedReduction reduction;
    private final int slotX;
    private final int[] outSlots;
    private final int size;
    private final int outN;
    private final int blocks;
    private final int parts;
    /** Each run's block partials (taken for the run, so concurrent runs have their own). */
    private final ScratchPool<double[]> partials;

    SegmentKernel(KernelSpec spec, SegmentedReduction reduction, int size, int outN) {
      this.reduction = reduction;
      this.slotX = spec.inputSlots()[0];
      this.outSlots = new int[] {spec.outputSlots()[0]};
      this.size = size;
      this.outN = outN;
      this.blocks = (size + BLOCK - 1) / BLOCK;
      this.parts = Parallel.parts(blocks, BLOCK);
      this.partials = new ScratchPool<>(() -> new double[2 * blocks]);
    }

    @Override
    public void run(Object[] frame) {
      if (size == 0) {
        reduction.fillEmpty(outN, frame, outSlots);
        return;
      }
      Object x = frame[slotX];
      double[] partial = partials.take();
      try {
        if (parts <= 1) {
          fold(x, 0, blocks, partial, frame);
        } else {
          Parallel.dynamic(blocks, 4, parts, (lo, hi) -> fold(x, lo, hi, partial, frame));
        }
        reduction.combine(partial, size, BLOCK, frame, outSlots);
      } finally {
        partials.give(partial);
      }
    }

    private void fold(Object x, int fromBlock, int toBlock, double[] partial, Object[] frame) {
      for (int b = fromBlock; b < toBlock; b++) {
        int from = b * BLOCK;
        reduction.accumulate(x, from, from, Math.min(BLOCK, size - from), b, partial, frame, outSlots);
      }
    }
  }

  /** Elements folded into each output element: the product of the reduced dimensions. */
  private static long count(int[] x, int[] kept) {
    long c = 1;
    for (int i = 0; i < x.length; i++) {
      int k = i - (x.length - kept.length);
      if (k < 0 || kept[k] == 1) {
        c *= x[i];
      }
    }
    return c;
  }

  private static final class ReduceKernel implements Kernel {
    private final DType dtype;
    private final Op op;
    private final long meanCount; // -1: not a mean
    private final BroadcastPlan plan;
    private final int outN;
    private final int slotX;
    private final int slotOut;
    private final int kind;
    private final int parts;
    private final int blocks;
    private final BroadcastPlan.Rows rows;

    ReduceKernel(KernelSpec spec, DType dtype, Op op, long meanCount, BroadcastPlan plan, int outN) {
      this.dtype = dtype;
      this.op = op;
      this.meanCount = meanCount;
      this.plan = plan;
      this.outN = outN;
      this.slotX = spec.inputSlots()[0];
      this.slotOut = spec.outputSlots()[0];
      this.kind = plan.innerStride(0);
      this.parts = Parallel.parts(plan.size, 1);
      this.blocks = plan.outermostBlocksAdvancing(0);
      int k = kind;
      this.rows = switch (dtype) {
        case FLOAT32 -> (y, yo, b, bo, c, co, x, xo, n) -> ReduceLoops.f32(op, k, (float[]) y, yo, (float[]) x, xo, n);
        case FLOAT64 -> (y, yo, b, bo, c, co, x, xo, n) -> ReduceLoops.f64(op, k, (double[]) y, yo, (double[]) x, xo, n);
        case INT32 -> (y, yo, b, bo, c, co, x, xo, n) -> ReduceLoops.i32(op, k, (int[]) y, yo, (int[]) x, xo, n);
        case INT64 -> (y, yo, b, bo, c, co, x, xo, n) -> ReduceLoops.i64(op, k, (long[]) y, yo, (long[]) x, xo, n);
        case BOOL -> throw new AssertionError(dtype);
        default -> throw NarrowTypes.notLowered(dtype);
      };
    }

    @Override
    public void run(Object[] frame) {
      Object x = frame[slotX];
      Object out = frame[slotOut];
      initialize(out, outN);
      if (parts <= 1) {
        plan.forEachRow(0, plan.size, out, null, null, x, rows);
      } else if (blocks > 0) {
        // The outermost dimension is kept: its blocks fold into disjoint output elements.
        int block = plan.size / blocks;
        Parallel.split(blocks, Math.min(parts, blocks),
            (lo, hi) -> plan.forEachRow(lo * block, hi * block, out, null, null, x, rows));
      } else {
        // Each part folds into its own buffer (part 0 into the output); the buffers are then combined
        // in order, so the result does not depend on thread timing.
        Object[] partial = new Object[parts];
        partial[0] = out;
        Parallel.split(parts, parts, (lo, hi) -> {
          for (int p = lo; p < hi; p++) {
            if (p > 0) {
              partial[p] = HostBuffers.allocate(dtype, outN);
              initialize(partial[p], outN);
            }
            plan.forEachRow(Parallel.bound(plan.size, parts, p), Parallel.bound(plan.size, parts, p + 1),
                partial[p], null, null, x, rows);
          }
        });
        for (int p = 1; p < parts; p++) {
          fold(out, partial[p]);
        }
      }
      if (meanCount >= 0) {
        scale(out);
      }
    }

    private void initialize(Object y, int n) {
      double v = switch (op) {
        case SUM -> 0;
        case PROD -> 1;
        case MAX -> Double.NEGATIVE_INFINITY;
        case MIN -> Double.POSITIVE_INFINITY;
      };
      switch (dtype) {
        case INT32 -> java.util.Arrays.fill((int[]) y, 0, n,
            op == Op.MAX ? Integer.MIN_VALUE : op == Op.MIN ? Integer.MAX_VALUE : (int) v);
        case INT64 -> java.util.Arrays.fill((long[]) y, 0, n,
            op == Op.MAX ? Long.MIN_VALUE : op == Op.MIN ? Long.MAX_VALUE : (long) v);
        default -> FillKernels.fill(dtype, y, n, v);
      }
    }

    private void fold(Object y, Object x) {
      switch (dtype) {
        case FLOAT32 -> ReduceLoops.f32(op, 1, (float[]) y, 0, (float[]) x, 0, outN);
        case FLOAT64 -> ReduceLoops.f64(op, 1, (double[]) y, 0, (double[]) x, 0, outN);
        case INT32 -> ReduceLoops.i32(op, 1, (int[]) y, 0, (int[]) x, 0, outN);
        case INT64 -> ReduceLoops.i64(op, 1, (long[]) y, 0, (long[]) x, 0, outN);
        case BOOL -> throw new AssertionError(dtype);
      }
    }

    private void scale(Object y) {
      switch (dtype) {
        case FLOAT32 -> {
          float[] a = (float[]) y;
          float c = meanCount;
          for (int i = 0; i < outN; i++) a[i] /= c;
        }
        case FLOAT64 -> {
          double[] a = (double[]) y;
          double c = meanCount;
          for (int i = 0; i < outN; i++) a[i] /= c;
        }
        case INT32 -> {
          int[] a = (int[]) y;
          for (int i = 0; i < outN && meanCount > 0; i++) a[i] = (int) (a[i] / meanCount);
        }
        case INT64 -> {
          long[] a = (long[]) y;
          for (int i = 0; i < outN && meanCount > 0; i++) a[i] /= meanCount;
        }
        case BOOL -> throw new AssertionError(dtype);
      }
    }
  }
}
